"""Capacity-constrained production plan (LP): how much each plant makes each day to meet a forecast.

The model (one linear programme, solved with OR-Tools GLOP, which is deterministic)
---------------------------------------------------------------------------------
Items ``i`` are (plant, product) pairs; ``p(i)`` is the plant of ``i``; days ``t = 1..T``.
Every quantity is in units (counts) per day.

Variables (all ``>= 0``)
    ``x[i,t]`` regular-time production, ``o[i,t]`` overtime production, ``y[i,t]`` shipped,
    ``s[i,t]`` closing stock, ``b[i,t]`` closing backlog (demand not yet shipped), ``g[i,t]``
    shortfall of the closing stock below the ``safety_stock``, ``f[i]`` shortfall of the last
    day's closing stock below the ``final_stock``.
Constraints
    stock balance   ``s[i,t] = s[i,t-1] + x[i,t] + o[i,t] - y[i,t]``   (``s[i,0]`` = opening stock)
    backlog         ``b[i,t] = b[i,t-1] + demand[i,t] - y[i,t]``        (``b[i,0]`` = opening backlog)
    capacity        ``Σ_{i in plant} x[i,t] <= capacity[plant,t]``
    overtime        ``Σ_{i in plant} o[i,t] <= overtime_capacity[plant,t]``
    stock capacity  ``Σ_{i in plant} s[i,t] <= stock_capacity[plant]``   (when given)
    safety stock    ``s[i,t] + g[i,t] >= safety_stock[i]``                (soft, every day)
    end of horizon  ``s[i,T] + f[i] >= final_stock[i]``                   (soft)
Cost (see :class:`ProductionCosts`)
    ``Σ production·(x + o) + overtime·o + holding·s + safety_shortfall·g + backlog·b``
    ``+ Σ_i final_backlog·b[i,T] + stock_shortfall·f[i]``

Shipping never exceeds what is owed (``b >= 0``), so the plan is always feasible once the
opening stock fits the stock capacity (checked up front): in the worst case nothing is made and
the demand is backlogged.  The LP is continuous (units are not rounded); with integer data and
one product per plant its optimal vertices are integer in practice.

Horizon effects: without ``final_stock`` the plan runs the opening stock down to zero by the
last day, and without ``final_backlog`` it would leave the last days' demand unmet whenever the
backlog penalty of one day is cheaper than making the unit.  Keep ``final_backlog`` above
``production + overtime`` and ``stock_shortfall`` above ``production`` (the defaults do).
Keep ``holding < safety_shortfall < backlog`` (per unit-day, as the defaults): stock is kept at
the safety level while it is cheap, and drawn below it before any customer waits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from sclm.schema import unknown_name

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from sclm.scenarios import Scenario

__all__ = [
    "COST_PARTS",
    "ProductionCosts",
    "ProductionPlan",
    "plan_production",
    "plot_production_plan",
    "scenario_production_plan",
]

NonNeg = Annotated[float, Field(ge=0, allow_inf_nan=False)]
CostValue = NonNeg | dict[str, NonNeg]
COST_PARTS = (
    "production",
    "overtime",
    "holding",
    "safety_shortfall",
    "backlog",
    "final_backlog",
    "stock_shortfall",
)
_ITEM_COLUMNS = ("demand", "production", "regular", "overtime", "shipped", "stock", "backlog")


class ProductionCosts(BaseModel):
    """Cost model of :func:`plan_production`, in money per unit (a number, or plant → number).

    The defaults are in units of the variable production cost (production = 1).

    Parameters
    ----------
    production
        Per unit made, in regular time or overtime.
    overtime
        Extra per unit made in overtime, on top of ``production`` (0.5: time and a half).
    holding
        Per unit of closing stock per day (0.001: about 37 % of the unit cost a year).
    safety_shortfall
        Per unit of closing stock below ``safety_stock`` per day; between ``holding`` and
        ``backlog``, so safety stock is kept but used before customers wait.
    backlog
        Per unit of closing backlog per day (a unit shipped ``n`` days late costs ``n·backlog``).
    final_backlog
        Per unit still backlogged after the last day (lost sale); keep it above
        ``production + overtime`` or the plan prefers not to make the last days' demand.
    stock_shortfall
        Per unit the last day's closing stock falls short of ``final_stock``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    production: CostValue = 1.0
    overtime: CostValue = 0.5
    holding: CostValue = 0.001
    safety_shortfall: CostValue = 0.02
    backlog: CostValue = 0.05
    final_backlog: CostValue = 3.0
    stock_shortfall: CostValue = 2.0

    def value(self, part: str, plant: str) -> float:
        """The cost ``part`` (a field name) at ``plant``.

        Raises
        ------
        ValueError
            ``part`` is given per plant and ``plant`` is not in its mapping.
        """
        v = getattr(self, part)
        if isinstance(v, dict):
            if plant not in v:
                raise ValueError(f"costs.{part} is given per plant but has no value for plant {plant!r}")
            return float(v[plant])
        return float(v)

    def check_plants(self, plants: Sequence[str]) -> None:
        """Raise :class:`sclm.schema.UnknownNameError` for a per-plant key that is not a plant."""
        for part in COST_PARTS:
            v = getattr(self, part)
            if isinstance(v, dict):
                for key in v:
                    if key not in plants:
                        raise unknown_name(f"plant in costs.{part}", key, plants)


