"""A report shows what its results directory's suites measure, and nothing about suites it does not hold
(report/scope.py): findings, sections, literature rows and floors apply where the results hold their data."""
import dataclasses
import json
import re

import pandas as pd

from seqbench.leaderboard_version import snapshot_references
from seqbench.record import Generalisation
from seqbench.report.findings import FINDINGS, NOT_MEASURED, Evidence, evaluate_findings, left_out
from seqbench.report.render import write_report
from seqbench.report.scope import Needs, Scope, scope_of
from seqbench.store import write_run

from fixture_runs import record, write_fixture_runs

OTHER_SUITES = {"adding-gating", "copy-gating", "recall-attention", "recall-modern", "ner-bidirectional",
                "gradient-decay", "clipping", "relu-identity", "mse-vs-ce", "recall-capacity", "copy-literature",
                "attention-parallel", "attention-quadratic"}


def suite_record(results, name, version=1, **extra):
    (results / "suites").mkdir(parents=True, exist_ok=True)
    (results / "suites" / f"{name}.json").write_text(json.dumps({"name": name, "version": version, **extra}))


def findings_of(results) -> tuple[list[str], list[str]]:
    """The finding ids of findings.json and of the leaderboard's Findings table, in order."""
    data = json.loads((results / "findings.json").read_text())
    md = (results / "leaderboard.md").read_text().split("## Findings")[1].split("\n## ")[0]
    return [f["id"] for f in data["findings"]], [x for x in re.findall(r"^\| ([a-z][a-z-]*) \|", md, flags=re.M) if x != "id"]


GENERALISATION = ["generalise-nonregular", "generalise-regular", "transformer-positions"]


def formal_run(task, model, seed, score, language_class="regular"):
    """A formal task's run file with its generalisation block: `score` at every test length, 1.0 at training lengths."""
    r = record(task, model, 40, seed, 1e-3, 1.0, score, "solved" if score > 0.9 else "converged")
    block = Generalisation(train_lengths=[1, 40], test_lengths=[41, 500], score="mean",
                           test=[{"length": L, "accuracy": score} for L in (41, 500)],
                           val=[{"length": L, "accuracy": 1.0} for L in (1, 40)])
    return dataclasses.replace(r, generalisation=block, task=dataclasses.replace(r.task, language_class=language_class))


def test_a_generalisation_results_directory_renders_nothing_of_the_other_suites(tmp_path):
    results = tmp_path / "results"
    for seed in (0, 1):
        for model, score in (("rnn", 0.98), ("lstm", 0.99), ("transformer", 0.55)):
            write_run(results, formal_run("parity_check", model, seed, score))
        write_run(results, formal_run("reverse_string", "lstm", seed, 0.6, "context-free"))
    suite_record(results, "generalisation")
    snapshot_references(results)
    summary = write_report(results, results)
    md = (results / "leaderboard.md").read_text()
    in_json, in_md = findings_of(results)
    # its own three claims, decided (one regular task, every row generalising as the claim says;
    # one encoding only, so transformer-positions has nothing to compare), and nothing else
    assert in_json == in_md == GENERALISATION
    verdicts = {f["id"]: f["verdict"] for f in json.loads((results / "findings.json").read_text())["findings"]}
    assert verdicts == {"generalise-regular": "reproduced", "generalise-nonregular": "reproduced",
                        "transformer-positions": NOT_MEASURED}
    data = json.loads((results / "findings.json").read_text())
    assert {f["id"] for f in data["not_decided_here"]} == OTHER_SUITES
    # the claims it leaves out are named on one line, with what would decide them
    line = [x for x in md.splitlines() if x.startswith("Not decided here")]
    assert len(line) == 1 and "adding-gating" in line[0] and "`seqbench speed`" in line[0]
    assert not {"Against the literature", "Clipping and initialisation ablation", "Cost and parallelism"} & set(summary["sections"])
    assert "Floors of the standard suite" not in md and "## Length generalisation" in md


def test_the_main_table_names_the_transformers_encoding_where_its_others_ran(tmp_path):
    """Position encodings are a recipe setting (protocol.py): rope and none rank apart, under Ablations,
    and the main table's default row says which encoding it is, as the Length generalisation section does."""
    results = tmp_path / "results"
    write_run(results, record("parity_check", "lstm", 40, 0, 1e-3, 0.99, 0.98, "solved"))
    for positions in ("sinusoidal", "rope", "none"):  # sinusoidal: the formal tasks' default
        write_run(results, record("parity_check", "transformer", 40, 0, 1e-3, 0.6, 0.55, "converged",
                                  model_cfg={"positions": positions}))
    write_report(results, results)
    md = (results / "leaderboard.md").read_text()
    main, ablations = md.split("## Ablations")[0], md.split("## Ablations")[1].split("\n## ")[0]
    assert "| transformer (sinusoidal) |" in main and "| lstm |" in main and "rope" not in main
    assert "| transformer (positions=rope) |" in ablations and "| transformer (positions=none) |" in ablations
    # without variants of its encoding the row is the model's name alone
    (results / "runs").rename(tmp_path / "old")
    write_run(results, record("parity_check", "transformer", 40, 0, 1e-3, 0.6, 0.55, "converged"))
    write_report(results, results)
    assert "| transformer |" in (results / "leaderboard.md").read_text()


