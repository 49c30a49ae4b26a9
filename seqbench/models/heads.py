"""Output heads, one per output kind, each owning its loss.

Tag targets of -100 are not scored: that is PyTorch's default `ignore_index`, which the heads keep,
and the value `data.batch.IGNORE` names (a test pins the two together). Models never import `data/`.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..registry import Registry

HEADS: Registry[type] = Registry("output kind")


@HEADS.register("classify")
class ClassifyHead(nn.Module):
    """One label per sequence, from the encoder's pooled vector."""

    pooled = True

    def __init__(self, dim: int, n_classes: int):
        super().__init__()
        self.proj = nn.Linear(dim, n_classes)

    def forward(self, pooled):  # (B, D) -> (B, C)
        return self.proj(pooled)

    @staticmethod
    def loss(output, targets):
        return F.cross_entropy(output, targets)


@HEADS.register("tag")
class TagHead(nn.Module):
    """One label per position; positions whose target is -100 (torch's ignore_index) are not scored."""

    pooled = False

    def __init__(self, dim: int, n_classes: int):
        super().__init__()
        self.proj = nn.Linear(dim, n_classes)

    def forward(self, features):  # (B, T, D) -> (B, T, C)
        return self.proj(features)

    @staticmethod
    def loss(output, targets):
        return F.cross_entropy(output.flatten(0, 1), targets.flatten())  # default ignore_index=-100


@HEADS.register("regress")
class RegressHead(nn.Module):
    """One real number per sequence, from the pooled vector."""

    pooled = True

    def __init__(self, dim: int, n_classes: int = 1):
        super().__init__()
        self.proj = nn.Linear(dim, 1)

    def forward(self, pooled):  # (B, D) -> (B,)
        return self.proj(pooled).squeeze(-1)

    @staticmethod
    def loss(output, targets):
        return F.mse_loss(output, targets)
