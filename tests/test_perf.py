"""`seqbench perf` pieces: kernel-path detection, the throughput suite, scheduling, length scaling, the report section."""
import json

import pytest
import torch

from seqbench.estimate import longest_first, predicted_seconds
from seqbench.measure.kernels import classify, kernel_study, recorded_ops
from seqbench.measure.speed import random_batch, train_step_fn
from seqbench.models.model import build_model
from seqbench.sweep.throughput import throughput_suite
from seqbench.report.perf_section import perf_tables
from seqbench.suite import load_suite, plan
from seqbench.tasks import get_task

from conftest import REPO
from fixture_runs import minimal_record
from seqbench.record import RunRecord


@pytest.mark.parametrize("ops, path, fast", [
    ({"aten::lstm", "aten::_cudnn_rnn"}, "cudnn_rnn", True),  # aten::lstm is the parent op either way
    ({"aten::lstm", "aten::mkldnn_rnn_layer"}, "onednn_rnn", True),
    ({"aten::gru"}, "aten_rnn_loop", False),
    ({"aten::_scaled_dot_product_efficient_attention"}, "sdpa_efficient", True),
    ({"aten::_scaled_dot_product_attention_math"}, "sdpa_math", False),
    ({"aten::mm"}, None, False),
])
def test_kernel_path_from_recorded_ops(ops, path, fast):
    assert classify(ops) == (path, fast)


def _ops_of(model_name: str) -> set[str]:
    task = get_task("copy")
    model = build_model(task.resolve(model_name, 5, 0, {"model": {"params": 20000, "n_heads": 2}}).model, task).train()
    x, lengths, y = random_batch(task, 2, 8, "cpu", torch.Generator().manual_seed(0))
    return recorded_ops(train_step_fn(model, x, lengths, y))[0]


@pytest.mark.skipif(not torch.backends.mkldnn.is_available(), reason="no oneDNN in this torch build")
def test_cpu_lstm_takes_onednn_and_gru_the_aten_loop():
    assert classify(_ops_of("lstm"))[0] == "onednn_rnn"
    assert classify(_ops_of("gru"))[0] == "aten_rnn_loop"


def test_transformer_takes_a_fused_attention_kernel():
    path, fast = classify(_ops_of("transformer"))
    assert path.startswith("sdpa_") and fast


def test_kernel_study_rows():
    study = kernel_study(torch.device("cpu"), models=("lstm",), T=8, batch=2, compile_models=(), min_run_time=0.01)
    row, = study["rows"]
    assert row["model"] == "lstm" and row["T"] == 8 and "compiled" not in row
    for precision in ("fp32", "bf16"):
        assert row[precision]["train_ms"] > 0 and 0 < row[precision]["mfu"]
    assert row["bf16_speedup"] == pytest.approx(row["fp32"]["train_ms"] / row["bf16"]["train_ms"])
    assert set(study["bf16_helps"]) == {"lstm"}


def test_throughput_suite_is_the_quick_suites_recurrent_synthetic_runs(tmp_path):
    suite = throughput_suite(REPO / "tasks" / "suites" / "quick.yaml", step_scale=0.5)
    assert suite["models"] == ["rnn", "lstm", "gru", "bilstm"]
    assert set(suite["tasks"]) == {"copy", "adding", "recall"}  # real data left out
    assert suite["seeds"] == [0]
    # copy is a length search in the quick suite: its first probe (the search's start) is timed.
    assert suite["tasks"]["copy"]["lengths"] == [8] and suite["tasks"]["copy"]["train"]["steps"] == 1500
    assert suite["tasks"]["copy"]["train"]["early_stop"] is False
    path = tmp_path / "suite.yaml"
    import yaml
    path.write_text(yaml.safe_dump(suite))
    runs = plan(load_suite(path)).runs
    assert len(runs) == 12


def test_longest_runs_are_scheduled_first(tmp_path):
    import yaml
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({"name": "s", "seeds": [0], "models": ["lstm"],
                                    "tasks": {"copy": {"lengths": [5, 20, 10]}, "adding": {"lengths": [50]}},
                                    "train": {"steps": 10}}))
    runs = plan(load_suite(path)).runs
    ordered = longest_first(runs, tmp_path / "results")
    seconds = [s for s, _ in predicted_seconds(ordered, tmp_path / "results")]
    assert seconds == sorted(seconds, reverse=True) and seconds[0] > seconds[-1]
    assert sorted(r.run_id for r in ordered) == sorted(r.run_id for r in runs)


