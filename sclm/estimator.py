"""The scikit-learn estimator conventions shared by the cleaning, fusion and conformal transformers.

:class:`Transformer` is a :class:`sklearn.base.BaseEstimator` and
:class:`sklearn.base.TransformerMixin`: ``get_params``/``set_params`` come from the ``__init__``
signature (so :func:`sklearn.base.clone` works), ``fit_transform`` is ``fit(X, y).transform(X)``,
and using a transformer before ``fit`` raises :class:`NotFittedError`
(:class:`sklearn.exceptions.NotFittedError`) through
:func:`sklearn.utils.validation.check_is_fitted`.

Three things differ from scikit-learn's defaults, on purpose:

* ``repr`` shows the non-default parameters in signature order and a frame parameter as
  ``<DataFrame>`` (scikit-learn would print the whole frame);
* ``set_params`` names the valid parameters without printing the estimator;
* the ``set_output`` wrapping of ``transform`` is off: these transformers take and return long
  frames (Readings, Panel, forecast frames), not feature matrices.

Subclasses set ``_fitted_attr`` to an attribute that ``fit`` creates; ``_check_fitted`` raises
until it exists.
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar, Self

import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

__all__ = ["NotFittedError", "Transformer"]

_NOT_FITTED = "this %(name)s is not fitted yet; call fit(...) before transform(...)"


def _same(a: Any, b: Any) -> bool:
    """Whether a parameter value equals its default (frames and arrays never compare equal)."""
    if a is b:
        return True
    if type(a) is not type(b) or isinstance(a, pd.DataFrame | pd.Series):
        return False
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


class Transformer(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """Base class: scikit-learn's estimator protocol with a readable ``repr`` and the fitted check.

    Subclasses define ``__init__`` with keyword parameters stored under their own names (the
    scikit-learn rule), ``fit`` (returning ``self``) and ``transform``, and set ``_fitted_attr``
    to an attribute that ``fit`` creates.
    """

    _fitted_attr: ClassVar[str] = "n_features_in_"

    def __init_subclass__(cls, auto_wrap_output_keys: tuple[str, ...] | None = None, **kwargs: Any) -> None:
        # No set_output wrapping: transform returns a long frame, not a feature matrix.
        super().__init_subclass__(auto_wrap_output_keys=auto_wrap_output_keys, **kwargs)

    @classmethod
    def _param_names(cls) -> list[str]:
        """The ``__init__`` parameters, in signature order."""
        return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor parameters, in signature order (scikit-learn protocol)."""
        out = super().get_params(deep=deep)
        return {k: out[k] for k in self._param_names()} | out

    def set_params(self, **params: Any) -> Self:
        """Set constructor parameters (scikit-learn protocol); returns ``self``.

        Raises
        ------
        ValueError
            A name that is not an ``__init__`` parameter (the message lists the valid ones).
        """
        names = self._param_names()
        for k in params:
            if k.partition("__")[0] not in names:
                raise ValueError(
                    f"invalid parameter {k!r} for {type(self).__name__}; expected one of: {', '.join(names)}"
                )
        return super().set_params(**params)

    def __repr__(self) -> str:
        shown = []
        for k, p in inspect.signature(type(self).__init__).parameters.items():
            if k == "self":
                continue
            v = getattr(self, k)
            if not _same(v, p.default):
                shown.append(f"{k}={'<DataFrame>' if isinstance(v, pd.DataFrame) else repr(v)}")
        return f"{type(self).__name__}({', '.join(shown)})"

    def __sklearn_is_fitted__(self) -> bool:
        """Whether ``fit`` has run (``_fitted_attr`` exists), for scikit-learn's own checks."""
        return hasattr(self, self._fitted_attr)

    def _check_fitted(self) -> None:
        """Raise :class:`NotFittedError` unless ``fit`` has created ``_fitted_attr``."""
        check_is_fitted(self, self._fitted_attr, msg=_NOT_FITTED)

    def fit(self, X: pd.DataFrame, y: Any = None) -> Self:  # pragma: no cover - overridden
        raise NotImplementedError

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:  # pragma: no cover - overridden
        raise NotImplementedError
