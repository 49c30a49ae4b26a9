"""The five encoders behind one interface: `forward(x (B, T, I), lengths (B,)) -> (B, T, D)`.

Each encoder also says how it pools a sequence into one vector (for `classify` and `regress`),
and its sequential depth (the critical path, in steps, for a sequence of length T).

Pooling, chosen so that each model reads the summary it would naturally produce:
- unidirectional RNNs (and the causal Transformer): the state at the last valid position;
- `bilstm`: the forward state at the last valid position and the backward state at position 0;
- the bidirectional Transformer: the mean over valid positions.
Padding never reaches a pooled vector or a valid position: unidirectional RNNs never read ahead
(their padded outputs are zeroed), `bilstm` runs on packed sequences when a batch is padded, and
the Transformer masks padded keys.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from ..errors import UserError


def last_valid(features: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """features (B, T, D), lengths (B,) -> (B, D): the feature at position length - 1."""
    index = (lengths - 1).clamp(min=0).view(-1, 1, 1).expand(-1, 1, features.shape[-1])
    return features.gather(1, index).squeeze(1)


def valid_mask(lengths: torch.Tensor, T: int) -> torch.Tensor:
    """(B, T) bool, True at valid positions."""
    return torch.arange(T, device=lengths.device).unsqueeze(0) < lengths.unsqueeze(1)


def pool_positions(features: torch.Tensor, lengths: torch.Tensor, causal: bool) -> torch.Tensor:
    """(B, T, D) -> (B, D) for a position-wise (attention-like) encoder: a causal one's last valid
    position has read the whole sequence; otherwise the mean over valid positions."""
    if causal:
        return last_valid(features, lengths)
    mask = valid_mask(lengths, features.shape[1]).unsqueeze(-1).to(features.dtype)
    return (features * mask).sum(1) / mask.sum(1).clamp(min=1)


class Encoder(nn.Module):
    output_dim: int  # D, the feature size of forward's output
    causal: bool = False  # masks attention to future positions (a causal Transformer); recorded per run
    bidirectional: bool = False  # reads the sequence both ways (bilstm); recorded per run

    def pool(self, features: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError

    def sequential_depth(self, T: int) -> int:  # pragma: no cover
        raise NotImplementedError

    def info(self, device: torch.device | str = "cpu") -> dict:
        """Extra fields for the run file's model_info (an adapter's resolved config); none here."""
        return {}

    def embedding_parameters(self) -> list[nn.Parameter]:
        """Parameters whose size the task fixes (a learned position table): outside the budget."""
        return []

    def carried_state(self, x: torch.Tensor) -> dict[str, torch.Tensor] | None:
        """What the encoder carries from one position to the next after reading x (B, T, I) left to
        right: name -> tensor, as the model holds it (measure/state_size.py sums their bytes). None
        for an encoder that reads the whole sequence before its first output (bidirectional). An
        encoder that does not say (a plugin's) raises NotImplementedError: its size is unknown."""
        raise NotImplementedError


INITS = ("auto", "default", "orthogonal", "identity", "chrono")
GATED = ("LSTM", "GRU")


class RecurrentEncoder(Encoder):
    """A fused `nn.RNN` / `nn.LSTM` / `nn.GRU` (cuDNN on GPU); never a Python loop over time."""

    def __init__(self, cell: str, input_dim: int, width: int, n_layers: int = 1,
                 bidirectional: bool = False, nonlinearity: str = "tanh", init: str = "auto",
                 dropout: float = 0.0, chrono_tmax: int | None = None):
        super().__init__()
        extra = {"nonlinearity": nonlinearity} if cell == "RNN" else {}
        self.rnn = getattr(nn, cell)(input_dim, width, n_layers, batch_first=True,
                                     bidirectional=bidirectional,
                                     dropout=dropout if n_layers > 1 else 0.0, **extra)
        self.bidirectional = bidirectional
        self.output_dim = width * (2 if bidirectional else 1)
        self.cell = cell
        self._init_recurrent(init, chrono_tmax)

    def _init_recurrent(self, init: str, chrono_tmax: int | None) -> None:
        if init not in INITS:
            raise UserError(f"unknown init {init!r}; available: {', '.join(INITS)}")
        if init == "auto":  # gated cells get chrono init (Tallec & Ollivier 2018), the RNN PyTorch's
            init = "chrono" if self.cell in GATED else "default"
        if init == "default":
            return
        if init == "chrono":
            self._chrono(chrono_tmax)
            return
        for name, weight in self.rnn.named_parameters():
            if name.startswith("weight_hh"):
                gates = weight.shape[0] // weight.shape[1]  # 1 (RNN), 3 (GRU) or 4 (LSTM) blocks
                for block in weight.data.chunk(gates, dim=0):
                    if init == "identity":  # IRNN, Le et al. 2015
                        nn.init.eye_(block)
                    else:
                        nn.init.orthogonal_(block)
            elif name.startswith("bias") and init == "identity":
                nn.init.zeros_(weight)

    def _chrono(self, tmax: int | None) -> None:
        """Chrono init (Tallec & Ollivier 2018): gate biases log U(1, T_max - 1), so that memory
        time scales spread up to the task's sequence length. LSTM: forget bias b_f, input -b_f;
        GRU: update-gate bias (PyTorch keeps h where z -> 1)."""
        if self.cell not in GATED:
            raise UserError(f"init 'chrono' needs a gated cell (lstm, gru, bilstm), not {self.cell}")
        tmax = max(int(tmax or 100), 3)
        H = self.rnn.hidden_size
        with torch.no_grad():
            for name, bias in self.rnn.named_parameters():
                if not name.startswith("bias"):
                    continue
                if name.startswith("bias_hh"):
                    bias.zero_()
                    continue
                timescales = torch.log(torch.empty(H).uniform_(1, tmax - 1))
                if self.cell == "LSTM":  # gate order: input, forget, cell, output
                    bias[H:2 * H] = timescales
                    bias[:H] = -timescales
                else:  # GRU gate order: reset, update, new
                    bias[H:2 * H] = timescales

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        T = x.shape[1]
        if not bool((lengths < T).any()):
            out, _ = self.rnn(x)
        elif not self.bidirectional:
            # A unidirectional RNN never reads ahead, so trailing padding cannot reach a valid
            # position: run the padded batch as it is and zero the padded outputs. Packing would
            # give the same numbers with a backward pass ~20x slower on CPU (measured on IMDB).
            out, _ = self.rnn(x)
            out = out.masked_fill(~valid_mask(lengths, T).unsqueeze(-1), 0.0)
        else:
            # The backward direction starts at the end: pack, so it starts at each sequence's own end.
            packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
            out, _ = self.rnn(packed)
            out, _ = pad_packed_sequence(out, batch_first=True, total_length=T)  # zeros at padding
        return out  # (B, T, D)

    def pool(self, features, lengths):
        if not self.bidirectional:
            return last_valid(features, lengths)
        half = features.shape[-1] // 2
        forward_end = last_valid(features[..., :half], lengths)
        backward_end = features[:, 0, half:]
        return torch.cat([forward_end, backward_end], dim=-1)

    def sequential_depth(self, T: int) -> int:
        return T * self.rnn.num_layers  # per direction: the two directions run side by side

    def carried_state(self, x):
        if self.bidirectional:
            return None
        _, state = self.rnn(x)  # h (layers, B, H); the LSTM's is (h, c)
        return {"h": state[0], "c": state[1]} if isinstance(state, tuple) else {"h": state}


def sinusoidal_positions(T: int, dim: int, device, dtype) -> torch.Tensor:
    """(T, dim) fixed sinusoidal positions (Vaswani et al. 2017): defined for any length."""
    position = torch.arange(T, device=device, dtype=torch.float32).unsqueeze(1)
    freq = torch.exp(torch.arange(0, dim, 2, device=device, dtype=torch.float32) * (-math.log(10000.0) / dim))
    table = torch.zeros(T, dim, device=device)
    table[:, 0::2] = torch.sin(position * freq)
    table[:, 1::2] = torch.cos(position * freq[: dim // 2])
    return table.to(dtype)


def rotate(x: torch.Tensor) -> torch.Tensor:
    """Rotary position embedding (Su et al. 2021), half-split form as in GPT-NeoX and Llama.

    x (B, H, T, d) -> the same, with each pair (x_i, x_{i+d/2}) rotated by angle t * 10000^(-2i/d),
    so that q·k depends on the positions only through their difference.
    """
    T, d = x.shape[-2], x.shape[-1]
    inv_freq = 10000.0 ** (-torch.arange(0, d, 2, device=x.device, dtype=torch.float32) / d)  # (d/2,)
    angles = torch.arange(T, device=x.device, dtype=torch.float32).unsqueeze(1) * inv_freq  # (T, d/2)
    cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
    first, second = x[..., : d // 2], x[..., d // 2:]
    return torch.cat([first * cos - second * sin, first * sin + second * cos], dim=-1)


class TransformerBlock(nn.Module):
    """Pre-norm block: x + attn(LN(x)), then x + MLP(LN(x)); attention through SDPA.

    The same parameters as `nn.TransformerEncoderLayer(norm_first=True)`; written out so that
    rotary positions can act on queries and keys.
    """

    def __init__(self, width: int, n_heads: int, ff_dim: int, dropout: float, rotary: bool):
        super().__init__()
        self.n_heads, self.rotary, self.dropout = n_heads, rotary, dropout
        self.norm1, self.norm2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.out = nn.Linear(width, width)
        self.mlp = nn.Sequential(nn.Linear(width, ff_dim), nn.GELU(), nn.Dropout(dropout), nn.Linear(ff_dim, width))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, attn_mask: torch.Tensor | None, is_causal: bool) -> torch.Tensor:
        B, T, D = x.shape
        q, k, v = self.qkv(self.norm1(x)).view(B, T, 3, self.n_heads, D // self.n_heads).permute(2, 0, 3, 1, 4)  # 3 x (B, H, T, d)
        if self.rotary:
            q, k = rotate(q), rotate(k)
        attended = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, is_causal=is_causal and attn_mask is None,
                                                  dropout_p=self.dropout if self.training else 0.0)
        x = x + self.drop(self.out(attended.transpose(1, 2).reshape(B, T, D)))  # (B, T, D)
        return x + self.drop(self.mlp(self.norm2(x)))


POSITIONS = ("sinusoidal", "learned", "rope", "none")


class TransformerEncoder(Encoder):
    """Pre-norm Transformer encoder (attention through scaled_dot_product_attention).

    `positions`: `sinusoidal` (fixed, added to the input; any length), `learned` (a table of
    `max_positions` rows initialised N(0, 1), added to the input; outside the parameter budget like
    the token embeddings, since its size follows the task's length), or `rope` (rotary, applied to
    queries and keys in every layer; no parameters, any length), or `none` (no encoding: a causal
    Transformer can still infer position, e.g. by counting the tokens it attends to).
    """

    def __init__(self, input_dim: int, width: int, n_layers: int = 2, n_heads: int = 4,
                 ff_dim: int = 128, dropout: float = 0.0, causal: bool = False,
                 positions: str = "sinusoidal", max_positions: int | None = None):
        super().__init__()
        if width % n_heads:
            raise UserError(f"transformer width {width} is not a multiple of n_heads {n_heads}")
        if positions not in POSITIONS:
            raise UserError(f"unknown positions {positions!r}; available: {', '.join(POSITIONS)}")
        if positions == "learned" and not max_positions:
            raise UserError("positions 'learned' needs model.max_positions (set from the task's sequence length)")
        self.input_proj = nn.Linear(input_dim, width)
        self.positions = positions
        # N(0, 1), not N(0, 0.02): with small learned positions the key-value binding of recall
        # was not learned at this scale (see README, "position encodings").
        self.position_table = nn.Parameter(torch.randn(max_positions, width)) if positions == "learned" else None
        self.blocks = nn.ModuleList(TransformerBlock(width, n_heads, ff_dim, dropout, rotary=positions == "rope")
                                    for _ in range(n_layers))
        self.norm = nn.LayerNorm(width)
        self.causal = causal
        self.n_layers = n_layers
        self.output_dim = width

    def embedding_parameters(self) -> list[nn.Parameter]:
        return [self.position_table] if self.position_table is not None else []

    def forward(self, x, lengths):
        return self.attend(self.embed_positions(x), lengths)

    def embed_positions(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, I) -> (B, T, D): the input projection plus additive positions (none for rope and none)."""
        T = x.shape[1]
        h = self.input_proj(x)
        if self.positions == "sinusoidal":
            h = h + sinusoidal_positions(T, h.shape[-1], h.device, h.dtype)
        elif self.positions == "learned":
            if T > self.position_table.shape[0]:
                raise UserError(f"sequence of {T} positions exceeds the learned table's {self.position_table.shape[0]}")
            h = h + self.position_table[:T].to(h.dtype)
        return h

    def attend(self, h: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """(B, T, D) -> (B, T, D): the blocks and the final norm; padded positions come out zero."""
        T = h.shape[1]
        padding = ~valid_mask(lengths, T) if bool((lengths < T).any()) else None
        # SDPA's boolean mask is True where attention is allowed: (B, 1, 1|T, T).
        mask = None
        if padding is not None:
            mask = (~padding)[:, None, None, :]
            if self.causal:
                mask = mask & torch.ones(T, T, dtype=torch.bool, device=h.device).tril()
        for block in self.blocks:
            h = block(h, mask, self.causal)
        out = self.norm(h)
        if padding is not None:
            out = out.masked_fill(padding.unsqueeze(-1), 0.0)
        return out

    def pool(self, features, lengths):
        return pool_positions(features, lengths, self.causal)

    def sequential_depth(self, T: int) -> int:
        return self.n_layers

    def carried_state(self, x):
        """The key-value cache after reading x: each block's keys and values at every position read
        so far (so it grows with T). Rotary keys are rotated after the projection: same size."""
        if not self.causal:
            return None
        cache: dict[str, torch.Tensor] = {}

        def keep(i: int):
            def hook(module, args, qkv):  # qkv (B, T, 3 D): queries are not kept, keys and values are
                D = qkv.shape[-1] // 3
                cache[f"block{i}.k"], cache[f"block{i}.v"] = qkv[..., D:2 * D], qkv[..., 2 * D:]
            return hook

        handles = [block.qkv.register_forward_hook(keep(i)) for i, block in enumerate(self.blocks)]
        try:
            self(x, torch.full((x.shape[0],), x.shape[1], device=x.device))
        finally:
            for handle in handles:
                handle.remove()
        return cache
