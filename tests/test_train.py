"""End-to-end runs of every task x model, determinism, divergence, and the run file's contents."""
import json
import math

import pytest
import torch

from seqbench.models import MODELS
from seqbench.runner import execute
from seqbench.record import RunRecord
from seqbench.store import read_run
from seqbench.tasks import get_task
from seqbench.train import lr_schedule
from seqbench.config import TrainConfig

from conftest import TINY
from seqbench.status import FINISHED

SYNTHETIC = ["copy", "adding", "recall"]


def tiny_run(task, model, results, length=None, seed=0, **train):
    t = get_task(task)
    overrides = {"train": {**TINY["train"], **train}, "model": dict(TINY["model"])}
    cfg = t.resolve(model, length or 6, seed, overrides)
    return execute(cfg, results)


@pytest.mark.parametrize("model", MODELS.names())
@pytest.mark.parametrize("task", SYNTHETIC)
def test_every_task_model_pair_runs(task, model, results):
    record, path = tiny_run(task, model, results)
    assert path.exists() and record.status in FINISHED
    t = get_task(task)
    for name in t.metrics:
        assert math.isfinite(record.metrics[f"test/{name}"])
    assert record.steps == 6 and record.task.test_examples == 24
    assert read_run(path).run_id == record.run_id == path.stem


def test_run_file_holds_every_field(results):
    record, path = tiny_run("adding", "lstm", results)
    on_disk = json.loads(path.read_text())
    for key in RunRecord.REQUIRED + ("schema_version", "payload_sha256", "loss_curve", "val_curve", "grad_norm", "by_slice",
                                     "model_info"):
        assert key in on_disk, key
    assert set(on_disk["timing"]) >= {"train_time_s", "median_step_ms", "eval_tokens_per_s"}
    assert on_disk["memory"]["peak_mb"] > 0
    prov = on_disk["provenance"]
    for key in ("torch", "python", "git_commit", "git_dirty", "device", "threads", "seqbench"):
        assert key in prov
    assert on_disk["config"]["seed"] == 0 and on_disk["config"]["train"]["steps"] == 6
    assert on_disk["baseline"]["mse"] == pytest.approx(1 / 6)
    assert on_disk["params"]["params"] > 0
    assert on_disk["loss_curve"] and on_disk["grad_norm"]["median"] > 0


def test_a_run_records_the_cpu_seconds_of_its_training_loop(results):
    """timing.cpu_s: user + system seconds of every thread over train_time_s's span; the process cannot
    use more than its CPUs for that long (a sanity bound, not a timing). The run id is its config's hash."""
    import os
    t = get_task("adding")
    cfg = t.resolve("lstm", 6, 0, {"train": dict(TINY["train"]), "model": dict(TINY["model"])})
    record, path = execute(cfg, results)
    cpu, wall = record.timing.cpu_s, record.timing.train_time_s
    assert 0 < cpu <= wall * (os.cpu_count() or 1) * 1.1 + 0.05
    assert read_run(path).timing.cpu_s == cpu and json.loads(path.read_text())["timing"]["cpu_s"] == cpu
    assert record.run_id == cfg.run_id == path.stem


@pytest.mark.parametrize("model", ["gru", "transformer"])
def test_same_seed_gives_identical_metrics(model, tmp_path):
    a, _ = tiny_run("recall", model, tmp_path / "a", seed=3)
    b, _ = tiny_run("recall", model, tmp_path / "b", seed=3)
    assert a.metrics == b.metrics and a.loss_curve == b.loss_curve
    c, _ = tiny_run("recall", model, tmp_path / "c", seed=4)
    assert c.metrics != a.metrics


