"""Instructions in Chinese or English -> a validated :class:`Task`, offline.

>>> parse_instruction("基于历史销售数据、库存数据，预测未来销售需求")  # doctest: +SKIP
Task(action='forecast', scenario=None, targets=['demand'], inputs=['demand', 'inventory'], ...)

The parser is a lexicon and a few dozen regular expressions (no model, no network access, no
word segmenter): :mod:`._lexicon` holds the word tables, :mod:`._numbers` numerals and horizons,
:mod:`._entities` network names, :mod:`._ops` change operators, :mod:`._network_edits` what they
do to a network.  It takes well under a millisecond per instruction.

Rules
-----
Language
    ``zh`` when the text holds a CJK character, else ``en``.
Action
    Every cue word has a weight (:data:`~._lexicon.ACTION_CUES`); the heaviest wins, ties go to
    plan_routes > plan_production > plan_inventory > plan_network > monitor > explain > forecast.
    So "生成最优配送路线" is plan_routes (配送路线 is one cue and not a variable), "解释库存预测"
    is explain, "根据需求预测计算安全库存" is plan_inventory.  A why question about a network flow
    or node, or any network edit, makes it plan_network.  With no cue: a why about a flow ->
    plan_network; edits -> plan_network; a global what-if with nothing else asked ("所有需求增加
    20%") -> plan_network (the what-if machinery is the network plan), with a variable asked about
    ("如果需求增加20%，库存会怎样") -> forecast; anything else naming a variable -> forecast.
Scenario
    Set only when the text names the case or its domain: 制造/工厂/车间/manufacturing/factory/
    plant(s) -> manufacturing; 零售/门店/超市/retail/store(s)/shop -> retail; 物流公司/物流场景/配送中心/
    快递/车队/logistics company/carrier/depot/fleet -> logistics.  A variable word (物流量,
    "deliveries", "manufacturing output") does not set it.  In a network plan, and for role
    words that name a node ("plant p1", "store s2"), only explicit phrases count (物流场景, "the
    retail case").
Targets and inputs
    Over production, inventory, logistics, demand, delivery, in order of mention, no duplicates.
    Inputs: variables after 基于/根据/依据/参考/结合/利用/用/考虑/based on/using/from/given/with/
    considering/in terms of, up to the end of the clause or the next action word.  Targets: the
    other variables, except those a change talks about (``如果需求增加20%``: demand is the
    what-if, not a target) and those inside an action phrase (配送路线, safety stock).  Orders
    (订单, orders, bookings) are demand; revenue words (销售额, sales) are demand.  A network plan
    has no targets (its demand is in the network file).
Horizon
    Days (see :mod:`._numbers`); look-back windows (过去60天, "the last 3 months", "60 days of
    history") are not horizons.  Refused: a horizon < 1 or above ``max_horizon``
    (:data:`DEFAULT_MAX_HORIZON` = 90 days: what the scenarios' two years of daily data support
    for a rolling-origin evaluation; next quarter = 90 is allowed, a year is not).
What-if and edits
    A change of a whole variable (``需求增加20%``, "all demand +20%", "capacity is halved") is a
    global factor in ``what_if``; a change at named nodes, arcs or products is an edit (see
    :mod:`._network_edits`).  ``sclm.ask`` turns a global what-if into edits for a network plan
    (:func:`network_edits`: demand -> ``scale_demand`` of every customer, capacity ->
    ``scale_capacity`` of every node with a capacity).  In explain and monitor tasks a change
    describes what was observed ("偏离超过20%时预警"), so it is no what-if.
    An absolute change ("p1的产能增加20", "c1 needs 10 more dark", "add 40 units to p1's
    capacity", "the cost at p1 rises by 1 per unit") becomes a new value from the network's own
    numbers (``set_capacity(p1, 220)``; demand factor 30 / 20; each per-product cost + 1); without
    one it is left out.  A customer's new level ("c2 now needs 70 units of light", "c3要40个低因")
    is the factor new / old; with no product it is of the customer's total ("c4's total demand
    goes up to 80": 80 / 60), and "10 more of every product" gives one factor per product.  A
    customer that closes buys nothing (``scale_demand`` x 0), one that stops ordering a product
    buys none of it.  The price a supplier (plant, warehouse) charges is its node cost.  Several
    nodes joined by and/和/、 each get the edit ("close w1 and w2", "close both DCs", "两个仓库都关掉");
    two nodes joined by to/到/→/from, or of different roles, name the arc between them; a change
    acts on the nodes of its own part of the sentence ("stop buying from s3 and buy up to 250 from
    s2": close s3, capacity of s2 = 250).
Paths
    "p1 to c2 via w1" / "从p1经w1送到c2": a why or a ban is about the last leg (``forbid_arc(w1,
    c2)``: c2 no longer served through w1; "why ... directly rather than via w1" is about p1->c2);
    a minimum forces both legs (``force_arc(p1, w1, n)`` and ``force_arc(w1, c2, n)``).
References
    "it" / "its" / 它 / 其 stand for the last node named outside their own part of the sentence
    ("Look at c4. Why is it supplied from w2?" = w2->c4; "...why send decaf through it to c3?");
    when their part already names a node of that role, for the product named before ("halve
    decaf at c2 and double it at c3").  A why with no name of its own ("...to c3. Why is that?",
    "这是为什么？") asks about the sentence before it.  A demand change naming a product and no
    customer keeps the customer of the change before it in the same sentence ("c3的深烘需求增加
    20%，拼配需求下降10%"), unless it says all/整体/所有.
Why
    "why do we use X for Y?" / 为什么从p1发货给c2 -> ``question="why"``, ``edits=[ForbidArc((X,
    Y))]``; "why is s2 used" -> ``[CloseFacility("s2")]``; action plan_network.  A why about a
    forecast ("为什么预测库存会下降", "why is c1's demand rising") is ``explain`` with
    ``question=None``.  "why don't we ship from p2 to c1?" / 为什么p2不给c1发货 is the what-if
    that uses the flow (``ForceArc((p2, c1), min_flow=1)``, ``question=None``); a why-not about a
    node is refused.  The edits that remove the questioned flow come last in ``edits``; the
    others ("if w1 is closed, why ...") are the scenario both plans share.
Names
    With a network, nodes are resolved by name (``cafe-3`` = ``cafe 3``), label, alias, city or
    country (English, Chinese for common cities and countries, country adjectives: "the Swedish
    roastery"), role + number and ordinal, and for names made of a role word and a tag by any
    role word with the tag ("supplier A" = "vendor A" = 供应商A; "Roastery_North" = "the northern
    roastery" = 北边的烘焙厂); products by name, by a word only they have ("dark" = "dark roast")
    and by Chinese names of the name or its words (深烘 = dark roast) (see :mod:`._entities`).
    A token shaped like the network's names that is none of them ("cafe-7", "DC_Oslo") is an
    unknown name; words inside the network's names ("Uji Farms") are never out-of-scope cues.  Without one,
    node-like tokens (``w1``, ``store_2``) are kept as written, a demand change names customers
    and other changes facilities, arcs follow from/到 or mention order, and a node named only by
    number, city or label ("supplier 3", "the Hamburg warehouse") is refused with a hint to pass
    the network.  One-letter typos of key English words are repaired ("forcast").
Refusals
    :class:`InstructionError` (a ``ValueError``) for empty or meaningless text, other domains
    (agriculture, healthcare, finance, chat), injected commands (prompt injection, SQL, shell),
    unsupported changes (new facilities, absolute changes of a variable), a bad horizon, a role
    word that contradicts the network ("supplier p1"); :class:`UnknownEntityError` (both a
    :class:`sclm.schema.UnknownNameError` and an :class:`InstructionError`) for a node, arc or
    product the network does not have, naming it and listing the known ones.
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sclm.decisions.edits import Edit
from sclm.language._entities import NetworkView, find_entities, mask_names, network_view
from sclm.language._lexicon import (
    ACTION_CUES,
    ACTION_PRIORITY,
    ATTRIBUTES,
    CJK,
    FUSED_VERBS,
    INJECTION,
    OUT_OF_SCOPE,
    ROLE_WORDS,
    SCENARIO_EXPLICIT,
    SCENARIO_GENERAL,
    SOFT_OUT_OF_SCOPE,
    STOP_PHRASES,
    VARIABLES,
    Hit,
    alternation,
    has_cjk,
    scan,
)
from sclm.language._network_edits import build
from sclm.language._numbers import find_horizons
from sclm.language._ops import find_ops
from sclm.schema import UnknownNameError

__all__ = [
    "ACTIONS",
    "DEFAULT_MAX_HORIZON",
    "SCENARIOS",
    "VARIABLES",
    "WHAT_IF_VARIABLES",
    "InstructionError",
    "Task",
    "UnknownEntityError",
    "network_edits",
    "normalise",
    "parse_instruction",
]

ACTIONS = (
    "forecast",
    "explain",
    "plan_inventory",
    "plan_routes",
    "plan_production",
    "plan_network",
    "monitor",
)
SCENARIOS = ("manufacturing", "logistics", "retail")
TASK_VARIABLES = ("production", "inventory", "logistics", "demand", "delivery")
WHAT_IF_VARIABLES = (*TASK_VARIABLES, "capacity", "promotion", "price")
DEFAULT_MAX_HORIZON = 90

Action = Literal[
    "forecast", "explain", "plan_inventory", "plan_routes", "plan_production", "plan_network", "monitor"
]
Variable = Literal["production", "inventory", "logistics", "demand", "delivery"]
WhatIfVariable = Literal[
    "production", "inventory", "logistics", "demand", "delivery", "capacity", "promotion", "price"
]

SUPPORTED = (
    "supported: actions forecast, explain, plan_inventory, plan_routes, plan_production, plan_network, "
    "monitor; variables production, inventory, logistics (shipments), demand (sales, orders), delivery; "
    "scenarios manufacturing, logistics, retail; what-if changes of demand, capacity, production, "
    "inventory, logistics, delivery, price, promotion; network edits (scale demand or capacity, set or "
    "scale a cost, forbid or force an arc, restrict or pair facilities and customers, close a facility) "
    "and why questions about a flow"
)


class InstructionError(ValueError):
    """An instruction the parser refuses; the message says why and what is supported.

    ``final`` is True for refusals no language model may overrule: empty text, injected commands
    or code, an out-of-scope domain, a new facility, a horizon out of range.
    """

    final: bool = False


class UnknownEntityError(UnknownNameError, InstructionError):
    """A node, arc or product the network does not have (an ``UnknownNameError`` and a ``ValueError``)."""


class Task(BaseModel):
    """What an instruction asks for: one path through forecast -> explain -> decide.

    Attributes
    ----------
    action
        forecast | explain | plan_inventory | plan_routes | plan_production | plan_network | monitor.
    scenario
        manufacturing | logistics | retail, or ``None`` when the text does not name one.
    targets, inputs
        Variables predicted / planned, and those the task is based on (order of mention).
    horizon
        Days ahead (>= 1), or ``None`` when not said.
    what_if
        Global multiplicative factors, variable -> factor (``{"demand": 1.2}``).
    edits
        Network edits (:mod:`sclm.decisions.edits`), named as the network names them.
    question
        ``"why"`` for a question about a network flow (its edits remove that flow), else ``None``.
    language
        ``zh`` or ``en``: the language to answer in.
    """

    model_config = ConfigDict(extra="forbid")

    action: Action
    scenario: Literal["manufacturing", "logistics", "retail"] | None = None
    targets: list[Variable] = Field(default_factory=list)
    inputs: list[Variable] = Field(default_factory=list)
    horizon: Annotated[int, Field(ge=1)] | None = None
    what_if: dict[WhatIfVariable, float] = Field(default_factory=dict)
    edits: list[Edit] = Field(default_factory=list)
    question: Literal["why"] | None = None
    language: Literal["zh", "en"] = "en"

    @field_validator("targets", "inputs")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError(f"duplicate variables in {v}")
        return v

    @field_validator("what_if")
    @classmethod
    def _factors(cls, v: dict[str, float]) -> dict[str, float]:
        for k, f in v.items():
            if not (math.isfinite(f) and f >= 0):
                raise ValueError(f"what_if[{k!r}] = {f}: a factor must be finite and >= 0")
        return v

    @model_validator(mode="after")
    def _why(self) -> Task:
        if self.question == "why" and (self.action != "plan_network" or not self.edits):
            raise ValueError("question='why' needs action='plan_network' and the edits that remove the flow")
        return self


# ------------------------------------------------------------------------------------ helpers
_CJK_SPACE = re.compile(f"(?<=[{CJK}])\\s+|\\s+(?=[{CJK}])")


def normalise(text: str) -> str:
    """NFKC (full-width -> half-width), lower case, one space between words, none next to CJK."""
    t = unicodedata.normalize("NFKC", text).lower()
    t = t.replace("\u2019", "'").replace("\u2018", "'").replace("\u2013", "-").replace("\u2014", "-")
    t = re.sub(r"\s+", " ", t).strip()
    return _CJK_SPACE.sub("", t)


# Common English words of the instruction language, for typo repair ("forcast", "inventroy").
_TYPO_TARGETS = (
    "forecast",
    "predict",
    "prediction",
    "estimate",
    "inventory",
    "inventories",
    "shipments",
    "shipment",
    "deliveries",
    "delivery",
    "production",
    "replenish",
    "replenishment",
    "warehouse",
    "warehouses",
    "capacity",
    "supplier",
    "suppliers",
    "customer",
    "customers",
    "schedule",
    "explain",
    "monitor",
    "anomaly",
    "anomalies",
    "logistics",
    "manufacturing",
    "tomorrow",
    "quarter",
    "fortnight",
    "percent",
    "increase",
    "decrease",
    "increases",
    "decreases",
    "doubles",
    "triples",
    "routing",
    "reorder",
    "attribution",
    "scenario",
)
_TYPO_KEEP = frozenset(
    "supplies supplied customs predicts explains monitors estimates increased decreased delivers deliver scheduled "
    "schedules inventor quarters quartet percents doubled tripled".split()
)
_WORD = re.compile(r"[a-z]{6,}")


def _one_edit(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` differ by one insertion, deletion, substitution or adjacent swap."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1 :]


def fix_typos(text: str) -> str:
    """Repair one-letter typos of the parser's key English words ("forcast" -> "forecast")."""

    def fix(m: re.Match[str]) -> str:
        w = m.group(0)
        if w in _TYPO_TARGETS or w in _TYPO_KEEP:
            return w
        for target in _TYPO_TARGETS:
            if len(target) >= 7 and target[0] == w[0] and _one_edit(w, target):
                return target
        return w

    return _WORD.sub(fix, text)


