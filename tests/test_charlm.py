"""Character-level language modelling (tinyshakespeare) on a generated fixture text: the fixed split,
bits per character, the per-position loss, the report section, a tiny run of every causal model,
and the one-line errors (bilstm refused, data missing). No test needs the real data or the network.
"""
import math
import random
from collections import Counter

import numpy as np
import pytest

from seqbench.status import FINISHED
import torch

from seqbench.data import charlm, text
from seqbench.data.batch import Batch
from seqbench.data.charlm import per_position_summary, split_bounds
from seqbench.metrics import METRICS
from seqbench.models import MODELS
from seqbench.report.decisions import decide
from seqbench.report.lm import lm_section
from seqbench.runner import execute
from seqbench.suite import Suite, plan
from seqbench.tasks import get_task
from seqbench.train import _example_stats

from conftest import TINY, run_cli

LENGTH = 16
WORDS = ["to", "be", "or", "not", "that", "is", "the", "question", "whether", "tis", "nobler", "in", "mind"]


def fixture_text(n: int = 6000) -> str:
    """Seeded pseudo-verse; it ends with characters ('Z', '#') the training split never sees."""
    rng = random.Random(0)
    lines = []
    while sum(len(x) + 1 for x in lines) < n:
        speaker = rng.choice(["HAMLET", "OPHELIA"])
        lines.append(f"{speaker}:\n" + " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 9))).capitalize() + ".")
    return "\n".join(lines) + "\nZ#\n"


@pytest.fixture
def data(tmp_path, monkeypatch):
    folder = tmp_path / "data" / "tinyshakespeare"
    folder.mkdir(parents=True)
    raw = fixture_text()
    (folder / "input.txt").write_text(raw)
    monkeypatch.setenv("SEQBENCH_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("SEQBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    text.set_data_dir(None)
    charlm._MEMO.clear()
    yield raw
    charlm._MEMO.clear()


def source():
    return get_task("tinyshakespeare").source


# ---------------------------------------------------------------- the split and the vocabulary

def test_split_bounds_partition_the_text():
    assert split_bounds(100, 0.9) == {"train": (0, 90), "val": (90, 95), "test": (95, 100)}
    assert split_bounds(1_115_394, 0.9) == {"train": (0, 1_003_854), "val": (1_003_854, 1_059_624),
                                            "test": (1_059_624, 1_115_394)}  # the hub's split sizes


def test_split_is_disjoint_fixed_and_covers_the_text(data):
    src = source()
    corpus = src.corpus
    n = len(data)
    (t0, t1), (v0, v1), (s0, s1) = corpus.bounds["train"], corpus.bounds["val"], corpus.bounds["test"]
    assert (t0, t1, v1, s1) == (0, v0, s0, n) and t1 == int(0.9 * n)  # contiguous, disjoint, in order
    for split, (a, b) in corpus.bounds.items():
        assert torch.equal(corpus.splits[split], corpus.encode(data[a:b]))
    assert corpus.chars == "".join(sorted(set(data[t0:t1])))  # vocabulary: train characters only
    assert "Z" not in corpus.chars and int(corpus.splits["test"][-2]) == 0  # unseen -> unknown id 0
    assert src.vocab_size == len(corpus.chars) + 1 == src.n_classes
    charlm._MEMO.clear()  # a fresh load gives the same split
    again = source().corpus
    assert all(torch.equal(again.splits[s], corpus.splits[s]) for s in ("train", "val", "test"))


def test_eval_windows_are_non_overlapping_and_inside_their_split(data):
    src = source()
    for split in ("val", "test"):
        ids = src.corpus.splits[split]
        batch = src.eval_set(split, LENGTH, 0, 10_000, "cpu")
        assert (batch.lengths == LENGTH).all() and (batch.targets >= 0).all()  # every position scored
        assert torch.equal(batch.inputs[:, 1:], batch.targets[:, :-1])
        flat = torch.cat([batch.inputs, batch.targets[:, -1:]], 1)
        starts = src.window_starts(split, LENGTH, 10_000)
        assert np.all(np.diff(starts) == LENGTH) and starts[-1] + LENGTH < len(ids)
        assert len(starts) == (len(ids) - LENGTH - 1) // LENGTH + 1  # every full window
        for row, s in zip(flat, starts):
            assert torch.equal(row, ids[s: s + LENGTH + 1])
        capped = src.eval_set(split, LENGTH, 0, 3, "cpu")  # the cap keeps 3 evenly spread windows
        assert capped.size == 3 and torch.equal(capped.inputs[0], batch.inputs[0])


def test_train_windows_come_from_the_train_split(data):
    src = source()
    train = src.corpus.decode(src.corpus.splits["train"].tolist())
    stream = src.train_batches(LENGTH, seed=1, batch_size=4, device="cpu")
    for _ in range(3):
        batch = next(stream)
        assert batch.inputs.shape == (4, LENGTH) and torch.equal(batch.inputs[:, 1:], batch.targets[:, :-1])
        for inp, tgt in zip(batch.inputs, batch.targets):
            assert src.corpus.decode(inp.tolist() + tgt[-1:].tolist()) in train
    first = next(src.train_batches(LENGTH, 1, 4, "cpu"))
    assert torch.equal(first.inputs, next(src.train_batches(LENGTH, 1, 4, "cpu")).inputs)  # seeded


def test_baseline_is_the_unigram_entropy_of_train_in_bits(data):
    src = source()
    a, b = src.corpus.bounds["train"]
    counts = np.unique(list(data[a:b]), return_counts=True)[1]
    p = counts / counts.sum()
    assert src.baseline(LENGTH)["bpc"] == pytest.approx(float(-(p * np.log2(p)).sum()), rel=1e-12)


def test_unigram_strategy_is_scored_on_the_test_text(data):
    """The training characters' add-one-smoothed frequencies (a test character train lacks must
    cost a finite amount), in bits, over the test windows' targets."""
    src, task = source(), get_task("tinyshakespeare")
    a, b = src.corpus.bounds["train"]
    counts = Counter(data[a:b])
    total, size = b - a, len(counts) + 1  # + 1: the id of every unseen character
    start = src.corpus.bounds["test"][0]
    targets = [data[start + s + 1: start + s + 1 + LENGTH] for s in src.window_starts("test", LENGTH, 1000)]
    bits = [-math.log2((counts[c] + 1) / (total + size)) for window in targets for c in window]
    scores = task.baselines(LENGTH, task.eval_set("test", LENGTH, 0, 1000, "cpu").split(7))
    assert list(scores) == ["chance", "unigram"]
    assert scores["unigram"]["bpc"] == pytest.approx(sum(bits) / len(bits), rel=1e-12)
    unseen = torch.zeros((1, 2), dtype=torch.long)  # id 0: a character train lacks
    assert (src.unigram(Batch(unseen, unseen, torch.tensor([2])))[..., 0] > 0).all()
    top = counts.most_common(1)[0][0]
    assert scores["unigram"]["accuracy"] == pytest.approx(sum(c == top for w in targets for c in w) / len(bits))


# ---------------------------------------------------------------- bits per character

def test_bpc_is_cross_entropy_in_nats_over_ln2_hand_computed():
    # Two positions, three classes. Uniform logits: p = 1/3. Logits (ln 2, 0, 0): p(class 0) = 2/4.
    output = torch.tensor([[[0.0, 0.0, 0.0], [math.log(2), 0.0, 0.0]]])  # (B=1, T=2, V=3)
    batch = Batch(torch.zeros(1, 2, dtype=torch.long), torch.tensor([[0, 0]]), torch.tensor([2]))
    import pandas as pd

    frame = pd.DataFrame({k: v.numpy() for k, v in _example_stats("tag", output, batch, None).items()})
    nats = (math.log(3) + math.log(2)) / 2
    assert METRICS.get("xent")(frame) == pytest.approx(nats, rel=1e-6)
    assert METRICS.get("bpc")(frame) == pytest.approx(nats / math.log(2), rel=1e-6)
    assert METRICS.get("bpc")(frame) == pytest.approx((math.log2(3) + 1) / 2, rel=1e-6)
    assert not METRICS.get("bpc").higher_is_better


# ---------------------------------------------------------------- per-position loss

class Constant(torch.nn.Module):
    """Ignores its input: the same logits at every position."""

    def __init__(self, logits: torch.Tensor):
        super().__init__()
        self.logits = logits

    def forward(self, inputs, lengths, targets=None):
        return self.logits.expand(*inputs.shape, -1), None


def test_per_position_loss_of_a_constant_predictor_is_flat(data):
    src = source()
    batches = src.eval_set("test", LENGTH, 0, 10_000, "cpu").split(7)
    losses = src.per_position_loss(Constant(torch.zeros(src.vocab_size)), batches)
    assert losses.shape == (LENGTH,)
    np.testing.assert_allclose(losses, math.log(src.vocab_size), rtol=1e-6)
    assert per_position_summary(losses)["effective_context"] == 1
    sample = src.generate(Constant(torch.zeros(src.vocab_size)), LENGTH, "cpu")
    assert len(sample) == 200 and sample == src.generate(Constant(torch.zeros(src.vocab_size)), LENGTH, "cpu")


def test_effective_context_worked_example():
    curve = [3.0, 2.0, 1.5, 1.01, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    assert per_position_summary(curve) == {"final_loss": 1.0, "effective_context": 4, "tolerance": 0.01}
    assert per_position_summary([2.0] * 5 + [1.0] * 5)["effective_context"] == 6
    assert per_position_summary([1.0, 0.98, 1.0, 1.0])["effective_context"] == 1  # dips below are noise


# ---------------------------------------------------------------- end to end

LM_MODELS = [m for m in ["rnn", "lstm", "gru", "bilstm", "transformer"] if m in MODELS]


@pytest.mark.parametrize("model", [m for m in LM_MODELS if m != "bilstm"])
def test_tiny_run_of_every_causal_model(data, results, model):
    task = get_task("tinyshakespeare")
    assert "bilstm" in task.skip_models
    cfg = task.resolve(model, LENGTH, 0, {"train": dict(TINY["train"]), "model": dict(TINY["model"])})
    record, path = execute(cfg, results)
    assert path.exists() and record.status in FINISHED
    m = record.metrics
    assert m["test/bpc"] == pytest.approx(m["test/xent"] / math.log(2), rel=1e-9) and math.isfinite(m["test/bpc"])
    windows = len(task.source.window_starts("test", LENGTH, TINY["train"]["test_examples"]))
    assert record.baseline["bpc"] > 0 and record.task.test_examples == windows
    assert list(record.baselines) == ["chance", "unigram"] and record.baselines["unigram"]["bpc"] > 0
    assert record.task.vocab_size == task.vocab_size and record.task.source.startswith("local:")
    lm = record.lm
    assert len(lm.per_position_loss) == LENGTH and 1 <= lm.effective_context <= LENGTH
    assert lm.windows > 0 and len(lm.sample["text"]) == 200 and lm.sample["temperature"] == 0.8
    if model == "transformer":
        assert record.model_info.causal and cfg.model.causal
    section = lm_section(decide([record]), results / "report")
    assert f"| {model} |" in section.markdown and "unigram entropy of the training text" in section.markdown
    assert (results / "report" / section.figures[0]).exists() and "<pre>" in section.html


def test_causal_models_never_read_the_future(data):
    """Changing the last input must not change the output at earlier positions."""
    from seqbench.models.model import build_model

    task = get_task("tinyshakespeare")
    inputs = torch.randint(1, task.vocab_size, (2, LENGTH))
    changed = inputs.clone()
    changed[:, -1] = (changed[:, -1] % (task.vocab_size - 1)) + 1
    lengths = torch.full((2,), LENGTH)
    for model in [m for m in LM_MODELS if m != "bilstm"]:
        net = build_model(task.resolve(model, LENGTH, 0, {"model": dict(TINY["model"])}).model, task, seed=0).eval()
        with torch.no_grad():
            a, _ = net(inputs, lengths)
            b, _ = net(changed, lengths)
        torch.testing.assert_close(a[:, :-1], b[:, :-1], msg=model)


def test_lm_section_is_empty_without_lm_runs(tmp_path):
    assert lm_section(decide([]), tmp_path) is None


def test_suite_skips_bilstm_with_a_note(data):
    suite = Suite(name="t", tasks={"tinyshakespeare": {"lengths": [LENGTH]}}, models=("lstm", "bilstm"))
    found = plan(suite)
    runs, notes = found.runs, found.notes
    assert [r.model.name for r in runs] == ["lstm"]
    assert len(notes) == 1 and notes[0].startswith("tinyshakespeare/bilstm skipped:")


# ---------------------------------------------------------------- one-line errors (exit 2)

@pytest.mark.slow
def test_cli_refuses_bilstm_in_one_line(data, tmp_path):
    proc = run_cli("run", "--task", "tinyshakespeare", "--model", "bilstm", "--length", str(LENGTH),
                   "--results", str(tmp_path / "r"))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "bilstm" in lines[0] and "cannot run task 'tinyshakespeare'" in lines[0]


@pytest.mark.slow
def test_missing_data_exits_2_in_one_line(tmp_path):
    empty = tmp_path / "nodata"
    empty.mkdir()
    proc = run_cli("run", "--task", "tinyshakespeare", "--model", "lstm", "--length", str(LENGTH),
                   "--results", str(tmp_path / "r"),
                   env={"SEQBENCH_DATA": str(empty), "HF_HUB_OFFLINE": "1", "SEQBENCH_CACHE": str(tmp_path / "c")})
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert str(empty / "tinyshakespeare") in lines[0] and "karpathy/tiny_shakespeare" in lines[0]
