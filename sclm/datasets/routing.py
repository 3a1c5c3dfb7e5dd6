"""Vehicle-routing benchmarks: CVRPLIB Augerat sets A/B/P and the Solomon VRPTW instances.

Node indices are 0-based everywhere: node 0 is the depot, nodes 1..n-1 the customers.
A solution is a list of routes, each a list of customer node indices with the depot left
out (every route starts and ends at the depot).

* CVRPLIB ``.vrp`` numbers nodes 1..n with the depot as node 1, and its ``.sol`` files
  number customers 1..n-1, i.e. ``.sol`` customer ``c`` is ``.vrp`` node ``c + 1``, which
  is node index ``c`` here.
* Solomon files number the depot 0 and customers 1..100, which are the indices here.

The files are read with :mod:`vrplib` (``parse_vrplib``, ``parse_solomon``, ``parse_solution``);
this module checks what it returns (required keys, shapes, integer and non-negative values, the
single depot) and raises :class:`~sclm.schema.DataValidationError` naming the file and the place.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import vrplib.parse

from ._base import (
    InstanceSet,
    check_header,
    malformed,
    numeric_columns,
    read_csv,
    read_text,
    require_file,
)

Routes = Sequence[Sequence[int]]
"""A routing solution: routes of customer node indices, depot (0) left out."""

_SOL_KEYS = {"routes", "cost"}


def _parse_sol(path: Path) -> tuple[list[list[int]], float]:
    """Read ``Route #k: c1 c2 ...`` lines and a ``Cost <number>`` line (:func:`vrplib.parse.parse_solution`)."""
    text = read_text(path)
    try:
        sol = vrplib.parse.parse_solution(text)
    except ValueError:
        bad = next((t for t in text.splitlines() if "Route" in t and not _int_route(t)), None)
        raise malformed(path, "routes", "'Route #k:' followed by integer customer ids", bad) from None
    extra = sorted(set(sol) - _SOL_KEYS)
    if extra:
        raise malformed(path, f"key {extra[0]!r}", "only 'Route #k: ...' and 'Cost <number>' lines", extra)
    routes, cost = sol["routes"], sol.get("cost")
    if cost is not None and (isinstance(cost, str | bool) or not np.isfinite(cost)):
        raise malformed(path, "Cost line", "'Cost <number>'", cost)
    if not routes or cost is None:
        raise malformed(path, "end of file", "at least one 'Route #k:' line and a 'Cost' line")
    return [list(r) for r in routes], float(cost)


def _int_route(line: str) -> bool:
    try:
        [int(t) for t in line.split(":", 1)[1].split()]
    except (ValueError, IndexError):
        return False
    return True


def _number_array(path: Path, section: str, data: Any, shape: tuple[int, ...], want: str) -> np.ndarray:
    """``data`` as a numeric array of ``shape`` (vrplib keeps ragged or text rows as they are)."""
    arr = np.asarray(data, dtype=object) if isinstance(data, list) else np.asarray(data)
    if arr.dtype == object:
        raise malformed(path, section, want, f"rows of different lengths ({len(arr)} rows)")
    if not np.issubdtype(arr.dtype, np.number):
        raise malformed(path, section, want, "a value that is not a number")
    if arr.shape != shape:
        raise malformed(path, section, want, f"{len(arr)} rows, shape {arr.shape}")
    return arr


def _check_routes(routes: Routes, n_nodes: int) -> list[list[int]]:
    out = []
    for k, route in enumerate(routes):
        r = [int(v) for v in route]
        bad = [v for v in r if not 1 <= v < n_nodes]
        if bad:
            raise ValueError(
                f"route {k} holds node {bad[0]}; expected customer node indices 1..{n_nodes - 1} (depot 0 left out)"
            )
        out.append(r)
    return out


