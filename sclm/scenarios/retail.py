"""Retail scenario: stores with promotions and prices, replenished by a distribution centre.

Nodes
    ``n_nodes`` splits into ``ceil(n_nodes / 26)`` distribution centres (``dc_01`` ...; one per
    up to 25 stores) and the rest stores (``store_01`` ...); store ``i`` is served by dc
    ``i mod n_dcs``.  Default 6 nodes: 1 dc, 5 stores.  A store sells one product; a dc holds
    the assortment of its stores' products, labelled ``"assorted groceries"`` (counted in units).
Variables (every node has the same columns; counts are integer units)
    ``demand``
        Stores: ``Poisson(base × trend × weekly season × AR(1) log-shock ×
        exp(promo_effect·promotion - price_elasticity·log(price / list_price)))``.
        Dc: the orders due that day — its stores' ``orders`` placed L days earlier plus online
        orders placed L days earlier — so known L days in advance.
    ``sales`` (d)
        ``min(demand[t], inventory[t] + shipments[t])``: censored demand, lost when short.
    ``orders``
        Replenishment order placed:
        ``rint(alpha·sales[t-1] + beta·(target_stock - inventory[t]))``, not below 0.
    ``shipments`` (q)
        ``orders[t-L]`` arriving: a store's from its dc (stores served first, then online),
        a dc's from its supplier.
    ``inventory`` (k)
        Opening stock; ``inventory[t+1] = inventory[t] + shipments[t] - sales[t]`` exactly.
    ``promotion``
        Stores: 0/1 flag, random promotions of 3–7 days (known in advance).  Dc: always 0.
    ``price``
        Stores: list price × a level redrawn (0.85–1.15) at random dates, in EUR (known in
        advance), independent of promotions.  Dc: the list price, constant.
    ``web_traffic``
        Distractor (visits): an independent log-AR(1) around a node level; drives nothing.
Sources
    ``demand``: pos (stores; transactions plus logged lost sales), erp (dc); ``sales``: pos
    (stores) and erp; ``orders``: erp; ``shipments``: iot (RFID gate, binomial thinning, miss
    rate p), erp and tms; ``inventory``: erp, wms (in cases) and rfid; ``promotion``, ``price``: erp,
    exact master data (no noise, no faults); ``web_traffic``: web.
Defaults
    ``lead_time`` L = 2, alpha = 1, beta = 0.25, cover 3 days (a few stock-outs), promo_effect 0.4 (×1.49),
    price_elasticity 1.8.
Answer key (``drivers``) and the perfect explanation of the one-step forecast
    With origin ``o`` and the forecast of day ``o + 1`` (cells ``(variable, lag)``,
    ``lag = o - day``; lag -1 is the known-future input of day ``o + 1``):

    * store ``demand[o+1]`` and ``sales[o+1]``: ``promotion`` and ``price`` at lag -1 (the
      rule), and the **visible ancestors** of the latent parts (role ``ancestor``): of the
      weekly season and level, ``demand`` on the forecast day's weekday one and two weeks
      earlier (lags 6 and 13, in logs half each) and the ``promotion`` and ``price`` of those
      days, which the model needs to read the base demand out of them; of the AR(1) demand
      shock (half of yesterday's persists), ``demand``, ``promotion`` and ``price`` at lag 0;
      ``sales`` at lags 0, 6 and 13 are the **equivalents** of those ``demand`` cells (``sales
      = demand`` unless the stock runs out).  A ridge model on these cells matches one on
      every cell (``tests/test_scenarios.py``).  The past ``promotion`` and ``price`` cells
      count only for a model that takes them as past inputs (``bench/explain.py``'s M takes
      them as known-future inputs only);
    * dc ``sales[o+1]``: ``demand`` at lag -1 (the orders due, known in advance);
    * ``shipments[o+1]``: ``orders`` at lag L - 1 = 1, or its declared **equivalents** (the
      order rule that made it): ``sales`` (or its equivalent ``demand``) at lag L and
      ``inventory`` at lag L - 1, the latter or its equivalents by the balance
      ``inventory[o-1] = inventory[o] - shipments[o-1] + sales[o-1]`` (``inventory`` at lag 0,
      ``shipments`` and ``sales`` at lag 1);
    * ``inventory[o+1]``: ``inventory``, ``shipments`` (+1) and ``sales`` (-1) at lag 0, with
      declared **equivalents** (role ``equivalent``): ``orders`` at lag L (``shipments[t] =
      orders[t-L]`` unless the dc runs short), ``demand`` at lag 0 (``sales = demand`` unless
      the stock runs out), and ``orders`` at lag 0 with ``sales`` at lag 1 (the order rule
      solved for the stock: ``inventory[o] = target_stock - (orders[o] - alpha·sales[o-1]) /
      beta``, exact up to the rounding), and ``inventory[o]``'s reconstruction from the day
      before: ``inventory`` and ``shipments`` (or ``orders`` at lag L + 1) at lag 1, ``sales``
      (or ``demand``) at lag 1 (the balance), with ``orders`` at lag 1 and ``sales`` at lag 2
      (the order rule solved for ``inventory[o-1]``).  A method crediting either cell of a
      pair is right.  Longer chains of the same identities (the balance over several days)
      are not declared: the key names each driver cell's reconstructions from the day before.

    ``web_traffic`` drives nothing.  Later steps: the promotion and price cells stay visible
    (known future); the others move to ``lag - h`` where visible (score step 1).
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
    node_names,
    panel_days,
    pick_cities,
    round_robin_parents,
    streams,
)
from sclm.scenarios._network import simulate_network
from sclm.scenarios.documents import PRODUCTS, RETAILERS

WEEKLY = (0.90, 0.85, 0.90, 0.95, 1.10, 1.35, 0.95)
PACK_SIZES = (6, 8, 12, 24)
LIST_PRICES = (1.49, 1.99, 2.49, 2.99, 3.49, 4.99)
STORES_PER_DC = 25
TARGETS = {"q": "shipments", "k": "inventory", "d": "sales", "demand": "demand"}
DISTRACTORS = ["web_traffic"]
UNITS = {
    "demand": COUNT_UNIT,
    "sales": COUNT_UNIT,
    "orders": COUNT_UNIT,
    "shipments": COUNT_UNIT,
    "inventory": COUNT_UNIT,
    "promotion": "flag",
    "price": "EUR",
    "web_traffic": "visits",
}
CHANNELS = (
    Channel("demand", "pos", node_types=("store",)),
    Channel("demand", "erp", node_types=("dc",)),
    Channel("sales", "pos", node_types=("store",)),
    Channel("sales", "erp"),
    Channel("orders", "erp"),
    Channel("shipments", "iot", thinning=True),
    Channel("shipments", "erp"),
    Channel("shipments", "tms"),
    Channel("inventory", "erp"),
    Channel("inventory", "wms", cases=True),
    Channel("inventory", "rfid"),
    Channel("promotion", "erp", unit="flag", exact=True),
    Channel("price", "erp", unit="EUR", exact=True),
    Channel("web_traffic", "web", unit="visits"),
)
DOCUMENTS = {
    "purchase_order": "orders",
    "shipping_notice": "shipments",
    "delay_report": "shipments",
    "supplier_email": "shipments",
}


@dataclass(frozen=True)
class RetailParams(ScenarioParams):
    """Parameters of :func:`simulate` (see :class:`~sclm.scenarios._base.ScenarioParams`).

    Parameters
    ----------
    noise_pos, noise_web
        Relative noise σ of the point-of-sale feed and of the web analytics.
    noise_rfid, noise_tms
        Relative noise σ of the third source of inventory (RFID cycle counts) and of
        shipments (transport management system); comparable to ERP's by default so that
        fusion has something to gain.
    promo_effect
        Log-demand uplift of a promotion day (0 to 2).
    price_elasticity
        Log-log price elasticity of demand (0 to 5; demand falls as price rises).
    promo_rate
        Daily probability that a store starts a promotion (0 to 0.5).
    price_change_rate
        Daily probability that a store's price level is redrawn (0 to 0.5).
    """

    n_nodes: int = 6
    lead_time: int = 2
    beta: float = 0.25
    cover_days: float = 3.0
    noise_pos: float = 0.005
    noise_web: float = 0.05
    noise_rfid: float = 0.02
    noise_tms: float = 0.02
    promo_effect: float = 0.4
    price_elasticity: float = 1.8
    promo_rate: float = 1 / 30
    price_change_rate: float = 1 / 35

    scenario: ClassVar[str] = "retail"

    def _check(self) -> None:
        super()._check()
        limits = {
            "promo_effect": (0.0, 2.0),
            "price_elasticity": (0.0, 5.0),
            "promo_rate": (0.0, 0.5),
            "price_change_rate": (0.0, 0.5),
        }
        for name, (lo, hi) in limits.items():
            value = getattr(self, name)
            if not lo <= value <= hi:
                raise ValueError(f"{name}={value!r} is out of range; expected {lo:g} <= {name} <= {hi:g}")

    def build(self) -> Scenario:
        return simulate(self)


def node_counts(n_nodes: int) -> tuple[int, int]:
    """``(dcs, stores)`` for ``n_nodes``: one dc per up to 25 stores, the rest stores."""
    dcs = max(1, math.ceil(n_nodes / (STORES_PER_DC + 1)))
    return dcs, n_nodes - dcs


def promotions(
    rng: np.random.Generator, shape: tuple[int, int], rate: float, min_days: int = 3, max_days: int = 7
) -> np.ndarray:
    """0/1 promotion flags, shape ``(S, N)``: starts with probability ``rate``, 3–7 days each."""
    n_days, n = shape
    t = np.arange(n_days)[:, None]
    start = rng.random(shape) < rate
    length = rng.integers(min_days, max_days + 1, size=shape)
    end = np.where(start, t + length, -1)
    return (np.maximum.accumulate(end, axis=0) > t).astype(np.float64)


def price_levels(rng: np.random.Generator, shape: tuple[int, int], rate: float) -> np.ndarray:
    """Piecewise-constant multipliers in [0.85, 1.15], redrawn with probability ``rate`` a day."""
    n_days, n = shape
    change = rng.random(shape) < rate
    change[0] = True
    level = rng.uniform(0.85, 1.15, size=shape)
    since = np.maximum.accumulate(np.where(change, np.arange(n_days)[:, None], 0), axis=0)
    return np.take_along_axis(level, since, axis=0)


def simulate(params: RetailParams) -> Scenario:
    """Simulate the retail scenario.

    Parameters
    ----------
    params
        The scenario parameters.

    Returns
    -------
    Scenario
        Truth panel of ``n_nodes × n_days`` rows with columns ``demand, sales, orders,
        shipments, inventory, promotion, price, web_traffic``; 13 readings per store-day
        and 12 per dc-day before faults.
    """
    rngs = streams(params.seed, params.scenario)
    rs = rngs["structure"]
    n_dcs, n_stores = node_counts(params.n_nodes)
    names = node_names("dc", n_dcs) + node_names("store", n_stores)  # sorted: dc_* < store_*
    types = ["dc"] * n_dcs + ["store"] * n_stores
    n = len(names)
    parent = np.concatenate([np.full(n_dcs, -1), round_robin_parents(n_stores, n_dcs)]).astype(np.int64)
    is_child = parent >= 0
    is_store = is_child

    base = np.concatenate([rs.uniform(40, 120, n_dcs), rs.uniform(40, 160, n_stores)]).round()
    growth = params.growth * rs.uniform(0.5, 1.5, n)
    amplitude = rs.uniform(0.6, 1.0, n)
    pack = rs.choice(PACK_SIZES, n)
    product_idx = rs.integers(len(PRODUCTS["retail"]), size=n)
    list_price = rs.choice(LIST_PRICES, n)
    web_level = rs.uniform(300.0, 3000.0, n)
    cities = pick_cities(rs, n)

    products = [
        PRODUCTS["retail"][j] if c else "assorted groceries"
        for j, c in zip(product_idx, is_child, strict=True)
    ]
    level = base.copy()
    np.add.at(level, parent[is_child], base[is_child])
    target_stock = np.rint(params.cover_days * level)

    dates, days, dow = panel_days(params)
    shape = (len(days), n)
    rex = rngs["exogenous"]
    rate = demand_rate(
        rex,
        days=days,
        start_dow=dow,
        base=base,
        growth=growth,
        weekly=WEEKLY,
        amplitude=amplitude,
        shock_sd=0.08,
        shock_phi=0.5,
        parent=parent,
    )
    promo = promotions(rex, shape, params.promo_rate) * is_store[None, :]
    price = np.where(
        is_store[None, :],
        np.round(list_price[None, :] * price_levels(rex, shape, params.price_change_rate), 2),
        list_price[None, :],
    )
    uplift = np.exp(
        params.promo_effect * promo - params.price_elasticity * np.log(price / list_price[None, :])
    )
    ext = rex.poisson(rate * uplift).astype(np.float64)
    sim = simulate_network(
        ext,
        parent,
        lead=params.lead_time,
        delivery_lag=0,
        signal="sales",
        alpha=params.alpha,
        beta=params.beta,
        target_stock=target_stock,
        warmup_level=level,
    )
    sl = slice(BURN_IN_DAYS, None)
    z = ar1(rngs["distractor"], shape, 0.5)
    truth = {
        "demand": sim["book"][sl].T,
        "sales": sim["outflow"][sl].T,
        "orders": sim["request"][sl].T,
        "shipments": sim["inflow"][sl].T,
        "inventory": sim["stock"][sl].T,
        "promotion": promo[sl].T.copy(),
        "price": price[sl].T.copy(),
        "web_traffic": np.rint(web_level[:, None] * np.exp(0.25 * z[sl].T)),
    }
    lag = params.lead_time
    demand_note = (
        "log demand = log(base*trend*season*shock) + promo_effect*promotion[t] "
        "- price_elasticity*log(price[t]/list_price); promotion and price are known in advance"
    )
    sales_note = "sales[t] = min(demand[t], inventory[t] + shipments[t]): acts through demand (censored)"
    balance = "inventory[t] = inventory[t-1] + shipments[t-1] - sales[t-1] (exact)"
    drivers = [
        ("demand", "promotion", 0, params.promo_effect, "store", demand_note),
        ("demand", "price", 0, -params.price_elasticity, "store", demand_note),
        ("sales", "promotion", 0, params.promo_effect, "store", sales_note),
        ("sales", "price", 0, -params.price_elasticity, "store", sales_note),
        (
            "sales",
            "demand",
            0,
            1.0,
            "dc",
            f"dc sales[t] = min(demand[t], stock); dc demand[t] is the orders due, placed {lag} days earlier",
        ),
        (
            "shipments",
            "orders",
            lag,
            1.0,
            "all",
            f"shipments[t] = orders[t-{lag}] (a store's share allocated from its dc's stock when short)",
        ),
        (
            "shipments",
            "sales",
            lag + 1,
            params.alpha,
            "all",
            f"equivalent of orders[t-{lag}] = rint(alpha*sales[t-{lag + 1}] + beta*(target_stock - "
            f"inventory[t-{lag}])), the order rule",
            "equivalent",
        ),
        (
            "shipments",
            "inventory",
            lag,
            -params.beta,
            "all",
            f"equivalent of orders[t-{lag}] (the order rule, with sales[t-{lag + 1}])",
            "equivalent",
        ),
        ("inventory", "inventory", 1, 1.0, "all", balance),
        ("inventory", "shipments", 1, 1.0, "all", balance),
        ("inventory", "sales", 1, -1.0, "all", balance),
        (
            "inventory",
            "orders",
            lag + 1,
            1.0,
            "all",
            f"equivalent of shipments[t-1]: shipments[t] = orders[t-{lag}] unless the dc runs short",
            "equivalent",
        ),
        (
            "inventory",
            "demand",
            1,
            -1.0,
            "all",
            "equivalent of sales[t-1]: sales[t] = demand[t] unless the stock runs out",
            "equivalent",
        ),
    ]
    for target in ("demand", "sales"):
        ancestor = (
            f"visible ancestor of the latent weekly season and level of {target}[t]: demand on the "
            "same weekday one and two weeks earlier, and the promotion and price that moved it"
        )
        for week in (7, 14):
            drivers += [
                (target, "demand", week, 0.5, "store", ancestor, "ancestor"),
                (target, "promotion", week, -0.5 * params.promo_effect, "store", ancestor, "ancestor"),
                (target, "price", week, 0.5 * params.price_elasticity, "store", ancestor, "ancestor"),
                (
                    target,
                    "sales",
                    week,
                    0.5,
                    "store",
                    f"equivalent of demand[t-{week}]: sales = demand unless the stock runs out",
                    "equivalent",
                ),
            ]
        for week in (7, 14):
            copies = (
                f"visible ancestor of the latent weekly season and level of {target}[t]: the order rule copies "
                f"sales[t-{week}] into orders[t-{week - 1}] (alpha = 1, plus the stock correction), and "
                f"shipments[t-{week - 1 - lag}] = orders[t-{week - 1}]"
            )
            drivers += [
                (target, "orders", week - 1, 0.5 * params.alpha, "store", copies, "ancestor"),
                (target, "shipments", week - 1 - lag, 0.5 * params.alpha, "store", copies, "ancestor"),
            ]
        shock = (
            f"visible ancestor of the latent AR(1) demand shock of {target}[t] (half of yesterday's "
            "persists): yesterday's demand, and the promotion and price that moved it"
        )
        drivers += [
            (target, "demand", 1, 0.5, "store", shock, "ancestor"),
            (target, "promotion", 1, -0.5 * params.promo_effect, "store", shock, "ancestor"),
            (target, "price", 1, 0.5 * params.price_elasticity, "store", shock, "ancestor"),
            (
                target,
                "sales",
                1,
                0.5,
                "store",
                "equivalent of demand[t-1]: sales = demand unless the stock runs out",
                "equivalent",
            ),
        ]
    drivers += [
        (
            "shipments",
            "demand",
            lag + 1,
            params.alpha,
            "all",
            f"equivalent of sales[t-{lag + 1}] (in the order rule): sales = demand unless the stock runs out",
            "equivalent",
        ),
    ]
    fwd = f"inventory[t-{lag}] = inventory[t-{lag - 1}] - shipments[t-{lag}] + sales[t-{lag}] (the balance)"
    drivers += [
        ("shipments", v, lg, e * params.beta, "all", f"equivalent of inventory[t-{lag}]: {fwd}", "equivalent")
        for v, lg, e in (("inventory", lag - 1, -1.0), ("shipments", lag, 1.0), ("sales", lag, -1.0))
    ]
    inv_rule = (
        "equivalent of inventory[t-1]: orders[t-1] = rint(alpha*sales[t-2] + beta*(target_stock - "
        "inventory[t-1])), the order rule solved for the stock"
    )
    drivers += [
        ("inventory", "orders", 1, -1.0 / params.beta, "all", inv_rule, "equivalent"),
        ("inventory", "sales", 2, params.alpha / params.beta, "all", inv_rule, "equivalent"),
    ]
    # the same one day earlier, with that day's balance: inventory[t-1] = target_stock -
    # (orders[t-2] - alpha*sales[t-3]) / beta + shipments[t-2] - sales[t-2] (and the balance itself)
    back = (
        "equivalent of inventory[t-1]: inventory[t-2] + shipments[t-2] - sales[t-2] (the balance), with "
        "inventory[t-2] = target_stock - (orders[t-2] - alpha*sales[t-3]) / beta (the order rule), "
        f"shipments[t-2] = orders[t-{lag + 2}] and sales[t-2] = demand[t-2] unless short"
    )
    drivers += [
        ("inventory", v, lg, e, "all", back, "equivalent")
        for v, lg, e in (
            ("inventory", 2, 1.0),
            ("shipments", 2, 1.0),
            ("orders", 2, -1.0 / params.beta),
            ("sales", 3, params.alpha / params.beta),
            ("orders", lag + 2, 1.0),
            ("demand", 2, -1.0),
        )
    ]
    meta = {
        "description": (
            "Stores sell a product whose demand reacts to promotions and price; they order from their "
            "distribution centre with a proportional order-up-to rule and receive it after the lead time."
        ),
        "targets": TARGETS,
        "distractors": DISTRACTORS,
        "covariates": ["promotion", "price", "orders"],
        "known_future": {"promotion": "all", "price": "all", "demand": "dc"},
        "exogenous": "store demand (promotion and price effects), dc online orders",
        "node_split": "dcs = ceil(n_nodes / 26), stores = n_nodes - dcs",
        "rule": {
            "alpha": params.alpha,
            "beta": params.beta,
            "lead_time": lag,
            "cover_days": params.cover_days,
            "promo_effect": params.promo_effect,
            "price_elasticity": params.price_elasticity,
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
        capacity=np.full(n, np.nan),
        target_stock=target_stock,
        dates=dates,
        truth=truth,
        native_units=UNITS,
        channels=CHANNELS,
        drivers=drivers,
        documents=DOCUMENTS,
        meta=meta,
        node_extra={"list_price": list_price.astype(np.float64)},
        counterparties={"purchase_order": RETAILERS},
    )