def _compile_table(table: dict[str, list[str]]) -> dict[str, re.Pattern[str]]:
    return {k: re.compile(alternation(v)) for k, v in table.items()}


_OOS = _compile_table(OUT_OF_SCOPE)
_SOFT = _compile_table(SOFT_OUT_OF_SCOPE)
_INJECTION = [re.compile(p, re.IGNORECASE) for p in INJECTION]
_NEW_FACILITY = re.compile(
    r"(?:新建|新增|新开|开设|增设|建一个|开一个|加一个|增加一个|新设)(?:新的?)?(?:仓库|工厂|门店|配送中心|供应商|客户)|"
    r"(?<![a-z])(?:add|open|build|create|set up)\s+(?:a\s+|an\s+|another\s+)?(?:new\s+|extra\s+|additional\s+)?"
    r"(?:warehouse|plant|factory|dc|distribution cent(?:er|re)|store|supplier|depot)(?![a-z])"
)
_INPUT_MARKERS = re.compile(
    r"基于|根据|依据|依照|按照|参考|结合|利用|使用|借助|通过|考虑到|考虑|综合|凭借|用(?!于|户|途|量)|"
    r"(?<![a-z])(?:based on|on the basis of|using|use|uses|from|given|with|taking into account|taking account of|"
    r"considering|in terms of|drawing on|leveraging|relying on|informed by|according to|inputs?\s*[:=]|"
    r"conditioned on|driven by|factoring in|accounting for|features?\s*[:=]|by looking at|looking at)(?![a-z])|"
    r"以(?=[^,，。;；]{1,24}?为(?:输入|特征|依据|基础))|输入(?:为|是|[:：])|特征(?:为|是|[:：])"
)
_INPUT_AFTER = re.compile(
    r"作为输入|为输入|作为特征|为特征|作为依据|为依据|作为自变量|"
    r"(?<![a-z])(?:into account|as (?:the )?(?:inputs?|features?|predictors?|regressors?|covariates?|drivers?))(?![a-z])"
)
_LIST_GAP = re.compile(
    r"(?:\s|,|，|、|和|及|与|以及|还有|的|数据|历史|(?<![a-z])(?:and|plus|the|historical|data|figures|levels?|history)(?![a-z])|&)*"
)
_CLAUSE_END = re.compile(r"[,，。;；!?！？\n:：]|\.(?=\s|$)")
_FUTURE_EN = re.compile(r"next|coming|following|upcoming|未来|接下来|今后|往后|下")
_VAR_TABLE = {f"var:{k}": v for k, v in VARIABLES.items()}
_SCEN_TABLE = {
    **{f"scx:{k}": v for k, v in SCENARIO_EXPLICIT.items()},
    **{f"scg:{k}": v for k, v in SCENARIO_GENERAL.items()},
}
_CUE_TABLE: dict[str, list[str]] = {}
for _action, _by_weight in ACTION_CUES.items():
    for _w, _terms in _by_weight.items():
        _CUE_TABLE[f"{_action}|{_w}"] = _terms
