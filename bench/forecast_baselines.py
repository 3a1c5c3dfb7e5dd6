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
- pasta-brands (``pasta_brands_task``): a second data set on YAZ's protocol, for the held-out
  question "does a choice made on YAZ carry over to another retailer's few daily series?": the
  pasta items summed per brand (4 daily series, B1..B4, 1,825 days), each day's ``promotion`` the
  share of the brand's items on promotion (known in advance, as planned promotions are) and
  ``closed`` the store's closed days; horizon 7, four origins 7 days apart over the last 28 days,
  errors on open days only; LightGBM with ``closed`` and ``promotion``.

Figures, per data set and model:
- relative MASE (``sclm.metrics.relative_mase_table``): geometric mean over series of (model MASE /
  seasonal-naive MASE), where a series' MASE is the mean over origins of MAE(horizon) / scale,
  scale = in-sample seasonal-naive MAE (season_length=7) of that origin's training part; the
  edge cases follow the one rule of ``sclm.metrics`` (an origin with a zero scale is left out for
  every model, each ratio is clipped to [1e-3, 5]); the notes give the series used, excluded and
  clipped;
- WQL: mean over the quantiles 0.1..0.9 of 2 * sum(pinball loss) / sum(|y|), pooled over series,
  origins and horizon steps;
- 80 % coverage: share of actuals inside [q0.1, q0.9];
- train+predict seconds (all origins).

