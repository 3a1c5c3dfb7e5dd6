"""sclm.monitor: conformal calibration, alerts, drift, injected anomalies, the feedback update, the loop."""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
import pytest
import torch

from sclm.monitor import (
    ConformalCalibrator,
    CusumDetector,
    Monitor,
    ShiftDetector,
    calibrate_online,
    check_actuals,
    conformal_quantile,
    inject_anomalies,
    rolling_forecasts,
    score_alerts,
    score_relmase,
    update_forecaster,
    update_windows,
)
from sclm.pipeline import ForecastTask, train_forecaster

DAY = pd.Timedelta(days=1)
TINY = {
    "epochs": 2,
    "patience": 1,
    "d_model": 8,
    "n_heads": 2,
    "n_layers": 1,
    "batch_size": 64,
    "device": "cpu",
    "progress": False,
}


# --------------------------------------------------------------------------------------------------
# Split conformal
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "alpha", "k"), [(19, 0.2, 16), (9, 0.1, 9), (23, 0.2, 20), (4, 0.5, 3)])
def test_conformal_quantile_is_the_ceil_rule(n, alpha, k):
    scores = np.random.default_rng(0).permutation(np.arange(1.0, n + 1))  # k-th smallest = k
    assert k == math.ceil((n + 1) * (1 - alpha))
    assert conformal_quantile(scores, alpha) == k


def test_conformal_quantile_edges():
    assert conformal_quantile(np.arange(8.0), 0.1) == math.inf  # ceil(9 * 0.9) = 9 > 8 scores
    assert conformal_quantile([3.0, 1.0], 1.0) == -math.inf
    assert conformal_quantile([3.0, 1.0], -0.5) == math.inf
    with pytest.raises(ValueError, match="NaN"):
        conformal_quantile([1.0, np.nan], 0.2)


