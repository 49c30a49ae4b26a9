"""Where a number came from: code version, library versions, hardware."""
from __future__ import annotations

import functools
import os
import platform
import subprocess
import sys
from pathlib import Path

import torch

from . import __version__

REPO = Path(__file__).resolve().parent.parent


# Dirty means the code or protocol differs from the commit: committed results/ that a sweep
# rewrites, and documentation, change no number, so they do not count.
NOT_CODE = (":(exclude)results", ":(exclude)*.md")


@functools.lru_cache(maxsize=4)
def git_state(repo: Path = REPO) -> dict:
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no", "--", ".", *NOT_CODE))
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": dirty}


@functools.lru_cache(maxsize=1)
def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return cpu_name()


def provenance(device: torch.device) -> dict:
    return {
        "seqbench": __version__,
        **{f"git_{k}": v for k, v in git_state().items()},
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda if device.type == "cuda" else None,
        "cudnn": torch.backends.cudnn.version() if device.type == "cuda" else None,
        "device": str(device),
        "device_name": device_name(device),
        "threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "argv": sys.argv[1:],
    }
