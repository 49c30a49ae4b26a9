"""The report: golden output from fixture runs, hand-checked CIs, selection, robustness, HTML and LaTeX."""
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from seqbench.report.frame import max_solved, runs_frame, summarise, t_interval
from seqbench.report.render import write_report
from seqbench.store import load_runs

from fixture_runs import write_fixture_runs

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
    summary = summarise(runs_frame(records))
    row = summary[(summary.task == "copy") & (summary.model == "lstm") & (summary.length == 10)].iloc[0]
    assert row.lr == pytest.approx(3e-3)  # lr 1e-2 has the better test score but the worse validation score
    assert row.n == 3 and row["mean"] == pytest.approx(0.99)


def test_max_solved_length_on_a_constructed_example(tmp_path):
    write_fixture_runs(tmp_path)
    records, _ = load_runs(tmp_path)
    solved = max_solved(summarise(runs_frame(records))).set_index(["task", "model"])["max_solved"]
    assert solved[("copy", "lstm")] == 20  # 0.99 and 0.994 pass 0.99; 0.565 at 40 does not
    assert solved[("copy", "rnn")] == 10
    assert solved[("adding", "gru")] == 50  # MSE 0.003 <= 0.01; 0.02 at 100 does not
    assert solved[("adding", "transformer")] is None or pd.isna(solved[("adding", "transformer")])


def test_failed_runs_are_shown_not_missing(report_dir):
    text = (report_dir / "leaderboard.md").read_text()
    assert "diverged 1" in text and "## Failed runs" in text


@pytest.mark.slow
def test_same_runs_give_identical_reports(tmp_path):
    write_fixture_runs(tmp_path / "r")
    write_report(tmp_path / "r", tmp_path / "a")
    write_report(tmp_path / "r", tmp_path / "b")
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert any(str(f).endswith(".png") for f in files) and any(str(f).endswith(".tex") for f in files)
    for rel in files:
        a, b = (tmp_path / "a" / rel).read_bytes(), (tmp_path / "b" / rel).read_bytes()
        if rel.suffix in (".md", ".html", ".json"):
            a, b = strip_date(a.decode()), strip_date(b.decode())
        assert a == b, rel


def test_corrupt_and_foreign_files_are_skipped_with_a_warning(tmp_path):
    write_fixture_runs(tmp_path)
    runs = tmp_path / "runs"
    (runs / "garbage.json").write_text("{not json")
    (runs / "other-tool.json").write_text('{"accuracy": 1}')
    victim = sorted(runs.glob("*.json"))[0]
    victim.write_text(victim.read_text().replace('"status": "ok"', '"status": "OK"'))
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
    assert r"\toprule" in tex and r"\bottomrule" in tex and r"$\pm$" in tex and r"\textbf{" in tex


@pytest.mark.slow
@pytest.mark.skipif(not shutil.which("pdflatex"), reason="pdflatex not installed")
def test_latex_compiles(report_dir, tmp_path):
    doc = tmp_path / "doc.tex"
    doc.write_text("\\documentclass{article}\\usepackage{booktabs}\\begin{document}\n"
                   + (report_dir / "tables" / "copy.tex").read_text() + "\\end{document}\n")
    proc = subprocess.run(["pdflatex", "-interaction=nonstopmode", doc.name], cwd=tmp_path, capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:]


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"), reason="chromium not installed")
def test_html_renders_tables_and_images_in_headless_chromium(report_dir, tmp_path):
    assert CHROMIUM, "CI must have chromium (.ci/run installs it)"
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
    old = {k: v for k, v in current.items() if k != "recipe"}
    old["task"] = {k: v for k, v in current["task"].items() if k != "higher_is_better"}
    write_run(tmp_path, old)
    with pytest.warns(UserWarning, match="lacks task.higher_is_better, recipe.default"):
        summary = write_report(tmp_path, tmp_path / "out")
    assert any(current["run_id"] in m and "upgrade_runs.py" in m for m in summary["skipped"])

    spec = importlib.util.spec_from_file_location("upgrade_runs", REPORT_PACKAGE.parent.parent / "tools" / "upgrade_runs.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    assert tool.upgrade_results(tmp_path) == (1, [])
    upgraded = read_run(run_path(tmp_path, current["run_id"]))  # the content hash was recomputed
    assert upgraded["recipe"] == current["recipe"]
    assert upgraded["task"]["higher_is_better"] == current["task"]["higher_is_better"]
    assert tool.upgrade_results(tmp_path) == (0, [])  # a second pass changes nothing
    assert write_report(tmp_path, tmp_path / "again")["skipped"] == []