def _route_lengths(dist: np.ndarray, routes: list[list[int]]) -> list[float]:
    lengths = []
    for r in routes:
        if not r:
            lengths.append(0.0)
            continue
        path = np.asarray([0, *r, 0])
        lengths.append(float(dist[path[:-1], path[1:]].sum()))
    return lengths


def _coverage_violations(routes: list[list[int]], n_nodes: int) -> list[str]:
    seen = np.zeros(n_nodes, dtype=np.int64)
    for r in routes:
        np.add.at(seen, r, 1)
    out = []
    twice = np.flatnonzero(seen[1:] > 1) + 1
    missing = np.flatnonzero(seen[1:] == 0) + 1
    if len(twice):
        out.append(f"customers visited more than once: {twice.tolist()}")
    if len(missing):
        out.append(f"customers not visited: {missing.tolist()}")
    return out


class _DepotNodes:
    """Node counts shared by the routing instances (``coords`` holds the depot first)."""

    coords: np.ndarray

    @property
    def n_nodes(self) -> int:
        """Nodes including the depot."""
        return len(self.coords)

    @property
    def n_customers(self) -> int:
        """Customers (nodes minus the depot)."""
        return len(self.coords) - 1


# --------------------------------------------------------------------------- CVRP


@dataclass(frozen=True, eq=False)
class CVRPInstance(_DepotNodes):
    """A capacitated VRP instance (TSPLIB ``EUC_2D``) with its reference solution.

    Attributes
    ----------
    name
        E.g. ``"A-n32-k5"``.
    family
        Augerat set: ``"A"``, ``"B"`` or ``"P"``.
    coords
        Node coordinates, shape (n, 2), float; row 0 is the depot.
    demands
        Shape (n,), int; ``demands[0] == 0``.
    capacity
        Vehicle capacity (same unit as the demands).
    n_vehicles
        Number of trucks from the name / COMMENT (``k``).
    optimum
        Proven optimal cost (``bks.csv``), or the COMMENT value.
    solution
        Reference routes from the ``.sol`` file, node indices (depot left out).
    solution_cost
        The cost stated in the ``.sol`` file.
    comment
        The ``COMMENT`` line of the ``.vrp`` file.
    depot
        Depot node index (always 0).
    """

    name: str
    family: str
    coords: np.ndarray
    demands: np.ndarray
    capacity: int
    n_vehicles: int | None
    optimum: float | None
    solution: list[list[int]] = field(default_factory=list)
    solution_cost: float | None = None
    comment: str = ""
    depot: int = 0

    def distance_matrix(self) -> np.ndarray:
        """TSPLIB ``EUC_2D`` distances: Euclidean, rounded to the nearest integer (``nint``).

        Returns
        -------
        numpy.ndarray
            Shape (n, n), int64, symmetric, zero diagonal.
        """
        diff = self.coords[:, None, :] - self.coords[None, :, :]
        return np.floor(np.sqrt((diff**2).sum(-1)) + 0.5).astype(np.int64)

    def route_cost(self, routes: Routes) -> int:
        """Total ``nint`` distance of ``routes`` (each from the depot and back).

        Raises
        ------
        ValueError
            A route holds the depot or an index outside 1..n-1.
        """
        return int(round(sum(_route_lengths(self.distance_matrix(), _check_routes(routes, self.n_nodes)))))

    def violations(self, routes: Routes, *, max_vehicles: int | None = None) -> list[str]:
        """Why ``routes`` is not a feasible solution (empty list when it is).

        Checks: every customer exactly once, route load ≤ capacity and, when
        ``max_vehicles`` is given, the number of non-empty routes.
        """
        rs = _check_routes(routes, self.n_nodes)
        out = _coverage_violations(rs, self.n_nodes)
        for k, r in enumerate(rs):
            load = int(self.demands[r].sum()) if r else 0
            if load > self.capacity:
                out.append(f"route {k} carries {load} > capacity {self.capacity}")
        used = sum(1 for r in rs if r)
        if max_vehicles is not None and used > max_vehicles:
            out.append(f"{used} routes > {max_vehicles} vehicles")
        return out

    def is_feasible(self, routes: Routes, *, max_vehicles: int | None = None) -> bool:
        """True when :meth:`violations` finds nothing."""
        return not self.violations(routes, max_vehicles=max_vehicles)


