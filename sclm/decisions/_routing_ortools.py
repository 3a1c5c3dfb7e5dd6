"""OR-Tools routing backend of :mod:`sclm.decisions.routing` (private): the comparison row.

A :class:`ortools.constraint_solver.pywrapcp.RoutingModel` with the integer distance matrix as
arc cost, a capacity dimension and, for a VRPTW, a time dimension whose transit from ``i`` to
``j`` is ``service[i] + travel[i, j]`` (waiting allowed, windows on the cumuls, the depot's
opening hours on every vehicle's start and end).  First solution ``SAVINGS`` (CVRP) or
``PATH_CHEAPEST_ARC`` (VRPTW), then ``GUIDED_LOCAL_SEARCH`` until the time limit (one search
thread); on Augerat instances at 10 s, SAVINGS started closer to the optimum than
PATH_CHEAPEST_ARC and the insertion heuristics.  Every customer may be dropped at a cost above
any fleet's, so that the search has a first solution even when the fleet is tight; a result
that still drops one is reported infeasible.  With the ``"vehicles_then_distance"`` objective
every vehicle carries a fixed cost above any solution's distance
(:meth:`~._routing_core.Problem.vehicle_fixed_cost`).  The search is stopped by wall-clock
time, so results depend on the machine's speed and load.
"""

from __future__ import annotations

import time

import numpy as np

from ._routing_core import Problem


def solve_ortools(
    problem: Problem,
    *,
    objective: str,
    time_limit: float,
    seed: int,
    max_iterations: int | None,
    clock: str = "wall",
) -> tuple[list[list[int]], float]:
    """Solve ``problem`` with OR-Tools routing; return routes (node indices) and seconds.

    ``seed`` is accepted for symmetry (OR-Tools routing's local search has no seed);
    ``max_iterations`` caps the number of solutions the search may find.
    """
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    del seed
    if clock != "wall":
        raise ValueError(f"clock={clock!r}: OR-Tools routing stops on wall-clock time only; use clock='wall'")
    t0 = time.perf_counter()
    p = problem
    manager = pywrapcp.RoutingIndexManager(p.n, p.n_vehicles, p.depot)
    routing = pywrapcp.RoutingModel(manager)
    arc = routing.RegisterTransitMatrix(p.distance_int.tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(arc)
    demand = routing.RegisterUnaryTransitVector([int(x) for x in p.demands])
    routing.AddDimensionWithVehicleCapacity(demand, 0, [p.capacity] * p.n_vehicles, True, "load")
    fixed = int(p.vehicle_fixed_cost())
    if objective == "vehicles_then_distance":
        routing.SetFixedCostOfAllVehicles(fixed)
    # A customer may be left out at a cost above any fleet's cost, so that the search starts
    # from some solution even when the fleet is tight; a result that leaves one out is
    # reported infeasible by the checker.
    drop = fixed * (p.n_vehicles + 1)
    for v in p.customers.tolist():
        routing.AddDisjunction([manager.NodeToIndex(int(v))], drop)
    if p.has_time_windows:
        transit = p.service_int[:, None] + p.travel_int
        np.fill_diagonal(transit, 0)
        horizon = int(p.due_int[p.depot])
        t_cb = routing.RegisterTransitMatrix(transit.astype(np.int64).tolist())
        routing.AddDimension(t_cb, horizon, horizon, False, "time")
        tdim = routing.GetDimensionOrDie("time")
        for v in p.customers.tolist():
            tdim.CumulVar(manager.NodeToIndex(int(v))).SetRange(int(p.ready_int[v]), int(p.due_int[v]))
        early, late = int(p.ready_int[p.depot]), int(p.due_int[p.depot])
        for k in range(p.n_vehicles):
            tdim.CumulVar(routing.Start(k)).SetRange(early, late)
            tdim.CumulVar(routing.End(k)).SetRange(early, late)
            routing.AddVariableMinimizedByFinalizer(tdim.CumulVar(routing.End(k)))
    params = pywrapcp.DefaultRoutingSearchParameters()
    fs = routing_enums_pb2.FirstSolutionStrategy
    params.first_solution_strategy = fs.PATH_CHEAPEST_ARC if p.has_time_windows else fs.SAVINGS
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.time_limit.FromMilliseconds(max(1, int(round(time_limit * 1000))))
    if max_iterations is not None:
        params.solution_limit = int(max_iterations)
    sol = routing.SolveWithParameters(params)
    routes: list[list[int]] = []
    if sol is None:
        return routes, time.perf_counter() - t0
    for k in range(p.n_vehicles):
        i = sol.Value(routing.NextVar(routing.Start(k)))
        r = []
        while not routing.IsEnd(i):
            r.append(manager.IndexToNode(i))
            i = sol.Value(routing.NextVar(i))
        if r:
            routes.append(r)
    return routes, time.perf_counter() - t0
