"""Benchmark: monitoring and feedback — conformal coverage, anomaly alerts, drift, updating M.

Protocol, per data set (``manufacturing``, ``logistics``, ``retail``: the truth panel of
``sclm.make_scenario(name, seed=0)`` and ``scenario_task``; ``pasta``: the protocol of
``bench/forecast.py``, closed days never scored)
------------------------------------------------------------------------------------------
Three stretches of days: M is trained on the first (``sclm.pipeline.train_forecaster``, the
settings below), the next ``cal`` days are the clean calibration days, the last ``test`` days are
monitored.  Scenarios: 760 days = 480 train + 140 calibration + 140 test (``--quick``: 420 days =
294 + 84 + 42, M fine-tuned every 21 days).  Pasta: the last 280 days = 140 + 140 (``--quick``:
84 + 56), M trained on everything before.

1. Coverage (``sclm.monitor.rolling_forecasts``: M trained once, forecasts from every day).
   Calibration rows: forecasts whose target day is in the calibration stretch; test rows:
   forecasts made from an origin on or after the calibration end (every target day later).
   ``cov80 raw`` = share of test actuals in M's [q0.1, q0.9]; ``cov80 split`` = split-conformal
   CQR interval (per variable × horizon step, scores scaled by the series' calibration MAE);
   ``cov80 ACI`` = the same start, updated online (γ = 0.05, one step per day) as the test actuals arrive
   (``calibrate_online``: an origin's intervals use only actuals known at that origin).
   Goal: |cov80 ACI − 0.80| <= 0.03: ACI is what ``Monitor`` issues (``method="aci"``); the
   split row is a comparison without a goal, and its note and the printout say when it misses.
2. Alerts (scenarios).  ``inject_anomalies(rate=0.02)`` over the test days of the targets:
   spikes of +1 level (the series' median day before the test: a typical day doubles), drops to
   zero (a lost feed, an outage), level shifts of ±0.5 level for 21 days.  ``Monitor``
   (calibrated on the clean calibration days, never on the key) runs day by day over the
   injected panel: anomaly band = per variable the largest clean calibration score (CQR on the
   one-step forecasts of M as calibrated, in series-MAE units), at least ±40 % of a normal day
   (``Monitor``'s defaults; measured in ``sclm._anomalies``); CUSUM drift detector with per-variable thresholds
   from the clean residuals; quarantine of flagged values and holding of values while a drift is
   being tested; M fine-tuned every 14 days.  ``score_alerts``: point precision/recall per
   (node, variable, day) (shift days and the 7 after are not point cells); a shift is detected if
   a drift alarm on its series falls within 7 days of its onset.  Goals: precision, recall >= 0.9.
   Typed: point alerts above the band are ``spike`` alerts, below ``drop`` alerts, each scored
   against its kind of the key; ``ShiftDetector`` alarms (the cleaned actuals' latest week
   against a lagged 4-week reference, known-future effects such as promotion and price removed
   first, or, per series where it is tighter on the clean days, the residual from a regression
   on the node's covariates at lags 0-14 (the policy: orders); threshold from the clean days;
   ``sclm._shift``; point alerts replaced by their forecast unless 3 in a row on one side,
   which read as a level) are ``level_shift`` alarms, scored
   against the key's shifts (recall within 7 days, precision = share inside a shift's
   [start, end + 7]); residual CUSUM alarms stay typed ``drift`` (their shift recall a
   comparison row).
   The same Monitor over the clean panel gives the clean alert rate and false drift alarms.
3. Feedback (the clean run).  Every 14 days M is fine-tuned from its weights
   (``update_forecaster``'s defaults: 1 epoch, lr 1e-4, every window with the new days + 280
   days of older targets replayed, here at M's training window stride; 56 days at 2 epochs left
   logistics at 1.037 × a retrain); the first ``--retrains`` updates are also compared with a full retrain (same
   settings as M) on the same panel.  relMASE (seasonal-naive reference, ``score_relmase``) on
   the next 14 (pasta 28) days from each compared update; goals: updated / retrained <= 1.02 and
   update seconds / retrain seconds <= 0.2.  ``relMASE stale`` is M never updated, on the windows
   after every update.

Training budgets (CPU): scenarios 10 epochs, patience 2, every window; pasta 10 epochs, patience
2, window stride 7 (118 series; ``--quick`` 12 series).  ``--quick``: 4 epochs, window stride 2.
Timings are wall-clock on a shared machine.

Measured (full protocol, one process per scenario, ``--datasets <name> --tag <name>_h1b``, 2
shared cores under load ~6, torch threads 1; 20–23 min wall, 278 / 388 / 395 CPU-s for
manufacturing / logistics / retail): point alerts precision / recall manufacturing 1.00 / 1.00
(TP 27), logistics 1.00 / 1.00 (TP 44; was 0.898 / 1.00), retail 0.977 / 0.977 (TP 43, FP 1,
FN 1; was 0.911 / 0.932); spikes 1.00 / 1.00, 1.00 / 1.00, 0.95 / 0.95 (logistics was 0.80 /
1.00, retail 0.85 / 0.85); drops 1.00 / 1.00 on all three; clean alerts per 1,000 cells 0, 0, 0
(was 0, 1.49, 0.30); level shifts 0.93 / 0.94, 1.00 / 0.90, 0.96 / 0.96 (``sclm._shift``);
ACI 80 % coverage 0.7952 / 0.7969 / 0.7955 (loop 0.7947 / 0.8007 / 0.8010); updated / retrained
relMASE 1.0045 / 0.9998 / 1.0041 at update / retrain time 0.074 / 0.083 / 0.073.  The pasta leg
was not rerun with the new band.

Run: .venv/bin/python bench/monitor.py [--quick] [--datasets retail,pasta] [--retrains 2]
Prints the table and writes build/bench/monitor.json (monitor_quick.json with --quick).
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

from sclm import make_scenario
from sclm.benchmarking import Bench
from sclm.monitor import (
    ConformalCalibrator,
    Monitor,
    calibrate_online,
    inject_anomalies,
    rolling_forecasts,
    score_alerts,
)
from sclm.pipeline import ForecastTask, scenario_task, train_forecaster

SYNTHETIC = ("manufacturing", "logistics", "retail")
ALL = (*SYNTHETIC, "pasta")
DAY = pd.Timedelta(days=1)


def setup(name: str, quick: bool) -> tuple[ForecastTask, dict, str | None]:
    """The task, its training settings and the ignored-day column."""
    if name in SYNTHETIC:
        sc = make_scenario(name, seed=0, **({"n_days": 420} if quick else {}))
        train = {"epochs": 4 if quick else 10, "patience": 2, "window_stride": 2 if quick else 1}
        return scenario_task(sc, horizon=14, input_size=56), train, None
    from forecast import real_setup, task_of  # bench/forecast.py: the pasta protocol

    s = real_setup("pasta", quick)
    task = task_of(s)
    train = {"epochs": 4 if quick else 10, "patience": 2, "window_stride": 7}
    return ForecastTask(**{**task.__dict__, "panel": s.panel.drop(columns="open")}), train, "closed"


def stretches(task: ForecastTask, name: str, quick: bool) -> tuple[pd.Timestamp, pd.Timestamp]:
    days = task.panel.index.get_level_values("ts")
    first, last = days.min(), days.max()
    if name in SYNTHETIC:
        n_train, n_cal = (294, 84) if quick else (480, 140)
        train_end = first + (n_train - 1) * DAY
        return train_end, train_end + n_cal * DAY
    n_test, n_cal = (56, 84) if quick else (140, 140)
    cal_end = last - n_test * DAY
    return cal_end - n_cal * DAY, cal_end


def drop_closed(frame: pd.DataFrame, panel: pd.DataFrame, ignore: str | None) -> pd.DataFrame:
    if ignore is None:
        return frame
    flag = panel[ignore].astype(bool).reindex(pd.MultiIndex.from_frame(frame[["node", "ts"]])).to_numpy()
    return frame[~flag]


def cov(f: pd.DataFrame, lo: str, hi: str) -> float:
    return float(np.mean((f["y"] >= f[lo]) & (f["y"] <= f[hi])))


def coverage(name: str, task, m, train_end, cal_end, ignore, bench: Bench) -> None:
    last = task.last_day
    fc = rolling_forecasts(m, pd.date_range(train_end, last - DAY), pad_known_future=True)
    fc = drop_closed(fc[fc["ts"] <= last], task.panel, ignore)
    cal, test = fc[fc["ts"] <= cal_end], fc[fc["origin"] >= cal_end]
    split = ConformalCalibrator(alpha=0.2, method="split", floor=0.0).fit(cal)
    aci = ConformalCalibrator(alpha=0.2, method="aci", gamma=0.05, floor=0.0).fit(cal)
    out_split = split.transform(test)
    out_aci = calibrate_online(aci, test)
    raw, c_split, c_aci = cov(test, "q0.1", "q0.9"), cov(out_split, "lo", "hi"), cov(out_aci, "lo", "hi")
    n = f"{len(test)} test cells, {len(cal)} calibration cells"
    bench.add(f"{name}: cov80 raw", round(raw, 4), note=n)
    bench.add(f"{name}: cov80 split", round(c_split, 4))
    bench.add(f"{name}: cov80 ACI", round(c_aci, 4))
    miss = abs(c_split - 0.8)
    bench.add(
        f"{name}: |cov80 split - 0.8| (comparison only)",
        round(miss, 4),
        note="Monitor issues ACI intervals; the goal is on the ACI row"
        + (f"; split misses the 0.03 goal by {miss - 0.03:.4f}" if miss > 0.03 else "; split meets 0.03 too"),
    )
    if miss > 0.03:
        print(
            f"  {name}: split conformal (comparison only) misses |cov80 - 0.8| <= 0.03: {miss:.4f}",
            flush=True,
        )
    bench.add(
        f"{name}: |cov80 ACI - 0.8|", round(abs(c_aci - 0.8), 4), "<= 0.03", note="the product's intervals"
    )


def monitoring(name, task, m, train, cal_end, ignore, args, bench: Bench) -> None:
    # update_forecaster's defaults (1 epoch, lr 1e-4, 280 replayed days) at M's training stride
    options = {"context_stride": train["window_stride"]}
    every = 21 if args.quick else 14
    # the anomaly band: Monitor's defaults (each variable's largest clean one-step score, at least
    # min_deviation of a normal day)
    mon = Monitor(m, ignore=ignore, update_every=every, update_options=options)
    mon.calibrate(cal_end)
    n_cal = mon.alert_calibrator_.n_scores_
    for v, q in mon.alert_calibrator_.quantiles_.items():
        bench.add(
            f"{name}: alert threshold, {v} (MAE units)",
            round(float(q), 3),
            note=f"largest of {int(n_cal[v])} clean one-step scores",
        )
    bench.add(f"{name}: alert materiality (share of a normal day)", mon.min_deviation)
    retrain = dict(train)
    t0 = time.perf_counter()
    clean = mon.run(task.panel, compare_retrain=args.retrains, retrain_options=retrain)
    g = clean.figures
    cells = len(
        drop_closed(clean.forecasts[clean.forecasts["step"] == 1].dropna(subset=["y"]), task.panel, ignore)
    )
    bench.add(f"{name}: loop s (clean run)", round(time.perf_counter() - t0, 1))
    bench.add(f"{name}: loop cov80 raw", round(g["coverage_raw"], 4), note="updated M, as issued")
    bench.add(f"{name}: loop cov80 ACI", round(g["coverage_calibrated"], 4))
    bench.add(
        f"{name}: clean alerts per 1000 cells", round(1000 * g["alerts"] / cells, 3), note=f"{cells} cells"
    )
    bench.add(f"{name}: clean drift alarms", g["drift_alarms"], note="residual CUSUM, typed drift")
    bench.add(f"{name}: clean level-shift alarms", g.get("shift_alarms", np.nan), note="ShiftDetector")
    bench.add(f"{name}: relMASE stale", round(g["relmase_stale"], 4), note=f"{g['updates']:.0f} updates")
    bench.add(f"{name}: relMASE updated", round(g["relmase_updated"], 4))
    bench.add(
        f"{name}: relMASE retrained", round(g["relmase_retrained"], 4), note=f"{args.retrains} retrains"
    )
    bench.add(f"{name}: relMASE updated / retrained", round(g["relmase_ratio"], 4), "<= 1.02")
    bench.add(f"{name}: update s", round(g["update_seconds"], 2))
    bench.add(f"{name}: retrain s", round(g["retrain_seconds"], 2))
    bench.add(f"{name}: update s / retrain s", round(g["time_ratio"], 4), "<= 0.2")
    print(f"  {name}: {clean.summary()}", flush=True)
    if name not in SYNTHETIC:
        return
    start = cal_end + DAY
    injected, key = inject_anomalies(task.panel, rate=0.02, columns=list(task.targets), start=start, seed=0)
    res = mon.run(injected)
    s = score_alerts(
        res.alerts, key, start=start, end=task.last_day, drift=res.drift, shifts=res.shifts, delay=7
    )
    counts = key["kind"].value_counts().to_dict()
    before = task.panel[task.panel.index.get_level_values("ts") < start][list(task.targets)]
    level = before.abs().groupby(level="node").median().stack()  # (node, variable) -> L
    rel = key["delta"].abs() / level.reindex(pd.MultiIndex.from_frame(key[["node", "variable"]])).to_numpy()
    rel = rel.groupby(key["kind"]).median()
    bench.add(
        f"{name}: anomalies injected", float(len(key)), note=", ".join(f"{k} {v}" for k, v in counts.items())
    )
    bench.add(
        f"{name}: alert precision",
        round(s["point_precision"], 4),
        ">= 0.9",
        note=f"TP {s['point_tp']:.0f}, FP {s['point_fp']:.0f}",
    )
    bench.add(f"{name}: alert recall", round(s["point_recall"], 4), ">= 0.9", note=f"FN {s['point_fn']:.0f}")
    for kind in ("spike", "drop"):
        bench.add(
            f"{name}: {kind} precision", round(s[f"{kind}_precision"], 4), ">= 0.9", note="typed alerts"
        )
        bench.add(f"{name}: {kind} recall", round(s[f"{kind}_recall"], 4), ">= 0.9")
    bench.add(
        f"{name}: level-shift recall (ShiftDetector alarm <= 7 d)",
        round(s["level_shift_recall"], 4),
        ">= 0.9",
        note=f"{s['shifts']:.0f} shifts",
    )
    bench.add(
        f"{name}: level-shift precision",
        round(s["level_shift_precision"], 4),
        ">= 0.9",
        note=f"{s['level_shift_false_alarms']:.0f} alarm(s) outside every shift's [start, end + 7 d]",
    )
    bench.add(f"{name}: level-shift delay days", round(s["level_shift_delay_mean"], 2))
    modes = mon.shift_.mode_.groupby(level="variable").value_counts().unstack(fill_value=0)
    for v in task.targets:
        kv = key[(key["kind"] != "level_shift") | (key["variable"] == v)]
        sv = score_alerts(
            res.alerts.iloc[:0],
            kv,
            start=start,
            end=task.last_day,
            shifts=res.shifts[res.shifts["variable"] == v],
        )
        used = ", ".join(f"{m} {int(n)}" for m, n in modes.loc[v].items() if n) if v in modes.index else ""
        bench.add(
            f"{name}: level-shift recall, {v}",
            round(sv["level_shift_recall"], 4),
            note=f"{sv['shifts']:.0f} shifts, {sv['level_shift_false_alarms']:.0f} false alarm(s); statistic: {used}",
        )
    bench.add(
        f"{name}: shift recall by drift alarms (residual CUSUM <= 7 d)",
        round(s["shift_recall"], 4),
        note="comparison: M follows a shift before the residual sum decides",
    )
    bench.add(f"{name}: drift delay days", round(s["shift_delay_mean"], 2))
    bench.add(f"{name}: change recall (either alarm type)", round(s["change_recall"], 4))
    shifts = key[key["kind"] == "level_shift"]
    spread = mon.drift_.spread_.reindex(pd.MultiIndex.from_frame(shifts[["node", "variable"]])).to_numpy()
    size = shifts["delta"].abs().to_numpy() / spread
    bench.add(
        f"{name}: shift size in detector spreads (median)",
        round(float(np.median(size)), 2),
        note=f"{int((size >= 3).sum())} of {len(size)} shifts >= 3 spreads (caught within 7 d on white counts)",
    )
    bench.add(
        f"{name}: false drift alarms (injected run)", s["drift_false_alarms"], note="typed drift, no goal"
    )
    print(f"  {name}: median |delta| / the series' level, by kind: {rel.round(2).to_dict()}", flush=True)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="420-day scenarios, pasta 12 series, 4 epochs")
    ap.add_argument("--datasets", default=",".join(ALL), help=f"comma-separated subset of {','.join(ALL)}")
    ap.add_argument(
        "--retrains", type=int, default=None, help="updates compared with a full retrain (default 5; quick 1)"
    )
    ap.add_argument("--out-dir", default=None, help="where the JSON goes (default build/bench)")
    ap.add_argument("--tag", default=None, help="JSON name suffix: build/bench/monitor_<tag>.json")
    args = ap.parse_args(argv)
    names = [n.strip() for n in args.datasets.split(",") if n.strip()]
    unknown = sorted(set(names) - set(ALL))
    if unknown:
        ap.error(f"unknown data set(s) {unknown}; choose from {list(ALL)}")
    args.retrains = args.retrains if args.retrains is not None else (1 if args.quick else 5)
    stem = "monitor_quick" if args.quick else "monitor"
    bench = Bench(f"{stem}_{args.tag}" if args.tag else stem, out_dir=args.out_dir)
    bench.add("torch threads", torch.get_num_threads())
    t_all = time.perf_counter()
    for name in names:
        t0 = time.perf_counter()
        task, train, ignore = setup(name, args.quick)
        train_end, cal_end = stretches(task, name, args.quick)
        t1 = time.perf_counter()
        m = train_forecaster(task, train_end=train_end, device="cpu", **train)
        bench.add(
            f"{name}: train s (M)",
            round(time.perf_counter() - t1, 2),
            note=f"{m.fit_result.epochs_run} epochs",
        )
        coverage(name, task, m, train_end, cal_end, ignore, bench)
        monitoring(name, task, m, train, cal_end, ignore, args, bench)
        bench.add(f"{name}: total s", round(time.perf_counter() - t0, 1))
        print(f"  {name} done in {time.perf_counter() - t0:.0f} s", flush=True)
    bench.add("total s", round(time.perf_counter() - t_all, 1))
    bench.finish()


if __name__ == "__main__":
    main()
