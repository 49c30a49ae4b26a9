"""The formal-language tasks (data/formal.py): each generator's answer on worked examples made by
hand, the layout of a sampled sequence, and the length protocol (train 1..N, test beyond N)."""
import pytest
import torch

from seqbench.data.batch import IGNORE
from seqbench.data.formal import (SLICE, BucketSort, CycleNavigation, DuplicateString, ModularArithmetic,
                                  ParityCheck, ReverseString, StackManipulation)
from seqbench.errors import UserError
from seqbench.tasks import get_task

FORMAL = ["parity_check", "cycle_navigation", "modular_arithmetic", "reverse_string", "stack_manipulation",
          "duplicate_string", "bucket_sort"]


def answers(source, *strings):
    return source.answer(torch.tensor(strings)).tolist()


def test_parity_check_by_hand():
    # 1010100: three 1s, odd -> 1; 01111: four, even -> 0 (the reference's examples); 0 -> 0.
    assert answers(ParityCheck(), [1, 0, 1, 0, 1, 0, 0]) == [[1]]
    assert answers(ParityCheck(), [0, 1, 1, 1, 1], [1, 1, 0, 0, 0]) == [[0], [0]]
    assert answers(ParityCheck(), [1]) == [[1]]


def test_cycle_navigation_by_hand():
    # Actions 0, 1, 2 move -1, 0, +1. The reference's "1 -1 0 -1 -1 -> 3" is 2 0 1 0 0 here;
    # "1 1 1 -1 -> 2" is 2 2 2 0.
    assert answers(CycleNavigation(), [2, 0, 1, 0, 0]) == [[3]]
    assert answers(CycleNavigation(), [2, 2, 2, 0]) == [[2]]
    assert answers(CycleNavigation(), [2, 2, 2, 2, 2, 2, 1]) == [[1]]  # 6 steps right on a cycle of 5


def test_modular_arithmetic_by_hand():
    # Tokens: numbers 0-4, + 5, - 6, * 7 (modulus 5); the reference's examples:
    # 1 + 2 * 3 = 7 = 2; 1 - 1 - 1 = -1 = 4; 0 * 1 + 4 * 3 - 2 = 10 = 0.
    source = ModularArithmetic()
    assert answers(source, [1, 5, 2, 7, 3]) == [[2]]
    assert answers(source, [1, 6, 1, 6, 1]) == [[4]]
    assert answers(source, [0, 7, 1, 5, 4, 7, 3, 6, 2]) == [[0]]
    assert answers(source, [3, 6, 2, 7, 4]) == [[0]]  # 3 - 2 * 4 = -5: * binds tighter than -
    assert answers(source, [4]) == [[4]]
    assert [source.seq_len(n) for n in (1, 2, 3, 40, 41)] == [2, 2, 4, 40, 42]  # odd strings, one answer slot


def test_stack_manipulation_by_hand():
    # 2 POP, 3 PUSH 0, 4 PUSH 1; the answer is the stack top to bottom, the end mark 2, then unscored.
    source = StackManipulation()
    _ = IGNORE
    # The reference's first example: 0 1 1 0, PUSH 1, POP, POP -> stack 0 1 1 -> 1 1 0 2.
    assert answers(source, [0, 1, 1, 0, 4, 2, 2]) == [[1, 1, 0, 2, _, _, _, _]]
    # Its second: 1 1 0, POP, POP, POP -> empty -> 2.
    assert answers(source, [1, 1, 0, 2, 2, 2]) == [[2, _, _, _, _, _, _]]
    # A POP on an empty stack is ignored: 1, POP, POP, PUSH 0 -> 0 2.
    assert answers(source, [1, 2, 2, 3]) == [[0, 2, _, _, _]]
    assert answers(source, [1]) == [[1, 2]]  # length 1: a one-bit stack


