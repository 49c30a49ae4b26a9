import os
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parent.parent
torch.set_num_threads(1)

# A tiny budget for end-to-end runs: enough steps to exercise validation and checkpointing.
TINY = {"train": {"steps": 6, "eval_every": 3, "log_every": 2, "val_examples": 16,
                  "test_examples": 24, "eval_batch_size": 8, "batch_size": 8},
        "model": {"params": 20000, "n_heads": 2}}


@pytest.fixture
def results(tmp_path) -> Path:
    return tmp_path / "results"


def run_cli(*args: str, env: dict | None = None, cwd=None):
    """Run `python -m seqbench` in a subprocess; returns CompletedProcess."""
    import subprocess
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    return subprocess.run([sys.executable, "-m", "seqbench", *args], capture_output=True, text=True,
                          env=full_env, cwd=cwd or REPO, timeout=600)