_FUSED = re.compile("|".join(FUSED_VERBS))
_ROLE_TABLE = {f"role:{k}": v for k, v in ROLE_WORDS.items()}  # 供应商 is a role word, not 供应


def _refuse(reason: str, *, final: bool = False) -> InstructionError:
    err = InstructionError(f"{reason}; {SUPPORTED}")
    err.final = final
    return err


def _take(taken: list[bool], s: int, e: int) -> None:
    for i in range(s, e):
        taken[i] = True


def _overlaps(h: Any, spans: list[tuple[int, int]]) -> bool:
    return any(h.start < e and s < h.end for s, e in spans)


def parse_instruction(text: str, network: Any = None, *, max_horizon: int = DEFAULT_MAX_HORIZON) -> Task:
    """Parse an instruction (Chinese or English) into a validated :class:`Task`.

    Parameters
    ----------
    text
        The instruction, e.g. ``"基于历史销售数据、库存数据，预测未来销售需求"`` or
        ``"What if supplier 3 can only deliver half?"``.
    network
        Optional network (a :class:`sclm.decisions.network.Network`, a network file path or a
        dict in that format) to resolve node and product names against.
    max_horizon
        Longest horizon accepted, in days.

    Returns
    -------
    Task

    Raises
    ------
    InstructionError
        Empty, meaningless, out-of-scope, injected or unsupported text; a bad horizon; a role
        word that contradicts the network.  The message says what is supported.
    UnknownEntityError
        A node, arc or product that the network does not have (names it, lists the known ones).
    """
    try:
        return _parse(text, network, max_horizon)
    except UnknownEntityError:
        raise
    except InstructionError as exc:
        if "supported:" in str(exc):
            raise
        raise _refuse(str(exc)) from None


