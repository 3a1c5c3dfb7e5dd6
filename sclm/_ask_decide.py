"""Decision paths of :func:`sclm.ask` that start from M's forecast (private to :mod:`sclm._ask_paths`).

* ``plan_inventory`` — a base-stock policy per node from M's demand quantiles
  (:func:`sclm.decisions.inventory.policy_from_forecast`, service 95 %, daily review, the
  scenario's lead time): the order-up-to level today, the order to place now, and the policy
  replayed on the next days of the simulator (:func:`~sclm.decisions.inventory.simulate_policy`,
  with M forecasting again each morning from the data up to that day).
* ``plan_routes`` — the logistics scenario's delivery rounds on the first forecast day
  (:func:`sclm.decisions.routing.scenario_routes` on M's ``delivery`` forecast).
* ``plan_production`` — the manufacturing plants' LP plan over the horizon on M's logistics
  forecast (:func:`sclm.decisions.production.scenario_production_plan`).
* ``plan_network`` without a network file — the manufacturing scenario's network for one
  period of ``horizon`` days built from M's forecast
  (:func:`sclm.decisions.network.scenario_network`), then as a network file.
* ``monitor`` — :class:`sclm.monitor.Monitor`: conformal calibration on the first held-out
  days, then the next ``horizon`` days checked one at a time (alerts, drift).

What-if factors are applied to the forecast first (:func:`sclm._ask_forecast.apply_what_if`);
the baseline is the same decision on the unchanged forecast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sclm._ask_paths import Outcome, _cache_info, _iso, _model_info, _pct, _py, _what_if_info

if TYPE_CHECKING:
    from sclm._ask_forecast import Bundle
    from sclm.assistant import TaskView

__all__ = ["RUNNERS", "run_scenario_network"]

SERVICE = 0.95
"""Service target (probability of covering the lead time plus review) of the inventory policy."""
REVIEW = 1
ALERT_ALPHA = 0.01
"""Miscoverage of the monitoring anomaly band (99 %): a small scenario gives a few hundred
one-day-ahead calibration forecasts, enough for 1 % but not for the monitor's default 0.1 %."""


def _with_what_if(
    view: TaskView, b: Bundle, fc: pd.DataFrame, h: int, skip=()
) -> tuple[pd.DataFrame, list[str]]:
    from sclm._ask_forecast import apply_what_if

    factors = {k: v for k, v in view.what_if.items() if k not in skip}
    if not factors:
        return fc, []
    return apply_what_if(b, fc, factors, h)


# --------------------------------------------------------------------------------------------
# inventory
# --------------------------------------------------------------------------------------------


