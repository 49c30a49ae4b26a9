"""A missing optional dependency (pyproject's extras) ends a command that needs it in one line naming
the extra to install, with exit code 2; commands that do not need it work without it.

The modules are hidden from this process (None in sys.modules makes their import fail as a missing
module would); tests/test_packaging.py installs the wheel without extras for real."""
import re
import sys

import pytest

from conftest import REPO, TINY
from fixture_runs import write_fixture_runs
from seqbench.cli import main
from seqbench.errors import EXTRAS

tomllib = pytest.importorskip("tomllib")

TINY_FLAGS = ["--steps", "2", "--quiet", "--train.eval_every=2", "--train.val_examples=8", "--train.test_examples=8",
              f"--model.params={TINY['model']['params']}"]


@pytest.fixture
def hide(monkeypatch):
    """hide('data'): every module of that extra, and its submodules already imported, cannot be imported."""
    def hide_extra(extra: str) -> None:
        modules = [m for m, e in EXTRAS.items() if e == extra]
        for name in list(sys.modules):
            if name.split(".")[0] in modules:
                monkeypatch.setitem(sys.modules, name, None)
        for name in modules:
            monkeypatch.setitem(sys.modules, name, None)
    return hide_extra


def one_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_the_table_of_extras_is_pyprojects():
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for extra in ("data", "report", "ray"):
        packages = {re.split(r"[\[<>=!~ ]", p)[0] for p in extras[extra]}
        assert packages == {m for m, e in EXTRAS.items() if e == extra}, extra


def test_a_real_task_without_the_data_extra_is_one_line(hide, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SEQBENCH_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("SEQBENCH_CACHE", str(tmp_path / "cache"))
    hide("data")
    assert main(["run", "--task", "sst2", "--model", "lstm", "--results", str(tmp_path / "r"), *TINY_FLAGS]) == 2
    line = one_line(capsys)
    assert line.startswith("seqbench: error: 'seqbench run' needs 'datasets'")
    assert line.endswith("pip install 'seqbench[data]'")
    assert not list((tmp_path / "r").rglob("*.json"))


def test_commands_that_need_no_extra_work_without_them(hide, tmp_path, capsys):
    for extra in ("data", "report", "ray"):
        hide(extra)
    assert main(["list"]) == 0
    assert main(["run", "--task", "adding", "--model", "lstm", "--length", "8", "--results", str(tmp_path),
                 *TINY_FLAGS]) == 0
    assert len(list((tmp_path / "runs").glob("*.json"))) == 1


def test_an_hf_model_without_transformers_is_one_line(hide, tmp_path, capsys):
    hide("data")
    assert main(["run", "--task", "adding", "--model", "hf:llama", "--length", "8", "--results", str(tmp_path),
                 *TINY_FLAGS]) == 2
    assert one_line(capsys).endswith("needs 'transformers', which is not installed: pip install 'seqbench[data]'")


def test_report_without_the_report_extra_writes_nothing(hide, tmp_path, capsys):
    write_fixture_runs(tmp_path)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    hide("report")
    assert main(["report", "--results", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    assert one_line(capsys).endswith("pip install 'seqbench[report]'")
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_a_sweep_worker_stops_the_sweep_instead_of_recording_a_failed_run(hide, tmp_path):
    """A run that needs a missing extra is no failed run: no file is written (a later sweep, with the
    extra installed, runs it), its lock is released, and the error reaches the sweep."""
    from seqbench.sweep.worker import run_one
    from seqbench.tasks import get_task

    cfg = get_task("adding").resolve("hf:llama", 8, 0, {"train": dict(TINY["train"]), "model": dict(TINY["model"])})
    (tmp_path / "runs").mkdir()
    hide("data")
    with pytest.raises(ModuleNotFoundError):
        run_one(cfg.to_dict(), str(tmp_path))
    assert list((tmp_path / "runs").iterdir()) == []  # no run file, no lock
