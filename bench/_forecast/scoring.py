"""Scoring of ``bench/forecast.py``: relMASE of every row's point, WQL, 80 % coverage, the goals,
per-block figures and the saved forecasts (the protocol is in ``bench/forecast.py``'s docstring)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from forecast_baselines import SEASON_LENGTH

from sclm.baselines import DEFAULT_QUANTILES
from sclm.benchmarking import Bench
from sclm.metrics import coverage, relative_mase_table, wql

from .rows import (
    BASELINES,
    COUNTS,
    EXTRA_BASELINES,
    GOAL_MODEL,
    GOALS,
    HYBRIDS,
    QCOLS,
    REFERENCE,
    SELECTION_MODEL,
    UNROUNDED,
)


def best_baseline(table: pd.DataFrame, labels) -> str:
    """The baseline row with the lowest relMASE in ``table``, over every baseline of
    ``BASELINES`` and, where they were run (``--counts``), their rounded twins ``<label> (counts)``."""
    cands = list(BASELINES) + [b + COUNTS for b in BASELINES if b + COUNTS in labels]
    return min(cands, key=lambda b: table.loc[b, "relMASE"])


def point_table(results: dict[str, pd.DataFrame], history: pd.DataFrame) -> pd.DataFrame:
    """relMASE of every row's point (``<label>``) and mean output (``<label> mean``):
    :func:`sclm.metrics.relative_mase_table` to the seasonal naive forecast (arguments as
    :func:`score`)."""
    if REFERENCE not in results:
        raise ValueError(f"{REFERENCE!r} must be run: relative MASE is measured to it")
    key = ["unique_id", "origin", "ds"]
    # the point forecast of every row is its median q0.5 (decided before any test window: MASE is
    # a scaled absolute error, minimised in expectation by the median); the reference is the
    # seasonal naive forecast itself (the repeated season, relMASE's denominator)
    point = {label: ("mean" if label == REFERENCE else "q0.5") for label in results}
    cols = {label: r.set_index(key)[point[label]].rename(label) for label, r in results.items()}
    for label, r in results.items():  # the mean output too, as context (not a goal)
        if label != REFERENCE:
            cols[f"{label} mean"] = r.set_index(key)["mean"].rename(f"{label} mean")
    y = results[REFERENCE].set_index(key)["y"]
    wide = pd.concat([y, *cols.values()], axis=1).reset_index()
    return relative_mase_table(
        wide, list(cols), REFERENCE, train_df=history, season_length=SEASON_LENGTH, cutoff_col="origin"
    )


def score(
    name: str,
    results: dict[str, pd.DataFrame],
    history: pd.DataFrame,
    secs: dict,
    bench: Bench,
    goals: bool = True,
) -> pd.DataFrame:
    """Add one data set's figures and goals to ``bench``; returns the relMASE table.

    ``results``: label -> long forecasts ``unique_id, origin, ds, y, mean, q0.1..q0.9`` on the
    scored cells (the same for every label); ``history``: ``unique_id, ds, y`` of every day (the
    scales come from its days up to each origin).  ``goals`` False (validation origins): the
    same figures, no goal checked.
    """
    table = point_table(results, history)
    for label, r in results.items():
        row = table.loc[label]
        goal = GOALS.get(name) if label == GOAL_MODEL and goals else None
        value = float(row["relMASE"]) if goal else round(float(row["relMASE"]), 4)
        note = f"{int(row['series'])} series, {int(row['excluded'])} excluded, {int(row['clipped'])} clipped"
        note += "; point: the repeated season (reference)" if label == REFERENCE else "; point: q0.5"
        bench.add(f"{name}: {label}: relMASE", value, goal, note)
        if label != REFERENCE:
            bench.add(
                f"{name}: {label}: relMASE of mean", round(float(table.loc[f"{label} mean", "relMASE"]), 4)
            )
        yv = r["y"].to_numpy("float64")
        bench.add(f"{name}: {label}: WQL", round(wql(yv, r[QCOLS].to_numpy("float64"), DEFAULT_QUANTILES), 4))
        cover = coverage(yv, r["q0.1"].to_numpy("float64"), r["q0.9"].to_numpy("float64"))
        bench.add(f"{name}: {label}: cov80", round(cover, 4))
        bench.add(f"{name}: {label}: train s", round(secs[label][0], 2))
        if secs[label][1] is not None:
            bench.add(f"{name}: {label}: predict s", round(secs[label][1], 3))
    if goals and GOAL_MODEL not in results and any(k.startswith("M") for k in results):
        note = f"not evaluated: the M of the goals, {GOAL_MODEL!r} (--m-variants ...,m-mix), not run"
        bench.add(f"{name}: {GOAL_MODEL}: relMASE / best baseline's", None, "<= 1", note)
    # the goal is M's (GOAL_MODEL); the selection's and a hybrid's ratio are context only
    for model in dict.fromkeys([GOAL_MODEL, UNROUNDED, SELECTION_MODEL, *HYBRIDS]):
        if model not in results:
            continue
        goal = "<= 1" if goals and model == GOAL_MODEL else None
        figure = f"{name}: {model}: relMASE / best baseline's"
        missing = [b for b in BASELINES if b not in results]
        if missing:
            note = f"not evaluated: needs every baseline; not run: {', '.join(missing)}"
            bench.add(figure, None, goal, note)
        else:
            best = best_baseline(table, results)
            ratio = float(table.loc[model, "relMASE"] / table.loc[best, "relMASE"])
            forms = " (as is and rounded)" if any(b + COUNTS in results for b in BASELINES) else ""
            note = f"best of the {len(BASELINES)} baselines{forms}: {best}"
            bench.add(figure, ratio if goal else round(ratio, 4), goal, note)
        for extra in (e + form for e in EXTRA_BASELINES for form in ("", COUNTS)):
            if extra in results:
                ratio = float(table.loc[model, "relMASE"] / table.loc[extra, "relMASE"])
                bench.add(f"{name}: {model}: relMASE / {extra}'s", round(ratio, 4))
    return table


def block_scores(
    name: str, results: dict[str, pd.DataFrame], history: pd.DataFrame, block: int, bench: Bench
) -> list[pd.DataFrame]:
    """relMASE and cov80 of every row on each run of ``block`` consecutive origins (oldest first;
    the last block may be shorter), and the M rows' (goal, selection, hybrids) / the best baseline's there: how much a verdict on
    ``block`` origins moves.  Scored like :func:`score` (no goals); returns the blocks' tables."""
    origins = sorted(pd.unique(results[REFERENCE]["origin"]))
    tables = []
    for i in range(0, len(origins), block):
        keep = origins[i : i + block]
        sub = {k: r[r["origin"].isin(keep)] for k, r in results.items()}
        table = point_table(sub, history)
        span = f"origins {i + 1}-{i + len(keep)} ({pd.Timestamp(keep[0]).date()}..{pd.Timestamp(keep[-1]).date()})"
        for label, r in sub.items():
            bench.add(f"{name}: {span}: {label}: relMASE", round(float(table.loc[label, "relMASE"]), 4))
            cover = coverage(
                r["y"].to_numpy("float64"), r["q0.1"].to_numpy("float64"), r["q0.9"].to_numpy("float64")
            )
            bench.add(f"{name}: {span}: {label}: cov80", round(cover, 4))
        for model in dict.fromkeys([GOAL_MODEL, UNROUNDED, SELECTION_MODEL, *HYBRIDS]):
            if model in sub and all(b in sub for b in BASELINES):
                best = best_baseline(table, sub)
                ratio = float(table.loc[model, "relMASE"] / table.loc[best, "relMASE"])
                bench.add(f"{name}: {span}: {model}: relMASE / best baseline's", round(ratio, 4), None, best)
        tables.append(table)
    return tables


def save_forecasts(parts: dict[str, list[pd.DataFrame]], path: Path) -> None:
    """Every row's scored forecasts so far as one CSV (column ``row``), rewritten after each origin
    (``--save-forecasts``), so a run stopped early keeps its finished origins."""
    done = [p.assign(row=label) for label, ps in parts.items() for p in ps]
    if done:
        path.parent.mkdir(parents=True, exist_ok=True)
        pd.concat(done, ignore_index=True).to_csv(path, index=False)
