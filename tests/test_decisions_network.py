"""sclm.decisions.network: hand-solved plans for every edit kind, LP and MILP, infeasibility
diagnosis, load errors, what-if / why, property tests, and independent checks with scipy's linprog."""

from __future__ import annotations

import copy
import dataclasses
import itertools
import json

import numpy as np
import pandas as pd
import pydantic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from sclm.decisions import edits as E
from sclm.decisions.network import (
    COST_PARTS,
    FLOW_COLUMNS,
    EditError,
    NetworkFileError,
    UnknownNodeError,
    WrongRoleError,
    load_network,
    plan_network,
    plot_network_plan,
    scenario_network,
    what_if,
    why,
)
from sclm.schema import UnknownNameError

# ---------------------------------------------------------------------------------------------
# the hand-solved network T
# ---------------------------------------------------------------------------------------------
# Unit cost of each route (supply + raw arc | processing + arcs + handling):
#   raw from s1: 1 + 1 = 2; raw from s2: 3 + 1 = 4
#   p1 -> c1: 2 + 1 = 3;  p1 -> w1 -> c2: 2 + 1 + 1 + 1 = 5
#   p2 -> c1: 4 + 2 = 6;  p2 -> c2: 4 + 2 = 6
# Demand 60 (c1: 20 a + 10 b, c2: 30 a); p1's capacity 60 takes it all with raw from s1:
#   c1: 30 * (2 + 3) = 150, c2: 30 * (2 + 5) = 210  ->  360.
T = {
    "name": "T",
    "products": ["a", "b"],
    "nodes": {
        "s1": {"role": "supplier", "capacity": 100, "cost": 1},
        "s2": {"role": "supplier", "capacity": 100, "cost": 3},
        "p1": {"role": "plant", "cost": {"a": 2, "b": 2}, "capacity": 60},
        "p2": {"role": "plant", "cost": 4},
        "w1": {"role": "warehouse", "cost": 1, "city": "Hamburg", "aliases": ["DC north"]},
        "c1": {"role": "customer", "demand": {"a": 20, "b": 10}},
        "c2": {"role": "customer", "demand": {"a": 30}},
    },
    "arcs": [
        {"from": "s1", "to": "p1", "cost": 1},
        {"from": "s1", "to": "p2", "cost": 1},
        {"from": "s2", "to": "p1", "cost": 1},
        {"from": "s2", "to": "p2", "cost": 1},
        {"from": "p1", "to": "c1", "cost": 1},
        {"from": "p1", "to": "w1", "cost": 1},
        {"from": "w1", "to": "c2", "cost": 1},
        {"from": "p2", "to": "c1", "cost": 2},
        {"from": "p2", "to": "c2", "cost": 2},
    ],
}


def t_net(**changes):
    d = copy.deepcopy(T)
    d.update(changes)
    return load_network(d)


def test_baseline_by_hand():
    plan = plan_network(t_net())
    assert plan.status == "optimal" and plan.solver == "GLOP"
    assert plan.cost == pytest.approx(360)
    # supply 60*1, processing 60*2, handling 30*1, transport 60*1 + 30*1 + 30*1 + 30*1
    assert plan.cost_parts == pytest.approx(
        {"supply": 60, "processing": 120, "handling": 30, "transport": 150, "fixed": 0}
    )
    assert set(COST_PARTS) <= set(plan.cost_parts)
    assert sum(plan.cost_parts.values()) == pytest.approx(plan.cost)
    assert list(plan.flows.columns) == list(FLOW_COLUMNS)
    assert plan.flow("s1", "p1", "raw") == 60 and plan.flow("p1->w1") == 30
    assert plan.flows.loc[plan.flows["from"] == "s1", "product"].tolist() == ["raw"]
    assert (plan.flows["cost"] == plan.flows["flow"] * plan.flows["unit_cost"]).all()
    assert plan.used_arcs() == [("s1", "p1"), ("p1", "c1"), ("p1", "w1"), ("w1", "c2")]
    assert plan.sources.query("via == 'w1'")[["plant", "customer", "flow"]].values.tolist() == [
        ["p1", "c2", 30]
    ]
    fac = plan.facilities.set_index("node")
    assert fac.loc["p1", "utilisation"] == pytest.approx(1.0) and not fac.loc["p2", "open"]
    assert plan.diagnosis == "" and plan.shortfall.empty
    json.dumps(plan.to_dict())
    assert "cost 360" in plan.summary()


EDIT_CASES = [
    # demand 90: p1 (cap 60) keeps c1 (saves 3/unit vs p2) and 15 of c2 (saves 1); p2 takes 30 of c2:
    # raw 90*2 + c1 45*3 + c2 15*5 + 30*6 = 180 + 135 + 75 + 180
    ({"kind": "scale_demand", "factor": 1.5}, 570),
    # c1 b 10 -> 20, demand 70: raw 70*2 + c1 40*3 + c2 20*5 + p2->c2 10*6 = 140 + 120 + 100 + 60
    ({"kind": "scale_demand", "factor": 2, "customer": "c1", "product": "b"}, 420),
    # p1 capacity 30: c1 from p1 30*(2+3), c2 from p2 30*(2+6) = 150 + 240
    ({"kind": "scale_capacity", "node": "p1", "factor": 0.5}, 390),
    # s1 gives 40 (2/unit), s2 20 (4/unit): 80 + 80 + p1 routes 30*3 + 30*5
    ({"kind": "set_capacity", "node": "s1", "value": 40}, 400),
    # p1->w1 costs 5: the warehouse route costs 2+5+1+1 = 9 > p2's 6: c2 from p2: 150 + 240
    ({"kind": "set_arc_cost", "arc": ["p1", "w1"], "value": 5}, 390),
    # p1->c1 for a x3: route 2+3 = 5 < 6 still: c1 a 20*(2+5) + c1 b 10*5 + c2 210
    ({"kind": "scale_arc_cost", "arc": "p1->c1", "factor": 3, "product": "a"}, 400),
    # p1 makes b at 10: c1 b from p2 10*(2+6) = 80; c1 a 20*5 = 100; c2 30*7 = 210
    ({"kind": "set_node_cost", "node": "p1", "value": 10, "product": "b"}, 390),
    # s1 costs 2: every raw unit +1: 360 + 60
    ({"kind": "scale_node_cost", "node": "s1", "factor": 2}, 420),
    # no raw on s1->p1: p1 buys from s2 (4): c1 30*(4+3) = 210; c2 cheapest p2 with s1 raw 30*(2+6) = 240
    ({"kind": "forbid_arc", "arc": ["s1", "p1"]}, 450),
    # no b on p1->c1: c1 b from p2 10*8 = 80; c1 a 20*5 = 100; c2 210
    ({"kind": "forbid_arc", "arc": ["p1", "c1"], "product": "b"}, 390),
    # 5 of c1's a from p2 at 8 instead of 5: 360 + 5*3
    ({"kind": "force_arc", "arc": ["p2", "c1"], "min_flow": 5, "product": "a"}, 375),
    ({"kind": "force_arc", "arc": ["p2", "c1"], "min_flow": 5}, 375),
    # 40 (more than c2's 30) on p2->c2 at 8: 320 + c1 150; customers may receive more
    ({"kind": "force_arc", "arc": ["p2", "c2"], "min_flow": 40}, 470),
    # p1's product may reach only c1, also through w1: c2 from p2 240 + c1 150
    ({"kind": "restrict_facility", "node": "p1", "customers": ["c1"]}, 390),
    # w1 serves only c1 (it has no arc to c1): same
    ({"kind": "restrict_facility", "node": "w1", "customers": "c1"}, 390),
    ({"kind": "source_only_from", "customer": "c2", "plant": "p2"}, 390),
    # c1 only from p2: 30*8 = 240; c2 from p1 through w1 30*7 = 210
    ({"kind": "source_only_from", "customer": "c1", "plant": "p2"}, 450),
    ({"kind": "exclusive_pair", "plant": "p2", "customer": "c1"}, 450),
    # p1 only c1, c1 only p1: c2 from p2: 150 + 240
    ({"kind": "exclusive_pair", "plant": "p1", "customer": "c1"}, 390),
    ({"kind": "close_facility", "node": "w1"}, 390),
    # everything from p2 with raw from s1: 60 * 8
    ({"kind": "close_facility", "node": "p2"}, 360),
    ({"kind": "close_facility", "node": "p1"}, 480),
    # raw only from s2 (4): c1 30*7 + c2 30*9
    ({"kind": "close_facility", "node": "s1"}, 480),
]


