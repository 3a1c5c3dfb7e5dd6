"""The engine of :mod:`sclm.decisions.inventory`: input checks, lead-time demand from forecast
quantiles, the periodic-review simulation and the rolling forecasts of M and the baselines.

The simulation goes one node at a time, one day at a time, on a demand series that the policy never sees ahead of
time.  The policy arrives as a table of (reorder point ``s``, order-up-to level ``S``) per review
day (origin); :func:`simulate` plays it forward and books the costs.

Timing of a day ``t`` (lost sales)
----------------------------------
1. The orders due on day ``t`` arrive (an order placed at the review of day ``o`` is due on day
   ``o + L + 1``: ``L`` full days in transit, as in the scenarios, where an order placed with the
   information up to day ``o`` is received ``L`` days after the next morning).
2. Demand ``D_t`` is served from stock: ``served = min(D_t, on_hand)``; the rest is **lost**
   (the retail scenario loses its sales, and a manufacturing node ships at most its stock).
3. End of day: holding cost ``h`` per unit left on hand; shortage cost ``p`` per unit lost.
4. Review (on review days ``o = t0, t0 + R, ...``): inventory position ``IP = on_hand + units in
   transit``; if ``IP <= s`` order ``S - IP`` at a fixed cost ``K``.  A base-stock policy is the
   case ``s = S - 1`` (order up to ``S`` whenever below it).

The order of review ``o`` has to cover the ``L + R`` days ``o + 1 .. o + L + R``: the stock on
hand and in transit at ``o`` plus this order is all that can serve them, because the next order
(review ``o + R``) arrives on day ``o + R + L + 1``.

Scoring window
--------------
Costs and service are counted on the days ``t0 + L + 1 .. t_last + L + R`` (``t0``, ``t_last``:
first and last review): the first order can reach no earlier day, and the last one covers no
later day.  Every order placed (``t0 .. t_last``) pays ``K``.  The days before the window depend
only on the initial state, which is the same for every policy compared.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field
from scipy import stats

from sclm.schema import unknown_name

if TYPE_CHECKING:
    from sclm.pipeline import CausalPanels, TrainedForecaster
    from sclm.scenarios import Scenario

__all__ = [
    "Costs",
    "PolicyCost",
    "SimulationResult",
    "lead_time_demand",
    "rolling_forecasts",
    "scenario_demand",
    "simulate",
]

AGGREGATIONS: tuple[str, ...] = ("independent", "comonotone")
_QCOL = re.compile(r"^q(\d*\.?\d+(?:e-?\d+)?)$")
_EPS = 1e-9


# --------------------------------------------------------------------------- checks


def _number(name: str, value: object, *, low: float = 0.0, strict: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    v = float(value)
    if not math.isfinite(v) or (v <= low if strict else v < low):
        raise ValueError(f"{name} must be a finite number {'>' if strict else '>='} {low:g}, got {value!r}")
    return v


def _service(value: object, name: str = "service") -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{name} must be a number strictly between 0 and 1, got {value!r}")
    v = float(value)
    if not 0.0 < v < 1.0:
        raise ValueError(f"{name} must lie strictly between 0 and 1, got {value!r}")
    return v


def _int(name: str, value: object, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def _choice(kind: str, value: str, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise unknown_name(kind, value, allowed)
    return value


class Costs(BaseModel):
    """Cost rates of the simulation (any currency; the same unit for all three).

    Attributes
    ----------
    holding : float
        ``h`` per unit on hand at the end of a day (per unit-day), > 0.
    shortage : float
        ``p`` per unit of demand lost, >= 0.
    order : float
        ``K`` per order placed (fixed cost, whatever its size), >= 0.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    holding: float = Field(1.0, gt=0, allow_inf_nan=False)
    shortage: float = Field(19.0, ge=0, allow_inf_nan=False)
    order: float = Field(0.0, ge=0, allow_inf_nan=False)


class PolicyCost(BaseModel):
    """What a policy cost and how well it served, over the scoring window (all nodes pooled).

    Attributes
    ----------
    holding, shortage, ordering, total : float
        Cost parts and their sum.
    fill_rate : float
        Units served / units demanded (1 when nothing was demanded).
    csl : float
        Cycle service level: share of review cycles (the ``R`` days one order has to cover,
        ``o + L + 1 .. o + L + R``, per node) without a lost unit.
    demand, served, lost : float
        Units.
    orders : int
        Orders placed.
    days, nodes : int
        Days in the scoring window and nodes simulated.
    """

    model_config = ConfigDict(frozen=True)

    holding: float
    shortage: float
    ordering: float
    total: float
    fill_rate: float
    csl: float
    demand: float
    served: float
    lost: float
    orders: int
    days: int
    nodes: int


