"""Exact, hand-computed checks of sclm.metrics."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sclm import metrics

Y = np.array([1.0, 2.0, 3.0])
P = np.array([2.0, 2.0, 5.0])


def test_mae_rmse_exact():
    assert metrics.mae(Y, P) == pytest.approx(1.0)  # (1 + 0 + 2) / 3
    assert metrics.rmse(Y, P) == pytest.approx(math.sqrt(5 / 3))  # (1 + 0 + 4) / 3
    assert isinstance(metrics.mae(Y, P), float)


def test_mae_rmse_any_shape_and_mask():
    yt = np.arange(12.0).reshape(2, 3, 2)
    yp = yt + np.where(yt % 2 == 0, 1.0, -3.0)
    assert metrics.mae(yt, yp) == pytest.approx(2.0)
    assert metrics.rmse(yt, yp) == pytest.approx(math.sqrt(5.0))
    even = yt % 2 == 0
    assert metrics.mae(yt, yp, mask=even) == pytest.approx(1.0)
    assert metrics.rmse(yt, yp, mask=~even) == pytest.approx(3.0)
    mask = np.array([True, False, True])
    assert metrics.mae(Y, P, mask=mask) == pytest.approx(1.5)
    assert metrics.rmse(Y, P, mask=mask) == pytest.approx(math.sqrt(2.5))
    assert math.isnan(metrics.mae(Y, P, mask=np.zeros(3, bool)))


def test_inputs_are_not_mutated():
    y, p = Y.copy(), P.copy()
    metrics.mae(y, p, mask=np.array([True, False, True]))
    np.testing.assert_array_equal(y, Y)
    np.testing.assert_array_equal(p, P)


@pytest.mark.parametrize("fn", [metrics.mae, metrics.rmse])
def test_shape_mismatch_message(fn):
    with pytest.raises(
        ValueError, match=r"shape mismatch: y_true has shape \(3,\) but y_pred has shape \(2,\)"
    ):
        fn(Y, P[:2])
    with pytest.raises(ValueError, match="mask has shape"):
        fn(Y, P, mask=np.array([True, False]))
    with pytest.raises(ValueError, match="boolean"):
        fn(Y, P, mask=np.array([1, 0, 1]))


def test_mase_exact():
    y_train = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])  # season 2 diffs: 2, 2, 2, 2 -> scale 2
    assert metrics.mase([7.0, 8.0], [8.0, 8.0], y_train, season_length=2) == pytest.approx(0.25)
    # default season_length=7: y_train of 9 days, diffs |7-0|, |8-1| -> scale 7; mae 3.5 -> 0.5
    y9 = np.arange(9.0)
    assert metrics.mase([1.0, 1.0], [4.5, -2.5], y9) == pytest.approx(0.5)
    # mask scores open days only
    open_days = np.array([True, False])
    assert metrics.mase([7.0, 8.0], [8.0, 0.0], y_train, season_length=2, mask=open_days) == pytest.approx(
        0.5
    )


def test_seasonal_naive_scale_skips_missing_pairs():
    # season 2 pairs: (1, nan), (2, 4), (nan, 5), (4, 6) -> only |4-2| and |6-4| are observed
    assert metrics.seasonal_naive_scale([1.0, 2.0, np.nan, 4.0, 5.0, 6.0], season_length=2) == pytest.approx(
        2.0
    )
    assert math.isnan(metrics.seasonal_naive_scale([np.nan, 1.0, 2.0, np.nan], season_length=2))


def test_mase_zero_scale_is_nan_and_short_train_raises():
    periodic = np.array([1.0, 2.0, 1.0, 2.0, 1.0, 2.0])
    assert math.isnan(metrics.mase([1.0, 2.0], [1.0, 1.0], periodic, season_length=2))
    assert math.isnan(metrics.mase([0.0], [0.0], np.zeros(10)))
    with pytest.raises(ValueError, match="more than season_length=7"):
        metrics.mase([1.0], [1.0], np.arange(7.0))
    with pytest.raises(ValueError, match="1-D"):
        metrics.mase([1.0], [1.0], np.zeros((10, 2)))
    with pytest.raises(ValueError, match="positive integer"):
        metrics.mase([1.0], [1.0], np.arange(10.0), season_length=0)


def test_relative_mase_geometric_mean():
    naive = np.array([0.5, 1.0, 2.0, 4.0])
    assert metrics.relative_mase(naive, naive) == pytest.approx(1.0)
    assert metrics.relative_mase(2 * naive, naive) == pytest.approx(2.0)
    # ratios 1, 2, 4 -> geometric mean 2 (arithmetic mean would be 7/3)
    assert metrics.relative_mase([1.0, 2.0, 4.0], [1.0, 1.0, 1.0]) == pytest.approx(2.0)
    # geometric mean: twice as good on one series and twice as bad on another cancel out
    assert metrics.relative_mase([0.5, 2.0], [1.0, 1.0]) == pytest.approx(1.0)


def test_relative_mase_edge_cases_one_rule():
    lo, hi = metrics.RELATIVE_ERROR_BOUNDS
    assert (lo, hi) == (1e-3, 5.0)
    # a model exact on one series: ratio 0 is floored at 1e-3 (it was 0 before: log 0 = -inf)
    assert metrics.relative_mase([0.0, 1.0], [1.0, 1.0]) == pytest.approx(math.sqrt(1e-3))
    # a ratio above 5 counts as 5
    assert metrics.relative_mase([100.0, 1.0], [1.0, 1.0]) == pytest.approx(math.sqrt(5.0))
    # seasonal naive exact on a series: kept, a model with an error gets 5, an exact one 1 (a tie)
    value, n = metrics.relative_mase([0.5, 0.0, 2.0], [0.0, 0.0, 1.0], return_n=True)
    assert n == 3 and value == pytest.approx((5.0 * 1.0 * 2.0) ** (1 / 3))
    np.testing.assert_allclose(
        metrics.relative_errors([0.5, 0.0, 2.0, 0.0], [0.0, 0.0, 1.0, 3.0]), [5, 1, 2, lo]
    )
    # other bounds
    assert metrics.relative_mase([100.0], [1.0], bounds=(0.01, 100.0)) == pytest.approx(100.0)
    with pytest.raises(ValueError, match="bounds"):
        metrics.relative_mase([1.0], [1.0], bounds=(0.0, 5.0))


def test_relative_mase_excludes_series_by_the_reference_only():
    # a series whose reference MASE is undefined (zero scale: nan) is excluded for every model
    model = np.array([2.0, np.nan, 8.0])
    naive = np.array([1.0, np.nan, 2.0])
    value, n = metrics.relative_mase(model, naive, return_n=True)
    assert n == 2
    assert value == pytest.approx(math.sqrt(2.0 * 4.0))
    value, n = metrics.relative_mase([np.nan], [np.nan], return_n=True)
    assert math.isnan(value) and n == 0
    # a model without a score where the reference has one is an error, not a dropped series
    with pytest.raises(ValueError, match="same series"):
        metrics.relative_mase([np.nan, 1.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="shape mismatch"):
        metrics.relative_mase([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="negative"):
        metrics.relative_mase([-1.0], [1.0])


DAYS = pd.date_range("2024-01-01", periods=28)
O13, O20 = DAYS[13], DAYS[20]


def _toy_backtest() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Three daily series, origins day 13 and day 20, two forecast days each (season 7).

    a: weeks 0..6, 1..7, 3..9, 3..9 -> scale 1 at day 13 (diffs all 1), 1.5 at day 20 (1s, 2s).
    b: constant 5 -> scale 0 at both origins: excluded.
    c: 0 for days 0..13, then 7 -> scale 0 at day 13 (that origin is left out), 3.5 at day 20.
    """
    y = {
        "a": np.r_[np.arange(7), np.arange(1, 8), np.arange(3, 10), np.arange(3, 10)].astype(float),
        "b": np.full(28, 5.0),
        "c": np.r_[np.zeros(14), np.full(14, 7.0)],
    }
    train = pd.concat([pd.DataFrame({"unique_id": k, "ds": DAYS, "y": v}) for k, v in y.items()])
    rows = []
    for k, v in y.items():
        for origin, days, scale in (
            (O13, (14, 15), {"a": 1.0, "b": 0.0, "c": 0.0}),
            (O20, (21, 22), {"a": 1.5, "b": 0.0, "c": 3.5}),
        ):
            for i, d in enumerate(days):
                off = {("a", O13): (1.0, -1.0), ("a", O20): (3.0, 3.0)}.get((k, origin), (3.5, 3.5))
                rows.append(
                    {"unique_id": k, "cutoff": origin, "ds": DAYS[d], "y": v[d], "naive": v[d - 7],
                     "m": v[d] + off[i], "exact": v[d], "scale": scale[k]}
                )  # fmt: skip
    return pd.DataFrame(rows), train


