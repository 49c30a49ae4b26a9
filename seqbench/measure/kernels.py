"""Which kernels a training step takes, and what bf16 autocast and torch.compile buy.

Kernel paths are read from the ATen operators that `torch.profiler` records during one training
step. Operator names are the same on every device, so the check runs on CPU and GPU alike:
- recurrent models: cuDNN (`aten::_cudnn_rnn`) on CUDA, oneDNN (`aten::mkldnn_rnn_layer`) on
  CPU, or else ATen's own fused C++ loop (`aten::lstm`, `aten::gru`, `aten::rnn_tanh` alone);
- the Transformer: which scaled-dot-product-attention backend ran (flash, memory-efficient,
  cuDNN), or the unfused math fallback.

Step times are medians of `torch.utils.benchmark` blocks (which synchronise CUDA). MFU is the
analytic FLOPs of flops.py per second over the FLOP/s of a large matmul in the same dtype.
"""
from __future__ import annotations

import copy
import time

import torch

from ..models.model import build_model
from .flops import train_flops
from .speed import peak_flops, random_batch, time_call, train_step_fn

# (path, operators that reveal it, a vendor or fused-attention kernel?): the first match wins.
KERNEL_PATHS = (
    ("cudnn_rnn", {"aten::_cudnn_rnn"}, True),
    ("onednn_rnn", {"aten::mkldnn_rnn_layer"}, True),
    ("sdpa_flash", {"aten::_scaled_dot_product_flash_attention",
                    "aten::_scaled_dot_product_flash_attention_for_cpu"}, True),
    ("sdpa_efficient", {"aten::_scaled_dot_product_efficient_attention"}, True),
    ("sdpa_cudnn", {"aten::_scaled_dot_product_cudnn_attention"}, True),
    ("sdpa_math", {"aten::_scaled_dot_product_attention_math"}, False),
    ("aten_rnn_loop", {"aten::lstm", "aten::gru", "aten::rnn_tanh", "aten::rnn_relu"}, False),
)


def classify(ops: set[str]) -> tuple[str | None, bool]:
    """The kernel path that a set of recorded operator names reveals, and whether it is fast."""
    for path, names, fast in KERNEL_PATHS:
        if ops & names:
            return path, fast
    return None, False


def recorded_ops(step) -> tuple[set[str], list[str]]:
    """ATen operators seen during one call of `step`, and the names of the costliest GPU kernels."""
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if torch.cuda.is_available() else [])
    with profile(activities=activities) as prof:
        step()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
    events = prof.key_averages()
    ops = {e.key for e in events}
    device_time = lambda e: getattr(e, "device_time_total", 0) or getattr(e, "cuda_time_total", 0)  # noqa: E731
    gpu = [e.key for e in sorted(events, key=device_time, reverse=True)
           if not e.key.startswith("aten::") and device_time(e) > 0][:8]
    return ops, gpu


def measure_model(name: str, task, T: int, batch: int, device: torch.device, peaks: dict,
                  min_run_time: float, compile_model: bool) -> dict:
    """fp32 and bf16 step times, kernel paths and MFU of one model; compiled too if asked."""
    model_cfg = task.resolve(name, T, 0).model  # at T: a learned position table covers it
    model = build_model(model_cfg, task, seed=0).to(device).train()
    inputs, lengths, targets = random_batch(task, batch, T, device, torch.Generator().manual_seed(0))
    flops = train_flops(model, batch, T)
    row = {"model": name, "T": T, "batch": batch, "flops_train": flops}
    for precision in ("fp32", "bf16"):
        step = train_step_fn(model, inputs, lengths, targets, precision)
        try:
            ops, gpu_kernels = recorded_ops(step)
            seconds = time_call(step, torch.get_num_threads(), min_run_time)
        except (RuntimeError, NotImplementedError) as exc:  # e.g. a kernel without bf16 support
            row[precision] = {"error": str(exc).strip().splitlines()[0][:300]}
            continue
        path, fast = classify(ops)
        row[precision] = {"train_ms": 1e3 * seconds, "kernel_path": path, "fast_path": fast,
                          "mfu": flops / seconds / peaks[precision], "gpu_kernels": gpu_kernels}
    if "train_ms" in row["fp32"] and "train_ms" in row["bf16"]:
        row["bf16_speedup"] = row["fp32"]["train_ms"] / row["bf16"]["train_ms"]
    if compile_model:
        try:
            row.update(compiled_timing(model, inputs, lengths, targets, flops, peaks["fp32"], min_run_time))
        except Exception as exc:  # noqa: BLE001 - any compiler failure is a finding, not a crash
            row["compiled"] = {"error": str(exc).strip().splitlines()[0][:300]}
        if "train_ms" in row["compiled"] and "train_ms" in row["fp32"]:
            row["compile_speedup"] = row["fp32"]["train_ms"] / row["compiled"]["train_ms"]
    return row


def compiled_timing(model, inputs, lengths, targets, flops: int, peak: float, min_run_time: float) -> dict:
    compiled = copy.deepcopy(model)
    compiled.compile()
    step = train_step_fn(compiled, inputs, lengths, targets)
    start = time.perf_counter()
    step()  # the first call compiles forward and backward
    compile_s = time.perf_counter() - start
    seconds = time_call(step, torch.get_num_threads(), min_run_time)
    return {"compile_s": compile_s, "compiled": {"train_ms": 1e3 * seconds, "mfu": flops / seconds / peak}}


def kernel_study(device: torch.device, models=("rnn", "lstm", "gru", "bilstm", "transformer"),
                 task_name: str = "copy", T: int = 256, batch: int = 32, compile_models=("transformer",),
                 compile_T: tuple[int, ...] = (1024,), min_run_time: float = 0.5) -> dict:
    """Kernel paths, bf16 against fp32 and (for `compile_models`) compiled against eager."""
    from ..tasks import get_task

    task = get_task(task_name)
    n = 4096 if device.type == "cuda" else 1024
    threads = torch.get_num_threads()
    peaks = {"fp32": peak_flops(device, threads, n, min_run_time),
             "bf16": peak_flops(device, threads, n, min_run_time, dtype=torch.bfloat16)}
    rows = [measure_model(m, task, T, batch, device, peaks, min_run_time, m in compile_models and T in compile_T)
            for m in models]
    rows += [measure_model(m, task, t, batch, device, peaks, min_run_time, True)
             for m in compile_models for t in compile_T if t != T]
    return {"device": str(device), "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
            "threads": threads, "task": task_name, "matmul_n": n,
            "peak_flops": peaks, "rows": rows,
            "cudnn": {"available": torch.backends.cudnn.is_available(), "enabled": torch.backends.cudnn.enabled},
            "bf16_helps": {r["model"]: r.get("bf16_speedup", 0) > 1.05 for r in rows if r["T"] == T}}
