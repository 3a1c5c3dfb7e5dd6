"""PyVRP backend of :mod:`sclm.decisions.routing` (private).

PyVRP (Wouda, Lan & Kool, 2024) runs an iterated local search on integer data.  The problem
goes in as a :class:`pyvrp.ProblemData` built from :class:`~._routing_core.Problem`'s integer
matrices: one depot, one vehicle type with ``num_available`` vehicles, and for a VRPTW the
travel-time matrix (rounded up), the time windows and the service durations.  With the
``"vehicles_then_distance"`` objective the budget is split into a first feasible solution,
fleet minimisation (:func:`pyvrp.minimise_fleet`: one vehicle less at a time while a feasible
solution is found) and the distance search on that fleet (see :func:`_fleet_then_distance`).
A single search with a fixed cost per vehicle (above any distance) instead kept one vehicle
more than the best-known on RC101 and R205 at 30 s, where the phases reach 14 and 3, and on
small CVRPs under an iteration stop it ended infeasible (the cost dwarfs the load penalties).

With the same seed and ``max_iterations`` as the binding stop, PyVRP returns the same routes
every run; with a time limit the search stops after a wall-clock time, so how far it gets
depends on the machine's speed and load.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ._routing_core import Problem

_INF = np.iinfo(np.int64).max
FLEET = 0.30  # share of the budget for a first solution and fleet minimisation


def solve_pyvrp(
    problem: Problem,
    *,
    objective: str,
    time_limit: float,
    seed: int,
    max_iterations: int | None,
    clock: str = "wall",
) -> tuple[list[list[int]], float]:
    """Solve ``problem`` with PyVRP; return routes (node indices, depot left out) and wall seconds.

    ``clock="cpu"`` counts ``time_limit`` in CPU seconds of this process instead of wall-clock
    seconds (for benchmarks on a shared machine).
    """
    from pyvrp import Client, Depot, Location, ProblemData, VehicleType, solve
    from pyvrp.PenaltyManager import PenaltyBoundWarning

    t_wall = time.perf_counter()
    now = time.process_time if clock == "cpu" else time.perf_counter
    t0 = now()
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
    vehicle = VehicleType(
        num_available=p.n_vehicles,
        capacity=[p.capacity],
        tw_early=early,
        tw_late=late,
    )
    idx = np.asarray(order)
    dist = np.ascontiguousarray(p.distance_int[np.ix_(idx, idx)])
    dur = np.ascontiguousarray(p.travel_int[np.ix_(idx, idx)]) if tw else np.zeros_like(dist)
    data = ProblemData(locations, clients, [depot], [vehicle], [dist], [dur])
    with warnings.catch_warnings():
        # PyVRP warns when a penalty reaches its bound (e.g. a fleet too small to be feasible,
        # which fleet minimisation tries on purpose); the route checker judges feasibility
        warnings.simplefilter("ignore", PenaltyBoundWarning)
        if objective == "vehicles_then_distance":
            best = _fleet_then_distance(
                data, time_limit=time_limit, seed=int(seed), max_iterations=max_iterations, t0=t0, now=now
            )
        else:
            stop = _stop(time_limit, max_iterations, now)
            best = solve(data, stop=stop, seed=int(seed), collect_stats=False, display=False).best
    routes = []
    for route in best.routes():
        # activities: depot, clients ..., depot; a client's idx counts clients from 0
        routes.append([order[1 + a.idx] for a in route if a.is_client()])
    return routes, time.perf_counter() - t_wall


class _MaxTime:
    """PyVRP stopping criterion: stop once ``seconds`` have passed on ``clock`` since the first call."""

    def __init__(self, seconds: float, clock: Callable[[], float]):
        self._seconds, self._clock, self._start = seconds, clock, None

    def __call__(self, best_cost: float) -> bool:
        if self._start is None:
            self._start = self._clock()
        return self._clock() - self._start > self._seconds


def _stop(seconds: float, iterations: int | None, clock: Callable[[], float]) -> Any:
    from pyvrp.stop import MaxIterations, MaxRuntime, MultipleCriteria

    s = max(0.0, seconds)
    stop = MaxRuntime(s) if clock is time.perf_counter else _MaxTime(s, clock)
    if iterations is not None:
        stop = MultipleCriteria([MaxIterations(max(1, int(iterations))), stop])
    return stop


def _fleet_then_distance(
    data: Any,
    *,
    time_limit: float,
    seed: int,
    max_iterations: int | None,
    t0: float,
    now: Callable[[], float],
) -> Any:
    """Fewest vehicles first, then distance, in three phases of the budget (time and iterations).

    1. A first feasible solution with the whole fleet; its route count is the starting fleet.
    2. Until ``FLEET`` of the budget is spent: one vehicle less at a time, each attempt
       stopping at its first feasible solution (as :func:`pyvrp.minimise_fleet`), down to the
       bound ``ceil(total demand / capacity)``.
    3. The rest: the distance search with the smallest fleet found, started from that fleet's
       feasible solution.

    No fixed cost per vehicle is given to PyVRP: a cost above any distance dwarfs its load and
    time-warp penalties, and the search then settles on infeasible solutions with fewer routes.
    Returns the lexicographically best (vehicles, distance) feasible solution found (phase
    1's, feasible or not, when none is).
    """
    from pyvrp import solve
    from pyvrp.stop import FirstFeasible, MultipleCriteria

    it = (lambda f: None) if max_iterations is None else (lambda f: max(1, int(f * max_iterations)))
    vt = data.vehicle_type(0)

    def attempt(k: int, seconds: float, iters: int | None, until_feasible: bool, start: Any = None) -> Any:
        stop = _stop(seconds, iters, now)
        if until_feasible:
            stop = MultipleCriteria([FirstFeasible(), stop])
        d = data.replace(vehicle_types=[vt.replace(num_available=k)])
        return solve(d, stop=stop, seed=seed, collect_stats=False, display=False, initial_solution=start).best

    best = attempt(vt.num_available, FLEET * time_limit, it(FLEET), True)
    if best.is_feasible():
        demand = sum(c.delivery[0] for c in data.clients())
        bound = max(1, -(-demand // vt.capacity[0]))
        k = best.num_routes()
        while k > bound:
            left = FLEET * time_limit - (now() - t0)
            if left <= 0:
                break
            trial = attempt(k - 1, left, it(FLEET / 4), True)
            if not trial.is_feasible():
                break
            best, k = trial, trial.num_routes()
        rest = time_limit - (now() - t0)
        last = attempt(k, rest, it(1.0 - FLEET), False, start=best)
        if last.is_feasible() and (last.num_routes(), last.distance()) < (best.num_routes(), best.distance()):
            best = last
    return best