@dataclass(frozen=True)
class SimulationResult:
    """Outcome of :func:`simulate`.

    Attributes
    ----------
    summary : PolicyCost
        Pooled over nodes.
    per_node : pandas.DataFrame
        Index ``node``; the :class:`PolicyCost` fields per node (``nodes`` left out).
    trace : pandas.DataFrame
        One row per (node, day) from ``t0`` to the end of the window: ``node, ts, demand,
        arrival, served, lost, on_hand`` (end of day), ``review`` (bool), ``s``, ``S``, ``ip``
        (before ordering), ``order`` (units ordered at that day's review), ``scored`` (bool:
        the day is in the scoring window).
    policy : pandas.DataFrame
        The policy played: ``origin, node, s, S`` (+ the columns it came with).
    """

    summary: PolicyCost
    per_node: pd.DataFrame
    trace: pd.DataFrame
    policy: pd.DataFrame


def _cost_fields(costs: Costs, held: float, lost: float, demand: float, n_orders: int) -> dict:
    holding, shortage, ordering = costs.holding * held, costs.shortage * lost, costs.order * n_orders
    return {
        "holding": float(holding),
        "shortage": float(shortage),
        "ordering": float(ordering),
        "total": float(holding + shortage + ordering),
        "fill_rate": float((demand - lost) / demand) if demand > 0 else 1.0,
        "demand": float(demand),
        "served": float(demand - lost),
        "lost": float(lost),
        "orders": int(n_orders),
    }


