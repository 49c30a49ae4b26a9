"""Add the state block to run files written before the runner measured what a model carries.

    python tools/add_state.py results/standard [more results directories]

Since standard v2 every run file has a `state` block (measure/state_size.py): the bytes the model
carries from one position to the next, measured by running it on the run's first validation
sequence. v2 reuses v1's run files wherever the config is unchanged, and those predate the probe, so
their rows had no state in the tables. This rebuilds each such run's model from its config
(untrained: what it carries depends on its shapes, not its weights), runs the same probe on the
same validation sequence (runner.validation_batches, runner.state_block), and rewrites the file
atomically with its content hash recomputed (store.write_run). The block's note says it was added
afterwards. Files that have a block, and runs that failed before they had a model, are left
untouched, so it can be run twice. Real tasks read their data (SEQBENCH_DATA), as a run does.

Like upgrade_runs.py it lives here: it needs the models and tasks, which the store below them may
not pull upwards, and it is a one-off for old files, not something a run or a report calls.
results/standard-v1 is v1 as committed and citable: do not run this on it.
"""
from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import torch

from seqbench.models.model import build_model
from seqbench.record import RunRecord
from seqbench.runner import state_block, validation_batches
from seqbench.store import rewrite_runs
from seqbench.tasks import derive_seed, task_of

NOTE = "added afterwards by tools/add_state.py: the run's model rebuilt from its config, untrained (the bytes depend on its shapes only)"


def measured_state(record: RunRecord):
    """The state block the runner would have written for this run (runner.py builds the model the same way)."""
    cfg, device = record.config, torch.device("cpu")
    task = task_of(cfg)
    model = build_model(cfg.model, task, seed=derive_seed("init", cfg.seed)).to(device)
    block = state_block(model, validation_batches(task, cfg, device))
    note = f"{block.note}; {NOTE}" if block.note else NOTE
    return dataclasses.replace(block, note=note)


def add_state(record: RunRecord) -> RunRecord | None:
    """The record with its state block, or None when it has one (or never built a model)."""
    if record.state is not None or record.params is None:
        return None
    return record.replace(state=measured_state(record))


def add_state_to_results(results: Path) -> tuple[int, list[str]]:
    """(files rewritten, messages for files that could not be read)."""
    return rewrite_runs(results, add_state)


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    for results in argv:
        if Path(results).name == "standard-v1":
            print(f"{results}: v1 as committed is left as it is (see this tool's docstring)", file=sys.stderr)
            return 2
        rewritten, problems = add_state_to_results(Path(results))
        print(f"{results}: state added to {rewritten} run files")
        for message in problems:
            print(f"  skipped {message}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
