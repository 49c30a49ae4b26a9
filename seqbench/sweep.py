"""`seqbench sweep SUITE`: expand a suite, skip finished runs, run the rest in parallel.

Executors: `local` (worker processes, each with its own torch thread count) and `ray` (the same
run function as Ray tasks, for clusters). Both write the same run files. A run's lock file
(`runs/<id>.lock`, holding the owner's host and pid) keeps two sweeps on one results directory
from running the same config at the same time; a lock whose owner has died is taken over.
"""
from __future__ import annotations

import os
import socket
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from multiprocessing import get_context
from pathlib import Path

from .status import ERROR, OOM
from .config import RunConfig
from .errors import UserError
from .registry import Registry
from .store import check_writable, finished_ids, run_path, write_run
from .suite import expand, load_suite

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
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                holder = path.read_text()
            except FileNotFoundError:
                continue
            if holder and _owner_alive(holder):
                return False
            # Stale: rename it away atomically, so only one contender removes it.
            stale = path.with_suffix(f".stale.{os.getpid()}")
            try:
                os.rename(path, stale)
                stale.unlink()
            except FileNotFoundError:
                pass
            continue
        with os.fdopen(fd, "w") as f:
            f.write(me)
        return True
    return False


def release_lock(results: Path, run_id: str) -> None:
    _lock_path(results, run_id).unlink(missing_ok=True)


# ------------------------------------------------------------------ one run, in a worker

def failed_record(cfg: RunConfig, status: str, error: str) -> dict:
    from .provenance import provenance
    import torch
    return {"run_id": cfg.run_id, "status": status, "error": error, "config": cfg.to_dict(),
            "metrics": {}, "baseline": {}, "task": {"name": cfg.task}, "params": {"params": None},
            "steps": 0, "timing": {"train_time_s": None, "median_step_ms": None, "eval_tokens_per_s": None},
            "memory": {}, "provenance": provenance(torch.device("cpu"))}


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


def run_one(config: dict, results: str, threads: int | None = None, memory_limit_mb: int | None = None) -> dict:
    """Run one config unless it is finished or locked; returns a one-line summary dict."""
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
            record, _ = execute(cfg, results)
        except (KeyboardInterrupt, SystemExit):
            raise
        except (Exception, MemoryError) as exc:  # recorded as failed or oom; the sweep goes on
            message = "".join(traceback.format_exception_only(exc)).strip().splitlines()[0][:500]
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            record = failed_record(cfg, OOM if _is_oom(exc) else ERROR, message)
            write_run(results, record)
        metric = record.get("task", {}).get("metric")
        value = record["metrics"].get(f"test/{metric}") if metric else None
        return {"run_id": cfg.run_id, "status": record["status"], "metric": metric, "value": value,
                "seconds": time.perf_counter() - start, "error": record.get("error")}
    finally:
        release_lock(results, cfg.run_id)


def _label(cfg: RunConfig) -> str:
    return f"{cfg.task}/{cfg.model.name} L={cfg.length} lr={cfg.train.lr:g} seed={cfg.seed}"


# ------------------------------------------------------------------ executors

def _worker_init(threads: int) -> None:
    import signal
    import sys

    import torch
    torch.set_num_threads(threads)
    # Ctrl-C is the parent's to handle; SIGTERM (the parent stopping us) unwinds, releasing the lock.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


@EXECUTORS.register("local")
def run_local(runs: list[RunConfig], results: Path, workers: int, threads: int, on_done,
              memory_limit_mb: int | None = None) -> None:
    import signal

    ctx = get_context("spawn")  # a clean interpreter per worker: no inherited torch thread pools
    # Workers start with SIGINT ignored (an ignored signal survives exec), so a Ctrl-C that reaches
    # the whole process group never interrupts a worker mid-import; the parent stops them instead.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_worker_init,
                                   initargs=(threads,))
        pending = {pool.submit(run_one, cfg.to_dict(), str(results), threads, memory_limit_mb): cfg for cfg in runs}
    finally:
        signal.signal(signal.SIGINT, previous)
    try:
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                cfg = pending.pop(future)
                on_done(cfg, future.result())
    except BaseException:
        for process in list((pool._processes or {}).values()):
            process.terminate()  # SIGTERM: the worker unwinds, its lock is released, no file is partial
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


