"""Sweep throughput (`seqbench perf`): the local executor's default workers x threads against the
same runs one after another with all threads, on the quick suite's recurrent synthetic runs. It
times whole sweeps, so it lives with the sweep."""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from ..config import TrainConfig
from ..data.source import SampledSource
from ..models import MODELS
from ..store import load_runs
from ..tasks import get_task
from .run import sweep


def throughput_suite(quick_suite: Path, step_scale: float = 1.0) -> dict:
    """The quick suite's recurrent runs on its synthetic tasks, at each task's middle length and
    one seed: the runs the throughput goal is about, made on the device, so no data is needed."""
    import yaml

    quick = yaml.safe_load(Path(quick_suite).read_text())
    tasks = {}
    for name, settings in quick["tasks"].items():
        if not isinstance(get_task(name).source, SampledSource):
            continue  # real data: needs a data directory, and is not what the goal is about
        lengths = settings.get("lengths") or list(get_task(name).lengths)
        if isinstance(lengths, dict):  # a length search: time its first probe, the one every chain runs
            lengths = [lengths["search"]["start"]]
        train = dict(settings.get("train", {}))
        train["steps"] = max(10, int(train.get("steps", TrainConfig.steps) * step_scale))
        train["early_stop"] = False  # a throughput measurement runs the steps it names
        tasks[name] = {**{k: v for k, v in settings.items() if k != "seeds"}, "lengths": [lengths[len(lengths) // 2]], "train": train}
    models = [m for m in quick["models"] if MODELS.meta(m).get("family") == "recurrent"]
    return {**quick, "name": "perf-throughput", "seeds": [0], "models": models, "tasks": tasks}


def sweep_throughput(quick_suite: Path, workers: int, threads: int,
                     step_scale: float = 1.0, repeats: int = 2) -> dict:
    """`workers` x `threads` (the sweep's default) against one worker with all threads, on the same runs.

    Each sweep is timed end to end (start-up included), as a user would see it. The modes run in
    ABBA order (parallel, serial, serial, parallel, ...) so that a drift in the machine's speed
    during the measurement hits both alike."""
    import yaml

    cores = os.cpu_count() or 1
    suite = throughput_suite(quick_suite, step_scale)
    modes = {"parallel": (workers, threads), "serial": (1, cores)}
    out = {"workers": workers, "threads": threads, "cores": cores, "suite": suite, "repeats": repeats}
    order = [label for i in range(repeats) for label in (("parallel", "serial") if i % 2 == 0 else ("serial", "parallel"))]
    totals = {label: {"workers": w, "threads": t, "runs": 0, "seconds": 0.0, "sweeps_s": [], "train_s_by_model": {}}
              for label, (w, t) in modes.items()}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "suite.yaml"
        path.write_text(yaml.safe_dump(suite))
        for i, label in enumerate(order):
            w, t = modes[label]
            start = time.perf_counter()
            summary = sweep(path, Path(tmp) / f"{label}-{i}", workers=w, threads=t)
            seconds = time.perf_counter() - start
            total = totals[label]
            total["runs"] += summary["todo"]
            total["seconds"] += seconds
            total["sweeps_s"].append(seconds)
            for r in load_runs(Path(tmp) / f"{label}-{i}")[0]:
                model = r.config.model.name
                total["train_s_by_model"][model] = total["train_s_by_model"].get(model, 0.0) + r.timing.train_time_s
    for label, total in totals.items():
        total["runs_per_hour"] = 3600 * total["runs"] / total["seconds"]
        total["train_s_by_model"] = dict(sorted(total["train_s_by_model"].items()))
        out[label] = total
    out["ratio"] = out["parallel"]["runs_per_hour"] / out["serial"]["runs_per_hour"]
    # Per model: training seconds with all threads over those of one thread, times the workers
    # sharing the cores: above 1, parallel runs beat threads for that model.
    out["ratio_by_model"] = {m: workers * out["serial"]["train_s_by_model"][m] / s
                             for m, s in out["parallel"]["train_s_by_model"].items()}
    return out
