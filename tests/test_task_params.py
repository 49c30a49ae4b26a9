"""Task parameters (a run's `task_params`) and searches over them: recall_mqar's key-value pairs."""
import hashlib
import json
from pathlib import Path

import pytest
import torch

from seqbench.config import TRAINER_VERSION, RunConfig
from seqbench.data.batch import IGNORE
from seqbench.errors import UserError
from seqbench.search import LengthSearch, ParamSearch
from seqbench.status import CONVERGED, SOLVED
from seqbench.store import load_runs, write_run
from seqbench.suite import Chain, load_suite, plan
from seqbench.sweep import sweep
from seqbench.tasks import get_task, task_of

from fixture_runs import fake_trainer_record

KEYS = 64  # recall_mqar's keys are tokens 0..63, values 64..127, the blank 128


def answer(inputs: list[int], n_pairs: int) -> list[int]:
    """By hand: at each query (the last n_pairs tokens), the value that followed that key among the
    pairs, as a value index; IGNORE elsewhere."""
    pairs = {inputs[i]: inputs[i + 1] - KEYS for i in range(0, 2 * n_pairs, 2)}
    T = len(inputs)
    return [pairs[token] if t >= T - n_pairs else IGNORE for t, token in enumerate(inputs)]


def test_the_worked_example_of_the_task_file():
    # tasks/recall_mqar.yaml: n_pairs=2, length=2: key 17 -> value 70 (index 6), key 3 -> 64 (index 0)
    assert answer([17, 70, 3, 64, 128, 128, 3, 17], 2) == [IGNORE] * 6 + [0, 6]


@pytest.mark.parametrize("n_pairs", [2, 16, 64])
def test_recall_mqar_targets_follow_from_the_inputs(n_pairs):
    task = get_task("recall_mqar").with_params({"n_pairs": n_pairs})
    assert task.vocab_size == 2 * KEYS + 1 and task.n_classes == KEYS
    batch = task.source.sample(32, 16, torch.Generator().manual_seed(n_pairs), "cpu")
    assert batch.inputs.shape == (32, 3 * n_pairs + 16) == (32, task.source.seq_len(16))
    for inputs, targets in zip(batch.inputs.tolist(), batch.targets.tolist()):
        keys, queries = inputs[0:2 * n_pairs:2], inputs[-n_pairs:]
        assert len(set(keys)) == n_pairs and sorted(queries) == sorted(keys)  # distinct keys, each queried once
        assert inputs[2 * n_pairs: -n_pairs] == [2 * KEYS] * 16  # the blanks
        assert targets == answer(inputs, n_pairs)
    if n_pairs == KEYS:  # every key in every sequence
        assert sorted(batch.inputs[0, 0:2 * KEYS:2].tolist()) == list(range(KEYS))


def test_a_task_parameter_is_part_of_the_run_and_its_id():
    task = get_task("recall_mqar")
    own = task.resolve("lstm", 16, 0)
    sixteen = task.resolve("lstm", 16, 0, {"task": {"n_pairs": "16"}})  # --task.n_pairs=16 gives text
    assert own.task_params == {} and sixteen.task_params == {"n_pairs": 16}
    assert sixteen.run_id != own.run_id
    at_own_value = task.resolve("lstm", 16, 0, {"task": {"n_pairs": 4}})  # the YAML's own value, said explicitly
    assert at_own_value.task_params == {"n_pairs": 4} and at_own_value.run_id != own.run_id
    assert RunConfig.from_dict(sixteen.to_dict()) == sixteen
    assert task_of(sixteen).source.n_pairs == 16 and task_of(own) is task
    # the learned position table and chrono init follow the variant's sequence length
    transformer = task.resolve("transformer", 16, 0, {"task": {"n_pairs": 64}})
    assert transformer.model.max_positions == 3 * 64 + 16


def test_bad_task_parameters_are_one_line_each():
    task = get_task("recall_mqar")
    with pytest.raises(UserError, match="unknown key 'pairs'.*n_pairs"):
        task.resolve("lstm", 16, 0, {"task": {"pairs": 8}})
    with pytest.raises(UserError, match=r"n_pairs \(65\) must not exceed n_keys \(64\)"):
        task.resolve("lstm", 16, 0, {"task": {"n_pairs": 65}})


def test_a_length_search_keeps_the_chain_key_it_always_had():
    overrides = {"train": {"lr": 1e-3, "device": "cpu"}, "model": {}}
    chain = Chain("adding", "lstm", 0, overrides, {}, LengthSearch(16, 256, 0))
    ident = {"task": "adding", "version": get_task("adding").version, "model": "lstm", "seed": 0, "overrides": overrides}
    assert TRAINER_VERSION == 1
    digest = hashlib.sha256(json.dumps(ident, sort_keys=True, default=str).encode()).hexdigest()[:10]
    assert chain.key == f"adding/lstm/seed0/{digest}"
    pairs = Chain("recall_mqar", "lstm", 0, overrides, {}, ParamSearch(4, 64, 0, param="n_pairs"), length=16)
    assert pairs.key != Chain("recall_mqar", "lstm", 0, overrides, {}, ParamSearch(4, 64, 0, param="n_pairs"), length=32).key
    assert pairs.config(8).task_params == {"n_pairs": 8} and pairs.config(8).length == 16


