"""The report's decisions, made once per report from the run files and handed to every table, figure,
finding, the CSV, the literature section and tools/grid_edges.py:

    decisions = decide(records)
    decisions.frame          one row per run (frame.runs_frame); `chosen`: the run is of its group's chosen rate
    decisions.lr             per group, the learning rate chosen (LrChoice): the sweep's recorded
                             `lr_selection` where its run files have one, else selection.choose_lr
    decisions.summary        one row per group (frame.summarise), at the chosen rate
    decisions.main_protocol  task -> the protocol its main table ranks
    decisions.seeds          one SearchResult per (task, protocol, model, variant, seed): the longest solved length
    decisions.longest        per table row: the longest solved length over its seeds, with its label
    decisions.warnings       lines the report shows: a recorded lr choice the rule does not reproduce

A *group* is (task, protocol, model, variant, length) for fixed lengths, and a table row (task,
protocol, model, variant) for a length search, whose rate is chosen once for every length.

Where a suite tunes on one seed, the sweep chose each group's rate and wrote the choice into the
run files of the other seeds (`lr_selection.chosen`). The report reads that choice, and works it
out again with the same rule (selection.choose_lr) to check it: when the two differ, the recorded
choice stands (the other seeds ran only at that rate) and `warnings` says so. Run files without
`lr_selection` (a full grid, or the tuning seed itself) are chosen by the rule alone.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ..record import RunRecord
from ..search import LengthSearch, SearchResult
from ..selection import choose_lr, median as median_of
from ..status import FINISHED
from .frame import GROUP, ROW, main_rows, runs_frame, summarise


@dataclass(frozen=True)
class LrChoice:
    """One group's learning rate: what the report uses, what the run files record, what the rule gives."""
    key: tuple  # GROUP (fixed lengths) or ROW (a length search) values
    lr: float | None  # the rate the report shows: the recorded one where the files record one
    recorded: dict[float, tuple[int, ...]] = field(default_factory=dict)  # lr_selection.chosen -> the seeds recording it
    computed: float | None = None  # selection.choose_lr on the group's run files
    searched: bool = False

    @property
    def agrees(self) -> bool:
        return not self.recorded or (len(self.recorded) == 1 and _same(next(iter(self.recorded)), self.computed))

    def warning(self) -> str | None:
        """One line for the report when the recorded choice is not the rule's, else None."""
        if self.agrees:
            return None
        fields = dict(zip(ROW if self.searched else GROUP, self.key))
        where = f"{fields['task']}, {fields['model']}" + (f" ({fields['variant']})" if fields["variant"] else "")
        where += f", protocol {fields['protocol']}" + ("" if self.searched else f", L={int(fields['length'])}")
        recorded = ", ".join(f"{lr:g} (seed{'s' * (len(seeds) > 1)} {', '.join(map(str, seeds))})"
                             for lr, seeds in self.recorded.items())
        if len(self.recorded) > 1:
            return (f"{where}: the run files record {len(self.recorded)} lr choices (lr_selection.chosen): {recorded}; "
                    f"the rule (selection.choose_lr) gives {_text(self.computed)}, shown; the runs at the other "
                    "choices are not counted.")
        return (f"{where}: the run files record the lr choice {recorded} (lr_selection.chosen); the rule "
                f"(selection.choose_lr) gives {_text(self.computed)}; shown: {_text(self.lr)}, as recorded.")


def _same(a: float | None, b: float | None) -> bool:
    return a is not None and b is not None and math.isclose(float(a), float(b), rel_tol=1e-9)


def _text(lr: float | None) -> str:
    return "none" if lr is None or (isinstance(lr, float) and math.isnan(lr)) else f"{lr:g}"


def _recorded(group: pd.DataFrame) -> dict[float, tuple[int, ...]]:
    """The group's recorded choices (lr_selection.chosen), each with the seeds whose files record it."""
    found: dict[float, set] = {}
    if "lr_recorded" in group:
        for lr, seed in zip(group["lr_recorded"], group["seed"]):
            if lr is None or (isinstance(lr, float) and math.isnan(lr)):
                continue
            key = next((k for k in found if _same(k, lr)), float(lr))
            found.setdefault(key, set()).add(int(seed))
    return {lr: tuple(sorted(found[lr])) for lr in sorted(found)}


def _read(recorded: dict, computed: float | None, rates) -> float | None:
    """The rate a group uses: its one recorded choice (as the frame spells it), else the rule's."""
    if len(recorded) != 1:
        return computed
    (lr,) = recorded
    return next((float(x) for x in rates if _same(x, lr)), lr)


