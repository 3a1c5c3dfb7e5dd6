"""The forecasting side of :func:`sclm.ask`: a scenario's panel, model M trained once and cached.

One *setup* (:class:`ForecastSetup`) fixes everything a forecast depends on besides the scenario
and seed: the simulator options, how many days at the end are held out as the future, the input
size and the (modest) training budget.  For a scenario, seed, setup and trained horizon H the
model is trained once and saved under ``build/ask/<scenario>-seed<seed>/h<H>-<key>/``:

* ``config.json`` + ``model.safetensors`` — :meth:`sclm.models.Forecaster.save_pretrained`;
* ``ask.json`` — the setup, the task (targets, covariates, known-future columns, H, T, scaled
  columns), the training end, the fit summary and the SHA-256 of the panel it was trained on.

The scenario's tables and its panel are simulated once and kept beside the models
(:mod:`sclm._ask_data`, checked against the current simulator and cleaning sources); the scaler
is refitted on the same days on load, as :func:`sclm.pipeline.train_forecaster` fits it.  The
panel's hash is checked against ``ask.json``: a mismatch retrains and overwrites.  A
process-wide memo keeps loaded bundles, so a second question in the same process reuses them.

Time line of a scenario with D simulated days: the *history* ends ``future_days`` before the
last simulated day, at the forecast origin; M is trained on the history only (``train_end`` =
origin; the scaler sees no later day).  The held-out days supply what is known in advance
(the retail price and promotion plan, the calendar) and the actual values that arrive later,
which the monitoring question checks against the forecast intervals.  Forecast horizons are at
most ``future_days`` (default 91, a quarter); M is trained for the first of :data:`HORIZONS`
(14, 28, 56, 91 days) that covers the question, and a longer horizon is a ``ValueError``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from sclm import config

if TYPE_CHECKING:
    from sclm.pipeline import ForecastTask, TrainedForecaster
    from sclm.scenarios import Scenario

__all__ = ["GENERIC", "Bundle", "ForecastSetup", "cache_root", "generic_map", "get_bundle", "trained_horizon"]

GENERIC: tuple[str, ...] = ("production", "inventory", "logistics", "demand", "delivery")
"""The instruction's variable names (the article's q, k, d, plus demand and delivery)."""

HORIZONS: tuple[int, ...] = (14, 28, 56, 91)
"""Horizons M is trained for: a question of h days uses the first that covers it (capped at the
held-out days), so a few models serve every horizon."""
_MEMO: dict[tuple, Bundle] = {}
_LOCK = threading.Lock()


class ForecastSetup(BaseModel):
    """What a cached model depends on besides the scenario and the seed.

    Parameters
    ----------
    scenario_options : dict
        Passed to :func:`sclm.make_scenario` (e.g. ``{"n_days": 120}`` for a tiny scenario);
        default the scenario's own defaults (760 days).
    panel : {"fused", "truth"}
        Forecast from the cleaned and fused readings (as in the case studies) or from the truth.
    future_days : int
        Days at the end of the simulation held out as the future; also the longest horizon.
    input_size : int
        Days of history per window (T).
    epochs, patience, batch_size, lr, window_stride, backbone
        Training budget of :func:`sclm.pipeline.train_forecaster` (modest by default: a few
        epochs, every other window).
    model : dict
        Further :class:`sclm.models.ForecasterConfig` fields (``d_model``, ``n_layers`` ...).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    scenario_options: dict[str, Any] = Field(default_factory=dict)
    panel: Literal["fused", "truth"] = "fused"
    future_days: int = Field(91, ge=1, le=366)
    input_size: int = Field(56, ge=7)
    epochs: int = Field(8, ge=1)
    patience: int = Field(3, ge=1)
    batch_size: int = Field(64, ge=1)
    lr: float = Field(1e-3, gt=0)
    window_stride: int = Field(2, ge=1)
    backbone: Literal["patch", "lm"] = "patch"
    model: dict[str, Any] = Field(default_factory=dict)

    def key(self) -> str:
        """Eight hex digits of the SHA-256 of the setup (sorted JSON)."""
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:8]