def test_string_tasks_by_hand():
    assert answers(ReverseString(), [0, 1, 1, 0, 1, 0]) == [[0, 1, 0, 1, 1, 0]]
    assert answers(DuplicateString(), [1, 0, 1]) == [[1, 0, 1, 1, 0, 1]]
    assert answers(BucketSort(), [1, 0, 2, 0, 4, 1, 1, 2]) == [[0, 0, 1, 1, 1, 2, 2, 4]]


@pytest.mark.parametrize("source, answer_len", [(ParityCheck(), 1), (CycleNavigation(), 1), (ReverseString(), 7),
                                                (StackManipulation(), 8), (DuplicateString(), 14), (BucketSort(), 7)])
def test_a_sample_is_the_string_then_blanks_with_the_answer_over_them(source, answer_len):
    batch = source.sample(64, 7, torch.Generator().manual_seed(0), "cpu")
    assert batch.inputs.shape == (64, 7 + answer_len) and not batch.padded
    strings = batch.inputs[:, :7]
    assert (strings < source.n_inputs).all() and (batch.inputs[:, 7:] == source.blank).all()
    assert (batch.targets[:, :7] == IGNORE).all()
    assert torch.equal(batch.targets[:, 7:], source.answer(strings))
    assert batch.slices[SLICE].tolist() == [7] * 64


def test_stack_samples_hold_a_stack_of_1_to_n_minus_1_bits_then_actions():
    strings = StackManipulation().draw(2000, 6, torch.Generator().manual_seed(0), "cpu")
    stack_len = (strings < 2).long().cumprod(1).sum(1)
    assert set(stack_len.tolist()) == {1, 2, 3, 4, 5}
    after = torch.arange(6) >= stack_len.unsqueeze(1)
    assert (strings[after] >= 2).all()


def test_training_batches_draw_every_length_from_1_to_the_maximum_and_no_more():
    stream = get_task("parity_check").train_batches(8, seed=0, batch_size=4, device="cpu")
    seen = [next(stream).slices[SLICE][0].item() for _ in range(300)]
    assert set(seen) == set(range(1, 9))


def test_validation_holds_every_training_length_in_equal_shares_padded():
    source = ReverseString()
    val = source.eval_set("val", 5, seed=0, n=20, device="cpu")
    assert val.slices[SLICE].tolist() == [n for n in range(1, 6) for _ in range(4)]
    assert val.lengths.tolist() == [2 * n for n in val.slices[SLICE].tolist()]
    assert val.inputs.shape == (20, 10)
    for row, n in enumerate(val.slices[SLICE].tolist()):
        assert torch.equal(val.targets[row, n: 2 * n], source.answer(val.inputs[row: row + 1, :n])[0])
        assert (val.targets[row, 2 * n:] == IGNORE).all()


@pytest.mark.parametrize("name", FORMAL)
def test_train_and_test_lengths_never_overlap(name):
    task = get_task(name)
    assert task.lengths == (40,) and task.test_lengths == (41, 50, 64, 100, 128, 200, 256, 350, 500)
    tests = task.test_sets(40, seed=0, n=2, device="cpu")
    assert sorted(tests) == list(task.test_lengths)
    assert all(b.slices[SLICE].tolist() == [L, L] for L, b in tests.items())
    train = {next(task.train_batches(40, seed, 2, "cpu")).slices[SLICE][0].item() for seed in range(200)}
    val = set(task.eval_set("val", 40, 0, 400, "cpu").slices[SLICE].tolist())
    assert val == set(range(1, 41)) and train <= val
    assert not (train | val) & set(tests)
    with pytest.raises(UserError, match="not beyond the training maximum"):
        task.resolve("lstm", 41, 0)


def test_test_sets_differ_by_seed_and_length_and_repeat_by_seed():
    task = get_task("bucket_sort")
    a, b = task.test_sets(40, 0, 8, "cpu"), task.test_sets(40, 0, 8, "cpu")
    assert all(torch.equal(a[L].inputs, b[L].inputs) for L in a)
    assert not torch.equal(a[41].inputs, task.test_sets(40, 1, 8, "cpu")[41].inputs)


