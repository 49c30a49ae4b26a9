"""Numeric precision of a run: `fp32` (the default) or `bf16` autocast.

bf16 autocast runs matrix products (and cuDNN RNNs) in bfloat16 while weights, optimiser state
and the loss stay float32, so no loss scaling is needed (unlike fp16). It pays on GPUs with bf16
tensor cores; on CPUs without AMX or AVX512-BF16 it is usually slower (see `seqbench perf`).
"""
from __future__ import annotations

import contextlib

import torch

from .registry import Registry

PRECISIONS: Registry = Registry("precision")
PRECISIONS.register("fp32", torch.float32)
PRECISIONS.register("bf16", torch.bfloat16)


def autocast(device, precision: str):
    """A context for forward passes: autocast to the precision's dtype, or nothing for fp32."""
    dtype = PRECISIONS.get(precision)
    if dtype is torch.float32:
        return contextlib.nullcontext()
    return torch.autocast(device_type=torch.device(device).type, dtype=dtype)
