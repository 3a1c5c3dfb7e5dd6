"""The data sets of ``bench/forecast.py``: one :class:`Setup` per data set (a wide panel for M and
a long frame for the baselines), the columns some M rows add (static features, series id, the
year-ago value) and the :class:`sclm.pipeline.ForecastTask` of one row."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from forecast_baselines import SEASON_LENGTH, csv_task, origin_days, pasta_brands_task, pasta_task, yaz_task

from sclm import make_scenario
from sclm.pipeline import ForecastTask, scenario_task
from sclm.windows import rolling_origin_splits, year_ago_feature

SYNTHETIC = ("manufacturing", "logistics", "retail")
REAL = ("pasta", "yaz", "pasta-brands")
ALL = (*SYNTHETIC, *REAL)  # the default --datasets; "csv" (--csv PATH) is one's own file


@dataclass
class Setup:
    """One data set: a wide panel for M and a long frame (per series) for the baselines."""

    name: str
    panel: pd.DataFrame  # index (node, ts)
    targets: list[str]
    covariates: list[str]  # past-only input channels
    known_future: list[str]  # panel columns known over the horizon (+ "calendar" added for M)
    scaled: list[str]  # columns PanelScaler rescales
    horizon: int
    origins: list[pd.Timestamp]  # forecast origins (last input day)
    retrain: bool  # True: M retrained at every origin; False: once before the first test day
    input_size: int
    open_col: str | None = None  # boolean panel column: score only these days
    exog: list[str] = field(default_factory=list)  # LightGBM known-future columns
    static: list[str] = field(default_factory=list)  # per-series constants (add_static), for M rows
    ids: list[str] = field(default_factory=list)  # one-hot series id columns (add_series_id)


def series_id(node: str, target: str, n_targets: int) -> str:
    return node if n_targets == 1 else f"{node}/{target}"


def long_frame(s: Setup) -> pd.DataFrame:
    """unique_id, ds, y, exog..., open: one series per (node, target)."""
    p = s.panel.reset_index()
    parts = []
    for t in s.targets:
        d = pd.DataFrame(
            {
                "unique_id": [series_id(n, t, len(s.targets)) for n in p["node"]],
                "ds": p["ts"],
                "y": p[t].astype("float64"),
            }
        )
        for c in s.exog:
            d[c] = p[c].astype("float64").to_numpy()
        d["open"] = p[s.open_col].to_numpy(bool) if s.open_col else True
        parts.append(d)
    return pd.concat(parts, ignore_index=True)


def synthetic_setup(name: str, quick: bool) -> Setup:
    sc = make_scenario(name, seed=0, **({"n_days": 420} if quick else {}))
    task = scenario_task(sc, horizon=14, input_size=56)  # the case studies' roles (distractor included)
    splits = rolling_origin_splits(task.panel, horizon=14, n_origins=3)
    return Setup(
        name=name,
        panel=task.panel,
        targets=list(task.targets),
        covariates=list(task.covariates),
        known_future=list(task.known_future),
        scaled=list(task.scaled),
        horizon=14,
        origins=[sp.train_end for sp in splits],
        retrain=False,
        input_size=56,
        exog=list(task.known_future),
    )


def real_setup(
    name: str, quick: bool, before: int = 0, raw_shares: bool = True, csv: str | None = None
) -> Setup:
    """pasta, YAZ, pasta-brands or a CSV file (``name`` "csv", ``csv`` its path:
    :func:`forecast_baselines.csv_task`, YAZ's protocol) with the protocol of
    ``bench/forecast_baselines.py``.

    ``before`` K > 0 (``--origins-before``): the K origins one horizon apart before the first
    test origin (:func:`forecast_baselines.origin_days`) replace the test origins, and the data
    are cut at the first test origin, so no day of the test period is in the panel.

    0/1 flags are never rescaled; ``raw_shares`` (default; ``--no-raw-shares`` turns it off) also
    leaves every other covariate whose values up to the first origin all lie in [0, 1] (a share,
    such as the share of a brand's items on promotion) on its own scale instead of dividing it by
    each series' mean, so one global model reads the same promotion intensity as the same input
    everywhere (chosen on pasta-brands' 12 validation origins, docs/forecast_findings.md; no
    column of pasta or YAZ is such a share, so their setups do not change).
    """
    if name == "pasta":
        task = pasta_task(12 if quick else None)
    elif name == "yaz":
        task = yaz_task(None)
    elif name == "pasta-brands":
        task = pasta_brands_task(None)
    elif name == "csv":
        if not csv:
            raise ValueError("the data set 'csv' needs a file: --csv PATH")
        task = csv_task(csv)
    else:
        raise ValueError(f"unknown real data set {name!r}; one of {REAL}")
    df = task.data.rename(columns={"unique_id": "node", "ds": "ts", "y": "target"})
    origins = origin_days(df["ts"].max(), task.horizon, task.n_origins, before)
    if before > 0:  # nothing after the first test origin (= the last validation window's end)
        df = df[df["ts"] <= origins[-1] + pd.Timedelta(days=task.horizon)]
    exog = [c for c in df.columns if c not in ("node", "ts", "target", "open")]
    panel = df.set_index(["node", "ts"]).sort_index()
    panel[exog] = panel[exog].astype("float64")
    panel["target"] = panel["target"].astype("float64")
    unscaled = [c for c in exog if set(np.unique(panel[c])) <= {0.0, 1.0}]  # 0/1 flags
    if raw_shares:  # + shares: every value up to the first origin in [0, 1]
        past = panel[panel.index.get_level_values("ts") <= origins[0]]
        unscaled += [c for c in exog if c not in unscaled and past[c].between(0.0, 1.0).all()]
    return Setup(
        name=f"csv-{task.name}" if name == "csv" else name,
        panel=panel,
        targets=["target"],
        covariates=[],
        known_future=exog,
        scaled=["target", *[c for c in exog if c not in unscaled]],
        horizon=task.horizon,
        origins=origins,
        retrain=True,
        input_size=84 if name == "pasta" else 56,
        open_col="open",
        exog=exog,
    )


# --------------------------------------------------------------------------------------------------
# Columns of M's rows
# --------------------------------------------------------------------------------------------------


def add_static(s: Setup) -> None:
    """Two per-series constants as panel columns for M (not rescaled, not for LightGBM): ``s.static``.

    ``zero_share`` (share of zero days among open days) and ``log_mean`` (log1p of the mean), both
    over the days up to the first origin only, so no origin's test days leak into them.  They stand
    in for the series identity that LightGBM gets as a categorical feature; the rows with
    ``static`` (or every row with ``--static``) get them as constant known-future channels.
    """
    p = s.panel
    past = p[p.index.get_level_values("ts") <= s.origins[0]]
    if s.open_col:
        past = past[past[s.open_col].astype(bool)]
    from sclm.models._pretrain import STATIC, static_features

    p[list(STATIC)] = static_features(past[s.targets[0]], p.index.get_level_values("node")).to_numpy()
    s.static = list(STATIC)


YEAR_AGO = "year_ago"  # the panel column of add_year_ago


def add_year_ago(s: Setup) -> None:
    """The target's year-ago value of each day as a panel column :data:`YEAR_AGO`, for the rows
    with ``year_ago`` (:func:`sclm.windows.year_ago_feature`: the mean of the same weekday 51, 52
    and 53 weeks before; the first year's days get the series' mean up to the first origin, so
    no day after it is read).  Rescaled like the target (``s.scaled``) and read only by those rows
    (not a known-future column of the others, nor LightGBM's)."""
    s.panel[YEAR_AGO] = year_ago_feature(s.panel, s.targets[0], season_length=SEASON_LENGTH, end=s.origins[0])
    if YEAR_AGO not in s.scaled:
        s.scaled.append(YEAR_AGO)


def add_series_id(s: Setup) -> None:
    """One-hot series id columns ``id_<k>`` (constant known-future channels): ``s.ids``.

    Through M's known-future MLP a one-hot input is a learned series embedding (its first layer's
    column k), added to every day of series k's forecast: LightGBM's categorical series id.
    """
    nodes = s.panel.index.get_level_values("node")
    names = sorted(pd.unique(nodes))
    s.ids = [f"id_{k}" for k in range(len(names))]
    onehot = pd.DataFrame(
        (nodes.to_numpy()[:, None] == np.asarray(names)[None, :]).astype("float64"),
        index=s.panel.index,
        columns=s.ids,
    )
    s.panel = pd.concat([s.panel.drop(columns=s.ids, errors="ignore"), onehot], axis=1)


def task_of(
    s: Setup,
    extra: list[str] | tuple[str, ...] = (),
    input_size: int | None = None,
    past: list[str] | tuple[str, ...] = (),
) -> ForecastTask:
    """The data set as a :class:`sclm.pipeline.ForecastTask` (the open-day flag is not an input);
    ``extra``: further constant known-future columns (static features, series id);
    ``input_size``: days of history (default ``s.input_size``); ``past``: known-future columns
    that are also past input channels, first after the targets and first among the known-future
    columns (the layout ``ForecasterConfig.base_covariates`` reads)."""
    panel = s.panel.drop(columns=[s.open_col] if s.open_col else [])
    past = tuple(past)
    covariates = (*past, *s.covariates)
    known_future = (*past, *(c for c in s.known_future if c not in past), *extra)
    used = {*s.targets, *covariates, *known_future}
    return ForecastTask(
        panel=panel,
        targets=tuple(s.targets),
        covariates=covariates,
        known_future=known_future,
        horizon=s.horizon,
        input_size=input_size or s.input_size,
        scaled=tuple(c for c in s.scaled if c in used),  # a row's scaler sees its own columns only
    )


def event_columns(s: Setup) -> list[str]:
    """The event covariates of a data set: its known-future panel columns that are not rescaled
    (0/1 flags such as closed or holiday, and shares such as a promotion share), in order."""
    return [c for c in s.known_future if c not in s.scaled and c in s.panel.columns]