CVRP = "cvrp_augerat_abp"
CVRP_SETS = ("A", "B", "P")
CVRP_BKS_COLUMNS = (
    "instance",
    "set",
    "n_customers",
    "capacity",
    "k_in_name",
    "routes_in_sol",
    "sol_cost_recomputed",
    "sol_cost_stated",
    "bks_vroom",
    "proven_optimal",
    "sol_feasible",
    "note",
)
_COMMENT = re.compile(r"No of trucks:\s*(\d+).*?(?:Optimal|Best) value:\s*(\d+)", re.IGNORECASE)


def _parse_vrp(path: Path) -> dict[str, Any]:
    """Read a TSPLIB/CVRPLIB ``.vrp`` file (:func:`vrplib.parse.parse_vrplib`) and check it."""
    try:
        raw = vrplib.parse.parse_vrplib(read_text(path), compute_edge_weights=False)
    except TypeError:  # vrplib subtracts 1 from the depot ids
        raise malformed(path, "DEPOT_SECTION", "one integer node id a line, then -1") from None
    except (ValueError, RuntimeError, IndexError) as exc:
        raise malformed(
            path, "VRPLIB layout", "'KEY : value' header lines, then *_SECTION blocks", str(exc)
        ) from None
    header = {k.upper(): v for k, v in raw.items() if not isinstance(v, np.ndarray | list)}
    for key in ("NAME", "DIMENSION", "CAPACITY", "EDGE_WEIGHT_TYPE"):
        if key not in header:
            raise malformed(path, "header", f"a {key!r} line", sorted(header))
    if header["EDGE_WEIGHT_TYPE"] != "EUC_2D":
        raise malformed(path, "EDGE_WEIGHT_TYPE", "'EUC_2D'", header["EDGE_WEIGHT_TYPE"])
    n, capacity = header["DIMENSION"], header["CAPACITY"]
    if not (isinstance(n, int) and isinstance(capacity, int)) or n < 1:
        raise malformed(path, "DIMENSION/CAPACITY", "integers", (n, capacity))
    for key in ("node_coord", "demand", "depot"):
        if key not in raw:
            raise malformed(path, f"{key.upper()}_SECTION", "the section", sorted(k.upper() for k in raw))
    coords = _number_array(
        path, "NODE_COORD_SECTION", raw["node_coord"], (n, 2), f"'id x y' rows for nodes 1..{n}"
    )
    dem = _number_array(path, "DEMAND_SECTION", raw["demand"], (n,), f"'id demand' rows for nodes 1..{n}")
    if not np.issubdtype(dem.dtype, np.integer):
        raise malformed(path, "DEMAND_SECTION", "integer demands", dem[:3].tolist())
    depots = np.asarray(raw["depot"]).ravel()
    if depots.tolist() != [0]:  # vrplib drops the -1 terminator and counts from 0
        raise malformed(path, "DEPOT_SECTION", "the single depot 1 (then -1)", (depots + 1).tolist())
    dem = dem.astype(np.int64)
    if dem[0] != 0 or (dem < 0).any():
        raise malformed(path, "DEMAND_SECTION", "depot demand 0 and customer demands >= 0", dem[:3].tolist())
    comment = str(header.get("COMMENT", ""))
    m = _COMMENT.search(comment)
    return {
        "name": str(header["NAME"]),
        "coords": coords.astype(np.float64),
        "demands": dem,
        "capacity": capacity,
        "n_vehicles": int(m.group(1)) if m else None,
        "comment_value": float(m.group(2)) if m else None,
        "comment": comment,
    }


