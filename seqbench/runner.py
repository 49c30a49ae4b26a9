"""Run one resolved config end to end: build, fit, test, write the run file."""
from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import torch

from .config import RunConfig
from .data.batch import Batch
from .data.formal import SLICE
from .errors import UserError
from .losses import LOSSES
from .metrics import METRICS, score, score_by_slice
from .measure.gradflow import first_examples
from .measure.gradflow import profile as gradient_profile
from .measure.memory import step_peak
from .measure.state_size import measure as measure_state
from .models.model import build_model, count_params
from .provenance import provenance
from .resume import discard, resume_path
from .record import (Generalisation, GradFlow, GradNorm, LmAnalysis, LrSelection, Memory, ModelInfo, Params,
                     Provenance, Recipe, RunRecord, Search, State, TaskInfo, Timing)
from .status import FINISHED
from .store import write_run
from .tasks import Task, derive_seed, task_of
from .train import evaluate, fit, make_optimizer, train_step


def resolve_device(name: str) -> torch.device:
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise UserError(f"bad device {name!r}: use cpu, cuda or cuda:N") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UserError(f"device {name!r} asked for, but CUDA is not available here; use --device cpu")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise UserError(f"device {name!r} asked for, but this machine has {torch.cuda.device_count()} CUDA "
                        f"device(s): use cuda:0 to cuda:{torch.cuda.device_count() - 1}")
    return device


def set_deterministic(mode: bool, compiling: bool) -> None:
    """`torch.use_deterministic_algorithms` imports all of inductor (about 2 s per process) just to
    set inductor's own flag, which matters only when compiling; otherwise set torch's flag alone."""
    if compiling or not hasattr(torch._C, "_set_deterministic_algorithms"):
        torch.use_deterministic_algorithms(mode, warn_only=True)
    else:
        torch._C._set_deterministic_algorithms(mode, warn_only=True)


def validation_batches(task: Task, cfg: RunConfig, device: torch.device) -> list[Batch]:
    """The run's fixed validation set, split into evaluation batches."""
    return task.eval_set("val", cfg.length, cfg.seed, cfg.train.val_examples, device).split(cfg.train.eval_batch_size)


def state_block(model, val: list[Batch]) -> State:
    """What the model carries (measure/state_size.py), measured on the first validation sequence. The
    bytes depend on the model's shapes, not its weights (tools/add_state.py relies on that)."""
    return State.from_dict(measure_state(model, val[0]).block())


def memory_block(model, task: Task, cfg: RunConfig, device: torch.device) -> dict:
    """Peak memory of one fresh training step of this model (measure/memory.py), on a copy."""
    tc = cfg.train
    batch = next(task.train_batches(cfg.length, cfg.seed, tc.batch_size, device))
    loss_fn, clip = LOSSES.get(tc.loss), tc.clip if tc.clip is not None else float("inf")
    return step_peak(model, lambda m: train_step(m, make_optimizer(m, tc), loss_fn, batch, device, tc.precision, clip),
                     device).block()


def grad_norm_summary(norms: list[float], clip: float | None) -> GradNorm:
    values = np.asarray(norms, dtype=float)
    finite = values[np.isfinite(values)]
    if not finite.size:
        return GradNorm(median=None, p99=None, max=None, n_clipped=0, n_spikes=0,
                        n_nonfinite=int(values.size), clip=clip, n_steps=int(values.size))
    median = float(np.median(finite))
    return GradNorm(
        median=median, p99=float(np.percentile(finite, 99)), max=float(finite.max()),
        # With clipping on: steps whose norm exceeded the threshold; off: spikes > 10x the median.
        n_clipped=int((finite > clip).sum()) if clip is not None else None,
        n_spikes=int((finite > 10 * median).sum()),
        n_nonfinite=int((~np.isfinite(values)).sum()), clip=clip, n_steps=int(values.size),
    )


RECIPE_FIELDS = ("nonlinearity", "init", "causal", "n_layers", "positions", "hf")  # model settings that change the recipe, not the size
RECIPE_TRAIN_FIELDS = ("clip", "loss")  # training settings an ablation varies


