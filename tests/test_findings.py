"""Each finding's evaluation on synthetic evidence, both ways, and 'not measured' when data is missing."""
import pandas as pd
import pytest

from seqbench.report.decisions import chain_result, protocol_order
from seqbench.report.findings import (COLUMNS, FINDINGS, NOT_MEASURED, NOT_REPRODUCED, REPRODUCED, Evidence,
                                      evaluate_findings, longest_solved)
from seqbench.search import LengthSearch


def run(task, model, length, seed=0, value=0.5, solved=False, status=None, main=True, **extra):
    row = {"task": task, "model": model, "length": length, "seed": seed, "value": value, "solved": solved,
           "status": status or ("solved" if solved else "converged"), "main": main, "solved_step": None,
           "clip": 1.0, "init": "auto", "nonlinearity": "tanh", "loss": "default", "slope_init": None,
           "slope_final": None, "protocol": "quick"}
    row.update(extra)
    return row


RECIPE = ["task", "protocol", "model", "nonlinearity", "init", "clip", "lr"]  # a table row of synthetic runs, one rate


def decided(rows) -> pd.DataFrame:
    """Synthetic evidence rows with the columns report/decisions.py adds, by its own rules: whether a
    run is of its task's main protocol (decisions.protocol_order) and, per seed (or search chain) of the
    chosen runs (all, where `chosen` is not said), its longest solved length (decisions.chain_result)."""
    runs = pd.DataFrame(rows)
    if runs.empty:
        return runs
    for column in ("adapter", "chain", "search_max", "chosen", "lr"):
        if column not in runs:
            runs[column] = None
    main = {task: next(iter(protocol_order(runs, task)), None) for task in runs["task"].unique()}
    runs["in_main_protocol"] = [main[t] == p for t, p in zip(runs["task"], runs["protocol"])]
    chosen = runs[[c is None or c != c or bool(c) for c in runs["chosen"]]]
    keys, found = iter(range(len(runs))), {}
    for _, group in chosen.groupby(RECIPE, dropna=False):
        searched = group["chain"].notna().any()
        top = int(group["search_max"].dropna().iloc[0]) if searched else int(group["length"].max())
        search = LengthSearch(int(group["length"].min()), top, 0)
        tried = () if searched else sorted(group["length"].unique())
        for _, chain in group.groupby("chain" if searched else "seed"):
            result = chain_result(chain, search, tried)
            fail = chain.loc[chain["length"] == result.first_fail, "status"]
            values = {"chain_key": next(keys),
                      "chain_longest": result.longest, "chain_censored": result.censored, "chain_start": search.start,
                      "chain_max": search.max, "chain_searched": searched, "chain_first_fail": result.first_fail,
                      "chain_first_fail_status": fail.iloc[0] if len(fail) else None}
            found.update({i: values for i in chain.index})
    return runs.assign(**{column: [found.get(i, {}).get(column) for i in runs.index]
                          for column in ("chain_key", "chain_longest", "chain_censored", "chain_start", "chain_max",
                                         "chain_searched", "chain_first_fail", "chain_first_fail_status")})


def frame(rows):
    return Evidence(decided(rows))


def chains(task, abilities, lengths=(8, 16, 32, 64), seeds=(0, 1)):
    """Runs whose model solves every length up to its ability."""
    return [run(task, m, L, s, solved=L <= ability) for m, ability in abilities.items() for L in lengths for s in seeds]


@pytest.mark.parametrize("task", ["adding", "copy"])
def test_gating_both_ways(task):
    evaluate = FINDINGS.get(f"{task}-gating")
    assert evaluate(frame(chains(task, {"rnn": 8, "lstm": 32, "gru": 64}))).verdict == REPRODUCED
    assert evaluate(frame(chains(task, {"rnn": 32, "lstm": 32, "gru": 64}))).verdict == NOT_REPRODUCED
    assert evaluate(frame(chains(task, {"rnn": 0, "lstm": 16, "gru": 8}))).verdict == REPRODUCED
    # The rnn solved every length tried: nothing separates them.
    assert evaluate(frame(chains(task, {"rnn": 64, "lstm": 64, "gru": 64}))).verdict == NOT_REPRODUCED
    assert evaluate(frame(chains(task, {"rnn": 8, "lstm": 32}))).verdict == NOT_MEASURED