def _inventory_once(b: Bundle, factors: dict[str, float], h: int) -> dict[str, Any]:
    from sclm import _ask_forecast as F
    from sclm.decisions.inventory import policy_from_forecast, scenario_demand, simulate_policy
    from sclm.monitor import rolling_forecasts

    sc = b.scenario
    demand = scenario_demand(sc)
    var = str(demand.name)
    nodes = list(dict.fromkeys(demand.index.get_level_values("node")))
    L = int(sc.meta["lead_time"])
    n_rev = max(1, min(h, b.setup.future_days - L - REVIEW + 1))
    origins = pd.date_range(b.origin, periods=n_rev, freq="D")
    roll = rolling_forecasts(b.trained, origins, device="cpu")
    roll = roll[(roll["variable"] == var) & roll["node"].isin(nodes)].drop(columns=["y"])
    factor = 1.0
    generic = {v: k for k, v in F.generic_map(sc).items()}.get(var, var)
    for g, f in factors.items():
        if g in (generic, "demand") or F._whatif_column(sc, g) == var:
            factor *= float(f)
        else:
            raise ValueError(
                f"what-if on {g!r} is not supported for an inventory plan; it scales the {var} forecast "
                f"(say it as a change of demand)"
            )
    qcols = [c for c in roll.columns if c == "mean" or c.startswith("q")]
    roll[qcols] = roll[qcols].to_numpy() * factor
    truth = demand * factor
    last = origins[-1] + pd.Timedelta(days=L + REVIEW)
    truth = truth[truth.index.get_level_values("ts") <= last]
    today = roll[roll["origin"] == b.origin]
    pol = policy_from_forecast(today, kind="base_stock", lead_time=L, review=REVIEW, service=SERVICE)
    pol = pol.set_index("node")
    panel = b.panel
    days = panel.index.get_level_values("ts")
    on_hand = panel.loc[days == b.origin, "inventory"].droplevel("ts")
    recent = (days > b.origin - pd.Timedelta(days=L)) & (days <= b.origin)
    transit = panel.loc[recent, "orders"].groupby(level="node").sum() if "orders" in panel else on_hand * 0.0
    rows = []
    for node in nodes:
        p = pol.loc[node]
        oh, tr = float(on_hand.get(node, 0.0)), float(transit.get(node, 0.0))
        S = float(p["S"])
        rows.append(
            {
                "node": node,
                "order_up_to": round(S, 2),
                "reorder_point": round(float(p["s"]), 2),
                "lead_time_demand": round(float(p["mean"]), 2),
                "lead_time_sd": round(float(p["sd"]), 2),
                "safety_stock": round(S - float(p["mean"]), 2),
                "on_hand": round(oh, 2),
                "in_transit": round(tr, 2),
                "order_now": round(max(0.0, S - oh - tr), 2),
            }
        )
    sim = simulate_policy(truth, roll, kind="base_stock", lead_time=L, review=REVIEW, service=SERVICE)
    s = sim.summary
    return {
        "status": "ok",
        "variable": var,
        "kind": "base_stock",
        "service": SERVICE,
        "lead_time": L,
        "review": REVIEW,
        "reviews": n_rev,
        "first_day": _iso(origins[0] + pd.Timedelta(days=1)),
        "last_day": _iso(last),
        "nodes": rows,
        "n_nodes": len(rows),
        "total_order_now": round(sum(r["order_now"] for r in rows), 2),
        "total_safety_stock": round(sum(r["safety_stock"] for r in rows), 2),
        "simulation": {
            "fill_rate": round(s.fill_rate, 4),
            "csl": round(s.csl, 4),
            "total_cost": round(s.total, 2),
            "holding_cost": round(s.holding, 2),
            "shortage_cost": round(s.shortage, 2),
            "demand": round(s.demand, 2),
            "lost": round(s.lost, 2),
            "orders": int(s.orders),
            "days": int(s.days),
        },
        "model": _model_info(b),
    }


def run_inventory(view: TaskView, b: Bundle, h: int, figures: bool) -> Outcome:
    result = _inventory_once(b, dict(view.what_if), h)
    baseline = delta = None
    notes = [
        f"base-stock policy at a {SERVICE:.0%} service target, daily review, lead time from the scenario; "
        "in transit = orders of the last lead-time days"
    ]
    if view.what_if:
        result["what_if"] = _what_if_info(view.what_if)
        baseline = _inventory_once(b, {}, h)
        delta = {
            "total_order_now": round(result["total_order_now"] - baseline["total_order_now"], 2),
            "total_safety_stock": round(result["total_safety_stock"] - baseline["total_safety_stock"], 2),
            "fill_rate": round(result["simulation"]["fill_rate"] - baseline["simulation"]["fill_rate"], 4),
            "total_cost": round(result["simulation"]["total_cost"] - baseline["simulation"]["total_cost"], 2),
            "total_cost_pct": _pct(result["simulation"]["total_cost"], baseline["simulation"]["total_cost"]),
        }
    figs = {}
    if figures:
        figs["inventory"] = _inventory_figure(result)
    return Outcome(_py(result), _py(baseline), _py(delta), figs, notes)


def _inventory_figure(res: dict) -> Any:
    import matplotlib.pyplot as plt

    nodes = [r["node"] for r in res["nodes"]]
    x = np.arange(len(nodes))
    fig, ax = plt.subplots(figsize=(max(5.0, 0.9 * len(nodes) + 2), 3.4))
    ax.bar(x - 0.2, [r["on_hand"] + r["in_transit"] for r in res["nodes"]], 0.4, label="on hand + in transit")
    ax.bar(x + 0.2, [r["order_up_to"] for r in res["nodes"]], 0.4, label="order-up-to level S")
    ax.set_xticks(x, nodes, rotation=30, ha="right")
    ax.set_ylabel(f"{res['variable']} units")
    ax.set_title(f"base-stock policy (service {res['service']:.0%}, lead time {res['lead_time']} d)")
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# routes
# --------------------------------------------------------------------------------------------


