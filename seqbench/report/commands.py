"""`seqbench report`: read the run files, write the leaderboard."""
from __future__ import annotations

import warnings
from pathlib import Path

from ..cli import COMMANDS, Command, add_results_arg


def _configure(p) -> None:
    add_results_arg(p)
    p.add_argument("--out", type=Path, help="output directory (default: the results directory)")


def _run(args) -> int:
    from .render import write_report

    out = args.out or args.results
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        summary = write_report(args.results, out)
    for w in caught:
        if str(w.message).startswith("skipped"):
            print(f"warning: {w.message}")
    print(f"report: {summary['runs']} runs -> {out}/leaderboard.md, leaderboard.html, leaderboard.csv, "
          f"tables/*.tex, figures/ ({len(summary['figures'])} figures)")
    return 0


COMMANDS.register("report", Command(_configure, _run, "write the leaderboard from the run files"))
