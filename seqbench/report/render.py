"""Write the report: leaderboard.md / .html / .csv, tables/<task>.tex, figures/.

The same run files give byte-identical output: the report is dated by its newest run, not by the clock.
"""
from __future__ import annotations

import base64
import html
import warnings
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from .. import __version__
from ..atomic import write_text_atomic
from ..leaderboard_version import read_version, version_suites
from ..record import RunRecord
from ..store import load_runs, suite_label, suite_records, unfinished_suites, write_json_atomic
from . import figures
from . import ablation_section as ablation, cost_section as cost
from .capacity import capacity_section
from .evidence import evidence_of, findings_json, findings_section
from .findings import evaluate_findings, left_out
from .decisions import Decisions, decide
from .frame import ROW, missing_fields
from .generalisation_section import generalisation_section
from .gradflow_section import gradflow_section
from .leaderboard import Board, boards, failures_table
from .positions_section import positions_section
from .literature_section import literature_section
from .lm import lm_section
from .modern_section import modern_section
from .perf_section import perf_section
from .scope import Scope, scope_of
from .section import Section
from .submissions import accepted_entries
from .sweep_cost import ceiling_section, estimate_text
from .table import Table

# summary columns the CSV leaves out (its columns are stable; dicts and lists are not CSV)
SUMMARY_ONLY = ["higher_is_better", "n_failed_at_lr", "lr_grid", "values", "failed_counts", "statuses", "baselines", "protocol_text"]
GROUPS = {"other": ("Other protocols", "Default-recipe runs of another protocol than the main table's (another suite, "
                    "budget, size or data): ranked among themselves only."),
          "ablation": ("Ablations", "Recipe variants, beside their protocol's default-recipe runs for reference; "
                       "never ranked with the main models.")}


def version_text(version: dict) -> str:
    """VERSION as one line: 'standard v1 · seqbench 0.1.0 · commit 0c6fbb6a1b2c'; a dash without one."""
    if not version:
        return "— (no VERSION file: written by `seqbench sweep`)"
    suites = version_suites(version)
    commit = str(version.get("commit") or "unknown")[:12] + (" (dirty)" if version.get("dirty") else "")
    return f"{suites or '—'} · seqbench {version.get('seqbench', '?')} · commit {commit}"


def incomplete_notice(names: list[str]) -> str:
    return (f"Incomplete: the sweep of {', '.join(names)} has runs left, so these numbers are not final (an open "
            "length search shows the lengths reached so far). Run the same `seqbench sweep` command to finish it.")


def training_time_text(records: list[RunRecord]) -> str:
    """The training loops' wall-clock time, and where runs recorded it (timing.cpu_s) their CPU time."""
    timed = [r.timing for r in records if isinstance(r.timing.train_time_s, (int, float))]
    if not timed:
        return "—"
    wall = sum(t.train_time_s for t in timed)
    with_cpu = [t for t in timed if isinstance(t.cpu_s, (int, float))]
    if not with_cpu:
        return (f"{wall / 3600:.1f} worker-hours in the training loops of {len(timed)} runs "
                "(the sum of timing.train_time_s; test evaluation, probes and data preparation not counted)")
    cpu, cpu_wall = sum(t.cpu_s for t in with_cpu), sum(t.train_time_s for t in with_cpu)
    missing = len(timed) - len(with_cpu)
    return (f"{cpu / 3600:.1f} CPU-hours in the training loops of {len(with_cpu)} runs (the sum of timing.cpu_s: "
            f"user + system time, all threads; {cpu / cpu_wall:.2f} CPU-seconds per second of their training)"
            + (f", cpu_s not recorded for {missing} run{'s' * (missing != 1)} (older code)" if missing else "")
            + f"; {wall / 3600:.1f} worker-hours of wall-clock training in {len(timed)} runs (the sum of "
            "timing.train_time_s, which counts time a run waited for the CPU); test evaluation, probes and data "
            "preparation not counted")


SITTING_GAP_S = 600  # a pause this long between runs' training starts a new sitting


