"""bench/forecast.py runs end to end at its smallest settings (YAZ, patch M, one epoch)."""

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
            "patch",
            "--epochs",
            "1",
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
    data = json.loads((tmp_path / "forecast_quick.json").read_text())
    for model in ("Seasonal Naive", "AutoETS", "LightGBM", "M (patch)"):
        assert data[f"yaz: {model}: relMASE"]["value"] > 0
    assert data["yaz: M (patch): relMASE"]["goal"] == "< 0.72"
    assert 0 <= data["yaz: M (patch): cov80"]["value"] <= 1
