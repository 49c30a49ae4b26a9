import json

import pytest

from seqbench.store import CorruptRun, load_runs, orphans, read_run, write_run, check_writable
from seqbench.errors import UserError
from seqbench.record import RunRecord

RECORD = RunRecord.from_dict({"run_id": "abc123", "status": "ok", "metrics": {"test/accuracy": 0.5, "test/xent": float("nan")},
          "baseline": {"accuracy": 0.125}, "task": {"name": "copy"}, "params": {"params": 10},
          "steps": 3, "timing": {"train_time_s": 1.0, "median_step_ms": 2.0, "eval_tokens_per_s": 3.0},
          "memory": {"peak_mb": 1.0}, "provenance": {"device": "cpu", "git_commit": None},
          "config": {"task": "copy", "length": 5, "seed": 0, "model": {"name": "lstm"}, "train": {"lr": 0.1}}})


def test_round_trip(tmp_path):
    path = write_run(tmp_path, RECORD)
    assert path == tmp_path / "runs" / "abc123.json"
    back = read_run(path)
    assert back.metrics["test/accuracy"] == 0.5
    assert back.metrics["test/xent"] is None  # NaN is written as null: strict JSON
    json.loads(path.read_text())  # strictly valid
    assert not list((tmp_path / "runs").glob(".*tmp"))  # no temporary file left behind
    records, skipped = load_runs(tmp_path)
    assert [r.run_id for r in records] == ["abc123"] and records[0].config.model.name == "lstm"
    assert skipped == []


def test_corrupt_and_foreign_files_are_skipped_by_name(tmp_path):
    path = write_run(tmp_path, RECORD)
    (tmp_path / "runs" / "truncated.json").write_text(path.read_text()[:50])
    (tmp_path / "runs" / "foreign.json").write_text('{"hello": 1}')
    edited = json.loads(path.read_text())
    edited["metrics"]["test/accuracy"] = 0.99
    (tmp_path / "runs" / "edited.json").write_text(json.dumps(edited))
    with pytest.raises(CorruptRun, match="hash mismatch"):
        read_run(tmp_path / "runs" / "edited.json")
    records, skipped = load_runs(tmp_path)
    assert len(records) == 1
    named = " ".join(skipped)
    assert "truncated.json" in named and "foreign.json" in named and "edited.json" in named


def test_unwritable_results_dir_is_caught_early(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(UserError, match="not writable"):
        check_writable(blocker)


def test_orphans_are_the_files_of_runs_that_are_gone(tmp_path):
    """A run's companions share its id; a file whose `<run_id>.json` is gone is an orphan. Run files
    themselves (even unreadable ones, which the report names apart), hidden files and a run in flight's
    lock and saved state are not."""
    assert orphans(tmp_path) == []  # no runs/ at all
    write_run(tmp_path, RECORD)
    runs = tmp_path / "runs"
    (runs / "abc123.predictions.tsv").write_text("index\tlabel\tpred\n")
    (runs / "garbage.json").write_text("{not json")
    (runs / ".abc999.json.tmp").write_text("")  # a write in progress
    (runs / "abc999.lock").write_text("host:1")  # a run in flight: its lock and its saved state
    (runs / "abc999.resume.pt").write_bytes(b"")
    assert orphans(tmp_path) == []
    (runs / "abc999.predictions.tsv").write_text("index\tlabel\tpred\n")
    (runs / "abc999.predictions.conll").write_text("")
    assert [p.name for p in orphans(tmp_path)] == ["abc999.predictions.conll", "abc999.predictions.tsv"]


def test_report_warns_about_orphans_in_one_line(tmp_path, capsys):
    from fixture_runs import write_fixture_runs
    from seqbench.cli import main

    write_fixture_runs(tmp_path)
    assert main(["report", "--results", str(tmp_path), "--out", str(tmp_path / "out")]) == 0
    assert "belong to no run file" not in capsys.readouterr().out
    (tmp_path / "runs" / "0123456789abcdef.predictions.tsv").write_text("index\tlabel\tpred\n")
    (tmp_path / "runs" / "fedcba9876543210.predictions.tsv").write_text("index\tlabel\tpred\n")
    assert main(["report", "--results", str(tmp_path), "--out", str(tmp_path / "out")]) == 0
    warned = [line for line in capsys.readouterr().out.splitlines() if "belong to no run file" in line]
    assert len(warned) == 1 and warned[0].startswith("warning: 2 file(s)")
    assert "0123456789abcdef.predictions.tsv" in warned[0]


def test_a_run_file_from_before_cpu_s_reads_verifies_and_keeps_its_run_id(tmp_path):
    """timing.cpu_s is an output, not config: files without it read (cpu_s None) and verify by their content
    hash, write back without it, and a record with it has the same run id and config hash."""
    import dataclasses
    from seqbench.store import payload_hash, run_file
    path = write_run(tmp_path, RECORD)
    old = json.loads(path.read_text())
    assert "cpu_s" not in old["timing"] and old["payload_sha256"] == payload_hash(old)
    back = read_run(path)
    assert back.timing.cpu_s is None and run_file(back) == old
    new = dataclasses.replace(back, timing=dataclasses.replace(back.timing, cpu_s=0.5))
    on_disk = json.loads(write_run(tmp_path / "new", new).read_text())
    assert on_disk["timing"]["cpu_s"] == 0.5 and read_run(tmp_path / "new" / "runs" / "abc123.json").timing.cpu_s == 0.5
    assert on_disk["config"] == old["config"] and new.config.run_id == back.config.run_id
