"""sclm.windows: exact small-panel windows, no leakage, scalers, splits and clear errors."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sclm.schema import DataValidationError
from sclm.windows import (
    CALENDAR_FEATURES,
    PanelScaler,
    Split,
    calendar_features,
    make_windows,
    rolling_origin_splits,
    train_val_split,
    year_ago_feature,
)

START = pd.Timestamp("2024-01-01")  # a Monday


def small_panel(n_days: int = 10, nodes: tuple[str, ...] = ("a", "b"), start: pd.Timestamp = START):
    """y = 1000·node_id + day, u = 10·day + node_id, p = 100 + day: every value names its cell."""
    parts = []
    for i, n in enumerate(nodes):
        day = np.arange(n_days, dtype=float)
        idx = pd.MultiIndex.from_arrays(
            [[n] * n_days, pd.date_range(start, periods=n_days, freq="D")], names=["node", "ts"]
        )
        parts.append(pd.DataFrame({"y": 1000 * i + day, "u": 10 * day + i, "p": 100 + day}, index=idx))
    return pd.concat(parts)


def kw(**extra):
    base = {"targets": "y", "covariates": ["u"], "known_future": ["p"], "input_size": 3, "horizon": 2}
    base.update(extra)
    return base


# --------------------------------------------------------------------------------------------------
# Exact windows
# --------------------------------------------------------------------------------------------------


def test_shapes_values_and_order():
    w = make_windows(small_panel(), **kw())
    # 10 days, T=3, H=2 -> origins on days 2..7: 6 per node
    assert len(w) == 12
    assert w.X.shape == (12, 3, 2) and w.X_future.shape == (12, 2, 1) and w.Y.shape == (12, 2, 1)
    assert w.X.dtype == w.X_future.dtype == w.Y.dtype == np.float32
    assert w.channels == ("y", "u") and w.targets == ("y",) and w.known_future == ("p",)
    assert (w.input_size, w.horizon) == (3, 2)
    np.testing.assert_array_equal(w.X[0], [[0, 0], [1, 10], [2, 20]])
    np.testing.assert_array_equal(w.Y[0, :, 0], [3, 4])
    np.testing.assert_array_equal(w.X_future[0, :, 0], [103, 104])
    np.testing.assert_array_equal(w.X[6], [[1000, 1], [1001, 11], [1002, 21]])
    np.testing.assert_array_equal(w.Y[11, :, 0], [1008, 1009])
    assert list(w.meta.columns) == ["node", "origin"]
    assert w.meta["node"].tolist() == ["a"] * 6 + ["b"] * 6
    expected_origins = pd.date_range(START + pd.Timedelta(days=2), periods=6, freq="D")
    assert list(w.origins[:6]) == list(expected_origins) == list(w.origins[6:])
    # every window: inputs end on the origin day, targets start the day after
    node_id = (w.nodes == "b").astype(float)
    day = (w.origins - START).days.to_numpy()
    np.testing.assert_array_equal(w.X[:, -1, 0], 1000 * node_id + day)
    np.testing.assert_array_equal(w.X[:, 0, 1], 10 * (day - 2) + node_id)
    np.testing.assert_array_equal(w.Y[:, 0, 0], 1000 * node_id + day + 1)
    np.testing.assert_array_equal(w.X_future[:, -1, 0], 100 + day + 2)


def test_row_order_of_panel_does_not_matter_and_input_not_mutated():
    panel = small_panel()
    shuffled = panel.sample(frac=1.0, random_state=0)
    before = shuffled.copy()
    w1, w2 = make_windows(panel, **kw()), make_windows(shuffled, **kw())
    pd.testing.assert_frame_equal(shuffled, before)
    for a in ("X", "X_future", "Y"):
        np.testing.assert_array_equal(getattr(w1, a), getattr(w2, a))
    pd.testing.assert_frame_equal(w1.meta, w2.meta)


def test_stride_origins_nodes_and_no_future():
    panel = small_panel()
    w = make_windows(panel, **kw(stride=2))
    assert [d.day for d in w.origins] == [4, 6, 8, 4, 6, 8]  # days 3, 5, 7 (latest kept)
    w = make_windows(panel, **kw(origins=["2024-01-05", "2024-01-03"]))
    assert len(w) == 4 and [d.day for d in w.origins] == [3, 5, 3, 5]
    w = make_windows(panel, **kw(origins=pd.Timestamp("2024-01-05"), nodes=["b"]))
    assert w.meta["node"].tolist() == ["b"] and w.X[0, -1, 0] == 1004
    w = make_windows(panel, targets=["y", "u"], input_size=4, horizon=3, nodes=["b", "a"])
    assert w.X_future.shape == (8, 3, 0) and w.Y.shape == (8, 3, 2)
    assert w.meta["node"].tolist() == ["b"] * 4 + ["a"] * 4
    sub = w.subset(w.nodes == "a")
    assert len(sub) == 4 and sub.meta.index.tolist() == [0, 1, 2, 3]


def test_nodes_with_different_ranges_align_origins():
    panel = pd.concat([small_panel(12, ("a",)), small_panel(8, ("b",), START + pd.Timedelta(days=4))])
    w = make_windows(panel, **kw(stride=3))
    # latest origin overall: day 9 (a: days 0..11, H=2); grid 9, 6, 3; b covers days 4..11 -> origins 6..9
    assert [(n, (o - START).days) for n, o in zip(w.nodes, w.origins, strict=True)] == [
        ("a", 3),
        ("a", 6),
        ("a", 9),
        ("b", 6),
        ("b", 9),
    ]


def test_end_limits_every_window():
    w = make_windows(small_panel(), **kw(end="2024-01-07"))
    assert (w.origins + pd.Timedelta(days=2)).max() == pd.Timestamp("2024-01-07")
    assert w.Y.max() <= 1006


def test_calendar_features():
    cal = calendar_features(pd.date_range("2024-01-01", periods=7, freq="D"))
    assert tuple(cal.columns) == CALENDAR_FEATURES
    np.testing.assert_allclose(cal.loc["2024-01-01"].to_numpy(), [0.0, 1.0, 0.0, 1.0], atol=1e-12)
    np.testing.assert_allclose(cal["dow_sin"].iloc[6], math.sin(2 * math.pi * 6 / 7))
    np.testing.assert_allclose(cal["doy_cos"].iloc[1], math.cos(2 * math.pi / 365.25))
    panel = small_panel()
    cal_panel = calendar_features(panel.index)
    assert cal_panel.index.equals(panel.index)
    w = make_windows(panel, **kw(known_future=["p", "calendar"]))
    assert w.known_future == ("p", *CALENDAR_FEATURES)
    target_days = pd.DatetimeIndex(
        (w.origins.to_numpy()[:, None] + np.array([1, 2]) * np.timedelta64(1, "D")).ravel()
    )
    expected = calendar_features(target_days).to_numpy().reshape(len(w), 2, 4)
    np.testing.assert_allclose(w.X_future[..., 1:], expected, atol=1e-6)


# --------------------------------------------------------------------------------------------------
# No leakage
# --------------------------------------------------------------------------------------------------


def random_panel(seed: int = 0, n_days: int = 60):
    rng = np.random.default_rng(seed)
    parts = []
    for i, n in enumerate(["n1", "n2", "n3"]):
        idx = pd.MultiIndex.from_arrays(
            [[n] * n_days, pd.date_range(START, periods=n_days, freq="D")], names=["node", "ts"]
        )
        data = {
            "y": rng.poisson(20 + 10 * i, n_days).astype(float),
            "x": rng.normal(5, 2, n_days),
            "p": rng.integers(0, 2, n_days).astype(float),
        }
        parts.append(pd.DataFrame(data, index=idx))
    return pd.concat(parts)


T0 = START + pd.Timedelta(days=40)
LEAK_KW = {"targets": "y", "covariates": ["x", "p"], "known_future": ["p", "calendar"], "input_size": 7}


def perturb_after(panel: pd.DataFrame, t0: pd.Timestamp, seed: int = 1) -> pd.DataFrame:
    """Change every variable of every node on every day after t0."""
    out = panel.copy()
    after = out.index.get_level_values("ts") > t0
    rng = np.random.default_rng(seed)
    out.loc[after, :] = out.loc[after, :].to_numpy() * 3 + rng.normal(50, 10, (after.sum(), out.shape[1]))
    return out


def build(panel, **extra):
    sc = PanelScaler().fit(panel, end=T0)
    return sc, make_windows(sc.transform(panel), horizon=5, **LEAK_KW, **extra)


def assert_scaler_equal(a: PanelScaler, b: PanelScaler):
    pd.testing.assert_frame_equal(a.loc_, b.loc_, check_exact=True)
    pd.testing.assert_frame_equal(a.scale_, b.scale_, check_exact=True)


def test_no_leakage_with_end():
    panel = random_panel()
    changed = perturb_after(panel, T0)
    sc1, w1 = build(panel, end=T0)
    sc2, w2 = build(changed, end=T0)
    assert_scaler_equal(sc1, sc2)
    assert len(w1) == 3 * (41 - 7 - 5 + 1)
    for a in ("X", "X_future", "Y"):
        np.testing.assert_array_equal(getattr(w1, a), getattr(w2, a))
    pd.testing.assert_frame_equal(w1.meta, w2.meta)
    # sensitivity: the perturbation does reach windows that are allowed past t0 ...
    _, full1 = build(panel)
    _, full2 = build(changed)
    assert not np.array_equal(full1.X, full2.X)
    # ... and a change on t0 itself does move the scaler
    on_t0 = panel.copy()
    on_t0.loc[on_t0.index.get_level_values("ts") == T0, "y"] += 100.0
    assert not PanelScaler().fit(on_t0, end=T0).loc_.equals(sc1.loc_)


def test_no_leakage_for_origins_up_to_t0():
    panel = random_panel()
    changed = perturb_after(panel, T0)
    origins = pd.date_range(START + pd.Timedelta(days=6), T0, freq="D")
    sc1, w1 = build(panel, origins=origins)
    sc2, w2 = build(changed, origins=origins)
    assert_scaler_equal(sc1, sc2)
    assert w1.origins.max() == T0
    np.testing.assert_array_equal(w1.X, w2.X)  # every input ends on or before t0
    training = (w1.origins + pd.Timedelta(days=5)) <= T0  # targets end on or before t0
    assert training.sum() == 3 * 30 and (~training).sum() == 3 * 5
    np.testing.assert_array_equal(w1.X_future[training], w2.X_future[training])
    np.testing.assert_array_equal(w1.Y[training], w2.Y[training])
    # windows whose horizon crosses t0 do see the changed future (the test can fail)
    assert not np.array_equal(w1.Y[~training], w2.Y[~training])
    # calendar features do not depend on values: identical everywhere
    np.testing.assert_array_equal(w1.X_future[..., 1:], w2.X_future[..., 1:])


# --------------------------------------------------------------------------------------------------
# Scaler
# --------------------------------------------------------------------------------------------------


def test_standard_scaler_uses_training_rows_only_and_round_trips():
    panel = random_panel()
    sc = PanelScaler().fit(panel, end=T0)
    assert sc.columns_ == ("y", "x", "p") and sc.end_ == T0 and sc.n_rows_ == 3 * 41
    scaled = sc.transform(panel)
    train = scaled[scaled.index.get_level_values("ts") <= T0]
    np.testing.assert_allclose(train.groupby(level="node").mean().to_numpy(), 0.0, atol=1e-12)
    np.testing.assert_allclose(train.groupby(level="node").std(ddof=0).to_numpy(), 1.0)
    pd.testing.assert_frame_equal(sc.inverse_transform(scaled), panel, check_exact=False, rtol=1e-12)
    # arrays: Y of windows on the scaled panel maps back to Y on the raw panel
    wk = {"targets": ["y", "x"], "input_size": 7, "horizon": 5}
    raw, sw = make_windows(panel, **wk), make_windows(scaled, **wk)
    back = sc.inverse_transform(sw.Y, nodes=sw.nodes, columns=sw.targets)
    assert back.dtype == np.float32 and back.shape == raw.Y.shape
    np.testing.assert_allclose(back, raw.Y, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(
        sc.transform(raw.Y, nodes=raw.nodes, columns=raw.targets), sw.Y, rtol=1e-5, atol=1e-5
    )
    # quantile-style extra axis: (N, H, Q, K) broadcasts per row
    q = np.stack([sw.Y, sw.Y], axis=2)
    np.testing.assert_allclose(sc.inverse_transform(q, nodes=sw.nodes, columns=sw.targets)[:, :, 1], back)


def test_mean_abs_and_global_exact():
    idx = pd.MultiIndex.from_arrays(
        [["a", "a", "b", "b"], pd.to_datetime(["2024-01-01", "2024-01-02"] * 2)], names=["node", "ts"]
    )
    panel = pd.DataFrame({"v": [1.0, -3.0, 4.0, 4.0], "c": [0.0, 0.0, 0.0, 0.0]}, index=idx)
    sc = PanelScaler("mean_abs").fit(panel)
    assert sc.scale_.loc["a", "v"] == 2.0 and sc.scale_.loc["b", "v"] == 4.0
    assert (sc.loc_.to_numpy() == 0).all() and (sc.scale_["c"] == 1.0).all()  # zero scale -> 1
    np.testing.assert_array_equal(sc.transform(panel)["v"].to_numpy(), [0.5, -1.5, 1.0, 1.0])
    g = PanelScaler("standard", per="global", columns=["v"]).fit(panel)
    assert list(g.loc_.index) == ["*"] and g.loc_.loc["*", "v"] == 1.5
    assert g.scale_.loc["*", "v"] == pytest.approx(math.sqrt((0.25 + 20.25 + 6.25 + 6.25) / 4))
    out = g.transform(panel)
    assert (out["c"] == panel["c"]).all()  # unfitted column passes through
    assert g.transform(np.array([[1.5]]), nodes=["unseen"], columns=["v"])[0, 0] == 0.0


def test_scaler_errors():
    panel = small_panel()
    with pytest.raises(RuntimeError, match="not fitted"):
        PanelScaler().transform(panel)
    with pytest.raises(ValueError, match="method must be"):
        PanelScaler("minmax")
    with pytest.raises(ValueError, match="per must be"):
        PanelScaler(per="series")
    sc = PanelScaler(columns=["y"]).fit(panel)
    with pytest.raises(ValueError, match=r"node\(s\) \['zz'\] were not seen"):
        sc.transform(np.zeros((1, 2, 1)), nodes=["zz"], columns=["y"])
    with pytest.raises(ValueError, match=r"column\(s\) \['u'\] were not fitted"):
        sc.transform(np.zeros((1, 2, 1)), nodes=["a"], columns=["u"])
    with pytest.raises(ValueError, match="shape mismatch"):
        sc.transform(np.zeros((2, 2, 1)), nodes=["a"], columns=["y"])
    with pytest.raises(ValueError, match="pass nodes="):
        sc.inverse_transform(np.zeros((1, 2, 1)))
    with pytest.raises(DataValidationError, match="no panel rows"):
        PanelScaler().fit(panel, end="2020-01-01")
    with pytest.raises(DataValidationError, match="scaler column"):
        PanelScaler(columns=["nope"]).fit(panel)
    bad = panel.copy()
    bad.iloc[3, 0] = np.nan
    with pytest.raises(DataValidationError, match="NaN"):
        PanelScaler().fit(bad)
    PanelScaler().fit(bad, end="2024-01-03")  # the NaN is after end: never read


# --------------------------------------------------------------------------------------------------
# Splits
# --------------------------------------------------------------------------------------------------


def test_rolling_origin_splits_pasta_and_yaz():
    dates = pd.date_range("2014-01-02", "2018-12-31", freq="D")
    s = rolling_origin_splits(dates, horizon=28, n_origins=3)
    ts = pd.Timestamp
    assert s == [
        Split(ts("2018-10-08"), ts("2018-10-09"), ts("2018-11-05")),
        Split(ts("2018-11-05"), ts("2018-11-06"), ts("2018-12-03")),
        Split(ts("2018-12-03"), ts("2018-12-04"), ts("2018-12-31")),
    ]
    assert s[0].test_start == dates[-84]
    y = rolling_origin_splits(pd.date_range("2013-10-01", periods=100, freq="D"), horizon=7, n_origins=4)
    assert len(y) == 4 and y[-1].test_end == pd.Timestamp("2013-10-01") + pd.Timedelta(days=99)
    assert all((b.test_start - a.test_end).days == 1 for a, b in zip(y, y[1:], strict=False))
    assert all((sp.test_end - sp.test_start).days == 6 and sp.train_end < sp.test_start for sp in y)
    # overlapping origins with step < horizon; a Panel works as dates
    o = rolling_origin_splits(small_panel(), horizon=3, n_origins=2, step=1)
    assert [sp.train_end.day for sp in o] == [6, 7]
    with pytest.raises(ValueError, match="training day"):
        rolling_origin_splits(pd.date_range("2024-01-01", periods=20), horizon=7, n_origins=3)
    with pytest.raises(ValueError, match="horizon must be a positive integer"):
        rolling_origin_splits(dates, horizon=0, n_origins=3)


@pytest.mark.parametrize("purge", ["inputs", "targets"])
def test_train_val_split_is_time_ordered(purge):
    w = make_windows(random_panel(n_days=80), targets="y", input_size=7, horizon=5)
    m = w.meta["origin"].nunique()
    train, val = train_val_split(w, 0.25, purge=purge)
    assert val.meta["origin"].nunique() == math.ceil(0.25 * m)
    cut = val.origins.min()
    last_train_target = train.origins.max() + pd.Timedelta(days=5)
    if purge == "inputs":
        first_val_input = cut - pd.Timedelta(days=6)
        assert last_train_target == first_val_input - pd.Timedelta(days=1)
    else:
        assert last_train_target == cut
    assert train.origins.max() < cut
    assert len(train) + len(val) < len(w)  # purged windows are dropped
    assert set(train.nodes) == set(val.nodes) == {"n1", "n2", "n3"}
    assert (np.diff(train.meta.index) == 1).all()
    with pytest.raises(ValueError, match="val_fraction"):
        train_val_split(w, 1.0)
    with pytest.raises(ValueError, match="purge must be"):
        train_val_split(w, 0.2, purge="none")
    with pytest.raises(ValueError, match="no training window left"):
        train_val_split(w, 0.95, purge=purge)


# --------------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------------


def test_errors_are_clear():
    panel = small_panel()
    with pytest.raises(
        DataValidationError, match=r"target column\(s\) \['sales'\] not in the panel; available"
    ):
        make_windows(panel, **kw(targets="sales"))
    with pytest.raises(DataValidationError, match=r"known-future column\(s\) \['promo'\]"):
        make_windows(panel, **kw(known_future=["promo"]))
    with pytest.raises(DataValidationError, match="input_size \\+ horizon = 11 days but 2 node"):
        make_windows(panel, **kw(input_size=8, horizon=3))
    nan = panel.copy()
    nan.loc[("b", pd.Timestamp("2024-01-04")), "u"] = np.nan
    with pytest.raises(DataValidationError, match="NaN/inf.*column 'u', node 'b', ts 2024-01-04"):
        make_windows(nan, **kw())
    make_windows(nan, **kw(covariates=[]))  # unused column: fine
    gap = panel.drop(index=("a", pd.Timestamp("2024-01-05")))
    with pytest.raises(DataValidationError, match="node 'a' has a gap of 1 day"):
        make_windows(gap, **kw())
    dup = pd.concat([panel, panel.iloc[:1]])
    with pytest.raises(DataValidationError, match="duplicated day"):
        make_windows(dup, **kw())
    with pytest.raises(DataValidationError, match="indexed by"):
        make_windows(panel.reset_index(), **kw())
    with pytest.raises(ValueError, match="both targets and covariates"):
        make_windows(panel, **kw(covariates=["y"]))
    with pytest.raises(ValueError, match="input_size must be a positive integer"):
        make_windows(panel, **kw(input_size=0))
    with pytest.raises(ValueError, match="fit no node"):
        make_windows(panel, **kw(origins=["2024-01-09"]))
    with pytest.raises(ValueError, match="stride applies only"):
        make_windows(panel, **kw(origins=["2024-01-05"], stride=2))
    with pytest.raises(ValueError, match=r"unknown node\(s\) \['zz'\]"):
        make_windows(panel, **kw(nodes=["zz"]))


def test_year_ago_feature_averages_the_same_weekday_51_to_53_weeks_before_and_fills_causally():
    days = pd.date_range("2020-01-01", periods=800, freq="D")
    idx = pd.MultiIndex.from_product([["a", "b"], days], names=["node", "ts"])
    y = np.r_[np.arange(800.0), 1000 + 2 * np.arange(800.0)]
    panel = pd.DataFrame({"y": y}, index=idx).iloc[::-1]  # row order must not matter
    f = year_ago_feature(panel, "y", end=days[99])
    assert f.index.equals(panel.index) and not f.isna().any()
    a, b = f.xs("a", level="node").sort_index(), f.xs("b", level="node").sort_index()
    assert a.iloc[500] == pytest.approx(np.mean([500 - 357, 500 - 364, 500 - 371]))
    assert b.iloc[500] == pytest.approx(1000 + 2 * np.mean([500 - 357, 500 - 364, 500 - 371]))
    assert a.iloc[370] == pytest.approx(np.mean([370 - 357, 370 - 364]))  # only two of the three exist
    assert a.iloc[0] == pytest.approx(np.mean(np.arange(100.0)))  # none: the node's mean up to end
    assert b.iloc[0] == pytest.approx(1000 + 2 * np.mean(np.arange(100.0)))
    # causal: values after day 300 never move a day t <= 300 + 357 (nor the fill, read up to day 99)
    later = panel.copy()
    later.loc[later.index.get_level_values("ts") > days[300], "y"] = -5.0
    g = year_ago_feature(later, "y", end=days[99]).xs("a", level="node").sort_index()
    assert (g.iloc[: 300 + 357 + 1] == a.iloc[: 300 + 357 + 1]).all()
    assert (g.iloc[300 + 357 + 1 :] != a.iloc[300 + 357 + 1 :]).all()
    one = year_ago_feature(panel, "y", width=0, seasons=1, end=days[99]).xs("a", level="node").sort_index()
    assert one.iloc[10] == 3.0  # width 0, one season: the value a week before
    with pytest.raises(ValueError, match="width"):
        year_ago_feature(panel, "y", width=52)
    with pytest.raises(DataValidationError):
        year_ago_feature(panel, "missing")
