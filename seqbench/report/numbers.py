"""How a number is printed: significant digits, honest intervals, failures as words.

- Values keep their information: three significant digits, scientific notation below 1e-3
  (an MSE of 7.5e-05 prints as `7.50e-05`, never `0.000`). Markdown, HTML and LaTeX share this.
- Intervals never leave the metric's range. With fewer than 3 seeds there is no interval: the
  seeds' min–max is shown instead. With 3 or more, a 95% t-interval clipped to the range.
- Failed seeds (diverged, oom, error) are words with counts; the mean covers the other seeds.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

BUDGET_MARK = "†"  # the run was still improving when its budget ran out: the number is a floor
PARTIAL_MARK = "*"  # some seeds failed: the mean covers the others
EDGE_MARK = "‡"  # validation chose the grid's largest or smallest learning rate: the grid does not bracket it
LOSS_MARGIN = 0.02  # a loss within 2% of a trivial strategy's is not counted as beating it


def fmt(value, digits: int = 3) -> str:
    """0.98342 -> '0.983'; 7.5e-05 -> '7.50e-05'; 2.5137 -> '2.51'; 12345.6 -> '12,346'; nan -> '—'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    value = float(value)
    if value == 0:
        return "0"
    if abs(value) < 1e-3:
        return f"{value:.{digits - 1}e}"
    if abs(value) >= 10 ** digits:
        return f"{value:,.0f}"
    rounded = float(f"{value:.{digits}g}")  # so 0.99995 is '1.00', not '1.000'
    decimals = max(0, digits - 1 - int(math.floor(math.log10(abs(rounded)))))
    return f"{rounded:.{decimals}f}"


def metric_range(higher_is_better: bool) -> tuple[float, float]:
    """Scores where higher is better are shares in [0, 1]; the rest (losses, errors) are >= 0."""
    return (0.0, 1.0) if higher_is_better else (0.0, math.inf)


@dataclass(frozen=True)
class Spread:
    mean: float
    low: float
    high: float
    n: int
    kind: str  # "single" | "range" (min–max, n < 3) | "t95" (clipped 95% t-interval)

    def text(self) -> str:
        if self.n == 0:
            return "—"
        if self.kind == "single":
            return fmt(self.mean)
        return f"{fmt(self.mean)} [{fmt(self.low)}–{fmt(self.high)}]"


def spread(values, higher_is_better: bool) -> Spread:
    """The mean with min–max (n < 3) or a 95% t-interval clipped to the metric's range (n >= 3)."""
    values = np.asarray([v for v in values if v is not None and not math.isnan(v)], dtype=float)
    n = len(values)
    if n == 0:
        return Spread(math.nan, math.nan, math.nan, 0, "single")
    mean = float(values.mean())
    if n == 1:
        return Spread(mean, mean, mean, 1, "single")
    if n < 3:
        return Spread(mean, float(values.min()), float(values.max()), n, "range")
    lo, hi = metric_range(higher_is_better)
    half = float(stats.t.ppf(0.975, n - 1) * values.std(ddof=1) / math.sqrt(n))
    return Spread(mean, max(lo, mean - half), min(hi, mean + half), n, "t95")


def failures_text(counts: dict[str, int], total: int) -> str:
    """{'diverged': 1} of 2 seeds -> 'diverged 1/2'."""
    return ", ".join(f"{status} {k}/{total}" for status, k in sorted(counts.items()) if k)


def cell_text(spread_: Spread, failures: dict[str, int], total: int, budget_limited: int) -> str:
    """'0.983 [0.981–0.985]†' ; '0.512* · diverged 1/2' ; 'diverged 2/2'."""
    text = spread_.text() if spread_.n else ""
    if text and any(failures.values()):
        text = text.replace(fmt(spread_.mean), fmt(spread_.mean) + PARTIAL_MARK, 1)
    if text and budget_limited:
        text += BUDGET_MARK
    words = failures_text(failures, total)
    return " · ".join(t for t in (text, words) if t) or "—"


def versus(values, reference: float, higher_is_better: bool, n_scored: int | None = None) -> int:
    """How a cell's seeds compare with a trivial strategy's score: 1 when every seed beats it beyond
    noise, -1 when every seed trails it beyond noise, 0 within noise (nothing to compare: 0).

    The noise, at the seed's own score: for a share, two binomial standard errors over `n_scored`
    outputs; for a loss, LOSS_MARGIN of the strategy's score (no sampling formula fits every loss).
    Recall's bag of values (0.337) over 4,000 outputs: [0.99, 0.98] -> 1; [0.339] -> 0; [0.062] -> -1."""
    values = [v for v in values if v is not None and not math.isnan(v)]
    if not values or reference is None or math.isnan(reference):
        return 0
    sign = 1 if higher_is_better else -1

    def margin(value: float) -> float:
        if not higher_is_better:
            return LOSS_MARGIN * abs(reference)
        p = min(max(value, 0.0), 1.0)
        return 2 * math.sqrt(max(p * (1 - p), 1e-12) / n_scored) if n_scored else 0.0

    worst, best = min(values, key=lambda v: sign * v), max(values, key=lambda v: sign * v)
    if sign * (worst - reference) > margin(worst):
        return 1
    if sign * (reference - best) > margin(best):
        return -1
    return 0