def simulate(
    demand: pd.Series,
    policy: pd.DataFrame,
    *,
    lead_time: int,
    review: int = 1,
    costs: Costs | None = None,
    initial_on_hand: float | dict[str, float] | None = None,
    initial_pipeline: float | dict[str, float] | None = None,
    history_days: int = 28,
) -> SimulationResult:
    """Play a periodic-review (s, S) policy on a demand series (lost sales).

    Parameters
    ----------
    demand : pandas.Series
        Units demanded per day, index (``node``, ``ts``), daily without gaps, >= 0.  Must cover
        ``t0 + 1 .. t_last + L + R`` for every node in ``policy`` (and, for the default initial
        state, at least one day up to ``t0``).
    policy : pandas.DataFrame
        ``origin, node, s, S``: one row per review day and node; review days are ``t0, t0 + R,
        ...`` up to the last origin (``t0`` the first origin), each must be present for every node.
    lead_time : int
        ``L`` >= 0 (see the module docstring for the timing).
    review : int
        ``R`` >= 1 days between reviews.
    costs : Costs, optional
        Default ``Costs()`` (h = 1, p = 19, K = 0).
    initial_on_hand, initial_pipeline : float or dict node -> float, optional
        State at the end of day ``t0`` before its review: units on hand, and units due on each
        of the days ``t0 + 1 .. t0 + L`` (one order a day in transit).  Default for both: the
        node's mean demand over the ``history_days`` days up to ``t0`` (rounded), i.e. the
        same, history-only state for every policy compared.
    history_days : int
        Days of history for the default initial state.

    Returns
    -------
    SimulationResult
    """
    costs = Costs() if costs is None else costs
    L, R = int(lead_time), int(review)
    if L < 0:
        raise ValueError(f"lead_time must be an integer >= 0, got {lead_time!r}")
    if R < 1:
        raise ValueError(f"review must be an integer >= 1, got {review!r}")
    missing = [c for c in ("origin", "node", "s", "S") if c not in policy.columns]
    if missing:
        raise ValueError(f"policy is missing column(s) {missing}; got {list(policy.columns)}")
    if policy.empty:
        raise ValueError("policy is empty: no review day to simulate")
    pol = policy.assign(origin=pd.to_datetime(policy["origin"]))
    day = pd.Timedelta(days=1)
    t0 = pol["origin"].min()
    origins = pd.date_range(t0, pol["origin"].max(), freq=f"{R}D")
    t_last = origins[-1]
    days = pd.date_range(t0, t_last + (L + R) * day, freq="D")  # t0 .. end of window
    n_days = len(days)
    review_at = np.isin(days, origins)
    scored = days >= t0 + (L + 1) * day
    nodes = list(dict.fromkeys(pol["node"]))
    dem_nodes = set(demand.index.get_level_values("node"))
    absent = [n for n in nodes if n not in dem_nodes]
    if absent:
        raise ValueError(f"demand has no series for node(s) {absent}")

    traces, rows = [], {}
    for node in nodes:
        pn = pol[pol["node"] == node].set_index("origin")
        lacking = origins.difference(pn.index)
        if len(lacking):
            raise ValueError(
                f"policy for node {node!r} has no row for review day(s) "
                f"{[d.strftime('%Y-%m-%d') for d in lacking[:5]]} (review every {R} day(s) from {t0:%Y-%m-%d})"
            )
        d_node = demand.xs(node, level="node")
        d_node.index = pd.to_datetime(d_node.index)
        need = days[1:]
        lacking = need.difference(d_node.index)
        if len(lacking):
            raise ValueError(
                f"demand for node {node!r} does not cover {len(lacking)} day(s) of the simulation "
                f"({need[0]:%Y-%m-%d} .. {need[-1]:%Y-%m-%d}), e.g. {lacking[0]:%Y-%m-%d}"
            )
        dvals = d_node.reindex(days).to_numpy("float64")
        dvals[0] = 0.0  # day t0 itself is history (its demand is already in the initial state)
        if np.any(dvals[1:] < 0) or not np.all(np.isfinite(dvals[1:])):
            raise ValueError(f"demand for node {node!r} has negative or missing values")
        hist = d_node[(d_node.index <= t0) & (d_node.index > t0 - history_days * day)]

        def initial(value: float | dict[str, float] | None, what: str, node: str = node, hist=hist) -> float:
            if isinstance(value, dict):
                if node not in value:
                    raise ValueError(f"{what} has no entry for node {node!r}")
                value = value[node]
            if value is None:
                if hist.empty:
                    raise ValueError(
                        f"no demand history up to {t0:%Y-%m-%d} for node {node!r}: pass {what} explicitly"
                    )
                value = float(np.rint(hist.mean()))
            value = float(value)
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"{what} must be a finite number >= 0, got {value!r} for node {node!r}")
            return value

        on_hand = initial(initial_on_hand, "initial_on_hand")
        arrivals = np.zeros(n_days + L + 2)
        arrivals[1 : L + 1] = initial(initial_pipeline, "initial_pipeline")
        in_transit = float(arrivals[1 : L + 1].sum())
        s_col = np.full(n_days, np.nan)
        S_col = np.full(n_days, np.nan)
        ip_col = np.full(n_days, np.nan)
        order = np.zeros(n_days)
        served = np.zeros(n_days)
        lost = np.zeros(n_days)
        oh = np.zeros(n_days)
        arr = np.zeros(n_days)
        for t in range(n_days):
            if t > 0:
                arr[t] = arrivals[t]
                on_hand += arrivals[t]
                in_transit -= arrivals[t]
                served[t] = min(dvals[t], on_hand)
                lost[t] = dvals[t] - served[t]
                on_hand -= served[t]
            oh[t] = on_hand
            if review_at[t]:
                row = pn.loc[days[t]]
                s, S = float(row["s"]), float(row["S"])
                ip = on_hand + in_transit
                s_col[t], S_col[t], ip_col[t] = s, S, ip
                if ip <= s:
                    q = S - ip
                    order[t] = q
                    arrivals[t + L + 1] += q
                    in_transit += q
        tr = pd.DataFrame(
            {
                "node": node,
                "ts": days,
                "demand": dvals,
                "arrival": arr,
                "served": served,
                "lost": lost,
                "on_hand": oh,
                "review": review_at,
                "s": s_col,
                "S": S_col,
                "ip": ip_col,
                "order": order,
                "scored": scored,
            }
        )
        traces.append(tr)
        sc = tr[tr["scored"]]
        fields = _cost_fields(
            costs,
            float(sc["on_hand"].sum()),
            float(sc["lost"].sum()),
            float(sc["demand"].sum()),
            int((order > 0).sum()),
        )
        # cycle of review o: days o + L + 1 .. o + L + R
        o_idx = np.flatnonzero(review_at)
        ok = [lost[i + L + 1 : i + L + R + 1].sum() == 0 for i in o_idx]
        fields["csl"] = float(np.mean(ok))
        fields["cycles"] = len(ok)
        fields["days"] = int(scored.sum())
        rows[node] = fields
    per_node = pd.DataFrame.from_dict(rows, orient="index").rename_axis("node")
    total = _cost_fields(
        costs,
        sum(float(t.loc[t["scored"], "on_hand"].sum()) for t in traces),
        float(per_node["lost"].sum()),
        float(per_node["demand"].sum()),
        int(per_node["orders"].sum()),
    )
    total["csl"] = float((per_node["csl"] * per_node["cycles"]).sum() / per_node["cycles"].sum())
    summary = PolicyCost(**total, days=int(scored.sum()), nodes=len(nodes))
    return SimulationResult(
        summary=summary,
        per_node=per_node.drop(columns="cycles"),
        trace=pd.concat(traces, ignore_index=True),
        policy=pol.reset_index(drop=True),
    )


