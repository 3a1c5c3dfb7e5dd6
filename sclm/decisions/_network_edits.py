"""Network edits: validation (with readable errors) and their application to a network.

Private to :mod:`sclm.decisions.network` (the edit kinds and their meaning are in
:mod:`sclm.decisions.edits`; how this package reads the cases the edits leave open is in
:mod:`sclm.decisions.network`).  :func:`apply_edits` changes the data (demands, capacities, costs)
and collects the constraint edits as :class:`Rules` for the model of :mod:`._network_solve`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import pydantic
from pydantic import BaseModel

from sclm.decisions import edits as E
from sclm.decisions._network_model import RAW, Arc, Network, Node

__all__ = ["EditError", "Rules", "WrongRoleError", "apply_edits", "as_edit_list", "edit_error"]


class WrongRoleError(ValueError):
    """An edit names a node whose role does not fit it (e.g. the capacity of a customer)."""


class EditError(ValueError):
    """A malformed edit (unknown kind, missing, extra or out-of-range field).

    The message names the edit's kind (and its position when there are several), the field and what
    is wrong, e.g. ``"edit scale_capacity: factor must be >= 0, got -1"``; ``errors`` holds
    pydantic's error records and the :class:`pydantic.ValidationError` is chained as ``__cause__``.
    """

    def __init__(self, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.errors = list(errors or [])


_MODELS: dict[str, type[BaseModel]] = {
    m.model_fields["kind"].default: m
    for m in (getattr(E, n) for n in E.__all__)
    if isinstance(m, type) and issubclass(m, BaseModel) and "kind" in m.model_fields
}


def _field_names(kind: str) -> str:
    model = _MODELS.get(kind)
    return ", ".join(f for f in model.model_fields if f != "kind") if model else ""


def _explain(err: Mapping[str, Any], items: list[Any]) -> tuple[str, str]:
    """(which edit, what is wrong) for one pydantic error record of ``parse_edits``."""
    loc = tuple(err.get("loc", ()))
    i = loc[0] if loc and isinstance(loc[0], int) else None
    item = items[i] if i is not None and i < len(items) else err.get("input")
    kind = loc[1] if len(loc) > 1 and isinstance(loc[1], str) else None
    if kind is None and isinstance(item, Mapping):
        kind = item.get("kind")
    where = f"edit {kind}" if isinstance(kind, str) and kind in _MODELS else "edit"
    if i is not None and len(items) > 1:
        where += f" (#{i + 1} of {len(items)})"
    path = loc[2:]
    name = str(path[0]) if path else ""
    got = err.get("input")
    typ, ctx = err.get("type", ""), err.get("ctx") or {}
    kinds = ", ".join(E.EDIT_KINDS)
    if typ == "union_tag_invalid":
        return where, f"unknown kind {ctx.get('tag', got)!r}; expected one of: {kinds}"
    if typ == "union_tag_not_found":
        return where, f"no 'kind' given; expected one of: {kinds}"
    if typ in ("model_attributes_type", "dict_type", "model_type"):
        return where, f"expected a mapping such as {{'kind': 'scale_demand', 'factor': 1.2}}, got {got!r}"
    if name == "arc" and (len(path) > 1 or typ in ("tuple_type", "too_short", "too_long")):
        shown = item.get("arc", got) if isinstance(item, Mapping) else got
        return where, f"arc must be a (from, to) pair or 'from->to', got {shown!r}"
    if typ == "missing":
        fields = _field_names(kind) if isinstance(kind, str) else ""
        return where, f"missing required field {name!r}" + (f" (fields: {fields})" if fields else "")
    if typ == "extra_forbidden":
        fields = _field_names(kind) if isinstance(kind, str) else ""
        return where, f"unknown field {name!r}" + (f"; allowed: {fields}" if fields else "")
    bounds = {
        "greater_than_equal": (">=", "ge"),
        "greater_than": (">", "gt"),
        "less_than_equal": ("<=", "le"),
        "less_than": ("<", "lt"),
    }
    if typ in bounds:
        op, key = bounds[typ]
        return where, f"{name} must be {op} {ctx.get(key, '?'):g}, got {got!r}"
    if typ == "finite_number":
        return where, f"{name} must be a finite number, got {got!r}"
    if typ in ("float_parsing", "float_type", "int_parsing", "int_type"):
        return where, f"{name} must be a number, got {got!r}"
    if typ in ("string_type",):
        return where, f"{name} must be a name (a string), got {got!r}"
    if typ == "too_short":
        return where, f"{name} must list at least {ctx.get('min_length', 1)} item(s), got {got!r}"
    msg = str(err.get("msg", "invalid"))
    msg = msg[:1].lower() + msg[1:]
    return where, f"{name}: {msg}, got {got!r}" if name else f"{msg}, got {got!r}"


def edit_error(exc: pydantic.ValidationError, items: list[Any]) -> EditError:
    """An :class:`EditError` naming kind, field and problem for each of ``exc``'s errors."""
    records = exc.errors()
    by_edit: dict[str, list[str]] = {}
    for err in records:
        where, what = _explain(err, items)
        lst = by_edit.setdefault(where, [])
        if what not in lst:
            lst.append(what)
    text = "; ".join(f"{where}: {', '.join(whats)}" for where, whats in by_edit.items())
    return EditError(text or f"invalid edit(s): {exc}", records)


