"""`seqbench sweep SUITE`: expand a suite, skip finished runs, run the rest in parallel.

Work comes from a `WorkQueue`: the suite's fixed-length runs, and one *chain* per length search
(suite.Chain), whose next probe becomes ready when its previous probe's result is known. Each probe
is an ordinary run, so a killed sweep resumes: a chain's outcomes so far are read from the run
files on disk, and the chain goes on from there.

With a suite's `tune: {seed: S}`, the other seeds wait in deferred groups (suite.Deferred) until
the group's tuning runs on seed S are finished; the group is then released at the lr chosen on
validation (selection.py), recomputed from the run files, so a resumed sweep makes the same choice.

Executors: `local` (worker processes, each with its own torch thread count), `ray` (the same
run function as Ray tasks, for clusters) and `inline` (one run at a time in this process, for
tests and debugging). All write the same run files. A run's lock file
(`runs/<id>.lock`, holding the owner's host and pid) keeps two sweeps on one results directory
from running the same config at the same time; a lock whose owner has died is taken over, and
every such lock is cleared when a sweep starts. Local workers stop when their sweep dies.
"""
from __future__ import annotations

import dataclasses
import os
import socket
import time
import traceback
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from functools import cached_property
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Callable

from .selection import choose_lr, median, run_score, search_score
from .status import ERROR, OOM, SOLVED, status_of
from .config import TRAINER_VERSION, RunConfig
from .errors import UserError
from .registry import Registry
from .resume import describe_versions, other_versions, protocol_differences, suite_manifest
from .snapshot import read_version, snapshot_references, write_version
from .store import (CorruptRun, check_writable, finished_ids, load_runs, read_run, run_path, suite_record_path,
                    write_json_atomic, write_run)
from .suite import Chain, Deferred, Suite, load_suite, plan
from .tasks import find_suite

EXECUTORS: Registry = Registry("executor")


# ------------------------------------------------------------------ locks

def _lock_path(results: Path, run_id: str) -> Path:
    return Path(results) / "runs" / f"{run_id}.lock"


def _owner_alive(text: str) -> bool:
    host, _, pid = text.partition(":")
    if host != socket.gethostname():
        return True  # another machine's lock: trust it
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def acquire_lock(results: Path, run_id: str) -> bool:
    """Create the run's lock file atomically; take over a lock whose holder has died."""
    path = _lock_path(results, run_id)
    me = f"{socket.gethostname()}:{os.getpid()}"
    # The lock appears with its holder already written (a hard link to a written file), so a
    # contender never reads an empty lock and takes it for a dead holder's.
    mine = path.with_suffix(f".{socket.gethostname()}.{os.getpid()}.tmp")
    mine.write_text(me)
    try:
        return _link_lock(path, mine)
    finally:
        mine.unlink(missing_ok=True)


def _link_lock(path: Path, mine: Path) -> bool:
    for _ in range(2):
        try:
            os.link(mine, path)
        except FileExistsError:
            alive = _holder_alive(path)
            if alive:
                return False
            if alive is not None:  # None: released meanwhile, so just try again
                _remove_stale(path)
            continue
        return True
    return False


def _holder_alive(path: Path) -> bool | None:
    """Whether the lock's holder is alive; None when the lock is gone. An empty lock counts as dead."""
    try:
        holder = path.read_text()
    except FileNotFoundError:
        return None
    return bool(holder) and _owner_alive(holder)


def _remove_stale(path: Path) -> bool:
    """Rename a dead holder's lock away atomically, so only one contender removes it."""
    stale = path.with_suffix(f".stale.{os.getpid()}")
    try:
        os.rename(path, stale)
    except FileNotFoundError:
        return False
    stale.unlink()
    return True


def release_lock(results: Path, run_id: str) -> None:
    _lock_path(results, run_id).unlink(missing_ok=True)


def clear_stale_locks(results: Path) -> int:
    """Remove the locks whose holders have died (a killed sweep's), so a finished run never keeps
    one: such a run is skipped, and nothing else would remove it. Returns how many were removed."""
    removed = 0
    for path in sorted((Path(results) / "runs").glob("*.lock")):
        if _holder_alive(path) is False:
            removed += _remove_stale(path)
    return removed