@pytest.mark.parametrize(
    ("edit", "cost"), EDIT_CASES, ids=[f"{e['kind']}-{i}" for i, (e, _) in enumerate(EDIT_CASES)]
)
def test_every_edit_by_hand(edit, cost):
    plan = plan_network(t_net(), [edit])
    assert plan.status == "optimal"
    assert plan.cost == pytest.approx(cost, abs=1e-6)
    assert sum(plan.cost_parts.values()) == pytest.approx(plan.cost)
    assert len(plan.edits) == 1 and plan.edits[0].kind == edit["kind"]


def test_every_edit_kind_is_covered():
    assert {e["kind"] for e, _ in EDIT_CASES} == set(E.EDIT_KINDS)


def test_edit_models_and_order():
    # a model and a dict give the same plan; edits apply in order: (x 0.5 then = 60) vs (= 60 then x 0.5)
    m = E.ScaleCapacity(node="p1", factor=0.5)
    assert (
        plan_network(t_net(), [m]).cost
        == plan_network(t_net(), {"kind": "scale_capacity", "node": "p1", "factor": 0.5}).cost
    )
    a = plan_network(t_net(), [m, {"kind": "set_capacity", "node": "p1", "value": 60}])
    b = plan_network(t_net(), [{"kind": "set_capacity", "node": "p1", "value": 60}, m])
    assert (a.cost, b.cost) == pytest.approx((360, 390))


def test_restrictions_intersect_and_origin_through_warehouse():
    # W: two plants feed one warehouse; only the origin-tracked model can tell whose product c2 gets.
    # Baseline from p1: 20 * (1 + 1 + 0 + 1) = 60.  c2 only from p2: c2 10 * (2 + 1 + 1) = 40 + c1 30.
    w = {
        "name": "W",
        "products": ["a"],
        "nodes": {
            "p1": {"role": "plant", "cost": 1},
            "p2": {"role": "plant", "cost": 2},
            "w": {"role": "warehouse"},
            "c1": {"role": "customer", "demand": 10},
            "c2": {"role": "customer", "demand": 10},
        },
        "arcs": [
            {"from": "p1", "to": "w", "cost": 1},
            {"from": "p2", "to": "w", "cost": 1},
            {"from": "w", "to": "c1", "cost": 1},
            {"from": "w", "to": "c2", "cost": 1},
        ],
    }
    assert plan_network(w).cost == pytest.approx(60)
    for edit in (
        {"kind": "source_only_from", "customer": "c2", "plant": "p2"},
        {"kind": "restrict_facility", "node": "p1", "customers": ["c1"]},
        {"kind": "exclusive_pair", "plant": "p2", "customer": "c2"},
    ):
        plan = plan_network(w, [edit])
        assert plan.cost == pytest.approx(70), edit
        src = plan.sources.set_index("customer")
        assert src.loc["c2", "plant"] == "p2" and src.loc["c2", "via"] == "w"
    # two restrictions on one facility: it serves what both allow (nothing here) -> infeasible
    both = plan_network(
        w,
        [
            {"kind": "restrict_facility", "node": "w", "customers": ["c1"]},
            {"kind": "restrict_facility", "node": "w", "customers": ["c2"]},
        ],
    )
    assert both.status == "infeasible" and both.cost is None


def test_unbounded_capacity_scaling_and_cost_adding():
    # p2 has no capacity: x 0.5 keeps it unbounded (demand 90 plan unchanged, 570); x 0 closes it
    up = {"kind": "scale_demand", "factor": 1.5}
    assert plan_network(
        t_net(), [up, {"kind": "scale_capacity", "node": "p2", "factor": 0.5}]
    ).cost == pytest.approx(570)
    zero = plan_network(t_net(), [up, {"kind": "scale_capacity", "node": "p2", "factor": 0}])
    assert zero.status == "infeasible"
    # set_node_cost with a product adds it: in W-like T with p2 making only a, c1's b needs p1
    d = copy.deepcopy(T)
    d["nodes"]["p2"]["cost"] = {"a": 4}
    net = load_network(d)
    assert "b" not in net.nodes["p2"].cost
    with pytest.raises(WrongRoleError, match="p2 does not make 'b'"):
        plan_network(net, [{"kind": "scale_node_cost", "node": "p2", "factor": 2, "product": "b"}])
    # forcing b on p2->c1 when p2 cannot make b: infeasible, and the diagnosis says why
    plan = plan_network(net, [{"kind": "force_arc", "arc": ["p2", "c1"], "min_flow": 1, "product": "b"}])
    assert plan.status == "infeasible" and "p2 does not make b" in plan.diagnosis
    # now let p2 make b at 4 and force 5 b there: 360 + 5 * (8 - 5)
    plan = plan_network(
        net,
        [
            {"kind": "set_node_cost", "node": "p2", "value": 4, "product": "b"},
            {"kind": "force_arc", "arc": ["p2", "c1"], "min_flow": 5, "product": "b"},
        ],
    )
    assert plan.cost == pytest.approx(375)


# ---------------------------------------------------------------------------------------------
# MILP: whole units and fixed costs
# ---------------------------------------------------------------------------------------------
I_NET = {
    "name": "I",
    "integer": True,
    "products": ["a"],
    "nodes": {
        "s1": {"role": "supplier", "capacity": 100},
        "p1": {"role": "plant", "cost": 1},
        "c1": {"role": "customer", "demand": {"a": 43}},
    },
    "arcs": [{"from": "s1", "to": "p1", "cost": 1}, {"from": "p1", "to": "c1", "cost": 1}],
}


def test_integer_rounding_of_scaled_demand():
    # unit cost 1 + 1 + 1 = 3.  43 * 0.9 = 38.7 -> 39 whole units = 117 (the LP pays 116.1)
    plan = plan_network(I_NET, [{"kind": "scale_demand", "factor": 0.9}])
    assert plan.solver == "SCIP" and plan.integer
    assert plan.cost == pytest.approx(117) and plan.flow("p1", "c1") == 39
    assert plan.deliveries.loc[0, "demand"] == pytest.approx(38.7)  # never rounded in the data
    lp = dict(I_NET, integer=False)
    assert plan_network(lp, [{"kind": "scale_demand", "factor": 0.9}]).cost == pytest.approx(116.1)
    # float noise does not force a unit more: 40 * (1 + 1e-12) -> 40 units; 40.00004 -> 41
    d40 = copy.deepcopy(I_NET)
    d40["nodes"]["c1"]["demand"] = {"a": 40}
    assert plan_network(d40, [{"kind": "scale_demand", "factor": 1 + 1e-12}]).cost == pytest.approx(120)
    assert plan_network(d40, [{"kind": "scale_demand", "factor": 1.000001}]).cost == pytest.approx(123)
    # capacities round down: s1 100 * 0.385 = 38.5 allows 38 < 39 -> infeasible, short by one unit
    bad = plan_network(
        I_NET,
        [{"kind": "scale_demand", "factor": 0.9}, {"kind": "scale_capacity", "node": "s1", "factor": 0.385}],
    )
    assert bad.status == "infeasible"
    assert bad.shortfall["short"].sum() == pytest.approx(1.0)
    assert "supplier s1 (capacity 38.5" in bad.diagnosis


F_NET = {
    "name": "F",
    "products": ["a"],
    "nodes": {
        "p1": {"role": "plant", "cost": 1, "fixed_cost": 50},
        "p2": {"role": "plant", "cost": 3},
        "c1": {"role": "customer", "demand": 20},
    },
    "arcs": [{"from": "p1", "to": "c1", "cost": 1}, {"from": "p2", "to": "c1", "cost": 1}],
}


def test_fixed_cost_facility_worth_closing():
    # demand 20: p1 20 * 2 + 50 = 90 > p2 20 * 4 = 80 -> p1 stays shut
    plan = plan_network(F_NET)
    assert plan.solver == "SCIP" and plan.cost == pytest.approx(80) and plan.cost_parts["fixed"] == 0
    assert not plan.facilities.set_index("node").loc["p1", "open"]
    # demand 40: p1 40 * 2 + 50 = 130 < 160 -> p1 opens and pays its fixed cost
    w = what_if(F_NET, [{"kind": "scale_demand", "factor": 2}])
    assert w.result.cost == pytest.approx(130) and w.result.cost_parts["fixed"] == pytest.approx(50)
    assert w.delta == pytest.approx(50)
    # closed, it pays nothing and carries nothing: 160
    closed = plan_network(
        F_NET, [{"kind": "scale_demand", "factor": 2}, {"kind": "close_facility", "node": "p1"}]
    )
    assert closed.cost == pytest.approx(160) and closed.cost_parts["fixed"] == 0


