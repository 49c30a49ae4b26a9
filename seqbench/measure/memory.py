"""Peak memory of one training step, per model: what the allocator holds, not what the process holds.

Process RSS (the old `cpu_max_rss`) counts the interpreter, torch's libraries and every earlier
run's high-water mark, so it does not compare models. Here a copy of the trained model takes one
fresh optimiser step (the first step is the costliest: gradients and AdamW's two moment buffers
are created in it) on one training batch, and the peak is

    resident (parameters and buffers of the copy) + the step's high-water mark of new allocations.

On CPU the high-water mark comes from torch.profiler's allocation events (profile_memory: every
allocation and free of the CPU allocator, in order); on CUDA from max_memory_allocated over the
step. The probe runs after training on a copy, so it never changes a run's numbers.

    peak = step_peak(model, lambda m: train_step(m, make_optimizer(m, cfg), ...), device)
    peak.block()  # {"kind": "cpu_allocator_step", "peak_mb": 9.1, "resident_mb": 0.3}
"""
from __future__ import annotations

import contextlib
import copy
import os
from dataclasses import dataclass
from typing import Callable

import torch

KINDS = {"cpu": "cpu_allocator_step", "cuda": "cuda_max_allocated_step"}


@dataclass(frozen=True)
class StepPeak:
    kind: str  # how it was measured: a KINDS value
    peak_mb: float  # resident + the step's high-water mark, MiB
    resident_mb: float  # parameters and buffers alone, MiB

    def block(self) -> dict:
        """The run file's `memory` block."""
        return {"kind": self.kind, "peak_mb": self.peak_mb, "resident_mb": self.resident_mb}


def resident_bytes(model: torch.nn.Module) -> int:
    tensors = list(model.parameters()) + list(model.buffers())
    return sum(t.numel() * t.element_size() for t in tensors)


def _walk(nodes):
    for node in nodes:
        yield node
        yield from _walk(node.children)


def high_water(sizes: list[int]) -> int:
    """The largest running total of allocations (+) and frees (-), in bytes: [4, -4, 8, 2, -10] -> 10."""
    total = peak = 0
    for size in sizes:
        total += size
        peak = max(peak, total)
    return peak


@contextlib.contextmanager
def _quiet_stderr():
    """Kineto writes a line to fd 2 at each profiler start and stop: keep it out of sweep logs."""
    fd = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(fd, 2)
        os.close(fd)


def _cpu_high_water(step: Callable[[], None]) -> int:
    from torch._C._profiler import _EventType
    from torch.profiler import ProfilerActivity, profile

    with _quiet_stderr(), profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        step()
    events = [e for e in _walk(prof.profiler.kineto_results.experimental_event_tree())
              if e.tag == _EventType.Allocation and e.extra_fields.device.type == "cpu"]
    events.sort(key=lambda e: e.start_time_ns)
    return high_water([e.extra_fields.alloc_size for e in events])


def _cuda_high_water(step: Callable[[], None], device: torch.device) -> int:
    torch.cuda.synchronize(device)
    before = torch.cuda.memory_allocated(device)
    torch.cuda.reset_peak_memory_stats(device)
    step()
    torch.cuda.synchronize(device)
    return max(0, torch.cuda.max_memory_allocated(device) - before)


def step_peak(model: torch.nn.Module, step: Callable[[torch.nn.Module], None], device: torch.device) -> StepPeak:
    """Peak memory of `step(copy_of_model)`: one training step on a copy whose gradients are cleared."""
    probe = copy.deepcopy(model)
    probe.zero_grad(set_to_none=True)
    probe.train()
    resident = resident_bytes(probe)
    if device.type == "cuda":
        extra = _cuda_high_water(lambda: step(probe), device)
    else:
        extra = _cpu_high_water(lambda: step(probe))
    del probe
    return StepPeak(KINDS.get(device.type, f"{device.type}_allocator_step"),
                    (resident + extra) / 2**20, resident / 2**20)
