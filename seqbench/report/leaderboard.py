"""Leaderboard tables: one table per (task, protocol), the main models ranked, ablations apart.

Which runs share a table (seqbench/protocol.py): per task, the *main* table holds the default-recipe
runs of the protocol with the most of them; every other protocol's default runs get a table under
"Other protocols"; each protocol's ablation variants (recipe.default false), beside that protocol's
default runs for reference, get an unranked table under "Ablations". No table mixes protocols.

A cell (report/numbers.py): the mean with the seeds' min–max (n < 3) or a clipped 95% t-interval,
failed seeds as words with counts (the mean, marked `*`, covers the others), `†` when a seed was
budget-limited, `≈ <strategy>` when the score is within noise of a trivial strategy, and `< <strategy>`
(`>` for a loss) when it is worse than one beyond noise. The lr
column names the rate validation chose, `‡` when it is an end of the grid tried.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..status import FINISHED
from .decisions import Decisions, protocol_order, rank_ceiling
from .capacity import COLUMN as STATE_COLUMN, has_state, state_note, state_text
from .frame import arrow, axis_label, axis_of
from .numbers import BUDGET_MARK, EDGE_MARK, PARTIAL_MARK, Spread, cell_text, fmt, versus
from .table import Cell, Table

NOISE_MARK = "≈"
WORSE_MARK = {True: "<", False: ">"}  # by higher_is_better: a score worse than a trivial strategy's beyond noise
# The memory note (shared_memory_note): an embedding this many times the model, and peaks this close.
SHARED_EMBEDDING_RATIO = 5
PEAK_AGREEMENT = 0.05  # max - min, as a share of the median
MIN_EDGE_GRID = 3  # with two rates every choice is an end: the mark would say nothing


def fmt_number(value: float, digits: int = 0, suffix: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:,.{digits}f}{suffix}"


def model_name(model: str, variant: str) -> str:
    return f"{model} ({variant})" if variant else model


POSITIONS = "positions"  # the Transformer's position encoding (config/positions): a recipe setting, not the protocol


def main_name(model: str, variant: str, runs: pd.DataFrame) -> str:
    """A default-recipe row's name: the model's, and its position encoding where the protocol also ran
    other encodings of it (ranked apart, under Ablations: the encoding is a recipe setting), e.g.
    'transformer (sinusoidal)', as the Length generalisation section names its rows."""
    varied = f"{POSITIONS}=" in variant and f"config/{POSITIONS}" in runs and len(runs)
    return f"{model} ({runs[f'config/{POSITIONS}'].iloc[0]})" if varied else model


@dataclass(frozen=True)
class Board:
    """One table of the leaderboard and where it goes."""
    task: str
    protocol: str
    kind: str  # "main" | "other" (another protocol's default runs) | "ablation"
    table: Table

    @property
    def name(self) -> str:
        """File stem of its LaTeX table: the main table keeps the task's name."""
        return self.task if self.kind == "main" else f"{self.task}-{self.kind}-{self.protocol}"


def versus_strategies(row) -> tuple[str, str] | None:
    """(mark, strategy) for a cell its seeds do not beat beyond noise: `≈` and the strongest trivial
    strategy they are within noise of; else `<` (`>` for a loss) and the weakest one they all trail
    beyond noise; None when they beat every one."""
    if not row.n or not row.baselines:
        return None
    up = bool(row.higher_is_better)
    scored = {name: score for name, score in row.baselines.items() if score is not None and not math.isnan(score)}
    strongest_first = sorted(scored.items(), key=lambda kv: -kv[1] if up else kv[1])
    verdicts = [(name, versus(row.values, score, up, row.n_scored)) for name, score in strongest_first]
    tied = [name for name, v in verdicts if v == 0]
    trailed = [name for name, v in verdicts if v < 0]
    if tied:
        return NOISE_MARK, tied[0]
    return (WORSE_MARK[up], trailed[-1]) if trailed else None


def cell(row) -> tuple[str, str | None]:
    """The cell's text and its mark against the trivial strategies (None: it beats them all)."""
    spread_ = Spread(row.mean, row.low, row.high, row.n, "single" if row.n == 1 else "range" if row.n < 3 else "t95")
    text = cell_text(spread_, row.failed_counts, row.total, row.n_budget_limited)
    against = versus_strategies(row)
    return (f"{text} {against[0]} {against[1]}" if against else text), against and against[0]


def grid_end(lr: float, grid: list[float]) -> bool:
    """Whether validation chose the largest or smallest rate of a grid of MIN_EDGE_GRID or more: the
    grid does not bracket the best rate, so one beyond it might do better."""
    return len(grid) >= MIN_EDGE_GRID and not math.isnan(lr) and lr in (grid[0], grid[-1])


