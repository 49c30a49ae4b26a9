"""Suites: a YAML file under tasks/suites/ that expands into a grid of runs.

    name: quick
    version: 1
    device: cpu
    seeds: [0, 1]
    models: [rnn, lstm, gru, bilstm, transformer]
    lr: {default: [3.0e-3], transformer: [1.0e-3]}   # learning-rate grid per model (optional)
    tune: {seed: 0}                                   # the lr grid runs on this seed only (optional)
    tasks:
      copy: {lengths: [10, 20, 40], train: {steps: 1500}}
      adding: {lengths: {search: {start: 8, max: 4096, refine: 2}}, seeds: [0]}   # a length search (search.py), its own seeds
      recall_mqar: {lengths: [16], search: {param: n_pairs, start: 4, max: 64, refine: 1}}   # a task parameter's search at L=16
      recall: {lengths: [64], task: {n_pairs: 8}}      # generator fields set for this suite (a run's task_params)
      copy/loss: {lengths: [16], run_models: [lstm], grid: {train.loss: [mse]}, lr: {lstm: [1.0e-3]}}
          # a second entry of copy (`<task>/<label>`) with its own models, grid and lr grid
    grid: {model.init: [default, identity]}           # crossed with everything (optional)
    # grid: {model.positions: {transformer: [sinusoidal, rope]}}   # a mapping: only for the models it names
    train: {}                                         # overrides for every run (optional)
    model: {}

Expansion order: task x model x length x lr x grid x seed. Models a task declares it cannot run
(`skip_models` in the task YAML) are left out, with the reason reported. A task whose lengths are
a search expands into one `Chain` per model x lr x grid x seed instead: the same config at the
lengths the search chooses, one probe after another (`plan`; the sweep runs them). A search over a
task parameter (`search: {param: ...}`) is one chain per model x length x lr x grid x seed. A task
may have several entries (`copy`, `copy/loss`): each its own lengths, models (`run_models`), lr
grid and grid (over the suite's); a run or chain two entries share is planned once.

With `tune: {seed: S}` (suite level; a task may set its own `tune:` or `tune: null`) the lr grid
runs on seed S only. The other seeds wait in a `Deferred` group per (task, model, grid point,
length), or per (task, model, grid point) for a search, until the group's tuning runs are finished;
the sweep then runs them at the lr chosen on validation (selection.py). A 3-value grid at 3 seeds
costs 3 + 2 runs per group instead of 9.
"""
from __future__ import annotations

import copy
import dataclasses
import hashlib
import itertools
import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from .config import TRAINER_VERSION, RunConfig, merge_dicts, read_yaml
from .errors import UserError, shown
from .models import MODELS
from .protocol import trainer_field
from .search import LENGTH, ParamSearch
from .tasks import get_task

