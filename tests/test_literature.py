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
