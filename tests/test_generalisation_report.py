"""The report's length-generalisation summary and findings (report/generalisation.py), each tested
both ways on synthetic frames, and the section from run files made by hand."""
import json

import pandas as pd
import pytest

from seqbench.report.findings import NOT_MEASURED, NOT_REPRODUCED, REPRODUCED
from seqbench.report.findings.generalisation import generalise_nonregular, generalise_regular, transformer_positions
from seqbench.report.generalisation import generalisation_frame, row_label, summarise

CLASS = {"parity_check": "regular", "cycle_navigation": "regular", "reverse_string": "context-free",
         "bucket_sort": "context-sensitive"}
TRANSFORMERS = ("transformer (sinusoidal)", "transformer (rope)", "transformer (none)")


def frame(scores: dict) -> pd.DataFrame:
    """{(task, row): [score per seed]} -> a generalisation frame (train accuracy 1.0)."""
    rows = [{"task": task, "row": row, "language_class": CLASS[task], "seed": seed, "status": "solved",
             "score": score, "train": 1.0}
            for (task, row), values in scores.items() for seed, score in enumerate(values)]
    return pd.DataFrame(rows)


def regular(rnn=1.0, lstm=1.0, transformer=0.5) -> dict:
    out = {}
    for task in ("parity_check", "cycle_navigation"):
        out[(task, "rnn")] = [rnn, rnn, rnn]
        out[(task, "lstm")] = [lstm, 1.0, 1.0]
        for row in TRANSFORMERS:
            out[(task, row)] = [transformer] * 3
    return out


def test_summary_is_the_mean_with_its_interval_and_the_best_seed():
    s = summarise(frame({("parity_check", "lstm"): [1.0, 0.9, 0.8]})).iloc[0]
    assert s["mean"] == pytest.approx(0.9) and s["best"] == 1.0 and s["n"] == 3
    assert s["half"] == pytest.approx(4.302653 * 0.1 / 3 ** 0.5, rel=1e-5)  # t(0.975, 2) * sd / sqrt(n)
    assert s["statuses"] == "solved 3"


def test_generalise_regular_both_ways():
    assert generalise_regular(summarise(frame(regular()))).verdict == REPRODUCED
    # One lstm seed that failed pulls its mean below 0.9: not reproduced, and the cell is named.
    failed = generalise_regular(summarise(frame(regular(lstm=0.5))))
    assert failed.verdict == NOT_REPRODUCED
    assert failed.numbers["recurrent below"] == ["cycle_navigation/lstm", "parity_check/lstm"]
    never = "recurrent below that never learned the task (training-length accuracy < 0.9)"
    assert failed.numbers[never] == []  # they learned it at the training lengths (train 1.0)
    untrained = frame(regular(rnn=0.2))
    untrained.loc[(untrained["row"] == "rnn") & (untrained["task"] == "cycle_navigation"), "train"] = 0.3
    assert generalise_regular(summarise(untrained)).numbers[never] == ["cycle_navigation/rnn"]
    # A Transformer that extrapolates breaks the claim's second half.
    assert generalise_regular(summarise(frame(regular(transformer=0.95)))).verdict == NOT_REPRODUCED
    # Without the Transformer's runs the comparison is not measured.
    no_transformer = {k: v for k, v in regular().items() if not k[1].startswith("transformer")}
    assert generalise_regular(summarise(frame(no_transformer))).verdict == NOT_MEASURED
    assert generalise_regular(summarise(frame({}))).verdict == NOT_MEASURED


def test_generalise_nonregular_both_ways_with_the_exception_named():
    low = {("reverse_string", "lstm"): [0.6, 0.6], ("bucket_sort", "lstm"): [0.7, 0.8],
           ("reverse_string", "transformer (rope)"): [0.55, 0.5]}
    assert generalise_nonregular(summarise(frame(low))).verdict == REPRODUCED
    high = {**low, ("bucket_sort", "lstm"): [0.99, 0.97]}
    finding = generalise_nonregular(summarise(frame(high)))
    assert finding.verdict == NOT_REPRODUCED and finding.numbers["exceptions"] == {"bucket_sort/lstm": 0.98}
    # Regular tasks do not count here.
    assert generalise_nonregular(summarise(frame(regular()))).verdict == NOT_MEASURED


