"""Fuzzing with hypothesis: no bad config or command line ever ends in a traceback.

The number of examples and the randomness come from the profile in conftest.py: derandomised in
`make test` and CI, fresh and many more in `make fuzz`. An input a fuzz run ever found stays here as an
explicit @example, so it is checked on every run whatever the profile draws.
"""
import yaml
from hypothesis import example, given, strategies as st

from seqbench import cli
from seqbench.errors import UserError
from seqbench.suite import load_suite, plan
from seqbench.tasks import task_from_yaml

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10, 10**7), st.floats(allow_nan=True),
                    st.text(max_size=8), st.sampled_from(["copy", "lstm", "adding", "accuracy", "rnn", "tag"]))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=12)
TASK_KEYS = ["generator", "dataset", "metrics", "lengths", "solved", "train", "model", "models", "version",
             "max_length", "embed_dim", "name", "skip_models", "bogus"]
SUITE_KEYS = ["name", "models", "tasks", "seeds", "lr", "grid", "train", "model", "device", "version", "bogus"]


def mapping(keys, extra):
    return st.dictionaries(st.sampled_from(keys), st.one_of(values, extra), max_size=6)


GOOD_TASK_PARTS = st.sampled_from([{"name": "copy"}, {"name": "adding", "tolerance": 0.1}, {"name": "recall", "n_pairs": 50}])
GOOD_SUITE_PARTS = st.sampled_from([["lstm"], ["gru", "nope"], {"copy": {"lengths": [5, -1]}}, {"adding": {"train": {"lr": "x"}}}])


@given(data=mapping(TASK_KEYS, GOOD_TASK_PARTS))
def test_task_yaml_never_tracebacks(tmp_path, data):
    path = tmp_path / "fuzz.yaml"
    path.write_text(yaml.safe_dump(data))
    try:
        task_from_yaml(path)
    except UserError:
        pass


@given(text=st.text(max_size=60))
def test_task_yaml_text_never_tracebacks(tmp_path, text):
    path = tmp_path / "fuzz.yaml"
    path.write_text(text)
    try:
        task_from_yaml(path)
    except UserError:
        pass


@given(data=mapping(SUITE_KEYS, GOOD_SUITE_PARTS))
@example(data={"models": ["lstm"], "tasks": [[]]})  # found on a fresh-clone CI run: was a TypeError
def test_suite_never_tracebacks(tmp_path, data):
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(data))
    try:
        plan(load_suite(path))
    except UserError:
        pass


TOKENS = ["run", "list", "sweep", "report", "--task", "--model", "--length", "--seed", "--steps", "--device",
          "copy", "lstm", "cpoy", "0", "-5", "abc", "--train.lr=1e-3", "--train.lr=x", "--model.params=-1",
          "--train.bogus=1", "--results", "--threads", "cuda", "--", "--help-me", "x.yaml", "--workers", "--executor",
          "ray", "--quiet", "=", "--train.steps=0", "--model.name=gru"]


@given(argv=st.lists(st.sampled_from(TOKENS), max_size=8))
def test_cli_never_tracebacks(argv):
    """Any argument list ends in exit 0 or 2; training and sweeps are replaced by stubs."""
    import seqbench.report.render
    import seqbench.runner
    import seqbench.sweep

    def no_training(*a, **k):
        raise UserError("stub: would train")
    originals = (seqbench.runner.execute, seqbench.sweep.sweep, seqbench.report.render.write_report)
    seqbench.runner.execute, seqbench.sweep.sweep, seqbench.report.render.write_report = (no_training,) * 3
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # --help exits 0 through argparse
        code = exc.code
    finally:
        seqbench.runner.execute, seqbench.sweep.sweep, seqbench.report.render.write_report = originals
    assert code in (0, 2)
