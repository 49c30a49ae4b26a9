"""Gradient-flow probe: the slope fit, a hand-checked BPTT gradient, every model, the run-file block."""
import math

import numpy as np
import pytest
import torch
from torch import nn

from seqbench.config import ModelConfig
from seqbench.data.batch import Batch
from seqbench.measure import gradflow
from seqbench.models import MODELS, build_model
from seqbench.models.encoders import RecurrentEncoder
from seqbench.models.heads import RegressHead, TagHead
from seqbench.models.model import SequenceModel
from seqbench.runner import grad_norm_summary
from seqbench.tasks import get_task


@pytest.mark.parametrize("rate", [0.0, 0.05, 0.7, -0.2])
def test_slope_fit_recovers_exponential_decay(rate):
    d = np.arange(60)
    norms = 3.0 * np.exp(-rate * d)
    out = gradflow.fit_decay(d, norms)
    assert out["slope"] == pytest.approx(-rate, abs=1e-9)
    assert out["far_near_ratio"] == pytest.approx(math.exp(-rate * 59), rel=1e-9)


def test_slope_fit_ignores_underflow_and_noise():
    rng = np.random.default_rng(0)
    d = np.arange(200)
    norms = np.exp(-0.3 * d + rng.normal(0, 0.1, d.size))
    norms[150:] = 0.0  # float32 underflow
    out = gradflow.fit_decay(d, norms)
    assert out["slope"] == pytest.approx(-0.3, abs=0.01)
    assert out["n_zero"] == 50 and out["far_near_ratio"] == 0.0


def _tiny_rnn_model(task_output: str, seed: int = 0):
    torch.manual_seed(seed)
    encoder = RecurrentEncoder("RNN", 2, 4)
    head = TagHead(4, 3) if task_output == "tag" else RegressHead(4)
    return SequenceModel(encoder, head, None, 2, 4)


def _manual_bptt(model, x, targets):
    """‖∂L/∂h_t‖ for a one-layer tanh RNN and a pooled MSE loss, in float64 numpy, by Jacobian products."""
    rnn = model.encoder.rnn
    W_ih, W_hh = rnn.weight_ih_l0.detach().double().numpy(), rnn.weight_hh_l0.detach().double().numpy()
    b = (rnn.bias_ih_l0 + rnn.bias_hh_l0).detach().double().numpy()
    w, c = model.head.proj.weight.detach().double().numpy()[0], model.head.proj.bias.item()
    X = x.double().numpy()
    B, T, _ = X.shape
    norms = np.zeros((B, T))
    for i in range(B):
        h, hs = np.zeros(W_hh.shape[0]), []
        for t in range(T):
            h = np.tanh(W_ih @ X[i, t] + W_hh @ h + b)
            hs.append(h)
        y = w @ hs[-1] + c
        g = 2 * (y - float(targets[i])) / B * w  # dL/dh_T, L = mean over the batch of (y - target)^2
        norms[i, T - 1] = np.linalg.norm(g)
        for t in range(T - 1, 0, -1):
            jacobian = (1 - hs[t] ** 2)[:, None] * W_hh  # dh_t/dh_{t-1}
            g = jacobian.T @ g
            norms[i, t - 1] = np.linalg.norm(g)
    return norms


def test_state_gradients_match_hand_computed_bptt():
    model = _tiny_rnn_model("regress")
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(3, 9, 2, generator=gen)
    targets = torch.randn(3, generator=gen)
    batch = Batch(x, targets, torch.full((3,), 9))
    norms, _ = gradflow.state_gradients(model, batch)
    expected = _manual_bptt(model, x, targets)
    np.testing.assert_allclose(norms.double().numpy(), expected, rtol=1e-4, atol=1e-9)
    prof = gradflow.profile(model, batch, "regress")  # distance 0 is the last position
    geo = np.exp(np.log(expected).mean(0))[::-1]
    np.testing.assert_allclose(prof["norm"], geo, rtol=1e-4)


