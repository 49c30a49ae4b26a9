"""A suite's `tune: {seed: S}`: the lr grid runs on one seed, the other seeds at the lr chosen on
validation (selection.py), through the real sweep machinery on a fake trainer whose best lr is known."""
import json
from pathlib import Path

import pandas as pd
import pytest

from seqbench.config import RunConfig
from seqbench.errors import UserError
from seqbench.report.decisions import choose_rates, decide, mark_chosen, select_lr
from seqbench.selection import choose_lr, median, run_score
from seqbench.status import CONVERGED, DIVERGED, SOLVED
from seqbench.store import load_runs, write_run
from seqbench.suite import load_suite, plan
from seqbench.sweep import sweep

from fixture_runs import fake_trainer_record, minimal_record, record as fixture_record, searched_longest

LRS = [1e-3, 3e-3, 1e-2]
SUITE = """
name: tuney
seeds: [0, 1, 2]
tune: {seed: 0}
models: [lstm, gru]
lr: {default: [1.0e-3, 3.0e-3, 1.0e-2]}
tasks:
  adding: {lengths: {search: {start: 8, max: 256, refine: 2}}}
  copy: {lengths: [10, 20]}
train: {steps: 6}
"""

# copy: validation accuracy peaks at lr 3e-3 (lstm) and 1e-3 (gru); 1e-2 diverges for lstm.
VAL = {"lstm": {1e-3: 0.80, 3e-3: 0.95, 1e-2: None}, "gru": {1e-3: 0.90, 3e-3: 0.85, 1e-2: 0.70}}
# adding: the longest length solved per lr; gru ties 1e-3 and 3e-3, and 3e-3 wins on the validation
# MSE of the longest probe, a length both ran.
ABILITY = {"lstm": {1e-3: 20, 3e-3: 40, 1e-2: 100}, "gru": {1e-3: 64, 3e-3: 64, 1e-2: 8}}
VAL_MSE = {"lstm": {1e-3: 0.01, 3e-3: 0.01, 1e-2: 0.01}, "gru": {1e-3: 0.02, 3e-3: 0.01, 1e-2: 0.3}}


def suite_file(tmp_path, text: str = SUITE) -> Path:
    path = tmp_path / "tuney.yaml"
    path.write_text(text)
    return path


class FakeTrainer:
    """Stands in for runner.execute. `stop_after`: a Ctrl-C at that call."""

    def __init__(self, stop_after: int | None = None):
        self.calls: list[tuple] = []
        self.stop_after = stop_after

    def __call__(self, cfg: RunConfig, results: Path, progress=None, search=None, lr_selection=None):
        if self.stop_after is not None and len(self.calls) >= self.stop_after:
            raise KeyboardInterrupt
        model, lr = cfg.model.name, cfg.train.lr
        self.calls.append((cfg.task, model, cfg.length, lr, cfg.seed))
        if cfg.task == "copy":
            val = VAL[model][lr]
            status, metrics = (DIVERGED, {}) if val is None else (CONVERGED, {"val/accuracy": val, "test/accuracy": val})
            task = {"name": "copy", "metric": "accuracy", "higher_is_better": {"accuracy": True}}
        else:
            status = SOLVED if cfg.length <= ABILITY[model][lr] else CONVERGED
            metrics = {"val/mse": VAL_MSE[model][lr], "test/mse": VAL_MSE[model][lr]}
            task = {"name": "adding", "metric": "mse", "higher_is_better": {"mse": False}}
        record = fake_trainer_record(cfg, status, metrics, task, search=search, lr_selection=lr_selection)
        return record, write_run(results, record)


def run_sweep(monkeypatch, path, results, trainer, **kw) -> dict:
    monkeypatch.setattr("seqbench.runner.execute", trainer)
    return sweep(path, results, workers=1, threads=1, executor="inline", **kw)


def on_disk(results: Path) -> set[tuple]:
    out = set()
    for path in (results / "runs").glob("*.json"):
        r = json.loads(path.read_text())
        c = r["config"]
        out.add((c["task"], c["model"]["name"], c["length"], c["train"]["lr"], c["seed"]))
    return out


