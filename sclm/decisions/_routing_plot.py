"""Route maps (private to :mod:`sclm.decisions.routing`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ._routing_core import RoutingResult

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def plot_routes(
    coords: Any,
    result: RoutingResult,
    *,
    names: Sequence[str] | None = None,
    depots: Sequence[int] | None = None,
    title: str | None = None,
    unit: str = "",
    label_stops: bool | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Draw the routes of ``result`` on a map of the nodes.

    Depots are black squares, customers dots; each route is one line (depot → stops → depot)
    in its own colour, and the legend gives each route's distance and load (load / capacity).

    Parameters
    ----------
    coords
        Shape (n, 2): x and y of every node, in the order of the result's node indices
        (e.g. an instance's coordinates, or km east / north on a local plane).
    result
        Routes to draw.
    names
        Node names for the stop labels (default: the result's names, else the indices).
    depots
        Nodes drawn as depots (default: the result's depot).
    title
        Axes title (default: solver, total distance and vehicles).
    unit
        Distance unit shown in the legend and title (e.g. ``"km"``).
    label_stops
        Write each customer's name next to it (default: when there are at most 30 nodes).
    ax
        Draw into these axes instead of a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        The figure; ``ax.lines`` holds exactly one line per route.
    """
    import matplotlib.pyplot as plt

    xy = np.asarray(coords, dtype=np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise ValueError(f"coords has shape {xy.shape}; expected (n, 2)")
    used = {v for r in result.routes for v in r} | {result.depot}
    if max(used) >= len(xy):
        raise ValueError(f"coords has {len(xy)} rows but the routes visit node {max(used)}")
    nm = list(names) if names is not None else (list(result.names) if result.names else None)
    if nm is not None and len(nm) != len(xy):
        raise ValueError(f"names has {len(nm)} entries; expected {len(xy)}, one per node")
    dep = sorted(set(depots) if depots is not None else {result.depot})
    if ax is None:
        fig, ax = plt.subplots(figsize=(8.5, 6.0))
    else:
        fig = ax.figure
    cust = np.asarray([i for i in range(len(xy)) if i not in dep], dtype=np.int64)
    ax.scatter(xy[cust, 0], xy[cust, 1], s=18, c="0.35", zorder=3, label="customers")
    ax.scatter(
        xy[dep, 0],
        xy[dep, 1],
        s=90,
        marker="s",
        c="black",
        zorder=4,
        label="depot" if len(dep) == 1 else "depots",
    )
    cmap = plt.get_cmap("tab20" if len(result.routes) > 10 else "tab10")
    u = f" {unit}" if unit else ""
    whole = all(float(x).is_integer() for x in result.route_distances)
    fmt = (lambda x: f"{x:.0f}") if whole else (lambda x: f"{x:.1f}")
    for k, r in enumerate(result.routes):
        path = [result.depot, *r, result.depot]
        ax.plot(
            xy[path, 0],
            xy[path, 1],
            "-",
            lw=1.6,
            color=cmap(k % cmap.N),
            zorder=2,
            label=(
                f"route {k + 1}: {fmt(result.route_distances[k])}{u}, "
                f"load {result.route_loads[k]:g}/{result.capacity:g}"
            ),
        )
    if label_stops is None:
        label_stops = len(xy) <= 30
    if label_stops:
        for i in range(len(xy)):
            ax.annotate(
                nm[i] if nm else str(i),
                xy[i],
                xytext=(3, 3),
                textcoords="offset points",
                fontsize=7,
                color="0.2",
            )
    ax.set_aspect("equal", adjustable="datalim")
    ax.grid(True, lw=0.3, alpha=0.5)
    if unit:
        ax.set_xlabel(f"x ({unit})")
        ax.set_ylabel(f"y ({unit})")
    if title is None:
        title = f"{result.solver}: {fmt(result.distance)}{u}, {result.n_vehicles} vehicle(s)" + (
            "" if result.feasible else " - INFEASIBLE"
        )
    ax.set_title(title)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)
    fig.tight_layout()
    return fig
