"""The largest solved value of a task parameter, searched: double it until a run is no longer
solved, then bisect. The parameter is the length unless a search names another.

A suite gives a synthetic task `lengths: {search: {start: 8, max: 4096, refine: 2}}`, or, to search
another integer parameter of its generator at fixed lengths, `search: {param: n_pairs, start: 4,
max: 64, refine: 1}` (the harder the task as it grows, the better: recall's key-value pairs). Per
model, learning rate, grid point, seed (and fixed length) — a *chain* — the search probes

    start, 2 start, 4 start, ...   while the run's status is `solved` and the value <= max
    then `refine` bisections between the last value solved and the first one not solved.

The next length is a pure function of the outcomes so far, so a killed sweep resumes from the run
files it left: every probe is an ordinary run. Example (start 8, max 256, refine 2; the model
solves up to L = 40):

    8 ok, 16 ok, 32 ok, 64 no  ->  bisect: 48 no, 40 ok  ->  longest solved 40, next fail 48
"""
from __future__ import annotations

from dataclasses import dataclass

LENGTH = "length"


@dataclass(frozen=True)
class ParamSearch:
    start: int  # the first value probed
    max: int  # the largest value probed; solving it makes the result censored (">= max")
    refine: int = 2  # bisection steps between the last pass and the first fail
    param: str = LENGTH  # what is searched: the length, or a task parameter (a field of the task's generator)

    def __post_init__(self):
        if not (isinstance(self.start, int) and isinstance(self.max, int) and self.start >= 1 and self.max >= self.start):
            raise ValueError(f"a search needs integers 1 <= start <= max, got start={self.start!r} max={self.max!r}")
        if not isinstance(self.refine, int) or self.refine < 0:
            raise ValueError(f"a search's refine must be an integer >= 0, got {self.refine!r}")
        if not isinstance(self.param, str) or not self.param:
            raise ValueError(f"a search's param must name a task parameter, got {self.param!r}")

    @property
    def over_length(self) -> bool:
        return self.param == LENGTH

    def block(self) -> dict:
        """The search's fields as a run file's `search` block holds them: `param` only when it is not
        the length, so a length search's block reads as it always did."""
        return {"start": self.start, "max": self.max, "refine": self.refine,
                **({} if self.over_length else {"param": self.param})}

    @property
    def beyond(self) -> int:
        """The value a censored search (every probe solved, `max` included) did not try: the doubling's
        next step past `max`. LengthSearch(16, 256).beyond == 512."""
        return 2 * self.max

    def doubling(self) -> list[int]:
        lengths, L = [], self.start
        while L < self.max:
            lengths.append(L)
            L *= 2
        return lengths + [self.max]

    def next_value(self, solved: dict[int, bool]) -> int | None:
        """The next value to probe given the outcomes so far (value -> solved), or None when done."""
        lo = None
        for L in self.doubling():
            if L not in solved:
                return L
            if not solved[L]:
                hi = L
                break
            lo = L
        else:
            return None  # max solved: censored
        if lo is None:
            return None  # the first length failed: nothing to bisect
        for _ in range(self.refine):
            if hi - lo <= 1:
                return None
            mid = (lo + hi) // 2
            if mid not in solved:
                return mid
            lo, hi = (mid, hi) if solved[mid] else (lo, mid)
        return None

    @staticmethod
    def bounds(solved: dict[int, bool]) -> tuple[int | None, int | None]:
        """(largest value solved below the first failure, smallest failure)."""
        fails = [L for L, ok in solved.items() if not ok]
        hi = min(fails) if fails else None
        passes = [L for L, ok in solved.items() if ok and (hi is None or L < hi)]
        return (max(passes) if passes else None), hi

    def result(self, solved: dict[int, bool]) -> "SearchResult":
        lo, hi = self.bounds(solved)
        return SearchResult(longest=lo, first_fail=hi, censored=hi is None and lo == self.max,
                            below_start=lo is None and hi is not None, done=self.next_value(solved) is None)


LengthSearch = ParamSearch  # the name readers of length searches know it by; param defaults to the length


@dataclass(frozen=True)
class SearchResult:
    longest: int | None  # the largest value solved (None: none)
    first_fail: int | None  # the smallest value not solved (None: none failed)
    censored: bool  # even `max` was solved: the true limit is >= longest
    below_start: bool  # not even `start` was solved: the limit is < start
    done: bool  # no probe left to run

    def label(self, start: int) -> str:
        if self.below_start:
            return f"< {start}"
        if self.longest is None:
            return "—"
        return f"≥ {self.longest}" if self.censored else str(self.longest)
