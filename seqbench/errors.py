"""Errors that reach the user as one line and exit code 2 (no traceback)."""


class UserError(Exception):
    """Bad input from the user: a name, a value, a file. The message says what to do."""


def shown(value, limit: int = 60) -> str:
    """A bad value as a one-line message quotes it: its repr on one line, cut at `limit` characters.
    shown("a\nb") -> "'a\\nb'"; shown(list(range(40)))[-1] -> '…'."""
    text = " ".join(repr(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# The optional dependencies of pyproject.toml's [project.optional-dependencies], by the module they
# install: a command that needs one that is missing says, in one line, which extra to install.
EXTRAS = {"datasets": "data", "tokenizers": "data", "transformers": "data", "seqeval": "data", "mambapy": "data",
          "matplotlib": "report", "seaborn": "report", "ray": "ray"}


def _missing(command: str | None, module: str) -> UserError:
    who = f"'seqbench {command}'" if command else "seqbench"
    return UserError(f"{who} needs {module!r}, which is not installed: pip install 'seqbench[{EXTRAS[module]}]'")


def missing_extra(exc: BaseException, command: str | None) -> UserError | None:
    """The one-line error for an optional dependency that is not installed; None for any other
    import error. ModuleNotFoundError(name='datasets.load'), 'run' ->
    "'seqbench run' needs 'datasets', which is not installed: pip install 'seqbench[data]'"."""
    module = (getattr(exc, "name", None) or "").split(".")[0]
    return _missing(command, module) if isinstance(exc, ModuleNotFoundError) and module in EXTRAS else None


def require_extra(extra: str, command: str) -> None:
    """Fail now, before anything is written, when a module of `extra` is not installed."""
    import importlib.util

    for module in (m for m, e in EXTRAS.items() if e == extra):
        if importlib.util.find_spec(module) is None:
            raise _missing(command, module)
