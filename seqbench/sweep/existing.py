"""What a sweep finds already in its results directory: a `--models` sweep ranks its models among the
suite's other models there, so those must have been made under the same protocol (resume.py)."""
from __future__ import annotations

from pathlib import Path

from ..config import RunConfig
from ..errors import UserError
from ..resume import protocol_differences, suite_manifest
from ..suite import Chain, Suite


def refuse_other_protocol(results: Path, suite: Suite, added: tuple[str, ...], runs: list[RunConfig],
                          chains: list[Chain], records: list[dict]) -> None:
    """A `--models` sweep ranks its models among the suite's other models in `results`: refuse, in
    one line, when those were made under another protocol."""
    from ..tasks import get_task

    manifest = suite_manifest(results, suite.name)
    if manifest is None:
        return  # none of this suite's runs here: nothing to be ranked against, nothing to mix
    ids = set(manifest.get("run_ids", []))
    existing = [r for r in records if r["run_id"] in ids and r["config"]["model"]["name"] not in added]
    planned = runs + [chain.config(chain.search.start) for chain in chains]

    def data_of(task: str, length: int) -> dict:
        get_task(task).prepare()
        return get_task(task).source.describe(length)

    diffs = protocol_differences(manifest, suite.version, existing, planned, data_of)
    if diffs:
        raise UserError(f"{results} holds suite {suite.name} runs of another protocol, so {', '.join(added)} "
                        f"would not be ranked with them: {'; '.join(diffs)}. Sweep into another --results "
                        "directory, or use the seqbench and suite that made them")
