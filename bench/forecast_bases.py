"""The causal base forecasts of M alone (no network) on validation origins before the test days.

For each data set's real-data protocol (``bench/forecast_baselines.py``), the ``n`` origins one
horizon apart that end before the first test origin (so no test day is read), every series'
base forecast from its last ``T`` days, ``T`` = the data set's input size times 1, 2 and 4 (and 8
on YAZ): the weekday mean and the level base (``sclm.models.forecaster.seasonal_base``), the Theta
method with its SES weight fitted to one-step errors (``theta``) or to 1..H-step errors
(``theta-h``) (``sclm.models._bases.theta_base``), each clamped at 0; with ``--baselines`` also
AutoETS and AutoTheta fitted at the same origins.  Scored as ``bench/forecast.py`` scores a row:
relMASE to the seasonal naive forecast on the open days (``sclm.metrics.relative_mase_table``).

Run: .venv/bin/python bench/forecast_bases.py --dataset yaz --origins 12 [--baselines]
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

from forecast_baselines import SEASON_LENGTH, origin_days, pasta_task, yaz_task

from sclm.baselines import forecast
from sclm.metrics import relative_mase_table
from sclm.models._bases import theta_base
from sclm.models.forecaster import seasonal_base


def bases(x: torch.Tensor, horizon: int) -> dict[str, torch.Tensor]:
    """The base forecasts of one window ``x`` (1, T, 1) → name -> (1, H, 1)."""
    m = SEASON_LENGTH
    return {
        "mean": seasonal_base(x, horizon, m, 0),
        "level": seasonal_base(x, horizon, m, 0, alpha=0.05),
        "theta": theta_base(x, horizon, m, 0),
        "theta-h": theta_base(x, horizon, m, 0, fit_steps=horizon),
    }


def main(argv: list[str] | None = None) -> pd.Series:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", choices=("yaz", "pasta"), default="yaz")
    ap.add_argument("--origins", type=int, default=4, help="validation origins before the first test origin")
    ap.add_argument("--series", type=int, default=None, help="pasta: first N series (the --quick 12)")
    ap.add_argument("--baselines", action="store_true", help="also AutoETS and AutoTheta")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    task = yaz_task(None) if args.dataset == "yaz" else pasta_task(args.series)
    df, h = task.data, task.horizon
    origins = origin_days(df["ds"].max(), h, task.n_origins, before=args.origins)
    size = 56 if args.dataset == "yaz" else 84  # bench/forecast.py's input size
    factors = (1, 2, 4, 8) if args.dataset == "yaz" else (1, 2, 4)
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
        for uid, g in train.groupby("unique_id"):
            v = g.sort_values("ds")["y"].to_numpy("float64")
            for f in factors:
                if size * f > len(v):
                    continue
                x = torch.tensor(v[-size * f :]).reshape(1, -1, 1)
                for key, out in bases(x, h).items():
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
    print(f"{args.dataset}: validation origins {[o.date().isoformat() for o in origins]}")
    print(rel.round(4).to_string())
    print(f"wall {time.perf_counter() - t0:.1f} s")
    return rel


if __name__ == "__main__":
    main()
