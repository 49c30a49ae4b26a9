"""`seqbench perf`: a benchmark of the benchmark. Every figure is a ratio of two things measured
side by side in the same process and run, interleaved, so machine noise hits both alike.

1. harness overhead: seqbench's `fit()` step against a bare PyTorch loop (same model, batches,
   optimiser, clipping), per model and task;
2. data: synthetic batch generation as a share of a training step; each real dataset's first load
   against its cached load;
3. fused against naive: `nn.LSTM` against a per-step `nn.LSTMCell` loop, forward + backward;
4. sweep throughput: the local executor's default workers x threads against the same runs one
   after another with all threads;
5. length scaling: seconds per step against sequence length, fitted per model from the run files;
6. kernels: which fused kernel each model's step takes, bf16 autocast against fp32, MFU, and
   torch.compile against eager for the Transformer (measure/kernels.py), on the GPU when present.
"""
from __future__ import annotations

import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from .config import TrainConfig
from .models.model import build_model
from .provenance import provenance
from .store import write_json_atomic
from .tasks import TASKS_DIR, get_task
from .train import fit


def _sync(device) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def _bare_steps(model, stream, cfg: TrainConfig, steps: int, device="cpu") -> float:
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
    _sync(device)
    return (time.perf_counter() - start) / steps


def _harness_steps(model, task, cfg: TrainConfig, length: int, val, device="cpu") -> float:
    result = fit(model, task, cfg, length, 0, torch.device(device), val)
    return result.median_step_ms / 1000


def harness_overhead(pairs=(("lstm", "adding", 100), ("lstm", "copy", 50), ("transformer", "adding", 100),
                            ("transformer", "copy", 50)), steps: int = 150, repeats: int = 3, device="cpu") -> list[dict]:
    rows = []
    for model_name, task_name, length in pairs:
        task = get_task(task_name)
        run = task.resolve(model_name, length, 0, {"train": {"steps": steps, "eval_every": 10**9, "log_every": 25}})
        val = task.eval_set("val", length, 0, 8, device).split(8)
        harness, bare = [], []
        for _ in range(repeats):  # interleaved, so drift in machine speed hits both
            model = build_model(run.model, task, seed=0).to(device)
            harness.append(_harness_steps(model, task, run.train, length, val, device))
            model = build_model(run.model, task, seed=0).to(device)
            stream = task.train_batches(length, 0, run.train.batch_size, device)
            bare.append(_bare_steps(model, stream, run.train, steps, device))
        h, b = statistics.median(harness), statistics.median(bare)
        rows.append({"model": model_name, "task": task_name, "length": length, "harness_ms": 1000 * h,
                     "bare_ms": 1000 * b, "ratio": h / b})
    return rows


def data_share(pairs=(("lstm", "adding", 100), ("lstm", "copy", 50), ("lstm", "recall", 64)), steps: int = 100,
               device="cpu") -> list[dict]:
    rows = []
    for model_name, task_name, length in pairs:
        task = get_task(task_name)
        run = task.resolve(model_name, length, 0, {})
        stream = task.train_batches(length, 0, run.train.batch_size, device)
        start = time.perf_counter()
        for _ in range(steps):
            next(stream)
        _sync(device)
        gen = (time.perf_counter() - start) / steps
        model = build_model(run.model, task, seed=0).to(device)
        step = _bare_steps(model, task.train_batches(length, 0, run.train.batch_size, device), run.train, steps, device)
        rows.append({"task": task_name, "length": length, "model": model_name, "data_ms": 1000 * gen,
                     "step_ms": 1000 * step, "share": gen / step})
    return rows


class NaiveLSTM(torch.nn.Module):
    """A per-step LSTMCell loop: the slow path seqbench never takes, kept to show the difference."""

    def __init__(self, fused: torch.nn.LSTM):
        super().__init__()
        self.cell = torch.nn.LSTMCell(fused.input_size, fused.hidden_size)
        with torch.no_grad():
            self.cell.weight_ih.copy_(fused.weight_ih_l0)
            self.cell.weight_hh.copy_(fused.weight_hh_l0)
            self.cell.bias_ih.copy_(fused.bias_ih_l0)
            self.cell.bias_hh.copy_(fused.bias_hh_l0)

    def forward(self, x):
        h = x.new_zeros(x.shape[0], self.cell.hidden_size)
        c = torch.zeros_like(h)
        outs = []
        for step in x.unbind(1):  # unbind, not x[:, t]: slicing in a loop makes backward quadratic
            h, c = self.cell(step, (h, c))
            outs.append(h)
        return torch.stack(outs, 1)