def metric_directions(metrics) -> dict[str, bool]:
    """{metric: higher_is_better} for a task's metrics, so the report never looks a metric up."""
    return {name: METRICS.get(name).higher_is_better for name in metrics}


def recipe_block(task: Task, cfg: RunConfig) -> Recipe:
    """Recipe(default=bool): whether the run uses its task's default recipe for the model (sizes may
    differ). The report keeps ablation variants out of the main figures by this flag."""
    default = task.resolve(cfg.model.name, cfg.length, cfg.seed)
    same_model = all(getattr(default.model, k) == getattr(cfg.model, k) for k in RECIPE_FIELDS)
    same_train = all(getattr(default.train, k) == getattr(cfg.train, k) for k in RECIPE_TRAIN_FIELDS)
    return Recipe(default=same_model and same_train)


def task_block(task: Task, cfg: RunConfig, test_examples: int, val_examples: int) -> TaskInfo:
    """What the task was when the run was made (its threshold, metric directions, baselines' metric),
    and what its data source describes (real data: truncation, splits, vocabulary)."""
    core = TaskInfo(name=task.name, version=task.version, metric=task.metric, metrics=list(task.metrics),
                    higher_is_better=metric_directions(task.metrics), output=task.output, solved=task.solved,
                    seq_len=task.source.seq_len(cfg.length), test_examples=test_examples, val_examples=val_examples)
    return TaskInfo.from_dict({**core.to_dict(), **task.source.describe(cfg.length)})


def model_block(model, task: Task, cfg: RunConfig, device: torch.device) -> ModelInfo:
    encoder = model.encoder
    return ModelInfo.from_dict({"causal": bool(encoder.causal), "bidirectional": bool(encoder.bidirectional),
                                "sequential_depth": encoder.sequential_depth(task.source.seq_len(cfg.length)),
                                **encoder.info(device)})  # hf models: the resolved config, the kernel used


