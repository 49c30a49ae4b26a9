"""The `seqbench` command line: build the parser from the registered commands and dispatch.

The commands themselves live in seqbench/commands/, one module each. Bad input never produces a
traceback: it ends in one line on stderr and exit code 2.
"""
from __future__ import annotations

import os
import signal
import sys
import threading

from .commands import COMMANDS, Parser
from .commands.base import apply_data_dir, apply_plugins
from .errors import UserError, missing_extra


def build_parser() -> Parser:
    parser = Parser(prog="seqbench", description="Compare sequence architectures under one harness.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for name in COMMANDS.names():
        spec = COMMANDS.get(name)
        spec.configure(sub.add_parser(name, help=spec.help))
    return parser


class Terminated(KeyboardInterrupt):
    """SIGTERM (`kill`, a scheduler's stop), handled as a Ctrl-C is: a sweep stops its workers and
    releases their locks, so nothing is left running and a resume starts clean."""


def _terminate(signum, frame) -> None:
    raise Terminated()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # Only the main thread may set handlers; an embedding program gets its own handler back.
    handles = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if handles else None
    try:
        return _dispatch(argv)
    finally:
        if handles:
            signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


def _dispatch(argv: list[str]) -> int:
    command = None  # known once parsed; a plugin file may import an optional dependency
    try:
        parser = build_parser()
        args, extra = parser.parse_known_args(argv)
        spec, command = COMMANDS.get(args.command), args.command
        apply_data_dir(args)
        apply_plugins(args)
        overrides = [a for a in extra if a.startswith("--") and "." in a.split("=")[0]]
        unknown = [a for a in extra if a not in overrides]
        if unknown or (overrides and not spec.takes_overrides):
            raise UserError(f"unrecognised arguments: {' '.join(unknown or overrides)} (see 'seqbench {args.command} --help')")
        return spec.run(args, overrides) if spec.takes_overrides else spec.run(args)
    except UserError as exc:
        print(f"seqbench: error: {exc}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:  # an optional dependency (pyproject's extras) is not installed
        error = missing_extra(exc, command)
        if error is None:
            raise
        print(f"seqbench: error: {error}", file=sys.stderr)
        return 2
    except Terminated:
        print("seqbench: terminated; finished runs are saved, run the same command again to resume", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("seqbench: interrupted; finished runs are saved, run the same command again to resume", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`seqbench cite | head`): not an error of ours. Point stdout at
        # /dev/null so the interpreter's final flush does not raise again; 141 is a shell's SIGPIPE code.
        _silence_stdout()
        return 141


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass  # not a real file (a test's capture): nothing will be flushed to a closed pipe
