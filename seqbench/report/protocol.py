"""A run's protocol: everything that must be equal for two runs' numbers to share a ranking.

One ranked table holds one protocol: the task and its version, the parameter target, the training
budget and recipe shared by every model (batch, schedule, clipping, stopping rule, evaluation set
sizes), the data, and the seeds. What a protocol leaves out is what a table compares: the model,
its recipe fields (nonlinearity, init, positions, ...), the learning rate chosen on validation, the
length, the seed. Ablation variants run under the same protocol still get their own tables
(`main` in the run file says whether a run used its model's default recipe).

The key is read from the run file's config alone, so a leaderboard rebuilt from run files made by
an older seqbench groups them exactly as before.
"""
from __future__ import annotations

import hashlib
import json

# Train fields outside the protocol: how fast a run went (device, threads, compile), what each
# model may choose on validation (lr), and recipe settings that ablations vary and label as
# variants (clip, loss).
NOT_PROTOCOL_TRAIN = ("lr", "device", "threads", "compile", "clip", "loss")


def protocol_fields(config: dict, data: dict | None = None) -> dict:
    train = {k: v for k, v in config["train"].items() if k not in NOT_PROTOCOL_TRAIN}
    fields = {"task": config["task"], "task_version": config.get("task_version", 1),
              "params": config["model"]["params"], "train": train, "data": data or {}}
    if config.get("trainer_version", 1) != 1:  # hash-neutral: trainer-1 runs keep their protocol ids
        fields["trainer_version"] = config["trainer_version"]
    return fields


def protocol_id(config: dict, data: dict | None = None) -> str:
    """A short hash of the protocol fields (8 hex digits), shown under every table."""
    blob = json.dumps(protocol_fields(config, data), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:8]


def describe(config: dict) -> str:
    """The protocol in words: 'task v1, 50,000 params, ≤ 800 steps × batch 64, early stop (hold 2, patience 5 evaluations of 100 steps, a gain must close 1% of the gap to the ideal)'."""
    t = config["train"]
    trainer = f" (trainer v{config['trainer_version']})" if config.get("trainer_version", 1) != 1 else ""
    parts = [f"{config['task']} v{config.get('task_version', 1)}{trainer}", f"{config['model']['params']:,} params",
             f"≤ {t.get('steps', 0):,} steps × batch {t.get('batch_size', '?')}"]
    if t.get("time_budget_s"):
        parts.append(f"≤ {t['time_budget_s']:g} s")
    if t.get("early_stop"):
        # The tolerance decides what counts as progress, so it decides a run's status: say it.
        parts.append(f"early stop (hold {t.get('hold', 2)}, patience {t.get('patience', 5)} evaluations of "
                     f"{t.get('eval_every')} steps, a gain must close {t.get('tolerance', 0.01):.0%} of the gap to the ideal)")
    return ", ".join(parts)
