"""The causal base forecasts of M alone (no network) on validation origins before the test days.

For each data set's real-data protocol (``bench/forecast_baselines.py``), the ``n`` origins one
horizon apart that end before the first test origin (so no test day is read), every series'
base forecast from its last ``T`` days, ``T`` = the data set's input size times 1, 2 and 4 (and 8
on YAZ): the weekday mean and the level base (``sclm.models.forecaster.seasonal_base``), the Theta
method with its SES weight fitted to one-step errors (``theta``) or to 1..H-step errors
(``theta-h``) (``sclm.models._bases.theta_base``), each clamped at 0; with ``--baselines`` also
AutoETS and AutoTheta fitted at the same origins.  Scored as ``bench/forecast.py`` scores a row:
relMASE to the seasonal naive forecast on the open days (``sclm.metrics.relative_mase_table``).
With ``--baselines`` also LightGBM with every covariate (its median).  The regression base
(``reg<ridge>``, ``sclm.models._bases.regression_base``) reads the data set's covariates on M's
scale (:func:`scaled_covariates`).

``--test-origins`` scores the protocol's test origins instead, as context once every choice has
been made on validation origins (never to choose by).

Run: .venv/bin/python bench/forecast_bases.py --dataset yaz|pasta|pasta-brands --origins 12 [--baselines]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from forecast_baselines import SEASON_LENGTH, csv_task, origin_days, pasta_brands_task, pasta_task, yaz_task

from sclm.baselines import forecast, quantile_column
from sclm.metrics import relative_mase_table
from sclm.models._bases import regression_base, theta_base
from sclm.models.forecaster import seasonal_base
from sclm.windows import year_ago_feature

RIDGES = (0.003, 0.01, 0.03, 0.1, 0.3)  # fixed penalties of the regression base tried


def bases(
    x: torch.Tensor,
    horizon: int,
    c_past: torch.Tensor | None = None,
    c_future: torch.Tensor | None = None,
    events: list[int] | None = None,
    year_ago: int | None = None,
) -> dict[str, torch.Tensor]:
    """The base forecasts of one window ``x`` (1, T, 1) → name -> (1, H, 1); with the window's
    covariates ``c_past`` (1, T, R) and ``c_future`` (1, H, R) also the regression base
    (``sclm.models._bases.regression_base``) at each penalty of :data:`RIDGES` and with the
    penalty chosen by leave-one-out (``reg-loo``), and on the ``events`` columns alone
    (``reg-ev``: the flags and shares, :func:`event_columns`); ``year_ago``: the position of the
    year-ago column (``--year-ago``), then also ``reg-ev-ya``, the events and the year-ago value."""
    m = SEASON_LENGTH
    out = {
        "mean": seasonal_base(x, horizon, m, 0),
        "level": seasonal_base(x, horizon, m, 0, alpha=0.05),
        "theta": theta_base(x, horizon, m, 0),
        "theta-h": theta_base(x, horizon, m, 0, fit_steps=horizon),
    }
    if c_past is not None and c_past.shape[-1]:
        for lam in RIDGES:
            out[f"reg{lam:g}"] = regression_base(x, c_past, c_future, m, 0, ridge=lam)
        out["reg-loo"] = regression_base(x, c_past, c_future, m, 0)  # penalty chosen by leave-one-out
        if events:  # the event covariates only (flags and shares)
            out["reg-ev"] = regression_base(x, c_past[..., events], c_future[..., events], m, 0)
        if year_ago is not None:  # the events (if any) and the same weekday a year before
            cols = [*(events or []), year_ago]
            out["reg-ev-ya"] = regression_base(x, c_past[..., cols], c_future[..., cols], m, 0)
    return out


def event_columns(df: pd.DataFrame, cols: list[str], origin: pd.Timestamp) -> list[int]:
    """Positions in ``cols`` of the event covariates: every value up to ``origin`` in [0, 1]
    (0/1 flags such as closed or holiday, and shares such as the share of items on promotion)."""
    past = df[df["ds"] <= origin]
    return [j for j, c in enumerate(cols) if past[c].between(0.0, 1.0).all()]


def scaled_covariates(g: pd.DataFrame, cols: list[str], origin: pd.Timestamp) -> np.ndarray:
    """One series' covariates (days, R) on M's scale: a column with a value outside [0, 1] up to
    the origin divided by its mean absolute value up to the origin (``PanelScaler("mean_abs")``
    with ``--raw-shares``), flags and shares as they are."""
    out = g[cols].to_numpy("float64").copy()
    past = (g["ds"] <= origin).to_numpy()
    for j in range(len(cols)):
        v = out[past, j]
        if not ((v >= 0) & (v <= 1)).all():
            s = np.abs(v).mean()
            out[:, j] /= s if s > 0 else 1.0
    return out


def main(argv: list[str] | None = None) -> pd.Series:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", choices=("yaz", "pasta", "pasta-brands", "csv"), default="yaz")
    ap.add_argument("--csv", default=None, help="--dataset csv: the file (forecast_baselines.csv_task)")
    ap.add_argument("--origins", type=int, default=4, help="validation origins before the first test origin")
    ap.add_argument(
        "--test-origins",
        action="store_true",
        help="score the test origins instead (context after a choice: never to choose by)",
    )
    ap.add_argument("--series", type=int, default=None, help="pasta: first N series (the --quick 12)")
    ap.add_argument("--baselines", action="store_true", help="also AutoETS and AutoTheta")
    ap.add_argument(
        "--year-ago",
        action="store_true",
        help="add the year-ago covariate (sclm.windows.year_ago_feature) to the regression bases",
    )
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    if args.dataset == "yaz":
        task = yaz_task(None)
    elif args.dataset == "pasta":
        task = pasta_task(args.series)
    elif args.dataset == "csv":
        if not args.csv:
            ap.error("--dataset csv needs --csv PATH")
        task = csv_task(args.csv)
    else:
        task = pasta_brands_task(None)
    df, h = task.data, task.horizon
    origins = origin_days(df["ds"].max(), h, task.n_origins, before=0 if args.test_origins else args.origins)
    size = 84 if args.dataset == "pasta" else 56  # bench/forecast.py's input size
    factors = (1, 2, 4) if args.dataset == "pasta" else (1, 2, 4, 8)
    exog = [c for c in df.columns if c not in ("unique_id", "ds", "y", "open")]
    ev = event_columns(df, exog, origins[0])  # the flags and shares, fixed by the first origin
    lgb_exog, ya = exog, None  # LightGBM keeps the data set's own covariates
    if args.year_ago:  # the same weekday 51-53 weeks before, its fill read up to the first origin
        panel = df.rename(columns={"unique_id": "node", "ds": "ts"}).set_index(["node", "ts"])
        df = df.assign(year_ago=year_ago_feature(panel, "y", end=origins[0]).to_numpy())
        exog, ya = [*exog, "year_ago"], len(exog)
    models = ["seasonal_naive", *(["auto_ets", "auto_theta"] if args.baselines else [])]
    rows, t0 = [], time.perf_counter()
    for origin in origins:
        train = df[df["ds"] <= origin]
        days = pd.date_range(origin + pd.Timedelta(days=1), periods=h)
        for name in models:
            fc = forecast(name, train[["unique_id", "ds", "y"]], h, season_length=SEASON_LENGTH, seed=0)
            rows += [
                (u, origin, d, name, v) for u, d, v in fc[["unique_id", "ds", "mean"]].itertuples(index=False)
            ]
        if args.baselines:  # LightGBM with every covariate, scored on its median as bench/forecast.py does
            test = df[(df["ds"] > origin) & (df["ds"] <= origin + pd.Timedelta(days=h))]
            fc = forecast(
                "lightgbm", train[["unique_id", "ds", "y", *lgb_exog]], h,
                future_exog=test[["unique_id", "ds", *lgb_exog]], use_exog=lgb_exog, seed=0,
            )  # fmt: skip
            q50 = fc[["unique_id", "ds", quantile_column(0.5)]].itertuples(index=False)
            rows += [(u, origin, d, "lightgbm", v) for u, d, v in q50]
        for uid, g in df[df["ds"] <= origin + pd.Timedelta(days=h)].groupby("unique_id"):
            g = g.sort_values("ds")
            cov = scaled_covariates(g, exog, origin)
            past = (g["ds"] <= origin).to_numpy()
            v = g["y"].to_numpy("float64")[past]
            cp, cf = cov[past], cov[~past]
            for f in factors:
                if size * f > len(v):
                    continue
                x = torch.tensor(v[-size * f :]).reshape(1, -1, 1)
                c_past = torch.tensor(cp[-size * f :])[None]
                for key, out in bases(x, h, c_past, torch.tensor(cf)[None], ev, ya).items():
                    vals = np.maximum(out[0, :, 0].numpy(), 0.0)
                    rows += [
                        (uid, origin, d, f"{key} {size * f}", val) for d, val in zip(days, vals, strict=True)
                    ]
    long = pd.DataFrame(rows, columns=["unique_id", "origin", "ds", "model", "v"])
    wide = long.pivot_table(index=["unique_id", "origin", "ds"], columns="model", values="v").reset_index()
    wide = wide.merge(df[["unique_id", "ds", "y", "open"]], on=["unique_id", "ds"])
    wide = wide[wide["open"]].drop(columns="open").dropna()
    cols = [c for c in wide.columns if c not in ("unique_id", "origin", "ds", "y")]
    table = relative_mase_table(
        wide, cols, "seasonal_naive", train_df=df[["unique_id", "ds", "y"]], season_length=SEASON_LENGTH,
        cutoff_col="origin",
    )  # fmt: skip
    rel = table["relMASE"].sort_values()
    kind = "test" if args.test_origins else "validation"
    print(f"{args.dataset}: {kind} origins {[o.date().isoformat() for o in origins]}")
    print(rel.round(4).to_string())
    print(f"wall {time.perf_counter() - t0:.1f} s")
    return rel


if __name__ == "__main__":
    main()
