"""Forecasting baselines on tiny synthetic series (3 series x 120 days, weekly pattern + noise)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sclm.baselines import BASELINES, DEFAULT_QUANTILES, forecast, quantile_column
from sclm.schema import UnknownNameError

H = 14
N_DAYS = 120
ORIGIN = pd.Timestamp("2024-01-01") + pd.Timedelta(days=N_DAYS - H - 1)
QCOLS = [quantile_column(q) for q in DEFAULT_QUANTILES]
FAST = {"n_estimators": 60}  # keep the LightGBM tests quick


def make_series(exog_effect: float = 0.0, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(3):
        ds = pd.date_range("2024-01-01", periods=N_DAYS, freq="D")
        promo = (rng.random(N_DAYS) < 0.25).astype(float)
        y = (
            20
            + 5 * s
            + 6 * np.sin(2 * np.pi * np.arange(N_DAYS) / 7)
            + rng.normal(0, 1, N_DAYS)
            + exog_effect * promo
        )
        rows.append(pd.DataFrame({"unique_id": f"s{s}", "ds": ds, "y": y, "promo": promo}))
    return pd.concat(rows, ignore_index=True)


def split(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    train = df[df["ds"] <= ORIGIN]
    test = df[df["ds"] > ORIGIN]
    return train, test, test.drop(columns="y")


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return make_series()


def test_seasonal_naive_repeats_last_season(data: pd.DataFrame) -> None:
    train, _, _ = split(data)
    fc = forecast("seasonal_naive", train, H)
    assert len(fc) == 3 * H
    for uid, g in train.groupby("unique_id"):
        last = g["y"].to_numpy()[-7:]
        got = fc.loc[fc["unique_id"] == uid, "mean"].to_numpy()
        np.testing.assert_array_equal(got, np.tile(last, 2))
        assert fc.loc[fc["unique_id"] == uid, "ds"].iloc[0] == ORIGIN + pd.Timedelta(days=1)


def test_seasonal_naive_quantiles_by_hand() -> None:
    """Quantiles = point + empirical quantiles of the k-season-ahead in-sample residuals."""
    ds = pd.date_range("2024-01-01", periods=12, freq="D")
    y = np.array([0, 0, 0, 0, 1, 2, 3, 4], dtype=float)  # season_length 4
    y = np.r_[y, [5, 6, 7, 8]]
    train = pd.DataFrame({"unique_id": "a", "ds": ds, "y": y})
    fc = forecast("seasonal_naive", train, 6, quantiles=(0.25, 0.5, 0.75), season_length=4)
    # point: the last season 5, 6, 7, 8 repeated
    np.testing.assert_array_equal(fc["mean"], [5, 6, 7, 8, 5, 6])
    # steps 1-4 (k=1): residuals y[t] - y[t-4] = 1, 2, 3, 4, 4, 4, 4, 4 -> q0.25 2.75, q0.5 4, q0.75 4
    # steps 5-6 (k=2): residuals y[t] - y[t-8] = 5, 6, 7, 8 -> q0.25 5.75, q0.5 6.5, q0.75 7.25
    np.testing.assert_allclose(fc["q0.25"], [7.75, 8.75, 9.75, 10.75, 10.75, 11.75])
    np.testing.assert_allclose(fc["q0.5"], [9, 10, 11, 12, 11.5, 12.5])
    np.testing.assert_allclose(fc["q0.75"], [9, 10, 11, 12, 12.25, 13.25])


def test_statistical_baselines_beat_seasonal_naive_on_a_clean_season(data: pd.DataFrame) -> None:
    """Weekly sine + N(0, 1) noise: seasonal naive's error is the difference of two noises
    (MAE ≈ 1.13), a fitted seasonal model's about the noise alone (≈ 0.8)."""
    train, test, fx = split(data)
    mae = {}
    for name in ("seasonal_naive", "auto_ets", "auto_theta"):
        m = forecast(name, train, H).merge(test, on=["unique_id", "ds"])
        mae[name] = float(np.mean(np.abs(m["y"] - m["mean"])))
    assert 0.9 < mae["seasonal_naive"] < 1.4, mae
    assert mae["auto_ets"] < 0.85 * mae["seasonal_naive"], mae
    assert mae["auto_theta"] < 0.85 * mae["seasonal_naive"], mae


@pytest.mark.parametrize("name", ["seasonal_naive", "auto_ets", "auto_theta", "lightgbm"])
def test_shape_and_monotone_quantiles(data: pd.DataFrame, name: str) -> None:
    train, _, fx = split(data)
    fc = forecast(name, train, H, future_exog=fx, lgb_params=FAST)
    assert list(fc.columns) == ["unique_id", "ds", "mean", *QCOLS]
    assert len(fc) == 3 * H
    assert fc.groupby("unique_id").size().eq(H).all()
    q = fc[QCOLS].to_numpy()
    assert np.isfinite(q).all() and np.isfinite(fc["mean"]).all()
    assert (np.diff(q, axis=1) >= -1e-9).all(), "quantiles must not cross"


def test_custom_quantiles(data: pd.DataFrame) -> None:
    train, _, _ = split(data)
    fc = forecast("auto_ets", train, 3, quantiles=(0.05, 0.5, 0.95))
    assert list(fc.columns) == ["unique_id", "ds", "mean", "q0.05", "q0.5", "q0.95"]
    np.testing.assert_allclose(fc["q0.5"], fc["mean"])
    assert (fc["q0.05"] < fc["mean"]).all() and (fc["mean"] < fc["q0.95"]).all()


