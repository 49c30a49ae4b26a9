"""`seqbench list`: the tasks, the models, and the parameter budget per task.

The plain listing reads task YAMLs and model metadata only: no data, no model is built. The
budget needs neither, since it excludes the token-embedding table, whose size the vocabulary
sets. `--params` builds every model for every task to count its parameters and width, and scores
the real tasks' baselines; both read the datasets.
"""
from __future__ import annotations

import argparse
from collections import Counter

from ..errors import UserError
from .base import COMMANDS, Command, add_data_dir_arg, add_plugin_arg


def configure(p: argparse.ArgumentParser) -> None:
    add_data_dir_arg(p)
    add_plugin_arg(p)
    p.add_argument("--params", action="store_true",
                   help="build every model for every task and count its parameters, and score the real tasks' "
                        "baselines (reads their data)")


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from ..models import MODELS
    from ..tasks import get_task, task_names

    console = Console()
    tasks = [get_task(n) for n in task_names()]
    names = MODELS.names()
    console.print(_tasks_table(tasks, with_data=args.params))
    console.print(_models_table(names))
    if not args.params:
        console.print(_budget_table(tasks, names))
        return 0
    counts, missing_data = _counts_table(tasks, names)
    console.print(counts)
    if missing_data:
        console.print("no data: the task's files were not found; set SEQBENCH_DATA (see README.md)")
    return 0


def _tasks_table(tasks, with_data: bool):
    from rich.table import Table

    from ..metrics import METRICS

    table = Table(title="tasks")
    for col in ("task", "output", "metrics (primary first)", "baseline at first length", "lengths", "version"):
        table.add_column(col)
    for t in tasks:
        if with_data or not getattr(t.source, "reads_data", False):
            base = ", ".join(f"{k} {v:.4g}" for k, v in t.baseline(t.lengths[0]).items())
        else:
            base = "from its data (--params)"
        metrics = ", ".join(f"{m} {METRICS.get(m).arrow}" for m in t.metrics)
        table.add_row(t.name, t.output, metrics, base, " ".join(map(str, t.lengths)), str(t.version))
    return table


def _models_table(names: list[str]):
    from rich.table import Table

    from ..models import MODELS

    models = Table(title="models")
    for col in ("model", "encoder", "causal", "kernels"):
        models.add_column(col)
    for name in names:
        meta = MODELS.meta(name)
        causal = meta.get("causal", "?")
        causal = "with model.causal" if callable(causal) else ("yes" if causal is True else "no" if causal is False else causal)
        kernels = meta["hf"].kernel_note() if "hf" in meta else "PyTorch"
        models.add_row(name, meta.get("description", meta.get("plugin", "")), causal, kernels)
    return models


def _budget_table(tasks, names: list[str]):
    """Per task: the budget its configs resolve to (the usual one, then any model's own) and the
    models that cannot run it. Resolving a config reads no data and builds no model."""
    from rich.table import Table

    table = Table(title="parameter budget (±5%, embedding table excluded; --params counts each model's)")
    for col in ("task", "budget", "cannot run it"):
        table.add_column(col)
    for t in tasks:
        budgets, refused = {}, []
        for name in names:
            try:
                budgets[name] = t.resolve(name, t.lengths[0], 0).model.params
            except UserError:
                refused.append(name)
        usual = Counter(budgets.values()).most_common(1)[0][0] if budgets else None
        own = [f"{name} {b:,}" for name, b in budgets.items() if b != usual]
        cell = "" if usual is None else f"{usual:,}" + (f" ({', '.join(own)})" if own else "")
        table.add_row(t.name, cell, ", ".join(refused))
    return table


def _counts_table(tasks, names: list[str]):
    """Each model built for each task at its first length: (the table, whether some task lacked its data)."""
    from rich.table import Table

    from ..models.model import build_model, count_params

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
    return counts, missing_data


COMMANDS.register("list", Command(configure, run, "tasks and models, with the parameter budget per task"))