def trained_horizon(horizon: int, setup: ForecastSetup) -> int:
    """The H a model is trained for to answer a ``horizon``-day question.

    Raises
    ------
    ValueError
        ``horizon`` below 1 or above ``setup.future_days``.
    """
    if not isinstance(horizon, int | np.integer) or isinstance(horizon, bool) or horizon < 1:
        raise ValueError(f"horizon must be a whole number of days >= 1, got {horizon!r}")
    if horizon > setup.future_days:
        raise ValueError(
            f"horizon {horizon} days is longer than the {setup.future_days} days held out after the "
            f"history; ask for at most {setup.future_days} days (or pass a setup with a larger future_days)"
        )
    for h in HORIZONS:
        if horizon <= h:
            return int(min(h, setup.future_days))
    return int(setup.future_days)


def generic_map(scenario: Scenario) -> dict[str, str]:
    """Instruction variable → the scenario's forecast target (only those M forecasts).

    ``production`` → q, ``inventory`` → k, ``logistics`` → d (the article's roles: shipments
    in logistics and retail are their q); ``delivery`` → the scenario's ``delivery`` column if
    it is a target, else d; ``demand`` → the ``demand`` target where the scenario has one
    (retail).  The manufacturing and logistics scenarios have no demand target (their orders
    are an input of M), so ``demand`` is absent there.
    """
    t = scenario.meta["targets"]
    out = {"production": t["q"], "inventory": t["k"], "logistics": t["d"]}
    targets = {t["q"], t["k"], t["d"], *([t["demand"]] if "demand" in t else [])}
    out["delivery"] = "delivery" if "delivery" in targets else t["d"]
    if "demand" in t:
        out["demand"] = t["demand"]
    return out


def cache_root(cache_dir: str | Path | None = None) -> Path:
    """``cache_dir`` or ``build/ask``."""
    return Path(cache_dir) if cache_dir is not None else config.BUILD_DIR / "ask"


@dataclass
class Bundle:
    """A scenario, its panel and the trained M, ready to forecast at ``origin``.

    Attributes
    ----------
    scenario : Scenario
    panel : pandas.DataFrame
        The panel M reads (fused or truth), every simulated day.
    trained : TrainedForecaster
    origin : pandas.Timestamp
        Last day of the history (= training end).
    directory : Path
        The checkpoint folder.
    source : {"trained", "disk", "memory"}
        How this call got the model.
    seconds : float
        Time to get it (training, or loading and rebuilding).
    """

    scenario: Scenario
    panel: pd.DataFrame
    trained: TrainedForecaster
    origin: pd.Timestamp
    directory: Path
    source: str
    seconds: float
    setup: ForecastSetup

    @property
    def cache_used(self) -> bool:
        return self.source in ("disk", "memory")

    @property
    def task(self) -> ForecastTask:
        return self.trained.task


def _origin(panel: pd.DataFrame, setup: ForecastSetup, h: int) -> pd.Timestamp:
    days = panel.index.get_level_values("ts").unique().sort_values()
    need = setup.input_size + 2 * h + setup.future_days
    if len(days) < need:
        raise ValueError(
            f"the scenario has {len(days)} days; a model with input_size {setup.input_size}, horizon {h} "
            f"and {setup.future_days} held-out days needs at least {need} (increase n_days)"
        )
    return pd.Timestamp(days[-1 - setup.future_days])


def _make_task(scenario: Scenario, panel: pd.DataFrame, setup: ForecastSetup, h: int) -> ForecastTask:
    from sclm.pipeline import scenario_task

    return scenario_task(scenario, panel, horizon=h, input_size=setup.input_size)