# ------------------------------------------------------------------ plan

def test_plan_without_tune_is_the_full_grid(tmp_path):
    found = plan(load_suite(suite_file(tmp_path, SUITE.replace("tune: {seed: 0}\n", ""))))
    assert len(found.runs) == 2 * 2 * 3 * 3 and len(found.chains) == 2 * 3 * 3 and found.deferred == []


def test_plan_with_tune_runs_the_grid_on_the_tuning_seed_and_defers_the_rest(tmp_path):
    found = plan(load_suite(suite_file(tmp_path)))
    assert {cfg.seed for cfg in found.runs} == {0} and len(found.runs) == 2 * 2 * 3
    assert {c.seed for c in found.chains} == {0} and len(found.chains) == 2 * 3
    # One group per (task, model, grid point, length) for fixed lengths, per (task, model, grid point) for searches.
    labels = sorted(d.label() for d in found.deferred)
    assert labels == ["adding/gru search", "adding/lstm search", "copy/gru L=10", "copy/gru L=20",
                      "copy/lstm L=10", "copy/lstm L=20"]
    group = next(d for d in found.deferred if d.label() == "copy/lstm L=20")
    assert group.seeds == (1, 2) and sorted(group.tuning) == LRS
    assert {cfg.run_id for cfg in group.tuning.values()} <= {cfg.run_id for cfg in found.runs}
    released = group.release(3e-3)
    assert [(cfg.seed, cfg.train.lr, cfg.length) for cfg in released] == [(1, 3e-3, 20), (2, 3e-3, 20)]
    search = next(d for d in found.deferred if d.search is not None)
    assert [(c.seed, c.overrides["train"]["lr"]) for c in search.release(1e-2)] == [(1, 1e-2), (2, 1e-2)]


def test_a_task_may_override_tune_and_one_lr_needs_no_tuning(tmp_path):
    text = SUITE.replace("copy: {lengths: [10, 20]}", "copy: {lengths: [10, 20], tune: null}")
    found = plan(load_suite(suite_file(tmp_path, text)))
    assert {cfg.seed for cfg in found.runs} == {0, 1, 2} and all(d.task == "adding" for d in found.deferred)
    text = SUITE.replace("tune: {seed: 0}", "tune: {seed: 2}").replace(
        "copy: {lengths: [10, 20]}", "copy: {lengths: [10, 20], tune: {seed: 1}}")
    found = plan(load_suite(suite_file(tmp_path, text)))
    assert {(cfg.task, cfg.seed) for cfg in found.runs} == {("copy", 1)} and {c.seed for c in found.chains} == {2}
    one_lr = plan(load_suite(suite_file(tmp_path, SUITE.replace("1.0e-3, 3.0e-3, 1.0e-2", "3.0e-3"))))
    assert one_lr.deferred == [] and len(one_lr.runs) == 2 * 2 * 3


@pytest.mark.parametrize("tune, message", [("{seed: 5}", "tuning seed 5 is not among"), ("{seed: x}", "'tune' must be"),
                                           ("[0]", "'tune' must be"), ("{seed: 0, lr: 1}", "'tune' must be")])
def test_bad_tune_is_one_line(tmp_path, tune, message):
    with pytest.raises(UserError, match=message):
        plan(load_suite(suite_file(tmp_path, SUITE.replace("tune: {seed: 0}", f"tune: {tune}"))))


# ------------------------------------------------------------------ sweep

