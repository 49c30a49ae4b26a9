"""The report section "Length generalisation": a table per task class, a figure of accuracy against
length, and Delétang et al.'s scores beside ours. Its three findings are in the report's Findings
(report/findings/generalisation.py), with every other claim.

It reads the run files' `generalisation` blocks and the published scores copied into the results
directory (references.json, key `generalisation`; from tasks/references.yaml). Nothing shows when
no run has the block, so other leaderboards render as before.
"""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from .decisions import Decisions
from .frame import model_rank
from .generalisation import CLASS_TITLES, CLASSES, GENERALISES, TRANSFORMER, generalisation_frame, summarise
from .literature_section import read_references
from .section import Section, Text
from .style import new_figure, palette, plotting, save
from .table import Table

TITLE = "Length generalisation"
COLUMNS = ["task", "model", "score (mean ± 95% CI, n)", "best seed", "at training lengths", "runs",
           "Delétang et al. (best of 10)"]


def read_published(results: Path) -> dict:
    """{"scores": {task: {model: score}}, "verified": bool, "verified_scores": {task: {model: source}}, ...}
    from references.json, or {}."""
    return (read_references(results) or {}).get("generalisation") or {}


def _published(published: dict, task: str, row: str) -> str:
    model = TRANSFORMER if row.startswith(TRANSFORMER) else row
    value = (published.get("scores") or {}).get(task, {}).get(model)
    if value is None:
        return "—"
    checked = published.get("verified") or model in ((published.get("verified_scores") or {}).get(task) or {})
    return f"{value:.3f}" + ("" if checked else " (unverified)")


def _score(mean: float, half: float, n: int) -> str:
    text = f"{mean:.3f}" + (f" ± {half:.3f}" if math.isfinite(half) else "") + f" (n={n})"
    return f"**{text}**" if mean >= GENERALISES else text


def class_table(summary: pd.DataFrame, language_class: str, published: dict) -> Table:
    cells = summary[summary["language_class"] == language_class]
    rows = sorted(cells.itertuples(), key=lambda c: (c.task, model_rank(c.row)))
    return Table.of_text(COLUMNS, [[c.task, c.row, _score(c.mean, c.half, c.n), f"{c.best:.3f}", f"{c.train:.3f}",
                                    c.statuses, _published(published, c.task, c.row)] for c in rows],
                         title=CLASS_TITLES[language_class])


def accuracy_vs_length(frame: pd.DataFrame, out: Path) -> list[str]:
    """One panel per task: mean accuracy over seeds at each training length (validation) and test
    length, one line per row; the training range shaded, the 0.9 line dashed."""
    if frame.empty:
        return []
    class_of = dict(zip(frame["task"], frame["language_class"]))
    tasks = sorted(class_of, key=lambda t: (CLASSES.index(class_of[t]) if class_of[t] in CLASSES else len(CLASSES), t))
    colors = palette(frame["row"].unique())
    with plotting():
        ncols = min(4, len(tasks))
        nrows = -(-len(tasks) // ncols)
        fig, axes = new_figure(3.2 * ncols, 2.6 * nrows + 0.4, nrows, ncols)
        flat = [ax for row in axes for ax in row]
        for ax in flat[len(tasks):]:
            fig.delaxes(ax)
        for ax, task in zip(flat, tasks):
            runs = frame[frame["task"] == task]
            top = max(max(d) for d in runs["train_lengths"] if d) if any(runs["train_lengths"]) else 40
            ax.axvspan(1, top, color="0.92", zorder=0)
            ax.axhline(GENERALISES, color="0.5", lw=0.8, ls="--")
            for row in colors:
                mine = runs[runs["row"] == row]
                if mine.empty:
                    continue
                per_length = pd.DataFrame([{**d_train, **d_test} for d_train, d_test in zip(mine["train_lengths"], mine["test_lengths"])])
                means = per_length.mean().sort_index()
                ax.plot(means.index, means.values, color=colors[row], lw=1.2, label=row)
            ax.set_xscale("log")
            ax.set_ylim(0, 1.02)
            ax.set_title(f"{task} ({class_of[task]})", fontsize=9)
            ax.set_xlabel("string length")
            ax.set_ylabel("accuracy")
        handles, labels = flat[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=min(7, len(labels)), fontsize=7, frameon=False,
                   bbox_to_anchor=(0.5, -0.02))
        fig.tight_layout(rect=(0, 0.06, 1, 1))
        return [save(fig, out, "generalisation_accuracy_vs_length")]


def generalisation_section(decisions: Decisions, results: Path, out: Path) -> Section | None:
    frame = generalisation_frame(decisions)
    if frame.empty:
        return None
    summary = summarise(frame)
    published = read_published(results)
    trained = sorted({L for d in frame["train_lengths"] for L in d})
    tested = sorted({L for d in frame["test_lengths"] for L in d})
    intro = (f"Trained on string lengths {trained[0]}-{trained[-1]}, tested at {', '.join(map(str, tested))} "
             "(a fixed set per length, none of them a training length). A run's score is its mean accuracy over the "
             "test lengths (Delétang et al. 2023); each cell is the mean over seeds at the learning rate validation "
             f"chose, with its 95% t-interval, in bold at {GENERALISES} or more; 'best seed' is the comparison with "
             "the reference, which reports the best of 10 seeds. 'At training lengths' is the mean validation "
             "accuracy over the training lengths: a model low there never learned the task, one high there and low "
             "on the score learned it and did not extrapolate. The Transformer reads causally; a learned position "
             "table is not run, since its rows past the training lengths are never trained. The findings "
             "generalise-regular, generalise-nonregular and transformer-positions are decided on these cells "
             "(Findings, above).")
    blocks = [Text(intro)]
    blocks += [class_table(summary, c, published) for c in CLASSES if (summary["language_class"] == c).any()]
    if published and not published.get("verified"):
        blocks.append(Text(f"(unverified): {published.get('why', 'the published number was not checked against the paper')}."))
    return Section(TITLE, blocks, accuracy_vs_length(frame, Path(out)))

