"""What every claim shares: the Finding, the evidence it is decided on, the registry, and the helpers
that read the evidence as the tables do.

The evidence frame has one row per run (see `evidence_frame`): task, model, main (the model's
default recipe in its suite), length, seed, status, value (test primary metric), solved (the run's
status is `solved`), solved_step, clip, init, nonlinearity, loss, slope_init / slope_final (the
gradient-flow probe's fitted ln-norm slope per step) and protocol (see seqbench/protocol.py); and,
where known, lr, chain (a length search's chain id) and search_max (its longest length); adapter
('hf' for a transformers model), recurrent (an hf model's preset says it scans) and chosen (the run is
at the learning rate chosen for its table row, an ablation variant's included: decisions.mark_chosen);
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

from ...registry import Registry
from ...status import BUDGET_LIMITED, FINISHED
from ..decisions import longest_of
from ..scope import Needs, Scope

REPRODUCED, NOT_REPRODUCED, NOT_MEASURED = "reproduced", "not reproduced", "not measured"
GATED = ("lstm", "gru")
RECURRENT = ("rnn", "lstm", "gru", "bilstm")
# What each claim reads (scope.Needs, declared at its registration): a results directory without it
# leaves the claim out and names it on one line, with what would decide it.
STANDARD, STANDARD_V2 = "the `standard` suite", "the `standard` suite, v2"
# Claims decided by counting runs (how many diverged, how many pairs one side won) must beat chance:
# one diverged run out of 27 against two out of 24 is no evidence either way.
ALPHA = 0.05  # a count-based claim is reproduced only where its one-sided test gives p below this


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
    generalisation: pd.DataFrame | None = None  # per (task, row) of the formal tasks: generalisation.summarise

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


def main_of(runs: pd.DataFrame, task: str) -> pd.DataFrame:
    """The task's default-recipe runs of its main protocol (decisions.main_protocol: the one its main table ranks)."""
    if runs.empty:
        return runs
    return runs[(runs["task"] == task) & runs["main"].astype(bool) & runs["in_main_protocol"].fillna(False).astype(bool)]


def chosen_of(runs: pd.DataFrame) -> pd.DataFrame:
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
