"""`seqbench speed`: forward / backward time, memory and FLOP/s against sequence length.

    seqbench speed --max-length 1024 --threads 1
    seqbench speed --lengths 64 256 1024 --models rnn,transformer

Writes <results>/measure/speed-<device>.json, atomically, with provenance.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import UserError
from ..measure.speed import SpeedConfig
from .base import COMMANDS, Command, add_results_arg, split_names


def configure(p: argparse.ArgumentParser) -> None:
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
    p.add_argument("--keep-existing", action="store_true",
                   help="do nothing when <results>/measure/speed-<device>.json exists (`make standard` on a finished leaderboard)")
    add_results_arg(p)


def run(args: argparse.Namespace) -> int:
    from ..measure.speed import measure
    from ..models import MODELS
    from ..runner import resolve_device
    from ..store import write_json_atomic
    from ..tasks import get_task

    get_task(args.task)
    models = split_names(args.models)
    for name in models:
        MODELS.get(name)
    lengths = tuple(args.lengths or ())
    if any(t <= 0 for t in lengths) or args.max_length < 16 and not lengths:
        raise UserError("lengths must be positive, and --max-length at least 16")
    for key in ("batch_size", "threads", "params"):
        if getattr(args, key) <= 0:
            raise UserError(f"--{key.replace('_', '-')} must be positive")
    device = resolve_device(args.device)  # a bad or absent device is one clear error, before any timing
    existing = Path(args.results) / "measure" / f"speed-{device.type}.json"
    if args.keep_existing and existing.exists():
        print(f"{existing} exists: kept (run without --keep-existing to measure again)")
        return 0
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
        mfu = max((p["mfu_train"] for p in m["points"] if p["mfu_train"] is not None), default=float("nan"))
        exp = m["exponent"]
        shown = f"{name} (reference scan)" if m.get("kernel") == "reference" else name
        print(f"{shown:12s} {exp['forward'] or float('nan'):8.2f} {exp['train'] or float('nan'):9.2f} "
              f"{scaling['speedup'] if scaling else float('nan'):9.2f} {mfu:16.3f}  {m['stopped'] or '-'}")
    print(f"-> {out}")
    return 0


COMMANDS.register("speed", Command(configure, run, "forward / backward time, memory and FLOP/s against sequence length"))