def test_a_standard_results_directory_keeps_its_own_claims_not_measured(tmp_path):
    """The fixture holds copy and adding runs: their claims stay, decided or 'not measured'; claims about
    tasks it does not hold (conll2003, recall, recall_mqar) and the speed probe's are left out."""
    results = tmp_path / "results"
    write_fixture_runs(results)
    suite_record(results, "standard")
    snapshot_references(results)
    summary = write_report(results, results)
    in_json, in_md = findings_of(results)
    assert in_json == in_md
    verdicts = {f["id"]: f["verdict"] for f in json.loads((results / "findings.json").read_text())["findings"]}
    assert verdicts["adding-gating"] == verdicts["relu-identity"] == verdicts["mse-vs-ce"] == NOT_MEASURED
    assert verdicts["clipping"] == "not reproduced"  # 1/6 diverged with clipping, 1/2 without: too few to tell
    assert not {"ner-bidirectional", "recall-attention", "recall-capacity", "attention-parallel"} & set(verdicts)
    assert not set(GENERALISATION) & set(verdicts)  # no formal task, no generalisation suite
    assert "Clipping and initialisation ablation" in summary["sections"]
    assert "Cost and parallelism" not in summary["sections"]  # no measure/speed-<device>.json
    # the standard suite's floors, every one (those without runs say so), and only the references of its tasks
    text = (results / "leaderboard.md").read_text().split("## Against the literature")[1]
    assert "**Floors of the standard suite**" in text and "| sst2 | lstm, bilstm |" in text and "| no runs |" in text
    rows = [r for r in text.split("**Floors")[0].splitlines() if r.startswith("| ") and "---" not in r][1:]
    assert rows and all("[arjovsky" in r or "[le2015" in r or "[bai2018" in r for r in rows)


def test_floors_need_the_standard_suite(tmp_path):
    results = tmp_path / "results"
    write_fixture_runs(results)
    suite_record(results, "quick", 3)
    snapshot_references(results)
    write_report(results, results)
    md = (results / "leaderboard.md").read_text()
    assert "## Against the literature" in md and "Floors of the standard suite" not in md


def test_scope_of_runs_suite_records_and_probes(tmp_path):
    results = tmp_path / "results"
    suite_record(results, "standard", 2, searches=[{"task": "recall_mqar", "chain": "c"}], tasks=["sst2"])
    runs = pd.DataFrame({"task": ["copy"]})
    scope = scope_of(runs, results)
    assert scope == Scope(frozenset({"copy", "recall_mqar", "sst2"}), frozenset({"standard"}), frozenset())
    assert scope.meets(Needs(tasks=("recall_mqar",))) and scope.meets(Needs(suite="standard")) and scope.meets(None)
    assert not scope.meets(Needs(tasks=("adding",), probe="speed"))
    (results / "measure").mkdir()
    (results / "measure" / "speed-cpu.json").write_text("{}")
    assert scope_of(runs, results).meets(Needs(probe="speed"))
    assert scope_of(pd.DataFrame(), tmp_path / "none") == Scope()


def test_every_claim_declares_what_it_needs():
    """A claim without a declaration would show in every report; each built-in one names its tasks or probe."""
    for name in FINDINGS.names():
        needs = FINDINGS.meta(name).get("needs")
        assert isinstance(needs, Needs) and (needs.tasks or needs.probe or needs.suite) and needs.by, name


def test_claims_of_a_scope_and_those_left_out_partition_the_registry():
    scope = Scope(frozenset({"copy"}))
    evidence = Evidence(pd.DataFrame(columns=["task", "model", "main"]))
    kept = [f.id for f in evaluate_findings(evidence, scope)]
    assert set(kept) == {"copy-gating", "clipping", "mse-vs-ce", "copy-literature"}
    assert sorted(kept + [name for name, _ in left_out(scope)]) == FINDINGS.names()
    assert [f.id for f in evaluate_findings(evidence)] == FINDINGS.names()  # no scope: every claim
