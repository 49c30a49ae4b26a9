"""The transformers adapter: presets, overrides, errors, run files and the measured cost estimate."""
import json

import pytest
import torch

from seqbench.config import ModelConfig, RunConfig
from seqbench.errors import UserError
from seqbench.estimate import predicted_seconds
from seqbench.measure.step_time import CACHE, cache_key
from seqbench.models import MODELS, build_model, count_params
from seqbench.models.hf import presets
from seqbench.runner import execute
from seqbench.tasks import get_task

HF = sorted(presets())


def test_every_preset_is_registered_with_its_causality():
    assert {"hf:mamba", "hf:mamba2", "hf:rwkv", "hf:xlstm", "hf:llama"} <= set(HF)
    for name in HF:
        assert name in MODELS and MODELS.meta(name)["causal"] is presets()[name].causal


def test_an_unknown_hf_type_is_one_error_listing_the_available_ones():
    with pytest.raises(UserError) as err:
        MODELS.get("hf:mambo")
    assert "did you mean 'hf:mamba'" in str(err.value) and "hf:xlstm" in str(err.value)


@pytest.mark.parametrize("name", HF)
def test_budget_met_and_overrides_reach_the_transformers_config(name):
    task = get_task("recall")
    preset = presets()[name]
    cfg = ModelConfig(name=name, params=30000, n_layers=3)
    model = build_model(cfg, task)
    assert abs(count_params(model)["params"] - 30000) <= 0.05 * 30000
    assert getattr(model.encoder.config, preset.layers) == 3  # model.n_layers sets the preset's layer field
    info = model.encoder.info()
    assert info["hf"]["model_type"] == preset.model_type and info["hf"]["config"]["hidden_size"] == model.width
    assert info["kernel"] in ("fast", "reference", "none needed")


def test_a_config_transformers_cannot_build_is_one_clear_error():
    with pytest.raises(UserError, match="hf:rwkv cannot be built .*num_hidden_layers=1"):
        build_model(ModelConfig(name="hf:rwkv", params=30000, n_layers=1), get_task("recall"))


def test_model_hf_overrides_any_field_but_the_width():
    task = get_task("recall")
    model = build_model(ModelConfig(name="hf:mamba", params=30000, hf={"state_size": 4}), task)
    assert model.encoder.config.state_size == 4
    from_cli = build_model(ModelConfig(name="hf:mamba", params=30000, hf={"state_size": "4"}), task)  # --model.hf.state_size=4
    assert from_cli.encoder.config.state_size == 4
    with pytest.raises(UserError, match="hidden_size is set by the parameter budget"):
        build_model(ModelConfig(name="hf:mamba", params=30000, hf={"hidden_size": 8}), task)


def test_the_hf_field_leaves_existing_run_ids_alone():
    cfg = RunConfig(task="recall", length=8, seed=0)
    payload = cfg.to_dict()
    del payload["model"]["hf"]
    assert RunConfig.from_dict(payload).run_id == cfg.run_id
    assert RunConfig(task="recall", length=8, seed=0, model=ModelConfig(hf={"state_size": 4})).run_id != cfg.run_id


def test_the_estimate_uses_a_measured_step_time_for_hf_models(tmp_path):
    task = get_task("recall")
    cfg = task.resolve("hf:mamba", 8, 0, {"model": {"params": 30000}, "train": {"steps": 100}})
    path = tmp_path / CACHE
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({cache_key(cfg, task.source.seq_len(8)): 0.5}))  # as if timed before
    (seconds, known), = predicted_seconds([cfg], tmp_path)
    assert known and 50 <= seconds <= 60  # 100 steps x 0.5 s, plus evaluation's share


@pytest.mark.slow
def test_the_estimate_times_an_hf_model_without_history_and_caches_it(tmp_path):
    task = get_task("recall")
    cfg = task.resolve("hf:llama", 8, 0, {"model": {"params": 20000}, "train": {"steps": 10, "batch_size": 8}})
    (seconds, known), = predicted_seconds([cfg], tmp_path)
    assert known and seconds > 0
    cached = json.loads((tmp_path / CACHE).read_text())
    assert list(cached) == [cache_key(cfg, task.source.seq_len(8))]


@pytest.mark.slow
@pytest.mark.parametrize("name", HF)
def test_a_run_writes_the_resolved_config_and_kernel(name, tmp_path):
    task = get_task("recall")
    cfg = task.resolve(name, 8, 0, {"model": {"params": 20000},
                                    "train": {"steps": 2, "batch_size": 8, "val_examples": 16, "test_examples": 16,
                                              "eval_every": 2, "eval_batch_size": 16}})
    record, _ = execute(cfg, tmp_path)
    assert abs(record.params.params - 20000) <= 1000
    assert record.model_info.causal and record.model_info.hf["config"]["hidden_size"] == record.params.width
    assert record.model_info.kernel == presets()[name].kernel("cpu")


def test_mamba_trains_on_mambapys_parallel_scan_which_computes_the_loops_recurrence():
    """The preset asks transformers for mamba.py's parallel scan on the reference path: the same
    outputs and gradients as its loop over T, so only the speed differs, and the run file names it."""
    task = get_task("recall")
    model = build_model(ModelConfig(name="hf:mamba", params=20000), task)
    assert model.encoder.config.use_mambapy is True
    assert model.encoder.info("cpu")["hf"]["scan"] == "mambapy"  # mambapy is a `data` dependency
    torch.manual_seed(0)
    x = torch.randn(3, 12, model.encoder.config.hidden_size)
    outputs, grads = [], []
    for use_mambapy in (True, False):
        model.encoder.backbone.train()
        for layer in model.encoder.backbone.layers:
            layer.mixer.use_mambapy = use_mambapy
        model.zero_grad()
        out = model.encoder.backbone(inputs_embeds=x).last_hidden_state
        out.square().sum().backward()
        outputs.append(out.detach())
        grads.append(torch.cat([p.grad.flatten() for p in model.encoder.backbone.parameters() if p.grad is not None]))
    assert torch.allclose(outputs[0], outputs[1], atol=1e-5, rtol=1e-4)
    assert torch.allclose(grads[0], grads[1], atol=1e-4, rtol=1e-3)


def test_a_preset_without_a_scan_package_records_none():
    model = build_model(ModelConfig(name="hf:rwkv", params=20000), get_task("recall"))
    assert model.encoder.info("cpu")["hf"]["scan"] is None


def test_the_step_time_cache_key_follows_the_presets_config(monkeypatch):
    """A preset change (use_mambapy) changes the step's cost, so a step time cached before it is not reused."""
    import dataclasses

    task = get_task("recall")
    cfg = task.resolve("hf:mamba", 8, 0, {"model": {"params": 30000}})
    before = cache_key(cfg, 20)
    loop = dataclasses.replace(presets()["hf:mamba"], config={**presets()["hf:mamba"].config, "use_mambapy": False})
    monkeypatch.setitem(presets(), "hf:mamba", loop)
    assert cache_key(cfg, 20) != before
    lstm = task.resolve("lstm", 8, 0, {"model": {"params": 30000}})
    assert "hf={}" in cache_key(lstm, 20)  # the native models' keys are as they were
