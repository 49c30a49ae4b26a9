"""`seqbench run --task T --model M`: train and test one model on one task, with a progress bar."""
from __future__ import annotations

import argparse
import time

from .base import COMMANDS, Command, add_plugin_arg, add_results_arg, add_training_args, training_overrides


def configure(p: argparse.ArgumentParser) -> None:
    p.epilog = "Any config field can be overridden: --train.lr=1e-3 --model.params=50000"
    p.add_argument("--task", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--length", type=int, help="dependency length (default: the task's first)")
    add_training_args(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_plugin_arg(p)
    add_results_arg(p)


def run(args: argparse.Namespace, overrides: list[str]) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from ..runner import execute
    from ..status import DIVERGED
    from ..store import check_writable
    from ..tasks import get_task

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
        params = "".join(f" {k}={v}" for k, v in cfg.task_params.items())
        job = bar.add_task(f"{cfg.task}/{cfg.model.name} L={cfg.length}{params} seed={cfg.seed}", total=cfg.train.steps,
                           loss=float("nan"), rate="-")
        started = time.perf_counter()
        last = [0]

        def report(step: int, loss: float) -> None:
            rate = step / max(time.perf_counter() - started, 1e-9)
            bar.update(job, advance=step - last[0], loss=loss, rate=f"{rate:.1f}")
            last[0] = step

        record, path = execute(cfg, args.results, progress=report)
    m = record.metrics
    primary = record.task.metric
    base = record.baseline.get(primary)
    extra = f" (diverged at step {record.diverged_at})" if record.status == DIVERGED else ""
    print(f"{cfg.task}/{cfg.model.name} L={cfg.length}{params} seed={cfg.seed}: test {primary} {m[f'test/{primary}']:.4f} "
          f"(baseline {base:.4f}), {record.steps} steps in {record.timing.train_time_s:.1f}s, "
          f"{record.params.params:,} params{extra} -> {path}")
    return 0


COMMANDS.register("run", Command(configure, run, "train and test one model on one task", takes_overrides=True))
