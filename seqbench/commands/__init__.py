"""One module per subcommand; importing this package registers them all in `base.COMMANDS`."""
from . import cite, gradflow, list, perf, report, run, speed, sweep, verify  # noqa: F401, A004  (each registers its command)
from .base import COMMANDS, Command, Parser

__all__ = ["COMMANDS", "Command", "Parser"]
