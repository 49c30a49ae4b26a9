"""Findings: the textbook claims this benchmark exists to test, each decided by the runs at hand.

Every finding is computed, never typed in: an evaluator reads the evidence (one row per run, plus
the speed probe's file) and returns `reproduced`, `not reproduced` or `not measured`, with the
numbers that decided it. A finding whose data says otherwise says so.

The evidence frame has one row per run (see `evidence_frame`): task, model, main (the model's
default recipe in its suite), length, seed, status, value (test primary metric), solved (the run's
status is `solved`), solved_step, clip, init, nonlinearity, loss, slope_init / slope_final (the
gradient-flow probe's fitted ln-norm slope per step) and protocol (see seqbench/protocol.py); and,
where known, lr, chain (a length search's chain id) and search_max (its longest length); adapter
('hf' for a transformers model), recurrent (an hf model's preset says it scans) and chosen (the run is
of the learning rate chosen for its task, protocol, model and length: decisions.chosen_ids);
axis (what `length` holds: "length", or the task parameter a search varied, e.g. "n_pairs" on
recall_mqar, whose probes then carry the pair count in `length`: RunRecord.axis); state_kind and
state_bytes (the state block: measure/state_size.py); xent_per_step and memoryless_xent_per_step
(copy's test cross-entropy per step and the memoryless strategy's, 10·ln 8/(T+20)); and from
report/decisions.py, which makes every choice once for the tables, figures and findings alike:
in_main_protocol (the run is of its task's main protocol, the one its main table ranks) and, for a
run at its group's chosen rate, its seed's longest solved length (chain_key, chain_longest,
chain_censored, chain_start, chain_max, chain_searched, chain_first_fail, chain_first_fail_status:
decisions.seed_results).

Findings that compare metrics read the chosen runs only, as the tables do: with a suite that tunes on
one seed, the rates that lost on validation are not more seeds. Claims about the main models read
one protocol per task, the main table's, so a 25k-parameter ablation rnn never stands in for the main one.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Callable

import pandas as pd

from ..registry import Registry
from ..status import BUDGET_LIMITED, FINISHED
from .decisions import longest_of
from .scope import SPEED, Needs, Scope

REPRODUCED, NOT_REPRODUCED, NOT_MEASURED = "reproduced", "not reproduced", "not measured"
GATED = ("lstm", "gru")
RECURRENT = ("rnn", "lstm", "gru", "bilstm")
RECALL_SOLVED = 0.95
PAIRS = "n_pairs"  # recall_mqar's key-value-pairs axis: a search over this task parameter (RunRecord.axis)
MQAR = "recall_mqar"  # the task of the pairs axis
# What each claim reads (scope.Needs, declared at its registration): a results directory without it
# leaves the claim out and names it on one line, with what would decide it.
STANDARD, STANDARD_V2 = "the `standard` suite", "the `standard` suite, v2"
SPEED_PROBE = Needs(probe=SPEED, by="`seqbench speed`")


@dataclass(frozen=True)
class Finding:
    id: str  # stable: cite it
    claim: str  # the claim, in one sentence
    verdict: str  # reproduced | not reproduced | not measured
    numbers: dict = field(default_factory=dict)  # what decided it
    rule: str = ""  # how the verdict follows from the numbers

    def to_dict(self) -> dict:
        return asdict(self)


COLUMNS = ("task", "model", "main", "length", "seed", "status", "value", "solved", "solved_step", "clip", "init",
           "nonlinearity", "loss", "slope_init", "slope_final", "protocol", "lr", "chain", "search_max",
           "adapter", "recurrent", "chosen", "in_main_protocol", "chain_key", "chain_longest", "chain_censored",
           "chain_start", "chain_max", "chain_searched", "chain_first_fail", "chain_first_fail_status", "axis", "state_kind", "state_bytes", "xent_per_step",
           "memoryless_xent_per_step")


@dataclass(frozen=True)
class Evidence:
    runs: pd.DataFrame  # one row per run, with COLUMNS (module docstring)
    speed: dict | None = None  # the speed probe's file (measure/speed-<device>.json), if any

    def __post_init__(self):  # every column present, so an evaluator never meets a KeyError
        missing = [c for c in COLUMNS if c not in self.runs]
        if missing:
            object.__setattr__(self, "runs", self.runs.assign(**{c: None for c in missing}))


FINDINGS: Registry[Callable[[Evidence], Finding]] = Registry("finding")  # meta: needs (scope.Needs)


def applies(name: str, scope: Scope | None) -> bool:
    """Whether a registered claim belongs in a report of `scope` (every claim, without a scope)."""
    return scope is None or scope.meets(FINDINGS.meta(name).get("needs"))


def evaluate_findings(evidence: Evidence, scope: Scope | None = None) -> list[Finding]:
    """The claims that apply to `scope`, each decided on the evidence ("not measured" where it has no
    decisive runs yet)."""
    return [FINDINGS.get(name)(evidence) for name in FINDINGS.names() if applies(name, scope)]


def left_out(scope: Scope | None) -> list[tuple[str, Needs | None]]:
    """The claims `scope` cannot decide (no runs of their tasks, no probe), with what they need."""
    return [(name, FINDINGS.meta(name).get("needs")) for name in FINDINGS.names() if not applies(name, scope)]


# ------------------------------------------------------------------ helpers

def _main(runs: pd.DataFrame, task: str) -> pd.DataFrame:
    """The task's default-recipe runs of its main protocol (decisions.main_protocol: the one its main table ranks)."""
    if runs.empty:
        return runs
    return runs[(runs["task"] == task) & runs["main"].astype(bool) & runs["in_main_protocol"].fillna(False).astype(bool)]


