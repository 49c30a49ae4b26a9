"""What `seqbench verify` found, as verify.json and as lines for the console."""
from __future__ import annotations

import platform
from collections import Counter
from pathlib import Path

import torch

from .. import __version__
from ..provenance import cpu_name, git_state
from ..store import write_json_atomic
from .audit import Audit
from .rerun import VERDICTS, Rerun


def this_machine() -> dict:
    return {"cpu": cpu_name(), "torch": torch.__version__, "threads": torch.get_num_threads(),
            "python": platform.python_version(), "seqbench": __version__, "git_commit": git_state().get("commit")}


def rerun_table(results: list[Rerun]) -> list[str]:
    """A Markdown table, one rerun a row, then the counts per verdict."""
    lines = ["| run | task | model | metric | committed | here | allowed | verdict | committed on | here on |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    def num(x):
        return "—" if x is None else f"{x:.6g}"
    for r in results:
        lines.append(f"| {r.run_id} | {r.task} | {r.model} | {r.metric} | {num(r.committed)} | {num(r.rerun)} | "
                     f"{num(r.noise)} | {r.verdict}{f' ({r.note})' if r.note else ''} | {r.committed_on} | {r.rerun_on} |")
    counts = Counter(r.verdict for r in results)
    lines.append("")
    lines.append(", ".join(f"{counts[v]} {v}" for v in VERDICTS if counts[v] or v != "not rerun"))
    return lines


def write_verify_json(path: Path, audit: Audit, reruns: list[Rerun] | None, notes: list[str],
                      submission: dict | None = None) -> None:
    write_json_atomic(Path(path), {
        "results": str(audit.results),
        "machine": this_machine(),
        "checks": audit.checks,
        "problems": audit.problems,
        "notes": notes,
        "reruns": [r.row() for r in reruns] if reruns is not None else None,
        "rerun_counts": dict(Counter(r.verdict for r in reruns)) if reruns is not None else None,
        "submission": submission,
        "passed": audit.passed and not any(r.verdict == "outside" for r in reruns or []),
    })
