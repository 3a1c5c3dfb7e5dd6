"""The supply network as data: nodes, arcs, products, read from a YAML/JSON file and checked.

See :mod:`sclm.decisions.network` for the file format; this module holds the frozen
:class:`Network` and its loader, and every load error (each names the node or arc at fault).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sclm.schema import UnknownNameError

__all__ = [
    "ROLES",
    "RAW",
    "SENDS_TO",
    "Arc",
    "Network",
    "NetworkFileError",
    "Node",
    "UnknownNodeError",
    "load_network",
]

ROLES: tuple[str, ...] = ("supplier", "plant", "warehouse", "customer")
"""Node roles, upstream to downstream."""

RAW = "raw"
"""The commodity on supplier→plant arcs (reserved: no product may be called so)."""

SENDS_TO: dict[str, tuple[str, ...]] = {
    "supplier": ("plant",),
    "plant": ("warehouse", "customer"),
    "warehouse": ("customer",),
    "customer": (),
}
"""Which role may send to which (warehouse→warehouse is not allowed)."""

_META_KEYS = ("currency", "units", "period", "notes")
_TOP_KEYS = ("name", "description", "integer", "products", "nodes", "arcs", *_META_KEYS)
_INFO_KEYS = ("city", "country", "region", "label", "aliases", "description", "lat", "lon")
_ARC_INFO_KEYS = ("label", "mode", "distance", "description")
_ROLE_KEYS: dict[str, tuple[str, ...]] = {
    "supplier": ("capacity", "cost", "fixed_cost"),
    "plant": ("capacity", "cost", "fixed_cost"),
    "warehouse": ("capacity", "cost", "fixed_cost"),
    "customer": ("demand",),
}
_ARC_KEYS = ("from", "to", "cost", "capacity", *_ARC_INFO_KEYS)
_BAD_NAME_PARTS = ("->", "→", ",")


class NetworkFileError(ValueError):
    """A network file (or dict) breaks the format; the message names the node or arc at fault."""


class UnknownNodeError(NetworkFileError, UnknownNameError):
    """An arc names a node the file does not define (both a ``ValueError`` and an ``UnknownNameError``)."""


@dataclass(frozen=True, eq=False)
class Node:
    """One node of a :class:`Network`.

    Attributes
    ----------
    name, role
        Unique name; one of :data:`ROLES`.
    capacity
        Units per period (supplier: raw material out; plant: units made, all products; warehouse:
        units passed through); ``None`` = unbounded.  Always ``None`` for customers.
    cost
        Per-unit cost by commodity: supplier ``{"raw": c}`` (0 when the file gives none); plant
        ``{product: processing cost}`` (a product missing = the plant cannot make it); warehouse
        ``{product: handling cost}`` (a product missing = the warehouse does not handle it; a
        number in the file means every product; no ``cost`` means 0 for every product);
        customer ``{}``.
    fixed_cost
        Paid once when the facility carries any flow (0 = none).
    demand
        Customers: product → units it must receive at least (missing products: 0).
    info
        Descriptive keys kept as given: ``city``, ``country``, ``label``, ``aliases``, ...
    """

    name: str
    role: str
    capacity: float | None = None
    cost: Mapping[str, float] = field(default_factory=dict)
    fixed_cost: float = 0.0
    demand: Mapping[str, float] = field(default_factory=dict)
    info: Mapping[str, Any] = field(default_factory=dict)

    @property
    def city(self) -> str | None:
        return self.info.get("city")

    def to_dict(self) -> dict[str, Any]:
        """The node as the network file spells it (costs per product)."""
        out: dict[str, Any] = {"role": self.role}
        if self.role == "customer":
            out["demand"] = dict(self.demand)
        else:
            if self.capacity is not None:
                out["capacity"] = self.capacity
            out["cost"] = self.cost.get(RAW, 0.0) if self.role == "supplier" else dict(self.cost)
            if self.fixed_cost:
                out["fixed_cost"] = self.fixed_cost
        out.update(self.info)
        return out


@dataclass(frozen=True, eq=False)
class Arc:
    """One arc: ``cost`` per unit by commodity (``{"raw": c}`` on supplier→plant arcs; a product
    missing from a product arc's dict = the arc does not carry it); ``capacity`` in units over all
    commodities (``None`` = unbounded); ``raw`` is true on supplier→plant arcs; ``info`` keeps the
    descriptive keys ``label``, ``mode``, ``distance``, ``description`` as given."""

    src: str
    dst: str
    cost: Mapping[str, float]
    capacity: float | None = None
    raw: bool = False
    info: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return (self.src, self.dst)

    def __str__(self) -> str:
        return f"{self.src}->{self.dst}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"from": self.src, "to": self.dst}
        out["cost"] = self.cost[RAW] if self.raw else dict(self.cost)
        if self.capacity is not None:
            out["capacity"] = self.capacity
        out.update(self.info)
        return out


@dataclass(frozen=True, eq=False)
class Network:
    """A one-period, multi-product supply network (suppliers → plants → warehouses → customers).

    Build one with :func:`load_network`.  Frozen: edits return a new network.

    Attributes
    ----------
    name, description
        Free text.
    meta
        Descriptive top-level keys kept as given: ``currency``, ``units``, ``period``, ``notes``.
    integer
        Whole units on every arc (the plan is a MILP); default ``False`` (LP).
    products
        Product names, in file order.
    nodes
        Name → :class:`Node`, in file order.
    arcs
        ``(from, to)`` → :class:`Arc`, in file order.
    """

    name: str
    products: tuple[str, ...]
    nodes: Mapping[str, Node]
    arcs: Mapping[tuple[str, str], Arc]
    integer: bool = False
    description: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------------ lookups
    def role(self, role: str) -> list[str]:
        """Names of the nodes with ``role``, in file order."""
        return [n for n, v in self.nodes.items() if v.role == role]

    @property
    def suppliers(self) -> list[str]:
        return self.role("supplier")

    @property
    def plants(self) -> list[str]:
        return self.role("plant")

    @property
    def warehouses(self) -> list[str]:
        return self.role("warehouse")

    @property
    def customers(self) -> list[str]:
        return self.role("customer")

    def node(self, name: str) -> Node:
        """The node called ``name``; an unknown name raises :class:`~sclm.schema.UnknownNameError`."""
        try:
            return self.nodes[name]
        except (KeyError, TypeError):
            raise UnknownNameError(
                f"unknown node {name!r} in network {self.name!r}; expected one of: {', '.join(self.nodes)}"
            ) from None

    def arc(self, src: str, dst: str | None = None) -> Arc:
        """The arc ``src->dst`` (or ``arc(("s1", "p1"))`` / ``arc("s1->p1")``)."""
        key = _arc_key(src, dst)
        for n in key:
            self.node(n)
        if key not in self.arcs:
            raise UnknownNameError(
                f"unknown arc {key[0]}->{key[1]} in network {self.name!r}; arcs out of {key[0]}: "
                f"{', '.join(str(a) for a in self.arcs.values() if a.src == key[0]) or 'none'}; "
                f"arcs into {key[1]}: {', '.join(str(a) for a in self.arcs.values() if a.dst == key[1]) or 'none'}"
            )
        return self.arcs[key]

    def check_product(self, product: str, *, allow_raw: bool = False) -> str:
        """``product`` if the network has it, else :class:`~sclm.schema.UnknownNameError`."""
        if product in self.products or (allow_raw and product == RAW):
            return product
        known = list(self.products) + ([RAW] if allow_raw else [])
        raise UnknownNameError(
            f"unknown product {product!r} in network {self.name!r}; expected one of: {', '.join(known)}"
        )

    def makers(self, product: str) -> list[str]:
        """Plants that can make ``product``."""
        return [p for p in self.plants if product in self.nodes[p].cost]

    def total_demand(self, product: str | None = None) -> float:
        """Demand summed over customers (of ``product``, or of every product)."""
        return float(
            sum(
                q
                for c in self.customers
                for k, q in self.nodes[c].demand.items()
                if product is None or k == product
            )
        )

    def lookup(self, text: str, role: str | None = None) -> list[str]:
        """Nodes whose name, label, alias, city or country equals ``text`` (case-insensitive).

        ``lookup("Hamburg", role="warehouse")`` finds "the warehouse in Hamburg".
        """
        t = str(text).strip().casefold()
        out = []
        for name, node in self.nodes.items():
            if role is not None and node.role != role:
                continue
            keys = [name, node.info.get("label"), node.info.get("city"), node.info.get("country")]
            aliases = node.info.get("aliases") or []
            keys += [aliases] if isinstance(aliases, str) else list(aliases)
            if any(isinstance(k, str) and k.strip().casefold() == t for k in keys):
                out.append(name)
        return out

    # ------------------------------------------------------------------ changes
    def replace_node(self, node: Node) -> Network:
        nodes = dict(self.nodes)
        nodes[node.name] = node
        return replace(self, nodes=nodes)

    def replace_arc(self, arc: Arc) -> Network:
        arcs = dict(self.arcs)
        arcs[arc.key] = arc
        return replace(self, arcs=arcs)

    # ------------------------------------------------------------------ output
    def to_dict(self) -> dict[str, Any]:
        """The network in file form (``load_network(net.to_dict())`` gives it back)."""
        out: dict[str, Any] = {"name": self.name}
        if self.description:
            out["description"] = self.description
        out["integer"] = self.integer
        out["products"] = list(self.products)
        out["nodes"] = {n: v.to_dict() for n, v in self.nodes.items()}
        out["arcs"] = [a.to_dict() for a in self.arcs.values()]
        out.update(self.meta)
        return out

    def __repr__(self) -> str:
        counts = ", ".join(f"{r} {len(self.role(r))}" for r in ROLES)
        fixed = any(n.fixed_cost > 0 for n in self.nodes.values())
        kind = "MILP (whole units)" if self.integer else "MILP (fixed costs)" if fixed else "LP"
        return (
            f"Network({self.name!r}: {counts}; arcs {len(self.arcs)}; products {list(self.products)}; {kind})"
        )


# ---------------------------------------------------------------------------------------------
# loading
# ---------------------------------------------------------------------------------------------


def load_network(source: str | os.PathLike[str] | Mapping[str, Any] | Network) -> Network:
    """Read and check a network file (YAML or JSON), a dict in the same form, or a network name.

    Parameters
    ----------
    source
        A path to a ``.yaml``/``.yml``/``.json`` file; a mapping in the file's form; an existing
        :class:`Network` (returned as is); or a bare name such as ``"coffee"`` for
        ``params/networks/coffee.yaml`` in the project.

    Returns
    -------
    Network

    Raises
    ------
    NetworkFileError
        A bad file: the message names the node or arc and what was expected.
    FileNotFoundError
        No such file (and no project network of that name).
    """
    if isinstance(source, Network):
        return source
    where = "network"
    if isinstance(source, Mapping):
        data: Any = source
    else:
        path = Path(source)
        if not path.exists() and path.suffix == "" and len(path.parts) == 1:
            from sclm.config import PARAMS_DIR

            path = PARAMS_DIR / "networks" / f"{path.name}.yaml"
            if not path.exists():
                known = sorted(p.stem for p in (PARAMS_DIR / "networks").glob("*.yaml"))
                raise FileNotFoundError(
                    f"no network file {os.fspath(source)!r} and no project network of that name; "
                    f"project networks: {', '.join(known) or 'none'}"
                )
        if not path.is_file():
            raise FileNotFoundError(f"network file {os.fspath(path)!r} does not exist")
        text = path.read_text(encoding="utf-8")
        where = f"network file {path.name!r}"
        if path.suffix.lower() == ".json":
            try:
                data = json.loads(text)
            except json.JSONDecodeError as e:
                raise NetworkFileError(f"{where}: not valid JSON ({e})") from None
        else:
            import yaml

            try:
                data = yaml.safe_load(text)
            except yaml.YAMLError as e:
                raise NetworkFileError(f"{where}: not valid YAML ({e})") from None
    return _build(data, where)


def _arc_key(src: Any, dst: Any = None) -> tuple[str, str]:
    if dst is None:
        if isinstance(src, str):
            for sep in ("->", "→", ","):
                if sep in src:
                    a, b = src.split(sep, 1)
                    return (a.strip(), b.strip())
            raise ValueError(f"arc {src!r}: expected 'from->to' or a (from, to) pair")
        if isinstance(src, Iterable):
            parts = tuple(src)
            if len(parts) == 2:
                return (str(parts[0]), str(parts[1]))
        raise ValueError(f"arc {src!r}: expected 'from->to' or a (from, to) pair")
    return (str(src), str(dst))


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise NetworkFileError(f"{what}: expected a number >= 0, got {value!r}")
    v = float(value)
    if not math.isfinite(v) or v < 0:
        raise NetworkFileError(f"{what}: expected a finite number >= 0, got {value!r}")
    return v


def _capacity(value: Any, what: str) -> float | None:
    return None if value is None else _number(value, what)


def _per_product(value: Any, products: tuple[str, ...], what: str, *, number_means_all: bool = True) -> dict:
    """A number (every product) or a product → number dict (unknown products are errors)."""
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if k not in products:
                raise NetworkFileError(
                    f"{what}: unknown product {k!r}; the network's products are {', '.join(products)}"
                )
            out[str(k)] = _number(v, f"{what} ({k})")
        return out
    if not number_means_all:
        raise NetworkFileError(f"{what}: expected a product -> number mapping, got {value!r}")
    v = _number(value, what)
    return dict.fromkeys(products, v)


def _build(data: Any, where: str) -> Network:
    if not isinstance(data, Mapping):
        raise NetworkFileError(f"{where}: expected a mapping with keys {', '.join(_TOP_KEYS)}")
    extra = [k for k in data if k not in _TOP_KEYS]
    if extra:
        raise NetworkFileError(f"{where}: unknown key(s) {extra}; allowed: {', '.join(_TOP_KEYS)}")
    for key in ("products", "nodes", "arcs"):
        if key not in data:
            raise NetworkFileError(f"{where}: missing required key {key!r}")
    name = str(data.get("name") or "network")
    integer = data.get("integer", False)
    if not isinstance(integer, bool):
        raise NetworkFileError(f"{where}: 'integer' must be true or false, got {integer!r}")

    raw_products = data["products"]
    if isinstance(raw_products, str) or not isinstance(raw_products, Iterable):
        raise NetworkFileError(f"{where}: 'products' must be a list of names, got {raw_products!r}")
    products = tuple(raw_products)
    if not products:
        raise NetworkFileError(f"{where}: 'products' is empty; name at least one product")
    for p in products:
        if not isinstance(p, str) or not p.strip():
            raise NetworkFileError(f"{where}: product names must be non-empty strings, got {p!r}")
        if p == RAW:
            raise NetworkFileError(f"{where}: product name {RAW!r} is reserved for raw material")
    dup = sorted({p for p in products if products.count(p) > 1})
    if dup:
        raise NetworkFileError(f"{where}: duplicate product(s) {dup}")

    nodes = _build_nodes(data["nodes"], products, where)
    arcs = _build_arcs(data["arcs"], nodes, products, where)

    for c, node in nodes.items():
        if node.role != "customer":
            continue
        for k, q in node.demand.items():
            if q > 0 and not any(k in n.cost for n in nodes.values() if n.role == "plant"):
                makers = {
                    p: sorted(n.cost) for p, n in nodes.items() if n.role == "plant"
                }  # what each plant makes
                raise NetworkFileError(
                    f"node {c}: demands {q:g} of {k!r} but no plant makes it (plants make: "
                    + "; ".join(f"{p}: {', '.join(m) or 'nothing'}" for p, m in makers.items())
                    + ")"
                )
    return Network(
        name=name,
        products=products,
        nodes=nodes,
        arcs=arcs,
        integer=integer,
        description=str(data.get("description") or ""),
        meta={k: data[k] for k in _META_KEYS if k in data},
    )


def _build_nodes(raw: Any, products: tuple[str, ...], where: str) -> dict[str, Node]:
    items: list[tuple[Any, Any]]
    if isinstance(raw, Mapping):
        items = list(raw.items())
    elif isinstance(raw, list):
        items = []
        for i, spec in enumerate(raw):
            if not isinstance(spec, Mapping) or "name" not in spec:
                raise NetworkFileError(f"{where}: nodes[{i}] must be a mapping with a 'name'")
            spec = dict(spec)
            items.append((spec.pop("name"), spec))
    else:
        raise NetworkFileError(f"{where}: 'nodes' must be a mapping name -> node (or a list of nodes)")
    if not items:
        raise NetworkFileError(f"{where}: 'nodes' is empty")
    nodes: dict[str, Node] = {}
    for name, spec in items:
        if not isinstance(name, str) or not name.strip():
            raise NetworkFileError(f"{where}: node names must be non-empty strings, got {name!r}")
        if any(s in name for s in _BAD_NAME_PARTS):
            raise NetworkFileError(f"node {name!r}: a node name may not contain '->', '→' or ','")
        if name in nodes:
            raise NetworkFileError(f"node {name}: defined twice")
        if name == RAW or name in products:
            raise NetworkFileError(f"node {name}: the name is also a product (or 'raw'); rename the node")
        nodes[name] = _build_node(name, spec, products)
    return nodes


def _build_node(name: str, spec: Any, products: tuple[str, ...]) -> Node:
    if not isinstance(spec, Mapping):
        raise NetworkFileError(f"node {name}: expected a mapping with a 'role', got {spec!r}")
    if "role" not in spec:
        raise NetworkFileError(f"node {name}: missing required field 'role' (one of {', '.join(ROLES)})")
    role = spec["role"]
    if role not in ROLES:
        raise NetworkFileError(f"node {name}: unknown role {role!r}; expected one of {', '.join(ROLES)}")
    allowed = ("role", *_ROLE_KEYS[role], *_INFO_KEYS)
    extra = [k for k in spec if k not in allowed]
    if extra:
        raise NetworkFileError(
            f"node {name} ({role}): unknown key(s) {extra}; allowed: {', '.join(allowed[1:])}"
        )
    info = {k: spec[k] for k in _INFO_KEYS if k in spec}
    for k in ("city", "country", "label", "description"):
        if k in info and not isinstance(info[k], str):
            raise NetworkFileError(f"node {name}: {k!r} must be a string, got {info[k]!r}")
    if "aliases" in info:
        al = info["aliases"]
        if isinstance(al, str):
            info["aliases"] = [al]
        elif not (isinstance(al, list) and all(isinstance(a, str) for a in al)):
            raise NetworkFileError(f"node {name}: 'aliases' must be a list of strings, got {al!r}")
        else:
            info["aliases"] = list(al)
    for k in ("lat", "lon"):
        if k in info and (isinstance(info[k], bool) or not isinstance(info[k], int | float)):
            raise NetworkFileError(f"node {name}: {k!r} must be a number (degrees), got {info[k]!r}")
    what = f"node {name} ({role})"
    if role == "customer":
        if "demand" not in spec:
            raise NetworkFileError(f"{what}: missing required field 'demand' (product -> units)")
        dem = spec["demand"]
        if not isinstance(dem, Mapping) and len(products) > 1:
            raise NetworkFileError(
                f"{what}: 'demand' must map products to units (the network has {len(products)} "
                f"products: {', '.join(products)}); a single number is allowed for a one-product network only"
            )
        return Node(name=name, role=role, demand=_per_product(dem, products, f"{what} demand"), info=info)
    capacity = _capacity(spec.get("capacity"), f"{what} capacity")
    fixed = _number(spec.get("fixed_cost", 0.0), f"{what} fixed_cost")
    if role == "supplier":
        cost = {RAW: _number(spec.get("cost", 0.0), f"{what} cost (per unit of raw material)")}
    elif role == "plant":
        if "cost" not in spec:
            raise NetworkFileError(
                f"{what}: missing required field 'cost' (processing cost per unit: a number, or per product)"
            )
        cost = _per_product(spec["cost"], products, f"{what} cost")
        if not cost:
            raise NetworkFileError(f"{what}: 'cost' names no product, so the plant makes nothing")
    else:
        cost = _per_product(spec.get("cost", 0.0), products, f"{what} cost")
    return Node(name=name, role=role, capacity=capacity, cost=cost, fixed_cost=fixed, info=info)


def _build_arcs(raw: Any, nodes: dict[str, Node], products: tuple[str, ...], where: str) -> dict:
    if not isinstance(raw, list):
        raise NetworkFileError(f"{where}: 'arcs' must be a list of {{from, to, cost}} mappings")
    arcs: dict[tuple[str, str], Arc] = {}
    for i, spec in enumerate(raw):
        if not isinstance(spec, Mapping):
            raise NetworkFileError(f"{where}: arcs[{i}] must be a mapping with from, to, cost; got {spec!r}")
        label = f"arc {spec.get('from', '?')}->{spec.get('to', '?')}"
        for k in ("from", "to"):
            if k not in spec:
                raise NetworkFileError(f"{where}: arcs[{i}] ({label}): missing required field {k!r}")
        src, dst = spec["from"], spec["to"]
        extra = [k for k in spec if k not in _ARC_KEYS]
        if extra:
            raise NetworkFileError(f"{label}: unknown key(s) {extra}; allowed: {', '.join(_ARC_KEYS)}")
        for n in (src, dst):
            if not isinstance(n, str) or n not in nodes:
                raise UnknownNodeError(
                    f"{label}: unknown node {n!r}; the network's nodes are {', '.join(nodes)}"
                )
        r_src, r_dst = nodes[src].role, nodes[dst].role
        if r_dst not in SENDS_TO[r_src]:
            can = ", ".join(SENDS_TO[r_src]) or "nothing"
            raise NetworkFileError(f"{label}: a {r_src} cannot send to a {r_dst} ({r_src} sends to {can})")
        key = (src, dst)
        if key in arcs:
            raise NetworkFileError(f"{label}: duplicate arc (each from->to pair may appear once)")
        if "cost" not in spec:
            raise NetworkFileError(f"{label}: missing required field 'cost' (per unit)")
        is_raw = r_src == "supplier"
        if is_raw:
            if isinstance(spec["cost"], Mapping):
                raise NetworkFileError(f"{label}: carries raw material, so 'cost' must be one number")
            cost = {RAW: _number(spec["cost"], f"{label} cost")}
        else:
            cost = _per_product(spec["cost"], products, f"{label} cost")
        arcs[key] = Arc(
            info={k: spec[k] for k in _ARC_INFO_KEYS if k in spec},
            src=src,
            dst=dst,
            cost=cost,
            capacity=_capacity(spec.get("capacity"), f"{label} capacity"),
            raw=is_raw,
        )
    return arcs