def lr_cell(group: pd.DataFrame, open_ended: bool) -> tuple[Cell, bool]:
    """The rate(s) validation chose for one table row, and whether one is an end of the row's grid;
    `open_ended` False (a search that solved its longest length) leaves the end unmarked, since a
    better rate could not have done more."""
    rates = sorted({float(lr) for lr in group["lr"] if not math.isnan(lr)})
    grid = sorted({float(lr) for g in group["lr_grid"] for lr in g})
    end = open_ended and any(grid_end(lr, grid) for lr in rates)
    text = ", ".join(f"{lr:g}" for lr in rates) or "—"
    return Cell(text + (EDGE_MARK if end else ""), rates[0] if rates else math.nan), end


def shown_lengths(frame: pd.DataFrame, searched: bool) -> list:
    """Per-length columns. Fixed lengths: every length tried. A search: only the lengths every seed of
    every row ran (usually the search's start), so each column compares like with like; the search's
    result is the longest-solved column."""
    lengths = sorted(frame["length"].unique())
    if not searched:
        return lengths
    runs = [set(g["length"]) for _, g in frame.groupby(["model", "variant", "seed"])]
    return sorted(set.intersection(*runs)) if runs else []


def status_text(group: pd.DataFrame) -> str:
    counts: dict = {}
    for statuses in group["statuses"]:
        for k, v in statuses.items():
            counts[k] = counts.get(k, 0) + v
    order = {"solved": 0, "converged": 1, "budget-limited": 2}
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: (order.get(kv[0], 9), kv[0])))


def task_table(summary: pd.DataFrame, frame: pd.DataFrame, longest: pd.DataFrame, ranked: bool = True,
               heading: str = "") -> Table:
    """Rows: model (and variant) of one (task, protocol); columns: the primary metric per length, the
    longest solved length, statuses, then costs. `summary`, `frame` and `longest` hold that protocol only;
    rows of `longest` for models or variants this table does not show (the ablation's, the hf models') are
    left out, so they neither set the ranking's cap nor show in its note."""
    shown = set(zip(summary["model"], summary["variant"]))
    longest = longest[[key in shown for key in zip(longest["model"], longest["variant"])]]
    task = summary["task"].iloc[0]
    metric = summary["metric"].dropna().iloc[0]
    up = bool(summary["higher_is_better"].dropna().iloc[0])
    searched = bool(longest["searched"].any()) if len(longest) else False
    lengths = shown_lengths(frame, searched)
    multi = searched or summary["length"].nunique() > 1
    axis = axis_of(frame)  # the length, or the task parameter a search varied (recall_mqar: pairs)
    length_cols = [f"{axis_label(axis)}={int(L)}" for L in lengths] if multi else [f"test {metric}"]
    stateful = has_state(frame)  # run files with a state block (measure/state_size.py); none before v2
    columns = (["#"] if ranked else []) + ["model"] + length_cols + ([headline(axis)] if multi else []) + \
        ["status", "lr", "params"] + ([STATE_COLUMN] if stateful else []) + \
        ["step (ms)", "steps to solve", "time to solve (s)", "train time (s)", "eval tokens/s", "peak memory (MB)"]
    cap = rank_ceiling(longest) if searched else None
    best = {}
    for L in lengths:
        at = summary[(summary["length"] == L) & summary["n"].gt(0)]
        if len(at):
            best[L] = at["mean"].max() if up else at["mean"].min()
    entries, marks = [], set()
    for (model, variant), group in summary.groupby(["model", "variant"], sort=True):
        by_len = {row.length: row for row in group.itertuples()}
        shown = [by_len[L] for L in lengths if L in by_len]
        score = float(np.nanmean([r.mean for r in shown])) if any(r.n for r in shown) else float("nan")
        # Default-recipe tables hold one recipe per model: the name says it, with the encoding where the
        # Transformer's others are ranked apart.
        mine = frame[(frame["model"] == model) & (frame["variant"] == variant)]
        cells = [Cell(main_name(model, variant, mine) if summary["main"].all() else model_name(model, variant))]
        for L in lengths:
            r = by_len.get(L)
            if r is None:
                cells.append(Cell("—"))
                continue
            text, mark = cell(r)
            marks.update(m for m, on in ((PARTIAL_MARK, sum(r.failed_counts.values()) and r.n),
                                         (BUDGET_MARK, r.n_budget_limited), (mark, mark)) if on)
            cells.append(Cell(text, sort=r.mean, bold=r.n > 0 and L in best and r.mean == best[L]))
        reach, censored = 0.0, False
        if multi:
            mine = longest[(longest["model"] == model) & (longest["variant"] == variant)]
            reach = float(mine["longest"].iloc[0]) if len(mine) else 0.0
            censored = bool(mine["censored"].iloc[0]) if len(mine) else False
            cells.append(Cell(mine["label"].iloc[0] if len(mine) else "—", sort=reach))
        # A search solved even its longest length: the lr grid's end is no sign of a missed rate there.
        lr, at_end = lr_cell(group, open_ended=not (searched and censored))
        if at_end:
            marks.add(EDGE_MARK)
        solved_steps = group["solved_step"].dropna()
        solved_s = group["solved_s"].dropna()
        cells += [Cell(status_text(group)), lr, Cell(fmt_number(group["params"].mean()), group["params"].mean())]
        if stateful:
            cells.append(Cell(state_text(frame[(frame["model"] == model) & (frame["variant"] == variant)])))
        cells += [Cell(fmt(group["median_step_ms"].median()), group["median_step_ms"].median()),
                  Cell(fmt_number(solved_steps.median()) if len(solved_steps) else "—", solved_steps.median()),
                  Cell(fmt(solved_s.median()) if len(solved_s) else "—", solved_s.median()),
                  Cell(fmt(group["train_time_s"].mean()), group["train_time_s"].mean()),
                  Cell(fmt_number(group["eval_tokens_per_s"].mean()), group["eval_tokens_per_s"].mean()),
                  Cell(fmt(group["peak_mb"].median()), group["peak_mb"].median())]
        # A search ranks by its headline (longest solved), a fixed-length table by the mean over lengths.
        quality = math.nan if math.isnan(score) else (score if up else -score)
        ranked_reach = min(reach, cap) if cap is not None else reach
        key = (-ranked_reach if searched else 0.0, math.isnan(quality), -quality if not math.isnan(quality) else 0.0)
        entries.append((key, cells))
    if ranked:
        entries.sort(key=lambda e: e[0])
        rows = [[Cell(str(i + 1), i + 1)] + cells for i, (_, cells) in enumerate(entries)]
    else:
        rows = [cells for _, cells in entries]
    footer = baseline_lines(summary, lengths, len(columns), ranked)
    title = heading or f"{task}: test {metric} {arrow(up)}"
    at = ", ".join(f"L={int(L)}" for L in sorted(frame["config/length"].unique())) if axis != "length" else ""
    note = table_note(summary, marks, multi, searched, ranked, axis, at, cap) + (" " + state_note(frame) if stateful else "")
    return Table(title, columns, rows, note=note, footer=footer)


