"""Number formatting, intervals that stay in range, failures as words."""
import math

import pytest

from seqbench.report.numbers import cell_text, fmt, spread, within_noise


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


def test_within_noise_of_a_trivial_strategy():
    assert within_noise([0.339, 0.336], 0.337, True)  # the bag-of-values plateau
    assert not within_noise([0.99, 0.98], 0.337, True)
    assert within_noise([0.339], 0.337, True, n_scored=4000)  # two binomial SEs cover 0.002
    assert not within_noise([0.40], 0.337, True, n_scored=4000)
    assert within_noise([0.17, 0.16], 1 / 6, False)  # adding: MSE no better than predicting 1
    assert not within_noise([0.001, 0.002], 1 / 6, False)


def test_a_loss_within_two_percent_of_a_strategy_does_not_beat_it():
    assert within_noise([0.166], 1 / 6, False)  # the transformer's single seed at the predict-1 score
    assert not within_noise([0.15], 1 / 6, False)
