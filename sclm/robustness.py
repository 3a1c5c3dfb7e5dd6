"""Robustness of the forecasts to source noise (article §8.3): relative MASE against the IoT miss rate.

One **cell** is a scenario simulated with an IoT miss rate ``p`` and every source's relative
noise σ scaled by ``s`` (:func:`scenario_options`), then forecast the way the case studies do:

1. the raw readings are cleaned and fused **causally** (:class:`sclm.pipeline.CausalPanels`:
   :class:`~sclm.cleaning.ReadingsCleaner` — unit table, duplicates, the IoT undercount p̂
   estimated against ERP and divided out, outliers, gaps — and
   :class:`~sclm.fusion.SourceFuser` inverse-variance fusion, both fitted on the days up to the
   first test origin, and each origin's inputs from the readings up to it);
2. M is trained on that fused panel up to the first origin (:func:`sclm.pipeline.train_forecaster`)
   and :func:`sclm.pipeline.backtest` forecasts the last ``n_origins`` windows of ``horizon``
   days with M, Seasonal Naive and LightGBM, every model from the same fused history;
3. the forecasts are scored against the **true** series (``scenario.truth``), with the
   seasonal-naive scale of the true history up to each origin — the protocol of the scenario rows
   of ``bench/forecast.py`` (which forecast the truth directly), so MASE is comparable across
   cells; relative MASE is :func:`sclm.metrics.relative_mase_table` (geometric mean over the
   (node, target) series of MASE / Seasonal Naive's MASE), Seasonal Naive being fitted on the
   same cleaned and fused history as the others.

The scenario seed and the training seed are the same in every cell, so the truth is identical
across cells (the miss rate and the noise only change the measurement stream): the curve
compares like with like.

Source noise.  "Noise ×s" multiplies **every** ``noise_<source>`` field of the scenario's
parameter dataclass (:data:`sclm.scenarios.SCENARIOS`) by ``s``, starting from its defaults
(or from the value given in ``scenario_params``): ``noise_iot``, ``noise_erp``, ``noise_wms``
(shared) and, per scenario, manufacturing ``noise_carrier, noise_sensor, noise_mes, noise_rfid,
noise_tms``; logistics ``noise_carrier, noise_sensor, noise_rfid, noise_tms``; retail ``noise_pos,
noise_web, noise_rfid, noise_tms``.  The fault rates (outliers, missing source-days, duplicates)
are not noise and stay at their defaults.

Goals (:func:`summarize`): at noise ×1, the least-squares slope of M's relMASE against ``p`` is no
steeper than LightGBM's, and M's relMASE at every ``p <= 0.3`` is within 5 % of its own ``p = 0``
figure.

Cost: one cell = one scenario simulation, the cleaning and fusion at each origin, one training of
M and ``n_origins`` LightGBM fits (10 models each: the mean and 9 quantiles).  See
``bench/robustness.py`` for measured times.

>>> from sclm.robustness import robustness_curve, summarize
>>> df = robustness_curve("retail", p_values=(0, 0.2), noise_scales=(1,), n_days=200, epochs=1)  # doctest: +SKIP
>>> summarize(df).goals  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sclm.metrics import seasonal_naive_scale

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from sclm.pipeline import ForecastTask
    from sclm.scenarios import Scenario

__all__ = [
    "CURVE_COLUMNS",
    "DEFAULT_NOISE_SCALES",
    "DEFAULT_P_VALUES",
    "MODELS",
    "RobustnessSummary",
    "cell_task",
    "ls_slope",
    "ls_slope_se",
    "mean_over_seeds",
    "noise_fields",
    "plot_robustness",
    "robustness_curve",
    "scenario_options",
    "summarize",
    "truth_scales",
]

DEFAULT_P_VALUES: tuple[float, ...] = (0.0, 0.1, 0.2, 0.3, 0.4)
"""IoT miss rates of the article's curve."""
DEFAULT_NOISE_SCALES: tuple[float, ...] = (0.5, 1.0, 2.0)
"""Multipliers of every source's relative noise σ."""
MODELS: tuple[str, ...] = ("M", "LightGBM")
"""Models of the curve (labels of :func:`sclm.pipeline.backtest`)."""
REFERENCE = "Seasonal Naive"
SEASON_LENGTH = 7
CURVE_COLUMNS: tuple[str, ...] = (
    "scenario",
    "model",
    "p",
    "noise_scale",
    "relMASE",
    "relMASE_mean",
    "relMASE_median",
    "MASE",
    "MASE_snaive",
    "WQL",
    "cov80",
    "series",
    "p_hat",
    "epochs_run",
    "cell_s",
)
"""Columns of :func:`robustness_curve`'s frame."""


