"""The sections the case-study notebooks share, one function each.

``notebooks/4.1-manufacturing.ipynb``, ``4.2-logistics.ipynb`` and ``4.3-retail.ipynb`` tell
three stories on one flow: scenario → raw sources → cleaning → fusion → forecasting →
explanations → documents → decisions → Ask sclm → monitoring.  Everything but the decisions is
the same code, so it lives here; each function shows its tables, figures and text in the
notebook (``IPython.display``), records its numbers into the :class:`sclm.reporting.Report`
(the metric keys of ``metrics.json``) and returns what later sections need::

    report = case_study.start(params)
    sc = case_study.scenario(report, case, seed=seed, n_days=n_days, p=p)
    ...
    fc = case_study.forecasting(report, sc, panel, horizon=14, input_size=56, n_origins=3)

Forecasting is causal (:class:`sclm.pipeline.CausalPanels`): every input of a forecast comes
from the raw readings up to its origin, cleaned and fused with parameters fitted on the training
days.  The cleaning and fusion sections score those steps on the whole period (their quality
against the answer key, not an input of any forecast).

The documents and Ask sclm sections are in :mod:`sclm._case_study_text`, re-exported here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from sclm._case_study_show import _md, _show
from sclm._case_study_text import ask, documents, documents_in_fusion, read_documents

if TYPE_CHECKING:
    from sclm.pipeline import CausalPanels, ForecastTask, TrainedForecaster
    from sclm.reporting import Report
    from sclm.scenarios import Scenario

__all__ = [
    "Forecasting",
    "ask",
    "cleaning",
    "documents",
    "documents_in_fusion",
    "drivers",
    "explanations",
    "faults",
    "fan_charts",
    "forecasting",
    "fusion",
    "iot_ratio",
    "monitoring",
    "raw_plots",
    "raw_sources",
    "read_documents",
    "scenario",
    "start",
    "true_series",
]


def _plt():
    import matplotlib.pyplot as plt

    return plt


def _qkd(sc: Scenario) -> tuple[str, str, str]:
    t = sc.meta["targets"]
    return t["q"], t["k"], t["d"]


TORCH_THREADS = 1
"""Intra-op threads of torch in a report's kernel.  On the CPU, torch's results depend on its
thread count (reductions are split across threads: the same training on 1 and on 2 threads
gives different weights in the last bits, and the figures drift from there), so a report fixes
it instead of taking the machine's core count: the same parameters give the same bytes on any
machine.  ``make reports`` runs the three reports in parallel, one core each."""


def start(params: Mapping[str, Any]) -> Report:
    """Fix torch's threads, seed everything, set the figure and table display options, open the :class:`Report`.

    Parameters
    ----------
    params : mapping
        The notebook's parameters (``case`` and ``seed`` among them), recorded in the report.
    """
    import torch

    import sclm
    from sclm.reporting import Report

    torch.set_num_threads(TORCH_THREADS)
    sclm.seed_everything(params["seed"])
    _plt().rcParams.update({"figure.dpi": 100, "savefig.dpi": 100})
    pd.set_option("display.max_rows", 40, "display.precision", 3)
    return Report(params["case"], dict(params))


def scenario(
    report: Report, case: str, *, seed: int, n_days: int, p: float, scenario_options: Mapping | None = None
) -> Scenario:
    """Simulate the case's scenario; record its size and days (``n_nodes``, ``n_days`` ...)."""
    import sclm

    sc = report.scenario(
        sclm.make_scenario(case, seed=seed, n_days=n_days, p=p, **dict(scenario_options or {}))
    )
    q, k, d = _qkd(sc)
    days = sc.truth.index.get_level_values("ts")
    report.metric("n_nodes", len(sc.nodes), "nodes in the scenario")
    report.metric("n_days", int(days.nunique()), "simulated days")
    report.metric("first_day", str(days.min().date()))
    report.metric("last_day", str(days.max().date()))
    _md(
        f"**{len(sc.nodes)} nodes** over **{days.nunique()} days** "
        f"({days.min().date()} to {days.max().date()}); targets: q = `{q}`, k = `{k}`, d = `{d}`."
    )
    _show(sc.nodes)
    return sc


def raw_sources(report: Report, sc: Scenario) -> None:
    """Readings per source and variable (``n_readings``, ``readings_per_source``)."""
    from sclm import plots

    counts = plots.source_counts(sc.readings)
    report.metric("n_readings", len(sc.readings), "raw readings, all sources")
    report.metric("readings_per_source", sc.readings.groupby("source").size().to_dict())
    _show(counts)


