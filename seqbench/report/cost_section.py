"""The "Cost and parallelism" section, from <results>/measure/speed-<device>.json (`seqbench speed`)."""
from __future__ import annotations

import json
from pathlib import Path

from .frame import model_rank
from .scope import SPEED, Needs
from .section import Section, Text, note_section
from .style import new_figure, palette, plotting, save
from .table import Table, format_or_dash

TITLE = "Cost and parallelism"
NEEDS = Needs(probe=SPEED, by="`seqbench speed`")  # the speed probe's file (scope.py)
COLUMNS = ["model", "params", "time exponent (forward)", "time exponent (fwd+bwd)", "sequential depth",
           "thread speed-up (fwd+bwd)", "MFU (fwd+bwd)",
           "longest T: fwd+bwd time, throughput, saved activations", "stopped"]


def _about(fit_from) -> str:
    return (
        "Forward and forward+backward (training step) time against sequence length T for each model at a fixed "
        "batch and parameter budget (`seqbench speed`; median of `torch.utils.benchmark` blocks after warm-up). "
        "**Time exponent**: log-log slope of time against T over T ≥ "
        f"{fit_from} (1 = linear, 2 = quadratic). **Sequential depth**: steps on the "
        "critical path for length T. **Thread speed-up**: fwd+bwd time with 1 thread over N threads. **MFU**: "
        "analytic FLOPs (matrix products; backward = 2× forward) per second over the peak of a large matmul on "
        "the same device and thread count. **Saved activations**: bytes autograd keeps for backward (counted with "
        "saved-tensor hooks), the memory that grows with T.")


def load_speed(results: Path) -> list[dict]:
    found = []
    for path in sorted((Path(results) / "measure").glob("speed-*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and data.get("kind") == "speed" and data.get("models"):
            found.append(data)
    return found


def shown_name(model: str, measured: dict) -> str:
    """The model's name, marked when transformers ran its reference scan instead of fused kernels."""
    return f"{model} (reference scan)" if measured.get("kernel") == "reference" else model


def _depth_formula(points: list[dict]) -> str:
    if not points:
        return "—"
    last = points[-1]
    if len(points) >= 2 and points[0]["sequential_depth"] == points[-1]["sequential_depth"]:
        return str(last["sequential_depth"])
    ratio = last["sequential_depth"] / last["T"]
    return "T" if ratio == 1 else f"{ratio:g}·T"


def _study_table(study: dict) -> Table:
    rows = []
    for model in sorted(study["models"], key=model_rank):
        m = study["models"][model]
        pts = m["points"]
        scaling = m.get("thread_scaling")
        mid = next((p for p in pts if scaling and p["T"] == scaling["T"]), pts[len(pts) // 2] if pts else None)
        last = pts[-1] if pts else None
        rows.append([
            shown_name(model, m), f"{m['params']:,}", format_or_dash(m["exponent"]["forward"], ".2f"),
            format_or_dash(m["exponent"]["train"], ".2f"),
            _depth_formula(pts),
            f"{format_or_dash(scaling['speedup'], '.2f')} ({scaling['threads']} thr, T={scaling['T']})" if scaling else "—",
            f"{format_or_dash(mid['mfu_train'], '.1%')} (T={mid['T']})" if mid else "—",
            f"{format_or_dash(last['train_ms'], '.1f')} ms, {format_or_dash(last['tokens_per_s_train'], ',.0f')} tok/s, "
            f"{format_or_dash(last['saved_bytes'] / 2**20, '.0f')} MiB (T={last['T']})" if last else "—",
            m.get("stopped") or "—",
        ])
    return Table.of_text(COLUMNS, rows)


def _study_line(study: dict) -> str:
    cfg = study["config"]
    peak = study["peak_flops"].get(str(cfg["threads"]))
    load = study.get("load_average")
    return (f"**{study['device']}** ({study['provenance'].get('device_name')}), batch {cfg['batch_size']}, "
            f"budget {cfg['params']:,} params, {cfg['threads']} thread(s); peak matmul "
            f"{format_or_dash(peak / 1e9 if peak else None, '.1f')} GFLOP/s ({study['matmul_n']}² float32)"
            + (f"; load average during the study {load[0]:.1f}" if load else "") + ".")


def cost_section(results: Path, out: Path) -> Section:
    studies = load_speed(results)
    if not studies:
        return note_section(TITLE, "No speed measurements (run `seqbench speed`; it writes results/measure/speed-<device>.json).")
    blocks, figures = [Text(_about(studies[0]["config"]["fit_from"]))], []
    for study in studies:
        blocks += [Text(_study_line(study)), _study_table(study)]
        figures.append(_figure(study, Path(out), study["device"].split(":")[0]))
    return Section(TITLE, blocks, figures)


def _figure(study: dict, out: Path, name: str) -> str:
    colors = palette(study["models"])
    with plotting():
        fig, axes = new_figure(8.0, 3.2, 1, 2)
        for ax, key, label in ((axes[0][0], "forward_ms", "forward"), (axes[0][1], "train_ms", "forward + backward")):
            for model in colors:
                pts = study["models"][model]["points"]
                if pts:
                    ax.plot([p["T"] for p in pts], [p[key] for p in pts], marker="o", ms=3, label=shown_name(model, study["models"][model]),
                            color=colors[model])
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_xlabel("sequence length T")
            ax.set_ylabel("ms per batch")
            ax.set_title(f"{label} ({study['device']})")
        axes[0][0].legend(frameon=False)
        fig.tight_layout()
        return save(fig, out, f"cost-{name}")
