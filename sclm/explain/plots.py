"""Figures of an :class:`~sclm.explain.Attribution` (matplotlib; HTML for tokens).

* :func:`heatmap` — lag × channel map of the (signed or absolute) mean attribution;
* :func:`channel_bar` — importance per input channel;
* :func:`key_beside_heatmap` — the scenario's answer key (the driver cells) beside the
  attribution heatmap, on the same lag × channel grid;
* :func:`overlay` — each input series of one window, its points coloured by their attribution;
* :func:`token_html` — the tokens of a text highlighted by their attribution (red pushes the
  label's logit up, blue down).

Every function returns what it drew (a :class:`matplotlib.figure.Figure` or an HTML string)
and never calls ``plt.show()``.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import numpy as np

from sclm.explain.attribution import Attribution

__all__ = ["channel_bar", "heatmap", "key_beside_heatmap", "overlay", "token_html"]


def _fig_ax(ax: Any, figsize: tuple[float, float]):
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
        return fig, ax
    return ax.figure, ax


def _title(att: Attribution) -> str:
    t = att.target
    if att.kind == "text":
        return f"{att.method}: label {t.get('label')} at {t.get('unit')} {t.get('position')}"
    steps = t.get("step", t.get("horizon", []))
    hs = f"h={steps[0]}" if len(steps) == 1 else f"h={steps[0]}..{steps[-1]} ({t.get('reduce')})"
    return f"{att.method}: {t.get('target')} {hs}"


def heatmap(
    att: Attribution,
    *,
    agg: str = "mean",
    max_lag: int | None = None,
    ax: Any = None,
    cmap: str | None = None,
):
    """Time × channel heatmap of the attributions aggregated over windows.

    Parameters
    ----------
    att : Attribution
        Window attributions.
    agg : {"mean", "abs_mean", "sum", "abs_sum"}
        ``mean`` (default) shows the direction (diverging colours, centred on 0); ``abs_mean``
        the importance.
    max_lag : int, optional
        Show lags ``0..max_lag`` only (the most recent days), plus any known-future steps.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
        x axis: days relative to the origin (``-lag``; 0 = origin, positive = known-future
        steps); y axis: channels.
    """
    att._need_windows("heatmap")
    table = att.per_lag(agg)  # rows lag, columns channel
    if max_lag is not None:
        table = table.loc[table.index <= max_lag]
    table = table.sort_index(ascending=False)  # oldest day left, future right
    data = table.to_numpy().T
    fig, ax = _fig_ax(ax, (9, 0.45 * data.shape[0] + 1.6))
    signed = not agg.startswith("abs")
    vmax = float(np.nanmax(np.abs(data))) if np.isfinite(data).any() else 1.0
    vmax = vmax or 1.0
    im = ax.imshow(
        np.ma.masked_invalid(data),
        aspect="auto",
        cmap=cmap or ("RdBu_r" if signed else "viridis"),
        vmin=-vmax if signed else 0,
        vmax=vmax,
        interpolation="nearest",
    )
    days = -table.index.to_numpy()
    step = max(1, len(days) // 14)
    ax.set_xticks(np.arange(len(days))[::step])
    ax.set_xticklabels([f"{d:+d}" if d else "0" for d in days[::step]])
    ax.set_yticks(np.arange(data.shape[0]))
    ax.set_yticklabels(list(table.columns))
    ax.set_xlabel("day relative to the forecast origin (0 = last observed day; > 0 = known future)")
    ax.set_title(_title(att))
    fig.colorbar(im, ax=ax, label=f"attribution ({agg})", fraction=0.04)
    fig.tight_layout()
    return fig


def key_beside_heatmap(
    att: Attribution,
    cells: Any,
    *,
    agg: str = "abs_mean",
    max_lag: int | None = 13,
    verdict: str | None = None,
    figsize: tuple[float, float] | None = None,
):
    """The answer key beside the attribution heatmap: what the right explanation was, and this one.

    Parameters
    ----------
    att : Attribution
        Window attributions of one target and step (e.g. the one-step-ahead forecast).
    cells : iterable of (channel, lag)
        The key's cells (:func:`sclm.explain.checks.driver_cells`, every role: the rule's
        drivers, visible ancestors and declared equivalents).
    agg : str
        Aggregation of the right panel (default ``abs_mean``: the importance AUP scores).
    max_lag : int, optional
        Show lags ``0..max_lag`` (the most recent days) and every known-future step; the
        key's cells are always inside (the range widens to the oldest one).
    verdict : str, optional
        A line under the title (e.g. ``"AUP 0.86 ≥ 0.8: passes"``).
    figsize : (float, float), optional

    Returns
    -------
    matplotlib.figure.Figure
        Left: the key (1 = a key cell, on the heatmap's grid; the same channels, the same
        days relative to the origin); right: the attribution heatmap, the key's cells outlined.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    att._need_windows("key_beside_heatmap")
    cells = {(str(c), int(lag)) for c, lag in cells}
    table = att.per_lag(agg)  # rows lag, columns channel
    if max_lag is not None:
        deepest = max([lag for _, lag in cells] + [max_lag])
        table = table.loc[table.index <= deepest]
    table = table.sort_index(ascending=False)
    lags = table.index.to_numpy()
    chans = list(table.columns)
    col_of = {c: j for j, c in enumerate(chans)}
    row_of = {int(lag): i for i, lag in enumerate(lags)}
    key = np.where(np.isnan(table.to_numpy().T), np.nan, 0.0)
    for c, lag in cells:
        if c in col_of and lag in row_of:
            key[col_of[c], row_of[lag]] = 1.0
    data = table.to_numpy().T
    h = 0.45 * len(chans) + 1.8
    fig, axes = plt.subplots(1, 2, figsize=figsize or (14, h), width_ratios=[1, 1.25])
    days = -lags
    step = max(1, len(days) // 10)
    for ax in axes:
        ax.set_xticks(np.arange(len(days))[::step])
        ax.set_xticklabels([f"{d:+d}" if d else "0" for d in days[::step]])
        ax.set_yticks(np.arange(len(chans)))
        ax.set_yticklabels(chans)
        ax.set_xlabel("day relative to the origin (0 = last observed; > 0 = known future)")
    axes[0].imshow(np.ma.masked_invalid(key), aspect="auto", cmap="Greys", vmin=0, vmax=1.25)
    axes[0].set_title(f"answer key: {len(cells)} cell(s) determine the forecast")
    signed = not agg.startswith("abs")
    vmax = float(np.nanmax(np.abs(data))) if np.isfinite(data).any() else 1.0
    im = axes[1].imshow(
        np.ma.masked_invalid(data),
        aspect="auto",
        cmap="RdBu_r" if signed else "viridis",
        vmin=-(vmax or 1.0) if signed else 0,
        vmax=vmax or 1.0,
        interpolation="nearest",
    )
    for j, i in zip(*np.nonzero(key == 1.0), strict=True):
        axes[1].add_patch(Rectangle((i - 0.5, j - 0.5), 1, 1, fill=False, edgecolor="red", lw=2))
    axes[1].set_title(_title(att) + (f"\n{verdict}" if verdict else ""))
    fig.colorbar(im, ax=axes[1], label=f"attribution ({agg}); red = key cell", fraction=0.04)
    fig.tight_layout()
    return fig


def channel_bar(att: Attribution, *, agg: str = "abs_mean", top: int | None = None, ax: Any = None):
    """Horizontal bars: importance per input channel (lags summed), largest on top.

    Bars are coloured by the sign of the channel's signed mean attribution (red: raises the
    forecast on average, blue: lowers it).

    Returns
    -------
    matplotlib.figure.Figure
    """
    imp = att.per_channel(agg).sort_values()
    sign = att.per_channel("mean").reindex(imp.index)
    if top is not None:
        imp, sign = imp.iloc[-top:], sign.iloc[-top:]
    fig, ax = _fig_ax(ax, (6, 0.35 * len(imp) + 1.2))
    colors = ["#c0392b" if s >= 0 else "#2e6da4" for s in sign.to_numpy()]
    ax.barh(np.arange(len(imp)), imp.to_numpy(), color=colors)
    ax.set_yticks(np.arange(len(imp)))
    ax.set_yticklabels(list(imp.index))
    ax.set_xlabel(f"importance ({agg} over windows, summed over lags)")
    ax.set_title(_title(att))
    fig.tight_layout()
    return fig


def overlay(
    att: Attribution,
    *,
    sample: int = 0,
    channels: Sequence[str] | None = None,
    cmap: str = "RdBu_r",
):
    """The input series of one window with each day coloured by its attribution.

    One panel per channel (default: all past channels): the line is the (scaled) input,
    the dots are coloured by the attribution of that day, on a common symmetric scale.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    att._need_windows("overlay")
    if att.inputs is None:
        raise ValueError("overlay needs the explained inputs (explain(..., keep_inputs=True))")
    if not 0 <= sample < len(att):
        raise ValueError(f"sample {sample} out of range 0..{len(att) - 1}")
    names = list(att.feature_names)
    chans = names if channels is None else list(channels)
    bad = [c for c in chans if c not in names]
    if bad:
        raise ValueError(f"unknown channel(s) {bad}; available: {names}")
    x = np.asarray(att.inputs)[sample]
    a = att.values[sample]
    t = x.shape[0]
    days = np.arange(-(t - 1), 1)
    vmax = float(np.abs(a[:, [names.index(c) for c in chans]]).max()) or 1.0
    fig, axes = plt.subplots(len(chans), 1, figsize=(8, 1.3 * len(chans) + 0.8), sharex=True, squeeze=False)
    sc = None
    for ax, c in zip(axes[:, 0], chans, strict=True):
        j = names.index(c)
        ax.plot(days, x[:, j], color="0.6", lw=1)
        sc = ax.scatter(days, x[:, j], c=a[:, j], cmap=cmap, vmin=-vmax, vmax=vmax, s=18, zorder=3)
        ax.set_ylabel(c, rotation=0, ha="right", va="center")
    axes[-1, 0].set_xlabel("day relative to the forecast origin")
    axes[0, 0].set_title(_title(att) + f" — window {sample}")
    fig.colorbar(sc, ax=axes[:, 0].tolist(), label="attribution", fraction=0.03)
    return fig


def token_html(att: Attribution, *, sample: int | None = None, skip_special: bool = True) -> str:
    """Texts with each token highlighted by its attribution (HTML).

    Parameters
    ----------
    att : Attribution
        Text attributions.
    sample : int, optional
        One text (default: all, one paragraph each).
    skip_special : bool
        Leave out ``[CLS]``, ``[SEP]`` and ``[PAD]``.

    Returns
    -------
    str
        HTML: ``<span>`` per token, background red (pushes the label up) or blue (down) with
        opacity ∝ |attribution| / max; the value is in the ``title`` (hover).  Display it with
        ``IPython.display.HTML``.
    """
    if att.kind != "text" or att.tokens is None:
        raise ValueError("token_html needs text attributions (a tagger explained with a text method)")
    rows = range(len(att)) if sample is None else [sample]
    parts = [f"<div class='sclm-tokens'><p><b>{html.escape(_title(att))}</b></p>"]
    for i in rows:
        toks = att.tokens[i]
        vals = att.values[i, : len(toks)]
        vmax = float(np.abs(vals).max()) or 1.0
        spans = []
        for tok, v in zip(toks, vals, strict=True):
            if skip_special and tok in ("[CLS]", "[SEP]", "[PAD]"):
                continue
            rgb = "192,57,43" if v >= 0 else "46,109,164"
            alpha = min(1.0, abs(float(v)) / vmax)
            text = html.escape(tok[2:] if tok.startswith("##") else tok)
            sep = "" if tok.startswith("##") else " "
            spans.append(
                f"{sep}<span title='{float(v):+.4f}' style='background: rgba({rgb},{alpha:.2f}); "
                f"padding: 1px 2px; border-radius: 3px'>{text}</span>"
            )
        parts.append(f"<p>{''.join(spans).strip()}</p>")
    parts.append("</div>")
    return "\n".join(parts)