# ---------------------------------------------------------------------------------------------
# infeasibility diagnosis
# ---------------------------------------------------------------------------------------------
def test_diagnosis_names_customer_product_shortfall_and_capacity():
    plan = plan_network("example", [{"kind": "scale_demand", "factor": 4}])
    # demand 80 light + 80 dark = 160 raw units; s1 gives 150 -> 10 short, split 5 / 5
    assert plan.status == "infeasible" and plan.cost is None and plan.flows.empty
    assert all(v is None for v in plan.cost_parts.values())
    assert plan.shortfall["short"].sum() == pytest.approx(10)
    assert plan.shortfall["short"].tolist() == pytest.approx([5, 5])
    for word in ("c1", "light", "dark", "short of 5", "by 10 units", "supplier s1 (capacity 150"):
        assert word in plan.diagnosis
    json.dumps(plan.to_dict())


def test_diagnosis_names_closures_restrictions_and_forced_minima():
    # c2 may buy only from p1, whose only way to c2 is through w1, closed: all 30 a short
    plan = plan_network(
        t_net(),
        [
            {"kind": "source_only_from", "customer": "c2", "plant": "p1"},
            {"kind": "close_facility", "node": "w1"},
        ],
    )
    assert plan.status == "infeasible"
    assert plan.shortfall[["customer", "product", "short"]].values.tolist() == [["c2", "a", 30]]
    assert "c2 is short of 30 a" in plan.diagnosis
    assert "closed: warehouse w1" in plan.diagnosis and "c2 buys only from p1" in plan.diagnosis
    # suppliers cut to 10 each: 40 of the 60 units short; both capacities named
    low = plan_network(t_net(), [{"kind": "set_capacity", "node": n, "value": 10} for n in ("s1", "s2")])
    assert low.shortfall["short"].sum() == pytest.approx(40)
    assert "supplier s1 (capacity 10" in low.diagnosis and "supplier s2 (capacity 10" in low.diagnosis
    # a forced minimum over an arc capacity: the minimum is reported, not the demand
    d = copy.deepcopy(T)
    d["arcs"][7]["capacity"] = 4  # p2 -> c1
    forced = plan_network(d, [{"kind": "force_arc", "arc": ["p2", "c1"], "min_flow": 10}])
    assert forced.status == "infeasible" and forced.shortfall.empty
    assert "at least 10 units on p2->c1 cannot be met" in forced.diagnosis
    assert "short by 6" in forced.diagnosis and "arc p2->c1 (capacity 4" in forced.diagnosis
    # forbidding the arcs into a customer
    cut = plan_network(
        t_net(),
        [{"kind": "forbid_arc", "arc": "p1->c1"}, {"kind": "forbid_arc", "arc": "p2->c1", "product": "b"}],
    )
    assert cut.shortfall[["customer", "product", "short"]].values.tolist() == [["c1", "b", 10]]
    assert "forbidden: p1->c1, p2->c1 (b)" in cut.diagnosis


def test_diagnosis_parts_are_the_findings_of_the_text():
    plan = plan_network("example", [{"kind": "scale_demand", "factor": 4}])
    assert plan.diagnosis == "infeasible: " + " | ".join(plan.diagnosis_parts)
    assert plan.diagnosis_parts[0] == "demand exceeds what the network can deliver by 10 units in total"
    assert [p.split(" is short")[0] for p in plan.diagnosis_parts[1:]] == ["c1", "c1"]
    assert plan.to_dict()["diagnosis_parts"] == plan.diagnosis_parts
    assert plan_network("example").diagnosis_parts == []


def _subtract_shortfall(plan):
    """Edits that lower each customer's demand by what the diagnosis says it is short of."""
    edits = list(plan.edits)
    for r in plan.shortfall.itertuples(index=False):
        keep = (r.demand - r.short) / r.demand
        edits.append({"kind": "scale_demand", "factor": keep, "customer": r.customer, "product": r.product})
    return edits


def test_whole_unit_diagnosis_of_coffee_without_supplier3():
    # supplier1 150 + supplier2 50 = 200 beans for 230 cups: 30 short.  Split as evenly as the LP
    # can (30/230 = 13.04 % of every demand), then rounded to whole units keeping the total of 30.
    plan = plan_network("coffee", [{"kind": "close_facility", "node": "supplier3"}])
    assert plan.status == "infeasible" and plan.solver == "SCIP" and plan.integer
    assert plan.diagnosis_parts[0] == "demand exceeds what the network can deliver by 30 units in total"
    short = plan.shortfall.set_index(["customer", "product"])
    assert short["short"].sum() == 30 and (short["short"] == short["short"].round()).all()
    for (c, k), r in short.iterrows():
        share = 30 * r["demand"] / 230
        assert np.floor(share) <= r["short"] <= np.ceil(share), (c, k)
    assert (short["delivered"] + short["short"] == short["demand"]).all()
    assert (
        "closed: supplier supplier3" in plan.diagnosis
        and "supplier supplier1 (capacity 150" in plan.diagnosis
    )
    assert "not proven" not in plan.diagnosis
    # the split is achievable: with each demand lowered by its shortfall there is a whole-unit plan
    assert plan_network("coffee", _subtract_shortfall(plan)).status == "optimal"
    # a regression guard only (the bench times it): the even split used to be a MILP that ran
    # into SCIP's 60 s limit; now it is an LP rounded by a MILP with no objective
    assert plan.solve_seconds < 20


# Whole units can short more than the LP: p1 (capacity 2) makes a and b, p0 makes b, w0 passes 1
# unit.  c2's a comes only from p1 through w0; c0's b from p1 directly or from p0 through w0.  With
# x units of a through w0, c0 gets at most (2 - x) + (1 - x) b: delivered x + min(2, 3 - 2x) is 2.5
# at x = 0.5 (LP: short 1.5) but 2 in whole units (short 2: one unit each is the even split).
GAP = {
    "name": "gap",
    "integer": True,
    "products": ["a", "b"],
    "nodes": {
        "p0": {"role": "plant", "cost": {"b": 1}},
        "p1": {"role": "plant", "cost": 1, "capacity": 2},
        "w0": {"role": "warehouse", "capacity": 1},
        "c0": {"role": "customer", "demand": {"b": 2}},
        "c2": {"role": "customer", "demand": {"a": 2}},
    },
    "arcs": [
        {"from": "p0", "to": "w0", "cost": 1},
        {"from": "p1", "to": "w0", "cost": 1},
        {"from": "p1", "to": "c0", "cost": 1},
        {"from": "w0", "to": "c0", "cost": 1},
        {"from": "w0", "to": "c2", "cost": 1},
    ],
}


def test_whole_unit_shortfall_exceeds_the_lp_one():
    from sclm.decisions._network_solve import FlowModel, Rules, diagnose

    net = load_network(GAP)
    lp = FlowModel(net, Rules(), stage="short", continuous=True).solve()
    assert sum(lp.short.values()) == pytest.approx(1.5) and not lp.integral()
    plan = plan_network(net)
    assert plan.status == "infeasible"
    assert "by 2 units in total" in plan.diagnosis_parts[0]
    assert plan.shortfall[["customer", "product", "short"]].values.tolist() == [
        ["c0", "b", 1],
        ["c2", "a", 1],
    ]
    assert plan_network(net, _subtract_shortfall(plan)).status == "optimal"
    d = diagnose(net, Rules())
    assert d.exact and d.parts == plan.diagnosis_parts
    # as an LP the same network is 1.5 short
    assert plan_network(dict(GAP, integer=False)).shortfall["short"].sum() == pytest.approx(1.5)


