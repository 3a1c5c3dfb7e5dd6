"""PyVRP backend of :mod:`sclm.decisions.routing` (private).

PyVRP (Wouda, Lan & Kool, 2024) runs an iterated local search on integer data.  The problem
goes in as a :class:`pyvrp.ProblemData` built from :class:`~._routing_core.Problem`'s integer
matrices: one depot, one vehicle type with ``num_available`` vehicles, and for a VRPTW the
travel-time matrix (rounded up), the time windows and the service durations.  With the
``"vehicles_then_distance"`` objective every vehicle carries a fixed cost larger than any
solution's distance, so fewer vehicles always win and distance breaks ties.

With the same seed and ``max_iterations`` as the binding stop, PyVRP returns the same routes
every run; with a time limit the search stops after a wall-clock time, so how far it gets
depends on the machine's speed and load.
"""

from __future__ import annotations

import time

import numpy as np

from ._routing_core import Problem

_INF = np.iinfo(np.int64).max


def solve_pyvrp(
    problem: Problem,
    *,
    objective: str,
    time_limit: float,
    seed: int,
    max_iterations: int | None,
) -> tuple[list[list[int]], float]:
    """Solve ``problem`` with PyVRP; return routes (node indices, depot left out) and seconds."""
    from pyvrp import Client, Depot, Location, ProblemData, VehicleType, solve
    from pyvrp.stop import MaxIterations, MaxRuntime, MultipleCriteria

    t0 = time.perf_counter()
    p = problem
    order = [p.depot, *p.customers.tolist()]  # PyVRP location index -> node index
    xy = p.coords if p.coords is not None else np.zeros((p.n, 2))
    locations = [Location(x=float(xy[v, 0]), y=float(xy[v, 1])) for v in order]
    tw = p.has_time_windows
    clients = []
    for loc, v in enumerate(order[1:], start=1):
        kw = {}
        if tw:
            kw = {
                "service_duration": int(p.service_int[v]),
                "tw_early": int(p.ready_int[v]),
                "tw_late": int(p.due_int[v]),
            }
        clients.append(Client(location=loc, delivery=[int(p.demands[v])], **kw))
    if tw:
        early, late = int(p.ready_int[p.depot]), int(p.due_int[p.depot])
        depot = Depot(location=0, tw_early=early, tw_late=late, service_duration=int(p.service_int[p.depot]))
    else:
        early, late = 0, _INF
        depot = Depot(location=0)
    fixed = p.vehicle_fixed_cost() if objective == "vehicles_then_distance" else 0
    vehicle = VehicleType(
        num_available=p.n_vehicles,
        capacity=[p.capacity],
        fixed_cost=int(fixed),
        tw_early=early,
        tw_late=late,
    )
    idx = np.asarray(order)
    dist = np.ascontiguousarray(p.distance_int[np.ix_(idx, idx)])
    dur = np.ascontiguousarray(p.travel_int[np.ix_(idx, idx)]) if tw else np.zeros_like(dist)
    data = ProblemData(locations, clients, [depot], [vehicle], [dist], [dur])
    stop = MaxRuntime(time_limit)
    if max_iterations is not None:
        stop = MultipleCriteria([MaxIterations(int(max_iterations)), stop])
    res = solve(data, stop=stop, seed=int(seed), collect_stats=False, display=False)
    routes = []
    for route in res.best.routes():
        # activities: depot, clients ..., depot; a client's idx counts clients from 0
        routes.append([order[1 + a.idx] for a in route if a.is_client()])
    return routes, time.perf_counter() - t0
