"""bench/forecast.py runs end to end at its smallest settings (YAZ, one epoch, a 1-layer MiniLM)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from sclm import config


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
    for model in ("Seasonal Naive", "AutoETS", "LightGBM", "M (patch)", "M (MiniLM)"):
        assert data[f"yaz: {model}: relMASE"]["value"] > 0
    for model in ("LightGBM", "M (patch)", "M (MiniLM)"):  # the median forecast scored too
        assert data[f"yaz: {model}: relMASE of q0.5"]["value"] > 0
    # YAZ has 4 origins: the patch row is retrained at each, the MiniLM row (--no-lm-retrain) once
    assert res.stdout.count("M (patch): trained") == 4
    assert res.stdout.count("M (MiniLM): trained") == 1
    assert res.stdout.count("M (MiniLM): reused") == 3
    assert data["yaz: M (patch): relMASE"]["goal"] == "< 0.72"
    assert 0 <= data["yaz: M (patch): cov80"]["value"] <= 1


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
