"""Count-valued forecasts (sclm.counts): whole-number quantiles on series of whole numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sclm.counts import count_forecast, count_series, is_count, round_counts


def test_is_count_needs_whole_numbers_and_ignores_gaps():
    assert is_count([0, 3, 12.0, np.nan]) and is_count(np.array([[1.0, 2.0], [0.0, 7.0]]))
    assert not is_count([0, 2.5, 3]) and not is_count([]) and not is_count([np.nan])
    assert is_count([1 + 1e-12, 2]) and not is_count([1 + 1e-6, 2])


def test_round_counts_rounds_halves_up_keeps_order_and_nan():
    x = np.array([0.49, 0.5, 1.5, 2.5, -0.5, -0.51, np.nan])
    np.testing.assert_array_equal(round_counts(x), [0.0, 1.0, 2.0, 3.0, 0.0, -1.0, np.nan])
    q = np.sort(np.random.default_rng(0).gamma(2.0, 1.5, size=(50, 9)), axis=1)  # sorted quantiles
    r = round_counts(q)
    assert (np.diff(r, axis=1) >= 0).all()  # a monotone map: the quantiles stay sorted
    assert np.abs(r - q).max() <= 0.5


def test_rounded_median_is_the_count_median_and_lowers_the_expected_error():
    # a Poisson(2.3) outcome: its median is 2; a smooth estimate 2.4 of it rounds to 2, and the
    # expected absolute error, linear between whole numbers, is lower there
    from scipy.stats import poisson

    k = np.arange(60)
    pmf = poisson.pmf(k, 2.3)
    ae = lambda f: float((pmf * np.abs(k - f)).sum())  # noqa: E731
    assert poisson.median(2.3) == 2 == round_counts(2.4)
    assert ae(2.0) < ae(2.4) < ae(3.0)
    # linear between 2 and 3: the error at 2.4 is the chord's
    assert ae(2.4) == pytest.approx(0.6 * ae(2.0) + 0.4 * ae(3.0))


def test_count_forecast_rounds_only_series_of_whole_numbers_up_to_the_origin():
    history = pd.DataFrame(
        {"unique_id": ["a"] * 3 + ["b"] * 3, "y": [1.0, 0.0, 4.0, 1.5, 2.0, 3.0]}
    )  # a: counts; b: not (a half unit)
    fc = pd.DataFrame(
        {"unique_id": ["a", "a", "b", "c"], "mean": [1.4, 2.6, 1.4, 0.7], "q0.5": [0.5, 2.2, 1.6, 0.7]}
    )
    out = count_forecast(fc, history, ["mean", "q0.5"])
    np.testing.assert_array_equal(out["mean"], [1.0, 3.0, 1.4, 0.7])  # c: not in the history, as is
    np.testing.assert_array_equal(out["q0.5"], [1.0, 2.0, 1.6, 0.7])
    assert fc["mean"].tolist() == [1.4, 2.6, 1.4, 0.7]  # a copy: the input is untouched
    assert count_series(history).to_dict() == {"a": True, "b": False}
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['q0.9'\]"):
        count_forecast(fc, history, ["q0.9"])
    with pytest.raises(ValueError, match="history lacks"):
        count_series(history.rename(columns={"y": "sales"}))