def _chosen(runs: pd.DataFrame) -> pd.DataFrame:
    """The runs of each group's chosen learning rate (all runs when the evidence does not say)."""
    if runs.empty:
        return runs
    return runs[[True if c is None or (isinstance(c, float) and math.isnan(c)) else bool(c) for c in runs["chosen"]]]


def longest_solved(runs: pd.DataFrame, model: str) -> dict | None:
    """The model's longest solved length over the seeds among `runs`, as the tables read it: each
    seed's result at the chosen rate (decisions.seed_results, carried on its runs as `chain_*`), the
    median over seeds (decisions.longest_of). `censored` when some seed solved the longest length
    tried; `failed_while_improving` of `failed`: seeds whose first unsolved length was budget-limited.
    None when the model has no finished run here.
    """
    mine = runs[(runs["model"] == model) & runs["status"].isin(FINISHED) & runs["chain_key"].notna()]
    if mine.empty:
        return None
    chains = mine.drop_duplicates("chain_key")
    found = longest_of(chains.rename(columns={"chain_longest": "longest", "chain_start": "start", "chain_max": "max",
                                              "chain_searched": "searched"}))
    return {"median": found["longest"], "min": found["low"], "max": found["high"], "seeds": found["seeds"],
            "censored": bool(chains["chain_censored"].astype(bool).any()),
            "failed_while_improving": int((chains["chain_first_fail_status"] == BUDGET_LIMITED).sum()),
            "failed": int(chains["chain_first_fail"].notna().sum()), "shortest": int(chains["chain_start"].min())}


def longest_text(found: dict | None) -> float | str | None:
    """The median longest solved length as a reader should see it: a median of 0 (most seeds solved
    nothing) is shown as below the shortest length tried, e.g. "< 8", not as a length of 0."""
    if found is None:
        return None
    return found["median"] if found["median"] > 0 else f"< {found['shortest']}"


def _carry_longer(task: str, runs: pd.DataFrame) -> Finding:
    claim = f"lstm and gru carry a longer dependency on {task} than the tanh rnn (longest solved length)."
    fid = f"{task}-gating"
    main = _main(runs, task)
    found = {m: longest_solved(main, m) for m in ("rnn",) + GATED}
    numbers = {f"{m} longest solved L (median over seeds)": longest_text(v) for m, v in found.items()}
    numbers.update({f"{m} censored": v["censored"] for m, v in found.items() if v})
    rule = "reproduced when both gated models' median longest solved length exceeds the rnn's, and the rnn's is not censored"
    if any(v is None for v in found.values()):
        return Finding(fid, claim, NOT_MEASURED, numbers, rule)
    rnn = found["rnn"]
    ok = not rnn["censored"] and all(found[m]["median"] > rnn["median"] for m in GATED)
    return Finding(fid, claim, REPRODUCED if ok else NOT_REPRODUCED, numbers, rule)


