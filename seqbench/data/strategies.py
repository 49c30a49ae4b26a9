"""Trivial strategies, scored on a run's own test set like a model, but with no model.

A strategy maps a batch to what it predicts: class probabilities for `tag` (B, T, C) and
`classify` (B, C) tasks, values (B,) for `regress`. `strategy_frame` reduces that to the same
per-example columns `evaluate()` writes (`n_scored`, `n_correct`, `ce_sum`, `n_positions`,
`sq_err`, `pred`, `target`), so the metrics of metrics.py score a strategy exactly as they score a
model. Two differences, both in the strategy's favour and both exact rather than sampled:

- accuracy is the expected accuracy of picking uniformly among the most probable classes, so a
  strategy with ties (a uniform guess; several modes) scores its expectation, not the luck of
  `argmax` picking the first class;
- cross-entropy is that of the probabilities themselves (a strategy states its beliefs).

Example (recall, bag of values): the pairs' values are [3, 3, 5, 9]; the strategy answers every
query with p(3) = 1/2, p(5) = p(9) = 1/4. Its 4 queries (values 3, 5, 9, 3 in some order) score
n_correct = 2 (the two 3s), ce_sum = 2 ln 2 + 2 ln 4.
"""
from __future__ import annotations

from typing import Callable, Sequence

import pandas as pd
import torch

from ..metrics import METRICS
from .batch import IGNORE, Batch

Strategy = Callable[[Batch], torch.Tensor]  # batch -> probabilities (B, T, C) | (B, C), or values (B,)


def _class_stats(probs: torch.Tensor, targets: torch.Tensor) -> dict[str, torch.Tensor]:
    """probs (B, T, C), targets (B, T) with IGNORE -> per-example counts (B,)."""
    scored = targets != IGNORE
    p = probs.gather(-1, targets.clamp(min=0).unsqueeze(-1)).squeeze(-1)  # (B, T)
    top = probs.amax(-1)  # (B, T)
    n_top = (probs == top.unsqueeze(-1)).sum(-1)  # (B, T): ties for the most probable class
    hit = (p == top).double() / n_top  # expected correctness of a uniform pick among the ties
    ce = torch.where(scored, -p.double().log(), torch.zeros((), dtype=torch.double))
    return {"n_scored": scored.sum(1).double(), "n_correct": (hit * scored).sum(1), "ce_sum": ce.sum(1)}


def example_stats(kind: str, predicted: torch.Tensor, batch: Batch, tolerance: float | None) -> dict[str, torch.Tensor]:
    """The per-example columns of `evaluate()` for a strategy's prediction on one batch."""
    positions = {"n_positions": batch.lengths.double()}
    if kind == "regress":
        err = predicted.double() - batch.targets.double()
        return {"n_scored": torch.ones_like(err), "n_correct": (err.abs() < tolerance).double(),
                "sq_err": err.square(), **positions}
    if kind == "classify":  # one scored position per example
        stats = _class_stats(predicted.unsqueeze(1), batch.targets.unsqueeze(1))
        return {**stats, **positions, "pred": predicted.argmax(-1), "target": batch.targets}
    return {**_class_stats(predicted, batch.targets), **positions}


def strategy_frame(kind: str, strategy: Strategy, batches: Sequence[Batch], tolerance: float | None) -> pd.DataFrame:
    """One row per test example, as `evaluate()` makes for a model."""
    columns: dict[str, list] = {}
    for batch in batches:
        for key, value in example_stats(kind, strategy(batch), batch, tolerance).items():
            columns.setdefault(key, []).append(value.cpu())
    return pd.DataFrame({k: torch.cat(v).numpy() for k, v in columns.items()})


def score_frame(frame: pd.DataFrame, metrics: Sequence[str]) -> dict[str, float]:
    """{metric: value} for each named metric the frame's columns define (a hard guess has no
    cross-entropy column when it is regression, a classifier no entity tags, ...)."""
    out = {}
    for name in metrics:
        try:
            out[name] = METRICS.get(name)(frame)
        except KeyError:  # a column this strategy does not have: the metric is not defined for it
            continue
    return out


def as_batches(test: Sequence[Batch] | Batch) -> list[Batch]:
    return [test] if isinstance(test, Batch) else list(test)


def score_strategies(source, strategies: dict[str, Strategy], test: Sequence[Batch] | Batch,
                     metrics: Sequence[str]) -> dict[str, dict[str, float]]:
    """{strategy name: {metric: value}} on the test batches, for `source`'s output kind."""
    batches = as_batches(test)
    return {name: score_frame(strategy_frame(source.output, fn, batches, source.tolerance), metrics)
            for name, fn in strategies.items()}
