"""Real-data tasks (SST-2, IMDB, CoNLL-2003) on tiny fixture files: loaders, vocabulary, cache, hub path,
errors, buckets, end-to-end runs, and predictions files rescored by an independent conlleval-style scorer.

No test needs the real data or the network: fixtures are written here in the standard formats.
"""
import csv
import math
import os
import random
from collections import Counter

import datasets
import numpy as np
import pytest

from seqbench.status import FINISHED

from seqbench.data import real, text
from seqbench.data.conll import iob1_to_iob2, read_conll, read_predictions
from seqbench.errors import UserError
from seqbench.metrics import METRICS
from seqbench.models import MODELS
from seqbench.runner import execute
from seqbench.tasks import get_task

from conftest import TINY, run_cli

REAL = ["sst2", "imdb", "conll2003"]

CONLL_DOC = """-DOCSTART- -X- O O

EU NNP I-NP I-ORG
rejects VBZ I-VP O
German JJ I-NP I-MISC
call NN I-NP O
to TO I-VP O
boycott VB I-VP O
British JJ I-NP I-MISC
lamb NN I-NP O
. . O O

Peter NNP I-NP I-PER
Blackburn NNP I-NP I-PER
met VBD I-VP O
Paul NNP I-NP I-PER
Smith NNP I-NP B-PER
in IN I-PP O
Brussels NNP I-NP I-LOC
1996-08-22 CD I-NP O

"""
POS = ["a charming and affecting journey", "the best film of the year", "it 's a delight", "funny , warm and wise"]
NEG = ["a dull , tedious mess", "the worst film of the year", "it 's a bore", "flat and lifeless"]


