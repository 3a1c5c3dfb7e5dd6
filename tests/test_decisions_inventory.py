"""sclm.decisions.inventory: textbook policies, lead-time demand from quantiles, the simulator, comparisons."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sclm import make_scenario
from sclm.decisions import inventory as inv
from sclm.decisions._inventory_sim import simulate
from sclm.schema import UnknownNameError

QCOLS = [f"q{q:g}" for q in np.round(np.arange(0.1, 1.0, 0.1), 1)]
LEVELS = np.round(np.arange(0.1, 1.0, 0.1), 1)
TINY = {"epochs": 2, "patience": 1, "d_model": 16, "n_heads": 2, "n_layers": 1, "batch_size": 128}


def frame(origin: str, node: str, mus, sds, variable: str = "demand") -> pd.DataFrame:
    """A forecast issued at ``origin`` whose day-i quantiles are those of N(mus[i], sds[i])."""
    o = pd.Timestamp(origin)
    days = o + pd.to_timedelta(np.arange(1, len(mus) + 1), unit="D")
    f = pd.DataFrame({"origin": o, "node": node, "variable": variable, "ts": days, "mean": mus})
    for c, q in zip(QCOLS, LEVELS, strict=True):
        f[c] = np.asarray(mus, float) + stats.norm.ppf(q) * np.asarray(sds, float)
    return f


@pytest.fixture(scope="module")
def retail():
    return make_scenario("retail", seed=0, n_days=120, n_documents=0)


@pytest.fixture(scope="module")
def origins(retail):
    last = retail.truth.index.get_level_values("ts").max()
    return pd.date_range(last - pd.Timedelta(days=30), last - pd.Timedelta(days=7))


@pytest.fixture(scope="module")
def snaive(retail, origins):
    return inv.rolling_forecasts(retail, origins, models=("seasonal_naive",))["Seasonal Naive"]


# --------------------------------------------------------------------------- textbook instances


def test_newsvendor_textbook():
    r = inv.newsvendor(0.18, 0.70, 50, 8)  # Snyder & Shen Example 4.3
    assert f"{r.base_stock_level:.4f}" == "56.6040"
    assert f"{r.cost:.5f}" == "1.99761"
    assert r.critical_ratio == pytest.approx(0.7 / 0.88)
    same = inv.newsvendor(0.18, 0.70, distribution=stats.norm(50, 8))
    assert same.base_stock_level == pytest.approx(r.base_stock_level)
    assert inv.newsvendor(1, 4, distribution=stats.poisson(6)).base_stock_level == 8.0


def test_s_S_textbook():
    r = inv.s_S_policy(1, 4, 5, mean=6)  # Snyder & Shen Example 4.7 (Poisson(6))
    assert (r.s, r.S) == (4.0, 10.0)
    assert f"{r.cost:.5f}" == "8.03411"
    pmf = stats.poisson.pmf(np.arange(60), 6)
    same = inv.s_S_policy(1, 4, 5, pmf=pmf / pmf.sum())  # the same demand as an explicit pmf
    assert (same.s, same.S) == (4.0, 10.0) and same.cost == pytest.approx(r.cost, abs=1e-9)
    power = inv.s_S_policy(0.18, 0.70, 2.5, mean=50, sd=8)
    assert (power.s, power.S) == pytest.approx((40.19461695647407, 74.29017010980579))
    assert power.cost is None and power.method == "power"


def test_eoq_textbook():
    r = inv.eoq(8, 0.225, 1300)  # Snyder & Shen Example 3.1
    assert f"{r.order_quantity:.3f}" == "304.047"
    assert f"{r.cost:.4f}" == "68.4105"
    assert r.cycle_time == pytest.approx(r.order_quantity / 1300)


def test_base_stock_covers_lead_time_plus_review():
    # R = 1 is stockpyl's newsvendor over L + 1 periods
    r = inv.base_stock(0.18, 0.70, 50, 8, lead_time=2)
    assert r.base_stock_level == pytest.approx(
        inv.newsvendor(0.18, 0.70, 50, 8, lead_time=2).base_stock_level
    )
    r = inv.base_stock(1, 19, 10, 3, lead_time=2, review=3, service=0.9)
    assert r.base_stock_level == pytest.approx(50 + stats.norm.ppf(0.9) * 3 * math.sqrt(5))
    assert (r.ltd_mean, r.service) == (50, 0.9)


# --------------------------------------------------------------------------- lead-time demand


def test_lead_time_demand_of_known_normals():
    mus, sds = [40.0, 55.0, 70.0, 999.0], [5.0, 8.0, 12.0, 1.0]  # the 4th day is beyond L + R = 3
    fc = frame("2024-01-10", "a", mus, sds)
    ltd = inv.lead_time_demand(fc, lead_time=2, review=1)
    assert ltd["mean"].iloc[0] == pytest.approx(165.0)
    assert ltd["sd"].iloc[0] == pytest.approx(math.sqrt(25 + 64 + 144))
    como = inv.lead_time_demand(fc, lead_time=2, aggregation="comonotone")
    assert como["sd"].iloc[0] == pytest.approx(25.0)
    pol = inv.policy_from_forecast(fc, lead_time=2, service=0.95)
    assert pol["S"].iloc[0] == math.ceil(165 + stats.norm.ppf(0.95) * math.sqrt(233))
    assert pol["s"].iloc[0] == pol["S"].iloc[0] - 1
    # newsvendor: the critical ratio and stockpyl's expected cost at that level
    nv = inv.policy_from_forecast(fc, kind="newsvendor", lead_time=2, holding_cost=1, stockout_cost=9)
    S = nv["S"].iloc[0]
    assert S == math.ceil(165 + stats.norm.ppf(0.9) * math.sqrt(233))
    h, p, mu, sd = 1, 9, 165, math.sqrt(233)
    z = (S - mu) / sd
    loss = sd * (stats.norm.pdf(z) - z * stats.norm.sf(z))
    assert nv["expected_cost"].iloc[0] == pytest.approx(h * (S - mu + loss) + p * loss)
    # (s, S): reorder point from the service target, order size from the EOQ of the mean rate
    ss = inv.policy_from_forecast(fc, kind="sS", lead_time=2, service=0.95, holding_cost=1, fixed_cost=50)
    assert ss["s"].iloc[0] == pol["s"].iloc[0]
    assert ss["S"].iloc[0] - ss["s"].iloc[0] - 1 == round(math.sqrt(2 * 50 * 55 / 1))


# --------------------------------------------------------------------------- simulator by hand


def hand_case():
    days = pd.date_range("2024-03-01", periods=6)  # day 0 = first origin
    demand = pd.Series(
        [0, 10, 30, 10, 10, 5],
        index=pd.MultiIndex.from_product([["a"], days], names=["node", "ts"]),
        dtype=float,
    )
    fc = pd.concat([frame(str(d.date()), "a", [10, 10], [0, 0]) for d in days[:4]], ignore_index=True)
    return demand, fc


def test_simulator_base_stock_by_hand():
    # L = 1, R = 1: S = 20 every day (two days of 10, no spread); start 10 on hand + 10 due on day 1
    demand, fc = hand_case()
    r = inv.simulate_policy(
        demand,
        fc,
        lead_time=1,
        holding_cost=1,
        stockout_cost=4,
        fixed_cost=2,
        initial_on_hand=10,
        initial_pipeline=10,
    )
    tr = r.trace
    assert tr["order"].tolist() == [0, 10, 10, 10, 0, 0]  # day 0: IP = 20 >= S, no order
    assert tr["lost"].tolist() == [0, 0, 20, 0, 0, 0]
    assert tr["on_hand"].tolist() == [10, 10, 0, 0, 0, 5]
    assert tr["scored"].tolist() == [False, False, True, True, True, True]  # days t0+L+1 .. t_last+L+R
    s = r.summary
    assert (s.holding, s.shortage, s.ordering, s.total) == (5, 80, 6, 91)
    assert s.fill_rate == pytest.approx(35 / 55)
    assert s.csl == 0.75  # one of the four review cycles (days 2, 3, 4, 5) lost a sale
    assert s.orders == 3 and s.days == 4


def test_simulator_s_S_by_hand():
    demand, _ = hand_case()
    pol = pd.DataFrame({"origin": demand.index.get_level_values("ts")[:4], "node": "a", "s": 15.0, "S": 40.0})
    costs = inv.Costs(holding=1, shortage=4, order=2)
    r = simulate(demand, pol, lead_time=1, costs=costs, initial_on_hand=10, initial_pipeline=10)
    assert r.trace["order"].tolist() == [0, 30, 0, 0, 0, 0]
    assert r.trace["on_hand"].tolist() == [10, 10, 0, 20, 10, 5]
    assert (r.summary.holding, r.summary.shortage, r.summary.ordering) == (35, 80, 2)
    assert r.summary.csl == 0.75


def test_oracle_forecast_serves_everything_cheaper(retail, origins, snaive):
    d = inv.scenario_demand(retail)
    assert set(d.index.get_level_values("node")) == {f"store_0{i}" for i in range(1, 6)}
    tl = d.rename("y").reset_index()
    parts = []
    for o in origins:
        f = tl[(tl["ts"] > o) & (tl["ts"] <= o + pd.Timedelta(days=7))].assign(origin=o, variable="demand")
        parts.append(f.assign(mean=f["y"], **{c: f["y"] for c in QCOLS}))
    oracle = pd.concat(parts, ignore_index=True)
    table, grid = inv.compare_policies(
        retail, {"oracle": oracle, "snaive": snaive, "same": snaive}, return_grid=True
    )
    assert table.loc["oracle", "fill_rate"] == 1.0 and table.loc["oracle", "shortage"] == 0
    assert table.loc["oracle", "total"] < table.loc["snaive", "total"]
    assert table.loc["snaive"].equals(table.loc["same"])
    g = grid[(grid["model"] == "snaive") & (grid["fill_rate"] >= 0.95)]
    if len(g):  # the reported level is the cheapest one reaching the target fill rate
        assert table.loc["snaive", "at_fill_total"] == g["total"].min()
        assert table.loc["snaive", "at_fill_fill_rate"] >= 0.95


# --------------------------------------------------------------------------- properties


def test_no_look_ahead(retail, origins, snaive):
    k = 10
    cut = origins[k]
    panel = retail.truth.copy()
    later = panel.index.get_level_values("ts") > cut
    panel.loc[later, "demand"] *= 3.0  # a wild future after origin k
    edited = inv.rolling_forecasts(retail, origins, models=("seasonal_naive",), panel=panel)["Seasonal Naive"]
    a = inv.simulate_policy(retail, snaive)
    stores = panel["demand"][panel.index.get_level_values("node").str.startswith("store")]
    b = inv.simulate_policy(stores, edited, lead_time=retail.meta["lead_time"])
    ra, rb = a.trace[a.trace["review"]], b.trace[b.trace["review"]]
    upto = ra["ts"] <= cut
    assert np.array_equal(ra.loc[upto, "order"].to_numpy(), rb.loc[upto.to_numpy(), "order"].to_numpy())
    assert not np.array_equal(ra.loc[~upto, "order"].to_numpy(), rb.loc[~upto.to_numpy(), "order"].to_numpy())


@pytest.mark.usefixtures("one_torch_thread")
def test_no_look_ahead_for_M(retail, origins):
    panel = retail.truth.copy()
    panel.loc[panel.index.get_level_values("ts") > origins[1], "demand"] += 500.0
    runs = [
        inv.rolling_forecasts(retail, origins[:3], models=("M",), panel=p, train_options=TINY)["M"]
        for p in (None, panel)
    ]
    first = [r[r["origin"] <= origins[1]].reset_index(drop=True) for r in runs]
    pd.testing.assert_frame_equal(first[0], first[1])
    assert set(runs[0]["node"]) == {f"store_0{i}" for i in range(1, 6)} and set(runs[0]["variable"]) == {
        "demand"
    }
    assert len(runs[0]) == 3 * 5 * 7


def test_causal_panels_give_forecasts_that_ignore_later_readings(retail, origins):
    from sclm.pipeline import CausalPanels

    cut = origins[3]
    raw = retail.readings
    later = (raw["ts"] > cut) & ~raw["variable"].isin(["price", "promotion"])  # plans are known ahead
    wild = raw.assign(value=raw["value"].where(~later, raw["value"] * 10.0))

    def run(readings):
        panels = CausalPanels(readings, units=retail.units, train_end=origins[0])
        return inv.rolling_forecasts(
            retail,
            origins[:6],
            models=("seasonal_naive", "lightgbm"),
            panel=panels,
            baseline_series="targets",
            lightgbm_params={"n_estimators": 5},
        )

    a, b = run(raw), run(wild)
    for label in ("Seasonal Naive", "LightGBM"):
        upto = a[label]["origin"] <= cut
        pd.testing.assert_frame_equal(a[label][upto], b[label][upto.to_numpy()], check_exact=True)
        assert not np.array_equal(a[label].loc[~upto, "mean"], b[label].loc[~upto.to_numpy(), "mean"]), label
    assert inspect.signature(inv.rolling_forecasts).parameters["device"].default == "auto"


def test_baselines_fitted_on_all_targets_keep_only_the_demand_rows(retail, origins, snaive):
    got = inv.rolling_forecasts(
        retail,
        origins[:2],
        models=("seasonal_naive", "lightgbm"),
        baseline_series="targets",
        lightgbm_params={"n_estimators": 5},
    )
    sn = got["Seasonal Naive"]  # univariate: the same forecasts whatever else is fitted
    pd.testing.assert_frame_equal(sn, snaive[snaive["origin"] <= origins[1]].reset_index(drop=True))
    lgb = got["LightGBM"]
    assert lgb[["origin", "node", "ts"]].equals(sn[["origin", "node", "ts"]])
    assert set(lgb["variable"]) == {"demand"}
    with pytest.raises(UnknownNameError, match="unknown baseline_series 'all'"):
        inv.rolling_forecasts(retail, origins[:1], models=("seasonal_naive",), baseline_series="all")


def test_higher_service_never_lowers_fill_rate(retail, snaive):
    fills = inv.policy_grid(retail, {"snaive": snaive}, services=(0.5, 0.7, 0.8, 0.9, 0.95, 0.99))[
        "fill_rate"
    ]
    assert np.all(np.diff(fills.to_numpy()) >= 0)
    assert fills.iloc[-1] > fills.iloc[0]


def test_manufacturing_demand_is_logistics_at_every_node():
    sc = make_scenario("manufacturing", seed=0, n_days=60, n_documents=0)
    d = inv.scenario_demand(sc)
    assert d.name == "logistics" and d.index.get_level_values("node").nunique() == len(sc.nodes)


# --------------------------------------------------------------------------- errors


def test_errors_name_the_bad_input(retail, snaive):
    fc = frame("2024-01-10", "a", [10, 10, 10], [1, 1, 1])
    with pytest.raises(ValueError, match="holding_cost must be a finite number > 0"):
        inv.newsvendor(-1, 2, 10, 2)
    with pytest.raises(ValueError, match="stockout_cost"):
        inv.simulate_policy(retail, snaive, stockout_cost=-3)
    with pytest.raises(ValueError, match="fixed_cost"):
        inv.eoq(-8, 0.2, 100)
    with pytest.raises(ValueError, match="service must lie strictly between 0 and 1"):
        inv.policy_from_forecast(fc, lead_time=1, service=1.2)
    with pytest.raises(ValueError, match="service must lie strictly between 0 and 1"):
        inv.base_stock(1, 2, 10, 2, service=0.0)
    with pytest.raises(ValueError, match="every service level of the grid"):
        inv.compare_policies(retail, {"sn": snaive}, grid=(0.9, 1.5))
    with pytest.raises(ValueError, match="quantile columns"):
        inv.policy_from_forecast(fc.drop(columns=QCOLS[1:]), lead_time=1)
    with pytest.raises(ValueError, match="covers 3 of the L \\+ R = 4 days"):
        inv.policy_from_forecast(fc, lead_time=3)
    with pytest.raises(UnknownNameError, match="unknown policy kind 'minmax'"):
        inv.policy_from_forecast(fc, kind="minmax", lead_time=1)
    with pytest.raises(ValueError, match="kind='sS' needs holding_cost > 0 and fixed_cost > 0"):
        inv.policy_from_forecast(fc, kind="sS", lead_time=1, holding_cost=1)
    with pytest.raises(ValueError, match="newsvendor' needs holding_cost and stockout_cost"):
        inv.policy_from_forecast(fc, kind="newsvendor", lead_time=1)
    with pytest.raises(ValueError, match="lead_time is required"):
        inv.simulate_policy(inv.scenario_demand(retail), snaive)
    with pytest.raises(ValueError, match="different \\(origin, node\\) pairs"):
        inv.compare_policies(retail, {"a": snaive, "b": snaive[snaive["origin"] > snaive["origin"].min()]})
    with pytest.raises(ValueError, match="forecast has no rows for node\\(s\\) \\['store_05'\\]"):
        inv.simulate_policy(retail, snaive[snaive["node"] != "store_05"])
    with pytest.raises(UnknownNameError, match="unknown forecaster 'prophet'"):
        inv.rolling_forecasts(retail, [pd.Timestamp("2023-03-01")], models=("prophet",))
