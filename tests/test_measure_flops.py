"""Analytic FLOP formulas against torch's FlopCounterMode on small cases."""
import pytest
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from seqbench.measure import flops
from seqbench.models import MODELS, build_model
from seqbench.tasks import get_task


def counted(fn) -> int:
    # mkldnn's fused LSTM and the CPU flash-attention kernel are invisible to the counter:
    # turn both off so the products run as countable mm/bmm ops.
    with torch.backends.mkldnn.flags(enabled=False), sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as fc:
        fn()
    return fc.get_total_flops()


def test_worked_example():
    assert flops.recurrent_flops("LSTM", 2, 7, 3, 5) == 4480


@pytest.mark.parametrize("cell", ["RNN", "GRU", "LSTM"])
@pytest.mark.parametrize("layers,bidirectional", [(1, False), (2, False), (2, True)])
def test_recurrent_formula(cell, layers, bidirectional):
    rnn = getattr(torch.nn, cell)(3, 5, layers, batch_first=True, bidirectional=bidirectional)
    x = torch.randn(2, 7, 3)
    assert counted(lambda: rnn(x)) == flops.recurrent_flops(cell, 2, 7, 3, 5, layers, bidirectional)


# The native encoders have FLOP formulas; hf models have none (speed records their MFU as None).
NATIVE = [name for name in MODELS.names() if MODELS.meta(name).get("family") != "hf"]


@pytest.mark.parametrize("model_name", NATIVE)
@pytest.mark.parametrize("task_name", ["copy", "adding"])
def test_model_formula_matches_counter(model_name, task_name):
    task = get_task(task_name)
    cfg = task.resolve(model_name, 5, 0, {"model": {"params": 20000, "n_heads": 2}}).model
    # train mode (dropout is 0): eval mode under no_grad takes the Transformer's fused fast
    # path, whose products the counter cannot see.
    model = build_model(cfg, task, seed=0).train()
    batch = task.eval_set("val", 5, 0, 3, "cpu")
    T = batch.inputs.shape[1]
    with torch.no_grad():
        got = counted(lambda: model(batch.inputs, batch.lengths))
    assert got == flops.model_flops(model, 3, T)


def test_training_step_is_about_three_forwards():
    task = get_task("copy")
    cfg = task.resolve("lstm", 5, 0, {"model": {"params": 20000}}).model
    model = build_model(cfg, task, seed=0)
    batch = task.eval_set("val", 5, 0, 3, "cpu")
    T = batch.inputs.shape[1]

    def step():
        _, loss = model(batch.inputs, batch.lengths, batch.targets)
        loss.backward()

    assert counted(step) == pytest.approx(flops.train_flops(model, 3, T), rel=0.05)


def test_hf_models_have_no_formula_and_speed_says_none():
    from seqbench.measure.speed import analytic_flops

    task = get_task("copy")
    model = build_model(task.resolve("hf:llama", 5, 0, {"model": {"params": 20000}}).model, task)
    with pytest.raises(TypeError):
        flops.model_flops(model, 3, 5)
    assert analytic_flops(model, 3, 5) == (None, None)
