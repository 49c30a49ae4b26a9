"""The run file as a type: one `RunRecord` per run, written by the runner (or, for a run that failed
before it could finish, by the sweep) and read by everything else through attributes.

A run file is the record's `to_dict()` as JSON (store.py adds `schema_version` and a content hash).
Each block of the file is a small frozen dataclass; blocks that are tables keyed by data (metric
names, strategies, slices, curves) stay mappings and lists.

    run = store.read_run(path)
    run.config.model.name, run.task.metric, run.test_score, run.timing.train_time_s

Reading goes through `upgrade`, the one place that knows what older files look like (statuses
named before early stopping; see its docstring), so a leaderboard made by an older seqbench still
renders. `to_dict` writes back exactly what was read: a field a file lacked stays out (blocks leave
out fields that are None, except those in `KEEP_NULL`, whose null the runner writes and means), and
keys this version does not know are kept in `extra`, so rewriting a file loses nothing.
"""
from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from .config import HASH_NEUTRAL_DEFAULTS, RunConfig
from .errors import UserError
from .protocol import DATA_FIELDS
from .search import LENGTH
from .status import ERROR, FAILED, FINISHED, StopRule, is_solved

SCHEMA_VERSION = 1


class RecordError(ValueError):
    """A mapping that is not a run record of this seqbench (a field missing, a config it cannot read)."""


@dataclass(frozen=True)
class Block:
    """A block of the run file: known keys are fields, the rest is kept in `extra`."""
    KEEP_NULL: ClassVar[tuple[str, ...]] = ()  # fields written as null; any other None field is left out

    extra: dict = field(default_factory=dict, kw_only=True, repr=False)  # keys this version does not know

    @classmethod
    def from_dict(cls, data: dict | None):
        data = dict(data or {})
        known = {f.name: data.pop(f.name) for f in fields(cls) if f.name != "extra" and f.name in data}
        return cls(**known, extra=data)

    @classmethod
    def optional(cls, data: dict | None):
        """`from_dict`, or None for no block."""
        return None if data is None else cls.from_dict(data)

    def to_dict(self) -> dict:
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "extra" or (value is None and f.name not in self.KEEP_NULL):
                continue
            out[f.name] = value.to_dict() if isinstance(value, Block) else value
        out.update(self.extra)
        return out


@dataclass(frozen=True)
class TaskInfo(Block):
    """What the task was when the run was made, so the report never consults today's task YAML."""
    KEEP_NULL = ("solved",)

    name: str | None = None
    version: int | None = None
    metric: str | None = None  # the primary metric
    metrics: list[str] | None = None
    higher_is_better: dict[str, bool] | None = None  # per metric
    output: str | None = None  # classify | regress | sequence | ...
    solved: float | None = None  # the threshold on the primary metric; None: never solved
    seq_len: int | None = None
    test_examples: int | None = None
    val_examples: int | None = None
    outputs: int | None = None  # scored outputs per test example, where the source says
    # What the data source describes (real data: source, vocabulary, splits); the rest lands in `extra`.
    source: str | None = None
    data: Any = None
    data_hash: str | None = None
    vocab_size: int | None = None
    language_class: str | None = None  # formal tasks: regular | context-free | context-sensitive
    predictions_file: str | None = None  # test predictions beside the run file

    @property
    def primary_higher_is_better(self) -> bool | None:
        return (self.higher_is_better or {}).get(self.metric)

    def data_fields(self) -> dict:
        """The fields that name the data (part of a run's protocol), those the file has."""
        return {k: getattr(self, k) for k in DATA_FIELDS if getattr(self, k) is not None}


@dataclass(frozen=True)
class Recipe(Block):
    default: bool | None = None  # the run used its task's default recipe for the model (sizes may differ)


@dataclass(frozen=True)
class Params(Block):
    KEEP_NULL = ("params", "params_embedding", "params_total", "width")

    params: int | None = None  # inside the budget
    params_embedding: int | None = None  # the token-embedding table (and a learned position table)
    params_total: int | None = None
    width: int | None = None


