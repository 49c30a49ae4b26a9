"""The real tasks' scores by input-length bucket (each run's by_slice)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..decisions import Decisions
from ..frame import arrow
from ..numbers import spread
from ..style import new_figure, palette, plotting, save, seed_points
from .common import BAND_NOTE, task_info


def by_bucket(decisions: Decisions, out: Path) -> list[str]:
    """Real tasks: the primary metric per input-length bucket (from each run's by_slice), default
    recipe at the chosen learning rate; seeds as points, mean with a band in the metric's range."""
    runs = [r for r in decisions.records if r.by_slice and r.finished and r.task.metric is not None]
    if not runs:
        return []
    chosen = decisions.chosen_ids
    rows = []
    for r in runs:
        if r.run_id not in chosen:
            continue
        metric, higher, _ = task_info(r)
        for s in r.by_slice:
            if metric in s:
                rows.append({"task": r.config.task, "model": r.config.model.name, "bucket": str(s["value"]),
                             "value": s[metric], "metric": metric, "higher_is_better": higher})
    if not rows:
        return []
    data = pd.DataFrame(rows)
    paths = []
    for task, group in data.groupby("task", sort=True):
        colors = palette(group["model"].unique())
        buckets = sorted(group["bucket"].unique(), key=_bucket_key)
        higher = bool(group["higher_is_better"].iloc[0])
        with plotting():
            fig, axes = new_figure(5.2, 3.4)
            ax = axes[0][0]
            for i, model in enumerate(colors):
                x, means, lows, highs = [], [], [], []
                offset = 0.3 * (i - (len(colors) - 1) / 2) / max(1, len(colors) - 1)
                for j, bucket in enumerate(buckets):
                    values = group[(group["model"] == model) & (group["bucket"] == bucket)]["value"]
                    if values.empty:
                        continue
                    s = spread(values, higher)
                    x.append(j + offset), means.append(s.mean), lows.append(s.low), highs.append(s.high)
                    seed_points(ax, [j + offset] * len(values), values, colors[model])
                means_, err = np.asarray(means), np.asarray([np.subtract(means, lows), np.subtract(highs, means)])
                ax.errorbar(x, means_, yerr=err, color=colors[model], marker="o", ms=4, lw=1, capsize=2, label=model)
            ax.set_xticks(range(len(buckets)), buckets)
            ax.set_xlabel("input length bucket (tokens)")
            ax.set_ylabel(f"test {group['metric'].iloc[0]} {arrow(higher)}")
            ax.set_title(f"{task}: score by input length\n{BAND_NOTE.replace('band', 'bar')}", fontsize=8)
            ax.legend(fontsize=7, frameon=False)
            paths.append(save(fig, out, f"{task}_by_length_bucket"))
    return paths


def _bucket_key(text: str):
    digits = "".join(ch if ch.isdigit() else " " for ch in text).split()
    return (int(digits[0]) if digits else -1, text)
