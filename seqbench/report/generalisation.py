"""Length generalisation (the formal tasks; issue 27): the runs and their summary.

A run file of a formal task holds a `generalisation` block: the accuracy at each test length (all
beyond the training maximum) and at each training length (validation). Its test score,
`test/accuracy`, is the mean over the test lengths (Delétang et al.'s score). Here:

- `generalisation_frame`: one row per run of each task's main protocol (decisions.main_protocol),
  at the learning rate chosen for its (task, protocol, model, variant) (decisions.py, the sweep's
  rule): task, its class, the row label
  (the model; the Transformer by its position encoding), seed, status, score, `train` (the mean
  accuracy over the training lengths) and the per-length accuracies;
- `summarise`: per (task, row), the mean score with its 95% t-interval, the best seed, the
  accuracy at the training lengths, and the statuses;
- the three findings read that summary (report/findings/generalisation.py).

Example: two seeds of the lstm on parity scoring 1.0 and 0.9 give a mean of 0.95 (`generalises`:
mean >= 0.9), best seed 1.0.
"""
from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from .decisions import Decisions
from .frame import t_interval

GENERALISES = 0.9  # a score (mean test accuracy over the test lengths) at or above this generalises
CLASSES = ("regular", "context-free", "context-sensitive")
CLASS_TITLES = {"regular": "regular", "context-free": "deterministic context-free",
                "context-sensitive": "context-sensitive"}
RECURRENT_ROWS = ("rnn", "lstm")  # the models Delétang et al. found to generalise on regular tasks
TRANSFORMER = "transformer"
# The generalisation suite's tasks by class (tasks/suites/generalisation.yaml; a run file names its
# class in task.language_class): what the findings about each class need (scope.Needs).
TASKS = {"regular": ("parity_check", "cycle_navigation", "modular_arithmetic"),
         "context-free": ("reverse_string", "stack_manipulation"),
         "context-sensitive": ("duplicate_string", "bucket_sort")}


def row_label(model: str, positions: str | None) -> str:
    """The table row of a run: its model, the Transformer by its position encoding."""
    return f"{model} ({positions or 'sinusoidal'})" if model == TRANSFORMER else model


def _mean_accuracy(rows: list[dict]) -> float:
    values = [r.get("accuracy") for r in rows]
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else float("nan")


def generalisation_frame(decisions: Decisions) -> pd.DataFrame:
    """One row per finished run of a formal task at its chosen learning rate (module docstring)."""
    mine = [r for r in decisions.records if r.generalisation is not None]
    if not mine:
        return pd.DataFrame()
    # One protocol per task, the one its main table ranks, so runs made under another budget never
    # count as more seeds.
    selected = decisions.in_main_protocol().selected
    chosen = set(selected["run_id"]) if not selected.empty else set()
    rows = []
    for r in mine:
        if r.run_id not in chosen or not r.finished:
            continue
        block, model = r.generalisation, r.config.model
        rows.append({"run_id": r.run_id, "task": r.config.task, "language_class": r.task.language_class or "",
                     "row": row_label(model.name, model.positions), "model": model.name,
                     "seed": r.config.seed, "lr": r.config.train.lr, "status": r.status,
                     "score": r.metrics.get("test/accuracy"), "train": _mean_accuracy(block.val or []),
                     "test_lengths": {int(x["length"]): x.get("accuracy") for x in block.test or []},
                     "train_lengths": {int(x["length"]): x.get("accuracy") for x in block.val or []}})
    return pd.DataFrame(rows)


def summarise(frame: pd.DataFrame) -> pd.DataFrame:
    """Per (task, row): language_class, mean score and the half-width of its t-interval, n seeds, the
    best seed's score, the mean accuracy at the training lengths, and the statuses ('solved 2, ...')."""
    out = []
    if frame.empty:
        return pd.DataFrame(columns=["task", "row", "language_class", "mean", "half", "n", "best", "train", "statuses"])
    for (task, row), group in frame.groupby(["task", "row"], sort=True):
        mean, half, n = t_interval(group["score"])
        counts = Counter(group["status"])
        out.append({"task": task, "row": row, "language_class": group["language_class"].iloc[0],
                    "mean": mean, "half": half, "n": n, "best": float(group["score"].max()),
                    "train": float(group["train"].mean()),
                    "statuses": ", ".join(f"{s} {counts[s]}" for s in sorted(counts))})
    return pd.DataFrame(out)
