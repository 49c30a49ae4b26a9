"""The "Gradient flow" section: ‖∂L/∂h_t‖ against distance, from each run file's `gradflow` block."""
from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np

from ..record import RunRecord
from .frame import model_rank
from .section import Section, Text, note_section
from .style import new_figure, palette, plotting, save
from .table import Table, format_or_dash

TITLE = "Gradient flow"
ABOUT = (
    "‖∂L/∂h_t‖ on a fixed batch of 8 validation examples, at initialisation and after training, "
    "against the distance d = r − t from the position r where the loss first reads the sequence "
    "(last position for pooled tasks such as adding; first scored output for copy). h_t is the "
    "hidden state (total derivative through all later steps) for recurrent models and the "
    "residual stream entering the first layer for the Transformer. **Slope** is the least-squares "
    "slope of ln‖∂L/∂h_t‖ against d, in nats per step (e^slope is the per-step gain; negative "
    "means vanishing); **far/near** is the norm at t = 0 over the norm at d = 0. Means over seeds "
    "(ratios: geometric means). Default recipe per model only; the ablation variants are below. "
    "The figure shows each task at the longest length every model ran (the other lengths follow in an appendix figure); "
    "tasks scored at every position, such as tagging and language modelling, have a single distance and no curve.")
COLUMNS = ["task", "length", "model", "params", "seeds", "slope at init", "far/near at init",
           "slope after training", "far/near after training"]


