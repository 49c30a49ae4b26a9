"""Predict a sweep's cost before starting it, from the run files already present.

For each (task, model), the time per step (measure/scaling.py) is fitted against sequence length
as a power law over finished runs (seconds/step = a * T^b, measure/power_law.py). The time is CPU
time (timing.cpu_s over steps) where the (task, model)'s runs recorded it, so a history made on a
loaded machine does not inflate the estimate with the time its runs waited for the CPU; older runs
give their wall-clock time (train_time_s over steps), as before. Runs with no history
fall back to the median seconds/step across all finished runs, scaled by length, except models
registered with `measure_cost` (the hf models, whose reference scans cost up to 100x an LSTM step):
those are timed for a few steps at the run's shape (measure/step_time.py, cached in the results).

Runs stop before their step budget when they are solved or converge, so the dry-run prices each run at
the share of the budget that its (task, model)'s finished runs used (`budget_share`; the full budget
where none finished). `predicted_seconds` alone stays at the full budget: a ceiling, for the cost of a
probe not tried.

A length search's cost depends on outcomes not known yet, so it is a range: from the path where
every probe is solved up to `max` (the doubling probes), to the costliest path over all outcomes
(the doubling probes, then `refine` bisections just below `max`). A chain whose model fails early
costs less than the low end.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .measure.power_law import fit_power_law
from .measure.scaling import step_history
from .measure.step_time import measured_step_seconds
from .search import ParamSearch
from .store import load_runs


METHOD = "budget-share"  # recorded with a suite's estimate: a change of method re-estimates, as a changed plan does


@dataclass
class Estimate:
    total_s: float = 0.0
    per_group: dict = field(default_factory=dict)  # (task, model) -> seconds
    unknown: int = 0  # runs estimated without any history
    basis: str = ""  # what the history's step times are (History.basis)
    steps: str = ""  # what share of the step budget they are priced at (History.steps_basis)

    def summary(self, workers: int) -> str:
        lines = [f"estimated {self.total_s / 60:.1f} CPU-minutes of training, "
                 f"about {self.total_s / 60 / max(workers, 1):.1f} minutes on {workers} worker(s)"]
        if self.basis:
            lines.append(f"  step times {self.basis}")
        if self.steps:
            lines.append(f"  steps: {self.steps}")
        for (task, model), seconds in sorted(self.per_group.items()):
            lines.append(f"  {task:>12} {model:<12} {seconds / 60:6.1f} min")
        if self.unknown:
            lines.append(f"  ({self.unknown} runs had no history to learn from; their estimate is rough)")
        return "\n".join(lines)


def eval_share(cfg) -> float:
    """Evaluation's cost as a share of training, for a measured step time (a finished run's time
    includes it): a forward pass costs about a third of a training step, per example."""
    t = cfg.train
    examples = (t.steps // max(t.eval_every, 1) + 1) * t.val_examples + t.test_examples + t.val_examples
    return examples / (3 * t.batch_size) / max(t.steps, 1)


def test_share(cfg, task) -> float:
    """The final test's cost as a share of training, for a task tested at other lengths than it is
    trained at (length generalisation, where it is not small): a forward pass costs about a third of
    a training step per position. Attention's cost grows faster with length, so for the Transformer
    this is a floor."""
    if not task.test_lengths:
        return 0.0
    t = cfg.train
    positions = t.test_examples * sum(task.source.seq_len(L) for L in task.test_lengths)
    return positions / (3 * t.batch_size * task.source.seq_len(cfg.length)) / max(t.steps, 1)


def budget_share(records) -> dict[tuple, float]:
    """(task, model) -> the share of the step budget its finished runs used, weighted by cost: the
    seconds they took over what the same runs would have taken at every step of their budget. A run
    stops when it is solved or converges; the long, costly runs weigh most, as in a sweep's total.

    Runs of 100 s at 50 of 100 steps and 10 s at 100 of 100 steps: 110 / (200 + 10) = 0.52."""
    used: dict[tuple, float] = {}
    full: dict[tuple, float] = {}
    for r in records:
        seconds, budget = r.timing.train_time_s, r.config.train.steps
        if not r.finished or not r.steps or not budget or not isinstance(seconds, (int, float)) or seconds <= 0:
            continue
        key = (r.config.task, r.config.model.name)
        used[key] = used.get(key, 0.0) + seconds
        full[key] = full.get(key, 0.0) + seconds * max(budget, r.steps) / r.steps
    return {key: used[key] / full[key] for key in used}


@dataclass
class History:
    """(task, model) -> [(sequence length, seconds per step)] of the finished runs: CPU seconds for a
    (task, model) whose runs recorded timing.cpu_s (those runs alone), wall-clock seconds otherwise;
    and the share of the step budget they used (budget_share)."""
    points: dict
    cpu_runs: int = 0
    wall_runs: int = 0
    shares: dict = field(default_factory=dict)

    @classmethod
    def of(cls, records) -> "History":
        cpu, wall = step_history(records, cpu=True), step_history(records)
        return cls({**wall, **cpu}, sum(map(len, cpu.values())),
                   sum(len(pts) for key, pts in wall.items() if key not in cpu), budget_share(records))

    def share(self, cfg) -> float:
        """The share of `cfg`'s step budget it is expected to run: 1 for a (task, model) with no finished runs."""
        return self.shares.get((cfg.task, cfg.model.name), 1.0)

    @property
    def steps_basis(self) -> str:
        if not self.shares:
            return "every run at its full step budget (no finished runs to learn from)"
        low, high = min(self.shares.values()), max(self.shares.values())
        return (f"each run at the share of its step budget that its (task, model)'s finished runs used, by cost "
                f"({low:.0%}–{high:.0%}; runs stop when solved or converged), the full budget where none finished")

    @property
    def basis(self) -> str:
        parts = ([f"CPU time of {self.cpu_runs} runs"] if self.cpu_runs else []) + (
            [f"wall-clock time of {self.wall_runs} runs, which counts time the run waited for the CPU"]
            if self.wall_runs else [])
        return "from " + " and ".join(parts) if parts else ""


