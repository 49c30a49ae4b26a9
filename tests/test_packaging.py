"""seqbench as a package: the wheel carries the task and suite YAMLs, and works outside the repository."""
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from seqbench.errors import UserError
from seqbench.tasks import TASKS_DIR, find_suite

from conftest import REPO
from test_own_model import BASELINES, TINY_SUITE, readme_model, readme_sweep, table_rows

tomllib = pytest.importorskip("tomllib")


def test_the_package_list_names_every_package():
    """pyproject spells the packages out (tasks/ is mapped to seqbench._tasks): a new subpackage must join it."""
    listed = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    found = {".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "seqbench").rglob("__init__.py")}
    assert set(listed) == found | {"seqbench._tasks"}


def test_suites_are_found_by_path_or_by_name(tmp_path):
    assert find_suite(REPO / "tasks" / "suites" / "quick.yaml") == REPO / "tasks" / "suites" / "quick.yaml"
    packaged = TASKS_DIR / "suites" / "quick.yaml"
    assert find_suite("quick") == find_suite("quick.yaml") == packaged
    assert find_suite(tmp_path / "tasks" / "suites" / "quick.yaml") == packaged  # the repo's path, outside it
    with pytest.raises(UserError, match="cannot read suite nosuch.yaml: no such file.*quick"):
        find_suite("nosuch.yaml")


def _run(*args, **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=600, **kw)
    assert proc.returncode == 0, f"{args}: {proc.stdout[-2000:]}{proc.stderr[-2000:]}"
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built from a copy of the sources, so that build/ and *.egg-info never land in the checkout."""
    tmp_path = tmp_path_factory.mktemp("wheel")
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    for name in ("seqbench", "tasks"):
        shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", tmp_path / "dist", source)
    built, = (tmp_path / "dist").glob("seqbench-*.whl")
    return built


def _outside_env() -> dict:
    """The environment of a user outside the repository: no PYTHONPATH, no task or plugin paths."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SEQBENCH_TASKS", "SEQBENCH_PLUGINS")}
    env["COLUMNS"] = "200"  # rich would shorten the task names to fit 80 columns
    return env


@pytest.mark.slow
def test_built_wheel_runs_in_a_fresh_virtualenv_outside_the_repository(tmp_path, wheel):
    # A fresh virtualenv; its dependencies (torch, ...) come from this interpreter's site-packages
    # through a .pth file, so nothing is downloaded. Its own site-packages comes first, so the
    # wheel's seqbench is the one imported.
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip())
    deps = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    (site / "_seqbench_test_deps.pth").write_text("\n".join(deps) + "\n")
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps", "--no-index", wheel)

    outside = tmp_path / "project"
    outside.mkdir()
    env = _outside_env()
    where = _run(python, "-c", "import seqbench; print(seqbench.__file__)", cwd=outside, env=env).stdout
    assert Path(where.strip()).is_relative_to(venv)
    seqbench = venv / "bin" / "seqbench"
    listed = _run(seqbench, "list", cwd=outside, env=env).stdout
    for task in ("adding", "copy", "recall", "sst2", "imdb", "conll2003", "tinyshakespeare"):
        assert task in listed
    ran = _run(seqbench, "run", "--task", "adding", "--model", "lstm", "--length", "8", "--steps", "4", "--quiet",
               "--train.eval_every=2", "--train.val_examples=16", "--train.test_examples=16",
               "--model.params=3000", "--results", "results", cwd=outside, env=env).stdout
    assert "adding/lstm L=8" in ran and len(list((outside / "results" / "runs").glob("*.json"))) == 1
    # A suite named by its path in the repository resolves to the packaged copy.
    planned = _run(seqbench, "sweep", "tasks/suites/quick.yaml", "--dry-run", "--results", "results", cwd=outside, env=env).stdout
    assert "suite quick" in planned

    # The README's "Benchmark your own model", in this virtualenv: the baselines of a tiny suite,
    # then a model defined in one file, swept alone and ranked among them; only its run trains.
    (outside / "tiny.yaml").write_text(TINY_SUITE)
    _run(seqbench, "sweep", "tiny.yaml", "--quiet", "--results", "my-results", cwd=outside, env=env)
    before = {p.name for p in (outside / "my-results" / "runs").glob("*.json")}
    assert len(before) == len(BASELINES)
    (outside / "mymodel.py").write_text(readme_model())
    _run(seqbench, *readme_sweep("tiny.yaml", "my-results"), "--quiet", cwd=outside, env=env)
    after = {p.name for p in (outside / "my-results" / "runs").glob("*.json")}
    assert len(after - before) == 1
    _run(seqbench, "report", "--results", "my-results", cwd=outside, env=env)
    rows = table_rows((outside / "my-results" / "leaderboard.md").read_text(), "adding")
    assert sorted(model for _, model in rows) == sorted(BASELINES + ("mymodel",))
    cited = _run(seqbench, "cite", "--results", "my-results", cwd=outside, env=env).stdout
    assert "tiny" in cited  # the leaderboard version the model was ranked against


@pytest.mark.slow
def test_the_wheel_without_extras_in_a_virtualenv_that_sees_no_development_package(tmp_path, wheel):
    """README's install without extras, for real: pip resolves the wheel's own dependencies into a
    virtualenv with no .pth to this environment (the torch build is this environment's, which pip
    finds where it found it before: a local wheel or its cache). Plain `list` and a synthetic run
    work; a real task and `report` each end in one line naming the extra, with exit code 2."""
    import torch

    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", f"torch=={torch.__version__}", wheel)
    env = _outside_env()
    paths = _run(python, "-c", "import sys; print('\\n'.join(sys.path))", env=env).stdout.split()
    dev = set(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    assert not dev & set(paths), paths
    for module in ("datasets", "tokenizers", "transformers", "seqeval", "matplotlib", "ray", "pytest"):
        found = _run(python, "-c", f"import importlib.util; print(importlib.util.find_spec({module!r}) is None)", env=env)
        assert found.stdout.strip() == "True", f"{module} is installed in the virtualenv without extras"

    outside = tmp_path / "project"
    outside.mkdir()
    seqbench = venv / "bin" / "seqbench"
    listed = _run(seqbench, "list", cwd=outside, env=env).stdout
    for task in ("adding", "copy", "recall", "sst2", "imdb", "conll2003", "tinyshakespeare"):
        assert task in listed
    _run(seqbench, "run", "--task", "adding", "--model", "lstm", "--length", "8", "--steps", "4", "--quiet",
         "--train.eval_every=2", "--train.val_examples=16", "--train.test_examples=16",
         "--model.params=3000", "--results", "results", cwd=outside, env=env)
    for args, extra in ((["run", "--task", "sst2", "--model", "lstm"], "data"), (["report", "--results", "results"], "report")):
        proc = subprocess.run([str(seqbench), *args], capture_output=True, text=True, timeout=600, cwd=outside, env=env)
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1, proc.stderr
        assert lines[0].endswith(f"pip install 'seqbench[{extra}]'"), lines
