"""Trivial strategies beside chance: each one's score, computed by seqbench on a seeded test set,
equals an independent computation (a loop over the examples, or a closed form); a run file carries
them, chance first."""
import json
import math
import sys
from collections import Counter
from pathlib import Path

import pytest
import torch

from seqbench.data.batch import IGNORE, Batch
from seqbench.data.strategies import strategy_frame
from seqbench.data.synthetic import AddingProblem, AssociativeRecall, CopyMemory
from seqbench.report.frame import baselines_of
from seqbench.runner import execute
from seqbench.tasks import Task, get_task

from conftest import TINY
from fixture_runs import minimal_record


def seeded(source, n, length, seed=0):
    return source.sample(n, length, torch.Generator().manual_seed(seed), "cpu")


def test_recall_bag_of_values_equals_a_loop_over_the_examples():
    source = AssociativeRecall(n_pairs=4, n_keys=16, n_values=16)
    batch = seeded(source, 500, 8)
    scores = source.baselines(8, batch.split(64), ["accuracy", "xent"])["bag of values"]
    hits, nats, queries = 0.0, 0.0, 0
    for inputs, targets in zip(batch.inputs.tolist(), batch.targets.tolist()):
        counts = Counter(v - source.n_keys for v in inputs[1: 2 * source.n_pairs: 2])
        modes = [v for v, c in counts.items() if c == max(counts.values())]
        for t in (t for t in targets if t != IGNORE):  # a uniform pick among the modes
            hits += (t in modes) / len(modes)
            nats -= math.log(counts[t] / source.n_pairs)
            queries += 1
    assert scores["accuracy"] == pytest.approx(hits / queries, rel=1e-12)
    assert scores["xent"] == pytest.approx(nats / queries, rel=1e-12)
    # Equivalently mean(max count) / n_pairs: each mode is queried as often as it occurs.
    max_counts = [max(Counter(row[1:8:2]).values()) for row in batch.inputs.tolist()]
    assert scores["accuracy"] == pytest.approx(sum(max_counts) / len(max_counts) / 4, rel=1e-12)


def test_bag_of_values_is_the_plateau_the_issue_measured():
    """E[max count] / 4 ≈ 0.337 and about 1.26 nats: where the recall models sat (issue 13)."""
    source = AssociativeRecall()
    scores = source.baselines(8, seeded(source, 20000, 8).split(4096), ["accuracy", "xent"])["bag of values"]
    assert scores["accuracy"] == pytest.approx(0.337, abs=0.005)
    assert scores["xent"] == pytest.approx(1.26, abs=0.01)


def test_a_strategy_with_ties_scores_its_expectation():
    """The worked example of strategies.py: values [3, 3, 5, 9], queried 3, 5, 9, 3."""
    source = AssociativeRecall(n_pairs=4, n_keys=16, n_values=16)
    keys, values = [0, 1, 2, 3], [3, 3, 5, 9]
    inputs = torch.tensor([[k for pair in zip(keys, [v + 16 for v in values]) for k in pair] + [32, 0, 2, 3, 1]])
    targets = torch.tensor([[IGNORE] * 9 + [3, 5, 9, 3]])
    frame = strategy_frame("tag", source.bag_of_values, [Batch(inputs, targets, torch.tensor([13]))], None)
    assert frame["n_correct"].item() == 2 and frame["n_scored"].item() == 4
    assert frame["ce_sum"].item() == pytest.approx(2 * math.log(2) + 2 * math.log(4))


def test_copy_memoryless_is_one_in_n_symbols():
    source = CopyMemory(n_symbols=8, n_recall=10)
    scores = source.baselines(30, seeded(source, 64, 30), ["accuracy", "xent_per_step"])
    assert list(scores) == ["chance", "memoryless"]
    assert scores["memoryless"]["accuracy"] == pytest.approx(1 / 8, rel=1e-12)
    assert scores["memoryless"]["xent_per_step"] == pytest.approx(10 * math.log(8) / 50, rel=1e-12)


def test_adding_predict_one_is_about_a_sixth():
    source = AddingProblem(tolerance=0.04)
    batch = seeded(source, 50000, 20)
    scores = source.baselines(20, batch, ["mse", "accuracy"])["predict 1"]
    assert scores["mse"] == pytest.approx(float(((batch.targets.double() - 1) ** 2).mean()), rel=1e-9)
    assert scores["accuracy"] == pytest.approx(float(((batch.targets - 1).abs() < 0.04).double().mean()), rel=1e-12)
    assert scores["mse"] == pytest.approx(1 / 6, abs=0.005)
    assert scores["accuracy"] == pytest.approx(2 * 0.04 - 0.04**2, abs=0.005)


def test_task_keeps_its_own_metrics_chance_first_and_drops_empty_strategies():
    task = get_task("recall")
    scores = task.baselines(8, task.eval_set("test", 8, 0, 64, "cpu"))
    assert list(scores) == ["chance", "bag of values"]
    assert list(scores["bag of values"]) == ["accuracy", "xent"] and list(scores["chance"]) == ["accuracy"]
    only_mse = Task(name="adding_mse", source=AddingProblem(), metrics=("mse",))
    assert all(list(v) == ["mse"] for v in only_mse.baselines(10, seeded(AddingProblem(), 8, 10)).values())


def test_a_source_without_strategies_gives_chance_alone():
    sys.path.insert(0, str(Path(__file__).parent / "plugin_pkg"))
    try:
        from seqbench_toy import Parity  # the plugin example inherits the default
    finally:
        sys.path.pop(0)

    batch = Parity().sample(8, 4, torch.Generator().manual_seed(0), "cpu")
    assert Parity().baselines(4, batch, ["accuracy"]) == {"chance": {"accuracy": 0.5}}


def test_run_file_carries_the_named_baselines(results):
    task = get_task("recall")
    cfg = task.resolve("lstm", 8, 0, {"train": dict(TINY["train"]), "model": dict(TINY["model"])})
    record, path = execute(cfg, results)
    on_disk = json.loads(path.read_text())
    assert on_disk["baseline"] == {"accuracy": 1 / 16}  # old readers
    assert on_disk["baselines"]["chance"] == on_disk["baseline"]
    assert list(record.baselines) == ["chance", "bag of values"]
    assert 0.25 <= on_disk["baselines"]["bag of values"]["accuracy"] <= 1


def test_a_character_lm_chance_is_named_for_what_it_is():
    """CharLM's stored "chance" is the training text's unigram entropy (4.77 bpc on Tiny Shakespeare),
    not uniform guessing (log2 66 = 6.04): the report must not call it chance."""
    lm = minimal_record(task={"metric": "bpc"}, baselines={"chance": {"bpc": 4.77}, "unigram": {"bpc": 4.85}})
    assert baselines_of(lm) == {"unigram entropy of the training text": 4.77, "unigram": 4.85}
    classifier = minimal_record(task={"metric": "accuracy"}, baselines={"chance": {"accuracy": 0.5}})
    assert baselines_of(classifier) == {"chance": 0.5}