def _routes_once(b: Bundle, fc: pd.DataFrame) -> tuple[dict[str, Any], Any]:
    from sclm.decisions.routing import scenario_routes

    day = b.origin + pd.Timedelta(days=1)
    plan = scenario_routes(b.scenario, fc, day=day, seed=int(b.scenario.meta.get("seed", 0)))
    summ = plan.summary()
    d = plan.to_dict()
    routed = summ[summ["quantity"] > 0] if "quantity" in summ else summ
    sites = []
    for r in routed.to_dict("records"):
        sites.append(
            {
                "site": r["site"],
                "quantity": r.get("quantity"),
                "vehicles": r["vehicles"],
                "fleet": r["fleet"],
                "within_fleet": bool(r["within_fleet"]),
                "distance_km": round(float(r["distance_km"]), 1),
                "max_load": r["max_load"],
                "vehicle_capacity": r.get("vehicle_capacity"),
            }
        )
    over = [s["site"] for s in sites if not s["within_fleet"]]
    busiest = max(sites, key=lambda s: s["distance_km"]) if sites else None
    res = {
        "status": "optimal" if plan.feasible else "infeasible",
        "day": d["day"],
        "source": d["source"],
        "distance_km": round(d["distance_km"], 1),
        "n_vehicles": int(d["n_vehicles"]),
        "quantity": round(float(sum(s["quantity"] or 0 for s in sites)), 2),
        "linehaul": round(float(summ["linehaul"].fillna(0).sum()), 2) if "linehaul" in summ else 0.0,
        "n_sites": len(sites),
        "n_stops": int(summ["stops"].sum()) if len(summ) else 0,
        "sites": sites,
        "over_fleet": over,
        "busiest": busiest,
        "feasible": bool(plan.feasible),
    }
    return res, plan


def run_routes(view: TaskView, b: Bundle, h: int, figures: bool) -> Outcome:
    from sclm import _ask_forecast as F

    if "delivery" not in b.task.targets:
        raise ValueError(
            f"delivery routes are planned for the logistics scenario (its sites, trucks and delivery "
            f"forecast); the {b.scenario.name} scenario has no delivery fleet"
        )

    fc = F.forecast_frame(b, 1)
    used, notes = _with_what_if(view, b, fc, 1)
    result, plan = _routes_once(b, used)
    if h > 1:
        notes.append(f"routes are planned day by day; this is the plan for the first of the {h} days")
    dl = used[(used["variable"] == "delivery") & (used["ts"] == pd.Timestamp(result["day"]))]
    result["forecast"] = {
        "mean": round(float(dl["mean"].sum()), 2),
        "low": round(float(dl["q0.1"].sum()), 2),
        "high": round(float(dl["q0.9"].sum()), 2),
        "interval": 0.8,
    }
    result["horizon"] = h
    result["model"] = _model_info(b)
    baseline = delta = None
    if view.what_if:
        result["what_if"] = _what_if_info(view.what_if)
        baseline, _ = _routes_once(b, fc)
        delta = {
            "distance_km": round(result["distance_km"] - baseline["distance_km"], 1),
            "distance_pct": _pct(result["distance_km"], baseline["distance_km"]),
            "n_vehicles": result["n_vehicles"] - baseline["n_vehicles"],
        }
    figs = {"routes": plan.plot()} if figures and plan.sites else {}
    return Outcome(_py(result), _py(baseline), _py(delta), figs, notes)


# --------------------------------------------------------------------------------------------
# production
# --------------------------------------------------------------------------------------------


def _production_dict(plan: Any) -> dict[str, Any]:
    summ = plan.summary().reset_index()
    plants = []
    for r in summ.to_dict("records"):
        plants.append(
            {
                "plant": r["node"],
                "demand": round(float(r["demand"]), 2),
                "production": round(float(r["production"]), 2),
                "overtime": round(float(r["overtime"]), 2),
                "final_stock": round(float(r["final_stock"]), 2),
                "final_backlog": round(float(r["final_backlog"]), 2),
                "fill_rate": round(float(r["fill_rate"]), 4),
                "max_utilisation": round(float(r["max_utilisation"]), 4),
                "days_at_capacity": int(r["days_at_capacity"]),
            }
        )
    frame = plan.frame
    return {
        "status": plan.status,
        "cost": round(float(plan.cost), 2),
        "cost_parts": {k: round(float(v), 2) for k, v in plan.cost_parts.items()},
        "plants": plants,
        "n_plants": len(plants),
        "demand": round(float(frame["demand"].sum()), 2),
        "production": round(float(frame["production"].sum()), 2),
        "final_backlog": round(float(sum(p["final_backlog"] for p in plants)), 2),
        "days_at_capacity": int(sum(p["days_at_capacity"] for p in plants)),
        "first_day": _iso(frame["ts"].min()),
        "last_day": _iso(frame["ts"].max()),
        "days": int(frame["ts"].nunique()),
        "capacity_scale": float(plan.meta.get("capacity_scale", 1.0)),
    }