@dataclass(frozen=True, eq=False)
class ProductionPlan:
    """The optimal production plan.

    Attributes
    ----------
    status
        ``"optimal"``, ``"infeasible"``, ``"unbounded"`` or ``"not solved"`` (GLOP's status).
    cost
        Total cost (money), the LP objective.
    cost_parts
        :data:`COST_PARTS` → money; they sum to ``cost``.
    frame
        One row per plant and day (rows = plants × T): ``node, ts, demand, production,
        regular, overtime, shipped, stock, backlog, capacity, overtime_capacity, utilisation,
        capacity_shadow_price``.  ``production = regular + overtime`` (units/day); ``stock`` and
        ``backlog`` are closing values (units); ``utilisation = regular / capacity`` (NaN where
        capacity is 0); ``capacity_shadow_price`` is the cost saved by one more unit of regular
        capacity that day (the LP dual, >= 0).
    items
        One row per plant, product and day: ``node, product, ts`` and the item columns
        ``demand, production, regular, overtime, shipped, stock, backlog``; ``product`` is the
        plant's name when the demand has no ``product`` column.
    costs
        The cost model used.
    meta
        Inputs and context (opening stock, final stock, where the demand came from, ...).
    """

    status: str
    cost: float
    cost_parts: dict[str, float]
    frame: pd.DataFrame
    items: pd.DataFrame
    costs: ProductionCosts
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def plants(self) -> list[str]:
        """Plant names, in plan order."""
        return list(dict.fromkeys(self.frame["node"]))

    def summary(self) -> pd.DataFrame:
        """Totals per plant.

        Returns
        -------
        pandas.DataFrame
            Index: plant.  Columns: ``demand, production, overtime, shipped`` (units over the
            horizon), ``final_stock, final_backlog`` (units after the last day),
            ``backlog_unit_days`` (Σ closing backlog), ``fill_rate`` (share of opening backlog
            plus demand shipped by the horizon end), ``mean_utilisation``, ``max_utilisation``,
            ``days_at_capacity`` (regular production within 1e-6 of capacity).
        """
        g = self.frame.groupby("node", sort=False)
        last = g.tail(1).set_index("node")
        b0 = pd.Series(self.meta.get("opening_backlog_by_plant", {}), dtype=float)
        owed = g["demand"].sum() + b0.reindex(g["demand"].sum().index).fillna(0.0)
        at_cap = self.frame["regular"] >= self.frame["capacity"] - 1e-6
        out = pd.DataFrame(
            {
                "demand": g["demand"].sum(),
                "production": g["production"].sum(),
                "overtime": g["overtime"].sum(),
                "shipped": g["shipped"].sum(),
                "final_stock": last["stock"],
                "final_backlog": last["backlog"],
                "backlog_unit_days": g["backlog"].sum(),
                "fill_rate": 1.0 - last["backlog"] / owed.where(owed > 0),
                "mean_utilisation": g["utilisation"].mean(),
                "max_utilisation": g["utilisation"].max(),
                "days_at_capacity": at_cap.groupby(self.frame["node"], sort=False).sum().astype(int),
            }
        )
        out["fill_rate"] = out["fill_rate"].fillna(1.0)
        out.index.name = "node"
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable: status, cost, cost_parts, costs, summary and frame records (ISO days)."""
        frame = self.frame.copy()
        if pd.api.types.is_datetime64_any_dtype(frame["ts"]):
            frame["ts"] = frame["ts"].dt.strftime("%Y-%m-%d")
        summary = self.summary().reset_index()
        clean = lambda recs: [  # noqa: E731
            {k: (None if isinstance(v, float) and not np.isfinite(v) else _py(v)) for k, v in r.items()}
            for r in recs
        ]
        return {
            "status": self.status,
            "cost": self.cost,
            "cost_parts": dict(self.cost_parts),
            "costs": self.costs.model_dump(),
            "summary": clean(summary.to_dict("records")),
            "frame": clean(frame.to_dict("records")),
            "meta": {k: _py(v) for k, v in self.meta.items()},
        }


def _py(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d")
    if isinstance(v, dict):
        return {str(k): _py(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_py(x) for x in v]
    return v


# --------------------------------------------------------------------------- inputs


def _demand_table(demand: pd.DataFrame, quantile: float | str | None, variable: str | None) -> pd.DataFrame:
    """Normalise the demand input to ``node, product, ts, demand`` on a complete daily grid."""
    if not isinstance(demand, pd.DataFrame):
        raise ValueError(f"demand must be a pandas DataFrame; got {type(demand).__name__}")
    for col in ("node", "ts"):
        if col not in demand.columns:
            raise ValueError(f"demand has no column {col!r}; columns are {list(demand.columns)}")
    d = demand
    if "variable" in d.columns:
        present = list(dict.fromkeys(d["variable"]))
        if variable is None:
            if len(present) != 1:
                raise ValueError(
                    f"demand holds several variables {present}; pass variable= to choose the one to plan for"
                )
            variable = present[0]
        elif variable not in present:
            raise unknown_name("variable", variable, present)
        d = d[d["variable"] == variable]
    elif variable is not None:
        raise ValueError(f"variable={variable!r} given but demand has no 'variable' column")
    if "demand" in d.columns:
        if quantile is not None:
            raise ValueError("quantile= chooses a forecast column; this demand frame has a 'demand' column")
        col = "demand"
    else:
        qcols = [
            c for c in d.columns if c == "mean" or (c.startswith("q") and c[1:].replace(".", "").isdigit())
        ]
        if not qcols:
            raise ValueError(
                f"demand needs a 'demand' column or forecast columns 'mean', 'q0.1', ...; got {list(d.columns)}"
            )
        # the column naming of sclm.baselines.quantile_column
        col = (
            "mean"
            if quantile is None
            else (quantile if isinstance(quantile, str) else f"q{float(quantile):g}")
        )
        if col not in d.columns:
            raise unknown_name("forecast column", col, qcols)
    values = pd.to_numeric(d[col], errors="coerce")
    bad = ~np.isfinite(values.to_numpy(dtype=float))
    if bad.any():
        row = d.index[np.flatnonzero(bad)[0]]
        raise ValueError(f"demand column {col!r} is not a finite number at row {row!r}: {d.loc[row, col]!r}")
    out = pd.DataFrame(
        {
            "node": d["node"].astype(str).to_numpy(),
            "product": (
                d["product"].astype(str) if "product" in d.columns else d["node"].astype(str)
            ).to_numpy(),
            "ts": d["ts"].to_numpy(),
            # a forecast may dip below zero; nobody orders negative units
            "demand": np.clip(values.to_numpy(dtype=float), 0.0, None),
        }
    )
    if out.empty:
        raise ValueError("demand has no rows")
    dup = out.duplicated(["node", "product", "ts"])
    if dup.any():
        r = out[dup].iloc[0]
        raise ValueError(
            f"demand has several rows for node {r['node']!r}, product {r['product']!r}, ts {r['ts']!r}"
        )
    days = np.sort(out["ts"].unique())
    if np.issubdtype(days.dtype, np.datetime64):
        steps = np.diff(days).astype("timedelta64[D]").astype(np.int64)
        days = pd.DatetimeIndex(days)
    elif np.issubdtype(days.dtype, np.integer):
        steps = np.diff(days)
    else:
        raise ValueError(f"demand ts must be dates or integer day numbers; got dtype {out['ts'].dtype}")
    if (steps != 1).any():
        k = int(np.flatnonzero(steps != 1)[0])
        raise ValueError(f"demand days must be consecutive; {days[k]!r} is followed by {days[k + 1]!r}")
    items = out[["node", "product"]].drop_duplicates()
    grid = items.merge(pd.DataFrame({"ts": days}), how="cross")
    # an item with no row on some day has no demand that day
    return grid.merge(out, on=["node", "product", "ts"], how="left").fillna({"demand": 0.0})


def _per_plant_day(
    value: Any, plants: list[str], n_days: int, name: str, default: float | None
) -> np.ndarray:
    """``value`` (number, mapping plant → number or length-T sequence, or Series) → (P, T)."""
    if value is None:
        if default is None:
            raise ValueError(f"{name} is required")
        return np.full((len(plants), n_days), float(default))
    if isinstance(value, pd.Series):
        value = value.to_dict()
    if not isinstance(value, Mapping):
        value = {p: value for p in plants}
    for key in value:
        if key not in plants:
            raise unknown_name(f"plant in {name}", key, plants)
    out = np.empty((len(plants), n_days))
    for k, p in enumerate(plants):
        if p not in value:
            if default is None:
                raise ValueError(f"{name} has no value for plant {p!r}")
            out[k] = default
            continue
        v = np.asarray(value[p], dtype=float)
        if v.ndim == 0:
            out[k] = v
        elif v.shape == (n_days,):
            out[k] = v
        else:
            raise ValueError(f"{name}[{p!r}] has shape {v.shape}; expected a number or {n_days} daily values")
    if not np.isfinite(out).all() and name != "stock_capacity":
        raise ValueError(f"{name} must be finite; got {out[~np.isfinite(out)][0]!r}")
    if (out < 0).any() or np.isnan(out).any():
        raise ValueError(f"{name} must be >= 0")
    return out


def _per_item(value: Any, items: pd.DataFrame, name: str) -> np.ndarray:
    """``value`` keyed by plant (one product) or (plant, product) → one number per item (default 0)."""
    out = np.zeros(len(items))
    if value is None:
        return out
    if isinstance(value, pd.Series):
        value = value.to_dict()
    plants = list(dict.fromkeys(items["node"]))
    keys = list(zip(items["node"], items["product"], strict=True))
    if not isinstance(value, Mapping):
        value = {p: value for p in plants}
    n_products = items.groupby("node")["product"].nunique()
    for key, v in value.items():
        if isinstance(key, tuple):
            if key not in keys:
                raise unknown_name(f"(plant, product) in {name}", key, [str(k) for k in keys])
            idx = [keys.index(key)]
        else:
            if key not in plants:
                raise unknown_name(f"plant in {name}", key, plants)
            if n_products[key] > 1:
                raise ValueError(
                    f"{name}[{key!r}] is ambiguous: plant {key!r} makes {n_products[key]} products; "
                    "key it by (plant, product)"
                )
            idx = [i for i, k in enumerate(keys) if k[0] == key]
        v = float(v)
        if not np.isfinite(v) or v < 0:
            raise ValueError(f"{name}[{key!r}] must be a finite number >= 0; got {v!r}")
        out[idx] = v
    return out


# --------------------------------------------------------------------------- the LP


def plan_production(
    demand: pd.DataFrame,
    capacity: float | Mapping[str, float | Sequence[float]] | pd.Series,
    *,
    opening_stock: float | Mapping[Any, float] | pd.Series | None = None,
    opening_backlog: float | Mapping[Any, float] | pd.Series | None = None,
    overtime_capacity: float | Mapping[str, float | Sequence[float]] | pd.Series | None = None,
    stock_capacity: float | Mapping[str, float] | pd.Series | None = None,
    safety_stock: float | Mapping[Any, float] | pd.Series | None = None,
    final_stock: float | Mapping[Any, float] | pd.Series | None = None,
    costs: ProductionCosts | Mapping[str, Any] | None = None,
    quantile: float | str | None = None,
    variable: str | None = None,
    meta: Mapping[str, Any] | None = None,
) -> ProductionPlan:
    """Plan production per plant, product and day at minimum cost (LP, OR-Tools GLOP).

    Parameters
    ----------
    demand
        Long frame, one row per plant (``node``), optional ``product``, and day ``ts`` (dates or
        integer day numbers, consecutive), with a ``demand`` column (units/day) — or a forecast
        frame ``node, variable, ts, mean, q0.1 ... q0.9`` as
        :meth:`sclm.pipeline.TrainedForecaster.forecast` returns.  A missing (item, day) row
        means no demand; negative values are clipped to 0.
    capacity
        Regular-time capacity (units/day) shared by a plant's products: one number for every
        plant, or plant → number or T daily numbers.
    opening_stock, opening_backlog, safety_stock, final_stock
        Units per item: a number for every item, or keyed by plant (one product) or by
        ``(plant, product)``; default 0.  ``safety_stock`` is a soft floor on every day's closing
        stock (priced by ``costs.safety_shortfall`` per unit-day); ``final_stock`` is the closing
        stock wanted after the last day (soft, priced by ``costs.stock_shortfall``; default the
        ``safety_stock``).
    overtime_capacity
        Extra capacity (units/day) at ``costs.overtime`` more per unit; like ``capacity``;
        default none.
    stock_capacity
        Most units a plant may hold at a day's close (all products); default unlimited.
    costs
        :class:`ProductionCosts` (or its fields as a mapping); default the documented defaults.
    quantile
        Forecast frame only: which column is the demand — ``None`` (``mean``), a level such as
        ``0.9`` (``q0.9``), or a column name.
    variable
        Forecast frame only: the variable to plan for (needed when it holds several).
    meta
        Extra context stored in :attr:`ProductionPlan.meta`.

    Returns
    -------
    ProductionPlan

    Raises
    ------
    ValueError
        Malformed demand (missing columns, NaN, duplicated rows, gaps between days), capacities
        missing for a plant or negative, or opening stock above the stock capacity.
    sclm.schema.UnknownNameError
        A plant, (plant, product), variable or forecast column that is not in the demand.
    """
    from ortools.linear_solver import pywraplp

    costs = ProductionCosts() if costs is None else costs
    if not isinstance(costs, ProductionCosts):
        costs = ProductionCosts(**dict(costs))
    table = _demand_table(demand, quantile, variable)
    items = table[["node", "product"]].drop_duplicates().reset_index(drop=True)
    plants = list(dict.fromkeys(items["node"]))
    days = list(dict.fromkeys(table["ts"]))
    n_items, n_days = len(items), len(days)
    costs.check_plants(plants)
    dem = table["demand"].to_numpy(dtype=float).reshape(n_items, n_days)
    cap = _per_plant_day(capacity, plants, n_days, "capacity", None)
    ocap = _per_plant_day(overtime_capacity, plants, n_days, "overtime_capacity", 0.0)
    scap = _per_plant_day(stock_capacity, plants, 1, "stock_capacity", np.inf)[:, 0]
    s0 = _per_item(opening_stock, items, "opening_stock")
    b0 = _per_item(opening_backlog, items, "opening_backlog")
    safety = _per_item(safety_stock, items, "safety_stock")
    fin = safety.copy() if final_stock is None else _per_item(final_stock, items, "final_stock")
    plant_of = np.asarray([plants.index(p) for p in items["node"]])
    for k, p in enumerate(plants):
        held = s0[plant_of == k].sum()
        if held > scap[k] + 1e-9:
            raise ValueError(
                f"opening stock of plant {p!r} ({held:g}) exceeds its stock_capacity ({scap[k]:g})"
            )

    solver = pywraplp.Solver.CreateSolver("GLOP")
    inf = solver.infinity()
    shape = (n_items, n_days)
    var = lambda tag, ub=inf: np.array(  # noqa: E731
        [[solver.NumVar(0.0, ub, f"{tag}_{i}_{t}") for t in range(n_days)] for i in range(n_items)]
    ).reshape(shape)
    x, y, s, b = var("x"), var("y"), var("s"), var("b")
    o = np.array(
        [
            [solver.NumVar(0.0, float(ocap[plant_of[i], t]), f"o_{i}_{t}") for t in range(n_days)]
            for i in range(n_items)
        ]
    ).reshape(shape)
    f = [solver.NumVar(0.0, inf, f"f_{i}") for i in range(n_items)]
    # safety-stock shortfall, fixed at 0 for items without a safety stock
    g = np.array(
        [
            [solver.NumVar(0.0, inf if safety[i] > 0 else 0.0, f"g_{i}_{t}") for t in range(n_days)]
            for i in range(n_items)
        ]
    ).reshape(shape)

    for i in range(n_items):
        for t in range(n_days):
            prev_s = s[i, t - 1] if t else s0[i]
            prev_b = b[i, t - 1] if t else b0[i]
            solver.Add(s[i, t] == prev_s + x[i, t] + o[i, t] - y[i, t])
            solver.Add(b[i, t] == prev_b + float(dem[i, t]) - y[i, t])
            if safety[i] > 0:
                solver.Add(s[i, t] + g[i, t] >= float(safety[i]))
        solver.Add(s[i, n_days - 1] + f[i] >= float(fin[i]))
    cap_rows = np.empty((len(plants), n_days), dtype=object)
    for k in range(len(plants)):
        mine = np.flatnonzero(plant_of == k)
        for t in range(n_days):
            cap_rows[k, t] = solver.Add(solver.Sum([x[i, t] for i in mine]) <= float(cap[k, t]))
            if len(mine) > 1 and ocap[k, t] > 0:
                solver.Add(solver.Sum([o[i, t] for i in mine]) <= float(ocap[k, t]))
            if np.isfinite(scap[k]):
                solver.Add(solver.Sum([s[i, t] for i in mine]) <= float(scap[k]))

    unit = {
        part: np.asarray([costs.value(part, plants[plant_of[i]]) for i in range(n_items)])
        for part in COST_PARTS
    }
    obj = solver.Objective()
    for i in range(n_items):
        for t in range(n_days):
            obj.SetCoefficient(x[i, t], unit["production"][i])
            obj.SetCoefficient(o[i, t], unit["production"][i] + unit["overtime"][i])
            obj.SetCoefficient(s[i, t], unit["holding"][i])
            obj.SetCoefficient(g[i, t], unit["safety_shortfall"][i])
            last = unit["final_backlog"][i] if t == n_days - 1 else 0.0
            obj.SetCoefficient(b[i, t], unit["backlog"][i] + last)
        obj.SetCoefficient(f[i], unit["stock_shortfall"][i])
    obj.SetMinimization()
    code = solver.Solve()
    status = {
        pywraplp.Solver.OPTIMAL: "optimal",
        pywraplp.Solver.INFEASIBLE: "infeasible",
        pywraplp.Solver.UNBOUNDED: "unbounded",
    }.get(code, "not solved")

    val = np.vectorize(lambda v: v.solution_value(), otypes=[float])
    if status == "optimal":
        xv, ov, yv, sv, bv, gv = (np.maximum(val(a), 0.0) for a in (x, o, y, s, b, g))
        fv = np.maximum(np.array([v.solution_value() for v in f]), 0.0)
        shadow = np.vectorize(lambda c: max(-c.dual_value(), 0.0) + 0.0, otypes=[float])(cap_rows)
    else:
        xv = ov = yv = sv = bv = gv = np.full(shape, np.nan)
        fv = np.full(n_items, np.nan)
        shadow = np.full((len(plants), n_days), np.nan)
    parts = {
        "production": float((unit["production"][:, None] * (xv + ov)).sum()),
        "overtime": float((unit["overtime"][:, None] * ov).sum()),
        "holding": float((unit["holding"][:, None] * sv).sum()),
        "safety_shortfall": float((unit["safety_shortfall"][:, None] * gv).sum()),
        "backlog": float((unit["backlog"][:, None] * bv).sum()),
        "final_backlog": float((unit["final_backlog"] * bv[:, -1]).sum()),
        "stock_shortfall": float((unit["stock_shortfall"] * fv).sum()),
    }
    cost = float(solver.Objective().Value()) if status == "optimal" else float("nan")

    item_frame = items.loc[np.repeat(np.arange(n_items), n_days)].reset_index(drop=True)
    item_frame["ts"] = pd.Index(days)[np.tile(np.arange(n_days), n_items)]
    cols = {
        "demand": dem,
        "production": xv + ov,
        "regular": xv,
        "overtime": ov,
        "shipped": yv,
        "stock": sv,
        "backlog": bv,
    }
    for c in _ITEM_COLUMNS:
        item_frame[c] = cols[c].ravel()
    frame = item_frame.groupby(["node", "ts"], sort=False)[list(_ITEM_COLUMNS)].sum().reset_index()
    frame["capacity"] = cap.ravel()
    frame["overtime_capacity"] = ocap.ravel()
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["utilisation"] = np.where(cap.ravel() > 0, frame["regular"] / cap.ravel(), np.nan)
    frame["capacity_shadow_price"] = shadow.ravel()

    info = {
        "n_plants": len(plants),
        "n_items": n_items,
        "n_days": n_days,
        "first_day": days[0],
        "last_day": days[-1],
        "opening_stock": {
            f"{a}|{p}": float(v) for (a, p), v in zip(items.itertuples(index=False), s0, strict=True)
        },
        "safety_stock": {
            f"{a}|{p}": float(v) for (a, p), v in zip(items.itertuples(index=False), safety, strict=True)
        },
        "final_stock": {
            f"{a}|{p}": float(v) for (a, p), v in zip(items.itertuples(index=False), fin, strict=True)
        },
        "opening_backlog_by_plant": {p: float(b0[plant_of == k].sum()) for k, p in enumerate(plants)},
        "stock_shortfall_units": {p: float(fv[plant_of == k].sum()) for k, p in enumerate(plants)},
        "solver": "OR-Tools GLOP",
        "solver_seconds": solver.wall_time() / 1000.0,
        **dict(meta or {}),
    }
    return ProductionPlan(status, cost, parts, frame, item_frame, costs, info)


# --------------------------------------------------------------------------- the scenario


def scenario_production_plan(
    scenario: Scenario,
    forecast: pd.DataFrame | None = None,
    *,
    horizon: int = 14,
    quantile: float | str | None = None,
    costs: ProductionCosts | Mapping[str, Any] | None = None,
    origin: object | None = None,
    capacity_scale: float = 1.0,
    overtime_share: float = 0.0,
    keep_target_stock: bool = True,
) -> ProductionPlan:
    """Production plan for the manufacturing scenario's plants over the days after ``origin``.

    What each plant must make: its outbound shipments, the ``logistics`` variable.  In the
    simulator a plant's ``logistics`` already includes the replenishment it ships to its
    warehouses (a warehouse's ``production`` inflow is carved out of its plant's outflow; for
    seed 0, plant_01's mean logistics 958.6/day = about 588 to its own customers + 370.1 to
    warehouse_01), so the warehouses' forecast is not added again: that would count their
    replenishment twice.  Warehouses make nothing and are not in the plan.

    Parameters
    ----------
    scenario
        A manufacturing :class:`~sclm.scenarios.Scenario` (``scenario.nodes`` gives each plant's
        ``capacity`` and ``target_stock``).
    forecast
        A forecast frame of :meth:`sclm.pipeline.TrainedForecaster.forecast` (its ``logistics``
        rows for the plants are the demand; its days set the horizon and the origin is the day
        before the first).  ``None``: plan on the truth's ``logistics`` (a perfect forecast).
    horizon
        Days planned when ``forecast`` is ``None`` (ignored otherwise).
    quantile
        Forecast column used as demand (``None`` = ``mean``, ``0.9`` = ``q0.9``); truth: ignored.
    costs
        Cost model; default :class:`ProductionCosts` ().
    origin
        Last day known when planning (no forecast: default the truth's last day − ``horizon``).
    capacity_scale
        Multiplies every plant's capacity (what-if; 1 = the scenario's capacity).
    overtime_share
        Overtime capacity as a share of the (scaled) regular capacity; default 0 (none).
    keep_target_stock
        Use each plant's ``target_stock`` as its safety stock (a soft floor every day, and the
        closing stock wanted after the last day), so the plan neither runs the stock down in
        the middle of the horizon nor at its end; ``False``: no stock target.

    Returns
    -------
    ProductionPlan
        ``meta`` also holds ``origin``, ``demand_source`` and the capacity settings.  Opening
        stock is the truth's closing stock of the origin day
        (``inventory + production - logistics``), the stock the plant holds when planning.
    """
    if scenario.name != "manufacturing":
        raise ValueError(f"scenario_production_plan needs the manufacturing scenario; got {scenario.name!r}")
    if not capacity_scale >= 0 or not overtime_share >= 0:
        raise ValueError(
            f"capacity_scale and overtime_share must be >= 0; got {capacity_scale}, {overtime_share}"
        )
    nodes = scenario.nodes.set_index("node")
    plants = [n for n in nodes.index if nodes.loc[n, "node_type"] == "plant"]
    truth = scenario.truth
    all_days = truth.index.get_level_values("ts").unique().sort_values()
    if forecast is not None:
        need = {"node", "variable", "ts"}
        if not need <= set(forecast.columns):
            raise ValueError(f"forecast needs columns {sorted(need)}; got {list(forecast.columns)}")
        fc = forecast[(forecast["variable"] == "logistics") & forecast["node"].isin(plants)]
        missing = sorted(set(plants) - set(fc["node"]))
        if missing:
            raise ValueError(f"forecast has no 'logistics' rows for plant(s) {missing}")
        first = pd.Timestamp(fc["ts"].min())
        origin = first - pd.Timedelta(days=1)
        demand = fc
        source = f"forecast logistics ({'mean' if quantile is None else quantile})"
    else:
        if not isinstance(horizon, int | np.integer) or horizon < 1:
            raise ValueError(f"horizon must be an integer >= 1; got {horizon!r}")
        origin = all_days[-1] - pd.Timedelta(days=horizon) if origin is None else pd.Timestamp(origin)
        days = pd.date_range(origin + pd.Timedelta(days=1), periods=horizon, freq="D")
        if days[-1] > all_days[-1] or origin < all_days[0]:
            raise ValueError(
                f"origin {origin.date()} + horizon {horizon} leaves the truth ({all_days[0].date()} to "
                f"{all_days[-1].date()})"
            )
        rows = truth.loc[(plants, days), ["logistics"]].reset_index()
        demand = rows.rename(columns={"logistics": "demand"})
        source = "truth logistics (perfect forecast)"
        quantile = None
    if origin not in all_days:
        raise ValueError(f"origin {pd.Timestamp(origin).date()} is not a day of the scenario's truth")
    at = truth.xs(origin, level="ts").loc[plants]
    opening = (at["inventory"] + at["production"] - at["logistics"]).clip(lower=0.0)
    cap = nodes.loc[plants, "capacity"].astype(float) * capacity_scale
    return plan_production(
        demand,
        cap,
        opening_stock=opening,
        overtime_capacity=cap * overtime_share,
        safety_stock=nodes.loc[plants, "target_stock"].astype(float) if keep_target_stock else None,
        costs=costs,
        quantile=quantile,
        variable="logistics" if forecast is not None else None,
        meta={
            "scenario": scenario.name,
            "seed": scenario.meta.get("seed"),
            "origin": pd.Timestamp(origin).strftime("%Y-%m-%d"),
            "demand_source": source,
            "capacity_scale": float(capacity_scale),
            "overtime_share": float(overtime_share),
            "keep_target_stock": bool(keep_target_stock),
        },
    )


# --------------------------------------------------------------------------- figure


def plot_production_plan(plan: ProductionPlan, *, plants: Sequence[str] | None = None) -> Figure:
    """Two stacked panels per plant: production against demand and capacity, then stock and backlog.

    Parameters
    ----------
    plan
        A :class:`ProductionPlan`.
    plants
        Subset and order of plants (default all).

    Returns
    -------
    matplotlib.figure.Figure
        ``2 × plants`` axes, top to bottom, sharing the day axis.  Upper panel of a plant
        (units/day): bars of regular production (and overtime on top, when the plan has overtime
        capacity), the demand (black), the regular capacity (red dashes) and capacity with
        overtime (red dots).  Lower panel (units): closing stock (green), the safety stock
        (green dots, when set) and the backlog (red).
    """
    import matplotlib.pyplot as plt

    chosen = plan.plants if plants is None else list(plants)
    for p in chosen:
        if p not in plan.plants:
            raise unknown_name("plant", p, plan.plants)
    overtime = bool((plan.frame["overtime_capacity"] > 0).any())
    safety: dict[str, float] = {}
    for key, v in plan.meta.get("safety_stock", {}).items():
        safety[key.split("|")[0]] = safety.get(key.split("|")[0], 0.0) + v
    fig, axes = plt.subplots(
        2 * len(chosen),
        1,
        figsize=(9, 3.4 * len(chosen)),
        sharex=True,
        squeeze=False,
        gridspec_kw={"height_ratios": [2.2, 1.0] * len(chosen)},
    )
    for k, p in enumerate(chosen):
        ax, low = axes[2 * k, 0], axes[2 * k + 1, 0]
        d = plan.frame[plan.frame["node"] == p]
        t = np.arange(len(d))
        ax.bar(t, d["regular"], color="C0", label="production (regular)")
        if overtime:
            ax.bar(t, d["overtime"], bottom=d["regular"], color="C1", label="production (overtime)")
        ax.plot(t, d["demand"], "k.-", label="demand")
        ax.step(t, d["capacity"], where="mid", color="C3", ls="--", label="capacity")
        if overtime:
            ax.step(
                t, d["capacity"] + d["overtime_capacity"], where="mid", color="C3", ls=":", label="+ overtime"
            )
        ax.set_ylabel("units/day")
        ax.set_ylim(bottom=0)
        ax.set_title(p, loc="left", fontsize=10)
        low.plot(t, d["stock"], color="C2", lw=2, label="closing stock")
        if safety.get(p, 0.0) > 0:
            low.axhline(safety[p], color="C2", ls=":", lw=1.2, label="safety stock")
        low.plot(t, d["backlog"], color="C3", lw=1.5, label="backlog")
        low.set_ylabel("units")
        low.set_ylim(bottom=0)
    handles, names = [], []
    for ax in axes[:2, 0]:
        h, lab = ax.get_legend_handles_labels()
        handles, names = handles + h, names + lab
    fig.legend(handles, names, loc="upper center", ncol=4, fontsize=8, frameon=False)
    labels = plan.frame.loc[plan.frame["node"] == chosen[-1], "ts"]
    ticks = [x.strftime("%m-%d") if isinstance(x, pd.Timestamp) else str(x) for x in labels]
    axes[-1, 0].set_xticks(np.arange(len(ticks)), ticks, rotation=45, fontsize=8)
    axes[-1, 0].set_xlabel("day")
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    return fig
