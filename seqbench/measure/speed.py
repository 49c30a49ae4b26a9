"""Cost against length: forward and forward+backward time, memory, FLOP/s, threads.

For each model at a fixed batch and parameter budget, over a geometric grid of sequence lengths T:
- time: `torch.utils.benchmark.Timer.blocked_autorange` (one warm-up call first; the median of
  the blocks). Timer's default timer synchronises CUDA, so GPU times are complete.
- memory: bytes saved for backward during the forward pass (counted with
  `torch.autograd.graph.saved_tensors_hooks`, each storage once). This is the activation memory
  that grows with T, and it is measured the same way on every device; on CUDA
  `max_memory_allocated` over a training step is recorded as well.
- FLOPs: the analytic counts of flops.py; achieved FLOP/s over the peak FLOP/s of a large
  matmul on the same device and thread count gives the MFU.
- exponent: of the power law time = a * T^b (measure/power_law.py) over T >= `fit_from` (below that,
  fixed per-call overhead dominates).
- thread scaling: forward+backward time at one mid length with 1 thread over `scale_threads`.

The grid stops growing for a model once a training step takes longer than `time_limit_s`, or its
activation memory is predicted to pass `memory_limit_gb`; the reason is recorded.
"""
from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass

import torch
from torch.utils import benchmark

from ..models import MODELS
from ..models.model import build_model, count_params
from .power_law import fit_power_law
from .flops import model_flops, train_flops


@dataclass(frozen=True)
class SpeedConfig:
    task: str = "copy"  # task whose input and head the models are built for
    models: tuple[str, ...] = ()  # empty: every registered model
    batch_size: int = 8  # sequences per call
    params: int = 100_000  # parameter budget, as in a run
    lengths: tuple[int, ...] = ()  # empty: 16, 32, ... up to max_length
    max_length: int = 4096  # longest T of the default grid
    threads: int = 1  # torch threads for the length grid
    scale_threads: int = 0  # thread count compared with 1 thread (0: os.cpu_count())
    scale_length: int = 512  # T of the thread-scaling measurement
    time_limit_s: float = 2.0  # stop growing T once one training step takes longer (seconds)
    memory_limit_gb: float = 4.0  # ... or activation memory would pass this
    min_run_time: float = 0.2  # seconds of timing per measurement
    fit_from: int = 256  # fit the exponent on T >= this
    matmul_n: int = 0  # size of the peak-FLOP/s matmul (0: 1024 on CPU, 4096 on GPU)
    device: str = "cpu"

    def grid(self) -> list[int]:
        if self.lengths:
            return sorted(set(self.lengths))
        return [2**k for k in range(4, int(math.log2(self.max_length)) + 1)]


def random_batch(task, batch: int, T: int, device, gen: torch.Generator):
    """Inputs, lengths and targets of the task's kinds and shapes, with random content."""
    if task.vocab_size:
        inputs = torch.randint(0, task.vocab_size, (batch, T), generator=gen).to(device)
    else:
        inputs = torch.rand((batch, T, task.source.n_features), generator=gen).to(device)
    lengths = torch.full((batch,), T, dtype=torch.long, device=device)
    if task.output == "tag":
        targets = torch.randint(0, task.n_classes, (batch, T), generator=gen).to(device)
    elif task.output == "classify":
        targets = torch.randint(0, task.n_classes, (batch,), generator=gen).to(device)
    else:
        targets = torch.rand((batch,), generator=gen).to(device)
    return inputs, lengths, targets


def time_call(fn, threads: int, min_run_time: float) -> float:
    """Median seconds per call of `fn`, after one warm-up call."""
    fn()
    timer = benchmark.Timer(stmt="fn()", globals={"fn": fn}, num_threads=threads)
    return float(timer.blocked_autorange(min_run_time=min_run_time).median)


def train_step_fn(model, inputs, lengths, targets, precision: str = "fp32"):
    """A closure for one training step's work: forward (autocast to `precision`), backward, and
    zeroing the gradients so that repeated calls do not accumulate."""
    from ..precision import autocast

    def train_step():
        with autocast(inputs.device, precision):
            _, loss = model(inputs, lengths, targets)
        loss.backward()
        model.zero_grad(set_to_none=True)
    return train_step


def saved_bytes(model, inputs, lengths, targets) -> int:
    """Bytes of the tensors autograd saves for backward in one training forward pass."""
    seen: dict[tuple, int] = {}

    def pack(t: torch.Tensor):
        storage = t.untyped_storage()
        seen[(storage.data_ptr(), t.device.type)] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        _, loss = model(inputs, lengths, targets)
    del loss
    return int(sum(seen.values()))


def peak_flops(device: torch.device, threads: int, n: int, min_run_time: float,
               dtype: torch.dtype = torch.float32) -> float:
    """FLOP/s of an n x n by n x n matmul in `dtype`: the device's practical peak."""
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    seconds = time_call(lambda: torch.mm(a, b), threads, min_run_time)
    return 2 * n**3 / seconds


def analytic_flops(model, batch: int, T: int) -> tuple[int | None, int | None]:
    """Forward and training FLOPs from flops.py's formulas; None for encoders without one (hf models)."""
    try:
        return model_flops(model, batch, T), train_flops(model, batch, T)
    except TypeError:
        return None, None


