"""Replenishment policies from forecast quantiles, judged by simulation on a scenario's truth.

Textbook policies (thin wrappers of stockpyl, results as pydantic models)
    :func:`newsvendor` (normal or any scipy distribution), :func:`base_stock` (periodic review,
    normal per-period demand), :func:`s_S_policy` (Zheng–Federgruen exact for Poisson or a
    discrete pmf; Ehrhardt–Mosier power approximation for normal demand), :func:`eoq`.

From a forecast to a policy (:func:`lead_time_demand`, :func:`policy_from_forecast`)
    A forecast frame is long: ``node, variable, ts, mean, q0.1 ... q0.9`` (as from
    :meth:`sclm.pipeline.TrainedForecaster.forecast` and :func:`sclm.baselines.forecast`), with an
    ``origin`` column when it holds forecasts from several origins (rolling).  The order placed
    at origin ``o`` has to cover the ``L + R`` days ``o + 1 .. o + L + R`` (lead time ``L``,
    review period ``R``; timing in :mod:`sclm.decisions._inventory_sim`).  Their demand ``D`` is
    built the same way for every forecaster:

    1. **one normal per day**, fitted by least squares to the day's quantiles
       (``q_k ≈ μ + σ·Φ⁻¹(τ_k)`` over every level ``τ_k`` present; ``σ`` clipped at 0);
    2. **independent days**: ``D ~ N(Σ μ_i, √Σ σ_i²)`` (``aggregation="comonotone"`` uses
       ``Σ σ_i``, the spread of the sum of the per-day quantile functions, i.e. perfectly
       dependent days: the largest spread any dependence can give, as ``sd(Σ D_i) <= Σ sd(D_i)``).

    Why: the forecasts only carry the deciles, while service targets of 0.95–0.99 need a tail
    beyond q0.9; a normal fitted to all nine levels is the least-assumption tail that can be
    applied identically to M and to every baseline, is exact when the forecaster's quantiles are
    normal (tested), and the demand here is counts of tens to thousands of units a day, close to
    normal.  Independence is the textbook lead-time-demand model (``σ √(L+R)``, stockpyl's
    convention); where the forecast errors of consecutive days are correlated it under-covers,
    and that is what the service grid of :func:`compare_policies` absorbs (each forecaster is
    also judged at its cheapest grid level that reaches the target fill rate).

    ``kind="base_stock"``: order up to ``S = ⌈F_D⁻¹(α)⌉`` every review, ``α`` the service target
    (type-1: probability of covering the ``L + R`` days), or the critical ratio ``p / (p + h)``
    when only costs are given.  ``kind="newsvendor"``: the same with ``α = p / (p + h)`` from the
    costs, and the expected newsvendor cost of stockpyl.  ``kind="sS"``: reorder point from the
    service target (order when the position falls below ``⌈F_D⁻¹(α)⌉``, i.e. ``s = ⌈F_D⁻¹(α)⌉ -
    1`` in stockpyl's "order when IP <= s" convention), order-up-to ``S = s + 1 + EOQ`` with the
    EOQ (stockpyl) of the fixed order cost ``K``, the holding cost ``h`` and the forecast mean
    daily demand (the classic "reorder point from service, order size from EOQ" (s, S)).

Does a better forecast give better decisions? (:func:`simulate_policy`, :func:`compare_policies`)
    Every review day the policy is recomputed from the forecast issued at that origin (data up
    to the origin only) and played on the truth demand with lost sales, lead time
    ``scenario.meta["lead_time"]``; cost = holding ``h`` per unit-day + shortage ``p`` per unit
    lost + ``K`` per order.  :func:`rolling_forecasts` produces the forecasts of M (trained once,
    before the first origin) and of the baselines (refitted at every origin).

Demand per scenario (:func:`scenario_demand`)
    retail: the stores' ``demand`` (uncensored; M forecasts it jointly with q, k, d).
    manufacturing: ``logistics`` (outbound shipments) of every plant and warehouse, a proxy for
    the demand on their stock: ``logistics[t] = min(orders[t - L], stock)``, i.e. the customer
    (and, at a plant, warehouse) orders shipped after the order-processing lag, rarely censored.
    It is one of M's targets; since ``orders`` is an input of M, M has the advance demand
    information of the next ``L`` days, which the univariate baselines lack — part of what is
    compared.  Other scenarios: their ``d`` target at every node.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict
from scipy import stats

from sclm.decisions._inventory_sim import (
    _EPS,
    AGGREGATIONS,
    Costs,
    PolicyCost,
    SimulationResult,
    _choice,
    _int,
    _number,
    _policy_table,
    _prepare,
    _service,
    lead_time_demand,
    rolling_forecasts,
    scenario_demand,
    simulate,
)

if TYPE_CHECKING:
    from sclm.scenarios import Scenario

__all__ = [
    "AGGREGATIONS",
    "DEFAULT_SERVICE",
    "KINDS",
    "SERVICE_GRID",
    "BaseStockResult",
    "Costs",
    "EOQResult",
    "NewsvendorResult",
    "PolicyCost",
    "SSResult",
    "SimulationResult",
    "base_stock",
    "compare_policies",
    "eoq",
    "lead_time_demand",
    "newsvendor",
    "policy_from_forecast",
    "policy_grid",
    "rolling_forecasts",
    "s_S_policy",
    "scenario_demand",
    "simulate_policy",
]

KINDS: tuple[str, ...] = ("base_stock", "newsvendor", "sS")
DEFAULT_SERVICE = 0.95
SERVICE_GRID: tuple[float, ...] = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.925, 0.95, 0.975, 0.99, 0.995)
"""Service targets tried by :func:`compare_policies` (fixed before any result was seen)."""


# --------------------------------------------------------------------------- textbook policies


class NewsvendorResult(BaseModel):
    """Newsvendor solution: order-up-to level and its expected cost per period."""

    model_config = ConfigDict(frozen=True)

    base_stock_level: float
    cost: float
    critical_ratio: float


class BaseStockResult(BaseModel):
    """Periodic-review base-stock level for normal i.i.d. per-period demand.

    ``ltd_mean``, ``ltd_sd``: demand over the ``lead_time + review`` periods the level covers;
    ``service``: the probability of covering them; ``cost``: expected newsvendor cost
    ``h·E(S - D)⁺ + p·E(D - S)⁺`` of that demand.
    """

    model_config = ConfigDict(frozen=True)

    base_stock_level: float
    cost: float
    service: float
    ltd_mean: float
    ltd_sd: float


class SSResult(BaseModel):
    """(s, S) policy: order up to ``S`` when the inventory position is at or below ``s``.

    ``cost`` is the exact expected cost per period (Zheng–Federgruen), ``None`` for the power
    approximation (which gives no cost).
    """

    model_config = ConfigDict(frozen=True)

    s: float
    S: float
    cost: float | None
    method: str


class EOQResult(BaseModel):
    """Economic order quantity, its cost per unit time and the time between orders (``Q/λ``)."""

    model_config = ConfigDict(frozen=True)

    order_quantity: float
    cost: float
    cycle_time: float


def newsvendor(
    holding_cost: float,
    stockout_cost: float,
    mean: float | None = None,
    sd: float | None = None,
    *,
    distribution: Any = None,
    lead_time: int = 0,
) -> NewsvendorResult:
    """Newsvendor order-up-to level ``S* = F⁻¹(p / (p + h))`` and its expected cost (stockpyl).

    Parameters
    ----------
    holding_cost, stockout_cost : float
        ``h`` and ``p`` per unit left over / short (> 0).
    mean, sd : float
        Normal demand per period (``stockpyl.newsvendor.newsvendor_normal``); with
        ``lead_time = L`` the demand of ``L + 1`` i.i.d. periods.
    distribution : scipy frozen distribution, optional
        Any other demand distribution (``newsvendor_continuous`` or, for a discrete one,
        ``newsvendor_discrete``); replaces ``mean``/``sd``.
    lead_time : int
        ``L`` >= 0 (normal demand only).

    Examples
    --------
    >>> r = newsvendor(0.18, 0.70, 50, 8)  # Snyder & Shen, Example 4.3
    >>> round(r.base_stock_level, 4), round(r.cost, 5)
    (56.604, 1.99761)
    """
    from stockpyl import newsvendor as nv

    h = _number("holding_cost", holding_cost)
    p = _number("stockout_cost", stockout_cost)
    alpha = p / (p + h)
    if distribution is not None:
        if mean is not None or sd is not None:
            raise ValueError("give either mean and sd (normal demand) or distribution, not both")
        discrete = isinstance(getattr(distribution, "dist", None), stats.rv_discrete)
        solve = nv.newsvendor_discrete if discrete else nv.newsvendor_continuous
        S, cost = solve(h, p, distribution)
        return NewsvendorResult(base_stock_level=float(S), cost=float(cost), critical_ratio=alpha)
    if mean is None or sd is None:
        raise ValueError("newsvendor needs mean and sd (normal demand) or a distribution")
    mu, sigma = _number("mean", mean), _number("sd", sd)
    S, cost = nv.newsvendor_normal(h, p, mu, sigma, lead_time=_int("lead_time", lead_time, 0))
    return NewsvendorResult(base_stock_level=float(S), cost=float(cost), critical_ratio=alpha)


def base_stock(
    holding_cost: float,
    stockout_cost: float,
    mean: float,
    sd: float,
    *,
    lead_time: int = 0,
    review: int = 1,
    service: float | None = None,
) -> BaseStockResult:
    """Order-up-to level of a periodic-review base-stock policy, normal i.i.d. period demand.

    The level covers the ``L + R`` periods until the next order can arrive (so ``R = 1`` is
    stockpyl's ``newsvendor_normal(..., lead_time=L)``, demand over ``L + 1`` periods).

    Parameters
    ----------
    holding_cost, stockout_cost : float
        ``h``, ``p`` (> 0); they set the level ``p / (p + h)`` unless ``service`` is given, and
        price the expected cost.
    mean, sd : float
        Demand per period (> 0).
    lead_time, review : int
        ``L`` >= 0 and ``R`` >= 1 periods.
    service : float, optional
        Target probability of no stock-out over the ``L + R`` periods, in (0, 1).
    """
    from stockpyl.newsvendor import newsvendor_normal

    h = _number("holding_cost", holding_cost)
    p = _number("stockout_cost", stockout_cost)
    mu, sigma = _number("mean", mean), _number("sd", sd)
    L, R = _int("lead_time", lead_time, 0), _int("review", review, 1)
    periods = L + R
    if service is None:
        S, cost = newsvendor_normal(h, p, mu, sigma, lead_time=periods - 1)
        alpha = p / (p + h)
    else:
        alpha = _service(service)
        S = stats.norm.ppf(alpha, mu * periods, sigma * math.sqrt(periods))
        _, cost = newsvendor_normal(h, p, mu, sigma, lead_time=periods - 1, base_stock_level=S)
    return BaseStockResult(
        base_stock_level=float(S),
        cost=float(cost),
        service=alpha,
        ltd_mean=mu * periods,
        ltd_sd=sigma * math.sqrt(periods),
    )


def s_S_policy(
    holding_cost: float,
    stockout_cost: float,
    fixed_cost: float,
    *,
    mean: float | None = None,
    sd: float | None = None,
    pmf: Sequence[float] | None = None,
    method: Literal["auto", "exact", "power"] = "auto",
) -> SSResult:
    """Periodic-review (s, S) policy (zero lead time, i.i.d. demand per period) via stockpyl.

    Parameters
    ----------
    holding_cost, stockout_cost, fixed_cost : float
        ``h``, ``p`` and ``K`` (> 0).
    mean : float, optional
        Poisson demand with this mean (exact, ``ss.s_s_discrete_exact``), or with ``sd`` the
        normal demand of the power approximation (``ss.s_s_power_approximation``).
    pmf : sequence of float, optional
        Probabilities of demand ``0, 1, ..., len(pmf) - 1`` (exact); sums to 1.
    method : {"auto", "exact", "power"}
        ``auto``: exact unless ``sd`` is given.

    Examples
    --------
    >>> r = s_S_policy(1, 4, 5, mean=6)  # Snyder & Shen, Example 4.7
    >>> r.s, r.S, round(r.cost, 5)
    (4.0, 10.0, 8.03411)
    """
    from stockpyl import ss

    h = _number("holding_cost", holding_cost)
    p = _number("stockout_cost", stockout_cost)
    K = _number("fixed_cost", fixed_cost)
    _choice("method", method, ("auto", "exact", "power"))
    if method == "auto":
        method = "power" if sd is not None else "exact"
    if method == "power":
        if mean is None or sd is None or pmf is not None:
            raise ValueError("the power approximation needs mean and sd (normal demand) and no pmf")
        s, S = ss.s_s_power_approximation(h, p, K, _number("mean", mean), _number("sd", sd))
        return SSResult(s=float(s), S=float(S), cost=None, method="power")
    if (mean is None) == (pmf is None) or sd is not None:
        raise ValueError("the exact (s, S) method needs either mean (Poisson) or pmf, not both (and no sd)")
    if pmf is not None:
        f = np.asarray(pmf, dtype="float64")
        if f.ndim != 1 or f.size < 2 or np.any(f < 0) or not np.isclose(f.sum(), 1.0, atol=1e-6):
            raise ValueError(
                "pmf must be a 1-D sequence of >= 2 probabilities (demand 0, 1, ...) summing to 1"
            )
        # stockpyl drops the last support point in its cost evaluation: append a zero-probability one
        f = np.append(f, 0.0)
        s, S, g = ss.s_s_discrete_exact(h, p, K, False, demand_hi=len(f) - 1, demand_pmf=list(f))
    else:
        s, S, g = ss.s_s_discrete_exact(h, p, K, True, _number("mean", mean))
    return SSResult(s=float(s), S=float(S), cost=float(g), method="exact")


def eoq(fixed_cost: float, holding_cost: float, demand_rate: float) -> EOQResult:
    """Economic order quantity ``Q* = √(2Kλ/h)`` and cost ``√(2Kλh)`` (stockpyl).

    Examples
    --------
    >>> r = eoq(8, 0.225, 1300)  # Snyder & Shen, Example 3.1
    >>> round(r.order_quantity, 3), round(r.cost, 4)
    (304.047, 68.4105)
    """
    from stockpyl.eoq import economic_order_quantity

    K = _number("fixed_cost", fixed_cost, strict=False)
    h = _number("holding_cost", holding_cost)
    lam = _number("demand_rate", demand_rate, strict=False)
    Q, g = economic_order_quantity(K, h, lam)
    return EOQResult(
        order_quantity=float(Q), cost=float(g), cycle_time=float(Q / lam) if lam > 0 else math.inf
    )


# --------------------------------------------------------------------------- forecast -> policy


def policy_from_forecast(
    forecast: pd.DataFrame,
    *,
    kind: str = "base_stock",
    lead_time: int,
    review: int = 1,
    service: float | None = None,
    holding_cost: float | None = None,
    stockout_cost: float | None = None,
    fixed_cost: float | None = None,
    aggregation: str = "independent",
    variable: str | None = None,
) -> pd.DataFrame:
    """A replenishment policy per (origin, node) from the forecast's quantiles.

    Parameters
    ----------
    forecast : pandas.DataFrame
        See :func:`lead_time_demand`.
    kind : {"base_stock", "newsvendor", "sS"}
        See the module docstring.
    lead_time, review : int
        ``L`` >= 0, ``R`` >= 1 days.
    service : float, optional
        Target probability of covering the ``L + R`` days, in (0, 1).  Default: the critical
        ratio ``p / (p + h)`` when both costs are given, else :data:`DEFAULT_SERVICE` (0.95).
        ``newsvendor`` always uses the critical ratio (and refuses ``service``).
    holding_cost, stockout_cost : float, optional
        ``h`` per unit-day, ``p`` per unit short; with both, the expected newsvendor cost of the
        level is reported (base_stock and newsvendor).  ``sS`` needs ``h``.
    fixed_cost : float, optional
        ``K`` per order (> 0), needed by ``sS`` for its order size (EOQ).
    aggregation : {"independent", "comonotone"}
        How the per-day distributions are added (see :func:`lead_time_demand`).
    variable : str, optional
        The demand variable when ``forecast`` holds several.

    Returns
    -------
    pandas.DataFrame
        ``origin, node, mean, sd, rate`` (the lead-time demand), ``kind``, ``service`` (level
        used), ``Q`` (order size of sS, 0 otherwise), ``s``, ``S`` (order up to ``S`` when the
        inventory position is ``<= s``; base stock: ``s = S - 1``), ``expected_cost`` (NaN
        unless both ``h`` and ``p`` are given and the kind is not sS).
    """
    _choice("policy kind", kind, KINDS)
    h = None if holding_cost is None else _number("holding_cost", holding_cost)
    p = None if stockout_cost is None else _number("stockout_cost", stockout_cost, strict=False)
    K = None if fixed_cost is None else _number("fixed_cost", fixed_cost, strict=False)
    if kind == "newsvendor":
        if service is not None:
            raise ValueError(
                "kind='newsvendor' sets its level from the costs; use kind='base_stock' for a service target"
            )
        if h is None or p is None:
            raise ValueError("kind='newsvendor' needs holding_cost and stockout_cost")
    if kind == "sS" and (h is None or K is None or K <= 0):
        raise ValueError("kind='sS' needs holding_cost > 0 and fixed_cost > 0 (its order size is the EOQ)")
    if service is not None:
        alpha = _service(service)
    elif h is not None and p is not None:
        alpha = _service(p / (p + h), "the critical ratio p / (p + h)")
    else:
        alpha = DEFAULT_SERVICE
    ltd = lead_time_demand(
        forecast, lead_time=lead_time, review=review, aggregation=aggregation, variable=variable
    )
    out = _policy_table(ltd, kind, alpha, h, K)
    out["expected_cost"] = np.nan
    if h is not None and p is not None and p > 0 and kind != "sS":
        from stockpyl.newsvendor import newsvendor_normal

        cost = []
        for mu, sd, S in out[["mean", "sd", "S"]].itertuples(index=False):
            if sd > 0 and mu > 0:
                cost.append(newsvendor_normal(h, p, mu, sd, base_stock_level=S)[1])
            else:
                cost.append(h * max(S - mu, 0.0) + p * max(mu - S, 0.0))
        out["expected_cost"] = cost
    return out[["origin", "node", "mean", "sd", "rate", "kind", "service", "Q", "s", "S", "expected_cost"]]


# --------------------------------------------------------------------------- demand of a scenario


def _demand_and_lead(
    demand: pd.Series | Scenario, lead_time: int | None, variable: str | None, nodes: Sequence[str] | None
) -> tuple[pd.Series, int]:
    if isinstance(demand, pd.Series):
        if lead_time is None:
            raise ValueError("lead_time is required when demand is a Series (a Scenario carries its own)")
        d = demand
        if nodes is not None:
            d = d[d.index.get_level_values("node").isin(list(nodes))]
        return d, _int("lead_time", lead_time, 0)
    if not hasattr(demand, "truth") or not hasattr(demand, "meta"):
        raise TypeError(f"demand must be a pandas Series or a Scenario, got {type(demand).__name__}")
    d = scenario_demand(demand, variable=variable, nodes=nodes)
    lt = demand.meta["lead_time"] if lead_time is None else lead_time
    return d, _int("lead_time", lt, 0)


def _forecast_for(forecast: pd.DataFrame, demand: pd.Series, variable: str | None) -> pd.DataFrame:
    var = variable
    if var is None and "variable" in forecast.columns and forecast["variable"].nunique() > 1:
        var = demand.name
    fc = _prepare(forecast, var)
    nodes = list(dict.fromkeys(demand.index.get_level_values("node")))
    lacking = [n for n in nodes if n not in set(fc["node"])]
    if lacking:
        raise ValueError(f"forecast has no rows for node(s) {lacking}")
    return fc[fc["node"].isin(nodes)]


# --------------------------------------------------------------------------- simulation


def simulate_policy(
    demand: pd.Series | Scenario,
    forecast: pd.DataFrame,
    *,
    kind: str = "base_stock",
    lead_time: int | None = None,
    review: int = 1,
    service: float | None = None,
    holding_cost: float = 1.0,
    stockout_cost: float = 19.0,
    fixed_cost: float = 0.0,
    aggregation: str = "independent",
    variable: str | None = None,
    nodes: Sequence[str] | None = None,
    initial_on_hand: float | Mapping[str, float] | None = None,
    initial_pipeline: float | Mapping[str, float] | None = None,
) -> SimulationResult:
    """Simulate a periodic-review policy recomputed at every review from that origin's forecast.

    Parameters
    ----------
    demand : pandas.Series or Scenario
        Truth units per day, index (``node``, ``ts``); or a scenario (its
        :func:`scenario_demand` and ``meta["lead_time"]``).
    forecast : pandas.DataFrame
        Long, with ``origin`` (one forecast per review day ``t0, t0 + R, ...``) or a single
        forecast per node; see :func:`lead_time_demand`.  Only each origin's own rows set that
        review's order, so no value after an origin can reach it.
    kind, service, aggregation : see :func:`policy_from_forecast`
        ``service`` defaults to the critical ratio ``p / (p + h)`` (0.95 for the defaults).
    lead_time : int, optional
        ``L`` in days; default ``scenario.meta["lead_time"]`` (required for a Series).
    review : int
        ``R`` >= 1 days between reviews.
    holding_cost, stockout_cost, fixed_cost : float
        ``h`` per unit-day (> 0), ``p`` per unit lost (>= 0), ``K`` per order (>= 0; > 0 for sS).
    variable, nodes : optional
        Which demand (see :func:`scenario_demand`); ``variable`` also picks the forecast rows.
    initial_on_hand, initial_pipeline : optional
        Initial state (see :func:`sclm.decisions._inventory_sim.simulate`); default from the
        demand history up to the first origin, the same for every forecaster.

    Returns
    -------
    SimulationResult
        ``summary`` (holding, shortage, ordering, total, fill_rate, csl, ...), ``per_node``,
        ``trace`` (per node and day) and ``policy``.
    """
    costs = Costs(
        holding=_number("holding_cost", holding_cost),
        shortage=_number("stockout_cost", stockout_cost, strict=False),
        order=_number("fixed_cost", fixed_cost, strict=False),
    )
    d, L = _demand_and_lead(demand, lead_time, variable, nodes)
    fc = _forecast_for(forecast, d, variable)
    pol = policy_from_forecast(
        fc,
        kind=kind,
        lead_time=L,
        review=review,
        service=service,
        holding_cost=costs.holding,
        stockout_cost=costs.shortage,
        fixed_cost=costs.order,
        aggregation=aggregation,
    )
    return simulate(
        d,
        pol,
        lead_time=L,
        review=_int("review", review, 1),
        costs=costs,
        initial_on_hand=dict(initial_on_hand) if isinstance(initial_on_hand, Mapping) else initial_on_hand,
        initial_pipeline=dict(initial_pipeline)
        if isinstance(initial_pipeline, Mapping)
        else initial_pipeline,
    )


def policy_grid(
    demand: pd.Series | Scenario,
    forecasts: Mapping[str, pd.DataFrame],
    *,
    services: Sequence[float] = SERVICE_GRID,
    kind: str = "base_stock",
    lead_time: int | None = None,
    review: int = 1,
    holding_cost: float = 1.0,
    stockout_cost: float = 19.0,
    fixed_cost: float = 0.0,
    aggregation: str = "independent",
    variable: str | None = None,
    nodes: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Simulate every forecaster's policy at every service target on the same demand.

    Returns
    -------
    pandas.DataFrame
        One row per (model, service): ``model, service`` and the :class:`PolicyCost` fields.
    """
    _choice("policy kind", kind, KINDS)
    if not forecasts:
        raise ValueError("forecasts is empty: give at least one forecaster's frame")
    levels = [_service(s, "every service level of the grid") for s in services]
    if not levels:
        raise ValueError("services is empty")
    costs = Costs(
        holding=_number("holding_cost", holding_cost),
        shortage=_number("stockout_cost", stockout_cost, strict=False),
        order=_number("fixed_cost", fixed_cost, strict=False),
    )
    if kind == "sS" and costs.order <= 0:
        raise ValueError("kind='sS' needs fixed_cost > 0 (its order size is the EOQ)")
    d, L = _demand_and_lead(demand, lead_time, variable, nodes)
    R = _int("review", review, 1)
    keys, rows = None, []
    for label, forecast in forecasts.items():
        fc = _forecast_for(forecast, d, variable)
        ltd = lead_time_demand(fc, lead_time=L, review=R, aggregation=aggregation)
        k = set(zip(ltd["origin"], ltd["node"], strict=True))
        if keys is None:
            keys, first = k, label
        elif k != keys:
            raise ValueError(
                f"forecasts of {label!r} and {first!r} are issued at different (origin, node) pairs: "
                "compare forecasters on the same rolling origins"
            )
        for a in levels:
            pol = _policy_table(ltd, kind, a, costs.holding, costs.order)
            res = simulate(d, pol, lead_time=L, review=R, costs=costs)
            rows.append({"model": label, "service": a, **res.summary.model_dump()})
    return pd.DataFrame(rows)


def compare_policies(
    scenario: pd.Series | Scenario,
    forecasts: Mapping[str, pd.DataFrame],
    *,
    kind: str = "base_stock",
    service: float = DEFAULT_SERVICE,
    grid: Sequence[float] = SERVICE_GRID,
    target_fill: float = 0.95,
    lead_time: int | None = None,
    review: int = 1,
    holding_cost: float = 1.0,
    stockout_cost: float = 19.0,
    fixed_cost: float = 0.0,
    aggregation: str = "independent",
    variable: str | None = None,
    nodes: Sequence[str] | None = None,
    return_grid: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
    """Cost and service of each forecaster's policy on the scenario's truth.

    Two views, both with the identical lead-time-demand model and simulation for everyone:

    * at the common target ``service`` (same level for every forecaster);
    * at the cheapest level of ``grid`` whose simulated fill rate reaches ``target_fill``
      (the issue's goal: reach ≥ 95 % fill at the lowest total cost); NaN where no level does.

    Parameters
    ----------
    scenario : Scenario or pandas.Series
        The truth demand (see :func:`simulate_policy`).
    forecasts : mapping label -> pandas.DataFrame
        Long forecast frames over the same rolling origins (``origin`` column).
    kind, lead_time, review, holding_cost, stockout_cost, fixed_cost, aggregation, variable, nodes
        See :func:`simulate_policy`.
    service : float
        The common target, in (0, 1); it is simulated even if not on the grid.
    grid : sequence of float
        Service targets to search (default :data:`SERVICE_GRID`).
    target_fill : float
        Fill rate to reach, in (0, 1].
    return_grid : bool
        Also return every simulated (model, service) row.

    Returns
    -------
    table : pandas.DataFrame
        Index ``model`` (in the order of ``forecasts``).  Columns ``total, holding, shortage,
        ordering, fill_rate, csl`` at ``service`` (and ``service``), then ``at_fill_service``
        (the cheapest grid level reaching ``target_fill``) and ``at_fill_total,
        at_fill_holding, at_fill_shortage, at_fill_ordering, at_fill_fill_rate, at_fill_csl``.
    grid : pandas.DataFrame
        Only with ``return_grid=True``: every simulated (model, service) row (:func:`policy_grid`).
    """
    common = _service(service)
    tf = _number("target_fill", target_fill)
    if tf > 1:
        raise ValueError(f"target_fill must lie in (0, 1], got {target_fill!r}")
    levels = sorted({*(_service(s, "every service level of the grid") for s in grid), common})
    g = policy_grid(
        scenario,
        forecasts,
        services=levels,
        kind=kind,
        lead_time=lead_time,
        review=review,
        holding_cost=holding_cost,
        stockout_cost=stockout_cost,
        fixed_cost=fixed_cost,
        aggregation=aggregation,
        variable=variable,
        nodes=nodes,
    )
    parts = ["total", "holding", "shortage", "ordering", "fill_rate", "csl"]
    rows = {}
    for label in forecasts:
        gm = g[g["model"] == label]
        at = gm[np.isclose(gm["service"], common)].iloc[0]
        row: dict[str, float] = {"service": common, **{c: float(at[c]) for c in parts}}
        ok = gm[gm["fill_rate"] >= tf - _EPS]
        ok = ok[[any(math.isclose(s, x) for x in grid) for s in ok["service"]]]
        if len(ok):
            best = ok.sort_values(["total", "service"]).iloc[0]
            row["at_fill_service"] = float(best["service"])
            row.update({f"at_fill_{c}": float(best[c]) for c in parts})
        else:
            row["at_fill_service"] = np.nan
            row.update({f"at_fill_{c}": np.nan for c in parts})
        rows[label] = row
    out = pd.DataFrame.from_dict(rows, orient="index").rename_axis("model")
    return (out, g) if return_grid else out