def test_mase_per_series_by_hand_both_scale_sources():
    df, train = _toy_backtest()
    per = metrics.mase_per_series(df, ["m", "naive", "exact"], train_df=train)
    # a: m MAE 1 / scale 1 at day 13, MAE 3 / 1.5 at day 20 -> (1 + 2) / 2; naive: 2/1 and 0/1.5
    assert per.loc["a", "m"] == pytest.approx(1.5) and per.loc["a", "naive"] == pytest.approx(1.0)
    assert per.loc["b"].isna().all()  # zero scale at every origin, for every model
    # c: only day 20 counts: m 3.5 / 3.5, naive exact
    assert per.loc["c", "m"] == pytest.approx(1.0) and per.loc["c", "naive"] == 0.0
    given = metrics.mase_per_series(df, ["m", "naive", "exact"], scale="scale")
    pd.testing.assert_frame_equal(per, given)
    # a series named by two columns
    two = df.assign(node=df["unique_id"], variable="v")
    by_two = metrics.mase_per_series(two, ["m", "naive", "exact"], scale="scale", id_col=["node", "variable"])
    np.testing.assert_allclose(by_two.to_numpy(), per.to_numpy())


def test_relative_mase_table_by_hand():
    df, train = _toy_backtest()
    t = metrics.relative_mase_table(df, ["naive", "m", "exact"], "naive", train_df=train)
    # a: 1.5 / 1; c: 1 / 0 -> clipped to 5; b excluded
    assert t.loc["m", "relMASE"] == pytest.approx(math.sqrt(1.5 * 5.0))
    assert t.loc["m", "MASE"] == pytest.approx((1.5 + 1.0) / 2)
    # exact: a: 0 / 1 -> 1e-3; c: 0 / 0 -> 1
    assert t.loc["exact", "relMASE"] == pytest.approx(math.sqrt(1e-3))
    assert t.loc["naive", "relMASE"] == pytest.approx(1.0)
    assert t["series"].tolist() == [2, 2, 2] and t["excluded"].tolist() == [1, 1, 1]
    assert t["clipped"].tolist() == [0, 1, 1]
    with pytest.raises(ValueError, match="reference model 'z'"):
        metrics.relative_mase_table(df, ["naive", "m"], "z", scale="scale")


