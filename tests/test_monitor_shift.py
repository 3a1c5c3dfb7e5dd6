"""sclm.monitor.ShiftDetector with policy residuals: series set by a replenishment rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from sclm.monitor import Monitor, ShiftDetector
from sclm.pipeline import ForecastTask, train_forecaster

DAY = pd.Timedelta(days=1)
START = pd.Timestamp("2024-01-01")
CLEAN = 450  # clean days to fit on; the rest are monitored
TINY = {"epochs": 2, "patience": 1, "d_model": 8, "n_heads": 2, "n_layers": 1, "batch_size": 64}
TINY |= {"device": "cpu", "progress": False}


def _network(seed: int, n: int = 4, T: int = 600) -> pd.DataFrame:
    """Stores replenished by an order-up-to rule (the retail scenario's shape, in miniature).

    ``demand ~ Poisson(100 · weekly · exp(AR(1)))``, sales = demand, ``orders[t] = rint(sales[t-1] +
    0.25 · (target − inventory[t]))``, ``shipments[t] = orders[t − 2]``, ``inventory[t+1] =
    inventory[t] + shipments[t] − sales[t]``.  Long frame ``node, variable, ts, y, orders``.
    """
    rng = np.random.default_rng(seed)
    week = np.array([0.9, 0.85, 0.9, 0.95, 1.1, 1.35, 0.95])
    rows = []
    for i in range(n):
        shock = np.zeros(T)
        for t in range(1, T):
            shock[t] = 0.5 * shock[t - 1] + rng.normal(0, 0.08)
        d = rng.poisson(100 * week[np.arange(T) % 7] * np.exp(shock)).astype(float)
        target = 300.0
        k, o, q = np.zeros(T + 1), np.zeros(T), np.zeros(T)
        k[0] = target
        for t in range(T):
            o[t] = max(0.0, np.rint((d[t - 1] if t else 100.0) + 0.25 * (target - k[t])))
            q[t] = o[t - 2] if t >= 2 else 100.0
            k[t + 1] = max(0.0, k[t] + q[t] - d[t])
        days = pd.date_range(START, periods=T)
        for name, y in (("demand", d), ("shipments", q), ("inventory", k[:T])):
            rows.append(pd.DataFrame({"node": f"s{i}", "variable": name, "ts": days, "y": y, "orders": o}))
    return pd.concat(rows, ignore_index=True)


def _split(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    cut = START + (CLEAN - 1) * DAY
    return frame[frame["ts"] <= cut], frame[frame["ts"] > cut]


def _shift(
    frame: pd.DataFrame, variable: str, onset: pd.Timestamp, sign: float, size: float = 0.5
) -> pd.DataFrame:
    """``size`` of a normal day added to (or taken from) every node's ``variable`` for 21 days."""
    out = frame.copy()
    level = frame[frame["variable"] == variable].groupby("node")["y"].median()
    hit = (out["variable"] == variable) & out["ts"].between(onset, onset + 20 * DAY)
    out.loc[hit, "y"] = np.maximum(out.loc[hit, "y"] + sign * size * out.loc[hit, "node"].map(level), 0.0)
    return out


def _caught(alarms: pd.DataFrame, variable: str, onset: pd.Timestamp) -> set[str]:
    a = alarms[(alarms["variable"] == variable) & alarms["ts"].between(onset, onset + 7 * DAY)]
    return set(a["node"])


@pytest.fixture(scope="module")
def fitted():
    clean, new = _split(_network(seed=3))
    policy = ShiftDetector(regressors=["orders"]).fit(clean)
    plain = ShiftDetector(mode="actuals").fit(clean)
    return policy, plain, new


def test_policy_series_are_tested_on_their_residual(fitted):
    """The rule-driven series get the residual statistic (tighter on the clean days); an exact
    rule's spread is floored at 2 % of a day."""
    policy, plain, _ = fitted
    modes = policy.mode_.groupby(level="variable").agg(lambda m: set(m))
    assert modes["shipments"] == {"residual"} and modes["inventory"] == {"residual"}
    rel = policy.relative_spread_.xs("inventory", level="variable")
    assert (rel["residual"] < 0.5 * rel["actuals"]).all()  # the stock wanders with the orders
    ship = policy.spread_.xs("shipments", level="variable")
    level = policy.level_.xs("shipments", level="variable")
    assert np.allclose(ship, 0.02 * level)  # shipments = orders two days earlier, exactly


def test_clean_days_raise_no_alarm(fitted):
    policy, _, new = fitted
    assert policy.detect(new).empty


@pytest.mark.parametrize(("variable", "sign"), [("inventory", 1.0), ("shipments", -1.0)])
def test_a_shift_in_a_policy_series_is_caught_within_7_days_and_nowhere_else(fitted, variable, sign):
    """A quarter of a normal day for three weeks: every node's shift is found within a week by
    the residual test, at most one by the actuals alone (the stock and the inflow wander with
    the orders by 7-13 % of a day a week), and no other variable alarms (the regressors are the
    orders, which the shift does not touch)."""
    policy, plain, new = fitted
    onset = new["ts"].min() + 40 * DAY
    shifted = _shift(new, variable, onset, sign, size=0.25)
    alarms = policy.detect(shifted)
    nodes = set(new["node"])
    assert _caught(alarms, variable, onset) == nodes
    assert len(_caught(plain.detect(shifted), variable, onset)) <= 1
    assert set(alarms["variable"]) == {variable}
    first = alarms.sort_values("ts").groupby("node").first()
    assert (first["direction"] == ("up" if sign > 0 else "down")).all()


def test_a_demand_shift_does_not_leak_into_the_policy_series(fitted):
    policy, _, new = fitted
    onset = new["ts"].min() + 40 * DAY
    alarms = policy.detect(_shift(new, "demand", onset, 1.0))
    assert _caught(alarms, "demand", onset) == set(new["node"])
    assert set(alarms["variable"]) == {"demand"}


def test_day_by_day_equals_one_call(fitted):
    """The lagged regressors carry over between calls: feeding one day at a time gives the
    alarms of one call over the whole stretch."""
    policy, _, new = fitted
    shifted = _shift(new, "inventory", new["ts"].min() + 40 * DAY, 1.0)
    once = policy.detect(shifted)
    policy.reset()
    daily = [policy.update(g) for _, g in shifted.groupby("ts")]
    daily = pd.concat([a for a in daily if len(a)], ignore_index=True)
    pd.testing.assert_frame_equal(once.reset_index(drop=True), daily)


def test_policy_options_are_checked():
    with pytest.raises(ValueError, match="needs regressors"):
        ShiftDetector(mode="residual")
    with pytest.raises(ValueError, match="folds"):
        ShiftDetector(regressors=["orders"], folds=1)
    clean, _ = _split(_network(seed=3, n=1, T=480))
    with pytest.raises(ValueError, match="orders"):
        ShiftDetector(regressors=["orders"]).fit(clean.drop(columns="orders"))


def test_monitor_reads_a_run_of_alerts_as_a_level_and_tests_the_policy_residual():
    """In the loop M reads quarantined values, so a shifted stock is alerted day after day; the
    shift detector reads such a run as it is (``shift_run``) and tests the stock's residual from
    the orders: the shift is found within a week.  Cleaning every alert hides it."""
    torch.set_num_threads(1)
    frame = _network(seed=4, n=2, T=330)
    panel = frame.pivot_table(index=["node", "ts"], columns="variable", values="y")[
        ["shipments", "inventory"]
    ]
    panel["orders"] = frame.drop_duplicates(["node", "ts"]).set_index(["node", "ts"])["orders"]
    task = ForecastTask(
        panel=panel,
        targets=("shipments", "inventory"),
        covariates=("orders",),
        horizon=7,
        input_size=14,
        scaled=("shipments", "inventory", "orders"),
    )
    m = train_forecaster(task, train_end=START + 219 * DAY, patch_len=7, patch_stride=7, **TINY)
    cal_end, onset = START + 279 * DAY, START + 290 * DAY
    shifted = panel.copy()
    level = panel["inventory"].groupby(level="node").median()["s0"]
    days = shifted.index.get_level_values("ts")
    rows = (shifted.index.get_level_values("node") == "s0") & (days >= onset) & (days <= onset + 20 * DAY)
    shifted.loc[rows, "inventory"] += 0.5 * level
    mon = Monitor(m, alert_alpha=0.02, update_every=None, device="cpu").calibrate(cal_end)
    assert mon.shift_.regressors == ("orders",)
    assert set(mon.shift_.mode_.xs("inventory", level="variable")) == {"residual"}
    res = mon.run(shifted)
    run = res.alerts[(res.alerts["node"] == "s0") & (res.alerts["variable"] == "inventory")]
    assert run["ts"].between(onset, onset + 20 * DAY).sum() >= 6  # M keeps missing the new level
    found = res.shifts[(res.shifts["node"] == "s0") & (res.shifts["variable"] == "inventory")]
    assert found["ts"].between(onset, onset + 7 * DAY).any()
    assert (found["direction"].iloc[:1] == "up").all()
    blind = Monitor(m, alert_alpha=0.02, update_every=None, device="cpu", shift_run=10_000).calibrate(cal_end)
    hidden = blind.run(shifted).shifts
    assert (
        not hidden[(hidden["node"] == "s0") & (hidden["variable"] == "inventory")]["ts"]
        .between(onset, onset + 7 * DAY)
        .any()
    )
