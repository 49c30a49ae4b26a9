"""The recipe's claims, read off the ablation runs: clipping against divergence and the IRNN
against the tanh rnn (the vanilla-RNN ablation), cross-entropy against MSE on copy."""
from __future__ import annotations

import math

import pandas as pd

from .base import (FINDINGS, NOT_MEASURED, NOT_REPRODUCED, REPRODUCED, STANDARD, Evidence, Finding, Needs,
                   longest_solved, longest_text)


def _rnn_ablation(runs: pd.DataFrame) -> pd.DataFrame:
    """The rnn runs of every protocol that holds rnn variants (the ablation), default recipe included."""
    if runs.empty:
        return runs
    rnn = runs[runs["model"] == "rnn"]
    ablated = set(rnn.loc[~rnn["main"].astype(bool), "protocol"])
    return rnn[rnn["protocol"].isin(ablated)]


@FINDINGS.register("clipping", needs=Needs(tasks=("adding", "copy"), by=STANDARD))
def clipping(evidence: Evidence) -> Finding:
    claim = "In the vanilla-RNN ablation, gradient clipping lowers the share of diverged runs."
    rule = "reproduced when the diverged share with clipping is below the share without"
    runs = _rnn_ablation(evidence.runs)
    if runs.empty or runs["clip"].notna().all() or runs["clip"].isna().all():
        return Finding("clipping", claim, NOT_MEASURED, {}, rule)
    clipped, unclipped = runs[runs["clip"].notna()], runs[runs["clip"].isna()]
    share = lambda f: float((f["status"] == "diverged").mean())  # noqa: E731
    numbers = {"diverged with clipping": f"{int((clipped['status'] == 'diverged').sum())}/{len(clipped)}",
               "diverged without clipping": f"{int((unclipped['status'] == 'diverged').sum())}/{len(unclipped)}"}
    ok = share(clipped) < share(unclipped)
    return Finding("clipping", claim, REPRODUCED if ok else NOT_REPRODUCED, numbers, rule)


@FINDINGS.register("relu-identity", needs=Needs(tasks=("adding",), by=STANDARD))
def relu_identity(evidence: Evidence) -> Finding:
    claim = "IRNN (relu, identity init, clipping) solves adding at a longer length than the tanh rnn with default init."
    rule = "reproduced when the IRNN's median longest solved length on adding exceeds the tanh default-init rnn's"
    runs = _rnn_ablation(evidence.runs)
    runs = runs[runs["task"] == "adding"] if not runs.empty else runs
    if runs.empty:
        return Finding("relu-identity", claim, NOT_MEASURED, {}, rule)
    irnn = runs[(runs["nonlinearity"] == "relu") & (runs["init"] == "identity") & runs["clip"].notna()]
    tanh = runs[(runs["nonlinearity"] == "tanh") & runs["init"].isin(["auto", "default"]) & runs["clip"].notna()]
    a, b = longest_solved(irnn, "rnn"), longest_solved(tanh, "rnn")
    numbers = {"IRNN longest solved L": longest_text(a), "tanh longest solved L": longest_text(b)}
    if a is None or b is None:
        return Finding("relu-identity", claim, NOT_MEASURED, numbers, rule)
    return Finding("relu-identity", claim, REPRODUCED if a["median"] > b["median"] else NOT_REPRODUCED, numbers, rule)


@FINDINGS.register("mse-vs-ce", needs=Needs(tasks=("copy",), by=STANDARD))
def mse_vs_ce(evidence: Evidence) -> Finding:
    claim = "Cross-entropy trains classification (copy) faster than MSE on one-hot targets: fewer steps to solve."
    rule = ("reproduced when, pairing runs of one protocol by model, length and seed, cross-entropy solves in "
            "fewer steps in more pairs than MSE does (a run that never solves, or fails, counts as slower)")
    runs = evidence.runs
    if runs.empty or "loss" not in runs:
        return Finding("mse-vs-ce", claim, NOT_MEASURED, {}, rule)
    copy = runs[runs["task"] == "copy"]
    mse = copy[copy["loss"] == "mse"]
    if mse.empty:
        return Finding("mse-vs-ce", claim, NOT_MEASURED, {}, rule)
    ce = copy[(copy["loss"] == "default") & copy["model"].isin(mse["model"].unique())]
    key = ["protocol", "model", "length", "seed"]  # loss is a recipe setting: both sides share the protocol
    paired = ce.merge(mse, on=key, suffixes=("_ce", "_mse"))
    if paired.empty:
        return Finding("mse-vs-ce", claim, NOT_MEASURED, {}, rule)
    paired = paired.assign(solved_ce=paired["solved_ce"].fillna(False).astype(bool),
                           solved_mse=paired["solved_mse"].fillna(False).astype(bool))
    steps = lambda r, s: r[f"solved_step_{s}"] if r[f"solved_{s}"] else math.inf  # noqa: E731
    ce_faster = sum(steps(r, "ce") < steps(r, "mse") for _, r in paired.iterrows())
    mse_faster = sum(steps(r, "mse") < steps(r, "ce") for _, r in paired.iterrows())
    med = lambda s: (float(paired.loc[paired[f"solved_{s}"], f"solved_step_{s}"].median())  # noqa: E731
                     if paired[f"solved_{s}"].any() else None)
    numbers = {"pairs": len(paired), "cross-entropy faster": ce_faster, "MSE faster": mse_faster,
               "median steps to solve, cross-entropy": med("ce"), "median steps to solve, MSE": med("mse"),
               "solved, cross-entropy": f"{int(paired['solved_ce'].sum())}/{len(paired)}",
               "solved, MSE": f"{int(paired['solved_mse'].sum())}/{len(paired)}"}
    return Finding("mse-vs-ce", claim, REPRODUCED if ce_faster > mse_faster else NOT_REPRODUCED, numbers, rule)
