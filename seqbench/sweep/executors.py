"""Executors: `local` (worker processes, each with its own torch thread count; they stop when their
sweep dies), `ray` (the same run function as Ray tasks, for clusters) and `inline` (one run at a
time in this process, for tests and debugging). All write the same run files."""
from __future__ import annotations

import os
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from multiprocessing import get_context
from pathlib import Path

from ..errors import UserError
from ..registry import Registry
from .queue import Job, WorkQueue, drive
from .worker import run_one

EXECUTORS: Registry = Registry("executor")


def _exit_when_orphaned(parent: int, every_s: float = 1.0, grace_s: float = 5.0) -> None:
    """A worker whose sweep has died (SIGKILL, a crash) stops too, instead of training on unseen."""
    import signal
    while os.getppid() == parent:
        time.sleep(every_s)
    os.kill(os.getpid(), signal.SIGTERM)  # unwinds a run in the main thread, releasing its lock
    time.sleep(grace_s)
    os._exit(143)  # the pool's loop then waits for its next task, on a queue nobody will fill


_started = False  # set once this worker's initializer has finished


def _on_sigterm(*_) -> None:
    """The parent stopping us. Once started, unwind wherever we are: a run (its lock is released, no
    file is partial) or the wait for the next one, inside the pool's queue, whose read lock the
    waiting worker holds; `os._exit` there would leave that lock held for ever, and the other worker
    would block on it and never exit. While still starting, nothing is held, so leave at once: a
    SystemExit raised in the pool's initializer prints a traceback on a clean stop."""
    if _started:
        sys.exit(143)
    os._exit(143)


def _worker_init(threads: int) -> None:
    import signal
    import threading

    import torch
    torch.set_num_threads(threads)
    # Ctrl-C is the parent's to handle; SIGTERM (the parent stopping us) is _on_sigterm's.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _on_sigterm)
    # The parent spawned us with SIGINT blocked (see run_local); now that it is ignored, a Ctrl-C
    # that arrived meanwhile is discarded.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    threading.Thread(target=_exit_when_orphaned, args=(os.getppid(),), daemon=True).start()
    global _started
    _started = True


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
        drive(work, {}, submit, wait_first, lambda future: future.result(), limit=workers)
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
        drive(work, pending, lambda job: remote.remote(job.cfg.to_dict(), where, threads, memory_limit_mb, job.search,
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
    drive(work, {}, lambda job: job, lambda jobs: jobs[:1],
           lambda job: run_one(job.cfg.to_dict(), str(results), search=job.search, lr_selection=job.lr_selection),
           limit=1)


def default_workers_threads(suite_workers: int | None, suite_threads: int | None) -> tuple[int, int]:
    """One single-thread worker per core: small recurrent models gain little from intra-op
    threads, and two 1-thread workers outrun one 2-thread worker on 2 cores (see README)."""
    cores = os.cpu_count() or 1
    threads = suite_threads or 1
    workers = suite_workers or max(1, cores // threads)
    return workers, threads
