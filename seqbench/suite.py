"""Suites: a YAML file under tasks/suites/ that expands into a grid of runs.

    name: quick
    version: 1
    device: cpu
    seeds: [0, 1]
    models: [rnn, lstm, gru, bilstm, transformer]
    lr: {default: [3.0e-3], transformer: [1.0e-3]}   # learning-rate grid per model (optional)
    tasks:
      copy: {lengths: [10, 20, 40], train: {steps: 1500}}
    grid: {model.init: [default, identity]}           # crossed with everything (optional)
    train: {}                                         # overrides for every run (optional)
    model: {}

Expansion order: task x length x model x lr x grid x seed. Models a task declares it cannot run
(`skip_models` in the task YAML) are left out, with the reason reported.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import RunConfig, merge_dicts, read_yaml
from .errors import UserError
from .models import MODELS
from .tasks import get_task

SUITE_KEYS = {"name", "version", "description", "device", "seeds", "models", "lr", "tasks", "grid",
              "train", "model", "workers", "threads", "memory_limit_mb"}


@dataclass(frozen=True)
class Suite:
    name: str
    tasks: dict  # task -> {lengths: [...], train: {...}, model: {...}}
    models: tuple[str, ...]
    seeds: tuple[int, ...] = (0,)
    version: int = 1
    description: str = ""
    device: str = "cpu"
    lr: dict = field(default_factory=dict)  # model (or "default") -> list of learning rates
    grid: dict = field(default_factory=dict)  # "train.clip" -> [values]
    train: dict = field(default_factory=dict)
    model: dict = field(default_factory=dict)
    workers: int | None = None  # default worker processes for the local executor
    threads: int | None = None  # torch threads per worker
    memory_limit_mb: int | None = None  # CPU memory cap per worker process; runs beyond it are recorded as oom


def load_suite(path: str | Path) -> Suite:
    path = Path(path)
    data = read_yaml(path)
    unknown = sorted(set(data) - SUITE_KEYS)
    if unknown:
        raise UserError(f"{path}: unknown key {unknown[0]!r}; valid keys: {', '.join(sorted(SUITE_KEYS))}")
    for key in ("tasks", "models"):
        if key not in data:
            raise UserError(f"{path}: missing key {key!r}")
    tasks = data["tasks"]
    if isinstance(tasks, list):
        if not all(isinstance(name, str) for name in tasks):
            raise UserError(f"{path}: 'tasks' as a list must hold task names, e.g. [copy, adding]")
        tasks = {name: {} for name in tasks}
    if not isinstance(tasks, dict) or not tasks:
        raise UserError(f"{path}: 'tasks' must be a non-empty mapping of task name -> settings")
    models = data["models"]
    if not isinstance(models, list) or not models or not all(isinstance(m, str) for m in models):
        raise UserError(f"{path}: 'models' must be a non-empty list of model names")
    seeds = data.get("seeds", [0])
    if not isinstance(seeds, list) or not seeds or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds):
        raise UserError(f"{path}: 'seeds' must be a non-empty list of integers")
    for section in ("lr", "grid", "train", "model"):
        if not isinstance(data.get(section, {}), dict):
            raise UserError(f"{path}: {section!r} must be a mapping")
    for key in ("workers", "threads", "memory_limit_mb"):
        value = data.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise UserError(f"{path}: {key!r} must be a positive integer, got {value!r}")
    for key, values in data.get("grid", {}).items():
        if not isinstance(values, list) or not values:
            raise UserError(f"{path}: grid {key!r} must be a non-empty list of values")
        if key.split(".")[0] not in ("train", "model") or key.count(".") != 1:
            raise UserError(f"{path}: grid key {key!r} must look like train.<field> or model.<field>")
    for model, values in data.get("lr", {}).items():
        if not isinstance(values, list) or not values:
            raise UserError(f"{path}: lr for {model!r} must be a non-empty list")
    for name, settings in tasks.items():
        if settings is not None and not isinstance(settings, dict):
            raise UserError(f"{path}: settings of task {name!r} must be a mapping")
    return Suite(name=data.get("name", path.stem), tasks={k: v or {} for k, v in tasks.items()},
                 models=tuple(models), seeds=tuple(seeds), version=data.get("version", 1),
                 description=data.get("description", ""), device=data.get("device", "cpu"),
                 lr=data.get("lr", {}), grid=data.get("grid", {}), train=data.get("train", {}),
                 model=data.get("model", {}), workers=data.get("workers"), threads=data.get("threads"),
                 memory_limit_mb=data.get("memory_limit_mb"))


def expand(suite: Suite) -> tuple[list[RunConfig], list[str]]:
    """All run configs of the suite, and a note per (task, model) pair left out."""
    runs, notes = [], []
    grid_keys = list(suite.grid)
    for task_name, settings in suite.tasks.items():
        task = get_task(task_name)
        unknown = sorted(set(settings) - {"lengths", "train", "model", "models"})
        if unknown:
            raise UserError(f"suite {suite.name}: task {task_name!r}: unknown key {unknown[0]!r} (lengths, train, model, models)")
        where = f"suite {suite.name}: task {task_name!r}"
        for section in ("train", "model", "models"):
            _check_mapping(settings.get(section, {}), f"{where}: {section!r}")
        for model, layer in settings.get("models", {}).items():
            _check_mapping(layer or {}, f"{where}: models.{model}")
            for section in ("train", "model"):
                _check_mapping((layer or {}).get(section, {}), f"{where}: models.{model}.{section}")
        lengths = settings.get("lengths", list(task.lengths))
        for model in suite.models:
            MODELS.get(model)
            if model in task.skip_models:
                notes.append(f"{task_name}/{model} skipped: {task.skip_models[model]}")
                continue
            lrs = suite.lr.get(model, suite.lr.get("default", [None]))
            for length, lr, combo, seed in itertools.product(
                    lengths, lrs, itertools.product(*suite.grid.values()), suite.seeds):
                # Layers, each over the last: suite, suite task, suite task per model, then this grid point.
                point: dict = {"train": {"device": suite.device}, "model": {}}
                if lr is not None:
                    point["train"]["lr"] = lr
                for key, value in zip(grid_keys, combo):  # keys are train.<field> or model.<field>
                    section, name = key.split(".")
                    point[section][name] = value
                overrides = {"train": suite.train, "model": suite.model}
                for layer in ({"train": settings.get("train", {}), "model": settings.get("model", {})},
                              settings.get("models", {}).get(model, {}), point):
                    overrides = merge_dicts(overrides, layer)
                runs.append(task.resolve(model, length, seed, overrides))
    return runs, notes


def _check_mapping(value: Any, where: str) -> None:
    """Layers are merged key by key: one that is not a mapping would silently replace a whole section."""
    if not isinstance(value, dict):
        raise UserError(f"{where} must be a mapping, got {value!r}")