def real_data_loads(names=("sst2", "imdb", "conll2003")) -> list[dict]:
    """Each real dataset's first load (read, tokenise, write the cache) against a load from the
    cache, both into a fresh cache directory. A dataset without data is listed as skipped."""
    from .data import real
    from .errors import UserError
    rows = []
    previous = os.environ.get("SEQBENCH_CACHE")
    for name in names:
        task = get_task(name)
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["SEQBENCH_CACHE"] = tmp
            try:
                loads = []
                for _ in range(2):
                    real.forget_loaded()
                    loads.append(task.source.loaded)
            except UserError as exc:
                rows.append({"task": name, "skipped": str(exc)})
                continue
            finally:
                real.forget_loaded()
                if previous is None:
                    os.environ.pop("SEQBENCH_CACHE", None)
                else:
                    os.environ["SEQBENCH_CACHE"] = previous
        first, cached = loads
        rows.append({"task": name, "first_s": first.load_seconds, "cached_s": cached.load_seconds,
                     "second_from_cache": cached.from_cache, "speedup": first.load_seconds / cached.load_seconds})
    return rows


def fused_vs_naive(lengths=(16, 64, 256), batch: int = 64, width: int = 128, repeats: int = 5) -> list[dict]:
    rows = []
    fused = torch.nn.LSTM(32, width, batch_first=True)
    naive = NaiveLSTM(fused)
    for T in lengths:
        x = torch.randn(batch, T, 32)

        def once(module, call):
            start = time.perf_counter()
            out = call(module)
            out.sum().backward()
            return time.perf_counter() - start
        f = [once(fused, lambda m: m(x)[0]) for _ in range(repeats)]
        n = [once(naive, lambda m: m(x)) for _ in range(repeats)]
        with torch.no_grad():
            out_f, out_n = fused(x)[0], naive(x)
        rows.append({"T": T, "fused_ms": 1000 * statistics.median(f), "naive_ms": 1000 * statistics.median(n),
                     "speedup": statistics.median(n) / statistics.median(f),
                     "max_abs_diff": float((out_f - out_n).abs().max())})
    return rows