SUITE_KEYS = {"name", "version", "description", "device", "seeds", "models", "lr", "tasks", "grid",
              "train", "model", "workers", "threads", "memory_limit_mb", "tune"}


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
    grid: dict = field(default_factory=dict)  # "train.clip" -> [values], or -> {model: [values]} for some models only
    train: dict = field(default_factory=dict)
    model: dict = field(default_factory=dict)
    workers: int | None = None  # default worker processes for the local executor
    threads: int | None = None  # torch threads per worker
    memory_limit_mb: int | None = None  # CPU memory cap per worker process; runs beyond it are recorded as oom
    tune: dict | None = None  # {seed: S}: the lr grid runs on seed S, the other seeds at the chosen lr

    def grid_for(self, model: str, settings: dict | None = None) -> dict:
        """The grid keys and values that apply to `model`: a list to every model, a mapping
        {model: [values]} to the models it names (the others run without that key). A task entry's
        `grid` (in `settings`) adds keys to the suite's, or replaces their values."""
        grid = {**self.grid, **(settings or {}).get("grid", {})}
        return {key: values[model] if isinstance(values, dict) else values
                for key, values in grid.items() if not isinstance(values, dict) or model in values}

    def lrs_for(self, model: str, settings: dict | None = None) -> list:
        """`model`'s learning-rate grid: a task entry's `lr` over the suite's, each by model, then "default"."""
        lr = {**self.lr, **(settings or {}).get("lr", {})}
        return lr.get(model, lr.get("default", [None]))

    def restricted(self, models: tuple[str, ...]) -> "Suite":
        """The suite for `models` only (`seqbench sweep --models`): entries with their own
        `run_models` keep those among `models`, and are left out when none is."""
        tasks = {}
        for entry, settings in self.tasks.items():
            if "run_models" in settings:
                settings = {**settings, "run_models": [m for m in settings["run_models"] if m in models]}
                if not settings["run_models"]:
                    continue
            tasks[entry] = settings
        return dataclasses.replace(self, models=tuple(models), tasks=tasks)

    def models_for(self, settings: dict) -> tuple[str, ...]:
        """The models a task entry runs: its `run_models`, or the suite's."""
        return tuple(settings.get("run_models", self.models))

    @property
    def plan_key(self) -> str:
        """A fingerprint of what the suite plans (its tasks, models, seeds, rates, grid, budgets): it
        changes when, say, a search's ceiling is raised, and not with the description or the workers."""
        plan = {"tasks": self.tasks, "models": self.models, "seeds": self.seeds, "lr": self.lr, "grid": self.grid,
                "train": self.train, "model": self.model, "tune": self.tune, "device": self.device}
        return hashlib.sha256(json.dumps(plan, sort_keys=True, default=str).encode()).hexdigest()[:12]


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
            raise UserError(f"{path}: 'tasks' as a list must hold task names, e.g. [copy, adding], got {shown(tasks)}")
        tasks = {name: {} for name in tasks}
    if not isinstance(tasks, dict) or not tasks:
        raise UserError(f"{path}: 'tasks' must be a non-empty mapping of task name -> settings, got {shown(tasks)}")
    models = data["models"]
    if not isinstance(models, list) or not models or not all(isinstance(m, str) for m in models):
        raise UserError(f"{path}: 'models' must be a non-empty list of model names, got {shown(models)}")
    seeds = data.get("seeds", [0])
    if not isinstance(seeds, list) or not seeds or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds):
        raise UserError(f"{path}: 'seeds' must be a non-empty list of integers, got {shown(seeds)}")
    for section in ("lr", "grid", "train", "model"):
        if not isinstance(data.get(section, {}), dict):
            raise UserError(f"{path}: {section!r} must be a mapping, got {shown(data[section])}")
    for key in ("workers", "threads", "memory_limit_mb"):
        value = data.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise UserError(f"{path}: {key!r} must be a positive integer, got {value!r}")
    check_grid(data.get("grid", {}), str(path))
    check_lr(data.get("lr", {}), str(path))
    for name, settings in tasks.items():
        if settings is not None and not isinstance(settings, dict):
            raise UserError(f"{path}: settings of task {name!r} must be a mapping, got {shown(settings)}")
    check_tune(data.get("tune"), str(path))
    return Suite(name=data.get("name", path.stem), tasks={k: v or {} for k, v in tasks.items()},
                 models=tuple(models), seeds=tuple(seeds), version=data.get("version", 1),
                 description=data.get("description", ""), device=data.get("device", "cpu"),
                 lr=data.get("lr", {}), grid=data.get("grid", {}), train=data.get("train", {}),
                 model=data.get("model", {}), workers=data.get("workers"), threads=data.get("threads"),
                 memory_limit_mb=data.get("memory_limit_mb"), tune=data.get("tune"))


def check_grid(grid: dict, where: str) -> None:
    for key, values in grid.items():
        per_model = values.values() if isinstance(values, dict) and values else [values]
        if not all(isinstance(v, list) and v for v in per_model):
            raise UserError(f"{where}: grid {key!r} must be a non-empty list of values, or a mapping of model -> "
                            f"such a list, got {shown(values)}")
        if key.split(".")[0] not in ("train", "model") or key.count(".") != 1:
            raise UserError(f"{where}: grid key {key!r} must look like train.<field> or model.<field>")