def test_longest_solved_stops_at_the_first_failure_and_marks_censoring():
    runs = decided([run("adding", "lstm", L, solved=ok) for L, ok in [(8, True), (16, False), (32, True)]])
    assert longest_solved(runs, "lstm")["median"] == 8  # 32 passing after 16 failed is noise, not ability
    runs = decided([run("adding", "lstm", L, solved=True) for L in (8, 16)])
    assert longest_solved(runs, "lstm")["censored"]


def _recall(transformer, recurrent):
    rows = [run("recall", "transformer", L, value=transformer) for L in (8, 32)]
    rows += [run("recall", m, L, value=recurrent) for m in ("rnn", "lstm", "gru", "bilstm") for L in (8, 32)]
    return frame(rows)


def test_recall_attention_both_ways():
    evaluate = FINDINGS.get("recall-attention")
    assert evaluate(_recall(0.99, 0.34)).verdict == REPRODUCED
    assert evaluate(_recall(0.34, 0.34)).verdict == NOT_REPRODUCED
    assert evaluate(_recall(0.99, 0.97)).verdict == NOT_REPRODUCED
    assert evaluate(frame([run("recall", "lstm", 8)])).verdict == NOT_MEASURED


def test_recall_attention_says_which_recurrent_runs_were_still_improving():
    rows = [run("recall", "transformer", 32, s, value=1.0, status="solved") for s in (0, 1)]
    rows += [run("recall", "lstm", 32, s, value=0.5, status="budget-limited" if s else "converged") for s in (0, 1)]
    rows += [run("recall", "rnn", 32, s, value=0.2) for s in (0, 1)]
    numbers = FINDINGS.get("recall-attention")(frame(rows)).numbers
    assert numbers["lstm still improving at the ceiling (a floor)"] == "1/2 seeds"
    assert not any(key.startswith("rnn still") for key in numbers)


def test_ner_bidirectional_both_ways():
    evaluate = FINDINGS.get("ner-bidirectional")
    rows = lambda bi, uni: frame([run("conll2003", "bilstm", 40, s, value=v) for s, v in enumerate(bi)] +  # noqa: E731
                                 [run("conll2003", "lstm", 40, s, value=v) for s, v in enumerate(uni)])
    assert evaluate(rows([0.80, 0.78], [0.70, 0.72])).verdict == REPRODUCED
    assert evaluate(rows([0.80, 0.70], [0.72, 0.74])).verdict == NOT_REPRODUCED  # overlapping seeds
    assert evaluate(frame([])).verdict == NOT_MEASURED


def test_gradient_decay_both_ways():
    evaluate = FINDINGS.get("gradient-decay")
    rows = lambda rnn: frame([run("adding", m, 100, slope_init=s, slope_final=s) for m, s in  # noqa: E731
                              [("rnn", rnn), ("lstm", -0.01), ("gru", -0.005)]])
    assert evaluate(rows(-0.2)).verdict == REPRODUCED
    assert evaluate(rows(-0.015)).verdict == NOT_REPRODUCED
    assert evaluate(frame([run("adding", "rnn", 100, slope_init=-0.2)])).verdict == NOT_MEASURED


def _ablation(diverged_clip, diverged_noclip, n=4):
    return frame(_ablation_rows(diverged_clip, diverged_noclip, n))


def _ablation_rows(diverged_clip, diverged_noclip, n=4):
    rows = [run("adding", "rnn", 50, s, status="diverged" if s < diverged_clip else "converged", main=False, protocol="ablation")
            for s in range(n)]
    rows += [run("adding", "rnn", 50, s, status="diverged" if s < diverged_noclip else "converged", main=False,
                 protocol="ablation", clip=None) for s in range(n)]
    return rows


