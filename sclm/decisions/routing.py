"""Vehicle routing: CVRP and VRPTW with PyVRP (OR-Tools routing as the comparison), route maps.

::

    res = solve_cvrp(coords, demands, capacity=100, n_vehicles=5, rounding="nint", time_limit=2)
    res.distance, res.routes, res.route_loads, res.feasible
    res.to_frame()                       # one row per stop
    fig = plot_routes(coords, res)

Conventions
    Node ``depot`` (default 0) is the depot; every other node is a customer visited exactly
    once.  Routes list customer node indices in visiting order, the depot left out.
    Distances come from coordinates (Euclidean; ``rounding="nint"`` gives TSPLIB ``EUC_2D``
    integers, the convention of the CVRPLIB optima) or from a distance matrix.  Solvers work on
    integers: real distances are multiplied by a power of ten (``scale``, chosen so the median
    arc is at least 10^4 units) and rounded; travel times and service durations are rounded
    *up*, so a route feasible for the solver is feasible in real time.  Every result is
    recomputed from the real data and checked by an independent checker
    (:attr:`RoutingResult.feasible`, :attr:`RoutingResult.violations`).
Fleet
    ``n_vehicles`` caps the vehicles used.  Benchmarks whose optimum uses exactly ``k``
    vehicles (Augerat A/B/P, ``k`` in the name) need ``n_vehicles=k``: with more vehicles a
    solver finds cheaper routes than the published optimum.
Objectives
    ``"distance"`` minimises total distance.  ``"vehicles_then_distance"`` (the Solomon
    convention): a solution with fewer vehicles always wins and distance breaks ties.  PyVRP
    spends 30 % of the budget on a first feasible solution and fleet minimisation (one
    vehicle less while a feasible solution is found), the rest on the distance search with
    the smallest fleet; OR-Tools gives each vehicle a fixed cost larger than any solution's
    distance.  The reported ``distance`` never includes a fixed cost.
Determinism
    PyVRP with a fixed ``seed`` and a binding ``max_iterations`` gives the same routes every
    run.  Stopped by ``time_limit`` (PyVRP or OR-Tools), a solver gets as far as the machine's
    speed and load allow in that time.

The logistics-scenario planner :func:`scenario_routes` lives in :mod:`._routing_scenario`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ._routing_core import RoutingResult, make_problem, solve_problem
from ._routing_plot import plot_routes
from ._routing_scenario import ScenarioRoutes, scenario_routes

__all__ = [
    "RoutingResult",
    "ScenarioRoutes",
    "plot_routes",
    "scenario_routes",
    "solve_cvrp",
    "solve_problem",
    "solve_vrptw",
]


def solve_cvrp(
    coords_or_distance: Any,
    demands: Sequence[float] | np.ndarray,
    capacity: float,
    *,
    n_vehicles: int | None = None,
    depot: int = 0,
    time_limit: float = 10.0,
    seed: int = 0,
    solver: str = "pyvrp",
    rounding: str = "exact",
    names: Sequence[str] | None = None,
    minimise: str = "distance",
    max_iterations: int | None = None,
    distance_matrix: bool | None = None,
    scale: float | None = None,
    clock: str = "wall",
) -> RoutingResult:
    """Capacitated vehicle routing: serve every customer once from one depot, at least distance.

    Parameters
    ----------
    coords_or_distance
        Node coordinates, shape (n, 2) (Euclidean distances), or a distance matrix, shape
        (n, n), in any distance unit (asymmetric allowed).  A (2, 2) array needs
        ``distance_matrix`` to say which it is.
    demands
        Shape (n,): whole units to deliver to each node; 0 at the depot.
    capacity
        Capacity of every vehicle (same unit as ``demands``).
    n_vehicles
        Vehicles available (default: one per customer, i.e. no limit).  Fix it to the ``k`` of
        a benchmark whose optimum uses exactly ``k`` vehicles.
    depot
        Index of the depot node.
    time_limit
        Seconds of search (wall clock).
    seed
        Seed of PyVRP's random numbers (OR-Tools' search has none).
    solver
        ``"pyvrp"`` (default) or ``"ortools"`` (routing library, guided local search).
    rounding
        ``"exact"``: Euclidean distances in double precision (solved at ``scale``);
        ``"nint"``: TSPLIB ``EUC_2D`` (each distance rounded to the nearest integer), the
        convention of the CVRPLIB optima.  Applied to a given matrix too.
    names
        Shape (n,): node names carried into the result (:attr:`RoutingResult.named_routes`).
    minimise
        ``"distance"`` (default) or ``"vehicles_then_distance"``.
    max_iterations
        Stop PyVRP after this many iterations (deterministic for a seed); for OR-Tools, after
        this many solutions.  The time limit still applies.
    distance_matrix
        Whether ``coords_or_distance`` is a matrix (None: from its shape).
    scale
        Integer units per distance unit for the solver (default: automatic; 1 for integers).
    clock
        ``"wall"`` (default): ``time_limit`` in wall-clock seconds.  ``"cpu"`` (PyVRP only):
        in CPU seconds of this process, so that a benchmark on a shared machine searches as long
        as it would on an idle one.

    Returns
    -------
    RoutingResult
        Routes (node indices, depot left out), total and per-route distance (real values in the
        input's unit), loads, feasibility checked independently, solver and seconds.

    Raises
    ------
    ValueError
        Shapes that do not match, a negative or fractional demand, a demand above the
        capacity, total demand above ``n_vehicles × capacity``, an unknown solver.
    """
    problem = make_problem(
        coords_or_distance,
        demands,
        capacity,
        n_vehicles=n_vehicles,
        depot=depot,
        rounding=rounding,
        names=names,
        distance_matrix=distance_matrix,
        scale=scale,
    )
    return solve_problem(
        problem,
        solver=solver,
        objective=minimise,
        time_limit=time_limit,
        seed=seed,
        max_iterations=max_iterations,
        clock=clock,
    )


def solve_vrptw(
    coords_or_distance: Any,
    demands: Sequence[float] | np.ndarray,
    capacity: float,
    time_windows: Any,
    service_times: Sequence[float] | np.ndarray | None = None,
    *,
    n_vehicles: int | None = None,
    depot: int = 0,
    time_limit: float = 10.0,
    seed: int = 0,
    solver: str = "pyvrp",
    minimise: str = "vehicles_then_distance",
    travel_times: Any = None,
    rounding: str = "exact",
    names: Sequence[str] | None = None,
    max_iterations: int | None = None,
    distance_matrix: bool | None = None,
    scale: float | None = None,
    clock: str = "wall",
) -> RoutingResult:
    """Vehicle routing with capacities and time windows (Solomon conventions).

    Service at a customer must *start* within its window (a vehicle that arrives early waits);
    every vehicle leaves the depot no earlier than ``time_windows[depot, 0]`` and is back by
    ``time_windows[depot, 1]``.  Travel time equals distance unless ``travel_times`` is given.

    Parameters
    ----------
    coords_or_distance, demands, capacity, n_vehicles, depot, time_limit, seed, solver, rounding,
    names, max_iterations, distance_matrix, scale, clock
        As in :func:`solve_cvrp`.
    time_windows
        Shape (n, 2): ``(ready, due)`` per node, in time units (the depot's row is its opening
        hours).
    service_times
        Shape (n,): service duration at each node (default 0).
    minimise
        ``"vehicles_then_distance"`` (default; the objective of the Solomon best-knowns: fewest
        vehicles first, then distance) or ``"distance"``.
    travel_times
        Shape (n, n) travel times (default: the distances).

    Returns
    -------
    RoutingResult
        As :func:`solve_cvrp`, plus ``starts`` (service start at every stop) and ``returns``
        (time each vehicle is back), recomputed from the real data.

    Raises
    ------
    ValueError
        As :func:`solve_cvrp`, plus an empty window (ready > due) and a customer that cannot be
        served even by a vehicle of its own.
    """
    if time_windows is None:
        raise ValueError("time_windows is None; use solve_cvrp for routing without time windows")
    problem = make_problem(
        coords_or_distance,
        demands,
        capacity,
        n_vehicles=n_vehicles,
        depot=depot,
        rounding=rounding,
        names=names,
        distance_matrix=distance_matrix,
        scale=scale,
        time_windows=time_windows,
        service_times=service_times,
        travel_times=travel_times,
    )
    return solve_problem(
        problem,
        solver=solver,
        objective=minimise,
        time_limit=time_limit,
        seed=seed,
        max_iterations=max_iterations,
        clock=clock,
    )