def load_cvrp(folder: Path) -> InstanceSet[CVRPInstance]:
    """Parse the Augerat A/B/P ``.vrp``/``.sol`` files listed in ``bks.csv``.

    Returns
    -------
    InstanceSet[CVRPInstance]
        74 instances by name, in ``bks.csv`` order; ``.table`` is ``bks.csv`` indexed by
        ``instance`` (``proven_optimal`` and ``sol_feasible`` as bool; ``note`` says
        where the source marks a flaw).
    """
    bks_path = require_file(folder, "bks.csv", CVRP)
    table = read_csv(bks_path, dtype={"instance": str, "set": str, "proven_optimal": str, "note": str})
    check_header(bks_path, table.columns, CVRP_BKS_COLUMNS)
    nums = ["n_customers", "capacity", "k_in_name", "routes_in_sol", "sol_cost_recomputed", "sol_cost_stated"]
    table[nums] = numeric_columns(bks_path, table, nums)
    table["bks_vroom"] = numeric_columns(bks_path, table, ["bks_vroom"], allow_missing=True)["bks_vroom"]
    table["proven_optimal"] = table["proven_optimal"].astype(str).str.startswith("True")
    table["sol_feasible"] = table["sol_feasible"].astype(str).eq("True")
    table["note"] = table["note"].fillna("")
    bad = ~table["set"].isin(CVRP_SETS)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise malformed(
            bks_path, f"line {row + 2}, column 'set'", f"one of {list(CVRP_SETS)}", table["set"].iloc[row]
        )
    instances: dict[str, CVRPInstance] = {}
    for row in table.itertuples(index=False):
        vrp = require_file(folder, f"{row.set}/{row.instance}.vrp", CVRP)
        sol = require_file(folder, f"{row.set}/{row.instance}.sol", CVRP)
        info = _parse_vrp(vrp)
        if info["name"] != row.instance:
            raise malformed(vrp, "NAME", repr(row.instance), info["name"])
        routes, cost = _parse_sol(sol)
        n = len(info["coords"])
        flat = [c for r in routes for c in r]
        if flat and not all(1 <= c < n for c in flat):
            bad_c = next(c for c in flat if not 1 <= c < n)
            raise malformed(sol, "routes", f"customer ids 1..{n - 1}", bad_c)
        optimum = row.bks_vroom if pd.notna(row.bks_vroom) else info["comment_value"]
        instances[row.instance] = CVRPInstance(
            name=row.instance,
            family=row.set,
            coords=info["coords"],
            demands=info["demands"],
            capacity=info["capacity"],
            n_vehicles=info["n_vehicles"],
            optimum=None if optimum is None else float(optimum),
            solution=routes,  # .sol customer c == .vrp node c+1 == index c here
            solution_cost=cost,
            comment=info["comment"],
        )
    table = table.set_index("instance", drop=False)
    table.index.name = None
    meta = {
        "n_instances": len(instances),
        "families": table["set"].value_counts().reindex(list(CVRP_SETS)).to_dict(),
        "distance": "TSPLIB EUC_2D: Euclidean rounded to the nearest integer (nint)",
        "source": (
            "Augerat et al. (1995) sets A, B, P via CVRPLIB; files from GitHub PyVRP/VRPLIB (MIT) and "
            "VROOM-Project/vroom-scripts (BSD-2-Clause)"
        ),
        "licence": "benchmark instances without a formal licence; repositories MIT / BSD-2-Clause",
        "files": [
            "bks.csv",
            *(f"{r.set}/{r.instance}.{ext}" for r in table.itertuples() for ext in ("vrp", "sol")),
        ],
    }
    return InstanceSet(CVRP, instances, table, meta)


# --------------------------------------------------------------------------- VRPTW


