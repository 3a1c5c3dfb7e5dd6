"""The paths of :func:`sclm.ask`, one function per action, each returning an :class:`Outcome`.

Results are plain JSON-able dicts: every number the recommendation may quote is in them (the
narrative computes nothing), so percentages, differences and counts are computed here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sclm.assistant import DEFAULT_HORIZON, TaskView, default_scenario

if TYPE_CHECKING:
    from sclm._ask_forecast import Bundle

__all__ = ["Outcome", "run"]


@dataclass
class Outcome:
    result: dict[str, Any]
    baseline: dict[str, Any] | None = None
    delta: dict[str, Any] | None = None
    figures: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    cache: dict[str, Any] | None = None
    scenario: str | None = None
    network: str | None = None


# --------------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------------


def _py(v: Any) -> Any:
    """JSON-safe: NumPy scalars → Python, NaN/inf → None, timestamps → ISO dates, recursively."""
    if isinstance(v, Mapping):
        return {str(k): _py(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_py(x) for x in v]
    if isinstance(v, np.ndarray):
        return [_py(x) for x in v.tolist()]
    if isinstance(v, bool | np.bool_):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        f = float(v)
        return f if math.isfinite(f) else None
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d")
    if hasattr(v, "model_dump"):
        return _py(v.model_dump(mode="json"))
    return v


def _pct(new: float | None, old: float | None) -> float | None:
    if new is None or old is None or old == 0:
        return None
    return round(new / old - 1.0, 4)


def _iso(ts: Any) -> str:
    return pd.Timestamp(ts).strftime("%Y-%m-%d")


def _what_if_info(what_if: Mapping[str, float]) -> dict[str, dict[str, float]]:
    return {k: {"factor": float(f), "change": round(float(f) - 1.0, 6)} for k, f in what_if.items()}


def _setup(setup: Any):
    from sclm._ask_forecast import ForecastSetup

    if setup is None:
        return ForecastSetup()
    if isinstance(setup, ForecastSetup):
        return setup
    return ForecastSetup(**dict(setup))


def _bundle(name: str, seed: int, horizon: int, setup: Any, cache_dir: Any, use_cache: bool) -> Bundle:
    from sclm._ask_forecast import get_bundle

    return get_bundle(
        name, seed=seed, horizon=horizon, setup=_setup(setup), cache_dir=cache_dir, use_cache=use_cache
    )


def _cache_info(b: Bundle) -> dict[str, Any]:
    from sclm.reporting import relative_name

    fit = b.trained.fit_result
    return {
        "source": b.source,
        "directory": relative_name(b.directory) if _inside_project(b.directory) else str(b.directory),
        "seconds": round(b.seconds, 4),
        "epochs_run": fit.epochs_run,
        "best_epoch": fit.best_epoch,
        "best_val_loss": fit.best_val_loss,
        "model_horizon": b.task.horizon,
        "input_size": b.task.input_size,
    }


def _inside_project(p: Path) -> bool:
    from sclm import config

    try:
        Path(p).resolve().relative_to(config.PROJECT_ROOT)
        return True
    except ValueError:
        return False


def _targets(view: TaskView, b: Bundle, default: list[str]) -> dict[str, str]:
    """Requested generic targets → scenario columns (unknown for this scenario: ValueError)."""
    from sclm._ask_forecast import generic_map

    mp = generic_map(b.scenario)
    wanted = view.targets or default
    out = {}
    for g in wanted:
        if g not in mp:
            raise ValueError(
                f"the {b.scenario.name} scenario has no {g} forecast (M forecasts "
                f"{', '.join(f'{k} = {v}' for k, v in mp.items())}); the retail scenario forecasts demand"
            )
        out[g] = mp[g]
    return out


def _model_info(b: Bundle) -> dict[str, Any]:
    return {
        "origin": _iso(b.origin),
        "history_days": int(b.panel.index.get_level_values("ts").unique().get_loc(b.origin)) + 1,
        "cached": b.cache_used,
        "inputs": list(b.task.columns),
    }


# --------------------------------------------------------------------------------------------
# forecast and explain
# --------------------------------------------------------------------------------------------


def _forecast_delta(res: dict, base: dict) -> dict[str, Any]:
    out = {}
    for g, r in res.items():
        b = base[g]
        out[g] = {
            "mean": round(r["mean"] - b["mean"], 2),
            "change": _pct(r["mean"], b["mean"]),
            "low": round(r["low"] - b["low"], 2),
            "high": round(r["high"] - b["high"], 2),
        }
    return out


def _fan(b: Bundle, fc: pd.DataFrame, columns: list[str], title: str) -> Any:
    """The fan chart of the total over the main node type (the text's total; never across types)."""
    from sclm._ask_forecast import node_groups
    from sclm.plots import plot_fan

    kind, nodes = node_groups(b, list(dict.fromkeys(fc["node"])))[0]
    label = f"all {kind} nodes" if kind != "node" else "all nodes"
    fc = fc[fc["node"].isin(nodes)]
    totals = fc.groupby(["variable", "ts"], as_index=False)[
        [c for c in fc.columns if c == "mean" or c.startswith("q")]
    ].sum()
    totals["node"] = label
    panel = b.panel[b.panel.index.get_level_values("node").isin(nodes)]
    hist = panel[columns].groupby(level="ts").sum()
    hist.index = pd.MultiIndex.from_arrays([[label] * len(hist), hist.index], names=["node", "ts"])
    hist = hist[hist.index.get_level_values("ts") <= b.origin]
    return plot_fan(hist, totals, node=label, variables=columns, history_days=56, title=title)


def _inputs_note(view: TaskView, b: Bundle) -> list[str]:
    """Say which inputs M reads when the instruction named some (M's inputs are fixed per scenario)."""
    if not view.inputs:
        return []
    return [
        f"the instruction names the inputs {', '.join(view.inputs)}; M reads {', '.join(b.task.columns)} "
        "and the calendar (every scenario's model reads all of its channels)"
    ]


def run_forecast(view: TaskView, b: Bundle, horizon: int, figures: bool) -> Outcome:
    from sclm import _ask_forecast as F

    mp = F.generic_map(b.scenario)
    targets = _targets(view, b, [g for g in ("production", "inventory", "logistics", "demand") if g in mp])
    fc = F.forecast_frame(b, horizon)
    head = {
        "status": "ok",
        "horizon": horizon,
        "interval": 0.8,
        "first_day": _iso(b.origin + pd.Timedelta(days=1)),
        "last_day": _iso(b.origin + pd.Timedelta(days=horizon)),
        "model": _model_info(b),
    }
    drivers = {g: F.drivers(b, col, horizon) for g, col in targets.items()}
    notes: list[str] = _inputs_note(view, b)
    baseline = delta = None
    used = fc
    if view.what_if:
        used, wi_notes = F.apply_what_if(b, fc, view.what_if, horizon)
        notes += wi_notes
        base_t = F.summarise(fc, b, targets, horizon)
        baseline = {**head, "targets": base_t}
    result = {**head, "targets": F.summarise(used, b, targets, horizon), "drivers": drivers}
    if view.what_if:
        result["what_if"] = _what_if_info(view.what_if)
        delta = {"targets": _forecast_delta(result["targets"], baseline["targets"])}
    figs = {}
    if figures:
        figs["forecast"] = _fan(
            b, used, list(targets.values()), f"{b.scenario.name}: forecast from {head['first_day']}"
        )
    return Outcome(_py(result), _py(baseline), _py(delta), figs, notes)


EXPLAIN_WINDOWS = 32
"""Windows (evenly spread over the history) an explain question attributes and checks."""


def run_explain(view: TaskView, b: Bundle, horizon: int, figures: bool) -> Outcome:
    import warnings

    from sclm import _ask_forecast as F
    from sclm.explain import explain_forecast_summary

    targets = _targets(view, b, ["inventory"])
    generic, col = next(iter(targets.items()))
    notes = _inputs_note(view, b)
    if len(targets) > 1:
        notes.append(f"explains the first target only ({generic})")
    steps = min(horizon, b.task.horizon, 7)
    windows = b.trained.windows(end=b.origin)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        table, verdict, fig = explain_forecast_summary(
            b.trained.model,
            windows,
            b.scenario.drivers,
            target=col,
            step=range(1, steps + 1),
            nodes=b.scenario.nodes,
            n_windows=EXPLAIN_WINDOWS,
            run_checks=("completeness", "drivers"),
            seed=int(b.scenario.meta.get("seed", 0)),
            device="cpu",
        )
    groups: dict[str, dict[str, Any]] = {}
    for row in table.itertuples(index=False):
        name = F._channel_name(row.channel)
        g = groups.setdefault(
            name, {"channel": name, "share": 0.0, "direction": row.direction, "driver": None}
        )
        g["share"] += float(row.share)
        if row.driver is not None:
            g["driver"] = bool(g["driver"]) or bool(row.driver)
    rows = sorted(groups.values(), key=lambda r: -r["share"])
    for r in rows:
        r["share"] = round(r["share"], 4)
        r["direction"] = "+" if r["direction"] == "+" else "-"
    fc = F.forecast_frame(b, horizon)
    checks = {
        "completeness_error": verdict.get("completeness_error"),
        "aup": verdict.get("aup"),
        "aur": verdict.get("aur"),
        "passes": dict(verdict.get("passes", {})),
        "n_windows": int(verdict.get("n_windows", 0)),
        "steps": steps,
    }
    key = b.scenario.drivers
    rule = (key["target"] == col) & (key["role"] == "driver")  # the rule's own drivers, not its stand-ins
    true_drivers = sorted({str(d) for d in key.loc[rule, "driver"]})
    result = {
        "status": "ok",
        "horizon": horizon,
        "interval": 0.8,
        "first_day": _iso(b.origin + pd.Timedelta(days=1)),
        "last_day": _iso(b.origin + pd.Timedelta(days=horizon)),
        "target": generic,
        "variable": col,
        "drivers": rows[:5],
        "n_channels": len(rows),
        "true_drivers": true_drivers,
        "checks": checks,
        "method": "integrated_gradients",
        "targets": F.summarise(fc, b, {generic: col}, horizon),
        "model": _model_info(b),
    }
    figs = {"drivers": fig} if figures else {}
    if not figures:
        import matplotlib.pyplot as plt

        plt.close(fig)
    return Outcome(_py(result), notes=notes, figures=figs)


# --------------------------------------------------------------------------------------------
# network plans
# --------------------------------------------------------------------------------------------


def _plan_dict(plan: Any) -> dict[str, Any]:
    d = plan.to_dict()
    d.pop("solve_seconds", None)
    flows = plan.flows.sort_values("flow", ascending=False, kind="stable")
    d["top_flows"] = _py(flows.head(5).to_dict("records"))
    d["n_flows"] = len(plan.flows)
    net = plan.network
    d["total_demand"] = float(net.total_demand())
    fac = plan.facilities
    if plan.ok and len(fac):
        full = fac[(fac["utilisation"] >= 1 - 1e-9)]
        d["bottlenecks"] = _py(full[["node", "role", "throughput", "capacity"]].to_dict("records"))
        d["open_facilities"] = [str(n) for n in fac.loc[fac["open"], "node"]]
        d["closed_facilities"] = [str(n) for n in fac.loc[~fac["open"], "node"]]
    else:
        d["bottlenecks"], d["open_facilities"], d["closed_facilities"] = [], [], []
    if not plan.ok:
        d.update(_diagnosis_parts(plan.diagnosis))
        d["total_short"] = float(plan.shortfall["short"].sum()) if len(plan.shortfall) else d["total_short"]
        d["n_shortfalls"] = len(plan.shortfall)
    d["edits_text"] = [e.describe() for e in plan.edits]
    return _py(d)


_NUM = r"([0-9][0-9.e+-]*)"
_BIND_NODE = re.compile(rf"(supplier|plant|warehouse) (\S+) \(capacity {_NUM}, uses {_NUM}\)")
_BIND_ARC = re.compile(rf"arc (\S+) \(capacity {_NUM}, carries {_NUM}\)")
_MINIMUM = re.compile(
    rf"(at least .+?) cannot be met together with the demand: short by {_NUM} \(at most {_NUM}\)"
)
_TOTAL = re.compile(rf"by {_NUM} units? in total")


def _diagnosis_parts(text: str) -> dict[str, Any]:
    """The network diagnosis as records: binding capacities, closed nodes, forbidden arcs, minima.

    Parsed from :attr:`NetworkPlan.diagnosis` (its clauses are fixed phrases of
    :func:`sclm.decisions._network_solve.diagnose`), so the text can be written in either
    language from the numbers the decision layer computed.
    """
    binding: dict[str, dict[str, Any]] = {}
    for role, node, cap, used in _BIND_NODE.findall(text):
        binding.setdefault(node, {"name": node, "role": role, "capacity": float(cap), "uses": float(used)})
    for arc, cap, used in _BIND_ARC.findall(text):
        binding.setdefault(arc, {"name": arc, "role": "arc", "capacity": float(cap), "uses": float(used)})
    closed, forbidden, restricted = [], [], []
    for clause in text.split(" | "):
        for m in re.finditer(r"closed: ([^;|]+?)(?:; |$)", clause):
            closed += [x.split(" ")[-1] for x in m.group(1).split(", ")]
        for m in re.finditer(r"forbidden: ([^;|]+?)(?:; |$)", clause):
            forbidden += m.group(1).split(", ")
        for m in re.finditer(r"restricted: (.+)$", clause):
            restricted += m.group(1).split("; ")
    minima = [{"edit": desc, "short": float(a), "at_most": float(b)} for desc, a, b in _MINIMUM.findall(text)]
    total = _TOTAL.search(text)
    return {
        "binding": list(binding.values()),
        "closed_nodes": list(dict.fromkeys(closed)),
        "forbidden_arcs": list(dict.fromkeys(forbidden)),
        "restrictions": list(dict.fromkeys(restricted)),
        "unmet_minima": minima,
        "total_short": float(total.group(1)) if total else 0.0,
    }


def _change_delta(baseline: Any, result: Any, changed: pd.DataFrame) -> dict[str, Any]:
    cost = None if (baseline.cost is None or result.cost is None) else round(result.cost - baseline.cost, 6)
    ch = changed.reindex(changed["change"].abs().sort_values(ascending=False, kind="stable").index)
    return {
        "cost": cost,
        "cost_pct": _pct(result.cost, baseline.cost),
        "changed_flows": _py(ch.head(6).to_dict("records")),
        "n_changed": len(changed),
        "feasible": bool(result.ok),
    }


def run_network(view: TaskView, net: Any, figures: bool) -> Outcome:
    from sclm.decisions import edits as E
    from sclm.decisions.edits import what_if_edits
    from sclm.decisions.network import plan_network, what_if, why

    wi_edits = what_if_edits(view.what_if, net)
    notes = []
    if view.what_if:
        notes.append(
            "what-if on a network: demand scales every customer's demand; capacity scales every "
            "node that has a capacity"
        )
    if view.question == "why":
        asked = [e for e in view.edits if isinstance(e, E.ForbidArc | E.CloseFacility)]
        if not asked:
            raise ValueError(
                "a why-question needs a questioned flow (a forbid_arc or close_facility edit); got none"
            )
        # The parser puts the questioned flow last; earlier closures or bans are the scenario
        # both plans share ("if DC_Hamburg is closed, why is cafe-3 still supplied from DC_Warsaw?").
        q = asked[-1]
        shared = [e for e in view.edits if e is not q] + wi_edits
        if isinstance(q, E.ForbidArc):
            w = why(net, q.arc, q.product, edits=shared)
            base, res, changed = w.baseline, w.result, w.changed_flows
            subject = {
                "kind": "arc",
                "arc": list(w.arc),
                "product": w.product,
                "flow": w.flow,
                "used": w.used,
            }
        else:
            wi = what_if(net, [q], base_edits=shared)
            base, res, changed = wi.baseline, wi.result, wi.changed_flows
            fac = base.facilities.set_index("node")
            through = float(fac.loc[q.node, "throughput"]) if base.ok and q.node in fac.index else 0.0
            subject = {"kind": "facility", "node": q.node, "flow": through, "used": through > 0}
            if through <= 0:
                res, changed = base, changed.iloc[0:0]
        delta = {**_change_delta(base, res, changed), "subject": _py(subject)}
        if not subject["used"]:
            delta["cost"] = 0.0 if base.ok else None
        return Outcome(_plan_dict(res), _plan_dict(base), delta, notes=notes, network=net.name)
    edits = list(view.edits) + wi_edits
    if edits:
        wi = what_if(net, edits)
        delta = _change_delta(wi.baseline, wi.result, wi.changed_flows)
        result = _plan_dict(wi.result)
        if view.what_if:
            result["what_if"] = _what_if_info(view.what_if)
        return Outcome(result, _plan_dict(wi.baseline), delta, notes=notes, network=net.name)
    return Outcome(_plan_dict(plan_network(net)), notes=notes, network=net.name)


# --------------------------------------------------------------------------------------------
# dispatch
# --------------------------------------------------------------------------------------------


def run(
    view: TaskView,
    *,
    network: Any,
    scenario: str | None,
    seed: int,
    horizon: int | None,
    setup: Any,
    cache_dir: Any,
    use_cache: bool,
    figures: bool,
) -> Outcome:
    """Run the path of ``view.action``; see :func:`sclm.ask`."""
    if view.action == "plan_network" and network is not None:
        return run_network(view, network, figures)  # one period of the file: no horizon, no model
    h = view.horizon or horizon or DEFAULT_HORIZON[view.action]
    notes: list[str] = []
    if view.horizon is None:
        notes.append(f"no horizon named: {h} day(s)")
    name, note = default_scenario(view, scenario)
    if note:
        notes.append(note)
    if network is not None:
        notes.append("the network file is used by network questions only")
    if view.action == "plan_network":
        from sclm import _ask_decide as D

        out = D.run_scenario_network(view, name, seed, h, setup, cache_dir, use_cache, figures)
    else:
        b = _bundle(name, seed, h, setup, cache_dir, use_cache)
        if view.action == "forecast":
            out = run_forecast(view, b, h, figures)
        elif view.action == "explain":
            out = run_explain(view, b, h, figures)
        else:
            from sclm import _ask_decide as D

            out = D.RUNNERS[view.action](view, b, h, figures)
        out.cache = _cache_info(b)
    out.scenario = name
    out.notes = notes + out.notes
    return out
