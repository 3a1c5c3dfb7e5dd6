"""Network edits as data: one pydantic model per kind of change to a supply-network plan.

An edit names nodes, arcs and products of a :class:`sclm.decisions.network.Network`; the network
checks the names when the edit is applied (an unknown name is a clear error).  Edits are plain
data, so an instruction parser, a JSON file or a notebook can write them::

    {"kind": "scale_demand", "factor": 1.2}                              # all customers, all products
    {"kind": "scale_demand", "factor": 0.5, "customer": "c1", "product": "dark"}
    {"kind": "scale_capacity", "node": "s3", "factor": 0.5}
    {"kind": "set_capacity", "node": "p1", "value": 120}
    {"kind": "set_arc_cost", "arc": ["s1", "p1"], "value": 3}
    {"kind": "scale_arc_cost", "arc": ["p1", "c1"], "factor": 1.1, "product": "light"}
    {"kind": "set_node_cost", "node": "p1", "value": 4, "product": "dark"}
    {"kind": "scale_node_cost", "node": "w1", "factor": 2}
    {"kind": "forbid_arc", "arc": ["p1", "c2"]}
    {"kind": "force_arc", "arc": ["p2", "c1"], "min_flow": 10}
    {"kind": "restrict_facility", "node": "p1", "customers": ["c1", "c2"]}
    {"kind": "source_only_from", "customer": "c3", "plant": "p2"}
    {"kind": "exclusive_pair", "plant": "p1", "customer": "c2"}
    {"kind": "close_facility", "node": "w1"}

Semantics (one period, units as in the network file)

``scale_demand``
    Multiply the demand of ``customer`` (all customers when ``None``) for ``product`` (all
    products when ``None``) by ``factor``.  Scaled demand is never rounded: with whole-unit
    flows a demand of 38.7 needs 39 units.
``scale_capacity`` / ``set_capacity``
    Multiply or set the capacity of a supplier, plant or warehouse (``set_capacity`` also gives
    a capacity to a node that had none).
``set_arc_cost`` / ``scale_arc_cost``
    Set or multiply the per-unit cost of an arc, for one product or all of them.
``set_node_cost`` / ``scale_node_cost``
    Set or multiply the per-unit cost of a node (a supplier's raw material, a plant's processing,
    a warehouse's handling), for one product or all of them.
``forbid_arc``
    No flow on the arc (of ``product``, or of any product when ``None``).
``force_arc``
    At least ``min_flow`` units on the arc (of ``product``, or summed over products).
``restrict_facility``
    A plant or warehouse serves only the listed customers: no product that left (plant) or
    passed through (warehouse) it reaches any other customer.
``source_only_from``
    A customer receives product only from ``plant`` (directly or through warehouses).
``exclusive_pair``
    Both of the above: ``plant`` serves only ``customer`` and ``customer`` buys only from
    ``plant``.
``close_facility``
    No flow through a supplier, plant or warehouse; its fixed cost is not paid.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator, model_validator

__all__ = [
    "EDIT_KINDS",
    "Arc",
    "CloseFacility",
    "Edit",
    "ExclusivePair",
    "ForbidArc",
    "ForceArc",
    "RestrictFacility",
    "ScaleArcCost",
    "ScaleCapacity",
    "ScaleDemand",
    "ScaleNodeCost",
    "SetArcCost",
    "SetCapacity",
    "SetNodeCost",
    "SourceOnlyFrom",
    "parse_edits",
    "what_if_edits",
]

Arc = tuple[str, str]
NonNeg = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class _Edit(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def describe(self) -> str:
        """A short English description, e.g. ``"demand of c1 (dark) x 0.5"``."""
        raise NotImplementedError


class _ArcEdit(_Edit):
    arc: Arc
    product: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_to(cls, data: Any) -> Any:
        # Accept {"from": "s1", "to": "p1"} (the network file's own spelling) for ``arc``.
        if isinstance(data, Mapping) and "arc" not in data and ("from" in data or "to" in data):
            data = dict(data)
            data["arc"] = (data.pop("from", None), data.pop("to", None))
        return data

    @field_validator("arc", mode="before")
    @classmethod
    def _arc(cls, v: Any) -> Any:
        if isinstance(v, str):
            for sep in ("->", "→", ","):
                if sep in v:
                    return tuple(s.strip() for s in v.split(sep, 1))
        return v

    def _where(self) -> str:
        return f"{self.arc[0]}->{self.arc[1]}" + (f" ({self.product})" if self.product else "")


class ScaleDemand(_Edit):
    kind: Literal["scale_demand"] = "scale_demand"
    factor: NonNeg
    customer: str | None = None
    product: str | None = None

    def describe(self) -> str:
        who = self.customer or "all customers"
        return f"demand of {who}" + (f" ({self.product})" if self.product else "") + f" x {self.factor:g}"


class ScaleCapacity(_Edit):
    kind: Literal["scale_capacity"] = "scale_capacity"
    node: str
    factor: NonNeg

    def describe(self) -> str:
        return f"capacity of {self.node} x {self.factor:g}"


class SetCapacity(_Edit):
    kind: Literal["set_capacity"] = "set_capacity"
    node: str
    value: NonNeg

    def describe(self) -> str:
        return f"capacity of {self.node} = {self.value:g}"


class SetArcCost(_ArcEdit):
    kind: Literal["set_arc_cost"] = "set_arc_cost"
    value: NonNeg

    def describe(self) -> str:
        return f"cost of {self._where()} = {self.value:g} per unit"


class ScaleArcCost(_ArcEdit):
    kind: Literal["scale_arc_cost"] = "scale_arc_cost"
    factor: NonNeg

    def describe(self) -> str:
        return f"cost of {self._where()} x {self.factor:g}"


class SetNodeCost(_Edit):
    kind: Literal["set_node_cost"] = "set_node_cost"
    node: str
    value: NonNeg
    product: str | None = None

    def describe(self) -> str:
        p = f" ({self.product})" if self.product else ""
        return f"unit cost at {self.node}{p} = {self.value:g}"


class ScaleNodeCost(_Edit):
    kind: Literal["scale_node_cost"] = "scale_node_cost"
    node: str
    factor: NonNeg
    product: str | None = None

    def describe(self) -> str:
        p = f" ({self.product})" if self.product else ""
        return f"unit cost at {self.node}{p} x {self.factor:g}"


class ForbidArc(_ArcEdit):
    kind: Literal["forbid_arc"] = "forbid_arc"

    def describe(self) -> str:
        return f"no flow on {self._where()}"


class ForceArc(_ArcEdit):
    kind: Literal["force_arc"] = "force_arc"
    min_flow: NonNeg

    def describe(self) -> str:
        return f"at least {self.min_flow:g} units on {self._where()}"


class RestrictFacility(_Edit):
    kind: Literal["restrict_facility"] = "restrict_facility"
    node: str
    customers: tuple[str, ...] = Field(min_length=1)

    @field_validator("customers", mode="before")
    @classmethod
    def _one(cls, v: Any) -> Any:
        return (v,) if isinstance(v, str) else v

    def describe(self) -> str:
        return f"{self.node} serves only {', '.join(self.customers)}"


class SourceOnlyFrom(_Edit):
    kind: Literal["source_only_from"] = "source_only_from"
    customer: str
    plant: str

    def describe(self) -> str:
        return f"{self.customer} buys only from {self.plant}"


class ExclusivePair(_Edit):
    kind: Literal["exclusive_pair"] = "exclusive_pair"
    plant: str
    customer: str

    def describe(self) -> str:
        return f"{self.plant} serves only {self.customer}, and {self.customer} buys only from {self.plant}"


class CloseFacility(_Edit):
    kind: Literal["close_facility"] = "close_facility"
    node: str

    def describe(self) -> str:
        return f"{self.node} closed"


Edit = Annotated[
    ScaleDemand
    | ScaleCapacity
    | SetCapacity
    | SetArcCost
    | ScaleArcCost
    | SetNodeCost
    | ScaleNodeCost
    | ForbidArc
    | ForceArc
    | RestrictFacility
    | SourceOnlyFrom
    | ExclusivePair
    | CloseFacility,
    Field(discriminator="kind"),
]
"""Any network edit; ``kind`` selects the model."""

EDIT_KINDS: tuple[str, ...] = (
    "scale_demand",
    "scale_capacity",
    "set_capacity",
    "set_arc_cost",
    "scale_arc_cost",
    "set_node_cost",
    "scale_node_cost",
    "forbid_arc",
    "force_arc",
    "restrict_facility",
    "source_only_from",
    "exclusive_pair",
    "close_facility",
)

_ADAPTER: TypeAdapter[list[Edit]] = TypeAdapter(list[Edit])


def parse_edits(edits: Iterable[Any] | None) -> list[Edit]:
    """Edits from models or plain dicts (``{"kind": ..., ...}``), validated.

    Raises
    ------
    pydantic.ValidationError
        An unknown ``kind``, a missing or negative field, an extra field.
    """
    if edits is None:
        return []
    items = [e.model_dump() if isinstance(e, BaseModel) else e for e in edits]
    return _ADAPTER.validate_python(items)


WHAT_IF_VARIABLES: tuple[str, ...] = ("demand", "capacity")
"""The global what-if factors that mean something for a network plan."""


def what_if_edits(what_if: Mapping[str, float], network: Any, *, strict: bool = True) -> list[Edit]:
    """A global what-if (variable -> factor) as network edits: the one translation of the package.

    ``demand`` -> one :class:`ScaleDemand` of every customer and product; ``capacity`` -> a
    :class:`ScaleCapacity` of every facility (not customer) that has a capacity, in the network's
    node order.

    Parameters
    ----------
    what_if
        Variable -> multiplicative factor (a Task's ``what_if``).
    network
        Anything with ``nodes``: a mapping node name -> object with ``role`` and ``capacity``
        (a :class:`sclm.decisions.network.Network`, or the parser's view of one); needed only
        for ``capacity``.
    strict
        ``True``: a factor of another variable (price, promotion, production, ...) is an error,
        since it has no network meaning; ``False``: such factors are left out (the parser's
        evaluation, which scores the edits a plan would get).

    Raises
    ------
    ValueError
        ``capacity`` without a network or in a network with no capacity; with ``strict``, a
        variable outside :data:`WHAT_IF_VARIABLES`.
    """
    out: list[Edit] = []
    for var, factor in what_if.items():
        if var == "demand":
            out.append(ScaleDemand(factor=factor))
        elif var == "capacity":
            if network is None:
                raise ValueError(
                    "a global capacity what-if needs the network to name the nodes with a capacity"
                )
            nodes = [
                n
                for n, v in network.nodes.items()
                if getattr(v, "role", None) != "customer" and getattr(v, "capacity", None) is not None
            ]
            if not nodes:
                raise ValueError(
                    f"what-if capacity: no node of network {getattr(network, 'name', '')!r} has a capacity"
                )
            out.extend(ScaleCapacity(node=n, factor=factor) for n in nodes)
        elif strict:
            raise ValueError(
                f"what-if on {var!r} has no meaning for a network plan; use demand or capacity, "
                "or an edit (e.g. scale the cost of an arc)"
            )
    return out