def predicted_seconds(runs, results: Path, history: History | None = None) -> list[tuple[float, bool]]:
    """Predicted training seconds of each run, and whether finished runs informed the prediction."""
    from .models import MODELS
    from .tasks import task_of

    history = (history or History.of(load_runs(results)[0])).points
    every = [s for pts in history.values() for _, s in pts]
    fallback = float(np.median(every)) if every else 0.02
    predictions = []
    for cfg in runs:
        task = task_of(cfg)
        seq_len = task.source.seq_len(cfg.length)
        pts = history.get((cfg.task, cfg.model.name), [])
        law = fit_power_law([t for t, _ in pts], [s for _, s in pts])
        measure = not pts and MODELS.meta(cfg.model.name).get("measure_cost")
        if law is not None:
            per_step = law(seq_len)
        elif pts:
            per_step = pts[0][1] * seq_len / pts[0][0]
        elif measure:  # far from the median (hf models): a few timed steps, not a guess
            per_step = measured_step_seconds(cfg, task, seq_len, results) * (1 + eval_share(cfg))
        else:
            per_step = fallback * seq_len / 64
        predictions.append((per_step * cfg.train.steps * (1 + test_share(cfg, task)), bool(pts) or bool(measure)))
    return predictions


def estimate_seconds(runs, results: Path) -> Estimate:
    history = History.of(load_runs(results)[0])
    out = Estimate(basis=history.basis, steps=history.steps_basis)
    for cfg, (seconds, known) in zip(runs, predicted_seconds(runs, results, history)):
        seconds *= history.share(cfg)
        out.total_s += seconds
        out.unknown += not known
        key = (cfg.task, cfg.model.name)
        out.per_group[key] = out.per_group.get(key, 0.0) + seconds
    return out


def longest_first(runs, results: Path) -> list:
    """Runs ordered by predicted cost, longest first, so that no long run starts last and leaves
    the other workers idle at the end of a sweep (the LPT rule of scheduling)."""
    predictions = predicted_seconds(runs, results)
    order = sorted(range(len(runs)), key=lambda i: -predictions[i][0])
    return [runs[i] for i in order]


def search_paths(search: ParamSearch, solved: dict[int, bool]) -> list[list[int]]:
    """Every sequence of probes still to run, one per outcome pattern; the first is all-solved.

    LengthSearch(8, 32, refine=1) from nothing: [[8, 16, 32], [8, 16, 32, 24], [8, 16, 24], ...]
    """
    value = search.next_value(solved)
    if value is None:
        return [[]]
    return [[value] + rest for ok in (True, False) for rest in search_paths(search, {**solved, value: ok})]


@dataclass
class SearchEstimate:
    rows: list = field(default_factory=list)  # (chain label, probes low, probes high, seconds low, seconds high)

    @property
    def low_s(self) -> float:
        return sum(row[3] for row in self.rows)

    @property
    def high_s(self) -> float:
        return sum(row[4] for row in self.rows)

    def summary(self, workers: int) -> str:
        w = max(workers, 1)
        lines = [f"length searches: {len(self.rows)} chain(s), {self.low_s / 60:.1f}-{self.high_s / 60:.1f} CPU-minutes "
                 f"(about {self.low_s / 60 / w:.1f}-{self.high_s / 60 / w:.1f} minutes on {workers} worker(s)); "
                 "low: every probe solved up to max, high: plus the bisections; less if a model fails early; "
                 "each probe at its (task, model)'s share of the step budget (budget_share)"]
        for label, low_n, high_n, low_s, high_s in self.rows:
            lines.append(f"  {label:<40} {low_n}-{high_n} probes {low_s / 60:6.1f}-{high_s / 60:.1f} min")
        return "\n".join(lines)


def estimate_searches(chains: list, results: Path) -> SearchEstimate:
    """`chains`: (suite.Chain, {value: solved} known so far) pairs; probes already run cost nothing."""
    paths = [search_paths(chain.search, solved) for chain, solved in chains]
    configs = {(chain.key, L): chain.config(L) for (chain, _), ps in zip(chains, paths) for p in ps for L in p}
    history = History.of(load_runs(results)[0])
    predicted = predicted_seconds(list(configs.values()), results, history)
    seconds = {key: s * history.share(cfg) for (key, cfg), (s, _) in zip(configs.items(), predicted)}
    out = SearchEstimate()
    for (chain, _), ps in zip(chains, paths):
        costs = [sum(seconds[(chain.key, L)] for L in p) for p in ps]
        out.rows.append((chain.label(), len(ps[0]), max(len(p) for p in ps), costs[0], max(costs)))
    return out
