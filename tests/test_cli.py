"""The CLI: one-line errors with exit code 2, and a real one-run round trip."""
import json
import os

import pytest
import torch

from conftest import REPO, run_cli


@pytest.mark.slow
@pytest.mark.parametrize("args, needle", [
    (["run", "--task", "cpoy", "--model", "lstm"], "did you mean 'copy'"),
    (["run", "--task", "copy", "--model", "lstmm"], "did you mean 'lstm'"),
    (["run", "--task", "copy", "--model", "lstm", "--length", "0"], "length must be a positive integer"),
    (["run", "--task", "copy", "--model", "lstm", "--length", "abc"], "invalid int value"),
    (["run", "--task", "copy", "--model", "lstm", "--train.lr=x"], "train.lr: expected float"),
    (["run", "--task", "copy"], "required"),
    (["frobnicate"], "invalid choice"),
    pytest.param(["run", "--task", "copy", "--model", "lstm", "--device", "cuda:0"], "CUDA is not available",
                 marks=pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is here: cuda:0 is valid")),
    (["run", "--task", "copy", "--model", "lstm", "--device", "cuda:99"],  # an error on every machine
     "CUDA is not available" if not torch.cuda.is_available() else "'cuda:99' asked for, but this machine has"),
    (["report", "--results", "/nonexistent"], "no run files in /nonexistent/runs"),
])
def test_bad_input_is_one_line_and_exit_2(args, needle):
    proc = run_cli(*args)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_report_without_run_files_is_an_error_and_writes_nothing(tmp_path, capsys):
    from seqbench.cli import main
    missing, empty = tmp_path / "missing", tmp_path / "empty"
    (empty / "runs").mkdir(parents=True)
    for results in (missing, empty):
        assert main(["report", "--results", str(results)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and f"no run files in {results / 'runs'}" in err[0]
    assert not missing.exists() and [p.name for p in empty.iterdir()] == ["runs"]


@pytest.mark.slow
def test_bad_task_yaml_is_one_line(tmp_path):
    (tmp_path / "broken.yaml").write_text("metrics: [accuracy\n")
    (tmp_path / "copy.yaml").write_text("generator: {name: copy}\nmetrics: [accuracy]\n")
    proc = run_cli("run", "--task", "broken", "--model", "lstm", env={"SEQBENCH_TASKS": str(tmp_path)})
    assert proc.returncode == 2 and "malformed YAML" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    # One bad file does not hide the others.
    proc = run_cli("run", "--task", "copy", "--model", "lstm", "--steps", "2", "--quiet", "--train.val_examples=8",
                   "--train.test_examples=8", "--train.eval_every=2", f"--results={tmp_path / 'r'}",
                   env={"SEQBENCH_TASKS": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr


@pytest.mark.slow
def test_run_writes_a_file_and_summarises(tmp_path):
    proc = run_cli("run", "--task", "adding", "--model", "gru", "--length", "10", "--steps", "4",
                   "--train.eval_every=2", "--train.val_examples=16", "--train.test_examples=16",
                   "--model.params=5000", "--results", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    summary = proc.stdout.strip().splitlines()[-1]
    assert "test mse" in summary and "baseline 0.1667" in summary and "runs/" in summary
    files = list((tmp_path / "runs").glob("*.json"))
    assert len(files) == 1 and json.loads(files[0].read_text())["config"]["length"] == 10


def test_plain_list_reads_no_data_and_builds_no_model(monkeypatch, capsys):
    """Every dataset load starts from `text.data_dir()`, every model from `build_encoder`: plain
    `list` calls neither, yet names every task and model, the budget, and the synthetic baselines."""
    import seqbench.data.text
    import seqbench.models.model
    from seqbench.cli import main

    def forbidden(*args, **kw):
        raise AssertionError("plain `seqbench list` touched a data loader or built a model")

    monkeypatch.setattr(seqbench.data.text, "data_dir", forbidden)
    monkeypatch.setattr(seqbench.models.model, "build_encoder", forbidden)
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in ("rnn", "lstm", "gru", "bilstm", "transformer", "copy", "adding", "recall", "sst2", "imdb",
                 "conll2003", "tinyshakespeare"):
        assert name in out
    assert "mse 0.1667" in out  # adding's chance baseline needs no data
    assert "100,000" in out and "from its data (--params)" in out


def test_plain_list_imports_no_data_library():
    """Without the `data` extra installed, plain `list` still works: it never imports one."""
    import subprocess
    import sys
    code = ("import sys; from seqbench.cli import main; assert main(['list']) == 0; "
            "print(sorted(m for m in ('datasets', 'tokenizers', 'transformers', 'seqeval') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.slow
def test_list_params_counts_every_model_and_says_when_data_is_missing(tmp_path):
    proc = run_cli("list", "--params", env={"SEQBENCH_DATA": str(tmp_path), "HF_HUB_OFFLINE": "1", "COLUMNS": "250"})
    assert proc.returncode == 0, proc.stderr
    rows = {line.split("│")[1].strip(): line for line in proc.stdout.splitlines() if line.count("│") > 5}
    assert "(" in rows["adding"] and "no data" not in rows["adding"]  # counted, width in brackets
    assert "no data" in rows["sst2"] and "set SEQBENCH_DATA" in proc.stdout


def test_every_module_in_commands_is_a_registered_subcommand():
    """A new commands/<name>.py registers itself and is imported by commands/__init__.py."""
    import pkgutil

    import seqbench.commands
    from seqbench.cli import build_parser
    modules = {m.name for m in pkgutil.iter_modules(seqbench.commands.__path__)} - {"base"}
    assert set(seqbench.commands.COMMANDS.names()) == modules
    choices = build_parser()._subparsers._group_actions[0].choices
    assert set(choices) == modules


def test_a_closed_pipe_on_stdout_is_no_traceback():
    """`seqbench cite | head`: the reader leaves early; seqbench exits quietly with the shell's SIGPIPE code.
    (Commands that print through rich, such as `list`, get rich's own quiet exit, code 1.)"""
    import subprocess
    import sys
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has gone before the first line
    try:
        proc = subprocess.run([sys.executable, "-m", "seqbench", "cite"], stdout=write_end, stderr=subprocess.PIPE,
                              text=True, cwd=REPO, timeout=300)
    finally:
        os.close(write_end)
    assert proc.returncode == 141, proc.stderr
    assert "Traceback" not in proc.stderr and "BrokenPipeError" not in proc.stderr


def test_a_cuda_device_is_checked_against_the_devices_here(monkeypatch):
    """The GPU branch, on any machine: with one CUDA device, cuda:0 resolves and cuda:1 is one line."""
    from seqbench.errors import UserError
    from seqbench.runner import resolve_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert resolve_device("cuda:0") == torch.device("cuda:0") and resolve_device("cuda").type == "cuda"
    with pytest.raises(UserError, match=r"'cuda:1' asked for, but this machine has 1 CUDA device\(s\): use cuda:0 to cuda:0"):
        resolve_device("cuda:1")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(UserError, match="CUDA is not available"):
        resolve_device("cuda:0")
