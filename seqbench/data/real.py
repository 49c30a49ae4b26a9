"""Real-data tasks (SST-2, IMDB, CoNLL-2003) register their datasets here.

Each dataset is a frozen config class named by a task YAML's `dataset:` block, like the synthetic
generators, but it serves fixed splits instead of sampling: `train_batches()` streams shuffled
batches of the train split and `eval_set()` returns the whole validation or test split. The
`length` knob is the maximum number of tokens per example (longer ones are clipped); each task's
default length clips nothing (SST-2, CoNLL) or is the task's truncation length (IMDB).
Evaluation examples carry `slice_length_bucket`, the lower edge of their (unclipped) token-length
bucket, so every run file reports its metrics per bucket.

All three load the same way (`TextDataset._raw`): the local files `<data dir>/<name>/<files>` if all
are there, else the hub dataset `hub`; each dataset says only how to read either into its splits.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar, Sequence

import numpy as np
import pandas as pd
import torch

from ..errors import UserError
from . import text
from . import charlm  # noqa: F401  (registers the character-level LM corpus)
from .batch import IGNORE, Batch
from .conll import SHAPE_UNKS, case_class, iob1_to_iob2, read_conll, word_shape, write_predictions
from .source import DataSourceBase
from .strategies import Strategy
from .synthetic import GENERATORS
from .text import set_data_dir  # noqa: F401  (re-exported for the CLI's --data-dir)

SPLIT_CODE = {"val": 0, "test": 1}
_MEMO: dict[tuple, text.Loaded] = {}  # (dataset config, data dir, cache dir) -> loaded data


def _majority_baseline(train_labels: np.ndarray, test_labels: np.ndarray) -> dict[str, float]:
    """Always predict the train split's majority class; scored on the test labels."""
    majority = np.bincount(train_labels).argmax()
    frame = pd.DataFrame({"n_correct": (test_labels == majority).astype(float), "n_scored": 1.0,
                          "pred": majority, "target": test_labels})
    from ..metrics import METRICS

    return {"accuracy": METRICS.get("accuracy")(frame), "macro_f1": METRICS.get("macro_f1")(frame)}


def forget_loaded() -> None:
    """Drop every dataset held in memory, so the next use loads again (from the disk cache if there)."""
    _MEMO.clear()
    text.forget_loaded()


@dataclass(frozen=True)
class TextDataset(DataSourceBase):
    """Shared behaviour of the real datasets: loading, the length knob, slices.

    A subclass names its local `files` and the `hub_splits` they correspond to, and says how to read
    each (`_read_local`, `_read_hub`) into {split: raw examples} for its `_build`.
    """

    output = "classify"
    reads_data = True
    files: ClassVar[dict[str, str]]  # split -> file name under <data dir>/<name>/
    hub_splits: ClassVar[dict[str, str]]  # split -> the hub dataset's split name

    def _raw(self) -> tuple[Any, str, Callable[[], dict]]:
        """(what identifies the raw data, where it comes from, a reader of its splits).

        The one loading path: the local files if all are present, else the hub dataset; missing data
        ends in one UserError line naming the directory searched and the hub dataset.
        """
        folder = text.data_dir() / self.name
        paths = {split: folder / file for split, file in self.files.items()}
        if all(p.is_file() for p in paths.values()):
            return text.file_identity(list(paths.values())), f"local:{folder}", lambda: self._read_local(paths)
        ds = text.load_hub(self.name, folder, list(self.files.values()), self.hub)
        fingerprints = [ds[v]._fingerprint for v in self.hub_splits.values()]
        return {"hub": self.hub, "fingerprints": fingerprints}, f"hub:{self.hub}", lambda: self._read_hub(ds)

    def _load(self) -> text.Loaded:
        key, source, read = self._raw()
        return text.cached_load(self.name, {"data": key, "vocab": self._vocab_settings()},
                                lambda: self._build(read(), source))

    @property
    def loaded(self) -> text.Loaded:
        """The tokenised splits; hashed, read and tokenised once per process and data directory."""
        key = (repr(self), str(text.data_dir().resolve()), str(text.cache_root()))
        if key not in _MEMO:
            _MEMO[key] = self._load()
        return _MEMO[key]

    def prepare(self) -> None:
        self.loaded  # noqa: B018  (loading is the point)

    @property
    def vocab_size(self) -> int:
        return int(self.loaded.meta["vocab_size"])

    def seq_len(self, length: int) -> int:
        return length  # the most tokens an example keeps

    def _slices(self, split: str, idx: np.ndarray) -> dict[str, np.ndarray]:
        full = self.loaded.lengths(split)[idx]
        return {"slice_length_bucket": text.bucket_of(full, list(self.buckets)),
                "example": idx, "split": np.full(len(idx), SPLIT_CODE.get(split, -1))}

    def _describe_common(self, length: int) -> dict:
        data = self.loaded
        return {"max_tokens": length, "keep": self.keep, "vocab_size": self.vocab_size,
                "length_buckets": list(self.buckets), "source": data.meta["source"],
                "split_sizes": {s: int(len(data.lengths(s))) for s in ("train", "val", "test")},
                "truncated_share": {s: float((data.lengths(s) > length).mean()) for s in ("train", "val", "test")},
                "load_seconds": round(data.load_seconds, 3), "loaded_from_cache": data.from_cache}


