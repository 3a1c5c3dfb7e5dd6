"""The manufacturing scenario as a supply network (:func:`scenario_network`)."""

from __future__ import annotations

import hashlib
import math
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["CITY_COORDS", "city_km", "scenario_network"]

CITY_COORDS: dict[str, tuple[float, float]] = {
    "Rotterdam": (51.92, 4.48),
    "Hamburg": (53.55, 9.99),
    "Lyon": (45.76, 4.84),
    "Milan": (45.46, 9.19),
    "Gdansk": (54.35, 18.65),
    "Valencia": (39.47, -0.38),
    "Porto": (41.15, -8.61),
    "Leipzig": (51.34, 12.37),
    "Antwerp": (51.22, 4.40),
    "Brno": (49.20, 16.61),
    "Tampere": (61.50, 23.76),
    "Cork": (51.90, -8.47),
    "Kansas City": (39.10, -94.58),
    "New York": (40.71, -74.01),
    "Sao Paulo": (-23.55, -46.63),
    "Ho Chi Minh City": (10.82, 106.63),
    "Osaka": (34.69, 135.50),
    "Pune": (18.52, 73.86),
}
"""(latitude, longitude) in degrees of every city the scenarios use (``documents.CITIES``), to 0.01°."""

PROCESSING_COST = 10.0
"""Processing cost per unit at a plant, for the product it makes."""
FLEX_PREMIUM = 1.25
"""With ``flexible=True``, a plant makes the other products at this multiple of its cost."""
HANDLING_COST = 1.0
"""Warehouse handling cost per unit."""
SUPPLY_COST = (4.0, 5.0, 6.0)
"""Raw-material cost per unit of supplier 1, 2, 3."""
SUPPLY_SHARE = 0.35
"""Each supplier's capacity as a share of the plants' total capacity over the horizon."""
BULK = (0.5, 0.5)
"""Supplier→plant and plant→warehouse (full loads): cost per unit = a + b · km / 1000."""
PARCEL = (1.0, 1.0)
"""Plant→customer and warehouse→customer (last mile): cost per unit = a + b · km / 1000."""


def city_km(a: str, b: str) -> float:
    """Great-circle distance in km between two cities (Earth radius 6371 km).

    A city missing from :data:`CITY_COORDS` gets a deterministic stand-in: 500–3000 km from a
    SHA-256 hash of the sorted pair.  The same city: 0.
    """
    if a == b:
        return 0.0
    if a in CITY_COORDS and b in CITY_COORDS:
        (la1, lo1), (la2, lo2) = CITY_COORDS[a], CITY_COORDS[b]
        p1, p2 = math.radians(la1), math.radians(la2)
        dp, dl = p2 - p1, math.radians(lo2 - lo1)
        h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
        return 2 * 6371.0 * math.asin(math.sqrt(h))
    pair = "|".join(sorted((a, b))).encode()
    return 500.0 + 2500.0 * int(hashlib.sha256(pair).hexdigest()[:8], 16) / 0xFFFFFFFF


def _cost(rule: tuple[float, float], km: float) -> float:
    return round(rule[0] + rule[1] * km / 1000.0, 2)


def _node_totals(
    scenario: Any, demand: pd.DataFrame | None, horizon: int | None, quantile: str
) -> tuple[dict[str, dict[str, float]], int, str]:
    """variable → node → total over the horizon, the horizon, and where the numbers came from."""
    nodes = list(scenario.nodes["node"])
    if demand is None:
        h = 7 if horizon is None else int(horizon)
        if h < 1:
            raise ValueError(f"horizon={horizon!r}; expected a whole number of days >= 1")
        truth = scenario.truth
        out: dict[str, dict[str, float]] = {}
        for var in ("logistics", "production"):
            per = truth[var].groupby(level="node").apply(lambda s: float(s.iloc[-h:].sum()))
            out[var] = {n: float(per[n]) for n in nodes}
        return out, h, f"truth, last {h} days"
    need = {"node", "variable", "ts", quantile}
    missing = need - set(demand.columns)
    if missing:
        raise ValueError(
            f"demand frame lacks column(s) {sorted(missing)}; expected the long forecast frame "
            "node, variable, ts, mean, q0.1 ... q0.9 of TrainedForecaster.forecast"
        )
    days = sorted(pd.to_datetime(demand["ts"]).unique())
    h = len(days) if horizon is None else int(horizon)
    if not 1 <= h <= len(days):
        raise ValueError(f"horizon={horizon!r}; the demand frame covers {len(days)} day(s)")
    keep = pd.to_datetime(demand["ts"]).isin(days[:h])
    f = demand.loc[keep]
    out = {}
    for var in ("logistics", "production"):
        sub = f[f["variable"] == var]
        if var == "logistics":
            lack = sorted(set(nodes) - set(sub["node"]))
            if lack:
                raise ValueError(f"demand frame has no 'logistics' forecast for node(s) {lack}")
        per = sub.groupby("node")[quantile].sum()
        out[var] = {n: float(per[n]) for n in nodes if n in per.index}
    return out, h, f"forecast ({quantile}), {h} days"


