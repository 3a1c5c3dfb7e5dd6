"""Benchmark: robustness of M and LightGBM to the IoT miss rate and the source noise (article §8.3, issue 14).

Protocol (:mod:`sclm.robustness`): for each scenario, IoT miss rate p ∈ {0, 0.1, 0.2, 0.3, 0.4}
and every source's noise σ scaled ×{0.5, 1, 2}, the scenario (seed 0, the same truth in every
cell) is simulated, its raw readings cleaned and fused causally (``CausalPanels``: cleaner with the
p̂ correction and inverse-variance fuser fitted up to the first test origin), M is trained on the
fused panel up to that origin and ``sclm.pipeline.backtest`` forecasts the last 3 windows of 14
days (input 56) with M, Seasonal Naive and LightGBM from the same fused history.  Scores are
against the TRUE series, with the seasonal-naive scale of the true history (the scenario rows of
``bench/forecast.py``); relMASE = geometric mean over (node, target) series of MASE / Seasonal
Naive's MASE, with the median as the point forecast of M and LightGBM (``--point mean`` to change).

Figures per scenario: relMASE of M and LightGBM per cell; the least-squares slope of relMASE
against p per noise scale; M's relMASE at p ≤ 0.3 over its p = 0 figure.  Goals (at noise ×1):
``slope(M) - slope(LightGBM) <= 0`` (M degrades no faster) and ``max M ratio <= 1.05``.

Run: .venv/bin/python bench/robustness.py [--scenarios manufacturing,logistics,retail]
[--n-days N] [--epochs N] [--patience N] [--stride N] [--p-values 0,0.1,...] [--noise-scales 0.5,1,2]
[--device cpu] [--n-jobs K] [--tag T]
Prints the tables and writes build/bench/robustness[_<tag>].json and robustness[_<tag>].png.
``--quick``: 420-day scenarios, 3 epochs.  ``--from-csv a.csv,b.csv`` summarises curves saved by
earlier runs (e.g. one run per scenario or noise scale) without training.  ``--no-p-correction``:
the ablation whose cleaner leaves the IoT undercount in (what the cleaning buys).

Measured (2026-12-01, ``--quick``: 420-day scenarios, M 3 epochs, patience 2, stride 1, CPU,
seed 0; ×0.5 and ×2 only at p ∈ {0, 0.4} for logistics and retail, for time): relMASE at p = 0
→ 0.4, noise ×1: manufacturing M 0.696 → 0.698, LightGBM 0.710 → 0.701; logistics M 0.681 →
0.678, LightGBM 0.715 → 0.718; retail M 0.726 → 0.721, LightGBM 0.641 → 0.649.  Slopes (relMASE
per unit p, ± standard error): manufacturing M -0.004 ± 0.022 vs LightGBM -0.018 ± 0.005 (goal
missed by 0.014, within M's scatter), logistics -0.003 ± 0.009 vs 0.009 ± 0.009, retail -0.026 ±
0.017 vs 0.010 ± 0.010.  M at p ≤ 0.3 / M at p = 0: at most 1.006 (manufacturing), 1.001, 1.004.
p̂ is within 0.003 of p in every cell.  Ablation without the p̂ correction (manufacturing, p = 0.4):
M 0.685, no worse: the fuser gives the IoT counter ~6 % of q's weight and rejects its readings
when they sit 40 % low.  About 17-22 s of CPU per cell (user+sys, one core).

Three seeds (``--quick --seeds 0,1,2 --noise-scales 1``, 2026-12-01, one torch thread, 953 CPU-s,
35 min wall at load 5-12): the seed-mean slopes (± standard error over seeds) are manufacturing
M +0.004 ± 0.007 vs LightGBM -0.015 ± 0.015 (difference +0.019 ± 0.010: goal missed), logistics
+0.004 ± 0.003 vs +0.009 ± 0.001 (met), retail -0.009 ± 0.009 vs +0.012 ± 0.004 (met).  M at
p ≤ 0.3 / M at p = 0: at most 1.004, 1.005, 1.007 (met).  On manufacturing M's curve is flat
(within 0.2 % from p = 0 to 0.4 on the seed mean) and LightGBM's *improves* by 0.6 %, in two seeds
of three (-0.019 and -0.040 per unit p; +0.010 in the third): M does not degrade, but it does
not gain what LightGBM gains from the more heavily corrected and fused IoT channel.

The full protocol (760-day scenarios, M 5 epochs, patience 2, stride 1; 2026-12-02, one torch thread,
load 4-7 on 2 cores): ``--scenarios manufacturing --seeds 0,1,2 --noise-scales 1`` (449 CPU-s) and
``--seeds 3,4,5`` (461 CPU-s), summarised together with ``--from-csv`` (six seeds), and
``--scenarios logistics,retail --seeds 0,1,2 --noise-scales 1`` (1,396 CPU-s).  Seed-mean relMASE
at p = 0 → 0.4 and slopes per unit p (± standard error over seeds):

- manufacturing (6 seeds): M 0.7011 → 0.7027, LightGBM 0.7866 → 0.7898; slopes +0.0064 ± 0.0030
  vs +0.0060 ± 0.0052, difference +0.0004 ± 0.0053 (goal missed by 0.0004, a tenth of its
  standard error; seeds 0-2 alone: +0.0014 ± 0.0115, seeds 3-5 alone: -0.0006, met);
- logistics (3 seeds): M 0.6571 → 0.6572, LightGBM 0.7299 → 0.7289; slopes +0.0004 ± 0.0052 vs
  -0.0017 ± 0.0035, difference +0.0021 ± 0.0085 (missed by 0.002; met on the quick protocol);
- retail (3 seeds): M 0.6158 → 0.6071, LightGBM 0.6370 → 0.6416; slopes -0.0099 ± 0.0025 vs
  +0.0052 ± 0.0062, difference -0.0151 ± 0.0042 (met);
- M at p ≤ 0.3 / M at p = 0: at most 1.003, 1.001, 1.001 (met).

Read: on the full protocol both curves are flat (M moves at most 0.2 % between p = 0 and 0.4 in
manufacturing and logistics and improves in retail) and M sits 0.02-0.09 below LightGBM at every
p; where the slope goal is missed, the difference is far below its standard error, so the seeds
cannot tell the two slopes apart.
"""

