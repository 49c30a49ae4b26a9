"""The report: golden output from fixture runs, hand-checked CIs, selection, robustness, HTML and LaTeX."""
import dataclasses
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import json

from seqbench.record import Search
from seqbench.report.decisions import decide
from seqbench.report.frame import baselines_of, t_interval
from seqbench.report.render import write_report
from seqbench.store import load_runs

from fixture_runs import minimal_record, searched_longest, write_fixture_runs

GOLDEN = Path(__file__).parent / "golden" / "leaderboard.md"


def strip_date(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if "date" not in line.lower())


@pytest.fixture
def report_dir(tmp_path):
    results = tmp_path / "results"
    write_fixture_runs(results)
    write_report(results, results)
    return results


def test_golden_markdown(report_dir):
    text = strip_date((report_dir / "leaderboard.md").read_text())
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text()


def test_ci_checked_by_hand():
    mean, half, n = t_interval([0.99, 1.00, 0.98])
    assert n == 3 and mean == pytest.approx(0.99)
    assert half == pytest.approx(4.302652729 * 0.01 / math.sqrt(3), rel=1e-6)
    assert math.isnan(t_interval([0.5])[1])


def test_selection_uses_validation_not_test(tmp_path):
    write_fixture_runs(tmp_path)
    records, _ = load_runs(tmp_path)
    summary = decide(records).summary
    row = summary[(summary.task == "copy") & (summary.model == "lstm") & (summary.length == 10)].iloc[0]
    assert row.lr == pytest.approx(3e-3)  # lr 1e-2 has the better test score but the worse validation score
    assert row.n == 3 and row["mean"] == pytest.approx(0.99)


def test_max_solved_length_on_a_constructed_example(tmp_path):
    write_fixture_runs(tmp_path)
    records, _ = load_runs(tmp_path)
    solved = decide(records).longest
    solved = solved[solved["variant"].isin(["", "clip=1.0"]) & (solved["protocol"] != OTHER_PROTOCOL(records))]
    solved = solved.set_index(["task", "model"])
    # lstm: seeds 0 and 1 solved 10 and 20, not 40; seed 2 ran only L=10 (its L=20 counts as not solved)
    assert solved.loc[("copy", "lstm"), "longest"] == 20 and solved.loc[("copy", "lstm"), "label"] == "20 [10–20]"
    assert solved.loc[("copy", "rnn"), "label"] == "10"
    assert solved.loc[("adding", "gru"), "label"] == "50"  # solved at 50, converged at 100
    assert solved.loc[("adding", "transformer"), "label"] == "< 50"


def OTHER_PROTOCOL(records) -> str:
    """The protocol of the fixture's adding/gru runs at 500 steps."""
    from seqbench.protocol import protocol_key
    return next(protocol_key(r) for r in records if r.config.train.steps == 500)


def test_failed_runs_are_shown_not_missing(report_dir):
    text = (report_dir / "leaderboard.md").read_text()
    assert "diverged 1" in text and "## Failed runs" in text


def _section(text: str, heading: str) -> str:
    """The Markdown from `heading` to the next heading of the same or a higher level."""
    level = heading.split(" ")[0]
    start = text.index(heading + "\n")
    rest = text[start + len(heading) + 1:]
    ends = [i for i in (rest.find("\n" + "#" * n + " ") for n in range(1, len(level) + 1)) if i >= 0]
    return rest[:min(ends)] if ends else rest


def test_two_protocols_never_share_a_ranking(report_dir):
    text = (report_dir / "leaderboard.md").read_text()
    main = _section(text, "## adding")
    assert "0.00300 [0.00200–0.00400]" in main and "0.0550" not in main  # the 500-step gru is elsewhere
    other = _section(text, "## Other protocols")
    assert "0.0550 [0.0500–0.0600]†" in other and "0.00300" not in other
    protocols = {line.split("`")[1] for line in text.splitlines() if line.startswith("Protocol `")}
    assert len(protocols) == 3  # adding main, adding at 500 steps, copy (its ablation shares it, in its own table)


