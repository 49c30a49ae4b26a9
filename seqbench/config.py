"""Configuration: frozen dataclasses, YAML loading (safe_load only), typed `a.b=value` overrides.

A run is resolved in layers, each overriding the last:
  dataclass defaults -> task YAML `train:`/`model:` -> task YAML `models.<name>:` -> user overrides.
The resolved `RunConfig` is hashed to name its run file.
"""
from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import types
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from .errors import UserError, shown


@dataclass(frozen=True)
class ModelConfig:
    name: str = "lstm"  # registry key of the encoder
    params: int = 100_000  # parameter budget (excluding the token-embedding table), met within 5%
    n_layers: int | None = None  # None: the model's default (1 for RNNs, 2 for the Transformer)
    n_heads: int = 4  # attention heads (transformer)
    ff_mult: int = 2  # feed-forward width as a multiple of d_model (transformer), before budget tuning
    ff_dim: int | None = None  # feed-forward width; None: ff_mult x d_model, then tuned to meet the budget
    dropout: float = 0.0  # dropout between layers
    io_dropout: float = 0.0  # dropout on the embedded input and on the head's input (acts on one-layer models too)
    nonlinearity: str = "tanh"  # rnn only: tanh | relu
    init: str = "auto"  # recurrent init: auto (chrono for lstm/gru/bilstm, PyTorch's for rnn) | default | orthogonal | identity (IRNN with relu) | chrono
    chrono_tmax: int | None = None  # chrono init's longest time scale; None: the task's sequence length
    causal: bool = False  # transformer: mask future positions (set by the task for next-token tasks)
    positions: str = "learned"  # transformer: learned (a table, N(0, 1) init; chosen by the positions suite) | sinusoidal | rope (rotary) | none
    max_positions: int | None = None  # rows of a learned position table; None: the task's sequence length
    hf: dict = field(default_factory=dict)  # hf:<model_type> models: transformers config fields over the preset's


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 2000  # optimiser steps (the budget)
    time_budget_s: float | None = None  # stop early after this many seconds of training
    batch_size: int = 64  # sequences per step
    lr: float = 2e-3  # peak AdamW learning rate
    weight_decay: float = 0.01  # AdamW decoupled weight decay
    warmup: float = 0.05  # share of steps with linear warm-up, then cosine decay to 10% of peak
    clip: float | None = 1.0  # global gradient-norm clip; None turns clipping off
    eval_every: int = 500  # validate every this many steps; the best checkpoint is tested
    val_examples: int = 512  # size of the fixed validation set
    test_examples: int = 2048  # size of the fixed test set
    eval_batch_size: int = 256  # sequences per evaluation batch
    log_every: int = 25  # record the training loss every this many steps
    device: str = "cpu"  # cpu | cuda | cuda:N
    threads: int = 0  # torch intra-op threads; 0 keeps torch's default
    precision: str = "fp32"  # fp32 | bf16 (autocast of forward passes; see precision.py)
    compile: bool = False  # torch.compile the model (see `seqbench perf` for when it pays)
    early_stop: bool = False  # stop once the run is solved or converged (see status.py); the budget is then a ceiling
    hold: int = 2  # evaluations in a row past the task's threshold that make a run solved
    patience: int = 5  # evaluations without improvement that make a plateau (converged)
    tolerance: float = 0.01  # an improvement must close this share of the gap to the metric's ideal
    loss: str = "default"  # default (the head's own: cross-entropy or MSE) | mse (classification on one-hot targets)


# Bump whenever a change to training or evaluation alters numbers: a run's identity carries it, so a
# resumed sweep reruns what an older trainer made instead of keeping its numbers (protocol.py).
TRAINER_VERSION = 1

# (section, key, value): a field added after the first results; at this value it leaves the run id as
# it was, and a config read from an older file gets this value. Section None: a top-level field.
HASH_NEUTRAL_DEFAULTS = (("train", "precision", "fp32"), ("train", "compile", False),
                         ("model", "positions", "sinusoidal"), ("model", "max_positions", None),
                         ("train", "early_stop", False), ("train", "hold", 2), ("train", "patience", 5),
                         ("train", "tolerance", 0.01), ("train", "loss", "default"),
                         ("model", "hf", {}), ("model", "io_dropout", 0.0), (None, "trainer_version", 1),
                         (None, "task_params", {}))


@dataclass(frozen=True)
class RunConfig:
    task: str  # registry key of the task
    length: int  # dependency length (the task's knob)
    seed: int  # seeds the model init and the training stream
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    task_version: int = 1  # copied from the task YAML, so results of changed tasks never mix
    trainer_version: int = TRAINER_VERSION  # the trainer's, so results of changed training code never mix
    task_params: dict = field(default_factory=dict)  # generator fields set over the task YAML's, e.g. {"n_pairs": 16}

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def digest(self, leave_out: tuple[str, ...] = ()) -> str:
        """A stable hash of the config without the top-level fields `leave_out` (16 hex digits)."""
        payload = self.to_dict()
        payload["train"].pop("threads")
        # Fields added after the first results: at their default they leave the hash as it was,
        # so earlier run files still count as finished.
        for section, key, default in HASH_NEUTRAL_DEFAULTS:
            node = payload if section is None else payload[section]
            if node.get(key) == default:
                node.pop(key)
        for key in leave_out:
            payload.pop(key, None)
        blob = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    @property
    def run_id(self) -> str:
        """A stable hash of the resolved config. Thread count is left out: it changes speed, not the run."""
        return self.digest()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RunConfig":
        data = dict(data)
        # A config written before a field existed ran with the field's value of that time, which
        # is not always today's default (the Transformer's positions changed to learned).
        sections = {"model": dict(data.pop("model", {})), "train": dict(data.pop("train", {})), None: data}
        for section, key, then in HASH_NEUTRAL_DEFAULTS:
            sections[section].setdefault(key, copy.deepcopy(then))  # a fresh {} per config
        model = build_dataclass(ModelConfig, sections["model"], "model")
        train = build_dataclass(TrainConfig, sections["train"], "train")
        return build_dataclass(cls, {**data, "model": model, "train": train}, "run")


