"""Fuzzing with hypothesis: no bad config or command line ever ends in a traceback, and the error
is one line that names what is wrong (the file, and the bad key or value).

The number of examples and the randomness come from the profile in conftest.py: derandomised in
`make test` and CI, fresh and many more in `make fuzz`. An input a fuzz run ever found stays here as an
explicit @example, so it is checked on every run whatever the profile draws.
"""
import re

import yaml
from hypothesis import example, given, strategies as st

from seqbench import cli
from seqbench.errors import UserError, shown
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


# Keys a message may name as missing: they are not in the data.
REQUIRED = ("'metrics'", "'generator:'", "'tasks'", "'models'")


def names(message: str, data, valid_keys=()) -> bool:
    """Whether `message` names a bad part of `data`: a value (at any depth, as `shown` quotes it), a
    key that is not one of `valid_keys` (nested keys always count), or a missing required key. A valid
    top-level key alone is not enough: "'models' must be a list" does not say what was there."""
    found = set(REQUIRED)

    def walk(x, top: bool) -> None:
        found.update({shown(x), str(x)})
        if isinstance(x, dict):
            for k, v in x.items():
                if not (top and k in valid_keys):
                    found.update({shown(k), str(k)})
                walk(v, False)
        elif isinstance(x, list):
            for v in x:
                walk(v, False)
    walk(data, True)

    def said(word: str) -> bool:  # as a whole word where it starts or ends with a word character
        before = r"(?<![\w.])" if re.match(r"\w", word) else ""
        after = r"(?!\w)" if re.search(r"\w$", word) else ""
        return bool(re.search(before + re.escape(word) + after, message))
    return any(word and said(word) for word in found)


def assert_one_line_naming(exc: UserError, path, data, valid_keys) -> None:
    message = str(exc)
    assert "\n" not in message, message
    assert message.startswith(f"{path}: "), message  # names the file
    assert names(message[len(str(path)) + 2:], data, valid_keys), message


GOOD_TASK_PARTS = st.sampled_from([{"name": "copy"}, {"name": "adding", "tolerance": 0.1}, {"name": "recall", "n_pairs": 50}])
GOOD_SUITE_PARTS = st.sampled_from([["lstm"], ["gru", "nope"], {"copy": {"lengths": [5, -1]}}, {"adding": {"train": {"lr": "x"}}}])


@given(data=mapping(TASK_KEYS, GOOD_TASK_PARTS))
@example(data={"generator": {"name": "copy"}, "metrics": [""]})  # found by `make fuzz`: the file was not named
def test_task_yaml_never_tracebacks(tmp_path, data):
    path = tmp_path / "fuzz.yaml"
    path.write_text(yaml.safe_dump(data))
    try:
        task_from_yaml(path)
    except UserError as exc:
        assert_one_line_naming(exc, path, data, TASK_KEYS[:-1])


@given(text=st.text(max_size=60))
@example(text="ab\x94c")  # was a two-line message (yaml's "unacceptable character ... in <unicode string>")
@example(text="just words")  # was "got str": the value was not named
def test_task_yaml_text_never_tracebacks(tmp_path, text):
    path = tmp_path / "fuzz.yaml"
    path.write_text(text)
    try:
        task_from_yaml(path)
    except UserError as exc:
        message = str(exc)
        assert "\n" not in message and message.startswith(f"{path}: "), message
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError:  # malformed: the message says where
            assert re.search(r"malformed YAML at (line \d+, column \d+|character \d+)", message), message
        else:
            assert names(message[len(str(path)) + 2:], data), message


@given(data=mapping(SUITE_KEYS, GOOD_SUITE_PARTS))
@example(data={"models": ["lstm"], "tasks": [[]]})  # found on a fresh-clone CI run: was a TypeError
@example(data={"models": ["lstm"], "tasks": ["copy"], "lr": ["lstm"]})  # was "'lr' must be a mapping": no value
def test_suite_never_tracebacks(tmp_path, data):
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(data))
    try:
        suite = load_suite(path)
    except UserError as exc:
        assert_one_line_naming(exc, path, data, SUITE_KEYS[:-1])
        return
    try:
        plan(suite)
    except UserError as exc:  # a task, model or length the suite names: the value says where
        assert "\n" not in str(exc) and names(str(exc), data, SUITE_KEYS[:-1]), str(exc)


TOKENS = ["run", "list", "sweep", "report", "--task", "--model", "--length", "--seed", "--steps", "--device",
          "copy", "lstm", "cpoy", "0", "-5", "abc", "--train.lr=1e-3", "--train.lr=x", "--model.params=-1",
          "--train.bogus=1", "--results", "--threads", "cuda", "--", "--help-me", "x.yaml", "--workers", "--executor",
          "ray", "--quiet", "=", "--train.steps=0", "--model.name=gru"]


@given(argv=st.lists(st.sampled_from(TOKENS), max_size=8))
def test_cli_never_tracebacks(argv, capsys):
    """Any argument list ends in exit 0 or 2, and a 2 in one line naming a bad argument (or the
    missing ones); training and sweeps are replaced by stubs."""
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
    err = capsys.readouterr().err.strip()
    if code == 2 and "stub: would train" not in err:
        assert len(err.splitlines()) == 1 and err.startswith("seqbench: error: "), err
        named = any(re.search(rf"(?<![\w.=-]){re.escape(token)}(?![\w.=-])", err) for token in argv)
        assert named or "arguments are required" in err or "no run files in" in err, err
