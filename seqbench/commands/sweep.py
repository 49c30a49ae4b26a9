"""`seqbench sweep SUITE`: run a suite's grid of runs, resumable, in parallel (the work is in seqbench/sweep.py)."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import UserError
from .base import COMMANDS, Command, add_plugin_arg, add_results_arg, split_names


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("suite", type=Path, help="suite YAML, e.g. tasks/suites/quick.yaml, or a packaged suite's name (quick)")
    p.add_argument("--models", help="comma-separated models to sweep instead of the suite's (any registered model); "
                   "the suite's runs of other models in --results are kept, and must share the protocol")
    p.add_argument("--workers", type=int, help="worker processes (default: one per core / threads)")
    p.add_argument("--threads", type=int, help="torch threads per worker (default: 1)")
    p.add_argument("--executor", default="local", help="local | ray | inline (one run at a time in this process, for debugging)")
    p.add_argument("--address", help="Ray cluster address (with --executor ray), e.g. auto or ray://host:10001")
    p.add_argument("--dry-run", action="store_true", help="list what would run, with a time estimate (a range for length searches)")
    p.add_argument("--retry-failed", action="store_true", help="run failed or out-of-memory runs again")
    p.add_argument("--quiet", action="store_true")
    add_plugin_arg(p)
    add_results_arg(p)


def run(args: argparse.Namespace) -> int:
    from ..sweep import EXECUTORS, sweep

    EXECUTORS.get(args.executor)
    if args.models is not None and not split_names(args.models):
        raise UserError("--models needs at least one model name, e.g. --models mymodel")
    for name in ("workers", "threads"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise UserError(f"--{name} must be at least 1, got {value}")
    sweep(args.suite, args.results, args.workers, args.threads, args.executor, args.address,
          args.dry_run, args.retry_failed, args.quiet, models=split_names(args.models) or None)
    return 0


COMMANDS.register("sweep", Command(configure, run, "run a suite: the grid of runs, resumable, in parallel"))
