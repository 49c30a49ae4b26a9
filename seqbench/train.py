"""One `fit()` for every task and model, and one `evaluate()`."""
from __future__ import annotations

import copy
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from . import resume
from .config import TrainConfig
from .data.batch import IGNORE, Batch
from .losses import LOSSES
from .metrics import METRICS, score
from .precision import autocast
from .status import BUDGET_LIMITED, DIVERGED, StopRule


@dataclass
class FitResult:
    steps: int = 0  # optimiser steps taken
    status: str = BUDGET_LIMITED  # see status.py: solved | converged | budget-limited | diverged
    diverged_at: int | None = None  # the step whose loss was NaN or inf
    stopped_by: str = "steps"  # steps | time_budget | diverged | solved | converged (early stop)
    solved_step: int | None = None  # the evaluation step from which the threshold held
    solved_s: float | None = None  # training seconds up to that evaluation
    train_time_s: float = 0.0
    cpu_s: float = 0.0  # CPU seconds (user + system, all threads) of the same span as train_time_s
    median_step_ms: float = float("nan")
    loss_curve: list = field(default_factory=list)  # [(step, mean loss over the last log_every steps)]
    val_curve: list = field(default_factory=list)  # [(step, primary validation metric)]
    val_seconds: list = field(default_factory=list)  # training seconds at each validation
    best_step: int | None = None  # the step whose checkpoint is tested
    grad_norms: list = field(default_factory=list)  # global pre-clip grad norm per step
    resumed_at: list = field(default_factory=list)  # steps an interrupted attempt had saved (resume.py)
    # Of a resumed run: each attempt's training on the clock, (start, end) in seconds since the epoch,
    # up to its last save for an interrupted one (what came after that was lost and is trained again).
    spans: list = field(default_factory=list)


# A training loss this large has exploded even where it is still finite (an IRNN without clipping
# reached a validation MSE of 9e33): the run is diverged, not a number to average.
EXPLODED_LOSS = 1e6


def lr_schedule(cfg: TrainConfig):
    """Linear warm-up over `warmup` of the steps, then cosine decay to 10% of the peak."""
    warmup_steps = max(1, int(cfg.warmup * cfg.steps))

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = min(1.0, (step - warmup_steps) / max(1, cfg.steps - warmup_steps))
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))

    return factor


def fit(model, task, cfg: TrainConfig, length: int, seed: int, device, val: list[Batch],
        progress=None, resume_file: Path | None = None) -> FitResult:
    """Train `model` on `task`; validate every `eval_every` steps and keep the best checkpoint.

    `progress`, if given, is called as progress(step, loss) after each logged chunk of steps.
    `resume_file`, if given, is where the loop's state is saved (resume.due says when), and where
    an interrupted attempt's state is picked up from (resume.py).
    """
    metric = METRICS.get(task.metric)
    rule = stop_rule(task, cfg)
    loss_fn = LOSSES.get(cfg.loss)
    optimizer = make_optimizer(model, cfg)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_schedule(cfg))
    clip = cfg.clip if cfg.clip is not None else float("inf")
    stream = task.train_batches(length, seed, cfg.batch_size, device)
    result = FitResult()
    best_score, best_state = None, None
    pending_losses, pending_norms, chunk_ms = [], [], []
    done, done_s, done_cpu = 0, 0.0, 0.0
    saved = resume.load(resume_file) if resume_file is not None else None
    if saved is not None:
        restore(saved, model, optimizer, scheduler, stream, device)
        result = FitResult(**saved.result)
        result.resumed_at.append(saved.step)
        best_score, best_state = saved.best_score, saved.best_state
        pending_losses, pending_norms, chunk_ms = saved.pending_losses, saved.pending_norms, saved.chunk_ms
        done, done_s, done_cpu = saved.step, saved.train_s, saved.cpu_s
    attempt_began = time.time()
    start = time.perf_counter() - done_s  # training seconds count the interrupted attempt's too
    chunk_start = saved_at = time.perf_counter()
    start_cpu = time.process_time() - done_cpu  # this process's CPU time: a sweep worker runs one run at a time

    def validate(step: int) -> None:
        nonlocal best_score, best_state
        result.val_seconds.append(time.perf_counter() - start)  # seconds since training began, as train_time_s
        value = metric(evaluate(model, val, task, cfg.precision)[0])
        model.train()
        result.val_curve.append((step, value))
        better = best_score is None or (value > best_score if metric.higher_is_better else value < best_score)
        if not math.isnan(value) and better:
            best_score, best_state, result.best_step = value, copy.deepcopy(model.state_dict()), step

    model.train()
    for step in range(done + 1, cfg.steps + 1):
        loss, norm = train_step(model, optimizer, loss_fn, next(stream), device, cfg.precision, clip)
        scheduler.step()
        pending_losses.append(loss.detach())
        pending_norms.append(norm.detach())
        result.steps = step
        # Synchronise with the device only once per chunk of steps.
        if step % cfg.log_every == 0 or step == cfg.steps:
            losses = torch.stack(pending_losses).float().cpu().numpy()
            result.grad_norms.extend(torch.stack(pending_norms).float().cpu().tolist())
            now = time.perf_counter()
            chunk_ms.append(1000 * (now - chunk_start) / len(losses))
            bad = np.flatnonzero(~np.isfinite(losses) | (np.abs(losses) > EXPLODED_LOSS))
            if bad.size:
                result.status, result.stopped_by = DIVERGED, DIVERGED
                result.diverged_at = step - len(losses) + 1 + int(bad[0])
                break
            result.loss_curve.append((step, float(losses.mean())))
            if progress:
                progress(step, float(losses[-1]))
            pending_losses, pending_norms = [], []
            if cfg.time_budget_s and now - start > cfg.time_budget_s:
                result.stopped_by = "time_budget"
            chunk_start = time.perf_counter()
        if step % cfg.eval_every == 0 or step == cfg.steps or result.stopped_by == "time_budget":
            validate(step)
            verdict = rule.verdict([v for _, v in result.val_curve])
            if cfg.early_stop and verdict:
                result.stopped_by = verdict
        if result.stopped_by != "steps":
            break
        if resume_file is not None and step < cfg.steps and resume.due(step, cfg, time.perf_counter() - saved_at):
            resume.save(resume_file, resume.FitState(
                step=step, model=model.state_dict(), optimizer=optimizer.state_dict(),
                scheduler=scheduler.state_dict(), best_score=best_score,
                result={**asdict(result), "spans": [*result.spans, (attempt_began, time.time())]},
                best_state=best_state, pending_losses=pending_losses, pending_norms=pending_norms,
                chunk_ms=chunk_ms, train_s=time.perf_counter() - start, cpu_s=time.process_time() - start_cpu,
                **resume.rng_state(device)))
            saved_at = time.perf_counter()
    result.train_time_s = time.perf_counter() - start
    if result.resumed_at:
        result.spans.append((attempt_began, time.time()))
    result.cpu_s = time.process_time() - start_cpu
    if result.status != DIVERGED:
        values = [v for _, v in result.val_curve]
        result.status = rule.final(values)
        first = rule.solved_at(values)
        if first is not None:
            result.solved_step, result.solved_s = result.val_curve[first][0], result.val_seconds[first]
    result.median_step_ms = float(np.median(chunk_ms)) if chunk_ms else float("nan")
    if best_state is not None:
        model.load_state_dict(best_state)
    return result


