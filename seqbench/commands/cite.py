"""`seqbench cite [--results DIR]`: BibTeX for the software (from CITATION.cff) and, with --results,
for the leaderboard version in DIR/VERSION (written by `seqbench sweep`)."""
from __future__ import annotations

import argparse
import sys
from importlib.metadata import metadata
from pathlib import Path

import yaml

from ..errors import UserError
from ..provenance import REPO
from ..leaderboard_version import read_version, version_suites
from ..store import unfinished_suites
from .base import COMMANDS, Command

CITATION = REPO / "CITATION.cff"


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--results", type=Path, help="a results directory: also cite the leaderboard version it holds")


def software_bibtex(cff: dict) -> str:
    authors = " and ".join("{" + a["name"] + "}" if a.get("name") else f"{a.get('family-names', '')}, {a.get('given-names', '')}"
                           for a in cff.get("authors", []))
    year = str(cff.get("date-released", ""))[:4]
    fields = {"title": cff.get("title"), "author": authors, "version": cff.get("version"), "year": year,
              "url": cff.get("repository-code") or cff.get("url")}
    return _entry("software", f"seqbench{cff.get('version', '')}".replace(".", "_"), fields)


def leaderboard_bibtex(version: dict, cff: dict, results: Path, unfinished: list[str] = ()) -> str:
    suites = version_suites(version)
    key = "seqbench_" + "_".join(f"{name}_v{v}" for name, v in (version.get("suites") or {}).items())
    fields = {"title": f"seqbench leaderboard: {suites}",
              "author": " and ".join("{" + a.get("name", "") + "}" for a in cff.get("authors", [])),
              "year": str(cff.get("date-released", ""))[:4],
              "note": f"seqbench {version.get('seqbench')}, commit {version.get('commit')}"
                      + (" (dirty)" if version.get("dirty") else "") + f", results directory {results.name}"
                      + (f", incomplete: the sweep of {', '.join(unfinished)} has runs left" if unfinished else "")}
    return _entry("misc", key, fields)


def _entry(kind: str, key: str, fields: dict) -> str:
    body = ",\n".join(f"  {name:<7} = {{{value}}}" for name, value in fields.items() if value)
    return f"@{kind}{{{key},\n{body}\n}}"


def citation() -> dict:
    """CITATION.cff in a checkout; in an installed wheel (which has no CITATION.cff) the same fields
    from the package's metadata, which pyproject keeps equal to it (tests/test_cite.py)."""
    if CITATION.exists():
        return yaml.safe_load(CITATION.read_text())
    meta = metadata("seqbench")
    return {"title": meta["Summary"], "version": meta["Version"],
            "authors": [{"name": meta["Author"] or "The seqbench developers"}]}


def run(args: argparse.Namespace) -> int:
    cff = citation()
    version = None
    if args.results is not None:  # checked before anything is printed
        version = read_version(args.results)
        if version is None:
            raise UserError(f"{Path(args.results) / 'VERSION'} not found: run `seqbench sweep SUITE --results "
                            f"{args.results}` first, or pass the results directory of a sweep")
    print(software_bibtex(cff))
    if version is not None:
        unfinished = unfinished_suites(args.results)
        if unfinished:  # a partial leaderboard's numbers are not final: say so where it is cited
            print(f"seqbench cite: {', '.join(unfinished)} in {args.results} is incomplete (its sweep has runs "
                  "left); run the same `seqbench sweep` command to finish it before citing it", file=sys.stderr)
        print()
        print(leaderboard_bibtex(version, cff, Path(args.results), unfinished))
    return 0


COMMANDS.register("cite", Command(configure, run, "print BibTeX for seqbench and a leaderboard version"))
