"""The report's decisions (report/decisions.py): the lr choice is read from the sweep's recorded
`lr_selection`, checked against the rule, and a disagreement is reported, never silently overridden."""
import warnings

import pytest

from seqbench.record import LrSelection
from seqbench.report.render import write_report
from seqbench.store import write_run

from fixture_runs import record

# copy/lstm at L=10, tuned on seed 0: the rule (selection.choose_lr) prefers 3e-3 (validation 0.95 > 0.90).
TUNING = [("copy", "lstm", 10, 0, 1e-3, 0.90, 0.90, "converged"), ("copy", "lstm", 10, 0, 3e-3, 0.95, 0.95, "converged")]


def released(chosen: float, seeds=(1, 2), test=0.80):
    """Seeds run only at the rate their files say the sweep chose on seed 0."""
    selection = LrSelection(seed=0, chosen=chosen, candidates={"0.001": 0.90, "0.003": 0.95})
    return [record("copy", "lstm", 10, s, chosen, test, test, "converged").replace(lr_selection=selection) for s in seeds]


def report(tmp_path, records) -> tuple[dict, str, str, list[str]]:
    """write_report's summary, leaderboard.md, leaderboard.csv and the warnings it raised."""
    for r in records:
        write_run(tmp_path / "r", r)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        summary = write_report(tmp_path / "r", tmp_path / "out")
    out = tmp_path / "out"
    return summary, (out / "leaderboard.md").read_text(), (out / "leaderboard.csv").read_text(), [str(w.message) for w in caught]


def lr_of(csv: str) -> float:
    header, *rows = csv.splitlines()
    (row,) = [r for r in rows if r.startswith("copy,")]
    return float(dict(zip(header.split(","), row.split(",")))["lr"])


def test_a_recorded_choice_the_rule_does_not_reproduce_is_reported_and_shown(tmp_path):
    """The sweep recorded 1e-3 in seeds 1 and 2's files; the rule, worked out again from the run
    files, gives 3e-3. The report shows the recorded choice (the seeds ran only there) and says
    that the two differ: code that recomputes silently shows 3e-3 and says nothing."""
    summary, md, csv, warned = report(tmp_path, [record(*row) for row in TUNING] + released(1e-3))
    assert lr_of(csv) == pytest.approx(1e-3)
    lines = [line for line in md.splitlines() if "lr_selection" in line]
    assert len(lines) == 1 and "## Warnings" in md
    assert "copy, lstm" in lines[0] and "L=10" in lines[0] and "0.001 (seeds 1, 2)" in lines[0] and "gives 0.003" in lines[0]
    assert any("lr_selection" in w for w in warned)


def test_a_recorded_choice_that_agrees_is_read_without_a_warning(tmp_path):
    summary, md, csv, warned = report(tmp_path, [record(*row) for row in TUNING] + released(3e-3))
    assert lr_of(csv) == pytest.approx(3e-3) and "## Warnings" not in md and not any("lr_selection" in w for w in warned)


def test_files_without_lr_selection_are_chosen_by_the_rule(tmp_path):
    """A full grid records no choice: the rule chooses, on every seed the rates share."""
    rows = TUNING + [("copy", "lstm", 10, 1, 1e-3, 0.90, 0.90, "converged"), ("copy", "lstm", 10, 1, 3e-3, 0.97, 0.97, "converged")]
    summary, md, csv, warned = report(tmp_path, [record(*row) for row in rows])
    assert lr_of(csv) == pytest.approx(3e-3) and "## Warnings" not in md


# ---- one meaning of "solved", one longest solved length ----

def test_solved_is_the_runs_status_and_nothing_else():
    from seqbench.status import FINISHED, FAILED, is_solved
    assert [s for s in FINISHED + FAILED if is_solved(s)] == ["solved"]
    assert not is_solved(None)


