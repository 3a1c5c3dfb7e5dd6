"""sclm.cleaning.estimate_noise_rate on small counts under binomial thinning (issue 13, defect 1).

The counter sees each of the reference's events with probability ``1 - p``:
``counter ~ Binomial(reference, 1 - p)``.  The full grid (λ ∈ {1, 3, 10, 100} × p ∈ {0.05, 0.1,
0.3} × 40 repeats) is in ``bench/noise_rate.py``; here one setting and the edge cases.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sclm.cleaning import NoiseRateCorrector, ReadingsCleaner, estimate_noise_rate


def thinned(lam: float, p: float, n_days: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(counter, reference): reference ~ Poisson(lam) exact counts, counter ~ Binomial(reference, 1 - p)."""
    rng = np.random.default_rng(seed)
    x = rng.poisson(lam, n_days)
    return rng.binomial(x, 1.0 - p).astype(np.float64), x.astype(np.float64)


def readings(counter: np.ndarray, reference: np.ndarray) -> pd.DataFrame:
    n = len(counter)
    days = pd.date_range("2024-01-01", periods=n).values.astype("datetime64[ns]")
    return pd.DataFrame(
        {
            "ts": np.concatenate([days, days]),
            "node": np.full(2 * n, "A", dtype=object),
            "node_type": np.full(2 * n, "store", dtype=object),
            "variable": np.full(2 * n, "sales", dtype=object),
            "value": np.concatenate([counter, reference]),
            "unit": np.full(2 * n, "unit", dtype=object),
            "source": np.array(["iot"] * n + ["erp"] * n, dtype=object),
        }
    )


def test_poisson_3_thinned_at_0_1_is_estimated_within_its_interval():
    """The issue's case: the trimmed log-ratio estimator gave p_hat = 0.000 and 0 % coverage."""
    p, lam, n_days = 0.1, 3.0, 700
    cr_sd = math.sqrt(p * (1 - p) / (lam * n_days))  # Cramér–Rao sd of the binomial MLE, 0.0065
    errs, covered = [], []
    for seed in range(20):
        y, x = thinned(lam, p, n_days, seed)
        est = estimate_noise_rate(y, x)
        errs.append(est["p_hat"] - p)
        covered.append(est["ci_low"] <= p <= est["ci_high"])
        # no good day is set aside and zero counts count: every day with a reference event is kept
        assert est["n_screened"] == 0 and est["n_days"] == int((x > 0).sum())
        assert est["p_hat"] == pytest.approx(1.0 - y.sum() / x.sum(), abs=1e-12)  # the ratio of sums
        # the interval's half-width is the binomial one, 1.96 * sqrt(p(1-p) / sum(x)), within 10 %
        half = (est["ci_high"] - est["ci_low"]) / 2
        assert half == pytest.approx(1.96 * math.sqrt(p * (1 - p) / x.sum()), rel=0.1)
    errs = np.abs(errs)
    assert errs.mean() <= 0.01 and errs.max() <= 4 * cr_sd
    assert np.mean(covered) >= 0.85  # nominal 0.95; 20 repeats


def test_low_counts_with_zeros_are_unbiased_over_repeats():
    """λ = 1: over a third of the days have no event, two thirds of the counter's days are 0 or 1."""
    p = 0.05
    est = [estimate_noise_rate(*thinned(1.0, p, 700, 100 + s)) for s in range(30)]
    p_hat = np.array([e["p_hat"] for e in est])
    assert abs(p_hat.mean() - p) < 3 * math.sqrt(p * (1 - p) / 700) / math.sqrt(30)
    assert np.mean([e["ci_low"] <= p <= e["ci_high"] for e in est]) >= 0.85


def test_bad_days_on_small_counts_are_set_aside():
    y, x = thinned(3.0, 0.1, 700, 7)
    clean_est = estimate_noise_rate(y, x)
    y_bad, x_bad = y.copy(), x.copy()
    y_bad[[10, 200]] = [60.0, 45.0]  # counter spikes
    x_bad[[300, 400]] = [80.0, 55.0]  # reference spikes
    y_bad[500], x_bad[500] = 4.0, 0.0  # a counter event on a day the reference has none
    est = estimate_noise_rate(y_bad, x_bad)
    assert est["n_screened"] == 5
    assert est["p_hat"] == pytest.approx(clean_est["p_hat"], abs=0.003)


def test_counter_above_reference_is_noise_not_a_reason_to_drop_the_day():
    """A day with counter > reference is kept when plausible (dropping only those would bias p up)."""
    rng = np.random.default_rng(3)
    truth = rng.poisson(200, 700)
    x = truth * (1 + 0.03 * rng.standard_normal(700))  # a noisy reference
    y = rng.binomial(truth, 0.98).astype(np.float64)
    est = estimate_noise_rate(y, x)
    assert est["n_over"] > 50 and est["n_screened"] <= 2
    assert est["dispersion"] == pytest.approx(0.03**2, rel=0.3)
    assert est["ci_low"] <= 0.02 <= est["ci_high"]


def test_edge_cases():
    nan = estimate_noise_rate(np.zeros(5), np.zeros(5))  # no reference event
    assert math.isnan(nan["p_hat"]) and nan["n_days"] == 0
    one = estimate_noise_rate(np.array([1.0]), np.array([2.0]))
    assert one["p_hat"] == 0.5 and one["n_days"] == 1 and math.isnan(one["ci_low"])
    blind = estimate_noise_rate(np.zeros(50), np.full(50, 3.0))  # the counter sees nothing
    assert blind["p_hat"] == 1.0 and blind["n_screened"] == 0
    y, x = thinned(3.0, 0.1, 100, 1)
    assert estimate_noise_rate(y, x) == estimate_noise_rate(y, x)  # deterministic, no resampling
    with pytest.raises(ValueError, match="differ in length"):
        estimate_noise_rate(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match=r"trim=0 is out of range"):
        estimate_noise_rate(y, x, trim=0)
    with pytest.raises(ValueError, match=r"confidence=1\.0 is out of range"):
        estimate_noise_rate(y, x, confidence=1.0)


def test_the_cleaner_corrects_a_low_count_counter():
    y, x = thinned(3.0, 0.1, 700, 11)
    raw = readings(y, x)
    cleaner = ReadingsCleaner(skip=("outliers", "gaps")).fit(raw)
    row = cleaner.p_.iloc[0]
    assert row["applied"] and abs(row["p_hat"] - 0.1) < 0.02 and row["ci_low"] < 0.1 < row["ci_high"]
    out = cleaner.transform(raw)
    iot = out.loc[out["source"] == "iot", "value"].to_numpy()
    np.testing.assert_allclose(iot, y / (1 - row["p_hat"]))


def test_an_all_zero_counter_is_not_applied():
    raw = readings(np.zeros(40), np.full(40, 5.0))
    with pytest.warns(UserWarning, match=r"outside \[0, 1\); not corrected"):
        corr = NoiseRateCorrector().fit(raw)
    assert corr.p_["applied"].tolist() == [False] and corr.p_["p_hat"].tolist() == [1.0]
    pd.testing.assert_frame_equal(corr.transform(raw), raw)
