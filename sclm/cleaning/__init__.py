"""Cleaning of raw Readings: units, duplicates, noise-rate correction, outliers and gaps, with an audit log.

The step after the scenarios / loaders and before fusion (see ``docs/architecture.md``).  Every
step is a scikit-learn-style transformer (``fit`` returns ``self``, learned attributes end in
``_``, ``get_feature_names_out``); :class:`ReadingsCleaner` composes them and :func:`clean` is the
one-call convenience::

    cleaned, audit = clean(scenario.readings, units=scenario.units)
    audit.summary()                        # rule × action counts

Pipeline order (fixed; each step sees the output of the previous one)
---------------------------------------------------------------------
1. **units** (:class:`UnitConverter`, :mod:`sclm.cleaning.units`) — every reading is converted to
   the target unit of its (node, variable): the declared unit, else the majority unit; cases ↔
   units use the declared pack size.
2. **duplicates** (:class:`DuplicateResolver`, :mod:`sclm.cleaning.duplicates`) — readings sharing
   the key (node, ts, variable, source) collapse to one (``"first"``, ``"mean"`` or ``"median"``).
3. **noise_rate** (:class:`NoiseRateCorrector`, :mod:`sclm.cleaning.noise_rate`) — the article's
   counter model ``q' = (1 - p)·q``, so ``q = q' / (1 - p)``; ``p`` given or estimated per (source,
   variable) against a reference source by :func:`estimate_noise_rate` (binomial thinning: ratio
   of sums over the days a robust, over-dispersed binomial screen keeps; delta-method / Wilson
   interval).  An estimate outside ``[0, 1)`` warns and is not applied (``applied`` False in ``p_``).
4. **outliers** (:class:`OutlierFilter`, :mod:`sclm.cleaning.outliers`) — a Hampel rule on
   residuals from a seasonal baseline plus a cross-source check.  A flagged value is removed; in
   :class:`ReadingsCleaner` the gap step then fills it in place (audit action ``"changed"``, rule
   ``outlier_*``), or, when the gap it leaves is longer than ``max_gap`` (or the gap step is off),
   the reading is dropped (action ``"dropped"``).
5. **gaps** (:class:`GapFiller`, :mod:`sclm.cleaning.gaps`) — each (node, variable, source) series
   is reindexed to daily over its own first..last day; runs of up to ``max_gap`` missing days
   (default 3) are filled, longer runs are **reported**, never invented.

Audit log
---------
One row per changed, dropped, filled or reported value (:class:`Audit`, columns
:data:`AUDIT_COLUMNS`, :mod:`sclm.cleaning.audit`).  Nothing is lost: ``len(cleaned) ==
len(readings) - dropped + filled``.

Output
------
The cleaned table has the input's columns and dtypes (``ts`` datetime64[ns], ``value`` float64,
labels object str or ``category`` with str categories, as the input) and a fresh RangeIndex; surviving readings keep their input order, filled readings
follow, ordered by (node, variable, source, ts) (``sort=True`` sorts everything by the key instead).
A filled reading copies ``node_type`` (and any extra column) from the first reading of its series.
It passes ``validate_readings(cleaned, allow_duplicates=False)``.  The input is never mutated.

Beyond memory
-------------
A Dask DataFrame or a folder of Parquet Readings (:mod:`sclm.io`) runs on Dask, partition by
partition of whole nodes, with the same code and the same result (:mod:`sclm._dask`).

Layout of the package
---------------------
The public transformers are in :mod:`sclm.cleaning.pipeline`, each step's logic in its module
(``units``, ``duplicates``, ``noise_rate``, ``outliers``, ``gaps``, ``audit``), and the private
engine — the encoded run, the dense ``(series × days)`` blocks, window medians, the outlier and gap
pass and the output table — in ``_engine``, ``_window``, ``_pass`` and ``_output`` (see
:mod:`sclm.cleaning._engine` for the performance notes).  Import from :mod:`sclm.cleaning`: the
names below are the public API.
"""

from __future__ import annotations

from sclm.cleaning.audit import ACTIONS, AUDIT_COLUMNS, Audit, summary
from sclm.cleaning.gaps import GAP_COLUMNS
from sclm.cleaning.noise_rate import P_COLUMNS, estimate_noise_rate
from sclm.cleaning.pipeline import (
    STEPS,
    DuplicateResolver,
    GapFiller,
    NoiseRateCorrector,
    OutlierFilter,
    ReadingsCleaner,
    UnitConverter,
    clean,
)
from sclm.cleaning.units import COUNT_UNITS
from sclm.estimator import NotFittedError

__all__ = [
    "ACTIONS",
    "AUDIT_COLUMNS",
    "COUNT_UNITS",
    "GAP_COLUMNS",
    "P_COLUMNS",
    "STEPS",
    "Audit",
    "DuplicateResolver",
    "GapFiller",
    "NoiseRateCorrector",
    "NotFittedError",
    "OutlierFilter",
    "ReadingsCleaner",
    "UnitConverter",
    "clean",
    "estimate_noise_rate",
    "summary",
]