def test_nothing_outside_status_py_compares_a_status_with_solved():
    """`grep` finds one definition of "solved": status.is_solved."""
    import re
    from conftest import REPO
    pattern = re.compile(r"""(==|!=)\s*(SOLVED|["']solved["'])|(SOLVED|["']solved["'])\s*(==|!=)""")
    found = [f"{path.relative_to(REPO)}: {line.strip()}" for path in sorted((REPO / "seqbench").rglob("*.py"))
             + sorted((REPO / "tools").rglob("*.py")) if path.name != "status.py"
             for line in path.read_text().splitlines() if pattern.search(line)]
    assert found == []


def fixed(tmp_path, outcomes: dict, test_when_not_solved: float = 0.5):
    """copy/lstm at fixed lengths, one rate; outcomes: seed -> {length: solved}."""
    runs = [record("copy", "lstm", L, seed, 3e-3, 1.0 if ok else test_when_not_solved,
                   1.0 if ok else test_when_not_solved, "solved" if ok else "converged")
            for seed, by_length in outcomes.items() for L, ok in by_length.items()]
    return report(tmp_path, runs)


def longest_cell(csv: str, model="lstm") -> str:
    header, *rows = csv.splitlines()
    import csv as csv_module
    parsed = list(csv_module.DictReader([header] + rows))
    (cell,) = {r["longest_solved"] for r in parsed if r["model"] == model}
    return cell


def test_fixed_lengths_read_one_result_per_seed_as_a_search_does(tmp_path):
    """Seed 0 solves every length, seed 1 fails 20 (40 after it is noise), seed 2 fails 40: per seed
    40, 10, 20, the median 20. The old table rule (the largest length whose mean test score passes)
    said 10 here while the figure, per seed, said 20."""
    summary, md, csv, _ = fixed(tmp_path, {0: {10: True, 20: True, 40: True}, 1: {10: True, 20: False, 40: True},
                                           2: {10: True, 20: True, 40: False}})
    assert longest_cell(csv) == "20 [10–≥ 40]"
    from seqbench.report.decisions import decide
    from seqbench.store import load_runs
    decisions = decide(load_runs(tmp_path / "r")[0])
    seeds = decisions.seeds.set_index("seed")
    assert (seeds.loc[0, "longest"], seeds.loc[0, "censored"]) == (40, True)
    assert (seeds.loc[1, "longest"], seeds.loc[1, "first_fail"]) == (10, 20)
    assert (seeds.loc[2, "longest"], seeds.loc[2, "first_fail"]) == (20, 40)


def test_a_test_score_past_the_threshold_is_not_solved(tmp_path):
    """At L=20 every seed's test accuracy passes copy's 0.99, but no run's status is `solved`
    (validation never held the threshold): L=20 is not solved, in the CSV as in the findings. The
    old table rule read the mean test score and said ≥ 20."""
    summary, md, csv, _ = fixed(tmp_path, {s: {10: True, 20: False} for s in (0, 1, 2)}, test_when_not_solved=0.995)
    assert longest_cell(csv) == "10"
    assert "lstm longest solved L (median over seeds): 10" in md


def test_a_submission_is_checked_against_the_protocol_the_main_table_ranks(tmp_path):
    """One main protocol: verify --submission reads decisions.main_protocol, the protocol of each
    task's main table. The fixture's adding has a smaller-budget protocol whose key sorts first; the
    leaderboard.csv's first default-recipe protocol, which the check used to read, is that one."""
    from fixture_runs import write_fixture_runs
    from seqbench.report.decisions import decide
    from seqbench.store import load_runs
    from seqbench.verify.submission import ranked_protocols
    records = write_fixture_runs(tmp_path)
    write_report(tmp_path, tmp_path)
    main = decide(records).main_protocol
    shown = (tmp_path / "leaderboard.md").read_text().split("## adding", 1)[1].split("## copy", 1)[0]
    assert f"Protocol `{main['adding']}`" in shown
    assert ranked_protocols(tmp_path, load_runs(tmp_path)[0]) == main
