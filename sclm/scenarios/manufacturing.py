"""Manufacturing scenario: plants that make to stock and warehouses they replenish.

Nodes
    ``n_nodes`` splits into ``ceil(0.6·n_nodes)`` plants (``plant_01`` ...) and the rest
    warehouses (``warehouse_01`` ...); warehouse ``i`` hangs under plant ``i mod n_plants``.
    Default 5 nodes: 3 plants, 2 warehouses.  A warehouse carries its plant's product and pack.
Variables (every node has the same columns; counts are integer units)
    ``orders``
        Orders received.  Warehouses: exogenous customer orders.  Plants: direct customer
        orders (exogenous) plus their warehouses' replenishment requests.  The exogenous part
        is Poisson(base × linear trend × weekly season (Mon–Fri high) × AR(1) log-shock); a
        warehouse's shock is half shared with its plant.
    ``production`` (q)
        Inflow: the line output of a plant (capped at its capacity, rarely binding); at a
        warehouse, the goods received from its plant (served before the plant's own customers).
        ``production[t] = rint(alpha·orders[t-L-1] + beta·(target_stock - inventory[t-L]))``.
    ``inventory`` (k)
        Opening stock; ``inventory[t+1] = inventory[t] + production[t] - logistics[t]`` exactly.
    ``logistics`` (d)
        Outbound shipments: ``min(rint(f[t-L]·ext[t-L]) + requests due, inventory[t] + production[t])``
        with a daily fill rate ``f ~ Uniform(fill_min, 1)`` (the customers cancel the rest;
        a plant's warehouses are served in full), lost when short.  The fill rate keeps the
        shipments from being an exact copy of the orders they serve.
    ``ambient_temp``
        Distractor (°C): an independent AR(1) around a site level; drives nothing.
Sources
    ``orders``: erp; ``production``: iot (binomial thinning, miss rate p), erp and mes;
    ``inventory``: erp, wms (in cases) and rfid; ``logistics``: erp, carrier and tms;
    ``ambient_temp``: sensor.
Defaults
    ``lead_time`` L = 1, so production follows orders at lag 2 and inventory at lag 1, and
    shipments follow orders at lag 1; alpha = 1, beta = 0.3, cover 4 days, fill_min 0.75.
Answer key (``drivers``) and the perfect explanation of the one-step forecast
    With origin ``o`` (the last input day) and the forecast of day ``o + 1`` (cells as
    ``(variable, lag)``, ``lag = o - day``):

    * ``production[o+1]``: ``orders`` at lag 1 (weight alpha) and ``inventory`` at lag 0
      (weight -beta); the balance one day earlier makes ``inventory``, ``production`` and
      ``logistics`` at lag 1 together **equivalent** to ``inventory`` at lag 0 (role
      ``equivalent``);
    * ``inventory[o+1]``: ``inventory``, ``production`` (+1) and ``logistics`` (-1), all at
      lag 0 (the balance), with the cells the balance's terms are made of: ``orders`` at lag 2
      and ``inventory`` at lag 1 (the order rule that made ``production[o]``: equivalents),
      ``orders`` at lag 1 (the orders ``logistics[o]`` ships a random share of: an
      ``ancestor``, not a copy) and ``inventory``, ``production``, ``logistics`` at lag 1
      (the balance one day earlier, equivalent to ``inventory[o]``);
    * ``logistics[o+1]``: ``orders`` at lag 0 (times the mean fill rate); the day's fill rate
      is not visible, so it is the forecast's irreducible error.

    A method crediting a driver or any of its declared equivalents is right
    (:func:`sclm.scenarios._base.flow_key_rows` lists them and the identity each rests on).
    No other input copies a driver: ``logistics`` differs from the orders it serves by the
    fill rate, and ``ambient_temp`` drives nothing.  For a later step ``h`` the rule's cells
    move to ``lag - h``; those that fall after the origin are not visible and the key names
    none of their ancestors (score step 1).
"""

from __future__ import annotations

import math
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

WEEKLY = (1.10, 1.12, 1.10, 1.08, 1.05, 0.80, 0.75)
PACK_SIZES = (6, 12, 24, 48)
TARGETS = {"q": "production", "k": "inventory", "d": "logistics"}
DISTRACTORS = ["ambient_temp"]
UNITS = {
    "orders": COUNT_UNIT,
    "production": COUNT_UNIT,
    "inventory": COUNT_UNIT,
    "logistics": COUNT_UNIT,
    "ambient_temp": "degC",
}
CHANNELS = (
    Channel("orders", "erp"),
    Channel("production", "iot", thinning=True),
    Channel("production", "erp"),
    Channel("production", "mes"),
    Channel("inventory", "erp"),
    Channel("inventory", "wms", cases=True),
    Channel("inventory", "rfid"),
    Channel("logistics", "erp"),
    Channel("logistics", "carrier"),
    Channel("logistics", "tms"),
    Channel("ambient_temp", "sensor", unit="degC"),
)
DOCUMENTS = {
    "purchase_order": "orders",
    "shipping_notice": "logistics",
    "delay_report": "logistics",
    "supplier_email": "production",
}


@dataclass(frozen=True)
class ManufacturingParams(ScenarioParams):
    """Parameters of :func:`simulate` (see :class:`~sclm.scenarios._base.ScenarioParams`).

    Parameters
    ----------
    noise_carrier, noise_sensor
        Relative noise σ of the carrier feed and of the ambient sensor.
    noise_mes, noise_rfid, noise_tms
        Relative noise σ of the third source of production (manufacturing execution system),
        inventory (RFID cycle counts) and logistics (transport management system).  The
        defaults are comparable to ERP's, so that no single source dominates and fusion has
        something to gain (with one dominant source, fusion cannot beat it by much).
    capacity_factor
        Plant capacity as a multiple of its expected peak demand (>= 1.1).
    fill_min
        Lowest daily fill rate: each node ships ``Uniform(fill_min, 1)`` of its customers'
        orders (0.5 to 1; 1 ships every order, so shipments copy the orders).
    """

    n_nodes: int = 5
    noise_carrier: float = 0.02
    noise_sensor: float = 0.02
    noise_mes: float = 0.015
    noise_rfid: float = 0.02
    noise_tms: float = 0.02
    capacity_factor: float = 1.8
    fill_min: float = 0.75

    scenario: ClassVar[str] = "manufacturing"

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
    """``(plants, warehouses)`` for ``n_nodes``: ``ceil(0.6·n)`` plants, the rest warehouses."""
    plants = max(1, math.ceil(0.6 * n_nodes))
    return plants, n_nodes - plants


def simulate(params: ManufacturingParams) -> Scenario:
    """Simulate the manufacturing scenario.

    Parameters
    ----------
    params
        The scenario parameters.

    Returns
    -------
    Scenario
        Truth panel of ``n_nodes × n_days`` rows with columns ``orders, production, inventory,
        logistics, ambient_temp``; 11 readings per node-day before faults.
    """
    rngs = streams(params.seed, params.scenario)
    rs = rngs["structure"]
    n_plants, n_wh = node_counts(params.n_nodes)
    names = node_names("plant", n_plants) + node_names("warehouse", n_wh)
    types = ["plant"] * n_plants + ["warehouse"] * n_wh
    n = len(names)
    parent = np.concatenate([np.full(n_plants, -1), round_robin_parents(n_wh, n_plants)]).astype(np.int64)
    is_child = parent >= 0

    base = np.concatenate([rs.uniform(300, 700, n_plants), rs.uniform(200, 500, n_wh)]).round()
    growth = params.growth * rs.uniform(0.5, 1.5, n)
    amplitude = rs.uniform(0.6, 1.0, n)
    plant_pack = rs.choice(PACK_SIZES, n_plants)
    plant_product = rs.permutation(len(PRODUCTS["manufacturing"]))
    temp_level = rs.uniform(14.0, 24.0, n)
    temp_sd = rs.uniform(1.5, 3.0, n)
    cities = pick_cities(rs, n)

    top = np.where(is_child, parent, np.arange(n))
    pack = plant_pack[top]
    products = [PRODUCTS["manufacturing"][plant_product[i % len(plant_product)]] for i in top]
    level = base.copy()
    np.add.at(level, parent[is_child], base[is_child])
    target_stock = np.rint(params.cover_days * level)
    horizon_growth = 1.0 + np.maximum(growth, 0.0) * params.n_days / 365.0
    capacity = np.where(
        is_child, np.inf, np.rint(params.capacity_factor * level * horizon_growth * max(WEEKLY))
    )

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
        request_cap=capacity,
        warmup_level=level,
        fill=rngs["fulfilment"].uniform(params.fill_min, 1.0, ext.shape),
    )
    sl = slice(BURN_IN_DAYS, None)
    z = ar1(rngs["distractor"], (len(days), n), 0.5)
    truth = {
        "orders": sim["book"][sl].T,
        "production": sim["inflow"][sl].T,
        "inventory": sim["stock"][sl].T,
        "logistics": sim["outflow"][sl].T,
        "ambient_temp": np.round(temp_level[:, None] + temp_sd[:, None] * z[sl].T, 1),
    }
    lag = params.lead_time
    rule = (
        f"production[t] = rint(alpha*orders[t-{lag + 1}] + beta*(target_stock - inventory[t-{lag}])), "
        "clipped to [0, capacity]; a warehouse's inflow is allocated from its plant's stock"
    )
    balance = "inventory[t] = inventory[t-1] + production[t-1] - logistics[t-1] (exact)"
    drivers = [
        ("production", "orders", lag + 1, params.alpha, "all", rule),
        ("production", "inventory", lag, -params.beta, "all", rule),
        ("inventory", "inventory", 1, 1.0, "all", balance),
        ("inventory", "production", 1, 1.0, "all", balance),
        ("inventory", "logistics", 1, -1.0, "all", balance),
        (
            "logistics",
            "orders",
            lag,
            (1.0 + params.fill_min) / 2,
            "all",
            f"logistics[t] = rint(f*orders[t-{lag}]) + warehouse requests due, f ~ U({params.fill_min:g}, 1) "
            "the fill rate; capped by inventory[t] + production[t] (lost when short, rare)",
        ),
    ]
    drivers += flow_key_rows(
        "production",
        "inventory",
        "logistics",
        lag=lag,
        alpha=params.alpha,
        beta=params.beta,
        fill_mean=(1.0 + params.fill_min) / 2,
    )
    meta = {
        "description": (
            "Plants make to stock and replenish their warehouses; every node runs the same "
            "order-following production/replenishment rule and ships its orders after the lead time."
        ),
        "targets": TARGETS,
        "distractors": DISTRACTORS,
        "covariates": ["orders"],
        "known_future": {},
        "exogenous": "orders (warehouses; plants: direct orders plus warehouse requests)",
        "node_split": "plants = ceil(0.6 * n_nodes), warehouses = n_nodes - plants",
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
        capacity=np.where(np.isinf(capacity), np.nan, capacity),
        target_stock=target_stock,
        dates=dates,
        truth=truth,
        native_units=UNITS,
        channels=CHANNELS,
        drivers=drivers,
        documents=DOCUMENTS,
        meta=meta,
    )
