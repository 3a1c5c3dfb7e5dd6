"""Checks that tell whether an explanation can be trusted.

* :func:`completeness` — do the attributions add up to ``f(x) - f(baseline)``?
* :func:`rank_agreement` — do two methods (e.g. Captum IntegratedGradients and SHAP's
  GradientExplainer) rank the inputs the same way (Spearman, top-10 % overlap)?
* :func:`randomization_check` — cascading model randomisation (Adebayo et al. 2018, "Sanity
  checks for saliency maps"): re-initialising the weights from the output layer down must
  change the attributions; an explanation that survives it explains the input, not the model.
* :func:`deletion_curve` — delete (set to the baseline) the most important cells first: the
  forecast must move to ``f(baseline)`` much faster than when deleting in random order.
* :func:`driver_cells`, :func:`key_windows`, :func:`precision_recall` — AUP/AUR against a scenario's known drivers
  (Ismail et al., NeurIPS 2020, "Benchmarking Deep Learning Interpretability in Time Series
  Predictions"); :func:`key_fit` — how well the key's cells alone forecast the target (least
  squares), the reference that tells an inaccurate model from a wrong explanation.

All take and return numpy / plain Python values; the model-based checks run on ``device``
(default ``"auto"``: cuda, else mps, else cpu, as :func:`sclm.training.resolve_device`) and
never modify the caller's model.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from scipy.stats import spearmanr
from torch import nn

from sclm.explain._inputs import _UNSET, _baseline, _on_device, _renamed, _windows_data
from sclm.explain.attribution import Attribution
from sclm.explain.methods import explain, scalar_for
from sclm.training import resolve_device

__all__ = [
    "completeness",
    "deletion_curve",
    "driver_cells",
    "key_fit",
    "key_windows",
    "precision_recall",
    "randomization_check",
    "rank_agreement",
    "spearman",
]


# --------------------------------------------------------------------------------------------------
# Completeness
# --------------------------------------------------------------------------------------------------


def completeness(att: Attribution) -> dict[str, float]:
    """How well the attributions add up: ``Σ attributions`` against ``f(x) - f(baseline)``.

    Parameters
    ----------
    att : Attribution
        With ``outputs`` and ``base_values`` (every method except GradientShap; for SHAP's
        GradientExplainer ``base_values`` is the expected output over the background, so the
        check measures SHAP's additivity).

    Returns
    -------
    dict
        ``relative_error`` = ``Σ_i |Σ_j a_ij − (f(x_i) − f(b_i))| / Σ_i |f(x_i) − f(b_i)|``
        (pooled over the N samples, so windows with ``f(x) ≈ f(b)`` cannot blow it up);
        ``median_relative_error`` (per window, over windows with a gap above 1 % of the median
        gap); ``max_abs_gap``.
    """
    if att.outputs is None or att.base_values is None:
        raise ValueError(f"{att.method!r} attributions carry no f(x)/f(baseline): completeness is undefined")
    expected = np.asarray(att.outputs) - np.asarray(att.base_values)
    gap = np.abs(att.total() - expected)
    denom = np.abs(expected)
    pooled = float(gap.sum() / max(denom.sum(), 1e-12))
    ok = denom > 0.01 * max(float(np.median(denom)), 1e-12)
    med = float(np.median(gap[ok] / denom[ok])) if ok.any() else float("nan")
    return {"relative_error": pooled, "median_relative_error": med, "max_abs_gap": float(gap.max())}


# --------------------------------------------------------------------------------------------------
# Agreement
# --------------------------------------------------------------------------------------------------


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation of two equally long vectors (0 when one is constant)."""
    a, b = np.asarray(a, float).ravel(), np.asarray(b, float).ravel()
    if a.shape != b.shape:
        raise ValueError(f"shape mismatch: {a.shape} vs {b.shape}")
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    return float(spearmanr(a, b).statistic)


def _flat_values(att: Attribution) -> np.ndarray:
    if att.kind == "windows":
        return att.flat()[0]
    return att.values


def rank_agreement(a: Attribution, b: Attribution, *, top: float = 0.1) -> dict[str, float]:
    """Do two attributions rank the inputs alike?

    Parameters
    ----------
    a, b : Attribution
        Of the same inputs (same shape).
    top : float
        Fraction of cells in the top set (default the top 10 %).

    Returns
    -------
    dict
        ``spearman``: Spearman correlation of the cell importances (mean |attribution| over
        samples, :meth:`Attribution.cells`); ``top_overlap``: |top(a) ∩ top(b)| / |top| of those
        importances; ``spearman_per_sample`` and ``top_overlap_per_sample``: the same on each
        sample's |attributions|, averaged; ``sign_agreement``: share of cells whose signed mean
        has the same sign, among the top cells of ``a``.
    """
    va, vb = _flat_values(a), _flat_values(b)
    if va.shape != vb.shape:
        raise ValueError(f"attributions of different inputs: {va.shape} vs {vb.shape}")
    if not 0 < top <= 1:
        raise ValueError(f"top must be in (0, 1], got {top}")
    ia, ib = np.abs(va).mean(axis=0), np.abs(vb).mean(axis=0)
    k = max(1, int(round(top * ia.size)))

    def overlap(x: np.ndarray, y: np.ndarray) -> float:
        tx = set(np.argsort(-x, kind="stable")[:k])
        ty = set(np.argsort(-y, kind="stable")[:k])
        return len(tx & ty) / k

    per_s = [spearman(np.abs(va[i]), np.abs(vb[i])) for i in range(len(va))]
    per_o = [overlap(np.abs(va[i]), np.abs(vb[i])) for i in range(len(va))]
    ma, mb = va.mean(axis=0), vb.mean(axis=0)
    top_a = np.argsort(-ia, kind="stable")[:k]
    return {
        "spearman": spearman(ia, ib),
        "top_overlap": overlap(ia, ib),
        "spearman_per_sample": float(np.mean(per_s)),
        "top_overlap_per_sample": float(np.mean(per_o)),
        "sign_agreement": float(np.mean(np.sign(ma[top_a]) == np.sign(mb[top_a]))),
    }


# --------------------------------------------------------------------------------------------------
# Model randomisation
# --------------------------------------------------------------------------------------------------


def _param_modules(model: nn.Module, probe: tuple[torch.Tensor, ...]) -> list[tuple[str, nn.Module]]:
    """Modules that own parameters, in the order a forward pass leaves them (output side first).

    The order is recorded with forward hooks on one probe window; modules that own parameters
    but are not called (e.g. an unused embedding table) come last.
    """
    owners = [(n, m) for n, m in model.named_modules() if any(True for _ in m.parameters(recurse=False))]
    seen: list[str] = []
    hooks = [
        m.register_forward_hook(lambda mod, inp, out, n=n: seen.append(n) if n not in seen else None)
        for n, m in owners
    ]
    try:
        with torch.no_grad():
            model(*probe)
    finally:
        for h in hooks:
            h.remove()
    by_name = dict(owners)
    order = [n for n in reversed(seen)] + [n for n, _ in owners if n not in seen]
    return [(n, by_name[n]) for n in order]


def _reinit(m: nn.Module, gen: torch.Generator) -> None:
    with torch.no_grad():
        for name, p in m.named_parameters(recurse=False):
            if p.ndim >= 2:
                bound = 1.0 / np.sqrt(p.shape[1])
                p.copy_(torch.empty(p.shape).uniform_(-bound, bound, generator=gen).to(p))
            elif "weight" in name:  # norms: random scale around 1
                p.copy_((1 + 0.5 * torch.randn(p.shape, generator=gen)).to(p))
            else:
                p.copy_((0.1 * torch.randn(p.shape, generator=gen)).to(p))


def randomization_check(
    model: nn.Module,
    X: Any,
    method: str = "integrated_gradients",
    target: Any = None,
    *,
    reference: Attribution | None = None,
    n_stages: int = 4,
    threshold: float = 0.5,
    statistic: str = "per_window",
    seed: int = 0,
    device: str | torch.device = "auto",
    **explain_kw: Any,
) -> dict[str, Any]:
    """Cascading model randomisation (Adebayo et al. 2018).

    The modules that own parameters are taken from the output side to the input side (the
    reverse of the order a forward pass calls them; for :class:`sclm.models.Forecaster`: future
    MLP, head, backbone layers from the top, patch embedding) and re-initialised cumulatively
    in ``n_stages`` equal groups; after each stage the same method explains the same windows.

    What is compared (``statistic``), as in Adebayo et al.: each window's saliency map of the
    trained model against the same window's map of the randomised model, Spearman rank
    correlation **per window without absolute values**, averaged over the windows
    (``"per_window"``, default; Adebayo et al. report it beside the absolute-value variant,
    ``"per_window_abs"``, and SSIM/HOG).  ``"pooled"`` (the statistic before 2026-12) correlates
    the cell importances pooled over windows (mean |attribution| per (channel, lag) cell): for
    gradient-times-input methods such as IG each pooled importance is about
    ``E|x - baseline| · E|∂f/∂x|``, and the first factor — how much a channel varies, a property
    of the data — is shared by every model, trained or random, so the pooled ranking stays
    correlated (ρ ≈ 0.5–0.6 on the case studies' models) however the weights change.  The
    check **passes** when the chosen correlation stays below ``threshold`` at every stage: the
    explanation depends on what the model learned.  Every stage records all three.

    Parameters
    ----------
    model, X, method, target, **explain_kw
        As for :func:`sclm.explain.explain` (the same target, ``step`` and options for every
        stage).
    reference : Attribution, optional
        The attributions of the trained model (computed when omitted).
    n_stages : int
        Number of cumulative randomisation stages (capped at the number of modules).
    threshold : float
        Largest Spearman correlation that still counts as "changed".
    statistic : {"per_window", "per_window_abs", "pooled"}
        The correlation the verdict uses (see above).
    seed : int
        Seeds the re-initialisation and the explanations.
    device : str or torch.device
        Where the explanations run (default ``"auto"``).

    Returns
    -------
    dict
        ``passes`` (bool), ``max_spearman`` (of ``statistic``), ``statistic``, ``stages``
        (list of {"modules", "spearman" (of ``statistic``), "per_window", "per_window_abs",
        "pooled"}), ``threshold``.
    """
    stats = ("per_window", "per_window_abs", "pooled")
    if statistic not in stats:
        raise ValueError(f"statistic must be one of {stats}, got {statistic!r}")
    if "horizon" in explain_kw:
        explain_kw = dict(explain_kw)
        explain_kw["step"] = _renamed(
            explain_kw.pop("step", "all"),
            explain_kw.pop("horizon"),
            new_name="step",
            old_name="horizon",
            where="randomization_check",
            default="all",
        )
    if reference is None:
        reference = explain(model, X, method, target, seed=seed, device=device, **explain_kw)
    data = _windows_data(model, X, explain_kw.get("x_future"), None)
    probe = [torch.from_numpy(data.x[:1])]
    cfg = getattr(model, "config", None)
    if data.xf is not None:
        probe.append(torch.from_numpy(data.xf[:1]))
    elif cfg is not None and getattr(cfg, "n_future", None) is not None:
        probe.append(None)
    rnd = copy.deepcopy(model).cpu().eval()
    mods = _param_modules(rnd, tuple(probe))
    if not mods:
        raise ValueError("the model has no parameters to randomise")
    n_stages = max(1, min(n_stages, len(mods)))
    groups = np.array_split(np.arange(len(mods)), n_stages)
    rmods = dict(rnd.named_modules())
    gen = torch.Generator().manual_seed(seed)
    stages = []
    for g in groups:
        names = [mods[i][0] for i in g]
        for nm in names:
            _reinit(rmods[nm], gen)
        att = explain(rnd, X, method, target, seed=seed, device=device, **explain_kw)
        agree = rank_agreement(reference, att)
        va, vb = _flat_values(reference), _flat_values(att)
        row = {
            "modules": names,
            "per_window": float(np.mean([spearman(va[i], vb[i]) for i in range(len(va))])),
            "per_window_abs": agree["spearman_per_sample"],
            "pooled": agree["spearman"],
        }
        row["spearman"] = row[statistic]
        row["spearman_per_sample"] = row["per_window_abs"]
        stages.append(row)
    mx = max(s["spearman"] for s in stages)
    return {
        "passes": bool(mx < threshold),
        "max_spearman": mx,
        "statistic": statistic,
        "stages": stages,
        "threshold": threshold,
    }


# --------------------------------------------------------------------------------------------------
# Deletion curve
# --------------------------------------------------------------------------------------------------


def deletion_curve(
    model: nn.Module,
    att: Attribution,
    *,
    baseline: Any = "mean",
    steps: int = 20,
    n_random: int = 3,
    seed: int = 0,
    device: str | torch.device = "auto",
    batch_size: int = 256,
) -> dict[str, Any]:
    """Delete cells in the order of the attributions and watch the forecast go to the baseline.

    For each window, cells (past and, if attributed, known-future) are sorted by |attribution|
    (most important first) and set to the baseline in ``steps`` equal chunks.  The remaining
    distance to the baseline forecast ``g(k) = |f(x_k) - f(b)| / |f(x) - f(b)|`` starts at 1
    and ends at 0; the **area** is its mean over the grid ``k/steps, k = 0..steps``
    (trapezoid rule), pooled as ``Σ_i w_i·area_i / Σ_i w_i`` with ``w_i = |f(x_i) - f(b_i)|``
    (windows whose forecast barely differs from the baseline's weigh little).  The same with
    ``n_random`` random orders gives the reference (about 0.5 for a model that uses every cell
    alike); an informative ranking has ``ratio = area / random_area`` well below 1.

    Parameters
    ----------
    model : nn.Module
        The explained model (same target as ``att``).
    att : Attribution
        Window attributions with their inputs kept (``keep_inputs=True``).
    baseline : "mean", "zeros" or array
        The deletion value (default: as :func:`explain`'s default, the channel means of the
        explained windows).
    steps : int
        Number of equal deletion chunks (the curve has ``steps + 1`` points).
    n_random : int
        Random orders averaged for the reference curve.
    seed : int
        Seeds the random orders.
    device : str or torch.device
        Where the model runs (default ``"auto"``).
    batch_size : int
        Windows per forward pass.

    Returns
    -------
    dict
        ``area``, ``random_area``, ``ratio``, ``curve`` and ``random_curve`` (length steps+1).
    """
    if att.kind != "windows" or att.inputs is None:
        raise ValueError("deletion_curve needs window attributions with their inputs (keep_inputs=True)")
    dev = resolve_device(device)
    x = np.asarray(att.inputs, np.float32)
    xf = None if att.future_inputs is None else np.asarray(att.future_inputs, np.float32)
    has_future_attr = att.future_values is not None and xf is not None
    xf_fixed = xf if not has_future_attr else None
    n, t, c = x.shape
    bx = np.broadcast_to(_baseline(baseline, x, "baseline"), x.shape)
    parts_x = [x.reshape(n, -1)]
    parts_b = [bx.reshape(n, -1)]
    if has_future_attr:
        bf = np.broadcast_to(
            _baseline("mean" if isinstance(baseline, str) else "zeros", xf, "baseline"), xf.shape
        )
        parts_x.append(xf.reshape(n, -1))
        parts_b.append(bf.reshape(n, -1))
    fx_flat = np.concatenate(parts_x, axis=1)
    fb_flat = np.concatenate(parts_b, axis=1)
    vals, _ = att.flat()
    m = fx_flat.shape[1]
    if vals.shape[1] != m:
        raise ValueError("attribution cells do not match the inputs")

    with _on_device(model, dev) as mm:
        f = scalar_for(mm, att.target)

        def evaluate(flat: np.ndarray, rows: np.ndarray) -> np.ndarray:
            out = []
            for s in range(0, len(flat), batch_size):
                blk = flat[s : s + batch_size]
                r = rows[s : s + batch_size]
                xp = torch.from_numpy(np.ascontiguousarray(blk[:, : t * c].reshape(-1, t, c))).to(dev)
                args = [xp]
                if has_future_attr:
                    args.append(
                        torch.from_numpy(
                            np.ascontiguousarray(blk[:, t * c :].reshape(len(blk), *xf.shape[1:]))
                        ).to(dev)
                    )
                elif xf_fixed is not None:
                    args.append(torch.from_numpy(np.ascontiguousarray(xf_fixed[r])).to(dev))
                with torch.no_grad():
                    out.append(f(*args).float().cpu().numpy())
            return np.concatenate(out).astype(np.float64)

        rows = np.arange(n)
        f_x = evaluate(fx_flat, rows)
        f_b = evaluate(fb_flat, rows)
        gap = f_x - f_b
        ks = np.round(np.linspace(0, m, steps + 1)).astype(int)

        def curve(orders: np.ndarray) -> np.ndarray:
            """orders (n, m) → g (n, steps+1)."""
            g = np.zeros((n, len(ks)))
            for j, k in enumerate(ks):
                cur = fx_flat.copy()
                if k:
                    idx = orders[:, :k]
                    np.put_along_axis(cur, idx, np.take_along_axis(fb_flat, idx, axis=1), axis=1)
                g[:, j] = np.abs(evaluate(cur, rows) - f_b) / np.where(gap == 0, 1.0, np.abs(gap))
            return g

        order = np.argsort(-np.abs(vals), axis=1, kind="stable")
        g_att = curve(order)
        rng = np.random.default_rng(seed)
        g_rnd = np.mean([curve(np.argsort(rng.random((n, m)), axis=1)) for _ in range(n_random)], axis=0)
    w = np.abs(gap)
    w = w / max(w.sum(), 1e-12)

    def area(g: np.ndarray) -> float:
        per = np.trapezoid(g, dx=1.0 / steps, axis=1)
        return float((w * per).sum())

    a_att, a_rnd = area(g_att), area(g_rnd)
    return {
        "area": a_att,
        "random_area": a_rnd,
        "ratio": a_att / a_rnd if abs(a_rnd) > 1e-12 else float("nan"),
        "curve": (w[:, None] * g_att).sum(axis=0).tolist(),
        "random_curve": (w[:, None] * g_rnd).sum(axis=0).tolist(),
        "fractions": (ks / m).tolist(),
    }


# --------------------------------------------------------------------------------------------------
# Known drivers
# --------------------------------------------------------------------------------------------------


def driver_cells(
    drivers: pd.DataFrame,
    target: str,
    step: int | None = None,
    *,
    channels: Sequence[str],
    future_names: Sequence[str] = (),
    input_size: int | None = None,
    future_horizon: int | None = None,
    node_type: str | Iterable[str] | None = None,
    proxies: bool = False,
    roles: Iterable[str] = ("driver", "ancestor", "equivalent"),
    horizon: Any = _UNSET,
) -> set[tuple[str, int]]:
    """The input cells that truly drive ``target`` forecast ``step`` days ahead.

    A driver row ``(target, driver, lag=L)`` of ``Scenario.drivers`` says ``target[t]`` depends
    on ``driver[t - L]``.  For a window with origin ``o`` and the forecast of day ``o + h``,
    that is day ``o + h - L``, i.e. the cell ``(driver, L - h)`` in the lag convention of
    :class:`Attribution` (``lag = origin - day``): a past cell when ``L - h >= 0`` and
    ``driver`` is an input channel (and ``L - h < input_size``), a known-future cell when
    ``L - h < 0`` and ``driver`` is a known-future input (and ``h - L <= future_horizon``).
    Drivers that fall in neither (e.g. a past-only variable on a future day) are not
    observable by the model and are left out.

    Parameters
    ----------
    drivers : DataFrame
        ``Scenario.drivers`` (columns ``target``, ``driver``, ``lag``, ``node_type``).
    target : str
    step : int
        Step ahead h (1 = the day after the origin).
    channels, future_names : sequence of str
        The model's past and known-future input names.
    input_size, future_horizon : int, optional
        T and H (the length of the known-future input), to drop cells outside the window.
    node_type : str or iterable of str, optional
        Keep driver rows for these node types (rows with ``node_type == "all"`` always apply);
        None keeps every row.

    proxies : bool
        Also count *exact copies* of a driver cell that the drivers table itself declares: a
        variable ``v`` whose only driver row is ``v[t] = 1.0·u[t - L']`` (e.g. manufacturing
        ``logistics[t] = orders[t-1]`` when stock suffices) makes the cell ``(v, ℓ)`` carry the
        same information as ``(u, ℓ + L')``; when either is a driver cell, the other is added.
        A model may read either; strict scoring (False, default) counts only the drivers
        themselves.  Since the key declares its copies (role ``equivalent``) this inference
        is only needed for keys without a ``role`` column.
    roles : iterable of str
        Which rows of the key count (column ``role``, see
        :data:`sclm.scenarios.DRIVER_ROLES`; default all: the rule's drivers, the visible
        ancestors of its latent parts and the declared equivalents, so a method crediting a
        driver or its equivalent is right).  Ignored when the key has no ``role`` column.
    horizon : int, optional
        Old name of ``step`` (accepted with a ``FutureWarning``).

    Returns
    -------
    set of (str, int)
        ``(channel, lag)`` cells in the convention of :class:`Attribution`.

    Raises
    ------
    ValueError
        Missing columns, or ``step`` not a whole number >= 1.
    TypeError
        No ``step``, or both ``step`` and ``horizon``.
    """
    step = _renamed(step, horizon, new_name="step", old_name="horizon", where="driver_cells", default=None)
    if step is None:
        raise TypeError("driver_cells() missing the step ahead: pass step=h (1 = the day after the origin)")
    need = {"target", "driver", "lag", "node_type"}
    if not need <= set(drivers.columns):
        raise ValueError(f"drivers must have the columns {sorted(need)}, got {list(drivers.columns)}")
    if not isinstance(step, int | np.integer) or isinstance(step, bool) or step < 1:
        raise ValueError(f"step must be a whole number >= 1, got {step!r}")
    if "role" in drivers.columns:
        drivers = drivers[drivers["role"].isin(set(roles))]
    d = drivers[drivers["target"] == target]
    if node_type is not None:
        types = {node_type} if isinstance(node_type, str) else set(node_type)
        d = d[d["node_type"].isin(types | {"all"})]
    cells: set[tuple[str, int]] = set()
    for row in d.itertuples(index=False):
        lag = int(row.lag) - int(step)
        if lag >= 0 and row.driver in channels and (input_size is None or lag < input_size):
            cells.add((row.driver, lag))
        elif lag < 0 and row.driver in future_names and (future_horizon is None or -lag <= future_horizon):
            cells.add((row.driver, lag))
    if proxies and cells:
        types = None if node_type is None else ({node_type} if isinstance(node_type, str) else set(node_type))
        for v, rows in drivers.groupby("target"):
            if types is not None:
                rows = rows[rows["node_type"].isin(types | {"all"})]
            if len(rows) != 1 or float(rows["effect"].iloc[0]) != 1.0 or v not in channels:
                continue
            u, lag_u = str(rows["driver"].iloc[0]), int(rows["lag"].iloc[0])
            for drv, lag in list(cells):
                # (v, ℓ) copies (u, ℓ + L') — in both directions
                if drv == u and lag - lag_u >= 0 and (input_size is None or lag - lag_u < input_size):
                    cells.add((str(v), lag - lag_u))
                if (
                    drv == v
                    and lag >= 0
                    and u in channels
                    and (input_size is None or lag + lag_u < input_size)
                ):
                    cells.add((u, lag + lag_u))
    return cells


def key_windows(
    drivers: pd.DataFrame,
    target: str,
    step: int,
    node_types: Sequence[str] | np.ndarray,
    *,
    channels: Sequence[str],
    future_names: Sequence[str] = (),
    input_size: int | None = None,
    future_horizon: int | None = None,
    roles: Iterable[str] = ("driver", "ancestor", "equivalent"),
) -> tuple[np.ndarray, set[tuple[str, int]]]:
    """The windows one answer key applies to, and its cells.

    Node types can have different keys for one target (retail: a store's sales follow its
    promotions and prices, a dc's the orders due).  The windows are grouped by the cell set of
    their node type; the largest group with a non-empty set is returned.

    Parameters
    ----------
    drivers : DataFrame
        ``Scenario.drivers``.
    target, step
        As for :func:`driver_cells`.
    node_types : sequence of str
        The node type of each window, length N.
    channels, future_names, input_size, future_horizon, roles
        As for :func:`driver_cells`.

    Returns
    -------
    rows : numpy.ndarray
        Indices of the windows (int, sorted); empty when no type has an observable driver.
    cells : set of (channel, lag)
    """
    node_types = np.asarray(node_types, dtype=object)
    groups: dict[frozenset, list[str]] = {}
    for nt in np.unique(node_types):
        cells = driver_cells(
            drivers,
            target,
            step,
            channels=channels,
            future_names=future_names,
            input_size=input_size,
            future_horizon=future_horizon,
            node_type=str(nt),
            roles=roles,
        )
        if cells:
            groups.setdefault(frozenset(cells), []).append(str(nt))
    if not groups:
        return np.zeros(0, dtype=int), set()
    best = max(groups, key=lambda g: int(np.isin(node_types, groups[g]).sum()))
    return np.flatnonzero(np.isin(node_types, groups[best])), set(best)


def precision_recall(
    att: Attribution, truth: set[tuple[str, int]] | Iterable[tuple[str, int]], *, n_thresholds: int = 100
) -> dict[str, Any]:
    """AUP and AUR of the attributions against the truly informative cells (Ismail et al. 2020).

    Definition.  Let ``s_c`` be the importance of cell ``c`` = (channel, lag), the mean over the
    N windows of |attribution| (:meth:`Attribution.cells`), normalised ``ŝ_c = s_c / max s``.
    For each threshold ``τ`` in ``{0, 1/n, ..., (n-1)/n}`` (``n = n_thresholds``) the cells
    the method calls salient are ``S(τ) = {c : ŝ_c > τ}`` (never empty); with the true driver
    cells ``D``, precision ``P(τ) = |S ∩ D| / |S|`` and recall ``R(τ) = |S ∩ D| / |D|``.
    **AUP** and **AUR** are the areas under ``P(τ)`` and ``R(τ)`` over ``τ ∈ [0, 1)`` (the mean
    over the grid).  A method that gives weight to the drivers only has AUP = 1; AUR = 1 would
    need every driver to be as important as the most important one.

    Parameters
    ----------
    att : Attribution
        Window attributions.
    truth : set of (channel, lag)
        E.g. from :func:`driver_cells`.
    n_thresholds : int

    Returns
    -------
    dict
        ``aup``, ``aur``, ``n_truth``, ``n_cells``, ``top`` (the |D| most important cells),
        ``hits`` (how many of them are drivers).
    """
    truth = set(truth)
    if not truth:
        raise ValueError("no true driver cells to score against (check target, step and node types)")
    imp = att.cells("abs_mean")
    cells = list(imp.index)
    unknown = truth - set(cells)
    if unknown:
        raise ValueError(f"driver cells {sorted(unknown)} are not inputs of the attribution")
    s = imp.to_numpy()
    if s.max() <= 0:
        return {"aup": 0.0, "aur": 0.0, "n_truth": len(truth), "n_cells": len(cells), "top": [], "hits": 0}
    s = s / s.max()
    is_d = np.array([c in truth for c in cells])
    taus = np.arange(n_thresholds) / n_thresholds
    prec, rec = [], []
    for tau in taus:
        sel = s > tau
        tp = int((sel & is_d).sum())
        prec.append(tp / max(int(sel.sum()), 1))
        rec.append(tp / len(truth))
    order = np.argsort(-s, kind="stable")[: len(truth)]
    top = [(str(cells[i][0]), int(cells[i][1])) for i in order]
    return {
        "aup": float(np.mean(prec)),
        "aur": float(np.mean(rec)),
        "n_truth": len(truth),
        "n_cells": len(cells),
        "top": top,
        "hits": int(is_d[order].sum()),
    }


def _cell_matrix(w: Any, cells: Sequence[tuple[str, int]]) -> np.ndarray:
    """(N, len(cells)) values of ``(channel, lag)`` cells of windows ``w`` (lag < 0: known future)."""
    cols = []
    for c, lag in cells:
        if lag >= 0:
            cols.append(np.asarray(w.X[:, w.input_size - 1 - lag, list(w.channels).index(c)], np.float64))
        else:
            cols.append(np.asarray(w.X_future[:, -lag - 1, list(w.known_future).index(c)], np.float64))
    return np.stack(cols, axis=1) if cols else np.zeros((len(w), 0))


def key_fit(
    fit_windows: Any,
    windows: Any,
    target: str,
    cells: Iterable[tuple[str, int]],
    *,
    step: int = 1,
    model: nn.Module | None = None,
    device: str = "auto",
) -> dict[str, Any]:
    """How well the answer key's cells alone forecast ``target`` ``step`` days ahead.

    A least-squares fit (with intercept) of ``Y[:, step-1, target]`` on the key's cells over
    ``fit_windows`` (training windows: nothing from the evaluated period), evaluated on
    ``windows``.  Its error next to the model's tells the two reasons of a low AUP apart: a model
    much worse than the key-only fit has not learnt the rule (an explanation of it cannot find
    the key), a model as good as the key that still credits other cells reads an equivalent
    representation (e.g. an exact identity among the inputs, such as the inventory balance
    ``k[t] = k[t-1] + q[t-1] - d[t-1]`` inside the window).

    Parameters
    ----------
    fit_windows, windows : sclm.windows.Windows
        Windows to fit the least squares on, and to evaluate on (same channels; scaled or not,
        as the model sees them).
    target : str
        One of ``windows.targets``.
    cells : iterable of (channel, lag)
        The key's cells (:func:`driver_cells`; lag < 0 = known-future day ``-lag``).
    step : int
        Step ahead (1 = the day after the origin).
    model : nn.Module, optional
        Forecaster ``(X, X_future) -> (N, H, K)`` point forecast (or a ForecastOutput); its
        error on ``windows`` at ``step`` is returned beside the fit's.
    device : str

    Returns
    -------
    dict
        ``mae_key`` (mean absolute error of the key-only fit on ``windows``), ``mae_last``
        (persistence: the target's last input value, when it is an input channel; else NaN),
        ``mae_model`` (NaN without ``model``), ``coef`` (per cell, in ``cells`` order) and
        ``intercept``.
    """
    cells = [(str(c), int(lag)) for c, lag in cells]
    if not cells:
        raise ValueError("no key cells to fit")
    if not 1 <= step <= windows.horizon:
        raise ValueError(f"step must be in 1..{windows.horizon}, got {step}")
    k = list(windows.targets).index(target)
    a = _cell_matrix(fit_windows, cells)
    a = np.concatenate([a, np.ones((len(a), 1))], axis=1)
    y = np.asarray(fit_windows.Y[:, step - 1, k], np.float64)
    beta = np.linalg.lstsq(a, y, rcond=None)[0]
    b = _cell_matrix(windows, cells)
    yt = np.asarray(windows.Y[:, step - 1, k], np.float64)
    out: dict[str, Any] = {
        "mae_key": float(np.mean(np.abs(b @ beta[:-1] + beta[-1] - yt))),
        "mae_last": float("nan"),
        "mae_model": float("nan"),
        "coef": [float(v) for v in beta[:-1]],
        "intercept": float(beta[-1]),
    }
    if target in windows.channels:
        last = np.asarray(windows.X[:, -1, list(windows.channels).index(target)], np.float64)
        out["mae_last"] = float(np.mean(np.abs(last - yt)))
    if model is not None:
        dev = resolve_device(device)
        xf = windows.X_future
        with _on_device(model, dev) as m, torch.no_grad():
            args = [torch.as_tensor(np.asarray(windows.X, np.float32), device=dev)]
            if xf is not None and xf.shape[-1]:
                args.append(torch.as_tensor(np.asarray(xf, np.float32), device=dev))
            res = m(*args)
        point = res[0] if isinstance(res, tuple) else res
        pred = point.detach().cpu().numpy()[:, step - 1, k].astype(np.float64)
        out["mae_model"] = float(np.mean(np.abs(pred - yt)))
    return out