def restore(saved: resume.FitState, model, optimizer, scheduler, stream, device) -> None:
    """Put the model, optimiser, schedule, batch stream and RNG where the interrupted attempt was."""
    model.load_state_dict(saved.model)
    optimizer.load_state_dict(saved.optimizer)
    scheduler.load_state_dict(saved.scheduler)
    for _ in range(saved.step):  # the stream is a function of the run's seed: replay it to the step
        next(stream)
    resume.restore_rng(saved, device)


def make_optimizer(model, cfg: TrainConfig) -> torch.optim.Optimizer:
    return torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)


def train_step(model, optimizer, loss_fn, batch: Batch, device, precision: str, clip: float):
    """One optimiser step: forward, loss, backward, clip (inf: measure the norm only), update.
    Returns (loss, pre-clip grad norm) as tensors, unsynchronised. measure/memory.py probes this same step."""
    with autocast(device, precision):
        output, _ = model(batch.inputs, batch.lengths)
        loss = loss_fn(model.head, output, batch.targets)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    optimizer.step()
    return loss, norm


def stop_rule(task, cfg: TrainConfig) -> StopRule:
    """The task's threshold and the run's patience, as the rule that names the run's status."""
    return StopRule(task.solved, METRICS.get(task.metric).higher_is_better, cfg.hold, cfg.patience, cfg.tolerance)


@torch.no_grad()
def evaluate(model, batches: list[Batch], task, precision: str = "fp32") -> tuple[pd.DataFrame, float]:
    """Per-example statistics for every batch (see metrics.py), and throughput in tokens/s."""
    model.eval()
    tolerance = task.source.tolerance
    columns: dict[str, list] = {}
    tokens, start = 0, time.perf_counter()
    for batch in batches:
        with autocast(batch.inputs.device, precision):
            output, _ = model(batch.inputs, batch.lengths)
        stats = _example_stats(task.output, output.float(), batch, tolerance)
        stats.update(batch.slices)
        for key, value in stats.items():
            columns.setdefault(key, []).append(value.cpu())
        tokens += int(batch.lengths.sum())
    seconds = time.perf_counter() - start
    frame = pd.DataFrame({k: torch.cat(v).numpy() for k, v in columns.items()})
    frame = task.source.rescore(frame, batches, model)  # datasets may add columns (e.g. entity tags)
    return frame, tokens / max(seconds, 1e-9)


def _example_stats(kind: str, output: torch.Tensor, batch: Batch, tolerance) -> dict[str, torch.Tensor]:
    targets = batch.targets
    if kind == "regress":
        err = output - targets.float()
        return {"n_scored": torch.ones_like(err), "n_correct": (err.abs() < tolerance).float(),
                "sq_err": err.square(), "ce_sum": torch.zeros_like(err),
                "n_positions": batch.lengths.float()}
    if kind == "classify":
        ce = F.cross_entropy(output, targets, reduction="none")
        return {"n_scored": torch.ones_like(ce), "n_correct": (output.argmax(-1) == targets).float(),
                "ce_sum": ce, "n_positions": batch.lengths.float(), "pred": output.argmax(-1),
                "target": targets}
    scored = targets != IGNORE  # tag: (B, T)
    ce = F.cross_entropy(output.transpose(1, 2), targets, ignore_index=IGNORE, reduction="none")
    correct = (output.argmax(-1) == targets) & scored
    return {"n_scored": scored.sum(1).float(), "n_correct": correct.sum(1).float(),
            "ce_sum": ce.sum(1), "n_positions": batch.lengths.float()}