def _mean_profile(blocks: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """Geometric mean over seeds of the norm at each distance (distances shared by all)."""
    common = sorted(set.intersection(*(set(b["distance"]) for b in blocks)))
    logs = []
    for b in blocks:
        lookup = dict(zip(b["distance"], b["norm"]))
        logs.append([math.log(lookup[d]) if lookup[d] else math.nan for d in common])
    with warnings.catch_warnings(), np.errstate(all="ignore"):  # all-underflow columns: NaN, dropped
        warnings.simplefilter("ignore", RuntimeWarning)
        values = np.exp(np.nanmean(np.asarray(logs, dtype=float), axis=0)) if logs else np.array([])
    return np.asarray(common), values


def _groups(records: list[RunRecord]) -> dict[tuple, list[RunRecord]]:
    """(task, length, model label) -> the default-recipe runs with a profile, all seeds (the caller passes
    the chosen learning rate's runs: rates that lost on validation are not more seeds)."""
    runs = [r for r in records if r.gradflow is not None and r.default_recipe]
    sizes: dict[tuple, set] = {}
    for r in runs:
        cfg = r.config
        sizes.setdefault((cfg.task, cfg.model.name), set()).add(cfg.model.params)
    groups: dict[tuple, list[RunRecord]] = {}
    for r in runs:  # a model seen at several budgets gets one line per budget: "rnn (25,000)"
        cfg = r.config
        name = cfg.model.name
        label = name if len(sizes[(cfg.task, name)]) == 1 else f"{name} ({cfg.model.params:,})"
        groups.setdefault((cfg.task, cfg.length, label), []).append(r)
    return groups


def gradflow_section(records: list[RunRecord], out: Path) -> Section:
    groups = _groups(records)
    if not groups:
        return note_section(TITLE, "No run files with gradient-flow profiles (run or sweep with this version of seqbench).")
    rows, flat = [], set()
    for (task, length, model) in sorted(groups, key=lambda k: (k[0], k[1], model_rank(k[2]))):
        members = groups[(task, length, model)]
        if all(len((m.gradflow.profile(stage) or {}).get("distance") or []) < 2
               for m in members for stage in ("init", "final")):
            flat.add(task)  # one distance: no slope, and far/near is 1 by definition, not a finding
            continue
        cells = [task, length, model, f"{members[0].params.params:,}", len(members)]
        for stage in ("init", "final"):
            blocks = [m.gradflow.profile(stage) for m in members if m.gradflow.profile(stage)]
            slopes = [b["slope"] for b in blocks if b.get("slope") is not None]
            ratios = [b["far_near_ratio"] for b in blocks if b.get("far_near_ratio")]
            cells.append(format_or_dash(float(np.mean(slopes)) if slopes else None, ".4f"))
            cells.append(format_or_dash(float(np.exp(np.mean(np.log(ratios)))) if ratios else None, ".2e"))
        rows.append(cells)
    parts = [Text(ABOUT), Table.of_text(COLUMNS, rows)] if rows else [Text(ABOUT)]
    if flat:
        parts.append(Text(f"Not tabulated: {', '.join(sorted(flat))}. Their runs' profiles have a single "
                          "distance, so there is no slope, and far/near is 1 by construction."))
    return Section(TITLE, parts, figures(groups, Path(out)))


STAGES = {"init": "at init", "final": "after training"}


def profiles(groups: dict) -> dict[tuple, dict[str, dict[str, tuple]]]:
    """(task, length) -> stage -> model -> (distance, norm), only curves with two points or more
    to draw; a (task, length) with nothing to draw (one distance, or every norm underflowed) is left out."""
    found: dict = {}
    for (task, length, model), members in groups.items():
        for stage in STAGES:
            blocks = [m.gradflow.profile(stage) for m in members if m.gradflow.profile(stage)]
            if not blocks:
                continue
            distance, norm = _mean_profile(blocks)
            keep = np.isfinite(norm) & (norm > 0)
            if keep.sum() >= 2:  # a profile needs two distances (tasks scored at every position have one)
                found.setdefault((task, length), {}).setdefault(stage, {})[model] = (distance[keep], norm[keep])
    return found


def headline_panels(found: dict) -> tuple[list[tuple], list[tuple]]:
    """(headline rows: each task at its longest length among those with the most models profiled,
    appendix rows: the other lengths). With length searches the longest lengths are reached by a few
    models only; the headline compares them all, so it takes the longest length every model ran."""
    def models(key):
        return len(set().union(*(stages.keys() for stages in found[key].values())))
    best: dict = {}
    for task, length in found:
        rank = (models((task, length)), length)
        if task not in best or rank > best[task][0]:
            best[task] = (rank, length)
    head = sorted((task, length) for task, (_, length) in best.items())
    return head, sorted(k for k in found if k not in head)


def figures(groups: dict, out: Path) -> list[str]:
    """figures/gradflow.png (one row per task at its longest length, init beside trained) and
    figures/gradflow_appendix.png (the other lengths), when there are any."""
    found = profiles(groups)
    if not found:
        return []
    colors = palette({m for _, _, m in groups})
    head, rest = headline_panels(found)
    with plotting():
        paths = [save(_figure(found, head, colors), out, "gradflow")]
        if rest:
            paths.append(save(_figure(found, rest, colors), out, "gradflow_appendix"))
    return paths


def _figure(found: dict, rows: list[tuple], colors: dict):
    """One row per (task, length), a panel per stage; a stage without data leaves no empty panel."""
    fig, axes = new_figure(8.0, 2.4 * len(rows) + 0.4, len(rows), len(STAGES))
    for row, key in enumerate(rows):
        for col, stage in enumerate(STAGES):
            ax, curves = axes[row][col], found[key].get(stage, {})
            if not curves:
                fig.delaxes(ax)
                continue
            for model in colors:
                if model in curves:
                    ax.plot(*curves[model], label=model, color=colors[model], lw=1.4)
            ax.set_yscale("log")
            ax.set_title(f"{key[0]}, length {key[1]}: {STAGES[stage]}")
            ax.set_xlabel("distance from the loss position (steps)")
            ax.set_ylabel("‖∂L/∂h_t‖")
    seen: dict = {}
    for ax in fig.axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(label, handle)
    if seen:
        fig.legend(list(seen.values()), list(seen), loc="upper center", ncol=len(seen), frameon=False,
                   bbox_to_anchor=(0.5, 1.0))
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.3 / (2.4 * len(rows) + 0.4)))
    return fig
