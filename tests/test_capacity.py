"""State size in the tables and the recall-capacity figure, on recall_mqar's pairs axis (a search over
n_pairs at L = 16), from run files built by hand; and nothing of it on run files without a state block."""
import pytest

from seqbench.record import RunRecord
from seqbench.report.capacity import capacity_points, capacity_section, state_text
from seqbench.report.decisions import decide
from seqbench.report.leaderboard import boards

# What each model carries (measure/state_size.py's kinds): bytes at any T, or per position for a cache.
STATE = {"rnn": ("fixed", 1200), "lstm": ("fixed", 1120), "bilstm": ("none", None), "transformer": ("grows with length", 512)}
ABILITY = {"rnn": 4, "lstm": 8, "bilstm": 4, "transformer": 32}  # most pairs solved


def probe(model: str, pairs: int, seed: int, lr: float = 1e-3) -> RunRecord:
    solved = pairs <= ABILITY[model]
    accuracy = 1.0 if solved else 0.25
    kind, size = STATE[model]
    seq_len = 3 * pairs + 16
    state = {"kind": kind, "seq_len": seq_len,
             "bytes": None if size is None else size * seq_len if kind == "grows with length" else size}
    return RunRecord.from_dict({
        "run_id": f"{model}-{pairs}-{seed}-{lr}", "status": "solved" if solved else "converged",
        "config": {"task": "recall_mqar", "task_version": 1, "length": 16, "seed": seed,
                   "model": {"name": model, "params": 100000}, "train": {"lr": lr, "clip": 1.0},
                   "task_params": {"n_pairs": pairs}},
        "task": {"metric": "accuracy", "higher_is_better": {"accuracy": True}, "solved": 0.99, "seq_len": seq_len},
        "recipe": {"default": True},
        "metrics": {"val/accuracy": accuracy, "test/accuracy": accuracy}, "baseline": {"accuracy": 1 / 64},
        "params": {"params": 100000}, "steps": 100, "memory": {},
        "timing": {"train_time_s": 1.0, "median_step_ms": 1.0, "eval_tokens_per_s": 1.0},
        "provenance": {"device": "cpu", "git_commit": "0", "threads": 1},
        "search": {"chain": f"{model}-{seed}", "start": 4, "max": 32, "refine": 0, "param": "n_pairs"},
        "state": state,
    })


def pairs_records(seeds=(0, 1, 2)) -> list[RunRecord]:
    """Each model's search: doubling from 4 pairs, stopping at its first failure."""
    out = []
    for model in STATE:
        for seed in seeds:
            for pairs in (4, 8, 16, 32):
                out.append(probe(model, pairs, seed))
                if pairs > ABILITY[model]:
                    break
    return out


@pytest.fixture(scope="module")
def decisions():
    return decide(pairs_records())


def test_the_table_reads_the_pairs_axis_and_the_state(decisions):
    (board,) = [b for b in boards(decisions) if b.task == "recall_mqar" and b.kind == "main"]
    table = board.table
    assert table.columns[2:5] == ["pairs=4", "pairs=8", "most pairs solved"] and "state (bytes)" in table.columns
    rows = {row[1].text: dict(zip(table.columns, (c.text for c in row))) for row in table.rows}
    assert rows["lstm"]["most pairs solved"] == "8" and rows["rnn"]["most pairs solved"] == "4"
    assert rows["transformer"]["most pairs solved"] == "≥ 32" and rows["bilstm"]["most pairs solved"] == "4"
    assert rows["lstm"]["state (bytes)"] == "1,120"
    assert rows["bilstm"]["state (bytes)"] == "none: reads the whole sequence first"
    # The cache grows with the pairs read: 3 tokens a pair plus the 16-token gap, 512 bytes a position.
    assert rows["transformer"]["state (bytes)"] == f"{512 * 28:,}–{512 * 112:,}, grows with T (T=28–112)"
    assert "Most pairs solved: per seed the search's result over n_pairs at L=16" in table.note
    assert "Ranked by the most pairs solved, then the mean." in table.note and "length" not in table.note.split(
        "Cells:")[1].split("Most pairs")[0]
    assert "key-value cache" in table.note


