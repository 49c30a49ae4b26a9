"""What a results directory can decide, and what each part of its report needs: one rule for every part.

A finding, a section, a literature row or the floors declares the data it reads (`Needs`); the report
renders it only where the results hold that data (`Scope.meets`), so a results directory of one suite
shows that suite's measurements, not rows of "not measured" about suites it never ran:

    scope = scope_of(decisions.frame, results)  # Scope(tasks={'duplicate_string'}, suites={'generalisation'}, probes=set())
    scope.meets(Needs(tasks=("adding",)))        # False: no adding run here
    scope.meets(Needs(probe="speed"))            # False: no measure/speed-<device>.json

A part that applies but has no decisive runs yet still renders, and says "not measured".
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..store import suite_records

SPEED = "speed"  # the speed probe's file, measure/speed-<device>.json (`seqbench speed`)
PROBES = {SPEED: "measure/speed-*.json"}  # probe -> its files under the results directory


@dataclass(frozen=True)
class Needs:
    """What a part of the report reads: it applies where the results hold a run of one of `tasks`, the
    record of `suite` (suites/<suite>.json), or `probe`'s file. `by`: what would make it apply, for the
    one line a report gives the parts it leaves out, e.g. "the `standard` suite"."""
    tasks: tuple[str, ...] = ()
    suite: str | None = None
    probe: str | None = None
    by: str = ""


@dataclass(frozen=True)
class Scope:
    """The tasks a results directory's runs and suite records hold, its suites' names and its probes."""
    tasks: frozenset[str] = frozenset()
    suites: frozenset[str] = frozenset()
    probes: frozenset[str] = frozenset()

    def meets(self, needs: Needs | None) -> bool:
        """Whether a part applies here; a part that declares nothing applies everywhere."""
        if needs is None:
            return True
        return bool(self.tasks.intersection(needs.tasks)) or needs.suite in self.suites or needs.probe in self.probes


def record_tasks(record: dict) -> set[str]:
    """The tasks a suite record names: its `tasks` and its searches' (a search lists its chain's task
    before any of its run files lands)."""
    named = set(record.get("tasks") or [])
    return named | {s["task"] for s in record.get("searches") or [] if isinstance(s, dict) and s.get("task")}


def scope_of(frame: pd.DataFrame, results: Path) -> Scope:
    """The scope of a results directory: the tasks of its runs (`frame`, one row per run) and of its
    suite records, the suites they name, and the probes whose files it holds."""
    records = suite_records(results)
    tasks = set(frame["task"]) if not frame.empty else set()
    for record in records:
        tasks |= record_tasks(record)
    probes = {name for name, pattern in PROBES.items() if any(Path(results).glob(pattern))}
    return Scope(frozenset(tasks), frozenset(str(r.get("name")) for r in records if r.get("name")), frozenset(probes))


def left_out_text(left_out: list[tuple[str, Needs | None]], what: str) -> str:
    """One line naming the parts a results directory cannot decide, grouped by what would:
    'Not decided here (no runs of their tasks in this results directory): adding-gating, copy-gating
    (the `standard` suite); attention-parallel (`seqbench speed`).'"""
    groups: dict[str, list[str]] = {}
    for name, needs in left_out:
        groups.setdefault(needs.by if needs else "", []).append(name)
    parts = [", ".join(names) + (f" ({by})" if by else "") for by, names in groups.items()]
    return f"Not decided here ({what}): " + "; ".join(parts) + "."
