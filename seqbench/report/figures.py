"""Report figures (seaborn), saved as PNG and SVG with no timestamps, so reruns are identical."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from ..metrics import METRICS  # noqa: E402
from .frame import max_solved, model_rank  # noqa: E402


def _style() -> None:
    sns.set_theme(style="whitegrid", context="paper", font_scale=1.1)
    plt.rcParams.update({"svg.hashsalt": "seqbench", "svg.fonttype": "path", "figure.dpi": 100})


def _palette(models) -> dict:
    ordered = sorted(models, key=model_rank)
    return dict(zip(ordered, sns.color_palette("colorblind", len(ordered))))


def save(fig, out: Path, name: str) -> str:
    """Write figures/<name>.png and .svg; return the PNG path relative to `out`."""
    directory = out / "figures"
    directory.mkdir(parents=True, exist_ok=True)
    fig.savefig(directory / f"{name}.png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    fig.savefig(directory / f"{name}.svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    return f"figures/{name}.png"


def main_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of each model's default recipe (ablation variants are left to their own section)."""
    return frame[frame["main"]] if "main" in frame else frame


def metric_vs_length(summary: pd.DataFrame, out: Path) -> list[str]:
    """Primary metric against dependency length per model, t-interval bands, dashed baseline."""
    _style()
    paths = []
    for task, group in main_rows(summary).groupby("task", sort=True):
        if group["length"].nunique() < 2:
            continue
        metric = group["metric"].iloc[0]
        palette = _palette(group["model"].unique())
        fig, ax = plt.subplots(figsize=(5.2, 3.4))
        for model, rows in sorted(group.groupby("model"), key=lambda kv: list(palette).index(kv[0])):
            rows = rows.sort_values("length")
            ax.plot(rows["length"], rows["mean"], marker="o", label=model, color=palette[model])
            ci = rows["ci"].fillna(0)
            ax.fill_between(rows["length"], rows["mean"] - ci, rows["mean"] + ci, color=palette[model], alpha=0.18)
        base = group.sort_values("length").drop_duplicates("length")
        ax.plot(base["length"], base["baseline"], linestyle="--", color="0.3", label="chance baseline")
        ax.set_xscale("log")
        lengths = sorted(group["length"].unique())
        ax.set_xticks(lengths, [str(int(x)) for x in lengths])
        ax.minorticks_off()
        ax.set_xlabel("dependency length")
        ax.set_ylabel(f"test {metric} {METRICS.get(metric).arrow}")
        ax.set_title(f"{task}: {metric} against length (95% CI)")
        ax.legend(fontsize=8, frameon=False, loc="best")
        paths.append(save(fig, out, f"{task}_{metric}_vs_length"))
    return paths


def step_time_vs_length(frame: pd.DataFrame, out: Path) -> list[str]:
    """Median train step time against sequence length (log-log), per model."""
    ok = main_rows(frame)
    ok = ok[(ok["status"] == "ok") & ok["median_step_ms"].notna() & frame["seq_len"].notna()]
    if ok.empty or ok["seq_len"].nunique() < 2:
        return []
    _style()
    agg = ok.groupby(["model", "task", "seq_len"], as_index=False)["median_step_ms"].median()
    palette = _palette(agg["model"].unique())
    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    sns.lineplot(data=agg, x="seq_len", y="median_step_ms", hue="model", style="task", markers=True,
                 palette=palette, hue_order=list(palette), ax=ax, errorbar=None)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("sequence length T (tokens)")
    ax.set_ylabel("median train step (ms)")
    ax.set_title("training step time against length")
    ax.legend(fontsize=7, frameon=False, ncol=2)
    return [save(fig, out, "step_time_vs_length")]


def max_solved_bars(summary: pd.DataFrame, out: Path) -> list[str]:
    solved = max_solved(main_rows(summary))
    multi = summary.groupby("task")["length"].nunique()
    solved = solved[solved["task"].isin(multi[multi > 1].index)]
    if solved.empty:
        return []
    _style()
    solved = solved.assign(max_solved=solved["max_solved"].fillna(0).astype(float))
    palette = _palette(solved["model"].unique())
    fig, ax = plt.subplots(figsize=(5.2, 3.2))
    sns.barplot(data=solved, x="task", y="max_solved", hue="model", palette=palette, hue_order=list(palette), ax=ax)
    ax.set_ylim(bottom=0, top=max(1.0, float(solved["max_solved"].max()) * 1.1))
    ax.set_ylabel("max solved length (0 = none)")
    ax.set_xlabel("")
    ax.set_title("largest dependency length solved")
    ax.legend(fontsize=7, frameon=False, ncol=3)
    return [save(fig, out, "max_solved_length")]


def by_bucket(records: list[dict], out: Path) -> list[str]:
    """Real tasks: the primary metric per input-length bucket (from each run's by_slice)."""
    rows = []
    for r in records:
        if r["status"] != "ok":
            continue
        metric = r["task"].get("metric")
        for s in r.get("by_slice", []):
            if metric in s:
                rows.append({"task": r["config"]["task"], "model": r["config"]["model"]["name"],
                             "bucket": str(s["value"]), "value": s[metric], "metric": metric})
    if not rows:
        return []
    _style()
    data = pd.DataFrame(rows)
    paths = []
    for task, group in data.groupby("task", sort=True):
        palette = _palette(group["model"].unique())
        fig, ax = plt.subplots(figsize=(5.2, 3.2))
        sns.pointplot(data=group, x="bucket", y="value", hue="model", palette=palette, hue_order=list(palette),
                      errorbar=("ci", 95), seed=0, dodge=0.3, ax=ax, order=sorted(group["bucket"].unique(), key=_bucket_key))
        ax.set_xlabel("input length bucket (tokens)")
        ax.set_ylabel(f"test {group['metric'].iloc[0]}")
        ax.set_title(f"{task}: score by input length")
        ax.legend(fontsize=7, frameon=False)
        paths.append(save(fig, out, f"{task}_by_length_bucket"))
    return paths


def _bucket_key(text: str):
    digits = "".join(ch if ch.isdigit() else " " for ch in text).split()
    return (int(digits[0]) if digits else -1, text)
