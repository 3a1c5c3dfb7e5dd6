"""One call for the case studies: which inputs drive a forecast, and can we trust the answer?"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from sclm.explain import checks as ck
from sclm.explain._inputs import _UNSET, _renamed
from sclm.explain.methods import explain

__all__ = ["explain_forecast_summary", "explanation_checks"]

GOALS = {
    "completeness_error": 0.01,
    "deletion_ratio": 0.5,
    "captum_shap_spearman": 0.8,
    "aup": 0.8,
}
"""Thresholds of the summary's pass/fail verdicts (the goals of ``bench/explain.py``)."""


def _node_types(windows: Any, nodes: Any) -> np.ndarray | None:
    if nodes is None:
        return None
    if isinstance(nodes, pd.DataFrame):
        mapping = nodes.set_index("node")["node_type"]
    else:
        mapping = pd.Series(dict(nodes))
    missing = sorted(set(windows.nodes) - set(mapping.index))
    if missing:
        raise ValueError(f"nodes has no node_type for {missing[:5]}")
    return mapping.loc[windows.nodes].to_numpy()


def explain_forecast_summary(
    model: nn.Module,
    windows: Any,
    scenario_drivers: pd.DataFrame | None = None,
    target: str | int | None = None,
    *,
    step: int | Sequence[int] | str = "all",
    nodes: pd.DataFrame | Mapping[str, str] | None = None,
    method: str = "integrated_gradients",
    n_windows: int = 200,
    top: int = 10,
    run_checks: Sequence[str] = ("completeness", "agreement", "randomization", "deletion", "drivers"),
    seed: int = 0,
    device: str | torch.device = "auto",
    horizon: Any = _UNSET,
) -> tuple[pd.DataFrame, dict[str, Any], Any]:
    """Which inputs drive the forecast of ``target`` at ``step`` (days ahead), and do the checks pass?

    Parameters
    ----------
    model : nn.Module
        A trained :class:`sclm.models.Forecaster` (or any model :func:`explain` accepts).
    windows : sclm.windows.Windows
        Scaled windows as the model was trained on (e.g. the test windows); at most
        ``n_windows`` evenly spaced ones are explained.
    scenario_drivers : DataFrame, optional
        ``Scenario.drivers``; enables the precision/recall check and the ``driver`` column.
    target : str or int, optional
        Target variable (default the first of ``windows.targets``).
    step : int, sequence of int, or "all"
        Step(s) ahead whose forecasts are summed, 1-based, e.g. ``range(1, 8)`` for next week
        (default ``"all"``: the model's whole horizon 1..H).
    nodes : DataFrame or mapping, optional
        ``Scenario.nodes`` (or node → node_type): driver rows that hold for one node type only
        are then matched to windows of that type; without it every driver row counts.
    method : str
        Attribution method (default IntegratedGradients).
    n_windows, top : int
        Windows explained; rows of the ``top_cells`` entry.
    run_checks : sequence of str
        Any of ``completeness``, ``agreement`` (vs SHAP GradientExplainer), ``randomization``,
        ``deletion``, ``drivers``.
    seed : int
        Seeds every explanation and check.
    device : str or torch.device
        Where the explanations run: ``"auto"`` (default: cuda, else mps, else cpu,
        :func:`sclm.training.resolve_device`), ``"cpu"``, ...
    horizon : optional
        Old name of ``step`` (accepted with a ``FutureWarning``; ``horizon`` means H in sclm).

    Returns
    -------
    table : pandas.DataFrame
        One row per input channel, most important first: ``channel``, ``importance`` (mean
        |attribution| summed over lags), ``share`` (of the total), ``direction`` ("+" raises
        the forecast on average, "−" lowers it), ``peak_lag`` (the lag of the channel's most
        important cell; negative = known-future step), ``driver`` (True/False when the scenario
        lists the channel as a driver of the target, else None).
    checks : dict
        ``target``, ``step`` (the explained steps, 1-based), ``method``, ``n_windows``;
        figures and verdicts: ``completeness_error``; ``captum_shap_spearman``;
        ``randomization_passes``; ``deletion_ratio``; ``aup``/``aur`` (and ``driver_cells``);
        ``passes`` (per check: bool) and ``all_pass``; ``top_cells`` (DataFrame of
        :meth:`Attribution.top_k`); ``attribution`` (the :class:`Attribution`).
    fig : matplotlib.figure.Figure
        Per-channel bars and the lag × channel heatmap of the most recent days.
    """
    import matplotlib.pyplot as plt

    step = _renamed(
        step, horizon, new_name="step", old_name="horizon", where="explain_forecast_summary", default="all"
    )
    from sclm.explain.plots import channel_bar, heatmap

    unknown = sorted(set(run_checks) - {"completeness", "agreement", "randomization", "deletion", "drivers"})
    if unknown:
        raise ValueError(f"unknown check(s) {unknown}")
    if len(windows) == 0:
        raise ValueError("no windows to explain")
    n = len(windows)
    rows = np.unique(np.linspace(0, n - 1, min(n, n_windows)).round().astype(int))
    w = windows.subset(rows)
    types = _node_types(w, nodes)
    kw = {"step": step, "seed": seed, "device": device}
    att = explain(model, w, method, target, **kw)
    tname = att.target["target"]
    steps = att.target["step"]

    out: dict[str, Any] = {"target": tname, "step": steps, "method": method, "n_windows": len(w)}
    passes: dict[str, bool] = {}
    if "completeness" in run_checks and att.base_values is not None and att.outputs is not None:
        err = ck.completeness(att)["relative_error"]
        out["completeness_error"] = err
        passes["completeness"] = err <= GOALS["completeness_error"]
    if "agreement" in run_checks:
        sg = explain(model, w, "shap_gradient", target, **kw)
        agree = ck.rank_agreement(att, sg)
        out["captum_shap_spearman"] = agree["spearman"]
        out["captum_shap_top_overlap"] = agree["top_overlap"]
        passes["agreement"] = agree["spearman"] >= GOALS["captum_shap_spearman"]
    if "randomization" in run_checks:
        small = w.subset(np.arange(min(len(w), 50)))
        rnd = ck.randomization_check(model, small, method, target, **kw)
        out["randomization_passes"] = rnd["passes"]
        out["randomization_max_spearman"] = rnd["max_spearman"]
        passes["randomization"] = rnd["passes"]
    if "deletion" in run_checks:
        dele = ck.deletion_curve(model, att, seed=seed, device=device)
        out["deletion_ratio"] = dele["ratio"]
        passes["deletion"] = bool(dele["ratio"] <= GOALS["deletion_ratio"])

    driver_channels: set[str] | None = None
    if scenario_drivers is not None:
        d = scenario_drivers[scenario_drivers["target"] == tname]
        if types is not None:
            d = d[d["node_type"].isin(set(types) | {"all"})]
        driver_channels = set(d["driver"])
        if "drivers" in run_checks:
            cells: set[tuple[str, int]] = set()
            for h in steps:
                cells |= ck.driver_cells(
                    scenario_drivers,
                    tname,
                    h,
                    channels=att.feature_names,
                    future_names=att.future_names,
                    input_size=att.input_size,
                    future_horizon=att.horizon or None,
                    node_type=None if types is None else sorted(set(types)),
                )
            out["driver_cells"] = sorted(cells)
            if cells:
                pr = ck.precision_recall(att, cells)
                out["aup"], out["aur"] = pr["aup"], pr["aur"]
                passes["drivers"] = pr["aup"] >= GOALS["aup"]
            else:
                out["aup"] = out["aur"] = None
    out["passes"] = passes
    out["all_pass"] = bool(passes) and all(passes.values())
    out["top_cells"] = att.top_k(top)
    out["attribution"] = att

    imp = att.per_channel("abs_mean")
    signed = att.per_channel("mean")
    cells_imp = att.cells("abs_mean")
    peak = {}
    for ch in imp.index:
        base = ch.removesuffix(" (future)")
        s = cells_imp.xs(base, level="channel")
        if ch.endswith(" (future)"):
            s = s[s.index < 0]
        elif base in att.feature_names:
            s = s[s.index >= 0]
        peak[ch] = int(s.idxmax())
    total = float(imp.sum()) or 1.0
    table = pd.DataFrame(
        {
            "channel": imp.index,
            "importance": imp.to_numpy(),
            "share": imp.to_numpy() / total,
            "direction": np.where(signed.reindex(imp.index).to_numpy() >= 0, "+", "−"),
            "peak_lag": [peak[c] for c in imp.index],
            "driver": [
                None if driver_channels is None else (c.removesuffix(" (future)") in driver_channels)
                for c in imp.index
            ],
        }
    )
    table = table.sort_values("importance", ascending=False, kind="stable").reset_index(drop=True)

    fig, axes = plt.subplots(1, 2, figsize=(13, max(3.0, 0.38 * len(imp) + 1.4)), width_ratios=[1, 2])
    channel_bar(att, ax=axes[0])
    heatmap(att, agg="mean", max_lag=min(att.input_size - 1, 13), ax=axes[1])
    axes[0].set_title(f"what drives {tname}")
    fig.tight_layout()
    return table, out, fig


def explanation_checks(
    model: nn.Module,
    windows: Any,
    drivers: pd.DataFrame,
    nodes: pd.DataFrame | Mapping[str, str],
    target: str,
    *,
    step: int = 1,
    method: str = "integrated_gradients",
    n_windows: int = 200,
    n_randomization: int = 50,
    max_lag: int | None = 13,
    seed: int = 0,
    device: str | torch.device = "auto",
) -> tuple[pd.DataFrame, Any, dict[str, Any]]:
    """The report's explanation section: which checks pass, and the answer key beside the heatmap.

    The one-step-ahead forecast (``step=1`` by default) is explained, where every driver of the
    scenario's key is visible at the origin, on the windows whose node type the key's cells
    apply to (:func:`sclm.explain.checks.key_windows`; retail sales: the stores).

    Parameters
    ----------
    model : nn.Module
        The trained forecaster.
    windows : sclm.windows.Windows
        Scaled windows as the model was trained on (e.g. its test windows); at most
        ``n_windows`` evenly spaced ones of the key's node types are explained.
    drivers, nodes : DataFrame
        ``Scenario.drivers`` (the answer key) and ``Scenario.nodes`` (or node → node_type).
    target : str
        The explained target variable.
    step : int
        Step ahead (default 1).
    method : str
        Attribution method (default IntegratedGradients).
    n_windows, n_randomization : int
        Windows explained, and of them the first ``n_randomization`` for the randomisation check.
    max_lag : int, optional
        Most recent lags shown in the figure (the key's cells are always shown).
    seed : int
    device : str or torch.device

    Returns
    -------
    table : pandas.DataFrame
        One row per check — ``completeness``, ``agreement`` (vs SHAP GradientExplainer),
        ``randomization`` (per-window Spearman without absolute values, Adebayo et al. 2018),
        ``deletion``, ``drivers`` (AUP against the key; AUR beside it in ``note``) — with
        columns ``check``, ``figure``, ``value``, ``goal``, ``passes``, ``note``.
    fig : matplotlib.figure.Figure
        :func:`sclm.explain.plots.key_beside_heatmap` of the explained windows.
    details : dict
        ``target``, ``step``, ``n_windows``, ``driver_cells``, ``top_cells``, ``attribution``,
        ``aup``, ``aur`` and each check's raw result.

    Raises
    ------
    ValueError
        When no window has an observable driver of ``target`` at ``step``.
    """
    from sclm.explain.plots import key_beside_heatmap

    types = _node_types(windows, nodes)
    rows, cells = ck.key_windows(
        drivers,
        target,
        step,
        types,
        channels=windows.channels,
        future_names=windows.known_future,
        input_size=windows.input_size,
        future_horizon=windows.horizon,
    )
    if not len(rows):
        raise ValueError(f"no window has an observable driver of {target!r} at step {step}")
    pick = rows[np.unique(np.linspace(0, len(rows) - 1, min(len(rows), n_windows)).round().astype(int))]
    w = windows.subset(pick)
    kw = {"step": step, "seed": seed, "device": device}
    att = explain(model, w, method, target, **kw)
    pr = ck.precision_recall(att, cells)
    comp = ck.completeness(att) if att.base_values is not None else None
    sg = explain(model, w, "shap_gradient", target, **kw)
    agree = ck.rank_agreement(att, sg)
    small = w.subset(np.arange(min(len(w), n_randomization)))
    rnd = ck.randomization_check(model, small, method, target, **kw)
    dele = ck.deletion_curve(model, att, seed=seed, device=device)
    g = GOALS
    rows_out = [
        (
            "completeness",
            "relative error",
            None if comp is None else comp["relative_error"],
            f"≤ {g['completeness_error']}",
            None if comp is None else comp["relative_error"] <= g["completeness_error"],
            "Σ attributions vs f(x) − f(baseline)",
        ),
        (
            "agreement",
            "Captum IG vs SHAP Spearman",
            agree["spearman"],
            f"≥ {g['captum_shap_spearman']}",
            agree["spearman"] >= g["captum_shap_spearman"],
            f"top-10% overlap {agree['top_overlap']:.2f}",
        ),
        (
            "randomization",
            "max Spearman (per window)",
            rnd["max_spearman"],
            f"< {rnd['threshold']}",
            rnd["passes"],
            "pooled |IG| " + ", ".join(f"{s['pooled']:.2f}" for s in rnd["stages"]),
        ),
        (
            "deletion",
            "area / random",
            dele["ratio"],
            f"≤ {g['deletion_ratio']}",
            bool(dele["ratio"] <= g["deletion_ratio"]),
            f"area {dele['area']:.3f} vs {dele['random_area']:.3f}",
        ),
        (
            "drivers",
            "AUP vs the answer key",
            pr["aup"],
            f"≥ {g['aup']}",
            pr["aup"] >= g["aup"],
            f"AUR {pr['aur']:.2f}; {pr['hits']}/{pr['n_truth']} key cells among the top {pr['n_truth']}",
        ),
    ]
    table = pd.DataFrame(rows_out, columns=["check", "figure", "value", "goal", "passes", "note"])
    verdict = f"AUP {pr['aup']:.2f} (goal ≥ {g['aup']}), AUR {pr['aur']:.2f}"
    fig = key_beside_heatmap(att, cells, max_lag=max_lag, verdict=verdict)
    details = {
        "target": target,
        "step": step,
        "n_windows": len(w),
        "driver_cells": sorted(cells),
        "top_cells": att.top_k(10),
        "attribution": att,
        "aup": pr["aup"],
        "aur": pr["aur"],
        "completeness": comp,
        "agreement": agree,
        "randomization": rnd,
        "deletion": dele,
    }
    return table, fig, details
