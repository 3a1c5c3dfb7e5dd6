"""sclm.plots: the fan chart draws what it is given and refuses what it cannot draw."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from sclm import plots


def _data():
    days = pd.date_range("2024-01-01", periods=40, freq="D")
    idx = pd.MultiIndex.from_product([["a", "b"], days], names=["node", "ts"])
    panel = pd.DataFrame({"q": np.arange(80.0), "k": np.ones(80)}, index=idx)
    fdays = pd.date_range("2024-02-10", periods=5, freq="D")
    rows = []
    for var in ("q", "k"):
        for d in fdays:
            rows.append({"node": "a", "variable": var, "ts": d} | {f"q0.{i}": float(i) for i in range(1, 10)})
    return panel, pd.DataFrame(rows)


def test_fan_chart_draws_bands_median_and_actuals():
    panel, fc = _data()
    actual = panel.copy()
    actual.index = actual.index.set_levels(actual.index.levels[1] + pd.Timedelta(days=10), level="ts")
    fig = plots.plot_fan(panel, fc, node="a", variables=["q", "k"], actual=actual, history_days=14)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["history (model input)", "80 % interval", "40 % interval", "median forecast", "actual"]
    median = next(line for line in ax.get_lines() if line.get_label() == "median forecast")
    assert np.allclose(median.get_ydata(), 5.0)  # q0.5
    history = next(line for line in ax.get_lines() if line.get_label() == "history (model input)")
    assert len(history.get_xdata()) == 14  # the 14 days before the first forecast day
    assert len(fig.axes) == 2


def test_fan_chart_errors():
    panel, fc = _data()
    with pytest.raises(KeyError, match="no forecast rows for node 'zz'"):
        plots.plot_fan(panel, fc, node="zz", variables=["q"])
    with pytest.raises(KeyError, match="no forecast rows for variable 'd'"):
        plots.plot_fan(panel, fc, node="a", variables=["d"])
    with pytest.raises(KeyError, match=r"quantile column\(s\) \['q0.3'\]"):
        plots.plot_fan(panel, fc.drop(columns="q0.3"), node="a", variables=["q"])
