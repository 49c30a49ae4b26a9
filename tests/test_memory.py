"""The peak-memory probe: allocator-level, model-specific, and it leaves the model alone."""
import torch

from seqbench.config import TrainConfig
from seqbench.losses import LOSSES
from seqbench.measure.memory import high_water, resident_bytes, step_peak
from seqbench.models.model import build_model
from seqbench.tasks import get_task
from seqbench.train import make_optimizer, train_step

from conftest import TINY

CPU = torch.device("cpu")


def build(model_name: str, params: int):
    task = get_task("copy")
    cfg = task.resolve(model_name, 20, 0, {"model": {**TINY["model"], "params": params}})
    return build_model(cfg.model, task, seed=0), task, cfg


def probe(model_name: str, params: int, model=None):
    built, task, cfg = build(model_name, params)
    model = model or built
    batch = next(task.train_batches(20, 0, 16, CPU))
    tc = TrainConfig()
    loss_fn = LOSSES.get(cfg.train.loss)
    return model, step_peak(model, lambda m: train_step(m, make_optimizer(m, tc), loss_fn, batch, CPU, "fp32", 1.0), CPU)


def test_high_water_is_the_largest_running_total():
    assert high_water([4, -4, 8, 2, -10]) == 10 and high_water([]) == 0


def test_a_bigger_model_peaks_higher():
    small_model, small = probe("lstm", 5_000)
    big_model, big = probe("lstm", 200_000)
    assert small.kind == big.kind == "cpu_allocator_step"
    # Parameters, gradients and two AdamW moments: at least four copies of the weights.
    assert big.peak_mb > small.peak_mb and big.peak_mb >= 4 * resident_bytes(big_model) / 2**20
    assert small.resident_mb < small.peak_mb


def test_the_probe_leaves_the_model_alone():
    model, _, _ = build("transformer", 20_000)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    probe("transformer", 20_000, model)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert all(p.grad is None for p in model.parameters())