def _parse(text: str, network: Any, max_horizon: int) -> Task:
    if not isinstance(text, str):
        raise InstructionError(f"an instruction is a string, not {type(text).__name__}")
    t = fix_typos(normalise(text))
    if not re.search(rf"[a-z0-9{CJK}]", t):
        raise _refuse("empty instruction", final=True)
    for pat in _INJECTION:
        if pat.search(t):
            raise _refuse("the instruction contains commands or code, which are never run", final=True)
    net = network_view(network)
    # the language of the words around the names: an English question about 北京仓 is English
    masked = mask_names(t, net) if net is not None else None  # names, cities, products blanked
    language = "zh" if has_cjk(masked if masked is not None else text) else "en"
    for domain, pat in _OOS.items():
        m = pat.search(t)
        if m and masked is not None:  # "Uji Farms" is a supplier of the network, not farming
            m = pat.search(masked)
        if m and net is not None and _in_node_names(m.group(0), net):
            m = None  # "Farm-3" where the network has Farm-1 and Farm-2: a node, known or not
        if m and masked is not None and _is_role_word(m.group(0)) and masked != t:
            m = None  # "the Xining farm" beside a city of the network: a supplier
        if m:
            raise _refuse(f"{m.group(0)!r} is outside supply-chain analytics ({domain})", final=True)
    if _NEW_FACILITY.search(t):
        raise _refuse(  # final: a plan cannot add a facility, whoever reads the text
            "adding a facility is not supported (a network plan can close, restrict or re-cost existing ones)",
            final=True,
        )
    zh = language == "zh"
    taken = [False] * len(t)
    for h in scan(t, {"stop": STOP_PHRASES}):
        _take(taken, h.start, h.end)

    # attributes (cost, capacity, price, ...) before names and variables: 运输成本 is a cost
    attrs = [h for h in scan(t, {**ATTRIBUTES, **_ROLE_TABLE}, taken) if not h.label.startswith("role:")]
    fused = [Hit(m.start(), m.end(), FUSED_VERBS[m.group(0)][0]) for m in _FUSED.finditer(t)]
    for h in attrs + fused:
        _take(taken, h.start, h.end)
    ents = find_entities(t, net, taken, InstructionError, UnknownEntityError)

    # horizons
    ent_spans = ents.spans
    horizons = [h for h in find_horizons(t) if not _overlaps(h, ent_spans)]
    htaken = list(taken)
    for h in horizons:
        _take(htaken, h.start, h.end)

    # action cues (consumed: 配送路线 is not a delivery mention)
    etaken = [False] * len(t)  # cues see through attributes ("supply network") but not names
    for s_, e_ in ent_spans:
        _take(etaken, s_, e_)
    cues = scan(t, _CUE_TABLE, etaken)
    ctaken = list(htaken)
    for h in cues:
        _take(ctaken, h.start, h.end)

    # change operators
    ops = find_ops(t, htaken, zh=zh, node_starts=tuple(n.start for n in ents.nodes))
    op_spans = [o.span for o in ops]

    # variables and scenario words, jointly (longest wins: 物流公司 is a scenario, 物流量 a variable)
    joint = scan(t, {**_VAR_TABLE, **_SCEN_TABLE}, ctaken)
    var_hits = [Hit(h.start, h.end, h.label[4:]) for h in joint if h.label.startswith("var:")]
    scen_hits = [h for h in joint if h.label.startswith("sc")]

    subjects = [Hit(h.start, h.end, h.label) for h in attrs] + fused + var_hits
    built = build(t, ops, ents, subjects, net, errors=InstructionError, unknown=UnknownEntityError)

    # action
    action = _action(cues, built, var_hits)
    edits, what_if = list(built.edits), dict(built.what_if)
    used = set(built.used)
    if action in ("explain", "monitor") and not built.why:
        edits, what_if, used = [], {}, set()
    elif built.problems:
        raise built.problems[0]
    question = "why" if built.why and action == "plan_network" else None

    # inputs / targets
    input_spans = _input_spans(t, cues, var_hits, taken)
    inputs: list[str] = []
    targets: list[str] = []
    for h in var_hits:
        if h.span in used:
            continue
        if any(s <= h.start < e for s, e in input_spans):
            if h.label not in inputs:
                inputs.append(h.label)
        elif h.label not in targets:
            targets.append(h.label)
    if action == "plan_network":
        targets = []
        if edits:  # "不要再用北京仓给X送货": the verb of a flow edit names no input data
            inputs = []

    # scenario
    scenario = _scenario(scen_hits, action, ents, op_spans)

    # horizon
    horizon = _horizon(horizons, input_spans, max_horizon)

    # anything at all?
    strong_cue = any(float(h.label.split("|")[1]) >= 2 for h in cues)
    signal = bool(var_hits or scenario or edits or what_if or built.why or ents.nodes)
    if not signal and not (strong_cue and not any(p.search(t) for p in _SOFT.values())):
        soft = [m.group(0) for p in _SOFT.values() if (m := p.search(t))]
        reason = f"{soft[0]!r} is outside supply-chain analytics" if soft else "no supply-chain request found"
        raise _refuse(f"{reason} in {text.strip()[:60]!r}")
    return Task(
        action=action,
        scenario=scenario,
        targets=targets,
        inputs=inputs,
        horizon=horizon,
        what_if=what_if,
        edits=edits,
        question=question,
        language=language,
    )


