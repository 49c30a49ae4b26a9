"""Fused against naive: `nn.LSTM` against a per-step `nn.LSTMCell` loop, forward + backward."""
from __future__ import annotations

import statistics
import time
from typing import Callable

import torch


class NaiveLSTM(torch.nn.Module):
    """A per-step LSTMCell loop: the slow path seqbench never takes, kept to show the difference."""

    def __init__(self, fused: torch.nn.LSTM):
        super().__init__()
        self.cell = torch.nn.LSTMCell(fused.input_size, fused.hidden_size)
        with torch.no_grad():  # the same weights, so the outputs must agree
            self.cell.weight_ih.copy_(fused.weight_ih_l0)
            self.cell.weight_hh.copy_(fused.weight_hh_l0)
            self.cell.bias_ih.copy_(fused.bias_ih_l0)
            self.cell.bias_hh.copy_(fused.bias_hh_l0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, F) -> (B, T, H)
        h = x.new_zeros(x.shape[0], self.cell.hidden_size)
        c = torch.zeros_like(h)
        outs = []
        for step in x.unbind(1):  # unbind, not x[:, t]: slicing in a loop makes backward quadratic
            h, c = self.cell(step, (h, c))
            outs.append(h)
        return torch.stack(outs, 1)


def timed_pair(slow: Callable[[], torch.Tensor], fast: Callable[[], torch.Tensor], repeats: int) -> dict:
    """Two paths to the same output, each timed forward + backward, interleaved so machine noise hits both
    alike: median ms of each, the speed-up of the fast one, and how far apart their outputs are."""
    def once(run: Callable[[], torch.Tensor]) -> tuple[float, torch.Tensor]:
        start = time.perf_counter()
        out = run()
        out.square().sum().backward()
        return time.perf_counter() - start, out.detach()

    slow_s, fast_s = [], []
    for _ in range(repeats):
        seconds, out_slow = once(slow)
        slow_s.append(seconds)
        seconds, out_fast = once(fast)
        fast_s.append(seconds)
    return {"slow_ms": 1000 * statistics.median(slow_s), "fast_ms": 1000 * statistics.median(fast_s),
            "speedup": statistics.median(slow_s) / statistics.median(fast_s),
            "max_abs_diff": float((out_slow - out_fast).abs().max())}


def fused_vs_naive(lengths=(16, 64, 256), batch: int = 64, width: int = 128, repeats: int = 5) -> list[dict]:
    """Per T: median ms of each, the speed-up, and how far apart their outputs are."""
    rows = []
    fused = torch.nn.LSTM(32, width, batch_first=True)
    naive = NaiveLSTM(fused)
    for T in lengths:
        x = torch.randn(batch, T, 32)
        pair = timed_pair(lambda: naive(x), lambda: fused(x)[0], repeats)
        rows.append({"T": T, "fused_ms": pair["fast_ms"], "naive_ms": pair["slow_ms"], "speedup": pair["speedup"],
                     "max_abs_diff": pair["max_abs_diff"]})
    return rows


def mamba_scans(lengths=(28, 112), batch: int = 64, params: int = 100_000, repeats: int = 3) -> list[dict]:
    """hf:mamba's reference path two ways, forward + backward at the budget's width: transformers' loop
    over T against mamba.py's parallel scan (the preset's `use_mambapy`). Per T: median ms of each,
    the speed-up, and how far apart their outputs are. Empty where transformers or mambapy is missing."""
    import importlib.util

    if importlib.util.find_spec("transformers") is None or importlib.util.find_spec("mambapy") is None:
        return []
    from ..config import ModelConfig
    from ..models.model import build_model
    from ..tasks import get_task

    torch.manual_seed(0)
    backbone = build_model(ModelConfig(name="hf:mamba", params=params), get_task("recall_mqar")).encoder.backbone.train()

    def use(parallel: bool) -> None:
        for layer in backbone.layers:
            layer.mixer.use_mambapy = parallel

    def forward(parallel: bool, x: torch.Tensor) -> torch.Tensor:
        use(parallel)
        backbone.zero_grad(set_to_none=True)
        return backbone(inputs_embeds=x).last_hidden_state

    rows = []
    for T in lengths:
        x = torch.randn(batch, T, backbone.config.hidden_size, generator=torch.Generator().manual_seed(T))
        pair = timed_pair(lambda: forward(False, x), lambda: forward(True, x), repeats)
        rows.append({"T": T, "loop_ms": pair["slow_ms"], "scan_ms": pair["fast_ms"], "speedup": pair["speedup"],
                     "max_abs_diff": pair["max_abs_diff"]})
    use(True)
    return rows
