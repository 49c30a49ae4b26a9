"""State size, measured by running the model (measure/state_size.py), against formulas written here."""
import dataclasses

import pytest
import torch

from seqbench.measure.state_size import FIXED, GROWS, NONE, UNKNOWN, measure
from seqbench.models import build_model
from seqbench.models.encoders import Encoder, last_valid
from seqbench.models.hf import presets
from seqbench.tasks import get_task

FP32 = 4  # bytes


def built(task_name: str, model: str, length: int = 8, **model_fields):
    task = get_task(task_name)
    cfg = task.resolve(model, length, 0).model
    model = build_model(dataclasses.replace(cfg, **model_fields), task, seed=0)
    batch = task.eval_set("val", length, 0, 4, "cpu")
    return model, batch


@pytest.mark.parametrize("task_name", ["copy", "adding"])  # token ids and real-valued features
@pytest.mark.parametrize("model,tensors_per_layer", [("rnn", 1), ("gru", 1), ("lstm", 2)])
@pytest.mark.parametrize("n_layers", [1, 2])
def test_a_recurrent_state_is_h_and_for_the_lstm_c_over_all_layers(task_name, model, tensors_per_layer, n_layers):
    net, batch = built(task_name, model, n_layers=n_layers)
    state = measure(net, batch)
    # the formula: per layer, h (and the LSTM's c), each of `width` fp32 numbers, for one sequence
    assert state.bytes == n_layers * tensors_per_layer * net.width * FP32
    assert state.kind == FIXED and state.bytes_half == state.bytes
    assert state.seq_len == batch.inputs.shape[1]


def test_the_lstm_width_150_two_layers_carries_2400_bytes():
    net, batch = built("copy", "lstm", n_layers=2)
    net.encoder.rnn = torch.nn.LSTM(net.encoder.rnn.input_size, 150, 2, batch_first=True)
    assert measure(net, batch).bytes == 2 * 2 * 150 * 4 == 2400  # layers x (h, c) x width x fp32


def test_the_causal_transformers_key_value_cache_grows_with_the_positions_read():
    net, batch = built("recall", "transformer", length=8)  # recall v3 runs it causally
    assert net.encoder.causal
    state = measure(net, batch)
    T = batch.inputs.shape[1]
    n_layers = len(net.encoder.blocks)
    assert state.kind == GROWS and "grows" in state.note
    assert state.bytes == n_layers * 2 * T * net.width * FP32  # keys and values, every layer, every position
    assert state.bytes_half == n_layers * 2 * (T // 2) * net.width * FP32


@pytest.mark.parametrize("task_name,model", [("copy", "bilstm"), ("copy", "transformer")])  # copy: bidirectional
def test_a_model_that_reads_ahead_carries_nothing(task_name, model):
    net, batch = built(task_name, model)
    state = measure(net, batch)
    assert state.kind == NONE and state.bytes is None and "whole sequence" in state.note


@pytest.mark.parametrize("name", sorted(presets()))
def test_hf_models_carry_their_transformers_cache_fixed_for_a_scan_growing_for_attention(name):
    net, batch = built("recall", name, length=8, params=30000)
    state = measure(net, batch)
    assert state.bytes > 0 and state.tensors
    assert state.kind == (FIXED if presets()[name].recurrent else GROWS)


def test_the_probe_leaves_the_models_mode_and_the_random_stream_alone():
    net, batch = built("copy", "lstm")
    net.train()
    torch.manual_seed(0)
    measure(net, batch)
    after = torch.rand(1)
    torch.manual_seed(0)
    assert net.training and torch.equal(after, torch.rand(1))


class Silent(Encoder):
    """A plugin's encoder that does not say what it carries."""
    def __init__(self, input_dim, width):
        super().__init__()
        self.proj, self.output_dim = torch.nn.Linear(input_dim, width), width

    def forward(self, x, lengths):
        return self.proj(x)

    def pool(self, features, lengths):
        return last_valid(features, lengths)


def test_an_encoder_that_does_not_say_is_unknown():
    net, batch = built("copy", "lstm")
    net.encoder = Silent(net.encoder.rnn.input_size, 8)
    assert measure(net, batch).kind == UNKNOWN