def _timed_run(run_id: str, task: str, model: str, seq_len: int, train_time_s: float, steps: int = 100,
               status: str = "ok") -> RunRecord:
    return minimal_record(run_id=run_id, status=status, steps=steps, task={"name": task, "seq_len": seq_len},
                          config={"task": task, "model": {"name": model}, "length": seq_len, "seed": 0},
                          timing={"train_time_s": train_time_s, "median_step_ms": 1.0})


def test_length_scaling_and_the_estimate_share_one_step_time(tmp_path, monkeypatch):
    """Seconds per step are train_time_s / steps for both perf's scaling and the sweep estimate."""
    import seqbench.estimate as estimate
    from seqbench.measure import scaling
    records = [_timed_run("a", "copy", "lstm", 10, 1.0), _timed_run("b", "copy", "lstm", 100, 10.0),
               _timed_run("c", "adding", "lstm", 1000, 100.0), _timed_run("d", "copy", "lstm", 50, 0.0, status="failed"),
               _timed_run("e", "copy", "rnn", 10, 2.0)]  # one length only: no fit
    monkeypatch.setattr(scaling, "load_runs", lambda results: (records, []))
    row, = scaling.length_scaling(tmp_path)
    assert row["model"] == "lstm" and row["n_runs"] == 3 and row["exponent"] == pytest.approx(1.0)
    assert row["ms_per_step_at_100"] == pytest.approx(100.0) and row["ms_per_step_at_1000"] == pytest.approx(1000.0)
    history = scaling.step_history(records)
    assert history[("copy", "lstm")] == [(10, 0.01), (100, 0.1)]
    monkeypatch.setattr(estimate, "load_runs", lambda results: (records, []))
    runs = plan(load_suite(_suite(tmp_path, {"copy": {"lengths": [20]}}, steps=1000))).runs
    (seconds, known), = predicted_seconds(runs, tmp_path)
    assert runs[0].train.steps == 1000
    assert known and seconds == pytest.approx(1000 * 0.001 * get_task("copy").source.seq_len(20))


def test_the_estimate_takes_cpu_time_per_step_where_the_history_recorded_it(tmp_path, monkeypatch):
    """A (task, model) whose runs recorded timing.cpu_s is estimated from CPU seconds per step (a history
    made on a loaded machine took longer on the clock than on the CPU); one without, from wall-clock."""
    import dataclasses
    import seqbench.estimate as estimate
    loaded = [_timed_run(str(i), "copy", "lstm", n, n / 10) for i, n in enumerate((10, 100))]  # 1 ms/position, wall
    cpu = [dataclasses.replace(r, timing=dataclasses.replace(r.timing, cpu_s=r.timing.train_time_s / 4)) for r in loaded]
    other = _timed_run("x", "adding", "lstm", 100, 10.0)  # no cpu_s: wall-clock, as before
    runs = plan(load_suite(_suite(tmp_path, {"copy": {"lengths": [20]}, "adding": {"lengths": [100]}}, steps=1000))).runs
    seq_len = get_task("copy").source.seq_len(20)

    def predicted(records):
        monkeypatch.setattr(estimate, "load_runs", lambda results: (records, []))
        by_task = {cfg.task: seconds for cfg, (seconds, _) in zip(runs, predicted_seconds(runs, tmp_path))}
        return by_task, estimate.estimate_seconds(runs, tmp_path).summary(1)

    (wall, wall_text), (fast, cpu_text) = predicted(loaded + [other]), predicted(cpu + [other])
    assert wall["copy"] == pytest.approx(1000 * 0.001 * seq_len) and fast["copy"] == pytest.approx(wall["copy"] / 4)
    assert fast["adding"] == wall["adding"] == pytest.approx(1000 * 0.1 * get_task("adding").source.seq_len(100) / 100)
    assert "step times from wall-clock time of 3 runs, which counts time the run waited for the CPU" in wall_text
    assert ("step times from CPU time of 2 runs and wall-clock time of 1 runs, which counts time the run waited "
            "for the CPU") in cpu_text
    _, only_cpu = predicted(cpu)
    assert "step times from CPU time of 2 runs\n" in only_cpu + "\n" and "wall-clock" not in only_cpu


def _suite(tmp_path, tasks: dict, steps: int):
    import yaml
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({"name": "s", "seeds": [0], "models": ["lstm"], "tasks": tasks, "train": {"steps": steps}}))
    return path


