"""A leaderboard entry from someone else: a directory with `submission.yaml`, the plugin file of the
model, and the runs, checked against a committed leaderboard (`results/standard-v1`).

    submission.yaml:  name: my-conv            # the entry's name (results/submissions/<name>/)
                      models: [mymodel]        # the models it ranks
                      plugin: mymodel.py       # the file that registers them, beside this one
                      against: results/standard-v1

Accepted when every run file reads with its hash, nothing in runs/ is an orphan, every run is of a
declared model and not one of the leaderboard's own, and every run was made under the protocol the
leaderboard ranks for its task (the `main` protocol of its leaderboard.csv). Another protocol is
refused: the numbers would not be comparable.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..config import read_yaml
from ..errors import UserError
from ..protocol import Protocol, protocol_differences
from ..report.decisions import decide
from ..store import load_runs

SUBMISSION_FILE = "submission.yaml"


@dataclass(frozen=True)
class Submission:
    directory: Path
    name: str
    models: tuple[str, ...]
    plugin: Path | None
    against: Path

    @classmethod
    def read(cls, directory: Path, repository: Path = Path(".")) -> "Submission":
        path = Path(directory) / SUBMISSION_FILE
        if not path.is_file():
            raise UserError(f"{directory} has no {SUBMISSION_FILE}; write one with name, models, plugin and "
                            "against (see README, 'Submit a leaderboard entry')")
        data = read_yaml(path) or {}
        missing = [k for k in ("name", "models", "against") if not data.get(k)]
        if missing:
            raise UserError(f"{path}: missing {', '.join(missing)} (see README, 'Submit a leaderboard entry')")
        plugin = Path(directory) / data["plugin"] if data.get("plugin") else None
        if plugin is not None and not plugin.is_file():
            raise UserError(f"{path}: plugin {data['plugin']} is not in {directory}; put the model's file beside it")
        return cls(Path(directory), str(data["name"]), tuple(data["models"]), plugin, repository / data["against"])

    def as_dict(self) -> dict:
        return {"name": self.name, "models": list(self.models), "plugin": self.plugin.name if self.plugin else None,
                "against": str(self.against)}


def ranked_protocols(against: Path, runs: list) -> dict[str, str]:
    """task -> the protocol its main table ranks (report/decisions.py's main_protocol, from the
    leaderboard's run files `runs`); a results directory without a rendered leaderboard is refused."""
    path = Path(against) / "leaderboard.csv"
    if not path.is_file():
        raise UserError(f"{path} is missing: a submission is checked against a committed leaderboard "
                        "(pass --against results/standard)")
    return decide(runs).main_protocol


def protocol_refusal(submission: Submission) -> str | None:
    """One line naming the first run made under another protocol than the leaderboard ranks; None if all agree."""
    theirs, _ = load_runs(submission.against)
    ranked = ranked_protocols(submission.against, theirs)
    examples = {Protocol.of_record(r).key: r for r in theirs}
    for run in load_runs(submission.directory)[0]:
        protocol = Protocol.of_record(run)
        task = run.config.task
        if task not in ranked:
            return (f"submission {submission.name}: run {run.run_id} is of task {task}, which "
                    f"{submission.against} does not rank")
        if protocol.key != ranked[task]:
            differs = protocol_differences(protocol, Protocol.of_record(examples[ranked[task]]))
            said = "; ".join(f"{what} {mine} here, {ours} there" for what, mine, ours in differs[:3])
            return (f"submission {submission.name}: run {run.run_id} ({task}) was made under protocol "
                    f"{protocol.key}, not {submission.against}'s {ranked[task]}: {said}")
    return None


def entry_problems(submission: Submission) -> tuple[int, list[str]]:
    """Runs of undeclared models, or runs the leaderboard already holds."""
    runs, _ = load_runs(submission.directory)
    committed = {r.run_id for r in load_runs(submission.against)[0]}
    problems = [f"run {r.run_id} is of model {r.config.model.name}, which {SUBMISSION_FILE} does not declare"
                for r in runs if r.config.model.name not in submission.models]
    problems += [f"run {r.run_id} is already in {submission.against}: a submission holds only its own runs"
                 for r in runs if r.run_id in committed]
    return len(runs), problems
