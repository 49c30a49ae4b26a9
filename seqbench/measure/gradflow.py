"""Gradient flow: ‖∂L/∂h_t‖ for every position t, against the distance from the loss.

What h_t is, per encoder:
- recurrent models: the hidden state after step t (for LSTM the output state h, not the cell c;
  for stacked layers all layers' states together; for `bilstm` the forward and backward states
  together). The gradient is the *total* derivative, through every later step: the quantity BPTT
  multiplies Jacobians to get.
- Transformer: the residual stream entering the first layer (input projection + positions).
- any other (plugin) encoder: the encoder's input x_t.

Why not `retain_grad` on the fused module's output sequence: autograd gives that tensor only the
gradient of the readout that reads it directly. The recurrence runs inside the fused kernel, so
with a last-state readout every position but the last gets exactly zero. The probe therefore runs
the same fused module one step at a time (a length-1 sequence per call, the state handed on), so
each state is a tensor in the graph; its outputs equal the fused run's (tests check both this and
a hand-computed BPTT).

Distance. The reference position r is where the loss first reads the sequence: the first scored
position for per-position tasks (copy: the first of the 10 recalled symbols), the last valid
position for pooled tasks (adding). The distance of position t is d = r - t; positions after r
(the remaining scored outputs of copy) are not part of the profile. With equal lengths in the
batch (all synthetic tasks), every example shares r, and the profile is the geometric mean over
examples of the per-example norm at each distance.

Summaries:
- `slope`: least-squares slope of ln‖∂L/∂h‖ against d (nats per step; e^slope is the per-step
  gain: < 1 vanishes, > 1 explodes). Exact zeros (float32 underflow) are left out of the fit and
  counted in `n_zero`.
- `far_near_ratio`: the norm at the farthest distance (t = 0) over the norm at d = 0.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import torch
from torch import nn

from ..data.batch import IGNORE, Batch
from ..models.encoders import RecurrentEncoder, TransformerEncoder

PROFILE_EXAMPLES = 8  # examples in the fixed batch of the run-file profile
MAX_STORED_POINTS = 512  # longer profiles are stored on an even subsample of distances


def fit_decay(distance, norms) -> dict:
    """Slope of ln(norm) against distance, and the far/near ratio.

    >>> fit_decay([0, 1, 2, 3], [1.0, 0.5, 0.25, 0.125])["slope"]  # doctest: +ELLIPSIS
    -0.693...
    """
    d = np.asarray(distance, dtype=float)
    g = np.asarray(norms, dtype=float)
    usable = np.isfinite(g) & (g > 0)
    out = {"slope": None, "far_near_ratio": None, "n_zero": int((g == 0).sum()),
           "n_nonfinite": int((~np.isfinite(g)).sum())}
    if usable.sum() >= 2 and np.ptp(d[usable]) > 0:
        out["slope"] = float(np.polyfit(d[usable], np.log(g[usable]), 1)[0])
    near, far = g[np.argmin(d)], g[np.argmax(d)]
    if np.isfinite(near) and np.isfinite(far) and near > 0:
        out["far_near_ratio"] = float(far / near)
    return out


def reference_positions(output_kind: str, batch: Batch) -> torch.Tensor:
    """(B,) position r where the loss first reads each sequence (see the module docstring)."""
    if output_kind == "tag":
        scored = batch.targets != IGNORE  # (B, T)
        first = scored.float().argmax(dim=1)
        return torch.where(scored.any(dim=1), first, batch.lengths - 1)
    return batch.lengths - 1


def _layer_copy(rnn: nn.RNNBase, layer: int, suffix: str, input_size: int, like: torch.Tensor) -> nn.RNNBase:
    """A one-layer, one-direction module holding layer `layer`, direction `suffix` of `rnn`."""
    extra = {"nonlinearity": rnn.nonlinearity} if isinstance(rnn, nn.RNN) else {}
    one = type(rnn)(input_size, rnn.hidden_size, 1, bias=rnn.bias, batch_first=True, **extra)
    one = one.to(device=like.device, dtype=like.dtype)
    with torch.no_grad():
        for name, p in one.named_parameters():  # e.g. weight_hh_l0 <- weight_hh_l1_reverse
            p.copy_(getattr(rnn, name.replace("_l0", f"_l{layer}") + suffix))
    return one


def _stepped_recurrent(encoder: RecurrentEncoder, x: torch.Tensor, lengths: torch.Tensor):
    """Run the fused module's weights one step at a time, layer by layer and direction by direction.

    Returns features (B, T, D), equal to the fused run's, and states: per position t, the list of
    hidden states h_t (B, H) of every layer and direction, each a node of the autograd graph.
    """
    rnn = encoder.rnn
    B, T, _ = x.shape
    valid = torch.arange(T, device=x.device).unsqueeze(0) < lengths.unsqueeze(1)  # (B, T)
    directions = (("", range(T)), ("_reverse", range(T - 1, -1, -1)))[: 2 if rnn.bidirectional else 1]
    states: list[list[torch.Tensor]] = [[] for _ in range(T)]
    layer_input = x
    for layer in range(rnn.num_layers):
        outputs = []
        for suffix, order in directions:
            module = _layer_copy(rnn, layer, suffix, layer_input.shape[-1], x)
            # h is the (B, H) node that both the next step and the features read, so its
            # gradient is the total derivative (a view such as h[0] would see only its own uses).
            h = x.new_zeros(B, rnn.hidden_size)
            c = x.new_zeros(B, rnn.hidden_size) if isinstance(rnn, nn.LSTM) else None
            seq = [None] * T
            for t in order:
                state = (h.unsqueeze(0), c.unsqueeze(0)) if c is not None else h.unsqueeze(0)
                _, new = module(layer_input[:, t: t + 1], state)
                new_h, new_c = new if c is not None else (new, None)
                keep = valid[:, t].view(B, 1)  # padding: the state passes through unchanged
                h = torch.where(keep, new_h[0], h)
                c = torch.where(keep, new_c[0], c) if c is not None else None
                seq[t] = h
                states[t].append(h)
            outputs.append(torch.stack(seq, dim=1))  # (B, T, H)
        layer_input = torch.cat(outputs, dim=-1)
    # Zero the features at padding, as the fused (packed) run does.
    features = layer_input * valid.unsqueeze(-1).to(layer_input.dtype)
    return features, states


def _transformer_with_stream(encoder: TransformerEncoder, x, lengths):
    h = encoder.embed_positions(x)  # (B, T, D): the residual stream entering the first block
    h.retain_grad()
    return encoder.attend(h, lengths), h


def state_gradients(model: nn.Module, batch: Batch) -> tuple[torch.Tensor, float]:
    """(B, T) per-example ‖∂L/∂h_t‖, and the loss. One forward and one backward pass."""
    embed = model.embed(batch.inputs) if model.embed is not None else batch.inputs  # (B, T, I)
    x = embed.detach().requires_grad_(True)  # the probe needs no gradient for the embedding table
    encoder = model.encoder
    if isinstance(encoder, RecurrentEncoder):
        features, states = _stepped_recurrent(encoder, x, batch.lengths)
        flat = [h for per_t in states for h in per_t]
        _, loss = model.readout(features, batch.lengths, batch.targets)
        grads = torch.autograd.grad(loss, flat, allow_unused=True, materialize_grads=True)
        k = len(states[0])
        # (B, H) per layer and direction -> one norm per example over all of them
        per_t = [sum(g.pow(2).sum(dim=1) for g in grads[i * k:(i + 1) * k]).sqrt() for i in range(len(states))]
        norms = torch.stack(per_t, dim=1)
    elif isinstance(encoder, TransformerEncoder):
        features, stream = _transformer_with_stream(encoder, x, batch.lengths)
        _, loss = model.readout(features, batch.lengths, batch.targets)
        (grad,) = torch.autograd.grad(loss, [stream])
        norms = grad.norm(dim=-1)
    else:
        features = encoder(x, batch.lengths)
        _, loss = model.readout(features, batch.lengths, batch.targets)
        (grad,) = torch.autograd.grad(loss, [x])
        norms = grad.norm(dim=-1)
    return norms.detach(), float(loss.detach())


def profile(model: nn.Module, batch: Batch, output_kind: str) -> dict:
    """The gradient-flow profile of `model` on `batch`: norms against distance, and summaries.

    Leaves the model's parameters, their gradients and its train/eval mode as they were.
    """
    was_training = model.training
    model.eval()  # no dropout: the profile is a deterministic function of weights and batch
    try:  # fork the RNG: probing before training must not shift the run's random streams
        with torch.random.fork_rng(devices=[]), torch.enable_grad():
            norms, loss = state_gradients(model, batch)
    finally:
        model.train(was_training)
    ref = reference_positions(output_kind, batch)
    norms = norms.double().cpu().numpy()
    ref = ref.cpu().numpy()
    max_d = int(ref.max())
    distance = np.arange(max_d + 1)
    logs = np.full((len(ref), max_d + 1), np.nan)
    for b, r in enumerate(ref):  # example b: distance d sits at position r - d
        with np.errstate(divide="ignore"):
            logs[b, : r + 1] = np.log(norms[b, r::-1])
    with warnings.catch_warnings():  # a diverged model gives all-NaN columns
        warnings.simplefilter("ignore", RuntimeWarning)
        mean_log = np.nanmean(logs, axis=0)  # every distance <= max(r) is covered by some example
    profile_norms = np.exp(mean_log)  # geometric mean over examples; -inf logs give 0
    summary = fit_decay(distance, profile_norms)
    keep = np.arange(len(distance))
    if len(keep) > MAX_STORED_POINTS:
        keep = np.unique(np.linspace(0, len(distance) - 1, MAX_STORED_POINTS).round().astype(int))
    return {
        **summary,
        "loss": loss if math.isfinite(loss) else None,
        "distance": distance[keep].tolist(),
        "norm": [float(v) if np.isfinite(v) else None for v in profile_norms[keep]],
        "examples": int(len(ref)),
        "what": _what(model.encoder),
    }


def _what(encoder) -> str:
    if isinstance(encoder, RecurrentEncoder):
        return "hidden state"
    if isinstance(encoder, TransformerEncoder):
        return "residual stream at layer 0"
    return "encoder input"


def first_examples(batches: list[Batch], n: int = PROFILE_EXAMPLES) -> Batch:
    """The fixed probe batch: the first `n` examples of an evaluation set (a run's val set)."""
    return batches[0].split(n)[0]


def profile_batch(task, length: int, seed: int, device, val_examples: int = PROFILE_EXAMPLES,
                  n: int = PROFILE_EXAMPLES) -> Batch:
    """The probe batch a run with `val_examples` validation examples uses, built stand-alone."""
    return first_examples([task.eval_set("val", length, seed, val_examples, device)], n)