# ---------------------------------------------------------------- sentiment (SST-2, IMDB)

@dataclass(frozen=True)
class Sentiment(TextDataset):
    n_classes = 2
    text_column = "text"  # the local files' text column (the hub datasets' is always "text")

    def _vocab_settings(self) -> dict:
        return {k: getattr(self, k) for k in ("min_freq", "max_vocab", "lowercase", "split_punct", "strip_html")}

    def _csv_options(self) -> dict:  # pragma: no cover - subclasses say how their files are written
        raise NotImplementedError

    def _read_local(self, paths: dict[str, Path]) -> dict:
        ds = _read_csv(paths, text.cache_root() / "hf", **self._csv_options())
        return {k: (ds[k][self.text_column], ds[k]["label"]) for k in paths}

    def _read_hub(self, ds) -> dict:
        return {k: (ds[v]["text"], ds[v]["label"]) for k, v in self.hub_splits.items()}

    def _build(self, splits: dict[str, tuple[list[str], np.ndarray]], source: str):
        """splits: {'train'|'val'|'test': (texts, labels)} -> (arrays, meta, tokenizer)."""
        tok = text.train_tokenizer(iter(splits["train"][0]), self.min_freq, self.max_vocab, self.lowercase,
                                   self.split_punct, self.strip_html)
        unk = tok.convert_tokens_to_ids(text.UNK)
        arrays, meta = {}, {"vocab_size": len(tok), "source": source}
        for split, (texts, labels) in splits.items():
            ids = tok(list(texts), add_special_tokens=False)["input_ids"]
            ids = [s or [unk] for s in ids]  # an empty text still gets one token
            arrays[f"{split}/ids"], arrays[f"{split}/offsets"] = text.pack(ids)
            arrays[f"{split}/labels"] = np.asarray(labels, dtype=np.int64)
        return arrays, meta, tok

    def labels(self, split: str) -> np.ndarray:
        return self.loaded.arrays[f"{split}/labels"]

    def train_batches(self, length: int, seed: int, batch_size: int, device):
        seqs, labels = self.loaded.seqs("train"), torch.from_numpy(self.labels("train"))
        unk = self.loaded.tokenizer.convert_tokens_to_ids(text.UNK)
        noise = np.random.default_rng(seed)

        def make(idx, crop=length):
            rows = [seqs[i] for i in idx]
            if self.word_dropout > 0:  # word dropout (Iyyer et al. 2015): a regulariser for small data
                rows = [np.where(noise.random(len(s)) < self.word_dropout, unk, s) for s in rows]
            return text.make_batch(rows, labels[idx], min(length, crop), self.keep, device=device)

        if self.bucket_batches:
            return text.bucketed_batches(np.minimum(self.loaded.lengths("train"), length), seed, batch_size, make)
        return text.shuffled_batches(len(seqs), seed, batch_size, make)

    def eval_set(self, split: str, length: int, seed: int, n: int, device) -> Batch:
        """The whole split (`seed` and `n` are ignored), longest first, so evaluation chunks carry little padding."""
        seqs = self.loaded.seqs(split)
        idx = np.argsort(-np.minimum(self.loaded.lengths(split), length), kind="stable")
        labels = torch.from_numpy(self.labels(split))
        return text.make_batch([seqs[i] for i in idx], labels[idx], length, self.keep,
                               self._slices(split, idx), device, cls=text.EvalBatch)

    def baseline(self, length: int) -> dict[str, float]:
        try:
            return _majority_baseline(self.labels("train"), self.labels("test"))
        except UserError:  # no data here: `seqbench list` still lists the task; a run fails loudly
            return {}

    def strategies(self, length: int) -> dict[str, Strategy]:
        return {"majority class": self.majority_class}

    def majority_class(self, batch: Batch) -> torch.Tensor:
        """The train split's label frequencies for every example (its guess: the majority). (B, C)"""
        prior = torch.from_numpy(np.bincount(self.labels("train"), minlength=self.n_classes)).double()
        return (prior / prior.sum()).to(batch.targets.device).expand(batch.size, -1)

    def describe(self, length: int) -> dict:
        return {**self._describe_common(length), **self.loaded.meta.get("val_split", {})}

    def save_predictions(self, frame: pd.DataFrame, stem: Path) -> Path:
        """Test predictions as `<run_id>.predictions.tsv`: index (row in the test split), label, pred."""
        path = Path(f"{stem}.predictions.tsv")
        rows = frame.sort_values("example")[["example", "target", "pred"]]
        rows.to_csv(path, sep="\t", index=False, header=["index", "label", "pred"])
        return path


