"""What a sweep estimated, recorded in its suite record and read by the report: the next length of a
search that stopped at its ceiling, and the dry-run estimate against the measured cost (issue 26)."""
import dataclasses
import json

from seqbench.record import Search, Timing
from seqbench.report.decisions import decide
from seqbench.report.render import efficiency_text, wall_clock_text
from seqbench.report.sweep_cost import ceiling_section, estimate_text
from seqbench.search import LengthSearch
from seqbench.store import write_json_atomic

from fixture_runs import record
from test_sweep_search import FakeTrainer, run_sweep, suite_file  # noqa: F401 (a fixture)


def test_beyond_is_the_doubling_past_the_ceiling():
    assert LengthSearch(16, 256, 0).beyond == 512
    assert LengthSearch(8, 32, 2).beyond == 64


def _record_of(results):
    return json.loads((results / "suites" / "searchy.json").read_text())


def test_a_chain_at_its_ceiling_records_the_next_length_and_its_estimate(monkeypatch, suite_file, tmp_path):
    results = tmp_path / "r"
    run_sweep(monkeypatch, suite_file, results, FakeTrainer())
    data = _record_of(results)
    chains = {s["model"]: s for s in data["searches"]}
    assert chains["gru"]["censored"] and chains["gru"]["next"]["length"] == 512
    assert chains["gru"]["next"]["cpu_minutes"] > 0
    assert all("next" not in chains[m] for m in ("lstm", "rnn", "transformer"))  # they found a failure
    # The first sweep with work recorded its dry-run estimate, with its workers.
    est = data["estimate"]
    assert est["workers"] == 1 and 0 < est["cpu_minutes_low"] <= est["cpu_minutes_high"] and est["runs"] > 0
    # A sweep that finds everything done writes the same record (a clone stays clean).
    before = (results / "suites" / "searchy.json").read_bytes()
    again = FakeTrainer()
    run_sweep(monkeypatch, suite_file, results, again)
    assert not again.calls and (results / "suites" / "searchy.json").read_bytes() == before


def test_a_raised_ceiling_re_records_the_estimate_and_keeps_the_earlier_one(monkeypatch, suite_file, tmp_path):
    """gru solves the ceiling (256); raised to 512 its chain reopens, the plan changed, so the sweep
    prices what is left of the new plan, and the record keeps the old estimate in `earlier`. Resumed
    on the same plan, it keeps the estimate it has."""
    results = tmp_path / "r"
    run_sweep(monkeypatch, suite_file, results, FakeTrainer())
    first = _record_of(results)["estimate"]
    suite_file.write_text(suite_file.read_text().replace("max: 256", "max: 512"))
    run_sweep(monkeypatch, suite_file, results, FakeTrainer(), dry_run=False)
    est = _record_of(results)["estimate"]
    assert est["plan"] != first["plan"] and est["earlier"] == [first]
    assert est["chains"] >= 1  # the reopened gru chain
    run_sweep(monkeypatch, suite_file, results, FakeTrainer())
    assert _record_of(results)["estimate"] == est
    # A record from before `plan` was recorded is re-estimated by a sweep with work to do, as a changed plan.
    old = _record_of(results)
    old["estimate"] = {k: v for k, v in first.items() if k != "plan"}
    write_json_atomic(results / "suites" / "searchy.json", old)
    suite_file.write_text(suite_file.read_text().replace("max: 512", "max: 1024"))
    run_sweep(monkeypatch, suite_file, results, FakeTrainer())
    assert _record_of(results)["estimate"]["earlier"] == [old["estimate"]]


def test_an_estimate_by_another_method_is_replaced_and_kept_in_earlier():
    from seqbench.sweep.manifest import _kept_estimate
    old = {"at": "2026-12-07T03:57:00Z", "plan": "p1", "cpu_minutes_high": 986.0}  # before `method`: full budget
    new = {"at": "2026-12-07T08:00:00Z", "plan": "p1", "method": "budget-share", "cpu_minutes_high": 300.0}
    assert _kept_estimate(old, new) == {**new, "earlier": [old]}
    assert _kept_estimate(old, {**new, "method": "full-budget"}) == old  # same plan, same method: kept
    assert _kept_estimate({**new, "earlier": [old]}, {**new, "at": "later"}) == {**new, "earlier": [old]}
    assert _kept_estimate(None, new) == new and _kept_estimate(old, None) == old


