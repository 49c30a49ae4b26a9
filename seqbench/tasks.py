"""Tasks: one YAML file per task under `tasks/` (the file stem is its name), plus plugins.

A task names a data source (a registered generator or dataset with its settings), its output
kind, its metrics (the first is primary), the threshold at which a length counts as solved,
default lengths, and per-task (and per-model) training overrides. Its `version` is copied into
every run, so results of a changed task never mix with the old ones.
"""
from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from .config import ModelConfig, RunConfig, TrainConfig, build_dataclass, merge, read_yaml
from .data.batch import Batch
from .data.source import DataSource
from .data.synthetic import GENERATORS
from .errors import UserError, shown
from .paths import builtin_tasks_dir
from .registry import Registry

TASKS: Registry = Registry("task", entry_point_group="seqbench.tasks")


TASKS_DIR = builtin_tasks_dir()


def derive_seed(*parts: Any) -> int:
    """A 63-bit seed from any parts; distinct parts give independent streams."""
    digest = hashlib.sha256("/".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


@dataclass(frozen=True)
class Task:
    name: str
    source: DataSource  # a generator or dataset instance (see data/source.py)
    metrics: tuple[str, ...]  # the first is primary
    version: int = 1
    description: str = ""
    solved: float | None = None  # primary-metric threshold for "solved" at a length
    lengths: tuple[int, ...] = (32,)  # default dependency lengths
    max_length: int = 1_000_000  # longest length allowed (memory; position limits)
    embed_dim: int = 32  # token-embedding size (the embedding table sits outside the budget)
    train: dict = field(default_factory=dict)  # TrainConfig overrides
    model: dict = field(default_factory=dict)  # ModelConfig overrides
    models: dict = field(default_factory=dict)  # per-model {train: ..., model: ...} overrides
    skip_models: dict = field(default_factory=dict)  # model -> reason it cannot run this task
    causal_only: str | None = None  # the reason a model that reads ahead cannot run this task (language modelling)
    # Length generalisation (data/formal.py): string lengths of the fixed test sets, all beyond the
    # training maximum (the run's length); the test score is the mean over them. () for other tasks.
    test_lengths: tuple[int, ...] = ()

    @property
    def metric(self) -> str:
        return self.metrics[0]

    @property
    def output(self) -> str:
        return self.source.output

    @property
    def vocab_size(self) -> int | None:
        return self.source.vocab_size

    @property
    def n_classes(self) -> int:
        return self.source.n_classes

    @property
    def token_features(self) -> dict:
        """name -> (vocab_size,) int array of each token id's class; the model embeds and adds them."""
        return self.source.token_features() if self.vocab_size else {}

    @property
    def input_dim(self) -> int:
        return self.embed_dim if self.vocab_size else self.source.n_features

    def check_length(self, length: Any) -> int:
        if isinstance(length, bool) or not isinstance(length, int) or length <= 0:
            raise UserError(f"task {self.name!r}: length must be a positive integer, got {length!r}")
        if length > self.max_length:
            raise UserError(f"task {self.name!r}: length {length} exceeds its max_length {self.max_length}")
        return length

    def prepare(self) -> None:
        """Load (or fail to find) a real dataset now, before any progress bar or worker starts."""
        self.source.prepare()

    # ------------------------------------------------------------------ data streams
    def train_batches(self, length: int, seed: int, batch_size: int, device) -> Iterator[Batch]:
        """An endless stream of training batches (made on `device`)."""
        yield from self.source.train_batches(length, derive_seed(self.name, length, seed, "train"), batch_size, device)

    def eval_set(self, split: str, length: int, seed: int, n: int, device) -> Batch:
        """The fixed validation or test set for (task, length, seed), from its own seed stream."""
        return self.source.eval_set(split, length, derive_seed(self.name, length, seed, split), n, device)

    def test_sets(self, length: int, seed: int, n: int, device) -> dict[int, Batch]:
        """{L: the fixed test set of `n` strings of length L} for each of `test_lengths`, each from its
        own seed stream; a run trained on lengths 1..`length` is never tested on one of them."""
        self.check_disjoint(length)
        return {L: self.eval_set("test", L, seed, n, device) for L in self.test_lengths}

    def check_disjoint(self, length: int) -> None:
        """Train and test lengths never overlap: the training maximum must lie below every test length."""
        overlap = [L for L in self.test_lengths if L <= length]
        if overlap:
            raise UserError(f"task {self.name!r}: test length {overlap[0]} is not beyond the training maximum "
                            f"{length}; train at a length below {min(self.test_lengths)}")

    def baseline(self, length: int) -> dict[str, float]:
        return self.source.baseline(length)

    def baselines(self, length: int, test: list[Batch] | Batch) -> dict[str, dict[str, float]]:
        """{strategy: {metric: value}} on the run's test set, chance first, for this task's metrics;
        a strategy that defines none of them is left out."""
        scores = self.source.baselines(length, test, self.metrics)
        return {name: values for name, values in scores.items() if values}

    # ------------------------------------------------------------------ run configs
    def refusal(self, model: str) -> str | None:
        """Why `model` cannot run this task (named in skip_models, or not causal on a task that
        needs it), or None."""
        from .models.registry import is_causal

        if model in self.skip_models:
            return self.skip_models[model]
        if self.causal_only is None:
            return None
        cfg = merge(ModelConfig(name=model), self.model, f"{self.name}.model")
        cfg = merge(cfg, self.models.get(model, {}).get("model", {}), f"{self.name}.models.{model}.model")
        return None if is_causal(cfg) else self.causal_only

    def with_params(self, params: dict) -> "Task":
        """This task with fields of its generator set over the YAML's (a run's `task_params`, e.g.
        {"n_pairs": 16}); itself for none. Unknown fields and bad values are one error."""
        if not params:
            return self
        if not isinstance(params, dict):
            raise UserError(f"task {self.name!r}: task parameters must be a mapping, got {params!r}")
        if not dataclasses.is_dataclass(self.source):
            raise UserError(f"task {self.name!r}: its data source has no parameters to set")
        try:
            source = merge(self.source, params, f"task {self.name!r}: task")
        except ValueError as exc:  # the generator's own check, e.g. more pairs than keys
            raise UserError(f"task {self.name!r}: {exc}") from exc
        return dataclasses.replace(self, source=source)

    def resolve(self, model: str, length: int, seed: int, overrides: dict | None = None) -> RunConfig:
        """The full run config: defaults, then this task's overrides, then the user's. An override
        section `task` sets fields of the generator (`task_params`, e.g. {"task": {"n_pairs": 16}})."""
        from .models import MODELS
        from .precision import PRECISIONS

        overrides = dict(overrides or {})
        params = overrides.pop("task", None) or {}
        if params:
            task = self.with_params(params)
            # As typed by the generator (the command line gives text). Kept even at the YAML's own value,
            # so a run file says which value it ran at without today's task YAML (a search's probes do).
            typed = {k: getattr(task.source, k) for k in params}
            return dataclasses.replace(task.resolve(model, length, seed, overrides), task_params=typed)
        MODELS.get(model)  # unknown names fail here, with "did you mean"
        reason = self.refusal(model)
        if reason:
            raise UserError(f"model {model!r} cannot run task {self.name!r}: {reason}")
        self.check_disjoint(self.check_length(length))
        per_model = self.models.get(model, {})
        train = merge(TrainConfig(), self.train, f"{self.name}.train")
        train = merge(train, per_model.get("train", {}), f"{self.name}.models.{model}.train")
        train = merge(train, overrides.pop("train", {}), "train")
        PRECISIONS.get(train.precision)  # unknown precisions fail here, before any run starts
        model_cfg = merge(ModelConfig(name=model), self.model, f"{self.name}.model")
        model_cfg = merge(model_cfg, per_model.get("model", {}), f"{self.name}.models.{model}.model")
        model_cfg = merge(model_cfg, overrides.pop("model", {}), "model")
        if model_cfg.chrono_tmax is None:
            model_cfg = dataclasses.replace(model_cfg, chrono_tmax=self.source.seq_len(self.check_length(length)))
        if MODELS.meta(model).get("positional") and model_cfg.positions == "learned":
            self._check_learned_positions(model, length)
            if model_cfg.max_positions is None:
                model_cfg = dataclasses.replace(model_cfg, max_positions=self.source.seq_len(self.check_length(length)))
        if model_cfg.name != model:
            raise UserError("choose the model with --model, not model.name")
        if overrides:
            raise UserError(f"unknown override section {next(iter(overrides))!r}; use train.<key>, model.<key> or task.<key>")
        return RunConfig(task=self.name, length=self.check_length(length), seed=seed,
                         model=model_cfg, train=train, task_version=self.version)


    def _check_learned_positions(self, model: str, length: int) -> None:
        """A learned position table trains only the rows the training lengths reach: testing beyond
        them reads rows that were never trained (or are not there), so it is refused."""
        if not self.test_lengths:
            return
        trained, needed = self.source.seq_len(self.check_length(length)), self.source.seq_len(max(self.test_lengths))
        if needed > trained:
            raise UserError(f"model {model!r} with learned positions cannot be tested on task {self.name!r}: "
                            f"its table's rows past {trained} (the training maximum) are never trained, and the "
                            f"test reaches {needed} positions; use model.positions=sinusoidal, rope or none")


TASK_KEYS = {f.name for f in dataclasses.fields(Task)} | {"generator", "dataset", "metric"}


def task_from_yaml(path: Path) -> Task:
    data = read_yaml(path)
    name = path.stem
    if "name" in data and data["name"] != name:
        raise UserError(f"{path}: name {data['name']!r} must match the file name {name!r}")
    data.pop("name", None)
    unknown = sorted(set(data) - TASK_KEYS)
    if unknown:
        raise UserError(f"{path}: unknown key {unknown[0]!r}; valid keys: {', '.join(sorted(TASK_KEYS))}")
    if "metrics" not in data:
        raise UserError(f"{path}: missing key 'metrics' (a list; the first is primary)")
    source_spec = data.pop("generator", None) or data.pop("dataset", None)
    if not isinstance(source_spec, dict) or "name" not in source_spec:
        raise UserError(f"{path}: needs a 'generator:' or 'dataset:' mapping with a 'name'"
                        + (f", got {shown(source_spec)}" if source_spec is not None else ""))
    source_spec = dict(source_spec)
    metrics = data.pop("metrics")
    if not isinstance(metrics, list) or not metrics or not all(isinstance(m, str) for m in metrics):
        raise UserError(f"{path}: 'metrics' must be a non-empty list of metric names, got {shown(metrics)}")
    from .metrics import METRICS
    try:  # an unknown generator or metric, or a bad generator setting: the message names the file first
        source = build_dataclass(_sources().get(source_spec.pop("name")), source_spec, "generator")
        for m in metrics:
            METRICS.get(m)
    except (UserError, ValueError) as exc:
        raise UserError(f"{path}: {exc}") from exc
    lengths = data.pop("lengths", [32])
    test_lengths = data.pop("test_lengths", [])
    for key, value in (("lengths", lengths), ("test_lengths", test_lengths)):
        if not isinstance(value, list):
            raise UserError(f"{path}: {key!r} must be a list of positive integers")
    try:
        task = Task(name=name, source=source, metrics=tuple(metrics), lengths=tuple(lengths),
                    test_lengths=tuple(test_lengths), **data)
    except TypeError as exc:
        raise UserError(f"{path}: {exc}") from exc
    for length in task.lengths + task.test_lengths:
        task.check_length(length)
    if task.test_lengths and min(task.test_lengths) <= max(task.lengths):
        raise UserError(f"{path}: test length {min(task.test_lengths)} is not beyond the longest training length {max(task.lengths)}")
    for key in ("train", "model", "models", "skip_models"):
        if not isinstance(getattr(task, key), dict):
            raise UserError(f"{path}: {key!r} must be a mapping, got {shown(getattr(task, key))}")
    merge(TrainConfig(), task.train, f"{name}.train")  # type-check now, not at run time
    merge(ModelConfig(), task.model, f"{name}.model")
    return task


def _sources() -> Registry:
    from .data import real  # noqa: F401  (registers the real datasets)
    return GENERATORS


NOT_TASKS = {"references"}  # tasks/references.yaml: published numbers for the report, not a task


def load_builtin_tasks(directory: Path = TASKS_DIR) -> None:
    for path in sorted(directory.glob("*.yaml")):
        if path.stem not in TASKS._items and path.stem not in NOT_TASKS:
            TASKS.register(path.stem, _Lazy(path))


class _Lazy:
    """Defers parsing a task YAML until it is used, so one bad file does not hide the others."""

    def __init__(self, path: Path):
        self.path = path


def get_task(name: str) -> Task:
    load_builtin_tasks()
    item = TASKS.get(name)
    if isinstance(item, _Lazy):
        item = task_from_yaml(item.path)
        TASKS._items[name] = item
    elif callable(item) and not isinstance(item, Task):
        item = item()  # plugin entry points may name a factory
        TASKS._items[name] = item
    if not isinstance(item, Task):
        raise UserError(f"task {name!r} is not a seqbench Task (got {type(item).__name__})")
    return item


def task_of(cfg: RunConfig) -> Task:
    """The task a run config was resolved for: its task with the run's `task_params`."""
    return get_task(cfg.task).with_params(cfg.task_params)


def task_names() -> list[str]:
    load_builtin_tasks()
    return TASKS.names()


def find_suite(name: str | Path) -> Path:
    """A suite file by path, or by name among the packaged suites: `standard`, `standard.yaml` and
    `tasks/suites/standard.yaml` (outside a checkout) all find `<tasks>/suites/standard.yaml`."""
    path = Path(name)
    if path.exists():
        return path
    packaged = TASKS_DIR / "suites" / f"{path.name.removesuffix('.yaml')}.yaml"
    if packaged.is_file():
        return packaged
    known = ", ".join(sorted(p.stem for p in (TASKS_DIR / "suites").glob("*.yaml")))
    raise UserError(f"cannot read suite {name}: no such file, and no packaged suite of that name ({known})")
