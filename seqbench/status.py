"""A run's status, defined once: what its validation curve says about how far training got.

    solved          the primary validation metric passed the task's threshold and held there for
                    `hold` evaluations in a row; training stops early
    converged       a plateau: none of the last `patience` evaluations improved on the best before
                    them by more than `tolerance`; training stops early
    budget-limited  the step or time budget ran out while the metric was still improving, so the
                    test number is a floor on what the model can do
    diverged        a non-finite training loss, or one above 1e6 (exploded), the step recorded
    oom, error      the run did not finish (out of memory; any other exception)

"Improved" is relative to the metric's ideal value (1 for accuracy and F1, 0 for losses and
errors): a new value improves on the best when it closes the gap to the ideal by more than
`tolerance` of that gap. So 0.90 -> 0.905 accuracy (gap 0.10 -> 0.095) counts at tolerance 0.01,
and MSE 0.0400 -> 0.0398 does not.

Example (accuracy, threshold 0.99, hold 2, patience 3, tolerance 0.01):

    [0.30, 0.60, 0.995, 0.996]   -> solved (at the third evaluation)
    [0.30, 0.33, 0.33, 0.33, 0.33] -> converged
    [0.30, 0.40, 0.50]           -> None while training; budget-limited when the budget ends
"""
from __future__ import annotations

import math
from dataclasses import dataclass

SOLVED, CONVERGED, BUDGET_LIMITED = "solved", "converged", "budget-limited"
DIVERGED, OOM, ERROR = "diverged", "oom", "error"
FINISHED = (SOLVED, CONVERGED, BUDGET_LIMITED)  # the run produced a test number
FAILED = (DIVERGED, OOM, ERROR)  # the run produced none: shown as words with counts, never averaged


def is_solved(status: str | None) -> bool:
    """Whether a run solved its length: the one meaning of "solved" everywhere (a length search's next
    probe, the longest solved length in every table, figure and finding). A validation verdict: the
    run's status is `solved` (StopRule.verdict), never a test score against the threshold."""
    return status == SOLVED


@dataclass(frozen=True)
class StopRule:
    threshold: float | None  # the task's "solved" threshold on the primary metric; None: never solved
    higher_is_better: bool
    hold: int = 2  # evaluations in a row at or past the threshold
    patience: int = 5  # evaluations without improvement that make a plateau
    tolerance: float = 0.01  # relative: share of the gap to the ideal an improvement must close

    def passes(self, value: float) -> bool:
        if self.threshold is None or math.isnan(value):
            return False
        return value >= self.threshold if self.higher_is_better else value <= self.threshold

    def gap(self, value: float) -> float:
        """Distance to the ideal value (1 for higher-is-better metrics in [0, 1], else 0)."""
        return 1.0 - value if self.higher_is_better else value

    def improves(self, value: float, best: float) -> bool:
        if math.isnan(value):
            return False
        if math.isnan(best):
            return True
        return self.gap(value) < self.gap(best) * (1.0 - self.tolerance)

    def solved_at(self, values: list[float]) -> int | None:
        """Index of the first evaluation of the passing streak that ends the curve, if it is `hold` long."""
        streak = 0
        for value in reversed(values):
            if not self.passes(value):
                break
            streak += 1
        return len(values) - streak if streak >= max(1, self.hold) else None

    def plateaued(self, values: list[float]) -> bool:
        if self.patience <= 0 or len(values) <= self.patience:
            return False
        before, recent = values[: -self.patience], values[-self.patience:]
        best = before[0]
        for value in before[1:]:
            if self.improves(value, best):
                best = value
        return not any(self.improves(value, best) for value in recent)

    def verdict(self, values: list[float]) -> str | None:
        """After an evaluation: `solved`, `converged`, or None (keep training)."""
        if self.solved_at(values) is not None:
            return SOLVED
        if self.plateaued(values):
            return CONVERGED
        return None

    def final(self, values: list[float]) -> str:
        """When the budget has run out: the verdict, or `budget-limited` if the curve was still going."""
        return self.verdict(values) or BUDGET_LIMITED