def test_batches(task: Task, cfg: RunConfig, device: torch.device) -> list[Batch]:
    """The fixed test set at the run's length; or, on a length-generalisation task, one set per test
    length, cut into batches of about as many positions as one at the training maximum."""
    tc = cfg.train
    if not task.test_lengths:
        return task.eval_set("test", cfg.length, cfg.seed, tc.test_examples, device).split(tc.eval_batch_size)
    positions = tc.eval_batch_size * task.source.seq_len(cfg.length)
    sets = task.test_sets(cfg.length, cfg.seed, tc.test_examples, device)
    return [part for L, batch in sets.items() for part in batch.split(max(1, positions // task.source.seq_len(L)))]


def test_metrics(task: Task, frame: pd.DataFrame) -> dict[str, float]:
    """{'test/<metric>': value}. On a length-generalisation task, each metric's mean over the test
    lengths (Delétang et al.'s score), not its pool over every scored symbol of every length."""
    if not task.test_lengths:
        return score(frame, task.metrics, "test")
    per_length = [score(group, task.metrics, "test") for _, group in frame.groupby(SLICE)]
    return {key: float(np.mean([scores[key] for scores in per_length])) for key in per_length[0]}


def generalisation_block(task: Task, cfg: RunConfig, frame: pd.DataFrame, val_frame: pd.DataFrame) -> dict | None:
    """Length generalisation: the metrics per test length and per training length (validation), and
    the lengths trained and tested; None for other tasks."""
    if not task.test_lengths:
        return None

    def per_length(f: pd.DataFrame) -> list[dict]:
        return [{"length": row.pop("value"), **{k: v for k, v in row.items() if k != "slice"}}
                for row in score_by_slice(f, task.metrics, [SLICE])]

    return {"train_lengths": [1, cfg.length], "test_lengths": list(task.test_lengths),
            "score": "mean over test lengths", "test": per_length(frame), "val": per_length(val_frame)}


def utc_iso(seconds: float) -> str:
    """Seconds since the epoch as the run file writes times: UTC, ISO 8601, to the second."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def execute(cfg: RunConfig, results: Path, progress: Callable | None = None,
            search: dict | None = None, lr_selection: dict | None = None) -> tuple[RunRecord, Path]:
    """`search`: for a length-search probe, its chain block ({"chain", "start", "max", "refine"});
    `lr_selection`: for a seed run at the lr its suite's tuning seed chose, {"seed", "chosen",
    "candidates"}. Both are written into the run file beside the config, so the run id (the config
    hash) stays the same."""
    device = resolve_device(cfg.train.device)
    if cfg.train.threads:
        torch.set_num_threads(cfg.train.threads)
    set_deterministic(device.type == "cpu", compiling=cfg.train.compile)
    task = task_of(cfg)
    task.check_length(cfg.length)
    torch.manual_seed(derive_seed("init", cfg.seed))
    model = build_model(cfg.model, task, seed=derive_seed("init", cfg.seed)).to(device)
    tc = cfg.train
    if tc.compile:
        model.compile()  # in place: names, state_dict keys and attributes stay as they were
    val = validation_batches(task, cfg, device)
    test = test_batches(task, cfg, device)

    probe = first_examples(val)  # gradient flow on a fixed val batch, before and after training
    gradflow = {"init": gradient_profile(model, probe, task.output)}
    resume_file = resume_path(results, cfg.run_id)
    fitted = fit(model, task, tc, cfg.length, cfg.seed, device, val, progress=progress, resume_file=resume_file)
    gradflow["final"] = gradient_profile(model, probe, task.output)
    frame, tokens_per_s = evaluate(model, test, task, tc.precision)
    val_frame, _ = evaluate(model, val, task, tc.precision)
    metrics = {**test_metrics(task, frame), **score(val_frame, task.metrics, "val")}
    slice_keys = [c for c in frame.columns if c.startswith("slice_")]
    record = RunRecord(
        run_id=cfg.run_id, status=fitted.status, config=cfg,
        task=task_block(task, cfg, len(frame), len(val_frame)),
        recipe=recipe_block(task, cfg),
        metrics=metrics,
        by_slice=score_by_slice(frame, task.metrics, slice_keys),
        baseline=task.baseline(cfg.length),  # chance alone, for readers of older run files
        baselines=task.baselines(cfg.length, test),  # {strategy: {metric: value}}, chance first
        params=Params(**count_params(model), width=model.width),
        steps=fitted.steps, diverged_at=fitted.diverged_at, stopped_by=fitted.stopped_by,
        solved_step=fitted.solved_step, solved_s=fitted.solved_s, best_step=fitted.best_step,
        loss_curve=fitted.loss_curve, val_curve=fitted.val_curve, val_seconds=fitted.val_seconds,
        # Norms after the step whose loss went non-finite are not evidence: cut them off.
        grad_norm=grad_norm_summary(fitted.grad_norms[: fitted.diverged_at], tc.clip),
        gradflow=GradFlow(**gradflow),
        timing=Timing(train_time_s=fitted.train_time_s, cpu_s=fitted.cpu_s, median_step_ms=fitted.median_step_ms,
                      eval_tokens_per_s=tokens_per_s, finished_at=utc_iso(time.time()),
                      resumed_at=fitted.resumed_at or None,
                      spans=[[utc_iso(a), utc_iso(b)] for a, b in fitted.spans] or None),
        model_info=model_block(model, task, cfg, device),
        provenance=Provenance.from_dict(provenance(device)),
        search=Search.optional(search),
        lr_selection=LrSelection.optional(lr_selection),
        generalisation=Generalisation.optional(generalisation_block(task, cfg, frame, val_frame)),
        state=state_block(model, val),
    )
    if fitted.status in FINISHED:
        lm = task.source.analyse(model, cfg.length, tc.eval_batch_size, device)  # language models
        if lm is not None:
            record = record.replace(lm=LmAnalysis.from_dict(lm))
    # Last: it must not disturb what was measured.
    record = record.replace(memory=Memory.from_dict(memory_block(model, task, cfg, device)))
    # Predictions are written before the run file, so a finished run file always has its predictions.
    (Path(results) / "runs").mkdir(parents=True, exist_ok=True)
    predictions = task.source.save_predictions(frame, Path(results) / "runs" / cfg.run_id)
    if predictions is not None:
        record = record.replace(task=dataclasses.replace(record.task, predictions_file=predictions.name))
    path = write_run(results, record)
    discard(resume_file)  # only now: until the run file is on disk, an interruption resumes from it
    return record, path
