"""An interrupted run resumes from its last validation and ends bitwise where one attempt ends."""
import json

import pytest

from seqbench import resume
from seqbench.runner import execute
from seqbench.tasks import get_task

from conftest import TINY

# Validation (and so a saved state) every 4 steps; a logged chunk every 3, so the state at step 4
# carries a step whose loss is not logged yet; dropout, so the RNG must be restored too.
TRAIN = {**TINY["train"], "steps": 12, "eval_every": 4, "log_every": 3}


class Interrupted(Exception):
    """Stands in for the worker being killed."""


def config(model: str, **train):
    model_overrides = {**TINY["model"], "io_dropout": 0.2}
    return get_task("copy").resolve(model, 6, 0, {"train": {**TRAIN, **train}, "model": model_overrides})


def kill_at(step: int):
    def progress(at: int, loss: float) -> None:
        if at >= step:
            raise Interrupted
    return progress


def comparable(path) -> dict:
    """The run file less what may differ between two attempts (wall clock, CPU seconds, machine)."""
    data = json.loads(path.read_text())
    for key in ("timing", "provenance", "memory", "payload_sha256", "val_seconds"):
        data.pop(key, None)
    return data


@pytest.mark.parametrize("model", ["lstm", "transformer"])
def test_a_resumed_run_is_bitwise_the_uninterrupted_one(model, tmp_path):
    cfg = config(model)
    _, whole = execute(cfg, tmp_path / "whole")
    with pytest.raises(Interrupted):
        execute(cfg, tmp_path / "split", progress=kill_at(9))
    saved = resume.resume_path(tmp_path / "split", cfg.run_id)
    assert resume.load(saved).step == 8  # the last validation before the kill
    record, split = execute(cfg, tmp_path / "split")
    assert record.timing.resumed_at == [8]
    (first_began, first_saved), (second_began, second_ended) = record.timing.spans  # on the clock, to the second
    assert first_began <= first_saved <= second_began <= second_ended
    assert comparable(split) == comparable(whole)
    assert not saved.exists()  # the run file is written: nothing left to resume


def test_a_state_saved_between_validations_resumes_bitwise_too(tmp_path, monkeypatch):
    """With the time rule due at once, the state is saved at every logged chunk (steps 3, 6, 9) as
    well as at validations (5, 10). The kill comes in step 9's progress call, before its save, so
    the run goes on from step 6: a chunk's end, not a validation."""
    monkeypatch.setattr(resume, "SAVE_EVERY_S", 0.0)
    cfg = config("gru", eval_every=5)
    _, whole = execute(cfg, tmp_path / "whole")
    with pytest.raises(Interrupted):
        execute(cfg, tmp_path / "split", progress=kill_at(9))
    record, split = execute(cfg, tmp_path / "split")
    assert record.timing.resumed_at == [6]
    assert comparable(split) == comparable(whole)


def test_a_state_it_cannot_read_starts_the_run_over(tmp_path):
    cfg = config("gru")
    _, whole = execute(cfg, tmp_path / "whole")
    saved = resume.resume_path(tmp_path / "damaged", cfg.run_id)
    saved.parent.mkdir(parents=True)
    saved.write_bytes(b"not a torch file")
    with pytest.warns(UserWarning, match="cannot resume"):
        record, path = execute(cfg, tmp_path / "damaged")
    assert record.timing.resumed_at is None and record.timing.spans is None
    assert comparable(path) == comparable(whole)