def headline(axis: str) -> str:
    """The search's result column: 'longest solved L', or 'most pairs solved' on the pairs axis."""
    return "longest solved L" if axis == "length" else f"most {axis_label(axis)} solved"


def baseline_lines(summary: pd.DataFrame, lengths: list, width: int, ranked: bool) -> list[list[Cell]]:
    """One footer line per trivial strategy, chance first, with its score at each shown length."""
    at = {L: next((b for b in summary.loc[summary["length"] == L, "baselines"] if b), {}) for L in lengths}
    names = list(dict.fromkeys(name for L in lengths for name in at[L]))
    lead = [Cell("")] if ranked else []
    return [lead + [Cell(name)] + [Cell(fmt(at[L].get(name))) for L in lengths]
            + [Cell("")] * (width - len(lead) - 1 - len(lengths)) for name in names]


def shared_memory_note(summary: pd.DataFrame) -> str | None:
    """Where a token embedding outside the budget dwarfs the models and their peak memories agree,
    say why the column hardly separates them (the embedding's weights and training state are the
    same for every model), so that equal numbers are not read as equal models."""
    if "embedding_params" not in summary:
        return None
    peaks, embedding, params = summary["peak_mb"].dropna(), summary["embedding_params"].median(), summary["params"].median()
    if len(peaks) < 2 or not embedding >= SHARED_EMBEDDING_RATIO * params:
        return None
    if peaks.max() - peaks.min() > PEAK_AGREEMENT * peaks.median():
        return None
    return (f"Peak memory is {fmt(peaks.min())}–{fmt(peaks.max())} MB for every model: most of it is the token "
            f"embedding's ({fmt_number(embedding)} parameters, outside the budget and the same for every model) "
            "weights, gradient and optimizer state, so this column does not separate the models.")