def check_lr(lr: dict, where: str) -> None:
    for model, values in lr.items():
        if not isinstance(values, list) or not values:
            raise UserError(f"{where}: lr for {model!r} must be a non-empty list, got {shown(values)}")


def check_tune(value: Any, where: str) -> None:
    """`tune` is absent, null, or {seed: <int>}."""
    if value is None:
        return
    if not isinstance(value, dict) or set(value) != {"seed"} or isinstance(value["seed"], bool) \
            or not isinstance(value["seed"], int):
        raise UserError(f"{where}: 'tune' must be {{seed: <integer>}} (the seed the lr grid runs on) or null, got {value!r}")


@dataclass(frozen=True)
class Chain:
    """One search: a task, model, lr, grid point and seed, probed at the values `search` chooses of
    the length, or of a task parameter at a fixed `length`."""
    task: str
    model: str
    seed: int
    overrides: dict  # the suite's layers for this point (lr, grid point, budgets), as passed to Task.resolve
    grid: dict  # grid key -> value of this point, e.g. {"train.clip": 1.0}
    search: ParamSearch
    length: int | None = None  # the fixed length of a search over a task parameter; None for a length search

    def __post_init__(self):
        if (self.length is None) != self.search.over_length:
            raise ValueError("a length search has no fixed length; a search over a task parameter needs one")

    def config(self, value: int) -> RunConfig:
        """The probe at `value` of the searched parameter: an ordinary run config, so its run id is
        its config hash (a length search's probes hash as they always did)."""
        overrides = copy.deepcopy(self.overrides)
        if self.search.over_length:
            return get_task(self.task).resolve(self.model, value, self.seed, overrides)
        overrides["task"] = {**overrides.get("task", {}), self.search.param: value}
        return get_task(self.task).resolve(self.model, self.length, self.seed, overrides)

    def value_of(self, cfg: RunConfig) -> int | None:
        """The searched parameter's value in a probe's config (None: a config that does not set it)."""
        return cfg.length if self.search.over_length else cfg.task_params.get(self.search.param)

    @cached_property
    def key(self) -> str:
        """Stable across sweeps: the task and its protocol versions, model, seed and overrides, not the
        search's bounds (widening `max` continues the same chain). E.g. `adding/lstm/seed0/3f2a9c01d4`.
        A search over a task parameter adds the parameter and the fixed length to what is hashed."""
        ident = {"task": self.task, "version": get_task(self.task).version, "model": self.model,
                 "seed": self.seed, "overrides": self.overrides, **trainer_field(TRAINER_VERSION)}
        if not self.search.over_length:  # a length search's key stays as it was
            ident["search"] = {"param": self.search.param, "length": self.length}
        digest = hashlib.sha256(json.dumps(ident, sort_keys=True, default=str).encode()).hexdigest()[:10]
        return f"{self.task}/{self.model}/seed{self.seed}/{digest}"

    def label(self) -> str:
        lr = self.overrides.get("train", {}).get("lr")
        parts = [f"{self.task}/{self.model}"] + ([f"L={self.length}"] if self.length is not None else [])
        parts += [f"lr={lr:g}"] if lr is not None else []
        parts += [f"{k}={v}" for k, v in self.grid.items()] + [f"seed={self.seed}"]
        return " ".join(parts)


