"""Shared machinery for real text datasets: where the data is, vocabularies, the token cache, batches.

Data is looked up in a local directory first (`set_data_dir()`, else `$SEQBENCH_DATA`, else
`./data`), holding each dataset's raw files in their standard format; only when they are missing,
and `HF_HUB_OFFLINE` is not set, the dataset is loaded from the Hugging Face hub. Either way it goes
through `datasets`, and what cannot be found ends in one `UserError` line.

Tokenised splits are cached on disk under `$SEQBENCH_CACHE` (default `~/.cache/seqbench`), keyed by
a hash of the data files' contents (or the hub datasets' fingerprints) and the vocabulary settings,
so a sweep tokenises each dataset once:

    <cache>/real/sst2-3f2a.../{tokenizer.json, arrays.npz, meta.json}
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import urlparse

import numpy as np
import torch

from ..errors import UserError
from .batch import IGNORE, Batch

CACHE_FORMAT = 1  # bump when the cached layout changes
PAD, UNK = "[PAD]", "[UNK]"
_data_dir: Path | None = None
_loaded: dict[str, "Loaded"] = {}  # cache key -> data, so one process loads each dataset once


def set_data_dir(path: str | os.PathLike | None) -> None:
    """Use `path` as the local data directory (the `--data-dir` flag); None falls back to $SEQBENCH_DATA."""
    global _data_dir
    _data_dir = Path(path) if path is not None else None


def data_dir() -> Path:
    return _data_dir or Path(os.environ.get("SEQBENCH_DATA", "data"))


def cache_root() -> Path:
    return Path(os.environ.get("SEQBENCH_CACHE", Path.home() / ".cache" / "seqbench"))


# ---------------------------------------------------------------- finding the raw data

def missing_data(name: str, folder: Path, files: list[str], hub: str, why: str) -> UserError:
    return UserError(f"{name}: data not found: searched {folder} for {', '.join(files)} "
                     f"(set SEQBENCH_DATA or --data-dir); hub dataset {hub!r} {why}")


def hub_reachable(timeout: float = 3.0) -> bool:
    """A quick TCP probe of the hub, so an unreachable network fails in seconds, not after retries."""
    host = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co")).hostname or "huggingface.co"
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def load_hub(name: str, folder: Path, files: list[str], hub: str):
    """`datasets.load_dataset(hub)` when allowed and reachable; any failure becomes one UserError."""
    import datasets

    if os.environ.get("HF_HUB_OFFLINE", "0").lower() not in ("0", "", "false", "no", "off"):
        raise missing_data(name, folder, files, hub, "not tried (HF_HUB_OFFLINE is set)")
    if not hub_reachable():
        raise missing_data(name, folder, files, hub, "unreachable (no network)")
    try:
        return datasets.load_dataset(hub, cache_dir=str(cache_root() / "hf"))
    except Exception as exc:  # network, auth, schema: all end in the same one line
        raise missing_data(name, folder, files, hub, f"failed to load: {type(exc).__name__}: {str(exc)[:200]}") from exc


def file_identity(paths: list[Path]) -> list[tuple[str, int, str]]:
    """(name, size, sha256) of every file: the cache key changes whenever any byte does."""
    out = []
    for path in paths:
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        out.append((path.name, path.stat().st_size, digest.hexdigest()))
    return out


# ---------------------------------------------------------------- vocabulary

def train_tokenizer(texts: Iterator, min_freq: int, max_vocab: int | None, lowercase: bool,
                    split_punct: bool, strip_html: bool, digits_to_zero: bool = False,
                    extra_special: tuple[str, ...] = ()):
    """A word-level vocabulary from the train split, wrapped as a `PreTrainedTokenizerFast`.

    Ids 0 and 1 are [PAD] and [UNK], then `extra_special` tokens; words seen fewer than `min_freq`
    times map to [UNK].
    Example (lowercase, split_punct): "Great film!<br />" -> ["great", "film", "!"].
    """
    from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    steps = []
    if strip_html:
        steps.append(normalizers.Replace(Regex(r"<br\s*/?>"), " "))
    if digits_to_zero:
        steps.append(normalizers.Replace(Regex(r"\d"), "0"))
    if lowercase:
        steps.append(normalizers.Lowercase())
    tok = Tokenizer(models.WordLevel(unk_token=UNK))
    if steps:
        tok.normalizer = normalizers.Sequence(steps)
    tok.pre_tokenizer = pre_tokenizers.Whitespace() if split_punct else pre_tokenizers.WhitespaceSplit()
    trainer = trainers.WordLevelTrainer(vocab_size=max_vocab or 10**9, min_frequency=min_freq,
                                        special_tokens=[PAD, UNK, *extra_special])
    tok.train_from_iterator(texts, trainer)
    return wrap_tokenizer(tok)


def wrap_tokenizer(tok):
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token=UNK, pad_token=PAD)


# ---------------------------------------------------------------- the on-disk token cache

class Loaded:
    """A tokenised dataset: per split, token ids (flat + offsets) and labels; plus meta."""

    def __init__(self, arrays: dict[str, np.ndarray], meta: dict, tokenizer, seconds: float, cached: bool):
        self.arrays, self.meta, self.tokenizer = arrays, meta, tokenizer
        self.load_seconds, self.from_cache = seconds, cached
        self._seqs: dict[str, list[np.ndarray]] = {}

    def seqs(self, split: str) -> list[np.ndarray]:
        """Token ids of every example of `split` (views into one flat array)."""
        if split not in self._seqs:
            ids, off = self.arrays[f"{split}/ids"], self.arrays[f"{split}/offsets"]
            self._seqs[split] = [ids[off[i]:off[i + 1]] for i in range(len(off) - 1)]
        return self._seqs[split]

    def lengths(self, split: str) -> np.ndarray:
        return np.diff(self.arrays[f"{split}/offsets"])


def pack(seqs: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Ragged id lists -> (flat int32 ids, int64 offsets of length n + 1)."""
    lengths = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=len(seqs))
    offsets = np.zeros(len(seqs) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    flat = np.fromiter((t for s in seqs for t in s), dtype=np.int32, count=int(offsets[-1]))
    return flat, offsets


def forget_loaded() -> None:
    _loaded.clear()


def cached_load(name: str, key_parts: dict, build: Callable[[], tuple[dict, dict, Any]]) -> Loaded:
    """Load the tokenised dataset for `key_parts` from the cache, or `build()` and store it.

    `build` returns (arrays, meta, tokenizer). The entry is written to a temporary directory and
    renamed into place, so concurrent runs of a sweep never see half an entry.
    """
    key = hashlib.sha256(json.dumps({"format": CACHE_FORMAT, **key_parts}, sort_keys=True).encode()).hexdigest()[:20]
    if key in _loaded:
        return _loaded[key]
    folder = cache_root() / "real" / f"{name}-{key}"
    start = time.perf_counter()
    if (folder / "meta.json").exists():
        from tokenizers import Tokenizer

        with np.load(folder / "arrays.npz") as npz:
            arrays = {k: npz[k] for k in npz.files}
        meta = json.loads((folder / "meta.json").read_text())
        tokenizer = wrap_tokenizer(Tokenizer.from_file(str(folder / "tokenizer.json")))
        loaded = Loaded(arrays, meta, tokenizer, time.perf_counter() - start, cached=True)
    else:
        arrays, meta, tokenizer = build()
        meta = {**meta, "cache_key": key, "key": key_parts}
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
        try:
            np.savez(tmp / "arrays.npz", **arrays)
            tokenizer.backend_tokenizer.save(str(tmp / "tokenizer.json"))
            (tmp / "meta.json").write_text(json.dumps(meta))  # written last: marks the entry complete
            try:
                os.replace(tmp, folder)
            except OSError:  # another process finished the same entry first; theirs is identical
                pass
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        loaded = Loaded(arrays, meta, tokenizer, time.perf_counter() - start, cached=False)
    _loaded[key] = loaded
    return loaded


# ---------------------------------------------------------------- batches

def bucket_of(lengths: np.ndarray, edges: list[int]) -> np.ndarray:
    """The lower edge of each length's bucket. edges [10, 20, 30]: 7 -> 0, 10 -> 10, 29 -> 20, 99 -> 30."""
    bounds = np.asarray([0, *edges])
    return bounds[np.searchsorted(np.asarray(edges), lengths, side="right")]


def clip(seq: np.ndarray, length: int, keep: str) -> np.ndarray:
    """At most `length` tokens: the first ones (keep='head') or the last ones (keep='tail')."""
    if len(seq) <= length:
        return seq
    return seq[-length:] if keep == "tail" else seq[:length]


def make_batch(seqs: list[np.ndarray], targets: torch.Tensor | list[np.ndarray], length: int, keep: str,
               slices: dict[str, np.ndarray] | None = None, device="cpu", cls=Batch) -> Batch:
    """Pad `seqs` (clipped to `length`) into one Batch. Per-position targets are clipped alike."""
    clipped = [clip(s, length, keep) for s in seqs]
    lengths = np.fromiter((len(s) for s in clipped), dtype=np.int64, count=len(clipped))
    T = int(lengths.max()) if len(lengths) else 1
    inputs = np.zeros((len(clipped), T), dtype=np.int64)  # 0 is [PAD]
    for row, s in enumerate(clipped):
        inputs[row, : len(s)] = s
    if isinstance(targets, list):  # one target per position
        tags = np.full((len(clipped), T), IGNORE, dtype=np.int64)
        for row, t in enumerate(targets):
            t = clip(t, length, keep)
            tags[row, : len(t)] = t
        targets = torch.from_numpy(tags)
    return cls(torch.from_numpy(inputs).to(device), targets.to(device), torch.from_numpy(lengths).to(device),
               {k: torch.as_tensor(v).to(device) for k, v in (slices or {}).items()})


class EvalBatch(Batch):
    """A whole evaluation split, sorted by length; `split()` trims each chunk's padding."""

    def split(self, batch_size: int) -> list[Batch]:
        out = []
        for part in super().split(batch_size):
            T = max(int(part.lengths.max()), 1)
            targets = part.targets[:, :T] if part.targets.dim() == 2 else part.targets
            out.append(Batch(part.inputs[:, :T], targets, part.lengths, part.slices))
        return out


def bucketed_batches(lengths: np.ndarray, seed: int, batch_size: int, make: Callable[[np.ndarray, int], Batch],
                     jitter: float = 4.0) -> Iterator[Batch]:
    """An endless stream of batches of similar length, each cropped to its shortest example.

    Every epoch the examples are sorted by length plus U(0, jitter) noise, cut into batches, and the
    batches shuffled. A cropped batch has no padding, so recurrent models skip packed sequences,
    whose backward pass is many times slower on CPU; the price is a few tokens dropped per example.
    """
    gen = np.random.default_rng(seed)
    n = len(lengths)
    while True:
        order = np.argsort(lengths + gen.random(n) * jitter, kind="stable")
        chunks = [order[i:i + batch_size] for i in range(0, max(n - batch_size + 1, 1), batch_size)]
        for j in gen.permutation(len(chunks)):
            yield make(chunks[j], int(lengths[chunks[j]].min()))


def shuffled_batches(n: int, seed: int, batch_size: int, make: Callable[[np.ndarray], Batch]) -> Iterator[Batch]:
    """An endless stream of batches over `n` examples, reshuffled every epoch from a seeded generator."""
    gen = torch.Generator().manual_seed(seed)
    while True:
        order = torch.randperm(n, generator=gen).numpy()
        for start in range(0, n - batch_size + 1 if n >= batch_size else 1, batch_size):
            yield make(order[start:start + batch_size])