def test_clipping_both_ways():
    evaluate = FINDINGS.get("clipping")
    finding = evaluate(_ablation(0, 6, n=12))
    assert finding.verdict == REPRODUCED and finding.numbers["Fisher's exact p (one-sided)"] < 0.05
    assert evaluate(_ablation(1, 1)).verdict == NOT_REPRODUCED
    # The right direction on too few runs is not evidence: 0/4 against 2/4 (p = 0.21), or 1/27 against 2/24.
    assert evaluate(_ablation(0, 2)).verdict == NOT_REPRODUCED
    few = frame([run("adding", "rnn", 50, s, status="diverged" if s < 1 else "converged", main=False,
                     protocol="ablation") for s in range(27)] +
                [run("adding", "rnn", 50, s, status="diverged" if s < 2 else "converged", main=False,
                     protocol="ablation", clip=None) for s in range(24)])
    finding = evaluate(few)
    assert finding.verdict == NOT_REPRODUCED and finding.numbers["diverged with clipping"] == "1/27"
    assert finding.numbers["Fisher's exact p (one-sided)"] > 0.3
    assert evaluate(frame([run("adding", "rnn", 50, main=False, protocol="ablation")])).verdict == NOT_MEASURED


def test_clipping_leaves_out_the_mse_runs():
    """The copy/loss runs (train.loss=mse) share the ablation's protocol but are not part of it: a
    clipped MSE run, diverged or not, must not enter the clipping counts."""
    evaluate = FINDINGS.get("clipping")
    rows = _ablation_rows(0, 6, n=12)
    mse = [run("adding", "rnn", 50, s, status="diverged", main=False, protocol="ablation", loss="mse")
           for s in range(12)]
    alone, mixed = evaluate(frame(rows)), evaluate(frame(rows + mse))
    assert mixed.numbers == alone.numbers and mixed.numbers["diverged with clipping"] == "0/12"
    assert mixed.verdict == REPRODUCED


def test_relu_identity_both_ways():
    evaluate = FINDINGS.get("relu-identity")
    def rows(irnn, tanh):
        out = [run("adding", "rnn", L, solved=L <= irnn, main=False, protocol="ablation", nonlinearity="relu", init="identity")
               for L in (25, 50, 100)]
        return frame(out + [run("adding", "rnn", L, solved=L <= tanh, main=False, protocol="ablation") for L in (25, 50, 100)])
    assert evaluate(rows(100, 25)).verdict == REPRODUCED
    assert evaluate(rows(25, 50)).verdict == NOT_REPRODUCED


def speed_probe(transformer: dict, rnn: dict, threads=2, T=512) -> dict:
    """A speed probe's file: per model its train exponent `k`, thread speed-up `up` and depth per T."""
    def entry(m):
        scaling = {"T": T, "threads": threads, "speedup": m["up"]} if m.get("up") is not None else None
        return {"exponent": {"train": m["k"]}, "thread_scaling": scaling,
                "points": [{"T": t, "sequential_depth": d} for t, d in m["depth"].items()]}
    return {"device": "cpu", "models": {"transformer": entry(transformer), "rnn": entry(rnn)}}


CHAIN = {16: 16, 1024: 1024}  # a recurrent step's depth: one dependent step per position
FLAT = {16: 2, 1024: 2}  # a 2-layer Transformer's


