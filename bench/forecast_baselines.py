"""Benchmark: forecasting baselines on the pasta and YAZ data sets, rolling origin.

Protocol
- pasta (``retail_pasta_hierarchical_sales``): the panel reindexed to a full daily calendar
  (``to_daily(fill_value=0.0)``), closed-store days as 0 with the known ``closed`` flag; horizon 28,
  three rolling origins 28 days apart over the last 84 days; errors on open days only.  LightGBM
  runs twice: exogenous ``closed`` only ("without promotions") and ``closed`` + ``promotion``
  (known-future promotions).
- YAZ (``demand_ddop_yaz_restaurant``): horizon 7, four rolling origins 7 days apart over the last
  28 days; LightGBM with the weather columns (wind, clouds, rain, sunshine, temperature) plus the
  ``is_holiday`` and ``is_closed`` calendar flags as known-future exogenous columns.

Figures, per data set and model:
- relative MASE: geometric mean over series of (model MASE / seasonal-naive MASE), where a series'
  MASE is the mean over origins of MAE(horizon) / scale, scale = in-sample seasonal-naive MAE (m=7)
  of that origin's training part (series with a zero scale or zero seasonal-naive error are left out);
- WQL: mean over the quantiles 0.1..0.9 of 2 * sum(pinball loss) / sum(|y|), pooled over series,
  origins and horizon steps;
- 80 % coverage: share of actuals inside [q0.1, q0.9];
- train+predict seconds (all origins).
The reference numbers (measured earlier with the same protocol) are the goals, with a tolerance.

Prints the table and writes build/bench/forecast_baselines.json.  Run:
.venv/bin/python bench/forecast_baselines.py [--quick]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sclm import load_dataset
from sclm.baselines import DEFAULT_QUANTILES, forecast, quantile_column
from sclm.benchmarking import Bench

M = 7
REFERENCE = {  # relative MASE measured earlier with this protocol
    ("pasta", "auto_ets"): 0.821,
    ("pasta", "auto_theta"): 0.837,
    ("pasta", "lightgbm (no promotions)"): 0.794,
    ("pasta", "lightgbm (promotions)"): 0.694,
    ("yaz", "auto_ets"): 0.750,
    ("yaz", "auto_theta"): 0.725,
    ("yaz", "lightgbm (weather)"): 0.768,
}
TOLERANCE = 0.05  # goal: relative MASE <= reference + TOLERANCE
YAZ_EXOG = ["wind", "clouds", "rain", "sunshine", "temperature", "is_holiday", "is_closed"]


@dataclass
class Task:
    name: str
    data: pd.DataFrame  # long: unique_id, ds, y, exogenous..., (open)
    horizon: int
    n_origins: int
    models: dict[str, dict] = field(default_factory=dict)  # label -> forecast kwargs


def pasta_task(n_series: int | None) -> Task:
    ds = load_dataset("retail_pasta_hierarchical_sales")
    daily = ds.to_daily(fill_value=0.0).reset_index()
    df = daily.rename(columns={"node": "unique_id", "ts": "ds", "sales": "y"})
    if n_series:
        keep = df["unique_id"].drop_duplicates().iloc[:n_series]
        df = df[df["unique_id"].isin(keep)]
    df["open"] = df["closed"] == 0.0
    models = {
        "seasonal_naive": {"name": "seasonal_naive"},
        "auto_ets": {"name": "auto_ets"},
        "auto_theta": {"name": "auto_theta"},
        "lightgbm (no promotions)": {"name": "lightgbm", "use_exog": ["closed"]},
        "lightgbm (promotions)": {"name": "lightgbm", "use_exog": ["closed", "promotion"]},
    }
    return Task("pasta", df[["unique_id", "ds", "y", "closed", "promotion", "open"]], 28, 3, models)


def yaz_task(n_series: int | None) -> Task:
    ds = load_dataset("demand_ddop_yaz_restaurant")
    df = ds.panel.reset_index().rename(columns={"node": "unique_id", "ts": "ds", "demand": "y"})
    cov = ds.covariates[YAZ_EXOG].astype("float64").reset_index()
    cov = cov.rename(columns={"ts": "ds"})
    df = df.merge(cov, on="ds", how="left")
    if n_series:
        keep = df["unique_id"].drop_duplicates().iloc[:n_series]
        df = df[df["unique_id"].isin(keep)]
    df["open"] = True
    models = {
        "seasonal_naive": {"name": "seasonal_naive"},
        "auto_ets": {"name": "auto_ets"},
        "auto_theta": {"name": "auto_theta"},
        "lightgbm (weather)": {"name": "lightgbm", "use_exog": YAZ_EXOG},
    }
    return Task("yaz", df[["unique_id", "ds", "y", *YAZ_EXOG, "open"]], 7, 4, models)


def snaive_scale(train: pd.DataFrame) -> pd.Series:
    """In-sample seasonal-naive MAE (m=7) of each series' training part."""

    def mae(y: pd.Series) -> float:
        v = y.to_numpy(dtype="float64")
        return float(np.mean(np.abs(v[M:] - v[:-M])))

    return train.groupby("unique_id")["y"].apply(mae)


