"""Where seqbench's own files are, in a checkout and in an installed wheel (a leaf: imports nothing of seqbench)."""
from __future__ import annotations

import os
from importlib import resources
from pathlib import Path


def builtin_tasks_dir() -> Path:
    """Where the task and suite YAMLs are: $SEQBENCH_TASKS; else the copy an installed wheel ships
    as `seqbench/_tasks`; else `tasks/` beside the package (a checkout or an editable install,
    where they are edited)."""
    if "SEQBENCH_TASKS" in os.environ:
        return Path(os.environ["SEQBENCH_TASKS"])
    packaged = resources.files("seqbench") / "_tasks"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parent.parent / "tasks"
