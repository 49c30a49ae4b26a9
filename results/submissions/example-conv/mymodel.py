"""mymodel: a causal convolution, registered as a seqbench model."""
import torch
from torch import nn

from seqbench.models import MODELS
from seqbench.models.encoders import Encoder, last_valid


class CausalConv(Encoder):
    """Features at t see inputs t-2..t: (B, T, input_dim) -> (B, T, width)."""

    def __init__(self, input_dim: int, width: int):
        super().__init__()
        self.conv = nn.Conv1d(input_dim, width, kernel_size=3, padding=2)
        self.output_dim = width

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        T = x.shape[1]
        return torch.relu(self.conv(x.transpose(1, 2))[..., :T]).transpose(1, 2)  # (B, T, width)

    def pool(self, features: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return last_valid(features, lengths)  # (B, width): the last real position

    def sequential_depth(self, T: int) -> int:
        return 1


@MODELS.register("mymodel", causal=True, description="causal convolution, kernel 3")
def build_mymodel(input_dim: int, width: int, cfg) -> Encoder:
    """seqbench picks `width` so that the model meets the suite's parameter budget."""
    return CausalConv(input_dim, width)