def _load(
    directory: Path, task: ForecastTask, origin: pd.Timestamp, panel_hash: str
) -> TrainedForecaster | None:
    meta_file = directory / "ask.json"
    if not meta_file.is_file():
        return None
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    if meta.get("panel_sha256") != panel_hash or meta.get("train_end") != str(origin.date()):
        return None
    if meta.get("task", {}).get("targets") != list(task.targets):
        return None
    from sclm.models import Forecaster
    from sclm.pipeline import TrainedForecaster
    from sclm.training import FitResult
    from sclm.windows import PanelScaler

    model = Forecaster.from_pretrained(directory)
    model.eval()
    panel = task.panel[task.columns]
    scaler = PanelScaler("mean_abs", per="node", columns=list(task.scaled)).fit(panel, end=origin)
    names = {f.name for f in dataclasses.fields(FitResult)}
    fit = FitResult(**{k: v for k, v in meta.get("fit", {}).items() if k in names})
    return TrainedForecaster(task, model, scaler, origin, fit)


def _save(directory: Path, bundle_trained: TrainedForecaster, setup: ForecastSetup, info: dict) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    bundle_trained.model.save_pretrained(directory)
    task = bundle_trained.task
    fit = dataclasses.asdict(bundle_trained.fit_result)
    meta = {
        **info,
        "setup": setup.model_dump(mode="json"),
        "task": {
            "targets": list(task.targets),
            "covariates": list(task.covariates),
            "known_future": list(task.known_future),
            "horizon": task.horizon,
            "input_size": task.input_size,
            "scaled": list(task.scaled),
        },
        "train_end": str(bundle_trained.train_end.date()),
        "fit": {k: v for k, v in fit.items() if isinstance(v, int | float | str | bool | list | None)},
    }
    tmp = directory / "ask.json.tmp"
    tmp.write_text(json.dumps(meta, indent=1, sort_keys=True, default=str) + "\n", encoding="utf-8")
    tmp.replace(directory / "ask.json")


def get_bundle(
    scenario_name: str,
    *,
    seed: int = 0,
    horizon: int = 14,
    setup: ForecastSetup | None = None,
    cache_dir: str | Path | None = None,
    use_cache: bool = True,
    device: str = "auto",
) -> Bundle:
    """The scenario with M trained for ``horizon`` days: from memory, from disk, or trained now.

    Parameters
    ----------
    scenario_name : str
        ``"manufacturing"``, ``"logistics"`` or ``"retail"``.
    seed : int
        Seed of the simulator and of training.
    horizon : int
        Days the question asks for (the model's H is :func:`trained_horizon`).
    setup : ForecastSetup, optional
    cache_dir : path, optional
        Root of the cache (default ``build/ask``).
    use_cache : bool
        ``False`` retrains (and overwrites the checkpoint).
    device : {"auto", "cpu", "cuda", "mps"}
        Training device; ``"auto"`` (default) is CUDA, else MPS, else CPU
        (:func:`sclm.training.resolve_device`).  The answers' forecasts and attributions run on
        the CPU whatever device trained the model.

    Returns
    -------
    Bundle
    """
    setup = setup or ForecastSetup()
    h = trained_horizon(horizon, setup)
    root = cache_root(cache_dir)
    directory = root / f"{scenario_name}-seed{seed}" / f"h{h}-{setup.key()}"
    key = (str(directory.resolve()), scenario_name, seed, h)
    t0 = time.perf_counter()
    with _LOCK:
        if use_cache and key in _MEMO and (directory / "ask.json").is_file():
            b = _MEMO[key]
            return dataclasses.replace(b, source="memory", seconds=time.perf_counter() - t0)
    from sclm._ask_data import load_or_build, panel_hash

    scenario, panel, _ = load_or_build(scenario_name, seed, setup, root, use_cache=use_cache)
    origin = _origin(panel, setup, h)
    task = _make_task(scenario, panel, setup, h)
    digest = panel_hash(task.panel)
    trained = _load(directory, task, origin, digest) if use_cache else None
    source = "disk"
    if trained is None:
        from sclm.pipeline import train_forecaster

        trained = train_forecaster(
            task,
            train_end=origin,
            backbone=setup.backbone,
            epochs=setup.epochs,
            patience=setup.patience,
            batch_size=setup.batch_size,
            lr=setup.lr,
            window_stride=setup.window_stride,
            seed=seed,
            device=device,
            **setup.model,
        )
        trained.model.eval()
        (directory / "drivers.json").unlink(missing_ok=True)  # attributions of an older model
        _save(
            directory,
            trained,
            setup,
            {"scenario": scenario_name, "seed": seed, "panel_sha256": digest, "origin": str(origin.date())},
        )
        source = "trained"
    bundle = Bundle(scenario, panel, trained, origin, directory, source, time.perf_counter() - t0, setup)
    with _LOCK:
        _MEMO[key] = bundle
    return bundle