from __future__ import annotations

import argparse
import resource
import time
import warnings
from pathlib import Path

import pandas as pd

from sclm import config
from sclm.benchmarking import Bench
from sclm.robustness import (
    DEFAULT_NOISE_SCALES,
    DEFAULT_P_VALUES,
    mean_over_seeds,
    noise_fields,
    plot_robustness,
    robustness_curve,
    summarize,
)

SCENARIOS = ("manufacturing", "logistics", "retail")


def _floats(text: str) -> tuple[float, ...]:
    return tuple(float(x) for x in text.split(",") if x.strip())


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenarios", default=",".join(SCENARIOS))
    ap.add_argument("--quick", action="store_true", help="420-day scenarios, 3 epochs")
    ap.add_argument("--n-days", type=int, default=None, help="simulated days (default 760; quick 420)")
    ap.add_argument("--epochs", type=int, default=None, help="M's max epochs (default 5; quick 3)")
    ap.add_argument("--patience", type=int, default=2)
    ap.add_argument("--stride", type=int, default=1, help="days between M's training windows")
    ap.add_argument("--p-values", default=",".join(f"{p:g}" for p in DEFAULT_P_VALUES))
    ap.add_argument("--noise-scales", default=",".join(f"{s:g}" for s in DEFAULT_NOISE_SCALES))
    ap.add_argument("--point", default="median", choices=("median", "mean"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--seeds",
        default=None,
        help="comma-separated seeds (scenario and M): every cell run per seed, the goals judged on "
        "the seed-mean curve, slope standard errors over seeds (default: --seed alone)",
    )
    ap.add_argument("--device", default="auto")
    ap.add_argument("--n-jobs", type=int, default=1, help="cells in parallel (processes)")
    ap.add_argument("--out-dir", default=None)
    ap.add_argument("--tag", default=None)
    ap.add_argument(
        "--no-p-correction",
        action="store_true",
        help="ablation: the cleaner skips the noise-rate step (IoT undercount left in the fused data)",
    )
    ap.add_argument(
        "--from-csv",
        default=None,
        help="comma-separated curve CSVs written by earlier runs: summarise them (no training)",
    )
    args = ap.parse_args(argv)
    n_days = args.n_days or (420 if args.quick else None)
    epochs = args.epochs or (3 if args.quick else 5)
    names = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = sorted(set(names) - set(SCENARIOS))
    if unknown:
        ap.error(f"unknown scenario(s) {unknown}; choose from {list(SCENARIOS)}")
    p_values, scales = _floats(args.p_values), _floats(args.noise_scales)
    stem = f"robustness_{args.tag}" if args.tag else "robustness"
    bench = Bench(stem, out_dir=args.out_dir)
    budget = f"n_days {n_days or 760}, epochs {epochs}, patience {args.patience}, stride {args.stride}"
    if args.no_p_correction:
        budget += "; ablation: no p-hat correction"
    bench.add("budget", None, None, budget)
    curves = []
    t_all = time.perf_counter()

    def show(row: dict) -> None:
        print(
            f"  {row['scenario']} noise x{row['noise_scale']:g} p={row['p']:g} {row['model']}: "
            f"relMASE {row['relMASE']:.4f} (MASE {row['MASE']:.4f}, p_hat {row['p_hat']:.4f}, "
            f"cell {row['cell_s']:.0f} s)",
            flush=True,
        )

    if args.from_csv:
        curves = [pd.read_csv(f) for f in args.from_csv.split(",") if f.strip()]
        names = []
        bench.add("budget", None, None, f"summary of {args.from_csv}")
    seeds = [int(x) for x in args.seeds.split(",") if x.strip()] if args.seeds else [args.seed]
    if len(seeds) > 1:
        bench.add("seeds", len(seeds), None, "goals on the seed-mean curve: " + ",".join(map(str, seeds)))
    for name, seed in [(n, sd) for n in names for sd in seeds]:
        print(f"# {name} seed {seed}: noise fields scaled: {', '.join(noise_fields(name))}", flush=True)
        t0 = time.perf_counter()
        with warnings.catch_warnings():  # p = 0: p_hat slightly < 0 is reported and not applied
            warnings.filterwarnings("ignore", message="noise rate of source", category=UserWarning)
            df = robustness_curve(
                name,
                p_values=p_values,
                noise_scales=scales,
                seed=seed,
                n_days=n_days,
                epochs=epochs,
                patience=args.patience,
                window_stride=args.stride,
                point=args.point,
                device=args.device,
                n_jobs=args.n_jobs,
                cleaner_options={"skip": ["noise_rate"]} if args.no_p_correction else None,
                progress=show if args.n_jobs == 1 else None,
            )
        curves.append(df.assign(seed=seed))
        bench.add(f"{name}: seed {seed}: total s", round(time.perf_counter() - t0, 1))
    curve = raw = pd.concat(curves, ignore_index=True)
    if "seed" in curve.columns and curve["seed"].nunique() > 1:
        for r in curve.itertuples(index=False):
            bench.add(
                f"{r.scenario}: {r.model}: noise x{r.noise_scale:g}: p={r.p:g}: seed {r.seed}: relMASE",
                round(r.relMASE, 4),
            )
        per_seed = curve
        curve = mean_over_seeds(curve)
        summary = summarize(per_seed)
    else:
        summary = summarize(curve)
    for r in curve.itertuples(index=False):
        bench.add(
            f"{r.scenario}: {r.model}: noise x{r.noise_scale:g}: p={r.p:g}: relMASE", round(r.relMASE, 4)
        )
    for (name, s), r in summary.slopes.iterrows():
        for m in ("M", "LightGBM"):
            bench.add(f"{name}: noise x{s:g}: slope relMASE/p {m}", round(float(r[f"slope_{m}"]), 4))
            bench.add(f"{name}: noise x{s:g}: slope standard error {m}", round(float(r[f"se_{m}"]), 4))
        if "se_diff" in r.index:
            bench.add(
                f"{name}: noise x{s:g}: standard error over seeds of slope M - slope LightGBM",
                round(float(r["se_diff"]), 4),
            )
        if s != summary.reference_scale:
            bench.add(
                f"{name}: noise x{s:g}: slope M - slope LightGBM",
                round(float(r["slope_M"] - r["slope_LightGBM"]), 4),
            )
    for (name, s, p), r in summary.ratios.iterrows():
        bench.add(f"{name}: noise x{s:g}: p={p:g}: M relMASE / M at p=0", round(float(r["M_ratio"]), 4))
    for name, g in summary.goals.iterrows():
        bench.add(
            f"{name}: noise x1: slope M - slope LightGBM",
            float(g["slope_M"] - g["slope_LightGBM"]),
            "<= 0",
            f"slopes M {g['slope_M']:.4f}, LightGBM {g['slope_LightGBM']:.4f} (relMASE per unit p)",
        )
        bench.add(
            f"{name}: noise x1: max over p<=0.3 of M relMASE / M at p=0",
            float(g["max_M_ratio"]),
            "<= 1.05",
        )
    r = resource.getrusage(resource.RUSAGE_SELF)
    bench.add("total s", round(time.perf_counter() - t_all, 1))
    bench.add("total CPU s (user+sys, this process)", round(r.ru_utime + r.ru_stime, 1))

    pd.set_option("display.width", 200, "display.max_columns", 30)
    wide = curve.pivot_table(index=["scenario", "noise_scale", "p"], columns="model", values="relMASE")
    print("\n# relMASE (rows: scenario, noise scale, p)")
    print(wide.round(4).to_string())
    print("\n# slopes of relMASE against p (least squares)")
    print(summary.slopes.round(4).to_string())
    print("\n# M's relMASE / its p = 0 figure")
    print(summary.ratios.round(4).to_string())
    print("\n# goals at noise x1")
    print(summary.goals.round(4).to_string())
    out = Path(args.out_dir) if args.out_dir else config.BUILD_DIR / "bench"
    out.mkdir(parents=True, exist_ok=True)
    raw.to_csv(out / f"{stem}.csv", index=False)  # per seed: --from-csv summarises it again
    plot_robustness(curve).savefig(out / f"{stem}.png", dpi=100)
    print(f"\ncurve: {out / f'{stem}.csv'}; figure: {out / f'{stem}.png'}")
    bench.finish()


if __name__ == "__main__":
    main()