def test_attention_parallel_both_ways():
    evaluate = FINDINGS.get("attention-parallel")
    decide = lambda t, r, **kw: evaluate(Evidence(pd.DataFrame(), speed_probe(t, r, **kw)))  # noqa: E731
    finding = decide({"k": 1.5, "up": 1.74, "depth": FLAT}, {"k": 1.0, "up": 0.96, "depth": CHAIN})
    assert finding.verdict == REPRODUCED  # slower to grow with T or not, the step is parallel
    assert finding.numbers["transformer thread speed-up"] == "1.74× (2 threads, T=512)"
    assert finding.numbers["transformer sequential depth"] == "2 at T=16, 2 at T=1024"
    # The rnn gains as much from threads: not reproduced, whatever the depths.
    assert decide({"k": 1.5, "up": 1.2, "depth": FLAT}, {"k": 1.0, "up": 1.3, "depth": CHAIN}).verdict == NOT_REPRODUCED
    # A depth that grows with T is a chain, however well it threads.
    assert decide({"k": 1.5, "up": 1.9, "depth": CHAIN}, {"k": 1.0, "up": 1.0, "depth": CHAIN}).verdict == NOT_REPRODUCED
    # One thread, or no thread study, or no probe: nothing measured.
    assert decide({"k": 1.5, "up": 1.0, "depth": FLAT}, {"k": 1, "up": 1.0, "depth": CHAIN}, threads=1).verdict == NOT_MEASURED
    assert decide({"k": 1.5, "up": None, "depth": FLAT}, {"k": 1, "up": 1.0, "depth": CHAIN}).verdict == NOT_MEASURED
    assert evaluate(Evidence(pd.DataFrame(), None)).verdict == NOT_MEASURED


def test_attention_quadratic_both_ways():
    evaluate = FINDINGS.get("attention-quadratic")
    decide = lambda kt, kr: evaluate(Evidence(pd.DataFrame(), speed_probe(  # noqa: E731
        {"k": kt, "up": 1.7, "depth": FLAT}, {"k": kr, "up": 1.0, "depth": CHAIN})))
    finding = decide(1.55, 0.97)
    assert finding.verdict == REPRODUCED and finding.numbers["transformer exponent"] == 1.55
    assert finding.numbers["lengths"] == "16–1024"
    assert decide(0.9, 1.0).verdict == NOT_REPRODUCED
    assert evaluate(Evidence(pd.DataFrame(), None)).verdict == NOT_MEASURED


def test_mse_vs_ce_both_ways():
    evaluate = FINDINGS.get("mse-vs-ce")
    def rows(ce_step, mse_step, seeds=6):
        out = []
        for s in range(seeds):
            out.append(run("copy", "lstm", 10, s, solved=ce_step is not None, solved_step=ce_step, main=False, protocol="ablation"))
            out.append(run("copy", "lstm", 10, s, solved=mse_step is not None, solved_step=mse_step, main=False,
                           protocol="ablation", loss="mse"))
        return frame(out)
    assert evaluate(rows(400, 1200)).verdict == REPRODUCED
    assert evaluate(rows(400, None)).verdict == REPRODUCED  # MSE never solved
    assert evaluate(rows(1200, 400)).verdict == NOT_REPRODUCED
    # Cross-entropy faster in both of 2 pairs: the right direction, but a sign test gives p = 0.25.
    finding = evaluate(rows(400, 1200, seeds=2))
    assert finding.verdict == NOT_REPRODUCED and finding.numbers["sign test p (one-sided)"] == 0.25
    assert evaluate(rows(400, 1200)).numbers["sign test p (one-sided)"] == round(1 / 64, 4)  # 6 of 6
    assert evaluate(rows(None, None)).verdict == NOT_REPRODUCED  # every pair tied: nothing to count
    # Seed 0 tuned MSE's rate: the rates not chosen are not more pairs (nor more wins for either side).
    out = []
    for s in range(6):
        out.append(run("copy", "lstm", 10, s, solved=True, solved_step=400, main=False, protocol="ablation", chosen=True))
        out.append(run("copy", "lstm", 10, s, solved=True, solved_step=1200, main=False, protocol="ablation",
                       loss="mse", chosen=True))
    out += [run("copy", "lstm", 10, 0, solved=True, solved_step=100, main=False, protocol="ablation", loss="mse",
                chosen=False, lr=lr) for lr in (1e-3, 1e-2)]
    finding = evaluate(frame(out))
    assert finding.numbers["pairs"] == 6 and finding.numbers["cross-entropy faster"] == 6
    assert finding.verdict == REPRODUCED
    assert evaluate(frame([run("copy", "lstm", 10)])).verdict == NOT_MEASURED


