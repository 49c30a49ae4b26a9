"""The "Against the literature" section: our numbers beside published ones, and the standard suite's floors.

It reads `references.json` in the results directory (the sweep and `seqbench report` copy
tasks/references.yaml there), never tasks/. Our number for a reference: per model and length, the
default-recipe runs of the task's main protocol (the one its main table ranks) at the learning rate
chosen on validation, averaged over seeds with their spread (report/numbers.py). A reference given
as `baseline: <strategy>` is a formula the run files already carry as that strategy's score.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..record import RunRecord
from .decisions import Decisions
from .numbers import Spread, fmt, spread
from .scope import Needs, Scope
from .section import Section, Text
from .table import Cell, Table

REFERENCES_FILE = "references.json"  # leaderboard_version.REFERENCES_FILE, written beside the run files
OPS = {">=": lambda ours, floor: ours >= floor, "<=": lambda ours, floor: ours <= floor}
FLOORS = Needs(suite="standard", by="the `standard` suite")  # the floors are the standard suite's


def reference_needs(ref: dict) -> Needs:
    """A reference applies where the results hold a run of the task it compares with."""
    task = (ref.get("compare") or {}).get("task")
    return Needs(tasks=(task,) if task else ())


@dataclass(frozen=True)
class Ours:
    """Our number for one (model, length): the seeds' mean and spread, and the run ids behind it."""
    model: str
    length: int
    spread: Spread
    run_ids: tuple[str, ...]


def read_references(results: Path) -> dict | None:
    path = Path(results) / REFERENCES_FILE
    if not path.exists():
        return None
    return json.loads(path.read_text())


def main_runs(decisions: Decisions, task: str) -> pd.DataFrame:
    """The task's main-protocol, default-recipe finished runs at each (model, length)'s chosen learning rate."""
    selected = decisions.selected
    return selected[(selected["task"] == task) & (selected["protocol"] == decisions.main_protocol.get(task, ""))
                    & selected["main"]]


def ours(runs: pd.DataFrame, models: list[str], metric: str, higher: bool) -> list[Ours]:
    column = f"test/{metric}"
    if column not in runs:
        return []
    out = []
    for (model, length), group in runs[runs["model"].isin(models)].groupby(["model", "length"], sort=True):
        out.append(Ours(model, int(length), spread(group[column].tolist(), higher), tuple(group["run_id"])))
    return out


def direction(records_by_id: dict[str, RunRecord], run_ids, metric: str) -> bool:
    for run_id in run_ids:
        hib = records_by_id[run_id].task.higher_is_better or {}
        if metric in hib:
            return bool(hib[metric])
    return True


def pick_lengths(found: list[Ours], compare: dict) -> tuple[list[Ours], str]:
    """The lengths a reference speaks of: `length` (or the nearest we ran), every length from
    `min_length` on, or else each model's longest. Returns the picks and a note when they differ."""
    if "length" in compare:
        want, picks, note = int(compare["length"]), [], ""
        for model in dict.fromkeys(o.model for o in found):
            mine = [o for o in found if o.model == model]
            best = min(mine, key=lambda o: (abs(o.length - want), -o.length))
            picks.append(best)
            if best.length != want:
                note = f"we ran no L={want}: nearest length shown"
        return picks, note
    if "min_length" in compare:
        picks = [o for o in found if o.length >= int(compare["min_length"])]
        return picks, "" if picks else f"no runs at L ≥ {compare['min_length']}"
    longest = {o.model: o for o in sorted(found, key=lambda o: o.length)}
    return list(longest.values()), ""


def published(ref: dict, records_by_id: dict[str, RunRecord], o: Ours, metric: str) -> float | None:
    if ref.get("value") is not None:
        return float(ref["value"])
    strategy = ref.get("baseline")
    for run_id in o.run_ids:
        value = ((records_by_id[run_id].baselines or {}).get(strategy) or {}).get(metric)
        if value is not None:
            return float(value)
    return None


