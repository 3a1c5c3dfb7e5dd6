"""Drawing a supply-network plan (private to :mod:`sclm.decisions.network`)."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

import numpy as np

from sclm.decisions._network_model import RAW, ROLES, Network, load_network

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

_ROLE_COLOURS = {"supplier": "#8c6d31", "plant": "#1f77b4", "warehouse": "#9467bd", "customer": "#2ca02c"}
_FLOW_COLOUR = "#1f77b4"


def _fmt(v: float) -> str:
    """Whole numbers and numbers of 1,000 or more without decimals (``12,544``), else up to one."""
    if abs(v - round(v)) < 1e-9 or abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:,.1f}" if abs(v) >= 1 else f"{v:.2g}"


def _closed(plan: Any) -> set[str]:
    """Facilities closed by an edit, or with their capacity set or scaled to 0."""
    out = {e.node for e in plan.edits if getattr(e, "kind", None) == "close_facility"}
    for n, node in plan.network.nodes.items():
        if node.role != "customer" and node.capacity == 0:
            out.add(n)
    return out


def _layout(net: Network) -> tuple[list[str], dict[str, tuple[float, float]]]:
    """Roles present (left to right) and node positions: column = role, rows centred on 0.

    The tallest column has one unit between rows; a shorter column of ``n`` nodes spreads them
    ``max(1, (tallest - 1) / n)`` apart, so two warehouses beside six customers are not cramped.
    """
    roles = [r for r in ROLES if net.role(r)]
    tallest = max(len(net.role(r)) for r in roles)
    pos = {}
    for x, role in enumerate(roles):
        names = net.role(role)
        gap = max(1.0, (tallest - 1) / len(names))
        for i, n in enumerate(names):
            pos[n] = (float(x), gap * ((len(names) - 1) / 2 - i))
    return roles, pos


_SPOTS = (0.5, 0.62, 0.38, 0.72, 0.28, 0.8, 0.2, 0.86, 0.14)
"""Where along an arc (0 = its start) its label may go, in order of preference."""


def _box(ax: Any, x: float, y: float, text: str, size: float) -> tuple[float, float, float, float]:
    """The display-pixel box of ``text`` centred at data point ``(x, y)`` (estimated, with a margin)."""
    px, py = ax.transData.transform((x, y))
    scale = ax.figure.dpi / 72.0
    lines = text.split("\n")
    w = (0.6 * size * max(len(t) for t in lines) + 4) * scale
    h = (1.25 * size * len(lines) + 3) * scale
    return (px - w / 2, py - h / 2, px + w / 2, py + h / 2)


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return w * h if w > 0 and h > 0 else 0.0


def plot_network_plan(
    plan: Any,
    network: Network | str | Any = None,
    *,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Draw a plan in layers: suppliers → plants → warehouses → customers, one column each.

    Each arc is a line whose width grows with its flow (all commodities together), labelled with
    its flow per product (``"light 20 · dark 20"``; raw material as a plain number); unused arcs
    are thin, faint and dashed.  Facilities closed by an edit (or whose capacity was set to 0) are
    grey with a red cross and ``(closed)``.  Under each facility: ``units through it / capacity``
    (``∞`` when unbounded); under each customer: its demand, and in red what it is short of when the
    plan is infeasible.  An arc that skips a column (plant → customer past the warehouses) bends,
    so it never seems to run through a node of the column it skips.

    Parameters
    ----------
    plan
        A :class:`~sclm.decisions.network.NetworkPlan` (optimal, feasible or infeasible).
    network
        The network to lay out (a :class:`Network` or anything :func:`load_network` reads), e.g.
        the unedited one, to draw a baseline and a what-if with the same nodes; default: the
        plan's own (edited) network.  Its nodes must be the plan's.
    ax
        Draw into these axes instead of a new figure.
    title
        Axes title (default: the network's name and the plan's cost, or ``infeasible``).

    Returns
    -------
    matplotlib.figure.Figure
        The figure; one line per arc in ``ax.lines`` (in file order), then one per closed facility's cross.

    Raises
    ------
    ValueError
        ``network`` has nodes the plan's network lacks, or the other way round.
    """
    import matplotlib.pyplot as plt

    pnet: Network = plan.network
    net = pnet if network is None else load_network(network)
    if set(net.nodes) != set(pnet.nodes):
        extra = sorted(set(net.nodes) ^ set(pnet.nodes))
        raise ValueError(
            f"network {net.name!r} and the plan's network {pnet.name!r} differ in nodes {extra}; "
            "pass the network the plan was solved on (or none)"
        )
    roles, pos = _layout(net)
    closed = _closed(plan)
    if ax is None:
        height = max(3.2, 0.75 * max(len(net.role(r)) for r in roles) + 1.2)
        fig, ax = plt.subplots(figsize=(max(7.0, 2.6 * len(roles)), height))
    else:
        fig = ax.figure

    ax.set_xlim(-0.45, len(roles) - 0.4)
    low = min(y for _, y in pos.values())
    ax.set_ylim(low - 0.8, -low + 0.35)
    per: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    if plan.ok:
        for a, b, k, f in plan.flows[["from", "to", "product", "flow"]].itertuples(index=False):
            per[(a, b)][k] = per[(a, b)].get(k, 0.0) + float(f)
    totals = {key: sum(v.values()) for key, v in per.items()}
    top = max(totals.values(), default=1.0) or 1.0
    t = np.linspace(0, 1, 101)[:, None]
    jobs = []  # (flow, label, curve xs, ys)
    for a, b in net.arcs:
        p0, p1 = np.array(pos[a]), np.array(pos[b])
        bend = 0.2 * (p1[0] - p0[0] - 1)
        mid = (p0 + p1) / 2 + bend * np.array([p1[1] - p0[1], -(p1[0] - p0[0])])
        xs, ys = ((1 - t) ** 2 * p0 + 2 * (1 - t) * t * mid + t**2 * p1).T
        f = totals.get((a, b), 0.0)
        if f > 0:
            ax.plot(
                xs, ys, color=_FLOW_COLOUR, lw=1 + 7 * f / top, alpha=0.7, zorder=1, solid_capstyle="butt"
            )
            items = per[(a, b)]
            if list(items) == [RAW] or len(pnet.products) == 1:
                text = _fmt(f)
            else:
                text = "\n".join(f"{k} {_fmt(v)}" for k, v in items.items())
            jobs.append((f, text, xs, ys))
        else:
            ax.plot(xs, ys, color="#c8c8c8", lw=0.6, ls="--", alpha=0.8, zorder=0)

    use = {}
    if plan.ok and len(plan.facilities):
        use = dict(zip(plan.facilities["node"], plan.facilities["throughput"], strict=True))
    short: dict[str, dict[str, float]] = defaultdict(dict)
    if len(plan.shortfall):
        for c, k, u in plan.shortfall[["customer", "product", "short"]].itertuples(index=False):
            short[c][k] = short[c].get(k, 0.0) + float(u)
    crosses = []
    taken: list[tuple[float, float, float, float]] = []  # display boxes of node markers and names
    for role in roles:
        for n in net.role(role):
            x, y = pos[n]
            node = pnet.nodes[n]
            shut = n in closed
            colour = "#d9d9d9" if shut else _ROLE_COLOURS[role]
            ax.scatter(x, y, s=170, color=colour, edgecolor="black", linewidth=0.8, zorder=2)
            if shut:
                crosses.append((x, y))
            label = n.replace("customers_", "customers of\n")  # the scenario network's customer names
            if shut:
                sub = "(closed)"
            elif role == "customer":
                sub = f"demand {_fmt(sum(node.demand.values()))}"
            else:
                through = _fmt(use[n]) if n in use else "-"
                sub = f"{through} / {_fmt(node.capacity) if node.capacity is not None else '∞'}"
            lines = label.count("\n") + 1
            halo = {"facecolor": "white", "edgecolor": "none", "alpha": 0.75, "pad": 0.3}
            ax.annotate(
                label,
                (x, y),
                xytext=(0, -8),
                textcoords="offset points",
                ha="center",
                va="top",
                fontsize=7.5,
                zorder=5,
                bbox=halo,
            )
            ax.annotate(
                sub,
                (x, y),
                xytext=(0, -9 - 9.5 * lines),
                textcoords="offset points",
                ha="center",
                va="top",
                fontsize=6.5,
                color="#b22222" if shut else "0.35",
                zorder=5,
                bbox=halo,
            )
            px, py = ax.transData.transform((x, y))
            pt = ax.figure.dpi / 72.0
            width = 0.6 * 7.5 * max(len(t) for t in [*label.split("\n"), sub]) * pt
            taken.append((px - 9 * pt, py - 9 * pt, px + 9 * pt, py + 9 * pt))  # the marker
            taken.append((px - width / 2, py - (18 + 9.5 * lines) * pt, px + width / 2, py - 8 * pt))
            if sum(short.get(n, {}).values()) > 1e-9:
                items = short[n]
                if len(pnet.products) == 1:
                    what = _fmt(sum(items.values()))
                else:
                    what = "\n".join(f"{_fmt(v)} {k}" for k, v in items.items() if v > 1e-9)
                ax.annotate(
                    f"short {what}",
                    (x, y),
                    xytext=(10, 0),
                    textcoords="offset points",
                    ha="left",
                    va="center",
                    fontsize=7,
                    color="#b22222",
                    fontweight="bold",
                    zorder=5,
                )
    placed: list[tuple[float, float, float, float]] = []
    for _f, text, xs, ys in sorted(jobs, key=lambda j: -j[0]):  # the biggest flows choose first
        best = None
        for spot in _SPOTS:
            i = int(round(spot * (len(xs) - 1)))
            box = _box(ax, xs[i], ys[i], text, 6.5)
            clash = sum(_overlap(box, o) for o in placed) + 0.5 * sum(_overlap(box, o) for o in taken)
            if best is None or clash < best[0] - 1e-9:
                best = (clash, i, box)
            if clash == 0:
                break
        _, i, box = best
        placed.append(box)
        ax.text(
            xs[i],
            ys[i],
            text,
            fontsize=6.5,
            ha="center",
            va="center",
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 0.4},
            zorder=4,
        )
    for x, y in crosses:
        d = 0.07
        ax.plot(
            [x - d, x + d, np.nan, x - d, x + d],
            [y - d, y + d, np.nan, y + d, y - d],
            color="#b22222",
            lw=2,
            zorder=3,
        )

    ax.set_xticks(range(len(roles)), [r + "s" for r in roles])
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    if title is None:
        if plan.cost is not None:
            status = "" if plan.status == "optimal" else f" ({plan.status})"
            title = f"{plan.name}: cost {plan.cost:,.6g}{status}"
        else:
            total = sum(sum(v.values()) for v in short.values())
            title = f"{plan.name}: {plan.status}" + (f", {_fmt(total)} units short" if total > 0 else "")
        if plan.edits:
            title += "\n" + "; ".join(e.describe() for e in plan.edits)
    ax.set_title(title, fontsize=9.5)
    return fig
