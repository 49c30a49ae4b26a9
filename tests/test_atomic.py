"""A file is written whole or not at all: run files (store), training state (resume), report figures."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from seqbench.atomic import write_atomic
from seqbench.store import write_json_atomic


def test_a_writer_that_fails_leaves_the_previous_file_and_no_temporary(tmp_path):
    target = tmp_path / "run.json"
    target.write_text("old")

    def half_then_fail(handle):
        handle.write(b"new, but only ha")
        raise RuntimeError("killed mid-write")

    with pytest.raises(RuntimeError, match="killed mid-write"):
        write_atomic(target, half_then_fail)
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.json"]


def test_a_writer_that_finishes_replaces_the_file_and_makes_its_folder(tmp_path):
    target = tmp_path / "runs" / "state.bin"
    write_atomic(target, lambda handle: handle.write(b"\x00\x01"))
    write_atomic(target, lambda handle: handle.write(b"\x02"))
    assert target.read_bytes() == b"\x02"
    assert [p.name for p in target.parent.iterdir()] == ["state.bin"]


def test_json_goes_through_the_same_write(tmp_path):
    target = tmp_path / "x.json"
    write_json_atomic(target, {"a": 1})
    assert json.loads(target.read_text()) == {"a": 1}
    with pytest.raises(TypeError):
        write_json_atomic(target, {"a": object()})  # not serialisable: fails before the rename
    assert json.loads(target.read_text()) == {"a": 1}


def test_a_report_figure_that_fails_to_render_leaves_the_previous_one(tmp_path):
    from seqbench.report.style import new_figure, plotting, save

    figures = tmp_path / "figures"
    figures.mkdir()
    (figures / "curve.png").write_bytes(b"old png")
    with plotting():
        fig, axes = new_figure(3, 2)
        axes[0][0].plot([1, 2], [2, 1])

        def fail(target, **kwargs):  # writes part of the image, then dies
            if isinstance(target, (str, Path)):
                Path(target).write_bytes(b"half")
            else:
                target.write(b"half")
            raise RuntimeError("killed mid-render")

        fig.savefig = fail
        with pytest.raises(RuntimeError, match="killed mid-render"):
            save(fig, tmp_path, "curve")
    assert (figures / "curve.png").read_bytes() == b"old png"
    assert sorted(p.name for p in figures.iterdir()) == ["curve.png"]
