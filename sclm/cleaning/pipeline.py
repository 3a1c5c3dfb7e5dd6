"""The public cleaning transformers: one per step, :class:`ReadingsCleaner` and :func:`clean`.

Each follows the shared estimator conventions (:mod:`sclm.estimator`); the step logic is in
:mod:`sclm.cleaning.units`, :mod:`~sclm.cleaning.duplicates`, :mod:`~sclm.cleaning.noise_rate`,
:mod:`~sclm.cleaning.outliers` and :mod:`~sclm.cleaning.gaps`.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Mapping
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from sclm import _dask
from sclm.cleaning._engine import _check_readings, _encode, _Run
from sclm.cleaning._output import _audit_frame, _gaps_frame, _imputed_frame, _output
from sclm.cleaning._pass import _dense_pass
from sclm.cleaning.audit import Audit
from sclm.cleaning.duplicates import DUPLICATE_RULES, _resolve_duplicates
from sclm.cleaning.gaps import _gap_config
from sclm.cleaning.noise_rate import (
    _P_DTYPES,
    P_COLUMNS,
    _apply_noise,
    _check_fit_options,
    _fit_noise,
    _noise_inputs,
    _p_table,
    _p_targets,
    _references,
)
from sclm.cleaning.outliers import _outlier_config, _outlier_rule_text, _OutlierConfig
from sclm.cleaning.units import _apply_units, _conversions_frame, _normalise_units
from sclm.estimator import Transformer
from sclm.schema import READING_COLUMNS

__all__ = [
    "STEPS",
    "DuplicateResolver",
    "GapFiller",
    "NoiseRateCorrector",
    "OutlierFilter",
    "ReadingsCleaner",
    "UnitConverter",
    "clean",
]


STEPS: tuple[str, ...] = ("units", "duplicates", "noise_rate", "outliers", "gaps")
"""The cleaning steps, in pipeline order (names accepted by ``ReadingsCleaner(skip=...)``)."""


class _Step(Transformer):
    """Cleaning steps: the shared scikit-learn conventions (:mod:`sclm.estimator`) plus the Readings columns."""

    _fitted_attr: ClassVar[str] = "n_features_in_"

    def _record_input(self, readings: pd.DataFrame) -> None:
        self.feature_names_in_ = np.asarray(list(readings.columns), dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)

    def get_feature_names_out(self, input_features: Iterable[str] | None = None) -> np.ndarray:
        """The output columns: the same as the input's (cleaning keeps the Readings columns)."""
        if input_features is not None:
            return np.asarray(list(input_features), dtype=object)
        if hasattr(self, "feature_names_in_"):
            return self.feature_names_in_.copy()
        return np.asarray(READING_COLUMNS, dtype=object)

    def _finish(self, run: _Run, *, sort: bool = False) -> pd.DataFrame:
        self.audit_ = _audit_frame(run)
        self.gaps_ = _gaps_frame(run)
        # the invented readings' keys, from the audit parts' codes (see ``imputed_``)
        self._imputed = (self.audit_, _imputed_frame(run))
        run.parts.clear()
        return _output(run, sort=sort)  # last: it frees the run as it goes


