"""Length generalisation (issue 27; Delétang et al. 2023): the recurrent models carry a regular
language's rule past the training lengths where the Transformer does not, no model does on the
context-free and context-sensitive tasks, and which of the Transformer's position encodings
extrapolates best. Each reads the per-(task, row) summary of the formal tasks' runs
(report/generalisation.py: summarise), carried on the evidence as `generalisation`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..frame import t_interval
from ..generalisation import CLASSES, GENERALISES, RECURRENT_ROWS, TASKS, TRANSFORMER
from .base import FINDINGS, NOT_MEASURED, NOT_REPRODUCED, REPRODUCED, Evidence, Finding, Needs

SUITE = "generalisation"
BY = "the `generalisation` suite"
NONREGULAR = TASKS["context-free"] + TASKS["context-sensitive"]


def _summary(evidence: Evidence) -> pd.DataFrame:
    return evidence.generalisation if evidence.generalisation is not None else pd.DataFrame()


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
    # A row below the bar that is also below it at the training lengths never learned the task (often a
    # budget-limited floor): its failure says nothing about extrapolation, so the numbers name it apart.
    numbers = {"recurrent": _text(recurrent), "transformer": _text(transformer),
               "recurrent below": sorted(_text(failed)),
               "recurrent below that never learned the task (training-length accuracy < "
               f"{GENERALISES})": sorted(_text(failed[failed["train"] < GENERALISES])),
               "transformer at or above": sorted(_text(extrapolated))}
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


@FINDINGS.register("generalise-regular", needs=Needs(tasks=TASKS["regular"], suite=SUITE, by=BY))
def regular_claim(evidence: Evidence) -> Finding:
    return generalise_regular(_summary(evidence))


@FINDINGS.register("generalise-nonregular", needs=Needs(tasks=NONREGULAR, suite=SUITE, by=BY))
def nonregular_claim(evidence: Evidence) -> Finding:
    return generalise_nonregular(_summary(evidence))


@FINDINGS.register("transformer-positions", needs=Needs(tasks=TASKS["regular"] + NONREGULAR, suite=SUITE, by=BY))
def positions_claim(evidence: Evidence) -> Finding:
    return transformer_positions(_summary(evidence))
