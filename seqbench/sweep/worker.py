"""One run, in a worker: skip it when finished or locked, record a failure (oom, error) as a run file."""
from __future__ import annotations

import time
import traceback
from pathlib import Path

from ..config import RunConfig
from ..errors import missing_extra
from ..record import LrSelection, Provenance, RunRecord, Search, TaskInfo
from ..status import ERROR, OOM
from ..store import run_path, write_run
from .locks import acquire_lock, release_lock


def failed_record(cfg: RunConfig, status: str, error: str, search: dict | None = None,
                  lr_selection: dict | None = None) -> RunRecord:
    """The run file of a run that ended in an exception: its config and the error, no numbers."""
    from ..provenance import provenance
    import torch
    return RunRecord(run_id=cfg.run_id, status=status, error=error, config=cfg, task=TaskInfo(name=cfg.task),
                     provenance=Provenance.from_dict(provenance(torch.device("cpu"))),
                     search=Search.optional(search),
                     lr_selection=LrSelection.optional(lr_selection))


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

    from ..runner import execute

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
            if missing_extra(exc, "sweep") is not None:
                raise  # an optional dependency is not installed: the sweep stops in one line, no run file
            message = "".join(traceback.format_exception_only(exc)).strip().splitlines()[0][:500]
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            record = failed_record(cfg, OOM if _is_oom(exc) else ERROR, message, search, lr_selection)
            write_run(results, record)
        return {"run_id": cfg.run_id, "status": record.status, "metric": record.task.metric, "value": record.test_score,
                "seconds": time.perf_counter() - start, "error": record.error}
    finally:
        release_lock(results, cfg.run_id)