def run_task(task: Task, bench: Bench) -> None:
    df = task.data
    end = df["ds"].max()
    origins = [end - pd.Timedelta(days=task.horizon * k) for k in range(task.n_origins, 0, -1)]
    qcols = [quantile_column(q) for q in DEFAULT_QUANTILES]
    exog_all = [c for c in df.columns if c not in ("unique_id", "ds", "y", "open")]
    results: dict[str, list[pd.DataFrame]] = {label: [] for label in task.models}
    seconds = dict.fromkeys(task.models, 0.0)
    for origin in origins:
        train = df[df["ds"] <= origin].drop(columns="open")
        test = df[(df["ds"] > origin) & (df["ds"] <= origin + pd.Timedelta(days=task.horizon))]
        scale = snaive_scale(train).rename("scale")
        future_exog = test[["unique_id", "ds", *exog_all]]
        for label, kw in task.models.items():
            kw = dict(kw)
            name = kw.pop("name")
            t0 = time.perf_counter()
            fc = forecast(name, train, task.horizon, future_exog=future_exog, seed=0, **kw)
            seconds[label] += time.perf_counter() - t0
            m = fc.merge(test[["unique_id", "ds", "y", "open"]], on=["unique_id", "ds"], how="inner")
            m = m[m["open"]].merge(scale, left_on="unique_id", right_index=True)
            m["origin"] = origin
            results[label].append(m)
    # per-series MASE (mean over origins), relative to seasonal naive
    mase = {}
    for label, parts in results.items():
        r = pd.concat(parts, ignore_index=True)
        r["ae"] = (r["y"] - r["mean"]).abs()
        per = r.groupby(["unique_id", "origin"]).agg(mae=("ae", "mean"), scale=("scale", "first"))
        per = per[per["scale"] > 0]
        per["mase"] = per["mae"] / per["scale"]
        mase[label] = per.groupby("unique_id")["mase"].mean()
        if label.startswith("lightgbm"):  # the quantile-0.5 model's median as the point forecast
            r["ae50"] = (r["y"] - r["q0.5"]).abs()
            per50 = r.groupby(["unique_id", "origin"]).agg(mae=("ae50", "mean"), scale=("scale", "first"))
            per50 = per50[per50["scale"] > 0]
            mase[f"{label}, median"] = (per50["mae"] / per50["scale"]).groupby("unique_id").mean()
        y = r["y"].to_numpy()
        wql = []
        for q, c in zip(DEFAULT_QUANTILES, qcols, strict=True):
            d = y - r[c].to_numpy()
            wql.append(2 * np.sum(np.maximum(q * d, (q - 1) * d)) / np.sum(np.abs(y)))
        results[label] = r
        bench.add(f"{task.name}: {label} WQL", round(float(np.mean(wql)), 4))
        cover = float(np.mean((y >= r["q0.1"].to_numpy()) & (y <= r["q0.9"].to_numpy())))
        bench.add(f"{task.name}: {label} 80% coverage", round(cover, 4))
        bench.add(f"{task.name}: {label} train+predict s ({len(origins)} origins)", round(seconds[label], 2))
    base = mase["seasonal_naive"]
    for label in mase:
        if label == "seasonal_naive":
            continue
        ratio = (mase[label] / base).replace([np.inf, -np.inf], np.nan).dropna()
        ratio = ratio[ratio > 0]
        rel = float(np.exp(np.mean(np.log(ratio))))
        ref = REFERENCE.get((task.name, label.removesuffix(", median")))
        goal = f"<= {ref + TOLERANCE:.3f}" if ref is not None and "median" not in label else None
        note = f"reference {ref}; {len(ratio)} series" if ref is not None else f"{len(ratio)} series"
        bench.add(f"{task.name}: {label} relative MASE", round(rel, 4), goal, note)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer series (pasta: 12, YAZ: 3) for a fast check")
    ap.add_argument("--only", default=None, help="run only the models whose label contains this text")
    args = ap.parse_args()
    bench = Bench("forecast_baselines")
    for task in (pasta_task(12 if args.quick else None), yaz_task(3 if args.quick else None)):
        if args.only:
            task.models = {k: v for k, v in task.models.items() if k == "seasonal_naive" or args.only in k}
        run_task(task, bench)
    bench.finish()


if __name__ == "__main__":
    main()