def test_time_limit_fallbacks(monkeypatch):
    """A MILP that SCIP does not finish: 'feasible' keeps the plan; with none found, the LP decides."""
    from sclm.decisions import _network_solve as S

    real = S.FlowModel.solve

    def stopped(found):
        def solve(self):
            sol = real(self)
            if not self.mip or self.relax:
                return sol
            if found and sol.ok:
                return dataclasses.replace(sol, status="feasible")
            return dataclasses.replace(sol, status="time_limit", objective=None, r={}, x={}, y={}, z={})

        return solve

    monkeypatch.setattr(S.FlowModel, "solve", stopped(True))
    plan = plan_network("coffee")
    assert plan.status == "feasible" and plan.ok and plan.cost == pytest.approx(2470)
    monkeypatch.setattr(S.FlowModel, "solve", stopped(False))
    none = plan_network("coffee")
    assert none.status == "time_limit" and not none.ok and none.cost is None
    assert (
        none.diagnosis.startswith("time limit: ") and "found no plan within its time limit" in none.diagnosis
    )
    # no plan found in time, and the LP relaxation has none either: proven infeasible, diagnosed
    bad = plan_network("coffee", [{"kind": "close_facility", "node": "supplier3"}])
    assert bad.status == "infeasible" and "by 30 units in total" in bad.diagnosis


def test_diagnosis_reports_unproven_totals(monkeypatch):
    from sclm.decisions import _network_solve as S

    real = S.FlowModel.solve

    def solve(self):  # every SCIP solve of the diagnosis stops at its limit with nothing found
        sol = real(self)
        return dataclasses.replace(sol, status="time_limit") if (self.mip and self.relax) else sol

    monkeypatch.setattr(S.FlowModel, "solve", solve)
    d = S.diagnose(load_network(GAP), S.Rules(), time_limit=0.5)
    assert not d.exact and d.parts[-1].startswith("the totals are not proven least in whole units")
    assert "time limit of 0.5 s" in d.parts[-1]
    assert sum(d.solution.short.values()) == pytest.approx(1.5)  # the LP's, a lower bound


# ---------------------------------------------------------------------------------------------
# load errors: each names the node or arc
# ---------------------------------------------------------------------------------------------
def _with(path, value):
    d = copy.deepcopy(T)
    target = d
    for k in path[:-1]:
        target = target[k]
    if value is _DEL:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return d


_DEL = object()

LOAD_ERRORS = [
    (_with(["arcs", 0, "to"], "p9"), UnknownNodeError, "arc s1->p9: unknown node 'p9'"),
    (
        _with(["arcs", 0], {"from": "p1", "to": "s1", "cost": 1}),
        NetworkFileError,
        r"arc p1->s1: a plant cannot send to a supplier \(plant sends to warehouse, customer\)",
    ),
    (
        _with(["arcs", 0], {"from": "w1", "to": "w1", "cost": 1}),
        NetworkFileError,
        "arc w1->w1: a warehouse cannot send to a warehouse",
    ),
    (
        _with(["arcs", 0], {"from": "s1", "to": "c1", "cost": 1}),
        NetworkFileError,
        "arc s1->c1: a supplier cannot send to a customer",
    ),
    (
        _with(["nodes", "c1", "demand", "a"], -5),
        NetworkFileError,
        r"node c1 \(customer\) demand \(a\): expected a finite number >= 0, got -5",
    ),
    (_with(["nodes", "p1", "cost", "a"], -1), NetworkFileError, r"node p1 \(plant\) cost \(a\)"),
    (_with(["nodes", "s1", "capacity"], -1), NetworkFileError, r"node s1 \(supplier\) capacity"),
    (_with(["arcs", 4, "capacity"], -3), NetworkFileError, "arc p1->c1 capacity"),
    (_with(["arcs", 4, "cost"], float("nan")), NetworkFileError, "arc p1->c1 cost"),
    (
        _with(["nodes", "c2", "demand"], {"a": 30, "z": 1}),
        NetworkFileError,
        r"node c2 \(customer\) demand: unknown product 'z'",
    ),
    (_with(["nodes", "c2", "demand"], 30), NetworkFileError, "node c2 .*one-product network only"),
    (_with(["nodes", "p1", "role"], "factory"), NetworkFileError, "node p1: unknown role 'factory'"),
    (_with(["nodes", "p1", "role"], _DEL), NetworkFileError, "node p1: missing required field 'role'"),
    (
        _with(["nodes", "p2", "cost"], _DEL),
        NetworkFileError,
        r"node p2 \(plant\): missing required field 'cost'",
    ),
    (
        _with(["nodes", "c1", "demand"], _DEL),
        NetworkFileError,
        r"node c1 \(customer\): missing required field 'demand'",
    ),
    (
        _with(["nodes", "c1", "capacity"], 5),
        NetworkFileError,
        r"node c1 \(customer\): unknown key\(s\) \['capacity'\]",
    ),
    (
        _with(["nodes", "w1", "colour"], "red"),
        NetworkFileError,
        r"node w1 \(warehouse\): unknown key\(s\) \['colour'\]",
    ),
    (_with(["arcs", 2, "cost"], _DEL), NetworkFileError, "arc s2->p1: missing required field 'cost'"),
    (_with(["arcs", 2, "from"], _DEL), NetworkFileError, r"arcs\[2\].*missing required field 'from'"),
    (_with(["arcs", 2, "speed"], 80), NetworkFileError, r"arc s2->p1: unknown key\(s\) \['speed'\]"),
    (_with(["arcs", 0, "cost"], {"a": 1}), NetworkFileError, "arc s1->p1: carries raw material"),
    (
        _with(["arcs", 5], {"from": "p1", "to": "c1", "cost": 2}),
        NetworkFileError,
        "arc p1->c1: duplicate arc",
    ),
    (_with(["horizon"], 7), NetworkFileError, r"unknown key\(s\) \['horizon'\]"),
    (_with(["products"], ["a", "raw"]), NetworkFileError, "'raw' is reserved"),
    (_with(["products"], ["a", "a"]), NetworkFileError, "duplicate product"),
    (_with(["products"], _DEL), NetworkFileError, "missing required key 'products'"),
    (_with(["integer"], "yes"), NetworkFileError, "'integer' must be true or false"),
]


def _nobody_makes_b():
    d = copy.deepcopy(T)
    d["nodes"]["p1"]["cost"] = {"a": 2}
    d["nodes"]["p2"]["cost"] = {"a": 4}
    return d


LOAD_ERRORS.append((_nobody_makes_b(), NetworkFileError, "node c1: demands 10 of 'b' but no plant makes it"))


@pytest.mark.parametrize(("data", "error", "match"), LOAD_ERRORS, ids=[m[:40] for _, _, m in LOAD_ERRORS])
def test_load_errors_name_the_culprit(data, error, match):
    with pytest.raises(error, match=match):
        load_network(data)


def test_unknown_node_error_is_both_kinds(tmp_path):
    with pytest.raises(ValueError):
        load_network(_with(["arcs", 0, "to"], "p9"))
    with pytest.raises(UnknownNameError):
        load_network(_with(["arcs", 0, "to"], "p9"))
    with pytest.raises(FileNotFoundError, match="project networks: .*coffee"):
        load_network("no-such-network")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(NetworkFileError, match="not valid YAML"):
        load_network(bad)


def test_files_round_trip_json_yaml(tmp_path):
    import yaml

    net = t_net()
    (tmp_path / "t.json").write_text(json.dumps(net.to_dict()))
    (tmp_path / "t.yaml").write_text(yaml.safe_dump(net.to_dict()))
    for f in ("t.json", "t.yaml"):
        assert plan_network(tmp_path / f).cost == pytest.approx(360)
    assert net.lookup("hamburg", role="warehouse") == ["w1"] and net.lookup("DC north") == ["w1"]
    # descriptive keys are kept and never change the plan
    d = copy.deepcopy(T) | {"currency": "EUR", "period": "one week"}
    d["arcs"][0] |= {"mode": "rail", "distance": 120}
    d["nodes"]["p1"] |= {"region": "north", "label": "main plant"}
    again = load_network(load_network(d).to_dict())
    assert (
        again.meta == {"currency": "EUR", "period": "one week"}
        and again.arcs[("s1", "p1")].info["mode"] == "rail"
    )
    assert again.lookup("main plant") == ["p1"] and plan_network(again).cost == pytest.approx(360)
    assert net.lookup("Hamburg", role="plant") == []


