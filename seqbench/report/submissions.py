"""Accepted leaderboard entries from others, shown in the tables of the leaderboard they were made
against (README, 'Submit a leaderboard entry').

An entry lives in `submissions/<name>/` beside the leaderboard's results directory (results/standard
-> results/submissions/<name>/): its `submission.yaml` names the leaderboard (`against`), and its
`verify.json`, written by `seqbench verify --submission`, says it passed. Only such entries are read;
their models are shown as '<model> (submitted: <name>)', so they never pass for the baselines.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

from ..config import read_yaml
from ..record import RunRecord
from ..store import load_runs


@dataclass(frozen=True)
class Entry:
    name: str
    runs: list[RunRecord]
    verdict: str  # what its verify.json says, in words

    def line(self) -> str:
        return f"{self.name}: {len(self.runs)} run{'s' * (len(self.runs) != 1)}, {self.verdict}"


def submitted_label(model: str, entry: str) -> str:
    return f"{model} (submitted: {entry})"


def _verdict(verify: dict) -> str:
    counts = verify.get("rerun_counts") or {}
    reruns = ", ".join(f"{n} {verdict}" for verdict, n in sorted(counts.items()))
    machine = (verify.get("machine") or {}).get("cpu", "?")
    return "verify passed (audit" + (f"; reruns: {reruns}" if reruns else "; no reruns") + f"; on {machine})"


def _marked(run: RunRecord, entry: str) -> RunRecord:
    model = dataclasses.replace(run.config.model, name=submitted_label(run.config.model.name, entry))
    return run.replace(config=dataclasses.replace(run.config, model=model))


def accepted_entries(results: Path) -> list[Entry]:
    """The entries against `results` whose verify passed, by name; their runs marked as submitted."""
    entries = []
    for path in sorted((Path(results).parent / "submissions").glob("*/submission.yaml")):
        about = read_yaml(path) or {}
        verify_path = path.parent / "verify.json"
        if Path(str(about.get("against", ""))).name != Path(results).name or not verify_path.is_file():
            continue
        verify = json.loads(verify_path.read_text())
        if not verify.get("passed"):
            continue
        name = str(about.get("name", path.parent.name))
        runs = [_marked(run, name) for run in load_runs(path.parent)[0]]
        entries.append(Entry(name, runs, _verdict(verify)))
    return entries