class UnitConverter(_Step):
    """Convert every reading to the target unit of its (node, variable).

    Parameters
    ----------
    units
        The declarations: the scenario's ``units`` frame (``node, variable, unit, units_per_case``;
        ``unit`` is the target), a mapping ``{(node, variable): units_per_case}`` (target
        ``"unit"``) or None.  Without a declaration, the target is the unit most readings of that
        (node, variable) use.  ``case`` ↔ count units convert with the pack size
        (``units = cases × units_per_case``); count-unit aliases (``units``, ``pcs``...) map 1:1.

    Attributes
    ----------
    table_ : pandas.DataFrame or None
        The normalised declarations ``node, variable, unit, units_per_case``.
    conversions_ : pandas.DataFrame
        The conversions seen at fit: ``node, variable, source, from_unit, to_unit, factor, readings``.
    audit_ : Audit
        The audit of the last ``transform`` (rule ``unit_conversion``, action ``changed``).

    Raises
    ------
    DataValidationError
        (at fit/transform) A reading whose unit is neither the target nor convertible to it: the
        message names the unit, the row, the node and the variable.
    """

    def __init__(self, units: pd.DataFrame | Mapping[tuple[str, str], float] | None = None) -> None:
        self.units = units

    def fit(self, readings: pd.DataFrame, y: Any = None) -> UnitConverter:
        """Normalise the declarations and check that every reading converts; returns ``self``."""
        self.table_ = _normalise_units(self.units)
        run = _encode(readings)
        self.conversions_ = _apply_units(run, self.table_)
        self._record_input(readings)
        return self

    def transform(self, readings: pd.DataFrame) -> pd.DataFrame:
        """Converted copy of ``readings`` (same rows and order); the audit is in ``audit_``."""
        self._check_fitted()
        run = _encode(readings)
        _apply_units(run, self.table_)
        run.done.add("units")
        return self._finish(run)


class DuplicateResolver(_Step):
    """Collapse readings that share the key (node, ts, variable, source).

    Parameters
    ----------
    rule
        ``"first"`` (default: keep the reading entered first, in input order — a re-entered ERP
        record follows its original), ``"mean"`` or ``"median"`` (keep the first row with the
        group's mean / median).  Every dropped row is audited (rule ``duplicate_<rule>``,
        action ``dropped``; a kept row whose value changes: action ``changed``).

    Attributes
    ----------
    rule_ : str
        The rule applied.
    audit_ : Audit
        The audit of the last ``transform``.
    """

    def __init__(self, rule: str = "first") -> None:
        self.rule = rule

    def fit(self, readings: pd.DataFrame, y: Any = None) -> DuplicateResolver:
        """Check the rule and the table; returns ``self``."""
        if self.rule not in DUPLICATE_RULES:
            raise ValueError(
                f"rule={self.rule!r} is not a duplicate rule; expected one of {list(DUPLICATE_RULES)}"
            )
        _check_readings(readings)
        self.rule_ = self.rule
        self._record_input(readings)
        return self

    def transform(self, readings: pd.DataFrame) -> pd.DataFrame:
        """Copy of ``readings`` without repeated keys; the audit is in ``audit_``."""
        self._check_fitted()
        run = _encode(readings)
        _resolve_duplicates(run, self.rule_)
        return self._finish(run)


