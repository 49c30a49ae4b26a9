"""From run records to the numbers a leaderboard shows.

Grouping: runs are grouped by (task, model, variant, length). The variant names the model
settings that differ from the task's defaults for that model (e.g. `init=identity`) and the
clip setting, so ablation runs never mix with the main entries.

Selection: where a suite has a learning-rate grid, each (task, model, variant, length) keeps the
learning rate with the best mean *validation* primary metric across seeds; test numbers are
reported only for that choice. Test data never enters selection.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from ..metrics import METRICS
from ..store import flatten

GROUP = ["task", "model", "variant", "length"]
VARIANT_MODEL_FIELDS = ("params", "n_layers", "n_heads", "ff_mult", "dropout", "nonlinearity", "init", "causal")


ABLATION_FIELDS = ("nonlinearity", "init", "causal", "n_layers")  # recipe changes, not size
MODEL_ORDER = ["rnn", "lstm", "gru", "bilstm", "transformer"]  # the order of every table and legend


def model_rank(model: str) -> tuple:
    """Sort key: built-in models in MODEL_ORDER (a "name (variant)" label by its name), then others by name."""
    base = model.split(" ")[0]
    return (MODEL_ORDER.index(base) if base in MODEL_ORDER else len(MODEL_ORDER), model)


def _settings(record: dict) -> dict:
    cfg = record["config"]
    out = {f"{k}": cfg["model"].get(k) for k in VARIANT_MODEL_FIELDS}
    out["clip"] = cfg["train"].get("clip")
    return out


def is_default_recipe(record: dict) -> bool:
    """True when the run uses its task's default recipe for the model (sizes may differ)."""
    from ..errors import UserError
    from ..tasks import get_task
    cfg = record["config"]
    try:
        default = get_task(cfg["task"]).resolve(cfg["model"]["name"], cfg["length"], cfg["seed"])
    except UserError:
        return True
    same_model = all(getattr(default.model, k) == cfg["model"].get(k) for k in ABLATION_FIELDS)
    return same_model and default.train.clip == cfg["train"].get("clip")


def variant_labels(records: list[dict]) -> list[str]:
    """Per run, the settings that vary among runs of its (task, model) ('' when none vary)."""
    seen: dict = {}
    for r in records:
        key = (r["config"]["task"], r["config"]["model"]["name"])
        for name, value in _settings(r).items():
            seen.setdefault(key, {}).setdefault(name, set()).add(repr(value))
    labels = []
    for r in records:
        key = (r["config"]["task"], r["config"]["model"]["name"])
        varying = [n for n, values in seen[key].items() if len(values) > 1]
        settings = _settings(r)
        labels.append(", ".join(f"{n}={'off' if settings[n] is None and n == 'clip' else settings[n]}" for n in varying))
    return labels


def runs_frame(records: list[dict]) -> pd.DataFrame:
    rows = []
    for r, variant in zip(records, variant_labels(records)):
        row = flatten(r)
        task = r.get("task", {})
        row["metric"] = task.get("metric")
        row["solved_threshold"] = task.get("solved")
        row["seq_len"] = task.get("seq_len")
        row["task_version"] = r["config"].get("task_version")
        row["variant"] = variant
        row["main"] = is_default_recipe(r)
        row["peak_mb"] = r.get("memory", {}).get("peak_mb")
        row["threads"] = r["provenance"].get("threads")
        rows.append(row)
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    return frame.sort_values(GROUP + ["lr", "seed"], kind="stable").reset_index(drop=True)


def higher_is_better(metric: str) -> bool:
    return METRICS.get(metric).higher_is_better


def t_interval(values) -> tuple[float, float, int]:
    """(mean, half-width of the 95% t-interval, n); the half-width is NaN for n < 2."""
    values = np.asarray([v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))], dtype=float)
    n = len(values)
    if n == 0:
        return float("nan"), float("nan"), 0
    mean = float(values.mean())
    if n < 2:
        return mean, float("nan"), n
    half = float(stats.t.ppf(0.975, n - 1) * values.std(ddof=1) / math.sqrt(n))
    return mean, half, n


def select_lr(frame: pd.DataFrame) -> pd.DataFrame:
    """Keep, per group, the runs of the learning rate with the best mean validation metric."""
    ok = frame[frame["status"] == "ok"]
    keep = []
    for _, group in ok.groupby(GROUP, sort=True, dropna=False):
        metric = group["metric"].iloc[0]
        col = f"val/{metric}"
        means = group.groupby("lr")[col].mean()
        if means.isna().all():
            best = means.index[0]
        else:
            best = means.idxmax() if higher_is_better(metric) else means.idxmin()
        keep.append(group[group["lr"] == best])
    return pd.concat(keep) if keep else ok.iloc[0:0]


def summarise(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per group: primary test metric mean, CI half-width and n, plus costs and failures."""
    selected = select_lr(frame)
    rows = []
    for key, group in frame.groupby(GROUP, sort=True, dropna=False):
        chosen = selected
        for col, value in zip(GROUP, key):
            chosen = chosen[chosen[col] == value]
        metric = group["metric"].dropna().iloc[0] if group["metric"].notna().any() else None
        row = dict(zip(GROUP, key))
        failed = group[group["status"] != "ok"]
        row.update({
            "metric": metric,
            "n_failed": int(len(failed)),
            "failures": ", ".join(f"{s} {c}" for s, c in failed["status"].value_counts().sort_index().items()),
            "lr": float(chosen["lr"].iloc[0]) if len(chosen) else float("nan"),
            "solved_threshold": group["solved_threshold"].iloc[0],
            "main": bool(group["main"].all()),
        })
        mean, half, n = t_interval(chosen[f"test/{metric}"]) if metric and len(chosen) else (float("nan"), float("nan"), 0)
        row.update({"mean": mean, "ci": half, "n": n})
        for col in ("params", "train_time_s", "eval_tokens_per_s", "median_step_ms", "seq_len"):
            values = chosen[col].dropna() if col in chosen else []
            row[col] = float(np.mean(values)) if len(values) else float("nan")
        baseline = f"baseline/{metric}"
        row["baseline"] = float(group[baseline].dropna().iloc[0]) if metric and baseline in group and group[baseline].notna().any() else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)


def passes(value: float, threshold, metric: str) -> bool:
    if threshold is None or (isinstance(threshold, float) and math.isnan(threshold)) or math.isnan(value):
        return False
    return value >= threshold if higher_is_better(metric) else value <= threshold


def max_solved(summary: pd.DataFrame) -> pd.DataFrame:
    """Per (task, model, variant): the largest length whose mean primary metric passes the threshold."""
    rows = []
    if summary.empty:
        return pd.DataFrame(columns=["task", "model", "variant", "max_solved", "tested"])
    for (task, model, variant), group in summary.groupby(["task", "model", "variant"], sort=True):
        solved = [int(r.length) for r in group.itertuples() if passes(r.mean, r.solved_threshold, r.metric)]
        rows.append({"task": task, "model": model, "variant": variant,
                     "max_solved": max(solved) if solved else None,
                     "tested": " ".join(str(int(x)) for x in sorted(group["length"]))})
    return pd.DataFrame(rows)
