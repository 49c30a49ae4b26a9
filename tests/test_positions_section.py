"""The report's position-encoding section: it names a best encoding only when validation decides one."""
import dataclasses

from fixture_runs import record

from seqbench.record import RunRecord
from seqbench.report.decisions import decide
from seqbench.report.positions_section import positions_section


def _runs(scores: dict[str, float]) -> list[RunRecord]:
    runs = []
    for positions, val in scores.items():
        r = record("copy", "transformer", 16, 0, 1e-3, val, val, "solved")
        config = dataclasses.replace(r.config, model=dataclasses.replace(r.config.model, positions=positions))
        runs.append(r.replace(config=config, val_curve=[[250, val / 2], [500, val]]))
    return runs


def _text(section) -> str:
    return section.blocks[0].text


def test_a_clear_winner_is_named(tmp_path):
    text = _text(positions_section(decide(_runs({"learned": 1.0, "rope": 0.9, "sinusoidal": 0.8})), tmp_path))
    assert "**learned** is the best" in text


def test_a_tie_is_called_a_tie(tmp_path):
    text = _text(positions_section(decide(_runs({"learned": 1.0, "rope": 1.0, "sinusoidal": 0.8})), tmp_path))
    assert "learned, rope tie" in text and "is the best" not in text
