"""The typed run record: every committed run file reads into a RunRecord and is written back byte for byte."""
import json
import re
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


def test_legacy_statuses_upgrade_to_todays_names():
    from fixture_runs import minimal_record
    task = {"metric": "accuracy", "higher_is_better": {"accuracy": True}, "solved": 0.99}
    assert minimal_record(status="failed").status == "error"
    assert minimal_record(status="ok", task=task, val_curve=[[1, 0.3], [2, 0.995], [3, 0.996]]).status == "solved"
    assert minimal_record(status="ok", task=task, val_curve=[[1, 0.3], [2, 0.5]]).status == "budget-limited"
    assert upgrade({"status": "diverged"}) == {"status": "diverged"}


def test_a_failure_record_round_trips_and_a_rewrite_loses_unknown_keys_not():
    from fixture_runs import minimal_record
    run = minimal_record(error="boom", future_block={"x": 1}, task={"name": "copy", "newer_field": 2})
    assert run.failed is False and run.error == "boom" and run.extra == {"future_block": {"x": 1}}
    back = RunRecord.from_dict(run.to_dict())
    assert back == run and back.to_dict()["future_block"] == {"x": 1} and back.task.extra == {"newer_field": 2}


def test_the_axis_is_the_length_unless_a_task_parameter_was_searched():
    from fixture_runs import minimal_record
    assert minimal_record().axis == ("length", 10)
    assert minimal_record(search={"chain": "c", "start": 8, "max": 64}).axis == ("length", 10)  # a length search
    pairs = {"task": "recall_mqar", "length": 16, "seed": 0, "task_params": {"n_pairs": 8}}
    assert minimal_record(config=pairs).axis == ("length", 16)  # a fixed pair count: the length is the axis
    assert minimal_record(config=pairs, search={"chain": "c", "start": 4, "max": 32, "param": "n_pairs"}).axis == ("n_pairs", 8)


def test_a_file_that_is_not_a_record_is_refused_with_its_reason():
    from seqbench.record import RecordError
    with pytest.raises(RecordError, match="missing fields memory"):
        RunRecord.from_dict({k: {} for k in RunRecord.REQUIRED if k != "memory"})
    with pytest.raises(RecordError, match="unknown key .no_such_field."):
        RunRecord.from_dict({**{k: {} for k in RunRecord.REQUIRED}, "config": {"task": "copy", "length": 1, "seed": 0,
                                                                             "train": {"no_such_field": 1}}})


# ------------------------------------------------------------ no string keys into run files outside record.py
# Fields only a run file has: flagged wherever they are read by string key. Fields whose names other
# tables share (task, status, params, ...) are flagged when read from a variable that names a run.
RUN_ONLY = ("metrics", "timing", "memory", "lr_selection", "recipe", "by_slice", "model_info",
            "gradflow", "grad_norm", "val_curve", "loss_curve", "val_seconds", "diverged_at", "stopped_by",
            "best_step", "lm", "state")
SHARED = ("run_id", "status", "config", "task", "params", "steps", "search", "provenance", "baseline", "baselines",
          "generalisation",
          "solved_step", "solved_s", "error")
RUN_VARIABLE = r"\b(?:run|record|rec|r|committed|fresh|(?:runs|records)\[[^\]]+\])"


def _key_access(names: tuple[str, ...], subject: str = r"") -> re.Pattern:
    keys = "|".join(names)
    return re.compile(rf"""{subject}(?:\[\s*["']({keys})["']\s*\]|\.get\(\s*["']({keys})["'])""")


PATTERNS = (_key_access(RUN_ONLY), _key_access(RUN_ONLY + SHARED, RUN_VARIABLE))


def string_key_reads(text: str) -> list[str]:
    """The lines of `text` that read a run-file field by string key."""
    return [line.strip() for line in text.splitlines() if any(p.search(line) for p in PATTERNS)]


def test_the_guard_sees_string_key_reads():
    flagged = ['x = run["metrics"]["test/accuracy"]', 'cfg = record.get("config")', 'r["lr_selection"]',
               'a = data["timing"]["train_time_s"]', "records[0]['status']", 'rec.get("search") or {}']
    clean = ['run.metrics["test/accuracy"]', 'frame["status"]', 'group["task"].iloc[0]', 'suite.get("search")',
             'summary["status"]', 'row["params"]']
    assert string_key_reads("\n".join(flagged)) == flagged
    assert string_key_reads("\n".join(clean)) == []


def test_no_string_key_reads_of_run_files_outside_record_py():
    sources = sorted((ROOT / "seqbench").rglob("*.py")) + sorted((ROOT / "tools").rglob("*.py"))
    found = [f"{path.relative_to(ROOT)}: {line}" for path in sources if path != ROOT / "seqbench" / "record.py"
             for line in string_key_reads(path.read_text())]
    assert not found, "read run-file fields through RunRecord attributes:\n" + "\n".join(found)
