"""The Transformer's position encodings compared (the `positions` suite): which one learns what.

One row per (task, length, positions): the run's status, the best validation score and the steps
it took to solve, beside the learning curves (figures.positions). The default positions of the
main tables is the one with the best mean validation score across these tasks; the section says
which, computed here, not typed in.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..protocol import protocol_key
from ..record import RunRecord
from . import figures
from .decisions import Decisions
from .section import Section, Text
from .table import Table

TITLE = "Position encodings (Transformer)"
COLUMNS = ["task", "length", "positions", "status", "best val", "test", "steps to solve", "steps run"]


def _rows(records: list[RunRecord]) -> list[dict]:
    rows = []
    for r in records:
        model, task = r.config.model, r.config.task
        if model.name != "transformer" or task not in figures.POSITION_TASKS or not r.val_curve:
            continue
        higher = r.higher_is_better is not False
        values = [v for _, v in r.val_curve]
        rows.append({"protocol": protocol_key(r), "task": task, "length": r.config.length,
                     "positions": model.positions or "sinusoidal",
                     "status": r.status, "best": max(values) if higher else min(values),
                     "test": r.test_score, "solved_step": r.solved_step, "steps": r.steps,
                     "higher": higher})
    # Only protocols where the positions vary compare them; the main tables' runs use one encoding.
    varied = {p for p in {x["protocol"] for x in rows} if len({x["positions"] for x in rows if x["protocol"] == p}) > 1}
    return [x for x in rows if x["protocol"] in varied]


def positions_section(decisions: Decisions, out: Path) -> Section | None:
    rows = _rows(list(decisions.records))
    if len({row["positions"] for row in rows}) < 2:
        return None
    rows.sort(key=lambda x: (x["task"], x["length"], x["positions"]))
    table = Table.of_text(COLUMNS, [[x["task"], x["length"], x["positions"], x["status"], f"{x['best']:.3f}",
                                     "—" if x["test"] is None else f"{x['test']:.3f}",
                                     x["solved_step"] or "—", x["steps"]] for x in rows])
    # Score each encoding by its mean best validation score across (task, length), shares only.
    scores = {}
    for p in sorted({x["positions"] for x in rows}):
        mine = [x["best"] for x in rows if x["positions"] == p and x["higher"]]
        scores[p] = float(np.mean(mine)) if mine else float("nan")
    top = max(scores.values())
    # Equal as printed: validation does not decide between them, and the text must not pick one.
    best = [p for p, s in scores.items() if f"{s:.3f}" == f"{top:.3f}"]
    summary = ", ".join(f"{p} {s:.3f}" for p, s in scores.items())
    verdict = (f"By validation, **{best[0]}** is the best position encoding here." if len(best) == 1 else
               f"By validation, {', '.join(best)} tie: these runs do not decide between them.")
    text = (f"Mean best validation score across the tasks and lengths below: {summary}. {verdict} The main "
            "tables use the Transformer's default (`model.positions` in its config), recorded in every run file.")
    return Section(TITLE, [Text(text), table], figures.positions(decisions, Path(out)))
