"""Leaderboard entries from others (README, 'Submit a leaderboard entry'): an entry made as README's
'Benchmark your own model' describes is accepted against the leaderboard it names; one made under
another protocol is refused in one line, exit 2; the report shows an accepted entry marked as submitted."""
import json
import shutil
from pathlib import Path

import pytest
import yaml

from seqbench.report.render import write_report
from seqbench.sweep import sweep

from conftest import run_cli
from test_own_model import TINY_SUITE, readme_model


def make_entry(where: Path, leaderboard: Path, suite_text: str, name: str, beside_baselines: bool = True) -> Path:
    """Sweep README's model over the suite (into a copy of the leaderboard's results, as README says,
    unless `beside_baselines` is off), and keep its runs."""
    (where / "suite.yaml").write_text(suite_text)
    (where / "mymodel.py").write_text(readme_model())
    work = where / "work"
    if beside_baselines:
        shutil.copytree(leaderboard, work)
    proc = run_cli("sweep", str(where / "suite.yaml"), "--plugin", str(where / "mymodel.py"), "--models", "mymodel",
                   "--results", str(work), "--quiet")
    assert proc.returncode == 0, proc.stderr
    theirs = {p.name for p in (leaderboard / "runs").iterdir()}
    entry = where / "submissions" / name
    (entry / "runs").mkdir(parents=True)
    for path in (work / "runs").iterdir():
        if path.name not in theirs:
            shutil.copy(path, entry / "runs" / path.name)
    shutil.copy(where / "mymodel.py", entry / "mymodel.py")
    (entry / "submission.yaml").write_text(yaml.safe_dump(
        {"name": name, "models": ["mymodel"], "plugin": "mymodel.py", "against": str(leaderboard)}))
    return entry


@pytest.fixture(scope="module")
def leaderboard(tmp_path_factory) -> Path:
    """The tiny suite's five baselines and their report: a stand-in for results/standard."""
    where = tmp_path_factory.mktemp("board")
    (where / "tiny.yaml").write_text(TINY_SUITE)
    results = where / "results" / "tiny"
    sweep(where / "tiny.yaml", results, executor="inline")
    write_report(results, results)
    return results


@pytest.mark.slow
def test_an_entry_is_accepted_and_the_report_marks_it_submitted(leaderboard, tmp_path):
    entry = make_entry(tmp_path, leaderboard, TINY_SUITE, "conv")
    proc = run_cli("verify", "--submission", str(entry))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    verdict = json.loads((entry / "verify.json").read_text())
    assert verdict["passed"] and verdict["submission"]["name"] == "conv"

    board = tmp_path / "results" / "tiny"  # the leaderboard beside results/submissions/conv
    shutil.copytree(leaderboard, board)
    shutil.move(str(entry), tmp_path / "results" / "submissions" / "conv")
    write_report(board, board)
    table = (board / "leaderboard.md").read_text().split("\n## adding\n", 1)[1].split("\n## ", 1)[0]
    assert "mymodel (submitted: conv)" in table and "| lstm |" in table


@pytest.mark.slow
def test_an_entry_of_another_protocol_is_refused_in_one_line(leaderboard, tmp_path):
    entry = make_entry(tmp_path, leaderboard, TINY_SUITE.replace("steps: 6,", "steps: 9,"), "longer",
                       beside_baselines=False)  # a sweep refuses to put another protocol beside them
    proc = run_cli("verify", "--submission", str(entry))
    line = proc.stderr.strip()
    assert proc.returncode == 2 and "\n" not in line, proc.stderr
    assert "was made under protocol" in line and "train steps 9 here, 6 there" in line


def test_an_entry_without_its_description_is_refused_in_one_line(leaderboard, tmp_path):
    (tmp_path / "runs").mkdir()
    shutil.copy(next((leaderboard / "runs").glob("*.json")), tmp_path / "runs")
    proc = run_cli("verify", "--submission", str(tmp_path))
    assert proc.returncode == 2 and "has no submission.yaml" in proc.stderr and proc.stderr.count("\n") == 1
