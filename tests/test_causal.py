"""sclm.pipeline.CausalPanels: a forecast at an origin depends on no raw reading after it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sclm import make_scenario
from sclm.pipeline import CausalPanels, backtest, scenario_task, train_forecaster, training_windows

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY = {"epochs": 1, "patience": 1, "d_model": 16, "n_heads": 2, "n_layers": 1, "batch_size": 256}
H, T = 7, 14
SLASHED = "plant/01"  # a node name with the character the old "node/variable" ids split on


@pytest.fixture(scope="module")
def manufacturing():
    """A small scenario without known-future columns; one node renamed to contain a '/'."""
    sc = make_scenario("manufacturing", seed=0, n_days=70, n_documents=0)
    first = sc.truth.index.get_level_values("node")[0]
    readings = sc.readings.assign(node=sc.readings["node"].replace({first: SLASHED}))
    truth = sc.truth.rename(index={first: SLASHED}, level="node")
    units = sc.units.assign(node=sc.units["node"].replace({first: SLASHED}))
    last = readings["ts"].max()
    return units, sc, readings, truth, last - pd.Timedelta(days=2 * H), last - pd.Timedelta(days=H)


def _after(readings, day, factor=10.0, *, skip=()):
    """Every reading after ``day`` (but those of ``skip``) times ``factor``, and a huge outlier the day after."""
    r = readings.copy()
    later = (r["ts"] > day) & ~r["variable"].isin(skip)
    r.loc[later, "value"] *= factor
    next_day = np.flatnonzero((r["ts"] == day + pd.Timedelta(days=1)).to_numpy() & later.to_numpy())
    r.loc[r.index[next_day[0]], "value"] = 1e9
    return r


def test_panel_at_an_origin_ignores_later_readings(manufacturing):
    units, sc, readings, _, train_end, origin = manufacturing
    panels = CausalPanels(readings, units=units, train_end=train_end)
    changed = CausalPanels(_after(readings, origin), units=units, train_end=train_end)
    for day in (train_end, origin):
        a, b = panels.panel_at(day), changed.panel_at(day)
        pd.testing.assert_frame_equal(a, b, check_exact=True)
        assert a.index.get_level_values("ts").max() == day
    assert SLASHED in panels.panel_at(origin).index.get_level_values("node")
    # the whole-period panel does see the change (as the old, non-causal path did)
    assert not panels.full.equals(changed.full)
    # a change before the origin reaches the panel at the origin, not the one at train_end
    before = readings.copy()
    week = (before["ts"] > train_end) & (before["ts"] <= origin)
    before.loc[week, "value"] *= 3.0
    early = CausalPanels(before, units=units, train_end=train_end)
    pd.testing.assert_frame_equal(early.panel_at(train_end), panels.panel_at(train_end), check_exact=True)
    assert not early.panel_at(origin).equals(panels.panel_at(origin))
    with pytest.raises(ValueError, match="before train_end"):
        panels.panel_at(train_end - pd.Timedelta(days=1))


def test_backtest_forecasts_ignore_readings_after_the_origin(manufacturing):
    units, sc, readings, truth, train_end, origin = manufacturing
    models = ("seasonal_naive", "lightgbm")

    def run(raw):
        panels = CausalPanels(raw, units=units, train_end=train_end)
        task = scenario_task(sc, panels, horizon=H, input_size=T)
        scaler, w = training_windows(task, train_end=train_end)
        table, fc = backtest(task, n_origins=2, truth=truth, baselines=models, device="cpu", **TINY)
        return w, fc

    w0, fc0 = run(readings)
    w1, fc1 = run(_after(readings, train_end))  # every reading after the first origin changed
    # the training inputs of M are identical, bitwise
    for name in ("X", "X_future", "Y"):
        assert np.array_equal(getattr(w0, name), getattr(w1, name)), name
    # and so is every forecast issued at the first origin, M's and every baseline's
    at = fc0["origin"] == train_end
    assert set(fc0.loc[at, "model"]) == {"M", "Seasonal Naive", "LightGBM"}
    cols = ["model", "node", "variable", "ts", "mean", "q0.1", "q0.9", "scale"]
    pd.testing.assert_frame_equal(
        fc0.loc[at, cols].reset_index(drop=True),
        fc1.loc[fc1["origin"] == train_end, cols].reset_index(drop=True),
        check_exact=True,
    )
    # the later origin sees the changed week: the test can fail
    late0, late1 = fc0[fc0["origin"] == origin], fc1[fc1["origin"] == origin]
    for model in ("M", "Seasonal Naive", "LightGBM"):
        a = late0.loc[late0["model"] == model, "mean"].to_numpy()
        b = late1.loc[late1["model"] == model, "mean"].to_numpy()
        assert not np.array_equal(a, b), model
    # node and variable are columns: the node with a '/' in its name keeps it
    assert SLASHED in set(fc0["node"]) and set(fc0["variable"]) == set(scenario_task(sc).targets)


def test_known_future_plans_are_the_only_later_values_read():
    sc = make_scenario("retail", seed=0, n_days=60, n_documents=0)
    last = sc.readings["ts"].max()
    train_end = last - pd.Timedelta(days=H)
    kf = ["price", "promotion"]
    panels = CausalPanels(sc.readings, units=sc.units, train_end=train_end)
    changed = CausalPanels(_after(sc.readings, train_end, skip=kf), units=sc.units, train_end=train_end)
    a = panels.panel_at(train_end, horizon=H, known_future=kf)
    b = changed.panel_at(train_end, horizon=H, known_future=kf)
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    future = a[a.index.get_level_values("ts") > train_end]
    assert len(future) == H * sc.nodes["node"].nunique()
    pd.testing.assert_frame_equal(future[kf], panels.full[kf].reindex(future.index), check_exact=True)
    # the other columns after the origin are the origin's values (placeholders, never inputs)
    at_origin = a.xs(train_end, level="ts")["inventory"]
    assert (future["inventory"].groupby(level="node").nunique() == 1).all()
    assert future["inventory"].groupby(level="node").first().equals(at_origin)


def test_a_trained_forecaster_from_other_panels_is_refused(manufacturing):
    units, sc, readings, truth, train_end, _ = manufacturing
    plain = scenario_task(sc, horizon=H, input_size=T)
    panels = CausalPanels(readings, units=units, train_end=train_end)
    trained = train_forecaster(plain, train_end=train_end, device="cpu", **TINY)
    with pytest.raises(ValueError, match="other panels"):
        backtest(
            scenario_task(sc, panels, horizon=H, input_size=T), n_origins=2, truth=truth, trained=trained
        )