# --------------------------------------------------------------------------------------------------
# Scenario of a cell
# --------------------------------------------------------------------------------------------------


def noise_fields(name: str) -> dict[str, float]:
    """The ``noise_<source>`` fields of scenario ``name`` and their defaults (relative σ).

    Raises
    ------
    sclm.schema.UnknownNameError
        Unknown scenario.
    """
    from sclm.scenarios import SCENARIOS
    from sclm.schema import unknown_name

    if name not in SCENARIOS:
        raise unknown_name("scenario", name, SCENARIOS)
    return {
        f.name: float(f.default)
        for f in dataclasses.fields(SCENARIOS[name])
        if f.name.startswith("noise_") and f.default is not dataclasses.MISSING
    }


def scenario_options(
    name: str, *, p: float, noise_scale: float, base: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Keyword parameters of :func:`sclm.make_scenario` for one cell.

    Parameters
    ----------
    name : str
        Scenario name.
    p : float
        IoT miss rate, ``0 <= p < 1``.
    noise_scale : float
        ``s >= 0``: every ``noise_<source>`` σ becomes ``s`` × its value in ``base`` (default:
        the dataclass default).  The simulator refuses σ > 0.5.
    base : mapping, optional
        Further scenario parameters (``n_days``, ``n_nodes``, a ``noise_<source>`` base ...).

    Returns
    -------
    dict
        ``base`` plus ``p`` and every scaled ``noise_<source>`` field.
    """
    if not np.isfinite(noise_scale) or noise_scale < 0:
        raise ValueError(f"noise_scale must be a finite number >= 0, got {noise_scale!r}")
    if "p" in (base or {}):
        raise ValueError("give the miss rate as p=..., not inside the base parameters")
    opts = dict(base or {})
    for field, default in noise_fields(name).items():
        opts[field] = float(opts.get(field, default)) * float(noise_scale)
    opts["p"] = float(p)
    return opts


def cell_task(
    name: str,
    *,
    p: float,
    noise_scale: float,
    seed: int = 0,
    horizon: int = 14,
    input_size: int = 56,
    n_origins: int = 3,
    scenario_params: Mapping[str, Any] | None = None,
    cleaner_options: Mapping[str, Any] | None = None,
) -> tuple[Scenario, ForecastTask, pd.Timestamp]:
    """Simulate one cell and build its causal forecasting task (cleaned and fused readings).

    ``cleaner_options`` go to :class:`~sclm.cleaning.ReadingsCleaner` (an ablation, e.g.
    ``{"skip": ["noise_rate"]}`` leaves the IoT undercount uncorrected).

    Returns
    -------
    scenario : Scenario
        Simulated with :func:`scenario_options` (documents off unless asked for).
    task : ForecastTask
        :func:`sclm.pipeline.scenario_task` on :class:`sclm.pipeline.CausalPanels` of the raw
        readings (cleaner and fuser fitted up to ``train_end``); ``task.panels`` is that object.
    train_end : pandas.Timestamp
        The first test origin: last day - ``horizon·n_origins`` (the origins of
        :func:`sclm.pipeline.backtest`).
    """
    import sclm
    from sclm import pipeline

    base = {"n_documents": 0, **dict(scenario_params or {})}
    sc = sclm.make_scenario(
        name, seed=seed, **scenario_options(name, p=p, noise_scale=noise_scale, base=base)
    )
    last = pd.Timestamp(sc.readings["ts"].max())
    train_end = last - pd.Timedelta(days=horizon * n_origins)
    panels = pipeline.CausalPanels(
        sc.readings, units=sc.units, train_end=train_end, cleaner_options=cleaner_options
    )
    task = pipeline.scenario_task(sc, panels, horizon=horizon, input_size=input_size)
    return sc, task, train_end


def truth_scales(
    forecasts: pd.DataFrame, truth: pd.DataFrame, *, season_length: int = SEASON_LENGTH
) -> pd.Series:
    """The seasonal-naive scale of the **true** history up to each origin, per forecast row.

    Parameters
    ----------
    forecasts : pandas.DataFrame
        Long, with ``origin, node, variable`` (R rows).
    truth : pandas.DataFrame
        Index (``node``, ``ts``); the forecast variables as columns.

    Returns
    -------
    pandas.Series
        Length R, aligned on ``forecasts.index``: in-sample MAE of ``y[t] - y[t - season_length]``
        over the true days ``<= origin`` (units of the variable).
    """
    keys = forecasts[["origin", "node", "variable"]].drop_duplicates()
    ts = truth.index.get_level_values("ts")
    nodes = truth.index.get_level_values("node")
    values = {}
    for origin, node, var in keys.itertuples(index=False):
        y = truth.loc[(nodes == node) & (ts <= origin), var].to_numpy("float64")
        values[(origin, node, var)] = seasonal_naive_scale(y, season_length=season_length)
    idx = pd.MultiIndex.from_frame(forecasts[["origin", "node", "variable"]])
    return pd.Series([values[k] for k in idx], index=forecasts.index, name="scale")


# --------------------------------------------------------------------------------------------------
# The curve
# --------------------------------------------------------------------------------------------------


def _point(forecasts: pd.DataFrame, point: str) -> pd.DataFrame:
    """Forecasts with ``mean`` replaced by the chosen point forecast (Seasonal Naive keeps its mean)."""
    if point == "mean":
        return forecasts
    out = forecasts.copy()
    sel = out["model"] != REFERENCE
    out.loc[sel, "mean"] = out.loc[sel, "q0.5"]
    return out


def _cell(
    name: str,
    p: float,
    noise_scale: float,
    *,
    seed: int,
    horizon: int,
    input_size: int,
    n_origins: int,
    scenario_params: Mapping[str, Any] | None,
    cleaner_options: Mapping[str, Any] | None,
    point: str,
    device: str,
    train_options: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """One (p, noise scale) cell: its rows of the curve, one per model of :data:`MODELS`."""
    from sclm import pipeline

    t0 = time.perf_counter()
    sc, task, train_end = cell_task(
        name,
        p=p,
        noise_scale=noise_scale,
        seed=seed,
        horizon=horizon,
        input_size=input_size,
        n_origins=n_origins,
        scenario_params=scenario_params,
        cleaner_options=cleaner_options,
    )
    trained = pipeline.train_forecaster(task, train_end=train_end, seed=seed, device=device, **train_options)
    _, fc = pipeline.backtest(
        task,
        n_origins=n_origins,
        truth=sc.truth,
        trained=trained,
        baselines=("seasonal_naive", "lightgbm"),
        seed=seed,
        device=device,
    )
    fc = fc.assign(scale=truth_scales(fc, sc.truth))
    tables = {pt: pipeline.score_forecasts(_point(fc, pt)) for pt in ("mean", "median")}
    table = tables[point]
    est = getattr(task.panels.cleaner_, "p_", None)
    if est is None:  # the noise-rate step skipped
        est = pd.DataFrame(columns=["source", "variable", "p_hat"])
    iot = est[(est["source"] == "iot") & (est["variable"] == sc.meta["targets"]["q"])]
    p_hat = float(iot["p_hat"].iloc[0]) if len(iot) else float("nan")
    secs = time.perf_counter() - t0
    rows = []
    for model in MODELS:
        r = table.loc[model]
        rows.append(
            {
                "scenario": name,
                "model": model,
                "p": float(p),
                "noise_scale": float(noise_scale),
                "relMASE": float(r["relMASE"]),
                "relMASE_mean": float(tables["mean"].loc[model, "relMASE"]),
                "relMASE_median": float(tables["median"].loc[model, "relMASE"]),
                "MASE": float(r["MASE"]),
                "MASE_snaive": float(table.loc[REFERENCE, "MASE"]),
                "WQL": float(r["WQL"]),
                "cov80": float(r["cov80"]),
                "series": int(r["series"]),
                "p_hat": p_hat,
                "epochs_run": int(trained.fit_result.epochs_run) if model == "M" else 0,
                "cell_s": secs,
            }
        )
    return rows


def robustness_curve(
    scenario: str,
    *,
    p_values: Sequence[float] = DEFAULT_P_VALUES,
    noise_scales: Sequence[float] = DEFAULT_NOISE_SCALES,
    seed: int = 0,
    n_days: int | None = None,
    horizon: int = 14,
    input_size: int = 56,
    n_origins: int = 3,
    epochs: int = 5,
    patience: int = 2,
    window_stride: int = 1,
    point: str = "median",
    device: str = "auto",
    n_jobs: int = 1,
    scenario_params: Mapping[str, Any] | None = None,
    cleaner_options: Mapping[str, Any] | None = None,
    train_options: Mapping[str, Any] | None = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> pd.DataFrame:
    """Relative MASE of M and LightGBM on one scenario for every (p, noise scale) cell.

    Parameters
    ----------
    scenario : str
        ``"manufacturing"``, ``"logistics"`` or ``"retail"``.
    p_values : sequence of float
        IoT miss rates (each ``0 <= p < 1``).
    noise_scales : sequence of float
        Multipliers of every source's noise σ (:func:`scenario_options`).
    seed : int
        Scenario seed and M's training seed, the same in every cell.
    n_days : int, optional
        Simulated days (default: the scenario's, 760): the cheap knob of a report (e.g. 420).
    horizon, input_size, n_origins : int
        The protocol of ``bench/forecast.py``'s scenario rows: 14, 56, 3.
    epochs, patience, window_stride : int
        M's training budget (:func:`sclm.pipeline.train_forecaster`); the defaults are a small
        CPU budget (early stopping on the time-ordered validation split).
    point : {"median", "mean"}
        The point forecast scored as ``relMASE`` (M and LightGBM; Seasonal Naive, the reference,
        always its mean).  Both are returned as ``relMASE_median`` and ``relMASE_mean``.
    device : str
        M's device (``"auto"``: cuda → mps → cpu).
    n_jobs : int
        Cells run in parallel (joblib processes); 1 runs them in order in this process.
    scenario_params : mapping, optional
        Further :func:`sclm.make_scenario` parameters (``n_nodes`` ...; ``n_documents`` is 0
        unless given).
    cleaner_options : mapping, optional
        :class:`~sclm.cleaning.ReadingsCleaner` parameters of every cell (default: none; an
        ablation such as ``{"skip": ["noise_rate"]}`` shows what the p̂ correction does).
    train_options : mapping, optional
        Further :func:`sclm.pipeline.train_forecaster` arguments (``d_model``, ``batch_size``,
        ``lr``, ``backbone`` ...).
    progress : callable, optional
        Called with each finished row (sequential runs only), e.g. to print it.

    Returns
    -------
    pandas.DataFrame
        One row per (model, p, noise scale), ``len(MODELS)·len(p_values)·len(noise_scales)`` rows,
        columns :data:`CURVE_COLUMNS`: ``relMASE`` (the ``point`` forecast, against Seasonal
        Naive on the same windows of the true series), ``MASE`` (scale: true history),
        ``MASE_snaive`` (the reference's), ``WQL``, ``cov80`` (share of true values in
        [q0.1, q0.9]), ``series``, ``p_hat`` (the cleaner's IoT miss-rate estimate for the q
        target, fitted up to the first origin), ``epochs_run`` (M; 0 for LightGBM), ``cell_s``
        (wall seconds of the whole cell: simulation, cleaning, training, backtest).
    """
    if point not in ("median", "mean"):
        raise ValueError(f"point must be 'median' or 'mean', got {point!r}")
    if not p_values or not noise_scales:
        raise ValueError("p_values and noise_scales must not be empty")
    params = {**({"n_days": int(n_days)} if n_days is not None else {}), **dict(scenario_params or {})}
    train = {
        "epochs": epochs,
        "patience": patience,
        "window_stride": window_stride,
        **dict(train_options or {}),
    }
    kw = dict(
        seed=seed,
        horizon=horizon,
        input_size=input_size,
        n_origins=n_origins,
        scenario_params=params,
        cleaner_options=cleaner_options,
        point=point,
        device=device,
        train_options=train,
    )
    cells = [(float(s), float(p)) for s in noise_scales for p in p_values]
    if n_jobs == 1:
        rows = []
        for s, p in cells:
            for row in _cell(scenario, p, s, **kw):
                rows.append(row)
                if progress is not None:
                    progress(row)
    else:
        from joblib import Parallel, delayed

        parts = Parallel(n_jobs=n_jobs)(delayed(_cell)(scenario, p, s, **kw) for s, p in cells)
        rows = [row for part in parts for row in part]
    return pd.DataFrame(rows, columns=list(CURVE_COLUMNS))


# --------------------------------------------------------------------------------------------------
# Summary
# --------------------------------------------------------------------------------------------------


def ls_slope(x: Sequence[float], y: Sequence[float]) -> float:
    """Least-squares slope of ``y`` on ``x``: ``Σ(x - x̄)(y - ȳ) / Σ(x - x̄)²`` (NaN for < 2 distinct x)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    dx = x - x.mean() if x.size else x
    den = float(np.dot(dx, dx))
    if x.size < 2 or den == 0.0:
        return float("nan")
    return float(np.dot(dx, y - y.mean()) / den)


def ls_slope_se(x: Sequence[float], y: Sequence[float]) -> float:
    """Standard error of :func:`ls_slope`: ``sqrt(Σ residual² / (n - 2) / Σ(x - x̄)²)`` (NaN for n < 3).

    Read it as the scatter of the curve around its line (training noise of one seed per cell),
    not as a sampling error of independent draws.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    b = ls_slope(x, y)
    if x.size < 3 or not np.isfinite(b):
        return float("nan")
    res = y - (y.mean() + b * (x - x.mean()))
    return float(np.sqrt(np.dot(res, res) / (x.size - 2) / np.dot(x - x.mean(), x - x.mean())))


@dataclass
class RobustnessSummary:
    """The curve's slopes, M's ratios to its ``p = 0`` score and the two goals.

    Attributes
    ----------
    slopes : pandas.DataFrame
        Index (``scenario``, ``noise_scale``); columns ``slope_M``, ``slope_LightGBM`` (relMASE per
        unit of p, least squares over every p), ``se_M``, ``se_LightGBM`` (their standard errors,
        :func:`ls_slope_se`), ``slope_MASE_M``, ``slope_MASE_LightGBM`` (the same
        for absolute MASE, for reading), ``M_no_steeper`` (``slope_M <= slope_LightGBM``).
    ratios : pandas.DataFrame
        Index (``scenario``, ``noise_scale``, ``p``) for ``0 < p <= p_max``; columns ``M_ratio``
        (M's relMASE / its relMASE at p = 0), ``M_MASE_ratio`` (the same for MASE),
        ``LightGBM_ratio``.
    goals : pandas.DataFrame
        One row per scenario at the reference noise scale: ``slope_M``, ``slope_LightGBM``,
        ``slope_goal`` (holds: M's slope no steeper), ``max_M_ratio`` (over ``0 < p <= p_max``),
        ``ratio_goal`` (holds: ``max_M_ratio <= 1 + tolerance``).
    reference_scale, p_max, tolerance : float
    """

    slopes: pd.DataFrame
    ratios: pd.DataFrame
    goals: pd.DataFrame
    reference_scale: float
    p_max: float
    tolerance: float


def mean_over_seeds(curve: pd.DataFrame) -> pd.DataFrame:
    """The curve averaged over its ``seed`` column: one row per (scenario, model, noise scale, p).

    Parameters
    ----------
    curve : pandas.DataFrame
        :func:`robustness_curve` rows of several seeds, each with a ``seed`` column (the scenario
        and training seed of its cell).

    Returns
    -------
    pandas.DataFrame
        The numeric columns (``relMASE``, ``MASE`` ...) averaged over the seeds (arithmetic mean),
        ``seed`` dropped and ``seeds`` the number averaged.  A cell missing for one seed is
        averaged over the others.
    """
    if "seed" not in curve.columns:
        raise ValueError("curve has no 'seed' column")
    keys = ["scenario", "model", "noise_scale", "p"]
    num = [c for c in curve.columns if c not in keys + ["seed"] and pd.api.types.is_numeric_dtype(curve[c])]
    g = curve.groupby(keys, sort=True)
    out = g[num].mean().join(g["seed"].nunique().rename("seeds")).reset_index()
    return out


def _seed_slope_se(curve: pd.DataFrame) -> dict[tuple[Any, ...], float]:
    """Standard errors over seeds of the per-seed slopes (M, LightGBM and their difference).

    Each seed's curve gives its own least-squares slope; the standard error of their mean is
    ``std(ddof=1) / sqrt(k)`` over the ``k`` seeds (NaN for one seed).  ``"diff"`` is the paired
    ``slope_M - slope_LightGBM`` of each seed, ``"n"`` the number of seeds.
    """
    per: dict[tuple[Any, ...], list[float]] = {}
    for (scn, s, _seed), g in curve.groupby(["scenario", "noise_scale", "seed"], sort=True):
        sl = {}
        for m in MODELS:
            gm = g[g["model"] == m].sort_values("p")
            sl[m] = ls_slope(gm["p"], gm["relMASE"])
            per.setdefault((scn, float(s), m), []).append(sl[m])
        per.setdefault((scn, float(s), "diff"), []).append(sl["M"] - sl["LightGBM"])
    out: dict[tuple[Any, ...], float] = {}
    for key, vals in per.items():
        v = np.asarray([x for x in vals if np.isfinite(x)], dtype=float)
        out[key] = float(v.std(ddof=1) / np.sqrt(v.size)) if v.size > 1 else float("nan")
        if key[2] == "diff":
            out[(key[0], key[1], "n")] = float(v.size)
    return out


def summarize(
    curve: pd.DataFrame, *, reference_scale: float = 1.0, p_max: float = 0.3, tolerance: float = 0.05
) -> RobustnessSummary:
    """Slopes of relMASE against p, M's ratios to its own p = 0 score, and the goal verdicts.

    Parameters
    ----------
    curve : pandas.DataFrame
        :func:`robustness_curve` rows (one or several scenarios concatenated); needs ``scenario,
        model, p, noise_scale, relMASE, MASE`` and the models ``M`` and ``LightGBM``.  With a
        ``seed`` column of several seeds the curve is first averaged over them
        (:func:`mean_over_seeds`): slopes, ratios and goals are those of the mean curve, and
        ``se_M``, ``se_LightGBM`` become the standard errors over seeds of the per-seed slopes,
        with ``se_diff`` (of the paired difference ``slope_M - slope_LightGBM``) and ``seeds``.
    reference_scale : float
        Noise scale at which the goals are judged (×1).
    p_max, tolerance : float
        M must stay within ``1 + tolerance`` of its p = 0 relMASE for every ``0 < p <= p_max``.
    """
    need = {"scenario", "model", "p", "noise_scale", "relMASE", "MASE"}
    if not need <= set(curve.columns):
        raise ValueError(f"curve lacks column(s) {sorted(need - set(curve.columns))}")
    missing = [m for m in MODELS if m not in set(curve["model"])]
    if missing:
        raise ValueError(f"curve has no rows for model(s) {missing}")
    seed_se = None
    if "seed" in curve.columns and curve["seed"].nunique() > 1:
        seed_se = _seed_slope_se(curve)
        curve = mean_over_seeds(curve)
    slopes, ratios = [], []
    for (scn, s), g in curve.groupby(["scenario", "noise_scale"], sort=True):
        row: dict[str, Any] = {"scenario": scn, "noise_scale": float(s)}
        for m in MODELS:
            gm = g[g["model"] == m].sort_values("p")
            row[f"slope_{m}"] = ls_slope(gm["p"], gm["relMASE"])
            row[f"se_{m}"] = ls_slope_se(gm["p"], gm["relMASE"])
            row[f"slope_MASE_{m}"] = ls_slope(gm["p"], gm["MASE"])
        if seed_se is not None:
            for m in MODELS:
                row[f"se_{m}"] = float(seed_se.get((scn, float(s), m), np.nan))
            row["se_diff"] = float(seed_se.get((scn, float(s), "diff"), np.nan))
            row["seeds"] = int(seed_se.get((scn, float(s), "n"), 0))
        row["M_no_steeper"] = bool(row["slope_M"] <= row["slope_LightGBM"])
        slopes.append(row)
        by = {m: g[g["model"] == m].set_index("p") for m in MODELS}
        zero = {m: by[m].loc[0.0] if 0.0 in by[m].index else None for m in MODELS}
        for p in sorted(x for x in by["M"].index if 0.0 < x <= p_max + 1e-12):
            rat = {"scenario": scn, "noise_scale": float(s), "p": float(p)}
            for m, key in (("M", "M_ratio"), ("LightGBM", "LightGBM_ratio")):
                z = zero[m]
                ok = z is not None and p in by[m].index
                rat[key] = float(by[m].loc[p, "relMASE"] / z["relMASE"]) if ok else float("nan")
            z = zero["M"]
            rat["M_MASE_ratio"] = float(by["M"].loc[p, "MASE"] / z["MASE"]) if z is not None else float("nan")
            ratios.append(rat)
    slope_df = pd.DataFrame(slopes).set_index(["scenario", "noise_scale"])
    ratio_cols = ["scenario", "noise_scale", "p", "M_ratio", "M_MASE_ratio", "LightGBM_ratio"]
    ratio_df = pd.DataFrame(ratios, columns=ratio_cols).set_index(["scenario", "noise_scale", "p"])
    goals = []
    for scn in slope_df.index.get_level_values("scenario").unique():
        key = (scn, float(reference_scale))
        if key not in slope_df.index:
            continue
        sl = slope_df.loc[key]
        r = ratio_df.xs(key, level=["scenario", "noise_scale"]) if len(ratio_df) else ratio_df
        mx = float(r["M_ratio"].max()) if len(r) and r["M_ratio"].notna().any() else float("nan")
        goals.append(
            {
                "scenario": scn,
                "slope_M": float(sl["slope_M"]),
                "slope_LightGBM": float(sl["slope_LightGBM"]),
                "slope_goal": bool(sl["M_no_steeper"]),
                "max_M_ratio": mx,
                "ratio_goal": bool(mx <= 1.0 + tolerance) if np.isfinite(mx) else False,
            }
        )
    goal_df = pd.DataFrame(
        goals, columns=["scenario", "slope_M", "slope_LightGBM", "slope_goal", "max_M_ratio", "ratio_goal"]
    ).set_index("scenario")
    return RobustnessSummary(
        slope_df, ratio_df, goal_df, float(reference_scale), float(p_max), float(tolerance)
    )


# --------------------------------------------------------------------------------------------------
# Figure
# --------------------------------------------------------------------------------------------------


def plot_robustness(curve: pd.DataFrame, *, value: str = "relMASE") -> Figure:
    """relMASE against p: one panel per scenario, M solid and LightGBM dashed, one colour per noise scale.

    Parameters
    ----------
    curve : pandas.DataFrame
        :func:`robustness_curve` rows (one or several scenarios).
    value : str
        Column on the y axis (``relMASE``, ``MASE`` ...).

    Returns
    -------
    matplotlib.figure.Figure
        Not shown; the caller saves or displays it.
    """
    from matplotlib.figure import Figure

    scenarios = list(dict.fromkeys(curve["scenario"]))
    scales = sorted(curve["noise_scale"].unique())
    fig = Figure(figsize=(4.2 * len(scenarios) + 1.6, 3.4), layout="constrained")
    axes = fig.subplots(1, len(scenarios), squeeze=False)[0]
    colours = {s: f"C{i}" for i, s in enumerate(scales)}
    styles = {"M": "-", "LightGBM": "--"}
    for ax, scn in zip(axes, scenarios, strict=True):
        g = curve[curve["scenario"] == scn]
        for m in [x for x in MODELS if x in set(g["model"])]:
            for s in scales:
                gs = g[(g["model"] == m) & (g["noise_scale"] == s)].sort_values("p")
                if len(gs):
                    ax.plot(
                        gs["p"],
                        gs[value],
                        styles.get(m, ":"),
                        marker="o",
                        ms=3,
                        color=colours[s],
                        label=f"{m}, noise ×{s:g}",
                    )
        ax.set_title(scn)
        ax.set_xlabel("IoT miss rate p")
        ax.set_ylabel(value)
        ax.grid(alpha=0.3)
    handles: dict[str, Any] = {}
    for ax in axes:  # one legend for every panel: a scale missing in one panel still appears
        for h, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, h)
    fig.legend(list(handles.values()), list(handles), fontsize=7, loc="outside right upper")
    return fig
