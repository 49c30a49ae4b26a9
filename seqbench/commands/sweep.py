"""`seqbench sweep SUITE`: run a suite's grid of runs, resumable, in parallel (the work is in
seqbench/sweep/; what it shows as it goes is printed here)."""
from __future__ import annotations

import argparse
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from ..errors import UserError
from .base import COMMANDS, Command, add_plugin_arg, add_results_arg, split_names

if TYPE_CHECKING:
    from ..config import RunConfig
    from ..sweep import ChainState, Job


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("suite", type=Path, help="suite YAML, e.g. tasks/suites/quick.yaml, or a packaged suite's name (quick)")
    p.add_argument("--models", help="comma-separated models to sweep instead of the suite's (any registered model); "
                   "the suite's runs of other models in --results are kept, and must share the protocol")
    p.add_argument("--tasks", help="with --models: comma-separated tasks of the suite to sweep them on (a partial entry)")
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
    if args.tasks is not None and not split_names(args.models):
        raise UserError("--tasks goes with --models (e.g. --models mymodel --tasks recall): the suite's own "
                        "sweep runs all its tasks")
    for name in ("workers", "threads"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise UserError(f"--{name} must be at least 1, got {value}")
    sweep(args.suite, args.results, args.workers, args.threads, args.executor, args.address,
          args.dry_run, args.retry_failed, ConsoleDisplay(args.quiet), models=split_names(args.models) or None,
          tasks=split_names(args.tasks) or None)
    return 0


def label(cfg: RunConfig) -> str:
    return f"{cfg.task}/{cfg.model.name} L={cfg.length} lr={cfg.train.lr:g} seed={cfg.seed}"


class ConsoleDisplay:
    """A sweep on the terminal (seqbench.sweep.Display): a progress bar, and one line per run that ends."""

    def __init__(self, quiet: bool = False):
        from rich.console import Console

        self.console = Console(stderr=False, quiet=quiet)
        self.quiet = quiet
        self._bar = None
        self._task = None

    def message(self, text: str, warn: bool = False) -> None:
        self.console.print(f"[yellow]{text}" if warn else text)

    @contextmanager
    def progress(self, total: int) -> Iterator[None]:
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                   TimeRemainingColumn)

        columns = [TextColumn("[bold]sweep"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[open]}"),
                   TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn()]
        with Progress(*columns, console=self.console, disable=self.quiet) as bar:
            self._bar, self._task = bar, bar.add_task("runs", total=total, open="")
            try:
                yield
            finally:
                self._bar = None

    def update(self, known: int, open_chains: int, advance: int = 0) -> None:
        if self._bar is not None:
            self._bar.update(self._task, total=known, advance=advance,
                             open=f"+ {open_chains} open search(es)" if open_chains else "")

    def run_done(self, job: Job, summary: dict) -> None:
        if summary.get("value") is not None:
            detail = f"{summary['metric']} {summary['value']:.4f}"
        else:
            detail = summary.get("error") or ""
        seconds = f" in {summary['seconds']:.0f}s" if "seconds" in summary else ""
        line = f"{summary['status']:>8} {label(job.cfg)} {detail}{seconds}"
        if job.lr_selection is not None:
            line += f"  (lr chosen on seed {job.lr_selection['seed']})"
        if job.chain is not None:
            line += f"  (search {job.chain.chain.key}, probe {len(job.chain.probes)})"
        self.console.print(line, markup=False)

    def search_done(self, state: ChainState) -> None:
        result = state.chain.search.result(state.solved)
        self.console.print(f"  search {state.chain.label()}: longest solved {result.label(state.chain.search.start)}"
                           + (f" ({state.stalled})" if state.stalled else ""))

    def interrupted(self, done: int, known: int) -> None:
        self.console.print(f"[red]interrupted[/]: finished runs are saved; run the same command again to resume "
                           f"({done} of {known} done this time)")


COMMANDS.register("sweep", Command(configure, run, "run a suite: the grid of runs, resumable, in parallel"))