def test_sweep_releases_the_other_seeds_at_the_chosen_lr_only(monkeypatch, tmp_path):
    results = tmp_path / "r"
    trainer = FakeTrainer()
    summary = run_sweep(monkeypatch, suite_file(tmp_path), results, trainer)
    runs = on_disk(results)
    for length in (10, 20):
        for seed in (1, 2):
            assert {lr for t, m, L, lr, s in runs if (t, m, L, s) == ("copy", "lstm", length, seed)} == {3e-3}
            assert {lr for t, m, L, lr, s in runs if (t, m, L, s) == ("copy", "gru", length, seed)} == {1e-3}
    for seed in (1, 2):
        assert {lr for t, m, L, lr, s in runs if (t, m, s) == ("adding", "lstm", seed)} == {1e-2}
        # A tie on the longest solved length: the better validation score at the longest probe.
        assert {lr for t, m, L, lr, s in runs if (t, m, s) == ("adding", "gru", seed)} == {3e-3}
    assert len(trainer.calls) == len(set(trainer.calls))  # nothing ran twice
    assert summary["deferred"] == 6 and summary["released"] == 6 and summary["released_runs"] == 8
    assert sum(summary["counts"].values()) == len(trainer.calls)
    seeds = {(s["model"], s["seed"]): s["lr"] for s in summary["searches"]}
    assert seeds[("lstm", 1)] == seeds[("lstm", 2)] == 1e-2
    # Released run files say how their lr was chosen, beside the config (the run id is the config hash).
    records, _ = load_runs(results)
    released = [r for r in records if r.config.seed != 0]
    assert released and all(r.lr_selection.seed == 0 for r in released)
    copy_lstm = next(r for r in released if r.config.task == "copy" and r.config.model.name == "lstm")
    assert copy_lstm.lr_selection.to_dict() == {"seed": 0, "chosen": 3e-3,
                                                "candidates": {"0.001": 0.8, "0.003": 0.95, "0.01": None}}
    assert copy_lstm.run_id == copy_lstm.config.run_id
    assert not any(r.lr_selection for r in records if r.config.seed == 0)
    # The suite manifest lists the released runs and chains, so the report finds them.
    manifest = json.loads((results / "suites" / "tuney.json").read_text())
    assert set(manifest["run_ids"]) == {r.run_id for r in records}
    assert {(s["model"], s["seed"]) for s in manifest["searches"]} == {(m, s) for m in ("lstm", "gru") for s in (0, 1, 2)}


def test_a_killed_sweep_resumes_with_the_same_choice(monkeypatch, tmp_path):
    path = suite_file(tmp_path)
    clean = tmp_path / "clean"
    run_sweep(monkeypatch, path, clean, FakeTrainer())
    for stop in (5, 14, 30):  # before any release, between releases, among released runs
        results = tmp_path / f"r{stop}"
        with pytest.raises(KeyboardInterrupt):
            run_sweep(monkeypatch, path, results, FakeTrainer(stop_after=stop))
        second = FakeTrainer()
        run_sweep(monkeypatch, path, results, second)
        assert on_disk(results) == on_disk(clean)
        assert len(second.calls) == len(on_disk(clean)) - stop  # nothing done twice
        # The suite record too, chains listed by key, not in the order released; but for its dry-run
        # estimate, made when each first sweep started (a clock time, of the work left then): the same keys.
        resumed, whole = (json.loads((r / "suites" / "tuney.json").read_text()) for r in (results, clean))
        assert resumed.pop("estimate").keys() == whole.pop("estimate").keys()
        assert resumed == whole
    again = FakeTrainer()
    summary = run_sweep(monkeypatch, path, clean, again)
    assert not again.calls and summary["released"] == 6


def test_dry_run_counts_deferred_work_at_one_lr_per_group(monkeypatch, tmp_path):
    results = tmp_path / "r"
    trainer = FakeTrainer()
    summary = run_sweep(monkeypatch, suite_file(tmp_path), results, trainer, dry_run=True)
    assert not trainer.calls
    assert summary["todo"] == 12 and summary["deferred"] == 6
    assert summary["deferred_runs"] == 2 * 2 * 2 and summary["deferred_chains"] == 2 * 2
    assert summary["estimate_deferred_s"] > 0 and summary["estimate_deferred_search_s"][0] > 0