def _read_csv(files: dict[str, Path], cache: Path, **options):
    """Local CSV/TSV files through `datasets` (its Arrow cache lives beside ours)."""
    import datasets

    datasets.disable_progress_bars()
    return datasets.load_dataset("csv", data_files={k: str(v) for k, v in files.items()},
                                 cache_dir=str(cache), na_filter=False, **options)


@GENERATORS.register("sst2")
@dataclass(frozen=True)
class SST2(Sentiment):
    """SST-2, sentence level (Socher et al. 2013; Kim 2014 split): 6,920 / 872 / 1,821 sentences.

    Local files: sst2/{train,dev,test}.tsv, `sentence<TAB>label`, header, no quoting. The text is
    already lowercased and tokenised, so words split on whitespace only. Example:
        "it 's a charming and often affecting journey ." -> label 1 (positive)
    """

    min_freq: int = 1  # words seen fewer times in train become [UNK]
    max_vocab: int | None = None  # cap on the vocabulary (most frequent words first)
    lowercase: bool = True
    split_punct: bool = False  # the text is already tokenised
    strip_html: bool = False
    keep: str = "head"  # which end of a clipped example to keep
    word_dropout: float = 0.0  # train only: each token becomes [UNK] with this probability
    bucket_batches: bool = False  # train on similar-length batches cropped to their shortest (no padding)
    buckets: list = field(default_factory=lambda: [10, 20, 30])  # token-length bucket edges
    hub: str = "SetFit/sst2"  # used only when the local files are missing
    name = "sst2"
    files = {"train": "train.tsv", "val": "dev.tsv", "test": "test.tsv"}
    hub_splits = {"train": "train", "val": "validation", "test": "test"}
    text_column = "sentence"

    def _csv_options(self) -> dict:
        import datasets

        features = datasets.Features({"sentence": datasets.Value("string"), "label": datasets.Value("int64")})
        return {"delimiter": "\t", "quoting": 3, "features": features}  # quoting 3: none