def throughput_suite(quick_suite: Path, step_scale: float = 1.0) -> dict:
    """The quick suite's recurrent runs on its synthetic tasks, at each task's middle length and
    one seed: the runs the throughput goal is about, made on the device, so no data is needed."""
    import yaml

    from .models import MODELS
    quick = yaml.safe_load(Path(quick_suite).read_text())
    tasks = {}
    for name, settings in quick["tasks"].items():
        if not hasattr(get_task(name).source, "sample"):
            continue  # real data: needs a data directory, and is not what the goal is about
        lengths = settings.get("lengths") or list(get_task(name).lengths)
        train = dict(settings.get("train", {}))
        train["steps"] = max(10, int(train.get("steps", TrainConfig.steps) * step_scale))
        tasks[name] = {**settings, "lengths": [lengths[len(lengths) // 2]], "train": train}
    models = [m for m in quick["models"] if MODELS.meta(m).get("family") == "recurrent"]
    return {**quick, "name": "perf-throughput", "seeds": [0], "models": models, "tasks": tasks}


def sweep_throughput(quick_suite: Path, step_scale: float = 1.0, repeats: int = 2) -> dict:
    """Default workers x threads against one worker with all threads, on the same recurrent runs.

    Each sweep is timed end to end (start-up included), as a user would see it. The modes run in
    ABBA order (parallel, serial, serial, parallel, ...) so that a drift in the machine's speed
    during the measurement hits both alike."""
    import yaml

    from .store import load_runs
    from .sweep import default_workers_threads, sweep
    cores = os.cpu_count() or 1
    workers, threads = default_workers_threads(None, None)
    suite = throughput_suite(quick_suite, step_scale)
    modes = {"parallel": (workers, threads), "serial": (1, cores)}
    out = {"workers": workers, "threads": threads, "cores": cores, "suite": suite, "repeats": repeats}
    order = [label for i in range(repeats) for label in (("parallel", "serial") if i % 2 == 0 else ("serial", "parallel"))]
    totals = {label: {"workers": w, "threads": t, "runs": 0, "seconds": 0.0, "sweeps_s": [], "train_s_by_model": {}}
              for label, (w, t) in modes.items()}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "suite.yaml"
        path.write_text(yaml.safe_dump(suite))
        for i, label in enumerate(order):
            w, t = modes[label]
            start = time.perf_counter()
            summary = sweep(path, Path(tmp) / f"{label}-{i}", workers=w, threads=t, quiet=True)
            seconds = time.perf_counter() - start
            total = totals[label]
            total["runs"] += summary["todo"]
            total["seconds"] += seconds
            total["sweeps_s"].append(seconds)
            for r in load_runs(Path(tmp) / f"{label}-{i}")[0]:
                model = r["config"]["model"]["name"]
                total["train_s_by_model"][model] = total["train_s_by_model"].get(model, 0.0) + r["timing"]["train_time_s"]
    for label, total in totals.items():
        total["runs_per_hour"] = 3600 * total["runs"] / total["seconds"]
        total["train_s_by_model"] = dict(sorted(total["train_s_by_model"].items()))
        out[label] = total
    out["ratio"] = out["parallel"]["runs_per_hour"] / out["serial"]["runs_per_hour"]
    # Per model: training seconds with all threads over those of one thread, times the workers
    # sharing the cores: above 1, parallel runs beat threads for that model.
    out["ratio_by_model"] = {m: workers * out["serial"]["train_s_by_model"][m] / s
                             for m, s in out["parallel"]["train_s_by_model"].items()}
    return out


def length_scaling(results: Path) -> list[dict]:
    """Seconds per step against sequence length per model, fitted (log-log) from the run files."""
    from .store import load_runs
    records, _ = load_runs(results)
    points: dict = {}
    for r in records:
        if r["status"] == "ok" and r["steps"] and r["timing"].get("median_step_ms") and r["task"].get("seq_len"):
            points.setdefault(r["config"]["model"]["name"], []).append((r["task"]["seq_len"], r["timing"]["median_step_ms"]))
    rows = []
    for model, pts in sorted(points.items()):
        if len({t for t, _ in pts}) < 2:
            continue
        slope, intercept = np.polyfit(np.log([p[0] for p in pts]), np.log([p[1] for p in pts]), 1)
        rows.append({"model": model, "exponent": float(slope), "ms_per_step_at_100": float(np.exp(intercept) * 100**slope),
                     "ms_per_step_at_1000": float(np.exp(intercept) * 1000**slope), "n_runs": len(pts)})
    return rows


def run_perf(results: Path, quick: bool = False, device: str | None = None) -> dict:
    """Every section; those about one training step run on `device` (CUDA when there is one)."""
    from .measure.kernels import kernel_study
    from .runner import resolve_device

    device = resolve_device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    torch.set_num_threads(1)
    report = {"platform": platform.platform(), "device": str(device), "provenance": provenance(device)}
    report["harness_overhead"] = harness_overhead(steps=60 if quick else 150, repeats=2 if quick else 3, device=device)
    report["data_share"] = data_share(steps=30 if quick else 100, device=device)
    report["real_data_loads"] = real_data_loads()
    report["fused_vs_naive"] = fused_vs_naive(lengths=(16, 64) if quick else (16, 64, 256), repeats=3 if quick else 5)
    report["sweep_throughput"] = sweep_throughput(TASKS_DIR / "suites" / "quick.yaml", step_scale=0.1 if quick else 1.0,
                                                  repeats=1 if quick else 2)
    report["length_scaling"] = length_scaling(results)
    if quick:  # small shapes; no compile (about 45 s per shape on 2 CPU cores)
        report["kernels"] = kernel_study(device, T=32, batch=8, compile_models=(), min_run_time=0.1)
    else:
        report["kernels"] = kernel_study(device, T=256, batch=32, compile_T=(256, 1024))
    report["gpu"] = ("measured" if device.type == "cuda" else
                     "no GPU on this machine: the kernel, bf16 and compile figures are for the CPU")
    write_json_atomic(Path(results) / "perf.json", report)
    return report


def render(report: dict) -> str:
    lines = ["Harness overhead (seqbench step / bare PyTorch loop; goal <= 1.05):"]
    for r in report["harness_overhead"]:
        lines.append(f"  {r['model']:<12} {r['task']:<7} L={r['length']:<4} {r['harness_ms']:7.2f} ms vs {r['bare_ms']:7.2f} ms  ratio {r['ratio']:.3f}")
    lines.append("Data generation share of a step (goal <= 2%):")
    for r in report["data_share"]:
        lines.append(f"  {r['task']:<7} L={r['length']:<4} {r['data_ms']:.3f} ms of {r['step_ms']:.2f} ms  share {100 * r['share']:.2f}%")
    lines.append("Real data: first load (read, tokenise, cache) against a cached load:")
    for r in report.get("real_data_loads", []):
        if "skipped" in r:
            lines.append(f"  {r['task']:<10} skipped: {r['skipped']}")
        else:
            lines.append(f"  {r['task']:<10} first {r['first_s']:7.2f} s  cached {r['cached_s']:6.3f} s  ({r['speedup']:.0f}x faster)")
    lines.append("Fused nn.LSTM against an LSTMCell loop (forward+backward):")
    for r in report["fused_vs_naive"]:
        lines.append(f"  T={r['T']:<4} fused {r['fused_ms']:8.2f} ms  naive {r['naive_ms']:8.2f} ms  speed-up {r['speedup']:.1f}x  (outputs agree to {r['max_abs_diff']:.1e})")
    s = report["sweep_throughput"]
    lines.append(f"Sweep throughput: {s['parallel']['workers']} workers x {s['parallel']['threads']} thread(s) "
                 f"{s['parallel']['runs_per_hour']:.0f} runs/h against 1 worker x {s['serial']['threads']} threads "
                 f"{s['serial']['runs_per_hour']:.0f} runs/h: ratio {s['ratio']:.2f} (goal >= 1.6 on 2 cores)")
    lines.append("  per model (training time only): " + ", ".join(f"{m} {v:.2f}" for m, v in s["ratio_by_model"].items()))
    if report["length_scaling"]:
        lines.append("Time per step against sequence length (fitted from the run files):")
        for r in report["length_scaling"]:
            lines.append(f"  {r['model']:<12} exponent {r['exponent']:.2f}  {r['ms_per_step_at_100']:.1f} ms/step at T=100, "
                         f"{r['ms_per_step_at_1000']:.1f} at T=1000 ({r['n_runs']} runs)")
    if "kernels" in report:
        lines.extend(render_kernels(report["kernels"]))
    lines.append(f"GPU: {report['gpu']}")
    return "\n".join(lines)


def render_kernels(k: dict) -> list[str]:
    peaks = k["peak_flops"]
    lines = [f"Kernel paths, bf16 autocast and torch.compile on {k['device_name']} ({k['threads']} thread(s); "
             f"{k['matmul_n']}² matmul peak fp32 {peaks['fp32'] / 1e9:.1f}, bf16 {peaks['bf16'] / 1e9:.1f} GFLOP/s):"]
    def timing(m: dict) -> str:
        if "error" in m:
            return f"failed ({m['error']})"
        return f"{m['train_ms']:8.2f} ms [{m['kernel_path']}] MFU {m['mfu']:.1%}"

    for r in k["rows"]:
        line = f"  {r['model']:<12} T={r['T']:<5} fp32 {timing(r['fp32'])} | bf16 {timing(r['bf16'])}"
        if "bf16_speedup" in r:
            line += f", speed-up {r['bf16_speedup']:.2f}x"
        if "compile_speedup" in r:
            line += f" | compiled {r['compiled']['train_ms']:.2f} ms, speed-up {r['compile_speedup']:.2f}x (compile {r['compile_s']:.0f} s)"
        elif "compiled" in r:
            line += f" | compile failed ({r['compiled'].get('error')})"
        lines.append(line)
    slow = [r["model"] for r in k["rows"] if not r["fp32"].get("fast_path", True)]
    if slow:
        lines.append(f"  no vendor kernel (ATen's C++ loop or unfused attention) for: {', '.join(sorted(set(slow)))}")
    return lines


def _configure(p) -> None:
    from .cli import add_results_arg
    add_results_arg(p)
    p.add_argument("--quick", action="store_true", help="fewer steps and repeats (a smoke check)")
    p.add_argument("--device", help="device of the per-step sections: cpu | cuda | cuda:N (default: cuda if present)")


def _run(args) -> int:
    report = run_perf(args.results, quick=args.quick, device=args.device)
    print(render(report))
    print(f"-> {Path(args.results) / 'perf.json'}")
    return 0


def _register() -> None:
    from .cli import COMMANDS, Command
    if "perf" not in COMMANDS:
        COMMANDS.register("perf", Command(_configure, _run, "benchmark the benchmark: overhead, data, fused kernels, throughput"))


_register()
