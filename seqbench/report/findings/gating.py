"""Memory over distance: the gated cells against the tanh rnn on adding and copy (longest solved
length), the rnn's vanishing gradient at initialisation, and the LSTM on copy against the memoryless
baseline that Arjovsky et al. 2016 report."""
from __future__ import annotations

import math

import pandas as pd

from ...status import FINISHED
from .base import (FINDINGS, GATED, NOT_MEASURED, NOT_REPRODUCED, REPRODUCED, STANDARD, Evidence, Finding, Needs,
                   chosen_of, longest_solved, longest_text, main_of)


def _carry_longer(task: str, runs: pd.DataFrame) -> Finding:
    claim = f"lstm and gru carry a longer dependency on {task} than the tanh rnn (longest solved length)."
    fid = f"{task}-gating"
    main = main_of(runs, task)
    found = {m: longest_solved(main, m) for m in ("rnn",) + GATED}
    numbers = {f"{m} longest solved L (median over seeds)": longest_text(v) for m, v in found.items()}
    numbers.update({f"{m} censored": v["censored"] for m, v in found.items() if v})
    rule = "reproduced when both gated models' median longest solved length exceeds the rnn's, and the rnn's is not censored"
    if any(v is None for v in found.values()):
        return Finding(fid, claim, NOT_MEASURED, numbers, rule)
    rnn = found["rnn"]
    ok = not rnn["censored"] and all(found[m]["median"] > rnn["median"] for m in GATED)
    return Finding(fid, claim, REPRODUCED if ok else NOT_REPRODUCED, numbers, rule)


@FINDINGS.register("adding-gating", needs=Needs(tasks=("adding",), by=STANDARD))
def adding_gating(evidence: Evidence) -> Finding:
    return _carry_longer("adding", evidence.runs)


@FINDINGS.register("copy-gating", needs=Needs(tasks=("copy",), by=STANDARD))
def copy_gating(evidence: Evidence) -> Finding:
    return _carry_longer("copy", evidence.runs)


@FINDINGS.register("gradient-decay", needs=Needs(tasks=("adding",), by=STANDARD))
def gradient_decay(evidence: Evidence) -> Finding:
    claim = ("At initialisation the tanh rnn's ∂L/∂h_t decays exponentially with distance, and the gated models' "
             "much less (fitted slopes of ln‖∂L/∂h_t‖ per step).")
    rule = ("reproduced when, on adding at its longest length, the rnn's median slope is negative and at least twice "
            "as steep as each gated model's")
    main = chosen_of(main_of(evidence.runs, "adding"))
    if main.empty or "slope_init" not in main:
        return Finding("gradient-decay", claim, NOT_MEASURED, {}, rule)
    main = main[main["slope_init"].notna()]
    have = [m for m in ("rnn",) + GATED if (main["model"] == m).any()]
    if len(have) < 3:
        return Finding("gradient-decay", claim, NOT_MEASURED, {}, rule)
    L = max(set.intersection(*(set(main.loc[main["model"] == m, "length"]) for m in have)))
    slopes = main[main["length"] == L].groupby("model")["slope_init"].median()
    numbers = {"length": int(L), **{f"{m} slope at init (nats/step)": round(float(slopes[m]), 4) for m in have}}
    if "slope_final" in main:
        trained = main[main["length"] == L].groupby("model")["slope_final"].median()
        numbers.update({f"{m} slope trained": round(float(trained[m]), 4) for m in have if not math.isnan(trained[m])})
    ok = slopes["rnn"] < 0 and all(abs(slopes["rnn"]) >= 2 * abs(slopes[m]) for m in GATED)
    return Finding("gradient-decay", claim, REPRODUCED if ok else NOT_REPRODUCED, numbers, rule)


LITERATURE_T = 100  # Arjovsky et al. 2016: copy at T = 100 to 500
MEMORYLESS_SHARE = 0.9  # a mean cross-entropy at least this share of the memoryless score is "at the baseline"


@FINDINGS.register("copy-literature", needs=Needs(tasks=("copy",), by=STANDARD))
def copy_literature(evidence: Evidence) -> Finding:
    claim = (f"On copy at T >= {LITERATURE_T} the LSTM stays at the memoryless baseline 10·ln 8/(T+20) (cross-entropy "
             "per step), as Arjovsky et al. 2016 report, rather than solving it.")
    rule = (f"the main protocol's LSTM copy runs at T >= {LITERATURE_T}, at the chosen rate: reproduced when no seed "
            f"solved any such T and at each the mean test cross-entropy per step is at least {MEMORYLESS_SHARE} of the "
            "memoryless score; not reproduced when a seed solved one or the mean fell below that (it learned to copy, "
            "at least in part). The LSTM's init is shown: chrono (Tallec & Ollivier 2018), the default for gated "
            "cells here, is expected to change the outcome")
    main = chosen_of(main_of(evidence.runs, "copy"))
    lstm = main[(main["model"] == "lstm") & (main["length"] >= LITERATURE_T)
                & main["status"].isin(FINISHED)] if not main.empty else main
    lstm = lstm[lstm["xent_per_step"].notna() & lstm["memoryless_xent_per_step"].notna()] if not lstm.empty else lstm
    if lstm.empty:
        reached = main.loc[main["model"] == "lstm", "length"].max() if not main.empty else None
        numbers = {"lstm longest T run": int(reached)} if reached is not None and not pd.isna(reached) else {}
        return Finding("copy-literature", claim, NOT_MEASURED, numbers, rule)
    numbers = {"lstm init": ", ".join(sorted({_init_name(i, "lstm") for i in lstm["init"]}))}
    ok = True
    for L, at in lstm.groupby("length", sort=True):
        xent, memoryless = float(at["xent_per_step"].mean()), float(at["memoryless_xent_per_step"].mean())
        solved = int(at["solved"].astype(bool).sum())
        numbers[f"T={int(L)}"] = (f"cross-entropy {xent:.4g} against memoryless {memoryless:.4g} "
                                  f"({xent / memoryless:.0%}), solved {solved}/{len(at)} seeds")
        ok = ok and not solved and xent >= MEMORYLESS_SHARE * memoryless
    return Finding("copy-literature", claim, REPRODUCED if ok else NOT_REPRODUCED, numbers, rule)


def _init_name(init, model: str) -> str:
    """The recurrent init a run used: `auto` is chrono for gated cells (models/encoders.py), default for the rnn."""
    if init in (None, "auto") or (isinstance(init, float) and math.isnan(init)):
        return "chrono (auto)" if model in ("lstm", "gru", "bilstm") else "default (auto)"
    return str(init)