def utc(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def training_intervals(records: list[RunRecord]) -> list[tuple[datetime, datetime]]:
    """Each run's training loop as (start, end): end is timing.finished_at, start that less train_time_s;
    a resumed run's attempts as they were on the clock (timing.spans), not as one stretch that would
    reach back into the pause between them."""
    out = []
    for r in records:
        end, seconds = r.timing.finished_at, r.timing.train_time_s
        if r.timing.spans:
            out += [(utc(a), utc(b)) for a, b in r.timing.spans]
        elif isinstance(end, str) and isinstance(seconds, (int, float)):
            finished = utc(end)
            out.append((finished - timedelta(seconds=seconds), finished))
    return sorted(out)


def sittings(records: list[RunRecord]) -> list[tuple[datetime, datetime, int]]:
    """The runs' training on the clock: the union of their intervals, cut into sittings where a pause is
    over SITTING_GAP_S; each (start, end, the most runs that trained at once in it: its workers)."""
    out: list[list] = []
    for start, end in training_intervals(records):
        if out and (start - out[-1][1]).total_seconds() <= SITTING_GAP_S:
            out[-1][1] = max(out[-1][1], end)
            out[-1][2].append((start, end))
        else:
            out.append([start, end, [(start, end)]])
    return [(start, end, most_at_once(intervals)) for start, end, intervals in out]


OVERLAP_SLACK_S = 30  # shorter overlaps are the intervals' error: finished_at is to the second and follows the test


def most_at_once(intervals: list[tuple[datetime, datetime]]) -> int:
    """The most intervals that overlap at one instant, each cut short by OVERLAP_SLACK_S (so one that ends
    as another starts does not overlap it)."""
    slack = timedelta(seconds=OVERLAP_SLACK_S)
    events = sorted([(max(start, end - slack), -1) for start, end in intervals] + [(start, 1) for start, _ in intervals])
    running = most = 0
    for _, step in events:
        running += step
        most = max(most, running)
    return most


def wall_clock_text(records: list[RunRecord]) -> str:
    """How long the runs took on the clock: the union of their training intervals, in sittings (a gap
    over SITTING_GAP_S starts one). Parallel workers overlap, so this is less than the worker-hours."""
    found = sittings(records)
    if not found:
        return "—"
    hours = sum((end - start).total_seconds() for start, end, _ in found) / 3600
    stamp = "%Y-%m-%d %H:%M UTC"
    return (f"{hours:.1f} h in {len(found)} sitting{'s' * (len(found) != 1)}, "
            f"{found[0][0].strftime(stamp)} to {found[-1][1].strftime(stamp)} (the union of the runs' "
            f"training intervals, timing.finished_at less train_time_s; a pause over {SITTING_GAP_S // 60} min "
            "starts a sitting)")


def efficiency_text(records: list[RunRecord]) -> str:
    """Scheduling efficiency: the training time summed over runs against the wall-clock of the sittings
    times their workers, read off the run files as the most runs that trained at once in each sitting
    (the run files do not record a sweep's --workers; a worker that never overlapped another is not counted)."""
    found = sittings(records)
    seconds = sum(r.timing.train_time_s for r in records if isinstance(r.timing.train_time_s, (int, float))
                  and isinstance(r.timing.finished_at, str))
    capacity = sum((end - start).total_seconds() * workers for start, end, workers in found)
    if not found or capacity <= 0:
        return "—"
    by_workers: dict[int, float] = {}
    for start, end, workers in found:
        by_workers[workers] = by_workers.get(workers, 0.0) + (end - start).total_seconds() / 3600
    clock = " + ".join(f"{hours:.1f} h × {w} worker{'s' * (w != 1)}" for w, hours in sorted(by_workers.items(), reverse=True))
    return (f"{seconds / capacity:.0%}: {seconds / 3600:.1f} worker-hours of training in {clock} of wall-clock "
            "(workers: the most runs that trained at once in a sitting)")


def newest_run_text(records: list[RunRecord]) -> str:
    """The report's date: when its newest run finished, so the same run files give the same report
    (a date from the clock would make every re-render differ)."""
    finished = [r.timing.finished_at for r in records]
    finished = [utc(x) for x in finished if isinstance(x, str)]
    return (max(finished).strftime("%Y-%m-%d %H:%M UTC") + " (the newest run's timing.finished_at)") if finished else "—"


def provenance_block(records: list[RunRecord], results: Path) -> dict:
    def unique(key):
        return sorted({str(getattr(r.provenance, key)) for r in records})
    suites = [suite_label(data.get("name"), data.get("version")) + (" (incomplete)" if data.get("complete") is False else "")
              for data in suite_records(results)]
    per_commit = Counter((str(r.provenance.git_commit or "unknown")[:12], bool(r.provenance.git_dirty))
                         for r in records)
    version = read_version(results) or {}
    # VERSION names the code of the sweep that last wrote it; runs made across several sittings come
    # from several commits, so the line says so rather than let one commit stand for all.
    spread_note = (f" (the code of the sweep that last wrote VERSION; the runs come from {len(per_commit)} commits, below)"
                   if len(per_commit) > 1 and version else "")
    return {
        "leaderboard version": version_text(version) + spread_note,
        "suites": ", ".join(suites) or "—",
        "seqbench (report)": __version__,
        "seqbench (runs)": ", ".join(unique("seqbench")),
        "git commit of the runs": ", ".join(f"{commit}{' dirty' if dirty else ''} ({n} run{'s' * (n != 1)})"
                                            for (commit, dirty), n in sorted(per_commit.items())),
        "torch": ", ".join(unique("torch")),
        "python": ", ".join(unique("python")),
        "device": ", ".join(sorted({f"{r.provenance.device} ({r.provenance.device_name})" for r in records})),
        "threads per run": ", ".join(unique("threads")),
        "runs": str(len(records)),
        # What the leaderboard cost: the training loops alone (validation included); test evaluation,
        # probes and data preparation come on top.
        "training time": training_time_text(records),
        "training wall-clock": wall_clock_text(records),
        "scheduling efficiency": efficiency_text(records),
        "dry-run estimate against the measured cost": estimate_text(records, results),
        "date": newest_run_text(records),
    }


def sections(decisions: Decisions, results: Path, out: Path, scope: Scope | None = None) -> list[Section]:
    """The sections after the leaderboard tables, in page order. A section that declares what it reads
    (scope.Needs) is left out where the results do not hold it (all are kept without a scope); one
    without data says so or is left out."""
    records = list(decisions.records)
    parts = [(None, lambda: ceiling_section(decisions, results)), (None, lambda: modern_section(decisions)),
             (None, lambda: capacity_section(decisions, out)), (None, lambda: lm_section(decisions, out)),
             (None, lambda: gradflow_section(decisions.records_of(decisions.chosen_ids), out)),
             (ablation.NEEDS, lambda: ablation.ablation_section(decisions)),
             (None, lambda: positions_section(decisions, out)),
             (None, lambda: generalisation_section(decisions, results, out)),
             (cost.NEEDS, lambda: cost.cost_section(results, out)), (None, lambda: perf_section(results, records))]
    found = [build() for needs, build in parts if scope is None or scope.meets(needs)]
    return [s for s in found if s is not None]


def usable_records(records: list[RunRecord]) -> tuple[list[RunRecord], list[str]]:
    """The records the report can read, and one message per record it cannot (an old file)."""
    usable, skipped = [], []
    for r in records:
        reason = missing_fields(r)
        (skipped if reason else usable).append(reason or r)
    return usable, skipped


CSS = """body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:14px}caption{text-align:left;font-weight:600;padding:4px 0}
th,td{border-bottom:1px solid #ddd;padding:4px 10px;text-align:right}th:nth-child(2),td:nth-child(2){text-align:left}
th{cursor:pointer;background:#f4f4f4;user-select:none}tr.baseline td{color:#666;font-style:italic}
img{max-width:100%;border:1px solid #eee;margin:0.5em 0}.note{color:#555;font-size:13px}dl{display:grid;grid-template-columns:max-content auto;gap:2px 16px}
dt{font-weight:600}code{background:#f4f4f4;padding:0 3px}"""

JS = """function sortTable(th){const t=th.closest('table'),b=t.tBodies[0],i=[...th.parentNode.children].indexOf(th);
const asc=th.dataset.asc!=='1';th.dataset.asc=asc?'1':'0';const key=r=>{const c=r.children[i];const v=c.dataset.sort??c.textContent;const n=parseFloat(v);return isNaN(n)?v:n};
[...b.rows].sort((x,y)=>{const a=key(x),c=key(y);return (a>c?1:a<c?-1:0)*(asc?1:-1)}).forEach(r=>b.appendChild(r));}"""


def _heading(board: Board) -> str:
    return f"{board.task}, protocol {board.protocol}"


def _img(out: Path, rel: str) -> str:
    data = base64.b64encode((out / rel).read_bytes()).decode()
    return f'<img alt="{html.escape(rel)}" src="data:image/png;base64,{data}">'


def write_report(results: Path, out: Path) -> dict:
    results, out = Path(results), Path(out)
    records, skipped = load_runs(results)
    own = {r.run_id for r in records}
    entries = accepted_entries(results)
    records += [run for entry in entries for run in entry.runs]
    records, old = usable_records(records)
    skipped += old
    for message in skipped:
        warnings.warn(f"skipped {message}", stacklevel=2)
    out.mkdir(parents=True, exist_ok=True)
    decisions = decide(records)
    frame, summary = decisions.frame, decisions.summary
    for message in decisions.warnings:
        warnings.warn(message, stacklevel=2)
    # Provenance describes the leaderboard's own runs (their count, cost, commits, date); accepted
    # entries are ranked in its tables but named on a line of their own, with their verify result.
    prov = provenance_block([r for r in records if r.run_id in own], results)
    if entries:
        prov["submitted entries"] = "; ".join(entry.line() for entry in entries)
    boards_ = boards(decisions)
    tables: dict[str, Table] = {b.task: b.table for b in boards_ if b.kind == "main"}
    grouped = {kind: [b for b in boards_ if b.kind == kind] for kind in GROUPS}
    # What this results directory can decide (its runs' and suite records' tasks, its probes): the
    # findings, sections, literature rows and floors about anything else are left out (scope.py).
    scope = scope_of(frame, results)
    findings, undecided = evaluate_findings(evidence_of(decisions, results), scope), left_out(scope)
    figs = []
    if not summary.empty:
        # The figures draw what the main tables rank: each task's main protocol, never a mix.
        main = decisions.in_main_protocol()
        figs += figures.metric_vs_length(main.frame, out)
        figs += figures.longest_solved(main, out)
        figs += figures.step_time_vs_length(main.frame, out)
        figs += figures.learning_curves(main, out)
        figs += figures.by_bucket(main, out)
    failed = failures_table(frame) if not frame.empty else None
    found = ([findings_section(findings, undecided)] if records else []) + (sections(decisions, results, out, scope) if records else [])
    literature = literature_section(decisions, results, scope)
    found += [literature] if literature is not None else []
    write_json_atomic(out / "findings.json", findings_json(findings, prov, undecided))

    # CSV: one row per (task, protocol, model, variant, length), with the longest solved length.
    if not summary.empty:
        longest = decisions.longest.rename(columns={"longest": "max_solved", "label": "longest_solved"})
        csv = summary.drop(columns=SUMMARY_ONLY).merge(longest[ROW + ["max_solved", "longest_solved"]], on=ROW, how="left")
        write_text_atomic(out / "leaderboard.csv", csv.to_csv(index=False, float_format="%.6g"))
    else:
        write_text_atomic(out / "leaderboard.csv", "")
    tex_dir = out / "tables"
    tex_dir.mkdir(exist_ok=True)
    for board in boards_:
        write_text_atomic(tex_dir / f"{board.name}.tex", board.table.latex())

    # Markdown
    md = ["# seqbench leaderboard", "",
          "Test-split results, one protocol per table. Each cell is the mean over seeds with their min–max "
          "(fewer than 3 seeds) or a 95% t-interval clipped to the metric's range; failed seeds are counted in words. "
          "↑/↓ marks the better direction. See README.md, 'Reading the leaderboard'.", ""]
    unfinished = unfinished_suites(results)
    if unfinished:
        md += [f"**{incomplete_notice(unfinished)}**", ""]
    for task, table in tables.items():
        md += [f"## {task}", "", table.markdown()]
    for kind, (title, about) in GROUPS.items():
        if grouped[kind]:
            md += [f"## {title}", "", about, ""]
            for b in grouped[kind]:
                md += [f"### {_heading(b)}", "", b.table.markdown()]
    if figs:
        md += ["## Figures", ""] + [f"![{Path(f).stem}]({f})" for f in figs] + [""]
    for s in found:
        md += [f"## {s.title}", "", s.markdown, ""] + [f"![{Path(f).stem}]({f})" for f in s.figures] + [""]
    if failed:
        md += ["## Failed runs", "", failed.markdown()]
    if decisions.warnings:
        md += ["## Warnings", ""] + [f"- {m}" for m in decisions.warnings] + [""]
    if skipped:
        md += ["## Skipped files", ""] + [f"- {m}" for m in skipped] + [""]
    md += ["## Provenance", ""] + [f"- **{k}**: {v}" for k, v in prov.items()] + [""]
    write_text_atomic(out / "leaderboard.md", "\n".join(md))

    # HTML: one self-contained page.
    body = [f"<h1>seqbench leaderboard</h1><p class=note>{html.escape(md[2])}</p>"
            + (f"<p><strong>{html.escape(incomplete_notice(unfinished))}</strong></p>" if unfinished else ""),
            "<nav>" + " · ".join(f'<a href="#{t}">{t}</a>' for t in tables) + "</nav>"]
    for task, table in tables.items():
        body.append(f'<h2 id="{task}">{task}</h2>' + table.html())
    for kind, (title, about) in GROUPS.items():
        if grouped[kind]:
            body.append(f"<h2>{html.escape(title)}</h2><p class=note>{html.escape(about)}</p>" + "".join(
                f"<h3>{html.escape(_heading(b))}</h3>" + b.table.html() for b in grouped[kind]))
    if figs:
        body.append("<h2>Figures</h2>" + "".join(_img(out, f) for f in figs))
    for s in found:
        body.append(f"<h2>{html.escape(s.title)}</h2>" + s.html + "".join(_img(out, f) for f in s.figures))
    if failed:
        body.append("<h2>Failed runs</h2>" + failed.html())
    if decisions.warnings:
        body.append("<h2>Warnings</h2><ul>" + "".join(f"<li>{html.escape(m)}</li>" for m in decisions.warnings) + "</ul>")
    if skipped:
        body.append("<h2>Skipped files</h2><ul>" + "".join(f"<li>{html.escape(m)}</li>" for m in skipped) + "</ul>")
    body.append('<h2>Provenance</h2><dl class="provenance">' + "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in prov.items()) + "</dl>")
    page = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>seqbench leaderboard</title>'
            f"<style>{CSS}</style><script>{JS}</script></head><body>\n" + "\n".join(body) + "\n</body></html>\n")
    write_text_atomic(out / "leaderboard.html", page)
    write_json_atomic(out / "provenance.json", prov)
    return {"runs": len(records), "skipped": skipped, "tables": list(tables), "figures": figs,
            "other": [b.name for b in grouped["other"]], "ablations": [b.name for b in grouped["ablation"]],
            "findings": {f.id: f.verdict for f in findings},
            "sections": [s.title for s in found], "warnings": decisions.warnings}
