"""What a sweep estimated, read from its suite record (results/suites/<name>.json), beside what the run
files measured: the next length a search did not try where it stopped at its ceiling, and the dry-run
estimate of a suite's work against the training time its runs took.

The estimates are made where estimating is allowed, by the sweep (seqbench/estimate.py: a power law of
seconds per step against length, fitted on the runs in the results directory, times the step budget),
and recorded in the suite record; the report only reads them, so there is one estimate of a run's cost
and a record from before it simply says "not recorded".
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd

from ..record import RunRecord, Timing
from ..store import suite_label, suite_records
from .decisions import Decisions
from .section import Section, Text
from .table import Table

CEILING_TITLE = "Searches stopped at their ceiling"
WITHIN = 0.25  # the dry-run estimate's target: the measured cost within ±25% of it


def _beyond(results: Path) -> dict[str, dict]:
    """probe run id -> the `next` entry of its chain, for every chain a suite record says solved its ceiling."""
    out = {}
    for data in suite_records(results):
        for chain in data.get("searches", []):
            if isinstance(chain, dict) and isinstance(chain.get("next"), dict):
                for probe in chain.get("probes", []):
                    out[probe.get("run_id")] = chain["next"]
    return out


def _next_text(entries: list[dict | None], censored: int) -> tuple[str, str]:
    """(the value not tried, its estimated cost over the censored seeds) from their chains' `next` entries."""
    found = [e for e in entries if e is not None]
    values = sorted({v for e in found for k, v in e.items() if k not in ("cpu_minutes", "why")})
    value = "/".join(f"{v:,}" for v in values) or "—"
    why = sorted({str(e["why"]) for e in found if e.get("why")})
    if why:
        return value, "cannot be tried: " + "; ".join(why)
    if len(found) < censored:
        return value, (f"not recorded ({censored - len(found)} of {censored} seeds' chains; the suite record "
                       "predates it: run the sweep again to record it)")
    minutes = sum(float(e.get("cpu_minutes") or 0.0) for e in found)
    return value, f"{minutes:,.0f} CPU-min ({censored} seed{'s' * (censored != 1)})"


def ceiling_section(decisions: Decisions, results: Path) -> Section | None:
    """One row per main-table row whose longest solved value reads `≥ max`: the value the search did
    not try and the estimated cost of trying it on the seeds that solved the ceiling. None when no row does."""
    main = decisions.in_main_protocol()
    longest, seeds = main.longest, main.seeds
    if longest.empty or not longest["censored"].astype(bool).any():
        return None
    beyond = _beyond(results)
    rows = []
    for _, row in longest[longest["censored"].astype(bool) & longest["searched"].astype(bool)].iterrows():
        mine = seeds[(seeds["task"] == row["task"]) & (seeds["protocol"] == row["protocol"])
                     & (seeds["model"] == row["model"]) & (seeds["variant"] == row["variant"])
                     & seeds["censored"].astype(bool)]
        entries = [next((beyond[i] for i in ids if i in beyond), None) for ids in mine["run_ids"]]
        value, cost = _next_text(entries, len(mine))
        variant = "" if pd.isna(row["variant"]) or row["variant"] in ("", "default") else f" ({row['variant']})"
        rows.append([row["task"], f"{row['model']}{variant}", row["label"], f"{int(row['max']):,}", value, cost])
    if not rows:
        return None
    table = Table.of_text(["task", "model", "longest solved", "ceiling", "next, not tried", "its estimated cost"], rows)
    return Section(CEILING_TITLE, [Text(
        "Where the median seed solved the longest value its search tried, the table reads `≥` that value: a "
        "floor, since the next value (twice the ceiling, where the doubling would go on) was not tried. Its "
        "estimated cost is in CPU-minutes of training at the step budget, summed over the seeds whose chain "
        "solved the ceiling; the sweep estimated it when the chain ended (seqbench/estimate.py: seconds per step "
        "against length, a power law fitted on this leaderboard's runs of the task and model) and recorded it in "
        "the suite record (`searches[].next` in suites/<name>.json)."), table])


def _parse(stamp) -> datetime | None:
    try:
        return datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:
        return None


