"""A tiny third-party plugin: a convolutional encoder and a parity task."""
from dataclasses import dataclass

import torch
from torch import nn

from seqbench.data.batch import Batch
from seqbench.data.source import SampledSource
from seqbench.models.encoders import Encoder, last_valid
from seqbench.tasks import Task


class ConvEncoder(Encoder):
    def __init__(self, input_dim, width, cfg):
        super().__init__()
        self.conv = nn.Conv1d(input_dim, width, kernel_size=3, padding=2)
        self.output_dim = width

    def forward(self, x, lengths):
        T = x.shape[1]
        return torch.relu(self.conv(x.transpose(1, 2))[..., :T]).transpose(1, 2)  # causal, (B, T, D)

    def pool(self, features, lengths):
        return last_valid(features, lengths)

    def sequential_depth(self, T):
        return 1


def build_conv(input_dim, width, cfg):
    return ConvEncoder(input_dim, width, cfg)


@dataclass(frozen=True)
class Parity(SampledSource):
    """Is the number of ones in a bit string odd?  inputs 1 0 1 1 -> target 1."""

    output = "classify"
    vocab_size = 2
    n_classes = 2

    def seq_len(self, length):
        return length

    def sample(self, n, length, generator, device):
        bits = torch.randint(0, 2, (n, length), generator=generator, device=device)
        return Batch(bits, bits.sum(1) % 2, torch.full((n,), length, device=device))

    def baseline(self, length):
        return {"accuracy": 0.5}


def parity_task():
    return Task(name="parity", source=Parity(), metrics=("accuracy",), lengths=(4,), solved=0.99)