@dataclass(frozen=True)
class Timing(Block):
    KEEP_NULL = ("train_time_s", "median_step_ms", "eval_tokens_per_s")

    train_time_s: float | None = None  # wall-clock seconds of the training loop (validation included)
    # CPU seconds (user + system, all threads) of the same span; runs made before it lack it, and it is
    # left out of KEEP_NULL so that such a file still writes back exactly as it was read.
    cpu_s: float | None = None
    median_step_ms: float | None = None
    eval_tokens_per_s: float | None = None
    finished_at: str | None = None  # UTC, ISO 8601
    # The steps from which training went on after an interruption (resume.py); absent: one attempt.
    # train_time_s and cpu_s then sum the attempts' spans up to those steps and the last one's rest.
    resumed_at: list | None = None
    # With resumed_at: each attempt's training on the clock, [start, end] in UTC, up to its last save
    # for an interrupted one; the report's wall-clock reads these instead of finished_at less train_time_s.
    spans: list | None = None


@dataclass(frozen=True)
class Memory(Block):
    kind: str | None = None  # what was measured (measure/memory.py); cpu_max_rss: the whole process
    peak_mb: float | None = None
    resident_mb: float | None = None


@dataclass(frozen=True)
class GradNorm(Block):
    KEEP_NULL = ("median", "p99", "max", "n_clipped", "n_spikes", "n_nonfinite", "clip", "n_steps")

    median: float | None = None
    p99: float | None = None
    max: float | None = None
    n_clipped: int | None = None  # steps over the clip threshold; None with clipping off
    n_spikes: int | None = None  # steps over 10x the median
    n_nonfinite: int | None = None
    clip: float | None = None
    n_steps: int | None = None


@dataclass(frozen=True)
class GradFlow(Block):
    """measure/gradflow.py's profile on a fixed validation batch, before and after training."""
    init: dict | None = None
    final: dict | None = None

    def profile(self, stage: str) -> dict | None:
        """The profile at `stage` ('init' or 'final'), or None."""
        return getattr(self, stage)

    def slope(self, stage: str) -> float | None:
        return (self.profile(stage) or {}).get("slope")


@dataclass(frozen=True)
class ModelInfo(Block):
    causal: bool | None = None
    bidirectional: bool | None = None
    sequential_depth: int | None = None
    kernel: str | None = None  # hf models: the kernel used
    hf: dict | None = None  # hf models: model_type, recurrent, transformers version, the resolved config

    @property
    def adapter(self) -> str:
        """'hf' for a model built through the transformers adapter, else ''."""
        return "hf" if self.hf else ""

    @property
    def recurrent(self) -> bool | None:
        """hf models: whether the adapter's preset is recurrent (None for native models)."""
        return (self.hf or {}).get("recurrent")

    @property
    def scan(self) -> str | None:
        """hf models without fused kernels: the parallel-scan package that ran instead of transformers'
        reference scan (mambapy for Mamba), or None."""
        return (self.hf or {}).get("scan")


@dataclass(frozen=True)
class Provenance(Block):
    KEEP_NULL = ("seqbench", "git_commit", "git_dirty", "python", "torch", "cuda", "cudnn", "device", "device_name",
                 "threads", "cpu_count", "platform", "argv")  # written whole by provenance.py

    seqbench: str | None = None
    git_commit: str | None = None
    git_dirty: bool | None = None
    python: str | None = None
    torch: str | None = None
    cuda: str | None = None
    cudnn: int | None = None
    device: str | None = None
    device_name: str | None = None
    threads: int | None = None
    cpu_count: int | None = None
    platform: str | None = None
    argv: list[str] | None = None


@dataclass(frozen=True)
class Search(Block):
    """A search probe's chain (suite `search`): one chain per (task, model, lr, seed[, length])."""
    chain: str | None = None
    start: int | None = None
    max: int | None = None
    refine: int | None = None
    param: str | None = None  # the task parameter searched (config.task_params); None: the length


@dataclass(frozen=True)
class LrSelection(Block):
    """How the sweep chose this seed's lr (suite `tune`): on seed `seed`, among `candidates`."""
    seed: int | None = None
    chosen: float | None = None
    candidates: dict | None = None  # {lr: score}


@dataclass(frozen=True)
class LmAnalysis(Block):
    """A language model's context analysis (data/charlm.py)."""
    per_position_loss: list[float] | None = None  # nats, per position of the window
    per_position_bpc_final: float | None = None
    final_loss: float | None = None
    effective_context: int | None = None
    tolerance: float | None = None
    windows: int | None = None
    sample: dict | None = None  # seed, prompt, text


