"""Leaderboard entries from others (README, 'Submit a leaderboard entry'): an entry made as README's
'Benchmark your own model' describes is accepted against the leaderboard it names; one made under
another protocol is refused in one line, exit 2; the report shows an accepted entry marked as submitted.
The committed example (results/submissions/example-conv, against standard v1) is checked by the audit alone,
without training."""
import json
import shutil
from pathlib import Path

import pytest
import yaml

from seqbench.report.render import write_report
from seqbench.report.submissions import accepted_entries
from seqbench.store import load_runs
from seqbench.sweep import sweep

from conftest import REPO, run_cli
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
    report = (board / "leaderboard.md").read_text()
    table = report.split("\n## adding\n", 1)[1].split("\n## ", 1)[0]
    assert "mymodel (submitted: conv)" in table and "| lstm |" in table
    # Provenance counts the leaderboard's own runs; the entry is named on its own line.
    assert f"- **runs**: {len(load_runs(leaderboard)[0])}\n" in report
    assert "- **submitted entries**: conv: 1 run, verify passed (audit; no reruns; on " in report


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


EXAMPLE = REPO / "results" / "submissions" / "example-conv"  # README, 'Submit a leaderboard entry'


def test_the_committed_example_is_readmes_model_and_passes_the_audit(tmp_path):
    """The committed entry is README's model file, and `verify --submission` (the audit, no training)
    still accepts it with what its committed verify.json says it checked."""
    assert (EXAMPLE / "mymodel.py").read_text() == readme_model()
    proc = run_cli("verify", "--submission", str(EXAMPLE.relative_to(REPO)), "--out", str(tmp_path / "verify.json"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    here, committed = (json.loads(p.read_text()) for p in (tmp_path / "verify.json", EXAMPLE / "verify.json"))
    assert here["passed"] and committed["passed"] and here["problems"] == committed["problems"] == []
    assert here["checks"] == committed["checks"] and committed["submission"]["name"] == EXAMPLE.name


def test_the_report_it_was_ranked_against_shows_the_committed_example_as_submitted():
    """The example was ranked against standard v1 (results/standard-v1, frozen): v1's report shows it,
    and the standard board that v2's sweep is still filling (results/standard) does not."""
    against = yaml.safe_load((EXAMPLE / "submission.yaml").read_text())["against"]
    assert against == "results/standard-v1"
    entries = accepted_entries(REPO / against)
    assert [e.name for e in entries] == [EXAMPLE.name] and accepted_entries(REPO / "results" / "standard") == []
    report = (REPO / against / "leaderboard.md").read_text()
    tasks = {r.config.task for r in entries[0].runs}
    for task in tasks:
        table = report.split(f"\n## {task}\n", 1)[1].split("\n## ", 1)[0]
        assert f"| mymodel (submitted: {EXAMPLE.name}) |" in table and "| lstm |" in table
    assert f"- **submitted entries**: {entries[0].line()}" in report