def _is_role_word(word: str) -> bool:
    """Whether ``word`` names a role of a network node ("farm" is a supplier)."""
    return any(re.fullmatch(p, word.lower()) for ps in ROLE_WORDS.values() for p in ps)


def _in_node_names(word: str, net: Any) -> bool:
    """Whether ``word`` (an out-of-scope word such as "farm") is a word of a node's name or label."""
    w = word.lower().rstrip("s")
    if not w:
        return False
    for name, node in net.nodes.items():
        for s in (name, node.label or ""):
            if any(p.rstrip("s") == w for p in re.split(r"[^a-z]+", s.lower()) if p):
                return True
    return False


def _action(cues: list[Hit], built: Any, var_hits: list[Hit]) -> str:
    score: dict[str, float] = {}
    for h in cues:
        a, w = h.label.split("|")
        score[a] = max(score.get(a, 0.0), float(w))
    if built.why:
        return "plan_network"
    if built.edits:
        score["plan_network"] = max(score.get("plan_network", 0.0), 3.5)
    best = max(score.values(), default=0.0)
    if best >= 2.0:
        return next(a for a in ACTION_PRIORITY if score.get(a) == best)
    if built.what_if:
        used = built.used
        if any(h.span not in used for h in var_hits):
            return "forecast"
        return "plan_network"
    if score.get("plan_network"):
        return "plan_network"
    return "forecast"