@GENERATORS.register("imdb")
@dataclass(frozen=True)
class IMDB(Sentiment):
    """IMDB movie reviews (Maas et al. 2011): 25,000 train / 25,000 test; a seeded 10% of train validates.

    Local files: imdb/{train,test}.csv, `text,label,rating,path`, RFC-4180 quoting. `<br />` tags are
    stripped, text is lowercased and split into words and punctuation. Example:
        "A gem.<br /><br />Loved it!" -> ["a", "gem", ".", "loved", "it", "!"] -> label 1
    """

    min_freq: int = 5
    max_vocab: int | None = 30000
    lowercase: bool = True
    split_punct: bool = True
    strip_html: bool = True
    keep: str = "head"
    word_dropout: float = 0.0
    bucket_batches: bool = False
    val_share: float = 0.1  # share of train held out for validation (model selection)
    split_seed: int = 0  # seeds which reviews are held out
    buckets: list = field(default_factory=lambda: [128, 256, 512])
    hub: str = "stanfordnlp/imdb"
    name = "imdb"
    files = {"train": "train.csv", "test": "test.csv"}
    hub_splits = {"train": "train", "test": "test"}

    def _vocab_settings(self) -> dict:
        return {**super()._vocab_settings(), "val_share": self.val_share, "split_seed": self.split_seed}

    def _csv_options(self) -> dict:
        import datasets

        return {"features": datasets.Features({"text": datasets.Value("string"), "label": datasets.Value("int64"),
                                               "rating": datasets.Value("int64"), "path": datasets.Value("string")})}

    def _carve(self, texts: list[str], labels: list[int]) -> tuple[dict, dict]:
        """Hold out a fixed, seeded share of train; record which rows, so the split can be rebuilt."""
        n = len(texts)
        order = np.random.default_rng(self.split_seed).permutation(n)
        n_val = int(round(self.val_share * n))
        val, train = np.sort(order[:n_val]), np.sort(order[n_val:])
        labels = np.asarray(labels)
        import hashlib
        meta = {"val_from": "train", "val_share": self.val_share, "split_seed": self.split_seed,
                "val_size": int(n_val), "val_rows_sha256": hashlib.sha256(val.astype(np.int64).tobytes()).hexdigest()}
        return {"train": ([texts[i] for i in train], labels[train]), "val": ([texts[i] for i in val], labels[val])}, meta

    def _build(self, splits: dict[str, tuple[list[str], np.ndarray]], source: str):
        """IMDB has no validation split: carve one out of train first."""
        carved, val_split = self._carve(*splits["train"])
        arrays, meta, tok = super()._build({**carved, "test": splits["test"]}, source)
        return arrays, {**meta, "val_split": val_split}, tok


# ---------------------------------------------------------------- NER (CoNLL-2003)

