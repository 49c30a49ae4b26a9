"""The built-in encoders, registered by name. A builder maps (input_dim, width, config) -> Encoder.

Plugins register through the `seqbench.models` entry-point group; the entry point names a
builder with the same signature (see tests/plugin_pkg for a complete example).
"""
from __future__ import annotations

from ..config import ModelConfig
from ..registry import Registry
from . import hf
from .encoders import Encoder, RecurrentEncoder, TransformerEncoder

MODELS: Registry = Registry("model", entry_point_group="seqbench.models")


def _recurrent(cell: str, bidirectional: bool = False, **fixed):
    def build(input_dim: int, width: int, cfg: ModelConfig) -> Encoder:
        options = {"nonlinearity": cfg.nonlinearity} if cell == "RNN" else {}
        return RecurrentEncoder(cell, input_dim, width, cfg.n_layers or 1, bidirectional=bidirectional,
                                init=cfg.init, dropout=cfg.dropout, chrono_tmax=cfg.chrono_tmax,
                                **options, **fixed)
    return build


# `causal`: the output at position t reads no input after t (a bool, or a function of the config);
# a task that needs it (language modelling) refuses the others. Tested for every model.
MODELS.register("rnn", _recurrent("RNN"), family="recurrent", causal=True, description="Elman RNN (tanh; relu + identity init = IRNN)")
MODELS.register("lstm", _recurrent("LSTM"), family="recurrent", causal=True, description="LSTM (Hochreiter & Schmidhuber 1997)")
MODELS.register("gru", _recurrent("GRU"), family="recurrent", causal=True, description="GRU (Cho et al. 2014)")
MODELS.register("bilstm", _recurrent("LSTM", bidirectional=True), family="recurrent", bidirectional=True, causal=False,
                description="bidirectional LSTM")


def _heads_step(cfg: ModelConfig) -> int:
    """Widths in multiples of n_heads; rotary positions also need an even head dimension."""
    return cfg.n_heads * (2 if cfg.positions == "rope" else 1)


@MODELS.register("transformer", family="attention", width_step=_heads_step, causal=lambda cfg: cfg.causal, fine_knob="ff_dim", positional=True,
                 description="pre-norm Transformer encoder (SDPA); sinusoidal, learned, rotary or no positions")
def _transformer(input_dim: int, width: int, cfg: ModelConfig) -> Encoder:
    return TransformerEncoder(input_dim, width, cfg.n_layers or 2, cfg.n_heads, cfg.ff_dim or cfg.ff_mult * width,
                              cfg.dropout, causal=cfg.causal, positions=cfg.positions,
                              max_positions=cfg.max_positions)


hf.register(MODELS)


def build_encoder(cfg: ModelConfig, input_dim: int, width: int) -> Encoder:
    return MODELS.get(cfg.name)(input_dim, width, cfg)


def width_step(cfg: ModelConfig) -> int:
    """Widths the solver may try: a model's `width_step` (an int, or a function of its config); 1 by default."""
    step = MODELS.meta(cfg.name).get("width_step", 1)
    return step(cfg) if callable(step) else int(step)


def is_causal(cfg: ModelConfig) -> bool:
    """Whether `cfg`'s model reads no input after the position it outputs (registry meta `causal`;
    a plugin that does not say is taken as not causal)."""
    causal = MODELS.meta(cfg.name).get("causal", False)
    return bool(causal(cfg) if callable(causal) else causal)