# ------------------------------------------------------------------ one run, in a worker

def failed_record(cfg: RunConfig, status: str, error: str, search: dict | None = None,
                  lr_selection: dict | None = None) -> dict:
    from .provenance import provenance
    import torch
    record = {"run_id": cfg.run_id, "status": status, "error": error, "config": cfg.to_dict(),
              "metrics": {}, "baseline": {}, "task": {"name": cfg.task}, "params": {"params": None},
              "steps": 0, "timing": {"train_time_s": None, "median_step_ms": None, "eval_tokens_per_s": None},
              "memory": {}, "provenance": provenance(torch.device("cpu"))}
    if search is not None:
        record["search"] = search
    if lr_selection is not None:
        record["lr_selection"] = lr_selection
    return record


def _is_oom(exc: BaseException) -> bool:
    text = str(exc).lower()
    return isinstance(exc, MemoryError) or "can't allocate memory" in text or "out of memory" in text


def limit_memory(megabytes: int | None) -> None:
    """Cap this process's data segment (heap and private mappings), so a run that would exhaust
    the machine fails with an allocation error instead, and is recorded as oom."""
    if not megabytes:
        return
    import resource
    limit = int(megabytes) * 2**20
    resource.setrlimit(resource.RLIMIT_DATA, (limit, resource.getrlimit(resource.RLIMIT_DATA)[1]))


def run_one(config: dict, results: str, threads: int | None = None, memory_limit_mb: int | None = None,
            search: dict | None = None, lr_selection: dict | None = None) -> dict:
    """Run one config unless it is finished or locked; returns a one-line summary dict. `search`: the
    chain block written into a length-search probe's run file; `lr_selection`: how a released seed's
    lr was chosen (suite `tune`). Neither changes the run id."""
    import torch

    from .runner import execute

    cfg = RunConfig.from_dict(config)
    if threads:
        torch.set_num_threads(threads)
    limit_memory(memory_limit_mb)
    results = Path(results)
    if run_path(results, cfg.run_id).exists():
        return {"run_id": cfg.run_id, "status": "skipped"}
    if not acquire_lock(results, cfg.run_id):
        return {"run_id": cfg.run_id, "status": "locked"}
    start = time.perf_counter()
    try:
        if run_path(results, cfg.run_id).exists():  # finished between our check and the lock
            return {"run_id": cfg.run_id, "status": "skipped"}
        try:
            # Passed only when there is one, so a stand-in for execute need not know of it.
            selection = {"lr_selection": lr_selection} if lr_selection is not None else {}
            record, _ = execute(cfg, results, search=search, **selection)
        except (KeyboardInterrupt, SystemExit):
            raise
        except (Exception, MemoryError) as exc:  # recorded as failed or oom; the sweep goes on
            message = "".join(traceback.format_exception_only(exc)).strip().splitlines()[0][:500]
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            record = failed_record(cfg, OOM if _is_oom(exc) else ERROR, message, search, lr_selection)
            write_run(results, record)
        metric = record.get("task", {}).get("metric")
        value = record["metrics"].get(f"test/{metric}") if metric else None
        return {"run_id": cfg.run_id, "status": record["status"], "metric": metric, "value": value,
                "seconds": time.perf_counter() - start, "error": record.get("error")}
    finally:
        release_lock(results, cfg.run_id)


def _label(cfg: RunConfig) -> str:
    return f"{cfg.task}/{cfg.model.name} L={cfg.length} lr={cfg.train.lr:g} seed={cfg.seed}"


# ------------------------------------------------------------------ work: fixed runs and search chains

def file_status(results: Path, run_id: str) -> str | None:
    """The status in a run file, or None if there is none. A corrupt file counts as an error: the
    sweep skips it like any run file, so a chain must not wait for it."""
    path = run_path(results, run_id)
    if not path.exists():
        return None
    try:
        return status_of(read_run(path))
    except CorruptRun:
        return ERROR


