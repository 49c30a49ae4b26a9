"""Metrics over per-example statistics, registered with which way is better.

`evaluate()` reduces every example to a few numbers (columns of a frame): `n_scored` positions,
`n_correct` among them, summed cross-entropy `ce_sum`, `n_positions` in the sequence, squared
error `sq_err` (regression). A metric is a function of such a frame, so the same function gives
the overall score and the score per slice (a `groupby` on the slice keys).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from .registry import Registry


@dataclass(frozen=True)
class Metric:
    name: str
    fn: Callable[[pd.DataFrame], float]
    higher_is_better: bool
    description: str

    def __call__(self, frame: pd.DataFrame) -> float:
        return float(self.fn(frame))

    @property
    def arrow(self) -> str:
        return "↑" if self.higher_is_better else "↓"


METRICS: Registry[Metric] = Registry("metric", entry_point_group="seqbench.metrics")


def register_metric(name: str, higher_is_better: bool, description: str):
    def add(fn):
        METRICS.register(name, Metric(name, fn, higher_is_better, description))
        return fn
    return add


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den else float("nan")


@register_metric("accuracy", True, "share of scored outputs that are right (regression: within the task's tolerance)")
def accuracy(frame):
    return _ratio(frame["n_correct"].sum(), frame["n_scored"].sum())


@register_metric("xent", False, "cross-entropy in nats per scored output")
def xent(frame):
    return _ratio(frame["ce_sum"].sum(), frame["n_scored"].sum())


@register_metric("xent_per_step", False, "cross-entropy in nats summed over scored outputs, per sequence position")
def xent_per_step(frame):
    return _ratio(frame["ce_sum"].sum(), frame["n_positions"].sum())


@register_metric("bpc", False, "bits per character: cross-entropy per scored output in bits (nats / ln 2)")
def bpc(frame):
    return _ratio(frame["ce_sum"].sum(), frame["n_scored"].sum()) / np.log(2)


@register_metric("mse", False, "mean squared error of the regression output")
def mse(frame):
    return float(np.mean(frame["sq_err"])) if len(frame) else float("nan")


@register_metric("macro_f1", True, "F1 per class, averaged over the classes present (classification)")
def macro_f1(frame):
    pred, target = np.asarray(frame["pred"]), np.asarray(frame["target"])
    scores = []
    for c in np.union1d(pred, target):
        tp = np.sum((pred == c) & (target == c))
        scores.append(_ratio(2 * tp, np.sum(pred == c) + np.sum(target == c)))
    return float(np.mean(scores)) if scores else float("nan")


ENTITY_TYPES = ("PER", "ORG", "LOC", "MISC")  # CoNLL-2003's; per-type metrics are registered for these


def entity_scores(gold: list[list[str]], pred: list[list[str]]) -> dict[str, float]:
    """Entity-level micro F1 as conlleval computes it (seqeval's default mode), and F1 per type."""
    from seqeval.metrics import classification_report, f1_score

    out = {"entity_f1": float(f1_score(gold, pred, zero_division=0)) if gold else float("nan")}
    report = classification_report(gold, pred, output_dict=True, zero_division=0) if gold else {}
    for kind in ENTITY_TYPES:
        out[f"entity_f1_{kind.lower()}"] = float(report[kind]["f1-score"]) if kind in report else float("nan")
    return out


@register_metric("entity_f1", True, "entity-level micro F1, conlleval-compatible (seqeval default mode)")
def entity_f1(frame):
    from seqeval.metrics import f1_score

    return float(f1_score(list(frame["gold_tags"]), list(frame["pred_tags"]), zero_division=0)) if len(frame) else float("nan")


def _entity_type_f1(kind: str):
    def metric(frame):
        return entity_scores(list(frame["gold_tags"]), list(frame["pred_tags"]))[f"entity_f1_{kind.lower()}"]
    return metric


for _kind in ENTITY_TYPES:
    register_metric(f"entity_f1_{_kind.lower()}", True, f"entity-level F1 on {_kind} entities only")(_entity_type_f1(_kind))


def score(frame: pd.DataFrame, names: tuple[str, ...] | list[str], prefix: str) -> dict[str, float]:
    """{'test/accuracy': ...} for every named metric."""
    return {f"{prefix}/{name}": METRICS.get(name)(frame) for name in names}


def score_by_slice(frame: pd.DataFrame, names, slice_keys: list[str]) -> list[dict]:
    """One row per slice value: {'slice': key, 'value': v, 'count': n, <metric>: score}."""
    rows = []
    for key in slice_keys:
        for value, group in frame.groupby(key, sort=True):
            row = {"slice": key, "value": value.item() if hasattr(value, "item") else value, "count": int(len(group))}
            row.update({name: METRICS.get(name)(group) for name in names})
            rows.append(row)
    return rows