def test_backtest_frames_refuse_what_cannot_be_compared():
    df, train = _toy_backtest()
    with pytest.raises(ValueError, match="NaN or infinite values in \\['m'\\]"):
        metrics.mase_per_series(df.assign(m=df["m"].where(df.index != 3)), ["m", "naive"], scale="scale")
    with pytest.raises(ValueError, match="exactly one of"):
        metrics.mase_per_series(df, ["m"], scale="scale", train_df=train)
    with pytest.raises(ValueError, match="varies within"):
        metrics.mase_per_series(df.assign(scale=np.arange(len(df), dtype=float)), ["m"], scale="scale")
    with pytest.raises(ValueError, match="no column"):
        metrics.mase_per_series(df, ["zz"], scale="scale")


def test_pinball_asymmetry():
    # under-forecast by 2 costs q*2, over-forecast by 2 costs (1-q)*2
    assert metrics.pinball_loss(10.0, 8.0, 0.9) == pytest.approx(1.8)
    assert metrics.pinball_loss(10.0, 12.0, 0.9) == pytest.approx(0.2)
    assert metrics.pinball_loss(10.0, 8.0, 0.1) == pytest.approx(0.2)
    assert metrics.pinball_loss(10.0, 12.0, 0.1) == pytest.approx(1.8)
    # median pinball = MAE / 2
    assert metrics.pinball_loss(Y, P, 0.5) == pytest.approx(metrics.mae(Y, P) / 2)
    assert metrics.pinball_loss(Y, P, 0.5, mask=np.array([False, False, True])) == pytest.approx(1.0)


