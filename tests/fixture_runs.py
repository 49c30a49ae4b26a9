"""Hand-made run records for report tests: known numbers, so CI half-widths can be checked by hand.

Besides the main protocol: adding/gru at a smaller step budget (another protocol: its own table),
and copy/rnn without clipping (an ablation variant: recipe.default false, its own section)."""
from seqbench.record import LrSelection, Memory, Params, Provenance, RunRecord, Search, TaskInfo, Timing
from seqbench.runner import metric_directions, recipe_block
from seqbench.store import write_run
from seqbench.tasks import get_task

# (task, model, length, seed, lr, val primary, test primary, status[, train overrides])
ROWS = [
    # copy/lstm at L=10: test accuracy 0.99, 1.00, 0.98 -> mean 0.99, sd 0.01, t(0.975, 2) = 4.3027
    # -> half-width 4.3027 * 0.01 / sqrt(3) = 0.02484
    ("copy", "lstm", 10, 0, 3e-3, 0.99, 0.99, "solved"),
    ("copy", "lstm", 10, 1, 3e-3, 0.99, 1.00, "solved"),
    ("copy", "lstm", 10, 2, 3e-3, 0.99, 0.98, "solved"),
    # a worse learning rate on validation, but better on test: selection must ignore test.
    ("copy", "lstm", 10, 0, 1e-2, 0.50, 1.00, "converged"),
    ("copy", "lstm", 20, 0, 3e-3, 0.995, 0.995, "solved"),
    ("copy", "lstm", 20, 1, 3e-3, 0.995, 0.993, "solved"),
    ("copy", "lstm", 40, 0, 3e-3, 0.60, 0.61, "converged"),
    ("copy", "lstm", 40, 1, 3e-3, 0.50, 0.52, "converged"),
    ("copy", "rnn", 10, 0, 3e-3, 0.999, 0.999, "solved"),
    ("copy", "rnn", 10, 1, 3e-3, 0.999, 0.995, "solved"),
    ("copy", "rnn", 20, 0, 3e-3, 0.3, 0.3, "converged"),
    ("copy", "rnn", 20, 1, 3e-3, None, None, "diverged"),
    ("copy", "rnn", 40, 0, 3e-3, 0.13, 0.12, "converged"),
    ("copy", "rnn", 40, 1, 3e-3, 0.13, 0.13, "converged"),
    # adding: lower is better.
    ("adding", "gru", 50, 0, 3e-3, 0.002, 0.002, "solved"),
    ("adding", "gru", 50, 1, 3e-3, 0.004, 0.004, "solved"),
    ("adding", "gru", 100, 0, 3e-3, 0.02, 0.03, "converged"),
    ("adding", "gru", 100, 1, 3e-3, 0.02, 0.01, "converged"),
    ("adding", "transformer", 50, 0, 3e-3, 0.17, 0.168, "converged"),
    ("adding", "transformer", 100, 0, 3e-3, 0.17, 0.166, "budget-limited"),
    # another protocol (a smaller step budget): never ranked with the rows above.
    ("adding", "gru", 50, 0, 3e-3, 0.05, 0.05, "budget-limited", {"steps": 500}),
    ("adding", "gru", 50, 1, 3e-3, 0.06, 0.06, "budget-limited", {"steps": 500}),
    # an ablation variant of the main protocol: copy/rnn without clipping.
    ("copy", "rnn", 10, 0, 3e-3, 0.5, 0.5, "converged", {"clip": None}),
    ("copy", "rnn", 10, 1, 3e-3, None, None, "diverged", {"clip": None}),
]


# Trivial strategies per task, as a run file of this version names them (chance first).
STRATEGIES = {"copy": {"memoryless": 0.55}, "adding": {"predict 1": 1 / 6}}


def record(task_name, model, length, seed, lr, val, test, status, train=None, model_cfg=None) -> RunRecord:
    task = get_task(task_name)
    cfg = task.resolve(model, length, seed, {"train": {"lr": lr, **(train or {})}, **({"model": model_cfg} if model_cfg else {})})
    metric = task.metric
    metrics = {} if val is None else {f"val/{metric}": val, f"test/{metric}": test}
    return RunRecord(
        run_id=cfg.run_id, status=status, config=cfg,
        task=TaskInfo(name=task_name, version=task.version, metric=metric, metrics=list(task.metrics),
                      higher_is_better=metric_directions(task.metrics), output=task.output, solved=task.solved,
                      seq_len=task.source.seq_len(length), test_examples=100, val_examples=50),
        recipe=recipe_block(task, cfg),
        metrics=metrics, by_slice=[], baseline=task.baseline(length),
        baselines={"chance": task.baseline(length),
                   **{name: {metric: v} for name, v in STRATEGIES.get(task_name, {}).items()}},
        solved_step=400 + 10 * length if status == "solved" else None,
        solved_s=4.0 + length / 10 if status == "solved" else None,
        params=Params(params={"lstm": 99836, "rnn": 100056, "gru": 99541, "transformer": 104641}[model]),
        steps=37 if status == "diverged" else 1000, diverged_at=37 if status == "diverged" else None,
        timing=Timing(train_time_s=10.0 + length / 10,
                      median_step_ms=1.0 + length / 20 * (2 if model != "transformer" else 1), eval_tokens_per_s=100000.0),
        memory=Memory(kind="cpu_allocator_step", peak_mb=300.0),
        provenance=Provenance(seqbench="0.1.0", git_commit="0123456789abcdef", git_dirty=False, torch="2.13.0+cpu",
                              python="3.11.7", device="cpu", device_name="test cpu", threads=1),
    )


def write_fixture_runs(results) -> list[RunRecord]:
    records = [record(*row) for row in ROWS]
    for r in records:
        write_run(results, r)
    return records


def fake_trainer_record(cfg, status: str, metrics: dict, task: dict, search: dict | None = None,
                        lr_selection: dict | None = None) -> RunRecord:
    """A minimal run record as a fake `runner.execute` writes it."""
    return RunRecord(run_id=cfg.run_id, status=status, config=cfg, metrics=metrics, task=TaskInfo.from_dict(task),
                     search=Search.optional(search), lr_selection=LrSelection.optional(lr_selection))


def searched_longest(frame):
    """decisions.longest of a hand-made frame of length-search probes (columns of report.frame.runs_frame:
    task, protocol, model, variant, lr, seed, length, status, search/*): the rate chosen by the rule,
    each chain's result, the row's median."""
    from seqbench.report.decisions import choose_rates, longest_solved, seed_results
    from seqbench.status import is_solved
    frame = frame.assign(solved=frame["status"].map(is_solved), run_id=[f"r{i}" for i in range(len(frame))])
    return longest_solved(frame, seed_results(frame, choose_rates(frame)))


def minimal_record(**blocks) -> RunRecord:
    """A run record holding only `blocks` (as run-file mappings) beside placeholders: for a reader of a few fields."""
    base = {"run_id": "r0", "status": "solved", "config": {"task": "copy", "length": 10, "seed": 0}, "task": {},
            "metrics": {}, "baseline": {}, "params": {}, "steps": 0, "timing": {}, "memory": {}, "provenance": {}}
    return RunRecord.from_dict({**base, **blocks})
