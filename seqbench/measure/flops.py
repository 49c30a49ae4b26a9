"""Analytic FLOP counts per model: matrix products only, one multiply-add = 2 FLOPs.

This is the convention of `torch.utils.flop_counter.FlopCounterMode` (which counts mm, addmm,
bmm and attention), so the formulas are tested against it on small cases. Element-wise work
(gates, tanh, softmax, layer norm) is left out: it is memory-bound and small beside the products.

Worked example, a one-layer LSTM (4 gate blocks), input 3, width 5, batch 2, length 7:

    2 FLOPs x B 2 x T 7 x 4 gates x H 5 x (I 3 + H 5) = 4480

A backward pass costs twice the forward (a product for the input's gradient and one for the
weight's), so forward + backward = 3 x forward; `train_flops` uses that factor.
"""
from __future__ import annotations

from torch import nn

from ..models.encoders import RecurrentEncoder, TransformerEncoder

GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}
BACKWARD_FACTOR = 2  # backward = 2 x forward for matrix products


def recurrent_flops(cell: str, batch: int, T: int, input_dim: int, width: int, n_layers: int = 1,
                    bidirectional: bool = False) -> int:
    """Forward FLOPs of a fused nn.RNN / nn.GRU / nn.LSTM: 2 B T G H (I + H) per layer and direction."""
    directions = 2 if bidirectional else 1
    total, layer_in = 0, input_dim
    for _ in range(n_layers):
        total += directions * 2 * batch * T * GATES[cell] * width * (layer_in + width)
        layer_in = width * directions
    return total


def attention_layer_flops(batch: int, T: int, d_model: int, d_ff: int) -> int:
    """Forward FLOPs of one Transformer encoder layer.

    Q, K, V and output projections 4 x 2 B T D^2; scores Q K^T and the weighted sum each 2 B T^2 D
    (summed over heads, since heads split D); feed-forward 2 x 2 B T D F.
    """
    projections = 4 * 2 * batch * T * d_model * d_model
    attention = 2 * 2 * batch * T * T * d_model
    feed_forward = 2 * 2 * batch * T * d_model * d_ff
    return projections + attention + feed_forward


def transformer_flops(batch: int, T: int, input_dim: int, d_model: int, n_layers: int, d_ff: int) -> int:
    return 2 * batch * T * input_dim * d_model + n_layers * attention_layer_flops(batch, T, d_model, d_ff)


def encoder_flops(encoder: nn.Module, batch: int, T: int) -> int:
    """Forward FLOPs of one of the built-in encoders on a (batch, T) input."""
    if isinstance(encoder, RecurrentEncoder):
        rnn = encoder.rnn
        cell = type(rnn).__name__
        return recurrent_flops(cell, batch, T, rnn.input_size, rnn.hidden_size, rnn.num_layers,
                               rnn.bidirectional)
    if isinstance(encoder, TransformerEncoder):
        first = encoder.blocks[0]
        return transformer_flops(batch, T, encoder.input_proj.in_features, encoder.output_dim,
                                 encoder.n_layers, first.mlp[0].out_features)
    raise TypeError(f"no FLOP formula for encoder {type(encoder).__name__}")


def head_flops(head: nn.Module, batch: int, T: int) -> int:
    """The output projection: once per position (tag) or once per sequence (pooled heads)."""
    proj = head.proj
    per_row = 2 * proj.in_features * proj.out_features
    return per_row * batch * (1 if head.pooled else T)


def model_flops(model: nn.Module, batch: int, T: int) -> int:
    """Forward FLOPs of a SequenceModel (the embedding lookup is a gather: 0 FLOPs)."""
    return encoder_flops(model.encoder, batch, T) + head_flops(model.head, batch, T)


def train_flops(model: nn.Module, batch: int, T: int) -> int:
    """Forward + backward FLOPs of one training step."""
    return (1 + BACKWARD_FACTOR) * model_flops(model, batch, T)
