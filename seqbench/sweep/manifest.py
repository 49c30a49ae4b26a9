"""The suite record, results/suites/<name>.json: what a sweep of the suite made so far."""
from __future__ import annotations

import json
from pathlib import Path

from ..config import RunConfig
from ..errors import UserError
from ..store import suite_record_path, write_json_atomic
from ..suite import Suite
from .queue import ChainState


def suite_manifest(results: Path, name: str) -> dict | None:
    """The suite record of `name` in `results`, or None when there is none."""
    path = suite_record_path(results, name)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise UserError(f"{path}: not a readable suite manifest ({exc}); remove it or use another --results") from exc


def next_beyond_ceiling(chains: list[ChainState], results: Path, known: dict[str, dict]) -> dict[str, dict]:
    """chain key -> `next`, for each finished chain that solved its `max` (censored): the value the search
    did not try (ParamSearch.beyond) and that probe's estimated cost, `cpu_minutes`, by the one estimate
    of a run's cost (seqbench/estimate.py, from the step times of the runs in `results` when it is made).
    `known`: the entries an earlier sweep recorded (chain key -> `next`), kept while they name the same
    value, so a sweep that finds everything done writes the same record; a raised `max` estimates anew.

    {"length": 512, "cpu_minutes": 41.7}: the probe at L = 512 was not run; it would cost about 42 CPU-minutes.
    {"n_pairs": 128, "cpu_minutes": null, "why": "task 'recall_mqar': n_pairs (128) must not exceed n_keys (64)"}:
    the task has no such probe.
    """
    out, todo = {}, []
    for state in chains:
        search = state.chain.search
        if not state.done or not search.result(state.solved).censored:
            continue
        entry = known.get(state.chain.key)
        if entry is not None and entry.get(state.param) == search.beyond:
            out[state.chain.key] = entry
        else:
            todo.append(state)
    configs = []
    for state in todo:
        try:
            configs.append((state, state.chain.config(state.chain.search.beyond)))
        except UserError as exc:  # the task cannot go there (recall_mqar: more pairs than keys): no probe to cost
            out[state.chain.key] = {state.param: state.chain.search.beyond, "cpu_minutes": None, "why": str(exc)}
    if configs:
        from ..estimate import predicted_seconds

        for (state, _), (seconds, _) in zip(configs, predicted_seconds([cfg for _, cfg in configs], results)):
            out[state.chain.key] = {state.param: state.chain.search.beyond, "cpu_minutes": round(seconds / 60, 2)}
    return out


def write_manifest(results: Path, suite: Suite, suite_path: Path, runs: list[RunConfig],
                   chains: list[ChainState], added: tuple[str, ...] | None = None, complete: bool = False,
                   estimate: dict | None = None) -> None:
    """results/suites/<name>.json: the suite, its run ids (probes known so far included) and, per
    length-search chain, its probes and the longest length solved (`searches`, see README "Sweeps"),
    with `next` where it solved its ceiling. `added`: the models of a `--models` sweep, whose entries
    join those of the suite's other models. `complete`: the sweep ended with nothing left to run (the
    report marks an incomplete suite); a `--models` sweep keeps the suite's value. `estimate`: the
    dry-run estimate made at the suite's first sweep with work to do (sweep.dry_run.recorded_estimate);
    the record keeps the first one it was given for a plan, and one for a changed plan replaces it, the
    ones it replaces listed in its `earlier`."""
    before = suite_manifest(results, suite.name) or {}
    run_ids = {cfg.run_id for cfg in runs} | {p["run_id"] for state in chains for p in state.probes}
    known = {s["chain"]: s["next"] for s in before.get("searches", []) if "next" in s}
    beyond = next_beyond_ceiling(chains, results, known)
    searches = [{**state.summary(), **({"next": beyond[state.chain.key]} if state.chain.key in beyond else {})}
                for state in chains]
    state: dict = {"complete": complete}
    if added is not None:
        run_ids |= set(before.get("run_ids", []))
        searches = [s for s in before.get("searches", []) if s.get("model") not in added] + searches
        state = {"complete": before["complete"]} if "complete" in before else {}  # the suite's own sweep says
    estimate = _kept_estimate(before.get("estimate"), estimate)
    data = {"name": suite.name, "version": suite.version, "description": suite.description,
            "path": str(suite_path), "run_ids": sorted(run_ids), **state, **({"estimate": estimate} if estimate else {})}
    if searches:
        # By chain, not by the order chains were released in: a resumed sweep that finds everything
        # done writes the same file as the sweep that finished it.
        data["searches"] = sorted(searches, key=lambda s: s["chain"])
    write_json_atomic(suite_record_path(results, suite.name), data)


FULL_BUDGET = "full-budget"  # the method of an estimate recorded before `method` was: every run at its step budget


def same_basis(recorded: dict, plan_key: str, method: str) -> bool:
    """Whether a recorded estimate priced this plan (Suite.plan_key) by this method (seqbench/estimate.py
    METHOD): while both stand the record keeps it; otherwise a sweep with work left re-estimates."""
    return recorded.get("plan") == plan_key and recorded.get("method", FULL_BUDGET) == method


def _kept_estimate(before: dict | None, given: dict | None) -> dict | None:
    """The record's estimate while the plan it priced and its method stand (same_basis); the given one,
    with the record's before it in `earlier`, when it prices a changed plan or is made by another method."""
    if before is None or given is None or same_basis(before, given.get("plan"), given.get("method", FULL_BUDGET)):
        return before or given
    earlier = before.get("earlier", [])
    return {**given, "earlier": [*earlier, {k: v for k, v in before.items() if k != "earlier"}]}
