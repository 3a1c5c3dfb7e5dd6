"""The LP/MILP of an edited :class:`~._network_model.Network` (built with OR-Tools) and the
infeasibility diagnosis; the edits themselves are applied by :mod:`._network_edits`.  The public
face is :mod:`sclm.decisions.network`.

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

Solvers and their limits
    LPs: GLOP (deterministic).  MILPs: SCIP with one thread, its random seeds fixed at 0
    (:data:`SCIP_PARAMS`) and a wall-clock limit: :data:`TIME_LIMIT_S` for the plan,
    :data:`DIAGNOSIS_TIME_LIMIT_S` shared by every SCIP solve of one diagnosis.  A status is
    ``"optimal"`` only when the solver proved it; a plan SCIP found but did not prove by its limit
    is ``"feasible"``; with none found by then, the LP relaxation decides: infeasible → the plan is
    ``"infeasible"`` (proven, then diagnosed), else ``"time_limit"`` (no plan, none ruled out).
    Results are the same on every run unless a time limit is hit (then they depend on the
    machine's speed).
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from sclm.decisions._network_edits import EditError as EditError  # re-exported (moved there)
from sclm.decisions._network_edits import Rules
from sclm.decisions._network_edits import WrongRoleError as WrongRoleError
from sclm.decisions._network_edits import apply_edits as apply_edits
from sclm.decisions._network_edits import as_edit_list as as_edit_list
from sclm.decisions._network_model import RAW, Arc, Network

TOL = 1e-7
"""Relative tolerance for whole-unit rounding of demands, minima and capacities."""
FLOW_EPS = 1e-9
"""Solver values below this are reported as zero."""
TIME_LIMIT_S = 10.0
"""SCIP wall-clock limit (seconds) for a plan's MILP (status ``"feasible"`` if hit with a plan not
proven optimal).  Every plan of the project's networks (up to 42 nodes, 520 arcs) solves in well under
a second."""
DIAGNOSIS_TIME_LIMIT_S = 5.0
"""SCIP wall-clock seconds shared by every MILP of one diagnosis (most diagnoses need none: their
LPs already have whole-unit solutions)."""
SCIP_PARAMS = (
    "randomization/randomseedshift = 0\nrandomization/permutationseed = 0\nrandomization/lpseed = 0\n"
)
"""SCIP parameters set on every MILP (with one thread): fixed random seeds, for the same plan on every run."""


# ---------------------------------------------------------------------------------------------
# the model
# ---------------------------------------------------------------------------------------------


def _up(v: float) -> float:
    return float(math.ceil(v - TOL * max(1.0, abs(v))))


def _down(v: float) -> float:
    return float(math.floor(v + TOL * max(1.0, abs(v))))


@dataclass
class Solution:
    """Solver output in plain Python (values cleaned of solver noise).

    ``status``: ``"optimal"`` (proven), ``"feasible"`` (SCIP's best at its time limit),
    ``"infeasible"``, ``"time_limit"`` (SCIP found nothing by its limit), ``"unbounded"`` or
    ``"error"``.  ``bound``: SCIP's proven lower bound on the objective (``None`` for LPs).
    """

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
    bound: float | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("optimal", "feasible")

    def integral(self, tol: float = 1e-6) -> bool:
        """Whether every flow, shortage and slack is a whole number (within ``tol``)."""
        values = [
            *self.r.values(),
            *self.x.values(),
            *self.y.values(),
            *self.z.values(),
            *self.short.values(),
            *self.slack,
        ]
        return all(abs(v - round(v)) <= tol for v in values)

    def rounded(self) -> Solution:
        """The same solution with every value rounded to a whole number (for integral LP solutions)."""

        def rd(d: dict) -> dict:
            return {k: float(round(v)) for k, v in d.items()}

        return replace(
            self,
            r=rd(self.r),
            x=rd(self.x),
            y=rd(self.y),
            z=rd(self.z),
            short=rd(self.short),
            slack=[float(round(v)) for v in self.slack],
        )


STAGES = (None, "short", "slack", "spread", "fit")


class FlowModel:
    """The min-cost flow of an (edited) network under ``rules``.

    ``stage`` builds a diagnosis model instead: every demand row gets a shortage variable and
    every forced minimum a slack; costs and fixed costs are ignored (every open facility may be
    used).  Stages, solved in turn by :func:`diagnose`:

    ``"short"``   minimise the total shortage (forced minima free);
    ``"slack"``   keep the shortage at most ``caps[0]``, minimise the total unmet minima;
    ``"spread"``  keep the totals equal to ``caps`` (within 1e-9), minimise the largest shortage or
                  unmet minimum as a share of its demand (or minimum): the least totals, split evenly;
    ``"fit"``     totals equal to ``caps``, each shortage and unmet minimum within ``bounds``
                  (``{(customer, product): (lo, hi)}``, ``[(lo, hi), ...]`` in ``rules.forced``
                  order), no objective: a whole-unit plan near a fractional even split.

    ``continuous=True`` solves the LP relaxation with GLOP (whole-unit data rounding kept: demands
    up, capacities down) even when the network has whole units or fixed costs (these are then
    ignored: every facility may be used without paying it).  ``time_limit`` (seconds) overrides
    :data:`TIME_LIMIT_S` for SCIP.
    """

    def __init__(
        self,
        net: Network,
        rules: Rules,
        *,
        stage: str | None = None,
        caps: tuple[float, float] = (0.0, 0.0),
        bounds: tuple[Mapping[tuple[str, str], tuple[float, float]], list[tuple[float, float]]] | None = None,
        continuous: bool = False,
        time_limit: float | None = None,
    ) -> None:
        if stage not in STAGES:
            raise ValueError(f"stage={stage!r}; expected None, 'short', 'slack', 'spread' or 'fit'")
        if stage == "fit" and bounds is None:
            raise ValueError("stage 'fit' needs bounds on the shortages and unmet minima")
        self.net, self.rules, self.stage, self.caps, self.bounds = net, rules, stage, caps, bounds
        self.relax = stage is not None
        relax = self.relax
        nodes = net.nodes
        self.integer = net.integer  # whole-unit data rounding
        self.int_vars = net.integer and not continuous
        self.fixed = [
            n
            for n, v in nodes.items()
            if v.role != "customer"
            and v.fixed_cost > 0
            and n not in rules.closed
            and not relax
            and not continuous
        ]
        self.mip = self.int_vars or bool(self.fixed)
        self.solver_name = "SCIP" if self.mip else "GLOP"
        self.time_limit = TIME_LIMIT_S if time_limit is None else float(time_limit)
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
            s.SetTimeLimit(max(1, int(self.time_limit * 1000)))
            s.SetNumThreads(1)
            s.SetSolverSpecificParametersAsString(SCIP_PARAMS)
        inf = s.infinity()
        new = s.IntVar if self.int_vars else s.NumVar
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
                    lo, hi = self.bounds[0].get((c, k), (0.0, inf)) if self.bounds else (0.0, inf)
                    short[(c, k)] = u = new(lo, hi, "")
                    row.SetCoefficient(u, 1.0)
        # forced minima
        slack = []
        for i, (key, product, m, _d) in enumerate(rules.forced):
            row = s.Constraint(need(m), inf)
            for v, k in on_arc.get(key, []):
                if product is None or k == product:
                    row.SetCoefficient(v, 1.0)
            if self.relax:
                lo, hi = self.bounds[1][i] if self.bounds else (0.0, inf)
                u = new(lo, hi, "")
                row.SetCoefficient(u, 1.0)
                slack.append(u)
        if self.relax:
            loose = lambda cap: cap * (1 + 1e-9) + 1e-9  # noqa: E731
            tight = lambda cap: cap * (1 - 1e-9) - 1e-9  # noqa: E731
            exact = self.stage in ("spread", "fit")  # totals kept equal to the least ones
            if self.stage == "short":
                for u in short.values():
                    obj.SetCoefficient(u, 1.0)
            else:
                total = s.Constraint(tight(self.caps[0]) if exact else -inf, loose(self.caps[0]))
                for u in short.values():
                    total.SetCoefficient(u, 1.0)
            if self.stage == "slack":
                for u in slack:
                    obj.SetCoefficient(u, 1.0)
            elif exact:
                total = s.Constraint(tight(self.caps[1]), loose(self.caps[1]))
                for u in slack:
                    total.SetCoefficient(u, 1.0)
            if self.stage == "spread":
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
        if status == "error" and self.mip and code == pywraplp.Solver.NOT_SOLVED:
            status = "time_limit"  # SCIP stopped at its limit with nothing found
        ok = status in ("optimal", "feasible")
        clean = (lambda v: float(round(v.solution_value()))) if self.int_vars else _clean
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
            short={k: clean(v) for k, v in short.items()} if ok else {},
            slack=[clean(v) for v in slack] if ok else [],
            bound=s.Objective().BestBound() if (ok and self.mip) else None,
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


class Diagnosis(NamedTuple):
    """What :func:`diagnose` found.

    ``text``: ``"infeasible: "`` + the parts joined by ``" | "``; ``parts``: one finding each;
    ``shortfall``: rows ``{customer, product, demand, delivered, short}``; ``solution``: the relaxed
    plan the findings describe; ``exact``: whether the totals are proven least (False only when a
    SCIP solve of the diagnosis stopped at its time limit, or a whole-unit network had to be judged
    by its LP); ``seconds``: wall seconds of the diagnosis.
    """

    text: str
    parts: list[str]
    shortfall: list[dict[str, Any]]
    solution: Solution
    exact: bool
    seconds: float


class _Budget:
    """Wall-clock seconds left for the SCIP solves of one diagnosis."""

    def __init__(self, seconds: float) -> None:
        self.end = time.perf_counter() + seconds

    def left(self) -> float:
        return max(0.05, self.end - time.perf_counter())


def _least(
    net: Network, rules: Rules, stage: str, caps: tuple[float, float], budget: _Budget
) -> tuple[Solution, bool]:
    """The least-total stage ``"short"`` or ``"slack"``, and whether its total is proven least.

    The LP first (GLOP).  With whole units its solution is kept when every value is whole (the LP
    bound is then met by a whole-unit plan, so the total is the MILP's); otherwise the MILP (SCIP,
    whole-unit shortages, so its objective is whole and the LP bound rounded up proves it) decides,
    within the budget.  A MILP stopped at its limit gives its best plan (not proven) or, with none,
    the LP's.
    """
    lp = FlowModel(net, rules, stage=stage, caps=caps, continuous=True).solve()
    if not net.integer or not lp.ok:
        return lp, lp.ok
    if lp.integral():
        return lp.rounded(), True
    mip = FlowModel(net, rules, stage=stage, caps=caps, time_limit=budget.left()).solve()
    if mip.status == "optimal":
        return mip, True
    if mip.ok:  # stopped at the limit: proven least if its total meets the LP bound rounded up
        total = sum(mip.short.values()) if stage == "short" else sum(mip.slack)
        lower = sum(lp.short.values()) if stage == "short" else sum(lp.slack)
        return mip, total <= math.ceil(lower - 1e-6) + 1e-6
    return lp, False


def _even(
    net: Network, rules: Rules, caps: tuple[float, float], fallback: Solution, budget: _Budget
) -> Solution:
    """The least totals ``caps`` split as evenly as the network allows (see :class:`FlowModel`).

    An LP.  With whole units and a fractional split, a whole-unit plan with every shortage and unmet
    minimum rounded down or up from the LP's split and the same totals (a MILP with no objective,
    within the budget); ``fallback`` (the least-total plan, exact but maybe uneven) when there is
    none or SCIP finds none in time.
    """
    even = FlowModel(net, rules, stage="spread", caps=caps, continuous=True).solve()
    if not even.ok:
        return fallback
    if not net.integer:
        return even
    if even.integral():
        return even.rounded()
    box = (
        {k: (math.floor(v + 1e-6), math.ceil(v - 1e-6)) for k, v in even.short.items()},
        [(math.floor(v + 1e-6), math.ceil(v - 1e-6)) for v in even.slack],
    )
    fit = FlowModel(net, rules, stage="fit", caps=caps, bounds=box, time_limit=budget.left()).solve()
    return fit if fit.ok else fallback


def diagnose(net: Network, rules: Rules, *, time_limit: float | None = None) -> Diagnosis:
    """Why the plan is infeasible: the least total shortfall, who is short, and what binds.

    Solves the relaxation (a shortage variable on every demand row, a slack on every forced
    minimum) lexicographically: first the least total shortage of demand (forced minima may go
    unmet), then, keeping that, the least total of unmet minima; then splits both as evenly as
    the network allows (see :class:`FlowModel`).  The totals are exact; the split is one of
    possibly several.  So a minimum that clashes only with the demand is reported as the minimum
    that cannot be met, not as a demand shortage.

    Every stage is an LP first.  With whole units, a least total whose LP solution is not whole is
    found again by a MILP (the LP's total can be lower), and a fractional even split is rounded to
    whole units by a MILP with no objective (else the least-total plan is reported, uneven); those
    SCIP solves share ``time_limit`` seconds (default :data:`DIAGNOSIS_TIME_LIMIT_S`).

    Returns
    -------
    Diagnosis
        ``text``, ``parts``, ``shortfall`` rows, the relaxed ``solution``, ``exact``, ``seconds``.
    """
    t0 = time.perf_counter()
    budget = _Budget(DIAGNOSIS_TIME_LIMIT_S if time_limit is None else time_limit)
    sol, exact = _least(net, rules, "short", (0.0, 0.0), budget)
    if not sol.ok:
        part = f"the solver reported the plan infeasible and its relaxation {sol.status}"
        return Diagnosis(f"infeasible: {part}", [part], [], sol, False, time.perf_counter() - t0)
    least_short = sum(sol.short.values())
    least_slack = sum(sol.slack)
    if rules.forced:
        sol2, exact2 = _least(net, rules, "slack", (least_short, 0.0), budget)
        if sol2.ok:
            sol, least_slack = sol2, sum(sol2.slack)
            exact = exact and exact2
    if least_short + least_slack > 1e-6:
        sol = _even(net, rules, (least_short, least_slack), sol, budget)
    parts, rows = _findings(net, rules, sol)
    if not exact:
        parts.append(
            "the totals are not proven least in whole units: the solver stopped at the diagnosis's "
            f"time limit of {_fmt(DIAGNOSIS_TIME_LIMIT_S if time_limit is None else time_limit)} s"
        )
    text = "infeasible: " + " | ".join(parts)
    return Diagnosis(text, parts, rows, sol, exact, time.perf_counter() - t0)


def _findings(net: Network, rules: Rules, sol: Solution) -> tuple[list[str], list[dict[str, Any]]]:
    """The diagnosis's parts (one finding each) and shortfall rows, from the relaxed plan ``sol``."""
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
    return lines, rows