def citation(ref: dict) -> str:
    cite = ref.get("cite") or {}
    return f"{cite.get('title', '?')} ({cite.get('year', '?')}) [{cite.get('key', '?')}]"


def reference_table(refs: list[dict], decisions: Decisions, records_by_id: dict) -> Table:
    columns = ["reference", "published", "model", "L", "ours (mean [spread], seeds)", "ours − published",
               "differences in setting"]
    rows = []
    for ref in refs:
        compare = ref.get("compare") or {}
        task, metric = compare.get("task"), compare.get("metric")
        runs = main_runs(decisions, task) if task else decisions.frame.iloc[0:0]
        higher = direction(records_by_id, runs["run_id"], metric) if len(runs) else True
        found = ours(runs, list(compare.get("models") or []), metric, higher)
        picks, note = pick_lengths(found, compare)
        label = f"{ref.get('claim', ref.get('id'))} — {citation(ref)}" + ("" if ref.get("verified") else " (unverified)")
        words = " ".join(t for t in (ref.get("differences", ""), note) if t)
        if not picks:
            rows.append([Cell(label), Cell(_published_text(ref, None)), Cell("—"), Cell("—"),
                         Cell(note if found else f"no {task} runs of {', '.join(compare.get('models') or [])} in the main protocol"),
                         Cell("—"), Cell(words)])
            continue
        seeds = runs.groupby("model")["seed"].nunique() if len(runs) else {}
        for o in picks:
            value = published(ref, records_by_id, o, metric)
            gap = o.spread.mean - value if value is not None and o.spread.n else math.nan
            rows.append([Cell(label), Cell(_published_text(ref, value), value), Cell(o.model), Cell(str(o.length), o.length),
                         Cell(f"{o.spread.text()} ({_seeds_text(o.spread.n, seeds.get(o.model, 0))}) {metric}", o.spread.mean),
                         Cell(f"{gap:+.3g}" if not math.isnan(gap) else "—", gap), Cell(words)])
        # A model the reference names that has runs, but none at its lengths: its search stopped before them.
        for model in [m for m in compare.get("models") or [] if m in set(o.model for o in found) - {o.model for o in picks}]:
            rows.append([Cell(label), Cell(_published_text(ref, None)), Cell(model), Cell("—"),
                         Cell(_stopped_text(decisions, task, model)), Cell("—"), Cell(words)])
    return Table("", columns, rows, note="Ours: test split, mean over seeds; [min–max] under 3 seeds, else a 95% "
                 "t-interval. (unverified): the published number was not checked against the paper (references.yaml says why).")


def _seeds_text(n: int, of: int) -> str:
    """'n=3'; 'n=1 of 3 seeds' where a length search's other seeds stopped (at a first failure) below this length."""
    return f"n={n}" if n >= of else f"n={n} of {of} seeds: the others' searches stopped below this length"


def _stopped_text(decisions: Decisions, task: str, model: str) -> str:
    """Why a model has no run at a reference's lengths: its longest solved length (decisions.longest)."""
    longest = decisions.longest
    mine = longest[(longest["task"] == task) & (longest["protocol"] == decisions.main_protocol.get(task, ""))
                   & (longest["model"] == model) & (longest["variant"] == "")]
    if mine.empty:
        return "no run at these lengths"
    return f"no run at these lengths: longest solved L {mine['label'].iloc[0]}, so its search stopped below them"


def _published_text(ref: dict, value: float | None) -> str:
    strategy = f" ({ref['baseline']})" if ref.get("baseline") else ""
    return f"{fmt(value)}{strategy} {ref.get('metric', '')}".strip() if value is not None else f"—{strategy}"