@dataclass(frozen=True)
class Deferred:
    """The seeds of one (task, model, grid point[, length]) that wait for the tuning seed's lr.

    `tuning` holds the tuning seed's work per candidate lr: run configs (fixed length) or chains
    (a search). When all of it is finished, `release(lr)` gives the other seeds' work at the lr
    chosen on validation. E.g. lrs [1e-3, 3e-3], seeds [0, 1, 2], tune seed 0: tuning is 2 runs at
    seed 0; release(3e-3) gives the runs of seeds 1 and 2 at 3e-3."""
    task: str
    model: str
    grid: dict  # grid key -> value of this point
    length: int | None  # None: a length search (a search over a task parameter has its fixed length)
    seed: int  # the tuning seed
    seeds: tuple[int, ...]  # the seeds released at the chosen lr
    tuning: dict  # lr -> RunConfig (fixed length) or Chain (search), at the tuning seed
    overrides: dict  # lr -> the suite's layers at that lr (as Chain.overrides)
    search: ParamSearch | None = None

    def release(self, lr: float) -> list:
        """The other seeds' work at `lr`: RunConfigs for a fixed length, Chains for a search."""
        if self.search is not None:
            return [Chain(self.task, self.model, seed, self.overrides[lr], self.grid, self.search, self.length)
                    for seed in self.seeds]
        task = get_task(self.task)
        return [task.resolve(self.model, self.length, seed, copy.deepcopy(self.overrides[lr])) for seed in self.seeds]

    def identity(self) -> tuple:
        """What the group runs: its tuning work's run ids (a chain's first probe), and its seeds."""
        work = [item.config(item.search.start) if isinstance(item, Chain) else item for item in self.tuning.values()]
        return tuple(cfg.run_id for cfg in work), self.length, self.search, self.seeds

    def label(self) -> str:
        parts = [f"{self.task}/{self.model}"] + [f"{k}={v}" for k, v in self.grid.items()]
        parts += [f"L={self.length}"] if self.length is not None else []
        if self.search is not None:
            parts.append("search" if self.search.over_length else f"search {self.search.param}")
        return " ".join(parts)


@dataclass
class Plan:
    runs: list[RunConfig]  # fixed-length runs (with `tune`: the tuning seed's only)
    chains: list[Chain]  # searches, one per model x lr x grid x seed (x length, for a task parameter) of a searched task
    notes: list[str]  # one per (task, model) pair left out
    deferred: list[Deferred] = field(default_factory=list)  # with `tune`: seeds waiting for the chosen lr


SEARCH_KEYS = ("start", "max", "refine")
SEARCH_EXAMPLE = "{search: {start: 8, max: 4096, refine: 2}}"


def parse_search(spec: Any, where: str, of_param: bool = False) -> ParamSearch:
    """`{start, max, refine}` (refine defaults to 2), and for a task parameter's search its `param`."""
    keys = ("param",) + SEARCH_KEYS if of_param else SEARCH_KEYS
    if not isinstance(spec, dict):
        raise UserError(f"{where}: expected a mapping of {', '.join(keys)}, got {spec!r}")
    unknown = sorted(set(spec) - set(keys))
    if unknown:
        raise UserError(f"{where}: unknown key {unknown[0]!r} ({', '.join(keys)})")
    spec = dict(spec)
    param = spec.pop("param", LENGTH)
    missing = [k for k in ("start", "max") if k not in spec]
    if missing:
        raise UserError(f"{where} needs {missing[0]!r} ({', '.join(keys)})")
    bad = [k for k, v in spec.items() if isinstance(v, bool) or not isinstance(v, int)]
    if bad:
        raise UserError(f"{where}: {bad[0]!r} must be an integer, got {spec[bad[0]]!r}")
    try:
        return ParamSearch(**spec, param=param)
    except ValueError as exc:
        raise UserError(f"{where}: {exc}") from exc


def parse_lengths(value: Any, where: str) -> list | ParamSearch:
    """A task's `lengths` in a suite: a list, or `{search: {start, max, refine}}` (refine defaults to 2)."""
    if isinstance(value, list) and value:
        return value
    spec = value.get("search") if isinstance(value, dict) and list(value) == ["search"] else None
    if not isinstance(spec, dict):
        raise UserError(f"{where}: 'lengths' must be a non-empty list or {SEARCH_EXAMPLE}, got {value!r}")
    return parse_search(spec, f"{where}: lengths.search")


