"""A sequence model = input adapter + encoder + head. `forward` returns `(output, loss)`.

The parameter budget counts everything except the token-embedding table, for every model alike:
the table's size is fixed by the task (vocabulary x embed_dim), not by the architecture, and it
is reported apart as `params_embedding`.
"""
from __future__ import annotations

import torch
from torch import nn

from ..config import ModelConfig
from ..errors import UserError
from .heads import HEADS
from dataclasses import replace

from .registry import MODELS, build_encoder, width_step

BUDGET_TOLERANCE = 0.05


class SequenceModel(nn.Module):
    def __init__(self, encoder: nn.Module, head: nn.Module, vocab_size: int | None, input_dim: int,
                 width: int, io_dropout: float = 0.0, token_features: dict | None = None):
        super().__init__()
        # Token tasks embed ids; real-valued tasks (adding) feed their features straight in.
        self.embed = nn.Embedding(vocab_size, input_dim) if vocab_size else None
        # Token features (e.g. word case): a class per vocabulary id, embedded and added to the
        # token's embedding. Zero-initialised, so the model starts as the plain one; the tables'
        # size follows the task, so they count with the embeddings, outside the budget.
        self.feature_embeds = nn.ModuleDict()
        for name, table in (token_features or {}).items():
            table = torch.as_tensor(table, dtype=torch.long)
            self.register_buffer(f"feature_{name}", table, persistent=False)
            self.feature_embeds[name] = nn.Embedding(int(table.max()) + 1, input_dim)
            nn.init.zeros_(self.feature_embeds[name].weight)
        self.encoder = encoder
        self.head = head
        self.width = width
        # Dropout on the non-recurrent connections (Zaremba et al. 2014): the encoder's input and the
        # head's input. `ModelConfig.dropout` only acts between stacked layers, so a one-layer RNN
        # needs this one. At 0 it is no module at all, so the random stream stays as it was.
        self.input_drop = nn.Dropout(io_dropout) if io_dropout > 0 else nn.Identity()
        self.head_drop = nn.Dropout(io_dropout) if io_dropout > 0 else nn.Identity()

    def encoder_inputs(self, inputs: torch.Tensor) -> torch.Tensor:
        """Token ids (B, T) or features (B, T, F) -> what the encoder reads, (B, T, I)."""
        x = self.embed(inputs) if self.embed is not None else inputs  # (B, T, I)
        for name, embed in self.feature_embeds.items():
            x = x + embed(getattr(self, f"feature_{name}")[inputs])
        return x

    def features(self, inputs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self.encoder(self.input_drop(self.encoder_inputs(inputs)), lengths)  # (B, T, D)

    def forward(self, inputs, lengths, targets=None):
        features = self.features(inputs, lengths)
        return self.readout(features, lengths, targets)

    def readout(self, features, lengths, targets=None):
        """Head (and loss) on encoder features; split out so probes can hold the features' grad."""
        pooled = self.encoder.pool(features, lengths) if self.head.pooled else features
        output = self.head(self.head_drop(pooled))
        loss = self.head.loss(output, targets) if targets is not None else None
        return output, loss


def count_params(model: nn.Module) -> dict[str, int]:
    total = sum(p.numel() for p in model.parameters() if p.requires_grad)
    tables = ([model.embed.weight] if model.embed is not None else []) + model.encoder.embedding_parameters()
    tables += [e.weight for e in model.feature_embeds.values()]
    embedding = sum(p.numel() for p in tables)
    return {"params": total - embedding, "params_embedding": embedding, "params_total": total}


def _assemble(cfg: ModelConfig, task, width: int) -> SequenceModel:
    input_dim = task.input_dim
    encoder = build_encoder(cfg, input_dim, width)
    head = HEADS.get(task.output)(encoder.output_dim, task.n_classes)
    return SequenceModel(encoder, head, task.vocab_size, input_dim, width, io_dropout=cfg.io_dropout,
                         token_features=task.token_features)


def knob_value(cfg: ModelConfig, knob: str):
    """A fine knob's value: a ModelConfig field, or `hf.<field>` of an hf model's config overrides."""
    section, _, key = knob.rpartition(".")
    return cfg.hf.get(key) if section == "hf" else getattr(cfg, key)


def with_knob(cfg: ModelConfig, knob: str, value: int) -> ModelConfig:
    """`cfg` with the knob at `value` steps of the model's `fine_knob_unit` (1: the integer itself;
    a float field such as xLSTM's ffn_proj_factor moves in steps of 0.05)."""
    section, _, key = knob.rpartition(".")
    unit = MODELS.meta(cfg.name).get("fine_knob_unit", 1)
    value = value if unit == 1 else round(value * unit, 6)
    return replace(cfg, hf={**cfg.hf, key: value}) if section == "hf" else replace(cfg, **{key: value})


def solve_width(cfg: ModelConfig, task) -> tuple[int, ModelConfig]:
    """The width whose model is closest to `cfg.params` (excluding embeddings); within 5% or an error.

    Models registered with a `fine_knob` (the Transformer's feed-forward width) then move that
    knob, so coarse width steps (multiples of n_heads) still land close to the budget.
    Returns the width and the config with the fine knob fixed.
    """
    step = width_step(cfg)

    def size(units: int, c: ModelConfig = cfg) -> int:
        return count_params(_assemble(c, task, units * step))["params"]

    def closest(lo: int, hi_limit: int, measure) -> int:
        lo, hi = lo, lo
        while measure(hi) < cfg.params and hi < hi_limit:
            lo, hi = hi, min(hi * 2, hi_limit)
        while hi - lo > 1:  # parameter count grows monotonically with the knob
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if measure(mid) < cfg.params else (lo, mid)
        return min((lo, hi), key=lambda u: abs(measure(u) - cfg.params))

    units = closest(1, 1 << 16, size)
    width = units * step
    knob = MODELS.meta(cfg.name).get("fine_knob")
    if knob and knob_value(cfg, knob) is None:
        # Try the widths either side, each with the best fine knob; keep the closest.
        options = []
        for u in {max(1, units - 1), units}:
            best = closest(1, 64 * u * step, lambda k, u=u: size(u, with_knob(cfg, knob, k)))
            tuned = with_knob(cfg, knob, best)
            options.append((abs(size(u, tuned) - cfg.params), -u, u, tuned))
        _, _, units, cfg = min(options)
        width = units * step
    got = size(units, cfg)
    if abs(got - cfg.params) > BUDGET_TOLERANCE * cfg.params:
        raise UserError(f"model {cfg.name!r} cannot meet a budget of {cfg.params} params within 5% "
                        f"(closest: {got} at width {width}); raise model.params")
    return width, cfg


def build_model(cfg: ModelConfig, task, seed: int | None = None) -> SequenceModel:
    """Build `cfg.name` for `task` at the width that meets the parameter budget.

    The width search builds throw-away models, so the seed is applied only after it.
    """
    width, cfg = solve_width(cfg, task)
    if seed is not None:
        torch.manual_seed(seed)
    return _assemble(cfg, task, width)
