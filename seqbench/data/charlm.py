"""Character-level language modelling (Tiny Shakespeare): next-character prediction at every position.

One plain-text file is split by position, never shuffled: the first `train_share` of the characters
train, the rest is cut into validation and test halves. The vocabulary is the characters of the
training split; id 0 stands for any character the training split lacks. Example (length=4):

    text   : "First Citizen:"
    inputs : F  i  r  s        (ids of the window's first `length` characters)
    targets: i  r  s  t        (the next character at every position; all are scored)

The `length` knob is the context length: training reads random windows of `length` + 1
characters; evaluation reads non-overlapping windows of the val/test text (at most `n` of them,
spread evenly when there are more), each starting with an empty context. `analyse()` adds what
`evaluate()` cannot: the test loss at each position of the window (after Khandelwal et al. 2018,
"Sharp Nearby, Fuzzy Far Away"), over `context_windows` windows that start at consecutive
characters, the effective context read off it, and a fixed-seed sample.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import UserError
from . import text
from .batch import Batch
from .source import DataSourceBase
from .strategies import Strategy
from .synthetic import GENERATORS

LN2 = math.log(2)
UNKNOWN = "\ufffd"  # how id 0 is shown in samples
_MEMO: dict[tuple, "Corpus"] = {}  # (dataset config, data dir) -> loaded corpus


@dataclass
class Corpus:
    """The encoded splits and the vocabulary they share."""

    splits: dict[str, torch.Tensor]  # 'train' | 'val' | 'test' -> (N,) long ids
    bounds: dict[str, tuple[int, int]]  # split -> [start, end) character offsets into the file
    chars: str  # id i (i >= 1) is chars[i - 1]; id 0 is unknown
    source: str  # local:<path> or hub:<name>

    def encode(self, s: str) -> torch.Tensor:
        index = {c: i + 1 for i, c in enumerate(self.chars)}
        return torch.tensor([index.get(c, 0) for c in s], dtype=torch.long)

    def decode(self, ids) -> str:
        return "".join(self.chars[i - 1] if i > 0 else UNKNOWN for i in ids)


def split_bounds(n: int, train_share: float) -> dict[str, tuple[int, int]]:
    """[start, end) of each split over `n` characters. n=100, 0.9: train [0, 90), val [90, 95), test [95, 100)."""
    n_train = int(n * train_share)
    n_val = (n - n_train) // 2
    return {"train": (0, n_train), "val": (n_train, n_train + n_val), "test": (n_train + n_val, n)}


def per_position_summary(losses: np.ndarray, tolerance: float = 0.01, tail: float = 0.1) -> dict:
    """Effective context from the mean loss at each position (position t has seen t + 1 characters).

    The final loss is the mean over the last `tail` of the positions; the effective context is the
    smallest number of characters of context c such that the loss at every position with at least
    c characters stays within `tolerance` (relative) above it. Only excess counts: more context cannot
    hurt an optimal predictor, so dips below the final value are noise. Example:
        [3.0, 2.0, 1.5, 1.01, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0] -> final 1.0, effective context 4
    """
    losses = np.asarray(losses, dtype=float)
    final = float(losses[-max(1, int(round(tail * len(losses)))):].mean())
    above = np.flatnonzero(losses > final * (1 + tolerance))
    context = int(above[-1]) + 2 if above.size else 1  # position t -> t + 1 characters, and one past it
    return {"final_loss": final, "effective_context": min(context, len(losses)), "tolerance": tolerance}


@GENERATORS.register("charlm")
@dataclass(frozen=True)
class CharLM(DataSourceBase):
    """A character-level language-modelling corpus from one text file (default: Tiny Shakespeare).

    Local file: <data dir>/<folder>/<file>; otherwise the hub dataset `hub`, whose train, validation
    and test rows are concatenated back into the one text before the fixed split is made.
    """

    folder: str = "tinyshakespeare"  # under the data directory ($SEQBENCH_DATA or --data-dir)
    file: str = "input.txt"
    hub: str = "karpathy/tiny_shakespeare"  # used only when the local file is missing
    train_share: float = 0.9  # the first 90% trains; the rest splits into val and test halves
    context_windows: int = 4096  # consecutive (overlapping) test windows behind the per-position loss
    sample_chars: int = 200  # length of the generated sample
    sample_prompt: str = "ROMEO:\n"
    sample_temperature: float = 0.8
    sample_seed: int = 0
    output = "tag"
    reads_data = True

    def __post_init__(self):
        if not 0 < self.train_share < 1:
            raise ValueError(f"train_share must lie in (0, 1), got {self.train_share}")

    # ---------------------------------------------------------------- data
    @property
    def corpus(self) -> Corpus:
        key = (repr(self), str(text.data_dir().resolve()))
        if key not in _MEMO:
            _MEMO[key] = self._load()
        return _MEMO[key]

    def _read(self) -> tuple[str, str]:
        """(the whole text, where it came from), through `datasets` either way."""
        import datasets

        datasets.disable_progress_bars()
        folder = text.data_dir() / self.folder
        path = folder / self.file
        if path.is_file():
            ds = datasets.load_dataset("text", data_files={"train": str(path)}, sample_by="document",
                                       keep_linebreaks=True, cache_dir=str(text.cache_root() / "hf"))
            return "".join(ds["train"]["text"]), f"local:{path}"
        ds = text.load_hub(self.folder, folder, [self.file], self.hub)
        return "".join(row for split in ("train", "validation", "test") for row in ds[split]["text"]), f"hub:{self.hub}"

    def _load(self) -> Corpus:
        raw, source = self._read()
        bounds = split_bounds(len(raw), self.train_share)
        if min(end - start for start, end in bounds.values()) < 2:
            raise UserError(f"{self.folder}: {len(raw)} characters are too few to split into train, val and test")
        lo, hi = bounds["train"]
        chars = "".join(sorted(set(raw[lo:hi])))
        corpus = Corpus({}, bounds, chars, source)
        corpus.splits = {s: corpus.encode(raw[a:b]) for s, (a, b) in bounds.items()}
        return corpus

    def prepare(self) -> None:
        self.corpus  # noqa: B018  (loading is the point)

    @property
    def vocab_size(self) -> int:
        return len(self.corpus.chars) + 1

    @property
    def n_classes(self) -> int:
        return self.vocab_size

    def seq_len(self, length: int) -> int:
        return length

    def _need(self, split: str, length: int) -> torch.Tensor:
        ids = self.corpus.splits[split]
        if len(ids) < length + 1:
            raise UserError(f"{self.folder}: the {split} split has {len(ids)} characters, too few for "
                            f"a context length of {length}; use a shorter --length")
        return ids

    def train_batches(self, length: int, seed: int, batch_size: int, device):
        """Endless batches of random windows of `length` + 1 characters from the training split."""
        ids = self._need("train", length).to(device)
        gen = torch.Generator(device=device).manual_seed(seed)
        offsets = torch.arange(length + 1, device=device)
        full = torch.full((batch_size,), length, dtype=torch.long, device=device)
        while True:
            starts = torch.randint(0, len(ids) - length, (batch_size,), generator=gen, device=device)
            windows = ids[starts.unsqueeze(1) + offsets]  # (B, T + 1)
            yield Batch(windows[:, :-1], windows[:, 1:], full)

    def window_starts(self, split: str, length: int, n: int, overlap: bool = False) -> np.ndarray:
        """Start offsets of the evaluation windows: non-overlapping, at most `n`, spread evenly.

        With `overlap`: the first `n` consecutive starts 0, 1, 2, ... (for the per-position loss).
        Position t of those windows then predicts the characters t + 1 .. t + n, nearly the same ones
        for every t, so the curve compares context lengths on (almost) the same targets; windows
        spread over the split would add the noise of different targets at each position, which at a
        few thousand windows is larger than the 1% that decides the effective context.
        """
        span = len(self._need(split, length)) - length  # a window starting at s reads s .. s + length
        available = (span - 1) // length + 1  # starts 0, length, 2 length, ... up to span - 1
        if overlap:
            return np.arange(min(n, span), dtype=np.int64)
        starts = np.arange(available, dtype=np.int64) * length
        if len(starts) > n:
            starts = starts[np.unique(np.linspace(0, len(starts) - 1, n).round().astype(np.int64))]
        return starts

    def _windows(self, split: str, length: int, starts: np.ndarray, device) -> Batch:
        ids = self.corpus.splits[split]
        windows = ids[torch.from_numpy(starts).unsqueeze(1) + torch.arange(length + 1)]  # (N, T + 1)
        full = torch.full((len(starts),), length, dtype=torch.long)
        return Batch(windows[:, :-1], windows[:, 1:], full).to(device)

    def eval_set(self, split: str, length: int, seed: int, n: int, device) -> Batch:
        """Non-overlapping windows of the val or test text (at most `n`; `seed` is not needed), every position scored."""
        return self._windows(split, length, self.window_starts(split, length, n), device)

    # ---------------------------------------------------------------- reference points
    def baseline(self, length: int) -> dict[str, float]:
        """The unigram entropy of the training characters, in bits (and nats)."""
        try:
            counts = torch.bincount(self.corpus.splits["train"]).double()
        except UserError:  # no data here: `seqbench list` still lists the task; a run fails loudly
            return {}
        p = counts[counts > 0] / counts.sum()
        entropy = float(-(p * p.log()).sum())
        return {"bpc": entropy / LN2, "xent": entropy}

    def strategies(self, length: int) -> dict[str, Strategy]:
        return {"unigram": self.unigram}

    def unigram(self, batch: Batch) -> torch.Tensor:
        """The training characters' frequencies at every position, add-one smoothed so that a test
        character train lacks (id 0) costs a finite amount. (B, T, V)"""
        counts = torch.bincount(self.corpus.splits["train"], minlength=self.vocab_size).double() + 1
        return (counts / counts.sum()).to(batch.targets.device).expand(*batch.targets.shape, -1)

    def describe(self, length: int) -> dict:
        c = self.corpus
        return {"source": c.source, "vocab_size": self.vocab_size, "context_length": length,
                "split_chars": {s: int(len(ids)) for s, ids in c.splits.items()},
                "split_bounds": {s: list(b) for s, b in c.bounds.items()},
                "unknown_chars": {s: int((ids == 0).sum()) for s, ids in c.splits.items()},
                "context_windows": int(len(self.window_starts("test", length, self.context_windows, overlap=True)))}

    # ---------------------------------------------------------------- analysis after training
    @torch.no_grad()
    def per_position_loss(self, model, batches: list[Batch]) -> np.ndarray:
        """Mean cross-entropy (nats) at each position of the window, over all windows."""
        total, count = None, 0
        for batch in batches:
            output, _ = model(batch.inputs, batch.lengths)  # (B, T, V)
            ce = F.cross_entropy(output.float().transpose(1, 2), batch.targets, reduction="none")  # (B, T)
            total = ce.sum(0) if total is None else total + ce.sum(0)
            count += batch.size
        return (total / max(count, 1)).double().cpu().numpy()

    @torch.no_grad()
    def generate(self, model, length: int, device) -> str:
        """`sample_chars` characters after the prompt, re-running the model on the last `length` characters.

        Re-running on the growing window is correct for every encoder (no state is carried), and a
        seeded generator makes the sample the same for the same weights.
        """
        was_training = model.training
        model.eval()
        gen = torch.Generator(device=device).manual_seed(self.sample_seed)
        ids = self.corpus.encode(self.sample_prompt).tolist() or [0]  # an empty prompt starts from "unknown"
        n_prompt = len(ids)
        for _ in range(self.sample_chars):
            window = torch.tensor([ids[-length:]], dtype=torch.long, device=device)  # (1, T)
            output, _ = model(window, torch.tensor([window.shape[1]], device=device))
            probs = torch.softmax(output[0, -1].float() / self.sample_temperature, dim=-1)
            ids.append(int(torch.multinomial(probs, 1, generator=gen)))
        model.train(was_training)
        return self.corpus.decode(ids[n_prompt:])

    def analyse(self, model, length: int, batch_size: int, device) -> dict:
        """The run file's `lm` block: loss per position, effective context, a sample."""
        starts = self.window_starts("test", length, self.context_windows, overlap=True)
        batches = self._windows("test", length, starts, device).split(batch_size)
        losses = self.per_position_loss(model, batches)
        summary = per_position_summary(losses)
        return {"per_position_loss": [round(float(v), 6) for v in losses],
                "per_position_bpc_final": summary["final_loss"] / LN2,
                "effective_context": summary["effective_context"], "final_loss": summary["final_loss"],
                "tolerance": summary["tolerance"], "windows": int(len(starts)),
                "sample": {"prompt": self.sample_prompt, "text": self.generate(model, length, device),
                           "chars": self.sample_chars, "temperature": self.sample_temperature,
                           "seed": self.sample_seed}}