def test_transformer_positions_both_ways():
    tasks = ["parity_check", "cycle_navigation", "reverse_string", "bucket_sort"]
    clear = {}
    for i, t in enumerate(tasks):  # rope 0.70, 0.71, 0.72, 0.73; sinusoidal and none 0.5
        clear.update({(t, TRANSFORMERS[0]): [0.5] * 3, (t, TRANSFORMERS[1]): [0.7 + 0.01 * i] * 3, (t, TRANSFORMERS[2]): [0.5] * 3})
    found = transformer_positions(summarise(frame(clear)))
    assert found.verdict == REPRODUCED and found.numbers["best"] == "transformer (rope)"
    assert found.numbers["lead"] == pytest.approx(0.215)
    # The best on average, but ahead on some tasks and behind on others: the interval spans 0.
    mixed = {(t, row): [score] * 3 for t, (a, b) in zip(tasks, [(0.9, 0.5), (0.5, 0.6), (0.9, 0.5), (0.5, 0.6)])
             for row, score in zip(TRANSFORMERS[:2], (a, b))}
    assert transformer_positions(summarise(frame(mixed))).verdict == NOT_REPRODUCED
    one = {(t, TRANSFORMERS[0]): [0.5] for t in tasks}
    assert transformer_positions(summarise(frame(one))).verdict == NOT_MEASURED


def test_row_labels_name_the_transformer_by_its_positions():
    assert row_label("lstm", "learned") == "lstm"
    assert row_label("transformer", "none") == "transformer (none)"
    assert row_label("transformer", None) == "transformer (sinusoidal)"  # a file from before the field


def test_published_cells_are_unverified_unless_the_table_or_the_cell_was_checked():
    from seqbench.report.generalisation_section import _published
    published = {"scores": {"parity_check": {"lstm": 1.0, "transformer": 0.52}, "cycle_navigation": {"transformer": 0.619}},
                 "verified": False, "verified_scores": {"cycle_navigation": {"transformer": "Appendix B.3.2"}}}
    assert _published(published, "cycle_navigation", "transformer (none)") == "0.619"  # every encoding's row
    assert _published(published, "parity_check", "transformer (none)") == "0.520 (unverified)"
    assert _published(published, "parity_check", "lstm") == "1.000 (unverified)"
    assert _published(published, "parity_check", "gru") == "—"
    assert _published({**published, "verified": True}, "parity_check", "lstm") == "1.000"
    assert _published({k: v for k, v in published.items() if k != "verified_scores"},
                      "cycle_navigation", "transformer (rope)") == "0.619 (unverified)"


def test_the_section_from_tiny_runs(tmp_path):
    """Real run files (tiny budgets) through the report: the section, its tables and its figure."""
    from conftest import TINY
    from seqbench.report.decisions import decide
    from seqbench.report.generalisation_section import generalisation_section
    from seqbench.runner import execute
    from seqbench.leaderboard_version import snapshot_references
    from seqbench.store import load_runs
    from seqbench.tasks import get_task

    results = tmp_path / "results"
    for task, model, positions in [("parity_check", "gru", None), ("parity_check", "transformer", "none"),
                                   ("reverse_string", "gru", None)]:
        overrides = {"train": dict(TINY["train"]), "model": {**TINY["model"], **({"positions": positions} if positions else {})}}
        execute(get_task(task).resolve(model, 6, 0, overrides), results)
    snapshot_references(results)
    records, _ = load_runs(results)
    section = generalisation_section(decide(records), results, tmp_path / "out")
    text = section.markdown
    assert "**regular**" in text and "**deterministic context-free**" in text and "context-sensitive**" not in text
    assert "| parity_check | transformer (none) |" in text and "(unverified)" in text
    assert section.figures == ["figures/generalisation_accuracy_vs_length.png"]
    assert (tmp_path / "out" / section.figures[0]).stat().st_size > 0
    published = json.loads((results / "references.json").read_text())["generalisation"]
    assert published["scores"]["parity_check"]["lstm"] == 1.0 and published["verified"] is False
    # tasks/references.yaml: only the cells read from the paper are unmarked (its why says which)
    assert "lstm" in published["verified_scores"]["parity_check"] and "transformer" not in published["verified_scores"]["parity_check"]
    assert generalisation_frame(decide([r for r in records if r.config.task == "copy"])).empty
