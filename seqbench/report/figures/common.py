"""What the figures share: how a row is labelled, what a run file says of its task's metric, and the
note every band figure carries."""
from __future__ import annotations

import pandas as pd

from ...record import RunRecord
from ..leaderboard import model_name

BAND_NOTE = "points: seeds; band: min–max (n < 3) or 95% t-interval, clipped to the metric's range"


def row_labels(rows: pd.DataFrame) -> pd.Series:
    """The model name, with its variant only where one (task, model) shows several."""
    several = rows.groupby(["task", "model"])["variant"].transform("nunique") > 1
    return pd.Series([model_name(m, v) if s else m for m, v, s in zip(rows["model"], rows["variant"], several)],
                     index=rows.index, dtype=object)


def task_info(record: RunRecord) -> tuple[str, bool, float | None]:
    """(primary metric, higher is better, solved threshold), as the run file recorded them."""
    return record.task.metric, record.higher_is_better is not False, record.task.solved
