"""The `seqbench` command line: list | run | sweep | report | ...

Bad input never produces a traceback: it ends in one line on stderr and exit code 2.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .errors import UserError
from .registry import Registry

DEFAULT_RESULTS = Path("results")


class Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not usage + message
        raise UserError(f"{message} (see '{self.prog} --help')")


def add_results_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--results", type=Path, default=DEFAULT_RESULTS, help="results directory (default: results/)")
    p.add_argument("--data-dir", type=Path, help="local data directory for the real tasks (default: $SEQBENCH_DATA)")


def add_training_args(p: argparse.ArgumentParser) -> None:
    """The flags every training command shares; `training_overrides` folds them into the config."""
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, help="optimiser steps (default: the task's budget)")
    p.add_argument("--device", help="cpu | cuda | cuda:N (default: cpu)")
    p.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    p.add_argument("--precision", help="fp32 | bf16 (autocast; default fp32)")
    p.add_argument("--compile", action="store_const", const=True, help="torch.compile the model")


def training_overrides(args, overrides: list[str]) -> dict:
    """`--section.key=value` overrides, with --steps/--device/--threads/--precision/--compile as train.* entries."""
    from .config import parse_overrides

    nested = parse_overrides(overrides)
    train = nested.setdefault("train", {})
    for key in ("steps", "device", "threads", "precision", "compile"):
        if getattr(args, key) is not None:
            train[key] = getattr(args, key)
    return nested


def apply_data_dir(args) -> None:
    """--data-dir wins over $SEQBENCH_DATA; set in the environment so sweep workers inherit it."""
    if getattr(args, "data_dir", None) is not None:
        os.environ["SEQBENCH_DATA"] = str(args.data_dir.resolve())


def cmd_list(args) -> int:
    from rich.console import Console
    from rich.table import Table

    from .metrics import METRICS
    from .models import MODELS
    from .models.model import build_model, count_params
    from .tasks import get_task, task_names

    console = Console()
    tasks = [get_task(n) for n in task_names()]
    table = Table(title="tasks")
    for col in ("task", "output", "metrics (primary first)", "baseline at first length", "lengths", "version"):
        table.add_column(col)
    for t in tasks:
        base = ", ".join(f"{k} {v:.4g}" for k, v in t.baseline(t.lengths[0]).items())
        metrics = ", ".join(f"{m} {METRICS.get(m).arrow}" for m in t.metrics)
        table.add_row(t.name, t.output, metrics, base, " ".join(map(str, t.lengths)), str(t.version))
    console.print(table)
    names = MODELS.names()
    models = Table(title="models")
    models.add_column("model")
    models.add_column("encoder")
    for name in names:
        meta = MODELS.meta(name)
        models.add_row(name, meta.get("description", meta.get("plugin", "")))
    console.print(models)
    counts = Table(title="parameters per task (budget ±5%, excluding the embedding table; width in brackets)")
    counts.add_column("task")
    for name in names:
        counts.add_column(name, justify="right")
    missing_data = False
    for t in tasks:
        cells = []
        for name in names:
            try:
                cfg = t.resolve(name, t.lengths[0], 0).model
                m = build_model(cfg, t)
                cells.append(f"{count_params(m)['params']:,} ({m.width})")
            except UserError as exc:
                text = str(exc)
                no_data = "not found" in text or "missing" in text
                missing_data |= no_data
                cells.append("no data" if no_data else "n/a")
        counts.add_row(t.name, *cells)
    console.print(counts)
    if missing_data:
        console.print("no data: the task's files were not found; set SEQBENCH_DATA (see README.md)")
    return 0



def cmd_run(args, overrides: list[str]) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from .runner import execute
    from .store import check_writable
    from .tasks import get_task

    task = get_task(args.task)
    nested = training_overrides(args, overrides)
    length = args.length if args.length is not None else task.lengths[0]
    cfg = task.resolve(args.model, length, args.seed, nested)
    check_writable(args.results)
    task.prepare()
    columns = [TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("loss {task.fields[loss]:.4f}"), TextColumn("{task.fields[rate]} it/s"),
               TimeElapsedColumn(), TimeRemainingColumn()]
    with Progress(*columns, disable=args.quiet, transient=False) as bar:
        job = bar.add_task(f"{cfg.task}/{cfg.model.name} L={cfg.length} seed={cfg.seed}", total=cfg.train.steps, loss=float("nan"), rate="-")
        started = time.perf_counter()
        last = [0]

        def report(step: int, loss: float) -> None:
            rate = step / max(time.perf_counter() - started, 1e-9)
            bar.update(job, advance=step - last[0], loss=loss, rate=f"{rate:.1f}")
            last[0] = step

        record, path = execute(cfg, args.results, progress=report)
    m = record["metrics"]
    primary = record["task"]["metric"]
    base = record["baseline"].get(primary)
    extra = f" (diverged at step {record['diverged_at']})" if record["status"] == "diverged" else ""
    print(f"{cfg.task}/{cfg.model.name} L={cfg.length} seed={cfg.seed}: test {primary} {m[f'test/{primary}']:.4f} "
          f"(baseline {base:.4f}), {record['steps']} steps in {record['timing']['train_time_s']:.1f}s, "
          f"{record['params']['params']:,} params{extra} -> {path}")
    return 0


@dataclass(frozen=True)
class Command:
    configure: Callable[[argparse.ArgumentParser], None]  # adds the command's arguments
    run: Callable[..., int]  # run(args) or, with takes_overrides, run(args, overrides)
    help: str
    takes_overrides: bool = False  # accepts --section.key=value config overrides


COMMANDS: Registry[Command] = Registry("command")
# Modules that register further commands (each calls COMMANDS.register at import).
COMMAND_MODULES = ("seqbench.measure.commands", "seqbench.sweep", "seqbench.report.commands", "seqbench.perf")


def _configure_run(run: argparse.ArgumentParser) -> None:
    run.epilog = "Any config field can be overridden: --train.lr=1e-3 --model.params=50000"
    run.add_argument("--task", required=True)
    run.add_argument("--model", required=True)
    run.add_argument("--length", type=int, help="dependency length (default: the task's first)")
    add_training_args(run)
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    add_results_arg(run)


def _configure_list(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", type=Path, help="local data directory for the real tasks (default: $SEQBENCH_DATA)")


COMMANDS.register("list", Command(_configure_list, cmd_list, "tasks and models, with parameter counts"))
COMMANDS.register("run", Command(_configure_run, cmd_run, "train and test one model on one task", takes_overrides=True))


def build_parser() -> Parser:
    for module in COMMAND_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:  # a module not written yet is fine; a broken import is not
                raise
    parser = Parser(prog="seqbench", description="Compare sequence architectures under one harness.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for name in COMMANDS.names():
        spec = COMMANDS.get(name)
        spec.configure(sub.add_parser(name, help=spec.help))
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        parser = build_parser()
        args, extra = parser.parse_known_args(argv)
        spec = COMMANDS.get(args.command)
        apply_data_dir(args)
        overrides = [a for a in extra if a.startswith("--") and "." in a.split("=")[0]]
        unknown = [a for a in extra if a not in overrides]
        if unknown or (overrides and not spec.takes_overrides):
            raise UserError(f"unrecognised arguments: {' '.join(unknown or overrides)} (see 'seqbench {args.command} --help')")
        return spec.run(args, overrides) if spec.takes_overrides else spec.run(args)
    except UserError as exc:
        print(f"seqbench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("seqbench: interrupted; finished runs are saved, run the same command again to resume", file=sys.stderr)
        return 130
