"""The "Clipping and initialisation ablation" section: the vanilla RNN's recipe variants side by side.

One row per (task, variant) of the RNN, where the variant is frame.variant_labels' (the settings that
differ among the RNN's runs of that task). Max solved length is decisions.longest, the leaderboard's rule.
"""
from __future__ import annotations

import math

import numpy as np

from .decisions import Decisions
from .scope import Needs
from .section import Section, Text, note_section
from .table import Table, format_or_dash

TITLE = "Clipping and initialisation ablation"
NEEDS = Needs(tasks=("adding", "copy"), by="the `ablation` suite")  # the tasks the ablation runs on (scope.py)
RECIPE = ["config/clip", "config/nonlinearity", "config/init"]  # what the ablation suite varies
ABOUT = (
    "The vanilla RNN with gradient clipping on or off, tanh or ReLU, and default, orthogonal or identity "
    "recurrent initialisation (ReLU + identity is the IRNN). **Max solved length**: the longest solved "
    "length of the leaderboard's tables: per seed, the longest length solved (status `solved`) below the "
    "first one not solved (a diverged run is not solved), then the median over seeds. **Diverged**: runs "
    "whose training loss became NaN or infinite. **Max grad norm**: median over runs of the largest global gradient norm seen in training (before clipping). "
    "**Init slope**: gradient-flow slope at initialisation at the longest length (nats per step).")
COLUMNS = ["task", "params", "clip", "nonlinearity", "init", "max solved length", "lengths tried",
           "diverged", "max grad norm", "init slope"]


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def ablation_section(decisions: Decisions) -> Section:
    frame = decisions.frame
    rnn = frame[frame["model"] == "rnn"] if not frame.empty else frame
    if rnn.empty or len(rnn[RECIPE].drop_duplicates()) < 2:
        return note_section(TITLE, "No ablation runs (run the `ablation` suite: `seqbench sweep tasks/suites/ablation.yaml`).")
    longest = decisions.longest
    solved = longest[longest["model"] == "rnn"].set_index(["task", "protocol", "variant"])
    entries = []
    for (task, protocol, variant), group in rnn.groupby(["task", "protocol", "variant"], sort=True):
        first = group.iloc[0]
        clip, params = first["config/clip"], int(first["config/params"])
        best = solved.loc[(task, protocol, variant)]
        norms = group["grad_norm_max"].dropna()
        longest = group[group["length"] == group["length"].max()]["init_slope"].dropna()
        diverged = int((group["status"] == "diverged").sum())
        cells = [task, f"{params:,}", "off" if _missing(clip) else format_or_dash(clip, "g"), first["config/nonlinearity"],
                 first["config/init"], f"{best['longest']:g}" if best["longest"] >= best["start"] else "none",
                 best["tested"], f"{diverged}/{len(group)} ({diverged / len(group):.0%})",
                 format_or_dash(float(np.median(norms)) if len(norms) else None, ".3g"),
                 format_or_dash(float(np.mean(longest)) if len(longest) else None, ".3f")]
        order = (task, params, not _missing(clip), 0 if _missing(clip) else clip, cells[3], cells[4])
        entries.append((order, cells))
    rows = [cells for _, cells in sorted(entries, key=lambda e: e[0])]
    return Section(TITLE, [Text(ABOUT), Table.of_text(COLUMNS, rows)])
