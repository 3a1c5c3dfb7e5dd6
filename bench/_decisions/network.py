"""Decisions bench, network part: supply-network plans (LP / MILP) against known optima, and their speed.

Protocol
- Exactness: OptiGuide's coffee network (``params/networks/coffee.yaml``) must cost its published
  optimum 2470; the ``europe`` network (fixed-cost plant, MILP) must equal the best of its two
  fixed-cost choices solved as LPs by scipy's HiGHS (an independent formulation) for demand
  x 1.0, 1.1, 1.2 (absolute gap, goal <= 1e-6).
- Speed (issue 11: a what-if on a 20-node network well under 0.5 s): median and max wall seconds
  of ``plan_network``, ``what_if`` (demand x 1.2), ``why`` (the last used arc) and an infeasible
  ``what_if`` (demand x 10, with its diagnosis), ``--network-repeats`` (20) calls each, on the
  coffee and europe files and on the manufacturing scenario's network with ``n_nodes=10``
  (22 nodes, 136 arcs, 6 products), as an LP and with whole units (MILP); the plan and an
  infeasible what-if (demand x 10) on the scenario's whole-unit network with ``n_nodes=20``
  (42 nodes, 520 arcs), median of the repeats.
- Whole-unit what-ifs as ``sclm.ask`` asks them (each answer <= 2 s): ``--network-batch`` (100)
  random what-ifs of 1-3 edits (demand and capacity scaling, capacities set, closures, forbidden
  and forced arcs, restrictions, sourcing; :func:`random_what_ifs`, seeded) on each of coffee,
  europe and example with ``integer: true``, many infeasible (so diagnosed): max and median
  seconds of ``what_if`` per network and over all, and how many were infeasible; and the issue's
  case, coffee with supplier3 closed (it took 60.6 s when the even split was a MILP).
- ``--quick``: 5 repeats, a batch of 34 per network.

Timings are wall-clock seconds on whatever else the machine runs; GLOP and SCIP (one thread,
fixed seeds) are deterministic, so every cost is the same on every run (unless a time limit is hit).
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import statistics
import time
from typing import Any

import numpy as np

from sclm.benchmarking import Bench
from sclm.decisions.network import load_network, plan_network, scenario_network, what_if, why


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The network part's options (prefixed ``--network-``)."""
    g = parser.add_argument_group("network")
    g.add_argument("--network-repeats", type=int, default=None, help="calls per timing (default 20; quick 5)")
    g.add_argument(
        "--network-batch",
        type=int,
        default=None,
        help="random whole-unit what-ifs per network (default 100; quick 34)",
    )


def random_what_ifs(net: Any, n: int, seed: int = 0) -> list[list[dict[str, Any]]]:
    """``n`` random edit lists (1-3 edits each) that fit ``net``: many are infeasible.

    Kinds drawn uniformly from scale_demand (x 0.7-3, all customers or one), scale_capacity
    (x 0-0.8 of a node with a capacity), set_capacity (0-299), close_facility, forbid_arc,
    force_arc (5-120 units), restrict_facility and source_only_from.
    """
    rng = np.random.default_rng(seed)
    fac = [k for k, v in net.nodes.items() if v.role != "customer"]
    capped = [k for k in fac if net.nodes[k].capacity is not None] or fac
    custs, plants, arcs = net.customers, net.plants, list(net.arcs)
    pick = lambda xs: str(xs[int(rng.integers(len(xs)))])  # noqa: E731
    out = []
    for _ in range(n):
        edits: list[dict[str, Any]] = []
        for _ in range(int(rng.integers(1, 4))):
            kind = pick(
                [
                    "scale_demand",
                    "scale_capacity",
                    "set_capacity",
                    "close_facility",
                    "forbid_arc",
                    "force_arc",
                    "restrict_facility",
                    "source_only_from",
                ]
            )
            arc = list(arcs[int(rng.integers(len(arcs)))])
            if kind == "scale_demand":
                e: dict[str, Any] = {
                    "kind": kind,
                    "factor": float(rng.choice([0.7, 1.1, 1.2, 1.37, 1.5, 2, 3])),
                }
                if rng.random() < 0.4:
                    e["customer"] = pick(custs)
            elif kind == "scale_capacity":
                e = {
                    "kind": kind,
                    "node": pick(capped),
                    "factor": float(rng.choice([0, 0.25, 0.5, 0.63, 0.8])),
                }
            elif kind == "set_capacity":
                e = {"kind": kind, "node": pick(fac), "value": float(rng.integers(0, 300))}
            elif kind == "close_facility":
                e = {"kind": kind, "node": pick(fac)}
            elif kind == "forbid_arc":
                e = {"kind": kind, "arc": arc}
            elif kind == "force_arc":
                e = {"kind": kind, "arc": arc, "min_flow": float(rng.choice([5, 20, 33.5, 50, 120]))}
            elif kind == "restrict_facility":
                k = int(rng.integers(1, len(custs) + 1))
                chosen = rng.choice(len(custs), k, replace=False)
                e = {
                    "kind": kind,
                    "node": pick(plants + net.warehouses),
                    "customers": [custs[i] for i in chosen],
                }
            else:
                e = {"kind": kind, "customer": pick(custs), "plant": pick(plants)}
            edits.append(e)
        out.append(edits)
    return out


def _batch(bench: Bench, n: int) -> None:
    """Max / median seconds of random whole-unit what-ifs on coffee, europe and example."""
    every = []
    for i, name in enumerate(("coffee", "europe", "example")):
        net = dataclasses.replace(load_network(name), integer=True)
        what_if(net, [{"kind": "scale_demand", "factor": 10}])  # warm imports and caches
        ts, infeasible = [], 0
        for edits in random_what_ifs(net, n, seed=i):
            t0 = time.perf_counter()
            w = what_if(net, edits)
            ts.append(time.perf_counter() - t0)
            infeasible += not w.feasible
        every += ts
        note = f"{n} random what-ifs, integer: true, {infeasible} infeasible"
        bench.add(f"network {name} whole-unit what-if batch max s", max(ts), goal="<= 2", note=note)
        bench.add(f"network {name} whole-unit what-if batch median s", statistics.median(ts))
        bench.add(f"network {name} whole-unit what-if batch infeasible", infeasible)
    bench.add(
        "network whole-unit what-if batch max s (coffee, europe, example)",
        max(every),
        goal="<= 2",
        note=f"{len(every)} what-ifs; each as sclm.ask answers it",
    )
    t0 = time.perf_counter()
    plan = plan_network("coffee", [{"kind": "close_facility", "node": "supplier3"}])
    bench.add(
        "network coffee supplier3 closed (infeasible MILP, diagnosed) s",
        time.perf_counter() - t0,
        goal="<= 2",
        note=f"was 60.6 s (even split as a MILP); {plan.diagnosis_parts[0]}",
    )


def _seconds(fn, repeats: int) -> tuple[float, float]:
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts), max(ts)


def _europe_reference(factor: float) -> float:
    """Best of Brno shut / open (+ its fixed cost), each an LP solved by scipy's HiGHS."""
    import numpy as np
    from scipy.optimize import linprog

    net = load_network("europe")
    d = plan_network(net, [{"kind": "scale_demand", "factor": factor}]).network.to_dict()
    out = []
    for shut in (True, False):
        dd = copy.deepcopy(d)
        fixed = dd["nodes"]["p_brno"].pop("fixed_cost")
        if shut:
            dd["nodes"]["p_brno"]["capacity"] = 0
        nodes, products = dd["nodes"], dd["products"]
        cols, cost, ub = [], [], []
        for a in dd["arcs"]:
            src, dst = nodes[a["from"]], nodes[a["to"]]
            for k in ["raw"] if src["role"] == "supplier" else products:
                c = a["cost"].get(k) if isinstance(a["cost"], dict) else a["cost"]
                pc = src["cost"].get(k) if src["role"] == "plant" else 0.0
                h = dst["cost"].get(k) if dst["role"] == "warehouse" else 0.0
                ok = None not in (c, pc, h)
                unit = (
                    (c or 0) + (pc or 0) + (h or 0) + (src.get("cost", 0) if src["role"] == "supplier" else 0)
                )
                cols.append((a["from"], a["to"], k))
                cost.append(unit)
                ub.append(None if ok else 0.0)
        A_ub, b_ub, A_eq, b_eq = [], [], [], []
        width = len(cols)

        def vec(idx: list[int], sign: float = 1.0, width: int = width) -> list[float]:
            return [sign if i in idx else 0.0 for i in range(width)]

        for n, s in nodes.items():
            out_ = [i for i, c in enumerate(cols) if c[0] == n]
            in_ = [i for i, c in enumerate(cols) if c[1] == n]
            if s.get("capacity") is not None and s["role"] in ("supplier", "plant"):
                A_ub.append(vec(out_))
                b_ub.append(s["capacity"])
            if s.get("capacity") is not None and s["role"] == "warehouse":
                A_ub.append(vec(in_))
                b_ub.append(s["capacity"])
            if s["role"] == "plant":
                A_eq.append([a - b for a, b in zip(vec(in_), vec(out_), strict=True)])
                b_eq.append(0.0)
            for k in products:
                ink = [i for i in in_ if cols[i][2] == k]
                if s["role"] == "warehouse":
                    outk = [i for i in out_ if cols[i][2] == k]
                    A_eq.append([a - b for a, b in zip(vec(ink), vec(outk), strict=True)])
                    b_eq.append(0.0)
                if s["role"] == "customer" and s["demand"].get(k, 0) > 0:
                    A_ub.append(vec(ink, -1.0))
                    b_ub.append(-s["demand"][k])
        for a in dd["arcs"]:
            if a.get("capacity") is not None:
                A_ub.append([1.0 if c[:2] == (a["from"], a["to"]) else 0.0 for c in cols])
                b_ub.append(a["capacity"])
        res = linprog(
            cost,
            A_ub=np.array(A_ub),
            b_ub=b_ub,
            A_eq=np.array(A_eq),
            b_eq=b_eq,
            bounds=[(0, u) for u in ub],
            method="highs",
        )
        if res.status == 0:
            out.append(res.fun + (0.0 if shut else fixed))
    return min(out)


def run(bench: Bench, args: argparse.Namespace) -> None:
    """Record the network figures on ``bench``."""
    repeats = args.network_repeats or (5 if args.quick else 20)
    coffee = plan_network("coffee")
    bench.add("network coffee optimum", coffee.cost, goal="== 2470", note="OptiGuide's published optimum")
    gaps = [
        abs(plan_network("europe", [{"kind": "scale_demand", "factor": f}]).cost - _europe_reference(f))
        for f in (1.0, 1.1, 1.2)
    ]
    bench.add("network europe max |gap| to HiGHS enumeration", max(gaps), goal="<= 1e-6")

    from sclm.scenarios import make_scenario

    sc = make_scenario("manufacturing", seed=0, n_days=60, n_nodes=10)
    cases = {
        "coffee": load_network("coffee"),
        "europe": load_network("europe"),
        "manufacturing22 LP": scenario_network(sc, horizon=7),
        "manufacturing22 MILP": scenario_network(sc, horizon=7, integer=True),
    }
    big = scenario_network(
        make_scenario("manufacturing", seed=0, n_days=60, n_nodes=20), horizon=7, integer=True
    )
    nodes = f"{len(big.nodes)} nodes, {len(big.arcs)} arcs"
    plan_network(big)
    med, _ = _seconds(lambda: plan_network(big), max(3, repeats // 4))
    bench.add("network manufacturing42 MILP plan median s", med, goal="<= 0.5", note=nodes)
    big10 = [{"kind": "scale_demand", "factor": 10}]
    med, _ = _seconds(lambda: plan_network(big, big10), max(3, repeats // 4))
    bench.add(
        "network manufacturing42 MILP infeasible plan median s", med, goal="<= 2", note=nodes + ", diagnosed"
    )
    _batch(bench, args.network_batch or (34 if args.quick else 100))
    for name, net in cases.items():
        plan_network(net)  # warm imports
        arc = plan_network(net).used_arcs()[-1]
        calls = {
            "plan": lambda net=net: plan_network(net),
            "what_if": lambda net=net: what_if(net, [{"kind": "scale_demand", "factor": 1.2}]),
            "why": lambda net=net, arc=arc: why(net, arc),
            "infeasible what_if": lambda net=net: what_if(net, [{"kind": "scale_demand", "factor": 10}]),
        }
        nodes = len(net.nodes)
        for call, fn in calls.items():
            med, worst = _seconds(fn, repeats)
            goal = "<= 0.5" if call != "plan" else "<= 0.25"
            bench.add(
                f"network {name} {call} median s", med, goal=goal, note=f"{nodes} nodes, {len(net.arcs)} arcs"
            )
            bench.add(f"network {name} {call} max s", worst)
