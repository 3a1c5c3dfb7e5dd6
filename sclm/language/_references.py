"""References and paths in network instructions: pronouns, why-questions about the sentence
before, flows "via" a warehouse, and the part of a sentence an operator acts on.

Used by :mod:`._network_edits`; ``ctx`` is its context (``text``, ``net``, ``ents``, ``role``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sclm.language._entities import Entities, NetworkView, NodeMention
from sclm.language._lexicon import Hit
from sclm.language._ops import Op

_SENTENCE = re.compile(r"[。！？!?；;\n]|\.(?=\s|$)")
_SPLIT = re.compile(
    r"[,，、]|(?<![a-z])(?:and|but|while|plus|also|whereas|meanwhile|then)(?![a-z])|同时|并且|而且|另外|此外|以及|然后|还有|并|且|和|及|与"
)
_COMMA = re.compile(r"[,，;；]")


@dataclass
class Clause:
    op: Op
    start: int
    end: int


_PRONOUN = re.compile(r"(?<![a-z'])(?:it|its|itself)(?![a-z'])|它的|它|(?<![尤极与])其(?![他它中余实次])")
_SEGMENT = re.compile(
    r"[,，、;；。.!?！？:：\n]|(?<![a-z])(?:and|but|while|whereas|plus|then|so)(?![a-z])|同时|并且|而且|然后|另外|此外|以及|还有|而"
)


def resolve_pronouns(text: str, ents: Entities, net: NetworkView | None) -> None:
    """Give "it" / "its" / 它 / 其 the node (or product) it stands for, as a mention at its place.

    The antecedent is the last node named before the pronoun, outside the pronoun's own segment
    (a segment ends at a comma, a full stop or a conjunction: "Kona Growers raises its prices"
    names Kona once).  When the pronoun's segment already names a node of the antecedent's role
    ("halving decaf at c2 and doubling it at c3"), the pronoun is the product named before it.
    """
    if not ents.nodes and not ents.products:
        return
    added = False
    for m in _PRONOUN.finditer(text):
        if any(n.start < m.end() and m.start() < n.end for n in ents.nodes):
            continue
        seg_start = max([0, *[b.end() for b in _SEGMENT.finditer(text, 0, m.start())]])
        nxt = _SEGMENT.search(text, m.end())
        seg_end = nxt.start() if nxt else len(text)
        before = [n for n in ents.nodes if n.end <= m.start()]
        if not before or before[-1].start >= seg_start:
            continue
        ante = before[-1]
        role = net.nodes[ante.name].role if net is not None else ante.role_hint
        here = [n for n in ents.nodes if seg_start <= n.start < seg_end]
        if here and any((net.nodes[n.name].role if net is not None else n.role_hint) == role for n in here):
            prods = [p for p in ents.products if p.end <= m.start()]
            if prods and not any(seg_start <= p.start < seg_end for p in ents.products):
                ents.products.append(Hit(m.start(), m.end(), prods[-1].label))
                ents.products.sort(key=lambda h: h.start)
            continue
        ents.nodes.append(NodeMention(m.start(), m.end(), ante.names, "pronoun", ante.role_hint))
        added = True
    if added:
        ents.nodes.sort(key=lambda n: n.start)


def previous_sentence(text: str, c: Clause, ops: list[Op]) -> Clause:
    """A why with no name of its own ("Why is that?", "这是为什么？") asks about the sentence
    before it, when that sentence changes nothing (it states the flow)."""
    ends = [m.end() for m in _SENTENCE.finditer(text, 0, c.op.start)]
    if not ends:
        return c
    cur = ends[-1]
    prev = max([0, *[e for e in ends[:-1]]])
    if any(prev <= o.start < cur for o in ops if o is not c.op):
        return c
    return Clause(c.op, prev, c.end)


# ------------------------------------------------------------------------------ paths
_VIA = re.compile(
    r"(?:(?<![a-z])(?:via|through|thru|by way of|routed through|passing through)(?![a-z])|经由|经过|途经|通过|中转|经|走)"
    r"\s*(?:the\s+|our\s+)?$"
)
_NOT_VIA = re.compile(
    r"(?:(?<![a-z])(?:rather than|instead of|not|never|without)\s+(?:going\s+|passing\s+)?(?:via|through|"
    r"by way of)?|而不是|而非|不是|不再|不走|不经过|不经|不通过)\s*(?:经过|经由|经|走|通过)?\s*(?:the\s+|our\s+)?$"
)


def negated(ctx: Any, n: NodeMention) -> bool:
    return bool(_NOT_VIA.search(ctx.text[max(0, n.start - 24) : n.start]))


def kept_nodes(ctx: Any, nodes: list[NodeMention]) -> list[NodeMention]:
    """The nodes of a flow, without those it is said not to pass ("rather than via w1")."""
    kept = [n for n in nodes if not negated(ctx, n)]
    return kept if len(kept) >= 2 or len(kept) == len(nodes) else nodes


@dataclass
class Path:
    """A flow through a warehouse: ``up -> via -> down`` (either end may be missing)."""

    up: str | None
    via: str
    down: str | None

    def legs(self) -> list[tuple[str, str]]:
        out = [(self.up, self.via)] if self.up else []
        return out + ([(self.via, self.down)] if self.down else [])

    def last_leg(self) -> tuple[str, str]:
        return (self.via, self.down) if self.down else (self.up, self.via)  # type: ignore[return-value]


def find_path(ctx: Any, nodes: list[NodeMention]) -> Path | None:
    """ "p1 to c2 via w1" / "从p1经w1送到c2": the path through the node after via / 经 (with a
    network, so the legs are arcs).  A why or a ban removes its last leg (w1 -> c2: c2 is no
    longer served through w1); a minimum forces both legs."""
    if ctx.net is None:
        return None
    nodes = [n for n in nodes if not negated(ctx, n)]
    via = [n for n in nodes if _VIA.search(ctx.text[max(0, n.start - 18) : n.start])]
    if not via or len(nodes) < 2:
        return None
    w = via[0].name
    others = [n.name for n in nodes if n.name != w]
    down = next((x for x in others if ctx.net.has_arc(w, x)), None)
    up = next((x for x in others if ctx.net.has_arc(x, w)), None)
    if down is None and up is None:
        return None
    return Path(up, w, down)


def split_part_nodes(ctx: Any, c: Clause, nodes: list[NodeMention]) -> list[NodeMention]:
    """The nodes between the conjunctions around the op ("stop buying from s3 | and buy from s2")."""
    text = ctx.text
    cuts = [c.start, *[m.start() for m in _SPLIT.finditer(text, c.start, c.end)], c.end]
    lo = max(x for x in cuts if x <= c.op.start)
    hi = min(x for x in cuts if x > c.op.start)
    return [n for n in nodes if lo <= n.start < hi]


def segment_nodes(ctx: Any, c: Clause, nodes: list[NodeMention]) -> list[NodeMention]:
    """The nodes an operator acts on: those in its comma-segment, with the list items around it
    ("close w1, w2 and w3"); all of the clause's nodes when its segment names none ("从p1到c2，
    不要再发货了")."""
    if len(nodes) < 2:
        return nodes
    text = ctx.text
    cuts = [c.start, *[m.end() for m in _COMMA.finditer(text, c.start, c.end)], c.end]
    segs = list(zip(cuts[:-1], cuts[1:], strict=True))
    k = next((i for i, (a, b) in enumerate(segs) if a <= c.op.start < b), 0)
    lo = hi = k

    def starts_with_node(i: int) -> bool:
        a, b = segs[i]
        lead = re.match(r"\s*(?:and\s+|or\s+|和|及|与|或)?(?:the\s+)?", text[a:b])
        first = a + (lead.end() if lead else 0)
        return any(n.start == first for n in nodes)

    while hi + 1 < len(segs) and starts_with_node(hi + 1):
        hi += 1
    while lo > 0 and starts_with_node(lo):
        lo -= 1
    a, b = segs[lo][0], segs[hi][1]
    mine = [n for n in nodes if a <= n.start < b]
    return mine or nodes