# ---------------------------------------------------------------------------------------------
# edits
# ---------------------------------------------------------------------------------------------


@dataclass
class Rules:
    """The constraint-type edits, resolved to names.

    ``forbidden``: (arc, product or None = every commodity); ``forced``: (arc, product or None,
    min_flow, description); ``serves_only``: facility → customers it may serve (intersection of
    every restriction on it); ``buys_only``: customer → plants it may buy from; ``closed``: nodes.
    """

    forbidden: set[tuple[tuple[str, str], str | None]] = field(default_factory=set)
    forced: list[tuple[tuple[str, str], str | None, float, str]] = field(default_factory=list)
    serves_only: dict[str, frozenset[str]] = field(default_factory=dict)
    buys_only: dict[str, frozenset[str]] = field(default_factory=dict)
    closed: set[str] = field(default_factory=set)

    def arc_open(self, key: tuple[str, str], product: str) -> bool:
        return (
            (key, None) not in self.forbidden
            and (key, product) not in self.forbidden
            and key[0] not in self.closed
            and key[1] not in self.closed
        )

    def reaches(self, facility: str, customer: str) -> bool:
        allowed = self.serves_only.get(facility)
        return allowed is None or customer in allowed

    def buys(self, customer: str, plant: str) -> bool:
        allowed = self.buys_only.get(customer)
        return allowed is None or plant in allowed


def as_edit_list(edits: Any) -> list[E.Edit]:
    """Validate edits given as models, dicts, one edit, or ``None``.

    Raises
    ------
    EditError
        A malformed edit (a ``ValueError``; the pydantic error is chained).
    """
    if edits is None:
        return []
    if isinstance(edits, Mapping | BaseModel):
        edits = [edits]
    if isinstance(edits, str | bytes) or not isinstance(edits, Iterable):
        raise EditError(
            f"edits: expected a list of edits (mappings with a 'kind', or edit models), got {edits!r}"
        )
    items = list(edits)
    try:
        return E.parse_edits(items)
    except pydantic.ValidationError as exc:
        raise edit_error(exc, items) from exc


def _role(net: Network, name: str, roles: Iterable[str], kind: str) -> Node:
    node = net.node(name)
    roles = tuple(roles)
    if node.role not in roles:
        names = ", ".join(n for n in net.nodes if net.nodes[n].role in roles)
        raise WrongRoleError(
            f"{kind}: node {name} is a {node.role}; {kind} applies to a {' or '.join(roles)} "
            f"({names or 'none in this network'})"
        )
    return node


_FACILITY = ("supplier", "plant", "warehouse")


def _arc_product(net: Network, edit: Any, kind: str) -> tuple[Arc, str | None]:
    """The edit's arc and product (None = every commodity), checked against the network."""
    arc = net.arc(*edit.arc)
    product = edit.product
    if product is None:
        return arc, None
    if arc.raw:
        if product != RAW:
            net.check_product(product, allow_raw=True)  # unknown names first
            raise WrongRoleError(
                f"{kind}: arc {arc} carries raw material, not {product!r}; give product 'raw' or none"
            )
        return arc, None
    net.check_product(product)
    return arc, product


