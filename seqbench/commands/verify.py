"""`seqbench verify`: check that a results directory's numbers are what its runs say (the audit), and
optionally that this machine gets the same (`--rerun N`). Exit 1 when anything disagrees."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import UserError
from ..store import finished_ids, load_runs
from .base import COMMANDS, Command, add_results_arg, split_names


def configure(p: argparse.ArgumentParser) -> None:
    add_results_arg(p)
    p.add_argument("--rerun", type=int, default=0, metavar="N",
                   help="also train N runs again from their recorded configs and compare (minutes)")
    p.add_argument("--runs", help="comma-separated run ids to rerun instead of a drawn sample")
    p.add_argument("--seed", type=int, default=0, help="draws the rerun sample (default 0)")
    p.add_argument("--no-render", action="store_true", help="leave out re-rendering the report (the slow part of the audit)")
    p.add_argument("--out", type=Path, help="where to write verify.json (default: RESULTS/verify.json)")


def run(args: argparse.Namespace) -> int:
    from ..verify.audit import audit
    from ..verify.rerun import choose, rerun, version_notes
    from ..verify.summary import rerun_table, write_verify_json

    results = Path(args.results)
    if not finished_ids(results):
        raise UserError(f"no run files in {results / 'runs'}; pass --results DIR with a runs/ folder")
    if args.rerun < 0:
        raise UserError(f"--rerun must be 0 or more, not {args.rerun}")
    found = audit(results, render=not args.no_render)
    for problem in found.problems:
        print(problem)
    print(f"audit of {results}: " + "; ".join(f"{n} {name}" for name, n in found.checks.items())
          + f" -> {len(found.problems)} problem{'s' * (len(found.problems) != 1)}")
    for note in found.notes:
        print(f"note: {note}")
    reruns, notes = None, list(found.notes)
    ids = split_names(args.runs)
    if args.rerun or ids:
        runs, _ = load_runs(results)
        chosen = choose(runs, args.rerun, args.seed, ids)
        for note in version_notes(chosen):
            notes.append(note)
            print(f"note: {note}")
            print(f"note: {note}")
        reruns = rerun(runs, chosen)
        print("\n".join(rerun_table(reruns)))
    write_verify_json(args.out or results / "verify.json", found, reruns, notes)
    outside = any(r.verdict == "outside" for r in reruns or [])
    return 1 if found.problems or outside else 0


COMMANDS.register("verify", Command(configure, run, "check a results directory: hashes, orphans, predictions, "
                                    "the report against its run files; --rerun N trains a sample again"))