def clear_memo() -> None:
    """Forget the bundles kept in this process (the checkpoints on disk stay)."""
    with _LOCK:
        _MEMO.clear()


# ---------------------------------------------------------------------------------------------
# forecasts and drivers as plain results
# ---------------------------------------------------------------------------------------------

STOCKS = ("inventory",)
"""Generic variables that are levels (summarised at the horizon's end), not flows (summed)."""

QLO, QHI = "q0.1", "q0.9"


def forecast_frame(bundle: Bundle, horizon: int, *, panel: pd.DataFrame | None = None) -> pd.DataFrame:
    """M's forecast at the bundle's origin for the first ``horizon`` days (long frame).

    ``panel`` replaces the task's panel for this forecast (a what-if on known-future inputs);
    the scaler stays the one fitted on the history.
    """
    trained = bundle.trained
    if panel is not None:
        trained = dataclasses.replace(trained, task=dataclasses.replace(trained.task, panel=panel))
    fc = trained.forecast(bundle.origin, device="cpu")
    last = bundle.origin + pd.Timedelta(days=horizon)
    fc = fc[fc["ts"] <= last].reset_index(drop=True)
    # every target is a quantity: a forecast below 0 is 0 (as a what-if's is), so that the
    # baseline and the what-if are totalled on the same footing
    cols = [c for c in fc.columns if c == "mean" or c.startswith("q")]
    fc[cols] = fc[cols].astype("float64").clip(lower=0.0)
    return fc


def scale_forecast(fc: pd.DataFrame, factors: dict[str, float]) -> pd.DataFrame:
    """Multiply the mean and quantiles of the rows of each variable by its factor."""
    out = fc.copy()
    cols = [c for c in out.columns if c == "mean" or c.startswith("q")]
    for var, f in factors.items():
        sel = out["variable"] == var
        out.loc[sel, cols] = out.loc[sel, cols].to_numpy() * float(f)
    return out


def _r(v: float, nd: int = 4) -> float:
    return float(round(float(v), nd))


def _node_types(bundle: Bundle, nodes: Sequence[str]) -> dict[str, str]:
    """Node -> node type (``"node"`` for all when the scenario has no node table)."""
    table = getattr(bundle.scenario, "nodes", None)
    if table is None or "node_type" not in getattr(table, "columns", ()):
        return {n: "node" for n in nodes}
    types = dict(zip(table["node"].astype(str), table["node_type"].astype(str), strict=True))
    return {n: types.get(str(n), "node") for n in nodes}


def node_groups(bundle: Bundle, nodes: Sequence[str]) -> list[tuple[str, list[str]]]:
    """``nodes`` by node type, the type with the most nodes first (ties by name): the groups a
    total may be taken over (never across types: a DC's demand is its stores' orders)."""
    types = _node_types(bundle, list(nodes))
    groups: dict[str, list[str]] = {}
    for n in nodes:
        groups.setdefault(types[n], []).append(n)
    return sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))


def _group_stats(
    sub: pd.DataFrame, per: pd.DataFrame, h: pd.Series, nodes: Sequence[str], stock: bool
) -> dict[str, Any]:
    total, base = float(per.loc[list(nodes), "mean"].sum()), float(h.loc[list(nodes)].sum())
    daily = sub[sub["node"].isin(list(nodes))].groupby("ts")["mean"].sum()
    return {
        "mean": _r(total, 2),
        "low": _r(per.loc[list(nodes), QLO].sum(), 2),
        "high": _r(per.loc[list(nodes), QHI].sum(), 2),
        "history": _r(base, 2),
        "change": _r(total / base - 1.0) if base > 0 else None,
        "daily_mean": _r(daily.mean(), 2),
        "lowest_day_total": _r(daily.min(), 2) if stock else None,
        "n_nodes": len(nodes),
    }