def test_ablation_variants_get_their_own_section(report_dir):
    text = (report_dir / "leaderboard.md").read_text()
    main = _section(text, "## copy")
    assert "clip=off" not in main and "| rnn |" in main  # the main table names default recipes by model alone
    ablation = _section(text, "## Ablations")
    assert "| rnn (clip=off) | 0.500* · diverged 1/2" in ablation and "| rnn (clip=1.0) |" in ablation
    assert "| # |" not in ablation  # never ranked
    assert "lstm" not in ablation  # reference rows only for the models varied


def test_a_diverged_seed_is_a_word_and_the_mean_is_marked(report_dir):
    main = _section((report_dir / "leaderboard.md").read_text(), "## copy")
    assert "0.300* · diverged 1/2" in main
    assert "some seeds failed" in main


def test_intervals_are_clipped_in_the_rendered_table(report_dir):
    # copy/lstm at L=10: 0.99 ± 0.0248 would reach 1.015; accuracy stops at 1.
    main = _section((report_dir / "leaderboard.md").read_text(), "## copy")
    assert "0.990 [0.965–1.00]" in main
    assert "±" not in (report_dir / "leaderboard.md").read_text()
    assert "0.990 [0.965--1.00]" in (report_dir / "tables" / "copy.tex").read_text()
    assert "0.990 [0.965–1.00]" in (report_dir / "leaderboard.html").read_text()


def test_baseline_lines_are_named_by_strategy(report_dir):
    text = (report_dir / "leaderboard.md").read_text()
    copy, adding = _section(text, "## copy"), _section(text, "## adding")
    assert "|  | chance | 0.125 | 0.125 | 0.125 |" in copy and "|  | memoryless | 0.550 |" in copy
    assert "|  | predict 1 | 0.167 |" in adding
    assert "0.565 [0.520–0.610] ≈ memoryless" in copy  # not better than the memoryless strategy
    assert "within noise of that trivial strategy" in copy
    assert baselines_of(minimal_record(task={"metric": "accuracy"}, baseline={"accuracy": 0.25})) == {"chance": 0.25}


def test_a_score_far_below_a_strategy_is_not_marked_within_noise(report_dir):
    """copy/rnn at L=20 scores 0.300, far below the memoryless strategy (0.55): `<`, not `≈`; at L=40
    its 0.125 is chance, and says so."""
    text = (report_dir / "leaderboard.md").read_text()
    assert "0.300* · diverged 1/2 < memoryless" in text and "0.125 [0.120–0.130] ≈ chance" in text
    assert "< <strategy>: worse than that trivial strategy beyond noise." in text


def test_budget_limited_cells_are_marked(report_dir):
    main = _section((report_dir / "leaderboard.md").read_text(), "## adding")
    assert "0.166†" in main and "the number is a floor" in main


def test_findings_section_and_json(report_dir):
    text = (report_dir / "leaderboard.md").read_text()
    assert "## Findings" in text and "| clipping |" in _section(text, "## Findings")
    data = json.loads((report_dir / "findings.json").read_text())
    verdicts = {f["id"]: f["verdict"] for f in data["findings"]}
    assert {"adding-gating", "copy-gating", "gradient-decay", "relu-identity"} <= set(verdicts)
    # the fixture holds no recall or conll2003 runs and no speed probe: those claims are named, not listed
    assert not {"recall-attention", "ner-bidirectional", "attention-parallel"} & set(verdicts)
    assert {"recall-attention", "ner-bidirectional", "attention-parallel"} <= {f["id"] for f in data["not_decided_here"]}
    assert verdicts["clipping"] == "not reproduced"  # 1/6 diverged with clipping, 1/2 without: too few to tell
    assert data["provenance"]["runs"] == "24"


def _search_frame(chains: dict, start=8, top=32) -> pd.DataFrame:
    rows = [{"task": "adding", "protocol": "p", "model": "lstm", "variant": "", "lr": 1e-3, "seed": seed,
             "length": L, "status": "solved" if ok else "converged", "search/chain": f"c{seed}",
             "search/start": start, "search/max": top, "search/refine": 2}
            for seed, outcomes in chains.items() for L, ok in outcomes]
    return pd.DataFrame(rows)


def _longest(frame: pd.DataFrame) -> pd.DataFrame:
    return searched_longest(frame)