# --------------------------------------------------------------------------- forecast -> demand


def _quantile_columns(forecast: pd.DataFrame) -> dict[str, float]:
    cols = {}
    for c in forecast.columns:
        m = _QCOL.match(str(c))
        if m and 0.0 < float(m.group(1)) < 1.0:
            cols[str(c)] = float(m.group(1))
    if len(set(cols.values())) < 2:
        raise ValueError(
            "forecast needs quantile columns q<level> for at least two levels in (0, 1) "
            f"(e.g. q0.1 ... q0.9); got columns {list(forecast.columns)}"
        )
    return dict(sorted(cols.items(), key=lambda kv: kv[1]))


def _prepare(forecast: pd.DataFrame, variable: str | None) -> pd.DataFrame:
    if not isinstance(forecast, pd.DataFrame):
        raise TypeError(f"forecast must be a pandas DataFrame, got {type(forecast).__name__}")
    missing = [c for c in ("node", "ts") if c not in forecast.columns]
    if missing:
        raise ValueError(f"forecast is missing column(s) {missing}; got {list(forecast.columns)}")
    if forecast.empty:
        raise ValueError("forecast is empty")
    fc = forecast
    if "variable" in fc.columns:
        present = list(dict.fromkeys(fc["variable"]))
        if variable is None:
            if len(present) > 1:
                raise ValueError(
                    f"forecast holds variables {present}: say which one is the demand (variable=)"
                )
        elif variable not in present:
            raise ValueError(f"forecast has no variable {variable!r}; it has {present}")
        else:
            fc = fc[fc["variable"] == variable]
    fc = fc.assign(ts=pd.to_datetime(fc["ts"]))
    if "origin" in fc.columns:
        fc = fc.assign(origin=pd.to_datetime(fc["origin"]))
    else:  # one forecast per node: its origin is the day before its first day
        first = fc.groupby("node")["ts"].transform("min")
        fc = fc.assign(origin=first - pd.Timedelta(days=1))
    return fc


