"""Benchmark your own model (README): a model in one file, swept alone over a suite whose baseline
runs are already in the results directory, is ranked among them; only its runs train. Another
protocol is refused in one line; runs of another protocol version are counted and run again."""
import dataclasses
import json
import re
import shlex
import shutil
from pathlib import Path

import pytest

from seqbench.config import RunConfig
from seqbench.protocol import config_identity
from seqbench.store import load_runs, read_run, write_run
from seqbench.commands.sweep import ConsoleDisplay
from seqbench.sweep import sweep

from conftest import REPO, run_cli

BASELINES = ("rnn", "lstm", "gru", "bilstm", "transformer")
TINY_SUITE = """
name: tiny
version: 1
seeds: [0]
models: [rnn, lstm, gru, bilstm, transformer]
tasks:
  adding: {lengths: [6]}
train: {steps: 6, eval_every: 3, log_every: 3, val_examples: 16, test_examples: 16, batch_size: 8, eval_batch_size: 8}
model: {params: 5000, n_heads: 2}
"""


def readme_section() -> str:
    return (REPO / "README.md").read_text().split("## Benchmark your own model", 1)[1].split("\n## ", 1)[0]


def readme_model() -> str:
    """The model file of the tutorial, exactly as README shows it."""
    return re.search(r"```python\n(.*?)```", readme_section(), re.S).group(1)


def readme_sweep(suite: str, results: str) -> list[str]:
    """The tutorial's sweep command, with the fixture suite and results directory in place of the standard ones."""
    line = next(l for l in readme_section().splitlines() if l.startswith("seqbench sweep "))
    args = shlex.split(line)[2:]  # after "seqbench sweep"
    assert args[1:] == ["--plugin", "mymodel.py", "--models", "mymodel", "--results", "my-results"], line
    return ["sweep", suite] + args[1:-1] + [results]


@pytest.fixture(scope="module")
def baselines(tmp_path_factory) -> Path:
    """The five baselines' runs of the tiny suite (a stand-in for a copy of results/standard)."""
    where = tmp_path_factory.mktemp("baselines")
    (where / "tiny.yaml").write_text(TINY_SUITE)
    summary = sweep(where / "tiny.yaml", where / "results", executor="inline")
    assert summary["todo"] == len(BASELINES)
    return where


@pytest.fixture
def project(baselines, tmp_path) -> Path:
    """A newcomer's folder: the suite, the model file, and a copy of the baseline results."""
    shutil.copy(baselines / "tiny.yaml", tmp_path / "tiny.yaml")
    shutil.copytree(baselines / "results", tmp_path / "my-results")
    (tmp_path / "mymodel.py").write_text(readme_model())
    return tmp_path


def table_rows(markdown: str, task: str) -> list[tuple[int, str]]:
    """(rank, model) of the first table under `## task`."""
    section = markdown.split(f"\n## {task}\n", 1)[1]
    table = section[section.index("| # |"):].split("\n\n", 1)[0]
    return [(int(m.group(1)), m.group(2)) for m in re.finditer(r"^\| (\d+) \| (\w+) \|", table, re.M)]


@pytest.mark.slow
def test_own_model_is_ranked_among_the_baselines_and_only_its_runs_train(project):
    results = project / "my-results"
    before = {p.name: p.stat().st_mtime_ns for p in (results / "runs").glob("*.json")}
    proc = run_cli(*readme_sweep("tiny.yaml", "my-results"), "--quiet", cwd=project)
    assert proc.returncode == 0, proc.stderr
    after = {p.name: p.stat().st_mtime_ns for p in (results / "runs").glob("*.json")}
    new = sorted(set(after) - set(before))
    assert len(new) == 1  # one length x one seed x one lr: mymodel's run alone trained
    assert {k: after[k] for k in before} == before  # the baselines' files untouched
    assert read_run(results / "runs" / new[0]).config.model.name == "mymodel"
    manifest = json.loads((results / "suites" / "tiny.json").read_text())
    assert set(manifest["run_ids"]) == {Path(n).stem for n in after}  # the suite's runs: baselines and mymodel

    report = run_cli("report", "--results", "my-results", cwd=project)
    assert report.returncode == 0, report.stderr
    rows = table_rows((results / "leaderboard.md").read_text(), "adding")
    assert sorted(model for _, model in rows) == sorted(BASELINES + ("mymodel",))
    assert sorted(rank for rank, _ in rows) == list(range(1, 7))  # one ranking: the six in one table


@pytest.mark.slow
def test_another_protocol_is_refused_in_one_line(project):
    suite = project / "tiny.yaml"
    suite.write_text(TINY_SUITE.replace("version: 1", "version: 2").replace("params: 5000", "params: 8000"))
    proc = run_cli(*readme_sweep("tiny.yaml", "my-results"), cwd=project)
    assert proc.returncode == 2
    line = proc.stderr.strip()
    assert "\n" not in line and "another protocol" in line, proc.stderr
    assert "suite version 2 here, 1 in the runs" in line and "parameter target 8,000 here, 5,000 in the runs (adding)" in line
    assert len(list((project / "my-results" / "runs").glob("*.json"))) == len(BASELINES)


@pytest.mark.parametrize("content, message", [
    (None, "no such file"),
    ("x = 1\n", "registers no model or task"),
    ("raise RuntimeError('boom')\n", "failed to import: RuntimeError: boom"),
])
def test_bad_plugin_files_are_one_line(tmp_path, content, message):
    plugin = tmp_path / "plugin.py"
    if content is not None:
        plugin.write_text(content)
    proc = run_cli("sweep", "tasks/suites/quick.yaml", "--plugin", str(plugin), "--models", "lstm", "--dry-run",
                   "--results", str(tmp_path / "r"))
    assert proc.returncode == 2 and message in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr


def test_trainer_version_is_hash_neutral_at_one_and_left_out_of_the_identity():
    from seqbench.tasks import get_task
    cfg = get_task("adding").resolve("lstm", 8, 0)
    assert cfg.trainer_version == 1
    old = cfg.to_dict()
    del old["trainer_version"]  # a run file written before the field existed
    assert RunConfig.from_dict(old).run_id == cfg.run_id
    bumped = RunConfig.from_dict({**cfg.to_dict(), "trainer_version": 2})
    assert bumped.run_id != cfg.run_id and config_identity(bumped) == config_identity(cfg)
    assert config_identity(RunConfig.from_dict({**cfg.to_dict(), "task_version": 5})) == config_identity(cfg)
    assert config_identity(RunConfig.from_dict({**cfg.to_dict(), "seed": 1})) != config_identity(cfg)


@pytest.mark.slow
def test_runs_of_another_protocol_version_are_counted_and_run_again(baselines, tmp_path, capsys):
    results = tmp_path / "results"
    shutil.copytree(baselines / "results", results)
    for record in load_runs(results)[0]:  # as if an older trainer had made them
        (results / "runs" / f"{record.run_id}.json").unlink()
        config = dataclasses.replace(record.config, trainer_version=0)
        write_run(results, record.replace(config=config, run_id=config.run_id))
    summary = sweep(baselines / "tiny.yaml", results, executor="inline", display=ConsoleDisplay())
    assert summary["other_versions"] == len(BASELINES) and summary["todo"] == len(BASELINES)
    assert f"{len(BASELINES)} run file(s) (task adding v2 and trainer v0: {len(BASELINES)})" in capsys.readouterr().out
    again = sweep(baselines / "tiny.yaml", results, executor="inline")
    assert again["todo"] == 0 and again["other_versions"] == 0
