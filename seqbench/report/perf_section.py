"""The report's "Performance of the harness" section, from results/perf.json (`seqbench perf`)."""
from __future__ import annotations

import json
from pathlib import Path

from ..record import RunRecord
from ..store import suite_record_path
from .frame import model_rank
from .section import Section, Text
from .table import Cell, Table

TITLE = "Performance of the harness (seqbench perf)"


def perf_section(results: Path, records: list[RunRecord] | None = None) -> Section | None:
    """The section, or None when there is neither a perf.json nor a suite time breakdown."""
    text, tables = perf_tables(results, records)
    if not text and not tables:
        return None
    return Section(TITLE, [Text(p) for p in text.split("\n\n") if p] + tables)


def perf_tables(results: Path, records: list[RunRecord] | None = None) -> tuple[str, list[Table]]:
    breakdown = time_breakdown(records or [], results)
    path = Path(results) / "perf.json"
    if not path.exists():
        return "", [breakdown] if breakdown else []
    try:
        report = json.loads(path.read_text())
    except (OSError, ValueError):
        return f"perf.json could not be read ({path}).", []
    tables = [
        Table("harness overhead: seqbench training step / bare PyTorch loop (goal ≤ 1.05)",
              ["model", "task", "L", "seqbench ms", "bare ms", "ratio"],
              [[Cell(row["model"]), Cell(row["task"]), Cell(str(row["length"])), Cell(f"{row['harness_ms']:.2f}"),
                Cell(f"{row['bare_ms']:.2f}"), Cell(f"{row['ratio']:.3f}", row["ratio"])] for row in report.get("harness_overhead", [])]),
        Table("synthetic data generation as a share of a training step (goal ≤ 2%)",
              ["task", "model", "L", "data ms", "step ms", "share"],
              [[Cell(row["task"]), Cell(row["model"]), Cell(str(row["length"])), Cell(f"{row['data_ms']:.3f}"),
                Cell(f"{row['step_ms']:.2f}"), Cell(f"{100 * row['share']:.2f}%", row["share"])] for row in report.get("data_share", [])]),
        Table("real data: first load (read, tokenise, write the cache) against a load from the cache",
              ["task", "first s", "cached s", "speed-up"],
              [[Cell(row["task"]), Cell(f"{row['first_s']:.2f}"), Cell(f"{row['cached_s']:.3f}"),
                Cell(f"{row['speedup']:.0f}×", row["speedup"])] for row in report.get("real_data_loads", []) if "skipped" not in row]),
        Table("fused nn.LSTM against a per-step LSTMCell loop (forward + backward)",
              ["T", "", "fused ms", "naive ms", "speed-up"],
              [[Cell(str(row["T"])), Cell(""), Cell(f"{row['fused_ms']:.2f}"), Cell(f"{row['naive_ms']:.2f}"),
                Cell(f"{row['speedup']:.1f}×", row["speedup"])] for row in report.get("fused_vs_naive", [])]),
    ]
    if report.get("mamba_scans"):
        tables.append(Table(
            "hf:mamba on CPU: transformers' loop over T against mamba.py's parallel scan (forward + backward, 100k parameters)",
            ["T", "", "loop ms", "parallel scan ms", "speed-up", "max |difference|"],
            [[Cell(str(row["T"])), Cell(""), Cell(f"{row['loop_ms']:.1f}"), Cell(f"{row['scan_ms']:.1f}"),
              Cell(f"{row['speedup']:.1f}×", row["speedup"]), Cell(f"{row['max_abs_diff']:.1e}")]
             for row in report["mamba_scans"]]))
    kernels = report.get("kernels")
    if kernels:
        tables.append(kernel_table(kernels))
    if breakdown:
        tables.append(breakdown)
    s = report.get("sweep_throughput")
    text = []
    if s:
        text.append(f"Sweep throughput: {s['parallel']['workers']} workers × {s['parallel']['threads']} thread "
                    f"ran {s['parallel']['runs_per_hour']:.0f} runs/hour against {s['serial']['runs_per_hour']:.0f} "
                    f"for 1 worker × {s['serial']['threads']} threads on the same {s['parallel']['runs'] // s.get('repeats', 1)} "
                    f"recurrent runs of the quick suite ({s.get('repeats', 1)} sweeps per mode, interleaved): "
                    f"**{s['ratio']:.2f}×** (goal ≥ 1.6 on 2 cores).")
        if s.get("ratio_by_model"):
            text.append("Per model, from training time alone: " + ", ".join(
                f"{m} {v:.2f}×" for m, v in s["ratio_by_model"].items()) + ". A model whose kernel gains "
                "much from a second thread (oneDNN's LSTM) gains less from a second worker.")
    if report.get("gpu"):
        text.append(f"GPU: {report['gpu']}.")
    return "\n\n".join(text), [t for t in tables if t.rows]


def kernel_table(k: dict) -> Table:
    """One row per model and length: kernel path, fp32 and bf16 step time and MFU, compile."""
    def speedup(r, key):  # a speed-up, or a dash where one side failed or was not measured
        return Cell(f"{r[key]:.2f}×" if key in r else "—", r.get(key))

    def timing(m):
        if "train_ms" not in m:
            return [Cell("failed"), Cell("—")]
        return [Cell(f"{m['train_ms']:.2f}"), Cell(f"{m['mfu']:.1%}", m["mfu"])]
    return Table(
        f"kernel paths, bf16 autocast and torch.compile on {k['device_name']} ({k['threads']} thread(s); batch "
        f"{k['rows'][0]['batch'] if k['rows'] else '—'}; MFU against a {k['matmul_n']}² matmul in the same dtype)",
        ["model", "T", "kernel (fp32)", "fp32 ms", "MFU fp32", "bf16 ms", "MFU bf16", "bf16 speed-up", "compile speed-up"],
        [[Cell(r["model"]), Cell(str(r["T"])), Cell(str(r["fp32"].get("kernel_path", "failed")))]
         + timing(r["fp32"]) + timing(r["bf16"]) + [speedup(r, "bf16_speedup"), speedup(r, "compile_speedup")]
         for r in k["rows"]])


def time_breakdown(records: list[RunRecord], results: Path, suite: str = "quick") -> Table | None:
    """Where a suite's time goes: training minutes per task and model, from its run files."""
    import pandas as pd

    manifest = suite_record_path(results, suite)
    try:
        ids = set(json.loads(manifest.read_text())["run_ids"])
    except (OSError, ValueError, KeyError):
        return None
    rows = [(r.config.task, r.config.model.name, r.timing.train_time_s)
            for r in records if r.run_id in ids and r.timing.train_time_s]
    if not rows:
        return None
    frame = pd.DataFrame(rows, columns=["task", "model", "seconds"])
    pivot = frame.pivot_table(index="task", columns="model", values="seconds", aggfunc="sum", fill_value=0.0)
    order = sorted(pivot.columns, key=model_rank)
    total = float(pivot.values.sum())
    minutes = lambda s: Cell(f"{s / 60:.1f}", float(s))  # noqa: E731
    body = [[Cell(task)] + [minutes(pivot.loc[task, m]) for m in order]
            + [minutes(pivot.loc[task].sum()), Cell(f"{pivot.loc[task].sum() / total:.0%}")] for task in pivot.index]
    footer = [[Cell("all tasks", bold=True)] + [minutes(pivot[m].sum()) for m in order] + [minutes(total), Cell("100%")]]
    return Table(f"where the {suite} suite's time goes: training minutes per task and model ({len(rows)} runs; "
                 "one worker's time, summed)", ["task"] + order + ["all models", "share"], body, footer=footer)
