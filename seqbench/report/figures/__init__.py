"""The leaderboard's figures, drawn in the report's one style (style.py).

Every main figure shows the default recipe only (ablation variants have their own section), at the
learning rate validation chose, and draws each seed as a point beside the mean. Bands never leave
the metric's range: the seeds' min–max with fewer than 3 seeds, else a 95% t-interval clipped to the
range (numbers.spread, the same rule as the tables).

    metric_vs_length(frame, out)        figures/<task>_<metric>_vs_length.png  metric.py: seeds, mean, band
    longest_solved(decisions, out)      figures/max_solved_length.png          longest.py: censored (≥ L) marked
    learning_curves(decisions, out)     figures/curves_<task>.png              curves.py: one panel per length
    positions(decisions, out)           figures/positions.png                  encodings.py: the Transformer's positions
    step_time_vs_length(frame, out)     figures/step_time_vs_length.png        cost.py
    by_bucket(decisions, out)           figures/<task>_by_length_bucket.png    slices.py

Every choice they draw (the chosen rate, the longest solved length) is read from report/decisions.py,
so a figure never re-derives what a table shows.

Each returns the PNG paths relative to `out` (empty when there is nothing to draw).
"""
from .common import BAND_NOTE
from .cost import step_time_vs_length
from .curves import Curve, CurveSet, curve_sets, curves_figure, learning_curves
from .encodings import POSITION_TASKS, position_sets, positions
from .longest import MARKS, Longest, longest_figure, longest_solved, longest_table
from .metric import band_table, metric_vs_length, seed_table
from .slices import by_bucket

__all__ = ["BAND_NOTE", "MARKS", "POSITION_TASKS", "Curve", "CurveSet", "Longest", "band_table", "by_bucket",
           "curve_sets", "curves_figure", "learning_curves", "longest_figure", "longest_solved", "longest_table",
           "metric_vs_length", "position_sets", "positions", "seed_table", "step_time_vs_length"]