@dataclass(frozen=True, eq=False)
class VRPTWInstance(_DepotNodes):
    """A Solomon VRP with time windows (100 customers) and its best-known values.

    Attributes
    ----------
    name
        E.g. ``"C101"``.
    family
        Solomon class: ``"C1"``, ``"C2"``, ``"R1"``, ``"R2"``, ``"RC1"`` or ``"RC2"``.
    coords
        Shape (n, 2), float; row 0 is the depot.
    demands
        Shape (n,), int; ``demands[0] == 0``.
    ready, due
        Time windows, shape (n,), float, time units = distance units; ``due[0]`` is the
        depot horizon (every vehicle must be back by then).
    service
        Service times, shape (n,), float (0 at the depot).
    capacity
        Vehicle capacity.
    n_vehicles
        Vehicles available (25).
    bks_vehmin_vehicles, bks_vehmin_distance
        Best known with the hierarchical objective (vehicles first, then distance).
    bks_distmin_vehicles, bks_distmin_distance
        Best known when minimising distance only.
    solution
        Reference routes where one ships with the data (C101), else empty.
    solution_cost
        Cost stated with that solution (C101: 827.3, truncated-distance convention).
    """

    name: str
    family: str
    coords: np.ndarray
    demands: np.ndarray
    ready: np.ndarray
    due: np.ndarray
    service: np.ndarray
    capacity: int
    n_vehicles: int
    bks_vehmin_vehicles: int | None = None
    bks_vehmin_distance: float | None = None
    bks_distmin_vehicles: int | None = None
    bks_distmin_distance: float | None = None
    solution: list[list[int]] = field(default_factory=list)
    solution_cost: float | None = None
    depot: int = 0

    def distance_matrix(self, truncate_decimals: int | None = None) -> np.ndarray:
        """Euclidean distances (= travel times).

        Parameters
        ----------
        truncate_decimals
            None (default): exact double precision, the convention of the Solomon
            best-known values.  ``1``: each distance truncated to one decimal (the
            DIMACS/CVRPLIB convention behind C101.sol's ``Cost 827.3``).

        Returns
        -------
        numpy.ndarray
            Shape (n, n), float64, symmetric, zero diagonal.
        """
        diff = self.coords[:, None, :] - self.coords[None, :, :]
        d = np.sqrt((diff**2).sum(-1))
        if truncate_decimals is not None:
            scale = 10.0**truncate_decimals
            d = np.floor(d * scale + 1e-9) / scale
        return d

    def route_cost(self, routes: Routes, truncate_decimals: int | None = None) -> float:
        """Total distance of ``routes`` under :meth:`distance_matrix` (``truncate_decimals``)."""
        rs = _check_routes(routes, self.n_nodes)
        return float(sum(_route_lengths(self.distance_matrix(truncate_decimals), rs)))

    def schedule(self, route: Sequence[int]) -> np.ndarray:
        """Service start times along one route (waiting when early, travel time = distance).

        Returns
        -------
        numpy.ndarray
            Shape (len(route) + 1,): start time at each customer, then the return time
            to the depot.
        """
        return self._schedule([int(v) for v in route], self.distance_matrix())

    def _schedule(self, route: list[int], d: np.ndarray) -> np.ndarray:
        t, prev, out = float(self.ready[0]), 0, []
        for v in route:
            t = max(t + float(self.service[prev]) + float(d[prev, v]), float(self.ready[v]))
            out.append(t)
            prev = v
        out.append(t + float(self.service[prev]) + float(d[prev, 0]))
        return np.asarray(out)

    def violations(self, routes: Routes, *, max_vehicles: int | None = None, tol: float = 1e-6) -> list[str]:
        """Why ``routes`` is not feasible (empty list when it is).

        Checks every customer exactly once, route load ≤ capacity, service starting
        no later than ``due`` at every customer, return to the depot by ``due[0]``, and
        at most ``max_vehicles`` (default :attr:`n_vehicles`) non-empty routes.
        """
        rs = _check_routes(routes, self.n_nodes)
        out = _coverage_violations(rs, self.n_nodes)
        limit = self.n_vehicles if max_vehicles is None else max_vehicles
        used = sum(1 for r in rs if r)
        d = self.distance_matrix()
        if used > limit:
            out.append(f"{used} routes > {limit} vehicles")
        for k, r in enumerate(rs):
            if not r:
                continue
            load = int(self.demands[r].sum())
            if load > self.capacity:
                out.append(f"route {k} carries {load} > capacity {self.capacity}")
            times = self._schedule(r, d)
            for v, t in zip(r, times[:-1], strict=True):
                if t > self.due[v] + tol:
                    out.append(f"route {k}: customer {v} starts at {t:.2f} > due {self.due[v]:g}")
            if times[-1] > self.due[0] + tol:
                out.append(f"route {k} returns at {times[-1]:.2f} > depot horizon {self.due[0]:g}")
        return out

    def is_feasible(self, routes: Routes, *, max_vehicles: int | None = None) -> bool:
        """True when :meth:`violations` finds nothing."""
        return not self.violations(routes, max_vehicles=max_vehicles)


