"""What every subcommand shares: the `Command` type, the `COMMANDS` registry, the parser and common flags.

A subcommand is one module in this folder that ends with `COMMANDS.register(name, Command(...))`;
`seqbench/commands/__init__.py` imports each module once, and `cli.py` builds the parser from the registry.
"""
from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..config import merge_dicts, parse_overrides
from ..errors import UserError
from ..registry import Registry

DEFAULT_RESULTS = Path("results")


@dataclass(frozen=True)
class Command:
    configure: Callable[[argparse.ArgumentParser], None]  # adds the command's arguments
    run: Callable[..., int]  # run(args) or, with takes_overrides, run(args, overrides); returns the exit code
    help: str  # one line, shown by `seqbench --help`
    takes_overrides: bool = False  # accepts --section.key=value config overrides


COMMANDS: Registry[Command] = Registry("command")


class Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not usage + message
        raise UserError(f"{message} (see '{self.prog} --help')")


def add_data_dir_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", type=Path, help="local data directory for the real tasks (default: $SEQBENCH_DATA)")


def add_results_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--results", type=Path, default=DEFAULT_RESULTS, help="results directory (default: results/)")
    add_data_dir_arg(p)


def add_training_args(p: argparse.ArgumentParser) -> None:
    """The flags every training command shares; `training_overrides` folds them into the config."""
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, help="optimiser steps (default: the task's budget)")
    p.add_argument("--device", help="cpu | cuda | cuda:N (default: cpu)")
    p.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    p.add_argument("--precision", help="fp32 | bf16 (autocast; default fp32)")
    p.add_argument("--compile", action="store_const", const=True, help="torch.compile the model")


TRAINING_FLAGS = ("steps", "device", "threads", "precision", "compile")  # the add_training_args flags that are train.* fields


def training_overrides(args: argparse.Namespace, overrides: list[str]) -> dict:
    """The nested override dict of `--section.key=value` overrides, plus the training flags as train.* entries.

    With --steps 50 and no other training flag:
    ["--train.lr=1e-3", "--model.params=5e4"] -> {'train': {'lr': '1e-3', 'steps': 50}, 'model': {'params': '5e4'}}
    """
    flags = {key: getattr(args, key) for key in TRAINING_FLAGS if getattr(args, key) is not None}
    return merge_dicts(parse_overrides(overrides), {"train": flags})  # the one merge: flags win


def apply_data_dir(args: argparse.Namespace) -> None:
    """--data-dir wins over $SEQBENCH_DATA; set in the environment so sweep workers inherit it."""
    if getattr(args, "data_dir", None) is not None:
        os.environ["SEQBENCH_DATA"] = str(args.data_dir.resolve())


def add_plugin_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--plugin", type=Path, action="append", default=[], metavar="FILE",
                   help="a Python file that registers a model or task, e.g. with @MODELS.register('mymodel') (repeatable)")


def apply_plugins(args: argparse.Namespace) -> None:
    """Import each --plugin file, which must register something; name them in the environment so
    that sweep workers import them too."""
    paths = list(dict.fromkeys(p.resolve() for p in getattr(args, "plugin", None) or []))
    if not paths:
        return
    from ..models import MODELS
    from ..registry import PLUGIN_FILES, load_plugin_file
    from ..tasks import task_names

    for path in paths:
        before = set(MODELS.names()), set(task_names())
        load_plugin_file(path)
        if (set(MODELS.names()), set(task_names())) == before:
            raise UserError(f"plugin {path} registers no model or task; register one with "
                            "@MODELS.register('mymodel') (see README, 'Benchmark your own model')")
    known = [p for p in os.environ.get(PLUGIN_FILES, "").split(os.pathsep) if p]
    os.environ[PLUGIN_FILES] = os.pathsep.join(dict.fromkeys(known + [str(p) for p in paths]))


def split_names(text: str | None) -> list[str]:
    """`"rnn, lstm,"` -> `["rnn", "lstm"]`: the comma-separated model lists of gradflow and speed."""
    return [n.strip() for n in (text or "").split(",") if n.strip()]
