"""Length generalisation (the formal tasks; issue 27): the runs, their summary, and three findings.

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
- three findings, computed from that summary and tested both ways on synthetic frames.

Example: two seeds of the lstm on parity scoring 1.0 and 0.9 give a mean of 0.95 (`generalises`:
mean >= 0.9), best seed 1.0.
"""
from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from .findings import NOT_MEASURED, NOT_REPRODUCED, REPRODUCED, Finding
from .decisions import Decisions
from .frame import t_interval

GENERALISES = 0.9  # a score (mean test accuracy over the test lengths) at or above this generalises
CLASSES = ("regular", "context-free", "context-sensitive")
CLASS_TITLES = {"regular": "regular", "context-free": "deterministic context-free",
                "context-sensitive": "context-sensitive"}
RECURRENT_ROWS = ("rnn", "lstm")  # the models Delétang et al. found to generalise on regular tasks
TRANSFORMER = "transformer"


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


# ------------------------------------------------------------------ findings

def _cells(summary: pd.DataFrame, language_class: str) -> pd.DataFrame:
    return summary[summary["language_class"] == language_class] if not summary.empty else summary


def _text(cells: pd.DataFrame) -> dict:
    return {f"{c.task}/{c.row}": round(float(c.mean), 4) for c in cells.itertuples()}


def generalise_regular(summary: pd.DataFrame) -> Finding:
    claim = (f"On the regular tasks the rnn and lstm generalise (mean score >= {GENERALISES}) where the "
             "Transformer, with every position encoding run, does not")
    rule = (f"reproduced when on every regular task the rnn and lstm rows reach a mean score (over seeds, at the "
            f"lr chosen on validation) of {GENERALISES} and no Transformer row does")
    cells = _cells(summary, "regular")
    tasks = sorted(set(cells["task"])) if not cells.empty else []
    recurrent = cells[cells["row"].isin(RECURRENT_ROWS)] if tasks else cells
    transformer = cells[cells["row"].str.startswith(TRANSFORMER)] if tasks else cells
    if not tasks or len(recurrent) < 2 * len(tasks) or transformer.empty \
            or set(transformer["task"]) != set(tasks):
        return Finding("generalise-regular", claim, NOT_MEASURED, {"regular tasks with runs": tasks}, rule)
    failed = recurrent[recurrent["mean"] < GENERALISES]
    extrapolated = transformer[transformer["mean"] >= GENERALISES]
    verdict = REPRODUCED if failed.empty and extrapolated.empty else NOT_REPRODUCED
    numbers = {"recurrent": _text(recurrent), "transformer": _text(transformer),
               "recurrent below": sorted(_text(failed)), "transformer at or above": sorted(_text(extrapolated))}
    return Finding("generalise-regular", claim, verdict, numbers, rule)


def generalise_nonregular(summary: pd.DataFrame) -> Finding:
    claim = f"No model reaches a mean score of {GENERALISES} on the context-free and context-sensitive tasks"
    rule = f"reproduced when no (task, model) row of those classes reaches a mean score of {GENERALISES}; the exceptions are named"
    cells = summary[summary["language_class"].isin(CLASSES[1:])] if not summary.empty else summary
    if cells.empty:
        return Finding("generalise-nonregular", claim, NOT_MEASURED, {}, rule)
    exceptions = cells[cells["mean"] >= GENERALISES]
    best = cells.loc[cells["mean"].idxmax()]
    numbers = {"exceptions": _text(exceptions), "highest": {f"{best.task}/{best.row}": round(float(best["mean"]), 4)},
               "tasks": sorted(set(cells["task"]))}
    return Finding("generalise-nonregular", claim, REPRODUCED if exceptions.empty else NOT_REPRODUCED, numbers, rule)


def transformer_positions(summary: pd.DataFrame) -> Finding:
    """Which encoding extrapolates best: the rows' mean scores over the tasks every row ran, and the
    t-interval over those tasks of the best row's lead on the runner-up."""
    claim = "One of the Transformer's position encodings extrapolates better than the others"
    rule = ("the encodings ranked by their mean score over the tasks all of them ran; reproduced when the "
            "95% t-interval over those tasks of the best one's lead on the second lies above 0")
    cells = summary[summary["row"].str.startswith(TRANSFORMER)] if not summary.empty else summary
    if cells.empty or cells["row"].nunique() < 2:
        return Finding("transformer-positions", claim, NOT_MEASURED, {}, rule)
    table = cells.pivot(index="task", columns="row", values="mean").dropna()
    if len(table) < 2:
        return Finding("transformer-positions", claim, NOT_MEASURED, {"tasks every encoding ran": list(table.index)}, rule)
    means = table.mean().sort_values(ascending=False)
    first, second = means.index[0], means.index[1]
    lead, half, n = t_interval(table[first] - table[second])
    numbers = {"mean score": {k: round(float(v), 4) for k, v in means.items()}, "best": first, "second": second,
               "lead": round(lead, 4), "lead interval half-width": round(half, 4), "tasks": n}
    verdict = REPRODUCED if np.isfinite(half) and lead - half > 0 else NOT_REPRODUCED
    return Finding("transformer-positions", claim, verdict, numbers, rule)


def generalisation_findings(summary: pd.DataFrame) -> list[Finding]:
    return [generalise_regular(summary), generalise_nonregular(summary), transformer_positions(summary)]