def test_mse_vs_ce_pairs_within_one_recipe():
    """An rnn MSE run (clipping on) pairs with the cross-entropy run of its recipe only: the clipping-off
    and IRNN variants of the rnn ablation at the same length and seed are other recipes, not more pairs."""
    evaluate = FINDINGS.get("mse-vs-ce")
    out = []
    for s in range(6):
        out.append(run("copy", "rnn", 16, s, solved=True, solved_step=400, protocol="ablation"))
        out.append(run("copy", "rnn", 16, s, solved=True, solved_step=1200, main=False, protocol="ablation", loss="mse"))
        out.append(run("copy", "rnn", 16, s, solved=False, main=False, protocol="ablation", clip=None))
        out.append(run("copy", "rnn", 16, s, solved=False, main=False, protocol="ablation", nonlinearity="relu",
                       init="identity"))
    finding = evaluate(frame(out))
    assert finding.numbers["pairs"] == 6 and finding.numbers["cross-entropy faster"] == 6
    assert finding.numbers["MSE faster"] == 0 and finding.verdict == REPRODUCED


def test_every_finding_copes_with_no_runs():
    for finding in evaluate_findings(Evidence(pd.DataFrame(columns=["task", "model", "main"]))):
        assert finding.verdict == NOT_MEASURED, finding.id


def test_main_claims_read_the_main_protocol_only():
    # The main suite ran no rnn; a 25k-parameter ablation suite's default rnn must not stand in for
    # it (the main protocol is the one with the most default runs).
    evaluate = FINDINGS.get("adding-gating")
    rows = chains("adding", {"lstm": 32, "gru": 64})
    rows += [run("adding", "rnn", L, s, solved=L <= 8, protocol="ablation") for L in (8, 16, 32, 64) for s in (0, 1)]
    finding = evaluate(frame(rows))
    assert finding.verdict == NOT_MEASURED and finding.numbers["rnn longest solved L (median over seeds)"] is None
    rows += chains("adding", {"rnn": 16})
    assert evaluate(frame(rows)).numbers["rnn longest solved L (median over seeds)"] == 16


def test_a_search_is_censored_when_it_solved_its_max_not_when_nothing_failed_yet():
    partial = [run("adding", "lstm", L, solved=True, chain="c", lr=1e-3, search_max=64) for L in (8, 16)]
    assert not longest_solved(decided(partial), "lstm")["censored"]
    done = [run("adding", "lstm", L, solved=True, chain="c", lr=1e-3, search_max=64) for L in (8, 16, 32, 64)]
    assert longest_solved(decided(done), "lstm")["censored"]


def test_evidence_frame_from_run_files(tmp_path):
    from fixture_runs import write_fixture_runs

    from seqbench.report.decisions import decide
    from seqbench.report.evidence import evidence_of
    records = write_fixture_runs(tmp_path)
    runs = evidence_of(decide(records), tmp_path).runs
    assert len(runs) == len(records) and set(runs.columns) >= set(COLUMNS)
    assert runs["protocol"].nunique() == 3 and (~runs["main"]).sum() == 2  # the copy/rnn runs without clipping
    assert runs.loc[runs["status"] == "solved", "solved"].all() and runs["clip"].isna().sum() == 2


def _modern(transformer, modern, lengths=(8, 16)):
    rows = [run("recall", "transformer", L, s, value=transformer, protocol="modern") for L in lengths for s in (0, 1)]
    rows += [run("recall", m, L, s, value=modern.get(m, 0.3), protocol="modern", adapter="hf", recurrent=True)
             for m in ("hf:mamba", "hf:rwkv") for L in lengths for s in (0, 1)]
    rows += [run("recall", "hf:llama", L, value=0.2, protocol="modern", adapter="hf", recurrent=False) for L in lengths]
    return frame(rows)


