"""From run records to the numbers a leaderboard shows.

Grouping: runs are grouped by (task, protocol, model, variant, length). The protocol
(seqbench/protocol.py) holds what must be equal for numbers to share a ranking; the variant names the
recipe settings that vary among a model's runs of one protocol (e.g. `init=identity`), so ablation
runs never mix with the main entries.

Selection: which learning rate each group keeps is decided once, in decisions.py (the sweep's
recorded choice, checked against selection.py's rule), and marked in the frame's `chosen` column;
`summarise` reports the test numbers of all seeds of that choice. Test data never enters selection.

Everything here comes from the run files: the metric direction (`task.higher_is_better`), the
threshold (`task.solved`), the baselines and the default-recipe flag (`recipe.default`) were
written by the runner when the run was made, so today's task YAMLs and models are never consulted.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from ..protocol import Protocol, protocol_key
from ..record import RunRecord, Search, State
from ..selection import run_score
from ..status import BUDGET_LIMITED, FINISHED
from ..store import flatten
from .numbers import spread

GROUP = ["task", "protocol", "model", "variant", "length"]
ROW = ["task", "protocol", "model", "variant"]  # one row of a table
VARIANT_MODEL_FIELDS = ("params", "n_layers", "n_heads", "ff_mult", "dropout", "nonlinearity", "init", "causal", "positions")
TRAIN_UNIGRAM_ENTROPY = "unigram entropy of the training text"
MODEL_ORDER = ["rnn", "lstm", "gru", "bilstm", "transformer"]  # the order of every table and legend


AXIS_LABEL = {"length": "L", "n_pairs": "pairs"}  # how a table names its axis (RunRecord.axis)


def axis_of(rows: pd.DataFrame) -> str:
    """The axis these runs sit on: "length", or the task parameter their search varied ("n_pairs")."""
    if "axis" not in rows or rows.empty:
        return "length"
    axes = rows["axis"].dropna().unique()
    return str(axes[0]) if len(axes) == 1 else "length"


def axis_label(axis: str) -> str:
    """'L' for the length, 'pairs' for n_pairs, the parameter's own name otherwise."""
    return AXIS_LABEL.get(axis, axis)


def model_rank(model: str) -> tuple:
    """Sort key: built-in models in MODEL_ORDER (a "name (variant)" label by its name), then others by name."""
    base = model.split(" ")[0]
    return (MODEL_ORDER.index(base) if base in MODEL_ORDER else len(MODEL_ORDER), model)


def _settings(record: RunRecord) -> dict:
    model, train = record.config.model, record.config.train
    out = {k: getattr(model, k) for k in VARIANT_MODEL_FIELDS}
    out["clip"] = train.clip
    out["loss"] = train.loss
    return out


def missing_fields(record: RunRecord) -> str | None:
    """Why the report cannot use a finished run's file, or None. Files written before the runner
    recorded the metric direction and the recipe flag are upgraded by tools/upgrade_runs.py."""
    if record.task.metric is None:
        return None  # a run that failed before training (sweep.failed_record): shown as failed
    missing = [name for name, present in (("task.higher_is_better", record.task.higher_is_better is not None),
                                          ("recipe.default", record.recipe is not None and record.recipe.default is not None))
               if not present]
    if not missing:
        return None
    return (f"{record.run_id}.json: written by an older seqbench, lacks {', '.join(missing)} "
            "(upgrade it: python tools/upgrade_runs.py RESULTS)")


def arrow(higher_is_better: bool) -> str:
    return "↑" if higher_is_better else "↓"


# What a run file's "chance" is, where calling it chance would mislead: a character LM's is the unigram
# entropy of its training text (CharLM.baseline), not uniform guessing (log2 of the vocabulary).
CHANCE_LABEL = {"bpc": TRAIN_UNIGRAM_ENTROPY}


def baselines_of(record: RunRecord) -> dict[str, float]:
    """{strategy: primary-metric score}, chance first. Files from before named strategies carry one
    `baseline` block: it is chance."""
    metric = record.task.metric
    named = record.baselines or {"chance": record.baseline or {}}
    order = sorted(named, key=lambda name: name != "chance")  # run files store keys sorted: chance goes first again
    scores = {name: float(named[name][metric]) for name in order
              if metric in (named[name] or {}) and named[name][metric] is not None}
    if "chance" in scores and metric in CHANCE_LABEL:
        scores = {CHANCE_LABEL[metric] if name == "chance" else name: v for name, v in scores.items()}
    # Where the named strategy is what "chance" already was (copy, the real tasks), one line says it, by name.
    if "chance" in scores and any(n != "chance" and abs(v - scores["chance"]) < 1e-9 for n, v in scores.items()):
        del scores["chance"]
    return scores


def n_scored(record: RunRecord) -> int | None:
    """Test outputs scored, for the binomial noise of a share: test examples x outputs per example when
    the run file says; else the examples alone, which can only overstate the noise (never claims a win)."""
    examples, outputs = record.task.test_examples, record.task.outputs
    if isinstance(examples, int) and isinstance(outputs, int):
        return int(examples * outputs)
    return int(examples) if isinstance(examples, int) else None


def variant_labels(records: list[RunRecord]) -> list[str]:
    """Per run, the settings that vary among runs of its (task, protocol, model) ('' when none vary)."""
    def key(r):
        return (r.config.task, protocol_key(r), r.config.model.name)
    seen: dict = {}
    for r in records:
        for name, value in _settings(r).items():
            seen.setdefault(key(r), {}).setdefault(name, set()).add(repr(value))
    labels = []
    for r in records:
        varying = [n for n, values in seen[key(r)].items() if len(values) > 1]
        settings = _settings(r)
        labels.append(", ".join(f"{n}={'off' if settings[n] is None and n == 'clip' else settings[n]}" for n in varying))
    return labels