# ---------------------------------------------------------------------------------------------
# edit name errors
# ---------------------------------------------------------------------------------------------
EDIT_ERRORS = [
    (
        {"kind": "scale_capacity", "node": "p9", "factor": 2},
        UnknownNameError,
        "unknown node 'p9'.*s1, s2, p1",
    ),
    (
        {"kind": "forbid_arc", "arc": ["p1", "c2"]},
        UnknownNameError,
        "unknown arc p1->c2.*arcs out of p1: p1->c1, p1->w1",
    ),
    (
        {"kind": "forbid_arc", "arc": ["p1", "c1"], "product": "z"},
        UnknownNameError,
        "unknown product 'z'.*a, b",
    ),
    ({"kind": "scale_demand", "factor": 2, "product": "z"}, UnknownNameError, "unknown product 'z'"),
    ({"kind": "scale_demand", "factor": 2, "customer": "p1"}, WrongRoleError, "node p1 is a plant.*customer"),
    (
        {"kind": "scale_capacity", "node": "c1", "factor": 2},
        WrongRoleError,
        "scale_capacity: node c1 is a customer",
    ),
    ({"kind": "set_capacity", "node": "c1", "value": 2}, WrongRoleError, "node c1 is a customer"),
    (
        {"kind": "restrict_facility", "node": "c1", "customers": ["c2"]},
        WrongRoleError,
        "restrict_facility: node c1 is a customer",
    ),
    (
        {"kind": "restrict_facility", "node": "s1", "customers": ["c2"]},
        WrongRoleError,
        "node s1 is a supplier",
    ),
    (
        {"kind": "restrict_facility", "node": "p1", "customers": ["w1"]},
        WrongRoleError,
        "node w1 is a warehouse",
    ),
    ({"kind": "restrict_facility", "node": "p1", "customers": ["c9"]}, UnknownNameError, "unknown node 'c9'"),
    (
        {"kind": "source_only_from", "customer": "c1", "plant": "w1"},
        WrongRoleError,
        "source_only_from: node w1 is a warehouse",
    ),
    ({"kind": "exclusive_pair", "plant": "p1", "customer": "s1"}, WrongRoleError, "node s1 is a supplier"),
    ({"kind": "close_facility", "node": "c1"}, WrongRoleError, "close_facility: node c1 is a customer"),
    ({"kind": "set_node_cost", "node": "c1", "value": 1}, WrongRoleError, "node c1 is a customer"),
    (
        {"kind": "set_node_cost", "node": "s1", "value": 1, "product": "a"},
        WrongRoleError,
        "per unit of raw material",
    ),
    (
        {"kind": "force_arc", "arc": ["s1", "p1"], "min_flow": 1, "product": "a"},
        WrongRoleError,
        "carries raw material",
    ),
    ({"kind": "scale_arc_cost", "arc": "p1->c9", "factor": 2}, UnknownNameError, "unknown node 'c9'"),
]


@pytest.mark.parametrize(
    ("edit", "error", "match"),
    EDIT_ERRORS,
    ids=[e["kind"] + str(i) for i, (e, _, _) in enumerate(EDIT_ERRORS)],
)
def test_edit_errors_name_the_culprit(edit, error, match):
    with pytest.raises(error, match=match):
        plan_network(t_net(), [edit])


MALFORMED = [
    (
        {"kind": "scale_capacity", "node": "p1", "factor": -1},
        "edit scale_capacity: factor must be >= 0, got -1",
    ),
    ({"kind": "scale_demand", "factor": -1}, "edit scale_demand: factor must be >= 0, got -1"),
    ({"kind": "teleport", "node": "p1"}, "edit: unknown kind 'teleport'; expected one of: scale_demand, "),
    ({"node": "p1"}, "edit: no 'kind' given; expected one of: scale_demand"),
    (
        {"kind": "set_capacity", "node": "p1"},
        "edit set_capacity: missing required field 'value' (fields: node, value)",
    ),
    (
        {"kind": "close_facility", "node": "p1", "when": 3},
        "edit close_facility: unknown field 'when'; allowed: node",
    ),
    (
        {"kind": "force_arc", "arc": ["p1"], "min_flow": 1},
        "edit force_arc: arc must be a (from, to) pair or 'from->to', got",
    ),
    (
        {"kind": "force_arc", "arc": "p1->c1", "min_flow": "many"},
        "edit force_arc: min_flow must be a number, got 'many'",
    ),
    (
        {"kind": "scale_demand", "factor": float("inf")},
        "edit scale_demand: factor must be a finite number, got inf",
    ),
    (
        {"kind": "restrict_facility", "node": "p1", "customers": []},
        "edit restrict_facility: customers must list at least 1",
    ),
    ("scale_demand", "edit: expected a mapping such as"),
]


@pytest.mark.parametrize(("edit", "message"), MALFORMED, ids=[str(m[:28]) for _, m in MALFORMED])
def test_malformed_edits_are_edit_errors_naming_kind_and_field(edit, message):
    with pytest.raises(EditError) as info:
        plan_network(t_net(), [edit])
    assert str(info.value).startswith(message), str(info.value)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value.__cause__, pydantic.ValidationError)  # the original, chained
    assert info.value.errors and "Edit" not in str(info.value).split(":")[0]  # no tagged-union type name


def test_edit_errors_on_every_entry_point():
    bad = {"kind": "scale_capacity", "node": "p1", "factor": -1}
    # the position when there are several edits
    with pytest.raises(EditError, match=r"^edit scale_capacity \(#2 of 2\): factor must be >= 0, got -1$"):
        plan_network(t_net(), [{"kind": "close_facility", "node": "w1"}, bad])
    with pytest.raises(EditError, match="factor must be >= 0"):
        what_if(t_net(), bad)
    with pytest.raises(EditError, match="factor must be >= 0"):
        what_if(t_net(), [], base_edits=[bad])
    with pytest.raises(EditError, match="factor must be >= 0"):
        why(t_net(), "p1->c1", edits=[bad])
    with pytest.raises(EditError, match="edit forbid_arc: arc must be a"):
        why(t_net(), ("p1",))
    with pytest.raises(EditError, match="expected a list of edits"):
        plan_network(t_net(), "close w1")
    # two problems in one edit: both named
    with pytest.raises(
        EditError, match="missing required field 'node'.*unknown field 'scale'|unknown field.*missing"
    ):
        plan_network(t_net(), [{"kind": "scale_capacity", "factor": 2, "scale": 1}])
    # the raw commodity may be named on raw arcs
    assert plan_network(
        t_net(), [{"kind": "forbid_arc", "arc": "s1->p1", "product": "raw"}]
    ).cost == pytest.approx(450)


# ---------------------------------------------------------------------------------------------
# what-if and why
# ---------------------------------------------------------------------------------------------
def test_what_if_delta_and_changed_flows():
    edit = [{"kind": "scale_capacity", "node": "p1", "factor": 0.5}]
    w = what_if(t_net(), edit)
    assert w.delta == pytest.approx(plan_network(t_net(), edit).cost - plan_network(t_net()).cost)
    assert w.delta == pytest.approx(30) and w.feasible
    ch = w.changed_flows.set_index(["from", "to", "product"])
    # p1 keeps c1 (30), drops c2 (30 via w1); p2 takes c2 with raw from s1
    assert ch.loc[("s1", "p1", "raw"), ["before", "after"]].tolist() == [60, 30]
    assert ch.loc[("p1", "w1", "a"), ["before", "after"]].tolist() == [30, 0]
    assert ch.loc[("p2", "c2", "a"), ["before", "after", "change"]].tolist() == [0, 30, 30]
    assert ("p1", "c1", "a") not in ch.index  # unchanged flows are left out
    json.dumps(w.to_dict())
    bad = what_if(
        t_net(), [{"kind": "close_facility", "node": "s1"}, {"kind": "close_facility", "node": "s2"}]
    )
    assert bad.delta is None and not bad.feasible and bad.changed_flows.empty
    # base edits apply to both plans
    w2 = what_if(t_net(), [{"kind": "close_facility", "node": "w1"}], base_edits=edit)
    assert w2.baseline.cost == pytest.approx(390) and w2.delta == pytest.approx(0)


def test_why_used_unused_and_indispensable():
    # p1->w1 carries 30; without it c2 comes from p2 at 8 instead of 7: delta 30
    y = why(t_net(), ("p1", "w1"))
    assert y.used and y.flow == 30 and y.delta == pytest.approx(30) and y.feasible_without
    assert y.result.cost == pytest.approx(390) and y.baseline.cost == pytest.approx(360)
    # per product: no b on p1->c1 costs 10 * (8 - 5)
    yb = why(t_net(), "p1->c1", "b")
    assert yb.flow == 10 and yb.delta == pytest.approx(30)
    # unused: no re-solve, delta 0
    u = why(t_net(), {"from": "p2", "to": "c1"})
    assert not u.used and u.flow == 0 and u.delta == 0 and u.result is u.baseline
    # the only way to c1: infeasible without it
    z = why("example", ("p1", "c1"))
    assert z.used and z.delta is None and not z.feasible_without and "c1" in z.result.diagnosis
    json.dumps(z.to_dict())
    with pytest.raises(UnknownNameError):
        why(t_net(), ("p2", "w1"))