def test_recall_modern_both_ways():
    evaluate = FINDINGS.get("recall-modern")
    found = evaluate(_modern(0.99, {"hf:mamba": 0.6, "hf:rwkv": 0.3}))
    assert found.verdict == REPRODUCED and found.numbers["length"] == 16
    assert found.numbers["hf:mamba accuracy at L=8"] == 0.6 and "hf:llama accuracy at L=8" not in found.numbers
    found = evaluate(_modern(0.99, {"hf:mamba": 0.98, "hf:rwkv": 0.3}))  # within the margin: reached
    assert found.verdict == NOT_REPRODUCED and found.numbers["reached the Transformer"] == "hf:mamba"
    # The Transformer on the plateau too: no accuracy to reach, whatever the modern models score.
    found = evaluate(_modern(0.34, {"hf:mamba": 0.33}))
    assert found.verdict == NOT_MEASURED and found.numbers["transformer accuracy at L=16"] == 0.34
    # Read at the longest length the Transformer solved.
    rows = _modern(0.99, {"hf:mamba": 0.6, "hf:rwkv": 0.5}, lengths=(8,)).runs.to_dict("records")
    rows += [run("recall", m, 16, value=0.34, protocol="modern", adapter="hf" if m != "transformer" else None,
                 recurrent=m != "transformer") for m in ("transformer", "hf:mamba", "hf:rwkv")]
    found = evaluate(frame(rows))
    assert found.verdict == REPRODUCED and found.numbers["length"] == 8
    # No modern recurrent model, or no Transformer in its protocol: not measured.
    assert evaluate(frame([run("recall", "transformer", 8)])).verdict == NOT_MEASURED
    assert evaluate(frame([run("recall", "hf:mamba", 8, adapter="hf", recurrent=True, protocol="modern"),
                           run("recall", "transformer", 8, protocol="quick")])).verdict == NOT_MEASURED


def test_main_claims_never_read_a_protocol_with_hf_runs():
    # The modern suite's protocol holds more runs of the five than the main suite's: still not the main one.
    rows = _recall(0.99, 0.34).runs.to_dict("records")
    rows += [run("recall", m, L, s, value=0.5, protocol="modern") for m in ("transformer", "rnn", "lstm", "gru", "bilstm")
             for L in (8, 16, 32) for s in (0, 1, 2)]
    rows += [run("recall", "hf:mamba", 8, protocol="modern", adapter="hf", recurrent=True)]
    assert FINDINGS.get("recall-attention")(frame(rows)).verdict == REPRODUCED


def test_findings_read_the_chosen_learning_rate_only():
    # Seed 0 ran three rates; the two that lost on validation are not more seeds of the model.
    rows = [run("recall", "transformer", 8, s, value=1.0, status="solved", lr=1e-3, chosen=True) for s in (0, 1, 2)]
    rows += [run("recall", "lstm", 8, s, value=0.99, status="solved", lr=1e-2, chosen=True) for s in (0, 1, 2)]
    rows += [run("recall", "lstm", 8, 0, value=v, status="budget-limited", lr=lr, chosen=False)
             for lr, v in ((1e-3, 0.3), (3e-3, 0.4))]
    found = FINDINGS.get("recall-attention")(frame(rows))
    assert found.numbers["lstm accuracy"] == 0.99 and found.verdict == NOT_REPRODUCED
    assert not any("still improving" in key for key in found.numbers)
    slopes = lambda chosen_rnn: frame([run("adding", "rnn", 100, 0, slope_init=-0.2, lr=1e-3, chosen=chosen_rnn),  # noqa: E731
                                       run("adding", "rnn", 100, 0, slope_init=-0.01, lr=1e-2, chosen=not chosen_rnn),
                                       run("adding", "lstm", 100, slope_init=-0.01, chosen=True),
                                       run("adding", "gru", 100, slope_init=-0.005, chosen=True)])
    assert FINDINGS.get("gradient-decay")(slopes(True)).verdict == REPRODUCED
    assert FINDINGS.get("gradient-decay")(slopes(False)).verdict == NOT_REPRODUCED


