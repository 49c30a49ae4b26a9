"""The report's decisions (report/decisions.py): the lr choice is read from the sweep's recorded
`lr_selection`, checked against the rule, and a disagreement is reported, never silently overridden."""
import warnings

import pytest

from seqbench.record import LrSelection
from seqbench.report.render import write_report
from seqbench.store import write_run

from fixture_runs import record

# copy/lstm at L=10, tuned on seed 0: the rule (selection.choose_lr) prefers 3e-3 (validation 0.95 > 0.90).
TUNING = [("copy", "lstm", 10, 0, 1e-3, 0.90, 0.90, "converged"), ("copy", "lstm", 10, 0, 3e-3, 0.95, 0.95, "converged")]


def released(chosen: float, seeds=(1, 2), test=0.80):
    """Seeds run only at the rate their files say the sweep chose on seed 0."""
    selection = LrSelection(seed=0, chosen=chosen, candidates={"0.001": 0.90, "0.003": 0.95})
    return [record("copy", "lstm", 10, s, chosen, test, test, "converged").replace(lr_selection=selection) for s in seeds]


def report(tmp_path, records) -> tuple[dict, str, str, list[str]]:
    """write_report's summary, leaderboard.md, leaderboard.csv and the warnings it raised."""
    for r in records:
        write_run(tmp_path / "r", r)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        summary = write_report(tmp_path / "r", tmp_path / "out")
    out = tmp_path / "out"
    return summary, (out / "leaderboard.md").read_text(), (out / "leaderboard.csv").read_text(), [str(w.message) for w in caught]


def lr_of(csv: str) -> float:
    header, *rows = csv.splitlines()
    (row,) = [r for r in rows if r.startswith("copy,")]
    return float(dict(zip(header.split(","), row.split(",")))["lr"])


def test_a_recorded_choice_the_rule_does_not_reproduce_is_reported_and_shown(tmp_path):
    """The sweep recorded 1e-3 in seeds 1 and 2's files; the rule, worked out again from the run
    files, gives 3e-3. The report shows the recorded choice (the seeds ran only there) and says
    that the two differ: code that recomputes silently shows 3e-3 and says nothing."""
    summary, md, csv, warned = report(tmp_path, [record(*row) for row in TUNING] + released(1e-3))
    assert lr_of(csv) == pytest.approx(1e-3)
    lines = [line for line in md.splitlines() if "lr_selection" in line]
    assert len(lines) == 1 and "## Warnings" in md
    assert "copy, lstm" in lines[0] and "L=10" in lines[0] and "0.001 (seeds 1, 2)" in lines[0] and "gives 0.003" in lines[0]
    assert any("lr_selection" in w for w in warned)


def test_a_recorded_choice_that_agrees_is_read_without_a_warning(tmp_path):
    summary, md, csv, warned = report(tmp_path, [record(*row) for row in TUNING] + released(3e-3))
    assert lr_of(csv) == pytest.approx(3e-3) and "## Warnings" not in md and not any("lr_selection" in w for w in warned)


def test_files_without_lr_selection_are_chosen_by_the_rule(tmp_path):
    """A full grid records no choice: the rule chooses, on every seed the rates share."""
    rows = TUNING + [("copy", "lstm", 10, 1, 1e-3, 0.90, 0.90, "converged"), ("copy", "lstm", 10, 1, 3e-3, 0.97, 0.97, "converged")]
    summary, md, csv, warned = report(tmp_path, [record(*row) for row in rows])
    assert lr_of(csv) == pytest.approx(3e-3) and "## Warnings" not in md
