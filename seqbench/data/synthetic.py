"""Synthetic long-range tasks, generated vectorised on the training device from a seeded generator.

Each generator is a small frozen config class: the task YAML's `generator:` block names it and
sets its fields. `sample(n, length, generator, device)` returns a `Batch` (`SampledSource` makes the
training stream and the evaluation sets from it); every sequence in a batch has the same length,
so no padding is involved.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..registry import Registry
from .batch import IGNORE, Batch
from .source import SampledSource
from .strategies import Strategy

GENERATORS: Registry[type] = Registry("generator")


def _full_lengths(n: int, seq_len: int, device) -> torch.Tensor:
    return torch.full((n,), seq_len, dtype=torch.long, device=device)


@GENERATORS.register("copy")
@dataclass(frozen=True)
class CopyMemory(SampledSource):
    """Copy memory (Hochreiter & Schmidhuber 1997; Arjovsky et al. 2016).

    `n_recall` symbols from an alphabet of `n_symbols`, then `length` blanks, a marker, and
    `n_recall - 1` more blanks; from the marker on, the model must emit the symbols in order.
    Example (n_symbols=8, n_recall=3, length=2; blank=8, marker=9; `_` is IGNORE):

        inputs : 3 1 7 8 8 9 8 8
        targets: _ _ _ _ _ 3 1 7

    The sequence has length + 2 * n_recall positions; each symbol is recalled `length + n_recall`
    steps after it was shown.
    """

    n_symbols: int = 8
    n_recall: int = 10
    output = "tag"

    @property
    def vocab_size(self) -> int:
        return self.n_symbols + 2  # symbols, blank, marker

    @property
    def n_classes(self) -> int:
        return self.n_symbols

    def seq_len(self, length: int) -> int:
        return length + 2 * self.n_recall

    def sample(self, n: int, length: int, generator: torch.Generator, device) -> Batch:
        blank, marker, T = self.n_symbols, self.n_symbols + 1, self.seq_len(length)
        symbols = torch.randint(0, self.n_symbols, (n, self.n_recall), generator=generator, device=device)
        inputs = torch.full((n, T), blank, dtype=torch.long, device=device)
        inputs[:, : self.n_recall] = symbols
        inputs[:, self.n_recall + length] = marker
        targets = torch.full((n, T), IGNORE, dtype=torch.long, device=device)
        targets[:, T - self.n_recall:] = symbols
        return Batch(inputs, targets, _full_lengths(n, T, device))

    def baseline(self, length: int) -> dict[str, float]:
        # A memoryless model predicts blanks perfectly and guesses the recalled symbols uniformly.
        return {"accuracy": 1 / self.n_symbols,
                "xent_per_step": self.n_recall * math.log(self.n_symbols) / self.seq_len(length)}

    def strategies(self, length: int) -> dict[str, Strategy]:
        return {"memoryless": self.memoryless}

    def memoryless(self, batch: Batch) -> torch.Tensor:
        """Keeps no memory of the symbols: a uniform guess at every recalled position. (B, T, n_symbols)"""
        B, T = batch.targets.shape
        return torch.full((1, 1, self.n_symbols), 1 / self.n_symbols, device=batch.targets.device).expand(B, T, -1)


@GENERATORS.register("adding")
@dataclass(frozen=True)
class AddingProblem(SampledSource):
    """Adding problem (Hochreiter & Schmidhuber 1997; Le et al. 2015).

    `length` steps of (value ~ U(0, 1), marker); exactly two markers, one in each half. The target
    is the sum of the two marked values. Example (length=4):

        values : 0.20 0.90 0.50 0.30
        markers: 0    1    0    1
        target : 1.20
    """

    tolerance: float = 0.04  # a prediction within this of the target counts as correct
    output = "regress"
    n_features = 2
    vocab_size = None
    n_classes = 1

    def seq_len(self, length: int) -> int:
        return length

    def sample(self, n: int, length: int, generator: torch.Generator, device) -> Batch:
        values = torch.rand((n, length), generator=generator, device=device)
        half = length // 2
        first = torch.randint(0, half, (n,), generator=generator, device=device)
        second = half + torch.randint(0, length - half, (n,), generator=generator, device=device)
        rows = torch.arange(n, device=device)
        markers = torch.zeros_like(values)
        markers[rows, first] = 1.0
        markers[rows, second] = 1.0
        inputs = torch.stack([values, markers], dim=-1)  # (B, T, 2)
        targets = values[rows, first] + values[rows, second]
        return Batch(inputs, targets, _full_lengths(n, length, device))

    def baseline(self, length: int) -> dict[str, float]:
        # Predicting the mean (1.0): MSE = Var(U1 + U2) = 1/6; the sum's density near 1 is
        # triangular, so P(|S - 1| < tol) = 2 tol - tol^2.
        return {"mse": 1 / 6, "accuracy": 2 * self.tolerance - self.tolerance**2}

    def strategies(self, length: int) -> dict[str, Strategy]:
        return {"predict 1": self.predict_one}

    @staticmethod
    def predict_one(batch: Batch) -> torch.Tensor:
        """The constant 1, the target's mean. (B,)"""
        return torch.ones(batch.size, device=batch.targets.device)


