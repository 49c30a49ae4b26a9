"""What a results directory records about how it was made, beside its run files:

- `VERSION`: the suites swept into it (name -> suite version), the seqbench version and the commit,
  so a leaderboard can be cited by version (`seqbench cite --results DIR`);
- `references.json`: tasks/references.yaml as it was, so the report's "Against the literature"
  section needs nothing but the results directory.

    write_version(Path("results/standard"), "standard", 1)
    read_version(Path("results/standard"))
    # {"suites": {"standard": 1}, "seqbench": "0.1.0", "commit": "0c6fbb6…", "dirty": False}
"""
from __future__ import annotations

from pathlib import Path

import yaml

from . import __version__
from .atomic import write_text_atomic
from .errors import UserError
from .paths import builtin_tasks_dir
from .provenance import git_state
from .store import suite_label, write_json_atomic

VERSION_FILE = "VERSION"
REFERENCES_FILE = "references.json"


def read_version(results: Path) -> dict | None:
    """The results directory's VERSION, or None if it has none."""
    path = Path(results) / VERSION_FILE
    if not path.exists():
        return None
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict):
        raise UserError(f"{path}: not a VERSION file (expected 'suites:', 'seqbench:', 'commit:' lines)")
    return data


def version_suites(version: dict) -> str:
    """The suites a VERSION names, as people name them: 'standard v1, ablation v2' ('' for none)."""
    return ", ".join(suite_label(name, v) for name, v in (version.get("suites") or {}).items())


def write_version(results: Path, suite: str, suite_version: int) -> dict:
    """Add or update `suite`'s version in DIR/VERSION; the seqbench version and commit become this code's."""
    results = Path(results)
    old = read_version(results) or {}
    state = git_state()
    data = {"suites": {**(old.get("suites") or {}), suite: suite_version}, "seqbench": __version__,
            "commit": state["commit"] or "unknown", "dirty": bool(state["dirty"])}
    text = "# written by seqbench sweep/report: what this leaderboard is (seqbench cite --results DIR)\n"
    write_text_atomic(results / VERSION_FILE, text + yaml.safe_dump(data, sort_keys=False))
    return data


def load_references(path: Path | None = None) -> dict:
    """tasks/references.yaml (the packaged copy in a wheel): {"references": [...], "floors": [...],
    "generalisation": {...}}; empty when the file is absent."""
    path = path or builtin_tasks_dir() / "references.yaml"
    if not Path(path).exists():
        return {"references": [], "floors": []}
    data = yaml.safe_load(Path(path).read_text()) or {}
    for key in ("references", "floors"):
        if not isinstance(data.get(key, []), list):
            raise UserError(f"{path}: '{key}' must be a list")
    if not isinstance(data.get("generalisation", {}), dict):
        raise UserError(f"{path}: 'generalisation' must be a mapping")
    out = {"version": data.get("version"), "references": data.get("references", []), "floors": data.get("floors", [])}
    if data.get("generalisation"):  # published length-generalisation scores, per task and model
        out["generalisation"] = data["generalisation"]
    return out


def snapshot_references(results: Path, path: Path | None = None) -> None:
    """Copy the references into the results directory (as JSON), where the report reads them."""
    write_json_atomic(Path(results) / REFERENCES_FILE, load_references(path))
