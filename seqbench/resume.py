"""What a sweep finds already in its results directory, beyond run files of its own configs.

- Runs of another protocol version: the same config (`RunConfig.identity`) made by another version
  of its task or of the trainer. Their run ids differ, so the sweep runs these configs again; it
  says how many, and the old files stay (the report ranks them as a protocol of their own).
- Runs made under another protocol: `seqbench sweep SUITE --models mymodel` adds a model to a
  results directory that holds the suite's other models, to rank it among them. That only means
  something when both were made under one protocol, so a difference (suite version, seqbench
  version, parameter target, protocol versions, data) is refused with one line saying what differs.
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Iterable, Protocol

from . import __version__
from .config import RunConfig
from .errors import UserError
from .store import suite_record_path

DATA_FIELDS = ("source", "data", "data_hash")  # task-block fields that name the data (as report/frame.py)


class Probed(Protocol):
    """A length search (suite.Chain): one config, probed at lengths chosen as it goes."""
    task: str
    model: str
    seed: int

    def config(self, length: int) -> RunConfig: ...


def _config(record: dict) -> RunConfig | None:
    try:
        return RunConfig.from_dict(record["config"])
    except (UserError, KeyError, TypeError):
        return None  # a file from another schema: not ours to compare


def other_versions(records: Iterable[dict], runs: list[RunConfig], chains: Iterable[Probed]) -> list[dict]:
    """The records whose config is one of the planned ones (a fixed run, or a probe of a planned
    search at the record's length) made by another protocol version."""
    planned = {cfg.run_id for cfg in runs}
    by_identity = {cfg.identity: cfg for cfg in runs}
    searches: dict[tuple, list[Probed]] = {}
    for chain in chains:
        searches.setdefault((chain.task, chain.model, chain.seed), []).append(chain)
    found = []
    for record in records:
        cfg = None if record.get("run_id") in planned else _config(record)
        if cfg is None:
            continue
        same = cfg.identity in by_identity
        for chain in searches.get((cfg.task, cfg.model.name, cfg.seed), []) if not same else ():
            try:
                probe = chain.config(cfg.length)
            except UserError:  # a length the task no longer allows
                continue
            same = probe.identity == cfg.identity and probe.run_id != cfg.run_id
            if same:
                break
        if same:
            found.append(record)
    return found


def describe_versions(records: list[dict]) -> str:
    """'4 run files (task copy v1 and trainer v1: 3; task adding v1 and trainer v1: 1)'."""
    counts = Counter(f"task {r['config']['task']} v{r['config'].get('task_version', 1)} and trainer "
                     f"v{r['config'].get('trainer_version', 1)}" for r in records)
    return f"{len(records)} run file(s) (" + "; ".join(f"{k}: {n}" for k, n in sorted(counts.items())) + ")"


def suite_manifest(results: Path, name: str) -> dict | None:
    path = suite_record_path(results, name)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise UserError(f"{path}: not a readable suite manifest ({exc}); remove it or use another --results") from exc


def protocol_differences(manifest: dict, suite_version: int, existing: list[dict], planned: list[RunConfig],
                         data_of) -> list[str]:
    """What differs between the planned runs and the suite's runs already in the results directory,
    one phrase per difference ('parameter target 50,000 here, 100,000 in the runs (copy)').
    `data_of(task, length)` gives the data fields the planned runs would record."""
    diffs = []
    if manifest.get("version") != suite_version:
        diffs.append(f"suite version {suite_version} here, {manifest.get('version')} in the runs")
    made_by = sorted({str(r.get("provenance", {}).get("seqbench")) for r in existing} - {__version__})
    if made_by:
        diffs.append(f"seqbench {__version__} here, {', '.join(made_by)} in the runs")
    ours = {cfg.task: cfg for cfg in planned}
    seen = set()
    for record in existing:
        cfg = _config(record)
        if cfg is None or cfg.task not in ours:
            continue
        mine = ours[cfg.task]
        checks = [("parameter target", f"{mine.model.params:,}", f"{cfg.model.params:,}"),
                  ("task version", mine.task_version, cfg.task_version),
                  ("trainer version", mine.trainer_version, cfg.trainer_version)]
        task_block = record.get("task", {})
        if any(k in task_block for k in DATA_FIELDS):
            data = data_of(cfg.task, cfg.length)
            checks += [(f"data {k}", data[k], task_block[k]) for k in DATA_FIELDS if k in task_block and k in data]
        for what, here, there in checks:
            if here != there and (what, cfg.task) not in seen:
                seen.add((what, cfg.task))
                diffs.append(f"{what} {here} here, {there} in the runs ({cfg.task})")
    return diffs