def _input_spans(t: str, cues: list[Hit], var_hits: list[Hit], taken: list[bool]) -> list[tuple[int, int]]:
    """Where the inputs are named: after a marker (基于, based on, ...) up to the end of its clause
    or the next action word, across commas while the next item is a variable ("using sales,
    shipments and stock data, forecast ..."); and before a closing marker (作为输入, "as inputs",
    "taking ... into account") back to the start of its clause."""
    starts = {h.start for h in var_hits}
    # "given expected deliveries": a cue word that qualifies a variable does not end the inputs
    strong = sorted(
        h.start
        for h in cues
        if float(h.label.split("|")[1]) >= 2 and not any(0 <= v - h.end <= 1 for v in starts)
    )
    spans: list[tuple[int, int]] = []
    for m in _INPUT_MARKERS.finditer(t):
        if any(taken[m.start() : m.end()]):
            continue
        cur = end = m.end()
        while True:
            b = _CLAUSE_END.search(t, cur)
            stop = b.start() if b else len(t)
            cue = next((s for s in strong if cur <= s < stop), None)
            if cue is not None:
                end = cue
                break
            end = stop
            if b is None or b.group(0) not in ",，":
                break
            lead = re.match(r"\s*(?:and\s+|和|及|以及|还有|or\s+|the\s+|historical\s+|历史)?", t[b.end() :])
            first = b.end() + (lead.end() if lead else 0)
            if first not in starts:
                break
            cur = b.end()
        spans.append((m.start(), end))
    ordered = sorted(var_hits, key=lambda h: h.start)
    for m in _INPUT_AFTER.finditer(t):
        begin, edge = None, m.start()
        for h in reversed([h for h in ordered if h.end <= m.start()]):
            if not _LIST_GAP.fullmatch(t[h.end : edge]):
                break
            begin, edge = h.start, h.start
        if begin is not None:
            spans.append((begin, m.start()))
    return spans


