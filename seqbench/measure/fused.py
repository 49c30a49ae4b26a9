"""Fused against naive: `nn.LSTM` against a per-step `nn.LSTMCell` loop, forward + backward."""
from __future__ import annotations

import statistics
import time

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


def fused_vs_naive(lengths=(16, 64, 256), batch: int = 64, width: int = 128, repeats: int = 5) -> list[dict]:
    """Per T: median ms of each, the speed-up, and how far apart their outputs are."""
    rows = []
    fused = torch.nn.LSTM(32, width, batch_first=True)
    naive = NaiveLSTM(fused)
    for T in lengths:
        x = torch.randn(batch, T, 32)

        def once(module, call):
            start = time.perf_counter()
            out = call(module)
            out.sum().backward()
            return time.perf_counter() - start
        f = [once(fused, lambda m: m(x)[0]) for _ in range(repeats)]
        n = [once(naive, lambda m: m(x)) for _ in range(repeats)]
        with torch.no_grad():
            out_f, out_n = fused(x)[0], naive(x)
        rows.append({"T": T, "fused_ms": 1000 * statistics.median(f), "naive_ms": 1000 * statistics.median(n),
                     "speedup": statistics.median(n) / statistics.median(f),
                     "max_abs_diff": float((out_f - out_n).abs().max())})
    return rows
