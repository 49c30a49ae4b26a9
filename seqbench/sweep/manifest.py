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


def write_manifest(results: Path, suite: Suite, suite_path: Path, runs: list[RunConfig],
                   chains: list[ChainState], added: tuple[str, ...] | None = None, complete: bool = False) -> None:
    """results/suites/<name>.json: the suite, its run ids (probes known so far included) and, per
    length-search chain, its probes and the longest length solved (`searches`, see README "Sweeps").
    `added`: the models of a `--models` sweep, whose entries join those of the suite's other models.
    `complete`: the sweep ended with nothing left to run (the report marks an incomplete suite); a
    `--models` sweep keeps the suite's value."""
    run_ids = {cfg.run_id for cfg in runs} | {p["run_id"] for state in chains for p in state.probes}
    searches = [state.summary() for state in chains]
    state: dict = {"complete": complete}
    if added is not None:
        before = suite_manifest(results, suite.name) or {}
        run_ids |= set(before.get("run_ids", []))
        searches = [s for s in before.get("searches", []) if s.get("model") not in added] + searches
        state = {"complete": before["complete"]} if "complete" in before else {}  # the suite's own sweep says
    data = {"name": suite.name, "version": suite.version, "description": suite.description,
            "path": str(suite_path), "run_ids": sorted(run_ids), **state}
    if searches:
        # By chain, not by the order chains were released in: a resumed sweep that finds everything
        # done writes the same file as the sweep that finished it.
        data["searches"] = sorted(searches, key=lambda s: s["chain"])
    write_json_atomic(suite_record_path(results, suite.name), data)