RSS_KIND = "cpu_max_rss"  # process RSS, recorded before the per-model probe (measure/memory.py)


def peak_mb(record: RunRecord) -> float | None:
    """A model's peak memory in one training step, or None for files that recorded process RSS,
    which counts the interpreter and every earlier run in the process and does not compare models."""
    memory = record.memory
    return None if memory.kind in (None, RSS_KIND) else memory.peak_mb


def runs_frame(records: list[RunRecord]) -> pd.DataFrame:
    rows = []
    for r, variant in zip(records, variant_labels(records)):
        row = flatten(r)
        # A probe of a search over a task parameter sits at its value on the table's axis (recall_mqar:
        # its pair count), as a length search's probes sit at their length (RunRecord.axis).
        row["axis"], row["length"] = r.axis
        row["config/length"] = r.config.length  # the sequence length, also where `length` holds the axis
        state = r.state or State()
        row.update({f"state/{k}": getattr(state, k) for k in ("kind", "bytes", "seq_len", "note")})
        protocol = Protocol.of_record(r)
        row["protocol"] = protocol.key
        row["protocol_text"] = protocol.describe()
        row["baselines"] = baselines_of(r)
        row["n_scored"] = n_scored(r)
        search = r.search or Search()
        row.update({f"search/{k}": getattr(search, k) for k in ("chain", "start", "max", "refine", "param")})
        row["solved_step"] = r.solved_step
        row["solved_s"] = r.solved_s
        row["status"] = r.status
        row["solved"] = r.solved  # status.is_solved: the one meaning of "solved"
        row["metric"] = r.task.metric
        row["higher_is_better"] = r.higher_is_better
        row["lr_score"] = run_score(r)  # how decisions.choose_rates compares learning rates: the sweep's rule
        row["lr_recorded"] = r.lr_selection.chosen if r.lr_selection else None  # the sweep's choice, where it recorded one
        row["solved_threshold"] = r.task.solved
        row["seq_len"] = r.task.seq_len
        row["task_version"] = r.config.task_version
        row["variant"] = variant
        row["main"] = r.default_recipe
        row.update({f"config/{k}": v for k, v in _settings(r).items()})  # the recipe, for the ablation
        row["grad_norm_max"] = r.grad_norm.max if r.grad_norm else None
        row["init_slope"] = r.gradflow.slope("init") if r.gradflow else None
        row["peak_mb"] = peak_mb(r)
        row["embedding_params"] = r.params.params_embedding
        row["threads"] = r.provenance.threads
        row["adapter"] = r.adapter
        row["kernel"] = r.model_info.kernel if r.model_info else None
        row["scan"] = r.model_info.scan if r.model_info else None
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


def main_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of each model's default recipe (ablation variants are left to their own section)."""
    return frame[frame["main"]] if "main" in frame else frame


def _median(values) -> float:
    values = [float(v) for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return float(np.median(values)) if values else float("nan")


def summarise(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per group: the primary test metric over the chosen learning rate's seeds (mean, spread,
    t half-width `ci`), its failures, statuses and costs. Failed seeds are counted, never averaged."""
    selected = frame[frame["chosen"].astype(bool) & frame["status"].isin(FINISHED)]  # decisions.mark_chosen
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
        # The seeds the cell speaks for: the chosen learning rate's, failed ones included; with no
        # finished run at all, every run of the group.
        failed_here = failed[failed["lr"] == lr] if len(chosen) else failed
        values = list(chosen[f"test/{metric}"].dropna()) if metric and len(chosen) else []
        s = spread(values, bool(higher) if higher is not None else True)
        statuses = pd.concat([chosen["status"], failed_here["status"]]).value_counts()
        solved = chosen[chosen["solved"].astype(bool)]
        row.update({
            "metric": metric,
            "higher_is_better": higher,
            "n_failed": int(len(failed)),
            "n_failed_at_lr": int(len(failed_here)) if len(chosen) else 0,
            "failures": ", ".join(f"{s} {c}" for s, c in failed["status"].value_counts().sort_index().items()),
            "lr": lr,
            "lr_grid": sorted(float(x) for x in group["lr"].dropna().unique()),
            "solved_threshold": group["solved_threshold"].iloc[0],
            "main": bool(group["main"].all()),
            "protocol_text": group["protocol_text"].iloc[0],
            "mean": s.mean, "ci": t_interval(values)[1], "n": s.n, "low": s.low, "high": s.high,
            "total": int(len(chosen) + len(failed_here)),
            "failed_counts": failed_here["status"].value_counts().to_dict(),
            "n_budget_limited": int((chosen["status"] == BUDGET_LIMITED).sum()),
            "statuses": {k: int(v) for k, v in statuses.items()},
            "values": values,
            "solved_step": _median(solved["solved_step"]) if "solved_step" in solved else float("nan"),
            "solved_s": _median(solved["solved_s"]) if "solved_s" in solved else float("nan"),
            "n_scored": next((int(v) for v in group["n_scored"] if v is not None and not pd.isna(v)), None),
        })
        for col in ("params", "embedding_params", "train_time_s", "eval_tokens_per_s", "seq_len"):
            values_ = chosen[col].dropna() if col in chosen else []
            row[col] = float(np.mean(values_)) if len(values_) else float("nan")
        row["median_step_ms"] = _median(chosen["median_step_ms"]) if len(chosen) else float("nan")
        row["peak_mb"] = _median(chosen["peak_mb"]) if len(chosen) else float("nan")
        named = next((b for b in group["baselines"] if b), {})
        row["baselines"] = named
        row["baseline"] = next(iter(named.values()), float("nan"))  # chance: the first strategy
        rows.append(row)
    return pd.DataFrame(rows)
