"""The Transformer's position encodings: its validation curves on recall and copy, one colour per encoding."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..decisions import Decisions, chosen_runs
from ..style import palette, plotting, save
from .common import task_info
from .curves import CurveSet, curves_figure, read_curve


POSITION_TASKS = ("recall", "copy")
DEFAULT_POSITIONS = "sinusoidal"  # what a run file without the field used


def _only_positions_vary(frame: pd.DataFrame) -> list[bool]:
    """Per row: whether its recipe equals its task's default recipe but for `positions` (the
    default recipe: that of the default-recipe runs, else the commonest)."""
    columns = [c for c in frame.columns if c.startswith("config/") and c != "config/positions"]
    recipes = pd.Series([tuple(repr(v) for v in row) for row in frame[columns].itertuples(index=False)], index=frame.index)
    keep = []
    for i, row in frame.iterrows():
        same_task = frame["task"] == row["task"]
        defaults = recipes[same_task & frame["recipe_default"]]
        reference = (defaults if len(defaults) else recipes[same_task]).mode().iloc[0]
        keep.append(recipes[i] == reference)
    return keep


def position_sets(decisions: Decisions) -> list[CurveSet]:
    """Per (task, length) of recall and copy where Transformer runs vary only `model.positions`:
    their curves at each positions value's chosen learning rate."""
    runs = [r for r in decisions.records if r.config.model.name == "transformer" and r.val_curve
            and r.config.task in POSITION_TASKS and r.task.metric is not None]
    if not runs:
        return []
    by_id = {r.run_id: r for r in runs}
    frame = decisions.frame[decisions.frame["run_id"].isin(by_id)]
    frame = frame.assign(recipe_default=frame["main"], main=True,
                         positions=[by_id[i].config.model.positions or DEFAULT_POSITIONS for i in frame["run_id"]])
    frame = chosen_runs(frame[_only_positions_vary(frame)])
    sets = []
    for (task, length), group in frame.groupby(["task", "length"], sort=True):
        if group["positions"].nunique() < 2:
            continue
        found: dict = {}
        for _, row in group.iterrows():
            curve = read_curve(by_id[row["run_id"]], row["positions"])
            if curve:
                found.setdefault(row["positions"], []).append(curve)
        metric, higher, threshold = task_info(by_id[group["run_id"].iloc[0]])
        sets.append(CurveSet(task, metric, higher, threshold, "length", {int(length): [c for k in sorted(found) for c in found[k]]}))
    return sets


def positions(decisions: Decisions, out: Path) -> list[str]:
    """figures/positions.png: the Transformer's validation curves on recall and copy, one colour per
    position encoding (sinusoidal | learned | rope), one panel per task and length; [] without such runs."""
    items = [(f"transformer: {cs.task}, length {length}", cs, curves)
             for cs in position_sets(decisions) for length, curves in cs.panels.items()]
    if not items:
        return []
    colors = palette(c.label for _, _, curves in items for c in curves)
    with plotting():
        fig = curves_figure(items, colors, "the Transformer's position encodings (one line per seed)", "positions")
        return [save(fig, out, "positions")]
