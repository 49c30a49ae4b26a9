"""The work of a sweep: fixed runs, length-search chains (suite.Chain) whose next probe becomes
ready when the previous one's result is known, and deferred groups (suite.Deferred) released at the
lr chosen on their tuning seed. `WorkQueue` hands out what is ready; `drive` keeps runs in flight."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Callable

from ..config import RunConfig
from ..selection import choose_lr, median, run_score, search_score
from ..record import RunRecord
from ..status import ERROR, is_solved
from ..store import CorruptRun, read_run, run_path
from ..suite import Chain, Deferred


def file_status(results: Path, run_id: str) -> str | None:
    """The status in a run file, or None if there is none. A corrupt file counts as an error: the
    sweep skips it like any run file, so a chain must not wait for it."""
    path = run_path(results, run_id)
    if not path.exists():
        return None
    try:
        return read_run(path).status
    except CorruptRun:
        return ERROR


@dataclass(eq=False)
class ChainState:
    """A chain's probes so far, {<param>, "run_id", "status"} in the order probed, where <param> is
    the searched parameter ("length" for a length search, e.g. "n_pairs")."""
    chain: Chain
    probes: list[dict] = field(default_factory=list)
    stalled: str | None = None  # why the chain stopped before its search was done
    lr_selection: dict | None = None  # a released seed's chain: how its lr was chosen

    @property
    def solved(self) -> dict[int, bool]:
        """value -> solved; a failed probe (diverged, oom, error) counts as not solved."""
        return {p[self.param]: is_solved(p["status"]) for p in self.probes}

    @property
    def param(self) -> str:
        return self.chain.search.param

    @property
    def open(self) -> bool:
        return self.stalled is None and self.chain.search.next_value(self.solved) is not None

    @property
    def done(self) -> bool:
        return not self.open and self.stalled is None

    def block(self) -> dict:
        """The `search` block of each probe's run file, so the report needs only run files."""
        return {"chain": self.chain.key, **self.chain.search.block()}

    def next_probe(self, results: Path) -> RunConfig | None:
        """The next probe to run, or None. Probes with a run file on disk are read, not run (resume)."""
        while self.stalled is None and (value := self.chain.search.next_value(self.solved)) is not None:
            cfg = self.chain.config(value)
            status = file_status(results, cfg.run_id)
            if status is None:
                return cfg
            self.probes.append({self.param: value, "run_id": cfg.run_id, "status": status})
        return None

    @cached_property
    def lr(self) -> float:
        return self.chain.config(self.chain.search.start).train.lr

    def summary(self) -> dict:
        """The chain's entry in results/suites/<name>.json."""
        search, result = self.chain.search, self.chain.search.result(self.solved)
        return {"chain": self.chain.key, "task": self.chain.task, "model": self.chain.model,
                "lr": self.lr, "grid": self.chain.grid, "seed": self.chain.seed,
                **({} if search.over_length else {"length": self.chain.length}),
                **search.block(), "probes": self.probes,
                "longest": result.longest, "first_fail": result.first_fail, "censored": result.censored,
                "below_start": result.below_start, "done": self.done,
                "stalled": self.stalled, "label": result.label(search.start)}


@dataclass(eq=False)
class Job:
    cfg: RunConfig
    chain: ChainState | None = None  # None: a fixed-length run
    selection: dict | None = None  # a fixed run released at a chosen lr: how it was chosen

    @property
    def search(self) -> dict | None:
        return self.chain.block() if self.chain else None

    @property
    def lr_selection(self) -> dict | None:
        return self.chain.lr_selection if self.chain else self.selection


@dataclass(eq=False)
class DeferredState:
    """A deferred group (suite.Deferred) and, once its tuning work is finished, the lr chosen."""
    group: Deferred
    selection: dict | None = None  # {"seed", "chosen", "candidates": {lr: value}}, set when released

    def tuning_ids(self) -> list[str]:
        """What finishing the tuning waits for: run ids (fixed length) or chain keys (a search)."""
        if self.group.search is not None:
            return [chain.key for chain in self.group.tuning.values()]
        return [cfg.run_id for cfg in self.group.tuning.values()]

    def choose(self, results: Path, chains: dict[str, ChainState]) -> dict | None:
        """The lr_selection block, or None while a tuning run or chain is unfinished. Read from the
        run files (fixed lengths) or the chains' probes (searches), so a resumed sweep chooses alike."""
        values: dict[float, float | None] = {}
        if self.group.search is not None:
            tiebreak = {}
            for lr, chain in self.group.tuning.items():
                state = chains.get(chain.key)
                if state is None or not state.done:
                    return None
                values[lr] = search_score(chain.search, state.solved)
                longest = max(state.probes, key=lambda p: p[state.param])
                tiebreak[lr] = {self.group.seed: _tuning_score(results, longest["run_id"])}
            chosen = choose_lr({lr: {self.group.seed: v} for lr, v in values.items()}, median, tiebreak)
        else:
            scores = {}
            for lr, cfg in self.group.tuning.items():
                if not run_path(results, cfg.run_id).exists():
                    return None
                record = _tuning_record(results, cfg.run_id)
                scores[lr] = run_score(record) if record is not None else None
                values[lr] = record.val_score if scores[lr] is not None else None
            chosen = choose_lr({lr: {self.group.seed: v} for lr, v in scores.items()})
        return {"seed": self.group.seed, "chosen": chosen, "candidates": {f"{lr:g}": v for lr, v in values.items()}}

    def pending(self, results: Path, chains: dict[str, ChainState]) -> bool:
        """Whether the group has work left: its tuning is unfinished, or a run or chain released at the
        chosen lr is not all on disk. A finished group needs no data, so a fresh clone of a finished
        leaderboard (which has none) resumes to nothing and rebuilds its report."""
        selection = self.choose(results, chains)
        if selection is None:
            return True
        work = self.group.release(selection["chosen"])
        if self.group.search is not None:
            return any(ChainState(chain).next_probe(results) is not None for chain in work)
        return any(file_status(results, cfg.run_id) is None for cfg in work)