def write_fixtures(root, n=24):
    """Small files in the three standard formats; `n` examples per split."""
    (root / "conll2003").mkdir(parents=True)
    for name in ("train", "valid", "test"):
        (root / "conll2003" / f"{name}.txt").write_text(CONLL_DOC * (n // 2))
    (root / "sst2").mkdir()
    for name in ("train", "dev", "test"):
        lines = ["sentence\tlabel"] + [f"{POS[i % 4]}\t1" if i % 2 else f"{NEG[i % 4]}\t0" for i in range(n)]
        (root / "sst2" / f"{name}.tsv").write_text("\n".join(lines) + "\n")
    (root / "imdb").mkdir()
    for name in ("train", "test"):
        with open(root / "imdb" / f"{name}.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["text", "label", "rating", "path"])
            for i in range(n):
                body = (POS if i % 2 else NEG)[i % 4]
                text_ = f'"{body}," she said.<br /><br />{body} ' * (1 + i % 5)
                w.writerow([text_, i % 2, 8 if i % 2 else 2, f"{name}/{i}.txt"])
    return root


@pytest.fixture
def data(tmp_path, monkeypatch):
    root = write_fixtures(tmp_path / "data")
    monkeypatch.setenv("SEQBENCH_DATA", str(root))
    monkeypatch.setenv("SEQBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    text._loaded.clear()
    real._MEMO.clear()
    yield root
    text._loaded.clear()
    real._MEMO.clear()


# ---------------------------------------------------------------- formats and labels

def test_iob1_to_iob2():
    assert iob1_to_iob2(["I-PER", "I-PER", "O", "I-LOC", "B-LOC", "I-LOC", "I-ORG"]) == \
        ["B-PER", "I-PER", "O", "B-LOC", "B-LOC", "I-LOC", "B-ORG"]
    iob2 = ["B-PER", "I-PER", "O", "B-LOC", "B-LOC"]
    assert iob1_to_iob2(iob2) == iob2


def test_conll_reader_skips_docstart(data):
    parsed = read_conll(data / "conll2003" / "train.txt")
    assert len(parsed["tokens"]) == 24 and parsed["tokens"][0][:2] == ["EU", "rejects"]
    assert parsed["ner_tags"][1][3:5] == ["I-PER", "B-PER"]


@pytest.mark.parametrize("name, sizes", [("sst2", (24, 24, 24)), ("imdb", (22, 2, 24)), ("conll2003", (24, 24, 24))])
def test_loaders_read_every_split(data, name, sizes):
    source = get_task(name).source
    loaded = source.loaded
    assert tuple(len(loaded.lengths(s)) for s in ("train", "val", "test")) == sizes
    assert loaded.meta["source"] == f"local:{data / name}"
    from transformers import PreTrainedTokenizerFast
    assert isinstance(loaded.tokenizer, PreTrainedTokenizerFast)
    assert loaded.tokenizer.convert_tokens_to_ids(["[PAD]", "[UNK]"]) == [0, 1]


def test_conll_labels_align_with_words(data):
    source = get_task("conll2003").source
    batch = source.eval_set("test", 128, 0, 0, "cpu")
    row = int(np.flatnonzero(batch.slices["example"].numpy() == 1)[0])  # the 'Peter Blackburn' sentence
    tags = [source.tags[t] for t in batch.targets[row, : batch.lengths[row]].tolist()]
    assert tags == ["B-PER", "I-PER", "O", "B-PER", "B-PER", "O", "B-LOC", "O"]
    words = source.loaded.meta["test_words"][1]
    tok = source.loaded.tokenizer
    assert tok.convert_ids_to_tokens(batch.inputs[row, :3].tolist()) == ["Peter", "Blackburn", "met"]
    assert words[-1] == "1996-08-22" and tok.convert_ids_to_tokens(int(batch.inputs[row, 7])) == "0000-00-00"


def test_imdb_strips_html_and_records_truncation(data):
    source = get_task("imdb").source
    tok = source.loaded.tokenizer
    assert "<" not in tok.get_vocab() and "br" not in tok.get_vocab()
    assert tok.tokenize('"The best," she said.<br /><br />') == ['"', "the", "best", ',"', "she", "said", "."]
    info = source.describe(10)
    assert info["max_tokens"] == 10 and 0 < info["truncated_share"]["test"] <= 1
    assert info["val_size"] == 2 and info["split_seed"] == 0 and len(info["val_rows_sha256"]) == 64


def test_vocabulary_min_freq_maps_rare_words_to_unk():
    tok = text.train_tokenizer(iter(["a a b", "a c c"]), min_freq=2, max_vocab=None, lowercase=True,
                               split_punct=False, strip_html=False)
    vocab = tok.get_vocab()
    assert set(vocab) == {"[PAD]", "[UNK]", "a", "c"}
    assert tok("A b c", add_special_tokens=False)["input_ids"] == [vocab["a"], vocab["[UNK]"], vocab["c"]]


def test_length_buckets():
    edges = [10, 20, 30]
    assert text.bucket_of(np.array([1, 9, 10, 19, 20, 29, 30, 500]), edges).tolist() == [0, 0, 10, 10, 20, 20, 30, 30]


def test_eval_batches_are_sorted_and_trimmed(data):
    source = get_task("imdb").source
    batches = source.eval_set("test", 1000, 0, 0, "cpu").split(5)
    assert sum(b.size for b in batches) == 24
    assert all(b.inputs.shape[1] == int(b.lengths.max()) for b in batches)
    assert [int(b.lengths.max()) for b in batches] == sorted((int(b.lengths.max()) for b in batches), reverse=True)


# ---------------------------------------------------------------- cache, missing data, hub

def test_second_load_hits_the_cache(data, tmp_path):
    first = get_task("conll2003").source.loaded
    assert not first.from_cache
    text._loaded.clear()
    real._MEMO.clear()
    second = get_task("conll2003").source.loaded
    assert second.from_cache and second.meta["cache_key"] == first.meta["cache_key"]
    assert all(np.array_equal(first.arrays[k], second.arrays[k]) for k in first.arrays)
    # A changed data file is a new cache entry.
    with open(data / "conll2003" / "test.txt", "a") as f:
        f.write("Bonn NNP I-NP I-LOC\n\n")
    real._MEMO.clear()
    third = get_task("conll2003").source.loaded
    assert not third.from_cache and third.meta["cache_key"] != first.meta["cache_key"]


def test_perf_times_first_and_cached_loads_and_leaves_the_cache_alone(data, tmp_path, monkeypatch):
    from seqbench.measure.data_cost import real_data_loads
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    rows = real_data_loads(("sst2", "conll2003"))
    assert [r["task"] for r in rows] == ["sst2", "conll2003"]
    for r in rows:
        assert r["first_s"] > 0 and r["cached_s"] > 0 and r["second_from_cache"] is True
    assert os.environ["SEQBENCH_CACHE"] == str(tmp_path / "cache")  # restored
    assert not (tmp_path / "cache").exists()  # measured in a temporary cache, not the user's
    monkeypatch.setenv("SEQBENCH_DATA", str(tmp_path / "empty"))
    skipped, = real_data_loads(("imdb",))
    assert "stanfordnlp/imdb" in skipped["skipped"]


@pytest.mark.parametrize("name, hub", [("sst2", "SetFit/sst2"), ("imdb", "stanfordnlp/imdb"), ("conll2003", "eriktks/conll2003")])
def test_missing_data_names_the_directory_and_hub(tmp_path, monkeypatch, name, hub):
    monkeypatch.setenv("SEQBENCH_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("SEQBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    real._MEMO.clear()
    with pytest.raises(UserError) as err:
        get_task(name).source.loaded
    message = str(err.value)
    assert str(tmp_path / "empty" / name) in message and hub in message and "\n" not in message


@pytest.mark.slow
def test_missing_data_via_cli_exits_2_with_one_line(tmp_path):
    env = {"SEQBENCH_DATA": str(tmp_path), "SEQBENCH_CACHE": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1"}
    proc = run_cli("run", "--task", "sst2", "--model", "lstm", "--results", str(tmp_path / "results"), env=env)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and str(tmp_path / "sst2") in lines[0] and "SetFit/sst2" in lines[0]


def _hub_sets():
    def sentiment(n):
        return datasets.Dataset.from_dict({"text": [(POS if i % 2 else NEG)[i % 4] for i in range(n)],
                                           "label": [i % 2 for i in range(n)]})
    names = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]
    feats = datasets.Features({"tokens": datasets.Sequence(datasets.Value("string")),
                               "ner_tags": datasets.Sequence(datasets.ClassLabel(names=names))})
    ner = datasets.Dataset.from_dict({"tokens": [["Paul", "Smith", "in", "Bonn"]] * 6,
                                      "ner_tags": [[1, 2, 0, 5]] * 6}, features=feats)
    return {"SetFit/sst2": datasets.DatasetDict(train=sentiment(10), validation=sentiment(4), test=sentiment(6)),
            "stanfordnlp/imdb": datasets.DatasetDict(train=sentiment(20), test=sentiment(6)),
            "eriktks/conll2003": datasets.DatasetDict(train=ner, validation=ner, test=ner)}


@pytest.mark.parametrize("name, hub, sizes", [("sst2", "SetFit/sst2", (10, 4, 6)), ("imdb", "stanfordnlp/imdb", (18, 2, 6)),
                                              ("conll2003", "eriktks/conll2003", (6, 6, 6))])
def test_hub_path_with_load_dataset_mocked(tmp_path, monkeypatch, name, hub, sizes):
    monkeypatch.setenv("SEQBENCH_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("SEQBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(text, "hub_reachable", lambda timeout=3.0: True)
    asked = []
    sets = _hub_sets()
    monkeypatch.setattr(datasets, "load_dataset", lambda path, **kw: asked.append(path) or sets[path])
    real._MEMO.clear()
    source = get_task(name).source
    assert source.loaded.meta["source"] == f"hub:{hub}" and asked == [hub]
    assert tuple(len(source.loaded.lengths(s)) for s in ("train", "val", "test")) == sizes
    if name == "conll2003":
        assert source.gold("test")[0] == ["B-PER", "I-PER", "O", "B-LOC"]
    # A failing hub becomes the same one-line UserError.
    real._MEMO.clear()
    monkeypatch.setenv("SEQBENCH_CACHE", str(tmp_path / "cache2"))
    monkeypatch.setattr(datasets, "load_dataset", lambda path, **kw: (_ for _ in ()).throw(ConnectionError("down")))
    with pytest.raises(UserError, match=f"{hub}.*failed to load: ConnectionError"):
        get_task(name).source.loaded


# ---------------------------------------------------------------- end to end

def tiny_run(task, model, results, **train):
    t = get_task(task)
    overrides = {"train": {**TINY["train"], **train}, "model": dict(TINY["model"])}
    return execute(t.resolve(model, t.lengths[0], 0, overrides), results)


@pytest.mark.parametrize("model", MODELS.names())
@pytest.mark.parametrize("task", REAL)
def test_every_real_task_model_pair_runs(data, task, model, results):
    record, path = tiny_run(task, model, results)
    t = get_task(task)
    assert record.status in FINISHED and record.task.test_examples == 24
    for name in t.metrics:
        assert math.isfinite(record.metrics[f"test/{name}"]), name
    buckets = [row for row in record.by_slice if row["slice"] == "slice_length_bucket"]
    assert buckets and sum(row["count"] for row in buckets) == 24
    assert record.task.extra["max_tokens"] == t.lengths[0] and "truncated_share" in record.task.extra
    assert (path.parent / record.task.predictions_file).exists()
    assert list(record.baselines) == ["chance", NAMED_BASELINE[task]]
    assert record.baselines["chance"] == {m: v for m, v in record.baseline.items() if m in t.metrics}


# ---------------------------------------------------------------- trivial strategies

NAMED_BASELINE = {"sst2": "majority class", "imdb": "majority class", "conll2003": "most frequent tag per word"}


@pytest.mark.parametrize("task", ["sst2", "imdb"])
def test_majority_class_is_the_train_majority_scored_on_test(data, task):
    from sklearn.metrics import f1_score

    t = get_task(task)
    train, test = t.source.labels("train"), t.source.labels("test")
    counts = np.bincount(train, minlength=2)
    scores = t.baselines(t.lengths[0], t.eval_set("test", t.lengths[0], 0, 0, "cpu").split(5))["majority class"]
    majorities = np.flatnonzero(counts == counts.max())  # a tie scores the mean over the tied labels
    assert scores["accuracy"] == pytest.approx(np.mean([np.mean(test == m) for m in majorities]), rel=1e-12)
    assert scores["macro_f1"] == pytest.approx(f1_score(test, np.full_like(test, majorities[0]), average="macro"))


def test_most_frequent_tag_per_word_is_scored_like_conlleval(data):
    words = read_conll(data / "conll2003" / "train.txt")
    counts = {}
    for sentence, tags in zip(words["tokens"], words["ner_tags"]):
        for w, tag in zip(sentence, iob1_to_iob2(tags)):
            counts.setdefault(w, Counter())[tag] += 1
    test = read_conll(data / "conll2003" / "test.txt")
    gold = [iob1_to_iob2(tags) for tags in test["ner_tags"]]
    pred = [[counts[w].most_common(1)[0][0] if w in counts else "O" for w in s] for s in test["tokens"]]
    t = get_task("conll2003")
    scores = t.baselines(t.lengths[0], t.eval_set("test", t.lengths[0], 0, 0, "cpu"))["most frequent tag per word"]
    assert scores["entity_f1"] == pytest.approx(conlleval_f1(gold, pred), abs=1e-12)
    assert list(scores)[0] == "entity_f1" and set(scores) <= set(t.metrics)


def conlleval_chunks(tags):
    """Chunks as conlleval finds them: (start, end, type); an I- after O or another type starts one."""
    chunks, start, kind = [], None, None
    for i, tag in enumerate(list(tags) + ["O"]):
        prefix, _, t = tag.partition("-")
        ends = start is not None and (prefix in ("O", "B") or t != kind)
        if ends:
            chunks.append((start, i, kind))
            start = None
        if prefix in ("B", "I") and start is None:
            start, kind = i, t
    return set(chunks)


def conlleval_f1(gold_seqs, pred_seqs):
    tp = n_gold = n_pred = 0
    for s, (g, p) in enumerate(zip(gold_seqs, pred_seqs)):
        gc, pc = conlleval_chunks(g), conlleval_chunks(p)
        tp, n_gold, n_pred = tp + len(gc & pc), n_gold + len(gc), n_pred + len(pc)
    return 2 * tp / (n_gold + n_pred) if n_gold + n_pred else 0.0


def test_independent_scorer_agrees_with_entity_f1_on_random_tags():
    import pandas as pd
    rng = random.Random(0)
    tags = ["O", "O", "O", "B-PER", "I-PER", "I-LOC", "B-LOC", "I-ORG", "I-MISC"]
    gold = [[rng.choice(tags) for _ in range(rng.randint(1, 12))] for _ in range(300)]
    pred = [[t if rng.random() < 0.7 else rng.choice(tags) for t in g] for g in gold]
    frame = pd.DataFrame({"gold_tags": gold, "pred_tags": pred})
    assert METRICS.get("entity_f1")(frame) == pytest.approx(conlleval_f1(gold, pred), abs=1e-12)


def test_predictions_files_rescore_to_the_reported_metrics(data, results):
    record, path = tiny_run("conll2003", "bilstm", results, steps=60, eval_every=30, lr=1e-2)
    conll = path.parent / f"{record.run_id}.predictions.conll"
    gold, pred = read_predictions(conll)
    assert len(gold) == record.task.test_examples == 24
    assert gold[1] == ["B-PER", "I-PER", "O", "B-PER", "B-PER", "O", "B-LOC", "O"]
    assert record.metrics["test/entity_f1"] > 0  # something was learned, so the check below has teeth
    assert conlleval_f1(gold, pred) == pytest.approx(record.metrics["test/entity_f1"], abs=1e-9)

    record, path = tiny_run("sst2", "lstm", results)
    rows = list(csv.DictReader(open(path.parent / f"{record.run_id}.predictions.tsv"), delimiter="\t"))
    assert len(rows) == 24 and [int(r["index"]) for r in rows] == list(range(24))
    accuracy = np.mean([r["label"] == r["pred"] for r in rows])
    assert accuracy == pytest.approx(record.metrics["test/accuracy"])


def test_unseen_words_map_to_shape_unknowns(data):
    from seqbench.data.conll import word_shape
    assert [word_shape(w) for w in ["1996", "NATO", "Blackburn", "lamb", "-"]] == \
        ["[UNK_NUM]", "[UNK_UPPER]", "[UNK_CAP]", "[UNK_LOWER]", "[UNK]"]
    source = get_task("conll2003").source
    tok = source.loaded.tokenizer
    with open(data / "conll2003" / "test.txt", "a") as f:  # unseen words, in a fresh cache entry
        f.write("Zorbania NNP I-NP I-LOC\nQQX NNP I-NP I-ORG\nfrobbed VBD I-VP O\n\n")
    real._MEMO.clear()
    source = get_task("conll2003").source
    last = source.loaded.seqs("test")[-1]
    assert source.loaded.tokenizer.convert_ids_to_tokens(last.tolist()) == ["[UNK_CAP]", "[UNK_UPPER]", "[UNK_LOWER]"]


def test_bucketed_training_batches_carry_no_padding(data):
    t = get_task("imdb")
    assert t.source.bucket_batches  # the IMDB task trains on cropped, padding-free batches
    stream = t.train_batches(t.lengths[0], 0, 4, "cpu")
    for _ in range(10):
        batch = next(stream)
        assert not batch.padded and batch.size == 4


def test_case_classes():
    from seqbench.data.conll import CASES, case_class
    words = ["the", "Blackburn", "NATO", "McDonald", "0000", ",", "[UNK_CAP]", "[PAD]", "I", "0000-00-00"]
    assert [CASES[case_class(w)] for w in words] == \
        ["lower", "initcap", "allcaps", "mixed", "numeric", "other", "initcap", "special", "initcap", "numeric"]


def test_case_feature_is_an_added_embedding_outside_the_budget(data):
    """`case_feature` gives every vocabulary id its case class; the model adds a zero-initialised case
    embedding (so it starts as the plain model), counted with the embeddings, not the budget."""
    import dataclasses

    import torch

    from seqbench.data.conll import CASES
    from seqbench.models import build_model, count_params
    task = get_task("conll2003")
    assert task.token_features == {}
    cased = dataclasses.replace(task, source=dataclasses.replace(task.source, case_feature=True))
    table = cased.token_features["case"]
    tok = cased.source.loaded.tokenizer
    assert table.shape == (cased.vocab_size,)
    assert CASES[table[tok.convert_tokens_to_ids("Blackburn")]] == "initcap"
    assert CASES[table[tok.convert_tokens_to_ids("[PAD]")]] == "special"
    cfg = task.resolve("bilstm", 128, 0).model
    plain, with_case = build_model(cfg, task, seed=0), build_model(cfg, cased, seed=0)
    counts, counts_case = count_params(plain), count_params(with_case)
    assert counts["params"] == counts_case["params"]
    assert counts_case["params_embedding"] == counts["params_embedding"] + (table.max() + 1) * task.embed_dim
    batch = task.source.eval_set("test", 128, 0, 0, "cpu")
    with_case.load_state_dict(plain.state_dict(), strict=False)
    plain.eval(), with_case.eval()
    assert torch.equal(plain(batch.inputs, batch.lengths)[0], with_case(batch.inputs, batch.lengths)[0])
    with torch.no_grad():
        with_case.feature_embeds["case"].weight.normal_()
    assert not torch.equal(plain(batch.inputs, batch.lengths)[0], with_case(batch.inputs, batch.lengths)[0])