def parse_param_search(settings: dict, lengths: list | ParamSearch, where: str) -> ParamSearch | None:
    """A task's `search: {param: n_pairs, start: 4, max: 64, refine: 1}`: a search over a field of its
    generator at each of its (fixed) lengths; None without one."""
    if "search" not in settings:
        return None
    if isinstance(lengths, ParamSearch):
        raise UserError(f"{where}: one search per task: 'search' over a task parameter needs fixed 'lengths' (a list)")
    spec = settings["search"]
    if not isinstance(spec, dict) or "param" not in spec:
        raise UserError(f"{where}: 'search' must name its task parameter: {{param: n_pairs, start: 4, max: 64, refine: 1}}")
    if spec["param"] == LENGTH:
        raise UserError(f"{where}: search the length with lengths: {SEARCH_EXAMPLE}")
    return parse_search(spec, f"{where}: search", of_param=True)


def plan(suite: Suite) -> Plan:
    """The suite's fixed-length runs and its length-search chains."""
    out = Plan([], [], [])
    planned: set = set()  # what is planned already: two entries of a task may share a run or a chain
    for entry, settings in suite.tasks.items():
        task_name = entry.partition("/")[0]  # `copy/loss`: a second entry of copy, named for what it adds
        task = get_task(task_name)
        unknown = sorted(set(settings) - ENTRY_KEYS)
        if unknown:
            raise UserError(f"suite {suite.name}: task {entry!r}: unknown key {unknown[0]!r} ({', '.join(ENTRY_KEYS_SHOWN)})")
        where = f"suite {suite.name}: task {entry!r}"
        _check_entry(settings, where)
        seeds = settings.get("seeds", list(suite.seeds))  # a task may run fewer (or other) seeds than the suite
        if not isinstance(seeds, list) or not seeds or not all(isinstance(x, int) and not isinstance(x, bool) for x in seeds):
            raise UserError(f"{where}: 'seeds' must be a non-empty list of integers, got {shown(seeds)}")
        tune = settings.get("tune", suite.tune)
        check_tune(tune, where)
        if tune is not None and tune["seed"] not in seeds:
            raise UserError(f"{where}: the tuning seed {tune['seed']} is not among its seeds {seeds}; "
                            "set tune.seed to one of them")
        for section in ("task", "train", "model", "models"):
            _check_mapping(settings.get(section, {}), f"{where}: {section!r}")
        for model, layer in settings.get("models", {}).items():
            _check_mapping(layer or {}, f"{where}: models.{model}")
            for section in ("train", "model"):
                _check_mapping((layer or {}).get(section, {}), f"{where}: models.{model}.{section}")
        lengths = parse_lengths(settings["lengths"], where) if "lengths" in settings else list(task.lengths)
        search = parse_param_search(settings, lengths, where) or (lengths if isinstance(lengths, ParamSearch) else None)
        # The chains' fixed lengths: none for a length search, each listed length for a parameter's.
        chain_lengths = [None] if search is None or search.over_length else lengths
        for model in suite.models_for(settings):
            MODELS.get(model)
            reason = task.refusal(model)
            if reason:
                out.notes.append(f"{task_name}/{model} skipped: {reason}")
                continue
            lrs = suite.lrs_for(model, settings)
            # One lr needs no choosing: tuning only applies to a grid of several.
            tuned = tune is not None and len(lrs) > 1
            run_seeds = [tune["seed"]] if tuned else seeds
            grid = suite.grid_for(model, settings)
            points = list(itertools.product(lrs, itertools.product(*grid.values()), run_seeds))
            if search is not None:
                for length, (lr, combo, seed) in itertools.product(chain_lengths, points):
                    chain = Chain(task_name, model, seed, _overrides(suite, settings, model, lr, combo),
                                  dict(zip(grid, combo)), search, length)
                    first = chain.config(search.max)  # a bad override or a max beyond the task's fails here, before any run
                    if _new(planned, ("chain", first.run_id, search, length)):
                        out.chains.append(chain)
            else:
                for length, (lr, combo, seed) in itertools.product(lengths, points):
                    cfg = task.resolve(model, length, seed, _overrides(suite, settings, model, lr, combo))
                    if _new(planned, cfg.run_id):
                        out.runs.append(cfg)
            if tuned:
                groups = _deferred(suite, settings, task_name, model, lrs, lengths, search,
                                   tune["seed"], [s for s in seeds if s != tune["seed"]])
                out.deferred += [g for g in groups if _new(planned, ("deferred", g.identity()))]
    return out


