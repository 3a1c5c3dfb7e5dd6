"""Figures shared by the walkthrough and case-study notebooks (matplotlib, PNG-friendly).

Every function takes the project's data contracts (Readings, Panel, faults table) and
returns the matplotlib ``Figure``, so notebooks can show it and ``Report.figure`` can save it.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

SOURCE_STYLE: dict[str, dict[str, object]] = {
    "iot": {"color": "#d95f02", "marker": "."},
    "erp": {"color": "#1b9e77", "marker": "x"},
    "wms": {"color": "#7570b3", "marker": "+"},
    "carrier": {"color": "#e7298a", "marker": "1"},
    "pos": {"color": "#66a61e", "marker": "."},
    "sensor": {"color": "#a6761d", "marker": "."},
    "document": {"color": "#666666", "marker": "d"},
    "mes": {"color": "#e6ab02", "marker": "x"},
    "rfid": {"color": "#1f78b4", "marker": "+"},
    "tms": {"color": "#b2df8a", "marker": "1"},
    "web": {"color": "#999999", "marker": "."},
}


def _style(source: str) -> dict[str, object]:
    return SOURCE_STYLE.get(source, {"color": "#444444", "marker": "."})


def plot_panel(
    panel: pd.DataFrame,
    variables: Sequence[str],
    *,
    nodes: Sequence[str] | None = None,
    title: str | None = None,
    width: float = 11.0,
) -> Figure:
    """One row of axes per variable, one line per node.

    Parameters
    ----------
    panel
        Wide Panel, index (``node``, ``ts``).
    variables
        Columns to draw, each on its own axes (shared time axis).
    nodes
        Nodes to draw (default: all).
    """
    missing = [v for v in variables if v not in panel.columns]
    if missing:
        raise KeyError(f"panel has no column(s) {missing}; it has {list(panel.columns)}")
    nodes = list(nodes) if nodes is not None else list(panel.index.get_level_values("node").unique())
    fig, axes = plt.subplots(
        len(variables), 1, figsize=(width, 2.1 * len(variables)), sharex=True, squeeze=False
    )
    for ax, var in zip(axes[:, 0], variables, strict=True):
        for node in nodes:
            s = panel.loc[node, var]
            ax.plot(s.index, s.to_numpy(), lw=0.8, label=str(node))
        ax.set_ylabel(var)
        ax.grid(alpha=0.3)
    axes[0, 0].legend(ncol=min(len(nodes), 6), fontsize=8, loc="upper left")
    if title:
        axes[0, 0].set_title(title)
    fig.tight_layout()
    return fig


def plot_sources_vs_truth(
    readings: pd.DataFrame,
    truth: pd.DataFrame,
    *,
    node: str,
    variable: str,
    faults: pd.DataFrame | None = None,
    days: int | None = 120,
    title: str | None = None,
) -> Figure:
    """Raw readings of every source for one (node, variable) against the ground truth.

    Outlier faults are circled and missing days marked on the time axis.  Values are drawn
    in each source's own unit, so a source reporting in cases visibly sits below the truth.
    """
    sel = readings[(readings["node"] == node) & (readings["variable"] == variable)]
    if sel.empty:
        raise KeyError(f"no readings for node {node!r} and variable {variable!r}")
    true = truth.loc[node, variable]
    if days is not None:
        start = true.index.min()
        end = start + pd.Timedelta(days=days - 1)
        true = true.loc[:end]
        sel = sel[sel["ts"] <= end]
    fig, ax = plt.subplots(figsize=(11, 3.4))
    ax.plot(true.index, true.to_numpy(), color="black", lw=1.6, label="truth", zorder=3)
    for (source, unit), grp in sel.groupby(["source", "unit"], sort=True):
        st = _style(str(source))
        ax.scatter(
            grp["ts"], grp["value"], s=12, color=st["color"], marker=st["marker"], label=f"{source} [{unit}]"
        )
    if faults is not None and len(faults):
        f = faults[(faults["node"] == node) & (faults["variable"] == variable) & faults["ts"].notna()]
        f = f[f["ts"] <= true.index.max()]
        out = f[f["kind"] == "outlier"]
        if len(out):
            ax.scatter(
                out["ts"],
                out["observed_value"],
                s=90,
                facecolors="none",
                edgecolors="red",
                lw=1.2,
                label="outlier (key)",
            )
        miss = f[f["kind"] == "missing"]
        if len(miss):
            ax.plot(miss["ts"], np.zeros(len(miss)), "|", color="red", ms=10, label="missing (key)")
    ax.set_ylabel(variable)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncol=6, loc="upper center", bbox_to_anchor=(0.5, -0.12), frameon=False)
    ax.set_title(title or f"{variable} at {node}: raw sources vs truth")
    fig.tight_layout()
    return fig


def fault_counts(faults: pd.DataFrame) -> pd.DataFrame:
    """Faults per kind and source (a table for reports)."""
    if faults.empty:
        return pd.DataFrame()
    return faults.pivot_table(index="kind", columns="source", values="node", aggfunc="count", fill_value=0)


def source_counts(readings: pd.DataFrame) -> pd.DataFrame:
    """Readings per (source, variable, unit): what each raw source reports."""
    return (
        readings.groupby(["source", "variable", "unit"], sort=True)
        .agg(readings=("value", "size"), nodes=("node", "nunique"), first=("ts", "min"), last=("ts", "max"))
        .reset_index()
    )


def tagged_markdown(tokens: Sequence[str], tags: Sequence[str]) -> str:
    """Markdown for a BIO-tagged sentence: each entity span in bold with its type as a subscript.

    >>> tagged_markdown(["Ship", "40", "units", "to", "Cork"], ["O", "B-QTY", "O", "O", "B-LOC"])
    'Ship **40**<sub>QTY</sub> units to **Cork**<sub>LOC</sub>'
    """
    if len(tokens) != len(tags):
        raise ValueError(f"{len(tokens)} tokens but {len(tags)} tags")
    out: list[str] = []
    span: list[str] = []
    kind = ""

    def close() -> None:
        if span:
            out.append(f"**{' '.join(span)}**<sub>{kind}</sub>")
            span.clear()

    for tok, tag in zip(tokens, tags, strict=True):
        if tag.startswith("B-") or (tag.startswith("I-") and tag[2:] != kind):
            close()
            kind = tag[2:]
            span.append(tok)
        elif tag.startswith("I-"):
            span.append(tok)
        else:
            close()
            kind = ""
            out.append(tok)
    close()
    return " ".join(out)


def plot_cleaning(
    truth: pd.DataFrame,
    raw: pd.DataFrame,
    cleaned: pd.DataFrame,
    *,
    node: str,
    variable: str,
    source: str,
    fused: pd.DataFrame | None = None,
    days: int | None = 120,
    title: str | None = None,
) -> Figure:
    """One source of one (node, variable) before and after cleaning, with the fused value, against the truth.

    Parameters
    ----------
    truth
        Truth Panel (index node, ts).
    raw, cleaned
        Raw and cleaned Readings.
    node, variable, source
        What to draw.
    fused
        Optional fused Panel to overlay.
    days
        Show the first ``days`` days only.
    """

    def series(readings: pd.DataFrame) -> pd.Series:
        sel = readings[
            (readings["node"] == node) & (readings["variable"] == variable) & (readings["source"] == source)
        ]
        return sel.groupby("ts")["value"].first().sort_index()

    true = truth.loc[node, variable]
    if days is not None:
        true = true.iloc[:days]
    end = true.index.max()
    before, after = series(raw).loc[:end], series(cleaned).loc[:end]
    units = raw.loc[(raw["source"] == source) & (raw["variable"] == variable), "unit"].unique()
    fig, ax = plt.subplots(figsize=(11, 3.4))
    # the truth is drawn wide and light underneath: cleaned values should sit inside it
    ax.plot(true.index, true.to_numpy(), color="#bbbbbb", lw=4, label="truth", zorder=1)
    raw_label = f"raw {source} [{', '.join(units)}]"
    ax.plot(before.index, before.to_numpy(), ".", color="#d95f02", ms=5, label=raw_label, zorder=2)
    ax.plot(after.index, after.to_numpy(), "-", color="#1b9e77", lw=1.0, label=f"cleaned {source}", zorder=3)
    if fused is not None:
        f = fused.loc[node, variable].loc[:end]
        ax.plot(f.index, f.to_numpy(), "--", color="#7570b3", lw=1.0, label="fused (all sources)", zorder=4)
    top = float(np.nanmax(true.to_numpy())) * 1.5
    ax.set_ylim(0 if float(np.nanmin(true.to_numpy())) >= 0 else None, top)
    ax.set_ylabel(variable)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.12), frameon=False)
    ax.set_title(title or f"{variable} at {node}: {source} before and after cleaning")
    fig.tight_layout()
    return fig


def plot_fan(
    history: pd.DataFrame,
    forecasts: pd.DataFrame,
    *,
    node: str,
    variables: Sequence[str],
    actual: pd.DataFrame | None = None,
    history_days: int = 56,
    title: str | None = None,
    width: float = 11.0,
) -> Figure:
    """Fan chart per variable: history, the median forecast, 80 % and 40 % bands, and the actuals.

    Parameters
    ----------
    history
        Wide Panel, index (``node``, ``ts``): the series the model saw (e.g. the fused panel).
    forecasts
        Long frame ``node, variable, ts, q0.1 ... q0.9`` (``mean`` optional) of **one** origin.
    node
        The node to draw.
    variables
        One axes per variable (top to bottom).
    actual
        Wide Panel of the values that happened (e.g. the truth); drawn over the horizon.
    history_days
        Days of history before the first forecast day.
    """
    fc = forecasts[forecasts["node"] == node]
    if fc.empty:
        raise KeyError(f"no forecast rows for node {node!r}")
    need = ["q0.1", "q0.3", "q0.5", "q0.7", "q0.9"]
    missing = [c for c in need if c not in fc.columns]
    if missing:
        raise KeyError(f"forecasts lack the quantile column(s) {missing}")
    start = fc["ts"].min()
    fig, axes = plt.subplots(
        len(variables), 1, figsize=(width, 2.3 * len(variables)), sharex=True, squeeze=False
    )
    hist = history.xs(node, level="node")
    hist = hist[(hist.index < start) & (hist.index >= start - pd.Timedelta(days=history_days))]
    for ax, var in zip(axes[:, 0], variables, strict=True):
        f = fc[fc["variable"] == var].sort_values("ts")
        if f.empty:
            raise KeyError(f"no forecast rows for variable {var!r} at node {node!r}")
        ax.plot(hist.index, hist[var], color="#333333", lw=1.1, label="history (model input)")
        ax.fill_between(
            f["ts"], f["q0.1"], f["q0.9"], color="#2c7fb8", alpha=0.18, lw=0, label="80 % interval"
        )
        ax.fill_between(
            f["ts"], f["q0.3"], f["q0.7"], color="#2c7fb8", alpha=0.35, lw=0, label="40 % interval"
        )
        ax.plot(f["ts"], f["q0.5"], color="#08519c", lw=1.6, label="median forecast")
        if actual is not None:
            a = actual.xs(node, level="node")[var]
            a = a[(a.index >= start) & (a.index <= f["ts"].max())]
            ax.plot(a.index, a.to_numpy(), "o", ms=3.5, color="#d95f02", label="actual")
        ax.axvline(start - pd.Timedelta(hours=12), color="#999999", lw=0.8, ls="--")
        ax.set_ylabel(var)
        ax.grid(alpha=0.3)
    axes[0, 0].legend(loc="upper left", fontsize=8, ncol=5, framealpha=0.9)
    axes[0, 0].set_title(title or f"{node}: forecast from {(start - pd.Timedelta(days=1)).date()}")
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig
