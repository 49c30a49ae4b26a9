"""The leaderboard's figures (seaborn), drawn in the report's one style (style.py)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..status import FINISHED, status_of
from .frame import arrow, max_solved
from .style import new_figure, palette, plotting, save


def main_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of each model's default recipe (ablation variants are left to their own section)."""
    return frame[frame["main"]] if "main" in frame else frame


def metric_vs_length(summary: pd.DataFrame, out: Path) -> list[str]:
    """Primary metric against dependency length per model, t-interval bands, dashed baseline."""
    paths = []
    for task, group in main_rows(summary).groupby("task", sort=True):
        if group["length"].nunique() < 2:
            continue
        metric = group["metric"].iloc[0]
        colors = palette(group["model"].unique())
        with plotting():
            fig, axes = new_figure(5.2, 3.4)
            ax = axes[0][0]
            for model, rows in sorted(group.groupby("model"), key=lambda kv: list(colors).index(kv[0])):
                rows = rows.sort_values("length")
                ax.plot(rows["length"], rows["mean"], marker="o", label=model, color=colors[model])
                ci = rows["ci"].fillna(0)
                ax.fill_between(rows["length"], rows["mean"] - ci, rows["mean"] + ci, color=colors[model], alpha=0.18)
            base = group.sort_values("length").drop_duplicates("length")
            ax.plot(base["length"], base["baseline"], linestyle="--", color="0.3", label="chance baseline")
            ax.set_xscale("log")
            lengths = sorted(group["length"].unique())
            ax.set_xticks(lengths, [str(int(x)) for x in lengths])
            ax.minorticks_off()
            ax.set_xlabel("dependency length")
            ax.set_ylabel(f"test {metric} {arrow(bool(group['higher_is_better'].iloc[0]))}")
            ax.set_title(f"{task}: {metric} against length (95% CI)")
            ax.legend(fontsize=8, frameon=False, loc="best")
            paths.append(save(fig, out, f"{task}_{metric}_vs_length"))
    return paths


def step_time_vs_length(frame: pd.DataFrame, out: Path) -> list[str]:
    """Median train step time against sequence length (log-log), per model."""
    import seaborn as sns

    ok = main_rows(frame)
    ok = ok[ok["status"].isin(FINISHED) & ok["median_step_ms"].notna() & ok["seq_len"].notna()]
    if ok.empty or ok["seq_len"].nunique() < 2:
        return []
    agg = ok.groupby(["model", "task", "seq_len"], as_index=False)["median_step_ms"].median()
    colors = palette(agg["model"].unique())
    with plotting():
        fig, axes = new_figure(5.2, 3.4)
        ax = axes[0][0]
        sns.lineplot(data=agg, x="seq_len", y="median_step_ms", hue="model", style="task", markers=True,
                     palette=colors, hue_order=list(colors), ax=ax, errorbar=None)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("sequence length T (tokens)")
        ax.set_ylabel("median train step (ms)")
        ax.set_title("training step time against length")
        ax.legend(fontsize=7, frameon=False, ncol=2)
        return [save(fig, out, "step_time_vs_length")]


def max_solved_bars(summary: pd.DataFrame, out: Path) -> list[str]:
    import seaborn as sns

    solved = max_solved(main_rows(summary))
    multi = summary.groupby("task")["length"].nunique()
    solved = solved[solved["task"].isin(multi[multi > 1].index)]
    if solved.empty:
        return []
    solved = solved.assign(max_solved=solved["max_solved"].fillna(0).astype(float))
    colors = palette(solved["model"].unique())
    with plotting():
        fig, axes = new_figure(5.2, 3.2)
        ax = axes[0][0]
        sns.barplot(data=solved, x="task", y="max_solved", hue="model", palette=colors, hue_order=list(colors), ax=ax)
        ax.set_ylim(bottom=0, top=max(1.0, float(solved["max_solved"].max()) * 1.1))
        ax.set_ylabel("max solved length (0 = none)")
        ax.set_xlabel("")
        ax.set_title("largest dependency length solved")
        ax.legend(fontsize=7, frameon=False, ncol=3)
        return [save(fig, out, "max_solved_length")]


def by_bucket(records: list[dict], out: Path) -> list[str]:
    """Real tasks: the primary metric per input-length bucket (from each run's by_slice)."""
    import seaborn as sns

    rows = []
    for r in records:
        if status_of(r) not in FINISHED:
            continue
        metric = r["task"].get("metric")
        for s in r.get("by_slice", []):
            if metric in s:
                rows.append({"task": r["config"]["task"], "model": r["config"]["model"]["name"],
                             "bucket": str(s["value"]), "value": s[metric], "metric": metric})
    if not rows:
        return []
    data = pd.DataFrame(rows)
    paths = []
    for task, group in data.groupby("task", sort=True):
        colors = palette(group["model"].unique())
        with plotting():
            fig, axes = new_figure(5.2, 3.2)
            ax = axes[0][0]
            sns.pointplot(data=group, x="bucket", y="value", hue="model", palette=colors, hue_order=list(colors),
                          errorbar=("ci", 95), seed=0, dodge=0.3, ax=ax,
                          order=sorted(group["bucket"].unique(), key=_bucket_key))
            ax.set_xlabel("input length bucket (tokens)")
            ax.set_ylabel(f"test {group['metric'].iloc[0]}")
            ax.set_title(f"{task}: score by input length")
            ax.legend(fontsize=7, frameon=False)
            paths.append(save(fig, out, f"{task}_by_length_bucket"))
    return paths


def _bucket_key(text: str):
    digits = "".join(ch if ch.isdigit() else " " for ch in text).split()
    return (int(digits[0]) if digits else -1, text)
