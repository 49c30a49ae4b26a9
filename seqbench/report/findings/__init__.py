"""Findings: the textbook claims this benchmark exists to test, each decided by the runs at hand.

Every finding is computed, never typed in: an evaluator reads the evidence (one row per run, plus
the speed probe's file; base.Evidence) and returns `reproduced`, `not reproduced` or `not measured`,
with the numbers that decided it. A finding whose data says otherwise says so. Each claim declares
what it reads (scope.Needs) where it registers, so a report holds only the claims its results
directory can decide.

    base.py      the Finding, the evidence, the registry (FINDINGS) and the helpers every claim shares
    gating.py    memory over distance: adding-gating, copy-gating, gradient-decay, copy-literature
    recall.py    associative recall: recall-attention, recall-modern, recall-capacity
    ablation.py  the recipe: clipping, relu-identity, mse-vs-ce
    speed.py     the speed probe: attention-parallel, attention-quadratic
    tagging.py   reading both ways: ner-bidirectional
    generalisation.py  beyond the training lengths: generalise-regular, generalise-nonregular,
                 transformer-positions

    findings = evaluate_findings(evidence, scope)   # the claims that apply to scope, decided
"""
from . import ablation, gating, generalisation, recall, speed, tagging  # noqa: F401  (each registers its claims)
from .base import (COLUMNS, FINDINGS, GATED, NOT_MEASURED, NOT_REPRODUCED, RECURRENT, REPRODUCED, Evidence, Finding,
                   applies, evaluate_findings, left_out, longest_solved, longest_text)
from .recall import MQAR, PAIRS, RECALL_SOLVED

__all__ = ["COLUMNS", "FINDINGS", "GATED", "MQAR", "NOT_MEASURED", "NOT_REPRODUCED", "PAIRS", "RECALL_SOLVED",
           "RECURRENT", "REPRODUCED", "Evidence", "Finding", "applies", "evaluate_findings", "left_out",
           "longest_solved", "longest_text"]
