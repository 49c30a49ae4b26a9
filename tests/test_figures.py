"""The report's figures: what they draw (bands, seeds, censoring, panels), checked on the data drawn."""
import math

import pytest

from seqbench.record import RunRecord
from seqbench.report import figures
from seqbench.report.decisions import decide
from seqbench.report.gradflow_section import _figure as gradflow_figure
from seqbench.report.gradflow_section import _groups, gradflow_section, headline_panels, profiles
from seqbench.report.style import palette, plotting

THRESHOLD = {"copy": 0.99, "adding": 0.01, "recall": 0.99}
HIGHER = {"copy": True, "adding": False, "recall": True}
METRIC = {"copy": "accuracy", "adding": "mse", "recall": "accuracy"}


def run(task, model, length, seed, test, *, status="solved", default=True, lr=1e-3, curve=None, positions=None,
        search=None, gradflow=None, init="auto"):
    """A minimal run file: what the report reads, nothing more."""
    metric = METRIC[task]
    model_cfg = {"name": model, "params": 50000, "init": init}
    if positions:
        model_cfg["positions"] = positions
    record = {
        "run_id": f"{task}-{model}-{length}-{seed}-{lr}-{positions}-{init}", "status": status,
        "config": {"task": task, "task_version": 1, "length": length, "seed": seed, "model": model_cfg,
                   "train": {"lr": lr, "clip": 1.0}},
        "task": {"metric": metric, "higher_is_better": {metric: HIGHER[task]}, "solved": THRESHOLD[task], "seq_len": length},
        "recipe": {"default": default},
        "metrics": {} if test is None else {f"val/{metric}": test, f"test/{metric}": test},
        "baseline": {metric: 0.1 if HIGHER[task] else 0.17}, "params": {"params": 50000}, "steps": 100,
        "timing": {"train_time_s": 1.0, "median_step_ms": 1.0, "eval_tokens_per_s": 1.0},
        "provenance": {"device": "cpu", "git_commit": "0", "threads": 1},
        "val_curve": curve if curve is not None else [[100, 0.5], [200, test if test is not None else 0.5]],
    }
    if search:
        record["search"] = search
    if gradflow:
        record["gradflow"] = gradflow
    return RunRecord.from_dict({**record, "memory": {}})


def test_bands_stay_in_the_metric_range():
    # Two seeds at 0.05 and 0.95: a 95% t-interval (t = 12.7) would run from -5.2 to 6.2.
    records = [run("copy", "rnn", 10, s, v) for s, v in enumerate([0.05, 0.95])]
    records += [run("copy", "rnn", 20, s, v) for s, v in enumerate([0.0, 0.02, 0.99])]
    records += [run("adding", "gru", 10, s, v) for s, v in enumerate([0.001, 0.002, 0.5])]
    bands = figures.band_table(figures.seed_table(decide(records).frame))
    two = bands[(bands["task"] == "copy") & (bands["length"] == 10)].iloc[0]
    assert (two["kind"], two["low"], two["high"]) == ("range", 0.05, 0.95)  # n < 3: min–max, not a t-interval
    three = bands[(bands["task"] == "copy") & (bands["length"] == 20)].iloc[0]
    assert three["kind"] == "t95" and three["low"] == 0.0 and 0 <= three["high"] <= 1
    loss = bands[bands["task"] == "adding"].iloc[0]
    assert loss["low"] == 0.0 and loss["high"] > loss["mean"]  # a loss is clipped at 0 only
    assert (bands["low"] <= bands["mean"]).all() and (bands["mean"] <= bands["high"]).all()


def test_seeds_are_points_and_ablations_stay_out():
    records = [run("copy", "lstm", L, s, 0.5 + s / 10) for L in (10, 20) for s in range(3)]
    records += [run("copy", "lstm", 10, 0, 1.0, default=False, init="orthogonal")]
    records += [run("copy", "lstm", 20, 3, None, status="diverged")]
    seeds = figures.seed_table(decide(records).frame)
    assert len(seeds) == 6 and set(seeds["label"]) == {"lstm"}  # one point per finished default seed
    assert 1.0 not in set(seeds["value"])


def test_longest_solved_marks_censored_and_nothing_solved():
    records = []
    for seed in (0, 1):
        # solved: the run's status (status.is_solved), as the tables read it
        records += [run("copy", "transformer", L, seed, 1.0) for L in (20, 40, 80)]  # solves the longest tried
        records += [run("copy", "rnn", L, seed, 0.3, status="converged") for L in (20, 40, 80)]  # solves none
        records += [run("copy", "gru", L, seed, v, status="solved" if v > 0.99 else "converged")
                    for L, v in ((20, 1.0), (40, 0.5), (80, 0.995))]
    table = {x.label: x for x in figures.longest_table(decide(records))}
    assert (table["transformer"].text, table["transformer"].mark) == ("≥ 80", "censored")
    assert (table["rnn"].text, table["rnn"].mark) == ("< 20", "below")
    assert (table["gru"].text, table["gru"].mark) == ("20", "solved")  # 80 passes, but only after a failure
    styles = {mark: (s["marker"], s["filled"], s["arrow"]) for mark, s in figures.MARKS.items()}
    assert len(set(styles.values())) == 3 and styles["censored"] == ("^", False, "up")
    with plotting():
        fig = figures.longest_figure(list(table.values()))
    ax = fig.axes[0]
    drawn = {(line.get_marker(), line.get_markerfacecolor() == "white" or line.get_markerfacecolor() == (1, 1, 1, 1))
             for line in ax.lines if line.get_marker() not in (None, "None", "")}
    assert ("^", True) in drawn and ("v", True) in drawn and ("o", False) in drawn
    assert "censored: at least (solved the longest length tried)" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_longest_solved_from_search_chains():
    search = {"start": 8, "max": 64, "refine": 1}
    outcomes = {0: {8: True, 16: True, 32: True, 64: True},  # censored: >= 64
                1: {8: True, 16: True, 32: False, 24: True},  # 24
                2: {8: False}}  # below start
    records = [run("recall", "lstm", L, seed, 0.5, status="solved" if ok else "converged",
                   search={**search, "chain": f"lstm-{seed}"})
               for seed, probes in outcomes.items() for L, ok in probes.items()]
    (found,) = figures.longest_table(decide(records))
    assert (found.text, found.low, found.high, sorted(found.seeds)) == ("24", 0.0, 64.0, [0.0, 24.0, 64.0])
    (censored,) = figures.longest_table(decide([r for r in records if r.search.chain == "lstm-0"]))
    assert censored.censored and censored.text == "≥ 64"