VRPTW = "vrptw_solomon"
VRPTW_BKS_COLUMNS = (
    "instance",
    "capacity",
    "n_customers",
    "vehicles_available",
    "bks_vehmin_vehicles",
    "bks_vehmin_distance",
    "bks_distmin_vehicles",
    "bks_distmin_distance",
)
VRPTW_FAMILIES = ("C1", "C2", "R1", "R2", "RC1", "RC2")
_SOLOMON_NAME = re.compile(r"^(C1|C2|R1|R2|RC1|RC2)\d{2}$")


def _parse_solomon(path: Path) -> dict[str, Any]:
    """Read a Solomon instance (:func:`vrplib.parse.parse_solomon`) and check it.

    vrplib reads the customer table as integers (as the Solomon files are) and turns a token that
    is not one into -1; every Solomon value is >= 0, so a negative value is a malformed file.
    """
    try:
        with warnings.catch_warnings():  # numpy warns on an empty customer table; we raise below
            warnings.simplefilter("ignore", UserWarning)
            raw = vrplib.parse.parse_solomon(read_text(path), compute_edge_weights=False)
    except RuntimeError:
        raise malformed(
            path,
            "layout",
            "the name, VEHICLE, 'NUMBER CAPACITY', two integers, CUSTOMER and the 'CUST NO. ...' header",
        ) from None
    except (ValueError, IndexError) as exc:
        raise malformed(
            path,
            "VEHICLE/CUSTOMER sections",
            "'<number of vehicles> <capacity>' and rows of 7 numbers: "
            "CUST NO., X, Y, DEMAND, READY TIME, DUE DATE, SERVICE TIME",
            str(exc).strip(),
        ) from None
    cols = [raw["node_coord"], raw["demand"][:, None], raw["time_window"], raw["service_time"][:, None]]
    arr = np.concatenate(cols, axis=1)
    if len(arr) == 0:
        raise malformed(path, "CUSTOMER section", "a 'CUST NO. ...' header followed by customer rows")
    if (arr < 0).any():
        row = int(np.flatnonzero((arr < 0).any(axis=1))[0])
        raise malformed(path, f"CUSTOMER section, customer {row}", "non-negative integers", arr[row].tolist())
    table = np.concatenate([np.arange(len(arr))[:, None], arr], axis=1).astype(np.float64)
    return {"name": raw["name"], "vehicles": raw["vehicles"], "capacity": raw["capacity"], "table": table}


