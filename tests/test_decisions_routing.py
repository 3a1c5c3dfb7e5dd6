"""sclm.decisions.routing: CVRP / VRPTW against brute force and hand-computed optima, the
independent checker, OR-Tools vs PyVRP, a CVRPLIB optimum, the route map and scenario routes."""

from __future__ import annotations

import itertools
import json
import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import sclm
from sclm.decisions import routing
from sclm.decisions._routing_core import evaluate, make_problem
from sclm.decisions._routing_scenario import split_whole
from sclm.decisions.routing import (
    RoutingResult,
    plot_routes,
    scenario_routes,
    solve_cvrp,
    solve_vrptw,
)

FAST = {"time_limit": 2.0, "max_iterations": 300}  # PyVRP: deterministic stop on iterations
OR_FAST = {"time_limit": 0.3}


def _euclid(xy: np.ndarray) -> np.ndarray:
    diff = xy[:, None, :] - xy[None, :, :]
    return np.sqrt((diff**2).sum(-1))


def brute_force(
    d: np.ndarray,
    demands: np.ndarray,
    capacity: int,
    n_vehicles: int,
    tw: np.ndarray | None = None,
    service: np.ndarray | None = None,
    objective: str = "distance",
) -> tuple[float, int]:
    """Optimum (distance, vehicles) by enumerating every customer order and every split of it into routes."""
    cust = list(range(1, len(d)))

    def route_ok(r: tuple[int, ...]) -> bool:
        if demands[list(r)].sum() > capacity:
            return False
        if tw is None:
            return True
        t, prev = tw[0, 0], 0
        for v in r:
            t = max(t + service[prev] + d[prev, v], tw[v, 0])
            if t > tw[v, 1] + 1e-9:
                return False
            prev = v
        return t + service[prev] + d[prev, 0] <= tw[0, 1] + 1e-9

    best, best_key = (math.inf, 0), (math.inf, math.inf)
    for perm in itertools.permutations(cust):
        for cuts in itertools.product([0, 1], repeat=len(cust) - 1):
            routes, cur = [], [perm[0]]
            for v, c in zip(perm[1:], cuts, strict=True):
                if c:
                    routes.append(tuple(cur))
                    cur = []
                cur.append(v)
            routes.append(tuple(cur))
            if len(routes) > n_vehicles or not all(route_ok(r) for r in routes):
                continue
            dist = sum(
                d[0, r[0]] + sum(d[a, b] for a, b in itertools.pairwise(r)) + d[r[-1], 0] for r in routes
            )
            key = (len(routes), dist) if objective == "vehicles_then_distance" else (dist, len(routes))
            if key < best_key:
                best, best_key = (dist, len(routes)), key
    return best


def _schedule(d, tw, service, route):
    """Service start times along ``route`` (waiting when early), computed here, not by the package."""
    t, prev, out = tw[0, 0], 0, []
    for v in route:
        t = max(t + service[prev] + d[prev, v], tw[v, 0])
        out.append(t)
        prev = v
    return out, t + service[prev] + d[prev, 0]


def _check_cover(res: RoutingResult, n: int) -> None:
    flat = sorted(v for r in res.routes for v in r)
    assert flat == list(range(1, n)), "every customer exactly once"


# --------------------------------------------------------------------------- hand-checkable optima


def test_line_instance_hand_optimum():
    # depot at 0, customers at 1, 2, 3, 4 on a line, one unit each
    xy = np.c_[np.arange(5.0), np.zeros(5)]
    dem = [0, 1, 1, 1, 1]
    one = solve_cvrp(xy, dem, 4, **FAST)
    assert one.distance == pytest.approx(8.0) and one.n_vehicles == 1 and one.feasible
    # capacity 2: best pairing {3, 4} and {1, 2}: 2*4 + 2*2 = 12
    two = solve_cvrp(xy, dem, 2, **FAST)
    assert two.distance == pytest.approx(12.0)
    assert sorted(sorted(r) for r in two.routes) == [[1, 2], [3, 4]]
    assert two.route_loads == (2, 2)
    assert sorted(two.route_distances) == pytest.approx([4.0, 8.0])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cvrp_matches_brute_force_and_respects_limits(seed):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 100, (6, 2))
    dem = np.r_[0, rng.integers(1, 10, 5)]
    cap, fleet = 15, 3
    if dem.sum() > cap * fleet:
        dem[1:] = np.minimum(dem[1:], 8)
    opt, _ = brute_force(np.floor(_euclid(xy) + 0.5), dem, cap, fleet)
    res = solve_cvrp(xy, dem, cap, n_vehicles=fleet, rounding="nint", **FAST)
    assert res.distance == opt
    assert res.feasible and res.n_vehicles <= fleet
    assert all(load <= cap for load in res.route_loads)
    assert [int(dem[list(r)].sum()) for r in res.routes] == list(res.route_loads)
    _check_cover(res, 6)


