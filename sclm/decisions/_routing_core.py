"""Routing problems as checked arrays, the result type and an independent route checker.

Private to :mod:`sclm.decisions.routing`.  A :class:`Problem` holds everything a solver
backend needs: real-valued distances (what is reported), the integer matrices a solver
optimises (distances scaled and rounded, travel times scaled and rounded *up* so that a route
feasible in integers is feasible in real time), demands, capacity, fleet and time windows.
:func:`evaluate` recomputes distance, load and the schedule of every route from the real
values alone, so a result's ``feasible`` never relies on what a solver says about itself.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

ROUNDINGS = ("exact", "nint")
OBJECTIVES = ("distance", "vehicles_then_distance")
SOLVERS = ("pyvrp", "ortools")
_TOL = 1e-6


# --------------------------------------------------------------------------- the problem


@dataclass(frozen=True, eq=False)
class Problem:
    """A checked single-depot routing problem (CVRP, or VRPTW when ``ready`` is set).

    Attributes
    ----------
    distance
        Shape (n, n), float64: the distances that are reported (real, or TSPLIB ``nint``).
    distance_int
        Shape (n, n), int64: ``round(distance * scale)``, what the solvers minimise.
    scale
        Integer units per distance unit (1 for ``nint`` or an integer matrix).
    demands
        Shape (n,), int64, zero at the depot.
    capacity
        Vehicle capacity (same unit as the demands).
    n_vehicles
        Vehicles available.
    depot
        Depot node index.
    ready, due, service
        Shape (n,), float64, or None for a CVRP: earliest / latest start of service, service
        duration; ``ready[depot]``, ``due[depot]`` are the depot's opening hours (a vehicle
        leaves no earlier and is back no later).
    travel
        Shape (n, n), float64 travel times (``None`` for a CVRP).
    travel_int, ready_int, due_int, service_int
        The same in integer time units (``time_scale`` per time unit), rounded so that
        integer-feasible implies real-feasible.
    names
        One name per node, or None.
    rounding
        ``"exact"``, ``"nint"`` or ``"matrix"`` (a distance matrix was given).
    """

    distance: np.ndarray
    distance_int: np.ndarray
    scale: float
    demands: np.ndarray
    capacity: int
    n_vehicles: int
    depot: int
    rounding: str
    names: tuple[str, ...] | None = None
    coords: np.ndarray | None = None
    ready: np.ndarray | None = None
    due: np.ndarray | None = None
    service: np.ndarray | None = None
    travel: np.ndarray | None = None
    time_scale: float = 1.0
    travel_int: np.ndarray | None = None
    ready_int: np.ndarray | None = None
    due_int: np.ndarray | None = None
    service_int: np.ndarray | None = None

    @property
    def n(self) -> int:
        """Nodes including the depot."""
        return len(self.demands)

    @property
    def customers(self) -> np.ndarray:
        """Customer node indices (every node but the depot), ascending."""
        return np.asarray([i for i in range(self.n) if i != self.depot], dtype=np.int64)

    @property
    def has_time_windows(self) -> bool:
        """True for a VRPTW."""
        return self.ready is not None

    def vehicle_fixed_cost(self) -> int:
        """A fixed cost per vehicle (integer distance units) above any solution's total distance.

        Every node is left once per visit and the depot at most once per customer, so
        ``Σ_customers max_j d(i, j) + n_customers · max_j d(depot, j)`` bounds the distance of
        every solution: with this cost one vehicle less always beats any saving in distance.
        """
        d = self.distance_int
        cust = self.customers
        bound = int(d[cust].max(axis=1).sum()) + len(cust) * int(d[self.depot].max())
        return bound + 1


def _as_matrix(name: str, value: Any, n: int) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.shape != (n, n):
        raise ValueError(f"{name} has shape {arr.shape}; expected ({n}, {n}) for {n} nodes")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} holds NaN or infinite values")
    if (arr < 0).any():
        i, j = np.argwhere(arr < 0)[0]
        raise ValueError(f"{name}[{i}, {j}] = {arr[i, j]:g} is negative")
    return arr


def _vector(name: str, value: Any, n: int) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim != 1 or len(arr) != n:
        raise ValueError(f"{name} has shape {arr.shape}; expected ({n},), one value per node")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} holds NaN or infinite values")
    return arr


def auto_scale(d: np.ndarray) -> float:
    """Integer units per distance unit: a power of ten that puts the median arc at >= 10^4 units."""
    pos = d[d > 0]
    if not len(pos):
        return 1.0
    return float(10 ** max(0, math.ceil(math.log10(1e4 / float(np.median(pos))))))


def _scaled(d: np.ndarray, scale: float) -> np.ndarray:
    out = np.rint(d * scale)
    if out.max(initial=0) * len(d) > 2**53:
        raise ValueError(f"distances times scale {scale:g} are too large for integer arithmetic")
    return out.astype(np.int64)


def distances_from(
    coords_or_distance: Any, *, rounding: str, distance_matrix: bool | None, scale: float | None
) -> tuple[np.ndarray, np.ndarray, float, str, np.ndarray | None]:
    """Real and integer distance matrices from coordinates (n, 2) or a matrix (n, n).

    Returns
    -------
    distance, distance_int, scale, rounding, coords
    """
    if rounding not in ROUNDINGS:
        raise ValueError(f"rounding={rounding!r}; expected one of {list(ROUNDINGS)}")
    arr = np.asarray(coords_or_distance, dtype=np.float64)
    if arr.ndim != 2 or not (arr.shape[1] == 2 or arr.shape[0] == arr.shape[1]):
        raise ValueError(
            f"coords_or_distance has shape {arr.shape}; expected coordinates (n, 2) or a distance matrix (n, n)"
        )
    if distance_matrix is None:
        if arr.shape == (2, 2):
            raise ValueError(
                "coords_or_distance has shape (2, 2): say distance_matrix=True or False (coordinates or distances?)"
            )
        distance_matrix = arr.shape[0] == arr.shape[1] and arr.shape[1] != 2
    if not np.isfinite(arr).all():
        raise ValueError("coords_or_distance holds NaN or infinite values")
    if distance_matrix:
        d = _as_matrix("distance matrix", arr, arr.shape[0])
        if np.abs(np.diag(d)).max(initial=0) > 0:
            raise ValueError("distance matrix has a non-zero diagonal")
        integral = bool(np.all(d == np.rint(d)))
        if rounding == "nint":
            d = np.floor(d + 0.5)
            integral = True
        s = scale if scale is not None else (1.0 if integral else auto_scale(d))
        return d, _scaled(d, s), s, "matrix" if rounding == "exact" else "nint", None
    if arr.shape[1] != 2:
        raise ValueError(f"coordinates have shape {arr.shape}; expected (n, 2)")
    diff = arr[:, None, :] - arr[None, :, :]
    d = np.sqrt((diff**2).sum(-1))
    if rounding == "nint":
        d = np.floor(d + 0.5)
        s = 1.0 if scale is None else scale
    else:
        s = auto_scale(d) if scale is None else scale
    return d, _scaled(d, s), s, rounding, arr


def make_problem(
    coords_or_distance: Any,
    demands: Any,
    capacity: float,
    *,
    n_vehicles: int | None,
    depot: int,
    rounding: str,
    names: Sequence[str] | None = None,
    distance_matrix: bool | None = None,
    scale: float | None = None,
    time_windows: Any = None,
    service_times: Any = None,
    travel_times: Any = None,
) -> Problem:
    """Check the inputs of :func:`~sclm.decisions.routing.solve_cvrp` / ``solve_vrptw``.

    Raises
    ------
    ValueError
        Mismatched lengths, a negative or fractional demand, a demand above the capacity,
        a bad depot index or fleet size, an empty or inverted time window, a customer that
        cannot be reached within its window.
    """
    d, d_int, s, rnd, coords = distances_from(
        coords_or_distance, rounding=rounding, distance_matrix=distance_matrix, scale=scale
    )
    n = len(d)
    if n < 2:
        raise ValueError(f"{n} node(s): a routing problem needs a depot and at least one customer")
    if not isinstance(depot, int | np.integer) or not 0 <= depot < n:
        raise ValueError(f"depot={depot!r}; expected a node index 0..{n - 1}")
    depot = int(depot)
    dem = _vector("demands", demands, n)
    if (dem < 0).any():
        i = int(np.flatnonzero(dem < 0)[0])
        raise ValueError(f"demands[{i}] = {dem[i]:g} is negative; demands must be >= 0")
    if not np.all(dem == np.rint(dem)):
        i = int(np.flatnonzero(dem != np.rint(dem))[0])
        raise ValueError(f"demands[{i}] = {dem[i]:g} is not a whole number; give demands in whole units")
    if dem[depot] != 0:
        raise ValueError(f"demands[{depot}] = {dem[depot]:g} at the depot; expected 0")
    if not np.isfinite(capacity) or capacity <= 0 or capacity != round(capacity):
        raise ValueError(f"capacity={capacity!r}; expected a positive whole number")
    cap = int(round(capacity))
    if dem.max() > cap:
        i = int(np.argmax(dem))
        raise ValueError(
            f"demands[{i}] = {dem[i]:g} exceeds the vehicle capacity {cap}: no vehicle can serve node {i}"
        )
    n_cust = n - 1
    if n_vehicles is None:
        fleet = n_cust
    else:
        if not isinstance(n_vehicles, int | np.integer) or n_vehicles < 1:
            raise ValueError(f"n_vehicles={n_vehicles!r}; expected a positive integer or None")
        fleet = int(n_vehicles)
        if dem.sum() > fleet * cap:
            raise ValueError(
                f"total demand {dem.sum():g} exceeds n_vehicles × capacity = {fleet} × {cap}: no feasible routes"
            )
    if names is not None:
        names = tuple(str(x) for x in names)
        if len(names) != n:
            raise ValueError(f"names has {len(names)} entries; expected {n}, one per node")
    extra: dict[str, Any] = {}
    if time_windows is not None:
        tw = np.asarray(time_windows, dtype=np.float64)
        if tw.shape != (n, 2):
            raise ValueError(f"time_windows has shape {tw.shape}; expected ({n}, 2): (ready, due) per node")
        if not np.isfinite(tw).all():
            raise ValueError("time_windows holds NaN or infinite values")
        bad = np.flatnonzero(tw[:, 0] > tw[:, 1])
        if len(bad):
            i = int(bad[0])
            raise ValueError(f"time_windows[{i}] = ({tw[i, 0]:g}, {tw[i, 1]:g}) is empty (ready > due)")
        svc = np.zeros(n) if service_times is None else _vector("service_times", service_times, n)
        if (svc < 0).any():
            i = int(np.flatnonzero(svc < 0)[0])
            raise ValueError(f"service_times[{i}] = {svc[i]:g} is negative")
        travel = d.copy() if travel_times is None else _as_matrix("travel_times", travel_times, n)
        ts = auto_scale(travel) if travel_times is not None else (s if rnd != "nint" else 1.0)
        ready, due = tw[:, 0].copy(), tw[:, 1].copy()
        t0 = ready[depot]
        for i in range(n):
            if i == depot:
                continue
            arrive = max(t0 + svc[depot] + travel[depot, i], ready[i])
            back = arrive + svc[i] + travel[i, depot]
            if arrive > due[i] + _TOL or back > due[depot] + _TOL:
                raise ValueError(
                    f"node {i} cannot be served even alone: earliest start {arrive:g} (due {due[i]:g}), "
                    f"back at the depot {back:g} (depot closes {due[depot]:g})"
                )
        extra = {
            "ready": ready,
            "due": due,
            "service": svc,
            "travel": travel,
            "time_scale": ts,
            "travel_int": np.ceil(travel * ts - 1e-9).astype(np.int64),
            "ready_int": np.ceil(ready * ts - 1e-9).astype(np.int64),
            "due_int": np.floor(due * ts + 1e-9).astype(np.int64),
            "service_int": np.ceil(svc * ts - 1e-9).astype(np.int64),
        }
    elif service_times is not None or travel_times is not None:
        raise ValueError("service_times and travel_times need time_windows")
    return Problem(
        distance=d,
        distance_int=d_int,
        scale=s,
        demands=dem.astype(np.int64),
        capacity=cap,
        n_vehicles=fleet,
        depot=depot,
        rounding=rnd,
        names=names,
        coords=coords,
        **extra,
    )


# --------------------------------------------------------------------------- checking routes


@dataclass(frozen=True)
class Evaluation:
    """Distances, loads, schedules and violations of a set of routes (real values)."""

    route_distances: tuple[float, ...]
    route_loads: tuple[int, ...]
    starts: tuple[tuple[float, ...], ...] | None
    returns: tuple[float, ...] | None
    violations: tuple[str, ...]


def evaluate(problem: Problem, routes: Sequence[Sequence[int]]) -> Evaluation:
    """Recompute every route from the real data and list what makes the routes infeasible.

    Checks: node indices valid, every customer exactly once, load ≤ capacity, at most
    ``n_vehicles`` non-empty routes and, with time windows, service starting within
    ``[ready, due]`` (waiting when early) and the return to the depot by ``due[depot]``.
    """
    p = problem
    out: list[str] = []
    seen = np.zeros(p.n, dtype=np.int64)
    dists, loads, starts, rets = [], [], [], []
    for k, route in enumerate(routes):
        r = [int(v) for v in route]
        bad = [v for v in r if not 0 <= v < p.n or v == p.depot]
        if bad:
            raise ValueError(
                f"route {k} holds node {bad[0]}; expected customer indices (not the depot {p.depot})"
            )
        np.add.at(seen, r, 1)
        path = np.asarray([p.depot, *r, p.depot])
        dists.append(float(p.distance[path[:-1], path[1:]].sum()) if r else 0.0)
        load = int(p.demands[r].sum()) if r else 0
        loads.append(load)
        if load > p.capacity:
            out.append(f"route {k} carries {load} > capacity {p.capacity}")
        if p.has_time_windows:
            t, prev, st = float(p.ready[p.depot]), p.depot, []
            for v in r:
                t = max(t + float(p.service[prev]) + float(p.travel[prev, v]), float(p.ready[v]))
                st.append(t)
                if t > p.due[v] + _TOL:
                    out.append(f"route {k}: node {v} starts at {t:.3f} > due {p.due[v]:g}")
                prev = v
            back = t + float(p.service[prev]) + float(p.travel[prev, p.depot])
            if r and back > p.due[p.depot] + _TOL:
                out.append(f"route {k} is back at {back:.3f} > depot closing {p.due[p.depot]:g}")
            starts.append(tuple(st))
            rets.append(back if r else float(p.ready[p.depot]))
    cust = p.customers
    twice = [int(c) for c in cust if seen[c] > 1]
    missing = [int(c) for c in cust if seen[c] == 0]
    if twice:
        out.append(f"nodes visited more than once: {twice}")
    if missing:
        out.append(f"nodes not visited: {missing}")
    used = sum(1 for r in routes if len(r))
    if used > p.n_vehicles:
        out.append(f"{used} routes > {p.n_vehicles} vehicles available")
    return Evaluation(
        route_distances=tuple(dists),
        route_loads=tuple(loads),
        starts=tuple(starts) if p.has_time_windows else None,
        returns=tuple(rets) if p.has_time_windows else None,
        violations=tuple(out),
    )


# --------------------------------------------------------------------------- the result


def _py(x: Any) -> Any:
    """JSON-safe Python scalars and lists."""
    if isinstance(x, dict):
        return {str(k): _py(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_py(v) for v in x]
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating | float):
        v = float(x)
        return v if math.isfinite(v) else None
    return x


@dataclass(frozen=True)
class RoutingResult:
    """Routes found by a solver, recomputed and checked on the real data.

    Attributes
    ----------
    routes
        One tuple of node indices per used vehicle, in visiting order, depot left out
        (every route starts and ends at ``depot``).
    distance
        Total distance, in the input's distance unit (real-valued, or TSPLIB integers with
        ``rounding="nint"``), recomputed from the routes.
    route_distances, route_loads
        Per route: distance and load (sum of the demands served), same order as ``routes``.
    feasible
        True when :attr:`violations` is empty (checked independently of the solver).
    violations
        Why the routes are not feasible (every customer once, capacity, fleet, time windows).
    solver
        ``"pyvrp"`` or ``"ortools"``.
    seconds
        Wall-clock seconds of the solve (model building included).
    objective
        ``"distance"`` or ``"vehicles_then_distance"``.
    capacity, vehicles_available, depot
        The problem's vehicle capacity, fleet limit and depot node.
    names
        Node names (indexed like the nodes) or None.
    starts
        VRPTW only: service start time at each stop of each route (shape like ``routes``).
    returns
        VRPTW only: time each route is back at the depot.
    rounding
        Distance convention: ``"exact"`` (Euclidean in double precision), ``"nint"`` (TSPLIB
        ``EUC_2D``) or ``"matrix"`` (as given).
    scale
        Integer units per distance unit that the solver optimised in.
    seed, time_limit, max_iterations, clock
        Solver settings used (``clock``: whether ``time_limit`` counted wall or CPU seconds).
    legs
        Per route: the distance of each leg (depot → first stop, ..., last stop → depot).
    demands
        The demand of every node (indexed like the nodes).
    """

    routes: tuple[tuple[int, ...], ...]
    distance: float
    route_distances: tuple[float, ...]
    route_loads: tuple[int, ...]
    feasible: bool
    violations: tuple[str, ...]
    solver: str
    seconds: float
    objective: str
    capacity: int
    vehicles_available: int
    depot: int = 0
    names: tuple[str, ...] | None = None
    starts: tuple[tuple[float, ...], ...] | None = None
    returns: tuple[float, ...] | None = None
    rounding: str = "exact"
    scale: float = 1.0
    seed: int = 0
    time_limit: float | None = None
    max_iterations: int | None = None
    clock: str = "wall"
    legs: tuple[tuple[float, ...], ...] = ()
    demands: tuple[int, ...] = ()

    @property
    def n_vehicles(self) -> int:
        """Vehicles used (non-empty routes)."""
        return sum(1 for r in self.routes if r)

    @property
    def named_routes(self) -> list[list[str]]:
        """:attr:`routes` with node names (``str(index)`` when no names were given)."""
        nm = self.names
        return [[nm[v] if nm else str(v) for v in r] for r in self.routes]

    def node_name(self, v: int) -> str:
        """Name of node ``v`` (``str(v)`` without names)."""
        return self.names[v] if self.names else str(v)

    def summary(self) -> pd.DataFrame:
        """One row per route: ``route`` (1-based), ``stops``, ``load``, ``utilisation``
        (load / capacity), ``distance`` and, for a VRPTW, ``back`` (return time)."""
        rows = []
        for k, r in enumerate(self.routes):
            row = {
                "route": k + 1,
                "stops": len(r),
                "load": self.route_loads[k],
                "utilisation": self.route_loads[k] / self.capacity,
                "distance": self.route_distances[k],
            }
            if self.returns is not None:
                row["back"] = self.returns[k]
            rows.append(row)
        cols = ["route", "stops", "load", "utilisation", "distance"] + (["back"] if self.returns else [])
        return pd.DataFrame(rows, columns=cols)

    def to_frame(self) -> pd.DataFrame:
        """One row per stop, plus a closing row per route for the return to the depot.

        Columns: ``route`` (1-based), ``stop`` (1-based visiting order), ``node`` (index),
        ``name``, ``demand`` (dropped at the stop), ``load`` (delivered so far on the route),
        ``cum_distance`` (from the depot to this stop) and, for a VRPTW, ``start`` (service
        start).  The closing row has ``node = depot``, demand 0, the route's ``load`` and
        ``distance`` and (VRPTW) the return time.
        """
        rows = []
        for k, r in enumerate(self.routes):
            cum, load = 0.0, 0
            for j, v in enumerate([*r, self.depot]):
                cum += self.legs[k][j]
                dem = int(self.demands[v]) if v != self.depot else 0
                load += dem
                row = {
                    "route": k + 1,
                    "stop": j + 1,
                    "node": int(v),
                    "name": self.node_name(v),
                    "demand": dem,
                    "load": load,
                    "cum_distance": cum,
                }
                if self.starts is not None:
                    row["start"] = self.starts[k][j] if j < len(r) else self.returns[k]
                rows.append(row)
        cols = ["route", "stop", "node", "name", "demand", "load", "cum_distance"]
        return pd.DataFrame(rows, columns=cols + (["start"] if self.starts is not None else []))

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary (plain lists, floats and ints; no NumPy types)."""
        out = {
            "solver": self.solver,
            "objective": self.objective,
            "distance": self.distance,
            "n_vehicles": self.n_vehicles,
            "vehicles_available": self.vehicles_available,
            "capacity": self.capacity,
            "feasible": self.feasible,
            "violations": list(self.violations),
            "routes": [list(r) for r in self.routes],
            "named_routes": self.named_routes if self.names else None,
            "route_distances": list(self.route_distances),
            "route_loads": list(self.route_loads),
            "returns": list(self.returns) if self.returns is not None else None,
            "seconds": self.seconds,
            "depot": self.depot,
            "rounding": self.rounding,
            "scale": self.scale,
            "seed": self.seed,
            "time_limit": self.time_limit,
            "max_iterations": self.max_iterations,
            "clock": self.clock,
        }
        return _py(out)