# ---------------------------------------------------------------- typed construction and overrides

def _allowed_types(annotation) -> tuple[type, ...]:
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return tuple(t for a in typing.get_args(annotation) for t in _allowed_types(a))
    origin = typing.get_origin(annotation)
    return (origin or annotation,)


def _parse_scalar(text: str) -> Any:
    """Command-line text to a value. YAML 1.1 reads '1e-3' as a string, so numbers go first."""
    if text.lower() in ("none", "null", "off"):
        return None
    for number in (int, float):
        try:
            return number(text)
        except ValueError:
            pass
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def coerce(value: Any, annotation, where: str) -> Any:
    """Check `value` against a field annotation; strings from the command line are parsed first."""
    allowed = _allowed_types(annotation)
    if isinstance(value, str) and str not in allowed:
        value = _parse_scalar(value.strip())
    if value is None and type(None) in allowed:
        return None
    if bool in allowed and isinstance(value, bool):
        return value
    if isinstance(value, bool):  # bool is an int subclass; never accept it as a number
        raise UserError(f"{where}: expected {_type_names(allowed)}, got {value!r}")
    if float in allowed and isinstance(value, (int, float)):
        return float(value) if int not in allowed or isinstance(value, float) else value
    for t in allowed:
        if t not in (type(None), typing.Any) and isinstance(value, t):
            return value
    if typing.Any in allowed:
        return value
    raise UserError(f"{where}: expected {_type_names(allowed)}, got {value!r}")


def _type_names(allowed) -> str:
    return " or ".join("null" if t is type(None) else getattr(t, "__name__", str(t)) for t in allowed)


def build_dataclass(cls, values: Any, where: str):
    """Make `cls` from a mapping, rejecting unknown keys and wrong types with one clear line."""
    if dataclasses.is_dataclass(values):
        return values
    if not isinstance(values, dict):
        raise UserError(f"{where}: expected a mapping, got {values!r}")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        import difflib
        close = difflib.get_close_matches(str(unknown[0]), known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise UserError(f"{where}: unknown key {unknown[0]!r}{hint} valid keys: {', '.join(sorted(known))}")
    checked = {}
    for name, value in values.items():
        if dataclasses.is_dataclass(hints[name]):
            checked[name] = build_dataclass(hints[name], value, f"{where}.{name}")
        else:
            checked[name] = coerce(value, hints[name], f"{where}.{name}")
    try:
        return cls(**checked)
    except TypeError as exc:  # a required key is missing
        raise UserError(f"{where}: {exc}") from exc


def merge_dicts(base: dict[str, Any], update: dict[str, Any] | None) -> dict[str, Any]:
    """A deep copy of `base` with `update` applied: mappings merge key by key, anything else replaces.

    {'train': {'lr': 1e-3, 'steps': 500}} + {'train': {'lr': 3e-3}, 'model': {'params': 5e4}}
        -> {'train': {'lr': 3e-3, 'steps': 500}, 'model': {'params': 5e4}}

    The one merge: suite expansion, task resolution (through `merge`) and command-line overrides.
    """
    out = copy.deepcopy(base)
    for key, value in (update or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_dicts(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def merge(base, updates: dict[str, Any], where: str):
    """A copy of dataclass `base` with `updates` (possibly nested mappings) applied, type-checked:
    `merge_dicts` on the fields, then `build_dataclass` checks the keys and types."""
    if not updates:
        return base
    if not isinstance(updates, dict):
        raise UserError(f"{where}: expected a mapping, got {updates!r}")
    return build_dataclass(type(base), merge_dicts(dataclasses.asdict(base), updates), where)


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """['train.lr=1e-3', 'model.params=5e4'] -> {'train': {'lr': '1e-3'}, 'model': {'params': '5e4'}}."""
    nested: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.lstrip("-").partition("=")
        if not sep or not key:
            raise UserError(f"override {item!r} must look like section.key=value, e.g. train.lr=1e-3")
        *path, last = key.split(".")
        node = nested
        for part in path:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise UserError(f"override {item!r} conflicts with another override of {part!r}")
        node[last] = value
    return nested


def read_yaml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.reader.ReaderError as exc:  # its text spans two lines; say the character and where it is
        character = chr(exc.character) if isinstance(exc.character, int) else exc.character
        raise UserError(f"{path}: malformed YAML at character {exc.position + 1}: "
                        f"unacceptable character {character!r} ({exc.reason})") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = " ".join(str(getattr(exc, "problem", None) or exc).split())
        raise UserError(f"{path}: malformed YAML{where}: {problem}") from exc
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a YAML mapping at the top level, got {shown(data)}")
    return data