# ------------------------------------------------------------------ the claims

@FINDINGS.register("adding-gating", needs=Needs(tasks=("adding",), by=STANDARD))
def adding_gating(evidence: Evidence) -> Finding:
    return _carry_longer("adding", evidence.runs)


@FINDINGS.register("copy-gating", needs=Needs(tasks=("copy",), by=STANDARD))
def copy_gating(evidence: Evidence) -> Finding:
    return _carry_longer("copy", evidence.runs)


@FINDINGS.register("recall-attention", needs=Needs(tasks=("recall",), by=STANDARD))
def recall_attention(evidence: Evidence) -> Finding:
    claim = (f"The Transformer solves associative recall (test accuracy >= {RECALL_SOLVED}) where the recurrent "
             "models do not: at the longest recall length every model ran or, where lengths were searched, at longer "
             "lengths than any recurrent model solves.")
    rule = (f"fixed lengths: reproduced when, at the longest length every model ran, the Transformer's mean accuracy >= "
            f"{RECALL_SOLVED} and every recurrent model's is below. Length searches: reproduced when the Transformer's "
            "median longest solved length exceeds every recurrent model's and no recurrent model solved the search's max. "
            "Beside the verdict: how many recurrent runs stopped while still improving (budget-limited, so a floor)")
    main = _main(evidence.runs, "recall")
    main = main[main["status"].isin(FINISHED)] if not main.empty else main
    models = ["transformer"] + [m for m in RECURRENT if not main.empty and (main["model"] == m).any()]
    if main.empty or not (main["model"] == "transformer").any() or len(models) < 2:
        return Finding("recall-attention", claim, NOT_MEASURED, {}, rule)
    if main["search_max"].notna().any():
        return _recall_searched(main, models, claim, rule)
    main = _chosen(main)
    common = set.intersection(*(set(main.loc[main["model"] == m, "length"]) for m in models))
    if not common:
        return Finding("recall-attention", claim, NOT_MEASURED, {}, rule)
    L = max(common)
    here = main[main["length"] == L]
    at = here.groupby("model")["value"].mean()
    numbers = {"length": int(L), **{f"{m} accuracy": round(float(at[m]), 4) for m in models}}
    # A recurrent model below the bar but still improving at its ceiling failed at this budget, not
    # for good: say so beside the verdict.
    for m in models[1:]:
        runs = here[here["model"] == m]
        floors = int((runs["status"] == BUDGET_LIMITED).sum())
        if floors:
            numbers[f"{m} still improving at the ceiling (a floor)"] = f"{floors}/{len(runs)} seeds"
    ok = at["transformer"] >= RECALL_SOLVED and all(at[m] < RECALL_SOLVED for m in models if m != "transformer")
    return Finding("recall-attention", claim, REPRODUCED if ok else NOT_REPRODUCED, numbers, rule)


def _recall_searched(main: pd.DataFrame, models: list[str], claim: str, rule: str) -> Finding:
    """recall-attention on length searches: longest solved lengths, as the gating findings read them."""
    found = {m: longest_solved(main, m) for m in models}
    numbers: dict = {}
    for m, v in found.items():
        numbers[f"{m} longest solved L (median over seeds)"] = longest_text(v)
        numbers[f"{m} censored"] = v["censored"]
        if m != "transformer" and v["failed_while_improving"]:
            numbers[f"{m} first failed length still improving at the ceiling (a floor)"] = \
                f"{v['failed_while_improving']}/{v['failed']} seeds"
    best = found["transformer"]["median"]
    ok = all(found[m]["median"] < best and not found[m]["censored"] for m in models[1:])
    return Finding("recall-attention", claim, REPRODUCED if ok else NOT_REPRODUCED, numbers, rule)


MODERN_MARGIN = 0.02  # accuracy points: within this of the Transformer counts as reaching it