def table_note(summary: pd.DataFrame, marks: set, multi: bool, searched: bool, ranked: bool, axis: str = "length",
               at: str = "", cap: float | None = None) -> str:
    """`axis`: the table's axis (frame.axis_of); `at`: where a search over a task parameter ran ('L=16');
    `cap`: the value the ranking caps the searches' results at (decisions.rank_ceiling), if any."""
    first = summary.iloc[0]
    parts = [f"Protocol `{first['protocol']}`: {first['protocol_text']}."]
    parts.append("Cells: mean over seeds [min–max] (n < 3) or [95% t-interval, clipped to the metric's range]. "
                 + ("Learning rate chosen per model: the rate whose searches solved the most (ties broken on "
                    "validation)." if searched else "Learning rate chosen per model and length on validation."))
    if ranked:
        result = "longest solved length" if axis == "length" else headline(axis)
        if searched and cap is not None:
            parts.append(f"Ranked by the {result} up to {cap:g}, the lowest ceiling a model's search ended `≥` at "
                         f"(beyond it not every model was tried, so no order is claimed there), then the mean.")
        else:
            parts.append(f"Ranked by the {result}, then the mean." if searched else
                         "Ranked by the mean over the lengths shown." if multi else "Ranked by the mean.")
        parts.append("Bold: best at that length." if axis == "length" else "Bold: best in its column.")
    if multi and axis != "length":
        name = axis_label(axis)
        parts.append(f"{headline(axis).capitalize()}: per seed the search's result over {axis} at {at}; the median "
                     f"over seeds [min–max]; `≥ N`: solved the most {name} tried (a floor), `< N`: nothing solved "
                     "down to N.")
    elif multi:
        rule = ("per seed the length search's result; the median over seeds [min–max]" if searched else
                "per seed the longest length solved (status `solved`: validation passed the task's threshold "
                f"{first['solved_threshold']}) below the first one not solved; the median over seeds [min–max]")
        parts.append(f"Longest solved L: {rule}; `≥ L`: solved the longest length tried (a floor), `< L`: "
                     "nothing solved down to L.")
    if memory := shared_memory_note(summary):
        parts.append(memory)
    if PARTIAL_MARK in marks:
        parts.append(f"{PARTIAL_MARK} some seeds failed (counted beside the mean): the mean covers the others.")
    if BUDGET_MARK in marks:
        parts.append(f"{BUDGET_MARK} still improving when the budget ran out: the number is a floor.")
    if EDGE_MARK in marks:
        parts.append(f"{EDGE_MARK} validation chose the largest or smallest rate of the grid tried: the grid does "
                     "not bracket the best rate, so one beyond it might do better"
                     + (" (not marked where the search solved its longest length)." if searched else "."))
    if NOISE_MARK in marks:
        parts.append(f"{NOISE_MARK} <strategy>: within noise of that trivial strategy, so not better than it"
                     + (", whatever its rank." if ranked else "."))
    for worse in sorted(set(WORSE_MARK.values()) & marks):
        parts.append(f"{worse} <strategy>: worse than that trivial strategy beyond noise.")
    return " ".join(parts)


def boards(decisions: Decisions) -> list[Board]:
    """Every table, by task: the main one (decisions.main_protocol), then other protocols, then ablations."""
    out: list[Board] = []
    summary, frame, longest = decisions.summary, decisions.frame, decisions.longest
    if frame.empty:
        return out
    # hf models have their own section (modern_section.py): the leaderboard holds the native models.
    hf_models = set(frame.loc[frame["adapter"] == "hf", "model"]) if "adapter" in frame else set()
    for task, rows in summary.groupby("task", sort=True):
        if task not in decisions.main_protocol:
            continue
        every = frame[frame["task"] == task]
        runs = every[~every["model"].isin(hf_models)]
        rows = rows[~rows["model"].isin(hf_models)]

        def table(protocol: str, main_only: bool, ranked: bool) -> Table | None:
            s = rows[(rows["protocol"] == protocol) & (rows["main"] if main_only else True)]
            f = runs[(runs["protocol"] == protocol) & (runs["main"] if main_only else True)]
            if not main_only:  # the variants, and for reference the default runs of the models varied
                varied = set(f.loc[~f["main"], "model"])
                s, f = s[s["model"].isin(varied)], f[f["model"].isin(varied)]
            s = s[s["metric"].notna()]
            if s.empty:
                return None
            return task_table(s, f, longest[(longest["task"] == task) & (longest["protocol"] == protocol)],
                              ranked=ranked)
        for protocol in protocol_order(frame, task):
            t = table(protocol, True, True)
            if t is not None:
                out.append(Board(task, protocol, "main" if protocol == decisions.main_protocol[task] else "other", t))
        for protocol in sorted(set(runs.loc[~runs["main"], "protocol"])):
            t = table(protocol, False, False)
            if t is not None:
                out.append(Board(task, protocol, "ablation", t))
    return out


def failures_table(frame: pd.DataFrame) -> Table | None:
    failed = frame[~frame["status"].isin(FINISHED)]
    if failed.empty:
        return None
    rows = [[Cell(r.task), Cell(model_name(r.model, r.variant)), Cell(r.protocol), Cell(str(r.length)), Cell(f"{r.lr:g}"),
             Cell(str(r.seed)), Cell(r.status)] for r in failed.itertuples()]
    return Table("runs that did not finish normally", ["task", "model", "protocol", "length", "lr", "seed", "status"], rows,
                 note="Diverged: a NaN or inf loss; oom: out of memory; error: an exception (see the run file).")
