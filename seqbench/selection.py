"""Choosing a learning rate on validation: one rule, shared by the sweep (which runs the other seeds
only at the chosen rate when a suite tunes on one seed) and the report (which shows the chosen rate).

Each candidate learning rate has a score per seed, higher is better:

- a fixed length: the run's validation primary metric (`val/<metric>`), negated when lower is better;
- a length search: the longest length the chain solved (`LengthSearch.result`), 0 when none; rates
  that tie (every rate failed at the first length, or solved the last) are told apart by the
  validation score of the chain's longest probe, a length they all ran.

Candidates are compared on the seeds they all share (with one tuning seed, that seed; with a full
grid, every seed): the mean score for fixed lengths, the median longest length for searches. A failed
run (diverged, oom, error) has no score and loses; ties go to the smaller learning rate. Example:

    choose_lr({1e-3: {0: 0.91}, 3e-3: {0: 0.95}, 1e-2: {0: None}})         -> 3e-3
    choose_lr({1e-3: {0: 0.90, 1: 0.80, 2: 0.80}, 3e-3: {0: 0.85}})       -> 1e-3 (seed 0: 0.90 > 0.85,
        although 0.85 beats 1e-3's three-seed mean 0.83: seeds 1 and 2 ran only at the chosen rate)
"""
from __future__ import annotations

import math
import statistics
from typing import Callable, Mapping

from .record import RunRecord
from .search import LengthSearch

Scores = Mapping[float, Mapping[int, "float | None"]]  # lr -> seed -> score (None: failed)


def shared_seeds(scores: Scores) -> set[int]:
    """The seeds every candidate was run on; every seed seen when they share none (a partial grid)."""
    seeds = [set(by_seed) for by_seed in scores.values()]
    common = set.intersection(*seeds) if seeds else set()
    return common or set().union(*seeds)


def _usable(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def choose_lr(scores: Scores, aggregate: Callable[[list[float]], float] = statistics.fmean,
              tiebreak: Scores | None = None) -> float | None:
    """The learning rate with the best `aggregate` of its scores on the shared seeds (higher wins);
    failed runs are left out of the aggregate, a candidate with none left loses. Ties go to the
    best mean `tiebreak` score on the same seeds when given (a search's validation score at its
    last probe), then to the smaller rate. None only when there is no candidate."""
    if not scores:
        return None
    seeds = shared_seeds(scores)

    def usable(by_seed) -> list[float]:
        return [float(v) for s, v in (by_seed or {}).items() if s in seeds and _usable(v)]

    def key(lr: float) -> tuple:
        values = usable(scores[lr])
        second = usable((tiebreak or {}).get(lr))
        return (bool(values), aggregate(values) if values else -math.inf,
                statistics.fmean(second) if second else -math.inf, -lr)

    return max(scores, key=key)


def run_score(run: RunRecord) -> float | None:
    """A fixed-length run's score from its run file: `val/<metric>` in the higher-is-better direction
    (`task.higher_is_better`), or None when the run failed or has no validation number."""
    if not run.finished:
        return None
    value = run.val_score
    if not _usable(value):
        return None
    return -float(value) if run.higher_is_better is False else float(value)


def search_score(search: LengthSearch, solved: Mapping[int, bool]) -> int:
    """A length search's score: the longest length solved, 0 when none (a failed probe is not solved)."""
    return search.result(dict(solved)).longest or 0


def median(values: list[float]) -> float:
    """The aggregate of search scores over seeds (a longest length is skewed: the median, not the mean)."""
    return float(statistics.median(values))
