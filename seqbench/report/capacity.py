"""State size in the tables, and recall capacity: Zoology's figure at our scale.

Every run file since the state probe (measure/state_size.py) has a `state` block: the bytes a model
carries from one position to the next when it reads a sequence left to right. The tables show it
per row (`state_text`); the section "Recall capacity" draws accuracy against it on recall_mqar's
key-value-pairs axis, one panel per pair count and one line per model family (a family is an
architecture: its points are the parameter budgets it ran at, so one budget gives one point per
panel), as Arora et al. 2023 (Zoology, Figure 2) draw MQAR accuracy against state size.

    state_text(rows)   # "1,120" (fixed), "none: reads the whole sequence first" (bilstm),
                       # "4,608–36,864, grows with T (28–112)" (the causal Transformer's key-value cache)

Run files without a state block (results/standard v1) give no column and no section.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..status import FINISHED
from .decisions import Decisions
from .section import Section, Text
from .style import palette, panels, plotting, save

FIXED, GROWS, NONE = "fixed", "grows with length", "none"  # measure/state_size.py's kinds, as run files hold them
COLUMN = "state (bytes)"
PAIRS = "n_pairs"  # the axis of recall capacity (RunRecord.axis of a pairs search's probes)
TITLE = "Recall capacity: accuracy against state size"
NOTE = ("State (bytes): what the model carries from one position to the next when it reads left to right, measured "
        "by running it (measure/state_size.py): the recurrent state, fixed; none for bilstm, which reads the whole "
        "sequence first; the causal Transformer's key-value cache, which grows with T.")
ADDED_NOTE = ("The state of runs made before the probe (those reused from an earlier version) was added afterwards, "
              "measured on the model rebuilt from the run's config, untrained (tools/add_state.py; the bytes depend "
              "on the shapes only).")
ADDED_MARK = "tools/add_state.py"  # what the tool writes into a state block's note


def state_note(rows: pd.DataFrame) -> str:
    """The table note's sentences on state: what the column holds, and, where some of these runs had
    theirs added afterwards (tools/add_state.py), that too."""
    notes = rows["state/note"].dropna() if "state/note" in rows else pd.Series(dtype=object)
    added = notes.astype(str).str.contains(ADDED_MARK, regex=False).any()
    return NOTE + (" " + ADDED_NOTE if added else "")


def has_state(rows: pd.DataFrame) -> bool:
    """Whether any of these runs recorded what it carries (the tables add their column only then). A
    block of kind unknown (a plugin encoder that does not say) is a dash, and adds no column alone."""
    return "state/kind" in rows and rows["state/kind"].isin((FIXED, GROWS, NONE)).any()


def _bytes(value: float) -> str:
    return f"{value:,.0f}"


def state_text(rows: pd.DataFrame) -> str:
    """One table row's state size, from its runs' state blocks: the bytes of a fixed state; `none` for
    a model that reads the whole sequence first (bilstm, a bidirectional Transformer); the range for a
    state that grows with T (a key-value cache), with the lengths it was measured at; a dash without."""
    kinds = rows["state/kind"].dropna() if "state/kind" in rows else pd.Series(dtype=object)
    if kinds.empty:
        return "—"
    kind = kinds.mode().iloc[0]
    measured = rows[rows["state/kind"] == kind]
    if kind == NONE:
        return "none: reads the whole sequence first"
    if kind == FIXED:
        return _bytes(measured["state/bytes"].median())
    if kind == GROWS:
        low, high = measured["state/bytes"].min(), measured["state/bytes"].max()
        t_low, t_high = int(measured["state/seq_len"].min()), int(measured["state/seq_len"].max())
        sizes = _bytes(low) if low == high else f"{_bytes(low)}–{_bytes(high)}"
        at = f"T={t_low}" if t_low == t_high else f"T={t_low}–{t_high}"
        return f"{sizes}, grows with T ({at})"
    return "—"  # unknown: the encoder does not say what it carries


def capacity_points(frame: pd.DataFrame) -> pd.DataFrame:
    """Per model, parameter budget and pair count on the pairs axis: the mean test accuracy of the
    default-recipe runs at the chosen rate and their median state bytes. Columns: model, params,
    pairs, accuracy, state_bytes, kind, seeds. A search stops at its first failure, so a model has no point
    beyond it."""
    columns = ["model", "params", "pairs", "accuracy", "state_bytes", "kind", "seeds"]
    if frame.empty or "axis" not in frame or not (frame["axis"] == PAIRS).any():
        return pd.DataFrame(columns=columns)
    runs = frame[(frame["axis"] == PAIRS) & frame["main"].astype(bool) & frame["chosen"].astype(bool)
                 & frame["status"].isin(FINISHED) & frame["state/bytes"].notna()]
    rows = []
    for (model, params, pairs), group in runs.groupby(["model", "config/params", "length"], sort=True):
        metric = group["metric"].iloc[0]
        rows.append({"model": model, "params": int(params), "pairs": int(pairs),
                     "accuracy": float(group[f"test/{metric}"].mean()), "state_bytes": float(group["state/bytes"].median()),
                     "kind": group["state/kind"].mode().iloc[0], "seeds": len(group)})
    return pd.DataFrame(rows, columns=columns)


def capacity_figure(points: pd.DataFrame, out: Path) -> str:
    counts = sorted(points["pairs"].unique())
    colors = palette(points["model"])  # in the order of every table and legend
    span = (points["state_bytes"].min() / 1.5, points["state_bytes"].max() * 1.5)  # one x range, so panels compare
    with plotting():
        fig, axes = panels(len(counts), 3.0, 2.6, ncols=4)
        for ax, pairs in zip(axes, counts):
            here = points[points["pairs"] == pairs]
            for model in [m for m in colors if m in set(here["model"])]:
                line = here[here["model"] == model].sort_values("state_bytes")
                grows = (line["kind"] == GROWS).any()
                ax.plot(line["state_bytes"], line["accuracy"], marker="s" if grows else "o", ms=5, color=colors[model],
                        label=model + (" (KV cache)" if grows else ""))
            ax.set_xscale("log", base=2)
            ax.set_xlim(*span)
            ax.set_ylim(-0.02, 1.02)
            ax.set_title(f"{pairs} key-value pairs")
            ax.set_xlabel("state size (bytes)")
            ax.set_ylabel("test accuracy")
        handles = {}
        for ax in axes:
            for handle, label in zip(*ax.get_legend_handles_labels()):
                handles.setdefault(label, handle)
        fig.legend(list(handles.values()), list(handles), loc="lower center", ncol=min(6, len(handles)), frameon=False,
                   bbox_to_anchor=(0.5, -0.02))
        fig.tight_layout(rect=(0, 0.08, 1, 1))
        return save(fig, out, "recall_capacity")


ABOUT = ("Zoology's axis (Arora et al. 2023, Figure 2) at this benchmark's scale: recall_mqar's key-value pairs "
         "searched at a fixed length, test accuracy against the bytes each model carries from one position to the "
         "next (the run files' state block, measured by running the model: measure/state_size.py). One panel per "
         "pair count, one line per model family through the parameter budgets it ran at (one budget: one point). "
         "The Transformer's key-value cache grows with the sequence (3 tokens per pair plus the gap), so its point "
         "moves right as the pairs grow; a fixed state stays put. bilstm carries nothing between positions (it reads "
         "the whole sequence first) and is not drawn. A search stops at a model's first failed pair count: no point "
         "beyond it. Accuracy: mean over seeds at the learning rate chosen on validation.")


def capacity_section(decisions: Decisions, out: Path) -> Section | None:
    """The section, or None without runs on the pairs axis that recorded their state."""
    points = capacity_points(decisions.frame)
    if points.empty:
        return None
    return Section(TITLE, [Text(ABOUT)], [capacity_figure(points, out)])
