"""The evidence findings.py decides on: one row per run, read from the run files, plus the speed probe.

    evidence = evidence_of(records, results)       # Evidence(runs frame, speed dict or None)
    findings = evaluate_findings(evidence)
    findings_section(findings)                     # the report's "Findings" table
    findings_json(findings, provenance)            # results/findings.json
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..protocol import protocol_key
from ..status import SOLVED, status_of
from .findings import COLUMNS, Evidence, Finding
from .frame import adapter_of, chosen_ids, runs_frame
from .section import Section, Text, note_section
from .table import Table

TITLE = "Findings"
ABOUT = ("Each textbook claim, decided by the runs at hand: `reproduced`, `not reproduced` or `not measured` "
         "(no runs for it). Nothing here is written by hand; results/findings.json holds the same, with the rule each "
         "verdict follows.")


def _slope(record: dict, when: str):
    return ((record.get("gradflow") or {}).get(when) or {}).get("slope")


def evidence_row(record: dict) -> dict:
    cfg = record["config"]
    task = record.get("task", {})
    status = status_of(record)
    search = record.get("search") or {}
    return {
        "task": cfg["task"], "model": cfg["model"]["name"], "main": bool(record.get("recipe", {}).get("default", True)),
        "length": cfg["length"], "seed": cfg["seed"], "lr": cfg["train"]["lr"], "status": status,
        "value": (record.get("metrics") or {}).get(f"test/{task.get('metric')}"),
        "solved": status == SOLVED, "solved_step": record.get("solved_step"),
        "clip": cfg["train"].get("clip"), "init": cfg["model"].get("init"),
        "nonlinearity": cfg["model"].get("nonlinearity"), "loss": cfg["train"].get("loss", "default"),
        "slope_init": _slope(record, "init"), "slope_final": _slope(record, "final"),
        "protocol": protocol_key(record), "chain": search.get("chain"), "search_max": search.get("max"),
        "adapter": adapter_of(record), "recurrent": ((record.get("model_info") or {}).get("hf") or {}).get("recurrent"),
    }


def speed_file(results: Path) -> dict | None:
    """The speed probe's file (results/measure/speed-<device>.json), the first by name if several."""
    for path in sorted(Path(results).glob("measure/speed-*.json")):
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            continue
    return None


def evidence_of(records: list[dict], results: Path, chosen: set[str] | None = None) -> Evidence:
    """`chosen`: the run ids at the learning rate validation chose per group (frame.chosen_runs), computed
    here when not given; findings that compare metrics read only those."""
    if chosen is None:
        chosen = chosen_ids(runs_frame(records)) if records else set()
    runs = pd.DataFrame([{**evidence_row(r), "chosen": r.get("run_id") in chosen} for r in records], columns=list(COLUMNS))
    return Evidence(runs, speed_file(results))


def _numbers(numbers: dict) -> str:
    def show(v):
        if isinstance(v, float):
            return f"{v:.4g}"
        if isinstance(v, list):
            return "[" + ", ".join(show(x) for x in v) + "]"
        return "—" if v is None else str(v)
    return "; ".join(f"{k}: {show(v)}" for k, v in numbers.items()) or "—"


def findings_section(findings: list[Finding]) -> Section:
    if not findings:
        return note_section(TITLE, "No findings registered.")
    rows = [[f.id, f.claim, f.verdict, _numbers(f.numbers)] for f in findings]
    return Section(TITLE, [Text(ABOUT), Table.of_text(["id", "claim", "verdict", "the numbers"], rows)])


def findings_json(findings: list[Finding], provenance: dict) -> dict:
    return {"findings": [f.to_dict() for f in findings], "provenance": provenance}