def build_result(
    problem: Problem,
    routes: Sequence[Sequence[int]],
    *,
    solver: str,
    seconds: float,
    objective: str,
    seed: int,
    time_limit: float | None,
    max_iterations: int | None,
    clock: str = "wall",
) -> RoutingResult:
    """Evaluate ``routes`` on ``problem`` and wrap them in a :class:`RoutingResult`."""
    rs = tuple(tuple(int(v) for v in r) for r in routes if len(r))
    ev = evaluate(problem, rs)
    legs = []
    for r in rs:
        path = np.asarray([problem.depot, *r, problem.depot])
        legs.append([float(x) for x in problem.distance[path[:-1], path[1:]]])
    total = float(sum(ev.route_distances))
    return RoutingResult(
        routes=rs,
        distance=total,
        route_distances=ev.route_distances,
        route_loads=ev.route_loads,
        feasible=not ev.violations,
        violations=ev.violations,
        solver=solver,
        seconds=float(seconds),
        objective=objective,
        capacity=problem.capacity,
        vehicles_available=problem.n_vehicles,
        depot=problem.depot,
        names=problem.names,
        starts=ev.starts,
        returns=ev.returns,
        rounding=problem.rounding,
        scale=problem.scale,
        seed=seed,
        time_limit=time_limit,
        max_iterations=max_iterations,
        clock=clock,
        legs=tuple(tuple(x) for x in legs),
        demands=tuple(int(x) for x in problem.demands),
    )


