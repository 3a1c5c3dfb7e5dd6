"""Private helpers shared by the fusion modules: the transformer base and option checks."""

from __future__ import annotations

from typing import Any

from sclm.estimator import Transformer


class _Transformer(Transformer):
    """Fusion transformers: the shared scikit-learn conventions (:mod:`sclm.estimator`)."""

    _fitted_attr = ""


def _choice(name: str, value: Any, allowed: tuple[Any, ...]) -> None:
    """Raise :class:`ValueError` naming the allowed values unless ``value`` is one of ``allowed``."""
    if value not in allowed:
        raise ValueError(f"unknown {name} {value!r}; expected one of: {', '.join(map(str, allowed))}")
