"""The status rules (seqbench/status.py) on scripted validation curves, and in a real fit."""
import math

import pytest

from seqbench.status import BUDGET_LIMITED, CONVERGED, SOLVED, StopRule

ACC = StopRule(threshold=0.99, higher_is_better=True, hold=2, patience=3, tolerance=0.01)
MSE = StopRule(threshold=0.01, higher_is_better=False, hold=2, patience=3, tolerance=0.01)


@pytest.mark.parametrize("rule, curve, verdict, final", [
    (ACC, [0.30, 0.60, 0.995, 0.996], SOLVED, SOLVED),
    (ACC, [0.30, 0.60, 0.995], None, BUDGET_LIMITED),  # passed once: not yet held
    (ACC, [0.30, 0.995, 0.98, 0.995], None, BUDGET_LIMITED),  # the streak was broken
    (ACC, [0.30, 0.33, 0.33, 0.33, 0.33], CONVERGED, CONVERGED),
    (ACC, [0.30, 0.33, 0.331, 0.332, 0.333], CONVERGED, CONVERGED),  # moves, but less than 1% of the gap
    (ACC, [0.30, 0.40, 0.50, 0.60, 0.70], None, BUDGET_LIMITED),  # still improving
    (ACC, [0.30, 0.33, 0.33, 0.33, 0.90], None, BUDGET_LIMITED),  # a plateau that ended late
    (MSE, [0.17, 0.05, 0.009, 0.008], SOLVED, SOLVED),
    (MSE, [0.17, 0.0400, 0.0399, 0.0398, 0.0399], CONVERGED, CONVERGED),
    (MSE, [0.17, 0.08, 0.04, 0.02], None, BUDGET_LIMITED),
    (ACC, [math.nan, math.nan, math.nan, math.nan], CONVERGED, CONVERGED),
])
def test_status_of_a_curve(rule, curve, verdict, final):
    assert rule.verdict(curve) == verdict
    assert rule.final(curve) == final


def test_solved_at_is_the_start_of_the_final_streak():
    assert ACC.solved_at([0.2, 0.995, 0.5, 0.991, 0.992, 0.999]) == 3
    assert ACC.solved_at([0.2, 0.5]) is None


def test_no_threshold_is_never_solved():
    rule = StopRule(threshold=None, higher_is_better=True, hold=1, patience=2)
    assert rule.final([1.0, 1.0, 1.0]) == CONVERGED


def _fit(steps, early_stop, **train):
    import torch
    from seqbench.config import TrainConfig
    from seqbench.models import build_model
    from seqbench.tasks import get_task
    from seqbench.train import fit

    task = get_task("adding")
    cfg = task.resolve("lstm", 5, 0, {"model": {"params": 3000}})
    tc = TrainConfig(steps=steps, eval_every=20, log_every=10, lr=1e-2, batch_size=32, early_stop=early_stop, **train)
    model = build_model(cfg.model, task, seed=0)
    val = task.eval_set("val", 5, 0, 64, torch.device("cpu")).split(64)
    return fit(model, task, tc, 5, 0, torch.device("cpu"), val)


def test_fit_stops_early_once_solved_and_records_when():
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    result = _fit(3000, early_stop=True, hold=2, patience=100)
    assert result.status == SOLVED and result.stopped_by == SOLVED
    assert result.steps < 3000
    assert result.solved_step is not None and result.solved_step <= result.steps - 20  # held for one more evaluation
    assert 0 < result.solved_s <= result.train_time_s


def test_fit_without_early_stop_runs_the_whole_budget():
    result = _fit(60, early_stop=False)
    assert result.steps == 60 and result.stopped_by == "steps"
    assert result.status in (SOLVED, CONVERGED, BUDGET_LIMITED)


def test_an_exploded_finite_loss_is_diverged(monkeypatch):
    """A loss that is finite but astronomically large is divergence, not a score to average."""
    import torch
    from seqbench import train
    from seqbench.losses import LOSSES
    monkeypatch.setitem(LOSSES._items, "default", lambda head, output, targets: head.loss(output, targets) * 0 + 1e9)
    result = _fit(60, early_stop=False)
    assert result.status == "diverged" and result.diverged_at == 1
    assert train.EXPLODED_LOSS == 1e6
