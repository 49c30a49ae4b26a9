"""`sweep()`: plan a suite's work, run what is left, and keep its suite record and VERSION current."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..leaderboard_version import read_version, snapshot_references, write_version
from ..store import check_writable
from .display import Display, Silent
from .dry_run import estimate, recorded_estimate
from .manifest import same_basis, suite_manifest
from .executors import EXECUTORS
from .locks import clear_stale_locks
from .plan import SweepPlan, plan_sweep
from .queue import Job, WorkQueue


def sweep(suite_path: Path, results: Path, workers: int | None = None, threads: int | None = None,
          executor: str = "local", address: str | None = None, dry_run: bool = False,
          retry_failed: bool = False, display: Display | None = None, models: list[str] | None = None,
          tasks: list[str] | None = None) -> dict:
    """Run a suite's unfinished work into `results`; returns a summary (counts, searches, lr choices).
    `models`: sweep only these (the suite's or any registered model), beside the suite's runs of its
    other models already in `results`, which must share their protocol (see existing.py); `tasks`, with
    `models`: only these of the suite's tasks. `display`:
    what to show as it goes (commands/sweep.py prints); None shows nothing."""
    display = display or Silent()
    p = plan_sweep(suite_path, results, workers, threads, executor, retry_failed, models, display, tasks)
    summary = p.summary()
    if dry_run:
        return {**summary, **estimate(p, display)}
    prepare(p, display)
    extra = {"address": address, "gpus_per_run": 1.0 if p.suite.device.startswith("cuda") else 0.0} \
        if executor == "ray" else {}  # Ray reserves GPUs per run: a whole one unless the suite runs on the CPU
    extra["memory_limit_mb"] = p.suite.memory_limit_mb
    running = Running(p, display)
    running.run(lambda work: EXECUTORS.get(executor)(work, p.results, p.workers, p.threads, **extra))
    return {**summary, **running.finish()}


def prepare(p: SweepPlan, display: Display) -> None:
    """Before any run: the results directory is writable, dead sweeps' locks are gone, the data is
    there, and the suite record and VERSION say what is being made."""
    from ..estimate import METHOD, longest_first
    from ..tasks import get_task

    check_writable(p.results)
    clear_stale_locks(p.results)
    p.todo = longest_first(p.todo, p.results)
    # Missing data fails here, before any worker starts; work already on disk needs none.
    by_key = {state.chain.key: state for state in p.chains}
    for name in sorted({cfg.task for cfg in p.todo} | {cfg.task for cfg in p.next_probes if cfg is not None}
                       | {group.group.task for group in p.deferred if group.pending(p.results, by_key)}):
        get_task(name).prepare()
    if p.deferred:
        display.message(f"lr tuning: {len(p.deferred)} group(s) run their lr grid on the tuning seed first; their "
                        f"other seeds run at the lr chosen on validation when it is known")
    # The estimate the report sets the measured cost against: made before the suite's first runs, and
    # again when the suite's plan has changed since (a raised ceiling), since the old one priced another
    # plan, or when the estimator's method has (manifest.same_basis).
    work_left = p.todo or any(state.open for state in p.chains) or any(
        group.pending(p.results, by_key) for group in p.deferred)
    recorded = (suite_manifest(p.results, p.suite.name) or {}).get("estimate")
    if not p.added and work_left and (recorded is None or not same_basis(recorded, p.suite.plan_key, METHOD)):
        p.estimate = recorded_estimate(p)
    p.write_manifest()
    # VERSION (what this leaderboard is, for `seqbench cite`) names the code that last ran one of its
    # runs: written here when it does not name this suite version yet, and after any sweep that ran
    # something; a sweep that finds everything done leaves it as it is. A newcomer's sweep
    # (`--models`) ranks against the leaderboard as it is: its VERSION stays.
    if not p.added and ((read_version(p.results) or {}).get("suites") or {}).get(p.suite.name) != p.suite.version:
        write_version(p.results, p.suite.name, p.suite.version)
    snapshot_references(p.results)  # the literature the report compares with


class Running:
    """A sweep's runs in flight: counts what ended, keeps the suite record and the display current."""

    def __init__(self, p: SweepPlan, display: Display):
        self.plan, self.display = p, display
        self.counts: dict[str, int] = {}  # status -> runs ended with it
        self.probes = 0  # length-search probes run
        self.in_manifest = 0  # released fixed runs already in the suite record
        self.work = WorkQueue(p.todo, p.chains, p.results, self.on_done, p.deferred)

    def run(self, execute: Callable[[WorkQueue], None]) -> None:
        p, work = self.plan, self.work
        with self.display.progress(len(p.todo)):
            if work.released:  # groups whose tuning had finished before this sweep
                self.in_manifest = len(work.released)
                p.write_manifest(work.released)
            if work.open_chains:
                self.display.update(work.known, work.open_chains)
            try:
                execute(work)
            except KeyboardInterrupt:
                self.display.interrupted(sum(self.counts.values()), work.known)
                raise
            finally:
                if self.counts and not p.added:
                    write_version(p.results, p.suite.name, p.suite.version)

    def on_done(self, job: Job, summary: dict) -> None:
        status = summary["status"]
        self.counts[status] = self.counts.get(status, 0) + 1
        self.probes += job.chain is not None
        if job.chain is not None or len(self.work.released) != self.in_manifest:
            self.in_manifest = len(self.work.released)
            self.plan.write_manifest(self.work.released)
        self.display.run_done(job, summary)
        if job.chain is not None and not job.chain.open:
            self.display.search_done(job.chain)
        # Chains add probes as they go: the total is what is known so far.
        self.display.update(self.work.known, self.work.open_chains, advance=1)

    def finish(self) -> dict:
        """After the runs: the suite record's last word, and the summary's entries."""
        p, work = self.plan, self.work
        self.display.message(f"sweep done: {self.counts}")
        # Everything runnable ran: the suite is complete unless a group still waits for tuning runs that
        # another sweep holds.
        p.write_manifest(work.released, complete=not (p.deferred and work.waiting) and not work.open_chains)
        out: dict = {}
        if p.deferred:
            waiting = work.waiting
            self.display.message(f"lr tuning: {len(p.deferred) - waiting} of {len(p.deferred)} group(s) released at "
                                 "their chosen lr" + (f"; {waiting} wait for tuning runs another sweep holds: run "
                                                      "again to continue" if waiting else ""))
            out.update(released=len(p.deferred) - waiting, released_runs=len(work.released),
                       choices=[{"group": d.group.label(), **d.selection} for d in p.deferred if d.selection])
        for state in p.chains:
            if state.probes or state.stalled:
                self.display.search_done(state)
        out.update(counts=self.counts, probes=self.probes, searches=[state.summary() for state in p.chains])
        return out