def search_choice(chains: pd.DataFrame) -> float:
    """For one table row's length-search chains: the learning rate the rule chooses (the best median
    longest solved value, `chain_result`, on the seeds all rates share, ties to the validation score at
    the chain's longest probe: selection.choose_lr)."""
    scores: dict = {}
    tiebreak: dict = {}
    search = row_search(chains)
    for (lr, _), chain in chains.groupby(["lr", "search/chain"], sort=True):
        seed = chain["seed"].iloc[0]
        scores.setdefault(lr, {}).setdefault(seed, chain_result(chain, search).longest or 0)
        tiebreak.setdefault(lr, {}).setdefault(seed, chain.loc[chain["length"].idxmax(), "lr_score"] if "lr_score" in chain else None)
    return choose_lr(scores, median_of, tiebreak)


def _fixed_choice(group: pd.DataFrame) -> float | None:
    """selection.choose_lr on one fixed-length group's validation scores; None when no run finished."""
    if not group["status"].isin(FINISHED).any():
        return None
    scores: dict = {}
    for lr, seed, score in zip(group["lr"], group["seed"], group["lr_score"]):
        scores.setdefault(lr, {}).setdefault(seed, score)
    return choose_lr(scores)


def _searched_rows(frame: pd.DataFrame) -> pd.Series:
    return frame["search/chain"].notna() if "search/chain" in frame else pd.Series(False, index=frame.index)


def choose_rates(frame: pd.DataFrame) -> list[LrChoice]:
    """Every group's LrChoice (module docstring): length searches once per table row, fixed lengths
    per length."""
    searched = _searched_rows(frame)
    out = []
    for key, group in frame[searched].groupby(ROW, sort=True, dropna=False):
        computed, recorded = search_choice(group), _recorded(group)
        out.append(LrChoice(key, _read(recorded, computed, group["lr"]), recorded, computed, True))
    for key, group in frame[~searched].groupby(GROUP, sort=True, dropna=False):
        computed, recorded = _fixed_choice(group), _recorded(group)
        out.append(LrChoice(key, _read(recorded, computed, group["lr"]), recorded, computed, False))
    return out


def mark_chosen(frame: pd.DataFrame, choices: list[LrChoice]) -> pd.DataFrame:
    """The frame with `chosen`: the run is of its group's chosen rate, at a length where that rate
    has a finished run (a failed seed there is chosen too: it counts as a seed, never averaged)."""
    if frame.empty:
        return frame.assign(chosen=pd.Series(dtype=bool))
    rate = {c.key: c.lr for c in choices}
    searched = _searched_rows(frame)
    at_rate = [lr is not None and _same(lr, row_lr) for lr, row_lr in zip(
        (rate.get(tuple(row[c] for c in (ROW if s else GROUP))) for s, (_, row) in zip(searched, frame.iterrows())),
        frame["lr"])]
    at_rate = pd.Series(at_rate, index=frame.index)
    finished = at_rate & frame["status"].isin(FINISHED)
    with_finished = set(map(tuple, frame.loc[finished, GROUP].itertuples(index=False)))
    has = pd.Series([tuple(k) in with_finished for k in frame[GROUP].itertuples(index=False)], index=frame.index)
    return frame.assign(chosen=at_rate & has)


def select_lr(frame: pd.DataFrame) -> pd.DataFrame:
    """The finished runs of each group's chosen rate (the frame's `chosen` column)."""
    return frame[frame["chosen"].astype(bool) & frame["status"].isin(FINISHED)]


def chosen_runs(frame: pd.DataFrame) -> pd.DataFrame:
    """The main rows at the learning rate chosen per group, failed seeds included: what the tables,
    figures, findings and gradient-flow section all read, so a learning rate that lost on validation
    never counts as another seed."""
    main = main_rows(frame)
    return main[main["chosen"].astype(bool)] if not main.empty else main


def chosen_ids(frame: pd.DataFrame) -> set[str]:
    """The run ids of `chosen_runs`."""
    return set(chosen_runs(frame)["run_id"]) if not frame.empty else set()


def at_chosen_rate_ids(frame: pd.DataFrame) -> set[str]:
    """The run ids at their group's chosen rate, the ablation's variants included (`chosen_ids`: main rows only)."""
    return set(frame.loc[frame["chosen"].astype(bool), "run_id"]) if not frame.empty else set()


# ---- the longest solved length ----

