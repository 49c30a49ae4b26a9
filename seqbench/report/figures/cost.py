"""The cost of a training step against sequence length, per model."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ...status import FINISHED
from ..frame import main_rows
from ..style import new_figure, palette, plotting, save, seed_points


def step_time_vs_length(frame: pd.DataFrame, out: Path) -> list[str]:
    """Median train step time against sequence length (log-log), per model; seeds as points."""
    ok = main_rows(frame)
    ok = ok[ok["status"].isin(FINISHED) & ok["median_step_ms"].notna() & ok["seq_len"].notna()]
    if ok.empty or ok["seq_len"].nunique() < 2:
        return []
    agg = ok.groupby(["model", "task", "seq_len"], as_index=False)["median_step_ms"].median()
    colors = palette(agg["model"].unique())
    markers = dict(zip(sorted(agg["task"].unique()), "osD^vP*X"))
    with plotting():
        fig, axes = new_figure(5.2, 3.4)
        ax = axes[0][0]
        for (model, task), rows in agg.groupby(["model", "task"], sort=True):
            rows = rows.sort_values("seq_len")
            ax.plot(rows["seq_len"], rows["median_step_ms"], color=colors[model], marker=markers[task], ms=4, lw=1,
                    label=f"{model}, {task}")
            pts = ok[(ok["model"] == model) & (ok["task"] == task)]
            seed_points(ax, pts["seq_len"], pts["median_step_ms"], colors[model])
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("sequence length T (tokens)")
        ax.set_ylabel("median train step (ms)")
        ax.set_title("training step time against length (points: runs)")
        handles, labels = ax.get_legend_handles_labels()
        order = sorted(range(len(labels)), key=lambda i: (list(colors).index(labels[i].split(",")[0]), labels[i]))
        ax.legend([handles[i] for i in order], [labels[i] for i in order], fontsize=6, frameon=False, ncol=2)
        return [save(fig, out, "step_time_vs_length")]
