"""The Transformer's position encodings: sinusoidal, learned and rotary."""
from types import SimpleNamespace

import pytest
import torch

from seqbench.config import ModelConfig
from seqbench.models import build_model, count_params
from seqbench.models.encoders import POSITIONS, rotate
from seqbench.tasks import get_task

T = 9


def fake_task(output="classify"):
    source = SimpleNamespace(output=output, vocab_size=12, n_classes=5)
    return SimpleNamespace(output=output, vocab_size=12, n_classes=5, input_dim=16, source=source, token_features={})


def make(positions, causal=False, output="classify"):
    torch.manual_seed(0)
    cfg = ModelConfig(name="transformer", params=20000, n_heads=2, positions=positions, causal=causal, max_positions=T)
    return build_model(cfg, fake_task(output)).eval()


@pytest.mark.parametrize("positions", POSITIONS)
def test_padding_never_leaks_and_budget_holds(positions):
    net = make(positions)
    assert abs(count_params(net)["params"] - 20000) <= 1000
    x = torch.randint(0, 12, (2, T))
    lengths = torch.tensor([T, 4])
    y = x.clone()
    y[1, 4:] = torch.randint(0, 12, (T - 4,))
    with torch.no_grad():
        a, b = net.features(x, lengths), net.features(y, lengths)
        assert torch.allclose(a, b, atol=1e-5)
        assert torch.allclose(net.encoder.pool(a, lengths), net.encoder.pool(b, lengths), atol=1e-5)


@pytest.mark.parametrize("positions", POSITIONS)
def test_causal_ignores_the_future(positions):
    net = make(positions, causal=True, output="tag")
    x = torch.randint(0, 12, (1, T))
    y = x.clone()
    y[0, 5:] = (y[0, 5:] + 1) % 12
    lengths = torch.tensor([T])
    with torch.no_grad():
        a, b = net.features(x, lengths), net.features(y, lengths)
    assert torch.allclose(a[0, :5], b[0, :5], atol=1e-5)
    assert not torch.allclose(a[0, 5:], b[0, 5:])


def reversal_commutes(positions: str, causal: bool = False) -> bool:
    """Whether reversing a sequence only reverses the per-position features (no sense of order)."""
    net = make(positions, causal=causal, output="tag")
    x = torch.randint(0, 12, (1, T))
    lengths = torch.tensor([T])
    with torch.no_grad():
        forward = net.features(x, lengths)
        backward = net.features(x.flip(1), lengths).flip(1)
    return torch.allclose(forward, backward, atol=1e-4)


@pytest.mark.parametrize("positions", [p for p in POSITIONS if p != "none"])
def test_order_matters(positions):
    """With positions, reversing a sequence changes the per-position features beyond a permutation."""
    assert not reversal_commutes(positions)


def test_without_positions_only_the_causal_mask_gives_order():
    """`none`: a bidirectional Transformer is blind to order; a causal one is not (its mask counts)."""
    assert reversal_commutes("none")
    assert not reversal_commutes("none", causal=True)


def test_learned_table_sits_outside_the_budget():
    net = make("learned")
    counts = count_params(net)
    table = net.encoder.position_table
    assert table.shape == (T, net.width)
    assert counts["params_embedding"] == net.embed.weight.numel() + table.numel()
    assert 0.5 < float(table.detach().std()) < 1.5  # N(0, 1), not the small init that failed on recall


def test_rotary_depends_only_on_relative_position():
    torch.manual_seed(0)
    q, k = torch.randn(1, 1, 1, 8), torch.randn(1, 1, 1, 8)
    def score(i, j):
        qs = rotate(q.expand(1, 1, 12, 8).contiguous())[0, 0, i]
        ks = rotate(k.expand(1, 1, 12, 8).contiguous())[0, 0, j]
        return float(qs @ ks)
    assert score(3, 1) == pytest.approx(score(7, 5), abs=1e-5)
    assert score(3, 1) != pytest.approx(score(3, 2), abs=1e-3)


def test_learned_positions_are_sized_from_the_task():
    task = get_task("recall")
    cfg = task.resolve("transformer", 8, 0).model  # learned is the default
    assert cfg.positions == "learned" and cfg.max_positions == task.source.seq_len(8)
    assert task.resolve("transformer", 8, 0, {"model": {"positions": "sinusoidal"}}).model.max_positions is None
    assert task.resolve("lstm", 8, 0).model.max_positions is None  # no positions, no table


def test_unknown_positions_is_one_clear_error():
    from seqbench.errors import UserError
    with pytest.raises(UserError, match="unknown positions 'alibi'"):
        make("alibi")
