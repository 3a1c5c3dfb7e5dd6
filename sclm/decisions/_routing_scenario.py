"""Local delivery routes for one day of the logistics scenario (private to ``routing``).

The logistics scenario's sites sit in cities on several continents (``nodes.city``,
``nodes.country``), so one truck route joining them would be meaningless.  What a site's
planner routes every morning is its *local* round: the day's outbound ``delivery`` to its
end customers.  :func:`scenario_routes` builds that round for every site:

* **What is delivered.**  A customer site delivers its ``delivery`` of the day.  A depot's
  ``delivery`` also holds the replenishment it ships to its customer sites (their
  ``shipments`` that day, by line-haul to other cities); its local round carries the rest,
  ``max(0, delivery[depot] - Σ shipments[children])``.  Quantities come from the scenario's
  truth, or from a forecast frame (``node, variable, ts, mean, q0.1 ... q0.9``, as from
  :meth:`sclm.pipeline.TrainedForecaster.forecast`) using its ``quantity`` column (the mean,
  or e.g. ``"q0.9"`` to plan trucks for a high day), rounded to whole units.
* **Where it goes.**  Each site has ``n_drops`` end customers ("drop points") on a local km
  plane centred on the site (x east, y north), drawn uniformly in a disc of radius
  ``radius_km`` from a generator seeded by the scenario seed, ``seed`` and the site name:
  the same points every day, and across runs.  Each drop point takes a fixed share of the
  site's daily volume (shares ~ Gamma(2), also seeded); the day's quantity is split by those
  shares with largest-remainder rounding, so the drops sum exactly to it.  A drop larger
  than one truck is split into several stops at the same place.
* **Road distance.**  Euclidean km times ``road_factor`` (default 1.3, a usual detour
  factor for road networks).
* **Trucks.**  The scenario's ``nodes.capacity`` is a site's daily fleet capacity (units);
  the site runs ``trucks_per_site`` trucks of ``ceil(capacity / trucks_per_site)`` units
  each, unless ``vehicle_capacity`` says otherwise (then the fleet is
  ``ceil(capacity / vehicle_capacity)`` trucks).  The solver minimises trucks first, then km
  (:func:`~sclm.decisions.routing.solve_cvrp` with ``minimise="vehicles_then_distance"``)
  and may use more trucks than the site owns when the day's volume needs them;
  ``summary()`` flags that day (``within_fleet``).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._routing_core import RoutingResult, _py

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from sclm.scenarios import Scenario


@dataclass(frozen=True, eq=False)
class ScenarioRoutes:
    """One day's local delivery rounds for every routed site of a scenario.

    Attributes
    ----------
    day
        The planned day.
    source
        ``"truth"`` or ``"forecast:<column>"``.
    sites
        Site name → its :class:`~sclm.decisions.routing.RoutingResult` (node 0 is the site,
        nodes 1.. its stops, named ``"<site>/drop_07"``, split stops ``"<site>/drop_07#2"``).
    coords
        Site name → shape (n, 2) km east / north of each node of that result.
    stops
        One row per stop: ``site``, ``node``, ``name``, ``drop``, ``x_km``, ``y_km``,
        ``quantity`` (units).
    sites_table
        One row per site: ``site``, ``node_type``, ``city``, ``country``, ``quantity``
        (units routed), ``linehaul`` (units shipped to customer sites, depots only),
        ``vehicle_capacity``, ``fleet`` (trucks owned).
    """

    day: pd.Timestamp
    source: str
    sites: dict[str, RoutingResult]
    coords: dict[str, np.ndarray]
    stops: pd.DataFrame
    sites_table: pd.DataFrame

    @property
    def distance_km(self) -> float:
        """Total road km over all sites."""
        return float(sum(r.distance for r in self.sites.values()))

    @property
    def n_vehicles(self) -> int:
        """Trucks used over all sites."""
        return sum(r.n_vehicles for r in self.sites.values())

    @property
    def feasible(self) -> bool:
        """Every site's routes pass the checker (each stop once, loads within capacity)."""
        return all(r.feasible for r in self.sites.values())

    def summary(self) -> pd.DataFrame:
        """One row per site: the site table plus ``stops``, ``vehicles``, ``within_fleet``,
        ``distance_km``, ``max_load`` (largest truck load) and ``feasible``."""
        rows = []
        for rec in self.sites_table.to_dict("records"):
            r = self.sites.get(rec["site"])
            rec = dict(rec)
            rec["stops"] = int(sum(len(x) for x in r.routes)) if r else 0
            rec["vehicles"] = r.n_vehicles if r else 0
            rec["within_fleet"] = rec["vehicles"] <= rec["fleet"]
            rec["distance_km"] = r.distance if r else 0.0
            rec["max_load"] = max(r.route_loads, default=0) if r else 0
            rec["feasible"] = r.feasible if r else True
            rows.append(rec)
        return pd.DataFrame(rows)

    def route_summary(self) -> pd.DataFrame:
        """One row per truck: ``site``, ``route``, ``stops``, ``load``, ``utilisation``, ``distance_km``."""
        parts = []
        for site, r in self.sites.items():
            s = r.summary().rename(columns={"distance": "distance_km"})
            s.insert(0, "site", site)
            parts.append(s)
        cols = ["site", "route", "stops", "load", "utilisation", "distance_km"]
        return pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)

    def to_frame(self) -> pd.DataFrame:
        """One row per stop (and per return to the site) over all sites: ``site`` then the columns
        of :meth:`RoutingResult.to_frame` (``cum_distance`` in km), plus ``x_km``, ``y_km``."""
        parts = []
        for site, r in self.sites.items():
            f = r.to_frame()
            xy = self.coords[site]
            f.insert(0, "site", site)
            f["x_km"] = xy[f["node"].to_numpy(), 0]
            f["y_km"] = xy[f["node"].to_numpy(), 1]
            parts.append(f)
        if not parts:
            return pd.DataFrame(columns=["site", "route", "stop", "node", "name", "demand", "load"])
        return pd.concat(parts, ignore_index=True)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: day, source, totals, the per-site summary and every site's result."""
        return _py(
            {
                "day": self.day.strftime("%Y-%m-%d"),
                "source": self.source,
                "distance_km": self.distance_km,
                "n_vehicles": self.n_vehicles,
                "feasible": self.feasible,
                "summary": self.summary().to_dict("records"),
                "sites": {s: r.to_dict() for s, r in self.sites.items()},
            }
        )

    def plot(self, site: str | None = None) -> Figure:
        """Route map of one site (default: the one with the most km), in km on its local plane."""
        from ._routing_plot import plot_routes

        if not self.sites:
            raise ValueError("no site has anything to deliver on this day")
        if site is None:
            site = max(self.sites, key=lambda s: self.sites[s].distance)
        if site not in self.sites:
            raise ValueError(f"site {site!r} has no routes; routed sites: {sorted(self.sites)}")
        row = self.sites_table.set_index("site").loc[site]
        r = self.sites[site]
        title = (
            f"{site} ({row['city']}, {row['country']}), {self.day:%Y-%m-%d} [{self.source}]\n"
            f"{int(sum(r.route_loads))} units, {r.distance:.1f} km, {r.n_vehicles} truck(s) of {int(row['vehicle_capacity'])} units"
        )
        return plot_routes(self.coords[site], r, title=title, unit="km", label_stops=False)


