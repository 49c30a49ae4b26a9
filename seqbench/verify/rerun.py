"""The rerun: train a reproducible sample of a results directory's runs again, from their recorded
configs, into a scratch directory, and compare each with its committed run file.

Verdicts, on the task's main test metric:
- *identical*: every metric of the run file is equal to the last bit;
- *within noise*: the difference is no larger than the seed spread of the run's cell (max − min of that
  metric over the runs whose config differs from it only in the seed), or, for a cell of one seed, than
  the metric's tolerance below;
- *outside*: larger than that; and *not rerun* with its reason (e.g. the real data is not here).
"""
from __future__ import annotations

import json
import math
import random
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import torch

from .. import __version__
from ..config import TRAINER_VERSION
from ..errors import UserError
from ..metrics import METRICS
from ..record import Provenance, RunRecord

# A cell of one seed has no spread: a bounded score may differ by a point, a loss by 5% of itself.
BOUNDED_TOLERANCE = 0.01
LOSS_RELATIVE_TOLERANCE = 0.05
VERDICTS = ("identical", "within noise", "outside", "not rerun")


@dataclass(frozen=True)
class Rerun:
    run_id: str
    task: str
    model: str
    metric: str
    committed: float | None
    rerun: float | None
    noise: float | None  # the allowed difference
    verdict: str
    note: str = ""
    committed_on: str = ""  # the machine of the committed run: CPU or GPU · torch · threads
    rerun_on: str = ""

    def row(self) -> dict:
        return self.__dict__.copy()


def machine(provenance: Provenance) -> str:
    return f"{provenance.device_name} · torch {provenance.torch} · {provenance.threads} threads"


def main_metric(run: RunRecord) -> str:
    return f"test/{run.task.metric}"


def cell_key(run: RunRecord) -> str:
    """The config without its seed: the runs of one leaderboard cell share it."""
    return json.dumps({k: v for k, v in run.config_dict().items() if k != "seed"}, sort_keys=True)


def metric_tolerance(name: str, value: float) -> float:
    metric = METRICS.get(name.split("/", 1)[1])
    bounded = metric.higher_is_better  # accuracy, F1: in [0, 1]; losses are unbounded and lower is better
    return BOUNDED_TOLERANCE if bounded else LOSS_RELATIVE_TOLERANCE * abs(value)


def seed_spreads(runs: list[RunRecord]) -> dict[str, float]:
    """For each cell with two or more finished seeds, max − min of its main test metric."""
    values = defaultdict(list)
    for run in runs:
        value = run.metrics.get(main_metric(run))
        if run.finished and isinstance(value, (int, float)) and math.isfinite(value):
            values[cell_key(run)].append(value)
    return {key: max(v) - min(v) for key, v in values.items() if len(v) > 1}


def cost(run: RunRecord) -> float:
    seconds = run.timing.train_time_s
    return float(seconds) if isinstance(seconds, (int, float)) else math.inf


def choose(runs: list[RunRecord], n: int, seed: int = 0, ids: list[str] | None = None) -> list[RunRecord]:
    """`ids` when given (in that order); otherwise n finished runs spread over (task, model), in rounds:
    each round takes one run from every group that has one left, the groups whose cheapest run is
    cheapest first; `seed` draws which run, among a group's runs that cost at most twice its cheapest.
    Returned cheapest first."""
    by_id = {run.run_id: run for run in runs}
    if ids:
        unknown = [i for i in ids if i not in by_id]
        if unknown:
            raise UserError(f"--runs names {', '.join(unknown)}, which have no run file here; "
                            "pick ids from the runs/ directory")
        return [by_id[i] for i in ids]
    groups = defaultdict(list)
    for run in sorted(runs, key=lambda r: (cost(r), r.run_id)):
        if run.finished and math.isfinite(cost(run)):
            groups[(run.config.task, run.config.model.name)].append(run)
    rng, chosen = random.Random(seed), []
    while len(chosen) < n and any(groups.values()):
        for group in sorted((g for g in groups if groups[g]), key=lambda g: (cost(groups[g][0]), g)):
            if len(chosen) == n:
                break
            cheap = [r for r in groups[group] if cost(r) <= 2 * cost(groups[group][0])]
            chosen.append(groups[group].pop(groups[group].index(rng.choice(cheap))))
    return sorted(chosen, key=lambda r: (cost(r), r.run_id))


def version_notes(runs: list[RunRecord]) -> list[str]:
    """One line each where the runs were made by another seqbench or trainer version than this one."""
    notes = []
    seqbench = sorted({str(r.provenance.seqbench) for r in runs} - {__version__})
    if seqbench:
        notes.append(f"the runs were made by seqbench {', '.join(seqbench)}; this is seqbench {__version__}")
    trainers = sorted({int(r.config.trainer_version) for r in runs} - {TRAINER_VERSION})
    if trainers:
        notes.append(f"the runs were trained by trainer v{', v'.join(map(str, trainers))}; this is trainer v{TRAINER_VERSION}")
    return notes


def compare(committed: RunRecord, fresh: RunRecord, spreads: dict[str, float]) -> Rerun:
    name = main_metric(committed)
    ours, theirs = fresh.metrics.get(name), committed.metrics.get(name)
    spread = spreads.get(cell_key(committed))
    noise = spread if spread is not None else metric_tolerance(name, theirs or 0.0)
    if fresh.metrics == committed.metrics and fresh.status == committed.status:
        verdict = "identical"
    elif isinstance(ours, (int, float)) and isinstance(theirs, (int, float)) and abs(ours - theirs) <= noise:
        verdict = "within noise"
    else:
        verdict = "outside"
    note = "" if spread is not None else "one seed: the metric's tolerance"
    if fresh.status != committed.status:
        note = f"status {committed.status} committed, {fresh.status} here"
    return Rerun(committed.run_id, committed.config.task, committed.config.model.name, name,
                 theirs, ours, noise, verdict, note, machine(committed.provenance), machine(fresh.provenance))


def rerun_one(run: RunRecord, scratch: Path, spreads: dict[str, float]) -> Rerun:
    from ..runner import execute

    cfg = run.config
    if cfg.run_id != run.run_id:  # the config no longer hashes to its id: today's code reads it differently
        return Rerun(run.run_id, cfg.task, cfg.model.name, main_metric(run), None, None, None, "not rerun",
                     f"its config hashes to {cfg.run_id} today")
    threads = run.provenance.threads
    if not cfg.train.threads and isinstance(threads, int):  # 0 or None: the sweep worker chose (1)
        torch.set_num_threads(threads)  # as the committed run had them: some kernels' sums depend on it
    try:
        fresh, _ = execute(cfg, scratch, search=run.search.to_dict() if run.search else None,
                           lr_selection=run.lr_selection.to_dict() if run.lr_selection else None)
    except UserError as exc:  # e.g. a real task whose data is not on this machine
        return Rerun(run.run_id, cfg.task, cfg.model.name, main_metric(run), run.metrics.get(main_metric(run)),
                     None, None, "not rerun", str(exc))
    return compare(run, fresh, spreads)


def rerun(runs: list[RunRecord], chosen: list[RunRecord], progress=print) -> list[Rerun]:
    spreads = seed_spreads(runs)
    out = []
    with tempfile.TemporaryDirectory(prefix="seqbench-rerun-") as scratch:
        for i, run in enumerate(chosen, 1):
            result = rerun_one(run, Path(scratch), spreads)
            progress(f"[{i}/{len(chosen)}] {result.run_id} {result.task} {result.model}: {result.verdict}"
                     + (f" ({result.note})" if result.note else ""))
            out.append(result)
    return out