def row_search(group: pd.DataFrame) -> LengthSearch:
    """The search a table row's chains ran (their run files' `search` blocks, widest bounds); for fixed
    lengths, the lengths tried read as one: from the shortest to the longest, no bisection."""
    chains = group[group["search/chain"].notna()] if "search/chain" in group else group.iloc[0:0]
    if len(chains):
        # A widened search (v2 raised v1's ceilings) continues the same chains, so the row's probes hold
        # the bounds of each sweep that ran them: the search is the widest, the bounds the last sweep had.
        refine = chains["search/refine"].fillna(0)
        return LengthSearch(int(chains["search/start"].min()), int(chains["search/max"].max()), int(refine.max()))
    return LengthSearch(int(group["length"].min()), int(group["length"].max()), 0)


def chain_result(chain: pd.DataFrame, search: LengthSearch, tried=()) -> SearchResult:
    """The longest solved value of one chain (one seed's runs of a table row): LengthSearch.result over
    its runs, each solved or not (the frame's `solved`: status.is_solved), at their place on the
    row's axis (`length`: the length, or the task parameter searched, RunRecord.axis). `tried`: the values every chain of a
    fixed-length row counts, not solved where this chain has no run."""
    solved = {int(v): False for v in tried}
    for value, ok in zip(chain["length"], chain["solved"]):
        solved[int(value)] = solved.get(int(value), False) or bool(ok)
    return search.result(solved)


SEEDS = ROW + ["seed", "lr", "start", "max", "longest", "first_fail", "first_fail_status", "censored", "below_start",
               "searched", "run_ids"]


def seed_results(frame: pd.DataFrame, choices: list[LrChoice]) -> pd.DataFrame:
    """One SearchResult per (task, protocol, model, variant, seed), at the chosen rate: a length
    search's chain at its row's rate; for fixed lengths, the seed's runs at each length's chosen rate
    over every length the row tried."""
    rate = {c.key: c.lr for c in choices if c.searched}
    rows = []
    for key, group in frame.groupby(ROW, sort=True, dropna=False):
        search = row_search(group)
        searched = "search/chain" in group and bool(group["search/chain"].notna().any())
        if searched:
            chains = group[group["search/chain"].notna() & group["lr"].map(lambda lr: _same(lr, rate.get(key)))]
            by, tried = "search/chain", ()
        else:
            chains, by, tried = group[group["chosen"].astype(bool)], "seed", sorted(group["length"].unique())
        for _, chain in chains.groupby(by, sort=True):
            result = chain_result(chain, search, tried)
            at_fail = chain[chain["length"] == result.first_fail]["status"]
            rows.append({**dict(zip(ROW, key)), "seed": int(chain["seed"].iloc[0]), "lr": float(chain["lr"].iloc[0]),
                         "start": search.start, "max": search.max, "longest": result.longest,
                         "first_fail": result.first_fail, "first_fail_status": at_fail.iloc[0] if len(at_fail) else None,
                         "censored": result.censored, "below_start": result.below_start, "searched": searched,
                         "run_ids": tuple(chain["run_id"])})
    return pd.DataFrame(rows, columns=SEEDS)


def _length_text(value: float, start: int, ceiling: int) -> str:
    if value < start:
        return f"< {start}"
    return f"≥ {value:g}" if value >= ceiling else f"{value:g}"


LONGEST = ROW + ["longest", "low", "high", "censored", "label", "text", "searched", "seeds", "start", "max", "tested"]


def longest_of(seeds: pd.DataFrame) -> dict:
    """One table row's longest solved value from its seeds' results: the median seed's (a seed that
    solved nothing counts 0), the min–max, `≥ L` when the median solved the longest value tried (a
    floor), `< start` when it solved nothing. `label`: with the seeds' [min–max] where they differ."""
    first = seeds.iloc[0]
    start, top = int(first["start"]), int(first["max"])
    values = [int(v) if v is not None and not pd.isna(v) else 0 for v in seeds["longest"]]
    median = float(np.median(values))
    text = _length_text(median, start, top)
    label = text
    if len(values) > 1 and min(values) != max(values):
        label += f" [{_length_text(min(values), start, top)}–{_length_text(max(values), start, top)}]"
    return {"longest": median, "low": min(values), "high": max(values), "censored": median >= top, "label": label,
            "text": text, "searched": bool(first["searched"]), "seeds": len(values), "start": start, "max": top}


