"""A run's lock file (`runs/<id>.lock`, holding the owner's host and pid): it keeps two sweeps on one
results directory from running the same config at the same time. A lock whose owner has died is
taken over, and every such lock is cleared when a sweep starts."""
from __future__ import annotations

import os
import socket
from pathlib import Path


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