def _fake_report() -> dict:
    row = {"model": "lstm", "T": 256, "batch": 32, "flops_train": 10**9,
           "fp32": {"train_ms": 10.0, "kernel_path": "onednn_rnn", "fast_path": True, "mfu": 0.4},
           "bf16": {"train_ms": 30.0, "kernel_path": "onednn_rnn", "fast_path": True, "mfu": 0.6},
           "bf16_speedup": 1 / 3}
    gru = {**row, "model": "gru", "fp32": {**row["fp32"], "kernel_path": "aten_rnn_loop", "fast_path": False}}
    compiled = {**row, "model": "transformer", "T": 1024, "compile_s": 40.0, "compiled": {"train_ms": 8.0, "mfu": 0.5},
                "compile_speedup": 1.25}
    mode = {"workers": 2, "threads": 1, "runs": 12, "seconds": 70.0, "runs_per_hour": 617.0}
    return {"harness_overhead": [], "data_share": [], "fused_vs_naive": [], "length_scaling": [],
            "sweep_throughput": {"parallel": mode, "serial": {**mode, "workers": 1, "threads": 2, "runs_per_hour": 400.0},
                                 "ratio": 1.5425, "ratio_by_model": {"gru": 1.8, "lstm": 1.3}},
            "kernels": {"device_name": "cpu", "threads": 1, "matmul_n": 1024, "peak_flops": {"fp32": 1e11, "bf16": 3e10},
                        "rows": [row, gru, compiled]},
            "gpu": "no GPU"}


def test_report_section_names_every_section(tmp_path):
    """What the deleted text renderer of perf.json showed, the report's perf section shows."""
    (tmp_path / "perf.json").write_text(json.dumps(_fake_report()))
    text, tables = perf_tables(tmp_path)
    assert "**1.54×** (goal ≥ 1.6" in text and "gru 1.80×, lstm 1.30×" in text
    kernel, = [t for t in tables if t.title.startswith("kernel paths")]
    cells = [[c.text for c in row] for row in kernel.rows]
    assert cells[0][2] == "onednn_rnn" and cells[0][7] == "0.33×"
    assert cells[1][2] == "aten_rnn_loop"  # gru: no vendor kernel
    assert cells[2][8] == "1.25×"


def test_report_section_has_the_kernel_table(tmp_path):
    (tmp_path / "perf.json").write_text(json.dumps(_fake_report()))
    text, tables = perf_tables(tmp_path)
    assert "**1.54×**" in text and "gru 1.80×" in text
    kernel, = [t for t in tables if t.title.startswith("kernel paths")]
    assert [r[0].text for r in kernel.rows] == ["lstm", "gru", "transformer"]
    assert kernel.rows[2][-1].text == "1.25×" and kernel.rows[0][-1].text == "—"


def test_time_breakdown_sums_a_suites_runs_per_task_and_model(tmp_path):
    from seqbench.report.perf_section import time_breakdown
    (tmp_path / "suites").mkdir()
    (tmp_path / "suites" / "quick.json").write_text(json.dumps({"run_ids": ["a", "b", "c"]}))
    run = lambda rid, task, model, s: minimal_record(run_id=rid, config={"task": task, "model": {"name": model},  # noqa: E731
                                                                         "length": 10, "seed": 0},
                                                    timing={"train_time_s": s})
    records = [run("a", "copy", "transformer", 120.0), run("b", "copy", "rnn", 60.0), run("c", "adding", "rnn", 60.0),
               run("z", "adding", "rnn", 999.0)]  # not in the suite: left out
    table = time_breakdown(records, tmp_path)
    assert table.columns == ["task", "rnn", "transformer", "all models", "share"]
    assert [[c.text for c in row] for row in table.rows] == [["adding", "1.0", "0.0", "1.0", "25%"],
                                                            ["copy", "1.0", "2.0", "3.0", "75%"]]
    assert [c.text for c in table.footer[0]] == ["all tasks", "2.0", "2.0", "4.0", "100%"]
    assert time_breakdown(records, tmp_path, suite="full") is None


def test_a_failed_measurement_is_shown_not_raised(tmp_path):
    report = _fake_report()
    row = report["kernels"]["rows"][0]
    row["bf16"] = {"error": "bf16 not supported by this kernel"}
    del row["bf16_speedup"]
    (tmp_path / "perf.json").write_text(json.dumps(report))
    kernel, = [t for t in perf_tables(tmp_path)[1] if t.title.startswith("kernel paths")]
    assert [c.text for c in kernel.rows[0][5:8]] == ["failed", "—", "—"]


