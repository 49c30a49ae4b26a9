"""`seqbench gradflow`: gradient norm against distance from the loss, at initialisation and after training.

    seqbench gradflow --task adding --model rnn,lstm --length 50 100 --steps 800 --threads 1
    seqbench gradflow --task copy --model transformer --init-only

Writes <results>/measure/gradflow-<task>-<model>-L<length>-s<seed>.json, atomically, with provenance.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from .base import COMMANDS, Command, add_results_arg, add_training_args, split_names, training_overrides


def configure(p: argparse.ArgumentParser) -> None:
    p.epilog = ("Profiles ‖∂L/∂h_t‖ against the distance from the loss at initialisation and after "
                "training (a full run, whose run file is reused when present). "
                "Config overrides as in 'run': --train.clip=off --model.init=identity")
    p.add_argument("--task", required=True)
    p.add_argument("--model", default="", help="comma-separated models (default: all)")
    p.add_argument("--length", type=int, nargs="+", help="one or more lengths (default: the task's first)")
    add_training_args(p)
    p.add_argument("--init-only", action="store_true", help="profile the untrained model only (no training)")
    add_results_arg(p)


def _fmt(block: dict | None, key: str, spec: str) -> str:
    value = (block or {}).get(key)
    return format(value, spec) if value is not None else "-"


def run(args: argparse.Namespace, overrides: list[str]) -> int:
    import torch

    from ..measure.gradflow import profile, profile_batch
    from ..models import MODELS
    from ..models.model import build_model
    from ..provenance import provenance
    from ..runner import execute, resolve_device
    from ..store import CorruptRun, check_writable, read_run, run_path, write_json_atomic
    from ..tasks import derive_seed, get_task

    task = get_task(args.task)
    models = split_names(args.model) or MODELS.names()
    nested = training_overrides(args, overrides)
    lengths = args.length or [task.lengths[0]]
    configs = [task.resolve(m, length, args.seed, {k: dict(v) for k, v in nested.items()})
               for m in models for length in lengths]  # every name and length checked up front
    check_writable(args.results)
    print(f"{'model':12s} {'length':>6s} {'slope init':>11s} {'slope final':>11s} {'far/near init':>13s} {'far/near final':>14s}")
    for cfg in configs:
        device = resolve_device(cfg.train.device)
        if cfg.train.threads:
            torch.set_num_threads(cfg.train.threads)
        if args.init_only:
            model = build_model(cfg.model, task, seed=derive_seed("init", cfg.seed)).to(device)
            batch = profile_batch(task, cfg.length, cfg.seed, device, cfg.train.val_examples)
            blocks, run_id = {"init": profile(model, batch, task.output), "final": None}, None
        else:
            record = None
            path = run_path(args.results, cfg.run_id)
            if path.exists():
                try:
                    record = read_run(path)
                except CorruptRun:
                    record = None
            if record is None or record.gradflow is None:
                record, _ = execute(cfg, args.results)
            blocks, run_id = {"init": record.gradflow.init, "final": record.gradflow.final}, record.run_id
        out = Path(args.results) / "measure" / f"gradflow-{cfg.task}-{cfg.model.name}-L{cfg.length}-s{cfg.seed}.json"
        write_json_atomic(out, {"kind": "gradflow", "run_id": run_id, "config": cfg.to_dict(),
                                "task": cfg.task, "model": cfg.model.name, "length": cfg.length,
                                "seed": cfg.seed, **blocks, "provenance": provenance(device)})
        init, final = blocks["init"], blocks["final"]
        print(f"{cfg.model.name:12s} {cfg.length:6d} {_fmt(init, 'slope', '11.4f')} {_fmt(final, 'slope', '11.4f')} "
              f"{_fmt(init, 'far_near_ratio', '13.3g')} {_fmt(final, 'far_near_ratio', '14.3g')}")
    print(f"profiles -> {Path(args.results) / 'measure'}")
    return 0


COMMANDS.register("gradflow", Command(configure, run, "gradient norm against distance, at init and after training",
                                      takes_overrides=True))
