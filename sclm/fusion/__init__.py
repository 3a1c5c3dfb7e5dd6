"""Fusion: align the sources of each (node, day, variable), fuse them, aggregate nodes.

The step after cleaning (see ``docs/architecture.md``): cleaned Readings (long, native units, one
row per ``(node, ts, variable, source)``) become a Panel (wide, index ``(node, ts)``, one float
column per variable, daily, no gaps).

Two transformers, scikit-learn style (``fit`` returns ``self``, learned attributes end in ``_``,
``get_feature_names_out``, ``get_params``/``set_params``, on :class:`sclm.estimator.Transformer`, a scikit-learn ``BaseEstimator``), and two
functions:

* :func:`align` — the readings wide over sources: index (``node``, ``ts``, ``variable``), one
  column per source, NaN where a source has no reading that day;
* :class:`SourceFuser` — estimates each source's noise from the data (:attr:`~SourceFuser.weights_`)
  and fuses the sources of every (node, day, variable) into one value by ``"mean"`` (the article's
  plain average), ``"median"`` or ``"inverse_variance"``; fills the days no source covers and
  reports them (:attr:`~SourceFuser.filled_`);
* :class:`NodeAggregator` — sums or averages nodes into groups (parent, node type, ``"total"``);
* :func:`fuse` — both in one call: ``sclm.fuse(readings, method="inverse_variance", **options)``.

One module per step; import from ``sclm.fusion`` (the names below), not from the modules:

* :mod:`sclm.fusion.alignment` — :func:`align`;
* :mod:`sclm.fusion.noise` — the noise model and its estimator (three-cornered hat, robust
  spreads, borrowing across variables): :data:`WEIGHTS_BY`, :data:`NOISE_KINDS`, :data:`SPREADS`;
* :mod:`sclm.fusion.fuser` — :class:`SourceFuser`, :data:`METHODS`;
* :mod:`sclm.fusion.filling` — filling the days no source covers, :data:`FILL_METHODS`;
* :mod:`sclm.fusion.aggregation` — :class:`NodeAggregator`, :func:`default_rule`,
  :data:`AGG_RULES`, :data:`UNMAPPED`;
* :mod:`sclm.fusion.convenience` — :func:`fuse`;
* :mod:`sclm.fusion.report` — :class:`FusionReport` and the columns of the fitted tables
  (:data:`WEIGHT_COLUMNS`, :data:`PAIR_COLUMNS`, :data:`FILLED_COLUMNS`).

The private engine: ``_table`` (readings → integer codes → one dense (cell × source) array per
variable, with the contract's checks), ``_reduce`` (reductions over the sources axis),
``_common`` (transformer base, option checks).

Nothing is read from a simulator's truth or meta: the weights come from the readings only.
"""

from sclm.estimator import NotFittedError
from sclm.fusion.aggregation import AGG_RULES, UNMAPPED, NodeAggregator, default_rule
from sclm.fusion.alignment import align
from sclm.fusion.convenience import fuse
from sclm.fusion.filling import FILL_METHODS
from sclm.fusion.fuser import METHODS, SourceFuser
from sclm.fusion.noise import NOISE_KINDS, SPREADS, WEIGHTS_BY
from sclm.fusion.report import FILLED_COLUMNS, PAIR_COLUMNS, WEIGHT_COLUMNS, FusionReport

__all__ = [
    "AGG_RULES",
    "FILLED_COLUMNS",
    "FILL_METHODS",
    "METHODS",
    "NOISE_KINDS",
    "PAIR_COLUMNS",
    "SPREADS",
    "UNMAPPED",
    "WEIGHTS_BY",
    "WEIGHT_COLUMNS",
    "FusionReport",
    "NodeAggregator",
    "NotFittedError",
    "SourceFuser",
    "align",
    "default_rule",
    "fuse",
]