@GENERATORS.register("conll2003")
@dataclass(frozen=True)
class CoNLL2003(TextDataset):
    """CoNLL-2003 English NER (Tjong Kim Sang & De Meulder 2003): 14,041 / 3,250 / 3,453 sentences.

    Local files: conll2003/{train,valid,test}.txt (`token POS chunk NER`, IOB1, converted to IOB2
    on load). One label per word, aligned through the tokenizer's `word_ids()`. Example:
        EU rejects German call   ->   B-ORG O B-MISC O
    """

    min_freq: int = 1
    lowercase: bool = False  # case is a strong cue for names
    digits_to_zero: bool = True  # 1996 and 2003 share one token, 0000
    shape_unk: bool = True  # unseen words become [UNK_CAP], [UNK_UPPER], ... by shape, not one [UNK]
    unk_dropout: float = 0.0  # train only: words seen once in train become unknown with this probability
    case_feature: bool = False  # the model adds a learned word-case embedding (conll.CASES) to each word
    keep: str = "head"
    buckets: list = field(default_factory=lambda: [10, 20, 40])
    hub: str = "eriktks/conll2003"
    output = "tag"
    name = "conll2003"
    files = {"train": "train.txt", "val": "valid.txt", "test": "test.txt"}
    hub_splits = {"train": "train", "val": "validation", "test": "test"}

    @property
    def n_classes(self) -> int:
        return len(self.tags)

    @property
    def tags(self) -> list[str]:
        return self.loaded.meta["tags"]

    def _vocab_settings(self) -> dict:
        return {"min_freq": self.min_freq, "lowercase": self.lowercase, "digits_to_zero": self.digits_to_zero,
                "shape_unk": self.shape_unk}

    def _read_local(self, paths: dict[str, Path]) -> dict:
        return {k: read_conll(p) for k, p in paths.items()}

    def _read_hub(self, ds) -> dict:
        names = ds["train"].features["ner_tags"].feature.names  # the hub stores tags as class ids
        return {k: {"tokens": ds[v]["tokens"], "ner_tags": [[names[t] for t in s] for s in ds[v]["ner_tags"]]}
                for k, v in self.hub_splits.items()}

    def _build(self, splits, source: str):
        words = {k: list(ds["tokens"]) for k, ds in splits.items()}
        gold = {k: [iob1_to_iob2(t) for t in ds["ner_tags"]] for k, ds in splits.items()}
        tags = sorted({t for seqs in gold.values() for s in seqs for t in s} - {"O"}, key=lambda t: (t[2:], t))
        tags = ["O", *tags]
        tag_id = {t: i for i, t in enumerate(tags)}
        tok = text.train_tokenizer((" ".join(s) for s in words["train"]), self.min_freq, None, self.lowercase,
                                   False, False, self.digits_to_zero, SHAPE_UNKS if self.shape_unk else ())
        unk = tok.convert_tokens_to_ids(text.UNK)
        shape_id = {s: tok.convert_tokens_to_ids(s) for s in (text.UNK, *SHAPE_UNKS)} if self.shape_unk else {}
        arrays = {}
        for split in splits:
            enc = tok(words[split], is_split_into_words=True, add_special_tokens=False)
            ids, aligned, unknown = [], [], []
            for i, sentence_tags in enumerate(gold[split]):
                row = list(enc["input_ids"][i] or [unk])
                labels, previous, shapes = [], None, []
                for pos, word in enumerate(enc.word_ids(i) or [None]):
                    # The first token of each word carries its label; later ones are not scored.
                    labels.append(tag_id[sentence_tags[word]] if word is not None and word != previous else IGNORE)
                    previous = word
                    shapes.append(shape_id.get(word_shape(words[split][i][word]), unk) if word is not None else unk)
                    if row[pos] == unk:
                        row[pos] = shapes[-1]
                ids.append(row)
                aligned.append(labels)
                unknown.append(shapes)
            if split == "train":  # what each token becomes when the unknown-word dropout hits it
                arrays["train/unknown"] = text.pack(unknown)[0]
            arrays[f"{split}/ids"], arrays[f"{split}/offsets"] = text.pack(ids)
            arrays[f"{split}/targets"] = np.asarray([t for s in aligned for t in s], dtype=np.int64)
            arrays[f"{split}/gold"], arrays[f"{split}/gold_offsets"] = text.pack([[tag_id[t] for t in s] for s in gold[split]])
        meta = {"vocab_size": len(tok), "tags": tags, "source": source,
                "test_words": words["test"], "baseline": _most_frequent_tag_baseline(words, gold)}
        return arrays, meta, tok

    def token_features(self) -> dict[str, np.ndarray]:
        """With `case_feature`: every vocabulary id's case class, so rare and unseen words share what
        their case says (the vocabulary is case-preserving, but a word seen once has a poor embedding)."""
        if not self.case_feature:
            return {}
        table = np.zeros(self.vocab_size, dtype=np.int64)
        for token, i in self.loaded.tokenizer.get_vocab().items():
            table[i] = case_class(token)
        return {"case": table}

    def _targets(self, split: str) -> list[np.ndarray]:
        flat, off = self.loaded.arrays[f"{split}/targets"], self.loaded.arrays[f"{split}/offsets"]
        return [flat[off[i]:off[i + 1]] for i in range(len(off) - 1)]

    def gold(self, split: str) -> list[list[str]]:
        flat, off, tags = self.loaded.arrays[f"{split}/gold"], self.loaded.arrays[f"{split}/gold_offsets"], self.tags
        return [[tags[t] for t in flat[off[i]:off[i + 1]]] for i in range(len(off) - 1)]

    def train_batches(self, length: int, seed: int, batch_size: int, device):
        seqs, targets = self.loaded.seqs("train"), self._targets("train")
        counts = np.bincount(self.loaded.arrays["train/ids"], minlength=self.vocab_size)
        rare = counts == 1
        unknown = self.loaded.arrays["train/unknown"]
        off = self.loaded.arrays["train/offsets"]
        noise = np.random.default_rng(seed)

        def make(idx):
            rows = [seqs[i] for i in idx]
            if self.unk_dropout > 0:  # teach the model what to do with unseen words
                rows = [np.where(rare[s] & (noise.random(len(s)) < self.unk_dropout), unknown[off[i]:off[i + 1]], s)
                        for s, i in zip(rows, idx)]
            return text.make_batch(rows, [targets[i] for i in idx], length, self.keep, device=device)

        return text.shuffled_batches(len(seqs), seed, batch_size, make)

    def eval_set(self, split: str, length: int, seed: int, n: int, device) -> Batch:
        """The whole split (`seed` and `n` are ignored), longest first."""
        seqs, targets = self.loaded.seqs(split), self._targets(split)
        idx = np.argsort(-np.minimum(self.loaded.lengths(split), length), kind="stable")
        return text.make_batch([seqs[i] for i in idx], [targets[i] for i in idx], length, self.keep,
                               self._slices(split, idx), device, cls=text.EvalBatch)

    @torch.no_grad()
    def rescore(self, frame: pd.DataFrame, batches: list[Batch], model) -> pd.DataFrame:
        """Add each sentence's gold and predicted IOB2 tags per word, for entity-level scoring.

        Words cut off by the length knob are predicted 'O', so clipping never flatters the score.
        """
        tags, pred = self.tags, []
        for batch in batches:
            output, _ = model(batch.inputs, batch.lengths)
            best = output.argmax(-1).cpu()
            scored = (batch.targets != IGNORE).cpu()
            pred.extend([[tags[t] for t in best[r][scored[r]].tolist()] for r in range(batch.size)])
        gold_by_split = {code: self.gold(split) for split, code in SPLIT_CODE.items() if code in set(frame["split"])}
        gold = [gold_by_split[s][e] for s, e in zip(frame["split"], frame["example"])]
        frame = frame.copy()
        frame["gold_tags"] = gold
        frame["pred_tags"] = [p + ["O"] * (len(g) - len(p)) for p, g in zip(pred, gold)]
        return frame

    def baseline(self, length: int) -> dict[str, float]:
        try:
            return dict(self.loaded.meta["baseline"])
        except UserError:
            return {}

    def baselines(self, length: int, test: list[Batch] | Batch, metrics: Sequence[str]) -> dict[str, dict[str, float]]:
        """The most frequent tag per word is scored on whole words when the data loads (seqeval, the
        same scorer as the models'), on the whole test split, which is the run's test set."""
        named = {"most frequent tag per word": dict(self.loaded.meta["baseline"])}
        return {**super().baselines(length, test, metrics),
                **{name: {m: v[m] for m in metrics if m in v} for name, v in named.items()}}

    def describe(self, length: int) -> dict:
        return {**self._describe_common(length), "tags": self.tags, "tag_scheme": "IOB2 (converted from IOB1)"}

    def save_predictions(self, frame: pd.DataFrame, stem: Path) -> Path:
        """Test predictions as `<run_id>.predictions.conll` (`word gold predicted`), for conlleval."""
        path = Path(f"{stem}.predictions.conll")
        rows = frame.sort_values("example")
        words = self.loaded.meta["test_words"]
        write_predictions(path, [words[e] for e in rows["example"]], list(rows["gold_tags"]), list(rows["pred_tags"]))
        return path


def _most_frequent_tag_baseline(words: dict, gold: dict) -> dict[str, float]:
    """Tag each test word with its most frequent train tag ('O' when unseen); entity F1 on test."""
    counts: dict[str, Counter] = {}
    for sentence, tags in zip(words["train"], gold["train"]):
        for w, t in zip(sentence, tags):
            counts.setdefault(w, Counter())[t] += 1
    best = {w: c.most_common(1)[0][0] for w, c in counts.items()}
    pred = [[best.get(w, "O") for w in s] for s in words["test"]]
    from ..metrics import entity_scores

    return entity_scores(gold["test"], pred)