@FINDINGS.register("recall-modern", needs=Needs(tasks=("recall", "recall_mqar"), by=STANDARD))
def recall_modern(evidence: Evidence) -> Finding:
    claim = ("The modern recurrent models (hf: Mamba, Mamba-2, RWKV, xLSTM) fall short of the Transformer on associative "
             "recall at the same parameter budget (Zoology, Arora et al. 2023): on the key-value-pairs axis (recall_mqar) "
             "where it was searched, else at the recall lengths measured.")
    rule = (f"pairs axis, when the Transformer and a modern recurrent model searched it in one protocol: reproduced when "
            f"every modern recurrent model's median most pairs solved is below the Transformer's, not reproduced when one "
            f"reaches it. Else on recall's lengths: at the longest length that the Transformer and the modern recurrent "
            f"models all ran and the Transformer solved (mean accuracy >= {RECALL_SOLVED}): reproduced when every modern "
            f"recurrent model's mean accuracy is more than {MODERN_MARGIN} below the Transformer's, not reproduced when "
            "one reaches it; not measured when the Transformer solved none (on the plateau, there is no accuracy to "
            "reach); read on the protocol with the most such runs")
    runs = _chosen(evidence.runs)
    if not runs.empty:
        on_pairs = _modern_on_pairs(runs[runs["axis"] == PAIRS], claim, rule)
        if on_pairs is not None:
            return on_pairs
    recall = runs[(runs["task"] == "recall") & runs["main"].astype(bool)
                  & runs["status"].isin(FINISHED)] if not runs.empty else runs
    recall, models = _modern_protocol(recall)
    if recall is None:
        return Finding("recall-modern", claim, NOT_MEASURED, {}, rule)
    lengths = sorted(set.intersection(*(set(recall.loc[recall["model"] == m, "length"]) for m in models)))
    if not lengths:
        return Finding("recall-modern", claim, NOT_MEASURED, {}, rule)
    means = recall[recall["length"].isin(lengths)].groupby(["length", "model"])["value"].mean()
    numbers = {f"{m} accuracy at L={int(L)}": round(float(means[(L, m)]), 4) for L in lengths for m in models}
    solved = [L for L in lengths if means[(L, "transformer")] >= RECALL_SOLVED]
    if not solved:
        return Finding("recall-modern", claim, NOT_MEASURED, numbers, rule)
    L = solved[-1]
    reached = [m for m in models[1:] if means[(L, m)] >= means[(L, "transformer")] - MODERN_MARGIN]
    numbers = {"length": int(L), "reached the Transformer": ", ".join(reached) or "none", **numbers}
    return Finding("recall-modern", claim, NOT_REPRODUCED if reached else REPRODUCED, numbers, rule)


def _modern_protocol(runs: pd.DataFrame) -> tuple[pd.DataFrame | None, list[str]]:
    """The finished default-recipe runs of the protocol with the most modern recurrent (hf) runs that
    the Transformer shares, and its models, the Transformer first; (None, []) when there is none."""
    runs = runs[runs["main"].astype(bool) & runs["status"].isin(FINISHED)] \
        if not runs.empty else runs
    modern = runs[(runs["adapter"] == "hf") & runs["recurrent"].fillna(False).astype(bool)] if not runs.empty else runs
    both = set(modern["protocol"]) & set(runs.loc[runs["model"] == "transformer", "protocol"]) if not modern.empty else set()
    if not both:
        return None, []
    counts = modern[modern["protocol"].isin(both)].groupby("protocol").size()
    protocol = sorted(counts.index, key=lambda p: (-counts[p], p))[0]
    return (runs[runs["protocol"] == protocol],
            ["transformer"] + sorted(set(modern.loc[modern["protocol"] == protocol, "model"])))


def _modern_on_pairs(pairs: pd.DataFrame, claim: str, rule: str) -> Finding | None:
    """recall-modern on the pairs axis (most pairs solved, as recall-capacity reads it); None when the
    Transformer and a modern recurrent model did not both search it."""
    pairs, models = _modern_protocol(pairs)
    if pairs is None:
        return None
    found = {m: longest_solved(pairs, m) for m in models}
    numbers = {}
    for m, v in found.items():
        numbers[f"{m} most pairs solved (median over seeds)"] = longest_text(v)
        numbers[f"{m} censored"] = v["censored"]
    best = found["transformer"]["median"]
    reached = [m for m in models[1:] if found[m]["median"] >= best]
    numbers = {"axis": PAIRS, "reached the Transformer": ", ".join(reached) or "none", **numbers}
    return Finding("recall-modern", claim, NOT_REPRODUCED if reached else REPRODUCED, numbers, rule)


