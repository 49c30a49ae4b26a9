from pathlib import Path

import pytest

from seqbench.config import ModelConfig, RunConfig, TrainConfig, merge, parse_overrides
from seqbench.errors import UserError
from seqbench.tasks import get_task


def test_overrides_are_typed():
    nested = parse_overrides(["train.lr=1e-3", "--train.clip=off", "model.params=50000", "train.time_budget_s=2"])
    cfg = get_task("adding").resolve("lstm", 50, 0, nested)
    assert cfg.train.lr == 1e-3 and isinstance(cfg.train.lr, float)
    assert cfg.train.clip is None
    assert cfg.model.params == 50000
    assert cfg.train.time_budget_s == 2.0


@pytest.mark.parametrize("items, message", [
    (["train.lr=fast"], "train.lr: expected float"),
    (["train.steps=1.5"], "train.steps: expected int"),
    (["train.stpes=3"], "did you mean 'steps'"),
    (["nonsense"], "section.key=value"),
    (["optim.lr=1"], "unknown override section"),
    (["model.params=true"], "model.params: expected int"),
])
def test_bad_overrides_say_what_is_wrong(items, message):
    with pytest.raises(UserError, match=message):
        get_task("adding").resolve("lstm", 50, 0, parse_overrides(items))


def test_task_layers_apply_in_order():
    task = get_task("copy")
    cfg = task.resolve("gru", 20, 1)
    assert cfg.train.lr == task.train["lr"] and cfg.task_version == task.version
    assert cfg.model.name == "gru"


def test_run_id_is_stable_and_ignores_threads():
    a = RunConfig("copy", 20, 0)
    b = RunConfig("copy", 20, 0, train=TrainConfig(threads=4))
    assert a.run_id == b.run_id and len(a.run_id) == 16
    assert RunConfig("copy", 20, 1).run_id != a.run_id
    assert RunConfig.from_dict(a.to_dict()) == a


@pytest.mark.parametrize("length", [0, -3, True, 2.5, 10**7])
def test_bad_lengths(length):
    with pytest.raises(UserError, match="length"):
        get_task("copy").resolve("lstm", length, 0)


def test_unknown_names_suggest():
    with pytest.raises(UserError, match="did you mean 'lstm'"):
        get_task("copy").resolve("lstn", 20, 0)
    with pytest.raises(UserError, match="did you mean 'adding'"):
        get_task("addin")


def test_fields_added_later_keep_old_run_ids(tmp_path):
    """Fields added after the first results (precision, compile, positions, early stopping, loss): a
    config written before them has the run id it had, and is read back with the values of its time."""
    import json
    from seqbench.config import HASH_NEUTRAL_DEFAULTS
    archived = sorted((Path(__file__).parent.parent / "results" / "archive" / "runs").glob("*.json"))
    if not archived:
        pytest.skip("no archived run files")
    record = json.loads(archived[0].read_text())
    assert RunConfig.from_dict(record["config"]).run_id == record["run_id"]
    top = {k: v for k, v in record["config"].items() if k not in ("model", "train")}
    then = {"model": dict(record["config"]["model"]), "train": dict(record["config"]["train"]), None: top}
    for section, key, value in HASH_NEUTRAL_DEFAULTS:
        then[section][key] = value  # the behaviour of the time, written out ...
    written_out = RunConfig.from_dict({**top, "model": then["model"], "train": then["train"]})
    for section, key, _ in HASH_NEUTRAL_DEFAULTS:
        del then[section][key]  # ... and as an old file has it: absent
    old = RunConfig.from_dict({**top, "model": then["model"], "train": then["train"]})
    assert old.run_id == written_out.run_id
    assert old.train.precision == "fp32" and old.train.compile is False and old.train.early_stop is False
    assert old.trainer_version == 1  # a top-level field (section None): files before it are trainer version 1
    assert old.model.positions == "sinusoidal"  # read with the value of its time, not today's default
    bf16 = RunConfig.from_dict({**record["config"], "train": {**record["config"]["train"], "precision": "bf16"}})
    assert bf16.run_id != RunConfig.from_dict(record["config"]).run_id


def test_unknown_precision_is_one_clear_error():
    from seqbench.tasks import get_task
    with pytest.raises(UserError, match="unknown precision 'fp8'.*available: bf16, fp32"):
        get_task("adding").resolve("lstm", 10, 0, {"train": {"precision": "fp8"}})


def test_merge_dicts_merges_mappings_and_replaces_the_rest():
    from seqbench.config import merge_dicts

    base = {"train": {"lr": 1e-3, "steps": 500}, "grid": [1, 2]}
    out = merge_dicts(base, {"train": {"lr": 3e-3}, "model": {"params": 5}, "grid": [3]})
    assert out == {"train": {"lr": 3e-3, "steps": 500}, "grid": [3], "model": {"params": 5}}
    assert base == {"train": {"lr": 1e-3, "steps": 500}, "grid": [1, 2]}  # inputs untouched
    assert merge_dicts(base, None) == base and merge_dicts(base, None) is not base


def test_merge_of_a_dataclass_is_the_dict_merge_type_checked():
    cfg = merge(RunConfig("copy", 20, 0), {"train": {"lr": "3e-3"}, "model": {"params": 5000}}, "run")
    assert cfg.train.lr == 3e-3 and cfg.model.params == 5000 and cfg.train.steps == TrainConfig().steps
    with pytest.raises(UserError, match=r"run\.train\.lr: expected float"):
        merge(RunConfig("copy", 20, 0), {"train": {"lr": "fast"}}, "run")
    with pytest.raises(UserError, match=r"run\.model: unknown key 'parms'; did you mean 'params'\?"):
        merge(RunConfig("copy", 20, 0), {"model": {"parms": 1}}, "run")


def test_a_suite_task_may_run_its_own_seeds(tmp_path):
    from seqbench.suite import load_suite, plan
    path = tmp_path / "s.yaml"
    path.write_text("name: s\nseeds: [0, 1]\nmodels: [lstm]\ntasks:\n  adding: {lengths: [5], seeds: [3]}\n  copy: {lengths: [5]}\n")
    runs = plan(load_suite(path)).runs
    assert sorted((r.task, r.seed) for r in runs) == [("adding", 3), ("copy", 0), ("copy", 1)]
    path.write_text("name: s\nmodels: [lstm]\ntasks:\n  adding: {lengths: [5], seeds: []}\n")
    with pytest.raises(UserError, match="'seeds' must be a non-empty list of integers"):
        plan(load_suite(path))
