"""`seqbench list`: the tasks, the models, and each model's parameter count per task."""
from __future__ import annotations

import argparse

from ..errors import UserError
from .base import COMMANDS, Command, add_data_dir_arg, add_plugin_arg


def configure(p: argparse.ArgumentParser) -> None:
    add_data_dir_arg(p)
    add_plugin_arg(p)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from ..metrics import METRICS
    from ..models import MODELS
    from ..models.model import build_model, count_params
    from ..tasks import get_task, task_names

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
    models.add_column("causal")
    models.add_column("kernels")
    for name in names:
        meta = MODELS.meta(name)
        causal = meta.get("causal", "?")
        causal = "with model.causal" if callable(causal) else ("yes" if causal is True else "no" if causal is False else causal)
        kernels = meta["hf"].kernel_note() if "hf" in meta else "PyTorch"
        models.add_row(name, meta.get("description", meta.get("plugin", "")), causal, kernels)
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


COMMANDS.register("list", Command(configure, run, "tasks and models, with parameter counts"))