@dataclass(eq=False)
class ChainState:
    """A chain's probes so far, {"length", "run_id", "status"} in the order probed."""
    chain: Chain
    probes: list[dict] = field(default_factory=list)
    stalled: str | None = None  # why the chain stopped before its search was done
    lr_selection: dict | None = None  # a released seed's chain: how its lr was chosen

    @property
    def solved(self) -> dict[int, bool]:
        """length -> solved; a failed probe (diverged, oom, error) counts as not solved."""
        return {p["length"]: p["status"] == SOLVED for p in self.probes}

    @property
    def open(self) -> bool:
        return self.stalled is None and self.chain.search.next_length(self.solved) is not None

    @property
    def done(self) -> bool:
        return not self.open and self.stalled is None

    def block(self) -> dict:
        """The `search` block of each probe's run file, so the report needs only run files."""
        s = self.chain.search
        return {"chain": self.chain.key, "start": s.start, "max": s.max, "refine": s.refine}

    def next_probe(self, results: Path) -> RunConfig | None:
        """The next probe to run, or None. Probes with a run file on disk are read, not run (resume)."""
        while self.stalled is None and (length := self.chain.search.next_length(self.solved)) is not None:
            cfg = self.chain.config(length)
            status = file_status(results, cfg.run_id)
            if status is None:
                return cfg
            self.probes.append({"length": length, "run_id": cfg.run_id, "status": status})
        return None

    @cached_property
    def lr(self) -> float:
        return self.chain.config(self.chain.search.start).train.lr

    def summary(self) -> dict:
        """The chain's entry in results/suites/<name>.json."""
        search, result = self.chain.search, self.chain.search.result(self.solved)
        return {"chain": self.chain.key, "task": self.chain.task, "model": self.chain.model,
                "lr": self.lr, "grid": self.chain.grid, "seed": self.chain.seed,
                "start": search.start, "max": search.max, "refine": search.refine, "probes": self.probes,
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
                longest = max(state.probes, key=lambda p: p["length"])
                tiebreak[lr] = {self.group.seed: run_score(_tuning_record(results, longest["run_id"]))}
            chosen = choose_lr({lr: {self.group.seed: v} for lr, v in values.items()}, median, tiebreak)
        else:
            scores = {}
            for lr, cfg in self.group.tuning.items():
                if not run_path(results, cfg.run_id).exists():
                    return None
                record = _tuning_record(results, cfg.run_id)
                scores[lr] = run_score(record)
                values[lr] = record.get("metrics", {}).get(f"val/{record.get('task', {}).get('metric')}") \
                    if scores[lr] is not None else None
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


def _tuning_record(results: Path, run_id: str) -> dict:
    """A tuning run's file; a missing or corrupt one reads as a failed run, which has no score."""
    try:
        return read_run(run_path(results, run_id))
    except (CorruptRun, OSError):
        return {"status": ERROR}


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
            if status == "locked":  # another sweep runs this probe: its outcome is not ours to wait for
                state.stalled = f"probe L={job.cfg.length} is being run by another sweep; run again to continue"
            else:
                if status == "skipped":  # finished by another sweep meanwhile
                    status = file_status(self.results, job.cfg.run_id) or ERROR
                state.probes.append({"length": job.cfg.length, "run_id": job.cfg.run_id, "status": status})
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


def _drive(work: WorkQueue, pending: dict, submit: Callable[[Job], Any], wait_any: Callable[[list], list],
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


# ------------------------------------------------------------------ executors

def _exit_when_orphaned(parent: int, every_s: float = 1.0, grace_s: float = 5.0) -> None:
    """A worker whose sweep has died (SIGKILL, a crash) stops too, instead of training on unseen."""
    import signal
    while os.getppid() == parent:
        time.sleep(every_s)
    os.kill(os.getpid(), signal.SIGTERM)  # unwinds a run in the main thread, releasing its lock
    time.sleep(grace_s)
    os._exit(143)  # the pool's loop then waits for its next task, on a queue nobody will fill


def _worker_init(threads: int) -> None:
    import signal
    import sys
    import threading

    import torch
    torch.set_num_threads(threads)
    # Ctrl-C is the parent's to handle; SIGTERM (the parent stopping us) unwinds, releasing the lock.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    # The parent spawned us with SIGINT blocked (see run_local); now that it is ignored, a Ctrl-C
    # that arrived meanwhile is discarded.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    threading.Thread(target=_exit_when_orphaned, args=(os.getppid(),), daemon=True).start()


def wait_first(futures: list, poll_s: float = 1.0) -> set:
    """The futures done, once one is. Waits in slices: the kernel may hand a Ctrl-C to one of the
    pool's threads (the main thread blocks SIGINT during a submit), and Python runs the handler only
    when the main thread next runs Python code; a wait with no timeout would sleep through it."""
    while True:
        done = wait(futures, timeout=poll_s, return_when=FIRST_COMPLETED)[0]
        if done:
            return done


@EXECUTORS.register("local")
def run_local(work: WorkQueue, results: Path, workers: int, threads: int, memory_limit_mb: int | None = None) -> None:
    import signal

    ctx = get_context("spawn")  # a clean interpreter per worker: no inherited torch thread pools
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_worker_init, initargs=(threads,))

    def submit(job: Job):
        # The pool starts workers on demand, at a submit. They start with SIGINT blocked (a signal
        # mask survives fork and exec) until their initializer ignores it, so a Ctrl-C that reaches
        # the whole process group never interrupts a worker mid-import; the parent stops them
        # instead. Blocked, not ignored, in the parent: a Ctrl-C during the submit is delivered
        # when it returns, not lost.
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            return pool.submit(run_one, job.cfg.to_dict(), str(results), threads, memory_limit_mb, job.search,
                               job.lr_selection)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)

    try:
        # At most one run per worker in flight, so a probe that becomes ready goes next, not last.
        _drive(work, {}, submit, wait_first, lambda future: future.result(), limit=workers)
    except BaseException:
        for process in list((pool._processes or {}).values()):
            process.terminate()  # SIGTERM: the worker unwinds, its lock is released, no file is partial
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