def test_capacity_points_are_the_chosen_runs_per_pair_count(decisions):
    points = capacity_points(decisions.frame).set_index(["model", "pairs"])
    assert set(points.index.get_level_values("model")) == {"rnn", "lstm", "transformer"}  # bilstm carries nothing
    assert points.loc[("lstm", 8), "accuracy"] == 1.0 and points.loc[("lstm", 16), "accuracy"] == 0.25
    assert ("lstm", 32) not in points.index  # its search stopped at its first failure
    assert points.loc[("transformer", 4), "state_bytes"] == 512 * 28 and points.loc[("transformer", 32), "state_bytes"] == 512 * 112
    assert points.loc[("rnn", 4), "seeds"] == 3


def test_the_section_draws_one_panel_per_pair_count(decisions, tmp_path):
    section = capacity_section(decisions, tmp_path)
    assert section.figures == ["figures/recall_capacity.png"] and (tmp_path / section.figures[0]).exists()


def test_without_state_blocks_nothing_changes():
    records = [RunRecord.from_dict({**r.to_dict(), "state": None}) for r in pairs_records()]
    decisions = decide(records)
    (board,) = [b for b in boards(decisions) if b.task == "recall_mqar" and b.kind == "main"]
    assert "state (bytes)" not in board.table.columns and "key-value cache" not in board.table.note
    assert capacity_section(decisions, None) is None


def test_an_unknown_state_alone_adds_no_column():
    """A plugin encoder that does not report its state (kind unknown) beside runs without a state block."""
    unknown = {"kind": "unknown", "bytes": None, "seq_len": 16}
    records = [RunRecord.from_dict({**r.to_dict(), "state": unknown if r.config.model.name == "rnn" else None})
               for r in pairs_records()]
    (board,) = [b for b in boards(decide(records)) if b.task == "recall_mqar" and b.kind == "main"]
    assert "state (bytes)" not in board.table.columns and "key-value cache" not in board.table.note


def test_state_text_says_unknown_as_a_dash():
    import pandas as pd
    assert state_text(pd.DataFrame({"state/kind": ["unknown"], "state/bytes": [None], "state/seq_len": [16]})) == "—"
    assert state_text(pd.DataFrame({"state/kind": [None]})) == "—"


def test_the_figures_label_the_pairs_axis_and_keep_it_out_of_the_length_figure(decisions, tmp_path):
    from seqbench.report import figures
    assert all(x.task != "recall_mqar" for x in figures.longest_table(decisions))  # pairs are not a length
    paths = figures.metric_vs_length(decisions.in_main_protocol().frame, tmp_path)
    assert paths == ["figures/recall_mqar_accuracy_vs_length.png"]
    from seqbench.report.frame import axis_label, axis_of
    assert axis_of(decisions.frame) == "n_pairs" and axis_label("n_pairs") == "pairs" and axis_label("length") == "L"


def test_the_note_says_where_a_state_was_added_afterwards():
    """tools/add_state.py marks the blocks it adds; only a table holding one says so."""
    (plain,) = [b for b in boards(decide(pairs_records())) if b.task == "recall_mqar" and b.kind == "main"]
    assert "key-value cache" in plain.table.note and "added afterwards" not in plain.table.note

    def mark(r):
        data = r.to_dict()
        if r.config.model.name == "rnn":
            data["state"] = {**data["state"], "note": "added afterwards by tools/add_state.py: ..."}
        return RunRecord.from_dict(data)
    (marked,) = [b for b in boards(decide([mark(r) for r in pairs_records()]))
                 if b.task == "recall_mqar" and b.kind == "main"]
    assert "was added afterwards" in marked.table.note and "tools/add_state.py" in marked.table.note
