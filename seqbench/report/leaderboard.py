"""Leaderboard tables: per task, models ranked by the primary test metric (mean ± 95% CI)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..status import FINISHED
from .frame import arrow, max_solved
from .table import Cell, Table


def fmt_value(mean: float, ci: float, n: int, digits: int = 3) -> str:
    if n == 0 or math.isnan(mean):
        return "—"
    spread = f" ± {ci:.{digits}f}" if not math.isnan(ci) else ""
    return f"{mean:.{digits}f}{spread} (n={n})"


def fmt_number(value: float, digits: int = 0, suffix: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:,.{digits}f}{suffix}"


def model_name(model: str, variant: str) -> str:
    return f"{model} ({variant})" if variant else model


def task_table(task: str, summary: pd.DataFrame, solved: pd.DataFrame) -> Table:
    """Rows: model (and variant); columns: the primary metric at each length, then costs."""
    metric = summary["metric"].dropna().iloc[0]
    up = bool(summary["higher_is_better"].dropna().iloc[0])
    lengths = sorted(summary["length"].unique())
    multi = len(lengths) > 1
    length_cols = [f"L={int(L)}" for L in lengths] if multi else [f"test {metric}"]
    columns = ["#", "model"] + length_cols + (["max solved L"] if multi else []) + \
              ["params", "train time (s)", "eval tokens/s"]
    best = {}
    for L in lengths:
        at = summary[(summary["length"] == L) & summary["n"].gt(0)]
        if len(at):
            best[L] = at["mean"].max() if up else at["mean"].min()
    entries = []
    for (model, variant), group in summary.groupby(["model", "variant"], sort=True):
        by_len = {row.length: row for row in group.itertuples()}
        score = np.nanmean([r.mean for r in by_len.values()]) if any(r.n for r in by_len.values()) else float("nan")
        cells = [Cell(model_name(model, variant))]
        for L in lengths:
            r = by_len.get(L)
            if r is None:
                cells.append(Cell("—"))
                continue
            text = fmt_value(r.mean, r.ci, r.n)
            if r.n_failed:
                text += f" [{r.failures}]"
            cells.append(Cell(text, sort=r.mean, bold=r.n > 0 and L in best and r.mean == best[L]))
        if multi:
            ms = solved[(solved["model"] == model) & (solved["variant"] == variant)]["max_solved"]
            value = ms.iloc[0] if len(ms) else None
            value = None if value is None or (isinstance(value, float) and math.isnan(value)) else int(value)
            cells.append(Cell(str(value) if value is not None else "none", sort=value if value is not None else -1))
        params = group["params"].mean()
        time_s = group["train_time_s"].mean()
        tokens = group["eval_tokens_per_s"].mean()
        cells += [Cell(fmt_number(params), params), Cell(fmt_number(time_s, 1), time_s), Cell(fmt_number(tokens), tokens)]
        entries.append((score, cells))
    # Rank by the mean over lengths; models with no result go last.
    entries.sort(key=lambda e: (math.isnan(e[0]), -e[0] if up else e[0]))
    rows = [[Cell(str(i + 1), i + 1)] + cells for i, (_, cells) in enumerate(entries)]
    baselines = [fmt_number(summary[summary["length"] == L]["baseline"].dropna().iloc[0], 3)
                 if summary[summary["length"] == L]["baseline"].notna().any() else "—" for L in lengths]
    footer = [[Cell(""), Cell("chance baseline")] + [Cell(b) for b in baselines] +
              [Cell("")] * (len(columns) - 2 - len(lengths))]
    title = f"{task}: test {metric} {arrow(up)} (mean ± 95% t-interval over seeds; n = seeds)"
    note = ("Ranked by the mean over lengths. Bold: best at that length. Learning rate chosen per "
            "model and length on validation. max solved L: the largest length whose mean passes the "
            f"task's threshold ({summary['solved_threshold'].iloc[0]}).") if multi else \
           "Bold: best. Learning rate chosen per model on validation."
    return Table(title, columns, rows, note=note, footer=footer)


def leaderboard_tables(summary: pd.DataFrame) -> dict[str, Table]:
    solved = max_solved(summary)
    return {task: task_table(task, group, solved[solved["task"] == task])
            for task, group in summary.groupby("task", sort=True) if group["metric"].notna().any()}


def failures_table(frame: pd.DataFrame) -> Table | None:
    failed = frame[~frame["status"].isin(FINISHED)]
    if failed.empty:
        return None
    rows = [[Cell(r.task), Cell(model_name(r.model, r.variant)), Cell(str(r.length)), Cell(f"{r.lr:g}"),
             Cell(str(r.seed)), Cell(r.status)] for r in failed.itertuples()]
    return Table("runs that did not finish normally", ["task", "model", "length", "lr", "seed", "status"], rows,
                 note="Diverged: a NaN or inf loss; oom: out of memory; failed: an error (see the run file).")