# ---------------------------------------------------------------------------------------------
# project network files, and independent checks
# ---------------------------------------------------------------------------------------------
def test_example_file():
    plan = plan_network("example")
    # 40 raw * 5 + processing 20 * 3 + 20 * 5 + transport 40 * 4
    assert plan.status == "optimal" and plan.cost == pytest.approx(520) and plan.solver == "SCIP"


def test_coffee_matches_optiguide_and_linprog():
    net = load_network("coffee")
    assert len(net.suppliers) == 3 and len(net.plants) == 2 and len(net.customers) == 3
    assert all(n.city for n in net.nodes.values())
    plan = plan_network(net)
    assert plan.cost == pytest.approx(2470)  # OptiGuide's published optimum
    assert linprog_cost(net.to_dict()) == pytest.approx(2470)


def test_europe_fixed_cost_by_enumeration():
    net = load_network("europe")
    assert net.lookup("Hamburg", role="warehouse") == ["w_hamburg"]
    assert len(net.plants) == 3 and len(net.warehouses) == 2 and len(net.customers) == 6
    assert all(n.city for n in net.nodes.values())
    assert [n for n, v in net.nodes.items() if v.fixed_cost] == ["p_brno"]
    for edits in (
        [],
        [{"kind": "scale_demand", "factor": 1.1}],
        [{"kind": "close_facility", "node": "w_hamburg"}],
    ):
        plan = plan_network(net, edits)
        assert plan.status == "optimal"
        # brute force: Brno shut (LP without it) or open (LP + 800), with scipy
        d = plan.network.to_dict()
        for a in d["arcs"]:
            if any(e.get("node") == n for e in edits for n in (a["from"], a["to"])):
                a["capacity"] = 0
        shut = copy.deepcopy(d)
        shut["nodes"]["p_brno"]["capacity"] = 0
        costs = [linprog_cost(shut), linprog_cost(d)]
        best = min(c + extra for c, extra in zip(costs, (0, 800), strict=True) if c is not None)
        assert plan.cost == pytest.approx(best, rel=1e-9)
    assert plan_network(net, [{"kind": "scale_demand", "factor": 1.1}]).cost_parts["fixed"] == 800


def linprog_cost(d: dict) -> float | None:
    """The LP optimum of a network dict, formulated independently (per arc and product, warehouses
    balanced per product) and solved by scipy's HiGHS; None when infeasible.  Ignores fixed costs
    and integrality."""
    products = d["products"]
    nodes = d["nodes"]

    def per(v, k):
        if isinstance(v, dict):
            return v.get(k)
        return v

    cols, cost, ub = [], [], []
    for a in d["arcs"]:
        src, dst = nodes[a["from"]], nodes[a["to"]]
        for k in ["raw"] if src["role"] == "supplier" else products:
            c = per(a["cost"], k)
            ok = c is not None
            unit = c or 0.0
            if src["role"] == "supplier":
                unit += src.get("cost", 0)
            if src["role"] == "plant":
                pc = per(src["cost"], k)
                ok &= pc is not None
                unit += pc or 0
            if dst["role"] == "warehouse":
                h = per(dst.get("cost", 0), k)
                ok &= h is not None
                unit += h or 0
            cols.append((a["from"], a["to"], k))
            cost.append(unit)
            ub.append(None if ok else 0.0)
    if not cols:  # no arcs: feasible only without demand
        dem = [q for n in nodes.values() if n["role"] == "customer" for q in n["demand"].values()]
        return 0.0 if not any(dem) else None
    idx = {c: i for i, c in enumerate(cols)}
    A_ub, b_ub, A_eq, b_eq = [], [], [], []

    def row(pairs):
        r = np.zeros(len(cols))
        for j, v in pairs:
            r[j] += v
        return r

    for n, spec in nodes.items():
        out = [idx[c] for c in cols if c[0] == n]
        inn = [idx[c] for c in cols if c[1] == n]
        if spec["role"] in ("supplier", "plant") and spec.get("capacity") is not None:
            A_ub.append(row([(j, 1) for j in out]))
            b_ub.append(spec["capacity"])
        if spec["role"] == "warehouse" and spec.get("capacity") is not None:
            A_ub.append(row([(j, 1) for j in inn]))
            b_ub.append(spec["capacity"])
        if spec["role"] == "plant" and inn:
            A_eq.append(row([(j, 1) for j in inn] + [(j, -1) for j in out]))
            b_eq.append(0)
        if spec["role"] == "warehouse":
            for k in products:
                A_eq.append(
                    row(
                        [(idx[c], 1) for c in cols if c[1] == n and c[2] == k]
                        + [(idx[c], -1) for c in cols if c[0] == n and c[2] == k]
                    )
                )
                b_eq.append(0)
        if spec["role"] == "customer":
            dem = spec["demand"] if isinstance(spec["demand"], dict) else {products[0]: spec["demand"]}
            for k, q in dem.items():
                A_ub.append(row([(idx[c], -1) for c in cols if c[1] == n and c[2] == k]))
                b_ub.append(-q)
    for a in d["arcs"]:
        if a.get("capacity") is not None:
            A_ub.append(row([(idx[c], 1) for c in cols if c[:2] == (a["from"], a["to"])]))
            b_ub.append(a["capacity"])
    res = linprog(
        cost,
        A_ub=np.array(A_ub) if A_ub else None,
        b_ub=b_ub or None,
        A_eq=np.array(A_eq) if A_eq else None,
        b_eq=b_eq or None,
        bounds=[(0, u) for u in ub],
        method="highs",
    )
    return float(res.fun) if res.status == 0 else None


# ---------------------------------------------------------------------------------------------
# property tests on random small networks
# ---------------------------------------------------------------------------------------------
@st.composite
def networks(draw, capacities: bool = True, dense: bool = False) -> dict:
    """Random small networks; ``dense``: more plants and arcs, looser capacities (mostly feasible)."""
    products = ["a", "b"][: draw(st.integers(1, 2))]
    cost = st.integers(0, 9)
    cap_max, arc_odds = (150, 6) if dense else (60, 3)
    maybe_cap = (
        (lambda: {"capacity": draw(st.integers(0, cap_max))} if draw(st.booleans()) else {})
        if capacities
        else dict
    )
    nodes: dict = {}
    for i in range(draw(st.integers(0, 2))):
        nodes[f"s{i}"] = {"role": "supplier", "cost": draw(cost), **maybe_cap()}
    made: set = set()
    for i in range(draw(st.integers(2 if dense else 1, 3))):
        makes = draw(st.lists(st.sampled_from(products), min_size=1, unique=True))
        made |= set(makes)
        nodes[f"p{i}"] = {"role": "plant", "cost": {k: draw(cost) for k in sorted(makes)}, **maybe_cap()}
    for i in range(draw(st.integers(0, 2))):
        nodes[f"w{i}"] = {"role": "warehouse", "cost": draw(cost), **maybe_cap()}
    for i in range(draw(st.integers(1, 3))):
        nodes[f"c{i}"] = {"role": "customer", "demand": {k: draw(st.integers(0, 30)) for k in sorted(made)}}
    allowed = {
        ("supplier", "plant"),
        ("plant", "warehouse"),
        ("plant", "customer"),
        ("warehouse", "customer"),
    }
    arcs = []
    for a, b in itertools.permutations(nodes, 2):
        if (nodes[a]["role"], nodes[b]["role"]) in allowed and draw(st.integers(0, arc_odds)) > 0:
            arcs.append({"from": a, "to": b, "cost": draw(cost), **maybe_cap()})
    return {"name": "random", "products": products, "nodes": nodes, "arcs": arcs}


