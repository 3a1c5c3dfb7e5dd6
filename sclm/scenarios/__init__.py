"""Synthetic supply-chain scenarios with every answer key.

``make_scenario(name, seed=0, **params)`` simulates one of :data:`SCENARIOS` and returns a
:class:`Scenario`: raw multi-source ``readings`` (IoT undercount, per-source noise, outliers,
missing source-days, duplicated ERP records, one source in cases), the clean ``truth`` panel
that generated them (inventory balance exact), the ``faults`` answer key, the true ``drivers``
(sparse, with a distractor channel that drives nothing), BIO-tagged ``documents``, the
``nodes`` and ``units`` tables and a JSON-able ``meta``.

>>> from sclm.scenarios import make_scenario
>>> sc = make_scenario("retail", seed=1, n_days=120, n_documents=20)
>>> sc.meta["targets"]["k"]
'inventory'
"""

from __future__ import annotations

import dataclasses

from sclm.scenarios._base import (
    DOCUMENT_COLUMNS,
    DRIVER_COLUMNS,
    DRIVER_ROLES,
    FAULT_COLUMNS,
    FAULT_KINDS,
    Channel,
    Scenario,
    ScenarioParams,
)
from sclm.scenarios.logistics import LogisticsParams
from sclm.scenarios.manufacturing import ManufacturingParams
from sclm.scenarios.retail import RetailParams
from sclm.schema import unknown_name

SCENARIOS: dict[str, type[ScenarioParams]] = {
    "manufacturing": ManufacturingParams,
    "logistics": LogisticsParams,
    "retail": RetailParams,
}
"""Scenario name → its frozen parameter dataclass (``SCENARIOS[name](**params).build()``)."""


def scenario_params(name: str, seed: int = 0, **params: object) -> ScenarioParams:
    """Validated parameters of scenario ``name``.

    Raises
    ------
    sclm.schema.UnknownNameError
        Unknown scenario (a ``KeyError``; the message lists the known names).
    TypeError
        Unknown keyword parameter (the message lists the valid ones) or a wrong type.
    ValueError
        A parameter out of range (the message names it, its value and the allowed range).
    """
    if name not in SCENARIOS:
        raise unknown_name("scenario", name, SCENARIOS)
    cls = SCENARIOS[name]
    valid = [f.name for f in dataclasses.fields(cls)]
    unknown = [k for k in params if k not in valid]
    if unknown:
        raise TypeError(
            f"unknown parameter {unknown[0]!r} for scenario {name!r}; valid parameters: {', '.join(valid)}"
        )
    return cls(seed=seed, **params)


def make_scenario(name: str, seed: int = 0, **params: object) -> Scenario:
    """Simulate a scenario.

    Parameters
    ----------
    name
        ``"manufacturing"``, ``"logistics"`` or ``"retail"``.
    seed
        Seed of every random stream; the same seed gives identical tables.
    **params
        Fields of the scenario's parameter dataclass (:data:`SCENARIOS`), e.g. ``n_nodes``,
        ``n_days``, ``start``, ``p``, ``noise_iot``, ``outlier_rate``, ``missing_rate``,
        ``duplicate_rate``, ``n_documents``.

    Returns
    -------
    Scenario
        See :class:`Scenario`.

    Raises
    ------
    sclm.schema.UnknownNameError
        Unknown scenario name.
    TypeError
        Unknown parameter name or wrong type.
    ValueError
        Parameter out of range.
    """
    return scenario_params(name, seed, **params).build()


__all__ = [
    "DOCUMENT_COLUMNS",
    "DRIVER_COLUMNS",
    "DRIVER_ROLES",
    "FAULT_COLUMNS",
    "FAULT_KINDS",
    "SCENARIOS",
    "Channel",
    "LogisticsParams",
    "ManufacturingParams",
    "RetailParams",
    "Scenario",
    "ScenarioParams",
    "make_scenario",
    "scenario_params",
]