def lead_time_demand(
    forecast: pd.DataFrame,
    *,
    lead_time: int,
    review: int = 1,
    aggregation: str = "independent",
    variable: str | None = None,
) -> pd.DataFrame:
    """Normal distribution of the demand over the ``L + R`` days after each origin.

    Parameters
    ----------
    forecast : pandas.DataFrame
        Long: ``node, ts, q<level>...`` (at least two levels), optional ``variable`` and
        ``origin`` (without it, one forecast per node whose origin is the day before its first
        ``ts``).  Must cover the days ``origin + 1 .. origin + L + R`` of every (origin, node).
    lead_time, review : int
        ``L`` >= 0, ``R`` >= 1 days.
    aggregation : {"independent", "comonotone"}
        Spread of the sum: ``√Σσ_i²`` (independent days) or ``Σσ_i`` (perfectly dependent).
    variable : str, optional
        The demand variable when ``forecast`` holds several.

    Returns
    -------
    pandas.DataFrame
        One row per (origin, node): ``origin, node, mean, sd`` (units over the ``L + R`` days),
        ``rate`` (mean units per day).

    Raises
    ------
    ValueError
        Missing columns or quantiles, NaN quantiles, or a forecast that does not cover the days.
    """
    L, R = _int("lead_time", lead_time, 0), _int("review", review, 1)
    _choice("aggregation", aggregation, AGGREGATIONS)
    fc = _prepare(forecast, variable)
    qcols = _quantile_columns(fc)
    dup = fc.duplicated(["origin", "node", "ts"])
    if dup.any():
        o, n, t = fc.loc[dup, ["origin", "node", "ts"]].iloc[0]
        raise ValueError(f"forecast has duplicate rows for origin {o:%Y-%m-%d}, node {n!r}, day {t:%Y-%m-%d}")
    keys = fc[["origin", "node"]].drop_duplicates().set_index(["origin", "node"]).index
    step = (fc["ts"] - fc["origin"]).dt.days
    fc = fc[(step >= 1) & (step <= L + R)]
    Q = fc[list(qcols)].to_numpy("float64")
    if not np.all(np.isfinite(Q)):
        raise ValueError("forecast has missing or infinite quantile values")
    z = stats.norm.ppf(np.array(list(qcols.values())))
    zc = z - z.mean()
    sigma = np.maximum((Q - Q.mean(axis=1, keepdims=True)) @ zc / (zc @ zc), 0.0)
    mu = Q.mean(axis=1) - sigma * z.mean()
    daily = pd.DataFrame({"origin": fc["origin"].to_numpy(), "node": fc["node"].to_numpy(), "mu": mu})
    daily["v"] = sigma**2 if aggregation == "independent" else sigma
    g = daily.groupby(["origin", "node"], sort=True).agg(mean=("mu", "sum"), v=("v", "sum"), n=("mu", "size"))
    g = g.reindex(keys.sort_values(), fill_value=0)
    short = g[g["n"] != L + R]
    if len(short):
        (o, n), k = short.index[0], int(short["n"].iloc[0])
        raise ValueError(
            f"the forecast issued at {pd.Timestamp(o):%Y-%m-%d} for node {n!r} covers {k} of the "
            f"L + R = {L + R} days after its origin; forecast at least {L + R} days ahead"
        )
    g["sd"] = np.sqrt(g["v"]) if aggregation == "independent" else g["v"]
    g["mean"] = g["mean"].clip(lower=0.0)
    g["rate"] = g["mean"] / (L + R)
    return g[["mean", "sd", "rate"]].reset_index()


def _levels(ltd: pd.DataFrame, alpha: float) -> np.ndarray:
    """``⌈F_D⁻¹(α)⌉`` per row (the mean when the spread is 0), never below 0."""
    sd = ltd["sd"].to_numpy()
    mean = ltd["mean"].to_numpy()
    x = mean + stats.norm.ppf(alpha) * sd
    return np.maximum(np.ceil(x - _EPS), 0.0)


def _policy_table(
    ltd: pd.DataFrame, kind: str, alpha: float, h: float | None, K: float | None
) -> pd.DataFrame:
    r = _levels(ltd, alpha)  # protection level: the position must not fall below it
    out = ltd.assign(kind=kind, service=alpha)
    if kind == "sS":
        from stockpyl.eoq import economic_order_quantity

        q = np.array([economic_order_quantity(K, h, lam)[0] for lam in ltd["rate"].to_numpy()])
        out["Q"] = np.rint(q)
        out["s"], out["S"] = r - 1.0, r + out["Q"].to_numpy()
    else:
        out["Q"] = 0.0
        out["s"], out["S"] = r - 1.0, r
    return out


# --------------------------------------------------------------------------- demand and rolling forecasts


def scenario_demand(
    scenario: Scenario, *, variable: str | None = None, nodes: Sequence[str] | None = None
) -> pd.Series:
    """The truth demand a replenishment policy faces in a scenario.

    Parameters
    ----------
    scenario : Scenario
    variable : str, optional
        Default: ``demand`` at the stores in retail; ``logistics`` (outbound shipments, the
        demand proxy) at every node in manufacturing; the ``d`` target elsewhere.
    nodes : sequence of str, optional
        Default as above.

    Returns
    -------
    pandas.Series
        Units per day, index (``node``, ``ts``), named after the variable.
    """
    truth = scenario.truth
    node_types = dict(zip(scenario.nodes["node"], scenario.nodes["node_type"], strict=True))
    targets = scenario.meta["targets"]
    if variable is None:
        variable = "demand" if "demand" in targets else targets["d"]
    if variable not in truth.columns:
        raise ValueError(
            f"scenario {scenario.name!r} has no variable {variable!r}; it has {list(truth.columns)}"
        )
    if nodes is None:
        stores = [n for n, t in node_types.items() if t == "store"]
        nodes = stores if variable == "demand" and stores else list(node_types)
    unknown = [n for n in nodes if n not in node_types]
    if unknown:
        raise unknown_name("node", unknown[0], node_types)
    s = truth[variable]
    return s[s.index.get_level_values("node").isin(list(nodes))].rename(variable)