def test_ortools_and_pyvrp_agree_on_a_tiny_instance():
    rng = np.random.default_rng(7)
    xy = rng.uniform(0, 50, (7, 2))
    dem = np.r_[0, rng.integers(1, 6, 6)]
    opt, _ = brute_force(_euclid(xy), dem, 10, 6)
    a = solve_cvrp(xy, dem, 10, solver="pyvrp", **FAST)
    b = solve_cvrp(xy, dem, 10, solver="ortools", **OR_FAST)
    assert a.solver == "pyvrp" and b.solver == "ortools"
    assert a.distance == pytest.approx(opt, rel=1e-6)
    assert b.distance == pytest.approx(opt, rel=1e-6)
    assert a.feasible and b.feasible


def test_fleet_limit_is_binding():
    # four customers far apart on two sides: with two vehicles each takes one side
    xy = np.array([[0, 0], [10, 0], [11, 0], [-10, 0], [-11, 0]], dtype=float)
    dem = [0, 1, 1, 1, 1]
    free = solve_cvrp(xy, dem, 2, **FAST)
    assert free.n_vehicles == 2 and free.distance == pytest.approx(44.0)
    with pytest.raises(ValueError, match="exceeds n_vehicles"):
        solve_cvrp(xy, dem, 2, n_vehicles=1)
    big = solve_cvrp(xy, dem, 4, n_vehicles=1, **FAST)
    assert big.n_vehicles == 1 and big.distance == pytest.approx(44.0)


def test_distance_matrix_input_and_depot_not_zero():
    # asymmetric matrix; depot is node 2
    d = np.array([[0, 1, 5, 9], [9, 0, 9, 1], [1, 9, 0, 9], [9, 9, 1, 0]], dtype=float)
    res = solve_cvrp(d, [1, 1, 0, 1], 3, depot=2, **FAST)
    assert res.routes == ((0, 1, 3),) and res.distance == 4.0 and res.depot == 2


# --------------------------------------------------------------------------- VRPTW


def _tw_instance():
    # A must start by 15, B in [25, 35], C not before 45: one vehicle can only go A -> B -> C
    xy = np.array([[0, 0], [10, 0], [-10, 0], [10, 1]], dtype=float)
    tw = np.array([[0, 200], [0, 15], [25, 35], [45, 60]], dtype=float)
    return xy, [0, 1, 1, 1], tw, np.zeros(4)


def test_vrptw_hierarchical_objective_by_hand():
    xy, dem, tw, svc = _tw_instance()
    d = _euclid(xy)
    one_vehicle = 10 + 20 + d[2, 3] + d[3, 0]  # A, B, C in one route: 60.07
    two_vehicles = 10 + 1 + d[3, 0] + 20  # {A, C} and {B}: 41.05
    vf = solve_vrptw(xy, dem, 10, tw, svc, minimise="vehicles_then_distance", **FAST)
    assert vf.n_vehicles == 1 and vf.routes == ((1, 2, 3),)
    assert vf.distance == pytest.approx(one_vehicle)
    dist = solve_vrptw(xy, dem, 10, tw, svc, minimise="distance", **FAST)
    assert dist.n_vehicles == 2 and dist.distance == pytest.approx(two_vehicles)
    assert brute_force(d, np.asarray(dem), 10, 3, tw, svc, "distance")[0] == pytest.approx(two_vehicles)
    for res in (vf, dist):
        for r, starts in zip(res.routes, res.starts, strict=True):
            mine, back = _schedule(d, tw, svc, r)
            assert starts == pytest.approx(mine)
            assert all(tw[v, 0] <= t <= tw[v, 1] for v, t in zip(r, mine, strict=True))
            assert back <= tw[0, 1]


@pytest.mark.parametrize("solver", ["pyvrp", "ortools"])
def test_vrptw_random_windows_respected_and_optimal(solver):
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 40, (6, 2))
    d = _euclid(xy)
    ready = np.r_[0, rng.uniform(0, 60, 5)].round()
    tw = np.c_[ready, np.r_[300, ready[1:] + 25]]
    svc = np.r_[0, np.full(5, 5.0)]
    dem = np.r_[0, rng.integers(1, 5, 5)]
    kw = FAST if solver == "pyvrp" else OR_FAST
    res = solve_vrptw(xy, dem, 10, tw, svc, solver=solver, **kw)
    opt_d, opt_k = brute_force(d, dem, 10, 5, tw, svc, "vehicles_then_distance")
    assert res.feasible and res.n_vehicles == opt_k and res.distance == pytest.approx(opt_d, rel=1e-6)
    for r in res.routes:
        starts, back = _schedule(d, tw, svc, r)
        assert all(tw[v, 0] - 1e-9 <= t <= tw[v, 1] + 1e-9 for v, t in zip(r, starts, strict=True))
        assert back <= tw[0, 1] + 1e-9
    _check_cover(res, 6)


def test_checker_agrees_with_solomon_c101_solution():
    try:
        inst = sclm.load_dataset("vrptw_solomon")["C101"]
    except FileNotFoundError as exc:  # pragma: no cover - data folder absent
        pytest.skip(f"Solomon data not available: {exc}")
    p = make_problem(
        inst.coords,
        inst.demands,
        inst.capacity,
        n_vehicles=inst.n_vehicles,
        depot=0,
        rounding="exact",
        time_windows=np.c_[inst.ready, inst.due],
        service_times=inst.service,
    )
    ev = evaluate(p, inst.solution)
    assert not ev.violations and sum(ev.route_distances) == pytest.approx(828.937, abs=1e-3)
    broken = [list(r) for r in inst.solution]
    broken[0] = broken[0][::-1]  # reversing a C101 route breaks its windows
    assert any("due" in v for v in evaluate(p, broken).violations)


# --------------------------------------------------------------------------- a real instance


def test_augerat_a_n32_k5_reaches_optimum():
    try:
        inst = sclm.load_dataset("cvrp_augerat_abp")["A-n32-k5"]
    except FileNotFoundError as exc:  # pragma: no cover - data folder absent
        pytest.skip(f"CVRPLIB data not available: {exc}")
    res = solve_cvrp(
        inst.coords, inst.demands, inst.capacity, n_vehicles=inst.n_vehicles, rounding="nint", time_limit=2.0
    )
    assert res.feasible and not inst.violations(res.routes, max_vehicles=inst.n_vehicles)
    assert res.distance == inst.route_cost(res.routes)
    assert res.distance >= inst.optimum, "a feasible k-vehicle solution below the proven optimum is a bug"
    assert res.distance == inst.optimum == 784
    assert res.seconds < 4.0


# --------------------------------------------------------------------------- result, frame, figure


def test_frame_dict_and_figure():
    rng = np.random.default_rng(5)
    xy = rng.uniform(0, 10, (9, 2))
    dem = np.r_[0, rng.integers(1, 5, 8)]
    names = ["hub", *(f"c{i}" for i in range(1, 9))]
    res = solve_cvrp(xy, dem, 8, names=names, **FAST)
    f = res.to_frame()
    assert list(f.columns[:7]) == ["route", "stop", "node", "name", "demand", "load", "cum_distance"]
    last = f.groupby("route").tail(1)
    assert (last["node"] == 0).all()
    assert last["cum_distance"].to_numpy() == pytest.approx(res.route_distances)
    assert last["load"].tolist() == list(res.route_loads)
    assert f["demand"].sum() == dem.sum()
    assert res.named_routes[0][0].startswith("c")
    d = json.loads(json.dumps(res.to_dict()))
    assert d["distance"] == pytest.approx(res.distance) and d["n_vehicles"] == res.n_vehicles
    s = res.summary()
    assert s["load"].tolist() == list(res.route_loads) and (s["utilisation"] <= 1).all()
    fig = plot_routes(xy, res, title="test")
    ax = fig.axes[0]
    assert len(ax.lines) == res.n_vehicles
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert sum(lbl.startswith("route ") for lbl in labels) == res.n_vehicles
    assert f"load {res.route_loads[0]}/8" in labels[2]
    plt.close(fig)
    with pytest.raises(ValueError, match="coords has 3 rows"):
        plot_routes(xy[:3], res)


def test_vrptw_frame_has_start_times():
    xy, dem, tw, svc = _tw_instance()
    res = solve_vrptw(xy, dem, 10, tw, svc, **FAST)
    f = res.to_frame()
    assert "start" in f.columns
    assert f["start"].iloc[:3].tolist() == pytest.approx(list(res.starts[0]))
    assert f["start"].iloc[-1] == pytest.approx(res.returns[0])


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"demands": [0, 5, 20]}, r"demands\[2\] = 20 exceeds the vehicle capacity 10"),
        ({"demands": [0, -1, 2]}, r"demands\[1\] = -1 is negative"),
        ({"demands": [0, 1]}, r"demands has shape \(2,\); expected \(3,\)"),
        ({"demands": [0, 1.5, 2]}, "not a whole number"),
        ({"demands": [3, 1, 2]}, "at the depot"),
        ({"capacity": 0}, "capacity=0"),
        ({"depot": 3}, "depot=3"),
        ({"solver": "gurobi"}, "solver='gurobi'"),
        ({"minimise": "cost"}, "minimise='cost'"),
        ({"names": ["a", "b"]}, "names has 2 entries"),
        ({"n_vehicles": 0}, "n_vehicles=0"),
        ({"time_limit": -1}, "time_limit=-1"),
    ],
)
def test_clear_errors(kwargs, match):
    args = {"coords_or_distance": [[0, 0], [1, 0], [0, 1]], "demands": [0, 1, 2], "capacity": 10}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        solve_cvrp(**args)


def test_clear_errors_shapes_and_windows():
    with pytest.raises(ValueError, match=r"shape \(2, 2\)"):
        solve_cvrp([[0, 0], [1, 1]], [0, 1], 5)
    assert solve_cvrp([[0, 0], [3, 4]], [0, 1], 5, distance_matrix=False, **FAST).distance == 10.0
    with pytest.raises(ValueError, match=r"expected coordinates \(n, 2\)"):
        solve_cvrp(np.zeros((3, 4)), [0, 1, 1], 5)
    xy = [[0, 0], [1, 0], [0, 1]]
    with pytest.raises(ValueError, match=r"time_windows has shape \(2, 2\); expected \(3, 2\)"):
        solve_vrptw(xy, [0, 1, 1], 5, [[0, 10], [0, 10]])
    with pytest.raises(ValueError, match=r"time_windows\[1\] = \(5, 2\) is empty"):
        solve_vrptw(xy, [0, 1, 1], 5, [[0, 10], [5, 2], [0, 10]])
    with pytest.raises(ValueError, match="node 2 cannot be served even alone"):
        solve_vrptw(xy, [0, 1, 1], 5, [[0, 10], [0, 10], [0, 0.5]])
    with pytest.raises(ValueError, match="service_times has shape"):
        solve_vrptw(xy, [0, 1, 1], 5, [[0, 10]] * 3, [0, 1])


def test_split_whole_sums_exactly():
    out = split_whole(101, np.array([0.5, 0.3, 0.2]))
    assert out.sum() == 101 and out.tolist() == [51, 30, 20]


# --------------------------------------------------------------------------- scenario routes


@pytest.fixture(scope="module")
def logistics():
    return sclm.make_scenario("logistics", seed=0, n_days=120)


def test_scenario_routes_deliver_the_days_volume(logistics):
    sc = logistics
    day = sc.truth.index.get_level_values("ts")[60]
    plan = scenario_routes(sc, day=day)
    assert plan.feasible and plan.source == "truth" and plan.day == day
    today = sc.truth.xs(day, level="ts")
    nodes = sc.nodes.set_index("node")
    summ = plan.summary().set_index("site")
    for site, res in plan.sites.items():
        cap = summ.loc[site, "vehicle_capacity"]
        assert cap == math.ceil(nodes.loc[site, "capacity"] / 4)
        assert all(load <= cap for load in res.route_loads)
        children = nodes.index[nodes["parent"] == site]
        want = today.loc[site, "delivery"] - today.loc[children, "shipments"].sum()
        assert sum(res.route_loads) == want == summ.loc[site, "quantity"]
        assert sorted(v for r in res.routes for v in r) == list(range(1, len(plan.coords[site])))
    # every customer site routes its whole delivery; depots route what is not line-haul
    assert (
        plan.summary()["quantity"].sum()
        == today["delivery"].sum() - today["shipments"][nodes.index[nodes["parent"] != ""]].sum()
    )
    assert plan.distance_km > 0 and plan.n_vehicles >= len(plan.sites)
    rs = plan.route_summary()
    assert rs["distance_km"].sum() == pytest.approx(plan.distance_km)
    frame = plan.to_frame()
    assert frame.groupby("site")["demand"].sum().to_dict() == summ["quantity"][summ["quantity"] > 0].to_dict()
    json.dumps(plan.to_dict())
    fig = plan.plot("customer_01")
    assert len(fig.axes[0].lines) == plan.sites["customer_01"].n_vehicles
    plt.close(fig)


def test_scenario_routes_from_a_forecast(logistics):
    sc = logistics
    days = sc.truth.index.get_level_values("ts").unique()
    day = days[-1]
    rows = []
    for (node, ts), rec in sc.truth.loc[pd.IndexSlice[:, [day]], :].iterrows():
        for var in ("shipments", "inventory", "delivery"):
            v = float(rec[var])
            rows.append({"node": node, "variable": var, "ts": ts, "mean": v, "q0.9": 1.2 * v})
    fc = pd.DataFrame(rows)
    sites = ["customer_01", "customer_02", "depot_01"]
    from_truth = scenario_routes(sc, day=day, sites=sites)
    mean = scenario_routes(sc, fc, sites=sites)
    assert mean.source == "forecast:mean" and mean.day == day
    assert mean.summary()["quantity"].tolist() == from_truth.summary()["quantity"].tolist()
    assert mean.distance_km == pytest.approx(from_truth.distance_km)  # same drops, seeded stop rule
    high = scenario_routes(sc, fc, quantity="q0.9", sites=["customer_01"])
    q = int(np.rint(1.2 * sc.truth.loc[("customer_01", day), "delivery"]))
    assert high.summary()["quantity"].iloc[0] == q
    assert sum(high.sites["customer_01"].route_loads) == q
    with pytest.raises(ValueError, match="not in the forecast"):
        scenario_routes(sc, fc, day=days[0])
    with pytest.raises(ValueError, match=r"forecast lacks column\(s\) \['q0.5'\]"):
        scenario_routes(sc, fc, quantity="q0.5")
    with pytest.raises(ValueError, match="unknown site"):
        scenario_routes(sc, sites=["nowhere"])


def test_package_exports_routing_names():
    import sclm.decisions as dec

    assert dec.solve_cvrp is routing.solve_cvrp and dec.scenario_routes is routing.scenario_routes
    assert dec.RoutingResult is RoutingResult and dec.plot_routes is plot_routes


def test_pyvrp_is_deterministic_with_an_iteration_stop():
    rng = np.random.default_rng(11)
    xy = rng.uniform(0, 100, (30, 2))
    dem = np.r_[0, rng.integers(1, 20, 29)]
    a = solve_cvrp(xy, dem, 60, time_limit=20.0, max_iterations=400, minimise="vehicles_then_distance")
    b = solve_cvrp(xy, dem, 60, time_limit=20.0, max_iterations=400, minimise="vehicles_then_distance")
    assert a.routes == b.routes and a.distance == b.distance
    assert a.feasible and a.n_vehicles == math.ceil(dem.sum() / 60)  # 263 units: 5 trucks of 60


def test_cpu_clock():
    xy = np.c_[np.arange(5.0), np.zeros(5)]
    res = solve_cvrp(xy, [0, 1, 1, 1, 1], 2, time_limit=0.2, clock="cpu")
    assert res.distance == pytest.approx(12.0) and res.clock == "cpu"
    with pytest.raises(ValueError, match="wall-clock time only"):
        solve_cvrp(xy, [0, 1, 1, 1, 1], 2, time_limit=0.2, clock="cpu", solver="ortools")
    with pytest.raises(ValueError, match="clock='sun'"):
        solve_cvrp(xy, [0, 1, 1, 1, 1], 2, clock="sun")


@pytest.mark.slow
def test_bench_part_runs_on_two_instances(tmp_path, monkeypatch):
    import argparse
    import importlib
    import sys

    from sclm import config
    from sclm.benchmarking import Bench

    if not config.has_data():  # pragma: no cover - data folder absent
        pytest.skip(f"no data folder ({config.data_dir(must_exist=False)})")
    monkeypatch.syspath_prepend(str(config.PROJECT_ROOT / "bench"))
    part = importlib.import_module("_decisions.routing")
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    part.add_arguments(parser)
    args = parser.parse_args(
        [
            "--routing-cvrp-instances=P-n16-k8",
            "--routing-vrptw-instances=C101",
            "--routing-cvrp-time-limit=0.5",
            "--routing-vrptw-time-limit=1",
            "--routing-workers=1",
        ]
    )
    bench = Bench("routing_test", out_dir=tmp_path)
    part.run(bench, args)
    sys.modules.pop("_decisions.routing", None)
    table = pd.read_csv(tmp_path / "decisions_routing.csv")
    assert len(table) == 4 and set(table["solver"]) == {"pyvrp", "ortools"}
    assert table["feasible"].all() and not table["negative_gap"].any()
    assert (table.loc[table["kind"] == "cvrp", "gap_pct"] >= 0).all()
    figs = bench.figures
    assert figs["routing: CVRP A/B/P pyvrp negative gaps (count)"]["holds"] is True
    assert figs["routing: VRPTW Solomon pyvrp mean distance gap to the best-known (%)"]["goal"] == "<= 1.5"
    assert "routing: VRPTW Solomon ortools mean vehicles" in figs