def _exchangeable(reps: int, n: int, m: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``reps`` independent problems (one group each): n calibration and m test draws, N(0, 1)."""
    rng = np.random.default_rng(seed)
    rep = np.repeat(np.arange(reps), n + m)
    df = pd.DataFrame(
        {"node": "a", "variable": rep, "mean": 0.0, "q0.1": -0.3, "q0.9": 0.3, "y": rng.normal(size=rep.size)}
    )
    cal = np.tile(np.r_[np.ones(n, bool), np.zeros(m, bool)], reps)
    return df[cal], df[~cal]


@pytest.mark.parametrize("score", ["cqr", "abs"])
@pytest.mark.parametrize(("n", "alpha"), [(19, 0.2), (23, 0.2), (40, 0.1)])
def test_split_conformal_coverage_bounds_on_exchangeable_data(score, n, alpha):
    reps, m = 3000, 10
    cal, test = _exchangeable(reps, n, m, seed=n)
    c = ConformalCalibrator(
        alpha=alpha, by=("variable",), score=score, scale=None, lower="q0.1", upper="q0.9"
    )
    c.fit(cal)
    out = c.transform(test)
    inside = ((out["lo"] <= out["y"]) & (out["y"] <= out["hi"])).to_numpy().reshape(reps, m)
    cover = inside.mean()
    exact = math.ceil((n + 1) * (1 - alpha)) / (n + 1)  # P(cover) for continuous scores
    se = inside.mean(axis=1).std(ddof=1) / math.sqrt(reps)
    assert 1 - alpha <= exact < 1 - alpha + 1 / (n + 1)
    assert abs(cover - exact) < 4 * se, (cover, exact, se)
    assert 1 - alpha - 4 * se <= cover <= 1 - alpha + 1 / (n + 1) + 4 * se


def test_split_transform_follows_the_definition_per_group():
    rows = []
    for v, scores in (("x", np.arange(1.0, 20.0)), ("z", 10 * np.arange(1.0, 20.0))):
        for i, s in enumerate(scores):  # cqr score max(q0.1 - y, y - q0.9) with q0.1 = -1, q0.9 = 1
            rows.append({"node": "a", "variable": v, "ts": pd.Timestamp("2024-01-01") + i * DAY, "y": 1 + s})
    cal = pd.DataFrame(rows).assign(mean=0.0, **{"q0.1": -1.0, "q0.9": 1.0})
    c = ConformalCalibrator(alpha=0.2, by=("variable",), scale=None, floor=None).fit(cal)
    assert c.quantiles_.to_dict() == {"x": 16.0, "z": 160.0}
    new = pd.DataFrame({"node": "a", "variable": ["x", "z"], "mean": 0.0, "q0.1": -1.0, "q0.9": 1.0})
    out = c.transform(new)
    np.testing.assert_allclose(out["lo"], [-17.0, -161.0])
    np.testing.assert_allclose(out["hi"], [17.0, 161.0])
    assert "lo" not in new  # input not modified
    scaled = ConformalCalibrator(alpha=0.2, by=("variable",), scale="series").fit(cal)
    mae = (cal["y"]).groupby(cal["variable"]).mean()  # |y - mean| with mean = 0
    np.testing.assert_allclose(scaled.scale_.droplevel(0).loc[["x", "z"]], mae.loc[["x", "z"]])
    # conformal p-value (1 + #{pool >= s}) / (n + 1): s = 16 has 4 of 19 scores >= it in group x
    p = c.p_values(new.assign(y=[17.0, 1.0], ts=pd.Timestamp("2024-02-01")))  # scores 16 and 0
    np.testing.assert_allclose(p, [5 / 20, 20 / 20])
    with pytest.raises(ValueError, match="have no calibration scores"):
        c.transform(new.assign(variable="w"))
    with pytest.raises(ValueError, match="no column"):
        ConformalCalibrator(alpha=0.1, by=("variable",)).fit(cal)  # q0.05 / q0.95 are not columns
    with pytest.raises(ValueError, match="needs a 'step' column"):
        ConformalCalibrator().fit(cal)  # default by=("variable", "step") and no origin
    with pytest.raises(ValueError, match="alpha must be in"):
        ConformalCalibrator(alpha=1.5).fit(cal)


def test_set_alpha_per_group_gives_each_group_its_largest_score():
    rows = []
    for v, scores in (("x", np.arange(1.0, 20.0)), ("z", 10 * np.arange(1.0, 31.0))):
        for i, s in enumerate(scores):  # cqr score with q0.1 = -1, q0.9 = 1: y = 1 + s
            rows.append({"node": "a", "variable": v, "ts": pd.Timestamp("2024-01-01") + i * DAY, "y": 1 + s})
    cal = pd.DataFrame(rows).assign(mean=0.0, **{"q0.1": -1.0, "q0.9": 1.0})
    c = ConformalCalibrator(alpha=0.5, by=("variable",), scale=None, lower="q0.1", upper="q0.9").fit(cal)
    assert c.n_scores_.to_dict() == {"x": 19, "z": 30}
    c.set_alpha(1.0 / (c.n_scores_ + 1.0))  # k = n in every group: the largest score
    assert c.quantiles_.to_dict() == {"x": 19.0, "z": 300.0}
    c.set_alpha(pd.Series({"x": 0.2}))  # one group only: k = ceil(20 * 0.8) = 16
    assert c.quantiles_.to_dict() == {"x": 16.0, "z": 300.0}
    assert c.alpha_t_.to_dict() == pytest.approx({"x": 0.2, "z": 1 / 31})
    c.set_alpha(0.2)  # one level for all: z's k = ceil(31 * 0.8) = 25
    assert c.quantiles_.to_dict() == {"x": 16.0, "z": 250.0}
    with pytest.raises(ValueError, match="unknown group"):
        c.set_alpha(pd.Series({"w": 0.1}))


# --------------------------------------------------------------------------------------------------
# Adaptive conformal inference
# --------------------------------------------------------------------------------------------------


def test_aci_update_rule_step_by_step():
    base = pd.Timestamp("2024-01-01")
    cal = pd.DataFrame(
        {
            "node": "a",
            "variable": "v",
            "ts": base + np.arange(19) * DAY,
            "mean": 0.0,
            "y": np.arange(1.0, 20.0),
        }
    )
    c = ConformalCalibrator(alpha=0.2, method="aci", by=(), score="abs", scale=None, gamma=0.1).fit(cal)
    assert c.alpha_t_.iloc[0] == 0.2 and c.quantiles_.iloc[0] == 16.0  # ceil(20 * 0.8) = 16

    def step(y: float, day: int) -> pd.DataFrame:
        issued = c.transform(pd.DataFrame({"node": ["a"], "variable": ["v"], "mean": [0.0]}))
        c.update(issued.assign(y=y, ts=base + day * DAY))
        return issued

    first = step(30.0, 20)  # outside [-16, 16]: err = 1
    assert (first["lo"].iloc[0], first["hi"].iloc[0]) == (-16.0, 16.0)
    a1 = 0.2 + 0.1 * (0.2 - 1)
    assert c.alpha_t_.iloc[0] == pytest.approx(a1)  # 0.12
    # pool 1..19, 30 (n = 20): k = ceil(21 * 0.88) = ceil(18.48) = 19 -> 19
    assert c.quantiles_.iloc[0] == 19.0
    second = step(0.5, 21)  # inside [-19, 19]: err = 0
    assert second["hi"].iloc[0] == 19.0
    a2 = a1 + 0.1 * 0.2
    assert c.alpha_t_.iloc[0] == pytest.approx(a2)  # 0.14
    # pool 0.5, 1..19, 30 (n = 21): k = ceil(22 * 0.86) = ceil(18.92) = 19 -> the value 18
    assert c.quantiles_.iloc[0] == 18.0
    # a batch of two rows is one time step: gamma * mean(alpha - err)
    issued = c.transform(pd.DataFrame({"node": ["a", "a"], "variable": ["v", "v"], "mean": [0.0, 0.0]}))
    row_mode = copy.deepcopy(c).set_params(aci_step="row")
    c.update(issued.assign(y=[100.0, 0.0], ts=base + 22 * DAY))
    assert c.alpha_t_.iloc[0] == pytest.approx(a2 + 0.1 * ((0.2 - 1) + 0.2) / 2)
    assert c.n_updates_ == 4 and c.n_scores_.iloc[0] == 23
    row_mode.update(issued.assign(y=[100.0, 0.0], ts=base + 22 * DAY))  # one step per row: the sum
    assert row_mode.alpha_t_.iloc[0] == pytest.approx(a2 + 0.1 * ((0.2 - 1) + 0.2))


def test_calibrator_follows_the_scikit_learn_protocol():
    from sklearn.base import BaseEstimator, clone
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    base = pd.Timestamp("2024-01-01")
    cal = pd.DataFrame(
        {"node": "a", "variable": "v", "ts": base + np.arange(5) * DAY, "mean": 0.0, "y": [5.0, 4, 3, 2, 1]}
    )
    c = ConformalCalibrator(alpha=0.5, by=(), score="abs", scale=None)
    assert isinstance(c, BaseEstimator)
    assert repr(c) == "ConformalCalibrator(alpha=0.5, by=(), score='abs', scale=None)"
    assert list(c.get_params())[:3] == ["alpha", "method", "by"]  # signature order
    with pytest.raises(NotFittedError, match="this ConformalCalibrator is not fitted yet"):
        c.transform(cal)
    with pytest.raises(NotFittedError):
        check_is_fitted(c)
    with pytest.raises(ValueError, match="invalid parameter 'alhpa' for ConformalCalibrator"):
        c.set_params(alhpa=0.1)
    c.fit(cal)
    check_is_fitted(c)
    twin = clone(c)
    assert twin.get_params() == c.get_params() and not hasattr(twin, "quantiles_")
    # split conformal on |y - 0| = 1..5 at alpha 0.5: k = ceil(6 * 0.5) = 3 -> 3
    assert c.quantiles_.iloc[0] == 3.0


def test_aci_window_keeps_the_latest_scores_and_split_keeps_its_level():
    base = pd.Timestamp("2024-01-01")
    cal = pd.DataFrame(
        {"node": "a", "variable": "v", "ts": base + np.arange(5) * DAY, "mean": 0.0, "y": [5.0, 4, 3, 2, 1]}
    )
    c = ConformalCalibrator(alpha=0.5, method="split", by=(), score="abs", scale=None, window=4).fit(cal)
    issued = c.transform(pd.DataFrame({"node": ["a"], "variable": ["v"], "mean": [0.0]}))
    c.update(issued.assign(y=9.0, ts=base + 9 * DAY))
    assert c.alpha_t_.iloc[0] == 0.5  # split: no level change
    # latest 4 scores: 3, 2, 1, 9 -> k = ceil(5 * 0.5) = 3 -> 3
    assert c.n_scores_.iloc[0] == 4 and c.quantiles_.iloc[0] == 3.0


def test_calibrate_online_is_causal():
    rng = np.random.default_rng(1)
    origins = pd.date_range("2024-01-01", periods=30)
    fc = pd.DataFrame(
        [
            {"node": "a", "variable": "v", "origin": o, "ts": o + s * DAY, "mean": 0.0, "y": rng.normal()}
            for o in origins
            for s in (1, 2)
        ]
    )
    cal = ConformalCalibrator(alpha=0.2, method="aci", by=("step",), score="abs", scale=None, gamma=0.05)
    cal.fit(fc[fc["origin"] < origins[10]])
    test = fc[fc["origin"] >= origins[8]]
    a = calibrate_online(cal, test)
    cut = origins[20]
    changed = test.copy()
    changed.loc[changed["ts"] > cut, "y"] = 50.0  # the future changes; intervals issued up to `cut` must not
    b = calibrate_online(cal, changed)
    early = a["origin"] <= cut
    np.testing.assert_array_equal(a.loc[early, "hi"], b.loc[early, "hi"])
    assert not np.array_equal(a.loc[~early, "hi"], b.loc[~early, "hi"])
    assert cal.n_updates_ == 0  # the fitted calibrator itself is not touched


# --------------------------------------------------------------------------------------------------
# Alerts, anomalies, drift
# --------------------------------------------------------------------------------------------------


def _positive_panel(
    n_days: int = 120, nodes=("n1", "n2"), seed: int = 0, amplitude: float = 10.0
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    idx = pd.MultiIndex.from_product(
        [list(nodes), pd.date_range("2024-01-01", periods=n_days)], names=["node", "ts"]
    )
    t = np.tile(np.arange(n_days), len(nodes))
    return pd.DataFrame(
        {
            "a": 100 + amplitude * np.sin(2 * np.pi * t / 7) + rng.normal(0, 2, t.size),
            "b": 50 + 0.5 * amplitude * np.cos(2 * np.pi * t / 7) + rng.normal(0, 1, t.size),
        },
        index=idx,
    )


def test_inject_anomalies_is_deterministic_and_its_key_matches_the_changed_cells():
    panel = _positive_panel()
    start = pd.Timestamp("2024-02-15")
    a, key = inject_anomalies(panel, rate=0.03, seed=3, start=start, columns=["a", "b"])
    b, key2 = inject_anomalies(panel, rate=0.03, seed=3, start=start, columns=["a", "b"])
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(key, key2)
    c, _ = inject_anomalies(panel, rate=0.03, seed=4, start=start, columns=["a", "b"])
    assert not a.equals(c)
    assert set(key["kind"]) == {"spike", "drop", "level_shift"}
    assert len(key) == round(0.03 * 2 * 2 * (panel.index.get_level_values("ts") >= start).sum() / 2)
    changed = (a != panel).stack()
    changed = set(changed[changed].index)  # (node, ts, column)
    expected = set()
    for r in key.itertuples():
        for d in pd.date_range(r.start, r.end):
            expected.add((r.node, d, r.variable))
        assert r.start >= start
        assert (r.end - r.start).days == (20 if r.kind == "level_shift" else 0)
        level = panel.loc[(r.node, slice(None, start - DAY)), r.variable].abs().median()
        before, after = panel.loc[(r.node, r.start), r.variable], a.loc[(r.node, r.start), r.variable]
        assert after - before == pytest.approx(r.delta)
        if r.kind == "spike":
            assert r.delta == pytest.approx(level)  # +1 level by default
        if r.kind == "drop":
            assert after == 0.0  # falls to zero by default
        if r.kind == "level_shift":
            assert abs(r.delta) == pytest.approx(0.5 * level)
    assert changed == expected
    assert panel.equals(_positive_panel())  # input not modified
    with pytest.raises(ValueError, match="unknown anomaly kind"):
        inject_anomalies(panel, rate=0.01, kinds=("spike", "flood"))


def test_check_actuals_flags_exactly_the_injected_spikes():
    panel = _positive_panel(n_days=60)
    spiked, key = inject_anomalies(panel, rate=0.02, kinds=("spike", "drop"), seed=1, columns=["a"])
    fc = panel["a"].rename("mean").reset_index().assign(variable="a")  # perfect forecasts of the clean data
    fc["lo"], fc["hi"] = fc["mean"] - 5.0, fc["mean"] + 5.0
    alerts = check_actuals(fc, spiked)
    assert len(key) >= 2
    assert set(zip(alerts["node"], alerts["ts"], strict=True)) == set(
        zip(key["node"], key["start"], strict=True)
    )
    sides = dict(zip(zip(alerts["node"], alerts["ts"], strict=True), alerts["side"], strict=True))
    for r in key.itertuples():
        assert sides[(r.node, r.start)] == ("above" if r.kind == "spike" else "below")
    # severity: excess = distance outside / width (10 here)
    assert (alerts["severity"] == "high").all() and (alerts["excess"] > 1).all()
    near = check_actuals(fc.assign(y=fc["hi"] + 2.0))  # 0.2 widths above: low
    assert (near["severity"] == "low").all() and len(near) == len(fc)
    assert check_actuals(fc.assign(y=fc["mean"])).empty


def test_score_alerts_by_hand():
    key = pd.DataFrame(
        {
            "kind": ["spike", "drop", "level_shift"],
            "node": ["n1", "n1", "n2"],
            "variable": ["a", "a", "a"],
            "start": pd.to_datetime(["2024-01-05", "2024-01-20", "2024-01-10"]),
            "end": pd.to_datetime(["2024-01-05", "2024-01-20", "2024-01-16"]),
        }
    )
    alerts = pd.DataFrame(
        {
            "node": ["n1", "n1", "n2", "n2", "n2"],
            "variable": ["a", "a", "a", "a", "a"],
            "ts": pd.to_datetime(["2024-01-05", "2024-01-06", "2024-01-11", "2024-01-20", "2024-01-30"]),
        }
    )
    drift = pd.DataFrame(
        {"node": ["n2", "n1"], "variable": ["a", "a"], "ts": pd.to_datetime(["2024-01-13", "2024-01-25"])}
    )
    s = score_alerts(alerts, key, start="2024-01-01", end="2024-01-31", drift=drift, delay=7)
    # TP: n1 01-05; FP: n1 01-06, n2 01-30 (01-11 and 01-20 fall in the shift's window 01-10..01-23)
    assert (s["point_tp"], s["point_fp"], s["point_fn"]) == (1, 2, 1)
    assert s["point_precision"] == pytest.approx(1 / 3) and s["point_recall"] == 0.5
    assert s["shift_recall"] == 1.0 and s["shift_delay_mean"] == 3.0 and s["drift_false_alarms"] == 1
    assert s["drift_precision"] == 0.5
    # typed: spikes above the band, drops below; level-shift alarms apart from the drift alarms
    typed = alerts.assign(side=["above", "above", "above", "below", "below"])
    shifts = pd.DataFrame(
        {"node": ["n2", "n1"], "variable": ["a", "a"], "ts": pd.to_datetime(["2024-01-12", "2024-01-28"])}
    )
    t = score_alerts(typed, key, start="2024-01-01", end="2024-01-31", drift=drift.head(0), shifts=shifts)
    assert (t["spike_precision"], t["spike_recall"]) == (0.5, 1.0)  # 01-05 TP, 01-06 FP
    assert (t["drop_precision"], t["drop_recall"]) == (0.0, 0.0)  # 01-30 FP, 01-20 missed
    assert t["level_shift_recall"] == 1.0 and t["level_shift_delay_mean"] == 2.0
    assert t["level_shift_precision"] == 0.5 and t["level_shift_false_alarms"] == 1
    assert t["shift_recall"] == 0.0 and t["change_recall"] == 1.0  # no drift alarm; the shift test found it


def _residual_frame(z: np.ndarray, start: str, series: list[tuple[str, str]]) -> pd.DataFrame:
    days = pd.date_range(start, periods=z.shape[1])
    return pd.concat(
        [
            pd.DataFrame({"node": n, "variable": v, "ts": days, "mean": 100.0, "y": 100.0 + 5 * z[i]})
            for i, (n, v) in enumerate(series)
        ],
        ignore_index=True,
    )


def test_cusum_finds_a_level_shift_and_not_a_stationary_series():
    rng = np.random.default_rng(7)
    series = [(f"n{i}", "a") for i in range(8)]
    clean = _residual_frame(rng.normal(size=(8, 300)), "2024-01-01", series)
    det = CusumDetector().fit(clean)
    assert det.h_["a"] == pytest.approx(max(det.h_min, det.clean_max_["a"]))
    assert det.center_.abs().max() < 1 and det.spread_.between(4, 6).all()  # 5 units of noise
    z = rng.normal(size=(2, 120))
    z[0, 60:] += 4.0  # a shift of 4 spreads on day 60 of n0; n1 stays stationary
    alarms = det.detect(_residual_frame(z, "2025-01-01", series[:2]))
    onset = pd.Timestamp("2025-01-01") + 60 * DAY
    assert set(alarms["node"]) == {"n0"}
    first = alarms.iloc[0]
    assert first["direction"] == "up" and onset <= first["ts"] <= onset + 7 * DAY
    assert abs((first["onset"] - onset).days) <= 2
    with pytest.raises(ValueError, match="duplicated"):
        det.detect(pd.concat([clean.head(3), clean.head(3)]))


def _count_frame(y: np.ndarray, lam: np.ndarray, start: str) -> pd.DataFrame:
    days = pd.date_range(start, periods=y.shape[1])
    return pd.concat(
        [
            pd.DataFrame({"node": f"s{i}", "variable": "sales", "ts": days, "mean": lam[i], "y": y[i]})
            for i in range(len(y))
        ],
        ignore_index=True,
    )


def test_cusum_on_noisy_counts_catches_3_sigma_shifts_within_7_days_and_is_quiet_when_clean():
    """Poisson counts around a weekly season (a perfect forecast): the detection floor the retail
    bench meets — shifts of 3 noise SDs are caught within 7 days, 2 SDs often not."""
    rng = np.random.default_rng(3)
    n, T, m = 6, 280, 140
    lam = 80 * (1 + 0.3 * np.sin(2 * np.pi * np.arange(T + m) / 7)) * np.ones((n, 1))
    det = CusumDetector().fit(_count_frame(rng.poisson(lam[:, :T]).astype(float), lam[:, :T], "2024-01-01"))
    assert det.spread_.between(7, 12).all() and det.h_["sales"] == pytest.approx(6.0)  # sqrt(80) ~ 9
    future = lam[:, T:]
    false_alarms = sum(
        len(det.detect(_count_frame(rng.poisson(future).astype(float), future, "2025-01-01")))
        for _ in range(5)
    )
    assert false_alarms <= 1  # over 5 x 6 x 140 = 4200 clean series-days: below 1 in 4000
    onset = pd.Timestamp("2025-01-01") + 60 * DAY
    caught = {2: [], 3: []}
    for k_sigma, hits in caught.items():
        for _ in range(5):
            y = rng.poisson(future).astype(float)
            y[:, 60:81] += k_sigma * np.sqrt(future[:, 60:81])
            a = det.detect(_count_frame(y, future, "2025-01-01"))
            a = a[(a["ts"] >= onset) & (a["ts"] <= onset + 7 * DAY) & (a["direction"] == "up")]
            hits.extend(f"s{i}" in set(a["node"]) for i in range(n))
    assert np.mean(caught[3]) == 1.0  # every 3-sigma shift within 7 days
    assert 0.3 < np.mean(caught[2]) < 0.95  # 2 sigma: the floor, often missed


def _actual_frame(y: np.ndarray, start: str, variable: str = "sales") -> pd.DataFrame:
    days = pd.date_range(start, periods=y.shape[1])
    return pd.concat(
        [pd.DataFrame({"node": f"s{i}", "variable": variable, "ts": days, "y": y[i]}) for i in range(len(y))],
        ignore_index=True,
    )


def test_shift_statistic_by_hand():
    det = ShiftDetector(window=2, reference=3)
    y = np.arange(1.0, 11.0)
    d = det.statistic(y)
    assert np.isnan(d[:4]).all()  # span 5: first value on the 5th day
    assert d[4] == pytest.approx((4 + 5) / 2 - (1 + 2 + 3) / 3)  # 2.5, and so on along a line
    assert np.allclose(d[4:], 2.5)
    gapped = ShiftDetector(window=2, reference=3, gap=1).statistic(y)
    assert np.isnan(gapped[:5]).all() and gapped[5] == pytest.approx((5 + 6) / 2 - (1 + 2 + 3) / 3)
    step = np.r_[np.zeros(10), np.full(10, 6.0)]
    d = det.statistic(step)  # day 10 is the first shifted: D = 3 then 6 while the reference is old
    assert d[9] == 0 and d[10] == pytest.approx(3.0) and d[11] == pytest.approx(6.0)
    assert d[12] == pytest.approx(6.0 - 2.0) and d[14] == 0


def test_shift_detector_alarms_as_defined_and_restarts():
    rng = np.random.default_rng(11)
    clean = rng.normal(100, 5, size=(1, 200))
    det = ShiftDetector(window=7, reference=28, transform="none").fit(_actual_frame(clean, "2024-01-01"))
    d = det.statistic(clean[0])
    c, s = np.median(d[34:]), 1.4826 * np.median(np.abs(d[34:] - np.median(d[34:])))
    assert det.center_.iloc[0] == pytest.approx(c) and det.spread_.iloc[0] == pytest.approx(s, rel=1e-3)
    zc = (d - det.center_.iloc[0]) / det.spread_.iloc[0]
    assert det.h_["sales"] == pytest.approx(max(3.0, np.nanmax(np.abs(zc))))
    new = rng.normal(100, 5, size=(1, 120))
    new[0, 50:] += 30  # a step of 6 noise SD on day 50, for good
    alarms = det.detect(_actual_frame(new, "2024-07-19"))
    # by hand: the statistic over the last 35 fitted values followed by the new ones
    full = np.r_[clean[0, -35:], new[0]]
    z = (det.statistic(full)[35:] - det.center_.iloc[0]) / det.spread_.iloc[0]
    first = int(np.argmax(np.abs(z) > det.h_["sales"]))
    assert 50 <= first <= 53 and alarms.iloc[0]["ts"] == pd.Timestamp("2024-07-19") + first * DAY
    assert alarms.iloc[0]["direction"] == "up" and alarms.iloc[0]["statistic"] == pytest.approx(z[first])
    assert alarms.iloc[0]["onset"] == alarms.iloc[0]["ts"] - 6 * DAY
    # restarts from the alarm day: tested again on 7 values at the new level -> no second alarm
    assert len(alarms) == 1
    with pytest.raises(ValueError, match="needs at least"):
        ShiftDetector().fit(_actual_frame(clean[:, :30], "2024-01-01"))


def test_shift_detector_removes_known_effects_first():
    """Prices known in advance (log-linear demand, elasticity 1.8) move the level: with the
    price as a covariate a price cut raises nothing and the spread is the noise's; a real shift
    still alarms."""
    rng = np.random.default_rng(2)
    n, T = 4, 300
    price = np.where(rng.random((n, T)).cumsum(axis=1) % 40 < 20, 3.5, 4.5)  # flips every ~20 days
    price[:, 200:] = 2.8  # a lasting cut after the calibration days
    y = rng.poisson(np.exp(np.log(150) - 1.8 * np.log(price / 3.5))).astype(float)
    frame = _actual_frame(y, "2024-01-01").assign(price=price.ravel())
    days = pd.date_range("2024-01-01", periods=T)
    cal, new = frame[frame["ts"] < days[200]], frame[frame["ts"] >= days[150]]
    det = ShiftDetector(covariates=["price"]).fit(cal)
    assert det.beta_["price"].between(-2.1, -1.5).all()  # log price enters: the elasticity
    after = new[new["ts"] >= days[200]]
    near = lambda a, d: a[(a["ts"] >= days[d]) & (a["ts"] <= days[d + 7])]  # noqa: E731
    assert near(det.detect(after), 200).empty  # the cut's week: nothing with the price known
    raw = ShiftDetector().fit(cal)  # without the price, its flips are "shifts" of 0.45 in log
    assert (raw.spread_ > 4 * det.spread_).all()  # 8x here: the price moves more than the noise
    shifted = after.copy()
    shifted.loc[(shifted["node"] == "s0") & (shifted["ts"] >= days[240]), "y"] *= 1.5
    a = near(det.detect(shifted), 240)
    assert list(a["node"]) == ["s0"] and (a["direction"] == "up").all()


def test_shift_detector_catches_half_level_shifts_on_persistent_seasonal_counts_within_7_days():
    """Poisson counts around a weekly season plus an AR(1) shock (the retail demand's shape):
    a shift of half a normal day is found within 7 days, while a clean year raises few alarms."""
    rng = np.random.default_rng(5)
    n = 8

    def counts(T):
        lam = 100 * (1 + 0.3 * np.sin(2 * np.pi * np.arange(T) / 7))
        e = np.zeros((n, T))
        for t in range(1, T):
            e[:, t] = 0.6 * e[:, t - 1] + rng.normal(0, 8, n)
        return rng.poisson(lam * np.ones((n, 1))).astype(float) + e

    det = ShiftDetector().fit(_actual_frame(counts(175), "2024-01-01"))
    false_alarms = sum(len(det.detect(_actual_frame(counts(140), "2025-01-01"))) for _ in range(3))
    assert false_alarms <= 4  # over 3 x 8 x 140 = 3360 clean series-days
    onset, caught, delays = pd.Timestamp("2025-01-01") + 60 * DAY, [], []
    for sign in (1, -1, 1):
        y = counts(140)
        y[:, 60:81] += sign * 50
        a = det.detect(_actual_frame(y, "2025-01-01"))
        a = a[(a["ts"] >= onset) & (a["ts"] <= onset + 7 * DAY)]
        caught += [f"s{i}" in set(a["node"]) for i in range(n)]
        delays += list((a["ts"] - onset).dt.days)
        assert (a["direction"] == ("up" if sign > 0 else "down")).all()
    assert np.mean(caught) >= 0.9 and np.mean(delays) <= 5


# --------------------------------------------------------------------------------------------------
# M: rolling forecasts and the feedback update
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny():
    torch.set_num_threads(1)
    panel = _positive_panel(n_days=160, seed=2, amplitude=50.0)
    task = ForecastTask(panel=panel, targets=("a", "b"), horizon=7, input_size=14, scaled=("a", "b"))
    end = pd.Timestamp("2024-01-01") + 99 * DAY
    return task, train_forecaster(
        task, train_end=end, patch_len=7, patch_stride=7, **{**TINY, "epochs": 6, "lr": 3e-3}
    )


def test_rolling_forecasts_match_forecast(tiny):
    task, m = tiny
    o = m.train_end + 5 * DAY
    fc = rolling_forecasts(m, [m.train_end, o])
    one = fc[fc["origin"] == o].sort_values(["variable", "node", "ts"]).reset_index(drop=True)
    ref = m.forecast(o, device="cpu").sort_values(["variable", "node", "ts"]).reset_index(drop=True)
    np.testing.assert_allclose(one[["mean", "q0.1", "q0.9"]], ref[["mean", "q0.1", "q0.9"]], rtol=1e-6)
    np.testing.assert_allclose(
        one["y"],
        task.panel[["a", "b"]]
        .stack()
        .reorder_levels([2, 0, 1])
        .loc[list(zip(one["variable"], one["node"], one["ts"], strict=True))],
    )
    assert set(fc["step"]) == set(range(1, 8))
    late = rolling_forecasts(m, [task.last_day])  # past the panel: placeholders, no actuals
    assert late["y"].isna().all() and len(late) == 2 * 2 * 7


def test_update_forecaster_changes_the_weights_and_reads_nothing_after_its_end(tiny):
    task, m = tiny
    end = m.train_end + 14 * DAY
    up = update_forecaster(m, task.panel, end=end, epochs=2, device="cpu")
    assert up.train_end == end and up.scaler is m.scaler
    assert any(
        not torch.equal(a, b)
        for a, b in zip(m.model.state_dict().values(), up.model.state_dict().values(), strict=True)
    )
    w = update_windows(m, task.panel, end=end, context_days=28)
    assert w.meta["origin"].max() + 7 * DAY == end  # the last window's targets end on the new last day
    assert w.meta["origin"].min() == m.train_end - (28 + 7 - 1) * DAY
    later = task.panel.index.get_level_values("ts") > end
    wild = task.panel.copy()
    wild.loc[later, ["a", "b"]] = 1e5
    up2 = update_forecaster(m, wild, end=end, epochs=2, device="cpu")
    for a, b in zip(up.model.state_dict().values(), up2.model.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    fa, fb = up.forecast(end, device="cpu"), up2.forecast(end, device="cpu")
    pd.testing.assert_frame_equal(fa, fb)
    with pytest.raises(ValueError, match="not after the model's training end"):
        update_forecaster(m, task.panel, end=m.train_end)


def test_update_windows_replay_every_context_stride_days_and_every_new_window(tiny):
    task, m = tiny
    end = m.train_end + 10 * DAY
    full = update_windows(m, task.panel, end=end, context_days=35)
    thin = update_windows(m, task.panel, end=end, context_days=35, context_stride=3)
    last_replay = m.train_end - 7 * DAY  # horizon 7: its targets end on train_end
    origins = lambda w: sorted(set(w.meta["origin"]))  # noqa: E731
    new = [o for o in origins(full) if o > last_replay]
    assert len(new) == 10 and [o for o in origins(thin) if o > last_replay] == new  # every new window
    replay = [o for o in origins(thin) if o <= last_replay]
    assert replay[-1] == last_replay and all((last_replay - o).days % 3 == 0 for o in replay)
    assert replay == [o for o in origins(full) if o <= last_replay][::-1][::3][::-1]
    n_nodes = task.panel.index.get_level_values("node").nunique()
    assert len(thin) == n_nodes * (len(new) + len(replay)) < len(full)
    with pytest.raises(ValueError, match="context_stride"):
        update_windows(m, task.panel, end=end, context_stride=0)


def test_update_forecaster_from_a_saved_checkpoint(tiny, tmp_path):
    task, m = tiny
    end = m.train_end + 7 * DAY
    m.model.save_pretrained(tmp_path / "m")
    a = update_forecaster(m, task.panel, end=end, epochs=1, device="cpu")
    b = update_forecaster(m, task.panel, end=end, epochs=1, device="cpu", checkpoint=tmp_path / "m")
    for x, y in zip(a.model.state_dict().values(), b.model.state_dict().values(), strict=True):
        assert torch.equal(x, y)


def test_update_forecaster_is_warm_started(tiny):
    task, m = tiny
    end = m.train_end + 14 * DAY
    one_step = {"epochs": 1, "max_steps": 1, "device": "cpu", "batch_size": 512}
    warm = update_forecaster(m, task.panel, end=end, **one_step)
    cold = update_forecaster(m, task.panel, end=end, warm_start=False, **one_step)
    assert warm.fit_result.steps == cold.fit_result.steps == 1
    assert warm.fit_result.train_loss[0] < 0.5 * cold.fit_result.train_loss[0]


def test_score_relmase_by_hand():
    days = pd.date_range("2024-01-01", periods=28)
    y = np.r_[np.tile([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], 3), [2, 3, 4, 5, 6, 7, 8.0]]
    panel = pd.DataFrame({"a": y}, index=pd.MultiIndex.from_product([["n"], days], names=["node", "ts"]))
    origin = days[20]
    fc = pd.DataFrame({"node": "n", "variable": "a", "origin": origin, "ts": days[21:], "y": y[21:]})
    # history scale = 0 (exactly weekly) -> no usable series
    assert math.isnan(score_relmase(fc.assign(mean=y[21:]), panel))
    y2 = y.copy()
    y2[:7] += 1.0  # scale = mean |y_t - y_{t-7}| over days 7..20 = 7/14 = 0.5
    panel2 = panel.assign(a=y2)
    # naive forecast = last week (1..7); actual 2..8: naive MAE 1 -> MASE 2; model off by 0.5 -> MASE 1
    assert score_relmase(fc.assign(mean=y[21:] + 0.5), panel2) == pytest.approx(0.5)


def test_monitor_loop_alerts_quarantines_and_updates(tiny):
    task, m = tiny
    cal_end = m.train_end + 50 * DAY
    spiked = task.panel.copy()
    spike_day = cal_end + 3 * DAY
    spiked.loc[("n1", spike_day), "a"] += 200.0  # ~100 noise sd
    mon = Monitor(m, alert_alpha=0.02, update_every=4, update_options={"epochs": 1})
    mon.calibrate(cal_end)
    assert mon.calibrator_.n_scores_.min() > 0 and np.isfinite(mon.alert_calibrator_.quantiles_).all()
    res = mon.run(spiked, end=cal_end + 15 * DAY)
    hit = res.alerts[
        (res.alerts["node"] == "n1") & (res.alerts["ts"] == spike_day) & (res.alerts["variable"] == "a")
    ]
    assert len(hit) == 1 and hit["quarantined"].all() and hit["side"].iloc[0] == "above"
    assert hit["kind"].iloc[0] == "spike" and set(res.alerts["kind"]) <= {"spike", "drop"}
    # the shift test reads the actuals with each day's point alerts replaced by their forecast
    # (an alert in a run of 3 on one side is a level: read as it is), two days late
    assert mon.shift_ is not None and set(mon.shift_.h_.index) == {"a", "b"}
    assert res.figures["shift_alarms"] == len(res.shifts)
    w = res.watched.dropna(subset=["y"])
    side = {(r.node, r.variable, r.ts): r.side for r in res.alerts.itertuples()}

    def point(n: str, v: str, t: pd.Timestamp) -> bool:
        s = side.get((n, v, t))
        runs = [all(side.get((n, v, t + (a + j) * DAY)) == s for j in range(3)) for a in (-2, -1, 0)]
        return s is not None and not any(runs)

    hit_cells = [point(*c) for c in zip(w["node"], w["variable"], w["ts"], strict=True)]
    cleaned = w[["node", "variable", "ts"]].assign(y=np.where(hit_cells, w["mean"], w["y"]))
    assert cleaned.loc[(cleaned["node"] == "n1") & (cleaned["ts"] == spike_day), "y"].max() < 200
    expected = copy.deepcopy(mon.shift_).detect(cleaned)
    expected["ts"] = (expected["ts"] + 2 * DAY).clip(upper=cal_end + 15 * DAY)
    assert mon.shift_run == 3
    pd.testing.assert_frame_equal(
        res.shifts.drop(columns="kind").reset_index(drop=True), expected, check_dtype=False
    )
    assert (res.shifts["kind"] == "level_shift").all()
    assert list(res.updates["end"]) == [cal_end + 4 * DAY, cal_end + 8 * DAY, cal_end + 12 * DAY]
    assert set(res.comparison["model"]) == {
        "stale",
        "updated",
    }  # from the updates whose next window ends in time
    assert sorted(res.comparison["origin"].unique()) == [cal_end + 4 * DAY, cal_end + 8 * DAY]
    assert res.forecasts["origin"].min() == cal_end and res.forecasts["origin"].max() == cal_end + 14 * DAY
    g = res.figures
    assert 0 <= g["coverage_raw"] <= 1 and 0 <= g["coverage_calibrated"] <= 1 and g["updates"] == 3
    assert g["alerts"] == len(res.alerts) and "anomaly alert" in res.summary()
    with pytest.raises(ValueError, match="too few"):
        Monitor(m, alert_alpha=0.0001).calibrate(cal_end)


def test_monitor_default_band_is_each_variables_largest_clean_score_and_material(tiny):
    task, m = tiny
    cal_end = m.train_end + 50 * DAY
    mon = Monitor(m, update_every=None, shift=False).calibrate(cal_end)
    assert mon.alert_alpha is None and mon.min_deviation == 0.4
    one = mon.calibration_[mon.calibration_["step"] == 1]
    keys = [one["node"], one["variable"]]
    mae = (one["y"] - one["mean"]).abs().groupby(keys).transform("mean")
    score = np.maximum(one["q0.1"] - one["y"], one["y"] - one["q0.9"]) / mae  # CQR / series MAE
    expect = score.groupby(one["variable"]).max()
    q = mon.alert_calibrator_.quantiles_
    assert set(q.index) == {"a", "b"} and q.to_dict() == pytest.approx(expect.to_dict())
    assert (mon.alert_calibrator_.n_scores_ == one.groupby("variable").size()).all()
    # no clean calibration day lies outside its band, and the band is at least 40 % of a normal day
    _, watch = mon._issue(m, task.panel, cal_end, mon.calibrator_)
    band = mon.alert_calibrator_.transform(one)
    assert ((one["y"] >= band["lo"] - 1e-9) & (one["y"] <= band["hi"] + 1e-9)).all()
    level = mon.level_.reindex(pd.MultiIndex.from_frame(watch[["node", "variable"]])).to_numpy()
    assert (watch["alert_hi"] - watch["mean"] >= 0.4 * level - 1e-9).all()
    assert (watch["mean"] - watch["alert_lo"] >= 0.4 * level - 1e-9).all()
    # the next day: 30 % of a normal day above the forecast raises nothing, beyond the band does
    t = cal_end + DAY
    lv = float(mon.level_.loc[("n1", "a")])
    row = watch[(watch["node"] == "n1") & (watch["variable"] == "a")].iloc[0]
    for value, alerted in ((row["mean"] + 0.3 * lv, False), (row["alert_hi"] + 0.1 * lv, True)):
        p = task.panel.copy()
        p.loc[("n1", t), "a"] = value
        res = mon.run(p, end=t)
        hit = (res.alerts["node"] == "n1") & (res.alerts["variable"] == "a") & (res.alerts["ts"] == t)
        assert bool(hit.any()) is alerted
    with pytest.raises(ValueError, match="alert_alpha must be"):
        Monitor(m, alert_alpha=1.5)