def curves_records(lengths):
    curve = [[100, 0.3], [200, 0.6], [300, 0.995]]
    return [run("copy", m, L, s, 0.995, curve=curve) for m in ("rnn", "lstm") for L in lengths for s in (0, 1)]


@pytest.mark.parametrize("lengths", [(5, 10, 20, 40), (10,)])
def test_learning_curves_one_panel_per_length(lengths):
    records = curves_records(lengths) + [run("copy", "rnn", 10, 0, 1.0, default=False, init="identity")]
    (cs,) = figures.curve_sets(decide(records))
    if len(lengths) > 1:
        assert cs.by == "length" and list(cs.panels) == list(lengths)
    else:
        assert cs.by == "model" and list(cs.panels) == ["rnn", "lstm"]  # one length: a panel per model
    assert sum(len(c) for c in cs.panels.values()) == 4 * len(lengths)  # one line per model and seed; no ablation
    items = [(str(k), cs, curves) for k, curves in cs.panels.items()]
    with plotting():
        fig = figures.curves_figure(items, palette(["rnn", "lstm"]), "t")
    assert len(fig.axes) == len(cs.panels) and all(ax.lines for ax in fig.axes)
    assert all(any(line.get_ydata()[0] == 0.99 for line in ax.lines) for ax in fig.axes)  # the threshold


def test_learning_curves_written(tmp_path):
    assert figures.learning_curves(decide(curves_records((5, 10))), tmp_path) == ["figures/curves_copy.png"]
    assert (tmp_path / "figures" / "curves_copy.png").stat().st_size > 0


def test_positions_only_where_they_vary(tmp_path):
    plain = [run("recall", "transformer", 8, s, 0.34) for s in (0, 1)]
    assert figures.position_sets(decide(plain)) == [] and figures.positions(decide(plain), tmp_path) == []
    varied = plain + [run("recall", "transformer", 8, s, 1.0, positions="learned", default=False) for s in (0, 1)]
    varied += [run("recall", "transformer", 8, 0, 0.5, positions="rope", default=False, init="other")]  # two settings vary
    (cs,) = figures.position_sets(decide(varied))
    assert cs.task == "recall" and sorted({c.label for c in cs.panels[8]}) == ["learned", "sinusoidal"]


def profile(n):
    return {"distance": list(range(n)), "norm": [math.exp(-0.5 * d) for d in range(n)]}


def test_gradflow_headline_has_no_empty_panels(tmp_path):
    records = [run("copy", m, L, 0, 0.9, gradflow={"init": profile(L), "final": profile(L)})
               for m in ("rnn", "lstm") for L in (10, 20)]
    records += [run("recall", "rnn", 8, 0, 0.9, gradflow={"init": profile(1), "final": profile(1)})]  # one distance
    records += [run("adding", "rnn", 8, 0, 0.1, gradflow={"init": profile(8), "final": None})]  # no trained profile
    found = profiles(_groups(records))
    head, rest = headline_panels(found)
    assert head == [("adding", 8), ("copy", 20)] and rest == [("copy", 10)]
    # A length only some models reached (a search's longer probes) goes to the appendix.
    records += [run("copy", "lstm", 40, 0, 0.9, gradflow={"init": profile(40), "final": profile(40)})]
    assert headline_panels(profiles(_groups(records)))[0] == [("adding", 8), ("copy", 20)]
    records.pop()
    with plotting():
        fig = gradflow_figure(found, head, palette(["rnn", "lstm"]))
    assert len(fig.axes) == 3 and all(ax.lines for ax in fig.axes)
    section = gradflow_section(records, tmp_path)
    assert section.figures == ["figures/gradflow.png", "figures/gradflow_appendix.png"]
    # A single-distance profile has no slope and far/near 1 by construction: no table row, one line says so.
    assert "| recall |" not in section.markdown and "| copy |" in section.markdown
    assert "Not tabulated: recall." in section.markdown
    # A stage left empty (None) beside a one-distance profile is still a single-distance run, not a crash.
    flat = [run("recall", "lstm", 8, 0, 0.9, gradflow={"init": profile(1), "final": None})]
    assert "Not tabulated: recall." in gradflow_section(flat, tmp_path).markdown