def faults(report: Report, sc: Scenario) -> None:
    """The injected faults per kind and the systematic ones (``faults_by_kind``)."""
    from sclm import plots

    fault_table = plots.fault_counts(sc.faults)
    report.metric("faults_by_kind", sc.faults.groupby("kind").size().to_dict(), "injected faults per kind")
    _show(fault_table)
    systematic = sc.faults[sc.faults["ts"].isna()]
    _show(systematic.drop(columns=["ts"]).head(12))


def iot_ratio(report: Report, sc: Scenario, p: float) -> None:
    """Sum of the IoT counter over the true q on non-outlier days (``iot_ratio_to_truth``)."""
    q = _qkd(sc)[0]
    iot = sc.readings[(sc.readings["source"] == "iot") & (sc.readings["variable"] == q)]
    joined = iot.merge(sc.truth[q].rename("truth").reset_index(), on=["node", "ts"])
    key = ["node", "ts", "variable", "source"]
    outliers = sc.faults.loc[sc.faults["kind"] == "outlier", key]
    rows = joined.merge(outliers.assign(_o=1), on=key, how="left")
    rows = rows[rows["_o"].isna()]
    ratio = rows["value"].sum() / rows["truth"].sum()
    report.metric(
        "iot_ratio_to_truth", round(float(ratio), 4), "sum(IoT q') / sum(true q) on non-outlier days"
    )
    report.metric("iot_ratio_expected", round(1 - p, 4), "1 - p")
    _md(f"IoT `{q}` / truth = **{ratio:.4f}** (expected 1 − p = {1 - p:.4f}).")


def raw_plots(report: Report, sc: Scenario, plot_days: int) -> str:
    """Raw sources against the truth for q and k of the first node (figures ``raw_q``, ``raw_k``); that node."""
    from sclm import plots

    q, k, _ = _qkd(sc)
    node0 = sc.truth.index.get_level_values("node")[0]
    for var, name in ((q, "raw_q"), (k, "raw_k")):
        fig = plots.plot_sources_vs_truth(
            sc.readings, sc.truth, node=node0, variable=var, faults=sc.faults, days=plot_days
        )
        report.figure(fig, name)
        _plt().show()
    return node0


