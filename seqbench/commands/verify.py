"""`seqbench verify`: check that a results directory's numbers are what its runs say (the audit), and
optionally that this machine gets the same (`--rerun N`); `--submission DIR` checks a leaderboard entry
against the committed leaderboard it names. Exit 1 when anything disagrees, 2 for a refused entry."""
from __future__ import annotations

import argparse
import os
from pathlib import Path

from ..errors import UserError
from ..store import finished_ids, load_runs
from .base import COMMANDS, Command, add_results_arg, split_names


def configure(p: argparse.ArgumentParser) -> None:
    add_results_arg(p)
    p.add_argument("--submission", type=Path, metavar="DIR",
                   help="check a leaderboard entry (a directory with submission.yaml) instead of --results")
    p.add_argument("--rerun", type=int, default=0, metavar="N",
                   help="also train N runs again from their recorded configs and compare (minutes)")
    p.add_argument("--runs", help="comma-separated run ids to rerun instead of a drawn sample")
    p.add_argument("--seed", type=int, default=0, help="draws the rerun sample (default 0)")
    p.add_argument("--no-render", action="store_true", help="leave out re-rendering the report (the slow part of the audit)")
    p.add_argument("--out", type=Path, help="where to write verify.json (default: the checked directory's verify.json)")


def load_plugin(path: Path) -> None:
    """Import the entry's model file here and in any worker, as --plugin does."""
    from ..registry import PLUGIN_FILES, load_plugin_file

    load_plugin_file(path)
    known = [p for p in os.environ.get(PLUGIN_FILES, "").split(os.pathsep) if p]
    os.environ[PLUGIN_FILES] = os.pathsep.join(dict.fromkeys(known + [str(path.resolve())]))


def audit_of(args: argparse.Namespace):
    """(the audit, the submission or None): a submission is refused (exit 2) before anything else when
    its protocol is not the leaderboard's."""
    from ..verify.audit import audit
    from ..verify.submission import Submission, entry_problems, protocol_refusal

    if args.submission is None:
        return audit(args.results, render=not args.no_render), None
    submission = Submission.read(args.submission)
    refusal = protocol_refusal(submission)
    if refusal:
        raise UserError(refusal)
    if submission.plugin is not None:
        load_plugin(submission.plugin)
    found = audit(submission.directory, render=False)  # an entry has no report of its own
    found.check("submission runs of declared models, not already on the leaderboard", *entry_problems(submission))
    return found, submission


def run(args: argparse.Namespace) -> int:
    from ..verify.rerun import choose, rerun, version_notes
    from ..verify.summary import rerun_table, write_verify_json

    results = Path(args.submission or args.results)
    if not finished_ids(results):
        raise UserError(f"no run files in {results / 'runs'}; pass a directory with a runs/ folder")
    if args.rerun < 0:
        raise UserError(f"--rerun must be 0 or more, not {args.rerun}")
    found, submission = audit_of(args)
    for problem in found.problems:
        print(problem)
    print(f"audit of {results}: " + "; ".join(f"{n} {name}" for name, n in found.checks.items())
          + f" -> {len(found.problems)} problem{'s' * (len(found.problems) != 1)}")
    notes, chosen, reruns = list(found.notes), [], None
    ids = split_names(args.runs)
    if args.rerun or ids:
        runs, _ = load_runs(results)
        chosen = choose(runs, args.rerun, args.seed, ids)
        notes += version_notes(chosen)  # said before anything is rerun
    for note in notes:
        print(f"note: {note}")
    if chosen:
        reruns = rerun(runs, chosen)
        print("\n".join(rerun_table(reruns)))
    write_verify_json(args.out or results / "verify.json", found, reruns, notes,
                      submission.as_dict() if submission else None)
    outside = any(r.verdict == "outside" for r in reruns or [])
    return 1 if found.problems or outside else 0


COMMANDS.register("verify", Command(configure, run, "check a results directory: hashes, orphans, predictions, "
                                    "the report against its run files; --rerun N trains a sample again"))
