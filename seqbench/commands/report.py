"""`seqbench report`: read the run files, write the leaderboard (the work is in seqbench/report/)."""
from __future__ import annotations

import argparse
import warnings
from pathlib import Path

from ..errors import UserError, require_extra
from ..leaderboard_version import snapshot_references
from ..store import finished_ids, orphans
from .base import COMMANDS, Command, add_results_arg


def configure(p: argparse.ArgumentParser) -> None:
    add_results_arg(p)
    p.add_argument("--out", type=Path, help="output directory (default: the results directory)")


def run(args: argparse.Namespace) -> int:
    from ..report.render import write_report

    # Checked before anything is written: a mistyped path must not become an empty leaderboard.
    if not finished_ids(args.results):
        raise UserError(f"no run files in {Path(args.results) / 'runs'}; "
                        "run 'seqbench sweep' or 'seqbench run' first, or pass --results DIR")
    require_extra("report", "report")  # the figures: fail before anything is written
    snapshot_references(args.results)  # today's tasks/references.yaml: the report reads only the results dir
    out = args.out or args.results
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        summary = write_report(args.results, out)
    for w in caught:
        if str(w.message).startswith("skipped"):
            print(f"warning: {w.message}")
    strays = orphans(args.results)
    if strays:
        print(f"warning: {len(strays)} file(s) in {Path(args.results) / 'runs'} belong to no run file, left by "
              f"replaced runs (first: {strays[0].name}); delete them, or see 'seqbench verify'")
    print(f"report: {summary['runs']} runs -> {out}/leaderboard.md, leaderboard.html, leaderboard.csv, "
          f"tables/*.tex, figures/ ({len(summary['figures'])} figures)")
    return 0


COMMANDS.register("report", Command(configure, run, "write the leaderboard from the run files"))
