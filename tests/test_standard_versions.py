"""The standard leaderboard's versions: results/standard-v1 holds v1 as committed, results/standard the
version its VERSION names, and `make standard` / `make standard-v1` sweep the suite file of that version
(so on a complete checkout they only re-render). `seqbench cite` names each."""
import json
import re
import shutil
import subprocess
import sys

import pytest
import yaml

from conftest import REPO
from seqbench.leaderboard_version import read_version, write_version

RESULTS = REPO / "results"


def make_sweeps(target: str, *overrides: str) -> list[str]:
    """The `seqbench sweep` lines `make -n TARGET` would run."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    out = subprocess.run(["make", "-n", target, *overrides], cwd=REPO, capture_output=True, text=True, check=True)
    return [line.split() for line in out.stdout.splitlines() if " sweep " in line]


def suite_of(path: str) -> tuple[str, int]:
    data = yaml.safe_load((REPO / path).read_text())
    return data["name"], data["version"]


@pytest.mark.parametrize("target, results", [("standard", "results/standard"), ("standard-v1", "results/standard-v1")])
def test_make_sweeps_the_suite_of_the_version_the_directory_holds(target, results):
    """The version's suite first; v2's pairs axis for the hf models (standard-hf) after it, into the same
    directory, so its rows rank with the five's; v1 has no such suite."""
    first, *rest = make_sweeps(target)
    version = read_version(REPO / results)["suites"]["standard"]
    suite_file, into = first[first.index("sweep") + 1], first[first.index("--results") + 1]
    assert into == results
    assert suite_of(suite_file) == ("standard", version)
    extra = [(suite_of(line[line.index("sweep") + 1])[0], line[line.index("--results") + 1]) for line in rest]
    assert extra == ([("standard-hf", results)] if version == 2 else [])


def test_make_standard_follows_the_version_to_v2(tmp_path):
    """The v2 sweep writing into results/standard makes its VERSION say 2: `make standard` then resumes v2."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    (tmp_path / "results" / "standard").mkdir(parents=True)
    shutil.copy(REPO / "Makefile", tmp_path / "Makefile")
    (tmp_path / "pyproject.toml").touch()  # what the venv target depends on; `make -n` installs nothing
    write_version(tmp_path / "results" / "standard", "standard", 2)
    out = subprocess.run(["make", "-n", "standard"], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert "sweep tasks/suites/standard-v2.yaml --results results/standard" in out.stdout
    write_version(tmp_path / "results" / "standard", "standard", 1)
    out = subprocess.run(["make", "-n", "standard"], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert "sweep tasks/suites/standard.yaml --results results/standard" in out.stdout
    assert suite_of("tasks/suites/standard-v2.yaml") == ("standard", 2)


def test_standard_v1_is_complete_and_says_v1():
    v1 = RESULTS / "standard-v1"
    assert read_version(v1)["suites"] == {"standard": 1}
    record = json.loads((v1 / "suites" / "standard.json").read_text())
    assert record["version"] == 1 and record["complete"] is True and record["path"] == "tasks/suites/standard.yaml"
    assert {f"{i}.json" for i in record["run_ids"]} <= {p.name for p in (v1 / "runs").glob("*.json")}
    assert (v1 / "leaderboard.md").exists() and (v1 / "measure" / "speed-cpu.json").exists()


def test_results_standard_says_whether_its_version_is_final():
    """results/standard holds the version its VERSION names, v2 while its sweep runs over several sessions:
    its suite record is of that version, and the committed report has the "Incomplete" banner exactly
    while the record says the sweep has runs left. Holds for an incomplete v2 and for a complete one."""
    standard = RESULTS / "standard"
    version = read_version(standard)["suites"]["standard"]
    record = json.loads((standard / "suites" / "standard.json").read_text())
    assert record["version"] == version and suite_of(record["path"]) == ("standard", version)
    # The banner names every suite of the directory with runs left (v2's pairs axis for the hf models,
    # standard-hf, is swept into the same directory).
    records = [json.loads(p.read_text()) for p in (standard / "suites").glob("*.json")]
    left = {f"{r['name']} v{r['version']}" for r in records if r.get("complete") is False}
    text = (standard / "leaderboard.md").read_text()
    banner = re.search(r"\*\*Incomplete: the sweep of (.+?) has runs left", text)
    assert (set(banner.group(1).split(", ")) if banner else set()) == left
    assert (f"standard v{version}" in left) == (record["complete"] is False)
    finished = {p.stem for p in (standard / "runs").glob("*.json")}
    assert finished >= {p.stem for p in (RESULTS / "standard-v1" / "runs").glob("*.json")}  # v2 reuses v1's runs


def cite(results) -> str:
    out = subprocess.run([sys.executable, "-m", "seqbench", "cite", "--results", str(results)], capture_output=True,
                         text=True, cwd=REPO, check=True)
    return out.stdout.split("\n\n", 1)[1]  # the leaderboard's entry, after the software's


def test_each_version_has_its_own_bibtex(tmp_path):
    v1 = cite(RESULTS / "standard-v1")
    assert v1.startswith("@misc{seqbench_standard_v1,") and "standard v1" in v1 and "directory standard-v1" in v1
    write_version(tmp_path, "standard", 2)
    v2 = cite(tmp_path)
    assert v2.startswith("@misc{seqbench_standard_v2,") and "standard v2" in v2