ENTRY_KEYS_SHOWN = ("lengths", "search", "seeds", "tune", "run_models", "lr", "grid", "task", "train", "model", "models")
ENTRY_KEYS = set(ENTRY_KEYS_SHOWN)


def _check_entry(settings: dict, where: str) -> None:
    """A task entry's own model list, lr grid and grid."""
    models = settings.get("run_models", ["-"])
    if not isinstance(models, list) or not models or not all(isinstance(m, str) for m in models):
        raise UserError(f"{where}: 'run_models' must be a non-empty list of model names, got {shown(models)}")
    for section in ("lr", "grid"):
        _check_mapping(settings.get(section, {}), f"{where}: {section!r}")
    check_grid(settings.get("grid", {}), where)
    check_lr(settings.get("lr", {}), where)


def _new(planned: set, key) -> bool:
    """True the first time `key` is seen (and remembers it)."""
    if key in planned:
        return False
    planned.add(key)
    return True


def _deferred(suite: Suite, settings: dict, task_name: str, model: str, lrs: list, lengths: list | ParamSearch,
              search: ParamSearch | None, tune_seed: int, others: list[int]) -> list[Deferred]:
    """One group per grid point (and length, unless the length is searched): its tuning work per lr,
    and the other seeds."""
    if not others:
        return []
    task, groups = get_task(task_name), []
    model_grid = suite.grid_for(model, settings)
    for combo in itertools.product(*model_grid.values()):
        grid = dict(zip(model_grid, combo))
        overrides = {lr: _overrides(suite, settings, model, lr, combo) for lr in lrs}
        for length in [None] if search is not None and search.over_length else lengths:
            if search is not None:
                tuning = {lr: Chain(task_name, model, tune_seed, overrides[lr], grid, search, length) for lr in lrs}
            else:
                tuning = {lr: task.resolve(model, length, tune_seed, copy.deepcopy(overrides[lr])) for lr in lrs}
            groups.append(Deferred(task_name, model, grid, length, tune_seed, tuple(others), tuning, overrides, search))
    return groups


def _overrides(suite: Suite, settings: dict, model: str, lr: float | None, combo: tuple) -> dict:
    """Layers, each over the last: suite, suite task, suite task per model, then this grid point. A
    suite task's `task` layer (generator fields, e.g. {n_pairs: 8}) is a section only when given."""
    point: dict = {"train": {"device": suite.device}, "model": {}}
    if lr is not None:
        point["train"]["lr"] = lr
    for key, value in zip(suite.grid_for(model, settings), combo):  # keys are train.<field> or model.<field>
        section, name = key.split(".")
        point[section][name] = value
    overrides = {"train": suite.train, "model": suite.model}
    if settings.get("task"):
        overrides["task"] = settings["task"]
    for layer in ({"train": settings.get("train", {}), "model": settings.get("model", {})},
                  settings.get("models", {}).get(model, {}), point):
        overrides = merge_dicts(overrides, layer)
    return overrides


def _check_mapping(value: Any, where: str) -> None:
    """Layers are merged key by key: one that is not a mapping would silently replace a whole section."""
    if not isinstance(value, dict):
        raise UserError(f"{where} must be a mapping, got {value!r}")
