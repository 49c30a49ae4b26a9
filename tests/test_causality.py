"""Causality, for every registered model (native and hf): a model registered as causal gives the
same output at position t whatever the inputs after t; one registered as not causal does not."""
import pytest
import torch

from seqbench.config import ModelConfig
from seqbench.errors import UserError
from seqbench.models import MODELS
from seqbench.models.registry import build_encoder, is_causal, width_step
from seqbench.tasks import get_task

T, INPUT_DIM = 12, 4
CUTS = (0, 3, 7, 10)  # positions t whose outputs must not see inputs after t


def encoder(name: str):
    cfg = ModelConfig(name=name, n_heads=2, causal=True, max_positions=T)  # causal: the Transformer's LM mode
    torch.manual_seed(0)
    return build_encoder(cfg, INPUT_DIM, 4 * width_step(cfg)).eval(), is_causal(cfg)


@pytest.mark.parametrize("model", MODELS.names())
def test_output_at_t_ignores_later_inputs_for_causal_models(model):
    net, causal = encoder(model)
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(2, T, INPUT_DIM, generator=gen)
    lengths = torch.full((2,), T)
    with torch.no_grad():
        base = net(x, lengths)
        leaks = []
        for t in CUTS:
            changed = x.clone()
            changed[:, t + 1:] = torch.randn(2, T - t - 1, INPUT_DIM, generator=gen)
            leaks.append((net(changed, lengths)[:, : t + 1] - base[:, : t + 1]).abs().max().item())
    if causal:
        assert max(leaks) < 1e-5, f"{model} is registered as causal, but position t reads later inputs: {leaks}"
    else:
        assert max(leaks) > 1e-4, f"{model} is registered as not causal, yet reads no later input"


def test_a_non_causal_model_is_refused_on_language_modelling(monkeypatch):
    task = get_task("tinyshakespeare")
    monkeypatch.setitem(MODELS._items, "reads-ahead", MODELS.get("lstm"))
    monkeypatch.setitem(MODELS._meta, "reads-ahead", {"causal": False})
    with pytest.raises(UserError, match="model 'reads-ahead' cannot run task 'tinyshakespeare': .*cannot be a language model"):
        task.resolve("reads-ahead", 32, 0)
    assert task.refusal("lstm") is None and task.refusal("transformer") is None  # the task makes it causal
    assert task.refusal("hf:mamba") is None
    assert "cannot be a language model" in task.refusal("bilstm")
