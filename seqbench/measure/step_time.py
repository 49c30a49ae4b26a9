"""Seconds per training step, measured: a few timed steps at a run's shape, cached in the results.

The sweep's estimate (estimate.py) learns step times from finished runs; a model with no history
whose cost is far from the median (the hf models: Mamba's reference scan is ~100x an nn.LSTM
step on CPU) is measured instead of guessed. One thread, as a sweep worker runs by default.
The cache (<results>/measure/step-times.json) is keyed by everything that sets a step's cost.
"""
from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

import torch

from ..atomic import write_text_atomic
from ..config import RunConfig
from ..models.hf import presets
from ..models.model import build_model

CACHE = Path("measure") / "step-times.json"
TIMED_STEPS = 3  # after one warm-up step


def cache_key(cfg: RunConfig, seq_len: int) -> str:
    m, t = cfg.model, cfg.train
    # An hf model's cost is set by its preset's config too (use_mambapy: up to 6x faster a step), not only by
    # the run's overrides, so a preset change re-times it.
    preset = presets().get(m.name)
    hf = json.dumps({**preset.config, **m.hf} if preset else m.hf, sort_keys=True, default=str)
    return (f"{cfg.task}|{m.name}|T={seq_len}|B={t.batch_size}|params={m.params}|layers={m.n_layers}|hf={hf}"
            f"|{t.device}|{t.precision}|threads=1|v{cfg.task_version}")


def time_steps(cfg: RunConfig, task, seq_len: int) -> float:
    """Median seconds of a training step (forward, backward, AdamW) at the run's batch and length."""
    from ..precision import autocast
    from .speed import random_batch

    device = torch.device(cfg.train.device)
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        model = build_model(cfg.model, task, seed=0).to(device).train()
        optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.train.lr)
        inputs, lengths, targets = random_batch(task, cfg.train.batch_size, seq_len, device, torch.Generator().manual_seed(0))

        def step():
            with autocast(device, cfg.train.precision):
                _, loss = model(inputs, lengths, targets)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)

        times = []
        for _ in range(1 + TIMED_STEPS):
            start = time.perf_counter()
            step()
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            times.append(time.perf_counter() - start)
        return statistics.median(times[1:])
    finally:
        torch.set_num_threads(previous)


def measured_step_seconds(cfg: RunConfig, task, seq_len: int, results: Path) -> float:
    """Seconds per training step of `cfg`, from the cache or timed now (and cached)."""
    path = Path(results) / CACHE
    try:
        cache = json.loads(path.read_text())
    except (OSError, ValueError):
        cache = {}
    key = cache_key(cfg, seq_len)
    if key not in cache:
        cache[key] = time_steps(cfg, task, seq_len)
        write_text_atomic(path, json.dumps(cache, indent=1, sort_keys=True))
    return float(cache[key])
