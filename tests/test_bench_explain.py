"""bench/explain.py runs end to end at a tiny size (the full run belongs to `make bench`)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from sclm import config


@pytest.mark.slow
def test_explain_bench_quick(tmp_path):
    res = subprocess.run(
        [
            sys.executable,
            "bench/explain.py",
            "--quick",
            "--scenarios",
            "manufacturing",
            "--epochs",
            "2",
            "--threads",
            "1",  # pytest -n 2 runs two workers on 2 cores: more threads oversubscribe them
            "--out-dir",
            str(tmp_path),
        ],
        cwd=config.PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    data = json.loads((tmp_path / "explain_quick.json").read_text())
    assert "manufacturing: IG AUP (mean over targets)" in res.stdout
    for fig in (
        "IG AUP (mean over targets)",
        "IG completeness error",
        "Captum IG vs SHAP gradient Spearman",
        "randomisation check passes",
        "deletion area / random",
    ):
        entry = data[f"manufacturing: {fig}"]
        assert entry["goal"] and entry["holds"] in (True, False)
    assert 0 <= data["manufacturing: IG AUP (mean over targets)"]["value"] <= 1
    assert data["manufacturing: IG completeness error"]["holds"] is True
