"""A plugin package installed by pip registers a model and a task through entry points."""
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, run_cli


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory) -> Path:
    import shutil
    target = tmp_path_factory.mktemp("site")
    source = tmp_path_factory.mktemp("src") / "plugin_pkg"
    shutil.copytree(REPO / "tests" / "plugin_pkg", source)  # pip's build/ folder lands in the copy
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                           "--no-build-isolation", "--target", str(target), str(source)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return target


@pytest.mark.slow
def test_plugin_appears_in_list_and_runs(plugin_site, tmp_path):
    env = {"PYTHONPATH": str(plugin_site)}
    listed = run_cli("list", env=env)
    assert listed.returncode == 0, listed.stderr
    assert "conv" in listed.stdout and "parity" in listed.stdout
    proc = run_cli("run", "--task", "parity", "--model", "conv", "--steps", "4", "--quiet",
                   "--train.eval_every=2", "--train.val_examples=16", "--train.test_examples=16",
                   "--model.params=3000", "--results", str(tmp_path), env=env)
    assert proc.returncode == 0, proc.stderr
    assert "parity/conv" in proc.stdout
    # Built-in models run the plugin task, and the plugin model runs built-in tasks.
    proc = run_cli("run", "--task", "adding", "--model", "conv", "--length", "8", "--steps", "2", "--quiet",
                   "--train.eval_every=2", "--train.val_examples=8", "--train.test_examples=8",
                   "--model.params=3000", "--results", str(tmp_path), env=env)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.slow
def test_without_the_plugin_the_names_are_unknown():
    proc = run_cli("run", "--task", "parity", "--model", "lstm")
    assert proc.returncode == 2 and "unknown task 'parity'" in proc.stderr
