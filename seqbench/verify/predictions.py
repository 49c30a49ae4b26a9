"""Recompute the test metrics that a saved predictions file allows, and compare them with the run's.

A run of a real task writes its test predictions beside its run file (data/real.py
`save_predictions`): sentiment as `<run_id>.predictions.tsv` (`index, label, pred`), CoNLL-2003 as
`<run_id>.predictions.conll` (`word gold predicted`, conlleval's input). From those, accuracy and
macro-F1 (sentiment) and entity F1 with its per-type scores (CoNLL, seqeval) are recomputed here
with the same metric functions the runner used, so a tampered metric or a predictions file that
belongs to another run shows as a difference.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

import pandas as pd

from ..data.conll import read_predictions
from ..metrics import METRICS, entity_scores

TOLERANCE = 1e-6  # the runner counts in float32 (0.86444002 for 0.86444): only that rounding may differ


def _sentiment(path: Path) -> dict[str, float]:
    rows = pd.read_csv(path, sep="\t")
    frame = pd.DataFrame({"pred": rows["pred"], "target": rows["label"],
                          "n_correct": (rows["pred"] == rows["label"]).astype(int), "n_scored": 1})
    return {f"test/{name}": METRICS.get(name)(frame) for name in ("accuracy", "macro_f1")}


def _entities(path: Path) -> dict[str, float]:
    gold, pred = read_predictions(path)
    return {f"test/{name}": value for name, value in entity_scores(gold, pred).items()}


RECOMPUTE: dict[str, Callable[[Path], dict[str, float]]] = {".tsv": _sentiment, ".conll": _entities}


def recompute(path: Path) -> dict[str, float]:
    """The test metrics a predictions file gives, by its suffix; {} for a kind not known here."""
    reader = RECOMPUTE.get(Path(path).suffix)
    return reader(Path(path)) if reader else {}


def _differs(ours: float | None, theirs: float) -> bool:
    if ours is None or (isinstance(ours, float) and math.isnan(ours)):
        return not math.isnan(theirs)
    return math.isnan(theirs) or abs(float(ours) - theirs) > TOLERANCE


def disagreements(run_id: str, metrics: dict[str, float | None], path: Path) -> list[str]:
    """One line per metric whose recorded value differs from the one recomputed from `path`."""
    return [f"{run_id}: {name} is {metrics.get(name)!r} in the run file, {value:.6g} from {Path(path).name}"
            for name, value in sorted(recompute(path).items())
            if name in metrics and _differs(metrics.get(name), value)]
