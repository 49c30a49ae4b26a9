"""The audit: every check that needs no training, each problem one line.

- every run file reads, with its `payload_sha256` intact (store.read_run);
- no file in `runs/` belongs to no run (store.orphans), and every predictions file a run names is there;
- every metric a saved predictions file allows is recomputed and agrees (predictions.py);
- every run id a suite record names has its run file (an incomplete suite's runs not run yet are a note);
- the report, rendered again from the run files into a scratch directory, reproduces every committed
  report file byte for byte; where leaderboard.csv differs, each differing cell is named.
"""
from __future__ import annotations

import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..record import RunRecord
from ..store import CorruptRun, load_runs, read_run, run_path, suite_label, suite_records
from .predictions import disagreements

# The files `seqbench report` writes; only these are compared with a fresh render.
REPORT_FILES = ("leaderboard.md", "leaderboard.html", "leaderboard.csv", "findings.json", "provenance.json")
REPORT_FOLDERS = ("tables", "figures")
CELL_KEYS = ["task", "protocol", "model", "variant", "length"]  # what names one row of leaderboard.csv


@dataclass
class Audit:
    results: Path
    checks: dict[str, int] = field(default_factory=dict)  # check name -> how many things it looked at
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was not checked, and why

    def check(self, name: str, looked_at: int, problems: list[str]) -> None:
        self.checks[name] = looked_at
        self.problems.extend(problems)

    @property
    def passed(self) -> bool:
        return not self.problems


def hash_problems(results: Path) -> tuple[int, list[str]]:
    paths = sorted((Path(results) / "runs").glob("*.json"))
    problems = []
    for path in paths:
        try:
            read_run(path)
        except CorruptRun as exc:
            problems.append(f"run file {exc}")
    return len(paths), problems


def orphan_problems(results: Path, runs: list[RunRecord]) -> tuple[int, list[str]]:
    from ..store import orphans
    named = [(r.run_id, r.task.predictions_file) for r in runs if r.task.predictions_file]
    missing = [f"{run_id}: names {name}, which is not in runs/" for run_id, name in named
               if not (Path(results) / "runs" / name).is_file()]
    strays = [f"orphan: runs/{path.name} belongs to no run file" for path in orphans(results)]
    return len(runs), missing + strays


def prediction_problems(results: Path, runs: list[RunRecord]) -> tuple[int, list[str]]:
    problems, checked = [], 0
    for run in runs:
        name = run.task.predictions_file
        path = Path(results) / "runs" / str(name)
        if name and path.is_file():
            checked += 1
            problems += disagreements(run.run_id, run.metrics, path)
    return checked, problems


def suite_problems(results: Path) -> tuple[int, list[str], list[str]]:
    """(run ids named, problems, notes). A suite whose sweep has runs left (`complete: false`, as
    store.unfinished_suites reads it) names runs it has planned but not run yet: those are counted in a
    note, not as problems; a complete record (or one from before the key) must have every run file."""
    problems, notes, named = [], [], 0
    for suite in suite_records(results):
        ids = suite.get("run_ids", [])
        named += len(ids)
        missing = [run_id for run_id in ids if not run_path(results, run_id).is_file()]
        if suite.get("complete") is False:
            if missing:
                notes.append(f"suite {suite_label(suite.get('name'), suite.get('version'))} is incomplete (its sweep "
                             f"has runs left): {len(missing)} of the {len(ids)} run ids its record names have no run "
                             f"file yet, not run: {', '.join(missing)}")
            continue
        problems += [f"suite {suite.get('name')}: names run {run_id}, which has no run file" for run_id in missing]
    return named, problems, notes


def report_files(directory: Path) -> list[Path]:
    """The report's files under `directory`, relative to it."""
    directory = Path(directory)
    files = [Path(name) for name in REPORT_FILES if (directory / name).is_file()]
    for folder in REPORT_FOLDERS:
        files += sorted(p.relative_to(directory) for p in (directory / folder).glob("*") if p.is_file())
    return files


def cell_problems(committed: Path, rendered: Path) -> list[str]:
    """One line per leaderboard.csv cell that differs between the committed file and a fresh render."""
    ours, theirs = (pd.read_csv(p, dtype=str, keep_default_na=False) for p in (rendered, committed))
    keys = [k for k in CELL_KEYS if k in ours.columns and k in theirs.columns]
    ours, theirs = ours.set_index(keys), theirs.set_index(keys)
    problems = [f"leaderboard.csv: row {key} is committed but the run files give no such row"
                for key in theirs.index.difference(ours.index)]
    problems += [f"leaderboard.csv: row {key} is missing (the run files give it)" for key in ours.index.difference(theirs.index)]
    for key in ours.index.intersection(theirs.index):
        for column in ours.columns.intersection(theirs.columns):
            a, b = ours.at[key, column], theirs.at[key, column]
            if a != b:
                problems.append(f"leaderboard.csv: {'/'.join(map(str, key))} {column} is {b!r} committed, "
                                f"{a!r} from the run files")
    return problems


TEXT_SUFFIXES = (".md", ".html", ".json", ".csv", ".tex", ".svg")


def first_difference(committed: Path, rendered: Path) -> str:
    """', first at line N: <committed line>' for a text file; '' for a binary one."""
    if committed.suffix not in TEXT_SUFFIXES:
        return ""
    ours, theirs = rendered.read_text().splitlines(), committed.read_text().splitlines()
    for number, (a, b) in enumerate(zip(theirs, ours), 1):
        if a != b:
            return f", first at line {number}: {b[:100]!r} rendered, {a[:100]!r} committed"
    return f", from line {min(len(ours), len(theirs)) + 1} (one is longer)"


def render_problems(results: Path) -> tuple[int, list[str]]:
    """Render the report again and compare it with the committed one, file by file."""
    from ..report.render import write_report

    with tempfile.TemporaryDirectory(prefix="seqbench-verify-") as scratch, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        write_report(results, Path(scratch))
        rendered = report_files(Path(scratch))
        problems = []
        for rel in rendered:
            ours, theirs = Path(scratch) / rel, Path(results) / rel
            if not theirs.is_file():
                problems.append(f"report: {rel} is not committed (seqbench report --results {results} writes it)")
            elif ours.read_bytes() != theirs.read_bytes():
                cells = cell_problems(theirs, ours) if rel.name == "leaderboard.csv" else []
                problems += cells or [f"report: {rel} differs from a fresh render of the run files{first_difference(theirs, ours)}"]
        problems += [f"report: {rel} is committed but a fresh render does not write it"
                     for rel in report_files(results) if rel not in rendered]
    return len(rendered), problems


def audit(results: Path, render: bool = True) -> Audit:
    """Every check that needs no training; `render=False` leaves out the re-render (the slow part)."""
    results = Path(results)
    result = Audit(results)
    runs, _ = load_runs(results)
    result.check("run files read with their hash", *hash_problems(results))
    result.check("runs checked for orphans and missing predictions", *orphan_problems(results, runs))
    result.check("predictions files recomputed", *prediction_problems(results, runs))
    named, problems, notes = suite_problems(results)
    result.check("suite record run ids", named, problems)
    result.notes += notes
    if render and not report_files(results):
        result.notes.append(f"no committed report in {results}: nothing to compare a re-render with")
    elif render:
        result.check("report files re-rendered", *render_problems(results))
    return result
