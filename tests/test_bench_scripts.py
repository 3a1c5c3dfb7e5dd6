"""Benchmark scripts run end to end at tiny sizes (the full runs belong to `make bench`)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from sclm import config


@pytest.mark.slow
def test_gpu_check_runs_its_cpu_leg(tmp_path):
    res = subprocess.run(
        [
            sys.executable,
            "bench/gpu_check.py",
            "--steps",
            "3",
            "--nodes",
            "2",
            "--batch-size",
            "32",
            "--out-dir",
            str(tmp_path),
        ],
        cwd=config.PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    data = json.loads((tmp_path / "gpu_check.json").read_text())
    assert data["cpu samples/s"]["value"] > 0
    assert data["cpu final train loss"]["value"] > 0
    assert "cpu samples/s" in res.stdout


@pytest.mark.slow
def test_cleaning_fusion_bench_quick(tmp_path):
    res = subprocess.run(
        [sys.executable, "bench/cleaning_fusion.py", "--quick", "--out-dir", str(tmp_path)],
        cwd=config.PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    data = json.loads((tmp_path / "cleaning_fusion.json").read_text())
    assert data["all: median |p_hat - p|"]["holds"] is True
    assert data["all: outlier recall"]["value"] >= 0.9