class NoiseRateCorrector(_Step):
    """Undo the counter undercount ``q' = (1 - p)·q`` of the article: ``q = q' / (1 - p)``.

    Parameters
    ----------
    p
        None (default): estimate ``p`` per (source, variable) for every counting source (the keys
        of ``reference``) with :func:`estimate_noise_rate`.  A number in ``[0, 1)``: that ``p`` for
        every counting source.  A mapping ``{source: p}`` or ``{(source, variable): p}`` (a value
        None means "estimate"); these keys choose the corrected series.
    reference
        Which source each counter is reconciled against: None → ``{"iot": "erp"}``; a string →
        ``{"iot": string}``; or a mapping ``{source: reference source}``.
    confidence
        Coverage of the confidence interval of an estimated ``p`` (default 0.95).
    trim
        Screening threshold of the estimator, in model standard deviations (default 4; see
        :func:`estimate_noise_rate`).

    Attributes
    ----------
    p_ : pandas.DataFrame
        One row per corrected (source, variable): :data:`P_COLUMNS` = ``source, variable, p_hat,
        ci_low, ci_high, n_days, n_screened, reference, applied`` (``reference`` ``"(given)"`` and
        NaN CI for a given p; ``n_screened``: days the estimator set aside as implausible;
        ``applied`` False when no estimate could be made or it fell outside ``[0, 1)``, which
        warns and leaves the series uncorrected).
    audit_ : Audit
        The audit of the last ``transform`` (rule ``noise_rate``, action ``changed``).

    Notes
    -----
    The readings must have unique keys and comparable units (run units and duplicates first, as
    :class:`ReadingsCleaner` does).  A given ``p`` outside ``[0, 1)`` raises a :class:`ValueError`;
    an estimate outside ``[0, 1)`` warns and is not applied (``applied`` False in ``p_``).
    """

    def __init__(
        self,
        p: float | Mapping[Any, float | None] | None = None,
        *,
        reference: str | Mapping[str, str] | None = None,
        confidence: float = 0.95,
        trim: float = 4.0,
    ) -> None:
        self.p = p
        self.reference = reference
        self.confidence = confidence
        self.trim = trim

    def fit(self, readings: pd.DataFrame, y: Any = None) -> NoiseRateCorrector:
        """Estimate (or record) ``p`` per corrected (source, variable) into ``p_``; returns ``self``."""
        _references(self.reference)
        _p_targets(self.p, _references(self.reference), [])  # range checks before touching data
        run = _encode(readings)
        _resolve_duplicates(run, None)
        self.p_ = _fit_noise(run, self.p, self.reference, self.trim, self.confidence)
        self._record_input(readings)
        return self

    def transform(self, readings: pd.DataFrame) -> pd.DataFrame:
        """Corrected copy of ``readings``; the audit is in ``audit_``."""
        self._check_fitted()
        run = _encode(readings)
        _resolve_duplicates(run, None)
        _apply_noise(run, self.p_)
        return self._finish(run)


class OutlierFilter(_Step):
    """Remove outliers: Hampel rule on a seasonal baseline plus a cross-source check.

    The rule is in :mod:`sclm.cleaning.outliers` and in ``rule_``.  Flagged readings are removed (audit
    action ``dropped``, rule ``outlier_hampel`` or ``outlier_cross_source``, the score in
    ``detail``); :class:`ReadingsCleaner` refills them in place with the gap step.

    Parameters
    ----------
    threshold
        Robust z-score above which a value may be flagged (default 5).
    window
        Neighbours on each side in the centred rolling median of the weekday-adjusted series
        (default 2: days t±1, t±2).
    min_ratio
        A spike must be at least this multiple of the baseline, and of every neighbour (default 2).
    min_drop_ratio
        A drop must be below the baseline divided by this (default 10).
    cross_source
        Use the other sources of the same node, variable and day (default True).
    agree_tol
        Relative difference within which two sources agree (default 0.25): agreeing values are
        never flagged.
    protect_zeros
        Never flag an exact zero of a count series by the temporal rule (default True).
    count_units
        Units treated as counts (Poisson term, zero protection); default :data:`COUNT_UNITS` and
        ``case``.

    Attributes
    ----------
    rule_ : str
        The rule and thresholds, as text.
    audit_ : Audit
        The audit of the last ``transform``.
    """

    def __init__(
        self,
        threshold: float = 5.0,
        *,
        window: int = 2,
        min_ratio: float = 2.0,
        min_drop_ratio: float = 10.0,
        cross_source: bool = True,
        agree_tol: float = 0.25,
        protect_zeros: bool = True,
        count_units: Collection[str] | None = None,
    ) -> None:
        self.threshold = threshold
        self.window = window
        self.min_ratio = min_ratio
        self.min_drop_ratio = min_drop_ratio
        self.cross_source = cross_source
        self.agree_tol = agree_tol
        self.protect_zeros = protect_zeros
        self.count_units = count_units

    def _config(self) -> _OutlierConfig:
        return _outlier_config(
            self.threshold,
            self.window,
            self.min_ratio,
            self.min_drop_ratio,
            self.cross_source,
            self.agree_tol,
            self.protect_zeros,
        )

    def fit(self, readings: pd.DataFrame, y: Any = None) -> OutlierFilter:
        """Check the parameters and the table; record ``rule_``; returns ``self``."""
        cfg = self._config()
        _check_readings(readings)
        self.rule_ = _outlier_rule_text(cfg)
        self._record_input(readings)
        return self

    def transform(self, readings: pd.DataFrame) -> pd.DataFrame:
        """Copy of ``readings`` without the flagged values; the audit is in ``audit_``."""
        self._check_fitted()
        run = _encode(readings)
        _resolve_duplicates(run, None)
        _dense_pass(run, self._config(), None, self.count_units)
        return self._finish(run)