def summarise(
    fc: pd.DataFrame, bundle: Bundle, targets: dict[str, str], horizon: int
) -> dict[str, dict[str, Any]]:
    """Per requested target: the forecast over the horizon against the last ``horizon`` days.

    Flows (everything but inventory) are totals over the horizon, in units; a level (inventory)
    is its value on the horizon's last day.  ``low``/``high`` sum the nodes' 10 % and 90 %
    quantiles (a band for the total that is exact when the nodes move together and wider
    otherwise).  ``history`` is the same statistic over the ``horizon`` days up to the origin
    (the level on the origin day for inventory); ``change`` = ``mean / history - 1``.

    Totals are never taken across node types: a DC's demand is its stores' orders and a
    warehouse's production what its plant sends it, so a sum over both would count the same units
    twice.  The top-level figures are those of ``node_type``, the type with the most nodes (the
    stores, the plants, the customers); ``other_types`` holds the same figures for each other type.
    """
    origin = bundle.origin
    hist = bundle.panel
    hdays = hist.index.get_level_values("ts")
    out: dict[str, dict[str, Any]] = {}
    for generic, col in targets.items():
        sub = fc[fc["variable"] == col]
        stock = generic in STOCKS
        if stock:
            sub = sub[sub["ts"] == sub["ts"].max()]
            per = sub.set_index("node")[["mean", QLO, QHI]]
            h = hist.loc[hdays == origin, col].droplevel("ts")
        else:
            per = sub.groupby("node", sort=True)[["mean", QLO, QHI]].sum()
            win = (hdays > origin - pd.Timedelta(days=horizon)) & (hdays <= origin)
            h = hist.loc[win, col].groupby(level="node").sum()
        per = per.sort_index()
        h = h.reindex(per.index).fillna(0.0)
        nodes = []
        for node, row in per.iterrows():
            base = float(h.loc[node])
            nodes.append(
                {
                    "node": node,
                    "mean": _r(row["mean"], 2),
                    "low": _r(row[QLO], 2),
                    "high": _r(row[QHI], 2),
                    "history": _r(base, 2),
                    "change": _r(row["mean"] / base - 1.0) if base > 0 else None,
                    "width": _r((row[QHI] - row[QLO]) / row["mean"]) if row["mean"] > 0 else None,
                }
            )
        groups = node_groups(bundle, list(per.index))
        main, main_nodes = groups[0] if groups else ("node", [])
        out[generic] = {
            "variable": col,
            "kind": "level" if stock else "flow",
            "node_type": main,
            **_group_stats(sub, per, h, main_nodes, stock),
            "other_types": [{"node_type": t, **_group_stats(sub, per, h, ns, stock)} for t, ns in groups[1:]],
            "nodes": nodes,
        }
    return out


_CAL = {"dow": "day_of_week", "doy": "season"}
IG_STEPS = 16
"""Gauss-Legendre steps of IntegratedGradients for the drivers (bench/explain.py: enough for a
completeness error under 1 % on these models)."""


def _channel_name(ch: str) -> str:
    base = ch.removesuffix(" (future)")
    for pre, name in _CAL.items():
        if base.startswith(pre + "_"):
            return name
    return base + (" (planned)" if ch.endswith(" (future)") else "")