def apply_edits(network: Network, edits: Any) -> tuple[Network, Rules, list[E.Edit]]:
    """Apply the data edits (scale/set demand, capacity, costs) and collect the constraint edits.

    Returns
    -------
    (edited network, rules, validated edits)

    Raises
    ------
    EditError
        A malformed edit (a ``ValueError``).
    sclm.schema.UnknownNameError
        A node, arc or product the network does not have (the message lists what exists).
    WrongRoleError
        A node whose role the edit does not fit (capacity of a customer, ...), or a product
        cost that does not exist (scaling the cost of a product a plant does not make).
    """
    parsed = as_edit_list(edits)
    net = network
    rules = Rules()
    for e in parsed:
        kind = e.kind
        if isinstance(e, E.ScaleDemand):
            customers = (
                net.customers if e.customer is None else [_role(net, e.customer, ["customer"], kind).name]
            )
            if e.product is not None:
                net.check_product(e.product)
            for c in customers:
                node = net.nodes[c]
                dem = {k: (q * e.factor if e.product in (None, k) else q) for k, q in node.demand.items()}
                net = net.replace_node(replace(node, demand=dem))
        elif isinstance(e, E.ScaleCapacity | E.SetCapacity):
            node = _role(net, e.node, _FACILITY, kind)
            if isinstance(e, E.SetCapacity):
                cap: float | None = e.value
            elif node.capacity is None:  # unbounded stays unbounded, except x 0
                cap = 0.0 if e.factor == 0 else None
            else:
                cap = node.capacity * e.factor
            net = net.replace_node(replace(node, capacity=cap))
        elif isinstance(e, E.SetArcCost | E.ScaleArcCost):
            arc, product = _arc_product(net, e, kind)
            cost = dict(arc.cost)
            targets = list(cost) if product is None else [product]
            for k in targets:
                if isinstance(e, E.SetArcCost):
                    cost[k] = e.value
                elif k not in cost:
                    raise WrongRoleError(
                        f"{kind}: arc {arc} does not carry {k!r} (it carries {', '.join(cost)}), so "
                        "there is no cost to scale"
                    )
                else:
                    cost[k] = cost[k] * e.factor
            net = net.replace_arc(replace(arc, cost=cost))
        elif isinstance(e, E.SetNodeCost | E.ScaleNodeCost):
            node = _role(net, e.node, _FACILITY, kind)
            product = e.product
            if node.role == "supplier":
                if product not in (None, RAW):
                    net.check_product(product, allow_raw=True)
                    raise WrongRoleError(
                        f"{kind}: {node.name} is a supplier; its cost is per unit of raw material, "
                        f"not of {product!r} (give product 'raw' or none)"
                    )
                product = RAW
            elif product is not None:
                net.check_product(product)
            cost = dict(node.cost)
            targets = list(cost) if product is None else [product]
            for k in targets:
                if isinstance(e, E.SetNodeCost):
                    cost[k] = e.value
                elif k not in cost:
                    verb = "make" if node.role == "plant" else "handle"
                    raise WrongRoleError(
                        f"{kind}: {node.role} {node.name} does not {verb} {k!r} (it {verb}s "
                        f"{', '.join(cost) or 'nothing'}), so there is no cost to scale"
                    )
                else:
                    cost[k] = cost[k] * e.factor
            net = net.replace_node(replace(node, cost=cost))
        elif isinstance(e, E.ForbidArc):
            arc, product = _arc_product(net, e, kind)
            rules.forbidden.add((arc.key, product))
        elif isinstance(e, E.ForceArc):
            arc, product = _arc_product(net, e, kind)
            rules.forced.append((arc.key, product, e.min_flow, e.describe()))
        elif isinstance(e, E.RestrictFacility):
            node = _role(net, e.node, ["plant", "warehouse"], kind)
            custs = frozenset(_role(net, c, ["customer"], kind).name for c in e.customers)
            prev = rules.serves_only.get(node.name)
            rules.serves_only[node.name] = custs if prev is None else prev & custs
        elif isinstance(e, E.SourceOnlyFrom | E.ExclusivePair):
            c = _role(net, e.customer, ["customer"], kind).name
            p = _role(net, e.plant, ["plant"], kind).name
            prev = rules.buys_only.get(c)
            rules.buys_only[c] = frozenset({p}) if prev is None else prev & {p}
            if isinstance(e, E.ExclusivePair):
                prev = rules.serves_only.get(p)
                rules.serves_only[p] = frozenset({c}) if prev is None else prev & {c}
        elif isinstance(e, E.CloseFacility):
            rules.closed.add(_role(net, e.node, _FACILITY, kind).name)
        else:  # pragma: no cover - parse_edits admits only the kinds above
            raise ValueError(f"unsupported edit kind {kind!r}")
    return net, rules, parsed
