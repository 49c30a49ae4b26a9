"""The published standard leaderboard, v1 (frozen in results/standard-v1), checked against its run
files by hand.

The golden report test renders fixture runs with the same code it checks. This one reads the
committed `results/standard-v1/leaderboard.csv` and recomputes a dozen of its cells from the raw run
files, with nothing but json: the runs of (task, model, length), the learning rate the sweep recorded
as chosen (`lr_selection.chosen`, written into the released seeds' run files), and the mean over the
finished seeds at that rate of the test metric the run files name as primary. Not results/standard:
it holds v2 while v2's sweep adds runs, so its cells move.
"""
import csv
import json
import math

import pytest

from conftest import REPO

V1 = REPO / "results" / "standard-v1"  # frozen: these cells never move
FINISHED = {"solved", "converged", "budget-limited"}  # the statuses that produce a test number

# (task, model, length): a spread over every task, fixed and searched lengths, 1 to 3 finished seeds.
CELLS = [
    ("adding", "rnn", 16),
    ("conll2003", "bilstm", 128),
    ("conll2003", "transformer", 128),
    ("copy", "rnn", 16),
    ("copy", "transformer", 32),
    ("imdb", "gru", 256),
    ("imdb", "rnn", 256),
    ("recall", "lstm", 32),
    ("recall", "rnn", 8),
    ("sst2", "lstm", 64),
    ("sst2", "transformer", 64),
    ("tinyshakespeare", "gru", 128),
]


@pytest.fixture(scope="module")
def runs() -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((V1 / "runs").glob("*.json"))]


@pytest.fixture(scope="module")
def main_rows() -> dict:
    with open(V1 / "leaderboard.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["main"] == "True" and not r["variant"]]
    return {(r["task"], r["model"], int(r["length"])): r for r in rows}


@pytest.mark.parametrize("task, model, length", CELLS)
def test_a_committed_cell_is_the_mean_of_its_seeds_at_the_recorded_lr(task, model, length, runs, main_rows):
    mine = [r for r in runs if (r["config"]["task"], r["config"]["model"]["name"], r["config"]["length"])
            == (task, model, length)]
    chosen = {r["lr_selection"]["chosen"] for r in mine if r.get("lr_selection")}
    assert len(chosen) == 1, f"the run files record {chosen}"
    lr, = chosen
    at_lr = [r for r in mine if r["config"]["train"]["lr"] == lr and r["status"] in FINISHED]
    metric = at_lr[0]["task"]["metric"]
    values = [r["metrics"][f"test/{metric}"] for r in at_lr]
    row = main_rows[(task, model, length)]
    assert row["metric"] == metric and float(row["lr"]) == lr and int(row["n"]) == len(values)
    assert math.isclose(float(row["mean"]), sum(values) / len(values), rel_tol=1e-5)


def test_the_cells_cover_every_task_of_the_leaderboard(main_rows):
    assert {task for task, _, _ in CELLS} == {task for task, _, _ in main_rows}
