"""Report sections from the measurement probes: gradient flow, the clipping/init ablation, cost.

    sections(records, results, out) -> [Section("Gradient flow", ...), Section("Clipping and ...", ...), ...]

`records` are run files (seqbench.store.load_runs); the cost section reads
<results>/measure/speed-*.json. Figures are PNGs under out/figures/, drawn with fixed settings
and no timestamps, so the same input gives the same bytes. A section without data says so in one
line instead of failing.
"""
from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..metrics import METRICS
from ..report.frame import is_default_recipe, model_rank  # one definition of each, shared with the report
RC = {"svg.hashsalt": "seqbench", "svg.fonttype": "path", "figure.dpi": 100, "font.size": 9,
      "axes.grid": True, "grid.alpha": 0.3}


@dataclass
class Section:
    title: str
    markdown: str  # body: paragraphs and Markdown tables
    figures: list[str] = field(default_factory=list)  # PNG paths relative to `out`


def sections(records: list[dict], results: Path, out: Path) -> list[Section]:
    return [gradient_flow_section(records, Path(out)),
            ablation_section(records),
            cost_section(Path(results), Path(out))]


# ---------------------------------------------------------------- helpers

def md_table(headers: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def fmt(value, spec: str = ".3g", missing: str = "—") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return missing
    return format(value, spec)




def _order(models) -> list[str]:
    return sorted(set(models), key=model_rank)


def _palette(models) -> dict:
    import seaborn as sns

    ordered = _order(models)
    return dict(zip(ordered, sns.color_palette("colorblind", len(ordered))))


def _new_figure(nrows: int, ncols: int, width: float, height: float):
    """A Figure with an Agg canvas, made without pyplot (no global backend or figure state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes


def _save(fig, out: Path, name: str) -> str:
    directory = out / "figures"
    directory.mkdir(parents=True, exist_ok=True)
    fig.savefig(directory / f"{name}.png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    return f"figures/{name}.png"


# ---------------------------------------------------------------- gradient flow

def _mean_profile(blocks: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """Geometric mean over seeds of the norm at each distance (distances shared by all)."""
    common = sorted(set.intersection(*(set(b["distance"]) for b in blocks)))
    logs = []
    for b in blocks:
        lookup = dict(zip(b["distance"], b["norm"]))
        logs.append([math.log(lookup[d]) if lookup[d] else math.nan for d in common])
    with warnings.catch_warnings(), np.errstate(all="ignore"):  # all-underflow columns: NaN, dropped
        warnings.simplefilter("ignore", RuntimeWarning)
        values = np.exp(np.nanmean(np.asarray(logs, dtype=float), axis=0)) if logs else np.array([])
    return np.asarray(common), values


def gradient_flow_section(records: list[dict], out: Path) -> Section:
    title = "Gradient flow"
    runs = [r for r in records if isinstance(r.get("gradflow"), dict) and is_default_recipe(r)]
    if not runs:
        return Section(title, "No run files with gradient-flow profiles (run or sweep with this version of seqbench).")
    sizes: dict[tuple, set] = {}
    for r in runs:
        cfg = r["config"]
        sizes.setdefault((cfg["task"], cfg["model"]["name"]), set()).add(cfg["model"]["params"])
    groups: dict[tuple, list[dict]] = {}
    for r in runs:  # a model seen at several budgets gets one line per budget: "rnn (25,000)"
        cfg = r["config"]
        name = cfg["model"]["name"]
        label = name if len(sizes[(cfg["task"], name)]) == 1 else f"{name} ({cfg['model']['params']:,})"
        groups.setdefault((cfg["task"], cfg["length"], label), []).append(r)
    rows = []
    for (task, length, model) in sorted(groups, key=lambda k: (k[0], k[1], model_rank(k[2]))):
        members = groups[(task, length, model)]
        cells = [task, length, model, f"{members[0]['params']['params']:,}", len(members)]
        for stage in ("init", "final"):
            blocks = [m["gradflow"].get(stage) for m in members if m["gradflow"].get(stage)]
            slopes = [b["slope"] for b in blocks if b.get("slope") is not None]
            ratios = [b["far_near_ratio"] for b in blocks if b.get("far_near_ratio")]
            cells.append(fmt(float(np.mean(slopes)) if slopes else None, ".4f"))
            cells.append(fmt(float(np.exp(np.mean(np.log(ratios)))) if ratios else None, ".2e"))
        rows.append(cells)
    table = md_table(["task", "length", "model", "params", "seeds", "slope at init", "far/near at init",
                      "slope after training", "far/near after training"], rows)
    figures = [_gradflow_figure(groups, out)]
    text = (
        "‖∂L/∂h_t‖ on a fixed batch of 8 validation examples, at initialisation and after training, "
        "against the distance d = r − t from the position r where the loss first reads the sequence "
        "(last position for pooled tasks such as adding; first scored output for copy). h_t is the "
        "hidden state (total derivative through all later steps) for recurrent models and the "
        "residual stream entering the first layer for the Transformer. **Slope** is the least-squares "
        "slope of ln‖∂L/∂h_t‖ against d, in nats per step (e^slope is the per-step gain; negative "
        "means vanishing); **far/near** is the norm at t = 0 over the norm at d = 0. Means over seeds "
        "(ratios: geometric means). Default recipe per model only; the ablation variants are below.\n\n"
        + table)
    return Section(title, text, figures)


def _gradflow_figure(groups: dict, out: Path) -> str:
    from matplotlib import rc_context

    panels = sorted({(task, length) for task, length, _ in groups})
    palette = _palette({m for _, _, m in groups})
    with rc_context(RC):
        fig, axes = _new_figure(len(panels), 2, 8.0, 2.4 * len(panels) + 0.4)
        for row, (task, length) in enumerate(panels):
            for col, stage in enumerate(("init", "final")):
                ax = axes[row][col]
                for model in palette:
                    members = groups.get((task, length, model), [])
                    blocks = [m["gradflow"].get(stage) for m in members if m["gradflow"].get(stage)]
                    if not blocks:
                        continue
                    distance, norm = _mean_profile(blocks)
                    keep = np.isfinite(norm) & (norm > 0)
                    ax.plot(distance[keep], norm[keep], label=model, color=palette[model], lw=1.4)
                ax.set_yscale("log")
                ax.set_title(f"{task}, length {length}: {'at init' if stage == 'init' else 'after training'}")
                ax.set_xlabel("distance from the loss position (steps)")
                ax.set_ylabel("‖∂L/∂h_t‖")
        handles, labels = axes[0][0].get_legend_handles_labels()
        if handles:
            fig.legend(handles, labels, loc="upper center", ncol=len(labels), frameon=False,
                       bbox_to_anchor=(0.5, 1.0))
        fig.tight_layout(rect=(0, 0, 1, 0.97))
        return _save(fig, out, "gradflow")


# ---------------------------------------------------------------- ablation

def _passes(value, threshold, metric: str) -> bool:
    if value is None or threshold is None or not math.isfinite(value):
        return False
    return value >= threshold if METRICS.get(metric).higher_is_better else value <= threshold


def ablation_section(records: list[dict]) -> Section:
    title = "Clipping and initialisation ablation"
    rnn = [r for r in records if r["config"]["model"]["name"] == "rnn"]
    key = lambda r: (r["config"]["train"].get("clip"), r["config"]["model"].get("nonlinearity"),
                     r["config"]["model"].get("init"))
    if len({key(r) for r in rnn}) < 2:
        return Section(title, "No ablation runs (run the `ablation` suite: `seqbench sweep tasks/suites/ablation.yaml`).")
    groups: dict[tuple, list[dict]] = {}
    for r in rnn:
        cfg = r["config"]
        groups.setdefault((cfg["task"], cfg["model"]["params"], *key(r)), []).append(r)
    rows = []
    for gkey in sorted(groups, key=lambda k: (k[0], k[1], k[2] is not None, k[2] or 0, k[3], k[4])):
        task, params, clip, nonlinearity, init = gkey
        members = groups[gkey]
        meta = members[0]["task"]
        metric, threshold = meta["metric"], meta.get("solved")
        by_length: dict[int, list] = {}
        for m in members:
            value = m["metrics"].get(f"test/{metric}") if m["status"] == "ok" else None
            by_length.setdefault(m["config"]["length"], []).append(value)
        solved = [L for L, values in by_length.items()
                  if all(v is not None for v in values) and _passes(float(np.mean(values)), threshold, metric)]
        diverged = sum(m["status"] == "diverged" for m in members)
        max_norms = [m.get("grad_norm", {}).get("max") for m in members]
        max_norms = [v for v in max_norms if v is not None]
        longest = max(by_length)
        init_slopes = [m["gradflow"]["init"]["slope"] for m in members
                       if m["config"]["length"] == longest and (m.get("gradflow") or {}).get("init", {}) and
                       m["gradflow"]["init"].get("slope") is not None]
        rows.append([task, f"{params:,}", "off" if clip is None else fmt(clip, "g"), nonlinearity, init,
                     max(solved) if solved else "none", " ".join(map(str, sorted(by_length))),
                     f"{diverged}/{len(members)} ({diverged / len(members):.0%})",
                     fmt(float(np.median(max_norms)) if max_norms else None, ".3g"),
                     fmt(float(np.mean(init_slopes)) if init_slopes else None, ".3f")])
    text = (
        "The vanilla RNN with gradient clipping on or off, tanh or ReLU, and default, orthogonal or identity "
        "recurrent initialisation (ReLU + identity is the IRNN). **Max solved length**: the largest length "
        "whose mean primary test metric across seeds passes the task's `solved` threshold (a diverged run "
        "counts as failing). **Diverged**: runs whose training loss became NaN or infinite. **Max grad "
        "norm**: median over runs of the largest global gradient norm seen in training (before clipping). "
        "**Init slope**: gradient-flow slope at initialisation at the longest length (nats per step).\n\n"
        + md_table(["task", "params", "clip", "nonlinearity", "init", "max solved length", "lengths tried",
                    "diverged", "max grad norm", "init slope"], rows))
    return Section(title, text)


# ---------------------------------------------------------------- cost and parallelism

def _load_speed(results: Path) -> list[dict]:
    found = []
    for path in sorted((results / "measure").glob("speed-*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and data.get("kind") == "speed" and data.get("models"):
            found.append(data)
    return found


def _depth_formula(points: list[dict]) -> str:
    if not points:
        return "—"
    last = points[-1]
    if len(points) >= 2 and points[0]["sequential_depth"] == points[-1]["sequential_depth"]:
        return str(last["sequential_depth"])
    ratio = last["sequential_depth"] / last["T"]
    return "T" if ratio == 1 else f"{ratio:g}·T"


def cost_section(results: Path, out: Path) -> Section:
    title = "Cost and parallelism"
    studies = _load_speed(results)
    if not studies:
        return Section(title, "No speed measurements (run `seqbench speed`; it writes results/measure/speed-<device>.json).")
    parts, figures = [], []
    for study in studies:
        device = study["device"]
        name = device.split(":")[0]
        cfg = study["config"]
        peak = study["peak_flops"].get(str(cfg["threads"]))
        rows = []
        for model in _order(study["models"]):
            m = study["models"][model]
            pts = m["points"]
            scaling = m.get("thread_scaling")
            mid = next((p for p in pts if scaling and p["T"] == scaling["T"]), pts[len(pts) // 2] if pts else None)
            last = pts[-1] if pts else None
            rows.append([
                model, f"{m['params']:,}", fmt(m["exponent"]["forward"], ".2f"), fmt(m["exponent"]["train"], ".2f"),
                _depth_formula(pts),
                f"{fmt(scaling['speedup'], '.2f')} ({scaling['threads']} thr, T={scaling['T']})" if scaling else "—",
                f"{fmt(mid['mfu_train'], '.1%')} (T={mid['T']})" if mid else "—",
                f"{fmt(last['train_ms'], '.1f')} ms, {fmt(last['tokens_per_s_train'], ',.0f')} tok/s, "
                f"{fmt(last['saved_bytes'] / 2**20, '.0f')} MiB (T={last['T']})" if last else "—",
                m.get("stopped") or "—",
            ])
        load = study.get("load_average")
        parts.append(
            f"**{device}** ({study['provenance'].get('device_name')}), batch {cfg['batch_size']}, "
            f"budget {cfg['params']:,} params, {cfg['threads']} thread(s); peak matmul "
            f"{fmt(peak / 1e9 if peak else None, '.1f')} GFLOP/s ({study['matmul_n']}² float32)"
            + (f"; load average during the study {load[0]:.1f}" if load else "") + ".\n\n"
            + md_table(["model", "params", "time exponent (forward)", "time exponent (fwd+bwd)",
                        "sequential depth", "thread speed-up (fwd+bwd)", "MFU (fwd+bwd)",
                        "longest T: fwd+bwd time, throughput, saved activations", "stopped"], rows))
        figures.append(_cost_figure(study, out, name))
    text = (
        "Forward and forward+backward (training step) time against sequence length T for each model at a fixed "
        "batch and parameter budget (`seqbench speed`; median of `torch.utils.benchmark` blocks after warm-up). "
        "**Time exponent**: log-log slope of time against T over T ≥ "
        f"{studies[0]['config']['fit_from']} (1 = linear, 2 = quadratic). **Sequential depth**: steps on the "
        "critical path for length T. **Thread speed-up**: fwd+bwd time with 1 thread over N threads. **MFU**: "
        "analytic FLOPs (matrix products; backward = 2× forward) per second over the peak of a large matmul on "
        "the same device and thread count. **Saved activations**: bytes autograd keeps for backward (counted with "
        "saved-tensor hooks), the memory that grows with T.\n\n" + "\n\n".join(parts))
    return Section(title, text, figures)


def _cost_figure(study: dict, out: Path, name: str) -> str:
    from matplotlib import rc_context

    palette = _palette(study["models"])
    with rc_context(RC):
        fig, axes = _new_figure(1, 2, 8.0, 3.2)
        for ax, key, label in ((axes[0][0], "forward_ms", "forward"), (axes[0][1], "train_ms", "forward + backward")):
            for model in palette:
                pts = study["models"][model]["points"]
                if pts:
                    ax.plot([p["T"] for p in pts], [p[key] for p in pts], marker="o", ms=3, label=model,
                            color=palette[model])
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_xlabel("sequence length T")
            ax.set_ylabel("ms per batch")
            ax.set_title(f"{label} ({study['device']})")
        axes[0][0].legend(frameon=False)
        fig.tight_layout()
        return _save(fig, out, f"cost-{name}")