def test_a_learned_position_table_is_refused_beyond_its_training_maximum():
    task = get_task("parity_check")
    with pytest.raises(UserError) as info:
        task.resolve("transformer", 40, 0, {"model": {"positions": "learned"}})
    message = str(info.value)
    assert "\n" not in message and "learned positions" in message and "501" in message
    for positions in ("sinusoidal", "rope", "none"):
        assert task.resolve("transformer", 40, 0, {"model": {"positions": positions}}).model.positions == positions


def test_the_learned_table_refusal_is_one_line_and_exit_2():
    from conftest import run_cli

    proc = run_cli("run", "--task", "parity_check", "--model", "transformer", "--model.positions=learned",
                   "--steps", "2")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "learned positions" in lines[0] and "parity_check" in lines[0], proc.stderr


def tiny_run(task, model, results, **model_overrides):
    from conftest import TINY
    from seqbench.runner import execute

    overrides = {"train": dict(TINY["train"]), "model": {**TINY["model"], **model_overrides}}
    return execute(get_task(task).resolve(model, 6, 0, overrides), results)


@pytest.mark.parametrize("task, model, positions", [(name, "gru", None) for name in FORMAL]
                         + [("parity_check", "transformer", p) for p in ("none", "rope")])
def test_a_run_file_holds_accuracy_per_test_and_training_length(task, model, positions, results):
    import json

    record, path = tiny_run(task, model, results, **({"positions": positions} if positions else {}))
    on_disk = json.loads(path.read_text())
    block = on_disk["generalisation"]
    assert block["train_lengths"] == [1, 6] and block["test_lengths"] == list(get_task(task).test_lengths)
    assert [row["length"] for row in block["test"]] == block["test_lengths"]
    assert [row["length"] for row in block["val"]] == list(range(1, 7))
    assert all(row["count"] == 24 for row in block["test"])  # test_examples strings at each length
    assert sum(row["count"] for row in block["val"]) == 16
    # The score is the mean over test lengths, not the pool over every scored symbol.
    mean = sum(row["accuracy"] for row in block["test"]) / len(block["test"])
    assert on_disk["metrics"]["test/accuracy"] == pytest.approx(mean)
    assert on_disk["task"]["test_examples"] == 24 * 9


def test_the_score_is_the_mean_over_lengths_not_the_pool():
    """Two lengths with 1 of 1 and 0 of 3 symbols right: the mean is 0.5, the pool 0.25."""
    import pandas as pd

    from seqbench.runner import test_metrics

    frame = pd.DataFrame({SLICE: [41, 50], "n_scored": [1.0, 3.0], "n_correct": [1.0, 0.0],
                          "ce_sum": [0.0, 3.0], "n_positions": [42.0, 53.0]})
    scores = test_metrics(get_task("reverse_string"), frame)
    assert scores["test/accuracy"] == pytest.approx(0.5) and scores["test/xent"] == pytest.approx(0.5)


def test_the_estimate_counts_the_test_at_every_test_length():
    from seqbench.estimate import test_share

    task = get_task("parity_check")
    cfg = task.resolve("lstm", 40, 0, {"train": {"steps": 1000, "batch_size": 100, "test_examples": 300}})
    # 300 strings at each test length (L + 1 positions), against 1000 steps of 100 x 41 positions, a
    # forward pass costing a third of a step: 300 * (1689 + 9) / (3 * 100 * 41) / 1000.
    assert test_share(cfg, task) == pytest.approx(300 * 1698 / (3 * 100 * 41) / 1000)
    assert test_share(get_task("copy").resolve("lstm", 20, 0), get_task("copy")) == 0.0


@pytest.mark.parametrize("name, language_class", zip(FORMAL, ["regular"] * 3 + ["context-free"] * 2 + ["context-sensitive"] * 2))
def test_each_task_names_its_class_for_the_run_file(name, language_class):
    assert get_task(name).source.describe(40) == {"language_class": language_class}
