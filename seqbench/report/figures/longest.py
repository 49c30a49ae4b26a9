"""The longest solved length: censored (≥ L) and nothing solved (< start) drawn as such."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..decisions import Decisions
from ..frame import ROW
from ..style import new_figure, palette, plotting, save, seed_points
from .common import row_labels


@dataclass(frozen=True)
class Longest:
    """One model's longest solved length on one task: the median seed (a seed's own value), the
    seeds' min–max, and whether it is a bound rather than a limit."""
    task: str
    label: str
    value: float  # the median seed's longest solved length; 0 when it solved nothing
    low: float
    high: float
    start: int  # the shortest length tried
    censored: bool  # the median seed solved even the longest length tried: the limit is >= value
    below_start: bool  # the median seed solved nothing: the limit is < start
    text: str  # "40", "≥ 80", "< 8"
    seeds: tuple  # each seed's value (0: nothing solved)

    @property
    def mark(self) -> str:
        return "censored" if self.censored else "below" if self.below_start else "solved"


# How each kind of result is drawn: a limit (filled), a lower bound (open, arrow up), nothing solved (open, arrow down).
MARKS = {
    "solved": {"marker": "o", "filled": True, "arrow": None, "legend": None},
    "censored": {"marker": "^", "filled": False, "arrow": "up", "legend": "censored: at least (solved the longest length tried)"},
    "below": {"marker": "v", "filled": False, "arrow": "down", "legend": "nothing solved: below the shortest length tried"},
}


def longest_table(decisions: Decisions) -> list[Longest]:
    """Per (task, model) of the default recipe: the longest solved length the tables show
    (decisions.longest), where there is a length axis to draw: a length search, or two lengths or more
    tried with a solved threshold."""
    rows, frame = decisions.longest, decisions.frame
    if rows.empty:
        return []
    threshold = frame.groupby(ROW, dropna=False)["solved_threshold"].first()
    main = frame.groupby(ROW, dropna=False)["main"].all()
    # A search over a task parameter (recall_mqar's pairs) is not a length: its table and the
    # recall-capacity figure show it.
    on_length = frame.groupby(ROW, dropna=False)["axis"].first() == "length"
    keys = [tuple(k) for k in rows[ROW].itertuples(index=False)]
    rows = rows[[bool(main.get(k, False)) and bool(on_length.get(k, True)) for k in keys]]
    rows = rows[[r.searched or (len(r.tested.split()) > 1 and not pd.isna(threshold.get(tuple(getattr(r, c) for c in ROW))))
                 for r in rows.itertuples()]]
    if rows.empty:
        return []
    seeds = decisions.seeds
    labels = row_labels(rows)
    out = []
    for r, label in zip(rows.itertuples(), labels):
        mine = seeds[(seeds["task"] == r.task) & (seeds["protocol"] == r.protocol) & (seeds["model"] == r.model)
                     & (seeds["variant"] == r.variant)]
        values = tuple(sorted(float(v) if v is not None and not pd.isna(v) else 0.0 for v in mine["longest"]))
        out.append(Longest(r.task, label, float(r.longest), float(r.low), float(r.high), int(r.start), bool(r.censored),
                           r.longest < r.start, r.text, values))
    return sorted(out, key=lambda x: (x.task, x.label))


def longest_figure(table: list[Longest]):
    """Tasks along x, one dodged column per model, length on a log axis."""
    from matplotlib.lines import Line2D

    tasks = sorted({x.task for x in table})
    colors = palette(x.label for x in table)
    fig, axes = new_figure(max(5.2, 1.6 * len(tasks) + 2), 3.6)
    ax = axes[0][0]
    width = 0.8 / max(1, len(colors))
    for x in table:
        i = list(colors).index(x.label)
        pos = tasks.index(x.task) - 0.4 + width * (i + 0.5)
        style, color = MARKS[x.mark], colors[x.label]
        floor = x.start / 1.5  # where "nothing solved" sits: below the shortest length tried
        seeds = [v if v else floor for v in x.seeds]
        seed_points(ax, [pos] * len(seeds), seeds, color)
        y = x.value if x.value else floor
        if x.high > x.low:
            ax.plot([pos, pos], [x.low or floor, x.high], color=color, lw=1.2)
        ax.plot([pos], [y], ls="", marker=style["marker"], ms=8, color=color, mec=color,
                mfc=color if style["filled"] else "white", zorder=4)
        if style["arrow"]:
            ax.annotate("", xy=(pos, y * (1.8 if style["arrow"] == "up" else 1 / 1.8)), xytext=(pos, y),
                        arrowprops={"arrowstyle": "->", "color": color, "lw": 1.2})
        ax.annotate(x.text, (pos, y), textcoords="offset points", xytext=(0, -12 if style["arrow"] == "up" else 8),
                    ha="center", fontsize=6, color="0.2")
    ax.set_yscale("log", base=2)
    ax.set_xticks(range(len(tasks)), tasks)
    ax.set_xlim(-0.6, len(tasks) - 0.4)
    ax.set_ylabel("longest solved length")
    ax.set_title("longest dependency length solved (median seed; line: seeds' min–max)", fontsize=8)
    handles = [Line2D([], [], color=c, marker="o", ls="", label=label) for label, c in colors.items()]
    handles += [Line2D([], [], color="0.3", marker=s["marker"], mfc="white", ls="", label=s["legend"])
                for s in MARKS.values() if s["legend"] and any(MARKS[x.mark] is s for x in table)]
    ax.legend(handles=handles, fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


def longest_solved(decisions: Decisions, out: Path) -> list[str]:
    """The longest solved length per task and model: searched (chains) or from the fixed lengths;
    a censored result (≥ L) is an open triangle with an arrow up, nothing solved (< start) one down."""
    table = longest_table(decisions)
    if not table:
        return []
    with plotting():
        return [save(longest_figure(table), out, "max_solved_length")]
