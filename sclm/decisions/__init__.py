"""Decisions from the forecast: supply-network plans, replenishment policies, routes, schedules.

One module per problem, each wrapping the best maintained solver for it:

==========================  ==================================================================
:mod:`~.edits`              network edits as data (pydantic), one model per kind
:mod:`~.network`            multi-echelon, multi-product min-cost flow (LP / MILP, OR-Tools);
                            ``load_network``, ``plan_network``, ``what_if``, ``why``,
                            ``plot_network_plan``
:mod:`~.inventory`          base-stock, newsvendor, (s, S), EOQ from forecast quantiles
                            (stockpyl); simulation on a scenario's truth
:mod:`~.routing`            CVRP / VRPTW with PyVRP (OR-Tools routing as the comparison)
:mod:`~.production`         capacity-constrained production plan (LP)
:mod:`~.scheduling`         job-shop scheduling with CP-SAT; Gantt chart
==========================  ==================================================================

Names are imported on first use, so ``import sclm.decisions`` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

# public name -> submodule that defines it
_EXPORTS: dict[str, str] = {
    # edits
    "Edit": "edits",
    "EDIT_KINDS": "edits",
    "parse_edits": "edits",
    # network
    "Network": "network",
    "NetworkPlan": "network",
    "WhatIf": "network",
    "Why": "network",
    "load_network": "network",
    "plan_network": "network",
    "what_if": "network",
    "why": "network",
    "scenario_network": "network",
    "plot_network_plan": "network",
    "NetworkFileError": "network",
    "EditError": "network",
    # inventory
    "newsvendor": "inventory",
    "base_stock": "inventory",
    "s_S_policy": "inventory",
    "eoq": "inventory",
    "policy_from_forecast": "inventory",
    "simulate_policy": "inventory",
    "compare_policies": "inventory",
    # routing
    "solve_cvrp": "routing",
    "solve_vrptw": "routing",
    "RoutingResult": "routing",
    "plot_routes": "routing",
    "scenario_routes": "routing",
    # production
    "plan_production": "production",
    "ProductionPlan": "production",
    "ProductionCosts": "production",
    "scenario_production_plan": "production",
    "plot_production_plan": "production",
    # scheduling
    "solve_jobshop": "scheduling",
    "Schedule": "scheduling",
    "plot_gantt": "scheduling",
    "check_schedule": "scheduling",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        module = importlib.import_module(f"sclm.decisions.{_EXPORTS[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'sclm.decisions' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
