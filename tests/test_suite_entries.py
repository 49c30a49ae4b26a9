"""Suite task entries: several entries of one task (`copy/loss`), each with its own models, lr grid
and grid, planned once where they share a run or a chain; and the standard v2 suite's plan."""
import pytest

from seqbench.protocol import Protocol
from seqbench.suite import load_suite, plan

SUITE = """
name: entries
seeds: [0, 1]
tune: {seed: 0}
models: [rnn, lstm]
lr: {default: [1.0e-3, 3.0e-3]}
tasks:
  copy: {lengths: [8], train: {steps: 6}}
  copy/loss: {lengths: [8], train: {steps: 6}, run_models: [lstm, gru], grid: {train.loss: [default, mse]}}
  adding: {lengths: {search: {start: 8, max: 32, refine: 0}}, train: {steps: 6}}
  adding/clip: {lengths: {search: {start: 8, max: 32, refine: 0}}, train: {steps: 6}, run_models: [rnn],
                grid: {train.clip: [1.0, null]}, lr: {rnn: [1.0e-2]}}
"""


@pytest.fixture
def found(tmp_path):
    path = tmp_path / "entries.yaml"
    path.write_text(SUITE)
    return plan(load_suite(path))


def test_an_entry_runs_its_own_models_grid_and_lrs(found):
    loss = [c for c in found.runs if c.train.loss == "mse"]
    assert sorted({c.model.name for c in loss}) == ["gru", "lstm"]  # gru is not among the suite's models
    assert {c.train.lr for c in loss} == {1e-3, 3e-3}  # tuned on seed 0
    unclipped = [c for c in found.chains if c.task == "adding" and c.grid.get("train.clip", 1.0) is None]
    # one lr needs no tuning: both seeds run it
    assert [(c.model, c.seed) for c in unclipped] == [("rnn", 0), ("rnn", 1)]
    assert {c.overrides["train"]["lr"] for c in unclipped} == {1e-2}
    assert {c.task for c in found.runs + found.chains} == {"copy", "adding"}  # `copy/loss` is copy


def test_runs_and_chains_two_entries_share_are_planned_once(found):
    ids = [c.run_id for c in found.runs]
    assert len(ids) == len(set(ids))
    # copy's lstm at the default loss is in both entries: 2 lrs on the tuning seed, once
    assert sum(c.model.name == "lstm" and c.train.loss == "default" for c in found.runs) == 2
    firsts = [(c.config(c.search.start).run_id) for c in found.chains]
    assert len(firsts) == len(set(firsts))
    labels = [d.label() for d in found.deferred]
    assert len(labels) == len(set(labels))


def test_a_models_sweep_keeps_the_entries_models_among_its_own(tmp_path):
    path = tmp_path / "entries.yaml"
    path.write_text(SUITE)
    suite = load_suite(path).restricted(("gru",))
    assert set(suite.tasks) == {"copy", "copy/loss", "adding"} and suite.tasks["copy/loss"]["run_models"] == ["gru"]
    assert {c.model.name for c in plan(suite).runs} == {"gru"}


def test_standard_v2_plans_the_pairs_axis_the_ablation_and_the_wider_grids():
    suite = load_suite("tasks/suites/standard-v2.yaml")
    assert (suite.name, suite.version) == ("standard", 2)
    found = plan(suite)
    pairs = {c.model for c in found.chains if c.task == "recall_mqar"}
    assert pairs == {"rnn", "lstm", "gru", "bilstm", "transformer"}
    assert {c.search.param for c in found.chains if c.task == "recall_mqar"} == {"n_pairs"}
    copy_max = {c.model: c.search.max for c in found.chains if c.task == "copy" and c.config(8).model.init != "identity"}
    assert copy_max["lstm"] == 256 and copy_max["transformer"] == 256
    adding_max = {c.model: c.search.max for c in found.chains if c.task == "adding" and c.model != "rnn"}
    assert adding_max == {"lstm": 1024, "gru": 1024, "bilstm": 1024, "transformer": 1024}
    irnn = [c for c in found.chains if c.config(16).model.init == "identity"]
    assert irnn and {c.model for c in irnn} == {"rnn"} and {c.task for c in irnn} == {"adding", "copy"}
    conll = {c.train.lr for c in found.runs if c.task == "conll2003" and c.model.name == "transformer"}
    ts = {c.train.lr for c in found.runs if c.task == "tinyshakespeare" and c.model.name == "lstm"}
    assert max(conll) == 1e-2 and max(ts) == 3e-2
    # the hf models' pairs axis: its own suite, the same protocol
    hf = plan(load_suite("tasks/suites/standard-hf.yaml"))
    assert {c.model for c in hf.chains} == {"hf:mamba", "hf:mamba2", "hf:rwkv", "hf:xlstm"}
    mine = next(c for c in found.chains if c.task == "recall_mqar").config(8)
    theirs = hf.chains[0].config(8)
    assert Protocol.of(mine.to_dict()).key == Protocol.of(theirs.to_dict()).key
