"""The recipe's claims, read off the ablation runs: clipping against divergence and the IRNN
against the tanh rnn (the vanilla-RNN ablation), cross-entropy against MSE on copy."""
from __future__ import annotations

import math

import pandas as pd
from scipy import stats

from .base import (ALPHA, FINDINGS, NOT_MEASURED, NOT_REPRODUCED, REPRODUCED, STANDARD, Evidence, Finding, Needs,
                   chosen_of, longest_solved, longest_text)


def _rnn_ablation(runs: pd.DataFrame) -> pd.DataFrame:
    """The rnn runs of every protocol that holds rnn variants (the ablation), default recipe included;
    only those trained on the task's own loss: the MSE-vs-cross-entropy runs share the protocol but
    test another setting, so counting them would shift the clipping and IRNN pools."""
    if runs.empty:
        return runs
    rnn = runs[(runs["model"] == "rnn") & (runs["loss"] == "default")]
    ablated = set(rnn.loc[~rnn["main"].astype(bool), "protocol"])
    return rnn[rnn["protocol"].isin(ablated)]


@FINDINGS.register("clipping", needs=Needs(tasks=("adding", "copy"), by=STANDARD))
def clipping(evidence: Evidence) -> Finding:
    claim = "In the vanilla-RNN ablation, gradient clipping lowers the share of diverged runs."
    rule = (f"reproduced when the diverged share with clipping is below the share without, and Fisher's exact "
            f"test (one-sided) puts the difference beyond chance: p < {ALPHA}")
    runs = _rnn_ablation(evidence.runs)
    if runs.empty or runs["clip"].notna().all() or runs["clip"].isna().all():
        return Finding("clipping", claim, NOT_MEASURED, {}, rule)
    clipped, unclipped = runs[runs["clip"].notna()], runs[runs["clip"].isna()]
    diverged = lambda f: int((f["status"] == "diverged").sum())  # noqa: E731
    a, b = diverged(clipped), diverged(unclipped)
    p = float(stats.fisher_exact([[a, len(clipped) - a], [b, len(unclipped) - b]], alternative="less").pvalue)
    numbers = {"diverged with clipping": f"{a}/{len(clipped)}", "diverged without clipping": f"{b}/{len(unclipped)}",
               "Fisher's exact p (one-sided)": round(p, 4)}
    ok = a / len(clipped) < b / len(unclipped) and p < ALPHA
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
    rule = ("reproduced when, pairing runs of one protocol and recipe (clip, nonlinearity, init) by model, length "
            "and seed, cross-entropy solves in fewer steps in more pairs than MSE does (a run that never solves, "
            "or fails, counts as slower; a pair "
            f"neither solves is a tie), and a one-sided sign test over the pairs not tied gives p < {ALPHA}")
    runs = evidence.runs
    if runs.empty or "loss" not in runs:
        return Finding("mse-vs-ce", claim, NOT_MEASURED, {}, rule)
    copy = chosen_of(runs[runs["task"] == "copy"])  # each side at its chosen rate: one pair per seed
    mse = copy[copy["loss"] == "mse"]
    if mse.empty:
        return Finding("mse-vs-ce", claim, NOT_MEASURED, {}, rule)
    ce = copy[(copy["loss"] == "default") & copy["model"].isin(mse["model"].unique())]
    # loss is a recipe setting: both sides share the protocol. The other recipe settings are in the key
    # too, so an MSE run pairs with the cross-entropy run of its own recipe, not also with the rnn
    # ablation's variants (clipping off, the IRNN) at the same length and seed.
    key = ["protocol", "model", "length", "seed", "clip", "nonlinearity", "init"]
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
    decided = ce_faster + mse_faster
    p = float(stats.binomtest(ce_faster, decided, 0.5, alternative="greater").pvalue) if decided else 1.0
    numbers["sign test p (one-sided)"] = round(p, 4)
    ok = ce_faster > mse_faster and p < ALPHA
    return Finding("mse-vs-ce", claim, REPRODUCED if ok else NOT_REPRODUCED, numbers, rule)
