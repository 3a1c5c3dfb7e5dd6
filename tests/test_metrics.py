"""Exact, hand-computed checks of sclm.metrics."""

from __future__ import annotations

import math

import numpy as np
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
    y_train = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])  # m=2 diffs: 2, 2, 2, 2 -> scale 2
    assert metrics.mase([7.0, 8.0], [8.0, 8.0], y_train, m=2) == pytest.approx(0.25)
    # default m=7: y_train of 9 days, diffs |7-0|, |8-1| -> scale 7; mae 3.5 -> 0.5
    y9 = np.arange(9.0)
    assert metrics.mase([1.0, 1.0], [4.5, -2.5], y9) == pytest.approx(0.5)
    # mask scores open days only
    assert metrics.mase([7.0, 8.0], [8.0, 0.0], y_train, m=2, mask=np.array([True, False])) == pytest.approx(
        0.5
    )


def test_mase_zero_scale_is_nan_and_short_train_raises():
    periodic = np.array([1.0, 2.0, 1.0, 2.0, 1.0, 2.0])
    assert math.isnan(metrics.mase([1.0, 2.0], [1.0, 1.0], periodic, m=2))
    assert math.isnan(metrics.mase([0.0], [0.0], np.zeros(10)))
    with pytest.raises(ValueError, match="more than m=7"):
        metrics.mase([1.0], [1.0], np.arange(7.0))
    with pytest.raises(ValueError, match="1-D"):
        metrics.mase([1.0], [1.0], np.zeros((10, 2)))
    with pytest.raises(ValueError, match="positive integer"):
        metrics.mase([1.0], [1.0], np.arange(10.0), m=0)


def test_relative_mase_geometric_mean():
    naive = np.array([0.5, 1.0, 2.0, 4.0])
    assert metrics.relative_mase(naive, naive) == pytest.approx(1.0)
    assert metrics.relative_mase(2 * naive, naive) == pytest.approx(2.0)
    # ratios 1, 2, 4 -> geometric mean 2 (arithmetic mean would be 7/3)
    assert metrics.relative_mase([1.0, 2.0, 4.0], [1.0, 1.0, 1.0]) == pytest.approx(2.0)
    # geometric mean: twice as good on one series and twice as bad on another cancel out
    assert metrics.relative_mase([0.5, 2.0], [1.0, 1.0]) == pytest.approx(1.0)


def test_relative_mase_drops_unusable_series():
    model = np.array([2.0, np.nan, 3.0, 1.0, 8.0])
    naive = np.array([1.0, 1.0, 0.0, np.nan, 2.0])
    value, n = metrics.relative_mase(model, naive, return_n=True)
    assert n == 2
    assert value == pytest.approx(math.sqrt(2.0 * 4.0))
    value, n = metrics.relative_mase([np.nan], [1.0], return_n=True)
    assert math.isnan(value) and n == 0
    with pytest.raises(ValueError, match="shape mismatch"):
        metrics.relative_mase([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="negative"):
        metrics.relative_mase([-1.0], [1.0])


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