@EXECUTORS.register("ray")
def run_ray(work: WorkQueue, results: Path, workers: int, threads: int, memory_limit_mb: int | None = None,
            address: str | None = None, gpus_per_run: float = 0.0) -> None:
    """Every ready run is submitted at once (Ray schedules them on the cluster's resources); a
    chain's next probe is submitted when its previous probe's task completes."""
    try:
        import ray
    except ImportError as exc:
        raise UserError("the ray executor needs Ray: pip install 'seqbench[ray]'") from exc
    if not ray.is_initialized():
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(num_cpus=workers * threads, log_to_driver=False, include_dashboard=False)
    remote = ray.remote(num_cpus=threads, num_gpus=gpus_per_run)(run_one)
    where = str(Path(results).resolve())
    pending: dict = {}
    try:
        _drive(work, pending, lambda job: remote.remote(job.cfg.to_dict(), where, threads, memory_limit_mb, job.search,
                                                        job.lr_selection),
               lambda refs: ray.wait(refs, num_returns=1)[0], ray.get)
    except BaseException:
        for ref in pending:
            ray.cancel(ref, force=True)
        raise


@EXECUTORS.register("inline")
def run_inline(work: WorkQueue, results: Path, workers: int, threads: int, memory_limit_mb: int | None = None) -> None:
    """One run at a time in this process (tests, debugging): no workers, and neither the thread
    count nor the memory cap is applied, since they would stay on the calling process."""
    _drive(work, {}, lambda job: job, lambda jobs: jobs[:1],
           lambda job: run_one(job.cfg.to_dict(), str(results), search=job.search, lr_selection=job.lr_selection),
           limit=1)


