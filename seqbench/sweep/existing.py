"""What a sweep finds already in its results directory, beyond run files of its own configs.

- Runs of another protocol version: the same config (`protocol.config_identity`) made by another
  version of its task or of the trainer. Their run ids differ, so the sweep runs these configs
  again; it says how many, and the old files stay (the report ranks them as a protocol of their own).
- Runs made under another protocol: `seqbench sweep SUITE --models mymodel` adds a model to a
  results directory that holds the suite's other models, to rank it among them. The report ranks
  runs together only when they share a protocol (protocol.py), so a planned run whose protocol no
  run of its task there shares is refused, with one line saying what differs. The suite's version
  and the seqbench that made the runs must match too: they stand for what a run file does not
  record (the seeds and lr grid of the suite, the code of the data sources).
"""
from __future__ import annotations

import functools
from collections import Counter
from pathlib import Path
from typing import Callable, Iterable

from .. import __version__
from ..config import RunConfig
from ..errors import UserError
from ..protocol import Protocol, config_identity, protocol_differences, versions
from ..record import RunRecord
from ..suite import Chain, Suite
from .manifest import suite_manifest


def other_versions(records: Iterable[RunRecord], runs: list[RunConfig], chains: Iterable[Chain]) -> list[RunRecord]:
    """The records whose config is one of the planned ones (a fixed run, or a probe of a planned
    search at the record's value of its parameter) made by another protocol version."""
    planned = {cfg.run_id for cfg in runs}
    identities = {config_identity(cfg) for cfg in runs}
    searches: dict[tuple, list[Chain]] = {}
    for chain in chains:
        searches.setdefault((chain.task, chain.model, chain.seed), []).append(chain)
    found = []
    for record in records:
        if record.run_id in planned:
            continue
        cfg = record.config
        identity = config_identity(cfg)
        same = identity in identities
        for chain in searches.get((cfg.task, cfg.model.name, cfg.seed), []) if not same else ():
            value = chain.value_of(cfg)
            if value is None or (chain.length is not None and chain.length != cfg.length):
                continue
            try:
                probe = chain.config(value)
            except UserError:  # a value the task no longer allows
                continue
            same = config_identity(probe) == identity and probe.run_id != cfg.run_id
            if same:
                break
        if same:
            found.append(record)
    return found


def describe_versions(records: list[RunRecord]) -> str:
    """'4 run file(s) (task copy v1 and trainer v1: 3; task adding v1 and trainer v1: 1)'."""
    counts = Counter(versions(r.config_dict()) for r in records)
    return f"{len(records)} run file(s) (" + "; ".join(f"{k}: {n}" for k, n in sorted(counts.items())) + ")"


def differences(manifest: dict, suite_version: int, existing: list[RunRecord], planned: list[Protocol]) -> list[str]:
    """Why the planned runs would not be ranked with the suite's runs already there, one phrase per
    difference ('parameter target 8,000 here, 5,000 in the runs (adding)'); [] when each planned
    protocol is that of some run of its task there (tasks with no run there are new, not mixed)."""
    diffs = []
    if manifest.get("version") != suite_version:
        diffs.append(f"suite version {suite_version} here, {manifest.get('version')} in the runs")
    made_by = sorted({str(r.provenance.seqbench) for r in existing} - {__version__})
    if made_by:
        diffs.append(f"seqbench {__version__} here, {', '.join(made_by)} in the runs")
    there: dict[str, dict[str, Protocol]] = {}
    for record in existing:
        protocol = Protocol.of_record(record)
        there.setdefault(protocol.task, {})[protocol.key] = protocol
    for mine in {p.key: p for p in planned}.values():
        theirs = there.get(mine.task, {})
        if not theirs or mine.key in theirs:
            continue
        # Against the nearest of the task's protocols there: its differences are the ones to fix.
        nearest = min(theirs.values(), key=lambda p: len(protocol_differences(mine, p)))
        for what, here, them in protocol_differences(mine, nearest):
            phrase = f"{what} {here} here, {them} in the runs ({mine.task})"
            if phrase not in diffs:
                diffs.append(phrase)
    return diffs


def refuse_other_protocol(results: Path, suite: Suite, added: tuple[str, ...], runs: list[RunConfig],
                          chains: list[Chain], records: list[RunRecord],
                          data_of: Callable[[str, int], dict] | None = None) -> None:
    """A `--models` sweep ranks its models among the suite's other models in `results`: refuse, in
    one line, when those were made under another protocol. `data_of(task, length)`: the task block
    facts a planned run would record (default: its data source's `describe`)."""
    manifest = suite_manifest(results, suite.name)
    if manifest is None:
        return  # none of this suite's runs here: nothing to be ranked against, nothing to mix
    ids = set(manifest.get("run_ids", []))
    existing = [r for r in records if r.run_id in ids and r.config.model.name not in added]
    tasks = {r.config.task for r in existing}
    configs = [cfg for cfg in runs + [chain.config(chain.search.start) for chain in chains] if cfg.task in tasks]
    data_of = functools.cache(data_of or _described)
    planned = [Protocol.of(cfg.to_dict(), data_of(cfg.task, cfg.length)) for cfg in configs]
    diffs = differences(manifest, suite.version, existing, planned)
    if diffs:
        raise UserError(f"{results} holds suite {suite.name} runs of another protocol, so {', '.join(added)} "
                        f"would not be ranked with them: {'; '.join(diffs)}. Sweep into another --results "
                        "directory, or use the seqbench and suite that made them")


def _described(task_name: str, length: int) -> dict:
    from ..tasks import get_task
    task = get_task(task_name)
    task.prepare()
    return task.source.describe(length)
