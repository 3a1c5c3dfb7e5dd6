"""SourceFuser: estimate each source's noise and fuse the sources of every (node, day, variable)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sclm import _dask
from sclm.fusion._common import _choice, _Transformer
from sclm.fusion._reduce import _last, _row_median
from sclm.fusion._table import _days_index, _dense, _read, _Table, _Var
from sclm.fusion.filling import FILL_METHODS, _fill
from sclm.fusion.noise import NOISE_KINDS, SPREADS, WEIGHTS_BY, _borrow, _estimate, _group_codes
from sclm.fusion.report import FILLED_COLUMNS, PAIR_COLUMNS, WEIGHT_COLUMNS
from sclm.schema import QUANTITY_VARIABLES, DataValidationError

__all__ = ["METHODS", "SourceFuser"]

METHODS: tuple[str, ...] = ("inverse_variance", "mean", "median")
"""Ways to fuse the sources of one (node, day, variable)."""


@dataclass
class _Fitted:
    """Weights of one variable: raw inverse-variance weights per (group, source)."""

    sources: np.ndarray  # (S_v,)
    groups: np.ndarray  # (G,) object group names
    raw: np.ndarray  # (G, S_v) raw weight (1/σ̂², or 1 for a lone source); NaN: no data
    sigma2: np.ndarray  # (G, S_v) σ̂² (NaN: not estimable)


class SourceFuser(_Transformer):
    """Fuse the sources of each (node, day, variable) into one Panel value.

    Parameters
    ----------
    method
        ``"inverse_variance"`` (default): weights ``1/σ̂_s²`` estimated from the data (see
        :mod:`sclm.fusion.noise`), renormalised over the sources present each day; ``"mean"``: the
        article's plain average of the sources present; ``"median"``: their median.
    weights_by
        Scope of one noise estimate: ``"variable"`` (default: one σ̂ per (variable, source)),
        ``"node_type"`` or ``"node"`` (one per (variable, node type / node, source)).
    noise
        ``"relative"`` (default; multiplicative noise, σ̂ a fraction of the value, estimated on
        symmetric relative differences) or ``"absolute"`` (σ̂ in the variable's unit, plain
        differences).
    spread
        How the variance of the pairwise differences is measured: ``"screened"`` (default,
        robust and efficient), ``"mad"`` or ``"variance"`` — see :data:`~sclm.fusion.SPREADS`.
    min_overlap
        Days two sources must share (within a group) for their pair to enter the estimate.
    borrow
        For a variable with exactly 2 sources (only ``σ_a² + σ_b²`` identifiable): if one of them
        was identified by a three-cornered hat in another variable (same group), borrow that σ̂
        and solve the other (method ``"borrowed: 2 sources, sigma of <source> from <variables>"``);
        assumes a source's relative noise is the same across variables, and is skipped when the
        borrowed σ̂² exceeds the pair's difference variance.  ``False``: equal weights
        (``"equal: 2 sources"``).
    reject
        ``inverse_variance`` only: in a cell where >= 3 sources report, drop a reading farther
        than ``reject`` noise sd's from the cell's median (leftover outliers), counted in
        :attr:`rejected_`; ``None`` keeps every reading.  With 2 sources nothing is dropped
        (which one is wrong cannot be told).
    fill
        ``"linear"`` (default): a day with no source is filled by linear interpolation in time
        within its node, and days before the variable's first (after its last) reading at that
        node take the first (last) fused value; every filled cell is reported in
        :attr:`filled_` and :attr:`filled_mask_`.  ``None``: leave NaN (needs ``allow_nan``).
    allow_nan
        A (node, variable) with no reading at all — impossible to fill — raises
        :class:`~sclm.schema.DataValidationError` (default); with ``allow_nan=True`` its column
        is NaN for that node (and reported in :attr:`filled_` as ``n_nan``).

    Attributes
    ----------
    weights_ : pandas.DataFrame
        One row per (variable, group, source), columns :data:`~sclm.fusion.WEIGHT_COLUMNS`: ``group``
        (``"all"`` when ``weights_by="variable"``, else the node type or node), ``sigma_hat``
        (estimated noise sd, relative or absolute per ``sigma_kind``; NaN where not estimable),
        ``weight`` (the weight of the source when all the sources it overlaps with report;
        sums to 1 over the sources of a group that share days — all of them, unless some never
        overlap, e.g. ERP on DCs and POS on stores; equal for ``"mean"``, NaN for
        ``"median"``), ``n_days`` (node-days the source reports), ``method`` (how σ̂ was
        obtained: ``"three-cornered hat: k sources"``, ``"borrowed: 2 sources, ..."``,
        ``"equal: 2 sources"``, ``"equal: not identifiable"``, ``"single source"``,
        ``"no overlap"`` — see :mod:`sclm.fusion.noise`).
    pairs_ : pandas.DataFrame
        One row per (variable, group, pair of sources), columns :data:`~sclm.fusion.PAIR_COLUMNS`:
        overlapping days, median and variance of the differences (relative or absolute).
    variables_ : list of str
        The fused variables (sorted) — the Panel columns.
    sources_ : dict
        Variable → list of its sources.
    units_ : dict
        Variable → unit (the one unit its readings share).
    node_types_ : dict
        Node → node type.
    n_readings_ : int
        Rows seen by ``fit``.
    filled_ : pandas.DataFrame
        Set by ``transform``: one row per (node, variable) with any filled or NaN day, columns
        :data:`~sclm.fusion.FILLED_COLUMNS` (``n_days`` rows of the node in the panel,
        ``n_observed`` days with at least one reading, ``n_interpolated``, ``n_extended`` (before
        the first / after the last reading), ``n_imputed`` (days whose readings were all marked ``imputed``; counted in
        ``n_observed`` too), ``n_nan`` (left NaN)).
    filled_mask_ : pandas.DataFrame
        Set by ``transform``: bool, shaped like the panel, True where the value was filled
        (interpolated, extended, or from imputed readings only).
    n_filled_ : int
        Set by ``transform``: number of filled cells (``n_interpolated + n_extended +
        n_imputed``).
    rejected_ : pandas.DataFrame
        Set by ``transform``: readings dropped as outlying (``reject``), columns ``variable``,
        ``source``, ``n_rejected`` (only sources with at least one).

    Notes
    -----
    Each node's panel rows span its first to its last day with any reading (of any variable),
    every day in between.  Panel columns are the variables, sorted.  The work is vectorised
    over integer codes: one dense (node·day × source) array per variable, no Python loop over
    series or days; memory is about ``N·D·Σ_v S_v`` floats (D: days from the first to the last
    reading overall).  On 13.7 million readings (1650 nodes × 760 days, 11 (variable, source)
    pairs) ``fuse`` takes about 1.5–2× one ``groupby(["node", "ts", "variable"]).mean()``.
    """

    _fitted_attr = "weights_"

    def __init__(
        self,
        method: str = "inverse_variance",
        *,
        weights_by: str = "variable",
        noise: str = "relative",
        spread: str = "screened",
        min_overlap: int = 10,
        borrow: bool = True,
        reject: float | None = 6.0,
        fill: str | None = "linear",
        allow_nan: bool = False,
    ) -> None:
        self.method = method
        self.weights_by = weights_by
        self.noise = noise
        self.spread = spread
        self.min_overlap = min_overlap
        self.borrow = borrow
        self.reject = reject
        self.fill = fill
        self.allow_nan = allow_nan

    # -- parameters --------------------------------------------------------------------------------
    def _check_params(self) -> None:
        _choice("method", self.method, METHODS)
        _choice("weights_by", self.weights_by, WEIGHTS_BY)
        _choice("noise", self.noise, NOISE_KINDS)
        _choice("spread", self.spread, SPREADS)
        if self.fill is not None:
            _choice("fill", self.fill, FILL_METHODS)
        if not isinstance(self.min_overlap, int | np.integer) or self.min_overlap < 2:
            raise ValueError(f"min_overlap={self.min_overlap!r}; expected an int >= 2")
        if self.reject is not None and not (isinstance(self.reject, int | float) and self.reject > 0):
            raise ValueError(f"reject={self.reject!r}; expected a positive number of sigmas, or None")

    # -- fit -----------------------------------------------------------------------------------------
    def fit(
        self,
        readings: pd.DataFrame,
        y: Any = None,
        *,
        imputed: pd.DataFrame | None = None,
        client: Any = None,
    ) -> SourceFuser:
        """Estimate each source's noise and the fusion weights from ``readings``.

        Parameters
        ----------
        readings
            Cleaned Readings (R rows), native units, no duplicate keys.
        y
            Ignored.
        client
            Dask only: the scheduler (``readings`` a Dask DataFrame or a Parquet folder: one pass
            over partitions of whole nodes, σ̂ reduced exactly, see :mod:`sclm._dask`).
        imputed
            Keys (columns ``node``, ``ts``, ``variable``, ``source``; others ignored) of readings
            whose value an earlier step invented — a filled gap, a replaced outlier — e.g. rows of
            the cleaning audit.  They are left out of the noise estimate, and a cell uses them
            only when it has no observed reading (such cells count as filled, ``n_imputed``).

        Returns
        -------
        SourceFuser
            ``self``, with :attr:`weights_`, :attr:`pairs_` and the other fitted attributes.
        """
        if _dask.is_scalable(readings):
            return _dask.fuse_fit(self, readings, client, imputed)
        self._check_params()
        t = _read(readings)
        self._fit(t, _dense(t, readings, imputed))
        return self

    def _fit(self, t: _Table, dense: list[_Var]) -> None:
        node_group, group_names = _group_codes(t, self.weights_by)
        n_groups = len(group_names)
        cell_group = np.repeat(node_group, t.n_days)
        relative = self.noise == "relative"
        stats = {
            var.name: _estimate(
                var, cell_group, n_groups, relative=relative, spread=self.spread, min_overlap=self.min_overlap
            )
            for var in dense
        }
        self._fit_stats(
            stats,
            group_names,
            variables=[str(v) for v in t.variables],
            units=dict(t.units),
            node_types=dict(zip(map(str, t.nodes), map(str, t.node_types), strict=True)),
            n_readings=len(t.node),
        )

    def _fit_stats(
        self,
        stats: dict[str, Any],
        group_names: np.ndarray,
        *,
        variables: list[str],
        units: dict[str, str],
        node_types: dict[str, str],
        n_readings: int,
    ) -> None:
        """The fitted tables from the per-variable noise estimates (one table, or the reduced partitions)."""
        n_groups = len(group_names)
        if self.borrow:
            _borrow(stats, n_groups)

        weight_rows: list[dict[str, Any]] = []
        pair_rows: list[dict[str, Any]] = []
        fitted: dict[str, _Fitted] = {}
        for var, n_days, pairs, n_ab, m_ab, v_ab, sigma2, raw, comp, how in stats.values():
            s_v = len(var.sources)
            for gi in range(n_groups):
                active = n_days[gi] > 0
                if self.method == "mean":
                    shown = np.where(active, 1.0, np.nan)
                elif self.method == "median":
                    shown = np.full(s_v, np.nan)
                else:
                    shown = raw[gi]
                for j in np.flatnonzero(active):
                    total = np.nansum(shown[comp[gi] == comp[gi, j]])
                    weight_rows.append(
                        {
                            "variable": var.name,
                            "group": str(group_names[gi]),
                            "source": str(var.sources[j]),
                            "sigma_hat": float(np.sqrt(sigma2[gi, j])),
                            "sigma_kind": self.noise,
                            "weight": float(shown[j] / total) if total > 0 else np.nan,
                            "n_days": int(n_days[gi, j]),
                            "method": how[gi, j],
                        }
                    )
                for p, (a, b) in enumerate(pairs):
                    if n_ab[gi, p]:
                        pair_rows.append(
                            {
                                "variable": var.name,
                                "group": str(group_names[gi]),
                                "source_a": str(var.sources[a]),
                                "source_b": str(var.sources[b]),
                                "n_days": int(n_ab[gi, p]),
                                "median_diff": float(m_ab[gi, p]),
                                "var_diff": float(v_ab[gi, p]),
                            }
                        )
            fitted[var.name] = _Fitted(sources=var.sources, groups=group_names, raw=raw, sigma2=sigma2)
        self.weights_ = pd.DataFrame(weight_rows, columns=list(WEIGHT_COLUMNS)).astype(
            {"sigma_hat": np.float64, "weight": np.float64, "n_days": np.int64}
        )
        self.pairs_ = pd.DataFrame(pair_rows, columns=list(PAIR_COLUMNS)).astype(
            {"n_days": np.int64, "median_diff": np.float64, "var_diff": np.float64}
        )
        self.variables_ = variables
        self.sources_ = {st.var.name: [str(s) for s in st.var.sources] for st in stats.values()}
        self.units_ = units
        self.node_types_ = node_types
        self.n_readings_ = n_readings
        self._fitted = fitted

    # -- transform -----------------------------------------------------------------------------------
    def transform(
        self,
        readings: pd.DataFrame,
        *,
        imputed: pd.DataFrame | None = None,
        client: Any = None,
        out: Any = None,
    ) -> pd.DataFrame:
        """Fuse ``readings`` into a Panel with the fitted weights.

        Parameters
        ----------
        readings
            Cleaned Readings (R rows) whose variables and sources were seen by ``fit``.
        imputed
            Keys of invented readings, see :meth:`fit`.
        client, out
            Dask only (``readings`` a Dask DataFrame or a Parquet folder, :mod:`sclm._dask`): the
            scheduler, and the output folder.  A Dask frame gives a lazy panel with ``node`` and
            ``ts`` as columns (``.compute().set_index(["node", "ts"])`` is the pandas panel) and
            lazy ``filled_``, ``filled_mask_``, ``rejected_`` (``n_filled_`` None; see
            :func:`sclm._dask.compute_reports`); a folder writes ``<out>/panel`` and
            ``<out>/filled_mask`` and returns the panel folder.

        Returns
        -------
        pandas.DataFrame
            Panel: MultiIndex (``node``, ``ts``) — per node every day from its first to its last
            reading — one float64 column per variable (sorted; units in :attr:`units_`); no NaN
            unless ``allow_nan``.  Sets :attr:`filled_`, :attr:`filled_mask_`, :attr:`n_filled_`.
        """
        if _dask.is_scalable(readings):
            return _dask.fuse_transform(self, readings, client, imputed, out)
        self._check_fitted()
        self._check_params()
        t = _read(readings)
        return self._transform(t, _dense(t, readings, imputed))

    def fit_transform(
        self,
        readings: pd.DataFrame,
        y: Any = None,
        *,
        imputed: pd.DataFrame | None = None,
        client: Any = None,
        out: Any = None,
    ) -> pd.DataFrame:
        """``fit(readings).transform(readings)``, reading and encoding the table once (Dask: two passes)."""
        if _dask.is_scalable(readings):
            _dask.fuse_fit(self, readings, client, imputed)
            return _dask.fuse_transform(self, readings, client, imputed, out)
        self._check_params()
        t = _read(readings)
        dense = _dense(t, readings, imputed)
        self._fit(t, dense)
        return self._transform(t, dense)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The panel columns: the fused variables, sorted (object array)."""
        self._check_fitted()
        return np.asarray(self.variables_, dtype=object)

    def _weights_for(self, t: _Table, var: _Var) -> tuple[np.ndarray, np.ndarray]:
        """Raw weights and σ̂² (each N × S_v) per node for ``var`` in table ``t``, from the fit."""
        if var.name not in self._fitted:
            raise ValueError(
                f"variable {var.name!r} was not seen by fit; fitted variables: {', '.join(self.variables_)}"
            )
        f = self._fitted[var.name]
        pos = {s: i for i, s in enumerate(f.sources)}
        unseen = [s for s in var.sources if s not in pos]
        if unseen:
            raise ValueError(
                f"source(s) {unseen} of variable {var.name!r} were not seen by fit; "
                f"fitted sources: {', '.join(map(str, f.sources))}"
            )
        node_group, names = _group_codes(t, self.weights_by)
        gpos = {g: i for i, g in enumerate(f.groups)}
        missing = [g for g in names if g not in gpos]
        if missing:
            raise ValueError(
                f"{self.weights_by} {missing[:5]} not seen by fit (weights_by={self.weights_by!r}); "
                "refit on readings that include them"
            )
        rows, cols = [gpos[g] for g in names], [pos[s] for s in var.sources]
        raw = f.raw[rows][:, cols][node_group]  # (N, S_v)
        sigma2 = f.sigma2[rows][:, cols][node_group]
        return raw, sigma2

    def _transform(self, t: _Table, dense: list[_Var]) -> pd.DataFrame:
        n_nodes, n_days = len(t.nodes), t.n_days
        # each node's span: first..last day with any reading
        seen = np.zeros(n_nodes * n_days, dtype=bool)
        for var in dense:
            seen |= var.present.any(axis=1)
        seen = seen.reshape(n_nodes, n_days)
        first = np.argmax(seen, axis=1)
        last = n_days - 1 - np.argmax(seen[:, ::-1], axis=1)
        day_ix = np.arange(n_days)
        in_span = (day_ix >= first[:, None]) & (day_ix <= last[:, None])  # (N, D)

        columns: dict[str, np.ndarray] = {}
        filled_cols: dict[str, np.ndarray] = {}
        report = []
        rejected_rows: list[dict[str, Any]] = []
        for var in dense:
            var, only = var.for_fusion()
            F, rejected = self._fuse_one(t, var)
            F = F.reshape(n_nodes, n_days)
            only = np.zeros((n_nodes, n_days), dtype=bool) if only is None else only.reshape(n_nodes, n_days)
            rejected_rows.extend(
                {"variable": var.name, "source": str(src), "n_rejected": int(k)}
                for src, k in zip(var.sources, rejected, strict=True)
                if k
            )
            observed = ~np.isnan(F)
            F, interp, extend = _fill(F) if self.fill == "linear" else (F, None, None)
            if interp is None:
                interp = extend = np.zeros_like(observed)
            nan = np.isnan(F)
            if var.name in QUANTITY_VARIABLES:
                np.maximum(F, 0.0, out=F)  # rounding only: a weighted mean of values >= 0 is >= 0
            columns[var.name] = F[in_span]
            filled_cols[var.name] = (interp | extend | only)[in_span]
            report.append(
                np.stack(
                    [
                        in_span.sum(axis=1),
                        (observed & in_span).sum(axis=1),
                        (interp & in_span).sum(axis=1),
                        (extend & in_span).sum(axis=1),
                        (only & in_span).sum(axis=1),
                        (nan & in_span).sum(axis=1),
                    ],
                    axis=1,
                )
            )
        node_code, day_code = np.nonzero(in_span)
        index = pd.MultiIndex(
            levels=[pd.Index(t.nodes, name="node"), _days_index(t)],
            codes=[node_code, day_code],
            names=["node", "ts"],
            verify_integrity=False,
        )
        names = [v.name for v in dense]
        panel = pd.DataFrame(columns, index=index, columns=names, copy=False)
        self.filled_mask_ = pd.DataFrame(filled_cols, index=index, columns=names, copy=False)

        counts = np.concatenate(report)  # (V·N, 5), variable-major
        filled = pd.DataFrame(counts, columns=list(FILLED_COLUMNS[2:]), dtype=np.int64)
        filled.insert(0, "variable", np.repeat(np.asarray(names, dtype=object), n_nodes))
        filled.insert(0, "node", np.tile(t.nodes, len(names)))
        keep = filled[["n_interpolated", "n_extended", "n_imputed", "n_nan"]].sum(axis=1) > 0
        self.filled_ = filled[keep].sort_values(["node", "variable"]).reset_index(drop=True)
        self.n_filled_ = int(self.filled_[["n_interpolated", "n_extended", "n_imputed"]].to_numpy().sum())
        self.rejected_ = pd.DataFrame(rejected_rows, columns=["variable", "source", "n_rejected"]).astype(
            {"n_rejected": np.int64}
        )

        n_nan = int(self.filled_["n_nan"].sum())
        if n_nan and not self.allow_nan:
            row = self.filled_[self.filled_["n_nan"] > 0].iloc[0]
            empty = self.filled_[self.filled_["n_nan"] == self.filled_["n_days"]]
            if len(empty):
                e = empty.iloc[0]
                raise DataValidationError(
                    f"readings: node {e['node']!r} has no reading of variable {e['variable']!r} "
                    f"({len(empty)} such (node, variable) pairs); a wide panel needs every variable at every "
                    "node — pass allow_nan=True to leave those columns NaN, or fuse such nodes separately"
                )
            raise DataValidationError(
                f"readings: {n_nan} panel cells have no source (first: node {row['node']!r}, variable "
                f"{row['variable']!r}) and fill=None; use fill='linear' or allow_nan=True"
            )
        return panel

    def _fuse_one(self, t: _Table, var: _Var) -> tuple[np.ndarray, np.ndarray]:
        """Fused value per cell (N·D,), NaN where no source reports; rejected readings per source."""
        n_nodes, n_days, s_v = len(t.nodes), t.n_days, len(var.sources)
        rejected = np.zeros(s_v, dtype=np.int64)
        if s_v == 1:
            return var.A[:, 0].copy(), rejected
        A = var.A.reshape(n_nodes, n_days, s_v)
        present = var.present.reshape(n_nodes, n_days, s_v)
        if self.method == "median":
            return _row_median(A, present).reshape(-1), rejected
        if self.method == "mean":
            W = present.astype(np.float64)
        else:
            raw, sigma2 = self._weights_for(t, var)  # (N, S_v) each
            if np.isnan(raw[present.any(axis=1)]).any():  # a source here, never in its group in fit
                raise ValueError(
                    f"variable {var.name!r}: a source reports in a {self.weights_by} where fit saw none; "
                    "refit on these readings"
                )
            W = np.where(present, raw[:, None, :], 0.0)
            if self.reject is not None and s_v >= 3:
                bad = self._outlying(A, present, sigma2)
                if bad is not None:
                    rejected = bad.reshape(-1, s_v).sum(axis=0)
                    W[bad] = 0.0
                    present = present & ~bad
        # exact for identical sources: ref + Σ w (a - ref) / Σ w, ref = first present source
        first = np.argmax(present, axis=2)
        ref = np.take_along_axis(A, first[..., None], 2)[..., 0]
        diff = np.where(present, A - ref[..., None], 0.0)
        diff *= W
        den = _last(W, np.add)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = ref + _last(diff, np.add) / den
        return np.where(den > 0, out, np.nan).reshape(-1), rejected

    def _outlying(self, A: np.ndarray, present: np.ndarray, sigma2: np.ndarray) -> np.ndarray | None:
        """Readings to drop: ``|y_s - median| > reject · scale`` in cells with >= 3 sources.

        ``A`` and ``present`` are (N, D, S_v), ``sigma2`` (N, S_v).  ``scale = sqrt(σ̂_s² +
        max_present σ̂²)`` (times ``|median|`` for relative noise) bounds the spread of
        ``y_s - median`` under the fitted noise; a cell whose σ̂'s are unknown drops nothing, and
        at least one reading of a cell is always kept.  Returns a bool array like ``A``, or None.
        """
        cand = _last(present.astype(np.int8), np.add) >= 3
        if not cand.any():
            return None
        S2 = np.where(present, sigma2[:, None, :], 0.0)
        med = _row_median(A, present)
        scale = np.sqrt(S2 + _last(S2, np.fmax)[..., None])
        if self.noise == "relative":
            scale *= np.abs(med)[..., None]
        with np.errstate(invalid="ignore", divide="ignore"):
            z = np.abs(A - med[..., None]) / scale
        drop = present & (z > self.reject) & cand[..., None]  # NaN z (0/0, unknown σ̂) never drops
        keep_all = ~_last(present & ~drop, np.logical_or)
        drop[keep_all] = False
        return drop if drop.any() else None