def measure_model(name: str, cfg: SpeedConfig, task, device, peak: dict[int, float], log=print) -> dict:
    # Resolved at the longest length probed, so a learned position table covers every T.
    model_cfg = task.resolve(name, max(cfg.grid()), 0, {"model": {"params": cfg.params}}).model
    model = build_model(model_cfg, task, seed=0).to(device)
    gen = torch.Generator().manual_seed(0)
    B = cfg.batch_size
    points, stopped = [], None
    memory_limit = cfg.memory_limit_gb * 2**30
    for T in cfg.grid():
        if len(points) >= 2 and points[-1]["saved_bytes"]:  # predict the next step's memory
            a, b = points[-2], points[-1]
            growth = max(1.0, math.log(b["saved_bytes"] / a["saved_bytes"]) / math.log(b["T"] / a["T"]))
            if b["saved_bytes"] * (T / b["T"]) ** growth > memory_limit:
                stopped = f"memory limit {cfg.memory_limit_gb} GB predicted at T={T}"
                break
        inputs, lengths, targets = random_batch(task, B, T, device, gen)

        def forward():
            with torch.no_grad():
                model(inputs, lengths)

        train_step = train_step_fn(model, inputs, lengths, targets)
        try:
            model.eval()
            forward_s = time_call(forward, cfg.threads, cfg.min_run_time)
            model.train()
            memory = saved_bytes(model, inputs, lengths, targets)
            cuda_peak = None
            if device.type == "cuda":
                torch.cuda.synchronize(device)
                torch.cuda.reset_peak_memory_stats(device)
                base = torch.cuda.memory_allocated(device)
                train_step()
                torch.cuda.synchronize(device)
                cuda_peak = torch.cuda.max_memory_allocated(device) - base
            train_s = time_call(train_step, cfg.threads, cfg.min_run_time)
        except torch.OutOfMemoryError:
            stopped = f"out of memory at T={T}"
            break
        f_fwd, f_train = analytic_flops(model, B, T)
        points.append({
            "T": T, "forward_ms": 1e3 * forward_s, "train_ms": 1e3 * train_s,
            "tokens_per_s_forward": B * T / forward_s, "tokens_per_s_train": B * T / train_s,
            "flops_forward": f_fwd, "flops_train": f_train,
            "mfu_forward": f_fwd / forward_s / peak[cfg.threads] if f_fwd else None,
            "mfu_train": f_train / train_s / peak[cfg.threads] if f_train else None,
            "saved_bytes": memory, "cuda_peak_bytes": cuda_peak,
            "sequential_depth": model.encoder.sequential_depth(T),
        })
        log(f"  {name:12s} T={T:5d} forward {1e3 * forward_s:9.2f} ms  train {1e3 * train_s:9.2f} ms  "
            f"saved {memory / 2**20:8.1f} MiB")
        if train_s > cfg.time_limit_s:
            stopped = f"time limit {cfg.time_limit_s}s passed at T={T}"
            break
    Ts = [p["T"] for p in points]
    laws = {key: fit_power_law(Ts, [p[f"{key}_ms"] for p in points], x_min=cfg.fit_from) for key in ("forward", "train")}
    result = {
        **count_params(model), "width": model.width, "points": points, "stopped": stopped,
        # hf models: "reference" when transformers ran its PyTorch scan instead of fused kernels
        "kernel": model.encoder.info(device).get("kernel"),
        "exponent": {key: law.exponent if law else None for key, law in laws.items()},
    }
    result["thread_scaling"] = thread_scaling(model, task, cfg, device, Ts)
    return result


def thread_scaling(model, task, cfg: SpeedConfig, device, measured: list[int]) -> dict | None:
    """Training-step time at one mid length with 1 thread and with `scale_threads`."""
    n = cfg.scale_threads or os.cpu_count() or 1
    if device.type != "cpu" or n <= 1 or not measured:
        return None
    T = max([t for t in measured if t <= cfg.scale_length] or [min(measured)])
    inputs, lengths, targets = random_batch(task, cfg.batch_size, T, device, torch.Generator().manual_seed(1))
    model.train()
    train_step = train_step_fn(model, inputs, lengths, targets)
    one = time_call(train_step, 1, cfg.min_run_time)
    many = time_call(train_step, n, cfg.min_run_time)
    return {"T": T, "threads": n, "train_ms_1": 1e3 * one, "train_ms_n": 1e3 * many, "speedup": one / many}


def measure(cfg: SpeedConfig, log=print) -> dict:
    """The whole speed study: peak FLOP/s, then every model over the length grid."""
    from ..provenance import provenance
    from ..tasks import get_task

    device = torch.device(cfg.device)  # checked by the caller (the speed command resolves it first)
    task = get_task(cfg.task)
    names = list(cfg.models) or MODELS.names()
    for name in names:  # every model must meet the budget before any timing starts
        build_model(task.resolve(name, task.lengths[0], 0, {"model": {"params": cfg.params}}).model, task)
    previous = torch.get_num_threads()
    n = cfg.matmul_n or (4096 if device.type == "cuda" else 1024)
    torch.set_num_threads(cfg.threads)  # warm-up and memory calls run outside the Timer
    try:
        peak = {cfg.threads: peak_flops(device, cfg.threads, n, cfg.min_run_time)}
        log(f"peak matmul ({n}x{n}, {cfg.threads} thread(s)): {peak[cfg.threads] / 1e9:.1f} GFLOP/s")
        models = {}
        for name in names:
            models[name] = measure_model(name, cfg, task, device, peak, log)
        prov = provenance(device)
    finally:
        torch.set_num_threads(previous)
    return {
        "kind": "speed", "config": asdict(cfg), "device": str(device),
        "peak_flops": {str(k): v for k, v in peak.items()}, "matmul_n": n,
        "memory_kind": "saved_for_backward" + ("+cuda_max_allocated" if device.type == "cuda" else ""),
        "models": models, "provenance": prov,
        # Other processes on the machine skew times, thread scaling most: keep the load beside them.
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }
