"""Edits applied to a :class:`~._network_model.Network`, the LP/MILP built with OR-Tools, and the
infeasibility diagnosis.  The public face is :mod:`sclm.decisions.network`.

Variables (all >= 0; whole numbers when ``network.integer``)
    ``r[s, p]``        raw material on supplier→plant arc
    ``x[p, c, k]``     product ``k`` on plant→customer arc
    ``y[p, w, k]``     product ``k`` on plant→warehouse arc
    ``z[w, c, k, p]``  product ``k`` made by plant ``p`` on warehouse→customer arc (origin kept, so
                       restrictions through warehouses are exact)
    ``open[n]``        binary, for a facility with a fixed cost
Constraints
    supplier   ``Σ_p r[s, p] <= cap_s`` (``· open_s``)
    plant      ``Σ_s r[s, p] = Σ_k out[p, k]`` (only for plants with at least one supplier arc in
               the network; a plant without one is not supply-limited); ``Σ_k out <= cap_p``
    warehouse  ``y[p, w, k] = Σ_c z[w, c, k, p]`` for each origin and product;
               ``Σ y[·, w, ·] <= cap_w``
    customer   ``Σ_p x[p, c, k] + Σ_{w, p} z[w, c, k, p] >= demand[c, k]``
    arc        ``Σ_k flow <= cap_arc``; edits add ``= 0`` (by not creating the variable) and ``>=``.
With whole units, ``demand`` and forced minima are raised to the next whole number and capacities
lowered to the previous one, with a relative tolerance of 1e-7 (so 40.000000001 stays 40).
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import BaseModel

from sclm.decisions import edits as E
from sclm.decisions._network_model import RAW, Arc, Network, Node

TOL = 1e-7
"""Relative tolerance for whole-unit rounding of demands, minima and capacities."""
FLOW_EPS = 1e-9
"""Solver values below this are reported as zero."""
TIME_LIMIT_S = 60.0
"""SCIP time limit per solve (status ``"feasible"`` if hit before proving optimality)."""


class WrongRoleError(ValueError):
    """An edit names a node whose role does not fit it (e.g. the capacity of a customer)."""


# ---------------------------------------------------------------------------------------------
# edits
# ---------------------------------------------------------------------------------------------


@dataclass
class Rules:
    """The constraint-type edits, resolved to names.

    ``forbidden``: (arc, product or None = every commodity); ``forced``: (arc, product or None,
    min_flow, description); ``serves_only``: facility → customers it may serve (intersection of
    every restriction on it); ``buys_only``: customer → plants it may buy from; ``closed``: nodes.
    """

    forbidden: set[tuple[tuple[str, str], str | None]] = field(default_factory=set)
    forced: list[tuple[tuple[str, str], str | None, float, str]] = field(default_factory=list)
    serves_only: dict[str, frozenset[str]] = field(default_factory=dict)
    buys_only: dict[str, frozenset[str]] = field(default_factory=dict)
    closed: set[str] = field(default_factory=set)

    def arc_open(self, key: tuple[str, str], product: str) -> bool:
        return (
            (key, None) not in self.forbidden
            and (key, product) not in self.forbidden
            and key[0] not in self.closed
            and key[1] not in self.closed
        )

    def reaches(self, facility: str, customer: str) -> bool:
        allowed = self.serves_only.get(facility)
        return allowed is None or customer in allowed

    def buys(self, customer: str, plant: str) -> bool:
        allowed = self.buys_only.get(customer)
        return allowed is None or plant in allowed


def as_edit_list(edits: Any) -> list[E.Edit]:
    """Validate edits given as models, dicts, one edit, or ``None``."""
    if edits is None:
        return []
    if isinstance(edits, Mapping | BaseModel):
        edits = [edits]
    return E.parse_edits(list(edits))


def _role(net: Network, name: str, roles: Iterable[str], kind: str) -> Node:
    node = net.node(name)
    roles = tuple(roles)
    if node.role not in roles:
        names = ", ".join(n for n in net.nodes if net.nodes[n].role in roles)
        raise WrongRoleError(
            f"{kind}: node {name} is a {node.role}; {kind} applies to a {' or '.join(roles)} "
            f"({names or 'none in this network'})"
        )
    return node


_FACILITY = ("supplier", "plant", "warehouse")


def _arc_product(net: Network, edit: Any, kind: str) -> tuple[Arc, str | None]:
    """The edit's arc and product (None = every commodity), checked against the network."""
    arc = net.arc(*edit.arc)
    product = edit.product
    if product is None:
        return arc, None
    if arc.raw:
        if product != RAW:
            net.check_product(product, allow_raw=True)  # unknown names first
            raise WrongRoleError(
                f"{kind}: arc {arc} carries raw material, not {product!r}; give product 'raw' or none"
            )
        return arc, None
    net.check_product(product)
    return arc, product


def apply_edits(network: Network, edits: Any) -> tuple[Network, Rules, list[E.Edit]]:
    """Apply the data edits (scale/set demand, capacity, costs) and collect the constraint edits.

    Returns
    -------
    (edited network, rules, validated edits)

    Raises
    ------
    pydantic.ValidationError
        A malformed edit.
    sclm.schema.UnknownNameError
        A node, arc or product the network does not have (the message lists what exists).
    WrongRoleError
        A node whose role the edit does not fit (capacity of a customer, ...), or a product
        cost that does not exist (scaling the cost of a product a plant does not make).
    """
    parsed = as_edit_list(edits)
    net = network
    rules = Rules()
    for e in parsed:
        kind = e.kind
        if isinstance(e, E.ScaleDemand):
            customers = (
                net.customers if e.customer is None else [_role(net, e.customer, ["customer"], kind).name]
            )
            if e.product is not None:
                net.check_product(e.product)
            for c in customers:
                node = net.nodes[c]
                dem = {k: (q * e.factor if e.product in (None, k) else q) for k, q in node.demand.items()}
                net = net.replace_node(replace(node, demand=dem))
        elif isinstance(e, E.ScaleCapacity | E.SetCapacity):
            node = _role(net, e.node, _FACILITY, kind)
            if isinstance(e, E.SetCapacity):
                cap: float | None = e.value
            elif node.capacity is None:  # unbounded stays unbounded, except x 0
                cap = 0.0 if e.factor == 0 else None
            else:
                cap = node.capacity * e.factor
            net = net.replace_node(replace(node, capacity=cap))
        elif isinstance(e, E.SetArcCost | E.ScaleArcCost):
            arc, product = _arc_product(net, e, kind)
            cost = dict(arc.cost)
            targets = list(cost) if product is None else [product]
            for k in targets:
                if isinstance(e, E.SetArcCost):
                    cost[k] = e.value
                elif k not in cost:
                    raise WrongRoleError(
                        f"{kind}: arc {arc} does not carry {k!r} (it carries {', '.join(cost)}), so "
                        "there is no cost to scale"
                    )
                else:
                    cost[k] = cost[k] * e.factor
            net = net.replace_arc(replace(arc, cost=cost))
        elif isinstance(e, E.SetNodeCost | E.ScaleNodeCost):
            node = _role(net, e.node, _FACILITY, kind)
            product = e.product
            if node.role == "supplier":
                if product not in (None, RAW):
                    net.check_product(product, allow_raw=True)
                    raise WrongRoleError(
                        f"{kind}: {node.name} is a supplier; its cost is per unit of raw material, "
                        f"not of {product!r} (give product 'raw' or none)"
                    )
                product = RAW
            elif product is not None:
                net.check_product(product)
            cost = dict(node.cost)
            targets = list(cost) if product is None else [product]
            for k in targets:
                if isinstance(e, E.SetNodeCost):
                    cost[k] = e.value
                elif k not in cost:
                    verb = "make" if node.role == "plant" else "handle"
                    raise WrongRoleError(
                        f"{kind}: {node.role} {node.name} does not {verb} {k!r} (it {verb}s "
                        f"{', '.join(cost) or 'nothing'}), so there is no cost to scale"
                    )
                else:
                    cost[k] = cost[k] * e.factor
            net = net.replace_node(replace(node, cost=cost))
        elif isinstance(e, E.ForbidArc):
            arc, product = _arc_product(net, e, kind)
            rules.forbidden.add((arc.key, product))
        elif isinstance(e, E.ForceArc):
            arc, product = _arc_product(net, e, kind)
            rules.forced.append((arc.key, product, e.min_flow, e.describe()))
        elif isinstance(e, E.RestrictFacility):
            node = _role(net, e.node, ["plant", "warehouse"], kind)
            custs = frozenset(_role(net, c, ["customer"], kind).name for c in e.customers)
            prev = rules.serves_only.get(node.name)
            rules.serves_only[node.name] = custs if prev is None else prev & custs
        elif isinstance(e, E.SourceOnlyFrom | E.ExclusivePair):
            c = _role(net, e.customer, ["customer"], kind).name
            p = _role(net, e.plant, ["plant"], kind).name
            prev = rules.buys_only.get(c)
            rules.buys_only[c] = frozenset({p}) if prev is None else prev & {p}
            if isinstance(e, E.ExclusivePair):
                prev = rules.serves_only.get(p)
                rules.serves_only[p] = frozenset({c}) if prev is None else prev & {c}
        elif isinstance(e, E.CloseFacility):
            rules.closed.add(_role(net, e.node, _FACILITY, kind).name)
        else:  # pragma: no cover - parse_edits admits only the kinds above
            raise ValueError(f"unsupported edit kind {kind!r}")
    return net, rules, parsed


# ---------------------------------------------------------------------------------------------
# the model
# ---------------------------------------------------------------------------------------------


def _up(v: float) -> float:
    return float(math.ceil(v - TOL * max(1.0, abs(v))))


def _down(v: float) -> float:
    return float(math.floor(v + TOL * max(1.0, abs(v))))


@dataclass
class Solution:
    """Solver output in plain Python (values cleaned of solver noise)."""

    status: str
    solver: str
    seconds: float
    objective: float | None
    r: dict[tuple[str, str], float]
    x: dict[tuple[str, str, str], float]
    y: dict[tuple[str, str, str], float]
    z: dict[tuple[str, str, str, str], float]
    opened: dict[str, bool]
    short: dict[tuple[str, str], float] = field(default_factory=dict)
    slack: list[float] = field(default_factory=list)


class FlowModel:
    """The min-cost flow of an (edited) network under ``rules``.

    ``stage`` builds a diagnosis model instead: every demand row gets a shortage variable and
    every forced minimum a slack; costs and fixed costs are ignored (every open facility may be
    used).  Stages, solved in turn by :func:`diagnose`:

    ``"short"``   minimise the total shortage (forced minima free);
    ``"slack"``   keep the shortage at most ``caps[0]``, minimise the total unmet minima;
    ``"spread"``  keep both totals at most ``caps``, minimise the largest shortage or unmet
                  minimum as a share of its demand (or minimum): the least totals, split evenly.
    """

    def __init__(
        self,
        net: Network,
        rules: Rules,
        *,
        stage: str | None = None,
        caps: tuple[float, float] = (0.0, 0.0),
    ) -> None:
        if stage not in (None, "short", "slack", "spread"):
            raise ValueError(f"stage={stage!r}; expected None, 'short', 'slack' or 'spread'")
        self.net, self.rules, self.stage, self.caps = net, rules, stage, caps
        self.relax = stage is not None
        relax = self.relax
        nodes = net.nodes
        self.integer = net.integer
        self.fixed = [
            n
            for n, v in nodes.items()
            if v.role != "customer" and v.fixed_cost > 0 and n not in rules.closed and not relax
        ]
        self.mip = self.integer or bool(self.fixed)
        self.solver_name = "SCIP" if self.mip else "GLOP"
        self.keys()

    # ---------------------------------------------------------------- index sets
    def keys(self) -> None:
        net, rules = self.net, self.rules
        nodes = net.nodes
        self.r_keys = [a.key for a in net.arcs.values() if a.raw and rules.arc_open(a.key, RAW)]
        self.supplied = {a.dst for a in net.arcs.values() if a.raw}  # plants with a supplier arc
        self.x_keys, self.y_keys, self.z_keys = [], [], []
        out_w: dict[str, list[Arc]] = defaultdict(list)
        for a in net.arcs.values():
            if nodes[a.src].role == "warehouse":
                out_w[a.src].append(a)
        for a in net.arcs.values():
            if a.raw or nodes[a.src].role != "plant":
                continue
            p = a.src
            makes = nodes[p].cost
            for k in net.products:
                if k not in makes or k not in a.cost or not rules.arc_open(a.key, k):
                    continue
                if nodes[a.dst].role == "customer":
                    c = a.dst
                    if rules.reaches(p, c) and rules.buys(c, p):
                        self.x_keys.append((p, c, k))
                    continue
                w = a.dst
                if k not in nodes[w].cost:
                    continue
                zs = [
                    (w, b.dst, k, p)
                    for b in out_w[w]
                    if k in b.cost
                    and rules.arc_open(b.key, k)
                    and rules.reaches(w, b.dst)
                    and rules.reaches(p, b.dst)
                    and rules.buys(b.dst, p)
                ]
                if zs:  # product into a warehouse must leave it for a customer
                    self.y_keys.append((p, w, k))
                    self.z_keys.extend(zs)

    # ---------------------------------------------------------------- build + solve
    def solve(self) -> Solution:
        from ortools.linear_solver import pywraplp

        t0 = time.perf_counter()
        net, rules = self.net, self.rules
        nodes = net.nodes
        s = pywraplp.Solver.CreateSolver(self.solver_name)
        if s is None:  # pragma: no cover - OR-Tools always ships both
            raise RuntimeError(f"OR-Tools solver {self.solver_name} is not available")
        if self.mip:
            s.SetTimeLimit(int(TIME_LIMIT_S * 1000))
            s.SetNumThreads(1)
        inf = s.infinity()
        new = s.IntVar if self.integer else s.NumVar
        r = {k: new(0, inf, "") for k in self.r_keys}
        x = {k: new(0, inf, "") for k in self.x_keys}
        y = {k: new(0, inf, "") for k in self.y_keys}
        z = {k: new(0, inf, "") for k in self.z_keys}
        cap = _down if self.integer else float
        need = _up if self.integer else float

        # flows by arc (for capacities and forced minima), by node (throughput)
        on_arc: dict[tuple[str, str], list[tuple[Any, str]]] = defaultdict(list)
        for (a, b), v in r.items():
            on_arc[(a, b)].append((v, RAW))
        for (p, c, k), v in x.items():
            on_arc[(p, c)].append((v, k))
        for (p, w, k), v in y.items():
            on_arc[(p, w)].append((v, k))
        for (w, c, k, _p), v in z.items():
            on_arc[(w, c)].append((v, k))
        through: dict[str, list[Any]] = defaultdict(list)
        for (a, _b), v in r.items():
            through[a].append(v)
        made: dict[str, list[Any]] = defaultdict(list)  # plant output
        for (p, _c, _k), v in x.items():
            made[p].append(v)
        for (p, w, _k), v in y.items():
            made[p].append(v)
            through[w].append(v)
        through.update(made)

        # big M: every useful flow ends at a customer, as demand or as a forced extra
        big = sum(need(q) for c in net.customers for q in nodes[c].demand.values())
        big += sum(need(m) for _a, _k, m, _d in rules.forced) + 1.0

        opened: dict[str, Any] = {}
        obj = s.Objective()
        for n in self.fixed:
            opened[n] = s.BoolVar("")
            obj.SetCoefficient(opened[n], nodes[n].fixed_cost)
        for n, node in nodes.items():
            if node.role == "customer" or n in rules.closed:
                continue
            vs = through.get(n, [])
            if n in opened:
                ub = big if node.capacity is None else min(big, cap(node.capacity))
                row = s.Constraint(-inf, 0.0)
                for v in vs:
                    row.SetCoefficient(v, 1.0)
                row.SetCoefficient(opened[n], -ub)
            elif node.capacity is not None and vs:
                row = s.Constraint(-inf, cap(node.capacity))
                for v in vs:
                    row.SetCoefficient(v, 1.0)
        # plant raw balance
        for p in net.plants:
            if p in rules.closed or p not in self.supplied:
                continue
            row = s.Constraint(0.0, 0.0)
            for (_a, b), v in r.items():
                if b == p:
                    row.SetCoefficient(v, 1.0)
            for v in made.get(p, []):
                row.SetCoefficient(v, -1.0)
        # warehouse balance by (origin, product)
        rows = {}
        for key, v in y.items():
            rows[key] = row = s.Constraint(0.0, 0.0)
            row.SetCoefficient(v, 1.0)
        for (w, _c, k, p), v in z.items():
            rows[(p, w, k)].SetCoefficient(v, -1.0)
        # arc capacities
        for key, a in net.arcs.items():
            if a.capacity is not None and on_arc.get(key):
                row = s.Constraint(-inf, cap(a.capacity))
                for v, _k in on_arc[key]:
                    row.SetCoefficient(v, 1.0)
        # demand
        into: dict[tuple[str, str], list[Any]] = defaultdict(list)
        for (_p, c, k), v in x.items():
            into[(c, k)].append(v)
        for (_w, c, k, _p), v in z.items():
            into[(c, k)].append(v)
        short = {}
        for c in net.customers:
            for k, q in nodes[c].demand.items():
                if q <= 0:
                    continue
                row = s.Constraint(need(q), inf)
                for v in into.get((c, k), []):
                    row.SetCoefficient(v, 1.0)
                if self.relax:
                    short[(c, k)] = u = s.NumVar(0, inf, "")
                    row.SetCoefficient(u, 1.0)
        # forced minima
        slack = []
        for key, product, m, _d in rules.forced:
            row = s.Constraint(need(m), inf)
            for v, k in on_arc.get(key, []):
                if product is None or k == product:
                    row.SetCoefficient(v, 1.0)
            if self.relax:
                u = s.NumVar(0, inf, "")
                row.SetCoefficient(u, 1.0)
                slack.append(u)
        if self.relax:
            loose = lambda cap: cap * (1 + 1e-9) + 1e-9  # noqa: E731
            if self.stage == "short":
                for u in short.values():
                    obj.SetCoefficient(u, 1.0)
            else:
                total = s.Constraint(-inf, loose(self.caps[0]))
                for u in short.values():
                    total.SetCoefficient(u, 1.0)
            if self.stage == "slack":
                for u in slack:
                    obj.SetCoefficient(u, 1.0)
            elif self.stage == "spread":
                total = s.Constraint(-inf, loose(self.caps[1]))
                for u in slack:
                    total.SetCoefficient(u, 1.0)
                t = s.NumVar(0, inf, "")
                obj.SetCoefficient(t, 1.0)
                for (c, k), u in short.items():
                    row = s.Constraint(-inf, 0.0)
                    row.SetCoefficient(u, 1.0)
                    row.SetCoefficient(t, -need(nodes[c].demand[k]))
                for u, (_a, _k, m, _d) in zip(slack, rules.forced, strict=True):
                    row = s.Constraint(-inf, 0.0)
                    row.SetCoefficient(u, 1.0)
                    row.SetCoefficient(t, -max(need(m), 1e-9))
        # costs
        if not self.relax:
            for (a, b), v in r.items():
                obj.SetCoefficient(v, nodes[a].cost[RAW] + net.arcs[(a, b)].cost[RAW])
            for (p, c, k), v in x.items():
                obj.SetCoefficient(v, nodes[p].cost[k] + net.arcs[(p, c)].cost[k])
            for (p, w, k), v in y.items():
                obj.SetCoefficient(v, nodes[p].cost[k] + net.arcs[(p, w)].cost[k] + nodes[w].cost[k])
            for (w, c, k, _p), v in z.items():
                obj.SetCoefficient(v, net.arcs[(w, c)].cost[k])
        obj.SetMinimization()

        code = s.Solve()
        status = {
            pywraplp.Solver.OPTIMAL: "optimal",
            pywraplp.Solver.FEASIBLE: "feasible",
            pywraplp.Solver.INFEASIBLE: "infeasible",
            pywraplp.Solver.UNBOUNDED: "unbounded",
        }.get(code, "error")
        ok = status in ("optimal", "feasible")
        clean = (lambda v: float(round(v.solution_value()))) if self.integer else _clean
        sol = Solution(
            status=status,
            solver=self.solver_name,
            seconds=0.0,
            objective=obj.Value() if ok else None,
            r={k: clean(v) for k, v in r.items()} if ok else {},
            x={k: clean(v) for k, v in x.items()} if ok else {},
            y={k: clean(v) for k, v in y.items()} if ok else {},
            z={k: clean(v) for k, v in z.items()} if ok else {},
            opened={n: v.solution_value() > 0.5 for n, v in opened.items()} if ok else {},
            short={k: _clean(v) for k, v in short.items()} if ok else {},
            slack=[_clean(v) for v in slack] if ok else [],
        )
        sol.seconds = time.perf_counter() - t0
        return sol


def _clean(v: Any) -> float:
    x = round(float(v.solution_value()), 9)  # solver noise (1e-14) off the reported flows
    return 0.0 if abs(x) < FLOW_EPS else x


# ---------------------------------------------------------------------------------------------
# diagnosis
# ---------------------------------------------------------------------------------------------


def _fmt(v: float) -> str:
    return f"{v:.6g}"


def _usage(net: Network, sol: Solution) -> tuple[dict[str, float], dict[tuple[str, str], float]]:
    node_use: dict[str, float] = defaultdict(float)
    arc_use: dict[tuple[str, str], float] = defaultdict(float)
    for (a, b), v in sol.r.items():
        node_use[a] += v
        arc_use[(a, b)] += v
    for (p, c, _k), v in sol.x.items():
        node_use[p] += v
        arc_use[(p, c)] += v
    for (p, w, _k), v in sol.y.items():
        node_use[p] += v
        node_use[w] += v
        arc_use[(p, w)] += v
    for (w, c, _k, _p), v in sol.z.items():
        arc_use[(w, c)] += v
    return node_use, arc_use


def _paths_to(net: Network, c: str, k: str) -> tuple[set[str], set[tuple[str, str]]]:
    """Nodes and arcs on any structural path that could bring product ``k`` to customer ``c``."""
    nodes, arcs = set(), set()
    for a in net.arcs.values():
        if a.dst != c or k not in a.cost:
            continue
        src = net.nodes[a.src]
        if src.role == "plant" and k in src.cost:
            nodes.add(a.src)
            arcs.add(a.key)
        elif src.role == "warehouse" and k in src.cost:
            for b in net.arcs.values():
                if b.dst == a.src and k in b.cost and k in net.nodes[b.src].cost:
                    nodes.update((a.src, b.src))
                    arcs.update((a.key, b.key))
    return nodes, arcs


def _upstream(net: Network, nodes: set[str], arcs: set[tuple[str, str]]) -> None:
    for a in net.arcs.values():
        if a.raw and a.dst in nodes:
            nodes.add(a.src)
            arcs.add(a.key)


def _reasons(
    net: Network,
    rules: Rules,
    sol: Solution,
    nodes: set[str],
    arcs: set[tuple[str, str]],
    product: str | None,
    customer: str | None,
) -> list[str]:
    node_use, arc_use = _usage(net, sol)
    eff = _down if net.integer else float  # whole units: a capacity of 38.5 allows 38

    def full(used: float, cap: float) -> bool:
        c = eff(cap)
        return used >= c - 1e-6 * max(1.0, c)

    binding, closed, forbidden, restricted = [], [], [], []
    for n in net.nodes:  # file order
        if n not in nodes:
            continue
        node = net.nodes[n]
        if n in rules.closed:
            closed.append(f"{node.role} {n}")
        elif node.capacity is not None and full(node_use[n], node.capacity):
            binding.append(f"{node.role} {n} (capacity {_fmt(node.capacity)}, uses {_fmt(node_use[n])})")
        if n in rules.serves_only and customer is not None and customer not in rules.serves_only[n]:
            restricted.append(f"{n} serves only {', '.join(sorted(rules.serves_only[n]))}")
    for key, a in net.arcs.items():
        if key not in arcs:
            continue
        for k in dict.fromkeys((None, None if a.raw else product)):
            if (key, k) in rules.forbidden:
                forbidden.append(f"{a}" + (f" ({k})" if k else ""))
        if a.capacity is not None and full(arc_use[key], a.capacity):
            binding.append(f"arc {a} (capacity {_fmt(a.capacity)}, carries {_fmt(arc_use[key])})")
    if customer is not None and customer in rules.buys_only:
        only = sorted(rules.buys_only[customer])
        cant = [p for p in only if product is not None and product not in net.nodes[p].cost]
        restricted.append(
            f"{customer} buys only from {', '.join(only)}"
            + (f" ({', '.join(cant)} does not make {product})" if cant else "")
        )
    out = []
    if binding:
        out.append("capacity used up at " + ", ".join(binding))
    if closed:
        out.append("closed: " + ", ".join(closed))
    if forbidden:
        out.append("forbidden: " + ", ".join(forbidden))
    if restricted:
        out.append("restricted: " + "; ".join(restricted))
    return out


def diagnose(net: Network, rules: Rules) -> tuple[str, list[dict[str, Any]], Solution]:
    """Why the plan is infeasible: the least total shortfall, who is short, and what binds.

    Solves the relaxation (a shortage variable on every demand row, a slack on every forced
    minimum) lexicographically: first the least total shortage of demand (forced minima may go
    unmet), then, keeping that, the least total of unmet minima; then splits both as evenly as
    the network allows (see :class:`FlowModel`).  The totals are exact; the split is one of
    possibly several.  So a minimum that clashes only with the demand is reported as the minimum
    that cannot be met, not as a demand shortage.

    Returns
    -------
    (text, shortfall rows {customer, product, demand, delivered, short}, relaxed solution)
    """
    sol = FlowModel(net, rules, stage="short").solve()
    if sol.status not in ("optimal", "feasible"):
        return f"the solver reported the plan infeasible and its relaxation {sol.status}", [], sol
    least_short = sum(sol.short.values())
    least_slack = sum(sol.slack)
    if rules.forced:
        sol2 = FlowModel(net, rules, stage="slack", caps=(least_short, 0.0)).solve()
        if sol2.status in ("optimal", "feasible"):
            sol, least_slack = sol2, sum(sol2.slack)
    if least_short + least_slack > 1e-6:
        even = FlowModel(net, rules, stage="spread", caps=(least_short, least_slack)).solve()
        if even.status in ("optimal", "feasible"):
            sol = even
    need = _up if net.integer else float
    lines, rows = [], []
    short_total = sum(sol.short.values())
    if short_total > 1e-6:
        unit = "unit" if abs(short_total - 1) < 1e-9 else "units"
        lines.append(f"demand exceeds what the network can deliver by {_fmt(short_total)} {unit} in total")
    for (c, k), u in sol.short.items():
        if u <= 1e-6:
            continue
        q = net.nodes[c].demand[k]
        got = max(0.0, need(q) - u)
        rows.append({"customer": c, "product": k, "demand": q, "delivered": got, "short": u})
        nodes, arcs = _paths_to(net, c, k)
        if not nodes:
            lines.append(
                f"{c} is short of {_fmt(u)} {k} (demand {_fmt(q)}): no plant that makes {k} has an arc "
                f"to {c}, directly or through a warehouse"
            )
            continue
        _upstream(net, nodes, arcs)
        why = _reasons(net, rules, sol, nodes, arcs, k, c)
        lines.append(
            f"{c} is short of {_fmt(u)} {k} (gets {_fmt(got)} of {_fmt(q)})"
            + (": " + "; ".join(why) if why else "")
        )
    for (key, product, m, desc), u in zip(rules.forced, sol.slack, strict=True):
        if u <= 1e-6:
            continue
        a = net.arcs[key]
        nodes, arcs = {a.src, a.dst}, {key}
        if net.nodes[a.src].role == "warehouse":
            for b in net.arcs.values():
                if b.dst == a.src:
                    nodes.add(b.src)
                    arcs.add(b.key)
        if net.nodes[a.dst].role == "warehouse":
            arcs.update(b.key for b in net.arcs.values() if b.src == a.dst)
        _upstream(net, nodes, arcs)
        why = _reasons(net, rules, sol, nodes, arcs, product, None)
        if product is not None and product not in a.cost:
            why.insert(0, f"{a} does not carry {product}")
        src = net.nodes[a.src]
        if product is not None and src.role == "plant" and product not in src.cost:
            why.insert(0, f"{a.src} does not make {product}")
        lines.append(
            f"{desc} cannot be met together with the demand: short by {_fmt(u)} "
            f"(at most {_fmt(max(0.0, m - u))})" + (": " + "; ".join(why) if why else "")
        )
    if not lines:
        lines.append(
            f"the solver reported the plan infeasible, but its relaxation meets every demand and minimum "
            f"(a numerical edge case; status of the relaxation: {sol.status})"
        )
    return "infeasible: " + " | ".join(lines), rows, sol
