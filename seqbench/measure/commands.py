"""`seqbench gradflow` and `seqbench speed`: the measurement commands.

    seqbench gradflow --task adding --model rnn,lstm --length 50 100 --steps 800 --threads 1
    seqbench gradflow --task copy --model transformer --init-only
    seqbench speed --max-length 1024 --threads 1
    seqbench speed --lengths 64 256 1024 --models rnn,transformer

Results go to <results>/measure/ (gradflow-<task>-<model>-L<length>-s<seed>.json,
speed-<device>.json), written atomically, with provenance.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from ..cli import COMMANDS, Command, add_results_arg, add_training_args, training_overrides
from ..errors import UserError


def _names(text: str | None) -> list[str]:
    return [n.strip() for n in (text or "").split(",") if n.strip()]


# ---------------------------------------------------------------- gradflow

def configure_gradflow(p: argparse.ArgumentParser) -> None:
    p.epilog = ("Profiles ‖∂L/∂h_t‖ against the distance from the loss at initialisation and after "
                "training (a full run, whose run file is reused when present). "
                "Config overrides as in 'run': --train.clip=off --model.init=identity")
    p.add_argument("--task", required=True)
    p.add_argument("--model", default="", help="comma-separated models (default: all)")
    p.add_argument("--length", type=int, nargs="+", help="one or more lengths (default: the task's first)")
    add_training_args(p)
    p.add_argument("--init-only", action="store_true", help="profile the untrained model only (no training)")
    add_results_arg(p)


def run_gradflow(args, overrides: list[str]) -> int:
    import torch

    from ..models import MODELS
    from ..models.model import build_model
    from ..provenance import provenance
    from ..runner import execute, resolve_device
    from ..store import CorruptRun, check_writable, read_run, run_path, write_json_atomic
    from ..tasks import derive_seed, get_task
    from .gradflow import profile, profile_batch

    task = get_task(args.task)
    models = _names(args.model) or MODELS.names()
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
            if record is None or "gradflow" not in record:
                record, _ = execute(cfg, args.results)
            blocks, run_id = record["gradflow"], record["run_id"]
        out = Path(args.results) / "measure" / f"gradflow-{cfg.task}-{cfg.model.name}-L{cfg.length}-s{cfg.seed}.json"
        write_json_atomic(out, {"kind": "gradflow", "run_id": run_id, "config": cfg.to_dict(),
                                "task": cfg.task, "model": cfg.model.name, "length": cfg.length,
                                "seed": cfg.seed, **blocks, "provenance": provenance(device)})

        def fmt(block, key, spec):
            value = (block or {}).get(key)
            return format(value, spec) if value is not None else "-"

        init, final = blocks["init"], blocks["final"]
        print(f"{cfg.model.name:12s} {cfg.length:6d} {fmt(init, 'slope', '11.4f')} {fmt(final, 'slope', '11.4f')} "
              f"{fmt(init, 'far_near_ratio', '13.3g')} {fmt(final, 'far_near_ratio', '14.3g')}")
    print(f"profiles -> {Path(args.results) / 'measure'}")
    return 0


# ---------------------------------------------------------------- speed

def configure_speed(p: argparse.ArgumentParser) -> None:
    from .speed import SpeedConfig

    d = SpeedConfig()
    p.epilog = "Times forward and forward+backward against T; writes <results>/measure/speed-<device>.json."
    p.add_argument("--models", default="", help="comma-separated models (default: all)")
    p.add_argument("--task", default=d.task, help=f"task whose inputs and head are used (default: {d.task})")
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--params", type=int, default=d.params, help="parameter budget (default: %(default)s)")
    p.add_argument("--lengths", type=int, nargs="+", help="explicit sequence lengths T (default: 16, 32, ... max-length)")
    p.add_argument("--max-length", type=int, default=d.max_length)
    p.add_argument("--threads", type=int, default=d.threads, help="threads for the length grid (default: 1)")
    p.add_argument("--scale-threads", type=int, default=d.scale_threads,
                   help="threads compared with 1 for the speed-up (default: all cores; 1 turns it off)")
    p.add_argument("--scale-length", type=int, default=d.scale_length)
    p.add_argument("--time-limit", type=float, default=d.time_limit_s,
                   help="stop growing T once a training step takes longer (seconds)")
    p.add_argument("--memory-limit-gb", type=float, default=d.memory_limit_gb)
    p.add_argument("--min-run-time", type=float, default=d.min_run_time, help="seconds of timing per point")
    p.add_argument("--device", default=d.device)
    add_results_arg(p)


def run_speed(args) -> int:
    from ..models import MODELS
    from ..store import write_json_atomic
    from ..tasks import get_task
    from .speed import SpeedConfig, measure

    get_task(args.task)
    models = _names(args.models)
    for name in models:
        MODELS.get(name)
    lengths = tuple(args.lengths or ())
    if any(t <= 0 for t in lengths) or args.max_length < 16 and not lengths:
        raise UserError("lengths must be positive, and --max-length at least 16")
    for key in ("batch_size", "threads", "params"):
        if getattr(args, key) <= 0:
            raise UserError(f"--{key.replace('_', '-')} must be positive")
    cfg = SpeedConfig(task=args.task, models=tuple(models), batch_size=args.batch_size, params=args.params,
                      lengths=lengths, max_length=args.max_length, threads=args.threads,
                      scale_threads=args.scale_threads, scale_length=args.scale_length,
                      time_limit_s=args.time_limit, memory_limit_gb=args.memory_limit_gb,
                      min_run_time=args.min_run_time, device=args.device)
    result = measure(cfg)
    out = Path(args.results) / "measure" / f"speed-{result['device'].split(':')[0]}.json"
    write_json_atomic(out, result)
    print(f"{'model':12s} {'exp fwd':>8s} {'exp train':>9s} {'speed-up':>9s} {'MFU train (max)':>16s}  stopped")
    for name, m in result["models"].items():
        scaling = m["thread_scaling"]
        mfu = max((p["mfu_train"] for p in m["points"]), default=float("nan"))
        exp = m["exponent"]
        print(f"{name:12s} {exp['forward'] or float('nan'):8.2f} {exp['train'] or float('nan'):9.2f} "
              f"{scaling['speedup'] if scaling else float('nan'):9.2f} {mfu:16.3f}  {m['stopped'] or '-'}")
    print(f"-> {out}")
    return 0


COMMANDS.register("gradflow", Command(configure_gradflow, run_gradflow,
                                      "gradient norm against distance, at init and after training",
                                      takes_overrides=True))
COMMANDS.register("speed", Command(configure_speed, run_speed,
                                   "forward / backward time, memory and FLOP/s against sequence length"))
