"""Time per step against sequence length, from the run files already written.

One definition of a run's step time serves both users: perf's length scaling (a power law per
model) and the sweep's time estimate (estimate.py, a power law per task and model).
"""
from __future__ import annotations

from pathlib import Path

from ..record import RunRecord
from ..store import load_runs
from .power_law import fit_power_law


def step_seconds(record: RunRecord, cpu: bool = False) -> tuple[int, float] | None:
    """(sequence length, seconds per step) of a finished run, or None for a failed or empty one.

    Seconds per step are training wall time over steps, evaluation included: what a step costs a
    sweep, which is what both the estimate and the scaling figures are about. `cpu`: CPU seconds of
    the same span (timing.cpu_s) over steps instead, None for a run without them; unlike the wall
    time, they do not count time the run waited for the CPU on a loaded machine."""
    seconds = record.timing.cpu_s if cpu else record.timing.train_time_s
    if not record.finished or not record.steps or not record.timing.train_time_s or not seconds:
        return None
    seq_len = record.task.seq_len or record.config.length  # seq_len: older run files lack it
    return seq_len, seconds / record.steps


def step_history(records: list[RunRecord], by_task: bool = True, cpu: bool = False) -> dict[tuple, list[tuple[int, float]]]:
    """(task, model) -> [(sequence length, seconds per step), ...] over the finished runs; keyed by
    (model,) alone when `by_task` is False; `cpu`: CPU seconds per step, over the runs that have them."""
    history: dict[tuple, list[tuple[int, float]]] = {}
    for r in records:
        point = step_seconds(r, cpu)
        if point is None:
            continue
        model = r.config.model.name
        key = (r.config.task, model) if by_task else (model,)
        history.setdefault(key, []).append(point)
    return history


def length_scaling(results: Path) -> list[dict]:
    """Per model: the exponent of seconds per step against sequence length, and the fitted ms per
    step at T=100 and T=1000, over every task's run files."""
    rows = []
    for (model,), points in sorted(step_history(load_runs(results)[0], by_task=False).items()):
        law = fit_power_law([t for t, _ in points], [s for _, s in points])
        if law is None:
            continue
        rows.append({"model": model, "exponent": law.exponent, "ms_per_step_at_100": 1000 * law(100),
                     "ms_per_step_at_1000": 1000 * law(1000), "n_runs": len(points)})
    return rows