def test_a_sweep_re_estimates_a_record_priced_by_the_old_method_on_the_same_plan(monkeypatch, suite_file, tmp_path):
    """An estimate recorded before `method` (every run at its full budget) is replaced by a sweep with work
    left, though the plan is the same; the old one stays in `earlier`. A sweep with nothing left keeps it."""
    results = tmp_path / "r"
    run_sweep(monkeypatch, suite_file, results, FakeTrainer())
    old = _record_of(results)
    first = old["estimate"]
    assert first["method"] == "budget-share"
    old["estimate"] = {k: v for k, v in first.items() if k != "method"}
    write_json_atomic(results / "suites" / "searchy.json", old)
    run_sweep(monkeypatch, suite_file, results, FakeTrainer())  # nothing left to run: kept as it is
    assert _record_of(results)["estimate"] == old["estimate"]
    next(iter(sorted((results / "runs").glob("*.json")))).unlink()  # work left on the same plan
    run_sweep(monkeypatch, suite_file, results, FakeTrainer())
    est = _record_of(results)["estimate"]
    assert est["plan"] == first["plan"] and est["method"] == "budget-share" and est["earlier"] == [old["estimate"]]


def test_an_old_record_gets_the_next_length_but_no_estimate_from_a_sweep_with_nothing_to_run(
        monkeypatch, suite_file, tmp_path):
    results = tmp_path / "r"
    run_sweep(monkeypatch, suite_file, results, FakeTrainer())
    old = _record_of(results)
    del old["estimate"]
    for s in old["searches"]:
        s.pop("next", None)
    write_json_atomic(results / "suites" / "searchy.json", old)
    run_sweep(monkeypatch, suite_file, results, FakeTrainer())
    data = _record_of(results)
    assert "estimate" not in data  # nothing ran: there was nothing to estimate
    assert {s["model"]: s.get("next", {}).get("length") for s in data["searches"]}["gru"] == 512


def test_a_recorded_next_is_kept_while_it_names_the_same_value(monkeypatch, suite_file, tmp_path):
    results = tmp_path / "r"
    run_sweep(monkeypatch, suite_file, results, FakeTrainer())

    def rewrite_gru_next(entry):
        data = _record_of(results)
        next(s for s in data["searches"] if s["model"] == "gru")["next"] = entry
        write_json_atomic(results / "suites" / "searchy.json", data)
        run_sweep(monkeypatch, suite_file, results, FakeTrainer())
        return next(s for s in _record_of(results)["searches"] if s["model"] == "gru")["next"]

    assert rewrite_gru_next({"length": 512, "cpu_minutes": 999.0}) == {"length": 512, "cpu_minutes": 999.0}
    # An entry of another ceiling (the suite's max was raised since): estimated again, for today's next value.
    again = rewrite_gru_next({"length": 256, "cpu_minutes": 999.0})
    assert again["length"] == 512 and again["cpu_minutes"] != 999.0


# ---- the report ----

def _chain_records(model="lstm", lengths=(50, 100), seeds=(0, 1, 2)):
    """adding/<model>: a length search from 50 to 100, every probe solved: `≥ 100` on every seed."""
    out = []
    for seed in seeds:
        for length in lengths:
            r = record("adding", model, length, seed, 3e-3, 0.001, 0.001, "solved")
            out.append(dataclasses.replace(r, search=Search(chain=f"adding/{model}/seed{seed}/x", start=50, max=100,
                                                            refine=0)))
    return out


def _suite_record(results, records, next_for=(), estimate=None, complete=True):
    searches = []
    for chain in sorted({r.search.chain for r in records}):
        probes = [{"length": r.config.length, "run_id": r.run_id, "status": r.status}
                  for r in records if r.search.chain == chain]
        entry = {"chain": chain, "probes": probes, "censored": True}
        if chain in next_for:
            entry["next"] = {"length": 200, "cpu_minutes": 12.5}
        searches.append(entry)
    data = {"name": "standard", "version": 2, "run_ids": sorted(r.run_id for r in records), "complete": complete,
            "searches": searches, **({"estimate": estimate} if estimate else {})}
    write_json_atomic(results / "suites" / "standard.json", data)


def test_the_ceiling_section_gives_the_next_length_and_its_estimated_cost(tmp_path):
    records = _chain_records()
    _suite_record(tmp_path, records, next_for={r.search.chain for r in records})
    section = ceiling_section(decide(records), tmp_path)
    assert section is not None
    assert "| adding | lstm | ≥ 100 | 100 | 200 | 38 CPU-min (3 seeds) |" in section.markdown  # 3 × 12.5


