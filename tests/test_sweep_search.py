"""Length searches through the real sweep machinery, on a fake trainer whose ability is a known length."""
import json
from pathlib import Path

import pytest

from seqbench.config import RunConfig
from seqbench.errors import UserError
from seqbench.search import LengthSearch
from seqbench.status import CONVERGED, DIVERGED, ERROR, SOLVED
from seqbench.store import load_runs, write_run
from seqbench.suite import load_suite, plan
from seqbench.sweep import sweep

from fixture_runs import fake_trainer_record

# rnn never trains (every probe raises: an error, so not solved), lstm solves up to 40,
# gru beyond max (censored), transformer up to 100 and diverges above it.
ABILITY = {"lstm": 40, "gru": 10_000, "transformer": 100}
SEARCH_SUITE = """
name: searchy
seeds: [0]
models: [rnn, lstm, gru, transformer]
tasks:
  adding: {lengths: {search: {start: 8, max: 256, refine: 2}}}
  copy: {lengths: [10, 20]}
train: {steps: 6}
"""


@pytest.fixture
def suite_file(tmp_path) -> Path:
    path = tmp_path / "searchy.yaml"
    path.write_text(SEARCH_SUITE)
    return path


class FakeTrainer:
    """Stands in for runner.execute: writes a run file, solved iff L <= the model's ability.
    `stop_after`: raise KeyboardInterrupt at that call, as a Ctrl-C mid-sweep would."""

    def __init__(self, stop_after: int | None = None):
        self.calls: list[tuple[str, str, int]] = []
        self.stop_after = stop_after

    def __call__(self, cfg: RunConfig, results: Path, progress=None, search: dict | None = None):
        if self.stop_after is not None and len(self.calls) >= self.stop_after:
            raise KeyboardInterrupt
        self.calls.append((cfg.task, cfg.model.name, cfg.length))
        if cfg.model.name == "rnn":
            raise RuntimeError("this model cannot train")
        ability = ABILITY[cfg.model.name]
        status = SOLVED if cfg.length <= ability else DIVERGED if cfg.model.name == "transformer" else CONVERGED
        record = fake_trainer_record(cfg, status, {}, {"name": cfg.task}, search=search)
        return record, write_run(results, record)


def run_sweep(monkeypatch, suite_file, results, trainer, **kw) -> dict:
    monkeypatch.setattr("seqbench.runner.execute", trainer)
    return sweep(suite_file, results, workers=1, threads=1, executor="inline", **kw)


def by_model(summary: dict) -> dict:
    return {s["model"]: s for s in summary["searches"]}


def test_search_finds_each_ability_and_reports_censoring(monkeypatch, suite_file, tmp_path):
    results = tmp_path / "r"
    trainer = FakeTrainer()
    summary = run_sweep(monkeypatch, suite_file, results, trainer)
    searches = by_model(summary)
    lstm, gru, rnn, transformer = (searches[m] for m in ("lstm", "gru", "rnn", "transformer"))
    # Within the resolution: doubling brackets the ability within 2x, two bisections within a quarter of that.
    assert lstm["longest"] <= 40 < lstm["first_fail"] and lstm["first_fail"] - lstm["longest"] <= 8
    assert [p["length"] for p in lstm["probes"]] == [8, 16, 32, 64, 48, 40]
    assert lstm["longest"] == 40 and lstm["label"] == "40" and not lstm["censored"]
    assert transformer["longest"] <= 100 < transformer["first_fail"] and transformer["first_fail"] - transformer["longest"] <= 16
    assert {p["status"] for p in transformer["probes"]} == {SOLVED, DIVERGED}  # diverged counts as not solved
    assert gru["censored"] and gru["longest"] == 256 and gru["label"] == "≥ 256"
    assert rnn["below_start"] and rnn["longest"] is None and rnn["label"] == "< 8"
    assert [p["status"] for p in rnn["probes"]] == [ERROR]
    assert all(s["done"] for s in searches.values())
    # Fixed runs ran beside the chains; every probe ran once.
    assert sum(1 for t, _, _ in trainer.calls if t == "copy") == 2 * 4
    probes = [c for c in trainer.calls if c[0] == "adding"]
    assert len(probes) == len(set(probes)) == summary["probes"] == sum(len(s["probes"]) for s in searches.values())

    # The manifest lists each chain with its probes' run ids; each probe's run file carries its chain.
    manifest = json.loads((results / "suites" / "searchy.json").read_text())
    assert [s["chain"] for s in manifest["searches"]] == sorted(s["chain"] for s in summary["searches"])
    records = {r.run_id: r for r in load_runs(results)[0]}
    for entry in manifest["searches"]:
        assert {"task", "model", "lr", "grid", "seed", "start", "max", "refine", "probes", "longest",
                "censored", "below_start"} <= set(entry)
        for probe in entry["probes"]:
            record = records[probe["run_id"]]
            assert probe["run_id"] in manifest["run_ids"]
            assert record.search.to_dict() == {"chain": entry["chain"], "start": 8, "max": 256, "refine": 2}
            assert record.config.run_id == record.run_id  # the block is not hashed
    assert not any(r.search for r in records.values() if r.config.task == "copy")


def test_interrupted_search_resumes_without_redoing_probes(monkeypatch, suite_file, tmp_path):
    clean = tmp_path / "clean"
    expected = run_sweep(monkeypatch, suite_file, clean, FakeTrainer())
    results = tmp_path / "r"
    first = FakeTrainer(stop_after=7)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(monkeypatch, suite_file, results, first)
    assert len(first.calls) == 7
    second = FakeTrainer()
    summary = run_sweep(monkeypatch, suite_file, results, second)
    assert not set(first.calls) & set(second.calls)  # nothing is done twice
    assert sorted(first.calls + second.calls) == sorted(_calls_on_disk(clean))
    assert summary["searches"] == expected["searches"]
    again = FakeTrainer()
    assert run_sweep(monkeypatch, suite_file, results, again)["searches"] == expected["searches"] and not again.calls


