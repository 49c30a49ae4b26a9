"""From run records to the numbers a leaderboard shows.

Grouping: runs are grouped by (task, model, variant, length). The variant names the model
settings that differ from the task's defaults for that model (e.g. `init=identity`) and the
clip setting, so ablation runs never mix with the main entries.

Selection: where a suite has a learning-rate grid, each (task, model, variant, length) keeps the
learning rate with the best mean *validation* primary metric across seeds; test numbers are
reported only for that choice. Test data never enters selection.

Everything here comes from the run files: the metric direction (`task.higher_is_better`), the
threshold (`task.solved`), the baselines and the default-recipe flag (`recipe.default`) were
written by the runner when the run was made, so today's task YAMLs and models are never consulted.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from ..status import FINISHED, status_of
from ..store import flatten

GROUP = ["task", "model", "variant", "length"]
VARIANT_MODEL_FIELDS = ("params", "n_layers", "n_heads", "ff_mult", "dropout", "nonlinearity", "init", "causal", "positions")
MODEL_ORDER = ["rnn", "lstm", "gru", "bilstm", "transformer"]  # the order of every table and legend


def model_rank(model: str) -> tuple:
    """Sort key: built-in models in MODEL_ORDER (a "name (variant)" label by its name), then others by name."""
    base = model.split(" ")[0]
    return (MODEL_ORDER.index(base) if base in MODEL_ORDER else len(MODEL_ORDER), model)


def _settings(record: dict) -> dict:
    cfg = record["config"]
    out = {f"{k}": cfg["model"].get(k) for k in VARIANT_MODEL_FIELDS}
    out["clip"] = cfg["train"].get("clip")
    out["loss"] = cfg["train"].get("loss", "default")
    return out


def missing_fields(record: dict) -> str | None:
    """Why the report cannot use a finished run's file, or None. Files written before the runner
    recorded the metric direction and the recipe flag are upgraded by tools/upgrade_runs.py."""
    if "metric" not in record.get("task", {}):
        return None  # a run that failed before training (sweep.failed_record): shown as failed
    missing = [name for name, present in (("task.higher_is_better", "higher_is_better" in record["task"]),
                                          ("recipe.default", "default" in record.get("recipe", {}))) if not present]
    if not missing:
        return None
    return (f"{record.get('run_id')}.json: written by an older seqbench, lacks {', '.join(missing)} "
            "(upgrade it: python tools/upgrade_runs.py RESULTS)")


def is_default_recipe(record: dict) -> bool:
    """The runner's verdict, stored in the run file. A run that failed before training has no
    recipe block and no numbers; it counts as default so that it is listed with the main entries."""
    return bool(record.get("recipe", {}).get("default", True))


def arrow(higher_is_better: bool) -> str:
    return "↑" if higher_is_better else "↓"


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
        row["status"] = status_of(r)  # files from before early stopping say "ok": derived from their curve
        task = r.get("task", {})
        row["metric"] = task.get("metric")
        row["higher_is_better"] = task.get("higher_is_better", {}).get(task.get("metric"))
        row["solved_threshold"] = task.get("solved")
        row["seq_len"] = task.get("seq_len")
        row["task_version"] = r["config"].get("task_version")
        row["variant"] = variant
        row["main"] = is_default_recipe(r)
        row.update({f"config/{k}": v for k, v in _settings(r).items()})  # the recipe, for the ablation
        row["grad_norm_max"] = (r.get("grad_norm") or {}).get("max")
        row["init_slope"] = ((r.get("gradflow") or {}).get("init") or {}).get("slope")
        row["peak_mb"] = r.get("memory", {}).get("peak_mb")
        row["threads"] = r["provenance"].get("threads")
        rows.append(row)
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    return frame.sort_values(GROUP + ["lr", "seed"], kind="stable").reset_index(drop=True)


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
    ok = frame[frame["status"].isin(FINISHED)]
    keep = []
    for _, group in ok.groupby(GROUP, sort=True, dropna=False):
        metric, higher = group["metric"].iloc[0], bool(group["higher_is_better"].iloc[0])
        col = f"val/{metric}"
        means = group.groupby("lr")[col].mean()
        if means.isna().all():
            best = means.index[0]
        else:
            best = means.idxmax() if higher else means.idxmin()
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
        higher = group["higher_is_better"].dropna().iloc[0] if group["higher_is_better"].notna().any() else None
        row = dict(zip(GROUP, key))
        failed = group[~group["status"].isin(FINISHED)]
        lr = float(chosen["lr"].iloc[0]) if len(chosen) else float("nan")
        row.update({
            "metric": metric,
            "higher_is_better": higher,
            "n_failed": int(len(failed)),
            "n_failed_at_lr": int((failed["lr"] == lr).sum()),
            "failures": ", ".join(f"{s} {c}" for s, c in failed["status"].value_counts().sort_index().items()),
            "lr": lr,
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


def passes(value: float, threshold, higher_is_better: bool) -> bool:
    """Whether a mean primary metric passes the task's `solved` threshold, in the metric's direction."""
    if threshold is None or (isinstance(threshold, float) and math.isnan(threshold)) or math.isnan(value):
        return False
    return value >= threshold if higher_is_better else value <= threshold


def max_solved(summary: pd.DataFrame) -> pd.DataFrame:
    """Per (task, model, variant): the largest length whose mean primary metric passes the threshold.
    A length where a run of the chosen learning rate diverged or failed is not solved."""
    rows = []
    if summary.empty:
        return pd.DataFrame(columns=["task", "model", "variant", "max_solved", "tested"])
    for (task, model, variant), group in summary.groupby(["task", "model", "variant"], sort=True):
        solved = [int(r.length) for r in group.itertuples()
                  if not r.n_failed_at_lr and passes(r.mean, r.solved_threshold, r.higher_is_better)]
        rows.append({"task": task, "model": model, "variant": variant,
                     "max_solved": max(solved) if solved else None,
                     "tested": " ".join(str(int(x)) for x in sorted(group["length"]))})
    return pd.DataFrame(rows)
