"""Explanations you can check: Captum and SHAP behind one verb, with checks against ground truth.

* :func:`explain` (:mod:`.methods`) → :class:`Attribution` (:mod:`.attribution`): values
  shaped like the input (N×T×C windows, N×tokens texts), feature names, method, delta;
* checks (:mod:`.checks`): completeness, Captum-vs-SHAP rank agreement, model randomisation,
  deletion curve, precision/recall (AUP/AUR) against a scenario's known drivers;
* plots (:mod:`.plots`): time × channel heatmap, per-channel bars, overlay, token HTML;
* :func:`explain_forecast_summary` (:mod:`.summary`): the case-study one-liner;
  :func:`explanation_checks`: the report's verdict table and the answer key beside the heatmap
  (:func:`key_beside_heatmap`), on the one-step forecast.

Each attribution method is one adapter in a registry (:mod:`._registry`), over the shared
inputs of :mod:`._inputs`; ``docs/architecture.md`` shows where the package sits in sclm.

The package itself is callable — ``sclm.explain(model, X, ...)`` is :func:`explain` — so the
documented name ``sclm.explain(...)`` works whether it resolves to this package or the function.
"""

import sys
import types

from sclm.explain import checks, plots
from sclm.explain.attribution import Attribution
from sclm.explain.checks import (
    completeness,
    deletion_curve,
    driver_cells,
    key_windows,
    precision_recall,
    randomization_check,
    rank_agreement,
)
from sclm.explain.methods import METHODS, REFUSED, TEXT_METHODS, WINDOW_METHODS, explain, is_transformer
from sclm.explain.plots import channel_bar, heatmap, key_beside_heatmap, overlay, token_html
from sclm.explain.summary import GOALS, explain_forecast_summary, explanation_checks

__all__ = [
    "GOALS",
    "METHODS",
    "REFUSED",
    "TEXT_METHODS",
    "WINDOW_METHODS",
    "Attribution",
    "channel_bar",
    "checks",
    "completeness",
    "deletion_curve",
    "driver_cells",
    "explain",
    "explain_forecast_summary",
    "explanation_checks",
    "heatmap",
    "is_transformer",
    "key_beside_heatmap",
    "key_windows",
    "overlay",
    "plots",
    "precision_recall",
    "randomization_check",
    "rank_agreement",
    "token_html",
]


class _CallableModule(types.ModuleType):
    """``sclm.explain(...)`` calls :func:`explain` (the package and the verb share a name)."""

    def __call__(self, *args, **kwargs):
        return explain(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
