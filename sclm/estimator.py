"""The scikit-learn conventions shared by the cleaning and fusion transformers, without the dependency.

``get_params``/``set_params`` come from the ``__init__`` signature (so ``sklearn.base.clone``
works), ``repr`` shows the non-default parameters, and using a transformer before ``fit``
raises :class:`NotFittedError` (the same bases as scikit-learn's).
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar, Self

import pandas as pd


class NotFittedError(ValueError, AttributeError):
    """A transformer was used before ``fit`` (the same base classes as scikit-learn's)."""


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


class Transformer:
    """Base class: parameters from ``__init__``, ``repr``, the fitted check and ``fit_transform``.

    Subclasses set ``_fitted_attr`` to an attribute that ``fit`` creates.
    """

    _fitted_attr: ClassVar[str] = "n_features_in_"

    @classmethod
    def _param_names(cls) -> list[str]:
        return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor parameters (scikit-learn protocol)."""
        return {k: getattr(self, k) for k in self._param_names()}

    def set_params(self, **params: Any) -> Self:
        """Set constructor parameters (scikit-learn protocol); returns ``self``."""
        names = self._param_names()
        for k, v in params.items():
            if k not in names:
                raise ValueError(
                    f"invalid parameter {k!r} for {type(self).__name__}; expected one of: {', '.join(names)}"
                )
            setattr(self, k, v)
        return self

    def __repr__(self) -> str:
        shown = []
        for k, p in inspect.signature(type(self).__init__).parameters.items():
            if k == "self":
                continue
            v = getattr(self, k)
            if not _same(v, p.default):
                shown.append(f"{k}={'<DataFrame>' if isinstance(v, pd.DataFrame) else repr(v)}")
        return f"{type(self).__name__}({', '.join(shown)})"

    def _check_fitted(self) -> None:
        if not hasattr(self, self._fitted_attr):
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet; call fit(...) before transform(...)"
            )

    def fit(self, X: pd.DataFrame, y: Any = None) -> Self:  # pragma: no cover - overridden
        raise NotImplementedError

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:  # pragma: no cover - overridden
        raise NotImplementedError

    def fit_transform(self, X: pd.DataFrame, y: Any = None) -> pd.DataFrame:
        """``fit(X).transform(X)``."""
        return self.fit(X, y).transform(X)
