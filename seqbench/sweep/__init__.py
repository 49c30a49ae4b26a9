"""`seqbench sweep SUITE`: expand a suite, skip finished runs, run the rest in parallel.

Work comes from a `WorkQueue` (queue.py): the suite's fixed-length runs, and one *chain* per length
search (suite.Chain), whose next probe becomes ready when its previous probe's result is known. Each
probe is an ordinary run, so a killed sweep resumes: a chain's outcomes so far are read from the run
files on disk, and the chain goes on from there.

With a suite's `tune: {seed: S}`, the other seeds wait in deferred groups (suite.Deferred) until
the group's tuning runs on seed S are finished; the group is then released at the lr chosen on
validation (selection.py), recomputed from the run files, so a resumed sweep makes the same choice.

    plan.py       the suite's work against what the results directory holds
    existing.py   what the results directory holds already: other protocol versions (run again), other protocols (refused)
    queue.py      chains, deferred groups, the queue of ready runs
    executors.py  local (worker processes), ray, inline; all write the same run files
    worker.py     one run in a worker: skipped when finished or locked, failures recorded
    locks.py      a run's lock file, so two sweeps on one directory never run a config twice
    manifest.py   the suite record, results/suites/<name>.json
    dry_run.py    --dry-run's time estimates
    display.py    what a sweep reports as it goes (printed by commands/sweep.py)
    run.py        sweep(): plan, prepare, run, record
    throughput.py `seqbench perf`'s sweep throughput: default workers x threads against one worker
"""
from .display import Display, Silent
from .executors import EXECUTORS, default_workers_threads, run_inline, run_local, run_ray, wait_first
from .locks import acquire_lock, clear_stale_locks, release_lock
from .manifest import write_manifest
from .queue import ChainState, DeferredState, Job, WorkQueue, file_status
from .run import sweep
from .worker import failed_record, limit_memory, run_one

__all__ = ["EXECUTORS", "ChainState", "DeferredState", "Display", "Job", "Silent", "WorkQueue", "acquire_lock",
           "clear_stale_locks", "default_workers_threads", "failed_record", "file_status", "limit_memory",
           "release_lock", "run_inline", "run_local", "run_one", "run_ray", "sweep", "wait_first", "write_manifest"]