def drivers(bundle: Bundle, column: str, horizon: int, *, top: int = 3) -> list[dict]:
    """Which inputs drive M's forecast of ``column`` over the first ``horizon`` days.

    IntegratedGradients (from each channel's mean, :data:`IG_STEPS` steps) on the origin window
    of every node, the forecast summed over days 1..horizon.  Channels are grouped for reading
    (the four calendar channels into ``day_of_week`` and ``season``; a known-future input is
    ``"<name> (planned)"``); ``share`` is the group's part of the mean |attribution|,
    ``direction`` ``"+"`` when its mean attribution is positive (it raises the forecast).

    The attribution depends only on the checkpoint, the panel, the origin, the target and the
    steps, so it is computed once and kept in the checkpoint folder (``drivers.json``).
    """
    steps = int(min(horizon, bundle.task.horizon))
    store = bundle.directory / "drivers.json"
    key = f"{column}|{steps}|{IG_STEPS}"
    saved = json.loads(store.read_text(encoding="utf-8")) if store.is_file() else {}
    if key in saved:
        return saved[key][:top]
    rows = _attribute(bundle, column, steps)
    saved[key] = rows
    tmp = store.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(saved, indent=1) + "\n", encoding="utf-8")
    tmp.replace(store)
    return rows[:top]


def _attribute(bundle: Bundle, column: str, steps: int) -> list[dict]:
    import warnings

    from sclm.explain import explain

    w = bundle.trained.windows([bundle.origin])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        att = explain(
            bundle.trained.model,
            w,
            "integrated_gradients",
            column,
            step=list(range(1, steps + 1)),
            device="cpu",
            n_steps=IG_STEPS,
        )
    imp = att.per_channel("abs_mean")
    signed = att.per_channel("mean").reindex(imp.index)
    groups: dict[str, list[float]] = {}
    for ch in imp.index:
        g = groups.setdefault(_channel_name(ch), [0.0, 0.0])
        g[0] += float(imp[ch])
        g[1] += float(signed[ch])
    total = sum(v[0] for v in groups.values()) or 1.0
    rows = [
        {"channel": k, "share": _r(v[0] / total), "direction": "+" if v[1] >= 0 else "-"}
        for k, v in groups.items()
    ]
    rows.sort(key=lambda r: -r["share"])
    return rows


# ---------------------------------------------------------------------------------------------
# what-if on a forecast
# ---------------------------------------------------------------------------------------------

CAPACITY_LIMITS = {"manufacturing": "q", "logistics": "d"}
"""Which target a node's capacity caps in each scenario's simulator (production, delivery)."""


def _whatif_column(scenario: Scenario, generic: str) -> str:
    mp = generic_map(scenario)
    if generic == "demand" and "demand" not in mp:
        return mp["logistics"]  # the outflow that serves the demand
    return mp[generic]


def _planned_panel(
    bundle: Bundle, factors: dict[str, float], horizon: int, notes: list[str]
) -> pd.DataFrame | None:
    """The panel with the known-future ``price`` / ``promotion`` plan changed over the horizon."""
    kf = set(bundle.task.known_future)
    wanted = [v for v in ("price", "promotion") if v in factors]
    if not wanted:
        return None
    missing = [v for v in wanted if v not in kf]
    if missing:
        raise ValueError(
            f"what-if on {', '.join(missing)}: the {bundle.scenario.name} scenario has no planned "
            f"{' or '.join(missing)} input (known-future inputs: {', '.join(sorted(kf)) or 'none'}; "
            "only the retail scenario plans price and promotion)"
        )
    panel = bundle.task.panel.copy()
    ts = panel.index.get_level_values("ts")
    days = (ts > bundle.origin) & (ts <= bundle.origin + pd.Timedelta(days=horizon))
    if "price" in factors:
        panel.loc[days, "price"] = panel.loc[days, "price"].to_numpy() * float(factors["price"])
    if "promotion" in factors:
        f = float(factors["promotion"])
        for _node, s in panel.loc[days, "promotion"].groupby(level="node"):
            on = s.to_numpy() > 0.5
            n_now = int(on.sum())
            n_new = min(len(on), int(round(f * n_now)))
            planned, free = np.flatnonzero(on), np.flatnonzero(~on)
            chosen = np.concatenate([planned, free[: n_new - n_now]]) if n_new >= n_now else planned[:n_new]
            flags = np.zeros(len(on))
            flags[chosen.astype(int)] = 1.0
            panel.loc[s.index, "promotion"] = flags
        notes.append(
            "promotion is a yes/no plan per store and day: the factor scales the number of promoted "
            "days in the horizon (free days added from the first, or the last planned ones dropped)"
        )
    return panel