class GapFiller(_Step):
    """Reindex each (node, variable, source) series to daily and fill short gaps.

    Parameters
    ----------
    max_gap
        Longest run of missing days that is filled (default 3); longer runs are reported (audit
        action ``reported``, rule ``gap_too_long``, and ``gaps_``), not invented.
    method
        ``"seasonal"`` (default: linear interpolation of the weekday-adjusted series, times the
        weekday profile), ``"linear"`` (time interpolation) or ``"weekday"`` (median of the same
        weekday ±7 and ±14 days, else seasonal).  A gap at a series' edge takes the nearest value.

    Attributes
    ----------
    gaps_ : pandas.DataFrame
        Every gap of the last ``transform``: :data:`GAP_COLUMNS`.
    audit_ : Audit
        The audit of the last ``transform`` (rule ``gap_<method>``: ``filled``).
    """

    def __init__(self, max_gap: int = 3, *, method: str = "seasonal") -> None:
        self.max_gap = max_gap
        self.method = method

    def fit(self, readings: pd.DataFrame, y: Any = None) -> GapFiller:
        """Check the parameters and the table; returns ``self``."""
        self.config_ = _gap_config(self.max_gap, self.method)
        _check_readings(readings)
        self._record_input(readings)
        return self

    def transform(self, readings: pd.DataFrame) -> pd.DataFrame:
        """Copy of ``readings`` plus the filled days; the audit is in ``audit_``."""
        self._check_fitted()
        run = _encode(readings)
        _resolve_duplicates(run, None)
        _dense_pass(run, None, self.config_, None)
        return self._finish(run)


