"""A run's protocol: everything that must be equal for two runs' numbers to share a ranking.

One ranked table holds one protocol: the task and its version, the trainer version, the parameter
target, the training budget and recipe shared by every model (steps, batch, schedule, clipping
off/on is a variant, stopping rule, evaluation set sizes), and the data. What a protocol leaves out
is what a table compares: the model, its recipe fields (nonlinearity, init, positions, ...), the
learning rate chosen on validation, the length, the seed. Ablation variants run under the same
protocol still get their own tables (`main` in the run file says whether a run used its model's
default recipe).

Every reader goes through here: the report groups runs by `Protocol.key`, a sweep that adds models
to a results directory refuses runs of another protocol with `protocol_differences` (sweep/existing.py),
and a sweep recognises the same config made by another protocol version with `config_identity`.

A protocol is read from the run file's config (and the data fields of its task block) alone, so a
leaderboard rebuilt from run files made by an older seqbench groups them exactly as before.

    >>> p = Protocol.of({"task": "copy", "model": {"params": 5000}, "train": {"steps": 6, "lr": 1e-3}})
    >>> p.train, p.key
    ({'steps': 6}, 'b660b480')
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from .config import RunConfig

# Task-block fields of a run file that name the data (real datasets: the files and their hash).
DATA_FIELDS = ("source", "data", "data_hash")
# Train fields outside the protocol: how fast a run went (device, threads, compile), what each
# model may choose on validation (lr), and recipe settings that ablations vary and label as
# variants (clip, loss).
NOT_PROTOCOL_TRAIN = ("lr", "device", "threads", "compile", "clip", "loss")
# The config fields that version a protocol: a task's or the trainer's changes that alter numbers.
PROTOCOL_VERSION_FIELDS = ("task_version", "trainer_version")
ABSENT = "(none)"  # how a difference names a field one side does not record


@dataclass(frozen=True)
class Protocol:
    task: str  # registry key of the task
    task_version: int  # the task YAML's version
    trainer_version: int  # config.TRAINER_VERSION of the run
    params: int  # parameter target of the model budget
    train: dict = field(default_factory=dict)  # the budget and shared recipe: train config minus NOT_PROTOCOL_TRAIN
    data: dict = field(default_factory=dict)  # the DATA_FIELDS the run recorded ({} for synthetic data)

    @classmethod
    def of(cls, config: dict, task_block: dict | None = None) -> "Protocol":
        """From a run file's config and task block (or a planned run's `to_dict()` and its data
        source's `describe()`); fields missing from older files take their value of that time."""
        block = task_block or {}
        return cls(task=config["task"], task_version=config.get("task_version", 1),
                   trainer_version=config.get("trainer_version", 1), params=config["model"]["params"],
                   train={k: v for k, v in config["train"].items() if k not in NOT_PROTOCOL_TRAIN},
                   data={k: block[k] for k in DATA_FIELDS if k in block})

    @classmethod
    def of_record(cls, run) -> "Protocol":
        """From a `record.RunRecord`: its config as the file holds it and the data its task block names."""
        return cls.of(run.config_dict(), run.task.data_fields())

    @property
    def key(self) -> str:
        """A short hash of the protocol fields (8 hex digits), shown under every table."""
        fields = {"task": self.task, "task_version": self.task_version, "params": self.params,
                  "train": self.train, "data": self.data, **trainer_field(self.trainer_version)}
        return hashlib.sha256(_canonical(fields).encode()).hexdigest()[:8]

    def describe(self) -> str:
        """The protocol in words: 'task v1, 50,000 params, ≤ 800 steps × batch 64, early stop (hold 2, patience 5 evaluations of 100 steps, a gain must close 1% of the gap to the ideal)'."""
        t = self.train
        trainer = f" (trainer v{self.trainer_version})" if self.trainer_version != 1 else ""
        parts = [f"{self.task} v{self.task_version}{trainer}", f"{self.params:,} params",
                 f"≤ {t.get('steps', 0):,} steps × batch {t.get('batch_size', '?')}"]
        if t.get("time_budget_s"):
            parts.append(f"≤ {t['time_budget_s']:g} s")
        if t.get("early_stop"):
            # The tolerance decides what counts as progress, so it decides a run's status: say it.
            parts.append(f"early stop (hold {t.get('hold', 2)}, patience {t.get('patience', 5)} evaluations of "
                         f"{t.get('eval_every')} steps, a gain must close {t.get('tolerance', 0.01):.0%} of the gap to the ideal)")
        return ", ".join(parts)


def protocol_key(record) -> str:
    """The protocol hash of a run file, a `record.RunRecord` (what the report groups by)."""
    return Protocol.of_record(record).key


def protocol_differences(a: Protocol, b: Protocol) -> list[tuple[str, str, str]]:
    """Every field in which two protocols differ, as (what, a's value, b's value); [] exactly when
    their keys are equal. E.g. [('parameter target', '8,000', '5,000'), ('train steps', '6', '12')]."""
    out = [(what, str(x), str(y)) for what, x, y in (
        ("task", a.task, b.task), ("task version", a.task_version, b.task_version),
        ("trainer version", a.trainer_version, b.trainer_version),
        ("parameter target", f"{a.params:,}", f"{b.params:,}")) if x != y]
    for what, mine, theirs in (("train", a.train, b.train), ("data", a.data, b.data)):
        for name in sorted(set(mine) | set(theirs)):
            x, y = mine.get(name, ABSENT), theirs.get(name, ABSENT)
            if (name in mine) != (name in theirs) or _canonical(x) != _canonical(y):
                out.append((f"{what} {name}", str(x), str(y)))
    return out


def _canonical(value: Any) -> str:
    """As the key hashes it, so that 1 and 1.0 (or True and 1) differ here as they do there."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def trainer_field(version: int) -> dict[str, int]:
    """{'trainer_version': v}, or {} at 1: a hash that names the trainer leaves out version 1, so
    runs and chains made before the field existed keep their ids."""
    return {} if version == 1 else {"trainer_version": version}


def config_identity(cfg: RunConfig) -> str:
    """The run id without the protocol versions: equal for the same config made by another version
    of its task or of the trainer (how a sweep recognises runs to redo)."""
    return cfg.digest(leave_out=PROTOCOL_VERSION_FIELDS)


def versions(config: dict[str, Any]) -> str:
    """'task copy v1 and trainer v1': the protocol versions a run file's config names."""
    return f"task {config['task']} v{config.get('task_version', 1)} and trainer v{config.get('trainer_version', 1)}"