def load_solomon(folder: Path) -> InstanceSet[VRPTWInstance]:
    """Parse the 56 Solomon instances listed in ``bks.csv`` (and attach ``C101.sol``).

    Returns
    -------
    InstanceSet[VRPTWInstance]
        56 instances by name, in ``bks.csv`` order; ``.table`` is ``bks.csv`` indexed by
        ``instance`` with a ``family`` column added.
    """
    bks_path = require_file(folder, "bks.csv", VRPTW)
    table = read_csv(bks_path, dtype={"instance": str})
    check_header(bks_path, table.columns, VRPTW_BKS_COLUMNS)
    nums = list(VRPTW_BKS_COLUMNS[1:])
    table[nums] = numeric_columns(bks_path, table, nums)
    fam = table["instance"].str.extract(_SOLOMON_NAME, expand=False)
    if fam.isna().any():
        row = int(np.flatnonzero(fam.isna().to_numpy())[0])
        raise malformed(
            bks_path,
            f"line {row + 2}, column 'instance'",
            "a Solomon name like C101 or RC208",
            table["instance"].iloc[row],
        )
    table.insert(1, "family", fam)
    solutions: dict[str, tuple[list[list[int]], float]] = {}
    for sol in sorted(folder.glob("*.sol")):
        solutions[sol.stem] = _parse_sol(sol)
    instances: dict[str, VRPTWInstance] = {}
    for row in table.itertuples(index=False):
        path = require_file(folder, f"instances/{row.instance}.txt", VRPTW)
        info = _parse_solomon(path)
        if info["name"] != row.instance:
            raise malformed(path, "line 1", f"the instance name {row.instance!r}", info["name"])
        arr = info["table"]
        if (
            info["capacity"] != row.capacity
            or info["vehicles"] != row.vehicles_available
            or len(arr) - 1 != row.n_customers
        ):
            raise malformed(
                path,
                "VEHICLE/CUSTOMER sections",
                f"capacity {row.capacity:g}, {row.vehicles_available:g} vehicles, {row.n_customers:g} customers as in bks.csv",
                (info["capacity"], info["vehicles"], len(arr) - 1),
            )
        routes, cost = solutions.get(row.instance, ([], None))
        if routes:
            flat = [c for r in routes for c in r]
            if not all(1 <= c < len(arr) for c in flat):
                raise malformed(folder / f"{row.instance}.sol", "routes", f"customer ids 1..{len(arr) - 1}")
        instances[row.instance] = VRPTWInstance(
            name=row.instance,
            family=row.family,
            coords=arr[:, 1:3].copy(),
            demands=arr[:, 3].astype(np.int64),
            ready=arr[:, 4].copy(),
            due=arr[:, 5].copy(),
            service=arr[:, 6].copy(),
            capacity=info["capacity"],
            n_vehicles=info["vehicles"],
            bks_vehmin_vehicles=int(row.bks_vehmin_vehicles),
            bks_vehmin_distance=float(row.bks_vehmin_distance),
            bks_distmin_vehicles=int(row.bks_distmin_vehicles),
            bks_distmin_distance=float(row.bks_distmin_distance),
            solution=routes,
            solution_cost=cost,
        )
    unknown = sorted(set(solutions) - set(instances))
    if unknown:
        raise malformed(
            folder / f"{unknown[0]}.sol",
            "file name",
            f"the name of an instance in bks.csv ({len(instances)} instances)",
        )
    for col in (
        "capacity",
        "n_customers",
        "vehicles_available",
        "bks_vehmin_vehicles",
        "bks_distmin_vehicles",
    ):
        table[col] = table[col].astype("int64")
    table = table.set_index("instance", drop=False)
    table.index.name = None
    meta = {
        "n_instances": len(instances),
        "families": table["family"].value_counts().reindex(list(VRPTW_FAMILIES)).to_dict(),
        "distance": "Euclidean, double precision (travel time = distance); the BKS use this convention",
        "solutions": sorted(solutions),
        "source": (
            "Solomon (1987), Operations Research 35(2):254-265; instances and BKS from GitHub "
            "VROOM-Project/vroom-scripts (BSD-2-Clause), C101.sol from PyVRP/VRPLIB (MIT)"
        ),
        "licence": "benchmark instances without a formal licence; repositories BSD-2-Clause / MIT",
        "files": [
            "bks.csv",
            *(f"instances/{n}.txt" for n in instances),
            *(f"{s}.sol" for s in sorted(solutions)),
        ],
    }
    return InstanceSet(VRPTW, instances, table, meta)