def floors_table(floors: list[dict], decisions: Decisions, records_by_id: dict) -> Table:
    rows = []
    for floor in floors:
        task, metric, op, bound = floor["task"], floor["metric"], floor.get("op", ">="), float(floor["value"])
        runs = main_runs(decisions, task)
        higher = op == ">="
        found = ours(runs, sorted(set(runs["model"])) if floor.get("models") == "best" else list(floor.get("models") or []),
                     metric, higher) if len(runs) else []
        groups: dict[str, list[Ours]] = {}
        for o in found:
            groups.setdefault(o.model, []).append(o)
        if floor.get("models") == "best" and groups:
            key = (lambda m: -_headline(groups[m], floor, higher)) if higher else (lambda m: _headline(groups[m], floor, higher))
            best = min(groups, key=key)
            groups = {f"{best} (best)": groups[best]}
        wanted = f"{op} {fmt(bound)} {metric}" + (f" ({floor['note']})" if floor.get("note") else "")
        if not groups:
            models = floor.get("models")
            named = models if isinstance(models, str) else ", ".join(models or [])
            rows.append([Cell(task), Cell(named), Cell(wanted), Cell("—"), Cell("no runs")])
        for model, mine in groups.items():
            head = _headline_ours(mine, floor, higher)
            value = head.spread.mean if head else math.nan
            at = "" if len(mine) == 1 else f" (worst of {len(mine)} lengths)" if floor.get("every_length") else f" (L={mine[-1].length})"
            met = not math.isnan(value) and OPS[op](value, bound)
            verdict = "met" if met else ("no finished runs" if math.isnan(value) else _missed_text(head.spread, bound))
            rows.append([Cell(task), Cell(model), Cell(wanted), Cell(fmt(value) + at, value), Cell(verdict, bold=not met)])
    return Table("Floors of the standard suite", ["task", "model", "floor", "ours (test, mean over seeds)", "verdict"], rows,
                 note="A floor is about what from-scratch models of this size reach in the references above.")


def _headline_ours(mine: list[Ours], floor: dict, higher: bool) -> Ours | None:
    """Every length must pass (`every_length`): the worst length's; else the longest length's."""
    measured = [o for o in sorted(mine, key=lambda o: o.length) if o.spread.n]
    if not measured:
        return None
    if floor.get("every_length"):
        pick = min if higher else max
        return pick(measured, key=lambda o: o.spread.mean)
    return measured[-1]


def _headline(mine: list[Ours], floor: dict, higher: bool) -> float:
    head = _headline_ours(mine, floor, higher)
    return head.spread.mean if head else math.nan


def _missed_text(ours: Spread, bound: float) -> str:
    """How far the mean misses the floor and, where the seeds' interval reaches it, that the miss is
    within the seed-to-seed noise: the measured cause a reader needs before reading it as a failure."""
    text = f"missed by {abs(ours.mean - bound):.3g}"
    if ours.n > 1 and ours.low <= bound <= ours.high:
        what = "95% interval" if ours.kind == "t95" else "range"
        text += (f", within noise: the {ours.n} seeds' {what} [{fmt(ours.low)}–{fmt(ours.high)}] contains the floor")
    return text


def literature_section(decisions: Decisions, results: Path, scope: Scope | None = None) -> Section | None:
    """The references whose task the results hold, and the floors where they hold the standard suite
    (scope.py; all of them without a scope); None when none applies."""
    refs = read_references(results)
    if refs is None or decisions.frame.empty:
        return None
    mine = [ref for ref in refs.get("references") or [] if scope is None or scope.meets(reference_needs(ref))]
    floors = refs.get("floors") if scope is None or scope.meets(FLOORS) else None
    if not mine and not floors:
        return None
    records_by_id = {r.run_id: r for r in decisions.records}
    blocks = [Text("Published numbers for settings the suite can match (tasks/references.yaml, copied into this "
                   "results directory), beside ours from the main protocol's runs. The settings are never identical: "
                   "the last column says how they differ.")]
    if mine:
        blocks.append(reference_table(mine, decisions, records_by_id))
    if floors:
        blocks.append(floors_table(floors, decisions, records_by_id))
    return Section("Against the literature", blocks)