def test_wql_exact():
    y = np.array([10.0, 20.0])
    preds = np.array([[8.0, 10.0], [20.0, 25.0]])  # columns: q0.1, q0.9
    # q0.1: pinball 0.1*2 + 0 = 0.2 -> 2*0.2/30; q0.9: 0 + 0.1*5 = 0.5 -> 2*0.5/30
    expected = (0.4 / 30 + 1.0 / 30) / 2
    assert metrics.wql(y, preds, [0.1, 0.9]) == pytest.approx(expected)
    # same as the pinball sums
    alt = np.mean([2 * metrics.pinball_loss(y, preds[:, i], q) * 2 / 30 for i, q in enumerate([0.1, 0.9])])
    assert metrics.wql(y, preds, [0.1, 0.9]) == pytest.approx(alt)
    # mask: only the second cell -> q0.1: 0; q0.9: 2*0.5/20
    assert metrics.wql(y, preds, [0.1, 0.9], mask=np.array([False, True])) == pytest.approx(0.025)


def test_wql_perfect_and_degenerate():
    y = np.array([[3.0, 0.0, -2.0], [1.0, 5.0, 7.0]])
    perfect = np.repeat(y[..., None], 3, axis=-1)
    assert metrics.wql(y, perfect, [0.1, 0.5, 0.9]) == 0.0
    assert math.isnan(metrics.wql(np.zeros(3), np.ones((3, 1)), [0.5]))


def test_quantile_errors():
    y = np.ones(3)
    with pytest.raises(ValueError, match=r"strictly inside \(0, 1\).*\[1\.0\]"):
        metrics.wql(y, np.ones((3, 2)), [0.5, 1.0])
    with pytest.raises(ValueError, match="strictly inside"):
        metrics.wql(y, np.ones((3, 1)), [0.0])
    with pytest.raises(ValueError, match="strictly inside"):
        metrics.pinball_loss(y, y, 1.5)
    with pytest.raises(ValueError, match="single quantile level"):
        metrics.pinball_loss(y, y, [0.1, 0.9])
    with pytest.raises(ValueError, match="2 quantile levels"):
        metrics.wql(y, np.ones((3, 3)), [0.1, 0.9])
    with pytest.raises(ValueError, match="shape mismatch: quantile_preds"):
        metrics.wql(y, np.ones((4, 2)), [0.1, 0.9])
    with pytest.raises(ValueError, match="shape mismatch: quantile_preds"):
        metrics.wql(y, np.ones(3), [0.5])


def test_coverage_exact():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    lo = np.array([0.0, 2.0, 4.0, 0.0])
    up = np.array([2.0, 2.0, 5.0, 3.0])
    assert metrics.coverage(y, lo, up) == pytest.approx(0.5)  # bounds are inside
    assert metrics.coverage(y, lo, up, mask=np.array([True, True, True, False])) == pytest.approx(2 / 3)
    assert metrics.coverage(y, y - 1, y + 1) == 1.0
    assert metrics.coverage(y, y + 1, y - 1) == 0.0  # crossed interval covers nothing
    with pytest.raises(ValueError, match="upper has shape"):
        metrics.coverage(y, lo, up[:3])


def test_every_caller_computes_the_same_relative_mase():
    """sclm.pipeline.score_forecasts and sclm.monitor.score_relmase give the table's numbers."""
    from sclm.monitor import score_relmase
    from sclm.pipeline import score_forecasts

    df, train = _toy_backtest()
    expected = metrics.relative_mase_table(df, ["naive", "m", "exact"], "naive", train_df=train)
    qcols = [f"q0.{i}" for i in range(1, 10)]
    long = pd.concat(
        [
            df.rename(columns={"unique_id": "node", "cutoff": "origin", "ds": "ts", label: "mean"})
            .assign(model=name, variable="v", **{q: df[label] for q in qcols})
            .drop(columns=[c for c in ("naive", "m", "exact") if c != label])
            for label, name in (("naive", "Seasonal Naive"), ("m", "M"), ("exact", "Exact"))
        ],
        ignore_index=True,
    )
    table = score_forecasts(long)
    np.testing.assert_allclose(table["relMASE"].to_numpy(), expected["relMASE"].to_numpy())
    assert table["series"].tolist() == [2, 2, 2] and table["clipped"].tolist() == [0, 1, 1]
    # score_relmase builds the seasonal-naive forecast and the scales from the panel itself
    panel = train.rename(columns={"unique_id": "node", "ds": "ts", "y": "v"}).set_index(["node", "ts"])
    fc = df.rename(columns={"unique_id": "node", "cutoff": "origin", "ds": "ts", "m": "mean"}).assign(
        variable="v"
    )
    assert score_relmase(fc, panel) == pytest.approx(expected.loc["m", "relMASE"])