def _site_rng(scenario_seed: int, seed: int, site: str) -> np.random.Generator:
    return np.random.default_rng([int(scenario_seed), int(seed), zlib.crc32(site.encode())])


def drop_points(
    site: str, n_drops: int, radius_km: float, *, scenario_seed: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """A site's end customers: ``(xy_km, shares)``, shapes (n_drops, 2) and (n_drops,), shares sum to 1."""
    rng = _site_rng(scenario_seed, seed, site)
    r = radius_km * np.sqrt(rng.uniform(0.02, 1.0, n_drops))
    a = rng.uniform(0.0, 2 * np.pi, n_drops)
    w = rng.gamma(2.0, 1.0, n_drops)
    return np.c_[r * np.cos(a), r * np.sin(a)], w / w.sum()


def split_whole(total: int, shares: np.ndarray) -> np.ndarray:
    """Split ``total`` whole units by ``shares`` (largest remainder): integers summing to ``total``."""
    raw = total * np.asarray(shares, dtype=np.float64)
    out = np.floor(raw).astype(np.int64)
    rest = int(total - out.sum())
    if rest:
        order = np.argsort(-(raw - out), kind="stable")
        out[order[:rest]] += 1
    return out


def _day_quantities(
    scenario: Scenario, forecast: pd.DataFrame | None, day: Any, quantity: str
) -> tuple[pd.Timestamp, str, pd.DataFrame]:
    """``(day, source, table)`` with one row per node: ``delivery`` and ``shipments`` that day."""
    truth = scenario.truth
    if "delivery" not in truth.columns:
        raise ValueError(
            f"scenario {scenario.name!r} has no 'delivery' variable (it has {list(truth.columns)}); "
            "scenario_routes plans the logistics scenario's deliveries"
        )
    if forecast is None:
        days = truth.index.get_level_values("ts")
        d = days.max() if day is None else pd.Timestamp(day)
        if d not in set(days):
            raise ValueError(
                f"day {d:%Y-%m-%d} is not in the scenario ({days.min():%Y-%m-%d} .. {days.max():%Y-%m-%d})"
            )
        tab = truth.xs(d, level="ts")[["delivery", "shipments"]]
        return d, "truth", tab
    need = {"node", "variable", "ts", quantity}
    missing = sorted(need - set(forecast.columns))
    if missing:
        raise ValueError(
            f"forecast lacks column(s) {missing}; expected a long frame node, variable, ts, mean, q0.1 ... q0.9 "
            f"(quantity={quantity!r})"
        )
    ts = pd.to_datetime(forecast["ts"])
    d = ts.min() if day is None else pd.Timestamp(day)
    sel = forecast[ts == d]
    if sel.empty:
        raise ValueError(
            f"day {d:%Y-%m-%d} is not in the forecast ({ts.min():%Y-%m-%d} .. {ts.max():%Y-%m-%d})"
        )
    wide = sel.pivot_table(index="node", columns="variable", values=quantity, aggfunc="first")
    if "delivery" not in wide.columns:
        raise ValueError(f"forecast has no 'delivery' rows for {d:%Y-%m-%d}; it has {sorted(wide.columns)}")
    if "shipments" not in wide.columns:
        wide["shipments"] = np.nan
    return d, f"forecast:{quantity}", wide[["delivery", "shipments"]]


def scenario_routes(
    scenario: Scenario,
    forecast: pd.DataFrame | None = None,
    *,
    day: Any = None,
    quantity: str = "mean",
    sites: Sequence[str] | None = None,
    vehicle_capacity: float | Mapping[str, float] | None = None,
    trucks_per_site: int = 4,
    n_drops: int = 12,
    radius_km: float = 25.0,
    road_factor: float = 1.3,
    time_limit: float = 2.0,
    max_iterations: int | None = 1000,
    seed: int = 0,
    solver: str = "pyvrp",
) -> ScenarioRoutes:
    """Plan one day's local delivery rounds of every site of the logistics scenario.

    Each site delivers the day's volume to its own end customers (seeded drop points on a
    local km plane around it) with its own trucks; see the module docstring for every rule.

    Parameters
    ----------
    scenario
        A scenario with a ``delivery`` variable (``sclm.make_scenario("logistics", ...)``).
    forecast
        Long forecast frame (``node, variable, ts, mean, q0.1 ... q0.9``); None: use the
        scenario's truth.  Depots need their children's ``shipments`` too (else their whole
        ``delivery`` is routed locally).
    day
        The day to plan (default: the forecast's first day, or the truth's last day).
    quantity
        Forecast column to plan for (``"mean"``, ``"q0.9"``, ...).
    sites
        Nodes to route (default: every node with something to deliver).
    vehicle_capacity
        Units per truck, one number or site → number (default: the site's daily fleet
        capacity ``nodes.capacity`` / ``trucks_per_site``, rounded up).
    trucks_per_site
        Trucks a site owns when ``vehicle_capacity`` is not given.
    n_drops
        End customers per site.
    radius_km
        Radius of the delivery area around each site (km).
    road_factor
        Road km per straight-line km.
    time_limit, max_iterations, seed, solver
        Per site, as in :func:`~sclm.decisions.routing.solve_cvrp` (PyVRP stops after
        ``max_iterations``, so the plan is the same every run; ignored for OR-Tools).

    Returns
    -------
    ScenarioRoutes
        Per site: routes (stop names), km, trucks, loads; ``summary()``, ``route_summary()``,
        ``to_frame()``, ``to_dict()``, ``plot(site)``.

    Raises
    ------
    ValueError
        A scenario without deliveries, a day outside the data, a forecast without the
        needed columns, an unknown site, bad sizes.
    """
    from .routing import solve_cvrp

    if n_drops < 1 or radius_km <= 0 or road_factor < 1 or trucks_per_site < 1:
        raise ValueError(
            f"n_drops={n_drops}, radius_km={radius_km}, road_factor={road_factor}, trucks_per_site={trucks_per_site}: "
            "expected n_drops >= 1, radius_km > 0, road_factor >= 1, trucks_per_site >= 1"
        )
    d, source, tab = _day_quantities(scenario, forecast, day, quantity)
    nodes = scenario.nodes.set_index("node")
    unknown = sorted(set(tab.index) - set(nodes.index))
    if unknown:
        raise ValueError(f"forecast names node(s) {unknown[:5]} that are not in the scenario")
    scen_seed = int(scenario.meta.get("seed", 0))
    want = [n for n in nodes.index if n in tab.index] if sites is None else list(sites)
    bad = [s for s in want if s not in nodes.index]
    if bad:
        raise ValueError(f"unknown site(s) {bad}; the scenario's nodes are {list(nodes.index)}")
    results: dict[str, RoutingResult] = {}
    coords: dict[str, np.ndarray] = {}
    stop_rows, site_rows = [], []
    for site in want:
        info = nodes.loc[site]
        deliv = float(tab["delivery"].get(site, np.nan))
        if not np.isfinite(deliv):
            raise ValueError(f"no delivery value for site {site!r} on {d:%Y-%m-%d} in the {source}")
        children = list(nodes.index[nodes["parent"] == site])
        linehaul = 0.0
        if children:
            ship = tab["shipments"].reindex(children).to_numpy(dtype=np.float64)
            linehaul = float(np.nansum(np.clip(ship, 0, None)))
        total = int(max(0.0, np.rint(deliv - linehaul)))
        if isinstance(vehicle_capacity, Mapping):
            cap = vehicle_capacity.get(site)
        else:
            cap = vehicle_capacity
        if cap is None:
            cap = math.ceil(float(info["capacity"]) / trucks_per_site)
            fleet = trucks_per_site
        else:
            if not cap > 0:
                raise ValueError(f"vehicle_capacity for {site!r} is {cap!r}; expected a positive number")
            cap = int(math.floor(cap))
            fleet = max(1, math.ceil(float(info["capacity"]) / cap))
        site_rows.append(
            {
                "site": site,
                "node_type": info["node_type"],
                "city": info["city"],
                "country": info["country"],
                "quantity": total,
                "linehaul": int(round(linehaul)),
                "vehicle_capacity": int(cap),
                "fleet": int(fleet),
            }
        )
        if total == 0:
            continue
        xy, shares = drop_points(site, n_drops, radius_km, scenario_seed=scen_seed, seed=seed)
        qty = split_whole(total, shares)
        pts, dem, names, drops = [[0.0, 0.0]], [0], [site], [-1]
        for j in np.flatnonzero(qty > 0):
            parts = split_whole(int(qty[j]), np.full(math.ceil(qty[j] / cap), 1.0 / math.ceil(qty[j] / cap)))
            for m, q in enumerate(parts):
                pts.append(xy[j].tolist())
                dem.append(int(q))
                names.append(f"{site}/drop_{j + 1:02d}" + (f"#{m + 1}" if len(parts) > 1 else ""))
                drops.append(int(j + 1))
        pts_a = np.asarray(pts)
        diff = pts_a[:, None, :] - pts_a[None, :, :]
        dist = road_factor * np.sqrt((diff**2).sum(-1))
        res = solve_cvrp(
            dist,
            dem,
            cap,
            names=names,
            distance_matrix=True,
            minimise="vehicles_then_distance",
            time_limit=time_limit,
            max_iterations=max_iterations if solver == "pyvrp" else None,
            seed=seed,
            solver=solver,
        )
        results[site] = res
        coords[site] = pts_a
        for i in range(1, len(pts_a)):
            stop_rows.append(
                {
                    "site": site,
                    "node": i,
                    "name": names[i],
                    "drop": drops[i],
                    "x_km": pts_a[i, 0],
                    "y_km": pts_a[i, 1],
                    "quantity": dem[i],
                }
            )
    stops = pd.DataFrame(stop_rows, columns=["site", "node", "name", "drop", "x_km", "y_km", "quantity"])
    return ScenarioRoutes(
        day=d,
        source=source,
        sites=results,
        coords=coords,
        stops=stops,
        sites_table=pd.DataFrame(site_rows),
    )
