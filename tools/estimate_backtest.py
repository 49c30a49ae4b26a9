"""How well the dry-run's pricing predicts what runs cost, out of sample: learn from one results
directory's runs, price another's new runs, set the prices against what they measured.

    python tools/estimate_backtest.py [results/standard-v1] [results/standard]

Learns step times and budget shares (seqbench/estimate.py History) from the first directory's runs
alone, then prices each finished run of the second that the first does not hold, two ways: at its
full step budget (how suite records made before 2026-12-07 priced runs) and at its (task, model)'s
budget share (estimate.METHOD). Each price is set against the run's measured cost (timing.cpu_s,
else train_time_s: the report's count), per (task, model) and in total, as measured / priced: 1.00
is exact, and the report's target is 0.75–1.25. Fixed runs and search probes are priced alike here,
each at the length it ran (a search's path is taken as known), so this checks the price of a run,
not the guess of where a search stops. hf models are left out: without their own history the
estimate times a few steps of them (measure/step_time.py), which this tool does not repeat.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from seqbench.estimate import History, predicted_seconds
from seqbench.models import MODELS
from seqbench.store import load_runs


def measured(record) -> float:
    cpu = record.timing.cpu_s
    return cpu if isinstance(cpu, (int, float)) else record.timing.train_time_s


def backtest(history_dir: Path, results: Path) -> pd.DataFrame:
    """Per run of `results` not in `history_dir`: its measured seconds and its two prices."""
    learnt, _ = load_runs(history_dir)
    history = History.of(learnt)
    known = {r.run_id for r in learnt}
    targets = [r for r in load_runs(results)[0] if r.run_id not in known and r.finished
               and isinstance(r.timing.train_time_s, (int, float))
               and not MODELS.meta(r.config.model.name).get("measure_cost")]
    prices = predicted_seconds([r.config for r in targets], history_dir, history)
    return pd.DataFrame([{"task": r.config.task, "model": r.config.model.name, "measured_s": measured(r),
                          "full_s": full, "share_s": full * history.share(r.config), "learnt": bool(ok)}
                         for r, (full, ok) in zip(targets, prices)])


def summary(frame: pd.DataFrame) -> pd.DataFrame:
    groups = frame.groupby(["task", "model"])
    out = groups[["measured_s", "full_s", "share_s"]].sum() / 60
    out.insert(0, "runs", groups.size())
    out["measured/full"] = out["measured_s"] / out["full_s"]
    out["measured/share"] = out["measured_s"] / out["share_s"]
    out.loc[("all", ""), :] = [len(frame), *(frame[["measured_s", "full_s", "share_s"]].sum() / 60), 0.0, 0.0]
    total = out.loc[("all", "")]
    out.loc[("all", ""), ["measured/full", "measured/share"]] = [total["measured_s"] / total["full_s"],
                                                                 total["measured_s"] / total["share_s"]]
    return out.rename(columns={"measured_s": "measured min", "full_s": "priced min (full budget)",
                               "share_s": "priced min (budget share)"})


def main(argv: list[str]) -> int:
    history_dir = Path(argv[0] if argv else "results/standard-v1")
    results = Path(argv[1] if len(argv) > 1 else "results/standard")
    frame = backtest(history_dir, results)
    if frame.empty:
        print(f"no finished runs in {results} that {history_dir} does not hold")
        return 0
    with pd.option_context("display.width", 250, "display.max_columns", 20, "display.max_rows", 200, "display.float_format", "{:,.2f}".format):
        print(summary(frame))
    unlearnt = frame[~frame["learnt"]]
    if len(unlearnt):
        print(f"\n{len(unlearnt)} runs of (task, model)s with no runs in {history_dir}: priced from the median step "
              "time, at the full budget: " + ", ".join(sorted({f"{t}/{m}" for t, m in zip(unlearnt.task, unlearnt.model)})))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