def cleaning(report: Report, sc: Scenario, p: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Clean the whole period and score it against the answer key; returns ``(cleaned, audit)``.

    Metrics ``p_hat``, ``p_ci``, ``audit_rows``, ``audit_balanced``, ``outlier_precision``,
    ``outlier_recall``, ``iot_rmse_ratio_clean_raw``.
    """
    from sclm import scoring
    from sclm.cleaning import ReadingsCleaner

    q = _qkd(sc)[0]
    cleaner = ReadingsCleaner(units=sc.units)
    cleaned = cleaner.fit_transform(sc.readings)
    audit = cleaner.audit_
    est = cleaner.p_
    _show(est)
    row = est[(est["source"] == "iot") & (est["variable"] == q)].iloc[0]
    report.metric("p_hat", round(float(row["p_hat"]), 5), "IoT miss rate estimated against ERP")
    report.metric(
        "p_ci", [round(float(row["ci_low"]), 5), round(float(row["ci_high"]), 5)], "95 % confidence interval"
    )
    _md(
        f"Estimated miss rate p̂ = **{row['p_hat']:.4f}** (95 % CI {row['ci_low']:.4f}–{row['ci_high']:.4f}); "
        f"the simulator used p = {p}."
    )
    _show(audit.summary())
    balanced = len(cleaned) == len(sc.readings) - int((audit["action"] == "dropped").sum()) + int(
        (audit["action"] == "filled").sum()
    )
    report.metric("audit_rows", len(audit))
    report.metric("audit_balanced", bool(balanced), "cleaned rows = raw - dropped + filled")
    scores = scoring.outlier_scores(audit, sc.faults)
    report.metric("outlier_precision", round(scores["precision"], 4))
    report.metric("outlier_recall", round(scores["recall"], 4))
    iot_raw = scoring.rmse_vs_truth(sc.readings, sc.truth, q, "iot")
    iot_clean = scoring.rmse_vs_truth(cleaned, sc.truth, q, "iot")
    report.metric(
        "iot_rmse_ratio_clean_raw",
        round(iot_clean / iot_raw, 4),
        "RMSE(cleaned IoT) / RMSE(raw IoT) vs truth",
    )
    _md(
        f"Outliers against the answer key: {scores['true_positives']} of {scores['flagged']} flagged are injected "
        f"outliers (precision {scores['precision']:.3f}); {scores['true_positives']} of {scores['injected']} "
        f"injected were found (recall {scores['recall']:.3f}). IoT error against the truth: RMSE {iot_raw:.1f} "
        f"raw → {iot_clean:.1f} cleaned ({iot_clean / iot_raw:.1%})."
    )
    return cleaned, audit


def fusion(
    report: Report, sc: Scenario, cleaned: pd.DataFrame, audit: pd.DataFrame, *, node: str, plot_days: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fuse the whole period (inverse variance and plain mean) and score it; returns ``(panel, imputed)``.

    Metrics ``fusion_ratio_inverse_variance``, ``fusion_ratio_mean``; figures ``clean_q``, ``clean_k``.
    """
    from sclm import plots, scoring
    from sclm.fusion import fuse

    q, k, _ = _qkd(sc)
    imputed = scoring.imputed_keys(audit)
    panel, fusion_report = fuse(cleaned, "inverse_variance", imputed=imputed, return_report=True)
    panel_mean = fuse(cleaned, "mean", imputed=imputed)
    weights = fusion_report.weights
    _show(
        weights[weights["method"].str.startswith(("three", "borrowed", "equal"))][
            ["variable", "source", "sigma_hat", "weight", "method"]
        ]
    )
    table = scoring.fusion_scores(
        cleaned, {"inverse_variance": panel, "mean": panel_mean}, sc.truth, sc.meta["sources"]
    )
    cols = [
        "best_source",
        "best_rmse",
        "rmse_inverse_variance",
        "ratio_inverse_variance",
        "rmse_mean",
        "ratio_mean",
    ]
    _show(table[cols])
    report.metric(
        "fusion_ratio_inverse_variance",
        table["ratio_inverse_variance"].round(4).to_dict(),
        "fused RMSE / best single cleaned source RMSE, per variable",
    )
    report.metric("fusion_ratio_mean", table["ratio_mean"].round(4).to_dict())
    cases_source = sc.faults.loc[sc.faults["kind"] == "unit", "source"].iloc[0]
    for var, source, name in ((q, "iot", "clean_q"), (k, cases_source, "clean_k")):
        fig = plots.plot_cleaning(
            sc.truth,
            sc.readings,
            cleaned,
            node=node,
            variable=var,
            source=source,
            fused=panel,
            days=plot_days,
        )
        report.figure(fig, name)
        _plt().show()
    return panel, imputed


def true_series(report: Report, sc: Scenario) -> None:
    """The inventory balance of the truth (``balance_max_abs_error``) and its plot (``truth_qkd``)."""
    from sclm import plots

    q, k, d = _qkd(sc)
    t = sc.truth
    balance = (t[k].groupby(level="node").shift(-1) - (t[k] + t[q] - t[d])).abs().max()
    report.metric("balance_max_abs_error", float(balance), "max |k(t+1) - k(t) - q(t) + d(t)| over the truth")
    _md(f"Largest violation of the inventory balance in the truth: **{balance:.3g}**.")
    fig = plots.plot_panel(sc.truth, [q, k, d], title=f"{sc.meta['name']}: true q, k, d per node")
    report.figure(fig, "truth_qkd")
    _plt().show()


def drivers(report: Report, sc: Scenario) -> None:
    """The simulator's true drivers and the distractors (``n_drivers``, ``distractors``)."""
    report.metric("n_drivers", len(sc.drivers))
    report.metric("distractors", sc.meta["distractors"])
    _show(sc.drivers)
    _md("Distractors (drive nothing): " + ", ".join(f"`{x}`" for x in sc.meta["distractors"]))


@dataclass
class Forecasting:
    """What the forecasting section produced (the decision sections read it)."""

    panels: CausalPanels
    task: ForecastTask
    train_end: pd.Timestamp
    trained: TrainedForecaster
    scores: pd.DataFrame
    forecasts: pd.DataFrame


def forecasting(
    report: Report,
    sc: Scenario,
    panel: pd.DataFrame,
    *,
    horizon: int,
    input_size: int,
    n_origins: int,
    seed: int = 0,
    device: str = "auto",
    backbone: str = "patch",
    epochs: int = 30,
) -> Forecasting:
    """Train M up to the first test origin and backtest it beside the baselines, causally.

    The inputs at every origin are :class:`sclm.pipeline.CausalPanels` of the raw readings
    (cleaner and fuser fitted up to the first origin); ``panel`` is the whole-period fused
    panel (the same cleaning and fusion options), used only for the plans of the known-future
    columns.  Metrics ``forecast_scores``, ``forecast_relmase_per_target``,
    ``forecast_m_beats_best_baseline``.
    """
    from sclm import pipeline

    last_day = pd.Timestamp(sc.readings["ts"].max())
    train_end = last_day - pd.Timedelta(days=horizon * n_origins)  # the first test origin
    panels = pipeline.CausalPanels(sc.readings, units=sc.units, train_end=train_end, full=panel)
    task = pipeline.scenario_task(sc, panels, horizon=horizon, input_size=input_size)
    trained = pipeline.train_forecaster(
        task, train_end=train_end, seed=seed, device=device, backbone=backbone, epochs=epochs
    )
    scores, forecasts = pipeline.backtest(
        task, n_origins=n_origins, truth=sc.truth, trained=trained, seed=seed, device=device
    )
    _show(scores.round({"relMASE": 3, "MASE": 3, "MAE": 1, "WQL": 4, "cov80": 3}))
    per_target = pd.DataFrame(
        {v: pipeline.score_forecasts(forecasts[forecasts["variable"] == v])["relMASE"] for v in task.targets}
    )
    _md("relMASE per target:")
    _show(per_target.round(3))
    best = scores.drop(index="M")["relMASE"].idxmin()
    report.metric("forecast_scores", scores.round(4).to_dict(orient="index"), "M and baselines, same windows")
    report.metric("forecast_relmase_per_target", per_target.round(4).to_dict(orient="index"))
    report.metric(
        "forecast_m_beats_best_baseline", bool(scores.loc["M", "relMASE"] < scores.loc[best, "relMASE"])
    )
    _md(
        f"Inputs: targets {', '.join(f'`{t}`' for t in task.targets)}; past covariates "
        f"{', '.join(f'`{c}`' for c in task.covariates)}; known-future "
        f"{', '.join(f'`{c}`' for c in (*task.known_future, 'calendar'))}. "
        f"{n_origins} windows of {horizon} days, {scores.loc['M', 'series']} series. "
        f"M's relMASE is **{scores.loc['M', 'relMASE']:.3f}**, the best baseline's ({best}) "
        f"**{scores.loc[best, 'relMASE']:.3f}**; M's 80 % interval holds "
        f"**{scores.loc['M', 'cov80']:.0%}** of the actual values."
    )
    return Forecasting(panels, task, train_end, trained, scores, forecasts)


def fan_charts(report: Report, sc: Scenario, fc: Forecasting, *, node: str) -> None:
    """M's fan chart at the last origin for ``node`` and one node of another type (``forecast_fan_1/2``).

    The history shown is the panel as M saw it at that origin.
    """
    from sclm import plots

    origin = fc.forecasts["origin"].max()
    last = fc.forecasts[(fc.forecasts["model"] == "M") & (fc.forecasts["origin"] == origin)]
    history = fc.panels.panel_at(origin)
    node_types = sc.nodes.set_index("node")["node_type"]
    other = next((n for n in node_types.index if node_types[n] != node_types[node]), None)
    for i, n in enumerate(x for x in (node, other) if x is not None):
        fig = plots.plot_fan(
            history,
            last,
            node=n,
            variables=list(fc.task.targets),
            actual=sc.truth,
            history_days=4 * fc.task.horizon,
        )
        report.figure(fig, f"forecast_fan_{i + 1}")
        _plt().show()


_EXPLAIN_GOALS = {
    "completeness": ("completeness_error", "≤ {completeness_error}"),
    "agreement": ("captum_shap_spearman", "≥ {captum_shap_spearman}"),
    "randomization": ("randomization_max_spearman", "changes the attributions"),
    "deletion": ("deletion_ratio", "≤ {deletion_ratio} × random"),
    "drivers": ("aup", "≥ {aup}"),
}


def explanations(
    report: Report, sc: Scenario, trained: TrainedForecaster, *, target: str, horizon: int, seed: int = 0
) -> pd.DataFrame:
    """Integrated gradients of M's next-week ``target`` and the five checks; returns the channel table.

    Metrics ``explain_target``, ``explain_top_inputs``, ``explain_checks``, ``explain_checks_pass``;
    figure ``explain_channels``.
    """
    import warnings

    from sclm.explain import GOALS, explain_forecast_summary

    warnings.filterwarnings("ignore", category=UserWarning, module="captum")
    table, verdict, fig = explain_forecast_summary(
        trained.model,
        trained.windows(),
        sc.drivers,
        target=target,
        step=range(1, min(7, horizon) + 1),
        nodes=sc.nodes,
        n_windows=200,
        seed=seed,
        device="cpu",
    )
    _show(table.round({"importance": 4, "share": 3}))
    report.figure(fig, "explain_channels")
    _plt().show()
    goals = {name: (key, goal.format(**GOALS)) for name, (key, goal) in _EXPLAIN_GOALS.items()}
    checks = pd.DataFrame(
        [
            {
                "check": name,
                "figure": key,
                "value": verdict.get(key),
                "goal": goal,
                "passes": verdict["passes"].get(name),
            }
            for name, (key, goal) in goals.items()
        ]
    ).set_index("check")
    top = table.head(3)
    report.metric("explain_target", target)
    report.metric(
        "explain_top_inputs",
        {row.channel: round(float(row.share), 4) for row in top.itertuples()},
        "share of mean |IG attribution|, next 7 days",
    )
    report.metric(
        "explain_checks", {k: (None if v is None else round(float(v), 4)) for k, v in checks["value"].items()}
    )
    report.metric("explain_checks_pass", {k: bool(v) for k, v in verdict["passes"].items()})
    _show(checks.assign(value=[None if v is None else f"{v:.3g}" for v in checks["value"]]))
    named = ", ".join(
        f"`{row.channel}` ({row.share:.0%}{', a true driver' if row.driver else ''})"
        for row in top.itertuples()
    )
    failed = [name for name, ok in verdict["passes"].items() if not ok]
    _md(
        f"Next week's `{target}` is driven most by {named}. "
        + (
            "All checks pass."
            if not failed
            else f"Checks that fail: {', '.join(failed)} — read the ranking with that in mind."
        )
    )
    return table


ONE_STEP_RECIPE = {
    "input_size": 28,
    "patch_len": 4,
    "patch_stride": 4,
    "d_model": 32,
    "n_heads": 4,
    "n_layers": 2,
    "dropout": 0.0,
    "quantiles": (),
    "revin": False,
    "linear_skip": False,
}
"""The explained one-step model's size (as ``bench/explain.py``'s M): horizon 1, lr 1e-3, patience 8."""


def one_step_model(
    trained: TrainedForecaster, *, seed: int = 0, epochs: int | None = None
) -> TrainedForecaster:
    """A one-step M on the report's own task, trained as ``bench/explain.py`` trains the model it scores.

    The answer key is about tomorrow (every driver visible at the origin); M itself forecasts
    ``horizon`` days jointly and learns the one-step rules less well, so the key is scored on a
    small model trained for that step alone (:data:`ONE_STEP_RECIPE`, on the same windows up
    to the same training end; at most as many epochs as M ran, and 30).
    """
    import dataclasses

    from sclm.pipeline import train_forecaster

    recipe = dict(ONE_STEP_RECIPE)
    size = min(recipe.pop("input_size"), trained.task.input_size)
    task = dataclasses.replace(trained.task, horizon=1, input_size=size)
    n = min(30, epochs or max(1, trained.fit_result.epochs_run))
    return train_forecaster(
        task,
        train_end=trained.train_end,
        epochs=n,
        patience=8,
        lr=1e-3,
        seed=seed,
        device="cpu",
        **recipe,
    )


def explanation_key(
    report: Report, sc: Scenario, trained: TrainedForecaster, *, target: str, seed: int = 0
) -> pd.DataFrame:
    """Tomorrow's ``target`` explained and scored against the answer key: which checks pass, and
    the key beside the attribution heatmap (:func:`sclm.explain.explanation_checks`).

    The explained model is a one-step M trained on the report's task (:func:`one_step_model`,
    the recipe ``bench/explain.py`` scores), so the report's figures are the bench's on the
    report's own (cleaned, fused) data.

    Metrics ``explain_key_checks`` (value per check), ``explain_key_pass``, ``explain_key_model``;
    figure ``explain_key``.
    """
    import warnings

    from sclm.explain import explanation_checks

    warnings.filterwarnings("ignore", category=UserWarning, module="captum")
    one = one_step_model(trained, seed=seed)
    table, fig, details = explanation_checks(
        one.model,
        one.windows(),
        sc.drivers,
        sc.nodes,
        target,
        step=1,
        n_windows=100,
        n_randomization=30,
        seed=seed,
        device="cpu",
    )
    report.figure(fig, "explain_key")
    _plt().show()
    values = {r.check: (None if pd.isna(r.value) else round(float(r.value), 4)) for r in table.itertuples()}
    passes = {r.check: bool(r.passes) for r in table.itertuples()}
    report.metric("explain_key_checks", values, f"one-step-ahead {target}, {details['n_windows']} windows")
    report.metric("explain_key_pass", passes)
    fr = one.fit_result
    report.metric(
        "explain_key_model",
        {
            "horizon": 1,
            "input_size": one.task.input_size,
            "epochs_run": fr.epochs_run,
            "best_epoch": fr.best_epoch,
        },
        "the explained one-step M (bench/explain.py's recipe)",
    )
    _show(table.assign(value=[None if pd.isna(v) else f"{v:.3g}" for v in table["value"]]).set_index("check"))
    failed = [k for k, ok in passes.items() if not ok]
    _md(
        f"Tomorrow's `{target}` is scored against the key on a one-step M trained on the same data "
        f"({one.task.input_size} input days, {fr.epochs_run} epochs; the recipe of `bench/explain.py`): "
        "the cells on the left are the right answer — the rule's drivers and the inputs the key "
        "declares equivalent to them — the heatmap on the right is the model's. "
        + (
            "Every check passes."
            if not failed
            else f"Checks that pass: {', '.join(k for k, ok in passes.items() if ok) or 'none'}; "
            f"checks that fail: {', '.join(failed)}."
        )
    )
    return table


def robustness(
    report: Report,
    sc: Scenario,
    *,
    p_values: tuple[float, ...] = (0.0, 0.2, 0.4),
    noise_scales: tuple[float, ...] = (1.0,),
    n_days: int = 420,
    epochs: int = 3,
    seed: int = 0,
) -> pd.DataFrame:
    """Relative MASE of M and LightGBM against the IoT miss rate (article §8.3), each cell cleaned,
    fused and trained on its own simulated readings (:func:`sclm.robustness.robustness_curve`, a
    report-sized grid; ``bench/robustness.py`` runs the full one).

    Metrics ``robustness_relmase`` (model → p → relMASE), ``robustness_slopes``,
    ``robustness_max_ratio``; figure ``robustness``.
    """
    import warnings

    from sclm.robustness import plot_robustness, robustness_curve, summarize

    with warnings.catch_warnings():  # p = 0: a p-hat slightly below 0 is reported and not applied
        warnings.filterwarnings("ignore", message="noise rate of source", category=UserWarning)
        curve = robustness_curve(
            sc.name,
            p_values=p_values,
            noise_scales=noise_scales,
            seed=seed,
            n_days=n_days,
            epochs=epochs,
            device="cpu",
        )
    fig = plot_robustness(curve)
    report.figure(fig, "robustness")
    _plt().show()
    wide = curve.pivot_table(index=["noise_scale", "p"], columns="model", values="relMASE")
    _show(wide.round(4))
    summary = summarize(curve)
    g = summary.goals.loc[sc.name]
    slopes = {"M": round(float(g["slope_M"]), 4), "LightGBM": round(float(g["slope_LightGBM"]), 4)}
    ratio = round(float(g["max_M_ratio"]), 4)
    ref = curve[curve["noise_scale"] == 1.0] if (curve["noise_scale"] == 1.0).any() else curve
    report.metric(
        "robustness_relmase",
        {
            m: {f"{p:g}": round(float(v), 4) for p, v in zip(d["p"], d["relMASE"], strict=True)}
            for m, d in ref.groupby("model")
        },
        f"noise x1, {n_days}-day scenarios, M {epochs} epochs",
    )
    report.metric("robustness_slopes", slopes, "relMASE per unit of p, least squares")
    report.metric("robustness_max_ratio", ratio, "M's relMASE at 0 < p <= 0.3 over its p = 0 figure")
    steeper = slopes["M"] > slopes["LightGBM"]
    _md(
        f"Per unit of miss rate, M's relative MASE moves by {slopes['M']:+.3f} and LightGBM's by "
        f"{slopes['LightGBM']:+.3f}: M degrades {'faster' if steeper else 'no faster'} than LightGBM. "
        f"Up to p = 0.3 M stays within {abs(ratio - 1):.1%} of its p = 0 score "
        f"({'within' if ratio <= 1.05 else 'outside'} the 5 % goal). "
        "A report-sized grid with one seed per cell: differences of a percent are training noise."
    )
    return curve


def monitoring(report: Report, fc: Forecasting) -> pd.DataFrame:
    """Split-conformal coverage of M's 80 % intervals on the last origin and the 95 % alerts.

    Metrics ``monitor_cov80_raw``, ``monitor_cov80_calibrated``, ``monitor_alerts``; returns the alerts.
    """
    import inspect

    from sclm.monitor import ConformalCalibrator, check_actuals, update_forecaster

    m_fc = fc.forecasts[fc.forecasts["model"] == "M"].dropna(subset=["y"])
    last_origin = m_fc["origin"].max()
    cal_fc, test_fc = m_fc[m_fc["origin"] < last_origin], m_fc[m_fc["origin"] == last_origin]
    split80 = ConformalCalibrator(alpha=0.2, method="split", floor=0.0).fit(cal_fc)
    cal80 = split80.transform(test_fc)
    inside_raw = (test_fc["y"] >= test_fc["q0.1"]) & (test_fc["y"] <= test_fc["q0.9"])
    inside_cal = (cal80["y"] >= cal80["lo"]) & (cal80["y"] <= cal80["hi"])
    by_var = test_fc["variable"].to_numpy()
    coverage = pd.DataFrame(
        {
            "raw (q0.1-q0.9)": inside_raw.groupby(by_var).mean(),
            "split conformal": inside_cal.groupby(by_var).mean(),
            "points": test_fc.groupby("variable").size(),
        }
    )
    coverage.loc["all"] = [inside_raw.mean(), inside_cal.mean(), len(test_fc)]
    _show(coverage.astype({"points": int}).round(3))
    strict = ConformalCalibrator(
        alpha=0.05, method="split", by=("variable",), lower="q0.1", upper="q0.9", floor=0.0
    ).fit(cal_fc)
    alerts = check_actuals(strict.transform(test_fc))
    if len(alerts):
        _show(alerts.head(10).round(2))
    else:
        _md("No actual outside the 95 % interval.")
    report.metric("monitor_cov80_raw", round(float(inside_raw.mean()), 4), "last origin, M's q0.1-q0.9")
    report.metric(
        "monitor_cov80_calibrated", round(float(inside_cal.mean()), 4), "last origin, split conformal"
    )
    report.metric("monitor_alerts", len(alerts), "actuals outside the calibrated 95 % interval, last origin")
    sev = alerts["severity"].value_counts() if len(alerts) else pd.Series(dtype=int)
    defaults = {k: v.default for k, v in inspect.signature(update_forecaster).parameters.items()}
    trained = fc.trained
    new_days = (fc.task.last_day - trained.train_end).days
    _md(
        f"Calibrated on {len(cal_fc):,} forecasts of {cal_fc['origin'].nunique()} earlier origin(s), measured on "
        f"the {len(test_fc):,} forecasts of the last origin ({last_origin.date()}): the 80 % intervals hold "
        f"**{inside_raw.mean():.1%}** of the actuals raw and **{inside_cal.mean():.1%}** calibrated"
        + (
            f" — with only {int(split80.n_scores_.min())} calibration "
            "score(s) per variable and step, and one test origin, these figures are rough."
            if len(cal_fc) < 2000
            else "."
        )
        + f" At 95 %, **{len(alerts)}** actual(s) fall outside the calibrated interval"
        + (f" ({', '.join(f'{n} {s}' for s, n in sev.items())} severity)." if len(alerts) else ".")
        + f" Feedback: the {new_days} days after M's training end ({trained.train_end.date()}) are now known; "
        f"`update_forecaster(trained, panel, end=...)` would fine-tune M from its weights on the windows that "
        f"hold them plus {defaults['context_days']} days of context, {defaults['epochs']} epoch{'' if defaults['epochs'] == 1 else 's'} at learning "
        f"rate {defaults['lr']:g}, keeping the scaler fitted on the training days, and the updated M would issue "
        "the next forecast."
    )
    return alerts
