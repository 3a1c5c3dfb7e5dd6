"""Panel → model tensors: sliding windows, calendar features, scalers and time-ordered splits.

A Panel (see ``docs/architecture.md``, Data contracts) is a wide DataFrame indexed by (``node``, ``ts``), one float column per
variable, daily, no gaps.  This module turns it into the arrays a forecaster eats:

* :func:`make_windows` → :class:`Windows`: ``X`` (N×T×C past inputs), ``X_future`` (N×H×F
  known-future covariates), ``Y`` (N×H×K targets) and ``meta`` (node, origin per window);
* :func:`calendar_features`: day-of-week and day-of-year on the unit circle, usable as
  known-future covariates (``known_future=("calendar",)`` adds them without touching the panel);
* :class:`PanelScaler`: per-node (or global) standardisation fitted on the training part only;
* :func:`rolling_origin_splits` and :func:`train_val_split`: evaluation origins and a
  validation split that never lets a training target see the validation period.

Timing convention
-----------------
A window of node ``n`` with **origin** ``t`` (the last input day) uses inputs on days
``t-T+1 .. t`` and targets on days ``t+1 .. t+H``; its known-future covariates are taken on the
target days ``t+1 .. t+H`` (calendar, planned price, planned promotion are known in advance).

No leakage
----------
``make_windows(..., end=t0)`` drops every panel row after ``t0`` *before* anything else, so no
value after ``t0`` can reach any array; ``PanelScaler.fit(panel, end=t0)`` likewise.  The test
suite changes every value after ``t0`` and checks the windows and the scaler are bit-identical.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from sclm.schema import DataValidationError

__all__ = [
    "CALENDAR_FEATURES",
    "PanelScaler",
    "Split",
    "Windows",
    "calendar_features",
    "make_windows",
    "rolling_origin_splits",
    "train_val_split",
    "year_ago_feature",
]

CALENDAR_FEATURES: tuple[str, ...] = ("dow_sin", "dow_cos", "doy_sin", "doy_cos")
"""Columns of :func:`calendar_features`; ``"calendar"`` in ``known_future`` expands to these."""

_DAY = np.timedelta64(1, "D")


# --------------------------------------------------------------------------------------------------
# Calendar features
# --------------------------------------------------------------------------------------------------


def _dates_of(index: pd.Index | pd.Series | Sequence) -> pd.DatetimeIndex:
    if isinstance(index, pd.MultiIndex):
        if "ts" not in index.names:
            raise DataValidationError(f"MultiIndex has no 'ts' level (levels: {list(index.names)})")
        return pd.DatetimeIndex(index.get_level_values("ts"))
    return pd.DatetimeIndex(index)


def calendar_features(index: pd.Index | pd.Series | Sequence) -> pd.DataFrame:
    """Day-of-week and day-of-year encoded as sine/cosine pairs.

    Parameters
    ----------
    index : DatetimeIndex, MultiIndex with a ``ts`` level, or array_like of dates, length R

    Returns
    -------
    pandas.DataFrame, shape (R, 4)
        Columns :data:`CALENDAR_FEATURES`: ``dow_sin/cos = sin/cos(2π·dow/7)`` (Monday = 0) and
        ``doy_sin/cos = sin/cos(2π·(dayofyear-1)/365.25)``; float64, values in [-1, 1].  The
        index is ``index`` itself when it is a pandas Index (so the frame joins a Panel), else
        the dates.
    """
    dates = _dates_of(index)
    dow = 2 * np.pi * dates.dayofweek.to_numpy(np.float64) / 7.0
    doy = 2 * np.pi * (dates.dayofyear.to_numpy(np.float64) - 1.0) / 365.25
    out_index = index if isinstance(index, pd.Index) else dates
    return pd.DataFrame(
        {"dow_sin": np.sin(dow), "dow_cos": np.cos(dow), "doy_sin": np.sin(doy), "doy_cos": np.cos(doy)},
        index=out_index,
    )


def year_ago_feature(
    panel: pd.DataFrame,
    column: str,
    *,
    season_length: int = 7,
    seasons: int = 52,
    width: int = 1,
    end: object | None = None,
) -> pd.Series:
    """Each day's value of ``column`` about a year before: the same day of the season ``seasons``
    seasons earlier, averaged with its neighbours ``width`` seasons on either side.

    With the defaults (weekly season) the value of day t is the mean of ``column`` on days t - 357,
    t - 364 and t - 371: the same weekday 51, 52 and 53 weeks before, so Christmas or a yearly
    promotion of last year lines up with this year's, and one odd day is averaged with two
    others.  It reads only days at least ``(seasons - width) · season_length`` days before t, so as
    a known-future input it is causal for every horizon up to that many days.  Days with none of
    the three values (the first year of a node) get the node's mean of ``column`` over the days
    up to ``end`` (all days when None), so no value after ``end`` is read.

    Parameters
    ----------
    panel : pandas.DataFrame
        Daily panel indexed by ``(node, ts)``, R rows.
    column : str
        The column to look back on (a target, in its own units).
    season_length, seasons, width : int
        Days per season (>= 1), seasons back (>= 1) and seasons averaged on either side
        (0 <= width < seasons).
    end : date-like, optional
        Last day the fill value may read.

    Returns
    -------
    pandas.Series, shape (R,)
        float64, ``panel``'s index, ``column``'s units, no NaN (all NaN only if the node has no
        value up to ``end``).
    """
    _check_index(panel)
    _check_columns(panel, [column], "column")
    if season_length < 1 or seasons < 1 or not 0 <= width < seasons:
        raise ValueError(
            f"need season_length >= 1, seasons >= 1 and 0 <= width < seasons; got {season_length}, {seasons}, {width}"
        )
    y = panel[column].astype("float64")
    nodes = panel.index.get_level_values("node")
    ts = pd.DatetimeIndex(panel.index.get_level_values("ts"))
    lags = [(seasons + j) * season_length for j in range(-width, width + 1)]
    looked = []
    for lag in lags:  # the value of (node, ts - lag), NaN where that day is not in the panel
        shifted = pd.Series(
            y.to_numpy(), index=pd.MultiIndex.from_arrays([nodes, ts + pd.Timedelta(days=lag)])
        )
        looked.append(shifted.reindex(pd.MultiIndex.from_arrays([nodes, ts])).to_numpy())
    # the mean over the lags that exist (NaN where none does; pandas skips NaN without warning)
    mean = pd.DataFrame(np.column_stack(looked)).mean(axis=1).to_numpy()
    out = pd.Series(mean, index=panel.index, name=f"{column}_year_ago")
    upto = y if end is None else y[ts <= pd.Timestamp(end)]
    fill = upto.groupby(level="node").mean()
    return out.fillna(pd.Series(nodes.map(fill).to_numpy(np.float64), index=panel.index))


# --------------------------------------------------------------------------------------------------
# Panel checks
# --------------------------------------------------------------------------------------------------


def _check_index(panel: pd.DataFrame) -> None:
    if not isinstance(panel, pd.DataFrame):
        raise TypeError(f"panel must be a pandas DataFrame, got {type(panel).__name__}")
    idx = panel.index
    if not isinstance(idx, pd.MultiIndex) or list(idx.names) != ["node", "ts"]:
        raise DataValidationError(
            f"panel must be indexed by ('node', 'ts'), got index names {list(idx.names)}"
        )
    if not pd.api.types.is_datetime64_any_dtype(idx.levels[1].dtype):
        raise DataValidationError(f"panel level 'ts' must hold datetimes, got dtype {idx.levels[1].dtype}")


def _check_columns(panel: pd.DataFrame, names: Iterable[str], role: str) -> None:
    missing = [c for c in names if c not in panel.columns]
    if missing:
        raise DataValidationError(
            f"{role} column(s) {missing} not in the panel; available: {list(map(str, panel.columns))}"
        )


def _days(ts: pd.Index | np.ndarray) -> np.ndarray:
    """Dates as int64 day numbers (days since 1970-01-01)."""
    return np.asarray(ts, dtype="datetime64[D]").astype(np.int64)


def _check_daily(nodes: np.ndarray, days: np.ndarray) -> None:
    """Rows sorted by (node, ts): within a node consecutive rows must be exactly one day apart."""
    same = nodes[1:] == nodes[:-1]
    bad = same & (np.diff(days) != 1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        d0, d1 = (np.datetime64(int(days[j]), "D") for j in (i, i + 1))
        kind = "duplicated day" if d1 == d0 else f"gap of {int(days[i + 1] - days[i]) - 1} day(s)"
        raise DataValidationError(
            f"panel is not daily without gaps: node {nodes[i]!r} has a {kind} between {d0} and {d1}"
        )


def _check_finite(values: np.ndarray, columns: Sequence[str], nodes: np.ndarray, days: np.ndarray) -> None:
    bad = ~np.isfinite(values)
    if bad.any():
        r, c = (int(v[0]) for v in np.nonzero(bad))
        raise DataValidationError(
            f"panel has {int(bad.sum())} NaN/inf value(s) in the columns used; first: column "
            f"{columns[c]!r}, node {nodes[r]!r}, ts {np.datetime64(int(days[r]), 'D')} — clean/fill first"
        )


def _to_day(value: object, name: str) -> int:
    try:
        return int(_days(np.array([pd.Timestamp(value)]))[0])
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a date, got {value!r}") from exc


# --------------------------------------------------------------------------------------------------
# Windows
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class Windows:
    """Model tensors cut from a Panel (see :func:`make_windows`).

    Attributes
    ----------
    X : numpy.ndarray, float32, shape (N, T, C)
        Past inputs on days ``origin-T+1 .. origin``; channels :attr:`channels`
        (targets first, then covariates).
    X_future : numpy.ndarray, float32, shape (N, H, F)
        Known-future covariates on days ``origin+1 .. origin+H``; channels :attr:`known_future`
        (F may be 0).
    Y : numpy.ndarray, float32, shape (N, H, K)
        Targets on days ``origin+1 .. origin+H``; channels :attr:`targets`.
    meta : pandas.DataFrame, N rows
        ``node`` (str) and ``origin`` (datetime64, the last input day) of each window, RangeIndex;
        rows ordered by node (in the order nodes were selected) then origin ascending.
    channels, targets, known_future : tuple of str
    input_size, horizon : int
        T and H.
    """

    X: np.ndarray
    X_future: np.ndarray
    Y: np.ndarray
    meta: pd.DataFrame
    channels: tuple[str, ...]
    targets: tuple[str, ...]
    known_future: tuple[str, ...]
    input_size: int
    horizon: int

    def __len__(self) -> int:
        return int(self.X.shape[0])

    def __repr__(self) -> str:
        return (
            f"Windows(n={len(self)}, X={self.X.shape}, X_future={self.X_future.shape}, Y={self.Y.shape}, "
            f"targets={list(self.targets)}, nodes={self.meta['node'].nunique()})"
        )

    @property
    def nodes(self) -> np.ndarray:
        """Node of each window, shape (N,)."""
        return self.meta["node"].to_numpy()

    @property
    def origins(self) -> pd.DatetimeIndex:
        """Origin (last input day) of each window, length N."""
        return pd.DatetimeIndex(self.meta["origin"])

    def subset(self, rows: np.ndarray | Sequence[int] | Sequence[bool]) -> Windows:
        """The windows selected by integer positions or a boolean mask of length N (copies)."""
        rows = np.asarray(rows)
        if rows.dtype == np.bool_:
            if rows.shape != (len(self),):
                raise ValueError(f"boolean selection has shape {rows.shape}, expected ({len(self)},)")
            rows = np.flatnonzero(rows)
        return Windows(
            X=self.X[rows],
            X_future=self.X_future[rows],
            Y=self.Y[rows],
            meta=self.meta.iloc[rows].reset_index(drop=True),
            channels=self.channels,
            targets=self.targets,
            known_future=self.known_future,
            input_size=self.input_size,
            horizon=self.horizon,
        )


def _names(value: str | Iterable[str], role: str) -> tuple[str, ...]:
    names = (value,) if isinstance(value, str) else tuple(value)
    if len(set(names)) != len(names):
        raise ValueError(f"{role} has duplicated names: {list(names)}")
    return names


def make_windows(
    panel: pd.DataFrame,
    *,
    targets: str | Sequence[str],
    covariates: Sequence[str] = (),
    known_future: Sequence[str] = (),
    input_size: int,
    horizon: int,
    origins: Sequence | pd.DatetimeIndex | None = None,
    stride: int = 1,
    nodes: Sequence[str] | None = None,
    end: object | None = None,
) -> Windows:
    """Cut a Panel into sliding windows (inputs, known-future covariates, targets).

    Parameters
    ----------
    panel : pandas.DataFrame
        Panel indexed by (``node``, ``ts``), daily without gaps per node (nodes may cover
        different date ranges), any row order; not modified.
    targets : str or sequence of str, length K
        Columns to forecast; they are also the first input channels.
    covariates : sequence of str, default ()
        Further past-input channels (after the targets, in this order).  A target may not be
        repeated here.
    known_future : sequence of str, default ()
        Columns whose values over the horizon are known at the origin (price, promotion, ...);
        names in :data:`CALENDAR_FEATURES` that are not panel columns, and the shorthand
        ``"calendar"`` (all four), are computed from the dates with :func:`calendar_features`.
    input_size : int
        T, days of history per window (≥ 1).
    horizon : int
        H, days forecast per window (≥ 1).
    origins : date or sequence of dates, optional
        Origins (last input days) to cut.  Default: every origin that fits, thinned by ``stride``.
        A given origin is cut for every selected node where it fits; an origin that fits no
        node raises.
    stride : int, default 1
        With ``origins=None``: keep every ``stride``-th origin counting back from the latest one
        that fits any node (so the most recent window is always kept and origins are aligned
        across nodes).  Must be 1 when ``origins`` is given.  The step between *windows*, in
        days (``window_stride`` in :func:`sclm.pipeline.train_forecaster`); the model's step
        between patches is ``patch_stride`` of :class:`sclm.models.ForecasterConfig`.
    nodes : sequence of str, optional
        Nodes to use, in this order (default: all, sorted).
    end : date, optional
        Last day any window may touch: rows after ``end`` are dropped first, so every window
        has ``origin + H <= end``.  Use the training end to build leak-free training windows.

    Returns
    -------
    Windows
        ``X`` (N, T, K + len(covariates)), ``X_future`` (N, H, F), ``Y`` (N, H, K), float32;
        ``meta`` with ``node`` and ``origin``.

    Raises
    ------
    DataValidationError
        Wrong index, a missing column, a gap or duplicated day, NaN/inf in a used column of a
        used node, or a node with fewer than ``input_size + horizon`` days.
    ValueError
        Bad sizes, an unknown node, or a requested origin that fits no node.
    """
    for name, v in (("input_size", input_size), ("horizon", horizon), ("stride", stride)):
        if not isinstance(v, int | np.integer) or isinstance(v, bool) or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    T, H = int(input_size), int(horizon)
    _check_index(panel)
    tgt = _names(targets, "targets")
    if not tgt:
        raise ValueError("targets is empty: give at least one target column")
    cov = _names(covariates, "covariates")
    overlap = set(tgt) & set(cov)
    if overlap:
        raise ValueError(f"column(s) {sorted(overlap)} are both targets and covariates")
    kf: list[str] = []
    for name in _names(known_future, "known_future"):
        kf.extend(CALENDAR_FEATURES if name == "calendar" and "calendar" not in panel.columns else [name])
    kf_t = _names(kf, "known_future")
    calendar = [c for c in kf_t if c in CALENDAR_FEATURES and c not in panel.columns]
    from_panel = list(dict.fromkeys([*tgt, *cov, *(c for c in kf_t if c not in calendar)]))
    _check_columns(panel, tgt, "target")
    _check_columns(panel, cov, "covariate")
    _check_columns(panel, [c for c in kf_t if c not in calendar], "known-future")

    # Rows: restrict to `end` and `nodes` first, then sort.
    frame = panel[from_panel]
    if end is not None:
        end_day = _to_day(end, "end")
        frame = frame[_days(frame.index.get_level_values("ts")) <= end_day]
    all_nodes = frame.index.get_level_values("node")
    if nodes is None:
        node_list = sorted(pd.unique(all_nodes))
    else:
        node_list = list(_names(nodes, "nodes"))
        known = set(panel.index.get_level_values("node"))
        unknown = [n for n in node_list if n not in known]
        if unknown:
            raise ValueError(f"unknown node(s) {unknown[:5]}; the panel has {len(known)} nodes")
        frame = frame[all_nodes.isin(node_list)]
    if not node_list:
        raise DataValidationError(
            "no rows left in the panel" + (f" on or before end={end}" if end is not None else "")
        )
    frame = frame.sort_index(level=["node", "ts"], sort_remaining=False)
    node_arr = frame.index.get_level_values("node").to_numpy()
    days = _days(frame.index.get_level_values("ts"))
    _check_daily(node_arr, days)
    cols = [*from_panel, *calendar]
    values = frame.to_numpy(np.float64)
    if calendar:
        values = np.hstack([values, calendar_features(frame.index)[calendar].to_numpy()])
    _check_finite(values, cols, node_arr, days)
    values = values.astype(np.float32)
    col_pos = {c: i for i, c in enumerate(cols)}
    in_idx = [col_pos[c] for c in (*tgt, *cov)]
    kf_idx = [col_pos[c] for c in kf_t]
    tg_idx = [col_pos[c] for c in tgt]

    # Node blocks (contiguous after sorting).
    starts = {}
    bounds = np.flatnonzero(np.r_[True, node_arr[1:] != node_arr[:-1], True])
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        starts[node_arr[a]] = (int(a), int(b))
    missing = [n for n in node_list if n not in starts]
    if missing:
        raise DataValidationError(f"node(s) {missing} have no rows on or before end={end}")
    short = {n: b - a for n, (a, b) in starts.items() if b - a < T + H}
    if short:
        first = next(iter(short))
        raise DataValidationError(
            f"input_size + horizon = {T + H} days but {len(short)} node(s) have fewer days "
            f"(e.g. {first!r}: {short[first]} days{' up to end' if end is not None else ''})"
        )

    # Origin day numbers per node: first valid = day[a] + T - 1, last valid = day[b-1] - H.
    lo = {n: int(days[a]) + T - 1 for n, (a, b) in starts.items()}
    hi = {n: int(days[b - 1]) - H for n, (a, b) in starts.items()}
    if origins is None:
        latest = max(hi[n] for n in node_list)
        wanted = None
    else:
        if stride != 1:
            raise ValueError("stride applies only when origins=None; pass the origins you want instead")
        o = [origins] if isinstance(origins, str | pd.Timestamp | np.datetime64) else list(origins)
        wanted = np.unique(_days(pd.DatetimeIndex(o)))
        fits_any = np.zeros(wanted.size, bool)
        for n in node_list:
            fits_any |= (wanted >= lo[n]) & (wanted <= hi[n])
        if not fits_any.all():
            bad = [str(np.datetime64(int(d), "D")) for d in wanted[~fits_any]][:5]
            rng = ", ".join(
                f"{n!r}: {np.datetime64(lo[n], 'D')}..{np.datetime64(hi[n], 'D')}" for n in node_list[:3]
            )
            raise ValueError(f"origin(s) {bad} fit no node (valid origins per node: {rng}, ...)")

    W = T + H
    Xs, Fs, Ys, mnodes, morig = [], [], [], [], []
    for n in node_list:
        a, b = starts[n]
        cand = np.arange(lo[n], hi[n] + 1)
        if wanted is None:
            cand = cand[(latest - cand) % stride == 0]
        else:
            cand = wanted[(wanted >= lo[n]) & (wanted <= hi[n])]
        k = cand - (lo[n])  # window start offset within the node block
        win = sliding_window_view(values[a:b], W, axis=0)[k]  # (n, C_all, T+H)
        Xs.append(win[:, in_idx, :T].transpose(0, 2, 1))
        Fs.append(win[:, kf_idx, T:].transpose(0, 2, 1))
        Ys.append(win[:, tg_idx, T:].transpose(0, 2, 1))
        mnodes.append(np.full(cand.size, n, dtype=object))
        morig.append(cand)
    meta = pd.DataFrame(
        {
            "node": np.concatenate(mnodes),
            "origin": np.concatenate(morig).astype("datetime64[D]").astype("datetime64[ns]"),
        }
    )
    return Windows(
        X=np.ascontiguousarray(np.concatenate(Xs)),
        X_future=np.ascontiguousarray(np.concatenate(Fs)),
        Y=np.ascontiguousarray(np.concatenate(Ys)),
        meta=meta,
        channels=(*tgt, *cov),
        targets=tgt,
        known_future=kf_t,
        input_size=T,
        horizon=H,
    )


# --------------------------------------------------------------------------------------------------
# Scaler
# --------------------------------------------------------------------------------------------------


class PanelScaler:
    """Per-node (or global) scaling of Panel columns, fitted on the training part only.

    Parameters
    ----------
    method : {"standard", "mean_abs"}, default "standard"
        ``standard``: ``(x - mean) / std`` (population std); ``mean_abs``: ``x / mean|x|`` (no
        centring; keeps zeros at zero, the Chronos-style mean scaling).  A zero (or undefined)
        scale is replaced by 1, so constant columns map to 0 (standard) or stay as they are.
    per : {"node", "global"}, default "node"
        One location/scale per (node, column), or one per column over all nodes.
    columns : sequence of str, optional
        Columns to scale (default: every column of the panel given to :meth:`fit`).  Others
        pass through :meth:`transform` unchanged.

    Attributes
    ----------
    loc_, scale_ : pandas.DataFrame
        Index node (``per="node"``) or the single row ``"*"`` (``per="global"``); columns
        :attr:`columns_`.  ``x_scaled = (x - loc_) / scale_``.
    columns_ : tuple of str
    end_ : pandas.Timestamp or None
        Last day used by :meth:`fit`.
    n_rows_ : int
        Panel rows used by :meth:`fit`.
    """

    def __init__(
        self,
        method: Literal["standard", "mean_abs"] = "standard",
        per: Literal["node", "global"] = "node",
        columns: Sequence[str] | None = None,
    ) -> None:
        if method not in ("standard", "mean_abs"):
            raise ValueError(f"method must be 'standard' or 'mean_abs', got {method!r}")
        if per not in ("node", "global"):
            raise ValueError(f"per must be 'node' or 'global', got {per!r}")
        self.method = method
        self.per = per
        self.columns = None if columns is None else tuple(columns)

    def __repr__(self) -> str:
        return f"PanelScaler(method={self.method!r}, per={self.per!r}, columns={self.columns!r})"

    def fit(self, panel: pd.DataFrame, *, end: object | None = None) -> PanelScaler:
        """Learn location and scale from rows with ``ts <= end`` (all rows if ``end`` is None).

        Parameters
        ----------
        panel : pandas.DataFrame
            Panel indexed by (``node``, ``ts``); not modified.
        end : date, optional
            Last training day; later rows are never read.

        Returns
        -------
        PanelScaler
            ``self``, fitted.
        """
        _check_index(panel)
        cols = tuple(panel.columns) if self.columns is None else self.columns
        _check_columns(panel, cols, "scaler")
        frame = panel[list(cols)]
        if end is not None:
            frame = frame[_days(frame.index.get_level_values("ts")) <= _to_day(end, "end")]
        if frame.empty:
            raise DataValidationError(f"no panel rows on or before end={end} to fit the scaler")
        vals = frame.to_numpy(np.float64)
        _check_finite(
            vals,
            cols,
            frame.index.get_level_values("node").to_numpy(),
            _days(frame.index.get_level_values("ts")),
        )
        data = pd.DataFrame(vals, index=frame.index, columns=list(cols))
        keys = data.index.get_level_values("node") if self.per == "node" else np.full(len(data), "*")
        grouped = data.groupby(keys, sort=True)
        if self.method == "standard":
            loc = grouped.mean()
            scale = grouped.std(ddof=0)
        else:
            loc = grouped.mean() * 0.0
            scale = data.abs().groupby(keys, sort=True).mean()
        scale = scale.where(np.isfinite(scale) & (scale > 0), 1.0)
        loc.index.name = scale.index.name = "node"
        self.loc_, self.scale_ = loc, scale
        self.columns_ = cols
        self.end_ = None if end is None else pd.Timestamp(end)
        self.n_rows_ = len(data)
        return self

    def _params(self, nodes: np.ndarray, columns: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        unknown_cols = [c for c in columns if c not in self.columns_]
        if unknown_cols:
            raise ValueError(
                f"column(s) {unknown_cols} were not fitted; fitted columns: {list(self.columns_)}"
            )
        if self.per == "global":
            rows = np.zeros(len(nodes), dtype=np.intp)
        else:
            rows = self.loc_.index.get_indexer(pd.Index(np.asarray(nodes, dtype=object)))
            if (rows < 0).any():
                unknown = sorted(set(np.asarray(nodes, dtype=object)[rows < 0]))
                raise ValueError(f"node(s) {unknown[:5]} were not seen by fit")
        loc = self.loc_[list(columns)].to_numpy(np.float64)[rows]
        scale = self.scale_[list(columns)].to_numpy(np.float64)[rows]
        return loc, scale

    def _apply(self, values, nodes, columns, inverse: bool):
        if not hasattr(self, "loc_"):
            raise RuntimeError("PanelScaler is not fitted; call fit(panel, end=...) first")
        if isinstance(values, pd.DataFrame):
            _check_index(values)
            cols = [c for c in (self.columns_ if columns is None else columns) if c in values.columns]
            loc, scale = self._params(values.index.get_level_values("node").to_numpy(), cols)
            out = values.copy()
            x = values[cols].to_numpy(np.float64)
            out[cols] = x * scale + loc if inverse else (x - loc) / scale
            return out
        arr = np.asarray(values)
        if nodes is None or columns is None:
            raise ValueError(
                "for an array pass nodes= (one per row) and columns= (one per last-axis channel)"
            )
        nodes = np.asarray(nodes, dtype=object)
        columns = _names(columns, "columns")
        if arr.ndim < 2 or arr.shape[0] != nodes.shape[0] or arr.shape[-1] != len(columns):
            raise ValueError(
                f"shape mismatch: array has shape {arr.shape}; expected ({len(nodes)}, ..., {len(columns)}) "
                "(one row per node given, last axis = columns)"
            )
        loc, scale = self._params(nodes, columns)
        shape = (arr.shape[0],) + (1,) * (arr.ndim - 2) + (len(columns),)
        loc, scale = loc.reshape(shape), scale.reshape(shape)
        out = arr * scale + loc if inverse else (arr - loc) / scale
        return out.astype(arr.dtype if np.issubdtype(arr.dtype, np.floating) else np.float64)

    def transform(self, values, *, nodes=None, columns=None):
        """Scale a Panel, or an array whose rows belong to ``nodes``.

        Parameters
        ----------
        values : pandas.DataFrame or numpy.ndarray
            A Panel (every fitted column present is scaled; others are copied as they are), or an
            array of shape (N, ..., K), e.g. ``Windows.Y`` (N, H, K).
        nodes : array_like of str, shape (N,), optional
            Node of each row of an array (``Windows.nodes``); required for arrays.
        columns : sequence of str, length K, optional
            Column of each last-axis channel of an array (``Windows.targets``); required for
            arrays.  For a Panel: restrict scaling to these columns.

        Returns
        -------
        pandas.DataFrame or numpy.ndarray
            Same type and shape as ``values`` (a new object; floating arrays keep their dtype).
        """
        return self._apply(values, nodes, columns, inverse=False)

    def inverse_transform(self, values, *, nodes=None, columns=None):
        """Undo :meth:`transform`: ``x = x_scaled * scale_ + loc_`` (same arguments).

        Typical use: ``scaler.inverse_transform(y_hat, nodes=w.nodes, columns=w.targets)`` for a
        forecast ``y_hat`` shaped like ``w.Y`` (N, H, K); quantile forecasts (N, H, K, Q) need
        ``np.moveaxis(q, -1, 1)`` first so that the last axis is K.
        """
        return self._apply(values, nodes, columns, inverse=True)

    def fit_transform(self, panel: pd.DataFrame, *, end: object | None = None) -> pd.DataFrame:
        """``fit(panel, end=end)`` then ``transform(panel)`` (the whole panel, scaled with training stats)."""
        return self.fit(panel, end=end).transform(panel)


# --------------------------------------------------------------------------------------------------
# Splits
# --------------------------------------------------------------------------------------------------


class Split(NamedTuple):
    """One rolling-origin fold: train on ``ts <= train_end``, test on ``test_start..test_end``."""

    train_end: pd.Timestamp
    test_start: pd.Timestamp
    test_end: pd.Timestamp


def rolling_origin_splits(
    dates: pd.Index | pd.DataFrame | Sequence,
    *,
    horizon: int,
    n_origins: int,
    step: int | None = None,
    min_train: int = 1,
) -> list[Split]:
    """Rolling-origin evaluation folds ending at the last date.

    Parameters
    ----------
    dates : DatetimeIndex, array_like of dates, Panel, or MultiIndex with a ``ts`` level
        The daily calendar (duplicates are fine: only min and max are used).
    horizon : int
        Days per test window.
    n_origins : int
        Number of folds.
    step : int, optional
        Days between consecutive origins (default ``horizon``: back-to-back test windows).
    min_train : int, default 1
        Minimum training days before the first fold.

    Returns
    -------
    list of Split
        Chronological.  Fold ``i`` (0 = earliest) has ``test_end = last - (n_origins-1-i)·step``,
        ``test_start = test_end - horizon + 1``, ``train_end = test_start - 1`` (the forecast
        origin).  E.g. ``horizon=28, n_origins=3`` tests the last 84 days in three blocks.

    Raises
    ------
    ValueError
        Non-positive sizes, or too few dates for ``min_train`` training days before the first fold.
    """
    step = horizon if step is None else step
    for name, v in (("horizon", horizon), ("n_origins", n_origins), ("step", step), ("min_train", min_train)):
        if not isinstance(v, int | np.integer) or isinstance(v, bool) or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    if isinstance(dates, pd.DataFrame):
        dates = dates.index
    d = _dates_of(dates) if isinstance(dates, pd.Index) else pd.DatetimeIndex(dates)
    if d.empty:
        raise ValueError("dates is empty")
    first, last = d.min().normalize(), d.max().normalize()
    day = pd.Timedelta(days=1)
    out = []
    for i in range(n_origins):
        test_end = last - (n_origins - 1 - i) * step * day
        test_start = test_end - (horizon - 1) * day
        out.append(Split(test_start - day, test_start, test_end))
    n_train = (out[0].train_end - first).days + 1
    if n_train < min_train:
        raise ValueError(
            f"{n_origins} origins of horizon {horizon} every {step} days leave {n_train} training day(s) "
            f"before the first fold ({first.date()}..{last.date()}); need min_train={min_train}"
        )
    return out


def train_val_split(
    windows: Windows,
    val_fraction: float = 0.2,
    *,
    purge: Literal["inputs", "targets"] = "inputs",
) -> tuple[Windows, Windows]:
    """Time-ordered train/validation split of windows (one cut date for all nodes).

    Rule
    ----
    Let ``o_1 < ... < o_m`` be the distinct origins over all windows and
    ``n_val = ceil(val_fraction · m)``.  The cut ``c = o_{m-n_val+1}`` is the first validation
    origin; **validation** = every window with ``origin >= c``.  **Training** = every window with

    * ``purge="inputs"`` (default): ``origin + H <= c - T``, i.e. the last training target day
      falls strictly before the first validation input day ``c - T + 1``: no day is both a
      training target and a validation input (nor a validation target);
    * ``purge="targets"``: ``origin + H <= c``, i.e. every training target day is on or before
      the first validation origin: no training target is a validation target (validation inputs
      may have been training targets; they are observed history at ``c`` anyway).

    Windows in between are dropped.  The cut is in calendar time across nodes, so no node's
    training window reaches into the validation period of another node.

    Parameters
    ----------
    windows : Windows
    val_fraction : float in (0, 1)
        Share of distinct origins given to validation (rounded up, at least one).
    purge : {"inputs", "targets"}

    Returns
    -------
    (Windows, Windows)
        ``(train, val)``, each in the original window order.

    Raises
    ------
    ValueError
        ``val_fraction`` outside (0, 1), unknown ``purge``, or no training window left.
    """
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction!r}")
    if purge not in ("inputs", "targets"):
        raise ValueError(f"purge must be 'inputs' or 'targets', got {purge!r}")
    org = _days(windows.meta["origin"].to_numpy())
    uniq = np.unique(org)
    n_val = max(1, math.ceil(val_fraction * uniq.size))
    cut = int(uniq[uniq.size - n_val])
    T, H = windows.input_size, windows.horizon
    last_train = cut - T - H if purge == "inputs" else cut - H
    train_mask = org <= last_train
    if not train_mask.any():
        raise ValueError(
            f"no training window left: the first validation origin is {np.datetime64(cut, 'D')} and "
            f"purge={purge!r} needs training origins <= {np.datetime64(last_train, 'D')}; "
            "use a smaller val_fraction, purge='targets', or more history"
        )
    return windows.subset(train_mask), windows.subset(org >= cut)