def test_lightgbm_uses_no_future_target(data: pd.DataFrame) -> None:
    train, test, fx = split(data)
    fc1 = forecast("lightgbm", train, H, future_exog=fx, lgb_params=FAST)
    # the same data with every value after the origin changed: the forecast must not move
    changed = data.copy()
    after = changed["ds"] > ORIGIN
    changed.loc[after, "y"] = changed.loc[after, "y"] * 10 + 1000
    train2, _, fx2 = split(changed)
    fc2 = forecast("lightgbm", train2, H, future_exog=fx2, lgb_params=FAST)
    pd.testing.assert_frame_equal(fc1, fc2)
    with pytest.raises(ValueError, match="must not contain 'y'"):
        forecast("lightgbm", train, H, future_exog=test, lgb_params=FAST)


def test_lightgbm_step_ignores_later_steps(data: pd.DataFrame) -> None:
    """Step h depends on nothing after it: a shorter horizon gives the same first steps."""
    train, _, fx = split(data)
    full = forecast("lightgbm", train, H, future_exog=fx, lgb_params=FAST)
    fx2 = fx.copy()
    fx2.loc[fx2["ds"] > ORIGIN + pd.Timedelta(days=5), "promo"] = 1.0 - fx2["promo"]
    short = forecast("lightgbm", train, 5, future_exog=fx2, lgb_params=FAST)
    head = full[full["ds"] <= ORIGIN + pd.Timedelta(days=5)].reset_index(drop=True)
    pd.testing.assert_frame_equal(head, short)


def test_lightgbm_exog_helps_with_strong_effect() -> None:
    df = make_series(exog_effect=15.0, seed=1)
    train, test, fx = split(df)
    errs = {}
    for use in (True, False):
        fc = forecast("lightgbm", train, H, future_exog=fx, use_exog=use, lgb_params=FAST)
        m = fc.merge(test, on=["unique_id", "ds"])
        errs[use] = float(np.mean(np.abs(m["y"] - m["mean"])))
    assert errs[True] < 0.6 * errs[False], errs


def test_lightgbm_deterministic(data: pd.DataFrame) -> None:
    train, _, fx = split(data)
    a = forecast("lightgbm", train, H, future_exog=fx, seed=3, lgb_params=FAST)
    b = forecast("lightgbm", train, H, future_exog=fx, seed=3, lgb_params=FAST)
    pd.testing.assert_frame_equal(a, b)


def test_errors(data: pd.DataFrame) -> None:
    train, _, fx = split(data)
    with pytest.raises(UnknownNameError, match="auto_ets, auto_theta, fracast, lightgbm, seasonal_naive"):
        forecast("prophet", train, H)
    assert set(BASELINES) == {"seasonal_naive", "auto_ets", "auto_theta", "lightgbm", "fracast"}
    for bad in (0, -1):
        with pytest.raises(ValueError, match="horizon must be an integer >= 1"):
            forecast("seasonal_naive", train, bad)
    with pytest.raises(ValueError, match=r"missing column\(s\) \['y'\]"):
        forecast("seasonal_naive", train.drop(columns="y"), H)
    with pytest.raises(ValueError, match="future_exog is required"):
        forecast("lightgbm", train, H)
    with pytest.raises(ValueError, match="future_exog is missing column"):
        forecast("lightgbm", train, H, future_exog=fx.drop(columns="promo"))
    with pytest.raises(ValueError, match="does not cover"):
        forecast("lightgbm", train, H, future_exog=fx.iloc[:-1])
    with pytest.raises(ValueError, match="not in train"):
        forecast("lightgbm", train, H, future_exog=fx, use_exog=["price"])
    with pytest.raises(ValueError, match="not gap-free"):
        forecast("auto_ets", train.drop(index=train.index[5]), H)
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        forecast("seasonal_naive", train, H, quantiles=(0.0, 0.5))


def test_fracast_zero_shot_quantiles_in_order_and_median_as_point(data: pd.DataFrame) -> None:
    train, test, _ = split(data)
    fc = forecast("fracast", train, H)
    assert list(fc.columns) == ["unique_id", "ds", "mean", *QCOLS]
    assert len(fc) == 3 * H and fc["ds"].min() == ORIGIN + pd.Timedelta(days=1)
    q = fc[QCOLS].to_numpy()
    assert np.isfinite(q).all() and (np.diff(q, axis=1) >= 0).all()
    assert (q[:, -1] - q[:, 0] > 0).mean() > 0.9  # a real 80 % interval, not a point
    np.testing.assert_allclose(fc["mean"], fc["q0.5"], rtol=1e-6)
    # zero-shot but not blind: on these weekly series it beats the series' mean
    err = np.abs(fc["q0.5"].to_numpy() - test["y"].to_numpy()).mean()
    flat = np.abs(
        train.groupby("unique_id")["y"].mean().reindex(test["unique_id"]).to_numpy() - test["y"].to_numpy()
    )
    assert err < 0.7 * flat.mean()
    # the level of the input carries over: series s2 (mean 30) above s0 (mean 20)
    med = fc.groupby("unique_id")["q0.5"].mean()
    assert med["s2"] > med["s0"] + 5
    sub = forecast("fracast", train, 3, quantiles=(0.1, 0.5, 0.9))
    np.testing.assert_allclose(sub["q0.9"], fc.groupby("unique_id").head(3)["q0.9"], rtol=1e-5)
    with pytest.raises(ValueError, match="fracast predicts"):
        forecast("fracast", train, 3, quantiles=(0.05, 0.5))
