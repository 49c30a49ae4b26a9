"""The typed run record: every committed run file reads into a RunRecord and is written back byte for byte."""
import json
from pathlib import Path

import pytest

from seqbench.record import RunRecord, upgrade
from seqbench.store import run_file, to_json

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = sorted(ROOT.glob("results/*/runs/*.json"))


def test_there_are_committed_run_files_of_every_shape():
    assert len(COMMITTED) > 500
    runs = [RunRecord.from_dict(json.loads(p.read_text())) for p in COMMITTED]
    assert any(r.search for r in runs) and any(r.lr_selection for r in runs) and any(r.lm for r in runs)
    assert any(r.model_info.hf for r in runs) and any(r.config_absent for r in runs) and any(r.task.extra for r in runs)


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: f"{p.parent.parent.name}/{p.stem}")
def test_committed_run_files_round_trip_byte_for_byte(path):
    text = path.read_text()
    assert to_json(run_file(RunRecord.from_dict(json.loads(text)))) == text
