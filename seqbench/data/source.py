"""The data-source interface: what a task's `generator:` or `dataset:` must provide, and what it may.

`DataSource` declares every member `tasks.py`, `train.py` and `runner.py` use. `DataSourceBase`
gives the optional members their defaults, and `SampledSource` turns a synthetic generator's one
`sample()` into the two streams. A source is anything with these members; the built-in ones (and
the plugin example in tests/plugin_pkg) inherit the defaults:

    @dataclass(frozen=True)
    class Parity(SampledSource):
        output = "classify"
        vocab_size = 2
        n_classes = 2
        def seq_len(self, length): return length
        def sample(self, n, length, generator, device): ...
        def baseline(self, length): return {"accuracy": 0.5}

Beside chance, a source may name trivial strategies (`strategies(length)`: name -> batch ->
predicted probabilities; see strategies.py); `baselines()` scores chance and them on the run's
own test set, and the runner writes that into the run file.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Protocol, Sequence

import numpy as np
import torch

from .batch import Batch
from .strategies import Strategy, score_strategies

if TYPE_CHECKING:
    import pandas as pd


class DataSource(Protocol):
    # ---- required
    output: str  # classify | tag | regress: picks the head, its loss and the per-example statistics
    vocab_size: int | None  # token inputs: ids in [0, vocab_size); None: real-valued features
    n_classes: int  # classes per label (1 for regress)

    def seq_len(self, length: int) -> int:
        """Positions per sequence at dependency length `length` (the input the model reads)."""

    def baseline(self, length: int) -> dict[str, float]:
        """A trivial predictor's metrics (metric key -> value); {} when the data is not at hand."""

    def train_batches(self, length: int, seed: int, batch_size: int, device) -> Iterator[Batch]:
        """An endless stream of training batches, reproducible from `seed`."""

    def eval_set(self, split: str, length: int, seed: int, n: int, device) -> Batch:
        """The fixed 'val' or 'test' set; `seed` is the split's own seed, `n` its size (or a cap)."""

    # ---- optional: DataSourceBase's defaults
    n_features: int | None  # features per position when vocab_size is None
    tolerance: float | None  # regress: a prediction within this of the target counts as correct
    reads_data: bool  # True: vocab_size, n_classes and baseline() read a dataset (files or the hub)

    def prepare(self) -> None:
        """Load (or fail to find) the data now, before any progress bar or worker starts."""

    def baselines(self, length: int, test: list[Batch] | Batch, metrics: Sequence[str]) -> dict[str, dict[str, float]]:
        """Trivial strategies scored on the run's own test set: {name: {metric: value}} for those of
        `metrics` each defines; "chance" (`baseline(length)`) first, then the named ones."""

    def token_features(self) -> dict[str, np.ndarray]:
        """Per-token features the model embeds and adds to the token embedding: name -> an int array
        over the vocabulary (each id's class, e.g. its word case); {} for none."""

    def describe(self, length: int) -> dict[str, Any]:
        """Extra facts for the run file's `task` block (truncation, split sizes, vocabulary)."""

    def analyse(self, model, length: int, batch_size: int, device) -> dict[str, Any] | None:
        """After a successful fit: the run file's `lm` block, or None for none."""

    def rescore(self, frame: pd.DataFrame, batches: list[Batch], model) -> pd.DataFrame:
        """Add per-example columns that `evaluate()` cannot compute (e.g. entity tags)."""

    def save_predictions(self, frame: pd.DataFrame, stem: Path) -> Path | None:
        """Write test predictions beside the run file (`stem` plus a suffix); None writes nothing."""


class DataSourceBase:
    """The defaults of `DataSource`'s optional members. Not a dataclass, so subclasses may be."""

    n_features: int | None = None
    tolerance: float | None = None
    reads_data: bool = False

    def prepare(self) -> None:
        return None

    def strategies(self, length: int) -> dict[str, Strategy]:
        """The source's named trivial strategies (see strategies.py); none by default."""
        return {}

    def baselines(self, length: int, test: list[Batch] | Batch, metrics: Sequence[str]) -> dict[str, dict[str, float]]:
        chance = self.baseline(length)
        return {"chance": {m: chance[m] for m in metrics if m in chance},
                **score_strategies(self, self.strategies(length), test, metrics)}

    def token_features(self) -> dict[str, np.ndarray]:
        return {}

    def describe(self, length: int) -> dict[str, Any]:
        return {}

    def analyse(self, model, length: int, batch_size: int, device) -> dict[str, Any] | None:
        return None

    def rescore(self, frame: pd.DataFrame, batches: list[Batch], model) -> pd.DataFrame:
        return frame

    def save_predictions(self, frame: pd.DataFrame, stem: Path) -> Path | None:
        return None


class SampledSource(DataSourceBase):
    """A synthetic generator: `sample(n, length, generator, device)` makes both streams.

    Training draws batch after batch from one generator seeded by `seed`; an evaluation set is one
    draw of `n` examples from a generator seeded by the split's seed.
    """

    def sample(self, n: int, length: int, generator: torch.Generator, device) -> Batch:  # pragma: no cover
        raise NotImplementedError

    def train_batches(self, length: int, seed: int, batch_size: int, device) -> Iterator[Batch]:
        gen = torch.Generator(device=device).manual_seed(seed)
        while True:
            yield self.sample(batch_size, length, gen, device)

    def eval_set(self, split: str, length: int, seed: int, n: int, device) -> Batch:
        gen = torch.Generator(device=device).manual_seed(seed)
        return self.sample(n, length, gen, device)
