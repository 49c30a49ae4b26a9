import os
import sys
import time
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, settings

REPO = Path(__file__).resolve().parent.parent
torch.set_num_threads(1)

# Fuzz profiles. "ci" (the default, used by `make test` and CI) is derandomised: the same examples
# every run, so a red test means a change broke something, never an unlucky draw. "explore"
# (`make fuzz`) draws fresh examples, many more of them, and keeps failures in .hypothesis/;
# whatever it finds becomes an explicit @example in test_fuzz.py.
_FUZZ = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
settings.register_profile("ci", derandomize=True, database=None, max_examples=200, **_FUZZ)
settings.register_profile("explore", derandomize=False, max_examples=2000, **_FUZZ)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# A tiny budget for end-to-end runs: enough steps to exercise validation and checkpointing.
TINY = {"train": {"steps": 6, "eval_every": 3, "log_every": 2, "val_examples": 16,
                  "test_examples": 24, "eval_batch_size": 8, "batch_size": 8},
        "model": {"params": 20000, "n_heads": 2}}


@pytest.fixture
def results(tmp_path) -> Path:
    return tmp_path / "results"


def wait_for(condition, what: str, timeout: float = 120.0, proc=None):
    """Poll `condition` until it returns something truthy; fail after `timeout` seconds or when `proc`
    exits first. Synchronisation on an event, with the deadline only as a safety net."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"process exited ({proc.returncode}) before {what}: {(err or '')[-2000:]}")
        time.sleep(0.02)  # polling interval, not a synchronisation
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")


def run_cli(*args: str, env: dict | None = None, cwd=None):
    """Run `python -m seqbench` in a subprocess; returns CompletedProcess."""
    import subprocess
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    return subprocess.run([sys.executable, "-m", "seqbench", *args], capture_output=True, text=True,
                          env=full_env, cwd=cwd or REPO, timeout=600)
