"""`seqbench perf`: a benchmark of the benchmark. Runs the probes of seqbench/measure/ and writes
<results>/perf.json; `seqbench report` renders it (report/perf_section.py).

Every figure is a ratio of two things measured side by side in the same process and run,
interleaved, so machine noise hits both alike:
1. harness overhead: `fit()`'s step against a bare PyTorch loop (measure/harness.py);
2. data: synthetic batch generation as a share of a step; real datasets' first against cached
   load (measure/data_cost.py);
3. fused `nn.LSTM` against a per-step `LSTMCell` loop, and hf:mamba's loop over T against mamba.py's
   parallel scan (measure/fused.py);
4. sweep throughput: default workers x threads against one worker with all threads (sweep/throughput.py);
5. length scaling: seconds per step against sequence length from the run files (measure/scaling.py);
6. kernels: kernel paths, bf16 against fp32, MFU, torch.compile (measure/kernels.py), on the GPU when present.
"""
from __future__ import annotations

import argparse
import platform
from pathlib import Path

from .base import COMMANDS, Command, add_results_arg


def configure(p: argparse.ArgumentParser) -> None:
    add_results_arg(p)
    p.add_argument("--quick", action="store_true", help="fewer steps and repeats (a smoke check)")
    p.add_argument("--device", help="device of the per-step sections: cpu | cuda | cuda:N (default: cuda if present)")


def run_perf(results: Path, quick: bool = False, device: str | None = None) -> dict:
    """Every probe, written to <results>/perf.json; those about one training step run on `device`
    (CUDA when there is one)."""
    import torch

    from .. import sweep
    from ..measure.data_cost import data_share, real_data_loads
    from ..measure.fused import fused_vs_naive, mamba_scans
    from ..measure.harness import harness_overhead
    from ..measure.kernels import kernel_study
    from ..measure.scaling import length_scaling
    from ..provenance import provenance
    from ..runner import resolve_device
    from ..store import write_json_atomic
    from ..sweep.throughput import sweep_throughput
    from ..tasks import TASKS_DIR

    device = resolve_device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    torch.set_num_threads(1)
    workers, threads = sweep.default_workers_threads(None, None)
    report = {"platform": platform.platform(), "device": str(device), "provenance": provenance(device)}
    report["harness_overhead"] = harness_overhead(steps=60 if quick else 150, repeats=2 if quick else 3, device=device)
    report["data_share"] = data_share(steps=30 if quick else 100, device=device)
    report["real_data_loads"] = real_data_loads()
    report["fused_vs_naive"] = fused_vs_naive(lengths=(16, 64) if quick else (16, 64, 256), repeats=3 if quick else 5)
    # recall_mqar's sequence at 4 and 32 pairs (L = 16): 28 and 112 positions
    report["mamba_scans"] = mamba_scans(lengths=(28,) if quick else (28, 112), batch=16 if quick else 64,
                                        repeats=2 if quick else 3)
    report["sweep_throughput"] = sweep_throughput(TASKS_DIR / "suites" / "quick.yaml", workers, threads,
                                                  step_scale=0.1 if quick else 1.0, repeats=1 if quick else 2)
    report["length_scaling"] = length_scaling(results)
    if quick:  # small shapes; no compile (about 45 s per shape on 2 CPU cores)
        report["kernels"] = kernel_study(device, T=32, batch=8, compile_models=(), min_run_time=0.1)
    else:
        report["kernels"] = kernel_study(device, T=256, batch=32, compile_T=(256, 1024))
    report["gpu"] = ("measured" if device.type == "cuda" else
                     "no GPU on this machine: the kernel, bf16 and compile figures are for the CPU")
    write_json_atomic(Path(results) / "perf.json", report)
    return report


def run(args: argparse.Namespace) -> int:
    run_perf(args.results, quick=args.quick, device=args.device)
    print(f"perf -> {Path(args.results) / 'perf.json'}; 'seqbench report --results {args.results}' renders it")
    return 0


COMMANDS.register("perf", Command(configure, run, "benchmark the benchmark: overhead, data, fused kernels, throughput"))
