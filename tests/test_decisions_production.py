"""Production plan LP: hand-solved instances, properties, the manufacturing scenario, the figure."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sclm
from sclm.decisions.production import (
    COST_PARTS,
    ProductionCosts,
    plan_production,
    plot_production_plan,
    scenario_production_plan,
)
from sclm.schema import UnknownNameError

# production 1 per unit, holding 0.5 per unit-day, backlog 3 per unit-day and 3 per unit left over
HAND = ProductionCosts(production=1, overtime=0.5, holding=0.5, backlog=3, final_backlog=3)


def frame(demand: dict[str, list[float]], **extra: list) -> pd.DataFrame:
    rows = [
        {"node": node, "ts": t + 1, "demand": v, **{k: x[t] for k, x in extra.items()}}
        for node, values in demand.items()
        for t, v in enumerate(values)
    ]
    return pd.DataFrame(rows)


def test_capacity_binding_on_day_two_pulls_production_forward():
    # Day 2 needs 14 > capacity 10, so 4 units are made on day 1 and held one night.
    # Optimal: produce [8, 10], stock [4, 0]; cost = 18 * 1 (production) + 4 * 0.5 (holding) = 20.
    # The alternative, backlogging 4 units on day 2, costs 4 * (3 + 3) = 24 instead of 4 * 0.5.
    plan = plan_production(frame({"a": [4, 14]}), 10, costs=HAND)
    assert plan.status == "optimal"
    np.testing.assert_allclose(plan.frame["production"], [8, 10])
    np.testing.assert_allclose(plan.frame["stock"], [4, 0])
    np.testing.assert_allclose(plan.frame["backlog"], [0, 0])
    np.testing.assert_allclose(plan.frame["shipped"], [4, 14])
    assert plan.cost == pytest.approx(18 * 1 + 4 * 0.5)
    assert plan.cost_parts["production"] == pytest.approx(18) and plan.cost_parts["holding"] == pytest.approx(
        2
    )
    assert sum(plan.cost_parts.values()) == pytest.approx(plan.cost)
    np.testing.assert_allclose(plan.frame["utilisation"], [0.8, 1.0])
    # one more unit of capacity on day 2 saves one unit-night of holding (0.5); day 1 is slack
    np.testing.assert_allclose(plan.frame["capacity_shadow_price"], [0.0, 0.5], atol=1e-9)


def test_backlog_when_capacity_is_short_in_total():
    # 30 ordered, 20 can be made: produce at capacity; backlog 5 after day 1, 10 after day 2.
    # cost = 20 (production) + (5 + 10) * 3 (backlog per unit-day) + 10 * 3 (left over) = 95
    plan = plan_production(frame({"a": [15, 15]}), 10, costs=HAND)
    np.testing.assert_allclose(plan.frame["production"], [10, 10])
    np.testing.assert_allclose(plan.frame["backlog"], [5, 10])
    np.testing.assert_allclose(plan.frame["stock"], [0, 0])
    assert plan.cost == pytest.approx(20 + 15 * 3 + 10 * 3)
    summary = plan.summary().loc["a"]
    assert summary["fill_rate"] == pytest.approx(20 / 30)
    assert summary["final_backlog"] == pytest.approx(10) and summary["days_at_capacity"] == 2


def test_no_stock_when_capacity_is_ample():
    # Nothing is gained by making early: every unit is made on the day it ships, and opening
    # stock is used before anything is made.
    plan = plan_production(frame({"a": [3, 7, 5, 2], "b": [1, 0, 6, 4]}), 50, costs=HAND)
    assert (plan.frame["stock"].abs() < 1e-9).all() and (plan.frame["backlog"].abs() < 1e-9).all()
    np.testing.assert_allclose(plan.frame["production"], plan.frame["demand"])
    used = plan_production(frame({"a": [3, 4]}), 50, opening_stock={"a": 5}, costs=HAND)
    np.testing.assert_allclose(used.frame["production"], [0, 2])
    assert used.cost == pytest.approx(2 + 2 * 0.5)  # 2 units made; 2 units of opening stock held on day 1


@pytest.mark.parametrize(
    ("holding", "production", "overtime"),
    [(0.2, [4, 10], [0, 0]), (1.0, [0, 14], [0, 4])],  # holding 4 units a night vs 4 units of overtime
)
def test_overtime_against_making_early(holding, production, overtime):
    costs = HAND.model_copy(update={"holding": holding})
    plan = plan_production(frame({"a": [0, 14]}), 10, overtime_capacity=5, costs=costs)
    np.testing.assert_allclose(plan.frame["production"], production)
    np.testing.assert_allclose(plan.frame["overtime"], overtime)
    assert plan.cost == pytest.approx(14 + 4 * min(holding, 0.5))


def test_stock_capacity_limits_making_early():
    # At most 2 units may be held: 2 are made early (0.2 each), the other 2 in overtime (0.5 each)
    costs = HAND.model_copy(update={"holding": 0.2})
    plan = plan_production(frame({"a": [0, 14]}), 10, overtime_capacity=5, stock_capacity=2, costs=costs)
    np.testing.assert_allclose(plan.frame["stock"], [2, 0])
    np.testing.assert_allclose(plan.frame["overtime"], [0, 2])
    assert plan.cost == pytest.approx(14 + 2 * 0.2 + 2 * 0.5)


def test_safety_stock_is_kept_while_cheap_and_used_before_customers_wait():
    costs = ProductionCosts(holding=0.01, safety_shortfall=0.1, backlog=1.0)
    kept = plan_production(frame({"a": [3, 3, 3]}), 10, opening_stock=5, safety_stock=5, costs=costs)
    np.testing.assert_allclose(kept.frame["production"], [3, 3, 3])
    np.testing.assert_allclose(kept.frame["stock"], [5, 5, 5])
    # capacity 0 on day 2: ship from the safety stock rather than let the customer wait
    short = plan_production(
        frame({"a": [3, 3, 3]}), {"a": [3, 0, 6]}, opening_stock=5, safety_stock=5, costs=costs
    )
    assert (short.frame["backlog"].abs() < 1e-9).all()
    np.testing.assert_allclose(short.frame["stock"], [5, 2, 5])
    assert short.cost_parts["safety_shortfall"] == pytest.approx(3 * 0.1)


def test_products_share_their_plant_capacity():
    d = pd.DataFrame(
        {"node": "p", "product": ["x", "x", "y", "y"], "ts": [1, 2, 1, 2], "demand": [5.0, 5.0, 5.0, 5.0]}
    )
    plan = plan_production(d, 8, opening_stock={("p", "x"): 1}, costs=HAND)
    assert len(plan.items) == 4 and len(plan.frame) == 2
    assert (plan.frame["regular"] <= 8 + 1e-9).all()
    # 20 owed, 1 in stock, 16 can be made: 3 units stay backlogged
    assert plan.summary().loc["p", "final_backlog"] == pytest.approx(3)
    with pytest.raises(ValueError, match="ambiguous"):
        plan_production(d, 8, opening_stock={"p": 1})
    with pytest.raises(UnknownNameError, match="opening_stock"):
        plan_production(d, 8, opening_stock={("p", "z"): 1})


def test_forecast_frame_and_quantile_column():
    days = pd.date_range("2024-03-01", periods=3, freq="D")
    fc = pd.concat(
        [
            pd.DataFrame({"node": "a", "variable": v, "ts": days, "mean": m, "q0.1": m - 1, "q0.9": m + 2})
            for v, m in [("logistics", np.array([5.0, 6.0, 7.0])), ("inventory", np.full(3, 50.0))]
        ]
    )
    with pytest.raises(ValueError, match="several variables"):
        plan_production(fc, 100)
    mean = plan_production(fc, 100, variable="logistics")
    np.testing.assert_allclose(mean.frame["demand"], [5, 6, 7])
    high = plan_production(fc, 100, variable="logistics", quantile=0.9)
    np.testing.assert_allclose(high.frame["demand"], [7, 8, 9])
    assert high.cost > mean.cost
    assert pd.api.types.is_datetime64_any_dtype(high.frame["ts"])
    with pytest.raises(UnknownNameError, match="q0.5"):
        plan_production(fc, 100, variable="logistics", quantile=0.5)
    json.dumps(high.to_dict())  # serialisable


def test_bad_inputs_name_the_problem():
    d = frame({"a": [1, 2], "b": [1, 2]})
    with pytest.raises(ValueError, match="no value for plant 'b'"):
        plan_production(d, {"a": 5})
    with pytest.raises(UnknownNameError, match="'c'"):
        plan_production(d, {"a": 5, "b": 5, "c": 5})
    with pytest.raises(ValueError, match="consecutive"):
        plan_production(frame({"a": [1, 2]}).assign(ts=[1, 3]), 5)
    with pytest.raises(ValueError, match="several rows"):
        plan_production(pd.concat([frame({"a": [1, 2]})] * 2), 5)
    with pytest.raises(ValueError, match="not a finite number"):
        plan_production(frame({"a": [1, np.nan]}), 5)
    with pytest.raises(ValueError, match="exceeds its stock_capacity"):
        plan_production(frame({"a": [1, 2]}), 5, opening_stock=10, stock_capacity=4)
    with pytest.raises(ValueError, match="capacity.*shape"):
        plan_production(frame({"a": [1, 2]}), {"a": [1, 2, 3]})
    with pytest.raises(UnknownNameError, match="costs.holding"):
        plan_production(frame({"a": [1, 2]}), 5, costs={"holding": {"z": 1.0}})


@settings(max_examples=25, deadline=None)
@given(
    demand=st.lists(st.lists(st.integers(0, 20), min_size=4, max_size=4), min_size=1, max_size=2),
    capacity=st.lists(st.integers(0, 15), min_size=2, max_size=2),
    extra=st.integers(1, 10),
    holding=st.floats(0.0, 2.0),
    backlog=st.floats(0.0, 3.0),
    opening=st.integers(0, 10),
)
def test_more_capacity_never_costs_more(demand, capacity, extra, holding, backlog, opening):
    plants = [f"p{k}" for k in range(len(demand))]
    d = frame(dict(zip(plants, demand, strict=True)))
    costs = ProductionCosts(holding=holding, backlog=backlog, final_backlog=3.0)
    cap = {p: capacity[k] for k, p in enumerate(plants)}
    base = plan_production(d, cap, opening_stock=opening, costs=costs)
    more = plan_production(d, {p: c + extra for p, c in cap.items()}, opening_stock=opening, costs=costs)
    assert base.status == more.status == "optimal"
    assert more.cost <= base.cost + 1e-7
    # the books balance: stock and backlog follow production, shipments and demand
    for plan in (base, more):
        for _, g in plan.frame.groupby("node"):
            prev_s = np.r_[opening, g["stock"].to_numpy()[:-1]]
            prev_b = np.r_[0.0, g["backlog"].to_numpy()[:-1]]
            np.testing.assert_allclose(g["stock"], prev_s + g["production"] - g["shipped"], atol=1e-7)
            np.testing.assert_allclose(g["backlog"], prev_b + g["demand"] - g["shipped"], atol=1e-7)
        assert (plan.frame["regular"] <= plan.frame["capacity"] + 1e-7).all()
        assert sum(plan.cost_parts[p] for p in COST_PARTS) == pytest.approx(plan.cost, abs=1e-6)


# --------------------------------------------------------------------------- the scenario


@pytest.fixture(scope="module")
def manufacturing():
    return sclm.make_scenario("manufacturing", seed=0)


def test_plant_shipments_already_include_warehouse_replenishment(manufacturing):
    # why scenario_production_plan plans on the plants' logistics alone (no double counting)
    nodes, truth = manufacturing.nodes, manufacturing.truth
    for plant in nodes.loc[nodes["node_type"] == "plant", "node"]:
        kids = nodes.loc[nodes["parent"] == plant, "node"].tolist()
        if kids:
            inflow = sum(truth.xs(k)["production"] for k in kids)
            assert (truth.xs(plant)["logistics"] >= inflow).all()


def test_scenario_plan_meets_demand_where_capacity_allows(manufacturing):
    plan = scenario_production_plan(manufacturing, horizon=14)
    nodes = manufacturing.nodes.set_index("node")
    plants = nodes.index[nodes["node_type"] == "plant"].tolist()
    assert plan.status == "optimal" and plan.plants == plants and len(plan.frame) == 14 * len(plants)
    # demand is the truth's logistics over the 14 days after the origin
    origin = pd.Timestamp(plan.meta["origin"])
    truth = manufacturing.truth
    days = pd.date_range(origin + pd.Timedelta(days=1), periods=14)
    np.testing.assert_allclose(plan.frame["demand"], truth.loc[(plants, days), "logistics"].to_numpy())
    opening = truth.loc[(plants, origin + pd.Timedelta(days=1)), "inventory"].to_numpy()
    np.testing.assert_allclose(list(plan.meta["opening_stock"].values()), opening)
    summary = plan.summary()
    assert (summary["fill_rate"] == 1.0).all() and (summary["final_backlog"] < 1e-6).all()
    assert (plan.frame["regular"] <= plan.frame["capacity"] + 1e-6).all()
    np.testing.assert_allclose(summary["final_stock"], nodes.loc[plants, "target_stock"], atol=1e-6)

    # a third of the capacity cannot keep up: customers wait only on days the plant runs flat out
    short = scenario_production_plan(manufacturing, horizon=14, capacity_scale=0.3)
    waiting = short.frame[short.frame["backlog"] > 1e-6]
    assert len(waiting) > 0
    np.testing.assert_allclose(waiting["regular"], waiting["capacity"])
    assert short.cost > plan.cost
    # overtime takes some of the shortage
    relief = scenario_production_plan(manufacturing, horizon=14, capacity_scale=0.3, overtime_share=0.5)
    assert relief.summary()["final_backlog"].sum() < short.summary()["final_backlog"].sum()


def test_scenario_plan_from_a_forecast_frame(manufacturing):
    truth = manufacturing.truth
    last = truth.index.get_level_values("ts").max()
    days = pd.date_range(last - pd.Timedelta(days=6), last)
    long = truth.loc[(slice(None), days), ["production", "inventory", "logistics"]].stack().rename("mean")
    fc = long.reset_index().rename(columns={"level_2": "variable"})[["node", "variable", "ts", "mean"]]
    fc["q0.1"], fc["q0.9"] = 0.9 * fc["mean"], 1.2 * fc["mean"]
    plan = scenario_production_plan(manufacturing, fc, quantile=0.9)
    assert plan.meta["origin"] == (days[0] - pd.Timedelta(days=1)).strftime("%Y-%m-%d")
    plants = plan.plants
    assert all(p.startswith("plant") for p in plants) and len(plan.frame) == 7 * len(plants)
    expected = 1.2 * truth.loc[(plants, days), "logistics"].to_numpy()
    np.testing.assert_allclose(plan.frame["demand"], expected)
    with pytest.raises(ValueError, match="plant"):
        scenario_production_plan(manufacturing, fc[fc["node"] != "plant_01"])


def test_plot_production_plan(manufacturing, tmp_path):
    plan = scenario_production_plan(manufacturing, horizon=10, capacity_scale=0.5, overtime_share=0.2)
    fig = plot_production_plan(plan)
    assert len(fig.axes) == 2 * len(plan.plants)  # production panel and stock panel per plant
    for ax, p in zip(fig.axes[0::2], plan.plants, strict=True):
        assert ax.get_title(loc="left") == p
        assert len(ax.patches) == 2 * 10  # regular and overtime bars per day
    for ax in fig.axes[1::2]:
        assert {line.get_label() for line in ax.lines} == {"closing stock", "safety stock", "backlog"}
    fig.savefig(tmp_path / "plan.png")
    plt.close(fig)
    plain = plot_production_plan(plan_production(frame({"a": [4, 14]}), 10, costs=HAND))
    assert len(plain.axes) == 2 and len(plain.axes[0].patches) == 2  # no overtime capacity: no overtime bars
    plt.close(plain)
    with pytest.raises(UnknownNameError):
        plot_production_plan(plan, plants=["nowhere"])