def test_divergence_is_recorded_not_raised(results, tmp_path):
    # A learning rate of 1e30 with clipping off overflows the weights within a few steps; the same
    # run at a sane rate trains all 40.
    sane, _ = tiny_run("adding", "rnn", tmp_path, lr=1e-3, clip=None, steps=40, warmup=0.0)
    assert sane.status != "diverged" and sane.steps == 40 and sane.diverged_at is None
    record, path = tiny_run("adding", "rnn", results, lr=1e30, clip=None, steps=40, warmup=0.0)
    assert record.status == "diverged" and record.stopped_by == "diverged"
    log_every = TINY["train"]["log_every"]
    # Training stops at the end of the logged chunk that holds the first bad step, long before 40.
    assert 1 <= record.diverged_at <= record.steps < 40
    assert record.steps == -(-record.diverged_at // log_every) * log_every
    assert all(step < record.diverged_at and math.isfinite(loss) for step, loss in record.loss_curve)
    assert record.grad_norm.n_steps == record.diverged_at  # norms up to the bad step only
    assert read_run(path).status == "diverged"


def _losses_at(monkeypatch, bad: dict[int, float]) -> None:
    """train_step returns the given loss at the given (1-based) steps, the real one elsewhere."""
    import seqbench.train
    real, calls = seqbench.train.train_step, []

    def step(*args, **kw):
        loss, norm = real(*args, **kw)
        calls.append(1)
        return (torch.tensor(bad[len(calls)]), norm) if len(calls) in bad else (loss, norm)
    monkeypatch.setattr(seqbench.train, "train_step", step)


@pytest.mark.parametrize("loss", [float("nan"), float("inf"), 1e7])
def test_a_nan_or_exploded_loss_is_diverged_at_its_step(loss, results, monkeypatch):
    _losses_at(monkeypatch, {5: loss})
    record, path = tiny_run("adding", "lstm", results, steps=20, log_every=2, eval_every=10)
    assert record.status == "diverged" and record.diverged_at == 5 and record.steps == 6
    assert [step for step, _ in record.loss_curve] == [2, 4]
    assert read_run(path).status == "diverged" and read_run(path).diverged_at == 5


def test_a_time_budget_stops_the_run_as_budget_limited(results, tmp_path):
    """Any run outlasts a budget of a nanosecond: it stops after its first logged chunk, validates
    once, and is budget-limited (a floor), not converged. Without the budget it trains every step."""
    free, _ = tiny_run("adding", "lstm", tmp_path, steps=20, log_every=2, eval_every=10)
    assert free.steps == 20 and free.stopped_by != "time_budget"
    record, path = tiny_run("adding", "lstm", results, steps=20, log_every=2, eval_every=10, time_budget_s=1e-9)
    assert record.stopped_by == "time_budget" and record.status == "budget-limited"
    assert record.steps == 2 and [step for step, _ in record.val_curve] == [2]
    assert read_run(path).status == "budget-limited"


def test_schedule_warms_up_then_decays():
    f = lr_schedule(TrainConfig(steps=100, warmup=0.1))
    assert f(0) == pytest.approx(0.1) and f(9) == pytest.approx(1.0)
    assert f(10) == pytest.approx(1.0) and f(100) == pytest.approx(0.1)
    assert all(f(s) >= f(s + 1) for s in range(10, 100))


def test_validation_picks_the_best_checkpoint(results):
    record, _ = tiny_run("copy", "gru", results, steps=8, eval_every=2)
    steps = [s for s, _ in record.val_curve]
    assert steps == [2, 4, 6, 8]
    best = max(record.val_curve, key=lambda sv: sv[1])
    assert record.best_step == best[0]
    assert record.metrics["val/accuracy"] == pytest.approx(best[1])


@pytest.mark.parametrize("model", ["lstm", "transformer"])
def test_bf16_autocast_runs_and_is_recorded(model, results):
    fp32, _ = tiny_run("adding", model, results)
    bf16, path = tiny_run("adding", model, results, precision="bf16")
    assert bf16.status in FINISHED and bf16.config.train.precision == "bf16"
    assert bf16.run_id != fp32.run_id
    assert math.isfinite(bf16.metrics["test/mse"])
    assert bf16.metrics["test/mse"] != fp32.metrics["test/mse"]  # bf16 products round differently


def test_autocast_is_on_only_for_bf16():
    from seqbench.precision import autocast
    x = torch.randn(4, 4)
    with autocast("cpu", "bf16"):
        assert (x @ x).dtype == torch.bfloat16
    with autocast("cpu", "fp32"):
        assert (x @ x).dtype == torch.float32


@pytest.mark.slow
def test_compiled_run_matches_eager(results, tmp_path):
    eager, _ = tiny_run("adding", "transformer", results)
    compiled, _ = tiny_run("adding", "transformer", tmp_path, compile=True)
    assert compiled.status in FINISHED and compiled.config.train.compile is True
    assert compiled.metrics["test/mse"] == pytest.approx(eager.metrics["test/mse"], rel=1e-3)
