"""Every model on every output kind: forward/backward, padding never leaks, budgets hold."""
from types import SimpleNamespace

import pytest
import torch

from seqbench.config import ModelConfig
from seqbench.models import MODELS, build_model, count_params
from seqbench.models.heads import HEADS
from seqbench.tasks import get_task, task_names

MODEL_NAMES = MODELS.names()


def fake_task(output: str, vocab=12, classes=5):
    source = SimpleNamespace(output=output, vocab_size=vocab, n_classes=classes)
    return SimpleNamespace(output=output, vocab_size=vocab, n_classes=classes, input_dim=16, source=source,
                           token_features={})


def make(model, output, params=20000, **kw):
    torch.manual_seed(0)
    if model == "transformer":
        kw.setdefault("n_heads", 2)  # finer width steps: a small budget is then met within 5%
        kw.setdefault("max_positions", 16)  # learned positions (the default) need a table size
    return build_model(ModelConfig(name=model, params=params, **kw), fake_task(output)).eval()


@pytest.mark.parametrize("output", HEADS.names())
@pytest.mark.parametrize("model", MODEL_NAMES)
def test_forward_backward(model, output):
    net = make(model, output)
    x = torch.randint(0, 12, (3, 7))
    lengths = torch.tensor([7, 5, 2])
    targets = {"classify": torch.tensor([0, 1, 4]), "regress": torch.randn(3),
               "tag": torch.randint(0, 5, (3, 7))}[output]
    out, loss = net(x, lengths, targets)
    expected = {"classify": (3, 5), "regress": (3,), "tag": (3, 7, 5)}[output]
    assert out.shape == expected
    loss.backward()
    grads = [p.grad for p in net.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert net.encoder(net.embed(x), lengths).shape[:2] == (3, 7)


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_padding_never_leaks(model):
    """Appending padding (with arbitrary token ids) changes neither valid positions nor pooling."""
    net = make(model, "classify")
    torch.manual_seed(1)
    short = torch.randint(0, 12, (2, 6))
    lengths = torch.tensor([6, 4])
    short[1, 4:] = 0
    padded = torch.cat([short, torch.randint(0, 12, (2, 5))], dim=1)
    padded[1, 4:] = torch.randint(0, 12, (7,))  # garbage after the valid part
    with torch.no_grad():
        f_short = net.features(short, lengths)
        f_long = net.features(padded, lengths)
        assert torch.allclose(f_short[0], f_long[0, :6], atol=1e-5)
        assert torch.allclose(f_short[1, :4], f_long[1, :4], atol=1e-5)
        assert (f_long[1, 4:] == 0).all()  # padded positions are zeroed
        p_short = net.encoder.pool(f_short, lengths)
        p_long = net.encoder.pool(f_long, lengths)
        assert torch.allclose(p_short, p_long, atol=1e-5)
        # Alone, without any padding, the short sequence gives the same pooled vector too.
        alone = net.encoder.pool(net.features(short[1:, :4], lengths[1:]), lengths[1:])
        assert torch.allclose(alone, p_long[1:], atol=1e-5)


@pytest.mark.parametrize("task", ["copy", "adding", "recall"])
@pytest.mark.parametrize("model", MODEL_NAMES)
def test_budget_within_five_percent(model, task):
    t = get_task(task)
    cfg = t.resolve(model, t.lengths[0], 0).model
    counts = count_params(build_model(cfg, t))
    assert abs(counts["params"] - cfg.params) <= 0.05 * cfg.params


def test_pooling_rules():
    """Unidirectional: last valid state; bilstm: forward end + backward start; transformer: mean."""
    lengths = torch.tensor([3, 2])
    x = torch.randint(0, 12, (2, 4))
    lstm = make("lstm", "classify")
    feats = lstm.features(x, lengths)
    assert torch.equal(lstm.encoder.pool(feats, lengths), torch.stack([feats[0, 2], feats[1, 1]]))
    bi = make("bilstm", "classify")
    feats = bi.features(x, lengths)
    h = feats.shape[-1] // 2
    expect = torch.cat([torch.stack([feats[0, 2, :h], feats[1, 1, :h]]), feats[:, 0, h:]], dim=-1)
    assert torch.equal(bi.encoder.pool(feats, lengths), expect)
    tr = make("transformer", "classify")
    feats = tr.features(x, lengths)
    expect = torch.stack([feats[0, :3].mean(0), feats[1, :2].mean(0)])
    assert torch.allclose(tr.encoder.pool(feats, lengths), expect, atol=1e-6)


def test_causal_transformer_ignores_the_future():
    net = make("transformer", "tag", causal=True)
    x = torch.randint(0, 12, (1, 8))
    y = x.clone()
    y[0, 5:] = (y[0, 5:] + 1) % 12
    lengths = torch.tensor([8])
    with torch.no_grad():
        a, b = net.features(x, lengths), net.features(y, lengths)
    assert torch.allclose(a[0, :5], b[0, :5], atol=1e-5)
    assert not torch.allclose(a[0, 5:], b[0, 5:])
    bidir = make("transformer", "tag")
    with torch.no_grad():
        assert not torch.allclose(bidir.features(x, lengths)[0, :5], bidir.features(y, lengths)[0, :5])


def test_irnn_identity_init():
    net = make("rnn", "classify", nonlinearity="relu", init="identity")
    w = net.encoder.rnn.weight_hh_l0
    assert torch.equal(w, torch.eye(w.shape[0]))
    assert net.encoder.rnn.nonlinearity == "relu"
    assert (net.encoder.rnn.bias_hh_l0 == 0).all()


def test_fused_modules_are_used():
    assert isinstance(make("lstm", "tag").encoder.rnn, torch.nn.LSTM)
    assert isinstance(make("gru", "tag").encoder.rnn, torch.nn.GRU)
    assert isinstance(make("rnn", "tag").encoder.rnn, torch.nn.RNN)
    assert make("bilstm", "tag").encoder.rnn.bidirectional


def test_tag_loss_skips_the_data_ignore_value():
    """Heads use torch's default ignore_index; data.batch.IGNORE must be that value."""
    from seqbench.data.batch import IGNORE

    assert IGNORE == torch.nn.CrossEntropyLoss().ignore_index
    output = torch.randn(1, 3, 4)
    targets = torch.tensor([[IGNORE, 2, IGNORE]])
    assert torch.allclose(HEADS.get("tag").loss(output, targets), torch.nn.functional.cross_entropy(output[0, 1:2], targets[0, 1:2]))


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_encoders_declare_causal_and_bidirectional(model):
    encoder = make(model, "classify").encoder
    assert isinstance(encoder.causal, bool) and isinstance(encoder.bidirectional, bool)
    assert encoder.bidirectional == (model == "bilstm")


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_io_dropout_acts_in_training_only_and_adds_no_parameters(model):
    """io_dropout drops the encoder's input and the head's input, also for one-layer RNNs (whose
    `dropout` has nothing between layers to act on); it adds no parameters and is off in eval."""
    plain, dropped = make(model, "tag"), make(model, "tag", io_dropout=0.5)
    assert count_params(plain) == count_params(dropped)
    dropped.load_state_dict(plain.state_dict())
    x, lengths = torch.randint(0, 12, (3, 7)), torch.tensor([7, 5, 2])
    assert torch.equal(plain(x, lengths)[0], dropped(x, lengths)[0])  # eval: the same function
    dropped.train()
    torch.manual_seed(1)
    first = dropped(x, lengths)[0]
    assert not torch.equal(first, dropped(x, lengths)[0])  # train: a fresh mask each call


def test_io_dropout_off_draws_no_random_numbers():
    """At 0 (the default) the model holds no dropout module, so training consumes the random stream
    exactly as before the option existed: old run ids keep their numbers."""
    net = make("lstm", "classify").train()
    assert not any(isinstance(m, torch.nn.Dropout) for m in net.modules())
    torch.manual_seed(3)
    net(torch.randint(0, 12, (2, 5)), torch.tensor([5, 5]))
    after = torch.rand(1)
    torch.manual_seed(3)
    torch.randint(0, 12, (2, 5))
    assert torch.equal(after, torch.rand(1))