def test_longest_solved_of_searched_chains():
    frame = _search_frame({0: [(8, True), (16, True), (32, False), (24, True), (28, False)],
                           1: [(8, True), (16, True), (32, True)]})
    row = _longest(frame).iloc[0]
    assert row["longest"] == 28 and row["label"] == "28 [24–≥ 32]" and not row["censored"]
    censored = _longest(_search_frame({0: [(8, True), (16, True), (32, True)]})).iloc[0]
    assert censored["censored"] and censored["label"] == "≥ 32"
    nothing = _longest(_search_frame({0: [(8, False)], 1: [(8, False)]})).iloc[0]
    assert nothing["label"] == "< 8"


def test_fixed_lengths_mark_a_solved_longest_length_as_a_floor(report_dir):
    ablation = _section((report_dir / "leaderboard.md").read_text(), "## copy")
    assert "| 20 [10–20] |" in ablation  # lstm: 40 failed; seed 2 ran L=10 only
    records, _ = load_runs(report_dir)
    solved = decide(records).longest.set_index(["task", "model", "variant"])
    assert solved.loc[("adding", "transformer", ""), "label"] == "< 50"


@pytest.mark.slow
def test_same_runs_give_identical_reports(tmp_path):
    write_fixture_runs(tmp_path / "r")
    write_report(tmp_path / "r", tmp_path / "a")
    write_report(tmp_path / "r", tmp_path / "b")
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert any(str(f).endswith(".png") for f in files) and any(str(f).endswith(".tex") for f in files)
    for rel in files:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel


def test_a_report_is_dated_by_its_newest_run_not_by_the_clock(monkeypatch):
    import time
    from seqbench.report.render import provenance_block
    runs = [minimal_record(timing={"finished_at": "2026-11-25T18:14:00Z"}),
            minimal_record(timing={"finished_at": "2026-11-26T09:08:30Z"}), minimal_record()]
    monkeypatch.setattr(time, "gmtime", lambda *a: time.struct_time((2030, 1, 1, 0, 0, 0, 1, 1, 0)))
    assert provenance_block(runs, Path("/nonexistent"))["date"].startswith("2026-11-26 09:08 UTC")


def test_corrupt_and_foreign_files_are_skipped_with_a_warning(tmp_path):
    write_fixture_runs(tmp_path)
    runs = tmp_path / "runs"
    (runs / "garbage.json").write_text("{not json")
    (runs / "other-tool.json").write_text('{"accuracy": 1}')
    victim = sorted(runs.glob("*.json"))[0]
    victim.write_text(victim.read_text().replace('"peak_mb": 300.0', '"peak_mb": 301.0'))  # tampered
    with pytest.warns(UserWarning):
        summary = write_report(tmp_path, tmp_path / "out")
    named = " ".join(summary["skipped"])
    assert "garbage.json" in named and "other-tool.json" in named and victim.name in named
    assert "hash mismatch" in named
    assert "garbage.json" in (tmp_path / "out" / "leaderboard.md").read_text()


def test_csv_and_latex(report_dir):
    frame = pd.read_csv(report_dir / "leaderboard.csv")
    assert {"task", "model", "length", "mean", "ci", "n", "baseline", "max_solved"} <= set(frame.columns)
    tex = (report_dir / "tables" / "copy.tex").read_text()
    assert r"\toprule" in tex and r"\bottomrule" in tex and "--" in tex and r"\textbf{" in tex


def require_tool(path: str | None, what: str) -> str:
    """A tool a test needs: in CI (`CI` set, as .ci/run sets it) a missing one fails the test, since
    .ci/run installs it; elsewhere the test is skipped."""
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{what} is missing in CI (.ci/run installs it)")
        pytest.skip(f"{what} not installed")
    return path


