"""From run records to the numbers a leaderboard shows.

Grouping: runs are grouped by (task, protocol, model, variant, length). The protocol
(seqbench/protocol.py) holds what must be equal for numbers to share a ranking; the variant names the
recipe settings that vary among a model's runs of one protocol (e.g. `init=identity`), so ablation
runs never mix with the main entries.

Selection: where a suite has a learning-rate grid, each (task, model, variant, length) keeps the
learning rate with the best mean *validation* primary metric over the seeds every rate was run on
(selection.py, the rule the sweep applies when a suite tunes on one seed); test numbers are
reported for all seeds of that choice. Test data never enters selection.

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
from ..record import RunRecord, Search
from ..search import LengthSearch
from ..selection import choose_lr, median as median_of, run_score, search_score
from ..status import BUDGET_LIMITED, FINISHED, SOLVED
from ..store import flatten
from .numbers import spread

GROUP = ["task", "protocol", "model", "variant", "length"]
ROW = ["task", "protocol", "model", "variant"]  # one row of a table
VARIANT_MODEL_FIELDS = ("params", "n_layers", "n_heads", "ff_mult", "dropout", "nonlinearity", "init", "causal", "positions")
TRAIN_UNIGRAM_ENTROPY = "unigram entropy of the training text"
MODEL_ORDER = ["rnn", "lstm", "gru", "bilstm", "transformer"]  # the order of every table and legend


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
        protocol = Protocol.of_record(r)
        row["protocol"] = protocol.key
        row["protocol_text"] = protocol.describe()
        row["baselines"] = baselines_of(r)
        row["n_scored"] = n_scored(r)
        search = r.search or Search()
        row.update({f"search/{k}": getattr(search, k) for k in ("chain", "start", "max", "refine")})
        row["solved_step"] = r.solved_step
        row["solved_s"] = r.solved_s
        row["status"] = r.status
        row["metric"] = r.task.metric
        row["higher_is_better"] = r.higher_is_better
        row["lr_score"] = run_score(r)  # how select_lr compares learning rates: the sweep's rule
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
    """Keep, per group, the finished runs of the learning rate with the best mean validation metric
    on the seeds all its rates share (selection.choose_lr): with a suite's one tuning seed, that
    seed; with a full grid, every seed. A failed run counts for its seed but has no score.

    Length searches choose once per table row, at every length, the rate the sweep chose: the best
    median longest solved length (`search_choice`); the other seeds ran only at that rate."""
    ok = frame[frame["status"].isin(FINISHED)]
    searched_rows = frame["search/chain"].notna() if "search/chain" in frame else pd.Series(False, index=frame.index)
    keep = []
    for _, group in frame[searched_rows].groupby(ROW, sort=True, dropna=False):
        best = search_choice(group)[0]
        keep.append(group[(group["lr"] == best) & group["status"].isin(FINISHED)])
    for _, group in frame[~searched_rows].groupby(GROUP, sort=True, dropna=False):
        finished = group[group["status"].isin(FINISHED)]
        if finished.empty:
            continue
        scores: dict = {}
        for lr, seed, score in zip(group["lr"], group["seed"], group["lr_score"]):
            scores.setdefault(lr, {}).setdefault(seed, score)
        best = choose_lr(scores)
        keep.append(finished[finished["lr"] == best])
    return pd.concat(keep) if keep else ok.iloc[0:0]


def search_choice(chains: pd.DataFrame) -> tuple[float, list[int], LengthSearch]:
    """For one table row's length-search chains: the learning rate the sweep chose (the best median
    of LengthSearch.result on the seeds all rates share, ties to the validation score at the chain's
    longest probe: selection.choose_lr; status `solved` is a validation verdict), that rate's longest
    solved length per chain, and the search."""
    per_lr: dict = {}
    scores: dict = {}
    tiebreak: dict = {}
    first = chains.iloc[0]
    search = LengthSearch(int(first["search/start"]), int(first["search/max"]), int(first["search/refine"] or 0))
    for (lr, _), chain in chains.groupby(["lr", "search/chain"], sort=True):
        score = search_score(search, {int(L): s == SOLVED for L, s in zip(chain["length"], chain["status"])})
        seed = chain["seed"].iloc[0]
        per_lr.setdefault(lr, []).append(score)
        scores.setdefault(lr, {}).setdefault(seed, score)
        tiebreak.setdefault(lr, {}).setdefault(seed, chain.loc[chain["length"].idxmax(), "lr_score"] if "lr_score" in chain else None)
    lr = choose_lr(scores, median_of, tiebreak)
    return lr, per_lr[lr], search


def chosen_ids(frame: pd.DataFrame) -> set[str]:
    """The run ids of `chosen_runs`."""
    return set(chosen_runs(frame)["run_id"]) if not frame.empty else set()


def main_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of each model's default recipe (ablation variants are left to their own section)."""
    return frame[frame["main"]] if "main" in frame else frame