# lstm holds up to 12 pairs, gru every count tried (censored), rnn not even the first
ABILITY = {"rnn": 2, "lstm": 12, "gru": 1000}
PAIRS_SUITE = """
name: pairs
seeds: [0]
models: [rnn, lstm, gru]
tasks:
  recall_mqar: {lengths: [16], search: {param: n_pairs, start: 4, max: 64, refine: 1}}
train: {steps: 6}
"""


def test_a_search_over_n_pairs_doubles_then_bisects_and_labels_like_a_length_search(monkeypatch, tmp_path):
    calls = []

    def trainer(cfg, results, progress=None, search=None):
        calls.append((cfg.model.name, cfg.length, cfg.task_params["n_pairs"]))
        status = SOLVED if cfg.task_params["n_pairs"] <= ABILITY[cfg.model.name] else CONVERGED
        record = fake_trainer_record(cfg, status, {}, {"name": cfg.task}, search=search)
        return record, write_run(results, record)

    suite = tmp_path / "pairs.yaml"
    suite.write_text(PAIRS_SUITE)
    monkeypatch.setattr("seqbench.runner.execute", trainer)
    summary = sweep(suite, tmp_path / "r", workers=1, threads=1, executor="inline")
    searches = {s["model"]: s for s in summary["searches"]}
    assert [p["n_pairs"] for p in searches["lstm"]["probes"]] == [4, 8, 16, 12]
    assert searches["lstm"]["label"] == "12" and searches["lstm"]["length"] == 16
    assert searches["gru"]["label"] == "≥ 64" and searches["gru"]["censored"]
    assert searches["rnn"]["label"] == "< 4" and searches["rnn"]["below_start"]
    assert {length for _, length, _ in calls} == {16}
    # The value past its ceiling, 128 pairs, is more than the task's 64 keys: recorded as no probe, with why.
    recorded = json.loads((tmp_path / "r" / "suites" / "pairs.json").read_text())
    beyond = next(s for s in recorded["searches"] if s["model"] == "gru")["next"]
    assert beyond["n_pairs"] == 128 and beyond["cpu_minutes"] is None and "must not exceed n_keys (64)" in beyond["why"]
    for record in load_runs(tmp_path / "r")[0]:
        assert record.search.param == "n_pairs" and record.search.max == 64
        assert record.axis == ("n_pairs", record.config.task_params["n_pairs"])  # what the report's axis shows
        assert record.config.run_id == record.run_id
    # resumed: nothing runs again
    calls.clear()
    assert sweep(suite, tmp_path / "r", workers=1, threads=1, executor="inline")["searches"] == summary["searches"]
    assert not calls


@pytest.mark.parametrize("entry,message", [
    ("recall_mqar: {lengths: {search: {start: 8, max: 64}}, search: {param: n_pairs, start: 4, max: 64}}", "one search per task"),
    ("recall_mqar: {lengths: [16], search: {start: 4, max: 64}}", "must name its task parameter"),
    ("recall_mqar: {lengths: [16], search: {param: length, start: 4, max: 64}}", "search the length with lengths"),
    ("recall_mqar: {lengths: [16], search: {param: n_pairs, start: 4, max: 65}}", r"n_pairs \(65\) must not exceed"),
    ("recall_mqar: {lengths: [16], search: {param: n_pairs, start: 4, max: 64, step: 2}}", "unknown key 'step'"),
    ("copy/x: {run_models: lstm}", "'run_models' must be a non-empty list"),  # task entries (test_suite_entries.py)
    ("copy/x: {lr: {lstm: 1.0e-3}}", "lr for 'lstm' must be a non-empty list"),
    ("copy/x: {grid: {clip: [1.0]}}", "grid key 'clip' must look like train.<field>"),
    ("copy/x: {models_only: [lstm]}", "unknown key 'models_only'"),
])
def test_bad_searches_and_entries_are_refused_in_one_line_before_any_run(tmp_path, entry, message):
    path = tmp_path / "bad.yaml"
    path.write_text(f"name: bad\nmodels: [lstm]\ntasks:\n  {entry}\n")
    with pytest.raises(UserError, match=message):
        plan(load_suite(path))


def test_tuned_pairs_search_defers_per_length(tmp_path):
    path = tmp_path / "tuned.yaml"
    path.write_text("name: tuned\nseeds: [0, 1, 2]\ntune: {seed: 0}\nmodels: [lstm]\nlr: {default: [1.0e-3, 3.0e-3]}\n"
                    "tasks:\n  recall_mqar: {lengths: [16, 32], search: {param: n_pairs, start: 4, max: 64}}\n")
    found = plan(load_suite(path))
    assert len(found.chains) == 2 * 2  # lengths x lrs, on the tuning seed
    assert sorted(d.label() for d in found.deferred) == ["recall_mqar/lstm L=16 search n_pairs",
                                                         "recall_mqar/lstm L=32 search n_pairs"]
    released = found.deferred[0].release(3e-3)
    assert {c.seed for c in released} == {1, 2} and {c.length for c in released} == {found.deferred[0].length}