@FINDINGS.register("ner-bidirectional", needs=Needs(tasks=("conll2003",), by=STANDARD))
def ner_bidirectional(evidence: Evidence) -> Finding:
    claim = "bilstm beats lstm in CoNLL-2003 entity F1."
    rule = "reproduced when bilstm's worst seed scores above lstm's best seed (so the gap is beyond seed noise)"
    main = _chosen(_main(evidence.runs, "conll2003"))
    main = main[main["status"].isin(FINISHED)] if not main.empty else main
    scores = {m: main.loc[main["model"] == m, "value"].dropna() for m in ("bilstm", "lstm")} if not main.empty else {}
    if not scores or any(len(v) == 0 for v in scores.values()):
        return Finding("ner-bidirectional", claim, NOT_MEASURED, {}, rule)
    numbers = {f"{m} F1 (seeds)": [round(float(x), 4) for x in v] for m, v in scores.items()}
    ok = scores["bilstm"].min() > scores["lstm"].max()
    return Finding("ner-bidirectional", claim, REPRODUCED if ok else NOT_REPRODUCED, numbers, rule)


@FINDINGS.register("gradient-decay", needs=Needs(tasks=("adding",), by=STANDARD))
def gradient_decay(evidence: Evidence) -> Finding:
    claim = ("At initialisation the tanh rnn's ∂L/∂h_t decays exponentially with distance, and the gated models' "
             "much less (fitted slopes of ln‖∂L/∂h_t‖ per step).")
    rule = ("reproduced when, on adding at its longest length, the rnn's median slope is negative and at least twice "
            "as steep as each gated model's")
    main = _chosen(_main(evidence.runs, "adding"))
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


def _speed(evidence: Evidence, models=("transformer", "rnn")) -> dict | None:
    """The speed probe's entries of `models`, or None when one is missing."""
    measured = (evidence.speed or {}).get("models") or {}
    return {m: measured[m] for m in models} if all(isinstance(measured.get(m), dict) for m in models) else None


def _depths(points: list[dict]) -> tuple[int, int, int, int] | None:
    """(shortest T, its sequential depth, longest T, its depth) over the probe's points."""
    pts = sorted((p for p in points if p.get("sequential_depth") is not None), key=lambda p: p["T"])
    return (pts[0]["T"], pts[0]["sequential_depth"], pts[-1]["T"], pts[-1]["sequential_depth"]) if len(pts) >= 2 else None


@FINDINGS.register("attention-parallel", needs=SPEED_PROBE)
def attention_parallel(evidence: Evidence) -> Finding:
    claim = ("The Transformer's training step is parallel where the rnn's is a chain of T dependent steps: it gains more "
             "from parallel hardware (thread speed-up) and its sequential depth does not grow with T.")
    rule = ("from the speed probe: reproduced when the Transformer's fwd+bwd speed-up from 1 thread to the most threads "
            "measured (same T) exceeds the rnn's and its sequential depth at the longest T equals that at the shortest; "
            "not measured without a speed probe of both, or with one thread only")
    measured = _speed(evidence)
    scaling = {m: (measured[m].get("thread_scaling") or {}) for m in measured} if measured else {}
    depths = {m: _depths(measured[m].get("points") or []) for m in measured} if measured else {}
    if not measured or any(not s.get("speedup") or (s.get("threads") or 1) < 2 for s in scaling.values()) \
            or any(d is None for d in depths.values()):
        return Finding("attention-parallel", claim, NOT_MEASURED, {}, rule)
    numbers = {}
    for m in ("transformer", "rnn"):
        s, (t0, d0, t1, d1) = scaling[m], depths[m]
        numbers[f"{m} thread speed-up"] = f"{s['speedup']:.2f}× ({s['threads']} threads, T={s['T']})"
        numbers[f"{m} sequential depth"] = f"{d0} at T={t0}, {d1} at T={t1}"
    numbers["device"] = evidence.speed.get("device")
    t, r = scaling["transformer"], scaling["rnn"]
    if (t["threads"], t["T"]) != (r["threads"], r["T"]):  # not one comparison
        return Finding("attention-parallel", claim, NOT_MEASURED, numbers, rule)
    _, d0, _, d1 = depths["transformer"]
    ok = t["speedup"] > r["speedup"] and d1 == d0
    return Finding("attention-parallel", claim, REPRODUCED if ok else NOT_REPRODUCED, numbers, rule)