Goals, each against a reference measured in the same run (never the script's own earlier output):
- every model beats seasonal naive: relative MASE < 1;
- pasta: the known-future promotions help LightGBM: relMASE with promotions / without < 1.
The figures measured earlier with this protocol (issue 4) are printed in the notes, as context only.

Prints the table and writes build/bench/forecast_baselines.json.  Run:
.venv/bin/python bench/forecast_baselines.py [--quick] [--out-dir DIR]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sclm import load_dataset
from sclm.baselines import DEFAULT_QUANTILES, forecast, quantile_column
from sclm.benchmarking import Bench
from sclm.metrics import coverage, relative_mase_table, wql

SEASON_LENGTH = 7
REFERENCE_MODEL = "seasonal_naive"
EARLIER = {  # relative MASE measured earlier with this protocol (issue 4): context, not a goal
    ("pasta", "auto_ets"): 0.821,
    ("pasta", "auto_theta"): 0.837,
    ("pasta", "lightgbm (no promotions)"): 0.794,
    ("pasta", "lightgbm (promotions)"): 0.694,
    ("yaz", "auto_ets"): 0.750,
    ("yaz", "auto_theta"): 0.725,
    ("yaz", "lightgbm (weather)"): 0.768,
}
YAZ_EXOG = ["wind", "clouds", "rain", "sunshine", "temperature", "is_holiday", "is_closed"]


@dataclass
class Task:
    name: str
    data: pd.DataFrame  # long: unique_id, ds, y, exogenous..., (open)
    horizon: int
    n_origins: int
    models: dict[str, dict] = field(default_factory=dict)  # label -> forecast kwargs


STATISTICAL = {  # the per-series baselines of every task (label -> forecast kwargs)
    "seasonal_naive": {"name": "seasonal_naive"},
    "auto_ets": {"name": "auto_ets"},
    "auto_theta": {"name": "auto_theta"},
}


def first_series(df: pd.DataFrame, n_series: int | None) -> pd.DataFrame:
    """The rows of the first ``n_series`` series of a long frame (all of them for None or 0)."""
    if not n_series:
        return df
    keep = df["unique_id"].drop_duplicates().iloc[:n_series]
    return df[df["unique_id"].isin(keep)]


def pasta_task(n_series: int | None) -> Task:
    ds = load_dataset("retail_pasta_hierarchical_sales")
    daily = ds.to_daily(fill_value=0.0).reset_index()
    df = daily.rename(columns={"node": "unique_id", "ts": "ds", "sales": "y"})
    df = first_series(df, n_series)
    df["open"] = df["closed"] == 0.0
    models = {
        **STATISTICAL,
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
    df = first_series(df, n_series)
    df["open"] = True
    models = {
        **STATISTICAL,
        "lightgbm (weather)": {"name": "lightgbm", "use_exog": YAZ_EXOG},
    }
    return Task("yaz", df[["unique_id", "ds", "y", *YAZ_EXOG, "open"]], 7, 4, models)


def pasta_brands_task(n_series: int | None = None) -> Task:
    """The pasta items summed per brand, on YAZ's protocol (horizon 7, four weekly origins).

    Long frame ``unique_id`` (brand), ``ds``, ``y`` (units sold by the brand's items that day),
    ``closed`` (1.0 on the calendar days absent from the file, when the store was closed; every
    item is 0 then), ``promotion`` (share of the brand's items on promotion, in [0, 1]), ``open``.
    """
    ds = load_dataset("retail_pasta_hierarchical_sales")
    daily = ds.to_daily(fill_value=0.0).reset_index()
    brand = ds.hierarchy.set_index("item")["brand"]
    daily["unique_id"] = daily["node"].map(brand)
    df = (
        daily.groupby(["unique_id", "ts"], sort=True)
        .agg(y=("sales", "sum"), closed=("closed", "max"), promotion=("promotion", "mean"))
        .reset_index()
        .rename(columns={"ts": "ds"})
    )
    df = first_series(df, n_series)
    df["open"] = df["closed"] == 0.0
    models = {
        **STATISTICAL,
        "lightgbm (promotions)": {"name": "lightgbm", "use_exog": ["closed", "promotion"]},
    }
    return Task("pasta-brands", df[["unique_id", "ds", "y", "closed", "promotion", "open"]], 7, 4, models)


_OPEN_VALUES = {"true": True, "false": False, "1": True, "0": False, "1.0": True, "0.0": False}


def csv_task(path: str | Path, horizon: int = 7, n_origins: int = 4) -> Task:
    """A data set of one's own on YAZ's protocol: a long CSV file of daily series.

    Columns: ``unique_id`` (series), ``ds`` (date), ``y`` (the value, finite), optionally
    ``open`` (0/1 or true/false: only open days are scored; all days when absent), and any other
    numeric column as a covariate known in advance over the horizon (calendar flags, weather
    forecasts, planned promotions): LightGBM reads them all, as it reads YAZ's.  Every series must
    cover every day from its first to its last with one row (no gaps, no duplicates) and end on
    the same last day, with enough days for ``n_origins`` origins ``horizon`` days apart.
    Errors name the first offending series and day.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no CSV file at {path}")
    df = pd.read_csv(path)
    missing = [c for c in ("unique_id", "ds", "y") if c not in df.columns]
    if missing:
        raise ValueError(f"{path.name}: missing column(s) {missing}; it has {list(df.columns)}")
    df["unique_id"] = df["unique_id"].astype(str)
    try:
        df["ds"] = pd.to_datetime(df["ds"])
    except (ValueError, TypeError) as e:
        raise ValueError(f"{path.name}: column 'ds' is not a date: {e}") from None
    if df["ds"].dt.normalize().ne(df["ds"]).any():
        raise ValueError(f"{path.name}: 'ds' must be whole days (daily series); found a time of day")
    exog = [c for c in df.columns if c not in ("unique_id", "ds", "y", "open")]
    for c in ["y", *exog]:
        v = pd.to_numeric(df[c], errors="coerce")
        bad = df[~np.isfinite(v.to_numpy("float64"))]
        if len(bad):
            r = bad.iloc[0]
            raise ValueError(
                f"{path.name}: column {c!r} has a missing or non-numeric value ({r['unique_id']}, {r['ds'].date()})"
            )
        df[c] = v.astype("float64")
    if "open" in df.columns:
        o = df["open"].map(lambda v: _OPEN_VALUES.get(str(v).strip().lower()))
        if o.isna().any():
            raise ValueError(
                f"{path.name}: column 'open' must be 0/1 or true/false; found {df['open'][o.isna()].iloc[0]!r}"
            )
        df["open"] = o.astype(bool)
    else:
        df["open"] = True
    df = df.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)
    dup = df.duplicated(["unique_id", "ds"])
    if dup.any():
        r = df[dup].iloc[0]
        raise ValueError(f"{path.name}: two rows for series {r['unique_id']!r} on {r['ds'].date()}")
    step = df.groupby("unique_id")["ds"].diff().dt.days
    gap = df[step.notna() & (step != 1)]
    if len(gap):
        r = gap.iloc[0]
        raise ValueError(
            f"{path.name}: series {r['unique_id']!r} has no row for the day(s) before {r['ds'].date()}; give every day (0 and open=0 for closed days)"
        )
    ends = df.groupby("unique_id")["ds"].max()
    if ends.nunique() > 1:
        raise ValueError(
            f"{path.name}: every series must end on the same day; {ends.idxmin()!r} ends {ends.min().date()}, {ends.idxmax()!r} {ends.max().date()}"
        )
    need = horizon * (n_origins + 8)  # the test days and eight horizons of history at least
    short = df.groupby("unique_id").size()
    if short.min() < need:
        raise ValueError(
            f"{path.name}: series {short.idxmin()!r} has {short.min()} days; the protocol needs at least {need}"
        )
    models = {**STATISTICAL, "lightgbm (covariates)": {"name": "lightgbm", "use_exog": exog or False}}
    return Task(path.stem, df[["unique_id", "ds", "y", *exog, "open"]], horizon, n_origins, models)


def origin_days(end: pd.Timestamp, horizon: int, n_test: int, before: int = 0) -> list[pd.Timestamp]:
    """The forecast origins (last input day) of a rolling-origin protocol, oldest first.

    ``before`` 0: the ``n_test`` test origins one ``horizon`` apart, the last one ``horizon`` days
    before ``end`` (the last day of the data).  ``before`` K > 0: instead the K origins one
    ``horizon`` apart strictly before the first test origin (validation origins: the last one is
    ``horizon`` days before the first test origin, so its window ends on that origin and no day
    after it is forecast or read).
    """
    first_test = end - pd.Timedelta(days=horizon * n_test)
    if before <= 0:
        return [end - pd.Timedelta(days=horizon * k) for k in range(n_test, 0, -1)]
    return [first_test - pd.Timedelta(days=horizon * k) for k in range(before, 0, -1)]


def run_task(task: Task, bench: Bench) -> pd.DataFrame:
    """Forecast every origin with every model of ``task``, then score them (:func:`score_task`)."""
    frames, seconds, n_origins = backtest_task(task)
    return score_task(task.name, frames, task.data[["unique_id", "ds", "y"]], seconds, n_origins, bench)


def backtest_task(task: Task) -> tuple[dict[str, pd.DataFrame], dict[str, float], int]:
    """Every model's forecasts on the open test days of every origin, and its seconds."""
    df = task.data
    origins = origin_days(df["ds"].max(), task.horizon, task.n_origins)
    exog_all = [c for c in df.columns if c not in ("unique_id", "ds", "y", "open")]
    results: dict[str, list[pd.DataFrame]] = {label: [] for label in task.models}
    seconds = dict.fromkeys(task.models, 0.0)
    for origin in origins:
        train = df[df["ds"] <= origin].drop(columns="open")
        test = df[(df["ds"] > origin) & (df["ds"] <= origin + pd.Timedelta(days=task.horizon))]
        future_exog = test[["unique_id", "ds", *exog_all]]
        for label, kw in task.models.items():
            kw = dict(kw)
            name = kw.pop("name")
            t0 = time.perf_counter()
            fc = forecast(
                name, train, task.horizon, future_exog=future_exog, season_length=SEASON_LENGTH, seed=0, **kw
            )
            seconds[label] += time.perf_counter() - t0
            m = fc.merge(test[["unique_id", "ds", "y", "open"]], on=["unique_id", "ds"], how="inner")
            results[label].append(m[m["open"]].assign(origin=origin))
    frames = {label: pd.concat(parts, ignore_index=True) for label, parts in results.items()}
    return frames, seconds, len(origins)


def relmase_table(results: dict[str, pd.DataFrame], history: pd.DataFrame) -> pd.DataFrame:
    """relMASE of every model (``mean``) and of LightGBM's median (``q0.5``), to seasonal naive.

    ``results``: label -> long forecasts ``unique_id, origin, ds, y, mean, q0.1..q0.9`` on the
    scored cells (the same for every label); ``history``: ``unique_id, ds, y`` of every day.
    """
    if REFERENCE_MODEL not in results:
        raise ValueError(f"{REFERENCE_MODEL!r} must be run: relative MASE is measured to it")
    key = ["unique_id", "origin", "ds"]
    cols = {label: r.set_index(key)["mean"].rename(label) for label, r in results.items()}
    for label, r in results.items():
        if label.startswith("lightgbm"):  # the quantile-0.5 model's median as the point forecast
            cols[f"{label}, median"] = r.set_index(key)["q0.5"].rename(f"{label}, median")
    y = results[REFERENCE_MODEL].set_index(key)["y"]
    wide = pd.concat([y, *cols.values()], axis=1, join="outer").reset_index()
    return relative_mase_table(
        wide, list(cols), REFERENCE_MODEL, train_df=history, season_length=SEASON_LENGTH, cutoff_col="origin"
    )


def score_task(
    name: str,
    results: dict[str, pd.DataFrame],
    history: pd.DataFrame,
    seconds: dict[str, float],
    n_origins: int,
    bench: Bench,
) -> pd.DataFrame:
    """Add every figure and goal of one data set to ``bench``; returns the relMASE table."""
    qcols = [quantile_column(q) for q in DEFAULT_QUANTILES]
    for label, r in results.items():
        y = r["y"].to_numpy("float64")
        bench.add(f"{name}: {label} WQL", round(wql(y, r[qcols].to_numpy("float64"), DEFAULT_QUANTILES), 4))
        cover = coverage(y, r["q0.1"].to_numpy("float64"), r["q0.9"].to_numpy("float64"))
        bench.add(f"{name}: {label} 80% coverage", round(cover, 4))
        bench.add(f"{name}: {label} train+predict s ({n_origins} origins)", round(seconds[label], 2))
    table = relmase_table(results, history)
    for label, row in table.iterrows():
        if label == REFERENCE_MODEL:
            continue
        goal = None if label.endswith(", median") else "< 1"  # beats seasonal naive, run alongside
        earlier = EARLIER.get((name, label))
        note = f"{int(row['series'])} series, {int(row['excluded'])} excluded, {int(row['clipped'])} clipped"
        note += f"; measured earlier: {earlier}" if earlier is not None else ""
        bench.add(f"{name}: {label} relative MASE", round(float(row["relMASE"]), 4), goal, note)
    with_promo, without = "lightgbm (promotions)", "lightgbm (no promotions)"
    if with_promo in table.index or without in table.index:
        both = with_promo in table.index and without in table.index
        ratio = table.loc[with_promo, "relMASE"] / table.loc[without, "relMASE"] if both else None
        bench.add(
            f"{name}: lightgbm relative MASE, promotions / no promotions",
            None if ratio is None else round(float(ratio), 4),
            "< 1",
            "" if both else "not evaluated: needs both LightGBM rows",
        )
    return table


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--quick",
        action="store_true",
        help="fewer series (pasta: 12, YAZ: 3, pasta-brands: 2) for a fast check",
    )
    ap.add_argument("--only", default=None, help="run only the models whose label contains this text")
    ap.add_argument("--out-dir", default=None, help="where the JSON goes (default build/bench)")
    args = ap.parse_args(argv)
    bench = Bench("forecast_baselines", out_dir=args.out_dir)
    quick = args.quick
    for task in (
        pasta_task(12 if quick else None),
        yaz_task(3 if quick else None),
        pasta_brands_task(2 if quick else None),
    ):
        if args.only:
            task.models = {k: v for k, v in task.models.items() if k == "seasonal_naive" or args.only in k}
        run_task(task, bench)
    bench.finish()


if __name__ == "__main__":
    main()
