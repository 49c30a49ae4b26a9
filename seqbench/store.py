"""The run store: one JSON file per run (a `record.RunRecord`), named by the config hash, written atomically.

Each file carries `payload_sha256`, a hash of its own content without that field, so a
truncated or edited file is detected (and skipped, by name) rather than trusted.
"""
from __future__ import annotations

import hashlib
import json
import math
import tempfile
from pathlib import Path
from typing import Any, Callable


from .atomic import write_text_atomic
from .errors import UserError
from .record import SCHEMA_VERSION, RecordError, RunRecord


def _clean(value: Any) -> Any:
    """JSON has no NaN: write None instead, so files stay strictly valid JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def payload_hash(record: dict) -> str:
    body = {k: v for k, v in record.items() if k != "payload_sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def run_path(results: Path, run_id: str) -> Path:
    return Path(results) / "runs" / f"{run_id}.json"


def suite_record_path(results: Path, name: str) -> Path:
    """results/suites/<name>.json: a suite's record (its version and run ids; see sweep.write_manifest)."""
    return Path(results) / "suites" / f"{name}.json"


def suite_record_paths(results: Path) -> list[Path]:
    return sorted((Path(results) / "suites").glob("*.json"))


def suite_records(results: Path) -> list[dict]:
    """The readable suite records (`suites/<name>.json`) under a results directory, by file name."""
    records = []
    for path in suite_record_paths(results):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(data, dict):
            records.append(data)
    return records


def suite_label(name, version) -> str:
    """A suite as people name it: 'standard v1'."""
    return f"{name} v{version}"


def unfinished_suites(results: Path) -> list[str]:
    """'name vN' of each suite whose sweep has not ended with nothing left to run (its record says
    `complete: false`; records from before that key say nothing and are not flagged)."""
    return [suite_label(data.get("name"), data.get("version")) for data in suite_records(results)
            if data.get("complete") is False]


def to_json(data: Any) -> str:
    """The text of every file the store writes."""
    return json.dumps(data, indent=1, sort_keys=True)


def write_json_atomic(path: Path, data: Any) -> None:
    """Write `data` as JSON, whole or not at all (see `atomic.write_atomic`)."""
    write_text_atomic(path, to_json(data))


def run_file(run: RunRecord) -> dict:
    """What a run file holds: the record, NaN as null, with the schema version and its content hash."""
    data = _clean(run.to_dict())
    data["schema_version"] = SCHEMA_VERSION
    data["payload_sha256"] = payload_hash(data)
    return data


def write_run(results: Path, run: RunRecord) -> Path:
    path = run_path(results, run.run_id)
    write_json_atomic(path, run_file(run))
    return path


class CorruptRun(ValueError):
    pass


def read_run(path: Path) -> RunRecord:
    """A run file as a RunRecord; CorruptRun (naming the file) when it is not readable, not a run
    file of this schema, edited or truncated (its content hash), or lacks a field."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorruptRun(f"{path.name}: not readable JSON ({exc})") from exc
    if not isinstance(data, dict) or data.get("schema_version") != SCHEMA_VERSION:
        raise CorruptRun(f"{path.name}: not a seqbench run file (schema {SCHEMA_VERSION})")
    if data.get("payload_sha256") != payload_hash(data):
        raise CorruptRun(f"{path.name}: content hash mismatch (edited or truncated)")
    try:
        return RunRecord.from_dict(data)
    except RecordError as exc:
        raise CorruptRun(f"{path.name}: {exc}") from exc


def finished_ids(results: Path) -> set[str]:
    """Run ids with a run file present (the sweep skips these)."""
    directory = Path(results) / "runs"
    return {p.stem for p in directory.glob("*.json")} if directory.is_dir() else set()


def load_runs(results: Path) -> tuple[list[RunRecord], list[str]]:
    """All valid run records, and one message per skipped file."""
    records, skipped = [], []
    for path in sorted((Path(results) / "runs").glob("*.json")):
        try:
            records.append(read_run(path))
        except CorruptRun as exc:
            skipped.append(str(exc))
    return records, skipped


def rewrite_runs(results: Path, change: Callable[[RunRecord], RunRecord | None]) -> tuple[int, list[str]]:
    """Rewrite each run file for which `change` returns a new record (None: leave it), atomically and with
    its content hash recomputed. (files rewritten, one message per file that could not be read). For
    one-off upgrades of old files (tools/)."""
    records, problems = load_runs(results)
    rewritten = 0
    for record in records:
        changed = change(record)
        if changed is not None:
            write_run(results, changed)
            rewritten += 1
    return rewritten, problems


def flatten(run: RunRecord) -> dict:
    """One run as a table row: its identity, costs, metrics and chance baseline."""
    cfg = run.config
    row = {
        "run_id": run.run_id, "status": run.status, "task": cfg.task,
        "model": cfg.model.name, "length": cfg.length, "seed": cfg.seed,
        "lr": cfg.train.lr, "params": run.params.params, "steps": run.steps,
        "train_time_s": run.timing.train_time_s,
        "median_step_ms": run.timing.median_step_ms,
        "eval_tokens_per_s": run.timing.eval_tokens_per_s,
        "device": run.provenance.device, "git_commit": run.provenance.git_commit,
    }
    row.update(run.metrics)
    row.update({f"baseline/{k}": v for k, v in (run.baseline or {}).items()})
    return row


def check_writable(results: Path) -> None:
    """Fail before any training if run files could not be written."""
    directory = Path(results) / "runs"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".probe."):
            pass
    except OSError as exc:
        raise UserError(f"results directory {results} is not writable ({exc.strerror or exc}); pass --results DIR") from exc


# A run in flight has a lock (sweep/locks.py) and, after its first validation, its saved training
# state (resume.py); neither is left over from a replaced run.
IN_FLIGHT = (".lock", ".resume.pt")


def orphans(results: Path) -> list[Path]:
    """Files in `runs/` that belong to no run file: a run's companions (`<run_id>.predictions.tsv`)
    share its id, so one whose `<run_id>.json` is gone is left over from a replaced run."""
    directory = Path(results) / "runs"
    if not directory.is_dir():
        return []
    ids = finished_ids(results)
    return sorted(p for p in directory.iterdir()
                  if p.is_file() and not p.name.startswith(".") and not p.name.endswith(IN_FLIGHT)
                  and p.name.split(".")[0] not in ids)