class ReadingsCleaner(_Step):
    """The cleaning pipeline: units → duplicates → noise rate → outliers → gaps (see :mod:`sclm.cleaning`).

    Parameters
    ----------
    units
        Unit declarations (see :class:`UnitConverter`), e.g. ``scenario.units``.
    duplicates
        Duplicate rule: ``"first"`` (default), ``"mean"`` or ``"median"``.
    p, reference, confidence, trim
        Noise-rate correction (see :class:`NoiseRateCorrector`); default: estimate ``p`` of source
        ``"iot"`` against ``"erp"``.
    outlier_threshold, outlier_window, min_ratio, min_drop_ratio, cross_source, agree_tol, protect_zeros
        Outlier rule (see :class:`OutlierFilter`).
    max_gap, fill
        Gap filling (see :class:`GapFiller`): longest filled gap in days (default 3) and the method.
    skip
        Steps to turn off, names from :data:`STEPS` (e.g. ``("outliers",)``).  Skipping
        ``duplicates`` is only possible when no key repeats.
    sort
        Sort the output by (node, ts, variable, source) (default False: input order, filled rows last).
    count_units
        Units treated as counts by the outlier rule (default :data:`COUNT_UNITS` and ``case``).
    n_jobs
        Threads for the outlier and gap pass (None: up to 4; -1: every CPU; 1: none).  The result
        does not depend on it.

    Attributes
    ----------
    units_table_ : pandas.DataFrame or None
        Normalised unit declarations.
    conversions_ : pandas.DataFrame
        Unit conversions seen at fit.
    p_ : pandas.DataFrame
        Noise rates (:data:`P_COLUMNS`) used by ``transform``.
    outlier_rule_ : str
        The outlier rule and thresholds.
    rules_ : dict
        The rule of every step (what the audit's ``rule`` values mean).
    audit_ : Audit
        Audit of the last ``transform`` (``clean`` returns it).
    imputed_ : pandas.DataFrame
        Keys of the readings the last ``transform`` invented (gap fills, replaced outliers), as
        :func:`sclm.scoring.imputed_keys` of ``audit_``, from the audit's codes (pass to ``fuse``).
    gaps_ : pandas.DataFrame
        Gaps of the last ``transform`` (:data:`GAP_COLUMNS`).
    """

    def __init__(
        self,
        *,
        units: pd.DataFrame | Mapping[tuple[str, str], float] | None = None,
        duplicates: str = "first",
        p: float | Mapping[Any, float | None] | None = None,
        reference: str | Mapping[str, str] | None = None,
        confidence: float = 0.95,
        trim: float = 4.0,
        outlier_threshold: float = 5.0,
        outlier_window: int = 2,
        min_ratio: float = 2.0,
        min_drop_ratio: float = 10.0,
        cross_source: bool = True,
        agree_tol: float = 0.25,
        protect_zeros: bool = True,
        max_gap: int = 3,
        fill: str = "seasonal",
        skip: Collection[str] = (),
        sort: bool = False,
        count_units: Collection[str] | None = None,
        n_jobs: int | None = None,
    ) -> None:
        self.units = units
        self.duplicates = duplicates
        self.p = p
        self.reference = reference
        self.confidence = confidence
        self.trim = trim
        self.outlier_threshold = outlier_threshold
        self.outlier_window = outlier_window
        self.min_ratio = min_ratio
        self.min_drop_ratio = min_drop_ratio
        self.cross_source = cross_source
        self.agree_tol = agree_tol
        self.protect_zeros = protect_zeros
        self.max_gap = max_gap
        self.fill = fill
        self.skip = skip
        self.sort = sort
        self.count_units = count_units
        self.n_jobs = n_jobs

    # -- parameters -----------------------------------------------------------------------------
    def _steps(self) -> set[str]:
        skip = [self.skip] if isinstance(self.skip, str) else list(self.skip)
        unknown = [s for s in skip if s not in STEPS]
        if unknown:
            raise ValueError(f"skip: unknown step {unknown[0]!r}; expected names from {list(STEPS)}")
        return set(STEPS) - set(skip)

    def _validate(self) -> None:
        steps = self._steps()
        if "duplicates" in steps and self.duplicates not in DUPLICATE_RULES:
            raise ValueError(
                f"duplicates={self.duplicates!r} is not a duplicate rule; expected one of {list(DUPLICATE_RULES)}"
            )
        if "noise_rate" in steps:
            refs = _references(self.reference)
            _p_targets(self.p, refs, [])
        self._ocfg = (
            _outlier_config(
                self.outlier_threshold,
                self.outlier_window,
                self.min_ratio,
                self.min_drop_ratio,
                self.cross_source,
                self.agree_tol,
                self.protect_zeros,
            )
            if "outliers" in steps
            else None
        )
        self._gcfg = _gap_config(self.max_gap, self.fill) if "gaps" in steps else None
        self._active = steps

    # -- the work -------------------------------------------------------------------------------
    def _fit_inputs(self, run: _Run) -> tuple[pd.DataFrame, list[tuple[str, str]], dict[Any, Any]]:
        """Units and duplicates on ``run``; the conversions and the noise-rate inputs (per node, mergeable)."""
        steps = self._active
        self.units_table_ = _normalise_units(self.units) if "units" in steps else None
        if "units" in steps:
            conversions = _apply_units(run, self.units_table_)
            run.done.add("units")
        else:
            conversions = _conversions_frame(run, np.empty(0, dtype=np.int64), np.empty(0), np.empty(0))
        _resolve_duplicates(run, self.duplicates if "duplicates" in steps else None)
        run.done.add("duplicates")
        if "noise_rate" in steps:
            _check_fit_options(self.trim, self.confidence)
            pairs, data = _noise_inputs(run, self.reference)
        else:
            pairs, data = [], {}
        return conversions, pairs, data

    def _fit_finish(
        self,
        conversions: pd.DataFrame,
        pairs: list[tuple[str, str]],
        aligned: Mapping[tuple[str, str], tuple[np.ndarray, np.ndarray]],
    ) -> None:
        """The fitted attributes from the conversions and the aligned noise-rate days (node, day order)."""
        steps = self._active
        self.units_table_ = _normalise_units(self.units) if "units" in steps else None
        self.conversions_ = conversions
        if "noise_rate" in steps:
            self.p_ = _p_table(pairs, aligned, self.p, self.reference, self.trim, self.confidence)
        else:
            self.p_ = pd.DataFrame({c: pd.Series(dtype=object) for c in P_COLUMNS}).astype(_P_DTYPES)
        self.outlier_rule_ = _outlier_rule_text(self._ocfg) if self._ocfg is not None else "(off)"
        self.rules_ = {
            "units": "convert to the declared (or majority) unit; cases x units_per_case"
            if "units" in steps
            else "(off)",
            "duplicates": f"duplicate_{self.duplicates}" if "duplicates" in steps else "(off)",
            "noise_rate": "q = q'/(1-p); p given or binomial-thinning ratio of sums vs reference over "
            "screened days (delta-method/Wilson CI); an estimate outside [0, 1) is not applied"
            if "noise_rate" in steps
            else "(off)",
            "outliers": self.outlier_rule_,
            "gaps": (
                f"fill runs <= {self._gcfg.max_gap} day(s) by {self._gcfg.method}; report longer runs"
                if self._gcfg is not None
                else "(off)"
            ),
        }

    def _fit_run(self, run: _Run) -> None:
        conversions, pairs, data = self._fit_inputs(run)
        self._fit_finish(conversions, pairs, {k: (d[2], d[3]) for k, d in data.items()})

    def _transform_run(self, run: _Run) -> pd.DataFrame:
        steps = self._active
        if "units" in steps and "units" not in run.done:
            _apply_units(run, self.units_table_)
            run.done.add("units")
        if "duplicates" not in run.done:
            _resolve_duplicates(run, self.duplicates if "duplicates" in steps else None)
            run.done.add("duplicates")
        if "noise_rate" in steps:
            _apply_noise(run, self.p_)
        if self._ocfg is not None or self._gcfg is not None:
            _dense_pass(run, self._ocfg, self._gcfg, self.count_units, self.n_jobs)
        return self._finish(run, sort=bool(self.sort))

    # -- public API -----------------------------------------------------------------------------
    @property
    def imputed_(self) -> Any:
        """Keys of the cleaned readings that the last ``transform`` invented (for ``fuse(imputed=)``).

        Equal to :func:`sclm.scoring.imputed_keys` of ``audit_`` (gap fills and values put in place
        of outliers; columns ``node, ts, variable, source``, one row per key, audit order), taken
        from the audit's integer codes on the pandas path (no string scan of the audit).  A lazy
        Dask audit gives the same keys lazily; a written audit folder is returned as is (``fuse``
        reads the keys from it).
        """
        audit = self.__dict__.get("audit_")
        if audit is None:
            raise AttributeError("imputed_: call transform (or fit_transform) first")
        stored = self.__dict__.get("_imputed")
        if stored is not None and stored[0] is audit:
            return stored[1]
        if isinstance(audit, str | os.PathLike):
            return audit
        from sclm.scoring import imputed_keys

        return imputed_keys(audit)

    def fit(self, readings: pd.DataFrame, y: Any = None, *, client: Any = None) -> ReadingsCleaner:
        """Learn the unit conversions and the noise rates (``p_``) from ``readings``; returns ``self``.

        ``readings`` may be a Dask DataFrame or a folder of Parquet Readings (:mod:`sclm._dask`:
        one pass per partition of whole nodes, ``p_`` reduced exactly; ``client`` chooses the
        scheduler).
        """
        if _dask.is_scalable(readings):
            return _dask.clean_fit(self, readings, client)
        self._validate()
        run = _encode(readings)
        self._fit_run(run)
        self._record_input(readings)
        return self

    def transform(self, readings: pd.DataFrame, *, client: Any = None, out: Any = None) -> pd.DataFrame:
        """The cleaned copy of ``readings``; the audit is in ``audit_`` and the gaps in ``gaps_``.

        A Dask DataFrame gives a lazy Dask DataFrame (``audit_``, ``gaps_`` lazy too, from the
        same tasks: compute them together); a Parquet folder (or ``out=``) writes
        ``<out>/readings`` and ``<out>/audit`` (default ``out``: the folder name + ``.clean``),
        returns the readings folder, ``audit_`` is the audit folder and ``gaps_`` a pandas frame.
        """
        if _dask.is_scalable(readings):
            return _dask.clean_transform(self, readings, client, out)
        self._check_fitted()
        self._validate()
        return self._transform_run(_encode(readings))

    def fit_transform(
        self, readings: pd.DataFrame, y: Any = None, *, client: Any = None, out: Any = None
    ) -> pd.DataFrame:
        """``fit(readings).transform(readings)``, encoding the table once (Dask: two passes)."""
        if _dask.is_scalable(readings):
            _dask.clean_fit(self, readings, client)
            return _dask.clean_transform(self, readings, client, out)
        self._validate()
        run = _encode(readings)
        self._fit_run(run)
        self._record_input(readings)
        return self._transform_run(run)