def _recall_search(abilities: dict, improving: bool = False, top=128):
    rows = []
    for m, ability in abilities.items():
        for s in (0, 1, 2):
            for L in (8, 16, 32, 64, 128):
                if L > max(ability, 4) * 2:
                    break  # a search stops at its first failure
                ok = L <= ability
                status = "solved" if ok else ("budget-limited" if improving and s < 2 else "converged")
                rows.append(run("recall", m, L, s, value=1.0 if ok else 0.4, solved=ok, status=status, lr=1e-3,
                                chain=f"{m}-{s}", search_max=top, chosen=True))
    return frame(rows)


def test_recall_attention_on_length_searches_compares_longest_solved_lengths():
    evaluate = FINDINGS.get("recall-attention")
    # The LSTM solves L=8 and 16 as the Transformer does; the Transformer goes on to the search's max.
    found = evaluate(_recall_search({"transformer": 128, "lstm": 16, "gru": 0}, improving=True))
    assert found.verdict == REPRODUCED
    assert found.numbers["lstm longest solved L (median over seeds)"] == 16
    assert found.numbers["lstm first failed length still improving at the ceiling (a floor)"] == "2/3 seeds"
    # A model that solved nothing reads as below the shortest length tried, not as a length of 0.
    assert found.numbers["gru longest solved L (median over seeds)"] == "< 8"
    assert evaluate(_recall_search({"transformer": 32, "lstm": 32})).verdict == NOT_REPRODUCED
    # A recurrent model that solved the max is not beaten, whatever the medians.
    assert evaluate(_recall_search({"transformer": 128, "lstm": 128})).verdict == NOT_REPRODUCED


# ---- the pairs axis (recall_mqar: a search over n_pairs at L = 16; `length` holds the pair count)

STATE = {"rnn": 1200, "gru": 700, "lstm": 1120, "hf:mamba": 9000, "transformer": None}


def pairs_runs(most: dict, seeds=(0, 1, 2), pairs=(4, 8, 16, 32), state=None, **extra):
    """Search probes of recall_mqar per model up to its first failure: solves every pair count up to
    most[model]; each model's state as `state` (default STATE) says (the Transformer's cache grows with T)."""
    state = {**STATE, **(state or {})}
    rows = []
    for m, best in most.items():
        kind = "grows with length" if m == "transformer" else "fixed"
        hf = {"adapter": "hf", "recurrent": True} if m.startswith("hf:") else {}
        for s in seeds:
            for P in pairs:
                rows.append(run("recall_mqar", m, P, s, solved=P <= best, value=1.0 if P <= best else 0.3, axis="n_pairs",
                                chain=f"{m}-{s}", search_max=pairs[-1], state_kind=kind,
                                state_bytes=state.get(m, 500), **hf, **extra))
                if P > best:
                    break  # the search stops at its first failure
    return rows


def test_recall_capacity_both_ways():
    evaluate = FINDINGS.get("recall-capacity")
    found = evaluate(frame(pairs_runs({"gru": 4, "lstm": 8, "rnn": 16, "transformer": 32})))
    assert found.verdict == REPRODUCED  # gru 700 B < lstm 1120 B < rnn 1200 B, and the Transformer solves 32
    assert found.numbers["gru state (bytes)"] == 700 and found.numbers["lstm most pairs solved (median over seeds)"] == 8
    assert found.numbers["transformer censored"] is True
    # A larger state that holds fewer pairs: not reproduced.
    assert evaluate(frame(pairs_runs({"gru": 16, "lstm": 8, "rnn": 16, "transformer": 32}))).verdict == NOT_REPRODUCED
    # Every state holds the same: no growth.
    assert evaluate(frame(pairs_runs({"gru": 8, "lstm": 8, "rnn": 8, "transformer": 32}))).verdict == NOT_REPRODUCED
    # The Transformer fails a pair count tried.
    assert evaluate(frame(pairs_runs({"gru": 4, "lstm": 8, "rnn": 16, "transformer": 16}))).verdict == NOT_REPRODUCED
    # bilstm has no state: it is left out, and one recurrent model is not a trend.
    rows = pairs_runs({"lstm": 8, "transformer": 32}) + [
        {**r, "state_kind": "none", "state_bytes": None} for r in pairs_runs({"rnn": 4})]
    assert evaluate(frame(rows)).verdict == NOT_MEASURED
    # States within 10% are the same size: lstm 1,080 and rnn 1,084 bytes (the 100k budget) are not ordered, so
    # the rnn holding fewer pairs than the lstm says nothing against the claim; gru (628) below both still counts.
    at_100k = {"lstm": 1080, "rnn": 1084, "gru": 628}
    found = evaluate(frame(pairs_runs({"gru": 4, "lstm": 16, "rnn": 8, "transformer": 32}, state=at_100k)))
    assert found.verdict == REPRODUCED
    assert evaluate(frame(pairs_runs({"gru": 16, "lstm": 16, "rnn": 8, "transformer": 32}, state=at_100k))).verdict \
        == NOT_REPRODUCED
    assert evaluate(frame(pairs_runs({"lstm": 16, "rnn": 8, "transformer": 32}, state=at_100k))).verdict == NOT_MEASURED
    # Runs on recall's lengths (v1) are not the pairs axis.
    assert evaluate(frame(chains("recall", {"rnn": 8, "lstm": 16, "transformer": 64}))).verdict == NOT_MEASURED


