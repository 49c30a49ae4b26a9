"""Every generator: shapes, dtypes, and that the target follows exactly from the input."""
import pytest
import torch

from seqbench.data.batch import IGNORE
from seqbench.data.synthetic import GENERATORS, AddingProblem, AssociativeRecall, CopyMemory


def sample(gen_cls, n=32, length=12, seed=0, **kw):
    return gen_cls(**kw).sample(n, length, torch.Generator().manual_seed(seed), "cpu")


import seqbench.data.real  # noqa: F401,E402  (registers the real datasets, which do not sample)

SYNTHETIC = [n for n in GENERATORS.names() if hasattr(GENERATORS.get(n), "sample")]


def test_the_three_synthetic_generators_are_registered():
    assert {"copy", "adding", "recall"} <= set(SYNTHETIC)


@pytest.mark.parametrize("name", SYNTHETIC)
def test_shapes_and_determinism(name):
    source = GENERATORS.get(name)()
    batch = sample(type(source), n=16, length=10)
    T = source.seq_len(10)
    assert batch.inputs.shape[:2] == (16, T)
    assert batch.lengths.tolist() == [T] * 16
    assert not batch.padded
    if source.vocab_size:
        assert batch.inputs.dtype == torch.long
        assert 0 <= batch.inputs.min() and batch.inputs.max() < source.vocab_size
    else:
        assert batch.inputs.dtype == torch.float32 and batch.inputs.shape[2] == source.n_features
    if source.output == "tag":
        assert batch.targets.shape == (16, T) and batch.targets.dtype == torch.long
        scored = batch.targets[batch.targets != IGNORE]
        assert scored.numel() > 0 and 0 <= scored.min() and scored.max() < source.n_classes
    again = sample(type(source), n=16, length=10)
    assert torch.equal(batch.inputs, again.inputs) and torch.equal(batch.targets, again.targets)
    other = sample(type(source), n=16, length=10, seed=1)
    assert not torch.equal(batch.inputs, other.inputs)


def test_copy_target_is_the_first_symbols():
    b = sample(CopyMemory, length=7, n_symbols=8, n_recall=10)
    assert b.inputs.shape[1] == 7 + 20
    assert torch.equal(b.targets[:, -10:], b.inputs[:, :10])
    assert (b.targets[:, :-10] == IGNORE).all()
    assert (b.inputs[:, 10 + 7] == 9).all()  # the marker
    assert (b.inputs[:, 10:17] == 8).all() and (b.inputs[:, 18:] == 8).all()  # blanks
    assert (b.inputs[:, :10] < 8).all()


def test_adding_target_is_the_sum_of_marked_values():
    b = sample(AddingProblem, n=64, length=9)
    values, markers = b.inputs[..., 0], b.inputs[..., 1]
    assert (markers.sum(1) == 2).all()
    half = 9 // 2
    assert (markers[:, :half].sum(1) == 1).all() and (markers[:, half:].sum(1) == 1).all()
    assert torch.allclose(b.targets, (values * markers).sum(1))


def test_recall_target_is_the_value_of_the_queried_key():
    gen = AssociativeRecall(n_pairs=4, n_keys=16, n_values=16)
    b = sample(AssociativeRecall, n=64, length=5, n_pairs=4, n_keys=16, n_values=16)
    P = 4
    for row in range(64):
        seq, tgt = b.inputs[row].tolist(), b.targets[row].tolist()
        pairs = {seq[2 * i]: seq[2 * i + 1] - 16 for i in range(P)}
        assert len(pairs) == P  # keys are distinct
        queries = seq[-P:]
        assert sorted(queries) == sorted(pairs)
        assert tgt[-P:] == [pairs[q] for q in queries]
        assert all(t == IGNORE for t in tgt[:-P])
        assert all(tok == gen.vocab_size - 1 for tok in seq[2 * P: -P])  # blanks in the gap


def test_baselines_match_their_formulas():
    import math
    assert CopyMemory().baseline(30)["xent_per_step"] == pytest.approx(10 * math.log(8) / 50)
    assert AddingProblem().baseline(50)["mse"] == pytest.approx(1 / 6)
    # Predicting 1.0 for the adding target: the empirical MSE is close to 1/6.
    b = sample(AddingProblem, n=20000, length=20)
    assert ((b.targets - 1.0) ** 2).mean().item() == pytest.approx(1 / 6, rel=0.03)
    hits = ((b.targets - 1.0).abs() < 0.04).float().mean().item()
    assert hits == pytest.approx(AddingProblem().baseline(20)["accuracy"], abs=0.01)


def _protocol_members() -> set[str]:
    from seqbench.data.source import DataSource

    return {n for n in vars(DataSource) if not n.startswith("_")} | set(DataSource.__annotations__)


@pytest.mark.parametrize("name", GENERATORS.names())
def test_every_source_has_every_member_of_the_protocol(name):
    """train.py, runner.py and tasks.py call these without getattr; no member may be missing.
    Looked up statically, so a real dataset's data-loading properties are not evaluated."""
    import dataclasses
    import inspect

    source_cls = GENERATORS.get(name)
    missing = []
    for member in sorted(_protocol_members()):
        try:
            inspect.getattr_static(source_cls, member)
        except AttributeError:
            if member not in {f.name for f in dataclasses.fields(source_cls)}:
                missing.append(member)
    assert not missing, f"{name} lacks {missing}"


def test_sampled_sources_draw_their_streams_from_the_seed():
    source = CopyMemory(n_recall=2)
    a = source.eval_set("val", 5, 7, 4, "cpu")
    assert torch.equal(a.inputs, source.sample(4, 5, torch.Generator().manual_seed(7), "cpu").inputs)
    stream = source.train_batches(5, 7, 4, "cpu")
    gen = torch.Generator().manual_seed(7)
    for _ in range(2):
        assert torch.equal(next(stream).inputs, source.sample(4, 5, gen, "cpu").inputs)


def test_optional_members_have_their_defaults():
    source = CopyMemory()
    assert source.tolerance is None and source.n_features is None and source.describe(3) == {}
    assert source.analyse(None, 3, 8, "cpu") is None and source.save_predictions(None, None) is None
    frame = object()
    assert source.rescore(frame, [], None) is frame
    assert AddingProblem().tolerance == 0.04 and AddingProblem().n_features == 2
