"""The length search on a fake trainer whose ability is a known length."""
import pytest

from seqbench.search import LengthSearch


def run_search(search: LengthSearch, ability: int) -> tuple[dict, list]:
    """Probe as a sweep would: one run at a time, solved iff L <= ability."""
    solved, order = {}, []
    while (L := search.next_value(solved)) is not None:
        assert L not in solved, "a length is never probed twice"
        solved[L] = L <= ability
        order.append(L)
    return solved, order


@pytest.mark.parametrize("ability", [8, 9, 13, 40, 63, 64, 100, 255, 300, 511])
def test_finds_the_ability_within_the_resolution(ability):
    search = LengthSearch(start=8, max=512, refine=2)
    solved, _ = run_search(search, ability)
    result = search.result(solved)
    assert result.done and not result.censored and not result.below_start
    assert result.longest <= ability < result.first_fail
    # Doubling brackets the ability within a factor 2; two bisections narrow that to a quarter.
    assert result.first_fail - result.longest <= max(1, result.longest // 4 + 1)


def test_worked_example():
    search = LengthSearch(start=8, max=256, refine=2)
    solved, order = run_search(search, 40)
    assert order == [8, 16, 32, 64, 48, 40]
    assert search.result(solved).label(8) == "40"


def test_censored_when_max_is_solved():
    search = LengthSearch(start=8, max=100, refine=2)
    solved, order = run_search(search, 10_000)
    assert order == [8, 16, 32, 64, 100]
    result = search.result(solved)
    assert result.censored and result.longest == 100 and result.label(8) == "≥ 100"


def test_below_start_when_nothing_is_solved():
    search = LengthSearch(start=8, max=100, refine=2)
    solved, order = run_search(search, 3)
    assert order == [8]
    result = search.result(solved)
    assert result.below_start and result.label(8) == "< 8"


def test_resumes_from_partial_outcomes():
    """The next probe depends only on outcomes, so a killed search picks up where it stopped."""
    search = LengthSearch(start=8, max=512, refine=3)
    full, order = run_search(search, 77)
    for k in range(len(order)):
        partial = {L: full[L] for L in order[:k]}
        assert search.next_value(partial) == order[k]


@pytest.mark.parametrize("bad", [dict(start=0, max=8), dict(start=16, max=8), dict(start=8, max=16, refine=-1)])
def test_bad_settings(bad):
    with pytest.raises(ValueError):
        LengthSearch(**bad)