PROPS = settings(
    max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


@PROPS
@given(networks())
def test_random_networks_match_linprog(d):
    plan = plan_network(d)
    ref = linprog_cost(d)
    if ref is None:
        assert plan.status == "infeasible" and plan.diagnosis.startswith("infeasible")
        assert plan.shortfall["short"].sum() > 0
    else:
        assert plan.status == "optimal" and plan.cost == pytest.approx(ref, rel=1e-7, abs=1e-6)


@PROPS
@given(networks(), st.data())
def test_random_network_invariants(d, data):
    net = load_network(d)
    base = plan_network(net)
    same = plan_network(net, [{"kind": "scale_demand", "factor": 1}])
    assert same.status == base.status and same.cost == base.cost
    if not base.ok or not net.arcs:
        return
    arc = data.draw(st.sampled_from(list(net.arcs)))
    forbidden = plan_network(net, [{"kind": "forbid_arc", "arc": arc}])
    if arc not in base.used_arcs():
        assert forbidden.cost == pytest.approx(base.cost, rel=1e-9, abs=1e-9)
    assert forbidden.status == "infeasible" or forbidden.cost >= base.cost - 1e-6
    y = why(net, arc)
    assert y.used == (arc in base.used_arcs())
    if y.delta is not None:
        assert y.delta >= -1e-6


@PROPS
@given(networks(capacities=False), st.floats(0.1, 5.0))
def test_lp_cost_scales_with_demand(d, f):
    base = plan_network(d)
    scaled = plan_network(d, [{"kind": "scale_demand", "factor": f}])
    assert scaled.status == base.status
    if base.ok:
        assert scaled.cost == pytest.approx(f * base.cost, rel=1e-7, abs=1e-6)


def path_lp_cost(
    d: dict, allowed=lambda plant, via, customer: True, closed: frozenset = frozenset()
) -> float | None:
    """The LP optimum over explicit paths plant -> (warehouse ->) customer, so every restriction on
    (plant, via, customer) is a path left out: an independent check of the origin-tracked model.
    ``closed`` nodes carry nothing.  Fixed costs are the caller's business; None when infeasible."""
    products, nodes = d["products"], d["nodes"]
    arcs = {(a["from"], a["to"]): a for a in d["arcs"]}

    def per(v, k):
        return v.get(k) if isinstance(v, dict) else v

    def cost_of(key, k):
        return per(arcs[key]["cost"], k) if key in arcs else None

    cols, cost, uses = [], [], []  # uses: nodes and arcs a column loads
    for (s_, p_), a in arcs.items():
        if nodes[s_]["role"] == "supplier" and not {s_, p_} & closed:
            cols.append(("raw", s_, p_))
            cost.append(nodes[s_].get("cost", 0) + a["cost"])
            uses.append([s_, (s_, p_)])
    for p_, sp in nodes.items():
        if sp["role"] != "plant" or p_ in closed:
            continue
        for k in products:
            pc = per(sp["cost"], k)
            if pc is None:
                continue
            for c_, sc in nodes.items():
                if sc["role"] != "customer":
                    continue
                if cost_of((p_, c_), k) is not None and allowed(p_, "", c_):
                    cols.append(("path", p_, "", c_, k))
                    cost.append(pc + cost_of((p_, c_), k))
                    uses.append([p_, (p_, c_)])
                for w_, sw in nodes.items():
                    if sw["role"] != "warehouse" or w_ in closed or not allowed(p_, w_, c_):
                        continue
                    h = per(sw.get("cost", 0), k)
                    a1, a2 = cost_of((p_, w_), k), cost_of((w_, c_), k)
                    if None not in (h, a1, a2):
                        cols.append(("path", p_, w_, c_, k))
                        cost.append(pc + a1 + h + a2)
                        uses.append([p_, w_, (p_, w_), (w_, c_)])
    demand = [
        (c_, k, q)
        for c_, sc in nodes.items()
        if sc["role"] == "customer"
        for k, q in (sc["demand"] if isinstance(sc["demand"], dict) else {products[0]: sc["demand"]}).items()
        if q > 0
    ]
    if not cols:
        return None if demand else 0.0
    n = len(cols)
    A_ub, b_ub, A_eq, b_eq = [], [], [], []
    things = {u for us in uses for u in us}
    for t in things:
        cap = arcs[t].get("capacity") if isinstance(t, tuple) else nodes[t].get("capacity")
        if cap is not None:
            A_ub.append([1.0 if t in us else 0.0 for us in uses])
            b_ub.append(cap)
    for p_, sp in nodes.items():
        if sp["role"] == "plant" and any(a[1] == p_ and nodes[a[0]]["role"] == "supplier" for a in arcs):
            A_eq.append(
                [
                    1.0 if c[0] == "raw" and c[2] == p_ else -1.0 if c[0] == "path" and c[1] == p_ else 0.0
                    for c in cols
                ]
            )
            b_eq.append(0.0)
    for c_, k, q in demand:
        A_ub.append([-1.0 if c[0] == "path" and c[3] == c_ and c[4] == k else 0.0 for c in cols])
        b_ub.append(-q)
    res = linprog(
        cost,
        A_ub=np.array(A_ub) if A_ub else None,
        b_ub=b_ub or None,
        A_eq=np.array(A_eq) if A_eq else None,
        b_eq=b_eq or None,
        bounds=[(0, None)] * n,
        method="highs",
    )
    return float(res.fun) if res.status == 0 else None


@settings(PROPS, max_examples=60)
@given(networks(dense=True), st.data())
def test_random_restrictions_and_fixed_costs_match_path_lp(d, data):
    """Random restrict / source-only / exclusive / close edits and fixed costs, against the path LP
    minimised over every set of open fixed-cost facilities."""
    nodes = d["nodes"]
    facilities = [n for n, v in nodes.items() if v["role"] != "customer"]
    plants = [n for n, v in nodes.items() if v["role"] == "plant"]
    customers = [n for n, v in nodes.items() if v["role"] == "customer"]
    fixed = data.draw(st.lists(st.sampled_from(facilities), max_size=2, unique=True))
    for n in fixed:
        nodes[n]["fixed_cost"] = data.draw(st.integers(1, 200))
    edits, serves, buys, closed = [], {}, {}, set()
    for _ in range(data.draw(st.integers(1, 2))):
        kind = data.draw(
            st.sampled_from(["restrict_facility", "source_only_from", "exclusive_pair", "close_facility"])
        )
        if kind == "restrict_facility":
            cands = [n for n in facilities if nodes[n]["role"] != "supplier"]
            node = data.draw(st.sampled_from(cands))
            cs = data.draw(st.lists(st.sampled_from(customers), min_size=1, unique=True))
            edits.append({"kind": kind, "node": node, "customers": cs})
            serves[node] = serves.get(node, set(customers)) & set(cs)
        elif kind in ("source_only_from", "exclusive_pair"):
            p_, c_ = data.draw(st.sampled_from(plants)), data.draw(st.sampled_from(customers))
            edits.append({"kind": kind, "customer": c_, "plant": p_})
            buys[c_] = buys.get(c_, {p_}) & {p_}
            if kind == "exclusive_pair":
                serves[p_] = serves.get(p_, set(customers)) & {c_}
        else:
            node = data.draw(st.sampled_from(facilities))
            edits.append({"kind": kind, "node": node})
            closed.add(node)

    def allowed(p_, w_, c_):
        ok = c_ in serves.get(p_, {c_}) and p_ in buys.get(c_, {p_})
        return ok and (not w_ or c_ in serves.get(w_, {c_}))

    best = None
    payable = [n for n in fixed if n not in closed]
    for k in range(len(payable) + 1):
        for shut in itertools.combinations(payable, k):
            opened = [n for n in payable if n not in shut]
            c = path_lp_cost(d, allowed, frozenset(closed | set(shut)))
            if c is not None:
                c += sum(nodes[n]["fixed_cost"] for n in opened)
                best = c if best is None else min(best, c)
    plan = plan_network(d, edits)
    if best is None:
        assert plan.status == "infeasible"
    else:
        assert plan.status == "optimal" and plan.cost == pytest.approx(best, rel=1e-7, abs=1e-6)
        paid = plan.facilities.set_index("node").loc[fixed]
        assert plan.cost_parts["fixed"] == pytest.approx(float((paid["open"] * paid["fixed_cost"]).sum()))


# ---------------------------------------------------------------------------------------------
# the manufacturing scenario
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def manufacturing():
    from sclm.scenarios import make_scenario

    return make_scenario("manufacturing", seed=0, n_days=40)


def test_scenario_network_from_truth(manufacturing):
    sc = manufacturing
    net = scenario_network(sc, horizon=14)
    plants = sc.nodes.query("node_type == 'plant'")
    assert net.plants == list(plants["node"]) and len(net.suppliers) == 2
    assert net.products == tuple(plants["product"])
    for n, cap in zip(plants["node"], plants["capacity"], strict=True):
        assert net.nodes[n].capacity == pytest.approx(14 * cap)
        assert list(net.nodes[n].cost) == [sc.nodes.set_index("node").loc[n, "product"]]
    last = sc.truth.groupby(level="node").tail(14).groupby(level="node").sum()
    for w in sc.nodes.query("node_type == 'warehouse'")["node"]:
        assert net.nodes[f"customers_{w}"].demand == pytest.approx(
            {sc.nodes.set_index("node").loc[w, "product"]: last.loc[w, "logistics"]}
        )
    plan = plan_network(net)
    assert plan.status == "optimal" and plan.cost > 0
    assert plan.deliveries["received"].sum() == pytest.approx(net.total_demand(), rel=1e-9)
    assert all(n.city for n in net.nodes.values())
    # demand scaled up beyond the suppliers (0.7 x plant capacity): infeasible, suppliers named
    big = plan_network(net, [{"kind": "scale_demand", "factor": 3}])
    assert big.status == "infeasible" and "supplier_1" in big.diagnosis


def test_scenario_network_from_forecast_frame(manufacturing):
    sc = manufacturing
    t = sc.truth.groupby(level="node").tail(7).reset_index()
    frame = t.melt(
        id_vars=["node", "ts"],
        value_vars=["production", "inventory", "logistics"],
        var_name="variable",
        value_name="mean",
    )
    frame["q0.9"] = frame["mean"] * 1.1
    a = scenario_network(sc, frame)
    b = scenario_network(sc, None, horizon=7)
    for c in a.customers:
        assert a.nodes[c].demand == pytest.approx(b.nodes[c].demand)
    hi = scenario_network(sc, frame, quantile="q0.9")
    assert hi.total_demand() == pytest.approx(1.1 * a.total_demand())
    assert plan_network(hi).cost > plan_network(a).cost
    with pytest.raises(ValueError, match="no 'logistics' forecast"):
        scenario_network(sc, frame[frame["node"] != "plant_01"])
    with pytest.raises(ValueError, match="covers 7 day"):
        scenario_network(sc, frame, horizon=8)
    flex = scenario_network(sc, horizon=7, flexible=True)
    assert all(len(flex.nodes[p].cost) == len(flex.products) for p in flex.plants)
    assert plan_network(flex).cost <= plan_network(b).cost + 1e-6


def test_scenario_network_needs_manufacturing():
    from types import SimpleNamespace

    retail = SimpleNamespace(
        name="retail", nodes=pd.DataFrame({"node": ["dc_01", "store_01"], "node_type": ["dc", "store"]})
    )
    with pytest.raises(ValueError, match="node types \\['dc', 'store'\\].*plants and warehouses"):
        scenario_network(retail)


def test_frames_have_stable_columns():
    plan = plan_network(
        t_net(), [{"kind": "close_facility", "node": "s1"}, {"kind": "close_facility", "node": "s2"}]
    )
    assert list(plan.flows.columns) == list(FLOW_COLUMNS) and plan.flows.empty
    assert isinstance(plan.facilities, pd.DataFrame) and plan.facilities["throughput"].isna().all()


def test_why_tie_between_equally_cheap_plans():
    # two identical plants: the plan uses one, and doing without it costs nothing -> a tie
    twin = {
        "name": "twin",
        "products": ["a"],
        "nodes": {
            "p1": {"role": "plant", "cost": 1},
            "p2": {"role": "plant", "cost": 1},
            "c1": {"role": "customer", "demand": 10},
        },
        "arcs": [{"from": "p1", "to": "c1", "cost": 2}, {"from": "p2", "to": "c1", "cost": 2}],
    }
    used = plan_network(twin).used_arcs()
    assert len(used) == 1
    y = why(twin, used[0])
    assert y.used and y.flow == 10 and y.delta == 0 and y.tie and y.feasible_without
    assert y.result.cost == y.baseline.cost == pytest.approx(30)
    assert "a tie between equally cheap plans" in y.summary()
    d = y.to_dict()
    assert d["tie"] is True and "tie" in d["summary"]
    json.dumps(d)
    assert "tie" in repr(y)
    # a flow that saves money, an unused one, an indispensable one: no tie
    saving = why(t_net(), ("p1", "w1"))
    assert not saving.tie and "(+30)" in saving.summary()
    unused = why(t_net(), ("p2", "c1"))
    assert not unused.tie and "carries nothing" in unused.summary()
    needed = why("example", ("p1", "c1"))
    assert not needed.tie and "it is needed" in needed.summary()


def test_plot_network_plan(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sclm.decisions import plot_network_plan as exported

    net = load_network("coffee")
    plan = plan_network(net)
    fig = exported(plan, net)
    ax = fig.axes[0]
    assert len(ax.lines) == len(net.arcs)  # one line per arc, in file order
    widths = {a: line.get_linewidth() for a, line in zip(net.arcs, ax.lines, strict=True)}
    used = set(plan.used_arcs())
    # width grows with the flow: supplier1 -> roastery2 (80) < roastery2 -> cafe3 (130); unused faint
    assert (
        widths[("roastery2", "cafe3")] > widths[("supplier1", "roastery2")] > widths[("roastery1", "cafe3")]
    )
    assert all(widths[a] < 1 for a in net.arcs if a not in used)
    assert all(ax.lines[i].get_linestyle() == "--" for i, a in enumerate(net.arcs) if a not in used)
    texts = [t.get_text() for t in ax.texts]
    assert "light 30\ndark 100" in texts and "80" in texts  # per product; raw as a number
    assert ax.get_title() == "coffee: cost 2,470"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["suppliers", "plants", "customers"]
    fig.savefig(tmp_path / "coffee.png")
    plt.close(fig)

    # closed facility: grey, crossed, '(closed)'; infeasible: shortfalls per customer, into given axes
    bad = plan_network(net, [{"kind": "close_facility", "node": "supplier3"}])
    fig, axes = plt.subplots(1, 2)
    out = plot_network_plan(bad, net, ax=axes[1], title="no supplier3")
    assert out is fig and axes[1].get_title() == "no supplier3"
    assert len(axes[1].lines) == len(net.arcs) + 1  # + the cross on supplier3
    texts = [t.get_text() for t in axes[1].texts]
    assert "(closed)" in texts and any(t.startswith("short ") for t in texts)
    assert "short 6 light\n14 dark" in texts
    plt.close(fig)
    with pytest.raises(ValueError, match="differ in nodes"):
        plot_network_plan(plan, "europe")
    europe = plot_network_plan(plan_network("europe"))
    assert len(europe.axes[0].lines) == len(load_network("europe").arcs)
    plt.close(europe)


def test_decisions_exports():
    import sclm.decisions as D
    from sclm.decisions import production, scheduling

    for name, module in [
        ("scenario_production_plan", production),
        ("plot_production_plan", production),
        ("ProductionCosts", production),
        ("check_schedule", scheduling),
    ]:
        assert getattr(D, name) is getattr(module, name)
    assert D.NetworkFileError is NetworkFileError and D.EditError is EditError
    assert D.plot_network_plan is plot_network_plan
    assert {"plot_network_plan", "NetworkFileError", "check_schedule"} <= set(D.__all__)


def test_what_if_edits_is_the_one_translation_of_a_global_what_if():
    from sclm.config import PROJECT_ROOT
    from sclm.language import network_edits, parse_instruction

    path = PROJECT_ROOT / "tests" / "data" / "instructions" / "network.yaml"
    net = load_network(path)
    capped = [n for n, v in net.nodes.items() if v.role != "customer" and v.capacity is not None]
    got = E.what_if_edits({"demand": 1.2, "capacity": 0.5}, net)
    assert got == [E.ScaleDemand(factor=1.2), *[E.ScaleCapacity(node=n, factor=0.5) for n in capped]]
    with pytest.raises(ValueError, match="no meaning for a network plan"):
        E.what_if_edits({"price": 1.1}, net)
    assert E.what_if_edits({"price": 1.1}, net, strict=False) == []
    with pytest.raises(ValueError, match="needs the network"):
        E.what_if_edits({"capacity": 0.5}, None)
    # the parser's network_edits gives the same edits from its own view of the network
    task = parse_instruction("What if capacity drops by half and demand rises 20%?", path)
    assert task.what_if == {"capacity": 0.5, "demand": 1.2} or task.what_if == {
        "demand": 1.2,
        "capacity": 0.5,
    }
    assert sorted(map(repr, network_edits(task, path))) == sorted(map(repr, got))
