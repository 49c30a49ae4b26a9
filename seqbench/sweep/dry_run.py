"""`seqbench sweep --dry-run`: what would run, with a time estimate (a range for length searches)."""
from __future__ import annotations

from datetime import datetime, timezone

from ..suite import Chain
from .display import Display, Silent
from .plan import SweepPlan
from .queue import ChainState, file_status


def estimate(p: SweepPlan, display: Display) -> dict:
    """The estimates, shown and returned as summary entries."""
    from ..estimate import estimate_searches, estimate_seconds

    out: dict = {}
    runs = estimate_seconds(p.todo, p.results)
    display.message(runs.summary(p.workers))
    out["estimate_s"] = runs.total_s
    if p.chains:
        searches = estimate_searches([(state.chain, state.solved) for state in p.chains], p.results)
        display.message(searches.summary(p.workers))
        out["estimate_search_s"] = (searches.low_s, searches.high_s)
    if p.deferred:
        out.update(_estimate_deferred(p, display))
    return out


def _done_on_disk(items, results) -> int:
    """How many runs of a group's release (fixed runs, and each chain's probes) have run files."""
    done = 0
    for item in items:
        if isinstance(item, Chain):
            state = ChainState(item)
            state.next_probe(results)
            done += len(state.probes)
        else:
            done += file_status(results, item.run_id) is not None
    return done


def _provisional_lr(group, results) -> float:
    """The lr a group not yet chosen is estimated at: the one its seeds already ran at (released by an
    earlier sitting, whose choice a widened search has reopened), else the grid's first."""
    tuning = list(group.group.tuning)
    return max(tuning, key=lambda lr: (_done_on_disk(group.group.release(lr), results), -tuning.index(lr)))


def _estimate_deferred(p: SweepPlan, display: Display) -> dict:
    """The deferred seeds' work, at the chosen lr where the tuning runs on disk choose it, else at the
    lr they already ran at (a widened search reopens a choice), else at the grid's first lr: one lr
    per group, as the sweep will run it."""
    from ..estimate import estimate_searches, estimate_seconds

    by_key = {state.chain.key: state for state in p.chains}
    runs, searched, known = [], [], 0
    for group in p.deferred:
        selection = group.choose(p.results, by_key)
        known += selection is not None
        lr = selection["chosen"] if selection else _provisional_lr(group, p.results)
        for item in group.group.release(lr):
            if isinstance(item, Chain):
                state = ChainState(item)
                state.next_probe(p.results)
                searched.append((item, state.solved))
            elif file_status(p.results, item.run_id) is None:
                runs.append(item)
    display.message(f"lr tuning: {len(p.deferred)} deferred group(s) wait for their tuning seed's choice "
                    f"({known} known from the runs on disk); estimated at one lr per group:")
    out: dict = {"deferred_runs": len(runs), "deferred_chains": len(searched)}
    fixed = estimate_seconds(runs, p.results)
    display.message(f"  {len(runs)} deferred run(s): " + fixed.summary(p.workers))
    out["estimate_deferred_s"] = fixed.total_s
    if searched:
        searches = estimate_searches(searched, p.results)
        display.message("  deferred " + searches.summary(p.workers))
        out["estimate_deferred_search_s"] = (searches.low_s, searches.high_s)
    return out


def recorded_estimate(p: SweepPlan) -> dict:
    """The dry-run estimate of what is left, as the suite record keeps it (`estimate`, made at the first
    sweep of the suite with work to do, and again when its plan changes: `plan`, Suite.plan_key), so the
    report can set the measured cost against it:
    CPU-minutes of training, low (every search probe solved up to `max`) to high (plus the bisections),
    deferred seeds included at one lr per group; `method`: how runs were priced (seqbench/estimate.py:
    "budget-share", at the share of the step budget finished runs used; records without it priced every
    run at its full budget); the workers and threads the sweep ran with; and when.

    {"at": "2026-12-06T04:10:00Z", "plan": "3f2a9c01b7de", "method": "budget-share", "cpu_minutes_low": 1450.2, "cpu_minutes_high": 1536.0, "runs": 310,
     "chains": 96, "workers": 1, "threads": 1}
    """
    from ..estimate import METHOD

    out = estimate(p, Silent())
    low = out["estimate_s"] + out.get("estimate_deferred_s", 0.0)
    high = low
    for key in ("estimate_search_s", "estimate_deferred_search_s"):
        if key in out:
            low, high = low + out[key][0], high + out[key][1]
    return {"at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "plan": p.suite.plan_key, "method": METHOD,
            "cpu_minutes_low": round(low / 60, 1), "cpu_minutes_high": round(high / 60, 1),
            "runs": len(p.todo) + out.get("deferred_runs", 0),
            "chains": sum(state.open for state in p.chains) + out.get("deferred_chains", 0),
            "workers": p.workers, "threads": p.threads}
