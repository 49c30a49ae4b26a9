"""tools/estimate_backtest.py: the dry-run's pricing, learnt from one results directory, against what
another's new runs measured."""
import dataclasses
import subprocess
import sys
from pathlib import Path

from fixture_runs import record
from seqbench.record import Timing
from seqbench.store import write_run

ROOT = Path(__file__).resolve().parents[1]


def _run(length: int, seconds: float, steps: int, seed: int = 0):
    """A copy/lstm run at `length` that took `seconds` for `steps` of its budget (train.steps 1,000)."""
    r = record("copy", "lstm", length, seed, 1e-3, 0.99, 0.99, "solved", train={"steps": 1000})
    return dataclasses.replace(r, steps=steps, timing=Timing(train_time_s=seconds, median_step_ms=1.0))


def test_the_backtest_prices_new_runs_from_the_old_runs_alone(tmp_path):
    # History: 1 ms per position at every length, each run stopping at a quarter of its budget.
    old = [_run(10, 0.25 * 30, 250), _run(20, 0.25 * 40, 250)]  # copy's sequence is length + 20
    new = _run(40, 0.25 * 60, 250, seed=1)  # the same law: priced exactly at the share, 4x over at full budget
    for r in old:
        write_run(tmp_path / "old", r)
        write_run(tmp_path / "new", r)  # held by both: not priced
    write_run(tmp_path / "new", new)
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "estimate_backtest.py"), str(tmp_path / "old"),
                          str(tmp_path / "new")], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    row = next(line for line in out.splitlines() if line.startswith("copy"))
    assert row.split()[2:] == ["1", "0.25", "1.00", "0.25", "0.25", "1.00"]
    assert "no runs in" not in out