@GENERATORS.register("recall")
@dataclass(frozen=True)
class AssociativeRecall(SampledSource):
    """Multi-query associative recall (after Zoology's MQAR; Arora et al. 2023).

    `n_pairs` key-value pairs (distinct keys), then `length` blanks, then the keys again as queries
    in a random order; at each query the model must emit that key's value. Keys are tokens
    0..n_keys-1, values n_keys..n_keys+n_values-1, blank is the last token; targets are value
    indices. Example (n_pairs=2, n_keys=4, n_values=4, length=2; blank=8, `_` is IGNORE):

        inputs : 3 5 0 7 8 8 0 3
        targets: _ _ _ _ _ _ 3 1

    A query sits `length + 2 * n_pairs - 2 * i + j` tokens after its key (pair i, query j), so
    the dependency distance is about `length`.
    """

    n_pairs: int = 4
    n_keys: int = 16
    n_values: int = 16
    output = "tag"

    def __post_init__(self):
        if self.n_pairs > self.n_keys:
            raise ValueError(f"n_pairs ({self.n_pairs}) must not exceed n_keys ({self.n_keys})")

    @property
    def vocab_size(self) -> int:
        return self.n_keys + self.n_values + 1

    @property
    def n_classes(self) -> int:
        return self.n_values

    def seq_len(self, length: int) -> int:
        return 3 * self.n_pairs + length

    def sample(self, n: int, length: int, generator: torch.Generator, device) -> Batch:
        P, T = self.n_pairs, self.seq_len(length)
        keys = torch.rand((n, self.n_keys), generator=generator, device=device).argsort(dim=1)[:, :P]
        values = torch.randint(0, self.n_values, (n, P), generator=generator, device=device)
        order = torch.rand((n, P), generator=generator, device=device).argsort(dim=1)
        inputs = torch.full((n, T), self.n_keys + self.n_values, dtype=torch.long, device=device)
        inputs[:, 0: 2 * P: 2] = keys
        inputs[:, 1: 2 * P: 2] = values + self.n_keys
        inputs[:, T - P:] = keys.gather(1, order)
        targets = torch.full((n, T), IGNORE, dtype=torch.long, device=device)
        targets[:, T - P:] = values.gather(1, order)
        return Batch(inputs, targets, _full_lengths(n, T, device))

    def baseline(self, length: int) -> dict[str, float]:
        return {"accuracy": 1 / self.n_values}

    def strategies(self, length: int) -> dict[str, Strategy]:
        return {"bag of values": self.bag_of_values}

    def bag_of_values(self, batch: Batch) -> torch.Tensor:
        """Knows which values the sequence holds, not which key each belongs to: answers every query
        with the values' frequencies among the pairs (its best guess is their mode). (B, T, n_values)"""
        P, T = self.n_pairs, batch.targets.shape[1]
        values = batch.inputs[:, 1: 2 * P: 2] - self.n_keys  # (B, P)
        probs = F.one_hot(values, self.n_values).sum(1).double() / P  # (B, n_values)
        return probs.unsqueeze(1).expand(-1, T, -1)
