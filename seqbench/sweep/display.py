"""What a sweep tells whoever watches it. The sweep calls these; `seqbench sweep` prints them (a rich
progress bar and one line per run, commands/sweep.py); a sweep called from code shows nothing."""
from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Protocol

from .queue import ChainState, Job


class Display(Protocol):
    def message(self, text: str, warn: bool = False) -> None:
        """A line about the sweep as a whole; `warn`: something the user may not expect."""

    def progress(self, total: int) -> AbstractContextManager:
        """Around the runs: a progress bar over `total` runs known at the start."""

    def update(self, known: int, open_chains: int, advance: int = 0) -> None:
        """`advance` runs done; `known` runs queued so far (chains and released groups add to it)."""

    def run_done(self, job: Job, summary: dict) -> None:
        """A run ended: `summary` is run_one's (status, metric, value, seconds, error)."""

    def search_done(self, state: ChainState) -> None:
        """A length search ended (or stalled), or the sweep ends with it probed so far."""

    def interrupted(self, done: int, known: int) -> None:
        """Ctrl-C: `done` of the `known` runs ended in this sweep."""


class Silent:
    """Shows nothing: the display of a sweep called from code."""

    def message(self, text: str, warn: bool = False) -> None:
        pass

    def progress(self, total: int) -> AbstractContextManager:
        return nullcontext()

    def update(self, known: int, open_chains: int, advance: int = 0) -> None:
        pass

    def run_done(self, job: Job, summary: dict) -> None:
        pass

    def search_done(self, state: ChainState) -> None:
        pass

    def interrupted(self, done: int, known: int) -> None:
        pass