def rolling_forecasts(
    scenario: Scenario,
    origins: Sequence[object],
    models: Sequence[str] = ("M", "seasonal_naive", "lightgbm"),
    *,
    variable: str | None = None,
    nodes: Sequence[str] | None = None,
    panel: pd.DataFrame | CausalPanels | None = None,
    horizon: int = 7,
    input_size: int = 56,
    seed: int = 0,
    trained: TrainedForecaster | None = None,
    train_options: Mapping[str, Any] | None = None,
    lightgbm_params: Mapping[str, Any] | None = None,
    baseline_series: str = "demand",
    device: str = "auto",
) -> dict[str, pd.DataFrame]:
    """Forecasts of the scenario's demand issued at every origin, one frame per model.

    Protocol (the same information for every model: the panel as known at each origin)

    * ``"M"``: :func:`sclm.pipeline.train_forecaster` on :func:`sclm.pipeline.scenario_task`
      once, with ``train_end`` = the first origin, then :meth:`~sclm.pipeline.TrainedForecaster.forecast`
      at each origin (the history up to the origin as input; all of M's targets jointly, the
      demand rows kept).
    * baselines (:data:`sclm.pipeline.BASELINE_LABELS`): :func:`sclm.baselines.forecast` refitted
      at every origin on the demand series' history up to it (LightGBM: one global model over
      those series, or over all of M's target series with ``baseline_series="targets"``; the
      scenario's known-future columns — promotion, price — as exogenous).

    Parameters
    ----------
    scenario : Scenario
    origins : sequence of dates
        Forecast origins (last observed day), increasing; each needs ``horizon`` days after it
        in the panel.
    models : sequence of str
        ``"M"`` and/or baseline names (``seasonal_naive``, ``auto_ets``, ``auto_theta``, ``lightgbm``).
    variable, nodes : optional
        The demand (see :func:`scenario_demand`).
    panel : pandas.DataFrame or sclm.pipeline.CausalPanels, optional
        What the models see (default the truth): :class:`~sclm.pipeline.CausalPanels` of the raw
        readings (the case studies: every model reads the panel cleaned and fused from the
        readings up to each origin), or a panel used as it is at every origin (e.g. an edited
        truth; a panel cleaned on the whole period is not causal).
    horizon, input_size : int
        M's ``H`` and ``T``; every model forecasts ``horizon`` days.
    seed : int
        Seed of M's training and of LightGBM.
    trained : TrainedForecaster, optional
        Use this M (its ``train_end`` must not be after the first origin) instead of training;
        it reads its own task's panels (give it the same ``CausalPanels``).
    train_options : mapping, optional
        Passed to :func:`sclm.pipeline.train_forecaster` (``epochs``, ``patience``, ``d_model`` ...).
    lightgbm_params : mapping, optional
        ``lgb_params`` of :func:`sclm.baselines.forecast`.
    baseline_series : {"demand", "targets"}
        What the baselines are fitted on: the demand series only (default: a global LightGBM
        over the stores' demand), or every (node, target) series of M's task, as in
        :func:`sclm.pipeline.backtest` (the demand rows are kept).  Seasonal Naive is
        univariate, so only LightGBM changes.
    device : str
        M's device (``"auto"``: cuda, then mps, then cpu).

    Returns
    -------
    dict label -> pandas.DataFrame
        Labels ``"M"`` and :data:`sclm.pipeline.BASELINE_LABELS` values; frames ``origin, node,
        variable, ts, mean, q0.1 ... q0.9``.
    """
    from sclm.baselines import forecast as baseline_forecast
    from sclm.pipeline import BASELINE_LABELS, scenario_task, train_forecaster

    _choice("baseline_series", baseline_series, ("demand", "targets"))
    unknown = [m for m in models if m != "M" and m not in BASELINE_LABELS]
    if unknown:
        raise unknown_name("forecaster", unknown[0], ["M", *BASELINE_LABELS])
    if not len(origins):
        raise ValueError("origins is empty")
    ori = pd.DatetimeIndex(pd.to_datetime(list(origins)))
    if not ori.is_monotonic_increasing or ori.has_duplicates:
        raise ValueError("origins must be strictly increasing")
    dem = scenario_demand(scenario, variable=variable, nodes=nodes)
    var = str(dem.name)
    dnodes = list(dict.fromkeys(dem.index.get_level_values("node")))
    task = scenario_task(scenario, panel, horizon=_int("horizon", horizon, 1), input_size=input_size)
    if var not in task.targets:
        task = replace(task, targets=(*task.targets, var))
    last = task.last_day
    if ori[-1] + pd.Timedelta(days=horizon) > last:
        raise ValueError(
            f"the last origin {ori[-1]:%Y-%m-%d} needs {horizon} days after it; the panel ends {last:%Y-%m-%d}"
        )
    out: dict[str, pd.DataFrame] = {}
    for m in models:
        if m != "M":
            continue
        tf = trained
        if tf is None:
            tf = train_forecaster(
                task, train_end=ori[0], seed=seed, device=device, **dict(train_options or {})
            )
        elif tf.train_end > ori[0]:
            raise ValueError(
                f"trained M saw data up to {tf.train_end:%Y-%m-%d}, after the first origin {ori[0]:%Y-%m-%d}"
            )
        parts = []
        for o in ori:
            f = tf.forecast(o, device=device)
            f = f[(f["variable"] == var) & f["node"].isin(dnodes)]
            parts.append(f.assign(origin=o))
        out["M"] = _order(pd.concat(parts, ignore_index=True))
    kf = list(task.known_future)
    fit_vars = [var] if baseline_series == "demand" else list(task.targets)
    fit_nodes = dnodes if baseline_series == "demand" else sorted(task.panel.index.unique("node"))
    # the baselines' unique_id is an integer per (node, variable), in that order; node and
    # variable travel as columns and come back by a merge (no joined string ids)
    keys = pd.MultiIndex.from_product([sorted(fit_nodes), sorted(fit_vars)], names=["node", "variable"])
    ids = keys.to_frame(index=False).assign(unique_id=np.arange(len(keys)))
    baselines = [m for m in models if m != "M"]
    parts: dict[str, list[pd.DataFrame]] = {m: [] for m in baselines}
    for o in ori if baselines else []:
        long = _baseline_history(task.panel_at(o, horizon=horizon), fit_vars, fit_nodes, kf, ids)
        train = long[long["ds"] <= o]
        for m in baselines:
            kw: dict[str, Any] = {"seed": seed}
            if m == "lightgbm":
                fx = long[(long["ds"] > o) & (long["ds"] <= o + pd.Timedelta(days=horizon))]
                kw.update(future_exog=fx[["unique_id", "ds", *kf]] if kf else None, use_exog=kf or False)
                kw["lgb_params"] = dict(lightgbm_params) if lightgbm_params else None
            f = baseline_forecast(m, train[["unique_id", "ds", "y", *kf]], horizon, **kw)
            f = f.merge(ids, on="unique_id", how="left")
            f = f[(f["variable"] == var) & f["node"].isin(dnodes)]
            parts[m].append(f.drop(columns="unique_id").rename(columns={"ds": "ts"}).assign(origin=o))
    for m in baselines:
        out[BASELINE_LABELS[m]] = _order(pd.concat(parts[m], ignore_index=True))
    order = ["M" if m == "M" else BASELINE_LABELS[m] for m in models]
    return {k: out[k] for k in order}


def _baseline_history(
    panel: pd.DataFrame, variables: list[str], nodes: list[str], known_future: list[str], ids: pd.DataFrame
) -> pd.DataFrame:
    """Long ``node, variable, unique_id, ds, y`` (+ known-future columns) of ``panel``'s ``nodes``."""
    p = panel.reset_index()
    p = p[p["node"].isin(nodes)]
    long = pd.concat(
        [
            pd.DataFrame(
                {
                    "node": p["node"].to_numpy(),
                    "variable": v,
                    "ds": p["ts"].to_numpy(),
                    "y": p[v].to_numpy("float64"),
                    **{c: p[c].to_numpy("float64") for c in known_future},
                }
            )
            for v in variables
        ],
        ignore_index=True,
    )
    return long.merge(ids, on=["node", "variable"], how="left", sort=False)


def _order(frame: pd.DataFrame) -> pd.DataFrame:
    qcols = list(_quantile_columns(frame))
    cols = ["origin", "node", "variable", "ts", "mean", *qcols]
    return frame[cols].sort_values(["origin", "node", "ts"], kind="mergesort").reset_index(drop=True)