def apply_what_if(
    bundle: Bundle, fc: pd.DataFrame, factors: dict[str, float], horizon: int
) -> tuple[pd.DataFrame, list[str]]:
    """The forecast under global what-if factors, and notes on how each was applied.

    * ``price`` / ``promotion``: the planned (known-future) input is changed over the horizon
      and M forecasts again: the model's own response (retail only);
    * ``production``, ``logistics``, ``delivery``, ``demand``: that target's forecast (mean and
      quantiles) is multiplied by the factor (``demand`` where the scenario has no demand
      target: its outflow d; in retail a demand change also moves sales, d, by the same factor,
      stock permitting);
    * ``capacity``: the target a node's capacity caps in the simulator (manufacturing:
      production; logistics: delivery) is capped at ``factor × capacity`` per day;
    * ``inventory``: its forecast is multiplied by the factor;
    * otherwise inventory follows the scenario's exact balance ``k[t] = k[t-1] + q[t-1] - d[t-1]``:
      day t's stock moves by the change of inflow minus outflow summed over the horizon days
      before t (never below 0); the quantiles move with the mean.
    """
    notes: list[str] = []
    sc = bundle.scenario
    t = sc.meta["targets"]
    q, k, d = t["q"], t["k"], t["d"]
    unknown = sorted(set(factors) - {"price", "promotion", "capacity", *GENERIC})
    if unknown:
        raise ValueError(f"unknown what-if variable(s) {unknown}")
    planned = _planned_panel(bundle, factors, horizon, notes)
    new = forecast_frame(bundle, horizon, panel=planned) if planned is not None else fc.copy()
    qcols = [c for c in new.columns if c == "mean" or c.startswith("q")]
    new[qcols] = new[qcols].astype("float64")
    before = new.copy()
    scale: dict[str, float] = {}
    for g in ("production", "logistics", "delivery", "demand"):
        if g in factors:
            col = _whatif_column(sc, g)
            scale[col] = scale.get(col, 1.0) * float(factors[g])
            if g == "demand" and "demand" in t and t["demand"] != d:
                scale[d] = scale.get(d, 1.0) * float(factors[g])
                notes.append(f"a demand change moves {d} by the same factor (stock permitting)")
    new = scale_forecast(new, scale)
    if "capacity" in factors:
        role = CAPACITY_LIMITS.get(sc.name)
        if role is None:
            raise ValueError(f"the {sc.name} scenario has no capacities to scale")
        col = t[role]
        cap = sc.nodes.set_index("node")["capacity"].astype(float) * float(factors["capacity"])
        sel = (new["variable"] == col) & new["node"].map(cap).notna()
        limit = new.loc[sel, "node"].map(cap).to_numpy()[:, None]
        new.loc[sel, qcols] = np.minimum(new.loc[sel, qcols].to_numpy(), limit)
        notes.append(f"capacity caps {col} at each node with a capacity ({role} in the simulator)")
    if "inventory" in factors:
        new = scale_forecast(new, {k: float(factors["inventory"])})
    else:
        dq = _pivot(new, q) - _pivot(before, q)
        dd = _pivot(new, d) - _pivot(before, d)
        change = (dq - dd).cumsum(axis=1).shift(1, axis=1).fillna(0.0)
        if np.abs(change.to_numpy()).max(initial=0.0) > 0:
            sel = new["variable"] == k
            idx = pd.MultiIndex.from_arrays([new.loc[sel, "node"], new.loc[sel, "ts"]])
            shift = change.stack().reindex(idx).fillna(0.0).to_numpy()[:, None]
            new.loc[sel, qcols] = np.maximum(new.loc[sel, qcols].to_numpy() + shift, 0.0)
            notes.append(f"{k} follows the balance {k}[t] = {k}[t-1] + {q}[t-1] - {d}[t-1]")
    for col in qcols:
        new[col] = new[col].clip(lower=0.0)
    return new, notes


def _pivot(fc: pd.DataFrame, var: str) -> pd.DataFrame:
    return fc[fc["variable"] == var].pivot(index="node", columns="ts", values="mean")