def run_production(view: TaskView, b: Bundle, h: int, figures: bool) -> Outcome:
    from sclm import _ask_forecast as F
    from sclm.decisions.production import plot_production_plan, scenario_production_plan

    if b.scenario.name != "manufacturing":
        raise ValueError(
            f"a production plan needs the manufacturing scenario's plants; the {b.scenario.name} scenario has none"
        )
    fc = F.forecast_frame(b, h)
    used, notes = _with_what_if(view, b, fc, h, skip=("capacity",))
    cap = float(view.what_if.get("capacity", 1.0))
    if "capacity" in view.what_if:
        notes.append("capacity scales every plant's daily capacity")
    plan = scenario_production_plan(b.scenario, used, capacity_scale=cap)
    result = {**_production_dict(plan), "horizon": h, "model": _model_info(b)}
    baseline = delta = None
    if view.what_if:
        result["what_if"] = _what_if_info(view.what_if)
        base = scenario_production_plan(b.scenario, fc)
        baseline = _production_dict(base)
        delta = {
            "cost": round(result["cost"] - baseline["cost"], 2),
            "cost_pct": _pct(result["cost"], baseline["cost"]),
            "production": round(result["production"] - baseline["production"], 2),
            "final_backlog": round(result["final_backlog"] - baseline["final_backlog"], 2),
        }
    figs = {"production": plot_production_plan(plan)} if figures else {}
    return Outcome(_py(result), _py(baseline), _py(delta), figs, notes)


# --------------------------------------------------------------------------------------------
# monitoring
# --------------------------------------------------------------------------------------------


def run_monitor(view: TaskView, b: Bundle, h: int, figures: bool) -> Outcome:
    from sclm._ask_paths import _targets
    from sclm.monitor import Monitor

    if view.what_if:
        raise ValueError("a monitoring question takes no what-if")
    targets = _targets(view, b, []) if view.targets else {}
    H = b.task.horizon
    fut = b.setup.future_days
    if fut - h < H + 1:
        raise ValueError(
            f"monitoring {h} days needs {h + H + 1} held-out days (calibration first); the setup holds {fut}"
        )
    cal_end = b.origin + pd.Timedelta(days=fut - h)
    import inspect

    opts: dict[str, Any] = {"alert_alpha": ALERT_ALPHA, "update_every": None, "device": "cpu"}
    if "alert_score" in inspect.signature(Monitor).parameters:
        opts["alert_score"] = "abs"  # the model has no quantiles this far out; residual band
    mon = Monitor(b.trained, **opts).calibrate(cal_end)
    out = mon.run(b.trained.task.panel, end=cal_end + pd.Timedelta(days=h))
    g = out.figures
    cols = list(targets.values()) or list(b.task.targets)
    al = out.alerts[out.alerts["variable"].isin(cols)] if len(out.alerts) else out.alerts
    dr = (
        out.drift[out.drift["variable"].isin(cols)]
        if len(out.drift) and "variable" in out.drift
        else out.drift
    )
    fc = out.forecasts[out.forecasts["variable"].isin(cols)].dropna(subset=["y"])
    y = fc["y"].to_numpy()
    cov = float(np.mean((y >= fc["lo"].to_numpy()) & (y <= fc["hi"].to_numpy()))) if len(fc) else None
    raw = float(np.mean((y >= fc["q0.1"].to_numpy()) & (y <= fc["q0.9"].to_numpy()))) if len(fc) else None
    alerts = []
    for r in al.sort_values("excess", ascending=False).head(5).itertuples():
        alerts.append(
            {
                "node": r.node,
                "variable": r.variable,
                "day": _iso(r.ts),
                "actual": round(float(r.y), 2),
                "low": round(float(r.lo), 2),
                "high": round(float(r.hi), 2),
                "side": r.side,
                "severity": r.severity,
            }
        )
    drift = []
    if len(dr):
        for r in dr.head(5).to_dict("records"):
            drift.append(
                {
                    "node": r.get("node"),
                    "variable": r.get("variable"),
                    "day": _iso(r.get("ts", r.get("onset"))),
                }
            )
    result = {
        "status": "ok",
        "variables": cols,
        "horizon": h,
        "first_day": _iso(cal_end + pd.Timedelta(days=1)),
        "last_day": _iso(cal_end + pd.Timedelta(days=h)),
        "calibration_days": int((cal_end - b.origin).days),
        "interval": round(1 - float(g["alpha"]), 4),
        "alert_level": round(1 - ALERT_ALPHA, 4),
        "coverage_raw": None if raw is None else round(raw, 4),
        "coverage_calibrated": None if cov is None else round(cov, 4),
        "n_forecasts": len(fc),
        "n_alerts": len(al),
        "n_alerts_high": int((al["severity"] == "high").sum()) if len(al) else 0,
        "alerts": alerts,
        "n_drift": len(dr),
        "drift": drift,
        "model": _model_info(b),
    }
    notes = [
        "conformal calibration (ACI) on the held-out days after the history, then each monitored day "
        "checked as it arrives; anomaly band at 99 %"
    ]
    figs = {}
    if figures and len(fc):
        figs["monitor"] = _monitor_figure(b, out.forecasts, cols[0], result)
    return Outcome(_py(result), figures=figs, notes=notes)


