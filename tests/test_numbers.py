"""Number formatting, intervals that stay in range, failures as words."""
import math

import pytest

from seqbench.report.numbers import cell_text, fmt, spread, versus


@pytest.mark.parametrize("value, text", [(0.98342, "0.983"), (7.5e-05, "7.50e-05"), (2.5137, "2.51"),
                                         (0.04123, "0.0412"), (0.99995, "1.00"), (0.00099996, "1.00e-03"), (12345.6, "12,346"), (0, "0"), (math.nan, "—"),
                                         (1.0, "1.00"), (9426287620468312033627869458464768.0, "9,426,287,620,468,312,033,627,869,458,464,768")])
def test_significant_digits(value, text):
    assert fmt(value) == text


def test_two_seeds_show_min_max_not_a_t_interval():
    s = spread([0.2, 0.9], higher_is_better=True)
    assert s.kind == "range" and (s.low, s.high) == (0.2, 0.9)
    assert s.text() == "0.550 [0.200–0.900]"


def test_intervals_are_clipped_to_the_metric_range():
    s = spread([0.99, 1.0, 0.2], higher_is_better=True)
    assert s.kind == "t95" and 0 <= s.low and s.high == 1.0
    mse = spread([1e-4, 0.3, 1e-4], higher_is_better=False)
    assert mse.low == 0.0 and mse.high > 0.3


def test_failures_are_words_and_the_mean_is_marked():
    assert cell_text(spread([0.5], True), {"diverged": 1}, 2, 0) == "0.500* · diverged 1/2"
    assert cell_text(spread([], True), {"diverged": 2}, 2, 0) == "diverged 2/2"
    assert cell_text(spread([0.5, 0.6], True), {}, 2, 1) == "0.550 [0.500–0.600]†"


def test_versus_a_trivial_strategy():
    assert versus([0.339, 0.336], 0.337, True) == 0  # the bag-of-values plateau
    assert versus([0.99, 0.98], 0.337, True) == 1
    assert versus([0.339], 0.337, True, n_scored=4000) == 0  # two binomial SEs cover 0.002
    assert versus([0.40], 0.337, True, n_scored=4000) == 1
    assert versus([0.17, 0.16], 1 / 6, False) == 0  # adding: MSE no better than predicting 1
    assert versus([0.001, 0.002], 1 / 6, False) == 1


def test_a_score_far_below_a_strategy_trails_it():
    """Recall's rnn at chance (0.062) is not "within noise" of the bag of values (0.337): it trails it."""
    assert versus([0.0595, 0.0665], 0.337, True, n_scored=4000) == -1
    assert versus([0.0595, 0.0665], 0.0625, True, n_scored=4000) == 0
    assert versus([0.0595, 0.40], 0.337, True, n_scored=4000) == 0  # one seed above, one below: not beyond noise
    assert versus([0.331], 0.337, True, n_scored=4000) == 0  # 0.006 below is within two SEs (0.015)
    assert versus([0.30], 0.337, True, n_scored=4000) == -1
    assert versus([0.25, 0.3], 1 / 6, False) == -1  # an MSE above predicting the mean
    assert versus([0.168], 1 / 6, False) == 0


def test_a_loss_within_two_percent_of_a_strategy_does_not_beat_it():
    assert versus([0.166], 1 / 6, False) == 0  # the transformer's single seed at the predict-1 score
    assert versus([0.15], 1 / 6, False) == 1