@FINDINGS.register("attention-quadratic", needs=SPEED_PROBE)
def attention_quadratic(evidence: Evidence) -> Finding:
    claim = ("The Transformer's training-step time grows faster with T than the rnn's (attention's cost is quadratic in T), "
             "at the lengths measured, on this hardware.")
    rule = "reproduced when the Transformer's fitted exponent (fwd+bwd step time ∝ T^k, speed probe) exceeds the rnn's"
    measured = _speed(evidence)
    try:
        k = {m: float(measured[m]["exponent"]["train"]) for m in ("transformer", "rnn")}
    except (KeyError, TypeError, ValueError):
        return Finding("attention-quadratic", claim, NOT_MEASURED, {}, rule)
    lengths = sorted({p["T"] for m in ("transformer", "rnn") for p in measured[m].get("points", [])})
    numbers = {"transformer exponent": round(k["transformer"], 3), "rnn exponent": round(k["rnn"], 3),
               "lengths": f"{lengths[0]}–{lengths[-1]}" if lengths else None, "device": evidence.speed.get("device")}
    ok = k["transformer"] > k["rnn"]
    return Finding("attention-quadratic", claim, REPRODUCED if ok else NOT_REPRODUCED, numbers, rule)


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


STATE_TIE = 0.10  # states closer than this (relative) are the same size: lstm 1,080 and rnn 1,084 bytes at 100k


@FINDINGS.register("recall-capacity", needs=Needs(tasks=(MQAR,), by=STANDARD_V2))
def recall_capacity(evidence: Evidence) -> Finding:
    claim = ("On the key-value-pairs axis (recall_mqar, Zoology's MQAR), each recurrent model's most pairs solved grows "
             "with the size of its state, while the Transformer, whose key-value cache grows with the sequence, solves "
             "every pair count tried.")
    rule = ("the main protocol's pairs search, at the chosen rates: the recurrent models with a fixed state (run files' "
            f"state block; bilstm has none), compared in pairs whose states differ by more than {STATE_TIE:.0%} (closer "
            "ones are the same size); reproduced when the larger state's median most pairs solved is never below the "
            "smaller's and above it at least once, and the Transformer solved the search's max (censored); not measured "
            "without the Transformer and two recurrent models of measured, different state on that axis")
    runs = evidence.runs
    pairs = _main(runs[runs["axis"] == PAIRS], MQAR) if not runs.empty else runs
    pairs = pairs[pairs["status"].isin(FINISHED)] if not pairs.empty else pairs
    if pairs.empty:
        return Finding("recall-capacity", claim, NOT_MEASURED, {}, rule)
    fixed = pairs[(pairs["state_kind"] == "fixed") & (pairs["model"] != "transformer")]
    state = fixed.groupby("model")["state_bytes"].median().sort_values(kind="stable")
    transformer = longest_solved(pairs, "transformer")
    if transformer is None or len(state) < 2:
        return Finding("recall-capacity", claim, NOT_MEASURED, {}, rule)
    found = {m: longest_solved(pairs, m) for m in state.index}
    numbers = {}
    for m in state.index:
        numbers[f"{m} state (bytes)"] = int(state[m])
        numbers[f"{m} most pairs solved (median over seeds)"] = longest_text(found[m])
    numbers["transformer most pairs solved (median over seeds)"] = longest_text(transformer)
    numbers["transformer censored"] = transformer["censored"]
    ordered = [(float(state[m]), found[m]["median"]) for m in state.index]
    # (smaller, larger) state pairs; states within STATE_TIE of each other say nothing about capacity.
    pairs_of = [(a, b) for i, a in enumerate(ordered) for b in ordered[i + 1:] if b[0] > a[0] * (1 + STATE_TIE)]
    if not pairs_of:
        return Finding("recall-capacity", claim, NOT_MEASURED, numbers, rule)
    ok = (all(a[1] <= b[1] for a, b in pairs_of) and any(a[1] < b[1] for a, b in pairs_of)
          and transformer["censored"])
    return Finding("recall-capacity", claim, REPRODUCED if ok else NOT_REPRODUCED, numbers, rule)


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
    main = _chosen(_main(evidence.runs, "copy"))
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