@dataclass(frozen=True)
class Generalisation(Block):
    """Length generalisation (a task with `test_lengths`): trained on lengths 1..N, tested beyond."""
    train_lengths: list[int] | None = None  # [shortest, longest] trained on
    test_lengths: list[int] | None = None
    score: str | None = None  # how test/<metric> is made from the per-length scores
    test: list[dict] | None = None  # per test length: {"length", <metric>: value, ...}
    val: list[dict] | None = None  # per training length (validation)


@dataclass(frozen=True)
class State(Block):
    """What the model carries from one position to the next (measure/state_size.py); run files made
    before it have no `state` block."""
    kind: str | None = None  # fixed | grows with length | none (reads the whole sequence first) | unknown
    bytes: int | None = None  # per sequence, at seq_len positions
    seq_len: int | None = None
    bytes_half: int | None = None  # at seq_len // 2 positions
    tensors: dict | None = None  # name -> shape
    note: str | None = None


LEGACY_STATUS = {"failed": ERROR}  # names used by run files before today's statuses (status.py)


def upgrade(data: dict) -> dict:
    """A run file's mapping as this version writes it; the one place that knows older files.

    - status `failed` (before oom and error were told apart) is `error`;
    - status `ok` (before early stopping, every finished run) is derived from the validation curve
      with the default stopping rule: solved, converged or budget-limited.
    """
    data = dict(data)
    status = data.get("status")
    if status == "ok":
        task = data.get("task") or {}
        metric = task.get("metric")
        higher = (task.get("higher_is_better") or {}).get(metric, True)
        data["status"] = StopRule(task.get("solved"), higher).final([v for _, v in data.get("val_curve") or []])
    elif isinstance(status, str):
        data["status"] = LEGACY_STATUS.get(status, status)
    return data


def _config(data: dict) -> tuple[RunConfig, tuple[str, ...]]:
    """The typed config, and the hash-neutral fields the file lacked ('section.key')."""
    absent = tuple(key if section is None else f"{section}.{key}" for section, key, _ in HASH_NEUTRAL_DEFAULTS
                   if key not in (data if section is None else data.get(section, {})))
    return RunConfig.from_dict(data), absent


# The top-level fields that are blocks, and their types.
BLOCKS = {"task": TaskInfo, "recipe": Recipe, "params": Params, "timing": Timing, "memory": Memory,
          "grad_norm": GradNorm, "gradflow": GradFlow, "model_info": ModelInfo, "provenance": Provenance,
          "search": Search, "lr_selection": LrSelection, "lm": LmAnalysis, "generalisation": Generalisation,
          "state": State}