@pytest.mark.parametrize("ci", ["", "1"])
def test_a_missing_tool_fails_in_ci_and_skips_elsewhere(ci, monkeypatch):
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.fail.Exception if ci else pytest.skip.Exception, match="pdflatex"):
        require_tool(None, "pdflatex")
    assert require_tool("/usr/bin/pdflatex", "pdflatex") == "/usr/bin/pdflatex"
    assert "\nexport CI=1\n" in (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()


@pytest.mark.slow
def test_latex_compiles(report_dir, tmp_path):
    pdflatex = require_tool(shutil.which("pdflatex"), "pdflatex")
    doc = tmp_path / "doc.tex"
    doc.write_text("\\documentclass{article}\\usepackage{booktabs}\\begin{document}\n"
                   + (report_dir / "tables" / "copy.tex").read_text() + "\\end{document}\n")
    proc = subprocess.run([pdflatex, "-interaction=nonstopmode", doc.name], cwd=tmp_path, capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:]


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.slow
def test_html_renders_tables_and_images_in_headless_chromium(report_dir, tmp_path):
    require_tool(CHROMIUM, "chromium")
    page = (report_dir / "leaderboard.html").read_text()
    assert "http://" not in page and "https://" not in page  # self-contained: nothing fetched
    # Chromium runs the page's script; the DOM it dumps shows what a reader sees.
    probe = page.replace("</body>", "<script>document.body.setAttribute('data-tables', document.querySelectorAll('table').length);"
                         "document.body.setAttribute('data-images', [...document.images].filter(i => i.complete && i.naturalWidth > 0).length);"
                         "</script></body>")
    path = tmp_path / "probe.html"
    path.write_text(probe)
    proc = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                           "--disable-background-networking", "--disable-component-update", "--disable-sync",
                           f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=3000", "--dump-dom", path.as_uri()],
                          capture_output=True, text=True, timeout=120)
    import re
    tables = re.search(r'data-tables="(\d+)"', proc.stdout)
    images = re.search(r'data-images="(\d+)"', proc.stdout)
    assert tables and images, proc.stderr[-2000:]
    assert int(tables.group(1)) >= 2 and int(images.group(1)) >= 2
    shot = tmp_path / "shot.png"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    f"--user-data-dir={tmp_path / 'profile2'}", f"--screenshot={shot}", "--window-size=1200,2000",
                    (report_dir / "leaderboard.html").as_uri()], capture_output=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 10_000


# ---------------------------------------------------------------- the report reads only run files

ARCHIVE = Path(__file__).resolve().parent.parent / "results" / "archive"
REPORT_PACKAGE = Path(__file__).resolve().parent.parent / "seqbench" / "report"
FORBIDDEN = ("seqbench.tasks", "seqbench.models", "seqbench.metrics")


