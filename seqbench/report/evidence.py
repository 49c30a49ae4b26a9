"""The evidence the findings (report/findings/) are decided on: one row per run, read from the run files, plus the speed probe.

    evidence = evidence_of(decisions, results)     # Evidence(runs frame, speed dict or None)
    findings = evaluate_findings(evidence)
    findings_section(findings)                     # the report's "Findings" table
    findings_json(findings, provenance)            # results/findings.json
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..protocol import protocol_key
from ..record import GradFlow, RunRecord, Search
from .decisions import Decisions, at_chosen_rate_ids
from .findings import COLUMNS, Evidence, Finding
from .generalisation import generalisation_frame, summarise as generalisation_summary
from .scope import Needs, left_out_text
from .section import Section, Text, note_section
from .table import Table

TITLE = "Findings"
ABOUT = ("Each textbook claim, decided by the runs at hand: `reproduced`, `not reproduced` or `not measured` "
         "(no runs for it). Nothing here is written by hand; results/findings.json holds the same, with the rule each "
         "verdict follows.")


def evidence_row(record: RunRecord) -> dict:
    cfg = record.config
    search = record.search or Search()
    gradflow = record.gradflow or GradFlow()
    return {
        "task": cfg.task, "model": cfg.model.name, "main": record.default_recipe,
        "length": record.axis[1], "seed": cfg.seed, "lr": cfg.train.lr, "status": record.status,
        "value": record.test_score, "solved": record.solved, "solved_step": record.solved_step,
        "clip": cfg.train.clip, "init": cfg.model.init, "nonlinearity": cfg.model.nonlinearity, "loss": cfg.train.loss,
        "slope_init": gradflow.slope("init"), "slope_final": gradflow.slope("final"),
        "protocol": protocol_key(record), "chain": search.chain, "search_max": search.max,
        "adapter": record.adapter, "recurrent": record.model_info.recurrent if record.model_info else None,
        "axis": record.axis[0],
        "state_kind": record.state.kind if record.state else None, "state_bytes": record.state.bytes if record.state else None,
        "xent_per_step": record.metrics.get("test/xent_per_step"),
        "memoryless_xent_per_step": ((record.baselines or {}).get("memoryless") or {}).get("xent_per_step"),
    }


def speed_file(results: Path) -> dict | None:
    """The speed probe's file (results/measure/speed-<device>.json), the first by name if several."""
    for path in sorted(Path(results).glob("measure/speed-*.json")):
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            continue
    return None


def chain_columns(decisions: Decisions) -> dict[str, dict]:
    """Per run id of a seed's chain at its chosen rate, that seed's result (decisions.seeds) as the
    evidence's `chain_*` columns."""
    out = {}
    for i, row in enumerate(decisions.seeds.itertuples()):
        columns = {"chain_key": i, "chain_longest": row.longest, "chain_censored": row.censored,
                   "chain_start": row.start, "chain_max": row.max, "chain_searched": row.searched,
                   "chain_first_fail": row.first_fail, "chain_first_fail_status": row.first_fail_status}
        out.update({run_id: columns for run_id in row.run_ids})
    return out


def evidence_of(decisions: Decisions, results: Path) -> Evidence:
    """One row per run, with what decisions.py decided about it: `chosen` (the run is of its group's
    chosen rate; findings that compare metrics read only those), `in_main_protocol` and its seed's
    longest solved length (`chain_*`); and the formal tasks' summary (generalisation.summarise)."""
    # At its group's chosen rate: the main rows as the tables read them, and the ablation's variants at
    # theirs (mse-vs-ce pairs each seed's run at the rate chosen for its side, never one per rate tried).
    chosen, chains = at_chosen_rate_ids(decisions.frame), chain_columns(decisions)
    main = decisions.main_protocol
    runs = pd.DataFrame([{**evidence_row(r), "chosen": r.run_id in chosen,
                          "in_main_protocol": main.get(r.config.task) == protocol_key(r), **chains.get(r.run_id, {})}
                         for r in decisions.records], columns=list(COLUMNS))
    return Evidence(runs, speed_file(results), generalisation_summary(generalisation_frame(decisions)))


def _numbers(numbers: dict) -> str:
    def show(v):
        if isinstance(v, float):
            return f"{v:.4g}"
        if isinstance(v, dict):  # e.g. score per task/row: {parity_check/lstm 1, ...}
            return "{" + ", ".join(f"{k} {show(x)}" for k, x in v.items()) + "}" if v else "none"
        if isinstance(v, list):
            return "[" + ", ".join(show(x) for x in v) + "]" if v else "none"
        return "—" if v is None else str(v)
    return "; ".join(f"{k}: {show(v)}" for k, v in numbers.items()) or "—"


LEFT_OUT = "no runs of their tasks or probe in this results directory"


def findings_section(findings: list[Finding], left_out: list[tuple[str, Needs | None]] = ()) -> Section:
    """The claims that apply here, and one line naming those this results directory cannot decide."""
    note = [Text(left_out_text(list(left_out), LEFT_OUT))] if left_out else []
    if not findings:
        return Section(TITLE, note) if note else note_section(TITLE, "No findings registered.")
    rows = [[f.id, f.claim, f.verdict, _numbers(f.numbers)] for f in findings]
    return Section(TITLE, [Text(ABOUT), Table.of_text(["id", "claim", "verdict", "the numbers"], rows)] + note)


def findings_json(findings: list[Finding], provenance: dict, left_out: list[tuple[str, Needs | None]] = ()) -> dict:
    """findings.json: the same claims as the Findings section; `not_decided_here`, where some are left out."""
    data = {"findings": [f.to_dict() for f in findings], "provenance": provenance}
    if left_out:
        data["not_decided_here"] = [{"id": name, "decided_by": needs.by if needs else ""} for name, needs in left_out]
    return data
