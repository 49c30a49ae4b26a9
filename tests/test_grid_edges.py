"""tools/grid_edges.py: the run beyond the grid's end beside the rate validation chose."""
import subprocess
import sys
from pathlib import Path

from fixture_runs import record
from seqbench.record import Search
from seqbench.store import write_run

ROOT = Path(__file__).resolve().parents[1]


def table(tmp_path, standard_rows, edge_rows, search: dict | None = None) -> list[str]:
    """`search`: the {start, max, refine} of a length search, written into each probe as the sweep does."""
    for name, rows in (("standard", standard_rows), ("edges", edge_rows)):
        for row in rows:
            run = record(*row)
            if search is not None:
                run = run.replace(search=Search(chain=f"{row[0]}/{row[1]}/seed{row[3]}/lr{row[4]:g}", refine=0, **search))
            write_run(tmp_path / name, run)
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "grid_edges.py"), str(tmp_path / "standard"),
                          str(tmp_path / "edges")], capture_output=True, text=True, check=True, cwd=ROOT)
    return out.stdout.splitlines()[2:]


def test_a_rate_beyond_the_grid_that_validation_prefers_is_reported(tmp_path):
    grid = [("sst2", "lstm", 64, 0, lr, val, test, "converged") for lr, val, test in
            ((1e-3, 0.60, 0.61), (3e-3, 0.70, 0.71), (1e-2, 0.80, 0.79))]
    grid.append(("sst2", "lstm", 64, 1, 3e-3, 0.99, 0.99, "converged"))  # another seed: not compared
    better = table(tmp_path / "better", grid, [("sst2", "lstm", 64, 0, 3e-2, 0.85, 0.70, "converged")])
    assert better == ["| sst2 | lstm | 0.01: val 0.8000, test 0.7900, converged | 0.03: val 0.8500, test 0.7000, converged | "
                      "**yes** (+0.05) |"]
    worse = table(tmp_path / "worse", grid, [("sst2", "lstm", 64, 0, 3e-2, 0.55, 0.90, "converged")])
    assert worse[0].endswith("| no (-0.25) |")  # test never decides


def test_the_longest_solved_length_decides_for_a_search(tmp_path):
    grid = [("copy", "rnn", 10, 0, 1e-3, 0.99, 0.99, "solved"), ("copy", "rnn", 20, 0, 1e-3, 0.5, 0.5, "converged")]
    edge = [("copy", "rnn", 10, 0, 3e-4, 0.99, 0.99, "solved"), ("copy", "rnn", 20, 0, 3e-4, 0.99, 0.99, "solved"),
            ("copy", "rnn", 40, 0, 3e-4, 0.5, 0.5, "budget-limited")]
    rows = table(tmp_path, grid, edge, search={"start": 10, "max": 40})
    assert rows == ["| copy | rnn | 0.001: longest solved 10 | 0.0003: longest solved 20 | **yes** |"]
