"""Where an interrupted run picks up: the state `fit` leaves at each validation (and every few minutes).

A sweep worker that dies (its session ends, the machine is taken back) loses the run it was
training, and the longest probes of a standard suite take hours of CPU. So at each validation, and
at the end of a logged chunk once `SAVE_EVERY_S` have passed, `fit` writes what it needs to go on
to `runs/<run_id>.resume.pt`, atomically, and the next attempt at the same run id (the config hash)
starts from there instead of from step 0; the runner deletes the file once the run file is written.
The batch stream is a function of the run's seed, so it is replayed up to the saved step, and the
RNG, optimiser, schedule, curves and best weights are restored: on the same CPU, a resumed run is
bitwise the run an uninterrupted attempt makes (tests/test_resume.py).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import torch

from .atomic import write_atomic

SUFFIX = ".resume.pt"
# Also save at the end of a logged chunk once this long has passed since the last save: on the
# longest probes (the Transformer on adding at 1,024, 3-4 s a step) validations are 30 minutes apart.
SAVE_EVERY_S = 300.0


def due(step: int, cfg, since_save_s: float) -> bool:
    """Whether `fit` saves its state after `step` (`cfg`: the run's TrainConfig)."""
    return step % cfg.eval_every == 0 or (step % cfg.log_every == 0 and since_save_s >= SAVE_EVERY_S)


def resume_path(results: Path, run_id: str) -> Path:
    return Path(results) / "runs" / f"{run_id}{SUFFIX}"


@dataclass
class FitState:
    """Everything the training loop carries from one step to the next, as saved at a validation step
    or at a logged chunk's end (`due`)."""
    step: int  # the last optimiser step taken
    model: dict
    optimizer: dict
    scheduler: dict
    result: dict  # FitResult's fields so far (curves, norms, best step)
    best_score: float | None
    best_state: dict | None
    pending_losses: list  # per-step tensors since the last logged chunk (a validation need not end one)
    pending_norms: list
    chunk_ms: list
    train_s: float  # training seconds before the interruption (validation included, as train_time_s)
    cpu_s: float
    rng: torch.Tensor  # torch's CPU generator (dropout); the batch stream has its own seeded generator
    cuda_rng: torch.Tensor | None  # the current CUDA device's generator, on a GPU run


def rng_state(device: torch.device) -> dict:
    cuda = torch.cuda.get_rng_state(device) if device.type == "cuda" else None
    return {"rng": torch.get_rng_state(), "cuda_rng": cuda}


def restore_rng(state: FitState, device: torch.device) -> None:
    torch.set_rng_state(state.rng)
    if state.cuda_rng is not None and device.type == "cuda":
        torch.cuda.set_rng_state(state.cuda_rng, device)


def save(path: Path, state: FitState) -> None:
    """Write `state` atomically: a worker killed mid-write leaves the previous file intact."""
    write_atomic(path, lambda handle: torch.save(vars(state), handle))


def load(path: Path) -> FitState | None:
    """The state saved at `path`, or None where there is none to trust (then the run starts over,
    which is always correct, only slower). The file is named by the run id, the config's hash."""
    if not path.is_file():
        return None
    try:
        state = FitState(**torch.load(path, map_location="cpu", weights_only=True))
    except Exception as exc:  # an older layout or a damaged file: not worth failing the run for
        warnings.warn(f"{path.name}: cannot resume from it ({exc}); training from step 0", stacklevel=2)
        return None
    return state


def discard(path: Path | None) -> None:
    if path is not None:
        path.unlink(missing_ok=True)