def test_the_ceiling_section_says_when_the_estimate_was_not_recorded(tmp_path):
    records = _chain_records()
    _suite_record(tmp_path, records, next_for={"adding/lstm/seed0/x"})  # an old record: two chains lack it
    text = ceiling_section(decide(records), tmp_path).markdown
    assert "not recorded (2 of 3 seeds' chains" in text and "CPU-min (" not in text


def test_the_ceiling_section_says_when_the_next_value_cannot_be_tried(tmp_path):
    records = _chain_records()
    _suite_record(tmp_path, records, next_for={r.search.chain for r in records})
    data = json.loads((tmp_path / "suites" / "standard.json").read_text())
    for s in data["searches"]:
        s["next"] = {"length": 200, "cpu_minutes": None, "why": "no such length"}
    write_json_atomic(tmp_path / "suites" / "standard.json", data)
    assert "| 200 | cannot be tried: no such length |" in ceiling_section(decide(records), tmp_path).markdown


def test_no_ceiling_section_when_every_search_found_a_failure(tmp_path):
    records = _chain_records()
    records = [dataclasses.replace(r, status="converged") if r.config.length == 100 else r for r in records]
    _suite_record(tmp_path, records)
    assert ceiling_section(decide(records), tmp_path) is None


def _timed(records, start_hour: int, seconds: float):
    """Each record trained `seconds`, finishing at start_hour + its index (hours, on 2026-12-01)."""
    return [dataclasses.replace(r, timing=Timing(train_time_s=seconds,
                                                 finished_at=f"2026-12-01T{start_hour + i:02d}:00:00Z"))
            for i, r in enumerate(records)]


ESTIMATE = {"at": "2026-12-01T09:00:00Z", "cpu_minutes_low": 50.0, "cpu_minutes_high": 60.0, "runs": 6, "chains": 3,
            "workers": 1, "threads": 1}


def test_the_dry_run_estimate_is_set_against_the_measured_cost(tmp_path):
    records = _timed(_chain_records(), 10, 600.0)  # 6 runs of 10 minutes, all after the estimate: 60 minutes
    _suite_record(tmp_path, records, estimate=ESTIMATE)
    text = estimate_text(records, tmp_path)
    assert "estimated 50–60 CPU-minutes" in text and "measured 60 CPU-minutes in the 6 runs" in text
    assert "within ±25%" in text


def test_an_estimate_off_by_more_than_a_quarter_is_outside(tmp_path):
    records = _timed(_chain_records(), 10, 1200.0)  # 120 minutes against at most 60 (× 1.25 = 75)
    _suite_record(tmp_path, records, estimate=ESTIMATE)
    assert "outside ±25%" in estimate_text(records, tmp_path)
    # Runs that finished before the estimate was made are not in what it estimated.
    early = _timed(_chain_records(), 3, 1200.0)[:5] + _timed(_chain_records(), 10, 600.0)[5:]
    _suite_record(tmp_path, early, estimate=ESTIMATE)
    assert "measured 10 CPU-minutes in the 1 runs" in estimate_text(early, tmp_path)


def test_the_report_names_the_estimate_a_changed_plan_replaced(tmp_path):
    records = _timed(_chain_records(), 10, 600.0)
    earlier = {**ESTIMATE, "at": "2026-11-30T20:23:00Z", "cpu_minutes_low": 40.0, "cpu_minutes_high": 40.0}
    _suite_record(tmp_path, records, estimate={**ESTIMATE, "earlier": [earlier]})
    text = estimate_text(records, tmp_path)
    assert "within ±25%" in text
    assert text.endswith("(re-estimated when the suite's plan or the estimate's method changed; the earlier "
                         "estimate: 40 CPU-minutes on 2026-11-30 20:23 UTC (every run at its full step budget))")
    assert "estimated 50–60 CPU-minutes of training on 2026-12-01 09:00 UTC, every run at its full step budget (" in text
    _suite_record(tmp_path, records, estimate={**ESTIMATE, "method": "budget-share"})
    assert ("2026-12-01 09:00 UTC, each run at the share of its step budget that its task and model's finished "
            "runs used (") in estimate_text(records, tmp_path)
    _suite_record(tmp_path, records, estimate=ESTIMATE)
    assert "re-estimated" not in estimate_text(records, tmp_path)


def test_a_record_without_an_estimate_says_it_was_not_recorded(tmp_path):
    records = _timed(_chain_records(), 10, 600.0)
    _suite_record(tmp_path, records)
    assert estimate_text(records, tmp_path) == ("standard v2: not recorded (its suite record predates the estimate "
                                                "the sweep records at its first start)")