def scenario_network(
    scenario: Any,
    demand: pd.DataFrame | None = None,
    *,
    horizon: int | None = None,
    quantile: str = "mean",
    flexible: bool = False,
    integer: bool = False,
    n_suppliers: int = 2,
) -> Any:
    """The manufacturing scenario's supply network for one planning period of ``horizon`` days.

    Parameters
    ----------
    scenario
        A manufacturing :class:`~sclm.scenarios.Scenario` (nodes of type plant and warehouse;
        each warehouse hangs under one plant and carries that plant's product).
    demand
        A long forecast frame (``node, variable, ts, mean, q0.1 ... q0.9``, as returned by
        :meth:`sclm.pipeline.TrainedForecaster.forecast`); the first ``horizon`` days are used
        (all of them when ``horizon`` is None).  ``None``: the truth's last ``horizon`` days
        (the period's demand is their sum, i.e. horizon × their daily mean).
    horizon
        Days in the period (default: every day of ``demand``; 7 when ``demand`` is None).
    quantile
        Column of ``demand`` to plan for: ``"mean"`` or a quantile such as ``"q0.9"``.
    flexible
        Let every plant make every product, at ``FLEX_PREMIUM`` × its processing cost (the
        scenario's plants each make one product; default False keeps that).
    integer
        Whole units (MILP).
    n_suppliers
        Raw-material suppliers to add (1–3).

    Returns
    -------
    Network
        Named ``"<scenario>-seed<seed>"``.

    Notes
    -----
    Every assumption, in one place:

    * Demand.  Each node's outbound shipments (``logistics``, the target d) over the period are
      what its customers take.  A warehouse's shipments are the demand of its customer region
      ``customers_<warehouse>``; a plant's shipments include its warehouses' replenishment, so its
      direct customers ``customers_<plant>`` demand ``logistics(plant) - Σ production(warehouse)``
      over its warehouses (their inflow; their ``logistics`` when the frame has no
      ``production``), floored at 0.  Each customer demands its node's product only.
    * Plants: capacity = the scenario's daily capacity × ``horizon``; processing cost
      ``PROCESSING_COST`` = 10 per unit of their product.  Warehouses: unbounded (the scenario
      gives none), handling ``HANDLING_COST`` = 1 per unit, any product.
    * Suppliers ``supplier_1 ..``: located in the first cities of the scenarios' city list that
      no node uses; raw cost 4, 5, 6 per unit; each with capacity ``SUPPLY_SHARE`` = 0.35 × the
      plants' total capacity (with two suppliers, 0.7 × plant capacity — about 1.4 × the demand
      at the default capacity factor).
    * Arcs: every supplier → every plant; every plant → every warehouse; every plant and every
      warehouse → every customer.  Costs per unit from great-circle distances between the
      nodes' cities (:data:`CITY_COORDS`; customers sit in their node's city): full loads
      (supplier→plant, plant→warehouse) 0.5 + 0.5 · km/1000, last mile (→ customer)
      1 + km/1000, rounded to cents.  So a warehouse pays off for far-away regions.
    """
    from sclm.decisions._network_model import load_network
    from sclm.scenarios.documents import CITIES

    nodes = scenario.nodes
    types = set(nodes["node_type"])
    if not types <= {"plant", "warehouse"} or "plant" not in types:
        raise ValueError(
            f"scenario {getattr(scenario, 'name', '?')!r} has node types {sorted(types)}; "
            "scenario_network needs the manufacturing scenario's plants and warehouses"
        )
    if not 1 <= int(n_suppliers) <= len(SUPPLY_COST):
        raise ValueError(f"n_suppliers={n_suppliers!r}; expected 1 to {len(SUPPLY_COST)}")
    totals, h, origin = _node_totals(scenario, demand, horizon, quantile)
    plants = nodes[nodes["node_type"] == "plant"]
    whs = nodes[nodes["node_type"] == "warehouse"]
    products = list(dict.fromkeys(plants["product"]))
    city = dict(zip(nodes["node"], nodes["city"], strict=True))
    country = dict(zip(nodes["node"], nodes["country"], strict=True))
    product = dict(zip(nodes["node"], nodes["product"], strict=True))

    def where(c: str, k: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"city": c, "country": k or dict(CITIES).get(c, "")}
        if c in CITY_COORDS:
            out["lat"], out["lon"] = CITY_COORDS[c]
        return out

    spec: dict[str, dict[str, Any]] = {}
    used = set(city.values())
    free = [c for c, _ in CITIES if c not in used] or [c for c, _ in CITIES]
    plant_cap = {n: float(c) * h for n, c in zip(plants["node"], plants["capacity"], strict=True)}
    total_cap = sum(v for v in plant_cap.values() if np.isfinite(v))
    for i in range(int(n_suppliers)):
        c = free[i % len(free)]
        spec[f"supplier_{i + 1}"] = {
            "role": "supplier",
            "capacity": round(SUPPLY_SHARE * total_cap, 6),
            "cost": SUPPLY_COST[i],
            "label": f"raw-material supplier {i + 1}",
            **where(c),
        }
    for n in plants["node"]:
        cost = {k: PROCESSING_COST * (1.0 if k == product[n] else FLEX_PREMIUM) for k in products}
        if not flexible:
            cost = {product[n]: PROCESSING_COST}
        spec[n] = {
            "role": "plant",
            "cost": cost,
            "label": f"{product[n]} plant in {city[n]}",
            **where(city[n], country[n]),
        }
        if np.isfinite(plant_cap[n]):
            spec[n]["capacity"] = plant_cap[n]
    for n in whs["node"]:
        spec[n] = {
            "role": "warehouse",
            "cost": HANDLING_COST,
            "label": f"warehouse in {city[n]}",
            **where(city[n], country[n]),
        }
    children: dict[str, list[str]] = {}
    for n, par in zip(whs["node"], whs["parent"], strict=True):
        children.setdefault(par, []).append(n)
    prod_tot = totals.get("production", {})
    for n in nodes["node"]:
        q = totals["logistics"][n]
        if n in children:  # a plant: its direct customers only
            q -= sum(prod_tot.get(w, totals["logistics"][w]) for w in children[n])
        spec[f"customers_{n}"] = {
            "role": "customer",
            "demand": {product[n]: round(max(0.0, q), 6)},
            "label": f"customers of {n} ({city[n]})",
            **where(city[n], country[n]),
        }
    arcs = []
    names = list(spec)
    role = {n: s["role"] for n, s in spec.items()}
    loc = {n: s["city"] for n, s in spec.items()}
    for a in names:
        for b in names:
            pair = (role[a], role[b])
            if pair in (("supplier", "plant"), ("plant", "warehouse")):
                rule = BULK
            elif pair in (("plant", "customer"), ("warehouse", "customer")):
                rule = PARCEL
            else:
                continue
            arcs.append({"from": a, "to": b, "cost": _cost(rule, city_km(loc[a], loc[b]))})
    seed = scenario.meta.get("seed", 0) if hasattr(scenario, "meta") else 0
    name = f"{getattr(scenario, 'name', 'scenario')}-seed{seed}"
    return load_network(
        {
            "name": name,
            "description": f"{name}: one period of {h} days; demand from the {origin}",
            "integer": bool(integer),
            "products": products,
            "nodes": spec,
            "arcs": arcs,
        }
    )