def test_a_widened_search_estimates_the_reopened_groups_at_the_lr_their_seeds_ran_at(monkeypatch, tmp_path):
    """Searched to 64, lstm's seed 0 chooses 1e-2 and gru's 3e-3 (a tie at >= 64 broken on MSE); the
    other seeds run there. Widened to 256, the tuning chains reopen, so no choice is known, and the
    dry-run prices the other seeds where they already ran, not at the grid's first rate."""
    narrow = SUITE.replace("max: 256, refine: 2", "max: 64, refine: 0")
    results = tmp_path / "r"
    run_sweep(monkeypatch, suite_file(tmp_path, narrow), results, FakeTrainer())
    assert {(m, lr) for t, m, L, lr, s in on_disk(results) if t == "adding" and s == 1} == {("lstm", 1e-2), ("gru", 3e-3)}
    priced = []

    def capture(chains, results_dir):
        from seqbench.estimate import SearchEstimate
        priced.extend(chain for chain, _ in chains)
        return SearchEstimate()

    monkeypatch.setattr("seqbench.estimate.estimate_searches", capture)
    wide = SUITE.replace("max: 256, refine: 2", "max: 256, refine: 0")
    summary = run_sweep(monkeypatch, suite_file(tmp_path, wide), results, FakeTrainer(), dry_run=True)
    assert summary["deferred_chains"] == 4
    released = {(c.model, c.seed, c.overrides["train"]["lr"]) for c in priced if c.seed != 0}
    assert released == {("lstm", 1, 1e-2), ("lstm", 2, 1e-2), ("gru", 1, 3e-3), ("gru", 2, 3e-3)}


def test_without_tune_the_sweep_is_todays(monkeypatch, tmp_path):
    trainer = FakeTrainer()
    summary = run_sweep(monkeypatch, suite_file(tmp_path, SUITE.replace("tune: {seed: 0}\n", "")), tmp_path / "r", trainer)
    assert "released" not in summary and summary["deferred"] == 0
    assert {(t, m, L, lr, s) for t, m, L, lr, s in trainer.calls if t == "copy"} == {
        ("copy", m, L, lr, s) for m in ("lstm", "gru") for L in (10, 20) for lr in LRS for s in (0, 1, 2)}


# ------------------------------------------------------------------ the rule, and the report's use of it

def test_choose_lr_failed_lose_ties_go_to_the_smaller_lr():
    assert choose_lr({1e-3: {0: 0.9}, 3e-3: {0: 0.95}, 1e-2: {0: None}}) == 3e-3
    assert choose_lr({1e-3: {0: None}, 3e-3: {0: None}}) == 1e-3
    assert choose_lr({1e-3: {0: 0.9}, 3e-3: {0: 0.9}}) == 1e-3
    assert choose_lr({1e-3: {0: 0.9, 1: 0.8, 2: 0.8}, 3e-3: {0: 0.85}}) == 1e-3  # on seed 0 only
    assert choose_lr({1e-3: {0: 8, 1: 64}, 3e-3: {0: 16, 1: 16}}, median) == 1e-3
    # Searches that tie (here both failed at the first length) are told apart by the tiebreak score.
    assert choose_lr({1e-3: {0: 0}, 1e-2: {0: 0}}, median, {1e-3: {0: 0.34}, 1e-2: {0: 0.85}}) == 1e-2
    assert choose_lr({1e-3: {0: 0}, 1e-2: {0: 0}}, median, {1e-3: {0: 0.34}, 1e-2: {0: None}}) == 1e-3
    assert choose_lr({1e-3: {0: 8}, 1e-2: {0: 0}}, median, {1e-3: {0: 0.1}, 1e-2: {0: 0.9}}) == 1e-3
    assert run_score(minimal_record(status=DIVERGED)) is None
    assert run_score(minimal_record(status=CONVERGED, task={"metric": "mse", "higher_is_better": {"mse": False}},
                                    metrics={"val/mse": 0.2})) == -0.2


