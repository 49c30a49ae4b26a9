"""Training losses, by name (`train.loss`). `default` is the head's own loss (cross-entropy for
classify and tag, MSE for regress); `mse` trains classification on the squared error between the
softmax probabilities and one-hot targets (Golik et al. 2013), for the MSE-vs-cross-entropy
ablation. Evaluation metrics do not change with the loss.
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

from .errors import UserError
from .registry import Registry

IGNORE = -100  # PyTorch's default ignore_index: positions that are not scored

LOSSES: Registry[Callable] = Registry("loss")


@LOSSES.register("default")
def head_loss(head, output: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return head.loss(output, targets)


@LOSSES.register("mse")
def one_hot_mse(head, output: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """output (B, C) or (B, T, C) logits; the mean over scored outputs of ||softmax - one_hot||^2."""
    if output.dim() < 2 or output.shape[:-1] != targets.shape:
        raise UserError("train.loss=mse needs a classification or tagging task (class logits per output)")
    scored = targets != IGNORE
    probs = output[scored].float().softmax(-1)  # (N, C)
    one_hot = F.one_hot(targets[scored], probs.shape[-1]).float()
    return (probs - one_hot).square().sum(-1).mean()
