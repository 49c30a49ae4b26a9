"""Beside each seed-0 run beyond an end of the standard v1 grid, the standard runs it extends.

    python tools/grid_edges.py [results/standard-v1] [results/grid-edges]

`make grid-edges` sweeps tasks/suites/grid-edges/*.yaml (one seed-0 run per row whose learning rate
sits at an end of the standard grid: the leaderboard's ‡) and prints this table: validation (which
chooses) and test, at every standard rate and at the rate beyond. A row whose rate beyond scores
better on validation says the grid cut that model short. The grid-edge runs stay out of the
standard leaderboard: widening its grid is a new protocol version. The grid-edge suites extend v1's
grid (every other setting as in tasks/suites/standard.yaml), so the default reads v1, frozen in
results/standard-v1: results/standard holds v2, whose wider grids run some of these very configs.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from seqbench.record import RunRecord
from seqbench.report.decisions import chain_result, chosen_runs, decide, row_search
from seqbench.search import SearchResult
from seqbench.store import load_runs


def key(record: RunRecord) -> tuple:
    return record.config.task, record.config.model.name


def search_result(frame: pd.DataFrame, records: list[RunRecord]) -> tuple[SearchResult, int]:
    """A seed-0 chain's result, as the leaderboard reads it (decisions.chain_result), and its start;
    `frame`: the runs as report/decisions.py reads them."""
    rows = frame[frame["run_id"].isin({r.run_id for r in records})]
    search = row_search(rows)
    return chain_result(rows, search), search.start


def score(frame: pd.DataFrame, records: list[RunRecord], searched: bool) -> float:
    """What the sweep chooses by (selection.py): validation, higher better; for a search, the longest solved length."""
    if searched:
        return float(search_result(frame, records)[0].longest or 0)
    (r,) = records
    return r.val_score if r.higher_is_better else -r.val_score


def describe(frame: pd.DataFrame, lr: float, records: list[RunRecord], searched: bool) -> str:
    """'0.01: val 0.798, test 0.802, converged' or, for a search, '0.01: longest solved 16' (the leaderboard's label)."""
    if searched:
        result, start = search_result(frame, records)
        return f"{lr:g}: longest solved {result.label(start)}"
    (r,) = records
    return f"{lr:g}: val {r.val_score:.4f}, test {r.test_score:.4f}, {r.status}"


def by_lr(records: list[RunRecord]) -> dict[float, list[RunRecord]]:
    out: dict = {}
    for r in records:
        out.setdefault(r.config.train.lr, []).append(r)
    return out


def main(standard: Path, edges: Path) -> None:
    ours, _ = load_runs(standard)
    beyond, _ = load_runs(edges)
    decisions = decide(ours)
    frame = pd.concat([decisions.frame, decide(beyond).frame], ignore_index=True)
    chosen_lr = {(r.task, r.model): r.lr for r in chosen_runs(decisions.frame).itertuples()}
    print("| task | model | chosen on validation (seed 0) | beyond the grid (seed 0) | better on validation beyond? |\n"
          "| --- | --- | --- | --- | --- |")
    for task_model in sorted({key(r) for r in beyond}):
        grid = by_lr([r for r in ours if key(r) == task_model and r.config.seed == 0])
        far = by_lr([r for r in beyond if key(r) == task_model])
        searched = any(r.search for rs in far.values() for r in rs)  # probes of a length search
        chosen = chosen_lr[task_model]  # the leaderboard's choice (selection.choose_lr, ties included)
        best_far = max(far, key=lambda lr: score(frame, far[lr], searched))
        gain = score(frame, far[best_far], searched) - score(frame, grid[chosen], searched)
        verdict = (f"**yes** ({gain:+.4g})" if gain > 0 else f"no ({gain:+.4g})") if not searched else \
            ("**yes**" if gain > 0 else "no")
        print(f"| {task_model[0]} | {task_model[1]} | {describe(frame, chosen, grid[chosen], searched)} | "
              f"{describe(frame, best_far, far[best_far], searched)} | {verdict} |")


if __name__ == "__main__":
    args = sys.argv[1:]
    main(Path(args[0] if args else "results/standard-v1"), Path(args[1] if len(args) > 1 else "results/grid-edges"))
