"""The one batch type that every task produces and every model consumes."""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

IGNORE = -100  # target value wherever nothing is scored: PyTorch's default ignore_index, which the models' losses use


@dataclass
class Batch:
    inputs: torch.Tensor  # (B, T) token ids, or (B, T, F) real-valued features
    targets: torch.Tensor  # tag: (B, T) long with IGNORE; classify: (B,) long; regress: (B,) float
    lengths: torch.Tensor  # (B,) valid positions per sequence; positions >= length are padding
    slices: dict[str, torch.Tensor] = field(default_factory=dict)  # per-example keys, e.g. length bucket

    @property
    def size(self) -> int:
        return self.inputs.shape[0]

    @property
    def padded(self) -> bool:
        """True when some sequence is shorter than the batch (the model must then mask or pack)."""
        return bool((self.lengths < self.inputs.shape[1]).any())

    def to(self, device: torch.device | str) -> "Batch":
        return Batch(
            self.inputs.to(device), self.targets.to(device), self.lengths.to(device),
            {k: v.to(device) for k, v in self.slices.items()},
        )

    def split(self, batch_size: int) -> list["Batch"]:
        """Cut a large batch (an evaluation set) into batches of at most `batch_size`."""
        out = []
        for start in range(0, self.size, batch_size):
            part = slice(start, start + batch_size)
            out.append(Batch(self.inputs[part], self.targets[part], self.lengths[part],
                             {k: v[part] for k, v in self.slices.items()}))
        return out
