"""One's own data set on YAZ's protocol: ``forecast_baselines.csv_task`` and ``bench/forecast.py --csv``."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from sclm import config

sys.path.insert(0, str(config.PROJECT_ROOT / "bench"))
from forecast_baselines import csv_task


def _shop(n_days: int = 420, n_series: int = 3, seed: int = 0) -> pd.DataFrame:
    """Daily sales of a few series with a weekly profile, promotions, temperature, a closed day."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2022-01-01", periods=n_days)
    parts = []
    for k in range(n_series):
        promo = (rng.random(n_days) < 0.1).astype(float)
        temp = 15 + 10 * np.sin(np.arange(n_days) * 2 * np.pi / 365) + rng.normal(0, 2, n_days)
        y = 20 + 5 * k + 6 * np.sin(np.arange(n_days) * 2 * np.pi / 7) + 12 * promo + rng.normal(0, 3, n_days)
        is_open = days.dayofyear != 359
        parts.append(
            pd.DataFrame(
                {
                    "unique_id": f"s{k}",
                    "ds": days.strftime("%Y-%m-%d"),
                    "y": np.where(is_open, np.maximum(y, 0).round(), 0.0),
                    "promo": promo,
                    "temp": temp.round(1),
                    "open": is_open.astype(int),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def test_csv_task_reads_a_long_file_and_keeps_every_covariate(tmp_path):
    df = _shop()
    path = tmp_path / "shop.csv"
    df.sample(frac=1.0, random_state=0).to_csv(path, index=False)  # row order must not matter
    task = csv_task(path)
    assert (task.name, task.horizon, task.n_origins) == ("shop", 7, 4)
    assert list(task.data.columns) == ["unique_id", "ds", "y", "promo", "temp", "open"]
    assert task.models["lightgbm (covariates)"]["use_exog"] == ["promo", "temp"]
    got = task.data.set_index(["unique_id", "ds"]).sort_index()
    assert got["open"].dtype == bool and (~got["open"]).sum() == 3  # one closed day per series
    want = df.assign(ds=pd.to_datetime(df["ds"])).set_index(["unique_id", "ds"]).sort_index()
    np.testing.assert_array_equal(got["y"].to_numpy(), want["y"].to_numpy())
    no_open = tmp_path / "no_open.csv"
    df.drop(columns="open").to_csv(no_open, index=False)
    assert csv_task(no_open).data["open"].all()  # no flag: every day is scored


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.drop(columns="y"), "missing column"),
        (lambda d: d.drop(index=[10]), "no row for the day"),
        (lambda d: pd.concat([d, d.iloc[[5]]]), "two rows"),
        (lambda d: d.assign(temp=d["temp"].astype(object).where(d.index != 7, "warm")), "non-numeric"),
        (lambda d: d.assign(y=d["y"].where(d.index != 3)), "missing or non-numeric"),
        (lambda d: d[~((d["unique_id"] == "s1") & (d["ds"] > "2023-02-01"))], "same day"),
        (lambda d: d.assign(open=d["open"].astype(object).where(d.index != 2, "maybe")), "open"),
        (lambda d: d.assign(ds=d["ds"] + " 12:00"), "whole days"),
        (lambda d: d[d["ds"] < "2022-02-15"], "needs at least"),
    ],
)
def test_csv_task_names_what_is_wrong_with_a_file(tmp_path, edit, message):
    path = tmp_path / "bad.csv"
    edit(_shop()).to_csv(path, index=False)
    with pytest.raises(ValueError, match=message):
        csv_task(path)


def test_csv_task_refuses_a_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        csv_task(tmp_path / "none.csv")


def test_bench_forecast_runs_a_csv_file_on_yaz_protocol_with_every_baseline(tmp_path):
    path = tmp_path / "shop.csv"
    _shop().to_csv(path, index=False)
    res = subprocess.run(
        [
            sys.executable, "bench/forecast.py", "--quick", "--csv", str(path),
            "--m-variants", "q-events-long-b,q-events-ya-b,m,m-mix", "--epochs", "1", "--device", "cpu",
            "--tag", "csv", "--out-dir", str(tmp_path), "--save-forecasts",
        ],
        cwd=config.PROJECT_ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-2000:]
    data = json.loads((tmp_path / "forecast_quick_csv.json").read_text())
    rows = [
        "Seasonal Naive",
        "AutoETS",
        "AutoTheta",
        "LightGBM",
        "Fracast (zero-shot)",
        "M",
        "M (row ensemble)",
    ]
    rel = {r: data[f"csv-shop: {r}: relMASE"]["value"] for r in rows}
    assert rel["Seasonal Naive"] == 1.0 and all(0 < v < 5 for v in rel.values())
    assert all(data[f"csv-shop: {r}: relMASE"]["note"].startswith("3 series, 0 excluded") for r in rows)
    best = min(rows[1:4], key=rel.get)
    goal = data["csv-shop: M (row ensemble): relMASE / best baseline's"]  # the M of the goals
    assert goal["goal"] == "<= 1" and goal["value"] == pytest.approx(
        rel["M (row ensemble)"] / rel[best], rel=1e-3
    )
    assert data["csv-shop: M: relMASE / best baseline's"]["value"] == pytest.approx(
        rel["M"] / rel[best], rel=1e-3
    )
    # four weekly origins over the last 28 days
    saved = pd.read_csv(tmp_path / "forecast_quick_csv_csv-shop_forecasts.csv", parse_dates=["ds", "origin"])
    assert sorted(saved["origin"].unique()) == list(pd.date_range("2023-01-27", periods=4, freq="7D"))
    assert saved["ds"].max() == pd.Timestamp("2023-02-24")
    picks = [v["note"] for k, v in data.items() if "validation MASE of the row chosen" in k]
    assert len(picks) == 4 and all("events + year-ago" in p for p in picks)  # both rows are candidates
