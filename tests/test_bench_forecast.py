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