def test_frame_compares_lrs_on_the_seeds_they_share(tmp_path):
    # Tuned on seed 0: 3e-3 won there (0.90 > 0.88), seeds 1 and 2 ran at 3e-3 only and did worse.
    # 1e-3 has one seed, better than 3e-3's three-seed mean: it must not win.
    rows = [("copy", "lstm", 10, 0, 3e-3, 0.90, 0.90), ("copy", "lstm", 10, 1, 3e-3, 0.80, 0.81),
            ("copy", "lstm", 10, 2, 3e-3, 0.80, 0.79), ("copy", "lstm", 10, 0, 1e-3, 0.88, 0.88),
            ("copy", "lstm", 10, 0, 1e-2, None, None)]
    records = [fixture_record(t, m, L, s, lr, val, test, CONVERGED if val is not None else DIVERGED)
               for t, m, L, s, lr, val, test in rows]
    row = decide(records).summary.iloc[0]
    assert row.lr == pytest.approx(3e-3) and row.n == 3 and row["mean"] == pytest.approx(0.8333, abs=1e-4)
    # A full grid compares on every seed, as before: 1e-3 wins on its three-seed mean.
    full = records + [fixture_record("copy", "lstm", 10, s, 1e-3, 0.87, 0.87, CONVERGED) for s in (1, 2)] \
        + [fixture_record("copy", "lstm", 10, s, 1e-2, None, None, DIVERGED) for s in (1, 2)]
    assert decide(full).selected["lr"].unique().tolist() == [pytest.approx(1e-3)]


def _chains(outcomes: dict) -> pd.DataFrame:
    """outcomes: (lr, seed) -> longest length solved, probed as 8, 16, ... up to 64."""
    rows = []
    for (lr, seed), ability in outcomes.items():
        for L in (8, 16, 32, 64):
            rows.append({"task": "adding", "protocol": "p", "model": "lstm", "variant": "", "lr": lr, "seed": seed,
                         "length": L, "status": SOLVED if L <= ability else CONVERGED, "solved": L <= ability,
                         "search/chain": f"{lr}-{seed}",
                         "search/start": 8, "search/max": 64, "search/refine": 0})
            if L > ability:
                break
    return pd.DataFrame(rows)


def test_searched_lengths_compare_lrs_on_the_seeds_they_share():
    # Tuned on seed 0: 1e-3 reached 32 there, 3e-3 16; seeds 1, 2 ran at 1e-3 and reached only 8.
    frame = _chains({(1e-3, 0): 32, (1e-3, 1): 8, (1e-3, 2): 8, (3e-3, 0): 16})
    row = searched_longest(frame).iloc[0]
    assert row["seeds"] == 3 and row["longest"] == 8 and row["high"] == 32
    # With the full grid, every seed counts: 3e-3's median 16 beats 1e-3's 8.
    full = _chains({(1e-3, 0): 32, (1e-3, 1): 8, (1e-3, 2): 8, (3e-3, 0): 16, (3e-3, 1): 16, (3e-3, 2): 16})
    assert searched_longest(full).iloc[0]["longest"] == 16


def test_a_widened_search_reads_its_ceiling_from_the_probes_run_under_it():
    """v1 searched to 32, v2 to 64 on the same chains: the probes to 32 hold max 32, the probe at 64
    max 64. Every seed solved 64, the new ceiling: `≥ 64`, whichever probe the row reads first."""
    frame = _chains({(1e-3, 0): 64, (1e-3, 1): 64, (1e-3, 2): 64})
    frame.loc[frame["length"] <= 32, "search/max"] = 32
    for order in (frame, frame.iloc[::-1]):
        row = searched_longest(order.reset_index(drop=True)).iloc[0]
        assert row["label"] == "≥ 64" and bool(row["censored"]) and row["max"] == 64
    # A chain that failed at 64 is not censored, and its row's ceiling is still the widest bound.
    failed = _chains({(1e-3, 0): 32, (1e-3, 1): 32, (1e-3, 2): 32})
    failed.loc[failed["length"] <= 32, "search/max"] = 32
    row = searched_longest(failed).iloc[0]
    assert row["label"] == "32" and not bool(row["censored"])


def test_tied_searches_keep_the_rate_that_validated_better_at_every_length():
    # Every rate failed at L=8 on seed 0; 1e-2 came closest there, so seeds 1 and 2 ran at 1e-2 and
    # every length's cell shows them, not seed 0 of whichever rate scored best at that length alone.
    frame = _chains({(1e-3, 0): 0, (1e-2, 0): 0, (1e-2, 1): 0, (1e-2, 2): 0})
    frame["lr_score"] = [0.34 if lr == 1e-3 else 0.85 for lr in frame["lr"]]
    chosen = select_lr(mark_chosen(frame, choose_rates(frame)))
    assert chosen["lr"].unique().tolist() == [1e-2] and sorted(chosen["seed"]) == [0, 1, 2]


@pytest.mark.slow
def test_tuning_on_the_local_executor_with_real_runs(tmp_path):
    """Two workers, real (tiny) training: released seeds run at the lr chosen on seed 0, their run
    files say so, and the report's choice is the sweep's."""
    path = tmp_path / "real.yaml"
    path.write_text("name: real\nseeds: [0, 1]\ntune: {seed: 0}\nmodels: [gru]\nlr: {default: [1.0e-3, 1.0e-2]}\n"
                    "tasks: {copy: {lengths: [4]}, adding: {lengths: {search: {start: 4, max: 8, refine: 0}}}}\n"
                    "train: {steps: 6, eval_every: 3, log_every: 3, val_examples: 16, test_examples: 16, "
                    "batch_size: 8, eval_batch_size: 8}\nmodel: {params: 20000}\n")
    results = tmp_path / "r"
    summary = sweep(path, results, workers=2, threads=1, executor="local")
    assert summary["released"] == 2 and summary["released_runs"] == 1
    records = load_runs(results)[0]
    released = [r for r in records if r.config.seed == 1]
    assert released and all(r.lr_selection.seed == 0 for r in released)
    fixed = next(r for r in released if r.config.task == "copy")
    assert fixed.config.train.lr == fixed.lr_selection.chosen
    chosen = decide([r for r in records if r.config.task == "copy"]).selected
    assert set(chosen["lr"]) == {fixed.lr_selection.chosen} and set(chosen["seed"]) == {0, 1}
    again = sweep(path, results, workers=2, threads=1, executor="local")
    assert again["counts"] == {} and again["released"] == 2


def test_a_finished_sweep_needs_no_data(monkeypatch, tmp_path):
    """A fresh clone of a finished leaderboard has no data: resuming it prepares none and runs nothing."""
    path, results = suite_file(tmp_path), tmp_path / "r"
    run_sweep(monkeypatch, path, results, FakeTrainer())
    manifest = (results / "suites" / "tuney.json").read_bytes()
    prepared: list[str] = []
    monkeypatch.setattr("seqbench.tasks.Task.prepare", lambda self: prepared.append(self.name))
    again = FakeTrainer()
    run_sweep(monkeypatch, path, results, again)
    assert not again.calls and prepared == []
    assert (results / "suites" / "tuney.json").read_bytes() == manifest  # a clone stays clean
    # A released run gone: its task's data is needed again, and checked before anything runs.
    released = next(p for p in (results / "runs").glob("*.json")
                    if json.loads(p.read_text())["config"]["seed"] == 1 and json.loads(p.read_text())["config"]["task"] == "copy")
    released.unlink()
    run_sweep(monkeypatch, path, results, FakeTrainer())
    assert prepared == ["copy"]


def test_the_suite_record_lists_chains_by_key_whatever_order_they_finished_in(tmp_path):
    """Parallel workers release and finish chains in any order; the record must not depend on it."""
    from seqbench.suite import load_suite, plan
    from seqbench.sweep import ChainState, write_manifest
    path = suite_file(tmp_path)
    suite = load_suite(path)
    found = plan(suite)
    states = [ChainState(chain) for chain in found.chains]
    assert len(states) > 1
    written = []
    for order in (states, states[::-1]):
        results = tmp_path / f"r{len(written)}"
        write_manifest(results, suite, path, found.runs, order)
        written.append((results / "suites" / "tuney.json").read_bytes())
    assert written[0] == written[1]
