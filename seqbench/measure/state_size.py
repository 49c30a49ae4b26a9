"""State size, measured: the bytes a model carries from one position to the next when it reads a
sequence left to right (Zoology's axis: how much a model can recall is bounded by its state).

The encoder says what it carries (`Encoder.carried_state`): the recurrent state of rnn, lstm and
gru (h, and c for the LSTM, over all layers), the cache `transformers` returns for `hf:` models,
the key-value cache of the causal Transformer. This probe runs the model on one sequence and sums
those tensors' bytes; it never computes a size from a formula. Running it again on the first half
of the sequence tells a state that grows with T (a key-value cache) from a fixed one. Example
(lstm, width 140, one layer, fp32): h and c, 2 x 140 x 4 = 1,120 bytes at any length.

A model that reads the whole sequence before its first output (bilstm, a bidirectional
Transformer) carries nothing from one position to the next: kind `none`. Integer tensors (a
cache's position counter) are bookkeeping, not state, and are left out.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

FIXED, GROWS, NONE, UNKNOWN = "fixed", "grows with length", "none", "unknown"


@dataclass(frozen=True)
class StateSize:
    kind: str  # fixed | grows with length | none (reads the whole sequence first) | unknown (the encoder does not say)
    bytes: int | None  # per sequence, at `seq_len` positions (fp32 as trained); None for none and unknown
    seq_len: int  # the positions read when it was measured
    bytes_half: int | None = None  # the same at seq_len // 2 positions: equal for a fixed state
    tensors: dict | None = None  # name -> shape of each tensor carried (batch of 1)
    note: str = ""

    def block(self) -> dict:
        return asdict(self)


def tensor_bytes(tensors: dict[str, torch.Tensor]) -> int:
    """Bytes of the floating-point tensors, as held (a view counts its own elements)."""
    return sum(t.numel() * t.element_size() for t in tensors.values() if t.is_floating_point())


@torch.no_grad()
def carried(model, inputs: torch.Tensor) -> dict[str, torch.Tensor] | None:
    """What `model` (a SequenceModel) carries after reading `inputs` (1, T[, F]); raises
    NotImplementedError for an encoder that does not say."""
    was_training = model.training
    model.eval()
    try:
        return model.encoder.carried_state(model.encoder_inputs(inputs))
    finally:
        model.train(was_training)


def measure(model, batch) -> StateSize:
    """The state size of `model` reading the first sequence of `batch` (a data.Batch), its valid
    positions only."""
    T = int(batch.lengths[0])
    sequence = batch.inputs[:1, :T]
    try:
        full = carried(model, sequence)
    except NotImplementedError:
        return StateSize(UNKNOWN, None, T, note="the encoder does not report what it carries (carried_state)")
    if full is None:
        return StateSize(NONE, None, T, note="reads the whole sequence before its first output: nothing is carried")
    half = carried(model, sequence[:, : max(1, T // 2)])
    size, size_half = tensor_bytes(full), tensor_bytes(half)
    kind = FIXED if size == size_half else GROWS
    note = "" if kind == FIXED else f"grows with the positions read: {size_half:,} bytes at {max(1, T // 2)}, {size:,} at {T}"
    return StateSize(kind, size, T, size_half, {name: list(t.shape) for name, t in full.items() if t.is_floating_point()},
                     note)
