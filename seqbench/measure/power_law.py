"""The one power-law fit: y = coefficient * x ** exponent, by least squares on log y against log x.

Used for time against sequence length everywhere: the speed probe's exponent, perf's length
scaling and the sweep's time estimate.

    >>> law = fit_power_law([16, 32, 64], [0.5, 2.0, 8.0])
    >>> round(law.exponent, 6), round(law(128), 6)
    (2.0, 32.0)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class PowerLaw:
    coefficient: float  # y at x = 1
    exponent: float  # slope of log y against log x
    n_points: int  # points the fit used

    def __call__(self, x: float) -> float:
        return self.coefficient * x ** self.exponent


def fit_power_law(x: Sequence[float], y: Sequence[float], x_min: float | None = None) -> PowerLaw | None:
    """Fit over the points with a positive, finite y. With `x_min`, only points with x >= x_min are
    used (below it fixed per-call overhead dominates), or the larger half of x, at least two points,
    when fewer than two reach it. None when fewer than two distinct x remain."""
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ok = np.isfinite(ys) & (ys > 0) & np.isfinite(xs) & (xs > 0)
    xs, ys = xs[ok], ys[ok]
    if x_min is not None and len(xs) >= 2:
        use = xs >= x_min
        if use.sum() < 2:
            use = xs >= np.sort(xs)[-max(2, len(xs) // 2)]
        xs, ys = xs[use], ys[use]
    if len(np.unique(xs)) < 2:
        return None
    slope, intercept = np.polyfit(np.log(xs), np.log(ys), 1)
    return PowerLaw(coefficient=float(np.exp(intercept)), exponent=float(slope), n_points=len(xs))
