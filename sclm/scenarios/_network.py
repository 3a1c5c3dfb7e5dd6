"""A two-echelon stock-and-flow loop shared by the three simulators.

Every node ``i`` (a top node, ``parent[i] = -1``, or a child of a top node) runs the same loop,
one day ``t`` at a time, vectorised across nodes.  All quantities are integer counts stored as
float64, so the balance below is exact.

Order book
    ``book[t]`` — what the node is asked to deliver.  Children: their exogenous ``ext[t]``.
    Top nodes: ``ext[t] + Σ_children request_c[t - shift]``, ``shift = lead - delivery_lag``.
Inflow ``q``
    ``q[t] = request[t - lead]``; a child receives it from its parent's stock (children first,
    then the parent's own customers; among children of one parent, in node order), so
    ``q_c[t] < request_c[t - lead]`` only when the parent runs short.
Outflow ``d``
    ``d[t] = min(book[t - delivery_lag] - cancelled[t - delivery_lag], k[t] + q[t], delivery_cap)``
    (lost when short).  With a fill rate ``f`` (optional, manufacturing and logistics), a node
    ships ``rint(f[t]·ext[t])`` of its exogenous orders and the customers cancel the rest
    (``cancelled = ext - rint(f·ext)``); children's requests are always served in full when stock
    allows.  Without it ``cancelled = 0``.
Stock ``k`` (opening stock of day t)
    ``k[t + 1] = k[t] + q[t] - d[t]`` — exact, and never negative.
Request (replenishment rule, a proportional order-up-to rule without pipeline feedback)
    ``request[t] = clip(rint(alpha·signal[t - 1] + beta·(target_stock - k[t])), 0, request_cap)``
    with ``signal`` the order book (``"orders"``) or the outflow (``"sales"``).

So ``q[t] = alpha·signal[t - lead - 1] + beta·(target_stock - k[t - lead])`` (rounded) and,
with ``signal = "orders"``, ``d[t] = book[t - delivery_lag]`` when stock suffices.  The loop
``e[t+1] = e[t] - beta·e[t-lead] + ...`` is stable for ``beta < 2·sin(π / (2·(2·lead + 1)))``
(roots of ``z^(L+1) - z^L + beta``; see :func:`sclm.scenarios._base.stability_limit`).
"""

from __future__ import annotations

import numpy as np


