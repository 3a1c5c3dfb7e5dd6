"""Decisions bench, inventory part: does a better forecast give a cheaper replenishment policy?

Protocol (per scenario: ``retail``, ``manufacturing``; default size of ``make_scenario``, 760 days)
- Demand (truth): retail, the 5 stores' ``demand``; manufacturing, ``logistics`` (outbound
  shipments, the demand proxy of :func:`sclm.decisions.inventory.scenario_demand`) of its 3 plants
  and 2 warehouses.  Lead time ``scenario.meta["lead_time"]`` (retail 2 days, manufacturing 1),
  daily review (R = 1), lost sales.
- Rolling origins: every day of the test period (the last ``--inventory-test-days`` origins that
  still have H = 7 days after them; 56 by default).  At each origin every forecaster issues a
  7-day forecast with deciles from the data up to that origin only:
  M (``sclm.pipeline.train_forecaster`` on ``scenario_task(sc, sc.truth, horizon=7)``, trained
  once on the days up to the first origin, ``--inventory-epochs`` epochs with patience 4; all
  targets jointly), Seasonal Naive and LightGBM (``sclm.baselines.forecast``, refitted at every
  origin on the demand series; LightGBM with promotion and price as known-future inputs in retail;
  ``--inventory-lightgbm-series targets`` fits it on all of M's target series, as bench/forecast.py).
- Policy: the order-up-to level (base stock) or the reorder point of (s, S) at each origin is
  the service quantile of the normal lead-time demand built from that origin's deciles
  (per-day normal fit, independent days: identical for every forecaster).  (s, S) orders the
  EOQ on top (K = ``--inventory-fixed-cost``).  Costs h = 1 per unit-day, p = 19 per unit lost
  (critical ratio 0.95), K = 0 for base stock.
- Rows per forecaster: total, holding, shortage, ordering cost, fill rate and CSL at the common
  service target 0.95, and the cheapest level of the grid 0.5..0.995
  (``sclm.decisions.inventory.SERVICE_GRID``, fixed before any run) that reaches 95 % fill.
- Goal (issue 11): M's policy reaches ≥ 95 % fill at a lower total cost than every baseline's:
  "<scenario> <kind>: M cost at >=95% fill / best baseline's" < 1.
- Context: demand-forecast MAE and 80 % interval coverage over the L + R days each order covers.

Budget: M trains for at most 20 epochs with patience 4 (it stopped after 11 epochs on retail,
13 on manufacturing); LightGBM is refitted at every origin (3.5 to 7 s each).  Measured on a
loaded 2-core machine (load 5 to 8): retail 5 min (M 75 s, LightGBM 216 s), manufacturing 10 min
(M 167 s, LightGBM 391 s).  ``--quick``: 240-day scenarios, 14 origins, a tiny M (2 epochs),
LightGBM with 50 trees (40 s for both scenarios).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from sclm import make_scenario
from sclm.benchmarking import Bench
from sclm.decisions.inventory import compare_policies, rolling_forecasts, scenario_demand

SCENARIOS = ("retail", "manufacturing")
KINDS = ("base_stock", "sS")
BASELINES = ("seasonal_naive", "lightgbm")
COMMON_SERVICE = 0.95
TARGET_FILL = 0.95
COSTS = {"holding_cost": 1.0, "stockout_cost": 19.0}
QUICK_M = {"epochs": 2, "patience": 1, "d_model": 16, "n_heads": 2, "n_layers": 1, "batch_size": 128}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The inventory part's options (all prefixed ``--inventory-``)."""
    g = parser.add_argument_group("inventory")
    g.add_argument("--inventory-scenarios", default=",".join(SCENARIOS), help=f"subset of {SCENARIOS}")
    g.add_argument("--inventory-kinds", default=",".join(KINDS), help=f"policy kinds, subset of {KINDS}")
    g.add_argument(
        "--inventory-test-days", type=int, default=None, help="rolling origins (default 56; quick 14)"
    )
    g.add_argument("--inventory-epochs", type=int, default=None, help="M epochs (default 20; quick 2)")
    g.add_argument(
        "--inventory-fixed-cost", type=float, default=100.0, help="K per order of the (s, S) policy"
    )
    g.add_argument("--inventory-seed", type=int, default=0, help="scenario and training seed")
    g.add_argument(
        "--inventory-lightgbm-series",
        choices=("demand", "targets"),
        default="demand",
        help="fit LightGBM on the demand series only (default) or on all of M's target series",
    )