def test_scheduling_efficiency_counts_the_workers_that_ran_at_once():
    base = _chain_records(seeds=(0,))
    # Two runs of an hour overlapping by half an hour: 2 worker-hours in 1.5 h × 2 workers.
    two = [dataclasses.replace(base[0], timing=Timing(train_time_s=3600.0, finished_at="2026-12-01T11:00:00Z")),
           dataclasses.replace(base[1], timing=Timing(train_time_s=3600.0, finished_at="2026-12-01T11:30:00Z"))]
    assert efficiency_text(two).startswith("67%: 2.0 worker-hours of training in 1.5 h × 2 workers")
    # One after the other, no pause: one worker, always busy.
    serial = [two[0], dataclasses.replace(two[1], timing=Timing(train_time_s=3600.0, finished_at="2026-12-01T12:00:00Z"))]
    assert efficiency_text(serial).startswith("100%: 2.0 worker-hours of training in 2.0 h × 1 worker ")


def test_a_resumed_run_counts_its_attempts_as_they_were_on_the_clock():
    """An hour of training in two half-hour attempts, 10:00-10:30 and, after a pause the machine was
    away, 14:00-14:30: two sittings of half an hour, not one stretch reaching back to 13:30."""
    base = _chain_records(seeds=(0,))
    timing = Timing(train_time_s=3600.0, finished_at="2026-12-01T14:30:00Z", resumed_at=[500],
                    spans=[["2026-12-01T10:00:00Z", "2026-12-01T10:30:00Z"], ["2026-12-01T14:00:00Z", "2026-12-01T14:30:00Z"]])
    resumed = dataclasses.replace(base[0], timing=timing)
    assert efficiency_text([resumed]).startswith("100%: 1.0 worker-hours of training in 1.0 h × 1 worker ")
    assert wall_clock_text([resumed]).startswith("1.0 h in 2 sittings, 2026-12-01 10:00 UTC to 2026-12-01 14:30 UTC")


def _with_cpu(records, cpu_s: float):
    """The records, each with `cpu_s` CPU seconds in its training loop."""
    return [dataclasses.replace(r, timing=dataclasses.replace(r.timing, cpu_s=cpu_s)) for r in records]


def test_the_measured_cost_is_cpu_time_where_runs_recorded_it(tmp_path):
    # 6 runs of 20 wall-clock minutes that got 10 CPU-minutes each (a loaded machine): 60 CPU-minutes.
    records = _with_cpu(_timed(_chain_records(), 10, 1200.0), 600.0)
    _suite_record(tmp_path, records, estimate=ESTIMATE)
    text = estimate_text(records, tmp_path)
    assert ("measured 60 CPU-minutes in the 6 runs finished since (timing.cpu_s of 6 runs; 120 minutes of "
            "wall-clock training) (100% of the high end): within ±25%") in text
    # Runs without cpu_s count their wall-clock time, and the text says how many.
    mixed = records[:4] + _timed(_chain_records(), 10, 1200.0)[4:]
    _suite_record(tmp_path, mixed, estimate=ESTIMATE)
    assert ("measured 80 CPU-minutes in the 6 runs finished since (timing.cpu_s of 4 runs, train_time_s of 2 without "
            "it, which counts time waiting for the CPU; 120 minutes of wall-clock training)") in estimate_text(mixed, tmp_path)


def test_training_time_shows_cpu_hours_beside_wall_clock_hours_where_runs_recorded_them():
    from seqbench.report.render import training_time_text
    wall = _timed(_chain_records(), 10, 3600.0)  # 6 runs of an hour each
    assert training_time_text(wall) == ("6.0 worker-hours in the training loops of 6 runs (the sum of "
                                        "timing.train_time_s; test evaluation, probes and data preparation not counted)")
    mixed = _with_cpu(wall[:4], 1800.0) + wall[4:]
    assert training_time_text(mixed) == (
        "2.0 CPU-hours in the training loops of 4 runs (the sum of timing.cpu_s: user + system time, all threads; "
        "0.50 CPU-seconds per second of their training), cpu_s not recorded for 2 runs (older code); 6.0 worker-hours "
        "of wall-clock training in 6 runs (the sum of timing.train_time_s, which counts time a run waited for the CPU); "
        "test evaluation, probes and data preparation not counted")
    assert "not recorded" not in training_time_text(_with_cpu(wall, 1800.0))
