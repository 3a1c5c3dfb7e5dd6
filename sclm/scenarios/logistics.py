"""Logistics scenario: depots that replenish customer sites and deliver to their customers.

Nodes
    ``n_nodes`` splits into ``max(1, round(n_nodes / 4))`` depots (``depot_01`` ...) and the
    rest customer sites (``customer_01`` ...); customer ``i`` is served by depot
    ``i mod n_depots``.  Default 8 nodes: 2 depots, 6 customers.  Customer sites hold stock
    (vendor-managed) of one product each; a depot holds the assortment of its customers'
    products, labelled ``"mixed freight"`` (all counted in units).
Variables (every node has the same columns; counts are integer units)
    ``orders``
        Orders received.  Customers: exogenous end-customer orders.  Depots: direct orders
        (exogenous) plus their customers' replenishment requests.  The exogenous part is
        Poisson(base × linear trend × weekly season × AR(1) log-shock); a customer's shock is
        half shared with its depot.
    ``shipments`` (q)
        Inbound shipments received: a depot's from its supplier, a customer's from its depot
        (served before the depot's direct customers).
        ``shipments[t] = rint(alpha·orders[t-L-1] + beta·(target_stock - inventory[t-L]))``.
    ``inventory`` (k)
        Opening stock; ``inventory[t+1] = inventory[t] + shipments[t] - delivery[t]`` exactly.
    ``delivery`` (d)
        Outbound deliveries: ``min(rint(f[t-L]·ext[t-L]) + requests due, inventory[t] +
        shipments[t], fleet capacity)`` with a daily fill rate ``f ~ Uniform(fill_min, 1)``
        (the end customers cancel the rest; a depot's customer sites are served in full), lost
        when short (the capacity is rarely binding).  The fill rate keeps the deliveries from
        being an exact copy of the orders they serve.
    ``humidity``
        Distractor (percent): an independent AR(1) around a site level; drives nothing.
Sources
    ``orders``: erp; ``shipments``: iot (dock scanner, binomial thinning, miss rate p), erp and
    tms; ``inventory``: erp, wms (in cases) and rfid; ``delivery``: erp, carrier and tms;
    ``humidity``: sensor.
Defaults
    ``lead_time`` L = 2: deliveries follow orders at lag 2, shipments follow orders at lag 3 and
    inventory at lag 2; alpha = 1, beta = 0.25, cover 5 days, fill_min 0.75.
Answer key (``drivers``) and the perfect explanation of the one-step forecast
    With origin ``o`` and the forecast of day ``o + 1`` (cells ``(variable, lag)``,
    ``lag = o - day``):

    * ``shipments[o+1]``: ``orders`` at lag 2 (weight alpha) and ``inventory`` at lag 1
      (weight -beta), or for the latter its **equivalents** by the balance one day earlier:
      ``inventory``, ``shipments`` and ``delivery`` at lag 2 (role ``equivalent``);
    * ``inventory[o+1]``: ``inventory``, ``shipments`` (+1) and ``delivery`` (-1) at lag 0,
      with the cells the balance's terms are made of: ``orders`` at lag 3 and ``inventory``
      at lag 2 (the order rule that made ``shipments[o]``: equivalents), ``orders`` at lag 2
      (the orders ``delivery[o]`` delivers a random share of: an ``ancestor``) and
      ``inventory``, ``shipments``, ``delivery`` at lag 1 (the balance one day earlier);
    * ``delivery[o+1]``: ``orders`` at lag 1 (times the mean fill rate; the day's fill rate is
      the irreducible error).

    A method crediting a driver or any of its declared equivalents is right
    (:func:`sclm.scenarios._base.flow_key_rows`).  No other input copies a driver
    (``humidity`` drives nothing).  Later steps: cells at ``lag - h`` where visible; the key
    names no ancestors for the others (score step 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from sclm.scenarios._base import (
    BURN_IN_DAYS,
    COUNT_UNIT,
    Channel,
    Scenario,
    ScenarioParams,
    ar1,
    build_scenario,
    demand_rate,
    flow_key_rows,
    node_names,
    panel_days,
    pick_cities,
    round_robin_parents,
    streams,
)
from sclm.scenarios._network import simulate_network
from sclm.scenarios.documents import PRODUCTS

WEEKLY = (1.15, 1.10, 1.05, 1.05, 1.10, 0.85, 0.70)
PACK_SIZES = (6, 12, 24, 48)
TARGETS = {"q": "shipments", "k": "inventory", "d": "delivery"}
DISTRACTORS = ["humidity"]
UNITS = {
    "orders": COUNT_UNIT,
    "shipments": COUNT_UNIT,
    "inventory": COUNT_UNIT,
    "delivery": COUNT_UNIT,
    "humidity": "percent",
}
CHANNELS = (
    Channel("orders", "erp"),
    Channel("shipments", "iot", thinning=True),
    Channel("shipments", "erp"),
    Channel("shipments", "tms"),
    Channel("inventory", "erp"),
    Channel("inventory", "wms", cases=True),
    Channel("inventory", "rfid"),
    Channel("delivery", "erp"),
    Channel("delivery", "carrier"),
    Channel("delivery", "tms"),
    Channel("humidity", "sensor", unit="percent"),
)
DOCUMENTS = {
    "purchase_order": "orders",
    "shipping_notice": "delivery",
    "delay_report": "delivery",
    "supplier_email": "shipments",
}


@dataclass(frozen=True)
class LogisticsParams(ScenarioParams):
    """Parameters of :func:`simulate` (see :class:`~sclm.scenarios._base.ScenarioParams`).

    Parameters
    ----------
    noise_carrier, noise_sensor
        Relative noise σ of the carrier feed and of the humidity sensor.
    noise_rfid, noise_tms
        Relative noise σ of the third source of inventory (RFID cycle counts) and of shipments
        and deliveries (transport management system); comparable to ERP's by default so that
        fusion has something to gain.
    capacity_factor
        Daily fleet capacity of a node as a multiple of its expected peak orders (>= 1.1).
    fill_min
        Lowest daily fill rate: each node delivers ``Uniform(fill_min, 1)`` of its end
        customers' orders (0.5 to 1; 1 delivers every order, so deliveries copy the orders).
    """

    n_nodes: int = 8
    lead_time: int = 2
    beta: float = 0.25
    cover_days: float = 5.0
    noise_carrier: float = 0.02
    noise_sensor: float = 0.02
    noise_rfid: float = 0.02
    noise_tms: float = 0.02
    capacity_factor: float = 1.8
    fill_min: float = 0.75

    scenario: ClassVar[str] = "logistics"

    def _check(self) -> None:
        super()._check()
        if not 0.5 <= self.fill_min <= 1.0:
            raise ValueError(f"fill_min={self.fill_min!r} is out of range; expected 0.5 <= fill_min <= 1")
        if not 1.1 <= self.capacity_factor <= 10.0:
            raise ValueError(
                f"capacity_factor={self.capacity_factor!r} is out of range; expected 1.1 <= capacity_factor <= 10"
            )

    def build(self) -> Scenario:
        return simulate(self)


def node_counts(n_nodes: int) -> tuple[int, int]:
    """``(depots, customers)`` for ``n_nodes``: ``max(1, round(n/4))`` depots, the rest customers."""
    depots = max(1, round(n_nodes / 4))
    return depots, n_nodes - depots


def simulate(params: LogisticsParams) -> Scenario:
    """Simulate the logistics scenario.

    Parameters
    ----------
    params
        The scenario parameters.

    Returns
    -------
    Scenario
        Truth panel of ``n_nodes × n_days`` rows with columns ``orders, shipments, inventory,
        delivery, humidity``; 11 readings per node-day before faults.
    """
    rngs = streams(params.seed, params.scenario)
    rs = rngs["structure"]
    n_depots, n_cust = node_counts(params.n_nodes)
    # sorted order: customer_* < depot_*
    names = node_names("customer", n_cust) + node_names("depot", n_depots)
    types = ["customer"] * n_cust + ["depot"] * n_depots
    n = len(names)
    parent = np.concatenate([n_cust + round_robin_parents(n_cust, n_depots), np.full(n_depots, -1)])
    parent = parent.astype(np.int64)
    is_child = parent >= 0

    base = np.concatenate([rs.uniform(60, 200, n_cust), rs.uniform(100, 300, n_depots)]).round()
    growth = params.growth * rs.uniform(0.5, 1.5, n)
    amplitude = rs.uniform(0.6, 1.0, n)
    pack = rs.choice(PACK_SIZES, n)
    product_idx = rs.integers(len(PRODUCTS["logistics"]), size=n)
    hum_level = rs.uniform(50.0, 75.0, n)
    hum_sd = rs.uniform(4.0, 8.0, n)
    cities = pick_cities(rs, n)

    products = [
        PRODUCTS["logistics"][j] if c else "mixed freight" for j, c in zip(product_idx, is_child, strict=True)
    ]
    level = base.copy()
    np.add.at(level, parent[is_child], base[is_child])
    target_stock = np.rint(params.cover_days * level)
    horizon_growth = 1.0 + np.maximum(growth, 0.0) * params.n_days / 365.0
    capacity = np.rint(params.capacity_factor * level * horizon_growth * max(WEEKLY))

    dates, days, dow = panel_days(params)
    rate = demand_rate(
        rngs["exogenous"],
        days=days,
        start_dow=dow,
        base=base,
        growth=growth,
        weekly=WEEKLY,
        amplitude=amplitude,
        shock_sd=0.1,
        shock_phi=0.6,
        parent=parent,
    )
    ext = rngs["exogenous"].poisson(rate).astype(np.float64)
    sim = simulate_network(
        ext,
        parent,
        lead=params.lead_time,
        delivery_lag=params.lead_time,
        signal="orders",
        alpha=params.alpha,
        beta=params.beta,
        target_stock=target_stock,
        delivery_cap=capacity,
        warmup_level=level,
        fill=rngs["fulfilment"].uniform(params.fill_min, 1.0, ext.shape),
    )
    sl = slice(BURN_IN_DAYS, None)
    z = ar1(rngs["distractor"], (len(days), n), 0.5)
    truth = {
        "orders": sim["book"][sl].T,
        "shipments": sim["inflow"][sl].T,
        "inventory": sim["stock"][sl].T,
        "delivery": sim["outflow"][sl].T,
        "humidity": np.round(np.clip(hum_level[:, None] + hum_sd[:, None] * z[sl].T, 5.0, 100.0), 1),
    }
    lag = params.lead_time
    rule = (
        f"shipments[t] = rint(alpha*orders[t-{lag + 1}] + beta*(target_stock - inventory[t-{lag}])), "
        "not below 0; a customer's shipments are allocated from its depot's stock"
    )
    balance = "inventory[t] = inventory[t-1] + shipments[t-1] - delivery[t-1] (exact)"
    drivers = [
        ("shipments", "orders", lag + 1, params.alpha, "all", rule),
        ("shipments", "inventory", lag, -params.beta, "all", rule),
        ("inventory", "inventory", 1, 1.0, "all", balance),
        ("inventory", "shipments", 1, 1.0, "all", balance),
        ("inventory", "delivery", 1, -1.0, "all", balance),
        (
            "delivery",
            "orders",
            lag,
            (1.0 + params.fill_min) / 2,
            "all",
            f"delivery[t] = rint(f*orders[t-{lag}]) + customer-site requests due, f ~ U({params.fill_min:g}, 1) "
            "the fill rate; capped by inventory[t] + shipments[t] and the fleet (lost when short, rare)",
        ),
    ]
    drivers += flow_key_rows(
        "shipments",
        "inventory",
        "delivery",
        lag=lag,
        alpha=params.alpha,
        beta=params.beta,
        fill_mean=(1.0 + params.fill_min) / 2,
    )
    meta = {
        "description": (
            "Depots replenish vendor-managed customer sites and deliver their orders after the lead "
            "time; every node runs the same order-following replenishment rule."
        ),
        "targets": TARGETS,
        "distractors": DISTRACTORS,
        "covariates": ["orders"],
        "known_future": {},
        "exogenous": "orders (customers; depots: direct orders plus customer requests)",
        "node_split": "depots = max(1, round(n_nodes / 4)), customers = n_nodes - depots",
        "rule": {
            "alpha": params.alpha,
            "beta": params.beta,
            "lead_time": lag,
            "cover_days": params.cover_days,
            "fill_min": params.fill_min,
        },
    }
    return build_scenario(
        params=params,
        rngs=rngs,
        names=names,
        node_types=types,
        parents=[names[i] if i >= 0 else "" for i in parent],
        cities=cities,
        products=products,
        units_per_case=pack,
        capacity=capacity,
        target_stock=target_stock,
        dates=dates,
        truth=truth,
        native_units=UNITS,
        channels=CHANNELS,
        drivers=drivers,
        documents=DOCUMENTS,
        meta=meta,
    )