def measured_seconds(timed: list[Timing]) -> tuple[list[float], str]:
    """Each run's measured training cost, and what it was read from where that is not train_time_s alone:
    a run's CPU seconds (timing.cpu_s) where it recorded them, else its wall-clock seconds, which count time
    the run waited for the CPU on a loaded machine. Without any cpu_s: train_time_s, and no note."""
    cpu = sum(isinstance(t.cpu_s, (int, float)) for t in timed)
    if not cpu:
        return [t.train_time_s for t in timed], ""
    seconds = [t.cpu_s if isinstance(t.cpu_s, (int, float)) else t.train_time_s for t in timed]
    wall = sum(t.train_time_s for t in timed) / 60
    rest = len(timed) - cpu
    return seconds, (f" (timing.cpu_s of {cpu} run{'s' * (cpu != 1)}"
                     + (f", train_time_s of {rest} without it, which counts time waiting for the CPU" if rest else "")
                     + f"; {wall:,.0f} minutes of wall-clock training)")


METHODS = {  # how an estimate priced a run (seqbench/estimate.py METHOD; records before it: full-budget)
    "full-budget": "every run at its full step budget",
    "budget-share": "each run at the share of its step budget that its task and model's finished runs used",
}


def _method_text(est: dict) -> str:
    method = str(est.get("method", "full-budget"))
    return METHODS.get(method, f"method {method!r}")


def _earlier_text(earlier: list) -> str:
    """The estimates a changed plan or method replaced (a raised ceiling): what each priced, how, and when."""
    made = [f"{float(e.get('cpu_minutes_high', 0.0)):,.0f} CPU-minutes on {when.strftime('%Y-%m-%d %H:%M UTC')}"
            f" ({_method_text(e)})"
            for e in earlier if isinstance(e, dict) and (when := _parse(e.get("at"))) is not None]
    if not made:
        return ""
    return (f" (re-estimated when the suite's plan or the estimate's method changed; the earlier "
            f"estimate{'s' * (len(made) > 1)}: {', '.join(made)})")


def estimate_text(records: list[RunRecord], results: Path) -> str:
    """Per suite record: its dry-run estimate (made at its first sweep with work to do) against the
    training time of its runs that finished after it, and whether that is within ±25%."""
    parts = []
    for data in suite_records(results):
        label = suite_label(data.get("name"), data.get("version"))
        est = data.get("estimate")
        at = _parse(est.get("at")) if isinstance(est, dict) else None
        if at is None:
            parts.append(f"{label}: not recorded (its suite record predates the estimate the sweep records at "
                         "its first start)")
            continue
        ids = set(data.get("run_ids", []))
        timed = [r.timing for r in records if r.run_id in ids
                 and isinstance(r.timing.train_time_s, (int, float)) and isinstance(r.timing.finished_at, str)
                 and (_parse(r.timing.finished_at) or at) >= at]
        seconds, source = measured_seconds(timed)
        low, high = float(est.get("cpu_minutes_low", 0.0)), float(est.get("cpu_minutes_high", 0.0))
        measured = sum(seconds) / 60
        within = (1 - WITHIN) * low <= measured <= (1 + WITHIN) * high
        span = f"{low:,.0f}" if round(low) == round(high) else f"{low:,.0f}–{high:,.0f}"
        ratio = f"{measured / high:.0%} of the high end" if high > 0 else "no estimate to compare"
        parts.append(
            f"{label}: estimated {span} CPU-minutes of training on {at.strftime('%Y-%m-%d %H:%M UTC')}, "
            f"{_method_text(est)} ({est.get('runs', '?')} runs and {est.get('chains', '?')} search chains left, {est.get('workers', '?')} "
            f"worker(s)); measured {measured:,.0f} CPU-minutes in the {len(seconds)} runs finished since{source} ({ratio}): "
            + ("within" if within else "outside") + f" ±{WITHIN:.0%}"
            + (" so far (the suite is incomplete)" if data.get("complete") is False else "")
            + _earlier_text(est.get("earlier") or []))
    return "; ".join(parts) or "—"