def test_kernel_study_records_a_kernel_that_fails(monkeypatch):
    import seqbench.measure.kernels as kernels
    real = kernels.recorded_ops

    def no_bf16(step):
        if torch.is_autocast_cpu_enabled() or step.__closure__ and any(
                getattr(c, "cell_contents", None) == "bf16" for c in step.__closure__):
            raise RuntimeError("no bf16 kernel here\nmore detail")
        return real(step)
    monkeypatch.setattr(kernels, "recorded_ops", no_bf16)
    row, = kernel_study(torch.device("cpu"), models=("rnn",), T=4, batch=2, compile_models=(), min_run_time=0.01)["rows"]
    assert row["bf16"] == {"error": "no bf16 kernel here"} and "train_ms" in row["fp32"] and "bf16_speedup" not in row


def test_mamba_scans_time_both_paths_of_one_model_and_they_agree():
    from seqbench.measure.fused import mamba_scans

    rows = mamba_scans(lengths=(8,), batch=2, params=20_000, repeats=1)
    assert [row["T"] for row in rows] == [8]
    assert rows[0]["loop_ms"] > 0 and rows[0]["scan_ms"] > 0 and rows[0]["speedup"] > 0
    assert rows[0]["max_abs_diff"] < 1e-4  # the same recurrence, computed two ways


def test_the_perf_section_shows_the_mamba_scans_only_where_measured(tmp_path):
    report = {**_fake_report(), "mamba_scans": [{"T": 112, "loop_ms": 1700.0, "scan_ms": 240.0, "speedup": 7.08,
                                                  "max_abs_diff": 2e-6}]}
    (tmp_path / "perf.json").write_text(json.dumps(report))
    _, tables = perf_tables(tmp_path)
    scans, = [t for t in tables if t.title.startswith("hf:mamba on CPU")]
    assert [c.text for c in scans.rows[0]] == ["112", "", "1700.0", "240.0", "7.1×", "2.0e-06"]
    (tmp_path / "perf.json").write_text(json.dumps(_fake_report()))  # an older perf.json: no table
    assert not [t for t in perf_tables(tmp_path)[1] if t.title.startswith("hf:mamba on CPU")]


def _budget_run(run_id: str, model: str, seconds: float, steps: int, budget: int, status: str = "solved") -> RunRecord:
    return minimal_record(run_id=run_id, status=status, steps=steps, task={"name": "copy", "seq_len": 30},
                          config={"task": "copy", "model": {"name": model}, "length": 10, "seed": 0,
                                  "train": {"steps": budget}},
                          timing={"train_time_s": seconds, "median_step_ms": 1.0})


def test_the_budget_share_weighs_runs_by_their_cost():
    """100 s at 50 of 100 steps and 10 s at all 100: 110 s of the 210 s the full budgets would take."""
    from seqbench.estimate import budget_share
    runs = [_budget_run("a", "lstm", 100.0, 50, 100), _budget_run("b", "lstm", 10.0, 100, 100),
            _budget_run("c", "rnn", 5.0, 10, 100, status="diverged"),  # failed: no share learnt from it
            _budget_run("d", "gru", 8.0, 200, 100)]  # ran past its budget (a resumed run): capped at 1
    assert budget_share(runs) == pytest.approx({("copy", "lstm"): 110 / 210, ("copy", "gru"): 1.0})


def test_the_dry_run_prices_a_run_at_its_budget_share_and_a_ceiling_at_the_full_budget(tmp_path, monkeypatch):
    """estimate_seconds (the dry-run) multiplies by the share the (task, model)'s runs used; predicted_seconds
    (the cost of a probe not tried, the LPT order) stays at the full budget; a model with no runs: full budget."""
    import seqbench.estimate as estimate
    history = [_budget_run("a", "lstm", 10.0, 250, 1000), _budget_run("b", "lstm", 10.0, 250, 1000)]
    monkeypatch.setattr(estimate, "load_runs", lambda results: (history, []))
    runs = plan(load_suite(_suite(tmp_path, {"copy": {"lengths": [10]}}, steps=1000))).runs
    (full, _), = predicted_seconds(runs, tmp_path)
    assert full == pytest.approx(1000 * 10.0 / 250)
    est = estimate.estimate_seconds(runs, tmp_path)
    assert est.total_s == pytest.approx(full / 4)
    assert "share of its step budget" in est.summary(1) and "(25%–25%;" in est.summary(1)
    monkeypatch.setattr(estimate, "load_runs", lambda results: ([], []))
    assert estimate.estimate_seconds(runs, tmp_path).steps.startswith("every run at its full step budget")
