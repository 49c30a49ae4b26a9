"""The leaderboard's figures, drawn in the report's one style (style.py).

Every main figure shows the default recipe only (ablation variants have their own section), at the
learning rate validation chose, and draws each seed as a point beside the mean. Bands never leave
the metric's range: the seeds' min–max with fewer than 3 seeds, else a 95% t-interval clipped to the
range (numbers.spread, the same rule as the tables).

    metric_vs_length(frame, out)        figures/<task>_<metric>_vs_length.png   seeds, mean, band
    longest_solved(decisions, out)      figures/max_solved_length.png          censored (≥ L) marked
    learning_curves(decisions, out)     figures/curves_<task>.png              one panel per length
    positions(decisions, out)           figures/positions.png                  the Transformer's positions
    step_time_vs_length(frame, out), by_bucket(decisions, out)

Every choice they draw (the chosen rate, the longest solved length) is read from report/decisions.py,
so a figure never re-derives what a table shows.

Each returns the PNG paths relative to `out` (empty when there is nothing to draw).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..record import RunRecord
from ..status import FINISHED
from .decisions import Decisions, chosen_runs
from .frame import ROW, arrow, axis_label, axis_of, main_rows
from .leaderboard import model_name
from .numbers import metric_range, spread
from .style import new_figure, palette, panels, plotting, save, seed_points

BAND_NOTE = "points: seeds; band: min–max (n < 3) or 95% t-interval, clipped to the metric's range"


def _labels(rows: pd.DataFrame) -> pd.Series:
    """The model name, with its variant only where one (task, model) shows several."""
    several = rows.groupby(["task", "model"])["variant"].transform("nunique") > 1
    return pd.Series([model_name(m, v) if s else m for m, v, s in zip(rows["model"], rows["variant"], several)],
                     index=rows.index, dtype=object)


# ---- the metric against length: seeds, means, bands in range ----

def seed_table(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per finished seed at the chosen learning rate: task, label, length, seed, value."""
    runs = chosen_runs(frame)
    runs = runs[runs["status"].isin(FINISHED)]
    if runs.empty:
        return pd.DataFrame(columns=["task", "label", "length", "seed", "value", "metric", "higher_is_better", "baseline"])
    values = [row.get(f"test/{row['metric']}", math.nan) for _, row in runs.iterrows()]
    baselines = [row.get(f"baseline/{row['metric']}", math.nan) for _, row in runs.iterrows()]
    return pd.DataFrame({"task": runs["task"], "label": _labels(runs), "length": runs["length"], "seed": runs["seed"],
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


# ---- the longest solved length: censored (≥ L) and nothing solved (< start) drawn as such ----

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
    labels = _labels(rows)
    out = []
    for r, label in zip(rows.itertuples(), labels):
        mine = seeds[(seeds["task"] == r.task) & (seeds["protocol"] == r.protocol) & (seeds["model"] == r.model)
                     & (seeds["variant"] == r.variant)]
        values = tuple(sorted(float(v) if v is not None and not pd.isna(v) else 0.0 for v in mine["longest"]))
        out.append(Longest(r.task, label, float(r.longest), float(r.low), float(r.high), int(r.start), bool(r.censored),
                           r.longest < r.start, r.text, values))
    return sorted(out, key=lambda x: (x.task, x.label))


def _longest_figure(table: list[Longest]):
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
        return [save(_longest_figure(table), out, "max_solved_length")]


# ---- learning curves: small multiples per task ----

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


def _curve(record: RunRecord, label: str) -> Curve | None:
    points = [(s, v) for s, v in record.val_curve or [] if v is not None and math.isfinite(v)]
    if not points:
        return None
    steps, values = zip(*points)
    return Curve(label, int(record.config.seed), steps, values)


def _task_info(record: RunRecord) -> tuple[str, bool, float | None]:
    return record.task.metric, record.higher_is_better is not False, record.task.solved


def curve_sets(decisions: Decisions) -> list[CurveSet]:
    """Per task: the validation curves of the default recipe at the chosen learning rate."""
    scored = [r for r in decisions.records if r.val_curve and r.task.metric is not None]
    if not scored:
        return []
    by_id = {r.run_id: r for r in scored}
    runs = chosen_runs(decisions.frame)
    runs = runs[runs["run_id"].isin(by_id)]
    runs = runs.assign(label=_labels(runs))
    sets = []
    for task, group in runs.groupby("task", sort=True):
        by = "length" if group["length"].nunique() > 1 else "model"
        found: dict = {}
        for _, row in group.iterrows():
            curve = _curve(by_id[row["run_id"]], row["label"])
            if curve:
                found.setdefault(int(row["length"]) if by == "length" else row["label"], []).append(curve)
        if found:
            metric, higher, threshold = _task_info(by_id[group["run_id"].iloc[0]])
            keys = sorted(found) if by == "length" else sorted(found, key=list(palette(found)).index)
            sets.append(CurveSet(task, metric, higher, threshold, by, {k: found[k] for k in keys}))
    return sets


def _curves_figure(items: list[tuple[str, CurveSet, list]], colors: dict, title: str, legend_title: str | None = None):
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
            fig = _curves_figure(items, colors, f"{cs.task}: learning curves (one line per seed)")
            paths.append(save(fig, out, f"curves_{cs.task}"))
    return paths


# ---- the Transformer's position encodings ----

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
            curve = _curve(by_id[row["run_id"]], row["positions"])
            if curve:
                found.setdefault(row["positions"], []).append(curve)
        metric, higher, threshold = _task_info(by_id[group["run_id"].iloc[0]])
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
        fig = _curves_figure(items, colors, "the Transformer's position encodings (one line per seed)", "positions")
        return [save(fig, out, "positions")]


# ---- costs and real-task slices ----

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
        metric, higher, _ = _task_info(r)
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