def rank_ceiling(longest: pd.DataFrame) -> float | None:
    """The longest value a table's searches can be ranked on, or None where no cap is needed. A row
    censored at its ceiling (`≥ 512`) is not behind a row that solved more (`≥ 1024`): its model was
    never tried there. So a ranking compares the longest solved values capped at the lowest ceiling of
    a censored row, where some row's value lies beyond it."""
    searched = longest[longest["searched"].astype(bool)]
    censored = searched[searched["censored"].astype(bool)]
    if censored.empty:
        return None
    cap = float(censored["max"].min())
    return cap if bool((searched["longest"] > cap).any()) else None


def longest_solved(frame: pd.DataFrame, seeds: pd.DataFrame) -> pd.DataFrame:
    """Per table row (task, protocol, model, variant): `longest_of` its seeds, and the values it tried."""
    rows = []
    for key, group in seeds.groupby(ROW, sort=True, dropna=False):
        row = frame
        for col, value in zip(ROW, key):
            row = row[row[col] == value]
        rows.append({**dict(zip(ROW, key)), **longest_of(group),
                     "tested": " ".join(str(int(x)) for x in sorted(row["length"].unique()))})
    return pd.DataFrame(rows, columns=LONGEST)


# ---- the main protocol of a task ----

def protocol_order(frame: pd.DataFrame, task: str) -> list[str]:
    """A task's protocols with default-recipe runs of the native models, main first: the one with the
    most of them, preferring one without hf runs (so adding the modern suite's runs never changes the
    main table of the five), then by name."""
    every = frame[frame["task"] == task]
    hf_models = set(frame.loc[frame["adapter"] == "hf", "model"]) if "adapter" in frame else set()
    runs = every[~every["model"].isin(hf_models)]
    hf_protocols = set(every.loc[every["model"].isin(hf_models), "protocol"])
    by_count = runs[runs["main"]].groupby("protocol").size()
    return sorted(by_count.index, key=lambda p: (p in hf_protocols, -by_count[p], p))


def main_protocols(frame: pd.DataFrame, summary: pd.DataFrame) -> dict[str, str]:
    """task -> the protocol its main table ranks (tasks with a primary metric and a protocol)."""
    out = {}
    for task, rows in summary.groupby("task", sort=True):
        if not rows["metric"].notna().any():
            continue
        order = protocol_order(frame, task)
        if order:
            out[task] = order[0]
    return out


# ---- all of it, once ----

@dataclass(frozen=True)
class Decisions:
    records: tuple[RunRecord, ...]
    frame: pd.DataFrame  # one row per run, `chosen` marked
    summary: pd.DataFrame  # one row per group
    choices: tuple[LrChoice, ...]
    seeds: pd.DataFrame  # one SearchResult per (task, protocol, model, variant, seed) (SEEDS columns)
    longest: pd.DataFrame  # per table row (LONGEST columns)
    main_protocol: dict[str, str] = field(default_factory=dict)

    @property
    def warnings(self) -> list[str]:
        return [w for w in (c.warning() for c in self.choices) if w]

    @property
    def selected(self) -> pd.DataFrame:
        """The finished runs of each group's chosen rate, every recipe."""
        return select_lr(self.frame) if not self.frame.empty else self.frame

    @property
    def chosen_ids(self) -> set[str]:
        return chosen_ids(self.frame)

    def records_of(self, run_ids) -> list[RunRecord]:
        ids = set(run_ids)
        return [r for r in self.records if r.run_id in ids]

    def in_main_protocol(self) -> "Decisions":
        """The same decisions, narrowed to each task's main protocol (what the main tables rank)."""
        def narrow(rows: pd.DataFrame) -> pd.DataFrame:
            if rows.empty:
                return rows
            return rows[rows["protocol"] == rows["task"].map(self.main_protocol)]
        frame = narrow(self.frame)
        keep = set(frame["run_id"]) if not frame.empty else set()
        return replace(self, records=tuple(r for r in self.records if r.run_id in keep), frame=frame,
                       summary=narrow(self.summary), seeds=narrow(self.seeds), longest=narrow(self.longest),
                       choices=tuple(c for c in self.choices if self.main_protocol.get(c.key[0]) == c.key[1]))


def decide(records: list[RunRecord]) -> Decisions:
    """Every decision the report shows, from the run files (module docstring)."""
    frame = runs_frame(records)
    if frame.empty:
        return Decisions(tuple(records), frame, pd.DataFrame(), (), pd.DataFrame(columns=SEEDS), pd.DataFrame(columns=LONGEST))
    choices = choose_rates(frame)
    frame = mark_chosen(frame, choices)
    summary = summarise(frame)
    seeds = seed_results(frame, choices)
    return Decisions(tuple(records), frame, summary, tuple(choices), seeds, longest_solved(frame, seeds),
                     main_protocols(frame, summary))
