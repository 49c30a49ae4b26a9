"""tools/add_state.py: the state block it adds to an old run file is the one the runner measured.

The committed v2 run files carry the block the runner wrote after training; stripped of it, the tool
must give the same kind, bytes, length and tensor shapes from the untrained model (what a model
carries depends on its shapes, not its weights), for a fixed state, a growing key-value cache and a
model that carries nothing."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from seqbench.store import read_run, run_path, write_run

ROOT = Path(__file__).resolve().parent.parent
RUNS = ROOT / "results" / "standard" / "runs"
MEASURED = {  # committed v2 run files with the runner's own state block
    "000f0a3ae304d25a": "fixed",  # copy/lstm L=64
    "155594a8a99f15bc": "grows with length",  # recall_mqar/transformer (causal: a key-value cache)
    "0029de65e8025cd6": "none",  # recall_mqar/bilstm
}
FIELDS = ("kind", "bytes", "seq_len", "bytes_half", "tensors")


def load_tool():
    spec = importlib.util.spec_from_file_location("add_state", ROOT / "tools" / "add_state.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


@pytest.fixture
def stripped(tmp_path):
    """The MEASURED run files as v1 wrote theirs: without a state block."""
    originals = {}
    for run_id in MEASURED:
        record = read_run(RUNS / f"{run_id}.json")
        originals[run_id] = record
        write_run(tmp_path, record.replace(state=None))
    return tmp_path, originals


def test_the_tool_measures_what_the_runner_measured(stripped):
    results, originals = stripped
    tool = load_tool()
    assert tool.add_state_to_results(results) == (len(MEASURED), [])
    for run_id, kind in MEASURED.items():
        added, original = read_run(run_path(results, run_id)).state, originals[run_id].state  # hash recomputed
        assert original.kind == kind
        assert [getattr(added, f) for f in FIELDS] == [getattr(original, f) for f in FIELDS], run_id
        assert "tools/add_state.py" in added.note
    assert tool.add_state_to_results(results) == (0, [])  # a second pass changes nothing


def test_the_tool_leaves_v1_as_committed(tmp_path, capsys):
    assert load_tool().main([str(tmp_path / "standard-v1")]) == 2
    assert "left as it is" in capsys.readouterr().err