def imported_modules(path: Path) -> set[str]:
    """Absolute names of the modules a report module imports (relative imports resolved)."""
    import ast

    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = "seqbench.report" if node.level == 1 else "seqbench" if node.level == 2 else ""
            module = ".".join(p for p in (base, node.module or "") if p)
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("path", sorted(REPORT_PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_report_modules_import_neither_tasks_nor_models(path):
    bad = {name for name in imported_modules(path) if name.startswith(FORBIDDEN)}
    assert not bad, f"{path.name} imports {sorted(bad)}: the report must read what it needs from the run files"


def test_archive_renders_identically_without_the_task_yamls(tmp_path):
    """The committed archive, rendered with no task YAMLs on the search path and seqbench.tasks and
    seqbench.models made unimportable, gives the same leaderboard as a normal render."""
    write_report(ARCHIVE, tmp_path / "normal")
    (tmp_path / "no_tasks").mkdir()
    script = ("import sys\n"
              "sys.modules['seqbench.tasks'] = sys.modules['seqbench.models'] = None  # any import of them fails\n"
              "from seqbench.report.render import write_report\n"
              f"write_report({str(ARCHIVE)!r}, {str(tmp_path / 'hidden')!r})\n")
    env = {**os.environ, "SEQBENCH_TASKS": str(tmp_path / "no_tasks")}
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    normal, hidden = tmp_path / "normal", tmp_path / "hidden"
    assert strip_date((hidden / "leaderboard.md").read_text()) == strip_date((normal / "leaderboard.md").read_text())
    assert (hidden / "leaderboard.csv").read_text() == (normal / "leaderboard.csv").read_text()
    assert sorted(p.name for p in (normal / "tables").iterdir()) == sorted(p.name for p in (hidden / "tables").iterdir())
    for tex in (normal / "tables").iterdir():
        assert (hidden / "tables" / tex.name).read_text() == tex.read_text(), tex.name
    assert "## Skipped files" not in (normal / "leaderboard.md").read_text()  # every archived file is current


def test_an_old_run_file_is_skipped_by_name_and_upgraded_by_the_tool(tmp_path):
    import importlib.util

    from seqbench.store import read_run, run_path, write_run

    records = write_fixture_runs(tmp_path)
    current = records[0]
    write_run(tmp_path, current.replace(recipe=None, task=dataclasses.replace(current.task, higher_is_better=None)))
    with pytest.warns(UserWarning, match="lacks task.higher_is_better, recipe.default"):
        summary = write_report(tmp_path, tmp_path / "out")
    assert any(current.run_id in m and "upgrade_runs.py" in m for m in summary["skipped"])

    spec = importlib.util.spec_from_file_location("upgrade_runs", REPORT_PACKAGE.parent.parent / "tools" / "upgrade_runs.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    assert tool.upgrade_results(tmp_path) == (1, [])
    upgraded = read_run(run_path(tmp_path, current.run_id))  # the content hash was recomputed
    assert upgraded.recipe == current.recipe
    assert upgraded.task.higher_is_better == current.task.higher_is_better
    assert tool.upgrade_results(tmp_path) == (0, [])  # a second pass changes nothing
    assert write_report(tmp_path, tmp_path / "again")["skipped"] == []


def test_a_searched_protocol_shows_common_lengths_and_the_search_result(tmp_path):
    from fixture_runs import record

    from seqbench.store import write_run
    # (model, seed, length, solved): gru solves up to the search's max (censored); rnn nothing.
    probes = [("gru", s, L, True) for s in (0, 1) for L in (8, 16, 32)]
    probes += [("gru", 0, 64, True), ("gru", 1, 64, False), ("gru", 1, 48, True), ("gru", 1, 56, True)]
    probes += [("rnn", s, 8, False) for s in (0, 1)]
    for model, seed, L, ok in probes:
        r = record("adding", model, L, seed, 3e-3, 0.001 if ok else 0.1, 0.001 if ok else 0.1, "solved" if ok else "converged")
        write_run(tmp_path, r.replace(search=Search(chain=f"{model}-{seed}", start=8, max=64, refine=2)))
    write_report(tmp_path, tmp_path / "out")
    main = _section((tmp_path / "out" / "leaderboard.md").read_text(), "## adding")
    header = next(line for line in main.splitlines() if line.startswith("| # |"))
    assert "| L=8 | longest solved L |" in header  # only the length every seed of every model ran
    assert "| 1 | gru |" in main and "| 60 [56–≥ 64] |" in main and "| < 8 |" in main


def test_a_suite_with_runs_left_is_marked_incomplete(tmp_path):
    results = tmp_path / "results"
    write_fixture_runs(results)
    (results / "suites").mkdir(exist_ok=True)
    record = {"name": "standard", "version": 1, "run_ids": [], "complete": False}
    (results / "suites" / "standard.json").write_text(json.dumps(record))
    write_report(results, results)
    text = (results / "leaderboard.md").read_text()
    assert "**Incomplete: the sweep of standard v1 has runs left" in text
    assert "standard v1 (incomplete)" in text and "Incomplete: the sweep" in (results / "leaderboard.html").read_text()
    (results / "suites" / "standard.json").write_text(json.dumps({**record, "complete": True}))
    write_report(results, results)
    assert "ncomplete" not in (results / "leaderboard.md").read_text()


def test_provenance_counts_runs_per_commit_and_says_version_is_one_of_them(tmp_path):
    from seqbench.report.render import provenance_block

    def record(commit, dirty):
        return minimal_record(provenance={"git_commit": commit, "git_dirty": dirty})
    (tmp_path / "VERSION").write_text("suites:\n  standard: 1\nseqbench: 0.1.0\ncommit: " + "a" * 40 + "\ndirty: false\n")
    records = [record("a" * 40, False), record("a" * 40, False), record("b" * 40, True)]
    block = provenance_block(records, tmp_path)
    assert block["git commit of the runs"] == "aaaaaaaaaaaa (2 runs), bbbbbbbbbbbb dirty (1 run)"
    assert "the runs come from 2 commits" in block["leaderboard version"]
    assert "come from" not in provenance_block(records[:2], tmp_path)["leaderboard version"]


def test_protocol_text_states_the_stop_tolerance():
    from seqbench.protocol import Protocol
    train = {"steps": 4000, "batch_size": 64, "early_stop": True, "patience": 10, "eval_every": 100, "tolerance": 0.05}
    text = Protocol.of({"task": "sst2", "task_version": 2, "model": {"params": 100000}, "train": train}).describe()
    assert text.endswith("early stop (hold 2, patience 10 evaluations of 100 steps, a gain must close 5% of the gap to the ideal)")


def test_memory_note_only_where_a_shared_embedding_makes_peaks_agree():
    from seqbench.report.leaderboard import shared_memory_note
    sst2 = pd.DataFrame({"peak_mb": [44.97, 44.98, 45.05], "embedding_params": [1898240.0] * 3, "params": [100000.0] * 3})
    note = shared_memory_note(sst2)
    assert note.startswith("Peak memory is 45.0–45.0 MB for every model") and "1,898,240 parameters" in note
    assert shared_memory_note(sst2.assign(peak_mb=[42.7, 86.2, 103.0])) is None  # the models differ: no note
    assert shared_memory_note(sst2.assign(embedding_params=[4224.0] * 3)) is None  # a small vocabulary
    assert shared_memory_note(sst2.drop(columns="embedding_params")) is None  # older summaries


def test_lr_column_marks_a_choice_at_an_end_of_the_grid():
    from seqbench.report.leaderboard import lr_cell
    grid = [1e-3, 3e-3, 1e-2]
    row = lambda lr, grid=grid: pd.DataFrame({"lr": [lr], "lr_grid": [grid]})  # noqa: E731
    top, at_end = lr_cell(row(1e-2), open_ended=True)
    assert (top.text, at_end) == ("0.01‡", True)
    assert lr_cell(row(1e-3), open_ended=True)[1]  # the smallest rate is an end too
    assert lr_cell(row(3e-3), open_ended=True) [0].text == "0.003"  # bracketed: no mark
    assert not lr_cell(row(1e-2, [3e-3, 1e-2]), open_ended=True)[1]  # two rates: every choice is an end
    assert not lr_cell(row(1e-2), open_ended=False)[1]  # a search solved to its ceiling: nothing to gain
    # A search row's grid is the union over its lengths (a chain at another rate may stop early).
    lengths = pd.DataFrame({"lr": [1e-2, 1e-2], "lr_grid": [[1e-3, 3e-3, 1e-2], [1e-2]]})
    assert lr_cell(lengths, open_ended=True) [0].text == "0.01‡"


def test_leaderboard_marks_and_explains_a_grid_end(tmp_path):
    """copy/lstm at L=10 tried 3e-3 (chosen on validation) and 1e-2; a third, worse rate 3e-2 makes the
    choice the grid's smallest: the cell says so, and the table's note explains the mark."""
    from seqbench.report.leaderboard import boards
    write_fixture_runs(tmp_path)
    records, _ = load_runs(tmp_path)
    extra = []
    for r in records:
        cfg = r.config
        if (cfg.task, cfg.model.name, cfg.length, cfg.train.lr) == ("copy", "lstm", 10, 1e-2):
            config = dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, lr=3e-2))
            extra.append(r.replace(config=config, run_id=r.run_id[:-3] + "fff",
                                   metrics={**r.metrics, "val/accuracy": 0.2}))
    assert extra
    copy_board = next(b for b in boards(decide(records + extra)) if b.task == "copy" and b.kind == "main")
    lr_column = copy_board.table.columns.index("lr")
    lstm = next(row for row in copy_board.table.rows if any(c.text == "lstm" for c in row))
    assert lstm[lr_column].text == "0.003‡"
    assert "‡ validation chose the largest or smallest rate of the grid tried" in copy_board.table.note
    # Without the third rate nothing is an end: no mark, no note.
    plain_board = next(b for b in boards(decide(records)) if b.task == "copy" and b.kind == "main")
    assert "‡" not in plain_board.table.note


def test_wall_clock_joins_overlapping_runs_into_sittings():
    from seqbench.report.render import wall_clock_text
    run = lambda end, seconds: minimal_record(timing={"finished_at": end, "train_time_s": seconds})  # noqa: E731
    records = [run("2026-11-25T10:10:00Z", 600),   # 10:00-10:10
               run("2026-11-25T10:15:00Z", 600),   # 10:05-10:15, overlaps the first (two workers)
               run("2026-11-25T10:30:00Z", 300),   # 10:25-10:30, a 10-minute pause: the same sitting
               run("2026-11-25T12:00:00Z", 1800),  # 11:30-12:00, a new sitting
               minimal_record(timing={"train_time_s": 5.0})]  # no finish time: left out
    assert wall_clock_text(records).startswith(
        "1.0 h in 2 sittings, 2026-11-25 10:00 UTC to 2026-11-25 12:00 UTC")
    assert wall_clock_text([]) == "—"


def _ceiling_report(tmp_path, lstm_max: int, lstm_solves: tuple, ablation: bool = False) -> str:
    """adding: gru solves every length to its ceiling 64 with a worse MSE; lstm solves `lstm_solves` of
    its search to `lstm_max` with a better one. `ablation`: an rnn without clipping (a variant of the
    same protocol, shown in the ablation table) solves its search to a lower ceiling, 16."""
    from fixture_runs import record

    from seqbench.store import write_run
    probes = [("gru", s, L, True, 64, 0.01, None) for s in (0, 1) for L in (8, 16, 32, 64)]
    probes += [("lstm", s, L, L in lstm_solves, lstm_max, 0.001, None)
               for s in (0, 1) for L in (8, 16, 32, 64) if L <= lstm_max]
    if ablation:
        probes += [("rnn", s, L, True, 16, 0.05, {"clip": None}) for s in (0, 1) for L in (8, 16)]
    for model, seed, L, ok, top, mse, train in probes:
        r = record("adding", model, L, seed, 3e-3, mse if ok else 0.1, mse if ok else 0.1, "solved" if ok else "converged",
                   train=train)
        write_run(tmp_path, r.replace(search=Search(chain=f"{model}-{seed}-{train}", start=8, max=top, refine=0)))
    write_report(tmp_path, tmp_path / "out")
    return _section((tmp_path / "out" / "leaderboard.md").read_text(), "## adding")


def test_a_search_censored_at_a_lower_ceiling_is_not_ranked_below_one_that_went_further(tmp_path):
    # lstm `≥ 32` (never tried at 64) against gru `≥ 64`: no order at 64, so the better MSE ranks first.
    main = _ceiling_report(tmp_path, lstm_max=32, lstm_solves=(8, 16, 32))
    assert "| 1 | lstm |" in main and "| 2 | gru |" in main and "| ≥ 32 |" in main and "| ≥ 64 |" in main
    assert "Ranked by the longest solved length up to 32, the lowest ceiling" in main


def test_a_search_that_failed_below_another_models_ceiling_ranks_below_it(tmp_path):
    # lstm tried 64 and failed there: gru's `≥ 64` is ahead of its 32, whatever the MSE.
    main = _ceiling_report(tmp_path, lstm_max=64, lstm_solves=(8, 16, 32))
    assert "| 1 | gru |" in main and "| 2 | lstm |" in main
    assert "Ranked by the longest solved length, then the mean." in main and "up to" not in main


def test_an_ablation_variant_censored_lower_does_not_cap_the_main_tables_ranking(tmp_path):
    # The rnn without clipping ends `≥ 16` in the same protocol, but the main table does not show it:
    # its ceiling must not cap the main ranking (gru's `≥ 64` stays ahead of lstm's 32).
    report = _ceiling_report(tmp_path, lstm_max=64, lstm_solves=(8, 16, 32), ablation=True)
    main = report.split("## Ablations")[0]
    assert "| 1 | gru |" in main and "| 2 | lstm |" in main
    assert "Ranked by the longest solved length, then the mean." in main and "up to 16" not in main
