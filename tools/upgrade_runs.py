"""Upgrade run files written before the runner recorded what the report needs.

    python tools/upgrade_runs.py results/archive [more results directories]

Since issue 17 the report reads only run files: each finished run's file carries its metrics'
directions (`task.higher_is_better`) and whether it used its task's default recipe
(`recipe.default`). Older files lack both; this adds them, computed from today's metrics and task
YAMLs exactly as the runner now does, and rewrites each file atomically with its content hash
recomputed (store.write_run). Files that already have the fields are left untouched, so it can be
run twice.

It lives here, not in seqbench/store.py, because it needs today's tasks (and through them the
models), while the store is the bottom layer that nothing below the runner may pull upwards; and
it is a one-off for old files, not something a run or a report ever calls.
"""
from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

from seqbench.record import RunRecord
from seqbench.runner import metric_directions, recipe_block
from seqbench.store import rewrite_runs
from seqbench.tasks import get_task


def upgrade_record(record: RunRecord) -> RunRecord | None:
    """The record with the missing fields added, or None when it needs nothing (or is a run that
    failed before training, which has no metric to give a direction to)."""
    task = record.task
    has_default = record.recipe is not None and record.recipe.default is not None
    if task.metric is None or (task.higher_is_better is not None and has_default):
        return None
    return record.replace(task=dataclasses.replace(task, higher_is_better=metric_directions(task.metrics)),
                          recipe=recipe_block(get_task(record.config.task), record.config))


def upgrade_results(results: Path) -> tuple[int, list[str]]:
    """(files rewritten, messages for files that could not be read)."""
    return rewrite_runs(results, upgrade_record)


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    for results in argv:
        rewritten, problems = upgrade_results(Path(results))
        print(f"{results}: {rewritten} run files upgraded")
        for message in problems:
            print(f"  skipped {message}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
