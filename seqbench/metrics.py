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


@register_metric("mse", False, "mean squared error of the regression output")
def mse(frame):
    return float(np.mean(frame["sq_err"])) if len(frame) else float("nan")


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
