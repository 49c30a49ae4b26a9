"""`seqbench verify`: each kind of problem planted in a results directory is named in one line, exit 1;
the rerun sample is reproducible and spread; verdicts follow the seed spread."""
import json
import shutil
from pathlib import Path

import pytest

from seqbench.cli import main
from seqbench.report.render import write_report
from seqbench.store import load_runs, write_run
from seqbench.verify.audit import audit
from seqbench.verify.rerun import choose, compare, seed_spreads

from fixture_runs import minimal_record, write_fixture_runs

STANDARD = Path(__file__).resolve().parent.parent / "results" / "standard"


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """Fixture runs, one real SST-2 run with its predictions, and their report: a clean results dir."""
    results = tmp_path_factory.mktemp("verify") / "results"
    write_fixture_runs(results)
    sst2 = next(r for r in load_runs(STANDARD)[0]
                if r.config.task == "sst2" and r.task.predictions_file)
    for name in (f"{sst2.run_id}.json", sst2.task.predictions_file):
        shutil.copy(STANDARD / "runs" / name, results / "runs" / name)
    write_report(results, results)
    return results, sst2


@pytest.fixture
def planted(clean, tmp_path):
    results = tmp_path / "results"
    shutil.copytree(clean[0], results)
    return results, clean[1]


def problems_of(results, capsys, *flags):
    code = main(["verify", "--results", str(results), "--out", str(results.parent / "verify.json"), *flags])
    lines = [line for line in capsys.readouterr().out.splitlines() if line and not line.startswith("audit of")]
    return code, lines


def test_a_clean_directory_passes(clean, capsys):
    code, lines = problems_of(clean[0], capsys)
    assert (code, lines) == (0, [])
    written = json.loads((clean[0].parent / "verify.json").read_text())
    assert written["passed"] and written["checks"]["predictions files recomputed"] == 1


def test_a_tampered_metric_breaks_its_hash(planted, capsys):
    results, sst2 = planted
    path = results / "runs" / f"{sst2.run_id}.json"
    data = json.loads(path.read_text())
    data["metrics"]["test/accuracy"] = 0.99
    path.write_text(json.dumps(data))
    code, lines = problems_of(results, capsys, "--no-render")
    assert code == 1 and lines == [f"run file {sst2.run_id}.json: content hash mismatch (edited or truncated)"]


def test_an_orphan_is_named(planted, capsys):
    results, _ = planted
    (results / "runs" / "0123456789abcdef.predictions.tsv").write_text("index\tlabel\tpred\n")
    code, lines = problems_of(results, capsys, "--no-render")
    assert code == 1 and lines == ["orphan: runs/0123456789abcdef.predictions.tsv belongs to no run file"]


def test_predictions_that_disagree_with_their_run_are_named(planted, capsys):
    results, sst2 = planted
    path = results / "runs" / sst2.task.predictions_file
    rows = path.read_text().splitlines()
    index, label, pred = rows[1].split("\t")
    rows[1] = "\t".join([index, label, str(1 - int(pred))])  # one prediction flipped
    path.write_text("\n".join(rows) + "\n")
    code, lines = problems_of(results, capsys, "--no-render")
    assert code == 1 and len(lines) == 2  # accuracy and macro-F1
    assert all(line.startswith(f"{sst2.run_id}: test/") and path.name in line for line in lines)


def test_a_leaderboard_cell_that_disagrees_is_named(planted, capsys):
    results, _ = planted
    path = results / "leaderboard.csv"
    rows = path.read_text().splitlines()
    header = rows[0].split(",")
    first = rows[1].split(",")
    first[header.index("mean")] = "0.5"
    rows[1] = ",".join(first)
    path.write_text("\n".join(rows) + "\n")
    code, lines = problems_of(results, capsys)
    assert code == 1 and len(lines) == 1
    assert lines[0].startswith("leaderboard.csv: ") and " mean is '0.5' committed, " in lines[0]


def test_a_suite_record_naming_a_missing_run_is_named(planted, capsys):
    results, _ = planted
    suites = results / "suites"
    suites.mkdir(exist_ok=True)
    (suites / "mine.json").write_text(json.dumps({"name": "mine", "version": 1, "run_ids": ["ffffffffffffffff"]}))
    code, lines = problems_of(results, capsys, "--no-render")
    assert code == 1 and lines == ["suite mine: names run ffffffffffffffff, which has no run file"]


def test_an_incomplete_suite_names_its_runs_not_run_yet_in_a_note_not_a_problem(planted, capsys):
    """A sweep with runs left (results/standard while v2 runs) names planned runs that have no file yet."""
    results, sst2 = planted
    (results / "suites").mkdir(exist_ok=True)
    record = {"name": "mine", "version": 2, "run_ids": sorted([sst2.run_id, "ffffffffffffffff"]), "complete": False}
    (results / "suites" / "mine.json").write_text(json.dumps(record))
    code, lines = problems_of(results, capsys, "--no-render")
    assert code == 0 and lines == ["note: suite mine v2 is incomplete (its sweep has runs left): 1 of the 2 run ids "
                                   "its record names have no run file yet, not run: ffffffffffffffff"]
    assert json.loads((results.parent / "verify.json").read_text())["passed"]
    (results / "suites" / "mine.json").write_text(json.dumps({**record, "complete": True}))  # finished: a problem
    code, lines = problems_of(results, capsys, "--no-render")
    assert code == 1 and lines == ["suite mine: names run ffffffffffffffff, which has no run file"]


def test_the_rerun_sample_is_reproducible_spread_and_cheapest_first():
    runs, _ = load_runs(STANDARD)
    first, again, other = choose(runs, 10, seed=0), choose(runs, 10, seed=0), choose(runs, 10, seed=1)
    assert [r.run_id for r in first] == [r.run_id for r in again] != [r.run_id for r in other]
    groups = {(r.config.task, r.config.model.name) for r in first}
    assert len(groups) == 10  # one run per (task, model) before any group gives a second
    costs = [r.timing.train_time_s for r in first]
    assert costs == sorted(costs)


def test_verdicts_follow_the_seed_spread():
    def run(seed, value, metrics_extra=()):
        return minimal_record(run_id=f"r{seed}", status="converged", task={"metric": "accuracy"},
                              config={"task": "t", "model": {"name": "m"}, "length": 10, "seed": seed},
                              metrics={"test/accuracy": value, **dict(metrics_extra)})
    runs = [run(0, 0.80), run(1, 0.84), run(2, 0.82)]  # spread 0.04
    spreads = seed_spreads(runs)
    assert compare(runs[0], run(0, 0.80), spreads).verdict == "identical"
    assert compare(runs[0], run(0, 0.83), spreads).verdict == "within noise"
    assert compare(runs[0], run(0, 0.85), spreads).verdict == "outside"
    alone = [run(0, 0.80)]  # one seed: the metric's tolerance (a point of accuracy)
    assert compare(alone[0], run(0, 0.805), seed_spreads(alone)).verdict == "within noise"
    assert compare(alone[0], run(0, 0.82), seed_spreads(alone)).verdict == "outside"