def simulate_network(
    ext: np.ndarray,
    parent: np.ndarray,
    *,
    lead: int,
    delivery_lag: int,
    signal: str,
    alpha: float,
    beta: float,
    target_stock: np.ndarray,
    request_cap: np.ndarray | None = None,
    delivery_cap: np.ndarray | None = None,
    warmup_level: np.ndarray | None = None,
    fill: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Run the loop over S days for N nodes.

    Parameters
    ----------
    ext
        Shape ``(S, N)``: exogenous orders per day (integer counts as float64).
    parent
        Shape ``(N,)``: index of the parent node, -1 for a top node.  Parents must be top nodes.
    lead
        Days from request to inflow (>= 1).
    delivery_lag
        Days from order to delivery (0 <= delivery_lag <= lead).
    signal
        ``"orders"`` (the order book) or ``"sales"`` (the outflow) feeds the request rule.
    alpha, beta
        Request rule weights.
    target_stock
        Shape ``(N,)``: target stock (units); also the opening stock.
    request_cap, delivery_cap
        Shape ``(N,)`` caps (production capacity, fleet capacity); ``None`` = unbounded.
    warmup_level
        Shape ``(N,)``: order level assumed before day 0 (default: mean of the first 28 days of
        ``ext``, plus the children's levels for top nodes).
    fill
        Shape ``(S, N)``, values in ``[0, 1]``: the share of each day's exogenous orders the node
        ships (the rest is cancelled), so the outflow is not an exact copy of the order book;
        ``None`` (default) = 1, every order is shipped when stock allows.

    Returns
    -------
    dict
        ``book``, ``request``, ``inflow``, ``stock`` (opening), ``outflow``: each ``(S, N)``.
    """
    if signal not in ("orders", "sales"):
        raise ValueError(f"signal={signal!r}; expected 'orders' or 'sales'")
    if not 0 <= delivery_lag <= lead:
        raise ValueError(f"delivery_lag={delivery_lag}; expected 0 <= delivery_lag <= lead={lead}")
    ext = np.asarray(ext, dtype=np.float64)
    n_days, n_nodes = ext.shape
    parent = np.asarray(parent, dtype=np.int64)
    child = np.flatnonzero(parent >= 0)
    has_children = len(child) > 0
    if has_children and (parent[parent[child]] >= 0).any():
        raise ValueError("parents must be top nodes (two echelons at most)")
    shift = lead - delivery_lag
    pad = lead + 2
    inf = np.full(n_nodes, np.inf)
    rcap = inf if request_cap is None else np.asarray(request_cap, dtype=np.float64)
    dcap = inf if delivery_cap is None else np.asarray(delivery_cap, dtype=np.float64)
    kstar = np.asarray(target_stock, dtype=np.float64)

    if warmup_level is None:
        level = ext[: min(n_days, 28)].mean(axis=0)
        if has_children:
            level = level + np.bincount(parent[child], weights=level[child], minlength=n_nodes)
    else:
        level = np.asarray(warmup_level, dtype=np.float64)
    level = np.rint(level)

    book = np.empty((pad + n_days, n_nodes))
    book[:pad] = level
    book[pad:] = ext
    cancelled = np.zeros((pad + n_days, n_nodes))
    if fill is not None:
        fill = np.asarray(fill, dtype=np.float64)
        if fill.shape != ext.shape or not ((fill >= 0) & (fill <= 1)).all():
            raise ValueError(f"fill must have shape {ext.shape} with values in [0, 1]")
        cancelled[pad:] = ext - np.rint(fill * ext)
    request = np.zeros((pad + n_days, n_nodes))
    request[:pad] = np.minimum(np.rint(alpha * level), rcap)
    inflow = np.zeros((pad + n_days, n_nodes))
    outflow = np.zeros((pad + n_days, n_nodes))
    outflow[:pad] = level
    stock = np.zeros((pad + n_days + 1, n_nodes))
    stock[pad] = kstar

    if has_children:
        order = child[np.argsort(parent[child], kind="stable")]
        par_sorted = parent[order]
        _, starts, sizes = np.unique(par_sorted, return_index=True, return_counts=True)
        child_parent = parent[child]
    sig = book if signal == "orders" else outflow

    for i in range(pad, pad + n_days):
        if has_children and shift > 0:
            book[i] += np.bincount(child_parent, weights=request[i - shift, child], minlength=n_nodes)
        q = request[i - lead].copy()
        k = stock[i]
        due = book[i - delivery_lag] - cancelled[i - delivery_lag]
        d = np.minimum(np.minimum(due, k + q), dcap)
        if has_children:
            # parents serve their children's due requests first, in node order
            req = request[i - lead, order]
            excl = np.cumsum(req) - req
            before = excl - np.repeat(excl[starts], sizes)
            supply = np.minimum(d, np.bincount(par_sorted, weights=req, minlength=n_nodes))
            q[order] = np.clip(supply[par_sorted] - before, 0.0, req)
            d[child] = np.minimum(np.minimum(due[child], k[child] + q[child]), dcap[child])
        inflow[i] = q
        outflow[i] = d
        stock[i + 1] = k + q - d
        r = np.rint(alpha * sig[i - 1] + beta * (kstar - k))
        request[i] = np.clip(r, 0.0, rcap)
        if has_children and shift == 0:
            book[i] += np.bincount(child_parent, weights=request[i, child], minlength=n_nodes)

    sl = slice(pad, pad + n_days)
    return {
        "book": book[sl],
        "request": request[sl],
        "inflow": inflow[sl],
        "stock": stock[sl],
        "outflow": outflow[sl],
    }