def test_recall_modern_on_the_pairs_axis_both_ways():
    evaluate = FINDINGS.get("recall-modern")
    found = evaluate(frame(pairs_runs({"transformer": 32, "hf:mamba": 8, "hf:rwkv": 4, "lstm": 8})))
    assert found.verdict == REPRODUCED and found.numbers["axis"] == "n_pairs"
    assert found.numbers["hf:mamba most pairs solved (median over seeds)"] == 8
    found = evaluate(frame(pairs_runs({"transformer": 16, "hf:mamba": 16, "hf:rwkv": 4})))
    assert found.verdict == NOT_REPRODUCED and found.numbers["reached the Transformer"] == "hf:mamba"
    # Without a modern model on the pairs axis, recall's lengths decide as before.
    rows = pairs_runs({"transformer": 32, "lstm": 8}) + _modern(0.99, {"hf:mamba": 0.6}).runs.to_dict("records")
    found = evaluate(frame(rows))
    assert found.verdict == REPRODUCED and found.numbers["length"] == 16


def copy_runs(xents: dict, solved_at=(), init="auto", model="lstm", seeds=(0, 1, 2)):
    """LSTM copy runs at each T with that mean cross-entropy per step; the memoryless score 10·ln 8/(T+20)."""
    import math
    return [run("copy", model, T, s, solved=T in solved_at, xent_per_step=x, init=init,
                memoryless_xent_per_step=10 * math.log(8) / (T + 20)) for T, x in xents.items() for s in seeds]


def test_copy_literature_both_ways():
    import math
    evaluate = FINDINGS.get("copy-literature")
    memoryless = {T: 10 * math.log(8) / (T + 20) for T in (64, 128, 256)}
    at_baseline = copy_runs({64: 0.01, 128: memoryless[128] * 0.99, 256: memoryless[256]})
    found = evaluate(frame(at_baseline))
    assert found.verdict == REPRODUCED and set(found.numbers) == {"lstm init", "T=128", "T=256"}  # T < 100 not read
    assert found.numbers["lstm init"] == "chrono (auto)" and "solved 0/3 seeds" in found.numbers["T=128"]
    # It solves T = 128: not at the baseline.
    assert evaluate(frame(copy_runs({128: 0.001}, solved_at=(128,)))).verdict == NOT_REPRODUCED
    # Well below the baseline without solving: it learned part of the copy.
    assert evaluate(frame(copy_runs({128: memoryless[128] * 0.5}))).verdict == NOT_REPRODUCED
    # Nothing at T >= 100 (v1 searched copy to 32): not measured, with how far it got.
    found = evaluate(frame(copy_runs({16: 0.01, 32: 0.01}, solved_at=(16, 32))))
    assert found.verdict == NOT_MEASURED and found.numbers == {"lstm longest T run": 32}
    assert evaluate(frame(copy_runs({128: 0.7}, model="gru"))).verdict == NOT_MEASURED
