"""Operators + the names around them -> network edits (:mod:`sclm.decisions.edits`) and global
what-if factors.

Each operator (:mod:`._ops`) acts on the mentions in its *clause*: the part of its sentence
between the previous operator and the next one, cut at a comma or a conjunction (and, 同时,
且, ...) when one lies between them.  Within the clause, the changed attribute is the attribute
or variable word nearest the operator (``需求增加20%``: demand; ``increase capacity at all plants
by 10%``: capacity), and the nodes, products and role groups in the clause say where it applies.

Rules (a *facility* is a supplier, plant or warehouse):

* a cost with two nodes -> the arc between them (``scale_arc_cost`` / ``set_arc_cost``); with
  one node -> that node's cost (``scale_node_cost`` / ``set_node_cost``); with a role group or a
  kind of cost and no node (``所有工厂的加工成本``, ``shipping costs``) -> every such node or arc;
* capacity or supply (产能, 供应, "can only deliver half") of facilities -> ``scale_capacity`` /
  ``set_capacity`` on each; a node's production, shipments or deliveries are its capacity; a
  facility with a factor and no attribute (``s3 -50%``) too; with no node -> global what-if
  ``capacity`` (a role group -> each of its nodes, e.g. "all plants");
* demand (orders, sales) of customers and/or a product -> ``scale_demand``; of every customer
  and product -> global what-if ``demand``; a customer with a factor and no attribute (``c1
  +30%``) too; a new demand level becomes the factor new / old from the network file;
* price, promotion, production, inventory, shipments (logistics) and deliveries with no node
  -> global what-if factors;
* close: one facility -> ``close_facility`` (a customer -> ``scale_demand`` x 0); two nodes ->
  ``forbid_arc``; forbid: two nodes -> ``forbid_arc`` (one facility -> ``close_facility``);
  force: two nodes -> ``force_arc``; restrict -> ``restrict_facility``; source -> ``source_only_from``;
  a restriction and a sourcing rule on the same plant and customer -> ``exclusive_pair``;
* why: two nodes -> ``forbid_arc`` (the flow we ask about, removed); one facility ->
  ``close_facility``; these edits come last (the others are the scenario of the question);
* a path "p1 to c2 via w1": why / forbid -> ``forbid_arc(w1, c2)``, force -> both legs;
* pronouns and why-questions without names refer back (see :func:`._references.resolve_pronouns`,
  :func:`._references.previous_sentence`); absolute changes of demand and costs use the network's numbers
  (:func:`_delta`).

Arcs are oriented by the network (``c3 gets dark from p2`` is the arc p2->c3); without a
network, by ``from``/``从``/``by``/``由`` (the node after it is upstream) or mention order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sclm.decisions.edits import (
    CloseFacility,
    ExclusivePair,
    ForbidArc,
    ForceArc,
    RestrictFacility,
    ScaleArcCost,
    ScaleCapacity,
    ScaleDemand,
    ScaleNodeCost,
    SetArcCost,
    SetCapacity,
    SetNodeCost,
    SourceOnlyFrom,
)
from sclm.language._entities import Entities, NetworkView, NodeMention
from sclm.language._lexicon import ROLE_ORDER, Hit
from sclm.language._ops import Op, resolve_pending
from sclm.language._references import (
    _COMMA,
    _SENTENCE,
    _SPLIT,
    Clause,
    find_path,
    kept_nodes,
    previous_sentence,
    resolve_pronouns,
    segment_nodes,
    split_part_nodes,
)

_MAIN_CLAUSE = re.compile(
    r"[,，;；:：](?=\s*(?:那么|那|会|还|请|帮|方案|网络|整个|成本|总成本|预测|规划|看看|是否|能否|怎么|怎样|如何|要怎么|该|"
    r"(?:how|what|which|will|would|does|do|did|can|could|should|then|so|tell me|show me|please|plan|forecast|predict|"
    r"is that|is it|are we|what's)(?![a-z])))"
)
_QUESTION = re.compile(
    r"怎么办|怎么|怎样|如何|多少|吗|呢|会不会|(?<![a-z])(?:how|what|which|who|when|why|will|would)(?![a-z])"
)
_IF = re.compile(
    r"如果|假如|假设|若|要是|万一|倘若|(?<![a-z])(?:if|suppose|assuming|assume|what if|imagine)(?![a-z])"
)
_FROM = re.compile(r"(?<![a-z])(?:from|by|out of|via)(?![a-z])|从|由|自")
_FACILITY = ("supplier", "plant", "warehouse")
_LIST_SEP = re.compile(
    r"\s*(?:,|，|、|/|和|及|与|或|或者|以及|(?<![a-z])(?:and|or|as well as|plus|&)(?![a-z]))\s*(?:the\s+)?"
)


@dataclass
class Built:
    """What the operators say: edits (in mention order), global factors, the variable hits
    they used as subjects, whether a why question about a flow was asked."""

    edits: list[Any] = field(default_factory=list)
    what_if: dict[str, float] = field(default_factory=dict)
    used: set[tuple[int, int]] = field(default_factory=set)
    why: bool = False
    why_plain: bool = False  # a why with no node: a question about the forecast
    problems: list[Exception] = field(default_factory=list)  # changes no edit can express
    asked: list[Any] = field(default_factory=list)  # the edits that remove the questioned flow
    last_customer: tuple[int, str] | None = None  # (sentence start, customer) of the last demand edit
    last_product: tuple[int, str] | None = None  # (sentence start, product) of the last demand delta


def clauses(text: str, ops: list[Op]) -> list[Clause]:
    """The clause of each operator (see the module docstring)."""
    bounds = [0] + [m.end() for m in _SENTENCE.finditer(text)] + [len(text)]
    out: list[Clause] = []
    for s, e in zip(bounds[:-1], bounds[1:], strict=True):
        inside = [o for o in ops if s <= o.start < e]
        cuts = [s]
        for a, b in zip(inside[:-1], inside[1:], strict=True):
            seps = [m for m in _SPLIT.finditer(text, a.end, b.start)]
            ifs = [m for m in _IF.finditer(text, a.end, b.start)]
            if ifs:
                cuts.append(ifs[-1].start())
            elif seps:
                cuts.append(seps[-1].end())
            else:
                cuts.append(a.end)
        cuts.append(e)
        # a comma before a question or a main clause ("..., how do c1 and c2 get supplied?",
        # "...，整个网络成本会怎样") ends the change: its names and words are not the change's
        mains = [m.start() for m in _MAIN_CLAUSE.finditer(text, s, e)]
        for i, o in enumerate(inside):
            lo, hi = cuts[i], cuts[i + 1]
            lo = max([lo, *[m + 1 for m in mains if m < o.start]])
            hi = min([hi, *[m for m in mains if m >= o.end]])
            # "如果w1停了，c1怎么办": a question after the change is about its consequence
            for m in _COMMA.finditer(text, o.end, hi):
                nxt = _COMMA.search(text, m.end(), hi)
                seg_end = nxt.start() if nxt else hi
                if _QUESTION.search(text, m.end(), seg_end) and not any(
                    m.end() <= p.start < seg_end for p in ops
                ):
                    hi = m.start()
                    break
            out.append(Clause(o, lo, hi))
    return out


class _Ctx:
    def __init__(
        self, text: str, ents: Entities, net: NetworkView | None, errors: type, unknown: type
    ) -> None:
        self.text, self.ents, self.net, self.errors, self.unknown = text, ents, net, errors, unknown

    def role(self, n: NodeMention) -> str | None:
        if self.net is not None:
            return self.net.nodes[n.name].role
        return n.role_hint

    def nodes(self, c: Clause) -> list[NodeMention]:
        out: list[NodeMention] = []
        for n in self.ents.nodes:  # a node named twice ("w1 ... it") is one node
            if c.start <= n.start < c.end and all(m.names != n.names for m in out):
                out.append(n)
        return out

    def products(self, c: Clause) -> list[str]:
        return [p.label for p in self.ents.products if c.start <= p.start < c.end]

    def groups(self, c: Clause) -> list[Hit]:
        return [g for g in self.ents.groups if c.start <= g.start < c.end]

    def members(self, role: str, *, capacity: bool = False) -> list[str]:
        if self.net is None:
            return []
        names = self.net.role(role)
        if capacity:
            with_cap = [n for n in names if self.net.nodes[n].has_capacity]
            return with_cap or names
        return names

    # ---------------------------------------------------------------- arcs
    def orient(self, a: NodeMention, b: NodeMention) -> tuple[str, str] | None:
        if self.net is not None:
            if self.net.has_arc(a.name, b.name):
                return (a.name, b.name)
            if self.net.has_arc(b.name, a.name):
                return (b.name, a.name)
            return None
        ra, rb = self.role(a), self.role(b)
        if ra and rb and ra != rb:
            return (a.name, b.name) if ROLE_ORDER[ra] < ROLE_ORDER[rb] else (b.name, a.name)
        if _FROM.search(self.text, a.end, b.start) and not _FROM.search(
            self.text, max(0, a.start - 4), a.start
        ):
            return (b.name, a.name)
        return (a.name, b.name)

    def arcs(self, nodes: list[NodeMention], *, strict: bool = True) -> list[tuple[str, str]]:
        """Arcs between the nodes of a clause (pairs in mention order that are arcs)."""
        if len(nodes) < 2:
            return []
        if self.net is None:
            arc = self.orient(nodes[0], nodes[1])
            return [arc] if arc else []
        out: list[tuple[str, str]] = []
        for i, a in enumerate(nodes):
            for b in nodes[i + 1 :]:
                arc = self.orient(a, b)
                if arc and arc not in out:
                    out.append(arc)
        if not out and strict:
            a, b = nodes[0].name, nodes[1].name
            arcs = self.net.arcs

            def show(xs: list[tuple[str, str]]) -> str:
                return ", ".join(f"{x}->{y}" for x, y in xs) or "none"

            raise self.unknown(
                f"unknown arc {a}->{b} (or {b}->{a}) in network {self.net.name!r}; "
                f"arcs out of {a}: {show([x for x in arcs if x[0] == a])}; "
                f"arcs into {b}: {show([x for x in arcs if x[1] == b])}"
            )
        return out


def build(
    text: str,
    ops: list[Op],
    ents: Entities,
    subjects: list[Hit],
    net: NetworkView | None,
    *,
    errors: type,
    unknown: type,
) -> Built:
    """Edits and global factors for ``ops`` (see the module docstring).

    ``subjects`` are attribute and variable hits (label = "demand", "cost:transport", ...).
    """
    resolve_pronouns(text, ents, net)
    ctx = _Ctx(text, ents, net, errors, unknown)
    out = Built()
    # structural words with no node around them ("能不能", "drop" in "shipments drop 20%") are no
    # operators: drop them and cut the clauses again
    for _ in range(3):
        kept = [
            c.op
            for c in clauses(text, ops)
            if c.op.kind in ("factor", "set", "why", "delta")
            or len(ctx.nodes(c)) >= (2 if c.op.kind in ("restrict", "source", "exclusive", "force") else 1)
            or (c.op.kind == "close" and ctx.groups(c))
        ]
        if len(kept) == len(ops):
            break
        ops = kept
    for c in clauses(text, ops):
        op = c.op
        if op.kind in ("why", "why_not") and not ctx.nodes(c):
            c = previous_sentence(text, c, ops)  # "We ship decaf from w1 to c3. Why is that?"
        if op.pending:
            resolved = resolve_pending(op, text[c.start : op.start])
            if resolved is None:
                continue
            op = resolved
        nodes = ctx.nodes(c)
        if not nodes and op.kind == "set" and op.implied == "capacity":
            nodes = _free_node_before(ctx, op, out)  # "改为从s2多买，买到250": s2's capacity
        if op.kind == "delta":
            _delta(ctx, c, op, nodes, subjects, out)
            continue
        if op.kind in ("factor", "set"):
            try:
                _change(ctx, c, op, nodes, subjects, out)
            except unknown:
                raise
            except errors as exc:  # a change no edit can say: an error unless the task only observes it
                out.problems.append(exc)
            continue
        if not nodes and net is None and op.kind == "close" and ctx.groups(c):
            g = ctx.groups(c)[0]
            raise errors(
                f"{text[c.start : c.end].strip()!r}: which {g.label}? Name it as the network does (e.g. w1), "
                "or pass the network (parse_instruction(text, network)) to resolve cities, labels and numbers"
            )
        if op.kind == "why":
            _why(ctx, c, nodes, out)
        elif op.kind == "why_not":
            _why_not(ctx, c, nodes, out)
        elif op.kind == "close":
            _close(ctx, c, nodes, out, forbid=False)
        elif op.kind == "forbid":
            _close(ctx, c, nodes, out, forbid=True)
        elif op.kind == "force":
            route = find_path(ctx, nodes)
            arcs = route.legs() if route is not None else ctx.arcs(kept_nodes(ctx, nodes))
            for arc in arcs:
                out.edits.append(ForceArc(arc=arc, min_flow=op.value or 0.0, product=_first(ctx.products(c))))
        elif op.kind in ("restrict", "source", "exclusive"):
            _pairing(ctx, c, op, nodes, out)
    # the questioned flow comes last: the edits before it are the scenario both plans share
    out.edits = _merge_exclusive([e for e in out.edits if e not in out.asked] + out.asked)
    return out


def _free_node_before(ctx: _Ctx, op: Op, out: Built) -> list[NodeMention]:
    """The last facility named before ``op`` in its sentence that no edit so far acts on."""
    start = _sentence_start(ctx.text, op.start)
    named = {v for e in out.edits for v in e.model_dump().values() if isinstance(v, str)}
    before = [n for n in ctx.ents.nodes if start <= n.start < op.start and ctx.role(n) != "customer"]
    return [before[-1]] if before and before[-1].name not in named else []


def _first(xs: list[str]) -> str | None:
    return xs[0] if xs else None


def _arc_intent(ctx: _Ctx, nodes: list[NodeMention]) -> bool:
    """Whether two or more nodes name a flow between them rather than a list ("w1 and w2")."""
    roles = {ctx.role(n) for n in nodes}
    if len(roles) > 1 and None not in roles:
        return True
    gaps = [ctx.text[a.end : b.start] for a, b in zip(nodes[:-1], nodes[1:], strict=True)]
    return not all(_LIST_SEP.fullmatch(g) for g in gaps)


def _why(ctx: _Ctx, c: Clause, nodes: list[NodeMention], out: Built) -> None:
    if not nodes:
        out.why_plain = True
        return
    route = find_path(ctx, nodes)
    if route is not None:
        _ask(out, ForbidArc(arc=route.last_leg(), product=_first(ctx.products(c))))
        return
    nodes = kept_nodes(ctx, nodes)
    if len(nodes) >= 2 and _arc_intent(ctx, nodes):
        arcs = ctx.arcs(nodes)
        _ask(out, ForbidArc(arc=arcs[0], product=_first(ctx.products(c))))
        return
    facilities = [n.name for n in nodes if ctx.role(n) != "customer"]
    if not facilities:
        out.why_plain = True  # "why is c1's demand rising": a question about the forecast
        return
    for n in dict.fromkeys(facilities):
        _ask(out, CloseFacility(node=n))


def _ask(out: Built, edit: Any) -> None:
    out.edits.append(edit)
    out.asked.append(edit)
    out.why = True


def _why_not(ctx: _Ctx, c: Clause, nodes: list[NodeMention], out: Built) -> None:
    """ "Why don't we ship from p1 to c1?": the plan that uses the flow (at least one unit)."""
    if len(nodes) >= 2:
        route = find_path(ctx, nodes)
        arc = route.last_leg() if route is not None else ctx.arcs(kept_nodes(ctx, nodes))[0]
        out.edits.append(ForceArc(arc=arc, min_flow=1.0, product=_first(ctx.products(c))))
        return
    if nodes:
        raise ctx.errors(
            f"{ctx.text[c.start : c.end].strip()!r}: a why-not question about a node is not supported; ask about "
            f"a flow (e.g. 'why don't we ship from {nodes[0].name} to ...') or what happens if it must ship some units"
        )
    out.why_plain = True


_EVERY_BEFORE = re.compile(
    r"(?:所有|全部|每|各|两个|两家|两座|两|三个|三家|三座|这些|(?<![a-z])(?:all|every|each|both|the two|the three|"
    r"all the|all of the|both of the|both the)(?![a-z]))(?:的)?\s*(?:the\s+|our\s+)?$"
)
_EVERY_AFTER = re.compile(r"^\s*(?:都|全都|全部|统统|一律|(?<![a-z])(?:all|both)(?![a-z]))")
_ORDERING = re.compile(
    r"订购|订货|订|要货|进货|采购|购买|买|卖|销售|上架|(?<![a-z])(?:order|orders|ordering|ordered|buy|buys|buying|"
    r"purchas\w*|take|takes|taking|want|wants|need|needs|sell|sells|selling|stock|stocks|stocking|carry|carries|"
    r"carrying|offer|offers|offering)(?![a-z])"
)


def _close(ctx: _Ctx, c: Clause, nodes: list[NodeMention], out: Built, *, forbid: bool) -> None:
    route = find_path(ctx, nodes) if forbid else None
    if route is not None:
        out.edits.append(ForbidArc(arc=route.last_leg(), product=_first(ctx.products(c))))
        return
    nodes = segment_nodes(ctx, c, nodes)
    if len(nodes) >= 2 and _arc_intent(ctx, nodes) and not ctx.arcs(kept_nodes(ctx, nodes), strict=False):
        # no flow between them: the op acts on the nodes of its own part of the sentence
        # ("stop buying from s3 and buy more from s2")
        own = split_part_nodes(ctx, c, nodes)
        if own and len(own) < len(nodes):
            nodes = own
    if len(nodes) >= 2 and _arc_intent(ctx, nodes):
        arcs = ctx.arcs(kept_nodes(ctx, nodes), strict=True)
        prod = _first(ctx.products(c))
        out.edits.extend(ForbidArc(arc=a, product=prod) for a in arcs[:1])
        return
    targets = [n.name for n in nodes]
    if not targets and not forbid:
        for g in ctx.groups(c):
            if g.label in _FACILITY and (
                _EVERY_BEFORE.search(ctx.text[max(0, g.start - 16) : g.start])
                or _EVERY_AFTER.match(ctx.text[g.end : g.end + 6])
            ):
                targets += ctx.members(g.label)
    for name in dict.fromkeys(targets):
        role = ctx.net.nodes[name].role if ctx.net is not None else None
        if role == "customer":
            # a customer that closes buys nothing; one that stops ordering a product buys none of it
            if not forbid or _ORDERING.search(ctx.text, c.start, c.end):
                out.edits.append(ScaleDemand(customer=name, product=_first(ctx.products(c)), factor=0.0))
            continue
        out.edits.append(CloseFacility(node=name))


def _pairing(ctx: _Ctx, c: Clause, op: Op, nodes: list[NodeMention], out: Built) -> None:
    if op.only_before is not None:
        # "only p2 may supply c4" / "只有p2能给c4供货": the node right after "only" is the source
        after = [n for n in nodes if n.start >= op.only_before and n.start - op.only_before <= 12]
        if not after or len(nodes) < 2:
            return
    if len(nodes) < 2:
        return
    roles = {n.name: ctx.role(n) for n in nodes}
    custs = [n.name for n in nodes if roles[n.name] == "customer"]
    facs = [n.name for n in nodes if roles[n.name] in _FACILITY]
    if ctx.net is None:  # roles unknown: grammar decides
        if op.kind == "source" and op.only_before is None:
            before = [n.name for n in nodes if n.start < op.start]
            after_op = [n.name for n in nodes if n.start >= op.end]
            custs, facs = (before[:1], after_op[:1]) if before and after_op else (custs, facs)
        elif not custs or not facs:
            first = [n.name for n in nodes if n.start >= (op.only_before or 0)] if op.only_before else []
            fac = first[0] if first else nodes[0].name
            facs = [fac]
            custs = [n.name for n in nodes if n.name != fac]
    if not custs or not facs:
        raise ctx.errors(
            f"{ctx.text[c.start : c.end].strip()!r}: a restriction needs a plant or warehouse and a customer "
            f"(found {', '.join(f'{k} ({v})' for k, v in roles.items())})"
        )
    fac = facs[0]
    if op.kind == "restrict" and op.only_before is None:
        if roles.get(fac) == "supplier":
            raise ctx.errors(
                f"{fac} is a supplier: only a plant or a warehouse can be restricted to customers"
            )
        out.edits.append(RestrictFacility(node=fac, customers=tuple(custs)))
        return
    if roles.get(fac) not in (None, "plant"):
        raise ctx.errors(
            f"{fac} is a {roles[fac]}: a customer can be sourced only from a plant "
            f"(plants: {', '.join(ctx.members('plant')) or 'none'})"
        )
    if op.kind == "exclusive":
        out.edits.append(ExclusivePair(plant=fac, customer=custs[0]))
    else:
        out.edits.extend(SourceOnlyFrom(customer=cu, plant=fac) for cu in custs)


def _merge_exclusive(edits: list[Any]) -> list[Any]:
    """restrict(P, [C]) + source_only_from(C, P) -> exclusive_pair(P, C); duplicates dropped."""
    out: list[Any] = []
    for e in edits:
        if e in out:
            continue
        out.append(e)
    for i, e in enumerate(list(out)):
        if isinstance(e, RestrictFacility) and len(e.customers) == 1:
            for j, f in enumerate(out):
                if isinstance(f, SourceOnlyFrom) and f.plant == e.node and f.customer == e.customers[0]:
                    out[i] = ExclusivePair(plant=e.node, customer=f.customer)
                    out[j] = None
    return [e for e in out if e is not None]


# ------------------------------------------------------------------------------ factor / set
def _subject(c: Clause, op: Op, subjects: list[Hit]) -> Hit | None:
    best: tuple[float, Hit] | None = None
    for h in subjects:
        if not (c.start <= h.start < c.end):
            continue
        if h.end <= op.start:
            d = op.start - h.end
        elif h.start >= op.end:
            d = h.start - op.end + 3
        else:
            d = 0  # inside the operator ("只能供应一半")
        if best is None or d < best[0]:
            best = (d, h)
    return best[1] if best else None


_WHOLE = re.compile(
    r"所有|全部|整体|总体|全面|全国|各|每|(?<![a-z])(?:all|every|each|overall|everywhere|across|total|network-wide|"
    r"company-wide|globally|in general)(?![a-z])"
)


def _sentence_start(text: str, pos: int) -> int:
    return max([0, *[m.end() for m in _SENTENCE.finditer(text, 0, pos)]])


def _change(ctx: _Ctx, c: Clause, op: Op, nodes: list[NodeMention], subjects: list[Hit], out: Built) -> None:
    subj = _subject(c, op, subjects)
    kind = op.implied or (subj.label if subj else None)
    if kind == "price" and nodes and ctx.net is not None and all(ctx.role(n) != "customer" for n in nodes):
        kind = "cost"  # a supplier's (plant's, warehouse's) price is what we pay it per unit
    if subj is not None and not op.implied:
        out.used.add(subj.span)
    prod = _first(ctx.products(c))
    groups = ctx.groups(c)
    roles = {n.name: ctx.role(n) for n in nodes}
    # without a network a node's role is unknown: a demand change names customers, others facilities
    demandish = kind == "demand"
    custs = [n.name for n in nodes if roles[n.name] == "customer" or (roles[n.name] is None and demandish)]
    facs = [n.name for n in nodes if roles[n.name] in _FACILITY or (roles[n.name] is None and not demandish)]
    is_set = op.kind == "set"
    f, v = op.factor, op.value
    what = ctx.text[c.start : c.end].strip()

    if kind is not None and kind.startswith("cost"):
        sub = kind.split(":", 1)[1] if ":" in kind else None
        arcs = ctx.arcs(nodes) if len(nodes) >= 2 and _arc_intent(ctx, nodes) else []
        if arcs:
            for a in arcs:
                out.edits.append(
                    SetArcCost(arc=a, value=v, product=prod)
                    if is_set
                    else ScaleArcCost(arc=a, factor=f, product=prod)
                )
            return
        names = [n.name for n in nodes]
        if not names:
            for g in groups:
                names += [x for x in ctx.members(g.label) if x not in names]
        if not names and ctx.net is not None:
            role = {"processing": "plant", "handling": "warehouse", "purchase": "supplier"}.get(sub or "")
            if role:
                names = ctx.members(role)
            elif sub == "transport":
                for a in ctx.net.arcs:
                    out.edits.append(
                        SetArcCost(arc=a, value=v, product=prod)
                        if is_set
                        else ScaleArcCost(arc=a, factor=f, product=prod)
                    )
                return
        if not names:
            raise ctx.errors(
                f"{what!r}: say whose cost changes (an arc such as s1->p1, or a node such as p1)"
            )
        for n in names:
            # a supplier sells raw material, not the products: "the farm's milk costs 0.9" is its cost
            p_n = None if ctx.net is not None and ctx.net.nodes[n].role == "supplier" else prod
            out.edits.append(
                SetNodeCost(node=n, value=v, product=p_n)
                if is_set
                else ScaleNodeCost(node=n, factor=f, product=p_n)
            )
        return

    if kind in ("price", "promotion"):
        if nodes:
            raise ctx.errors(f"{what!r}: a {kind} change applies to the whole {kind}, not to a node")
        if is_set:
            raise ctx.errors(f"{what!r}: give a {kind} change as a percentage or a factor, not a new level")
        out.what_if[kind] = f  # type: ignore[assignment]
        return

    cust_groups = [g for g in groups if g.label == "customer"]
    fac_groups = [g for g in groups if g.label in _FACILITY]
    capacity_like = (
        kind in ("capacity", "supply")
        or (kind in ("production", "logistics", "delivery") and bool(facs) and not custs)
        or (kind is None and (facs or fac_groups) and not custs)
    )
    if capacity_like:
        names = list(facs)
        if not names:
            for g in fac_groups:
                names += [x for x in ctx.members(g.label, capacity=True) if x not in names]
        if not names:
            if is_set:
                return  # a parameter with no node ("车辆容量为100"): not a network change
            if fac_groups and ctx.net is None:
                out.what_if["capacity"] = f  # type: ignore[assignment]
                return
            out.what_if["capacity"] = f  # type: ignore[assignment]
            return
        for n in names:
            out.edits.append(SetCapacity(node=n, value=v) if is_set else ScaleCapacity(node=n, factor=f))
        return

    demand_like = (
        kind == "demand"
        or bool(custs)
        or bool(cust_groups)
        or (kind in ("logistics", "delivery") and bool(custs))
        or (kind is None and prod is not None)
    )
    if demand_like and op.implied == "demand" and is_set and not custs:
        return  # "门店需要一个补货策略": a need, not a new demand level
    if demand_like:
        if (
            not custs
            and not cust_groups
            and prod is not None
            and out.last_customer is not None
            and out.last_customer[0] == _sentence_start(ctx.text, c.start)
            and not _WHOLE.search(ctx.text, c.start, c.end)
        ):
            custs = [out.last_customer[1]]  # "c3的深烘需求增加20%，拼配需求下降10%": still c3
        all_customers = not custs and bool(cust_groups)
        targets: list[str | None] = list(custs) if custs else [None]
        if is_set:
            factors = [_demand_factor(ctx, cu, prod, v, what) for cu in targets]
        else:
            factors = [f] * len(targets)
        if targets == [None] and prod is None:
            if is_set:
                raise ctx.errors(
                    f"{what!r}: give a demand change as a percentage or a factor, or name the customer"
                )
            out.what_if["demand"] = f  # type: ignore[assignment]
            return
        del all_customers
        for cu, fa in zip(targets, factors, strict=True):
            out.edits.append(ScaleDemand(customer=cu, product=prod, factor=fa))
        if len(custs) == 1:
            out.last_customer = (_sentence_start(ctx.text, c.start), custs[0])
        return

    if kind in ("production", "inventory", "logistics", "delivery"):
        if is_set:
            return
        if nodes:
            raise ctx.errors(
                f"{what!r}: a change of {kind} at a node is not a network edit; supported: "
                "demand of customers, capacity and costs of nodes and arcs"
            )
        out.what_if[kind] = f  # type: ignore[assignment]
        return
    if is_set:
        return
    raise ctx.errors(f"{what!r}: say what changes (demand, capacity, a cost, price, promotion, ...)")


_EVERY_PRODUCT = re.compile(
    r"每种|每样|每个产品|各种|各个产品|所有产品|各产品|每款|(?<![a-z])(?:every|each|all)\s+(?:of\s+the\s+)?"
    r"(?:products?|items?|skus?|lines?|blends?|kinds?|types?)(?![a-z])|(?<![a-z])(?:of\s+)?each(?![a-z])"
)


# "2 more days", "one more truck", "3天": an absolute change of something that is no network quantity
_NOT_A_QUANTITY = re.compile(
    r"\s*(?:of\s+)?(?:days?|weeks?|months?|hours?|years?|vehicles?|trucks?|vans?|drivers?|shifts?|"
    r"天|日|周|星期|个月|月|小时|年|辆|台车|司机|班)"
)


def _delta(ctx: _Ctx, c: Clause, op: Op, nodes: list[NodeMention], subjects: list[Hit], out: Built) -> None:
    """An absolute change where the network gives the old value: p1的产能增加20 ->
    ``set_capacity(p1, 220)``; "c1 needs 10 more dark" -> the demand factor (20 + 10) / 20 ("10
    more of every product": one factor per product; no product: of the customer's total); "the
    cost at p1 rises by 1 per unit" -> each of p1's costs + 1 (``set_node_cost``, an arc's with
    two nodes: ``set_arc_cost``).  Anything else (a vehicle more, 2 more days) is not a network
    change.  An absolute change of a variable that no network number turns into a new value
    ("demand rises by 100 units" with no node named, or a named node without the network) is a
    problem: refused with what is supported, never silently left out."""
    if op.value is None:
        return
    subj = _subject(c, op, subjects)
    kind = subj.label if subj else None
    if ctx.net is None or not nodes:
        if (kind is not None or nodes) and not _NOT_A_QUANTITY.match(ctx.text, op.end):
            what = ctx.text[c.start : c.end].strip()
            if nodes:  # named, but no network gives the old value
                hint = "pass the network (parse_instruction(text, network)) so the old value is known"
            elif ctx.net is not None:
                hint = "name the node it applies to"
            else:
                hint = "name the node it applies to and pass the network"
            out.problems.append(
                ctx.errors(
                    f"{what!r}: an absolute change of {kind or 'a value'} needs its old value; "
                    f"give a percentage or a factor (e.g. +20%, x1.5), or {hint}"
                )
            )
        return
    prod = _first(ctx.products(c))
    here = _sentence_start(ctx.text, c.start)
    if prod is None and kind is None and out.last_product is not None and out.last_product[0] == here:
        prod = out.last_product[1]  # "c2 gets 5 fewer dark and c3 gets 5 more": dark at c3 too
    if prod is not None:
        out.last_product = (here, prod)
    if kind is not None and (kind.startswith("cost") or kind == "price"):
        _cost_delta(ctx, nodes, op.value, prod, out)
        if subj is not None:
            out.used.add(subj.span)
        return
    for n in nodes:
        info = ctx.net.nodes[n.name]
        if (
            info.role != "customer"
            and kind in (None, "capacity", "supply", "production")
            and info.capacity is not None
        ):
            out.edits.append(SetCapacity(node=n.name, value=max(0.0, info.capacity + op.value)))
        elif info.role == "customer" and kind in (None, "demand"):
            dem = {k: float(v) for k, v in info.demand.items() if v}
            if prod is not None:
                if dem.get(prod):
                    out.edits.append(
                        ScaleDemand(
                            customer=n.name, product=prod, factor=max(0.0, (dem[prod] + op.value) / dem[prod])
                        )
                    )
            elif _EVERY_PRODUCT.search(ctx.text, c.start, c.end) or len(set(dem.values())) == 1:
                if len(set(dem.values())) == 1:  # the same demand of every product: one factor
                    base = next(iter(dem.values()))
                    out.edits.append(ScaleDemand(customer=n.name, factor=max(0.0, (base + op.value) / base)))
                else:
                    out.edits.extend(
                        ScaleDemand(customer=n.name, product=k, factor=max(0.0, (q + op.value) / q))
                        for k, q in dem.items()
                    )
            elif dem:
                total = sum(dem.values())
                out.edits.append(ScaleDemand(customer=n.name, factor=max(0.0, (total + op.value) / total)))
        if subj is not None:
            out.used.add(subj.span)


def _cost_delta(ctx: _Ctx, nodes: list[NodeMention], d: float, prod: str | None, out: Built) -> None:
    net = ctx.net
    assert net is not None
    arcs = ctx.arcs(nodes, strict=False) if len(nodes) >= 2 and _arc_intent(ctx, nodes) else []
    if arcs:
        for a in arcs:
            costs = net.arc_costs.get(a, {})
            _set_costs(out, costs, prod, d, lambda v, k, a=a: SetArcCost(arc=a, value=v, product=k))
        return
    for n in nodes:
        costs = net.nodes[n.name].cost
        _set_costs(out, costs, prod, d, lambda v, k, n=n: SetNodeCost(node=n.name, value=v, product=k))


def _set_costs(out: Built, costs: dict[str, float], prod: str | None, d: float, make: Any) -> None:
    """New costs = old + d: one edit when every product costs the same, else one per product."""
    if prod is not None:
        if prod in costs:
            out.edits.append(make(max(0.0, costs[prod] + d), prod))
        return
    if not costs:
        return
    if len(set(costs.values())) == 1:
        out.edits.append(make(max(0.0, next(iter(costs.values())) + d), None))
        return
    out.edits.extend(make(max(0.0, v + d), k) for k, v in costs.items() if k != "raw")


def _demand_factor(
    ctx: _Ctx, customer: str | None, product: str | None, value: float | None, what: str
) -> float:
    if ctx.net is None or customer is None or value is None:
        raise ctx.errors(f"{what!r}: give a demand change as a percentage or a factor")
    dem = {k: float(v) for k, v in ctx.net.nodes[customer].demand.items() if v}
    if product:
        base = dem.get(product)
    elif len(set(dem.values())) == 1:
        base = next(iter(dem.values()))  # "c1's demand is 30": 30 of each product
    else:
        base = sum(dem.values()) or None  # demand differs by product: the new total
    if not base:
        raise ctx.errors(f"{what!r}: {customer} has no demand{f' for {product}' if product else ''} to scale")
    return value / float(base)