def chosen_runs(frame: pd.DataFrame) -> pd.DataFrame:
    """The main rows at the learning rate validation chose per group, failed seeds included: what the
    tables, figures, findings and gradient-flow section all read, so a learning rate that lost on
    validation never counts as another seed."""
    main = main_rows(frame)
    if main.empty:
        return main
    chosen = select_lr(main)[GROUP + ["lr"]].drop_duplicates()
    return main.merge(chosen, on=GROUP + ["lr"])


def _median(values) -> float:
    values = [float(v) for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return float(np.median(values)) if values else float("nan")


def summarise(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per group: the primary test metric over the chosen learning rate's seeds (mean, spread,
    t half-width `ci`), its failures, statuses and costs. Failed seeds are counted, never averaged."""
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
        # The seeds the cell speaks for: the chosen learning rate's, failed ones included; with no
        # finished run at all, every run of the group.
        failed_here = failed[failed["lr"] == lr] if len(chosen) else failed
        values = list(chosen[f"test/{metric}"].dropna()) if metric and len(chosen) else []
        s = spread(values, bool(higher) if higher is not None else True)
        statuses = pd.concat([chosen["status"], failed_here["status"]]).value_counts()
        solved = chosen[chosen["status"] == SOLVED]
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


def passes(value: float, threshold, higher_is_better: bool) -> bool:
    """Whether a mean primary metric passes the task's `solved` threshold, in the metric's direction."""
    if threshold is None or (isinstance(threshold, float) and math.isnan(threshold)) or math.isnan(value):
        return False
    return value >= threshold if higher_is_better else value <= threshold


def max_solved(summary: pd.DataFrame) -> pd.DataFrame:
    """Per (task, protocol, model, variant): the largest length whose mean primary metric passes the
    threshold; `censored` when that is the longest length tried. A length where a run of the chosen
    learning rate diverged or failed is not solved."""
    rows = []
    if summary.empty:
        return pd.DataFrame(columns=ROW + ["max_solved", "censored", "tested"])
    for key, group in summary.groupby(ROW, sort=True):
        solved = [int(r.length) for r in group.itertuples()
                  if not r.n_failed_at_lr and passes(r.mean, r.solved_threshold, r.higher_is_better)]
        best = max(solved) if solved else None
        rows.append({**dict(zip(ROW, key)), "max_solved": best,
                     "censored": best is not None and best == int(group["length"].max()),
                     "tested": " ".join(str(int(x)) for x in sorted(group["length"]))})
    return pd.DataFrame(rows)


def _length_text(value: float, start: int, ceiling: int) -> str:
    if value < start:
        return f"< {start}"
    return f"≥ {value:g}" if value >= ceiling else f"{value:g}"


def _searched(chains: pd.DataFrame) -> dict:
    """Longest solved length of searched chains: per chain LengthSearch.result, the learning rate
    with the best median on the seeds all rates share (selection.choose_lr; status `solved` is a
    validation verdict), then the median over all its seeds with the min–max. A chain that solved
    nothing counts 0 ("< start")."""
    longest, search = search_choice(chains)[1:]
    median = float(np.median(longest))
    text = _length_text(median, search.start, search.max)
    if len(longest) > 1 and min(longest) != max(longest):
        text += f" [{_length_text(min(longest), search.start, search.max)}–{_length_text(max(longest), search.start, search.max)}]"
    return {"longest": median, "low": min(longest), "high": max(longest), "censored": median >= search.max,
            "label": text, "searched": True, "seeds": len(longest)}


def longest_solved(frame: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    """Per table row (task, protocol, model, variant): the longest solved length and its label.

    Searched chains (run files with a `search` block): see `_searched`; `≥ L` when the median seed
    solved even the search's max, `< start` when it solved nothing. Fixed lengths: `max_solved`'s
    rule, `≥ L` when the longest length tried passes, `< L` (the shortest tried) when none does.
    """
    fixed = max_solved(summary).set_index(ROW) if not summary.empty else None
    rows = []
    for key, group in frame.groupby(ROW, sort=True):
        chains = group[group["search/chain"].notna()] if "search/chain" in group else group.iloc[0:0]
        if len(chains):
            rows.append({**dict(zip(ROW, key)), **_searched(chains)})
            continue
        if fixed is None or key not in fixed.index:
            continue
        best = fixed.loc[key]
        shortest = int(group["length"].min())
        value = best["max_solved"]
        missing = value is None or (isinstance(value, float) and math.isnan(value))
        label = f"< {shortest}" if missing else (f"≥ {int(value)}" if best["censored"] else str(int(value)))
        rows.append({**dict(zip(ROW, key)), "longest": 0.0 if missing else float(value), "low": float("nan"),
                     "high": float("nan"), "censored": bool(best["censored"]), "label": label, "searched": False,
                     "seeds": float("nan")})
    return pd.DataFrame(rows, columns=ROW + ["longest", "low", "high", "censored", "label", "searched", "seeds"])
