"""Protocol identity (seqbench/protocol.py): which runs share a ranking, and what a `--models` sweep
refuses to mix (sweep/existing.py). Every protocol field is changed alone and must be named."""
import dataclasses
import json

import pytest

from seqbench import __version__
from seqbench.config import RunConfig, TrainConfig
from seqbench.protocol import (DATA_FIELDS, NOT_PROTOCOL_TRAIN, Protocol, config_identity, protocol_differences,
                               protocol_key)
from seqbench.record import Provenance, RunRecord
from seqbench.store import suite_record_path
from seqbench.suite import load_suite, plan
from seqbench.sweep.existing import differences, refuse_other_protocol
from seqbench.errors import UserError

from fixture_runs import minimal_record

REAL_DATA = {"source": "imdb", "data": "train.csv test.csv", "data_hash": "ab12"}


def base_config() -> dict:
    return RunConfig("adding", 8, 0, task_version=2).to_dict()


def base_record(**task_block) -> RunRecord:
    return minimal_record(run_id="base", config=base_config(), task={"name": "adding", **task_block},
                          provenance={"seqbench": __version__})


def changed(path: str, value) -> dict:
    """The base config with one field (`train.steps`, `task_version`, ...) set to `value`."""
    config = base_config()
    node, *rest = path.split(".")
    if rest:
        config[node][rest[0]] = value
    else:
        config[node] = value
    return config


PROTOCOL_TRAIN = [f.name for f in dataclasses.fields(TrainConfig) if f.name not in NOT_PROTOCOL_TRAIN]


def other_value(value):
    """A value of the same kind that differs from `value`."""
    if isinstance(value, bool):
        return not value
    if value is None:
        return 7.5
    if isinstance(value, str):
        return value + "x"
    return value * 2 + 1


# (field changed, value, the label protocol_differences must give it)
TOP_FIELDS = [("task", "copy", "task"), ("task_version", 3, "task version"),
              ("trainer_version", 2, "trainer version"), ("model.params", 50_000, "parameter target")]


@pytest.mark.parametrize("path, value, label", TOP_FIELDS + [
    (f"train.{name}", other_value(getattr(TrainConfig(), name)), f"train {name}") for name in PROTOCOL_TRAIN])
def test_each_protocol_field_alone_makes_another_protocol_and_is_named(path, value, label):
    base, other = Protocol.of(base_config()), Protocol.of(changed(path, value))
    assert other.key != base.key
    diffs = protocol_differences(other, base)
    assert [what for what, _, _ in diffs] == [label]
    assert diffs[0][1] == (f"{value:,}" if label == "parameter target" else str(value))


@pytest.mark.parametrize("name", DATA_FIELDS)
def test_each_data_field_alone_makes_another_protocol_and_is_named(name):
    base = Protocol.of(base_config(), REAL_DATA)
    other = Protocol.of(base_config(), {**REAL_DATA, name: "other"})
    assert other.key != base.key
    assert protocol_differences(other, base) == [(f"data {name}", "other", REAL_DATA[name])]


def test_a_field_one_side_does_not_record_is_a_difference():
    """An older run file without a field (or a real task's data against none) is not the same
    protocol: the report would rank them apart, so they differ here too."""
    older = base_config()
    del older["train"]["early_stop"]
    assert protocol_differences(Protocol.of(base_config()), Protocol.of(older)) == [("train early_stop", "False", "(none)")]
    assert [w for w, _, _ in protocol_differences(Protocol.of(base_config(), REAL_DATA), Protocol.of(base_config()))] \
        == [f"data {name}" for name in sorted(DATA_FIELDS)]


@pytest.mark.parametrize("path, value", [(f"train.{name}", "changed") for name in NOT_PROTOCOL_TRAIN] + [
    ("model.name", "gru"), ("model.init", "identity"), ("model.n_layers", 3), ("length", 64), ("seed", 3)])
def test_what_a_table_compares_is_outside_the_protocol(path, value):
    assert Protocol.of(changed(path, value)) == Protocol.of(base_config())
    assert protocol_differences(Protocol.of(changed(path, value)), Protocol.of(base_config())) == []


def test_task_block_facts_other_than_the_data_are_outside_the_protocol():
    assert Protocol.of(base_config(), {**REAL_DATA, "vocab_size": 30000}) == Protocol.of(base_config(), REAL_DATA)


def test_differences_are_empty_exactly_when_keys_agree():
    """1 and 1.0 hash differently, so they are a difference too."""
    a, b = Protocol.of(changed("train.warmup", 1)), Protocol.of(changed("train.warmup", 1.0))
    assert a.key != b.key and protocol_differences(a, b) == [("train warmup", "1", "1.0")]


