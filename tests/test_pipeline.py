"""sclm.pipeline: the scenario → task → M → forecast → backtest path shared by notebooks and benches."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from sclm import make_scenario
from sclm.pipeline import (
    ForecastTask,
    backtest,
    scenario_task,
    score_forecasts,
    train_forecaster,
    training_windows,
)
from sclm.schema import UnknownNameError

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY = {"epochs": 2, "patience": 1, "d_model": 16, "n_heads": 2, "n_layers": 1, "batch_size": 128}


@pytest.fixture(scope="module")
def retail():
    return make_scenario("retail", seed=0, n_days=150)


def test_scenario_task_roles(retail):
    task = scenario_task(retail, horizon=7, input_size=28)
    assert task.targets == ("shipments", "inventory", "sales", "demand")
    assert "web_traffic" in task.covariates  # the distractor is fed as an input
    assert set(task.known_future) == {"promotion", "price"}
    assert "promotion" not in task.scaled and "price" in task.scaled  # binary flags stay 0/1
    no_d = scenario_task(retail, distractors=False)
    assert "web_traffic" not in no_d.covariates
    with pytest.raises(ValueError, match=r"panel has no column\(s\) \['nope'\]"):
        ForecastTask(panel=task.panel, targets=("nope",))
    with pytest.raises(ValueError, match="horizon must be a positive integer"):
        ForecastTask(panel=task.panel, targets=("sales",), horizon=0)
    with pytest.raises(ValueError, match=r"scaled column\(s\) \['price'\] are not among"):
        ForecastTask(panel=task.panel, targets=("sales",), scaled=("sales", "price"))


def test_train_forecaster_sees_nothing_after_train_end(retail):
    task = scenario_task(retail, horizon=7, input_size=28)
    end = task.last_day - pd.Timedelta(days=30)
    a = train_forecaster(task, train_end=end, **TINY)
    later = task.panel.index.get_level_values("ts") > end
    changed = task.panel.copy()
    changed.loc[later, "sales"] = 1e6  # a wild future: must not reach the scaler or the weights
    b = train_forecaster(ForecastTask(**{**task.__dict__, "panel": changed}), train_end=end, **TINY)
    for (name, pa), pb in zip(a.model.state_dict().items(), b.model.state_dict().values(), strict=True):
        assert torch.equal(pa, pb), name
    fc = a.forecast()
    assert len(fc) == retail.truth.index.get_level_values("node").nunique() * len(task.targets) * 7
    assert fc["ts"].min() == end + pd.Timedelta(days=1)
    q = fc[[c for c in fc.columns if c.startswith("q0.")]].to_numpy()
    assert (np.diff(q, axis=1) >= 0).all() and (q >= 0).all() and (fc["mean"] >= 0).all()


def test_backtest_scores_m_and_baselines_on_the_same_cells(retail):
    task = scenario_task(retail, horizon=7, input_size=28)
    table, fc = backtest(
        task, n_origins=2, truth=retail.truth, baselines=("seasonal_naive", "auto_ets"), **TINY
    )
    assert list(table.index) == ["M", "Seasonal Naive", "AutoETS"]
    assert table.loc["Seasonal Naive", "relMASE"] == pytest.approx(1.0)
    counts = fc.groupby("model").size()
    assert counts.nunique() == 1  # every model scored on every (origin, node, variable, day)
    assert fc["origin"].nunique() == 2 and fc["ts"].max() == task.last_day
    # actual values are the truth's
    t = retail.truth["sales"].rename("truth").reset_index()
    m = fc[fc["variable"] == "sales"].merge(t, on=["node", "ts"])
    assert np.allclose(m["y"], m["truth"])
    assert ((table["cov80"] >= 0) & (table["cov80"] <= 1)).all()
    with pytest.raises(UnknownNameError, match="unknown baseline"):
        backtest(task, baselines=("seasonal_naive", "prophet"))
    with pytest.raises(ValueError, match="needs 'seasonal_naive'"):
        backtest(task, baselines=("auto_ets",))


def test_score_forecasts_by_hand():
    rows = []
    for model, err in (("Seasonal Naive", 2.0), ("X", 1.0)):
        for node, scale in (("a", 1.0), ("b", 4.0)):
            for day in range(2):
                rows.append(
                    {
                        "model": model,
                        "origin": 0,
                        "node": node,
                        "variable": "v",
                        "ts": day,
                        "y": 10.0,
                        "mean": 10.0 + (err if node == "a" else 4 * err),
                        "scale": scale,
                    }
                    | {f"q0.{i}": 10.0 - 1 + 0.25 * i for i in range(1, 10)}
                )
    table = score_forecasts(pd.DataFrame(rows))
    assert table.loc["X", "relMASE"] == pytest.approx(0.5)  # half the naive error on both series
    assert table.loc["X", "MASE"] == pytest.approx(1.0)  # a: 1/1, b: 4/4
    assert table.loc["Seasonal Naive", "MAE"] == pytest.approx(5.0)  # (2 + 8) / 2
    assert table.loc["X", "cov80"] == 1.0
    with pytest.raises(ValueError, match="reference model 'Z'"):
        score_forecasts(pd.DataFrame(rows), reference="Z")


def test_score_forecasts_can_score_the_median():
    rows = []
    for model, err in (("Seasonal Naive", 2.0), ("X", 1.0)):
        for day in range(2):
            q = {f"q0.{i}": 10.0 + (i - 5) for i in range(1, 10)}  # q0.5 = y exactly
            rows.append({"model": model, "origin": 0, "node": "a", "variable": "v", "ts": day, "y": 10.0,
                         "mean": 10.0 + err, "scale": 1.0} | q)  # fmt: skip
    df = pd.DataFrame(rows)
    assert score_forecasts(df).loc["X", "relMASE"] == pytest.approx(0.5)
    med = score_forecasts(df, point="q0.5")
    assert med.loc["X", "MAE"] == 0.0 and med.loc["X", "relMASE"] == pytest.approx(1e-3)  # the floor
    assert med.loc["Seasonal Naive", "MAE"] == pytest.approx(2.0)  # the reference keeps its own point
    with pytest.raises(ValueError, match="point must be"):
        score_forecasts(df, point="q0.9")


def test_validation_forecasts_are_m_forecasts_of_its_held_out_windows(retail):
    from sclm.pipeline import validation_forecasts

    task = scenario_task(retail, horizon=7, input_size=28)
    end = task.last_day - pd.Timedelta(days=30)
    a = train_forecaster(task, train_end=end, **TINY)
    val = validation_forecasts([a], device="cpu")
    assert list(val.columns[:6]) == ["node", "variable", "origin", "ts", "y", "mean"]
    assert val["ts"].max() <= end  # causal: every forecast day is a training day
    assert ((val["ts"] - val["origin"]).dt.days.between(1, 7)).all()
    # the actuals in original units, and each row the model's own forecast at that origin
    truth = task.panel.stack().rename("v").rename_axis(["node", "ts", "variable"]).reset_index()
    got = val.merge(truth, on=["node", "ts", "variable"], how="left")
    np.testing.assert_allclose(got["y"], got["v"], rtol=1e-5, atol=1e-4)
    o = val["origin"].max()
    fc = a.forecast(o, device="cpu").sort_values(["node", "variable", "ts"]).reset_index(drop=True)
    sub = val[val["origin"] == o].sort_values(["node", "variable", "ts"]).reset_index(drop=True)
    np.testing.assert_allclose(
        sub[["mean", "q0.1", "q0.5", "q0.9"]], fc[["mean", "q0.1", "q0.5", "q0.9"]], rtol=1e-5
    )
    # two members: every cell the median (here the mean) of theirs
    b = train_forecaster(task, train_end=end, seed=1, **TINY)
    both = validation_forecasts([a, b], device="cpu")
    vb = validation_forecasts([b], device="cpu")
    np.testing.assert_allclose(both["q0.5"], (val["q0.5"] + vb["q0.5"]) / 2, rtol=1e-5, atol=1e-6)
    other = train_forecaster(task, train_end=end - pd.Timedelta(days=7), **TINY)
    with pytest.raises(ValueError, match="share their task and training end"):
        validation_forecasts([a, other])


def test_refit_trains_a_fresh_model_on_every_window_for_the_early_stopped_epochs(retail):
    from sclm.pipeline import validation_forecasts

    task = scenario_task(retail, horizon=7, input_size=28)
    end = task.last_day - pd.Timedelta(days=30)
    plain = train_forecaster(task, train_end=end, **TINY)
    refit = train_forecaster(task, train_end=end, refit=True, **TINY)
    assert (
        plain.holdout_model is None and plain.validation_model is plain.model and plain.refit_result is None
    )
    # the early-stopped model is the plain one (same seed) and gives every validation figure
    assert refit.fit_result.best_epoch == plain.fit_result.best_epoch
    pd.testing.assert_frame_equal(
        validation_forecasts([refit], device="cpu"), validation_forecasts([plain], device="cpu")
    )
    # the refit: E epochs on all windows (the held-out ones too), no validation, another model
    rr = refit.refit_result
    assert rr.epochs_run == refit.fit_result.best_epoch and rr.val_loss == [] and rr.best_val_loss is None
    n_all = len(refit.windows(end=end).X)
    n_train = len(plain.windows(end=end).X) - len(plain.validation_windows().X)
    assert rr.steps == rr.epochs_run * int(np.ceil(n_all / TINY.get("batch_size", 64)))
    assert n_all > n_train
    a = plain.forecast(end, device="cpu")
    b = refit.forecast(end, device="cpu")
    assert refit.model is not refit.holdout_model
    assert np.abs(a["q0.5"].to_numpy() - b["q0.5"].to_numpy()).max() > 1e-6


def test_a_column_both_past_and_known_in_advance_reaches_each_input_once_and_in_place():
    """A covariate that is also known in advance (the events base's flags and shares) is one
    panel column: every window channel holds the column it is named after (two such columns
    once read as one twice, and shifted every known-future column after them)."""
    days = pd.date_range("2024-01-01", periods=60, freq="D")
    idx = pd.MultiIndex.from_product([["a", "b"], days], names=["node", "ts"])
    rng = np.random.default_rng(0)
    panel = pd.DataFrame(
        {
            "y": rng.uniform(5, 10, 120),
            "promo": rng.uniform(0, 1, 120).round(1),
            "closed": (rng.random(120) < 0.2).astype(float),
            "temp": rng.normal(20, 3, 120),
        },
        index=idx,
    )
    task = ForecastTask(
        panel=panel, targets=("y",), covariates=("promo", "closed"),
        known_future=("promo", "closed", "temp"), horizon=7, input_size=14, scaled=("y", "temp"),
    )  # fmt: skip
    assert task.columns == ["y", "promo", "closed", "temp"]
    _, w = training_windows(task, train_end=days[50])
    assert w.channels == ("y", "promo", "closed") and w.known_future[:3] == ("promo", "closed", "temp")
    assert w.X.shape[2] == 3 and w.X_future.shape[2] == 3 + 4  # + the four calendar columns, always added
    a = panel.xs("a", level="node")
    i = int(np.flatnonzero(w.meta["node"].to_numpy() == "a")[0])
    o = pd.Timestamp(w.meta["origin"].iloc[i])
    past = a.loc[o - pd.Timedelta(days=13) : o]
    future = a.loc[o + pd.Timedelta(days=1) : o + pd.Timedelta(days=7)]
    np.testing.assert_allclose(w.X[i, :, 1], past["promo"], rtol=1e-6)
    np.testing.assert_allclose(w.X[i, :, 2], past["closed"], rtol=1e-6)
    np.testing.assert_allclose(w.X_future[i, :, 0], future["promo"], rtol=1e-6)
    np.testing.assert_allclose(w.X_future[i, :, 1], future["closed"], rtol=1e-6)
    scale = a.loc[: days[50], "temp"].abs().mean()
    np.testing.assert_allclose(w.X_future[i, :, 2], future["temp"] / scale, rtol=1e-5)
