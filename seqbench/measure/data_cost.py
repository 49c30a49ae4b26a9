"""What data costs: synthetic batch generation as a share of a training step, and each real
dataset's first load (read, tokenise, write the cache) against a load from the cache."""
from __future__ import annotations

import os
import tempfile
import time

from ..errors import UserError
from ..models.model import build_model
from ..tasks import get_task
from .harness import bare_step_seconds, sync


def data_share(pairs=(("lstm", "adding", 100), ("lstm", "copy", 50), ("lstm", "recall", 64)), steps: int = 100,
               device="cpu") -> list[dict]:
    """Per (model, task, length): ms to generate a batch, ms of a bare training step, and their ratio."""
    rows = []
    for model_name, task_name, length in pairs:
        task = get_task(task_name)
        run = task.resolve(model_name, length, 0, {})
        stream = task.train_batches(length, 0, run.train.batch_size, device)
        start = time.perf_counter()
        for _ in range(steps):
            next(stream)
        sync(device)
        gen = (time.perf_counter() - start) / steps
        model = build_model(run.model, task, seed=0).to(device)
        step = bare_step_seconds(model, task.train_batches(length, 0, run.train.batch_size, device), run.train,
                                 steps, device)
        rows.append({"task": task_name, "length": length, "model": model_name, "data_ms": 1000 * gen,
                     "step_ms": 1000 * step, "share": gen / step})
    return rows


def real_data_loads(names=("sst2", "imdb", "conll2003")) -> list[dict]:
    """Each real dataset's first load against a load from the cache, both into a fresh cache
    directory (the user's cache is left alone). A dataset without data is listed as skipped."""
    from ..data import real

    rows = []
    previous = os.environ.get("SEQBENCH_CACHE")
    for name in names:
        task = get_task(name)
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["SEQBENCH_CACHE"] = tmp
            try:
                loads = []
                for _ in range(2):
                    real.forget_loaded()
                    loads.append(task.source.loaded)
            except UserError as exc:
                rows.append({"task": name, "skipped": str(exc)})
                continue
            finally:
                real.forget_loaded()
                if previous is None:
                    os.environ.pop("SEQBENCH_CACHE", None)
                else:
                    os.environ["SEQBENCH_CACHE"] = previous
        first, cached = loads
        rows.append({"task": name, "first_s": first.load_seconds, "cached_s": cached.load_seconds,
                     "second_from_cache": cached.from_cache, "speedup": first.load_seconds / cached.load_seconds})
    return rows