@dataclass(frozen=True)
class RunRecord:
    """One run file. Fields after `provenance` are left out of the file when None, except those in
    KEEP_NULL (a run that failed before training has none of them)."""
    KEEP_NULL: ClassVar[tuple[str, ...]] = ("diverged_at", "solved_step", "solved_s", "best_step")
    REQUIRED: ClassVar[tuple[str, ...]] = ("run_id", "status", "config", "task", "metrics", "baseline", "params",
                                           "steps", "timing", "memory", "provenance")

    run_id: str
    status: str  # status.py: solved, converged, budget-limited, diverged, oom, error
    config: RunConfig
    task: TaskInfo = field(default_factory=TaskInfo)
    metrics: dict[str, float | None] = field(default_factory=dict)  # {"test/accuracy": ..., "val/accuracy": ...}
    baseline: dict[str, float | None] = field(default_factory=dict)  # chance, per metric (older readers' block)
    params: Params = field(default_factory=Params)
    steps: int = 0
    timing: Timing = field(default_factory=Timing)
    memory: Memory = field(default_factory=Memory)
    provenance: Provenance = field(default_factory=Provenance)
    recipe: Recipe | None = None
    baselines: dict[str, dict[str, float | None]] | None = None  # {strategy: {metric: value}}, chance first
    by_slice: list[dict] | None = None  # test scores per slice of the test set
    diverged_at: int | None = None  # the step whose loss went non-finite
    stopped_by: str | None = None
    solved_step: int | None = None
    solved_s: float | None = None
    best_step: int | None = None  # the validated checkpoint that was tested
    loss_curve: list | None = None  # [[step, loss], ...]
    val_curve: list | None = None  # [[step, primary validation metric], ...]
    val_seconds: list | None = None
    grad_norm: GradNorm | None = None
    gradflow: GradFlow | None = None
    model_info: ModelInfo | None = None
    search: Search | None = None  # a length-search probe's chain
    lr_selection: LrSelection | None = None  # a seed run at the lr its suite's tuning seed chose
    lm: LmAnalysis | None = None
    generalisation: Generalisation | None = None  # length generalisation: scores per test length
    state: State | None = None  # the bytes carried between positions (absent in older files)
    error: str | None = None  # a failed run's exception, one line
    config_absent: tuple[str, ...] = field(default=(), repr=False, compare=False)  # hash-neutral fields the file lacked
    extra: dict = field(default_factory=dict, repr=False)  # top-level keys this version does not know

    @classmethod
    def from_dict(cls, data: dict) -> "RunRecord":
        """A record from a run file's mapping (through `upgrade`); `schema_version` and the content
        hash are the store's and are dropped. RecordError for a mapping that is not one."""
        if not isinstance(data, dict):
            raise RecordError(f"expected a mapping, got {type(data).__name__}")
        data = upgrade(data)
        data.pop("schema_version", None)
        data.pop("payload_sha256", None)
        names = {f.name for f in fields(cls)} - {"config_absent", "extra"}
        values = {name: data.pop(name) for name in list(data) if name in names}
        missing = [name for name in cls.REQUIRED if name not in values]
        if missing:
            raise RecordError(f"missing fields {', '.join(missing)}")
        try:
            values["config"], values["config_absent"] = _config(values["config"])
            for name, block in BLOCKS.items():
                if values.get(name) is not None:
                    values[name] = block.from_dict(values[name])
            return cls(**values, extra=data)
        except (UserError, TypeError, ValueError, AttributeError) as exc:
            raise RecordError(f"not a run record this seqbench can read ({exc})") from exc

    def to_dict(self) -> dict:
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("config_absent", "extra"):
                continue
            if value is None and f.name not in self.REQUIRED + self.KEEP_NULL:
                continue
            out[f.name] = value.to_dict() if isinstance(value, Block) else value
        out["config"] = self.config_dict()
        out.update(self.extra)
        return copy.deepcopy(out)

    def config_dict(self) -> dict:
        """The config as the file holds it: fields added since its version left out."""
        config = self.config.to_dict()
        for name in self.config_absent:
            section, _, key = name.rpartition(".")
            (config[section] if section else config).pop(key)
        return config

    def replace(self, **changes) -> "RunRecord":
        """A copy with `changes`; a new config is written whole."""
        if "config" in changes:
            changes.setdefault("config_absent", ())
        return dataclasses.replace(self, **changes)

    # ------------------------------------------------------------ what readers ask of a run

    @property
    def finished(self) -> bool:
        """The run produced a test number (solved, converged or budget-limited)."""
        return self.status in FINISHED

    @property
    def failed(self) -> bool:
        """The run produced no test number (diverged, oom, error)."""
        return self.status in FAILED

    @property
    def solved(self) -> bool:
        return is_solved(self.status)

    @property
    def default_recipe(self) -> bool:
        """The runner's verdict. A run that failed before training has no recipe block and no
        numbers; it counts as default so that it is listed with the main entries."""
        return True if self.recipe is None or self.recipe.default is None else bool(self.recipe.default)

    @property
    def adapter(self) -> str:
        """'hf' for a model built through the transformers adapter (its run file records the config), else ''."""
        return self.model_info.adapter if self.model_info else ""

    @property
    def higher_is_better(self) -> bool | None:
        """The primary metric's direction, as the run file recorded it."""
        return self.task.primary_higher_is_better

    def score(self, split: str) -> float | None:
        """The primary metric on `split` ('val' or 'test'), or None."""
        return self.metrics.get(f"{split}/{self.task.metric}") if self.task.metric else None

    @property
    def axis(self) -> tuple[str, int]:
        """Where the run sits on its table's axis: ("length", L), or for a probe of a search over a task
        parameter (`search.param`, e.g. recall_mqar's pairs at a fixed length) that parameter and its
        value, ("n_pairs", 16), so that its probes are told apart as a length search's are."""
        param = self.search.param if self.search else None
        if param and param in self.config.task_params:
            return param, int(self.config.task_params[param])
        return LENGTH, self.config.length

    @property
    def test_score(self) -> float | None:
        return self.score("test")

    @property
    def val_score(self) -> float | None:
        return self.score("val")
