"""A sweep's plan: the suite's work against what its results directory already holds."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from ..config import TRAINER_VERSION, RunConfig
from ..errors import UserError
from ..status import ERROR, OOM
from ..store import CorruptRun, finished_ids, load_runs, read_run, run_path
from ..suite import Suite, load_suite, plan
from ..tasks import find_suite
from .display import Display
from .executors import EXECUTORS, default_workers_threads
from .existing import describe_versions, other_versions, refuse_other_protocol
from .manifest import write_manifest
from .queue import ChainState, DeferredState


@dataclass(eq=False)
class SweepPlan:
    """What a sweep found at its start. `chains` grows as deferred groups release theirs."""
    suite: Suite
    suite_path: Path
    results: Path
    added: tuple[str, ...] | None  # the models of a `--models` sweep
    runs: list[RunConfig]  # the suite's fixed-length runs
    todo: list[RunConfig]  # those without a run file
    chains: list[ChainState]
    deferred: list[DeferredState]
    next_probes: list[RunConfig | None]  # each chain's next probe, after the outcomes on disk
    workers: int
    threads: int
    other_versions: int  # run files of these configs made by another protocol version
    estimate: dict | None = None  # the dry-run estimate to record (dry_run.recorded_estimate), if the record has none

    def summary(self) -> dict:
        return {"runs": len(self.runs), "skipped": len(self.runs) - len(self.todo), "todo": len(self.todo),
                "chains": len(self.chains), "other_versions": self.other_versions, "deferred": len(self.deferred)}

    def write_manifest(self, released: list[RunConfig] = (), complete: bool = False) -> None:
        """`released`: fixed runs of deferred groups released so far."""
        write_manifest(self.results, self.suite, self.suite_path, self.runs + list(released), self.chains,
                       self.added, complete=complete, estimate=self.estimate)


def plan_sweep(suite_path: Path, results: Path, workers: int | None, threads: int | None, executor: str,
               retry_failed: bool, models: list[str] | None, display: Display,
               tasks: list[str] | None = None) -> SweepPlan:
    suite = load_suite(find_suite(suite_path))
    added = tuple(dict.fromkeys(models)) if models else None
    if added:
        suite = suite.restricted(added)
    if tasks:
        # An entry is named by its task, or task/variant ("copy/loss"): --tasks copy takes both.
        def task_of(entry: str) -> str:
            return entry.split("/", 1)[0]
        unknown = [t for t in tasks if t not in {task_of(e) for e in suite.tasks}]
        if unknown:
            raise UserError(f"--tasks names {', '.join(unknown)}, not in suite {suite.name}; "
                            f"its tasks: {', '.join(dict.fromkeys(map(task_of, suite.tasks)))}")
        suite = dataclasses.replace(suite, tasks={e: spec for e, spec in suite.tasks.items() if task_of(e) in tasks})
    found = plan(suite)
    workers, threads = default_workers_threads(workers or suite.workers, threads or suite.threads)
    EXECUTORS.get(executor)
    for note in found.notes:
        display.message(note, warn=True)
    done_ids = finished_ids(results)
    if retry_failed:
        _remove_failed(results, done_ids)
    todo = [cfg for cfg in found.runs if cfg.run_id not in done_ids]
    chains = [ChainState(chain) for chain in found.chains]
    records = load_runs(results)[0] if done_ids and (todo or chains or added) else []
    if added:
        refuse_other_protocol(results, suite, added, found.runs, found.chains, records)
    redo = other_versions(records, todo, found.chains)
    if redo:
        display.message(f"{describe_versions(redo)} in {results} hold configs of this suite made by another "
                        f"protocol version; they run again under trainer v{TRAINER_VERSION} and today's task "
                        f"versions (the old files stay, reported as a protocol of their own)", warn=True)
    next_probes = [state.next_probe(results) for state in chains]  # reads the outcomes already on disk
    out = SweepPlan(suite, suite_path, results, added, found.runs, todo, chains,
                    [DeferredState(group) for group in found.deferred], next_probes, workers, threads, len(redo))
    _describe(out, executor, display)
    return out


def _remove_failed(results: Path, done_ids: set[str]) -> None:
    """--retry-failed: the run files of runs that did not finish (oom, error) go, so they run again."""
    for run_id in list(done_ids):
        try:
            if read_run(run_path(results, run_id)).status in (ERROR, OOM):
                done_ids.discard(run_id)
                run_path(results, run_id).unlink()
        except CorruptRun:
            pass


def _describe(p: SweepPlan, executor: str, display: Display) -> None:
    skipped = len(p.runs) - len(p.todo)
    display.message(f"suite {p.suite.name} v{p.suite.version}: {len(p.runs)} runs, {skipped} already finished "
                    f"(skipped), {len(p.todo)} to run on {p.workers} worker(s) x {p.threads} thread(s), "
                    f"executor {executor}" + (f"; models {', '.join(p.added)} only" if p.added else ""))
    if p.chains:
        display.message(f"length searches: {len(p.chains)} chain(s), {sum(len(c.probes) for c in p.chains)} "
                        f"probe(s) already on disk, {sum(c.open for c in p.chains)} chain(s) to continue")
