"""bench/forecast.py runs end to end at its smallest settings (YAZ, one epoch, a 1-layer MiniLM)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from sclm import config

BASELINE_ROWS = ("Seasonal Naive", "AutoETS", "AutoTheta", "LightGBM")


@pytest.mark.slow
def test_bench_forecast_smoke(tmp_path):
    res = subprocess.run(
        [
            sys.executable,
            "bench/forecast.py",
            "--quick",
            "--datasets",
            "yaz",
            "--m-variants",
            "patch,lm",
            "--lm-layers",
            "1",
            "--lm-stride",
            "7",
            "--no-lm-retrain",
            "--epochs",
            "1",
            "--tag",
            "smoke",
            "--device",
            "cpu",
            "--out-dir",
            str(tmp_path),
        ],
        cwd=config.PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    data = json.loads((tmp_path / "forecast_quick_smoke.json").read_text())
    rel = {m: data[f"yaz: {m}: relMASE"]["value"] for m in BASELINE_ROWS + ("M (patch)", "M (MiniLM)")}
    assert rel["Seasonal Naive"] == 1.0  # the reference: every ratio is 1
    # the same 7 series for every model (YAZ has no zero-scale series)
    assert all(data[f"yaz: {m}: relMASE"]["note"].startswith("7 series, 0 excluded") for m in rel)
    for model in ("LightGBM", "M (patch)", "M (MiniLM)"):  # the median forecast scored too
        assert f"yaz: {model}: relMASE of q0.5" in data
    # the goal is taken over every baseline, AutoTheta included
    goal = data["yaz: M (patch): relMASE / best baseline's"]
    best = min(BASELINE_ROWS, key=rel.get)
    assert goal["goal"] == "<= 1" and goal["note"].endswith(best)
    assert goal["value"] == pytest.approx(rel["M (patch)"] / rel[best], rel=1e-3)
    assert goal["holds"] is (goal["value"] <= 1)
    # YAZ has 4 origins: the patch row is retrained at each, the MiniLM row (--no-lm-retrain) once
    assert res.stdout.count("M (patch): trained") == 4
    assert res.stdout.count("M (MiniLM): trained") == 1
    assert res.stdout.count("M (MiniLM): reused") == 3
    assert data["yaz: M (patch): relMASE"]["goal"] == "< 0.72"


def _bench_module():
    import importlib.util

    root = config.PROJECT_ROOT / "bench"
    sys.path.insert(0, str(root))  # forecast.py imports its sibling forecast_baselines
    try:
        spec = importlib.util.spec_from_file_location("bench_forecast", root / "forecast.py")
        mod = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = mod  # dataclasses look their module up
        spec.loader.exec_module(mod)
    finally:
        sys.path.remove(str(root))
    return mod


def test_static_features_see_only_days_up_to_the_first_origin():
    import numpy as np
    import pandas as pd

    bench = _bench_module()
    days = pd.date_range("2024-01-01", periods=40, freq="D")
    idx = pd.MultiIndex.from_product([["a", "b"], days], names=["node", "ts"])
    y = np.tile(np.r_[np.zeros(10), np.arange(1.0, 31.0)], 2)
    y[40:] *= 2  # node b: twice node a
    panel = pd.DataFrame({"target": y, "open": True}, index=idx)
    panel.loc[("a", days[5]), "open"] = False  # a closed day is not counted
    origins = [days[19], days[29]]

    def setup(p):
        return bench.Setup(
            name="toy", panel=p.copy(), targets=["target"], covariates=[], known_future=[], scaled=["target"],
            horizon=5, origins=origins, retrain=True, input_size=7, open_col="open",
        )  # fmt: skip

    s = setup(panel)
    bench.add_static(s)
    assert s.known_future == ["zero_share", "log_mean"]
    zero = s.panel["zero_share"].groupby(level="node").first()
    assert zero["a"] == pytest.approx(9 / 19) and zero["b"] == pytest.approx(10 / 20)
    assert s.panel["log_mean"].groupby(level="node").first()["b"] == pytest.approx(np.log1p(2 * 55 / 20))
    later = panel.copy()
    later.loc[later.index.get_level_values("ts") > origins[0], "target"] = 999.0  # only the test days
    t = setup(later)
    bench.add_static(t)
    pd.testing.assert_frame_equal(s.panel[["zero_share", "log_mean"]], t.panel[["zero_share", "log_mean"]])


def _toy_results(offsets: dict[str, float], median_exact: tuple[str, ...] = ()):
    """Two daily series (b = 2·a), origin day 13, forecast days 14 and 15; history of 21 days.

    a = weeks 0..6, 1..7, 2..8: every |y[t] - y[t-7]| is 1, so a's scale at day 13 is 1 (b's 2).
    Seasonal naive forecasts y[t-7] = y[t] - 1: MASE 1 on both.  A model forecasting y + c·s
    (s = 1 on a, 2 on b) has MASE c on a and on b, so its relMASE is c.
    """
    import numpy as np
    import pandas as pd

    days = pd.date_range("2024-01-01", periods=21, freq="D")
    a = np.r_[np.arange(7), np.arange(1, 8), np.arange(2, 9)].astype(float)
    history = pd.concat(
        [pd.DataFrame({"unique_id": u, "ds": days, "y": k * a}) for u, k in (("a", 1.0), ("b", 2.0))],
        ignore_index=True,
    )
    test = history[history["ds"].isin(days[14:16])].assign(origin=days[13])
    k = test["unique_id"].map({"a": 1.0, "b": 2.0}).to_numpy()
    results = {}
    for label, c in offsets.items():
        mean = test["y"].to_numpy() + c * k
        r = test.assign(mean=mean)
        for q in ("q0.1", "q0.2", "q0.3", "q0.4", "q0.5", "q0.6", "q0.7", "q0.8", "q0.9"):
            r[q] = mean
        if label in median_exact:
            r["q0.5"] = test["y"].to_numpy()
        results[label] = r
    return results, history


def test_forecast_bench_goal_is_taken_over_every_baseline():
    from sclm.benchmarking import Bench

    bench_mod = _bench_module()
    offsets = {"Seasonal Naive": -1.0, "AutoETS": 0.5, "AutoTheta": 2.0, "LightGBM": 0.25, "M (patch)": 0.5}
    results, history = _toy_results(offsets, median_exact=("M (patch)",))
    secs = {k: [0.0, None] for k in offsets}
    bench = Bench("toy")
    table = bench_mod.score("toy", results, history, secs, bench)
    f = bench.figures
    for label, c in offsets.items():  # relMASE = |c| by construction
        assert f[f"toy: {label}: relMASE"]["value"] == pytest.approx(abs(c), abs=1e-4)
    assert table.loc["M (patch) q0.5", "relMASE"] == pytest.approx(1e-3)  # exact median: the floor
    assert f["toy: M (patch): relMASE of q0.5"]["value"] == pytest.approx(1e-3)
    assert f["toy: M (patch): relMASE"]["note"] == "2 series, 0 excluded, 0 clipped"
    # best baseline: LightGBM 0.25; M's 0.5 is twice it, so the goal fails
    goal = f["toy: M (patch): relMASE / best baseline's"]
    assert goal["value"] == pytest.approx(2.0) and goal["goal"] == "<= 1" and goal["holds"] is False
    assert "LightGBM" in goal["note"]
    # without AutoTheta (and LightGBM) the goal is marked not evaluated, never passed
    sub = {k: v for k, v in results.items() if k in ("Seasonal Naive", "AutoETS", "M (patch)")}
    bench2 = Bench("toy2")
    bench_mod.score("toy", sub, history, secs, bench2)
    goal2 = bench2.figures["toy: M (patch): relMASE / best baseline's"]
    assert goal2["value"] is None and goal2["holds"] is None
    assert goal2["note"] == "not evaluated: needs every baseline; not run: AutoTheta, LightGBM"
    assert bench_mod.BASELINES["AutoTheta"] == "auto_theta"


def test_forecast_baselines_goals_are_measured_in_the_same_run():
    import importlib

    from sclm.benchmarking import Bench

    root = config.PROJECT_ROOT / "bench"
    sys.path.insert(0, str(root))
    try:
        fb = importlib.import_module("forecast_baselines")
    finally:
        sys.path.remove(str(root))
    offsets = {
        "seasonal_naive": -1.0,
        "auto_ets": 0.5,
        "auto_theta": 1.5,
        "lightgbm (no promotions)": 0.8,
        "lightgbm (promotions)": 0.4,
    }
    results, history = _toy_results(offsets)
    bench = Bench("toy")
    fb.score_task("pasta", results, history, dict.fromkeys(offsets, 0.0), 1, bench)
    f = bench.figures
    assert f["pasta: auto_ets relative MASE"]["value"] == pytest.approx(0.5)
    assert f["pasta: auto_ets relative MASE"]["goal"] == "< 1"
    assert f["pasta: auto_ets relative MASE"]["holds"] is True
    assert f["pasta: auto_theta relative MASE"]["holds"] is False  # worse than seasonal naive
    assert f["pasta: lightgbm (promotions), median relative MASE"]["goal"] is None
    promo = f["pasta: lightgbm relative MASE, promotions / no promotions"]
    assert promo["value"] == pytest.approx(0.5) and promo["holds"] is True
    assert not any("+ 0.05" in str(v["goal"]) for v in f.values())
    # one LightGBM row only: the promotions goal is not evaluated
    one = {k: v for k, v in results.items() if k != "lightgbm (no promotions)"}
    bench2 = Bench("toy2")
    fb.score_task("pasta", one, history, dict.fromkeys(offsets, 0.0), 1, bench2)
    promo2 = bench2.figures["pasta: lightgbm relative MASE, promotions / no promotions"]
    assert promo2["value"] is None and promo2["holds"] is None
