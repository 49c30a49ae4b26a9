"""Harness overhead: seqbench's training step (`train.fit`) against a bare PyTorch loop.

Same model, batches, optimiser and clipping on both sides, interleaved, so machine noise hits both alike.
"""
from __future__ import annotations

import statistics
import time

import torch

from ..config import TrainConfig
from ..models.model import build_model
from ..tasks import get_task
from ..train import fit


def sync(device: torch.device | str) -> None:
    """Wait for queued CUDA work, so a wall-clock time covers it."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def bare_step_seconds(model: torch.nn.Module, stream, cfg: TrainConfig, steps: int, device="cpu") -> float:
    """A hand-written loop: forward, loss, backward, clip, AdamW step. Returns seconds per step."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    model.train()
    start = time.perf_counter()
    for _ in range(steps):
        batch = next(stream)
        _, loss = model(batch.inputs, batch.lengths, batch.targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
        optimizer.step()
    sync(device)
    return (time.perf_counter() - start) / steps


def harness_overhead(pairs=(("lstm", "adding", 100), ("lstm", "copy", 50), ("transformer", "adding", 100),
                            ("transformer", "copy", 50)), steps: int = 150, repeats: int = 3, device="cpu") -> list[dict]:
    """Per (model, task, length): median ms per step of `fit()` and of the bare loop, and their ratio."""
    rows = []
    for model_name, task_name, length in pairs:
        task = get_task(task_name)
        run = task.resolve(model_name, length, 0, {"train": {"steps": steps, "eval_every": 10**9, "log_every": 25}})
        val = task.eval_set("val", length, 0, 8, device).split(8)
        harness, bare = [], []
        for _ in range(repeats):  # interleaved, so drift in machine speed hits both
            model = build_model(run.model, task, seed=0).to(device)
            harness.append(fit(model, task, run.train, length, 0, torch.device(device), val).median_step_ms / 1000)
            model = build_model(run.model, task, seed=0).to(device)
            stream = task.train_batches(length, 0, run.train.batch_size, device)
            bare.append(bare_step_seconds(model, stream, run.train, steps, device))
        h, b = statistics.median(harness), statistics.median(bare)
        rows.append({"model": model_name, "task": task_name, "length": length, "harness_ms": 1000 * h,
                     "bare_ms": 1000 * b, "ratio": h / b})
    return rows
