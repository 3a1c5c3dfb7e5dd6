"""Supply-network planning: a one-period, multi-product min-cost flow with edits, what-ifs and whys.

A network file (YAML or JSON) describes suppliers → plants → (warehouses →) customers::

    name: example
    integer: true            # whole units on every arc (MILP); default false (LP)
    products: [light, dark]
    nodes:
      s1: {role: supplier, capacity: 150, cost: 1}        # raw material out, product-agnostic
      p1: {role: plant, cost: {light: 3, dark: 5}}        # 1 raw -> 1 product; processing per unit
      w1: {role: warehouse, cost: 1, capacity: 400}       # handling per unit passed on
      c1: {role: customer, demand: {light: 20, dark: 20}, city: Hamburg}
    arcs:
      - {from: s1, to: p1, cost: 5}                        # raw material
      - {from: p1, to: c1, cost: 4}                        # products; a number or per product
      - {from: p1, to: w1, cost: {light: 1, dark: 2}, capacity: 300}
      - {from: w1, to: c1, cost: 1}

File format (every rule is checked on load; an error names the node or arc)
    Top level: ``name``, ``description``, ``integer`` (default false), ``products`` (required,
    unique, not ``"raw"``), ``nodes`` (a mapping name → node, or a list of nodes with ``name``),
    ``arcs`` (a list), and the descriptive ``currency``, ``units``, ``period``, ``notes`` (kept,
    never used).  Any other key is an error.
    Every node: ``role`` (supplier, plant, warehouse, customer) and optional descriptive keys,
    kept as given: ``city``, ``country``, ``region``, ``label``, ``aliases`` (list),
    ``description``, ``lat``, ``lon``.  A key that does not belong to the role is an error.
    ``supplier``: ``capacity`` (raw units out; missing or null = unbounded), ``cost`` (per raw
    unit; default 0), ``fixed_cost`` (default 0).
    ``plant``: ``cost`` (required; processing per unit made: a number = every product, or per
    product — a product missing from the dict means the plant cannot make it), ``capacity``
    (units made, all products together; missing = unbounded), ``fixed_cost``.  One unit of raw
    material makes one unit of any product.  A plant with no supplier arc in the file needs no raw
    material; a plant with supplier arcs needs raw in = units made.
    ``warehouse``: ``cost`` (handling per unit passed on: a number, or per product — a product
    missing from the dict is not handled there; no ``cost`` = 0), ``capacity`` (units passed
    through), ``fixed_cost``.  Stock in = stock out for each product: nothing is kept.
    ``customer``: ``demand`` (required): product → units it must receive *at least*; a single
    number only in a one-product network.  Every product demanded (> 0) must be made by some plant.
    Arcs: ``from``, ``to`` (required, known nodes), ``cost`` (required, per unit: a number = every
    product, or per product — a product missing from the dict is not carried; supplier→plant arcs
    carry raw material and take one number), optional ``capacity`` (units over all products) and
    the descriptive ``label``, ``mode``, ``distance``, ``description`` (kept, never used).
    Allowed: supplier→plant, plant→warehouse, plant→customer, warehouse→customer (no
    warehouse→warehouse, so a warehouse restriction is exact); one arc per ordered pair.
    Numbers are finite and >= 0.

The plan (:func:`plan_network`)
    Minimises supply + processing + handling + transport + fixed costs subject to supplier,
    plant, warehouse and arc capacities and customer demands (see :mod:`._network_solve` for the
    model).  LP with GLOP; MILP with SCIP when ``integer: true`` or any facility has a fixed cost
    (a binary ``open`` per such facility: its fixed cost is paid when it carries flow).  Flows
    through warehouses keep their origin plant, so restrictions through warehouses are exact.
    With whole units, demands (and forced minima) are never rounded before solving: a scaled
    demand of 38.7 needs 39 units (``ceil(d - 1e-7·max(1, d))``, so 40.000000001 needs 40), and
    a capacity of 38.5 allows 38.  Both solvers are deterministic (SCIP: one thread, fixed seeds,
    a 10 s limit per plan, 5 s shared by the SCIP solves of one diagnosis; see
    :mod:`._network_solve`).

Edits (:mod:`sclm.decisions.edits`; the semantics are in its docstring) are applied in order.
Where the edit docstring leaves room, this module decides:

* ``scale_capacity`` of an unbounded node leaves it unbounded, except ``factor = 0`` (capacity 0);
  ``set_capacity`` gives it one.
* ``set_arc_cost`` / ``set_node_cost`` without a product set every product the arc carries /
  the facility makes or handles; with a product they set (or add) that product's cost, so
  ``set_node_cost(p1, 4, dark)`` lets p1 make dark.  ``scale_*`` with a product the arc or node
  does not have is an error (nothing to scale).  A supplier's cost and a raw arc's cost take
  product ``None`` or ``"raw"``.
* ``forbid_arc`` / ``force_arc`` with ``product=None`` act on every product (the forced minimum
  is then the sum over products); on a raw arc the product is ``None`` or ``"raw"``.
* ``restrict_facility`` twice on one facility keeps the customers both allow; ``source_only_from``
  twice on one customer, likewise.  Customers may receive more than their demand (never
  optimal unless a minimum is forced).
* An unknown node, arc or product is a :class:`sclm.schema.UnknownNameError` listing what
  exists; a node of the wrong role (the capacity of a customer, ``source_only_from`` a
  warehouse, ...) is a :class:`WrongRoleError` (a ``ValueError``); a malformed edit (unknown
  kind, missing or negative field, ...) is an :class:`EditError` (a ``ValueError``) naming the
  edit's kind, the field and what is wrong, with pydantic's ``ValidationError`` chained.

Results: ``plan.status`` is ``"optimal"`` (proven) or ``"infeasible"`` (proven); a MILP that
SCIP does not finish within its time limit is ``"feasible"`` (its best plan, not proven optimal)
or, with no plan found by then, ``"infeasible"`` when the LP relaxation already is, else
``"time_limit"`` (no plan; the diagnosis says so).  ``plan.cost`` is the total cost, ``None``
without a plan.  An infeasible plan's :attr:`NetworkPlan.diagnosis` says why in one string;
:attr:`NetworkPlan.diagnosis_parts` holds the same findings one by one.

Drawing: :func:`plot_network_plan` (suppliers → plants → warehouses → customers in columns, arcs
as wide as their flow).
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from sclm.decisions import _network_solve as _solve
from sclm.decisions._network_edits import EditError, WrongRoleError, apply_edits, as_edit_list
from sclm.decisions._network_model import (
    RAW,
    ROLES,
    Arc,
    Network,
    NetworkFileError,
    Node,
    UnknownNodeError,
    load_network,
)
from sclm.decisions._network_plot import plot_network_plan
from sclm.decisions._network_scenario import scenario_network
from sclm.decisions._network_solve import FlowModel, Solution, diagnose

__all__ = [
    "COST_PARTS",
    "FLOW_COLUMNS",
    "RAW",
    "ROLES",
    "Arc",
    "EditError",
    "Network",
    "NetworkFileError",
    "NetworkPlan",
    "Node",
    "UnknownNodeError",
    "WhatIf",
    "Why",
    "WrongRoleError",
    "load_network",
    "plan_network",
    "plot_network_plan",
    "scenario_network",
    "what_if",
    "why",
]

COST_PARTS: tuple[str, ...] = ("supply", "processing", "handling", "transport", "fixed")
"""Keys of :attr:`NetworkPlan.cost_parts`; they sum to :attr:`NetworkPlan.cost`."""

FLOW_COLUMNS = ("from", "to", "product", "flow", "unit_cost", "cost")
_CHANGE_TOL = 1e-6
TIE_TOL = 1e-6
"""A :class:`Why` is a tie when ``|delta| <= TIE_TOL · max(1, |baseline cost|)``."""


def _r(v: float) -> float:
    """Round solver arithmetic noise away (1e-9 absolute)."""
    out = round(float(v), 9)
    return 0.0 if out == 0 else out


def _frame(rows: list[dict[str, Any]], columns: tuple[str, ...] | list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(columns))


@dataclass(frozen=True, eq=False)
class NetworkPlan:
    """The optimal plan of a network under edits (or why there is none).

    Attributes
    ----------
    name
        The network's name.
    status
        ``"optimal"`` or ``"infeasible"`` (both proven); ``"feasible"`` when SCIP stopped at its
        time limit with a plan not proven optimal; ``"time_limit"`` when it stopped with none
        (and the LP relaxation has a plan, so infeasibility is not proven either).
    cost
        Total cost of the plan (currency of the file per period); ``None`` when infeasible.
    cost_parts
        ``supply`` (raw material at suppliers), ``processing`` (plants), ``handling``
        (warehouses), ``transport`` (every arc), ``fixed`` (facilities used); they sum to
        ``cost``.  Values ``None`` when infeasible.
    flows
        One row per (arc, commodity) with positive flow: ``from, to, product`` (``"raw"`` on
        supplier→plant arcs), ``flow`` (units), ``unit_cost`` (the arc's transport cost per unit),
        ``cost`` (= flow × unit_cost).  Empty when infeasible.
    edits
        The validated edits the plan was solved under.
    diagnosis
        ``""`` when a plan exists; otherwise ``"infeasible: "`` and the findings joined by
        ``" | "``: the total shortfall, which demands (customer, product, by how much) and forced
        minima cannot be met, and the capacities used up, facilities closed, arcs forbidden and
        restrictions on their paths.
    solve_seconds
        Wall seconds to build and solve the model (the diagnosis included when infeasible).
    solver
        ``"GLOP"`` (LP) or ``"SCIP"`` (MILP).
    integer
        Whole units on every arc.
    sources
        ``plant, via, customer, product, flow``: what reaches each customer from which plant,
        directly (``via == ""``) or through warehouse ``via``.
    facilities
        ``node, role, throughput, capacity, utilisation, open, fixed_cost``: units out of each
        supplier, made at each plant, passed through each warehouse; ``open`` is whether it
        carries flow (and so pays its fixed cost); ``capacity`` NaN = unbounded.
    deliveries
        ``customer, product, demand, received``.
    shortfall
        When infeasible: ``customer, product, demand, delivered, short`` in one least-shortfall
        relaxed plan (empty otherwise).
    network
        The edited network that was solved.
    diagnosis_parts
        The findings of ``diagnosis``, one string each (``[]`` when a plan exists).
    """

    name: str
    status: str
    cost: float | None
    cost_parts: dict[str, float | None]
    flows: pd.DataFrame
    edits: list[Any]
    diagnosis: str
    solve_seconds: float
    solver: str
    integer: bool
    sources: pd.DataFrame
    facilities: pd.DataFrame
    deliveries: pd.DataFrame
    shortfall: pd.DataFrame
    network: Network = field(repr=False)
    diagnosis_parts: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when a plan exists (optimal, or feasible at the time limit)."""
        return self.status in ("optimal", "feasible")

    def flow(self, src: str, dst: str | None = None, product: str | None = None) -> float:
        """Units on arc ``src->dst`` (of ``product``, or summed over products); 0 if unused."""
        from sclm.decisions._network_model import _arc_key

        a, b = _arc_key(src, dst)
        f = self.flows
        sel = (f["from"] == a) & (f["to"] == b)
        if product is not None and product != RAW:
            sel &= f["product"] == product
        return float(f.loc[sel, "flow"].sum())

    def used_arcs(self, product: str | None = None) -> list[tuple[str, str]]:
        """Arcs with positive flow (of ``product``, or of any), in file order."""
        f = self.flows if product is None else self.flows[self.flows["product"] == product]
        return list(dict.fromkeys(zip(f["from"], f["to"], strict=True)))

    def summary(self) -> str:
        """A few lines: status, cost and its parts, the flows."""
        kind = f"{'MILP' if self.solver == 'SCIP' else 'LP'} ({self.solver})"
        head = f"network {self.name!r}, {kind}, {len(self.edits)} edit(s)"
        if self.edits:
            head += ": " + "; ".join(e.describe() for e in self.edits)
        if not self.ok:
            return f"{head}\n{self.status}: {self.diagnosis}"
        parts = ", ".join(f"{k} {v:,.6g}" for k, v in self.cost_parts.items() if v)
        lines = [head, f"{self.status}: cost {self.cost:,.6g} ({parts or 'nothing to ship'})"]
        for r in self.flows.itertuples(index=False):
            lines.append(f"  {r[0]} -> {r[1]} {r[2]}: {r[3]:,.6g}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable: every field, frames as lists of records, edits as dicts."""
        return {
            "name": self.name,
            "status": self.status,
            "cost": self.cost,
            "cost_parts": dict(self.cost_parts),
            "flows": _records(self.flows),
            "edits": [e.model_dump() for e in self.edits],
            "diagnosis": self.diagnosis,
            "diagnosis_parts": list(self.diagnosis_parts),
            "solve_seconds": self.solve_seconds,
            "solver": self.solver,
            "integer": self.integer,
            "sources": _records(self.sources),
            "facilities": _records(self.facilities),
            "deliveries": _records(self.deliveries),
            "shortfall": _records(self.shortfall),
        }

    def __repr__(self) -> str:
        cost = "None" if self.cost is None else f"{self.cost:,.6g}"
        return (
            f"NetworkPlan({self.name!r}, status={self.status!r}, cost={cost}, flows={len(self.flows)}, "
            f"edits={len(self.edits)}, solver={self.solver}, {self.solve_seconds * 1000:.1f} ms)"
        )


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for row in df.to_dict("records"):
        out.append({k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()})
    return out


def _plan_from(
    net: Network,
    sol: Solution,
    parsed: list[Any],
    *,
    seconds: float,
    diagnosis: str,
    short: list[dict],
    findings: list[str] | None = None,
) -> NetworkPlan:
    nodes = net.nodes
    ok = sol.status in ("optimal", "feasible")
    flow: dict[tuple[str, str, str], float] = defaultdict(float)
    for (a, b), v in sol.r.items():
        flow[(a, b, RAW)] += v
    for (p, c, k), v in sol.x.items():
        flow[(p, c, k)] += v
    for (p, w, k), v in sol.y.items():
        flow[(p, w, k)] += v
    for (w, c, k, _p), v in sol.z.items():
        flow[(w, c, k)] += v
    rows = []
    for key, arc in net.arcs.items():
        for k in (RAW,) if arc.raw else net.products:
            v = flow.get((*key, k), 0.0)
            if v > 0:
                u = arc.cost[k]
                rows.append(
                    {"from": key[0], "to": key[1], "product": k, "flow": v, "unit_cost": u, "cost": _r(v * u)}
                )
    flows = _frame(rows, FLOW_COLUMNS)

    parts: dict[str, float | None]
    if ok:
        made: dict[tuple[str, str], float] = defaultdict(float)
        for (p, _c, k), v in sol.x.items():
            made[(p, k)] += v
        for (p, _w, k), v in sol.y.items():
            made[(p, k)] += v
        supply = sum(v * nodes[a].cost[RAW] for (a, _b), v in sol.r.items())
        processing = sum(v * nodes[p].cost[k] for (p, k), v in made.items())
        handling = sum(v * nodes[w].cost[k] for (_p, w, k), v in sol.y.items())
        transport = float(sum(r["flow"] * r["unit_cost"] for r in rows))
        fixed = sum(nodes[n].fixed_cost for n, o in sol.opened.items() if o)
        values = (supply, processing, handling, transport, fixed)
        parts = {k: _r(v) for k, v in zip(COST_PARTS, values, strict=True)}
        cost: float | None = _r(sum(values))
    else:
        parts = dict.fromkeys(COST_PARTS)
        cost = None

    src_rows = []
    if ok:
        for (p, c, k), v in sol.x.items():
            if v > 0:
                src_rows.append({"plant": p, "via": "", "customer": c, "product": k, "flow": v})
        for (w, c, k, p), v in sol.z.items():
            if v > 0:
                src_rows.append({"plant": p, "via": w, "customer": c, "product": k, "flow": v})
    sources = _frame(src_rows, ("plant", "via", "customer", "product", "flow"))

    use: dict[str, float] = defaultdict(float)
    for (a, _b), v in sol.r.items():
        use[a] += v
    for (p, _c, _k), v in sol.x.items():
        use[p] += v
    for (p, w, _k), v in sol.y.items():
        use[p] += v
        use[w] += v
    fac = []
    for n, node in nodes.items():
        if node.role == "customer":
            continue
        t = use.get(n, 0.0) if ok else float("nan")
        capv = float("nan") if node.capacity is None else node.capacity
        util = t / node.capacity if (ok and node.capacity) else float("nan")
        opened = bool(sol.opened.get(n, t > 0)) if ok else False
        fac.append(
            {
                "node": n,
                "role": node.role,
                "throughput": t,
                "capacity": capv,
                "utilisation": util,
                "open": opened,
                "fixed_cost": node.fixed_cost,
            }
        )
    facilities = _frame(fac, ("node", "role", "throughput", "capacity", "utilisation", "open", "fixed_cost"))

    got: dict[tuple[str, str], float] = defaultdict(float)
    for (_p, c, k), v in sol.x.items():
        got[(c, k)] += v
    for (_w, c, k, _p), v in sol.z.items():
        got[(c, k)] += v
    dl = [
        {"customer": c, "product": k, "demand": q, "received": got.get((c, k), 0.0) if ok else float("nan")}
        for c in net.customers
        for k, q in nodes[c].demand.items()
        if q > 0 or got.get((c, k), 0.0) > 0
    ]
    deliveries = _frame(dl, ("customer", "product", "demand", "received"))
    return NetworkPlan(
        name=net.name,
        status=sol.status,
        cost=cost,
        cost_parts=parts,
        flows=flows,
        edits=list(parsed),
        diagnosis=diagnosis,
        solve_seconds=seconds,
        solver=sol.solver,
        integer=net.integer,
        sources=sources,
        facilities=facilities,
        deliveries=deliveries,
        shortfall=_frame(short, ("customer", "product", "demand", "delivered", "short")),
        network=net,
        diagnosis_parts=list(findings or []),
    )


def plan_network(network: Network | str | Any, edits: Any = None) -> NetworkPlan:
    """Solve the network's min-cost plan under ``edits``.

    Parameters
    ----------
    network
        A :class:`Network`, or anything :func:`load_network` reads (path, dict, project name).
    edits
        Edits (models of :mod:`sclm.decisions.edits` or dicts ``{"kind": ...}``), one edit, or
        ``None``.  Applied in order.

    Returns
    -------
    NetworkPlan
        ``status``, ``cost``, ``cost_parts``, ``flows``, ... (see :class:`NetworkPlan`).

    Raises
    ------
    EditError
        A malformed edit (a ``ValueError``): the message names its kind, the field and what is
        wrong; pydantic's ``ValidationError`` is chained.
    sclm.schema.UnknownNameError
        An edit names a node, arc or product the network does not have.
    WrongRoleError
        An edit names a node of the wrong role (e.g. ``scale_capacity`` on a customer).

    Notes
    -----
    A MILP that SCIP does not finish within ``_network_solve.TIME_LIMIT_S`` (10) seconds comes back
    ``"feasible"`` (best plan found, not proven optimal); with no plan found, its LP relaxation
    decides between ``"infeasible"`` (proven: diagnosed as usual) and ``"time_limit"``.
    """
    t0 = time.perf_counter()
    net0 = load_network(network)
    net, rules, parsed = apply_edits(net0, edits)
    sol = FlowModel(net, rules).solve()
    if sol.status == "time_limit":  # no whole-unit plan found in time: does the LP have one?
        lp = FlowModel(net, rules, continuous=True).solve()
        if lp.status == "infeasible":
            sol = replace(sol, status="infeasible")
    diagnosis, short, parts = "", [], []
    if sol.status == "infeasible":
        d = diagnose(net, rules)
        diagnosis, short, parts = d.text, d.shortfall, d.parts
    elif sol.status == "time_limit":
        parts = [
            f"the MILP solver ({sol.solver}) found no plan within its time limit of {_solve.TIME_LIMIT_S:g} s; "
            "the LP relaxation has one, so the network may still be feasible in whole units"
        ]
        diagnosis = "time limit: " + parts[0]
    return _plan_from(
        net,
        sol,
        parsed,
        seconds=time.perf_counter() - t0,
        diagnosis=diagnosis,
        short=short,
        findings=parts,
    )


# ---------------------------------------------------------------------------------------------
# what-if and why
# ---------------------------------------------------------------------------------------------


def _changes(before: NetworkPlan, after: NetworkPlan) -> pd.DataFrame:
    cols = ["from", "to", "product", "before", "after", "change"]
    if not (before.ok and after.ok):
        return pd.DataFrame(columns=cols)
    key = ["from", "to", "product"]
    b = before.flows[[*key, "flow"]].rename(columns={"flow": "before"})
    a = after.flows[[*key, "flow"]].rename(columns={"flow": "after"})
    m = b.merge(a, on=key, how="outer", sort=False)
    m[["before", "after"]] = m[["before", "after"]].fillna(0.0)
    m["change"] = m["after"] - m["before"]
    keep = (m["change"].abs() > _CHANGE_TOL * m["before"].abs().clip(lower=1.0)).to_numpy()
    # file order of arcs, then product order
    order = {k: i for i, k in enumerate(before.network.arcs)}
    prod = {k: i for i, k in enumerate((RAW, *before.network.products))}
    m = m[keep]
    m = m.assign(
        _a=[order.get((f, t), len(order)) for f, t in zip(m["from"], m["to"], strict=True)],
        _p=[prod.get(p, len(prod)) for p in m["product"]],
    )
    return m.sort_values(["_a", "_p"], kind="stable")[cols].reset_index(drop=True)


@dataclass(frozen=True, eq=False)
class WhatIf:
    """A plan with and without edits.

    Attributes
    ----------
    edits
        The what-if edits (validated).
    baseline, result
        The plan without and with them.
    delta
        ``result.cost - baseline.cost``; ``None`` when either plan is infeasible.
    changed_flows
        ``from, to, product, before, after, change`` for every (arc, commodity) whose flow
        changed (empty when either plan is infeasible).
    """

    edits: list[Any]
    baseline: NetworkPlan
    result: NetworkPlan
    delta: float | None
    changed_flows: pd.DataFrame

    @property
    def feasible(self) -> bool:
        """Whether the edited plan exists."""
        return self.result.ok

    def to_dict(self) -> dict[str, Any]:
        return {
            "edits": [e.model_dump() for e in self.edits],
            "baseline": self.baseline.to_dict(),
            "result": self.result.to_dict(),
            "delta": self.delta,
            "changed_flows": _records(self.changed_flows),
        }

    def __repr__(self) -> str:
        d = "None" if self.delta is None else f"{self.delta:+,.6g}"
        return f"WhatIf({len(self.edits)} edit(s): {self.baseline.status} -> {self.result.status}, delta={d})"


def _delta(a: NetworkPlan, b: NetworkPlan) -> float | None:
    if a.cost is None or b.cost is None:
        return None
    return _r(b.cost - a.cost)


def what_if(network: Network | str | Any, edits: Any, *, base_edits: Any = None) -> WhatIf:
    """Solve the network without and with ``edits``.

    Parameters
    ----------
    network
        A :class:`Network` or anything :func:`load_network` reads.
    edits
        The what-if edits (models, dicts, one edit).
    base_edits
        Edits applied to both plans (the baseline's own scenario), before ``edits``.

    Returns
    -------
    WhatIf
        ``baseline``, ``result``, ``delta`` (cost change; ``None`` if either is infeasible),
        ``changed_flows``.
    """
    net = load_network(network)
    base = as_edit_list(base_edits)
    extra = as_edit_list(edits)
    baseline = plan_network(net, base)
    result = plan_network(net, [*base, *extra])
    return WhatIf(
        edits=extra,
        baseline=baseline,
        result=result,
        delta=_delta(baseline, result),
        changed_flows=_changes(baseline, result),
    )


@dataclass(frozen=True, eq=False)
class Why:
    """Why the plan uses arc ``src->dst``: the plan without it (OptiGuide's counterfactual).

    Attributes
    ----------
    arc, product
        The arc asked about and the product (``None`` = every product on it).
    flow
        Units on it in the baseline plan.
    used
        ``flow > 0``.
    baseline
        The current plan.
    result
        The plan with the arc forbidden (for ``product``, or for every product); the baseline
        itself when the arc is unused.
    delta
        ``result.cost - baseline.cost``: what doing without the flow would cost (0 when unused;
        ``None`` when the plan without it is infeasible, or the baseline is).
    changed_flows
        As in :class:`WhatIf`.
    tie
        The flow is used but doing without it costs nothing (``|delta| <= TIE_TOL · max(1,
        |baseline cost|)``): another plan is exactly as cheap, so the solver's choice of this flow
        is a tie-break, not a saving.
    """

    arc: tuple[str, str]
    product: str | None
    flow: float
    used: bool
    baseline: NetworkPlan
    result: NetworkPlan
    delta: float | None
    changed_flows: pd.DataFrame
    tie: bool = False

    @property
    def feasible_without(self) -> bool:
        """Whether a plan exists without the flow."""
        return self.result.ok

    def summary(self) -> str:
        """One or two sentences: the flow, and what doing without it would cost (or that it is a tie)."""
        p = f" ({self.product})" if self.product else ""
        head = f"{self.arc[0]}->{self.arc[1]}{p}"
        if not self.baseline.ok:
            return f"{head}: the current plan is {self.baseline.status}, so there is no flow to explain"
        if not self.used:
            return f"{head} carries nothing in the current plan (cost {self.baseline.cost:,.6g})"
        lead = f"{head} carries {self.flow:,.6g} units in the current plan (cost {self.baseline.cost:,.6g})"
        if self.delta is None:
            return f"{lead}; without it there is no plan ({self.result.status}): it is needed"
        if self.tie:
            return (
                f"{lead}; without it the plan costs the same ({self.result.cost:,.6g}): a tie between "
                "equally cheap plans, so the flow is a tie-break, not a saving"
            )
        return f"{lead}; without it the plan costs {self.result.cost:,.6g} ({self.delta:+,.6g})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "arc": list(self.arc),
            "product": self.product,
            "flow": self.flow,
            "used": self.used,
            "tie": self.tie,
            "summary": self.summary(),
            "feasible_without": self.feasible_without,
            "baseline": self.baseline.to_dict(),
            "result": self.result.to_dict(),
            "delta": self.delta,
            "changed_flows": _records(self.changed_flows),
        }

    def __repr__(self) -> str:
        d = "None" if self.delta is None else f"{self.delta:+,.6g}"
        p = f" ({self.product})" if self.product else ""
        tie = ", tie" if self.tie else ""
        return (
            f"Why({self.arc[0]}->{self.arc[1]}{p}: flow={self.flow:,.6g}, used={self.used}, delta={d}{tie})"
        )


def why(
    network: Network | str | Any,
    arc: Any,
    product: str | None = None,
    *,
    edits: Any = None,
) -> Why:
    """Why is the flow on ``arc`` used?  Forbid it, re-solve, report the cost of doing without.

    Parameters
    ----------
    network
        A :class:`Network` or anything :func:`load_network` reads.
    arc
        ``("p1", "c1")``, ``"p1->c1"`` or ``{"from": ..., "to": ...}``.
    product
        One product (``None`` = every product on the arc; ``"raw"`` on a supplier arc).
    edits
        Edits of the current scenario, applied to both plans.

    Returns
    -------
    Why
        ``flow``, ``used``, ``baseline``, ``result``, ``delta`` (``None`` when infeasible
        without the arc), ``changed_flows``, ``tie`` (used, and doing without it costs nothing).
    """
    net = load_network(network)
    spec = {"arc": (arc.get("from"), arc.get("to"))} if isinstance(arc, dict) else {"arc": arc}
    forbid = as_edit_list([{"kind": "forbid_arc", **spec, "product": product}])[0]
    base = as_edit_list(edits)
    apply_edits(net, [*base, forbid])  # check the arc and product names first
    key = (forbid.arc[0], forbid.arc[1])
    baseline = plan_network(net, base)
    flow = baseline.flow(*key, product=product) if baseline.ok else 0.0
    if not baseline.ok or flow <= 0:
        result = baseline
        delta: float | None = 0.0 if baseline.ok else None
    else:
        result = plan_network(net, [*base, forbid])
        delta = _delta(baseline, result)
    tie = bool(
        flow > 0
        and delta is not None
        and baseline.cost is not None
        and abs(delta) <= TIE_TOL * max(1.0, abs(baseline.cost))
    )
    return Why(
        arc=key,
        product=product,
        flow=flow,
        used=flow > 0,
        baseline=baseline,
        result=result,
        delta=delta,
        changed_flows=_changes(baseline, result),
        tie=tie,
    )