def _scenario(scen_hits: list[Hit], action: str, ents: Any, op_spans: list[tuple[int, int]]) -> str | None:
    blocked = list(ents.spans)
    if ents.nodes:  # role words next to names, or role groups that an edit uses, name nodes
        blocked += [(g.start, g.end) for g in ents.groups]
    explicit = [h for h in scen_hits if h.label.startswith("scx:") and not _overlaps(h, blocked)]
    if explicit:
        return explicit[0].label[4:]
    if action == "plan_network":
        return None
    general = [h for h in scen_hits if h.label.startswith("scg:") and not _overlaps(h, blocked)]
    return general[0].label[4:] if general else None


def _horizon(horizons: list[Any], input_spans: list[tuple[int, int]], max_horizon: int) -> int | None:
    for h in horizons:
        if h.days is None:
            continue
        if any(s <= h.start < e for s, e in input_spans) and not h.future_marked:
            continue
        if h.days < 1:
            raise _refuse(f"horizon {h.days} days: a horizon is at least 1 day", final=True)
        if h.days > max_horizon:
            raise _refuse(
                f"horizon {h.days} days is beyond the longest supported horizon of {max_horizon} days",
                final=True,
            )
        return int(h.days)
    return None


def network_edits(task: Task, network: Any = None) -> list[Any]:
    """The edits a network plan applies for ``task``: its global what-if as edits, then its edits.

    The what-if is translated by :func:`sclm.decisions.edits.what_if_edits` (the one translation
    ``sclm.ask`` uses too): ``what_if["demand"] = f`` -> ``ScaleDemand(factor=f)`` (every
    customer and product); ``what_if["capacity"] = f`` -> ``ScaleCapacity(node, f)`` for every
    facility with a capacity (needs ``network``).  Other global factors (price, promotion,
    production, ...) have no network meaning and are left out here.
    """
    from sclm.decisions.edits import what_if_edits

    view: NetworkView | None = network_view(network) if "capacity" in task.what_if else None
    return what_if_edits(task.what_if, view, strict=False) + list(task.edits)