def test_the_key_is_the_hash_every_leaderboard_already_shows():
    """Changing the key would regroup every committed leaderboard: pinned on a fixed config."""
    config = {"task": "copy", "task_version": 1, "model": {"params": 5000}, "train": {"steps": 6, "lr": 1e-3, "device": "cpu"}}
    assert Protocol.of(config, {"name": "copy"}).key == "b660b480"
    bumped = {**config, "trainer_version": 1}  # hash-neutral at 1: files before the field keep their key
    assert Protocol.of(bumped, {"name": "copy"}).key == "b660b480"
    # A run record's key is that of its config as the file holds it, with or without the field.
    full = RunConfig.from_dict({**config, "length": 6, "seed": 0}).to_dict()
    older = {k: v for k, v in full.items() if k != "trainer_version"}
    assert protocol_key(minimal_record(config=full)) == protocol_key(minimal_record(config=older)) == Protocol.of(full).key


def test_config_identity_leaves_out_the_protocol_versions_only():
    cfg = RunConfig.from_dict(base_config())
    assert config_identity(RunConfig.from_dict(changed("trainer_version", 2))) == config_identity(cfg)
    assert config_identity(RunConfig.from_dict(changed("task_version", 9))) == config_identity(cfg)
    assert config_identity(RunConfig.from_dict(changed("train.steps", 9))) != config_identity(cfg)


# ---------------------------------------------------------------- what a --models sweep refuses

def planned(*configs: dict, data: dict | None = None) -> list[Protocol]:
    return [Protocol.of(c, data) for c in configs]


def test_a_sweep_refuses_another_budget_which_the_old_check_let_through():
    """Before protocol.py, a --models sweep compared params, versions and data only: a run at
    another step budget was let in, and then the report ranked it in a table of its own."""
    diffs = differences({"version": 1}, 1, [base_record()], planned(changed("train.steps", 99)))
    assert diffs == ["train steps 99 here, 2000 in the runs (adding)"]


def test_a_sweep_names_suite_and_seqbench_versions():
    old = base_record().replace(provenance=Provenance(seqbench="0.0.1"))
    diffs = differences({"version": 1}, 2, [old], planned(base_config()))
    assert diffs == ["suite version 2 here, 1 in the runs", f"seqbench {__version__} here, 0.0.1 in the runs"]


def test_a_sweep_accepts_a_protocol_shared_by_any_run_of_its_task():
    """A suite may hold several protocols of a task (a per-model budget): matching one of them is
    enough, and a mismatch is described against the nearest one."""
    other = base_record().replace(config=RunConfig.from_dict(changed("train.warmup", 0.5)))
    manifest = {"version": 1}
    assert differences(manifest, 1, [other, base_record()], planned(base_config())) == []
    far = changed("train.warmup", 0.5)
    far["model"]["params"] = 1
    assert differences(manifest, 1, [other, base_record()], planned(far)) == [
        "parameter target 1 here, 100,000 in the runs (adding)"]


def test_a_task_with_no_run_there_is_not_compared():
    assert differences({"version": 1}, 1, [base_record()], planned(changed("task", "copy"))) == []


def test_a_sweep_compares_the_data_a_planned_run_would_record():
    existing = [base_record(**REAL_DATA)]
    assert differences({"version": 1}, 1, existing, planned(base_config(), data=REAL_DATA)) == []
    moved = planned(base_config(), data={**REAL_DATA, "data_hash": "cd34"})
    assert differences({"version": 1}, 1, existing, moved) == ["data data_hash cd34 here, ab12 in the runs (adding)"]


SUITE = """
name: tiny
version: 1
seeds: [0]
models: [rnn, lstm]
tasks:
  adding: {lengths: [6]}
train: {steps: 6, eval_every: 3}
model: {params: 5000}
"""


def test_refuse_other_protocol_in_one_line(tmp_path):
    (tmp_path / "tiny.yaml").write_text(SUITE)
    suite = load_suite(tmp_path / "tiny.yaml")
    baseline = plan(suite).runs
    records = [minimal_record(run_id=cfg.run_id, config=cfg.to_dict(), task={"name": "adding"},
                              provenance={"seqbench": __version__}) for cfg in baseline]
    path = suite_record_path(tmp_path / "results", "tiny")
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"name": "tiny", "version": 1, "run_ids": [r.run_id for r in records]}))
    mine = dataclasses.replace(suite, models=("gru",))
    runs = plan(mine).runs
    refuse_other_protocol(tmp_path / "results", mine, ("gru",), runs, [], records)  # same protocol: accepted

    longer = dataclasses.replace(mine, train={"steps": 12, "eval_every": 3})
    with pytest.raises(UserError) as err:
        refuse_other_protocol(tmp_path / "results", longer, ("gru",), plan(longer).runs, [], records)
    assert "\n" not in str(err.value) and "train steps 12 here, 6 in the runs (adding)" in str(err.value)