@EXECUTORS.register("ray")
def run_ray(runs: list[RunConfig], results: Path, workers: int, threads: int, on_done,
            memory_limit_mb: int | None = None, address: str | None = None, gpus_per_run: float = 0.0) -> None:
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
    pending = {remote.remote(cfg.to_dict(), str(Path(results).resolve()), threads, memory_limit_mb): cfg for cfg in runs}
    try:
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                on_done(pending.pop(ref), ray.get(ref))
    except BaseException:
        for ref in pending:
            ray.cancel(ref, force=True)
        raise


def default_workers_threads(suite_workers: int | None, suite_threads: int | None) -> tuple[int, int]:
    """One single-thread worker per core: small recurrent models gain little from intra-op
    threads, and two 1-thread workers outrun one 2-thread worker on 2 cores (see README)."""
    cores = os.cpu_count() or 1
    threads = suite_threads or 1
    workers = suite_workers or max(1, cores // threads)
    return workers, threads


def sweep(suite_path: Path, results: Path, workers: int | None = None, threads: int | None = None,
          executor: str = "local", address: str | None = None, dry_run: bool = False,
          retry_failed: bool = False, quiet: bool = False) -> dict:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    console = Console(stderr=False, quiet=quiet)
    suite = load_suite(suite_path)
    runs, notes = expand(suite)
    workers, threads = default_workers_threads(workers or suite.workers, threads or suite.threads)
    run_executor = EXECUTORS.get(executor)
    for note in notes:
        console.print(f"[yellow]{note}")
    done_ids = finished_ids(results)
    if retry_failed:
        from .store import read_run, CorruptRun
        for run_id in list(done_ids):
            try:
                if read_run(run_path(results, run_id))["status"] in (ERROR, OOM, "failed"):
                    done_ids.discard(run_id)
                    run_path(results, run_id).unlink()
            except CorruptRun:
                pass
    todo = [cfg for cfg in runs if cfg.run_id not in done_ids]
    skipped = len(runs) - len(todo)
    console.print(f"suite {suite.name} v{suite.version}: {len(runs)} runs, {skipped} already finished (skipped), "
                  f"{len(todo)} to run on {workers} worker(s) x {threads} thread(s), executor {executor}")
    if dry_run:
        from .estimate import estimate_seconds
        estimate = estimate_seconds(todo, results)
        console.print(estimate.summary(workers))
        return {"runs": len(runs), "skipped": skipped, "todo": len(todo), "estimate_s": estimate.total_s}
    check_writable(results)
    from .estimate import longest_first
    todo = longest_first(todo, results)
    from .tasks import get_task
    for name in sorted({cfg.task for cfg in todo}):  # missing data fails here, before any worker starts
        get_task(name).prepare()
    from .store import write_json_atomic
    write_json_atomic(Path(results) / "suites" / f"{suite.name}.json",
                      {"name": suite.name, "version": suite.version, "description": suite.description,
                       "path": str(suite_path), "run_ids": sorted(cfg.run_id for cfg in runs)})
    counts: dict[str, int] = {}
    columns = [TextColumn("[bold]sweep"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("eta"), TimeRemainingColumn()]
    with Progress(*columns, console=console, disable=quiet) as bar:
        job = bar.add_task("runs", total=len(todo))

        def on_done(cfg: RunConfig, summary: dict) -> None:
            status = summary["status"]
            counts[status] = counts.get(status, 0) + 1
            if summary.get("value") is not None:
                detail = f"{summary['metric']} {summary['value']:.4f}"
            else:
                detail = summary.get("error") or ""
            seconds = f" in {summary['seconds']:.0f}s" if "seconds" in summary else ""
            bar.console.print(f"{status:>8} {_label(cfg)} {detail}{seconds}")
            bar.advance(job)

        # Ray reserves GPUs per run: one whole GPU per run unless the suite runs on the CPU.
        extra = {"address": address, "gpus_per_run": 1.0 if suite.device.startswith("cuda") else 0.0} if executor == "ray" else {}
        extra["memory_limit_mb"] = suite.memory_limit_mb
        try:
            run_executor(todo, results, workers, threads, on_done, **extra)
        except KeyboardInterrupt:
            console.print(f"[red]interrupted[/]: finished runs are saved; run the same command again to resume "
                          f"({sum(counts.values())} of {len(todo)} done this time)")
            raise
    console.print(f"sweep done: {counts}")
    return {"runs": len(runs), "skipped": skipped, "todo": len(todo), "counts": counts}
