"""Versions agree, `seqbench cite` prints BibTeX, and a results directory's VERSION is written and read."""
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

import seqbench
from seqbench.leaderboard_version import load_references, read_version, snapshot_references, write_version

ROOT = Path(__file__).resolve().parent.parent


def cite(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "seqbench", "cite", *args], capture_output=True, text=True, cwd=ROOT)


def test_pyproject_citation_and_package_carry_one_version():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert project["version"] == str(cff["version"]) == seqbench.__version__
    # An installed wheel has no CITATION.cff: `seqbench cite` reads these from the package metadata.
    assert project["description"] == cff["title"]
    assert [a["name"] for a in project["authors"]] == [a["name"] for a in cff["authors"]]


def test_cite_prints_the_software_entry():
    out = cite()
    assert out.returncode == 0 and out.stdout.startswith("@software{")
    assert f"version = {{{seqbench.__version__}}}" in out.stdout


def test_cite_names_the_leaderboard_version(tmp_path):
    write_version(tmp_path, "standard", 1)
    write_version(tmp_path, "quick", 2)  # a second suite joins the first
    assert read_version(tmp_path)["suites"] == {"standard": 1, "quick": 2}
    out = cite("--results", str(tmp_path))
    assert out.returncode == 0 and "@misc{seqbench_standard_v1_quick_v2" in out.stdout
    assert re.search(r"commit \w+", out.stdout)


def test_cite_says_when_the_leaderboard_is_incomplete(tmp_path):
    write_version(tmp_path, "standard", 1)
    (tmp_path / "suites").mkdir()
    record = {"name": "standard", "version": 1, "run_ids": [], "complete": False}
    (tmp_path / "suites" / "standard.json").write_text(json.dumps(record))
    out = cite("--results", str(tmp_path))
    assert out.returncode == 0 and "incomplete: the sweep of standard v1 has runs left" in out.stdout
    assert "incomplete" in out.stderr and len(out.stderr.strip().splitlines()) == 1
    (tmp_path / "suites" / "standard.json").write_text(json.dumps({**record, "complete": True}))
    out = cite("--results", str(tmp_path))
    assert "incomplete" not in out.stdout + out.stderr


def test_cite_without_version_is_one_line_exit_2(tmp_path):
    out = cite("--results", str(tmp_path))
    assert out.returncode == 2 and out.stdout == "" and len(out.stderr.strip().splitlines()) == 1
    assert "VERSION" in out.stderr


def test_references_are_complete_and_snapshot(tmp_path):
    refs = load_references()
    assert refs["references"] and refs["floors"]
    for ref in refs["references"]:
        assert {"id", "metric", "setting", "compare", "cite", "verified"} <= set(ref), ref.get("id")
        assert ("value" in ref) != ("baseline" in ref), ref["id"]
        assert {"key", "title", "year", "bibtex"} <= set(ref["cite"]) and ref["cite"]["key"] in ref["cite"]["bibtex"]
        assert ref["verified"] or ref.get("why"), ref["id"]
        assert {"task", "models", "metric"} <= set(ref["compare"]), ref["id"]
    snapshot_references(tmp_path)
    assert (tmp_path / "references.json").exists()