def _split(value: str, allowed: tuple[str, ...], flag: str) -> list[str]:
    items = [v.strip() for v in value.split(",") if v.strip()]
    bad = [v for v in items if v not in allowed]
    if bad or not items:
        raise SystemExit(f"{flag}: unknown or empty value(s) {bad}; choose from {list(allowed)}")
    return items


def _accuracy(forecast: pd.DataFrame, demand: pd.Series, days: int) -> tuple[float, float]:
    """MAE of the mean and share inside [q0.1, q0.9] over the first ``days`` days after each origin."""
    f = forecast[(forecast["ts"] - forecast["origin"]).dt.days <= days]
    y = demand.rename("y").reset_index()
    f = f.merge(y, on=["node", "ts"], how="inner")
    mae = float(np.mean(np.abs(f["y"] - f["mean"])))
    cov = float(np.mean((f["y"] >= f["q0.1"]) & (f["y"] <= f["q0.9"])))
    return mae, cov


def run(bench: Bench, args: argparse.Namespace) -> None:
    """Forecast, decide and simulate on each scenario; record the figures on ``bench``."""
    quick = bool(getattr(args, "quick", False))
    scenarios = _split(args.inventory_scenarios, SCENARIOS, "--inventory-scenarios")
    kinds = _split(args.inventory_kinds, KINDS, "--inventory-kinds")
    n_origins = args.inventory_test_days or (14 if quick else 56)
    epochs = args.inventory_epochs or (2 if quick else 20)
    train = {**QUICK_M, "epochs": epochs} if quick else {"epochs": epochs, "patience": 4}
    lgb = {"n_estimators": 50} if quick else None
    horizon = 7
    seed = args.inventory_seed
    pd.set_option("display.width", 200)
    for name in scenarios:
        sc = make_scenario(name, seed=seed, n_documents=0, **({"n_days": 240} if quick else {}))
        L = int(sc.meta["lead_time"])
        last = sc.truth.index.get_level_values("ts").max()
        origins = pd.date_range(end=last - pd.Timedelta(days=horizon), periods=n_origins, freq="D")
        demand = scenario_demand(sc)
        forecasts: dict[str, pd.DataFrame] = {}
        for model in ("M", *BASELINES):
            t0 = time.perf_counter()
            forecasts |= rolling_forecasts(
                sc,
                origins,
                models=(model,),
                horizon=horizon,
                seed=seed,
                train_options=train,
                lightgbm_params=lgb,
                baseline_series=args.inventory_lightgbm_series,
            )
            label = list(forecasts)[-1]
            bench.add(
                f"{name} {label}: forecast seconds ({n_origins} origins)", round(time.perf_counter() - t0, 1)
            )
        for label, fc in forecasts.items():
            mae, cov = _accuracy(fc, demand, L + 1)
            bench.add(f"{name} {label}: demand MAE over the L+R days", round(mae, 3))
            bench.add(f"{name} {label}: demand cov80 over the L+R days", round(cov, 3))
        for kind in kinds:
            K = args.inventory_fixed_cost if kind == "sS" else 0.0
            table = compare_policies(
                sc,
                forecasts,
                kind=kind,
                service=COMMON_SERVICE,
                target_fill=TARGET_FILL,
                fixed_cost=K,
                **COSTS,
            )
            print(
                f"\n[inventory] {name}, {kind} (L = {L}, R = 1, h = 1, p = 19, K = {K:g}), {n_origins} origins"
            )
            print(table.round(3).to_string())
            for label, row in table.iterrows():
                pre = f"{name} {kind} {label}"
                for c in ("total", "holding", "shortage", "ordering", "fill_rate", "csl"):
                    bench.add(f"{pre}: {c} @ service {COMMON_SERVICE:g}", round(float(row[c]), 4))
                for c in ("service", "total", "fill_rate", "csl"):
                    v = row[f"at_fill_{c}"]
                    bench.add(f"{pre}: {c} @ cheapest >=95% fill", None if pd.isna(v) else round(float(v), 4))
            m = table.loc["M", "at_fill_total"]
            base = table.drop(index="M")["at_fill_total"].dropna()
            if pd.isna(m):
                ratio, note = None, "M reaches no 95% fill on the grid"
            elif base.empty:
                ratio, note = 0.0, "no baseline reaches 95% fill on the grid"
            else:
                ratio, note = round(float(m / base.min()), 4), f"best baseline {base.idxmin()}"
            bench.add(f"{name} {kind}: M cost at >=95% fill / best baseline's", ratio, goal="< 1", note=note)
