"""The primary metric against length: seeds as points, the mean as a line, a band in the metric's range."""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from ...status import FINISHED
from ..decisions import chosen_runs
from ..frame import arrow, axis_label, axis_of
from ..numbers import metric_range, spread
from ..style import new_figure, palette, plotting, save, seed_points
from .common import BAND_NOTE, row_labels


def seed_table(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per finished seed at the chosen learning rate: task, label, length, seed, value."""
    runs = chosen_runs(frame)
    runs = runs[runs["status"].isin(FINISHED)]
    if runs.empty:
        return pd.DataFrame(columns=["task", "label", "length", "seed", "value", "metric", "higher_is_better", "baseline"])
    values = [row.get(f"test/{row['metric']}", math.nan) for _, row in runs.iterrows()]
    baselines = [row.get(f"baseline/{row['metric']}", math.nan) for _, row in runs.iterrows()]
    return pd.DataFrame({"task": runs["task"], "label": row_labels(runs), "length": runs["length"], "seed": runs["seed"],
                         "value": values, "metric": runs["metric"], "higher_is_better": runs["higher_is_better"].astype(bool),
                         "baseline": baselines}).dropna(subset=["value"]).reset_index(drop=True)


def band_table(seeds: pd.DataFrame) -> pd.DataFrame:
    """Per (task, label, length): mean, low, high (inside the metric's range), n and the band's kind."""
    rows = []
    for (task, label, length), group in seeds.groupby(["task", "label", "length"], sort=True):
        s = spread(group["value"], bool(group["higher_is_better"].iloc[0]))
        rows.append({"task": task, "label": label, "length": length, "mean": s.mean, "low": s.low, "high": s.high,
                     "n": s.n, "kind": s.kind})
    return pd.DataFrame(rows, columns=["task", "label", "length", "mean", "low", "high", "n", "kind"])


def metric_vs_length(frame: pd.DataFrame, out: Path) -> list[str]:
    """Primary test metric against dependency length per model: seeds as points, the mean as a line,
    a band that stays in the metric's range, and the baseline dashed. `frame`: the decisions' runs frame."""
    seeds = seed_table(frame)
    bands = band_table(seeds)
    info = seeds.drop_duplicates(["task", "length"])
    paths = []
    for task, group in bands.groupby("task", sort=True):
        if group["length"].nunique() < 2:
            continue
        task_info = info[info["task"] == task].sort_values("length")
        metric, higher = task_info["metric"].iloc[0], bool(task_info["higher_is_better"].iloc[0])
        colors = palette(group["label"].unique())
        with plotting():
            fig, axes = new_figure(5.2, 3.6)
            ax = axes[0][0]
            for i, label in enumerate(colors):
                rows = group[group["label"] == label].sort_values("length")
                ax.plot(rows["length"], rows["mean"], marker="o", ms=4, label=label, color=colors[label])
                ax.fill_between(rows["length"], rows["low"], rows["high"], color=colors[label], alpha=0.18, lw=0)
                pts = seeds[(seeds["task"] == task) & (seeds["label"] == label)]
                dodge = 1 + 0.04 * (i - (len(colors) - 1) / 2)  # a multiplicative nudge on the log axis
                seed_points(ax, pts["length"] * dodge, pts["value"], colors[label])
            ax.plot(task_info["length"], task_info["baseline"], linestyle="--", color="0.3", label="baseline")
            ax.set_xscale("log")
            lengths = sorted(group["length"].unique())
            ax.set_xticks(lengths, [str(int(x)) for x in lengths])
            ax.minorticks_off()
            lo, hi = metric_range(higher)
            ax.set_ylim(bottom=lo - 0.02 if higher else None, top=hi + 0.02 if higher else None)
            axis = axis_of(frame[frame["task"] == task]) if "axis" in frame else "length"
            ax.set_xlabel("dependency length" if axis == "length" else f"{axis_label(axis)} ({axis})")
            ax.set_ylabel(f"test {metric} {arrow(higher)}")
            ax.set_title(f"{task}: {metric} against {'length' if axis == 'length' else axis_label(axis)}\n{BAND_NOTE}",
                         fontsize=8)
            ax.legend(fontsize=7, frameon=False, loc="best")
            paths.append(save(fig, out, f"{task}_{metric}_vs_length"))
    return paths