def default_workers_threads(suite_workers: int | None, suite_threads: int | None) -> tuple[int, int]:
    """One single-thread worker per core: small recurrent models gain little from intra-op
    threads, and two 1-thread workers outrun one 2-thread worker on 2 cores (see README)."""
    cores = os.cpu_count() or 1
    threads = suite_threads or 1
    workers = suite_workers or max(1, cores // threads)
    return workers, threads


def write_manifest(results: Path, suite: Suite, suite_path: Path, runs: list[RunConfig],
                   chains: list[ChainState], added: tuple[str, ...] | None = None, complete: bool = False) -> None:
    """results/suites/<name>.json: the suite, its run ids (probes known so far included) and, per
    length-search chain, its probes and the longest length solved (`searches`, see README "Sweeps").
    `added`: the models of a `--models` sweep, whose entries join those of the suite's other models.
    `complete`: the sweep ended with nothing left to run (the report marks an incomplete suite); a
    `--models` sweep keeps the suite's value."""
    run_ids = {cfg.run_id for cfg in runs} | {p["run_id"] for state in chains for p in state.probes}
    searches = [state.summary() for state in chains]
    state: dict = {"complete": complete}
    if added is not None:
        before = suite_manifest(results, suite.name) or {}
        run_ids |= set(before.get("run_ids", []))
        searches = [s for s in before.get("searches", []) if s.get("model") not in added] + searches
        state = {"complete": before["complete"]} if "complete" in before else {}  # the suite's own sweep says
    data = {"name": suite.name, "version": suite.version, "description": suite.description,
            "path": str(suite_path), "run_ids": sorted(run_ids), **state}
    if searches:
        # By chain, not by the order chains were released in: a resumed sweep that finds everything
        # done writes the same file as the sweep that finished it.
        data["searches"] = sorted(searches, key=lambda s: s["chain"])
    write_json_atomic(suite_record_path(results, suite.name), data)


def refuse_other_protocol(results: Path, suite: Suite, added: tuple[str, ...], runs: list[RunConfig],
                          chains: list[Chain], records: list[dict]) -> None:
    """A `--models` sweep ranks its models among the suite's other models in `results`: refuse, in
    one line, when those were made under another protocol."""
    from .tasks import get_task

    manifest = suite_manifest(results, suite.name)
    if manifest is None:
        return  # none of this suite's runs here: nothing to be ranked against, nothing to mix
    ids = set(manifest.get("run_ids", []))
    existing = [r for r in records if r["run_id"] in ids and r["config"]["model"]["name"] not in added]
    planned = runs + [chain.config(chain.search.start) for chain in chains]

    def data_of(task: str, length: int) -> dict:
        get_task(task).prepare()
        return get_task(task).source.describe(length)

    diffs = protocol_differences(manifest, suite.version, existing, planned, data_of)
    if diffs:
        raise UserError(f"{results} holds suite {suite.name} runs of another protocol, so {', '.join(added)} "
                        f"would not be ranked with them: {'; '.join(diffs)}. Sweep into another --results "
                        "directory, or use the seqbench and suite that made them")


def _estimate_deferred(deferred: list[DeferredState], chains: list[ChainState], results: Path, workers: int,
                       console) -> dict:
    """Dry run: the deferred seeds' work, at the chosen lr where the tuning runs on disk choose it, else
    at the grid's first lr: one lr per group, as the sweep will run it."""
    from .estimate import estimate_searches, estimate_seconds

    by_key = {state.chain.key: state for state in chains}
    runs, searched, known = [], [], 0
    for group in deferred:
        selection = group.choose(results, by_key)
        known += selection is not None
        lr = selection["chosen"] if selection else next(iter(group.group.tuning))
        for item in group.group.release(lr):
            if isinstance(item, Chain):
                state = ChainState(item)
                state.next_probe(results)
                searched.append((item, state.solved))
            elif file_status(results, item.run_id) is None:
                runs.append(item)
    console.print(f"lr tuning: {len(deferred)} deferred group(s) wait for their tuning seed's choice "
                  f"({known} known from the runs on disk); estimated at one lr per group:")
    out: dict = {"deferred_runs": len(runs), "deferred_chains": len(searched)}
    estimate = estimate_seconds(runs, results)
    console.print(f"  {len(runs)} deferred run(s): " + estimate.summary(workers))
    out["estimate_deferred_s"] = estimate.total_s
    if searched:
        searches = estimate_searches(searched, results)
        console.print("  deferred " + searches.summary(workers))
        out["estimate_deferred_search_s"] = (searches.low_s, searches.high_s)
    return out


def sweep(suite_path: Path, results: Path, workers: int | None = None, threads: int | None = None,
          executor: str = "local", address: str | None = None, dry_run: bool = False,
          retry_failed: bool = False, quiet: bool = False, models: list[str] | None = None) -> dict:
    """`models`: sweep only these (the suite's or any registered model), beside the suite's runs of
    its other models already in `results`, which must share their protocol (see resume.py)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
    from rich.console import Console

    console = Console(stderr=False, quiet=quiet)
    suite = load_suite(find_suite(suite_path))
    added = tuple(dict.fromkeys(models)) if models else None
    if added:
        suite = dataclasses.replace(suite, models=added)
    found = plan(suite)
    runs, notes = found.runs, found.notes
    workers, threads = default_workers_threads(workers or suite.workers, threads or suite.threads)
    run_executor = EXECUTORS.get(executor)
    for note in notes:
        console.print(f"[yellow]{note}")
    done_ids = finished_ids(results)
    if retry_failed:
        for run_id in list(done_ids):
            try:
                if read_run(run_path(results, run_id))["status"] in (ERROR, OOM, "failed"):
                    done_ids.discard(run_id)
                    run_path(results, run_id).unlink()
            except CorruptRun:
                pass
    todo = [cfg for cfg in runs if cfg.run_id not in done_ids]
    skipped = len(runs) - len(todo)
    chains = [ChainState(chain) for chain in found.chains]
    records = load_runs(results)[0] if done_ids and (todo or chains or added) else []
    if added:
        refuse_other_protocol(results, suite, added, runs, found.chains, records)
    redo = other_versions(records, todo, found.chains)
    if redo:
        console.print(f"[yellow]{describe_versions(redo)} in {results} hold configs of this suite made by another "
                      f"protocol version; they run again under trainer v{TRAINER_VERSION} and today's task versions "
                      f"(the old files stay, reported as a protocol of their own)")
    next_probes = [state.next_probe(results) for state in chains]  # reads the outcomes already on disk
    console.print(f"suite {suite.name} v{suite.version}: {len(runs)} runs, {skipped} already finished (skipped), "
                  f"{len(todo)} to run on {workers} worker(s) x {threads} thread(s), executor {executor}"
                  + (f"; models {', '.join(added)} only" if added else ""))
    if chains:
        console.print(f"length searches: {len(chains)} chain(s), {sum(len(c.probes) for c in chains)} probe(s) "
                      f"already on disk, {sum(c.open for c in chains)} chain(s) to continue")
    deferred = [DeferredState(group) for group in found.deferred]
    summary: dict = {"runs": len(runs), "skipped": skipped, "todo": len(todo), "chains": len(chains),
                     "other_versions": len(redo), "deferred": len(deferred)}
    if dry_run:
        from .estimate import estimate_searches, estimate_seconds
        estimate = estimate_seconds(todo, results)
        console.print(estimate.summary(workers))
        summary["estimate_s"] = estimate.total_s
        if chains:
            searches = estimate_searches([(state.chain, state.solved) for state in chains], results)
            console.print(searches.summary(workers))
            summary["estimate_search_s"] = (searches.low_s, searches.high_s)
        if deferred:
            summary.update(_estimate_deferred(deferred, chains, results, workers, console))
        return summary
    check_writable(results)
    clear_stale_locks(results)
    from .estimate import longest_first
    todo = longest_first(todo, results)
    from .tasks import get_task
    # Missing data fails here, before any worker starts; work already on disk needs none.
    by_key = {state.chain.key: state for state in chains}
    for name in sorted({cfg.task for cfg in todo} | {cfg.task for cfg in next_probes if cfg is not None}
                       | {group.group.task for group in deferred if group.pending(results, by_key)}):
        get_task(name).prepare()
    if deferred:
        console.print(f"lr tuning: {len(deferred)} group(s) run their lr grid on the tuning seed first; their "
                      f"other seeds run at the lr chosen on validation when it is known")
    write_manifest(results, suite, suite_path, runs, chains, added)
    # VERSION (what this leaderboard is, for `seqbench cite`) names the code that last ran one of its
    # runs: written here when it does not name this suite version yet, and after any sweep that ran
    # something; a sweep that finds everything done leaves it as it is. A newcomer's sweep
    # (`--models`) ranks against the leaderboard as it is: its VERSION stays.
    if not added and ((read_version(results) or {}).get("suites") or {}).get(suite.name) != suite.version:
        write_version(results, suite.name, suite.version)
    snapshot_references(results)  # the literature the report compares with
    counts: dict[str, int] = {}
    probes_run = 0
    columns = [TextColumn("[bold]sweep"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[open]}"),
               TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn()]
    with Progress(*columns, console=console, disable=quiet) as bar:
        job_bar = bar.add_task("runs", total=len(todo), open="")

        def on_done(job: Job, summary: dict) -> None:
            nonlocal probes_run
            cfg, status = job.cfg, summary["status"]
            counts[status] = counts.get(status, 0) + 1
            if summary.get("value") is not None:
                detail = f"{summary['metric']} {summary['value']:.4f}"
            else:
                detail = summary.get("error") or ""
            seconds = f" in {summary['seconds']:.0f}s" if "seconds" in summary else ""
            line = f"{status:>8} {_label(cfg)} {detail}{seconds}"
            if job.lr_selection is not None:
                line += f"  (lr chosen on seed {job.lr_selection['seed']})"
            if job.chain is not None:
                probes_run += 1
                state = job.chain
                line += f"  (search {state.chain.key}, probe {len(state.probes)})"
            if job.chain is not None or len(work.released) != released_known[0]:
                released_known[0] = len(work.released)
                write_manifest(results, suite, suite_path, runs + work.released, chains, added)
            bar.console.print(line, markup=False)
            if job.chain is not None and not job.chain.open:
                result = state.chain.search.result(state.solved)
                bar.console.print(f"  search {state.chain.label()}: longest solved {result.label(state.chain.search.start)}"
                                  + (f" ({state.stalled})" if state.stalled else ""))
            # Chains add probes as they go: the total is what is known so far, and says how many chains are open.
            opened = work.open_chains
            bar.update(job_bar, total=work.known, advance=1,
                       open=f"+ {opened} open search(es)" if opened else "")

        released_known = [0]  # released fixed runs already in the manifest
        work = WorkQueue(todo, chains, results, on_done, deferred)
        if work.released:  # groups whose tuning had finished before this sweep
            released_known[0] = len(work.released)
            write_manifest(results, suite, suite_path, runs + work.released, chains, added)
        if work.open_chains:
            bar.update(job_bar, total=work.known, open=f"+ {work.open_chains} open search(es)")
        # Ray reserves GPUs per run: one whole GPU per run unless the suite runs on the CPU.
        extra = {"address": address, "gpus_per_run": 1.0 if suite.device.startswith("cuda") else 0.0} if executor == "ray" else {}
        extra["memory_limit_mb"] = suite.memory_limit_mb
        try:
            run_executor(work, results, workers, threads, **extra)
        except KeyboardInterrupt:
            console.print(f"[red]interrupted[/]: finished runs are saved; run the same command again to resume "
                          f"({sum(counts.values())} of {work.known} done this time)")
            raise
        finally:
            if counts and not added:
                write_version(results, suite.name, suite.version)
    console.print(f"sweep done: {counts}")
    # Everything runnable ran: the suite is complete unless a group still waits for tuning runs that
    # another sweep holds.
    write_manifest(results, suite, suite_path, runs + work.released, chains, added,
                   complete=not (deferred and work.waiting) and not work.open_chains)
    if deferred:
        waiting = work.waiting
        console.print(f"lr tuning: {len(deferred) - waiting} of {len(deferred)} group(s) released at their chosen lr"
                      + (f"; {waiting} wait for tuning runs another sweep holds: run again to continue" if waiting else ""))
        summary.update(released=len(deferred) - waiting, released_runs=len(work.released),
                       choices=[{"group": d.group.label(), **d.selection} for d in deferred if d.selection])
    for state in chains:
        if state.probes or state.stalled:
            console.print(f"  search {state.chain.label()}: longest solved "
                          f"{state.chain.search.result(state.solved).label(state.chain.search.start)}"
                          + (f" ({state.stalled})" if state.stalled else ""))
    summary.update(counts=counts, probes=probes_run, searches=[state.summary() for state in chains])
    return summary