def _calls_on_disk(results: Path) -> list:
    """(task, model, length) of every run file: what a trainer was asked to do."""
    return [(r.config.task, r.config.model.name, r.config.length) for r in load_runs(results)[0]]


def test_work_queue_puts_probes_first_and_its_total_grows(suite_file, tmp_path):
    from seqbench.sweep import ChainState, WorkQueue
    found = plan(load_suite(suite_file))
    work = WorkQueue(found.runs, [ChainState(c) for c in found.chains], tmp_path)
    assert work.known == 8 + 4 and work.open_chains == 4
    probes = [work.pop() for _ in range(4)]
    assert all(job.chain is not None and job.cfg.length == 8 for job in probes)
    assert work.pop().chain is None  # then the fixed runs
    work.complete(probes[1], {"status": SOLVED})
    assert work.known == 13  # the bar's total grows as a chain goes on
    after = work.pop()
    assert after.chain is probes[1].chain and after.cfg.length == 16  # ahead of the fixed runs
    work.complete(probes[0], {"status": CONVERGED})
    assert work.known == 13 and work.open_chains == 3 and work.pop().chain is None


def test_dry_run_estimates_searches_as_a_range(monkeypatch, suite_file, tmp_path):
    summary = sweep(suite_file, tmp_path / "r", workers=2, threads=1, dry_run=True)
    assert summary["chains"] == 4 and summary["todo"] == 8
    low, high = summary["estimate_search_s"]
    assert 0 < low < high


def test_search_paths_cover_doubling_and_refine():
    from seqbench.estimate import search_paths
    paths = search_paths(LengthSearch(8, 64, refine=2), {})
    assert paths[0] == [8, 16, 32, 64]  # every probe solved: censored at max
    assert max(len(p) for p in paths) == 4 + 2  # failing at max, then two bisections
    assert [8] in paths  # nothing solved
    assert search_paths(LengthSearch(8, 64), {8: True, 16: True, 32: True, 64: True}) == [[]]


def test_plan_makes_one_chain_per_model_lr_grid_seed(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("name: s\nmodels: [lstm, gru]\nseeds: [0, 1]\nlr: {default: [1.0e-3, 3.0e-3]}\n"
                    "grid: {train.clip: [null, 1.0]}\ntasks: {adding: {lengths: {search: {start: 8, max: 64}}}}\n")
    found = plan(load_suite(path))
    assert not found.runs and len(found.chains) == 2 * 2 * 2 * 2
    assert len({c.key for c in found.chains}) == 16
    assert found.chains[0].search == LengthSearch(8, 64, refine=2)
    chain = found.chains[0]
    assert chain.config(16).length == 16 and chain.config(16).run_id != chain.config(32).run_id
    # The key does not depend on the search's bounds: a wider max continues the same chain.
    path.write_text(path.read_text().replace("max: 64", "max: 128"))
    assert plan(load_suite(path)).chains[0].key == chain.key


@pytest.mark.parametrize("lengths, message", [
    ("{search: {start: 8, max: 64, step: 2}}", "lengths.search: unknown key 'step'"),
    ("{search: {start: 8.5, max: 64}}", "'start' must be an integer"),
    ("{search: {start: true, max: 64}}", "'start' must be an integer"),
    ("{search: {start: 128, max: 64}}", "1 <= start <= max"),
    ("{search: {start: 8, max: 64, refine: -1}}", "refine must be an integer >= 0"),
    ("{search: {max: 64}}", "needs 'start'"),
    ("{search: 8}", "'lengths' must be a non-empty list"),
    ("{start: 8, max: 64}", "'lengths' must be a non-empty list"),
    ("[]", "'lengths' must be a non-empty list"),
    ("{search: {start: 8, max: 1000000}}", "exceeds its max_length"),
])
def test_bad_searches(tmp_path, lengths, message):
    path = tmp_path / "bad.yaml"
    path.write_text(f"models: [lstm]\ntasks: {{adding: {{lengths: {lengths}}}}}\n")
    with pytest.raises(UserError, match=message) as info:
        plan(load_suite(path))
    assert "\n" not in str(info.value)


@pytest.mark.slow
@pytest.mark.parametrize("executor", ["local", "ray"])
def test_search_on_real_executors_with_real_runs(tmp_path, executor):
    """Two workers, real (tiny) training: every chain writes probes with their search block, and a
    second sweep finds every chain done."""
    if executor == "ray":
        pytest.importorskip("ray")
    path = tmp_path / "real.yaml"
    path.write_text("name: real\nseeds: [0]\nmodels: [gru, lstm]\n"
                    "tasks: {adding: {lengths: {search: {start: 4, max: 8, refine: 1}}}}\n"
                    "train: {steps: 6, eval_every: 3, log_every: 3, val_examples: 16, test_examples: 16, "
                    "batch_size: 8, eval_batch_size: 8}\nmodel: {params: 20000}\n")
    results = tmp_path / "r"
    summary = sweep(path, results, workers=2, threads=1, executor=executor)
    assert summary["chains"] == 2 and summary["probes"] >= 2
    records = load_runs(results)[0]
    assert len(records) == summary["probes"]
    assert all(r.search.start == 4 and r.search.max == 8 for r in records)
    again = sweep(path, results, workers=2, threads=1, executor=executor)
    if executor == "ray":
        import ray
        ray.shutdown()
    assert again["probes"] == 0 and again["searches"] == summary["searches"]
