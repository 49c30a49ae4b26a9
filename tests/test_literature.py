"""The "Against the literature" section: our seeds' mean beside a published number, and the floors."""
import json

from seqbench.report.render import write_report

from fixture_runs import write_fixture_runs

REFS = {"references": [{"id": "x", "claim": "LSTM copies at L=10", "value": 0.95, "metric": "accuracy",
                        "setting": {}, "compare": {"task": "copy", "models": ["lstm"], "metric": "accuracy", "length": 10},
                        "differences": "theirs is bigger", "verified": True,
                        "cite": {"key": "k2020", "title": "A Paper", "year": 2020, "bibtex": "@misc{k2020}"}}],
        "floors": [{"task": "copy", "models": ["lstm"], "metric": "accuracy", "op": ">=", "value": 0.9, "every_length": True},
                   {"task": "copy", "models": ["lstm"], "metric": "accuracy", "op": ">=", "value": 0.5},
                   {"task": "sst2", "models": ["lstm", "bilstm"], "metric": "accuracy", "op": ">=", "value": 0.81}]}


def test_section_sets_our_mean_beside_the_published_number(tmp_path):
    results = tmp_path / "results"
    write_fixture_runs(results)
    (results / "references.json").write_text(json.dumps(REFS))
    (results / "suites").mkdir()
    (results / "suites" / "standard.json").write_text(json.dumps({"name": "standard", "version": 1}))  # the floors' suite
    summary = write_report(results, results)
    assert "Against the literature" in summary["sections"]
    text = (results / "leaderboard.md").read_text().split("## Against the literature")[1]
    # copy/lstm L=10 at the lr chosen on validation: test 0.99, 1.00, 0.98 -> 0.99 over 3 seeds, +0.04 over 0.95
    assert "| A Paper" not in text and "A Paper (2020) [k2020] | 0.950 accuracy | lstm | 10 | 0.990 [" in text
    assert "(n=3) accuracy | +0.04 | theirs is bigger |" in text
    # every length must pass: L=40 averages 0.565 -> missed by 0.335; without every_length the longest length (L=40) is judged
    assert "| copy | lstm | >= 0.900 accuracy | 0.565 (worst of 3 lengths) | **missed by 0.335** |" in text
    assert "| copy | lstm | >= 0.500 accuracy | 0.565 (L=40) | met |" in text
    assert "| sst2 | lstm, bilstm | >= 0.810 accuracy | — | no runs |" in text  # models named, not a Python list


def test_no_snapshot_no_section(tmp_path):
    results = tmp_path / "results"
    write_fixture_runs(results)
    assert "Against the literature" not in write_report(results, results)["sections"]


def copy_probe(model: str, length: int, seed: int, solved: bool):
    """A copy length-search probe (seq-0 tuning aside: one rate), with the memoryless score 10·ln 8/(T+20)."""
    import math

    from seqbench.record import RunRecord
    memoryless = 10 * math.log(8) / (length + 20)
    xent = 0.001 if solved else memoryless
    return RunRecord.from_dict({
        "run_id": f"{model}-{length}-{seed}", "status": "solved" if solved else "converged",
        "config": {"task": "copy", "task_version": 2, "length": length, "seed": seed,
                   "model": {"name": model, "params": 100000}, "train": {"lr": 1e-3, "clip": 1.0}},
        "task": {"metric": "accuracy", "higher_is_better": {"accuracy": True, "xent_per_step": False}, "solved": 0.99,
                 "seq_len": length + 20},
        "recipe": {"default": True},
        "metrics": {"val/accuracy": 1.0 if solved else 0.125, "test/accuracy": 1.0 if solved else 0.125,
                    "test/xent_per_step": xent},
        "baseline": {"accuracy": 0.125}, "baselines": {"memoryless": {"accuracy": 0.125, "xent_per_step": memoryless}},
        "params": {"params": 100000}, "steps": 100, "memory": {},
        "timing": {"train_time_s": 1.0, "median_step_ms": 1.0, "eval_tokens_per_s": 1.0},
        "provenance": {"device": "cpu", "git_commit": "0", "threads": 1},
        "search": {"chain": f"{model}-{seed}", "start": 8, "max": 256, "refine": 0},
    })


def test_searched_lengths_fill_the_rows_and_say_which_seeds_got_there():
    """Copy searched to 256 (standard v2): the LSTM's seed 0 solves every length, seeds 1 and 2 fail at 128
    and stop; the rnn fails at 16. The reference at T >= 100 reads the LSTM at 128 (3 seeds) and 256 (1 of 3),
    and says why the rnn has no row there."""
    from seqbench.report.decisions import decide
    from seqbench.report.literature_section import reference_table

    ability = {("lstm", 0): 256, ("lstm", 1): 64, ("lstm", 2): 64, ("rnn", 0): 8, ("rnn", 1): 8, ("rnn", 2): 8}
    records = []
    for (model, seed), best in ability.items():
        for length in (8, 16, 32, 64, 128, 256):
            records.append(copy_probe(model, length, seed, length <= best))
            if length > best:
                break
    ref = {"id": "a", "claim": "copy at the memoryless baseline", "baseline": "memoryless", "metric": "xent_per_step",
           "compare": {"task": "copy", "models": ["rnn", "lstm"], "metric": "xent_per_step", "min_length": 100},
           "verified": True, "cite": {"key": "a2016", "title": "Unitary", "year": 2016}}
    decisions = decide(records)
    table = reference_table([ref], decisions, {r.run_id: r for r in records})
    rows = [[c.text for c in row] for row in table.rows]
    lstm = {row[3]: row for row in rows if row[2] == "lstm"}
    assert set(lstm) == {"128", "256"}
    assert "(n=3) xent_per_step" in lstm["128"][4] and lstm["128"][1].startswith("0.141 (memoryless)")  # 10·ln 8/148
    assert "(n=1 of 3 seeds: the others' searches stopped below this length)" in lstm["256"][4]
    (rnn,) = [row for row in rows if row[2] == "rnn"]
    assert rnn[4] == "no run at these lengths: longest solved L 8, so its search stopped below them"


def test_a_floor_missed_within_the_seeds_interval_says_so_and_one_missed_outside_it_does_not():
    """SST-2 bilstm in v1: 0.809 [0.795–0.822] against >= 0.810 is a miss the seeds' noise explains."""
    from seqbench.report.literature_section import _missed_text
    from seqbench.report.numbers import Spread

    inside = _missed_text(Spread(0.80853, 0.795, 0.822, 3, "t95"), 0.81)
    assert inside == ("missed by 0.00147, within noise: the 3 seeds' 95% interval [0.795–0.822] "
                      "contains the floor")
    assert _missed_text(Spread(0.70, 0.68, 0.72, 3, "t95"), 0.81) == "missed by 0.11"
    assert "range [" in _missed_text(Spread(0.80, 0.79, 0.83, 2, "range"), 0.81)
    assert _missed_text(Spread(0.80, 0.80, 0.80, 1, "single"), 0.81) == "missed by 0.01"
