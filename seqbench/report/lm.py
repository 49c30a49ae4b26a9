"""The language-modelling section of the report: how much context each model uses, and samples.

    markdown, html, figures = lm_section(records, out)

`records` are run files (seqbench.store.load_runs); only those with an `lm` block (character-level
language models, see seqbench/data/charlm.py) take part. Per task, context length and model, the
learning rate with the best mean validation score is kept (the test split never chooses), and its
seeds are averaged: test bits per character, the effective context (the smallest context after
which the per-position loss stays within 1% of its final value; Khandelwal et al. 2018) and the
per-position loss curve, drawn one line per model in `figures/lm_<task>_per_position.png`.
`html` holds the same table plus each model's sample (seed 0 of the kept learning rate); the
figures are returned as paths relative to `out` for the caller to embed, as the other sections do.
With no language-model runs, all three are empty.
"""
from __future__ import annotations

import html as html_lib
import math
from pathlib import Path

import numpy as np

from ..metrics import METRICS

from .frame import model_rank

LN2 = math.log(2)


def _fmt(value, spec: str = ".3f") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return format(value, spec)


def _groups(records: list[dict]) -> dict[tuple, list[dict]]:
    """(task, length, model) -> the runs (all seeds) of the learning rate with the best mean val score."""
    by_lr: dict[tuple, dict[float, list[dict]]] = {}
    for r in records:
        if r.get("status") != "ok" or "lm" not in r:
            continue
        cfg = r["config"]
        key = (cfg["task"], cfg["length"], cfg["model"]["name"])
        by_lr.setdefault(key, {}).setdefault(cfg["train"]["lr"], []).append(r)
    chosen = {}
    for key, lrs in by_lr.items():
        def val_score(runs):  # lower is better; a metric where higher is better is negated
            metric = runs[0]["task"]["metric"]
            values = [x["metrics"].get(f"val/{metric}", float("nan")) for x in runs]
            if all(math.isnan(v) for v in values):
                return float("inf")
            sign = -1.0 if metric in METRICS and METRICS.get(metric).higher_is_better else 1.0
            return sign * float(np.nanmean(values))
        chosen[key] = sorted(lrs[min(lrs, key=lambda lr: val_score(lrs[lr]))], key=lambda x: x["config"]["seed"])
    return chosen


def _summary(runs: list[dict]) -> dict:
    curves = [np.asarray(r["lm"]["per_position_loss"], dtype=float) for r in runs]
    curve = np.mean(curves, axis=0)
    bpc = [r["metrics"].get("test/bpc", float("nan")) for r in runs]
    contexts = [r["lm"]["effective_context"] for r in runs]
    return {"curve": curve, "bpc": float(np.mean(bpc)), "bpc_sd": float(np.std(bpc, ddof=1)) if len(bpc) > 1 else None,
            "context": float(np.mean(contexts)), "n": len(runs), "baseline": runs[0].get("baseline", {}).get("bpc"),
            "sample": runs[0]["lm"].get("sample", {}), "lr": runs[0]["config"]["train"]["lr"],
            "final_bpc": float(np.mean([r["lm"]["final_loss"] for r in runs])) / LN2}


def _figure(task: str, table: dict[tuple, dict], out: Path) -> str:
    """Loss (bits) against position, one panel per context length, one line per model."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    import seaborn as sns

    lengths = sorted({length for (_, length, _) in table})
    models = sorted({m for (_, _, m) in table}, key=model_rank)
    colors = dict(zip(models, sns.color_palette("colorblind", len(models))))
    fig = Figure(figsize=(4.2 * len(lengths), 3.2))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(lengths), squeeze=False)[0]
    for ax, length in zip(axes, lengths):
        for model in models:
            s = table.get((task, length, model))
            if s is None:
                continue
            positions = np.arange(1, len(s["curve"]) + 1)  # characters of context seen
            ax.plot(positions, s["curve"] / LN2, color=colors[model], lw=1.2,
                    label=f"{model} (k={s['context']:.0f})")
            ax.axvline(s["context"], color=colors[model], lw=0.6, ls=":")
        ax.set_xscale("log")
        ax.set_xlabel("characters of context (position in window)")
        ax.set_ylabel("test loss (bits per character)")
        ax.set_title(f"{task}, context length {length}")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7, frameon=False)
    directory = out / "figures"
    directory.mkdir(parents=True, exist_ok=True)
    name = f"lm_{task}_per_position"
    fig.savefig(directory / f"{name}.png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    fig.savefig(directory / f"{name}.svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    return f"figures/{name}.png"


def lm_section(records: list[dict], out) -> tuple[str, str, list[str]]:
    """(markdown, html, figure paths relative to `out`) for the language-model runs in `records`."""
    out = Path(out)
    table = {key: _summary(runs) for key, runs in _groups(records).items()}
    if not table:
        return "", "", []
    headers = ["task", "length", "model", "test bpc ↓", "bpc, last 10% of positions", "effective context", "lr", "n"]
    rows, figures, samples = [], [], []
    for task in sorted({t for (t, _, _) in table}):
        keys = sorted((k for k in table if k[0] == task), key=lambda k: (k[1], model_rank(k[2])))
        for key in keys:
            s = table[key]
            bpc = _fmt(s["bpc"]) + (f" ± {_fmt(s['bpc_sd'])}" if s["bpc_sd"] is not None else "")
            rows.append([task, str(key[1]), key[2], bpc, _fmt(s["final_bpc"]), f"{s['context']:.0f}",
                         f"{s['lr']:g}", str(s["n"])])
            if s["sample"]:
                samples.append((key, s["sample"]))
        baselines = sorted({(k[1], table[k]["baseline"]) for k in keys if table[k]["baseline"] is not None})
        for length, value in baselines[:1]:
            rows.append([task, "all", "unigram baseline", _fmt(value), "", "", "", ""])
        figures.append(_figure(task, table, out))
    intro = ("Character-level language models: test bits per character (mean over seeds, ± SD), the loss over the "
             "last 10% of the window's positions, and the effective context: the fewest characters of context after which "
             "the per-position test loss stays within 1% of its final value (after Khandelwal et al. 2018). "
             "Where a curve flattens, extra context stops helping. The curve comes from windows starting at "
             "consecutive characters of the test text's first few thousand characters, so its level can differ "
             "from the test bpc, which covers the whole test split.")
    md_rows = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    md_rows += ["| " + " | ".join(r) + " |" for r in rows]
    markdown = intro + "\n\n" + "\n".join(md_rows) + "\n"
    esc = html_lib.escape
    parts = [f"<p>{esc(intro)}</p>", '<table class="sortable"><thead><tr>'
             + "".join(f'<th onclick="sortTable(this)">{esc(h)}</th>' for h in headers) + "</tr></thead><tbody>"]
    parts += ["<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in rows]
    parts.append("</tbody></table>")
    if samples:
        parts.append("<h3>Samples</h3>")
        for (task, length, model), sample in samples:
            parts.append(f"<p><b>{esc(model)}</b>, {esc(task)}, context {length} "
                         f"(temperature {sample.get('temperature')}, seed {sample.get('seed')}):</p>"
                         f"<pre><b>{esc(sample.get('prompt', ''))}</b>{esc(sample.get('text', ''))}</pre>")
    return markdown, "\n".join(parts) + "\n", figures