def solve_problem(
    problem: Problem,
    *,
    solver: str = "pyvrp",
    objective: str = "distance",
    time_limit: float = 10.0,
    seed: int = 0,
    max_iterations: int | None = None,
    clock: str = "wall",
) -> RoutingResult:
    """Solve a checked :class:`Problem` with one backend and check the routes it returns."""
    if solver not in SOLVERS:
        raise ValueError(f"solver={solver!r}; expected one of {list(SOLVERS)}")
    if objective not in OBJECTIVES:
        raise ValueError(f"minimise={objective!r}; expected one of {list(OBJECTIVES)}")
    if not np.isfinite(time_limit) or time_limit <= 0:
        raise ValueError(f"time_limit={time_limit!r}; expected a positive number of seconds")
    if max_iterations is not None and (
        not isinstance(max_iterations, int | np.integer) or max_iterations < 1
    ):
        raise ValueError(f"max_iterations={max_iterations!r}; expected a positive integer or None")
    if solver == "pyvrp":
        from ._routing_pyvrp import solve_pyvrp as backend
    else:
        from ._routing_ortools import solve_ortools as backend
    if clock not in ("wall", "cpu"):
        raise ValueError(f"clock={clock!r}; expected 'wall' or 'cpu'")
    routes, seconds = backend(
        problem,
        objective=objective,
        time_limit=float(time_limit),
        seed=int(seed),
        max_iterations=max_iterations,
        clock=clock,
    )
    return build_result(
        problem,
        routes,
        solver=solver,
        seconds=seconds,
        objective=objective,
        seed=int(seed),
        time_limit=float(time_limit),
        max_iterations=max_iterations,
        clock=clock,
    )