def test_fused_output_grad_alone_misses_the_recurrence():
    """Why the probe steps the module: retain_grad on the fused output sees only the readout."""
    model = _tiny_rnn_model("regress")
    x = torch.randn(2, 6, 2)
    out = model.encoder(x, torch.full((2,), 6))
    out.retain_grad()
    _, loss = model.readout(out, torch.full((2,), 6), torch.zeros(2))
    loss.backward()
    assert torch.all(out.grad[:, :-1] == 0) and torch.any(out.grad[:, -1] != 0)


def test_stepped_run_equals_fused_run_with_padding():
    torch.manual_seed(0)
    for cell, bidirectional in (("LSTM", True), ("GRU", False), ("RNN", False)):
        encoder = RecurrentEncoder(cell, 3, 5, n_layers=2, bidirectional=bidirectional)
        x = torch.randn(3, 7, 3)
        lengths = torch.tensor([7, 4, 2])
        fused = encoder(x, lengths)
        stepped, _ = gradflow._stepped_recurrent(encoder, x, lengths)
        torch.testing.assert_close(stepped, fused, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("model_name", MODELS.names())
@pytest.mark.parametrize("task_name", ["adding", "copy"])
def test_profile_runs_for_every_model(model_name, task_name):
    task = get_task(task_name)
    cfg = task.resolve(model_name, 6, 0, {"model": {"params": 20000, "n_heads": 2}}).model
    model = build_model(cfg, task, seed=0)
    batch = gradflow.profile_batch(task, 6, 0, "cpu", val_examples=16, n=4)
    before = [p.detach().clone() for p in model.parameters()]
    prof = gradflow.profile(model, batch, task.output)
    ref = int(gradflow.reference_positions(task.output, batch)[0])
    assert ref == (task.source.seq_len(6) - 1 if task_name == "adding" else 6 + 10)
    assert prof["distance"] == list(range(ref + 1))
    assert all(v is not None and v >= 0 for v in prof["norm"])
    assert prof["slope"] is not None and math.isfinite(prof["slope"])
    assert all(p.grad is None for p in model.parameters())  # the probe leaves no gradients behind
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_grad_norm_summary():
    norms = [1.0] * 98 + [50.0, float("nan")]
    s = grad_norm_summary(norms, clip=1.0)
    assert s.median == 1.0 and s.max == 50.0 and s.n_spikes == 1
    assert s.n_clipped == 1 and s.n_nonfinite == 1 and s.n_steps == 100
    assert grad_norm_summary(norms, clip=None).n_clipped is None


@pytest.mark.parametrize("causal", [False, True])
def test_transformer_probe_path_equals_the_encoder(causal):
    task = get_task("copy")
    cfg = task.resolve("transformer", 6, 0, {"model": {"params": 20000, "n_heads": 2, "causal": causal}}).model
    model = build_model(cfg, task, seed=0).eval()
    batch = task.eval_set("val", 6, 0, 4, "cpu")
    lengths = torch.tensor([16, 10, 5, 16])  # padded, too
    x = model.embed(batch.inputs)
    probe, _ = gradflow._transformer_with_stream(model.encoder, x, lengths)
    torch.testing.assert_close(probe, model.encoder.train()(x, lengths))


@pytest.mark.parametrize("cell", ["GRU", "LSTM"])
def test_gated_state_gradients_match_split_fused_runs(cell):
    """∂L/∂h_t from two fused runs split at t (h_t a leaf in between) equals the stepped probe."""
    torch.manual_seed(0)
    encoder = RecurrentEncoder(cell, 2, 4)
    model = SequenceModel(encoder, RegressHead(4), None, 2, 4)
    x, targets = torch.randn(3, 7, 2), torch.randn(3)
    lengths = torch.full((3,), 7)
    norms, _ = gradflow.state_gradients(model, Batch(x, targets, lengths))
    rnn = encoder.rnn
    for t in range(6):
        _, state = rnn(x[:, : t + 1])
        h = (state[0] if cell == "LSTM" else state).detach().requires_grad_(True)
        rest = (h, state[1].detach()) if cell == "LSTM" else h
        out, _ = rnn(x[:, t + 1:], rest)
        _, loss = model.readout(out, torch.full((3,), 6 - t), targets)
        (grad,) = torch.autograd.grad(loss, [h])
        torch.testing.assert_close(norms[:, t], grad[0].norm(dim=-1), rtol=1e-4, atol=1e-7)