def _monitor_figure(b: Bundle, forecasts: pd.DataFrame, var: str, res: dict) -> Any:
    """One-day-ahead forecasts, calibrated intervals and actuals, summed over the main node type."""
    import matplotlib.pyplot as plt

    from sclm._ask_forecast import node_groups

    one = forecasts[(forecasts["variable"] == var) & (forecasts["step"] == 1)].dropna(subset=["y"])
    kind, nodes = node_groups(b, list(dict.fromkeys(one["node"])))[0]
    where = f"{kind} nodes" if kind != "node" else "nodes"
    tot = one[one["node"].isin(nodes)].groupby("ts")[["y", "lo", "hi", "mean"]].sum()
    fig, ax = plt.subplots(figsize=(8, 3.2))
    ax.fill_between(
        tot.index, tot["lo"], tot["hi"], alpha=0.25, label=f"calibrated interval (sum of {where})"
    )
    ax.plot(tot.index, tot["mean"], label="one-day-ahead forecast")
    ax.plot(tot.index, tot["y"], "k.", label="actual")
    ax.set_title(f"monitoring {var}: {res['first_day']} to {res['last_day']}")
    ax.set_ylabel(f"{var}, units (all {where})")
    ax.legend(frameon=False, fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# scenario network
# --------------------------------------------------------------------------------------------


def run_scenario_network(
    view: TaskView, name: str, seed: int, h: int, setup: Any, cache_dir: Any, use_cache: bool, figures: bool
) -> Outcome:
    from sclm import _ask_forecast as F
    from sclm._ask_paths import _bundle, run_network
    from sclm.decisions.network import scenario_network

    if name != "manufacturing":
        raise ValueError(
            f"a network plan without a network file uses the manufacturing scenario's network; got {name!r} "
            "(pass network=FILE for another network)"
        )
    b = _bundle(name, seed, h, setup, cache_dir, use_cache)
    fc = F.forecast_frame(b, h)
    net = scenario_network(b.scenario, demand=fc, horizon=h)
    out = run_network(view, net, figures)
    out.result["period"] = {
        "days": h,
        "first_day": _iso(b.origin + pd.Timedelta(days=1)),
        "last_day": _iso(b.origin + pd.Timedelta(days=h)),
    }
    out.result["model"] = _model_info(b)
    out.notes.append(
        f"network built from M's forecast of the next {h} days (sclm.decisions.network.scenario_network)"
    )
    out.cache = _cache_info(b)
    return out


RUNNERS = {
    "plan_inventory": run_inventory,
    "plan_routes": run_routes,
    "plan_production": run_production,
    "monitor": run_monitor,
}
