"""The report: golden output from fixture runs, hand-checked CIs, selection, robustness, HTML and LaTeX."""
import math
import os
import shutil
import subprocess
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
