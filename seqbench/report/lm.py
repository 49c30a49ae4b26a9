"""The language-modelling section of the report: how much context each model uses, and samples.

    section = lm_section(records, out)   # a Section, or None without language-model runs

`records` are run files (seqbench.store.load_runs); only those with an `lm` block (character-level
language models, see seqbench/data/charlm.py) take part. Per task, context length and model, the
learning rate with the best mean validation score is kept (the test split never chooses), and its
seeds are averaged: test bits per character, the effective context (the smallest context after
which the per-position loss stays within 1% of its final value; Khandelwal et al. 2018) and the
per-position loss curve, drawn one line per model in `figures/lm_<task>_per_position.png`.
The HTML page also shows each model's sample (seed 0 of the kept learning rate).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..record import RunRecord
from .decisions import Decisions
from .frame import TRAIN_UNIGRAM_ENTROPY, model_rank
from .leaderboard import model_name
from .section import Sample, Samples, Section, Text
from .style import new_figure, palette, plotting, save
from .table import Cell, Table, format_or_dash

LN2 = math.log(2)
TITLE = "Language modelling: how much context each model uses"
ABOUT = ("Character-level language models: test bits per character (mean over seeds, ± SD), the loss over the "
         "last 10% of the window's positions, and the effective context: the fewest characters of context after which "
         "the per-position test loss stays within 1% of its final value (after Khandelwal et al. 2018). "
         "Where a curve flattens, extra context stops helping. The curve comes from windows starting at "
         "consecutive characters of the test text's first few thousand characters, so its level can differ "
         "from the test bpc, which covers the whole test split.")
COLUMNS = ["task", "length", "model", "test bpc ↓", "bpc, last 10% of positions", "effective context", "lr", "n"]


def _groups(decisions: Decisions) -> dict[tuple, list[RunRecord]]:
    """(task, length, model) -> the finished runs (all seeds) of the learning rate decisions chose."""
    lm = [r for r in decisions.records if r.finished and r.lm is not None]
    if not lm:
        return {}
    by_id = {r.run_id: r for r in lm}
    chosen = {}
    selected = decisions.selected[decisions.selected["run_id"].isin(by_id)]
    for (task, length, model, variant), rows in selected.groupby(["task", "length", "model", "variant"]):
        chosen[(task, int(length), model_name(model, variant))] = sorted(
            (by_id[run_id] for run_id in rows["run_id"]), key=lambda r: r.config.seed)
    return chosen


def _summary(runs: list[RunRecord]) -> dict:
    curves = [np.asarray(r.lm.per_position_loss, dtype=float) for r in runs]
    curve = np.mean(curves, axis=0)
    bpc = [r.metrics.get("test/bpc", float("nan")) for r in runs]
    contexts = [r.lm.effective_context for r in runs]
    return {"curve": curve, "bpc": float(np.mean(bpc)), "bpc_sd": float(np.std(bpc, ddof=1)) if len(bpc) > 1 else None,
            "context": float(np.mean(contexts)), "n": len(runs), "baseline": (runs[0].baseline or {}).get("bpc"),
            "sample": runs[0].lm.sample or {}, "lr": runs[0].config.train.lr,
            "final_bpc": float(np.mean([r.lm.final_loss for r in runs])) / LN2}


def _figure(task: str, table: dict[tuple, dict], out: Path) -> str:
    """Loss (bits) against position, one panel per context length, one line per model."""
    lengths = sorted({length for (t, length, _) in table if t == task})
    colors = palette(m for (t, _, m) in table if t == task)
    with plotting():
        fig, axes = new_figure(4.2 * len(lengths), 3.2, 1, len(lengths))
        for ax, length in zip(axes[0], lengths):
            for model in colors:
                s = table.get((task, length, model))
                if s is None:
                    continue
                positions = np.arange(1, len(s["curve"]) + 1)  # characters of context seen
                ax.plot(positions, s["curve"] / LN2, color=colors[model], lw=1.2,
                        label=f"{model} (k={s['context']:.0f})")
                ax.axvline(s["context"], color=colors[model], lw=0.6, ls=":")
            ax.set_xscale("log")
            ax.set_xlabel("characters of context (position in window)")
            ax.set_ylabel("test loss (bits per character)")
            ax.set_title(f"{task}, context length {length}")
            ax.legend(fontsize=7, frameon=False)
        return save(fig, out, f"lm_{task}_per_position")


def _task_table(task: str, table: dict[tuple, dict]) -> Table:
    keys = sorted((k for k in table if k[0] == task), key=lambda k: (k[1], model_rank(k[2])))
    rows = []
    for key in keys:
        s = table[key]
        bpc = format_or_dash(s["bpc"], ".3f") + (f" ± {format_or_dash(s['bpc_sd'], '.3f')}" if s["bpc_sd"] is not None else "")
        rows.append([Cell(task), Cell(str(key[1])), Cell(key[2]), Cell(bpc, s["bpc"]), Cell(format_or_dash(s["final_bpc"], ".3f")),
                     Cell(f"{s['context']:.0f}", s["context"]), Cell(f"{s['lr']:g}"), Cell(str(s["n"]))])
    baselines = sorted({(k[1], table[k]["baseline"]) for k in keys if table[k]["baseline"] is not None})
    footer = [[Cell(task), Cell("all"), Cell(TRAIN_UNIGRAM_ENTROPY), Cell(format_or_dash(value, ".3f"))] + [Cell("")] * 4
              for _, value in baselines[:1]]
    return Table("", COLUMNS, rows, footer=footer)


def lm_section(decisions: Decisions, out: Path) -> Section | None:
    """The section for the language-model runs among the decisions' records; None when there are none."""
    table = {key: _summary(runs) for key, runs in _groups(decisions).items()}
    if not table:
        return None
    tasks = sorted({t for (t, _, _) in table})
    samples = tuple(
        Sample(f"**{model}**, {task}, context {length} (temperature {s['sample'].get('temperature')}, "
               f"seed {s['sample'].get('seed')})", s["sample"].get("prompt", ""), s["sample"].get("text", ""))
        for task in tasks
        for (_, length, model), s in sorted(((k, v) for k, v in table.items() if k[0] == task),
                                           key=lambda kv: (kv[0][1], model_rank(kv[0][2])))
        if s["sample"])
    blocks = [Text(ABOUT)] + [_task_table(task, table) for task in tasks] + ([Samples(samples)] if samples else [])
    return Section(TITLE, blocks, [_figure(task, table, Path(out)) for task in tasks])
