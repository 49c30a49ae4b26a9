"""Hand-made run records for report tests: known numbers, so CI half-widths can be checked by hand."""
from seqbench.runner import metric_directions, recipe_block
from seqbench.store import write_run
from seqbench.tasks import get_task

# (task, model, length, seed, lr, val primary, test primary, status)
ROWS = [
    # copy/lstm at L=10: test accuracy 0.99, 1.00, 0.98 -> mean 0.99, sd 0.01, t(0.975, 2) = 4.3027
    # -> half-width 4.3027 * 0.01 / sqrt(3) = 0.02484
    ("copy", "lstm", 10, 0, 3e-3, 0.99, 0.99, "ok"),
    ("copy", "lstm", 10, 1, 3e-3, 0.99, 1.00, "ok"),
    ("copy", "lstm", 10, 2, 3e-3, 0.99, 0.98, "ok"),
    # a worse learning rate on validation, but better on test: selection must ignore test.
    ("copy", "lstm", 10, 0, 1e-2, 0.50, 1.00, "ok"),
    ("copy", "lstm", 20, 0, 3e-3, 0.995, 0.995, "ok"),
    ("copy", "lstm", 20, 1, 3e-3, 0.995, 0.993, "ok"),
    ("copy", "lstm", 40, 0, 3e-3, 0.60, 0.61, "ok"),
    ("copy", "lstm", 40, 1, 3e-3, 0.50, 0.52, "ok"),
    ("copy", "rnn", 10, 0, 3e-3, 0.999, 0.999, "ok"),
    ("copy", "rnn", 10, 1, 3e-3, 0.999, 0.995, "ok"),
    ("copy", "rnn", 20, 0, 3e-3, 0.3, 0.3, "ok"),
    ("copy", "rnn", 20, 1, 3e-3, None, None, "diverged"),
    ("copy", "rnn", 40, 0, 3e-3, 0.13, 0.12, "ok"),
    ("copy", "rnn", 40, 1, 3e-3, 0.13, 0.13, "ok"),
    # adding: lower is better.
    ("adding", "gru", 50, 0, 3e-3, 0.002, 0.002, "ok"),
    ("adding", "gru", 50, 1, 3e-3, 0.004, 0.004, "ok"),
    ("adding", "gru", 100, 0, 3e-3, 0.02, 0.03, "ok"),
    ("adding", "gru", 100, 1, 3e-3, 0.02, 0.01, "ok"),
    ("adding", "transformer", 50, 0, 3e-3, 0.17, 0.168, "ok"),
    ("adding", "transformer", 100, 0, 3e-3, 0.17, 0.166, "ok"),
]


def record(task_name, model, length, seed, lr, val, test, status) -> dict:
    task = get_task(task_name)
    cfg = task.resolve(model, length, seed, {"train": {"lr": lr}})
    metric = task.metric
    metrics = {} if val is None else {f"val/{metric}": val, f"test/{metric}": test}
    return {
        "run_id": cfg.run_id, "status": status, "config": cfg.to_dict(),
        "task": {"name": task_name, "version": task.version, "metric": metric, "metrics": list(task.metrics),
                 "higher_is_better": metric_directions(task.metrics), "output": task.output, "solved": task.solved,
                 "seq_len": task.source.seq_len(length),
                 "test_examples": 100, "val_examples": 50},
        "recipe": recipe_block(task, cfg),
        "metrics": metrics, "by_slice": [], "baseline": task.baseline(length),
        "params": {"params": {"lstm": 99836, "rnn": 100056, "gru": 99541, "transformer": 104641}[model]},
        "steps": 1000 if status == "ok" else 37, "diverged_at": None if status == "ok" else 37,
        "timing": {"train_time_s": 10.0 + length / 10, "median_step_ms": 1.0 + length / 20 * (2 if model != "transformer" else 1),
                   "eval_tokens_per_s": 100000.0},
        "memory": {"peak_mb": 300.0},
        "provenance": {"seqbench": "0.1.0", "git_commit": "0123456789abcdef", "git_dirty": False, "torch": "2.13.0+cpu",
                       "python": "3.11.7", "device": "cpu", "device_name": "test cpu", "threads": 1},
    }


def write_fixture_runs(results) -> list[dict]:
    records = [record(*row) for row in ROWS]
    for r in records:
        write_run(results, r)
    return records