def _tuning_record(results: Path, run_id: str) -> RunRecord | None:
    """A tuning run's file; None for a missing or corrupt one, which counts as a failed run (no score)."""
    try:
        return read_run(run_path(results, run_id))
    except (CorruptRun, OSError):
        return None


def _tuning_score(results: Path, run_id: str) -> float | None:
    record = _tuning_record(results, run_id)
    return run_score(record) if record is not None else None


class WorkQueue:
    """Runs ready to start. A chain's next probe first (a chain is a line of runs one after another:
    the sweep's critical path), then fixed runs in the order given (longest first). A finished
    probe makes its chain's next probe ready, and the last tuning run or chain of a deferred group
    releases its other seeds (fixed runs at the back, chains at once). `known` counts every job
    queued so far: chains and releases add to it, so a progress bar's total grows with it."""

    def __init__(self, fixed: list[RunConfig], chains: list[ChainState], results: Path,
                 on_done: Callable[[Job, dict], None] = lambda job, summary: None,
                 deferred: list[DeferredState] = ()):
        self.fixed = deque(Job(cfg) for cfg in fixed)
        self.probes: deque[Job] = deque()
        self.chains, self.results, self.on_done = chains, Path(results), on_done
        self.known = len(self.fixed)
        self.deferred = list(deferred)
        self.released: list[RunConfig] = []  # fixed runs of released groups, on disk or queued
        self._waiting: dict[str, list[DeferredState]] = {}  # tuning run id / chain key -> groups waiting on it
        for group in self.deferred:
            for key in group.tuning_ids():
                self._waiting.setdefault(key, []).append(group)
        for state in chains:
            self._advance(state)
        for group in self.deferred:
            self._release(group)

    def _release(self, group: DeferredState) -> None:
        """Queue a group's other seeds at the chosen lr, once its tuning work is finished."""
        if group.selection is not None:
            return
        selection = group.choose(self.results, {state.chain.key: state for state in self.chains})
        if selection is None:
            return
        group.selection = selection
        work = group.group.release(selection["chosen"])
        if group.group.search is not None:
            for chain in work:
                state = ChainState(chain, lr_selection=selection)
                self.chains.append(state)
                self._advance(state)
            return
        self.released += work
        for cfg in work:
            if file_status(self.results, cfg.run_id) is None:
                self.fixed.append(Job(cfg, selection=selection))
                self.known += 1

    def _finished(self, key: str) -> None:
        for group in self._waiting.get(key, []):
            self._release(group)

    def _advance(self, state: ChainState) -> None:
        cfg = state.next_probe(self.results)
        if cfg is not None:
            self.probes.append(Job(cfg, state))
            self.known += 1

    def pop(self) -> Job | None:
        queue = self.probes or self.fixed
        return queue.popleft() if queue else None

    def complete(self, job: Job, summary: dict) -> None:
        state = job.chain
        if state is not None:
            status = summary["status"]
            value = state.chain.value_of(job.cfg)
            if status == "locked":  # another sweep runs this probe: its outcome is not ours to wait for
                state.stalled = f"probe {state.param}={value} is being run by another sweep; run again to continue"
            else:
                if status == "skipped":  # finished by another sweep meanwhile
                    status = file_status(self.results, job.cfg.run_id) or ERROR
                state.probes.append({state.param: value, "run_id": job.cfg.run_id, "status": status})
                self._advance(state)
                if state.done:
                    self._finished(state.chain.key)
        elif summary["status"] != "locked":
            self._finished(job.cfg.run_id)
        self.on_done(job, summary)

    @property
    def open_chains(self) -> int:
        return sum(state.open for state in self.chains)

    @property
    def waiting(self) -> int:
        """Deferred groups not released yet."""
        return sum(group.selection is None for group in self.deferred)


def drive(work: WorkQueue, pending: dict, submit: Callable[[Job], Any], wait_any: Callable[[list], list],
           collect: Callable[[Any], dict], limit: int | None = None) -> None:
    """Keep up to `limit` runs in flight (every ready run when None); hand each result back as it
    comes, which may make a chain's next probe ready. `pending` (handle -> job) is the caller's, so
    it can cancel what is in flight when interrupted."""
    while True:
        while limit is None or len(pending) < limit:
            job = work.pop()
            if job is None:
                break
            pending[submit(job)] = job
        if not pending:
            return
        for handle in wait_any(list(pending)):
            work.complete(pending.pop(handle), collect(handle))
