"""Learning curves: the validation metric against step, small multiples per task."""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from ...record import RunRecord
from ..decisions import Decisions, chosen_runs
from ..frame import arrow
from ..style import palette, panels, plotting, save
from .common import row_labels, task_info


@dataclass(frozen=True)
class Curve:
    label: str  # the line's colour key: a model, or a positions value
    seed: int
    steps: tuple
    values: tuple


@dataclass(frozen=True)
class CurveSet:
    """One task's learning curves, by panel (a length, or a model when the task has one length)."""
    task: str
    metric: str
    higher_is_better: bool
    threshold: float | None
    by: str  # "length" | "model"
    panels: dict  # panel key -> [Curve]


def read_curve(record: RunRecord, label: str) -> Curve | None:
    points = [(s, v) for s, v in record.val_curve or [] if v is not None and math.isfinite(v)]
    if not points:
        return None
    steps, values = zip(*points)
    return Curve(label, int(record.config.seed), steps, values)


def curve_sets(decisions: Decisions) -> list[CurveSet]:
    """Per task: the validation curves of the default recipe at the chosen learning rate."""
    scored = [r for r in decisions.records if r.val_curve and r.task.metric is not None]
    if not scored:
        return []
    by_id = {r.run_id: r for r in scored}
    runs = chosen_runs(decisions.frame)
    runs = runs[runs["run_id"].isin(by_id)]
    runs = runs.assign(label=row_labels(runs))
    sets = []
    for task, group in runs.groupby("task", sort=True):
        by = "length" if group["length"].nunique() > 1 else "model"
        found: dict = {}
        for _, row in group.iterrows():
            curve = read_curve(by_id[row["run_id"]], row["label"])
            if curve:
                found.setdefault(int(row["length"]) if by == "length" else row["label"], []).append(curve)
        if found:
            metric, higher, threshold = task_info(by_id[group["run_id"].iloc[0]])
            keys = sorted(found) if by == "length" else sorted(found, key=list(palette(found)).index)
            sets.append(CurveSet(task, metric, higher, threshold, by, {k: found[k] for k in keys}))
    return sets


def curves_figure(items: list[tuple[str, CurveSet, list]], colors: dict, title: str, legend_title: str | None = None):
    """One panel per (title, curve set, curves) item; seeds as thin lines in their label's colour."""
    fig, axes = panels(len(items), 3.4, 2.6)
    for ax, (name, cs, curves) in zip(axes, items):
        for curve in sorted(curves, key=lambda c: (list(colors).index(c.label), c.seed)):
            ax.plot(curve.steps, curve.values, color=colors[curve.label], lw=0.9, alpha=0.8, label=curve.label)
        if cs.threshold is not None:
            ax.axhline(cs.threshold, color="0.3", ls="--", lw=0.8, label="solved threshold")
        if cs.higher_is_better:
            ax.set_ylim(-0.02, 1.02)  # shares: every panel on the whole range, so panels compare
        elif all(v > 0 for c in curves for v in c.values):
            ax.set_yscale("log")
        ax.set_title(name, fontsize=8)
        ax.set_xlabel("step")
        ax.set_ylabel(f"val {cs.metric} {arrow(cs.higher_is_better)}")
    seen: dict = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(label, handle)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.legend(list(seen.values()), list(seen), loc="upper center", ncol=min(6, len(seen)), frameon=False,
               fontsize=7, bbox_to_anchor=(0.5, 0.0), title=legend_title, title_fontsize=7)
    return fig


def learning_curves(decisions: Decisions, out: Path) -> list[str]:
    """figures/curves_<task>.png: validation metric against step, one panel per length (per model
    when the task has one length), one thin line per model and seed, the solved threshold dashed."""
    paths = []
    for cs in curve_sets(decisions):
        colors = palette(c.label for curves in cs.panels.values() for c in curves)
        items = [(f"{cs.task}, {'length ' if cs.by == 'length' else ''}{key}", cs, curves) for key, curves in cs.panels.items()]
        with plotting():
            fig = curves_figure(items, colors, f"{cs.task}: learning curves (one line per seed)")
            paths.append(save(fig, out, f"curves_{cs.task}"))
    return paths