def clean(
    readings: pd.DataFrame, *, client: Any = None, out: Any = None, **options: Any
) -> tuple[pd.DataFrame, Audit]:
    """Clean a Readings table: units → duplicates → noise rate → outliers → gaps.

    Equivalent to ``ReadingsCleaner(**options).fit(readings).transform(readings)`` (it calls
    ``fit_transform``, which encodes the table once) and returns the audit with the table.

    Parameters
    ----------
    readings
        Raw Readings (columns ``ts, node, node_type, variable, value, unit, source``; duplicated
        keys allowed).  Not modified.
        A Dask DataFrame or a folder of Parquet Readings (:func:`sclm.io.write_readings`) runs on
        Dask (:mod:`sclm._dask`) and returns the same kind: a lazy Dask frame and audit, or the
        written folders ``<out>/readings`` and ``<out>/audit``.  The result equals the pandas one.
    client
        Dask only: a ``distributed.Client``, a scheduler address or a local scheduler name
        (default: ``SCLM_DASK_SCHEDULER``, else a LocalCluster).
    out
        Dask only: the output folder (a path input defaults to ``<path>.clean``).
    **options
        :class:`ReadingsCleaner` parameters, e.g. ``units=scenario.units``, ``p=0.1``,
        ``reference={"iot": "erp"}``, ``max_gap=3``, ``skip=("outliers",)``.

    Returns
    -------
    cleaned : pandas.DataFrame
        Same columns and dtypes, one row per key (passes ``validate_readings(...,
        allow_duplicates=False)``).
    audit : Audit
        Every changed, dropped, filled or reported value (:data:`AUDIT_COLUMNS`);
        ``len(cleaned) == len(readings) - dropped + filled``.

    Raises
    ------
    sclm.schema.DataValidationError
        Bad input: empty table, missing column, wrong dtype, NaN/NaT, negative quantity, unknown unit.
    ValueError
        Bad option, e.g. ``p`` outside ``[0, 1)``.
    """
    cleaner = ReadingsCleaner(**options)
    if _dask.is_scalable(readings):
        cleaned = cleaner.fit_transform(readings, client=client, out=out)
    else:
        cleaned = cleaner.fit_transform(readings)
    return cleaned, cleaner.audit_
