"""Change operators in instructions: what changes, by how much, and how (factor, set, close, ...).

:func:`find_ops` finds every operator in a normalised instruction, in text order:

``factor``   a multiplicative change: 增加20% (x1.2), 下降一成 (x0.9), 翻倍 (x2), 减半 (x0.5),
             增加三分之一 (x4/3), "rises by a fifth", "grows 15 percent", "falls by half",
             "only half of the quantity", "drops to 80%" (to: x0.8), "is 30% lower" (x0.7),
             "triples", "+20%".
``set``      a new value: 单位成本变为3, "is now 3 per unit", "capacity of p2 is 120",
             "can hold 350".
``delta``    an absolute change: 产能增加20, "demand up 10 units" (a new value when the network
             says the old one, else nothing).
``force``    at least N units: 至少运10个, "ship at least 10".
``forbid``   no flow: 禁止, 不要, 不再, "don't", "no shipments", "stop", "ban".
``close``    a facility out: 关闭, 停用, 不可用, "close", "shut down", "offline", "without".
``restrict`` a facility serves only some customers: 只供应, 专供, "only serves", "restrict",
"exclusive to" (one way: the customer may still buy elsewhere; both ways is ``exclusive``).
``source``   a customer buys only from one plant: 只从, 只能由, "buys only from", "only p2 may".
``exclusive`` both: 一对一, 独家绑定, "exclusively paired", "exclusive pair".
``why``      a question about a flow: 为什么, "why", "how come", "what's the reason".

Direction words are only operators next to an amount: "demand rises" alone changes nothing, so
"why will inventory fall" stays a question about the forecast.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sclm.language._numbers import AMOUNT, CN_NUM, DIGITS, EN_NUM, amount_value, factor_from, to_number

UP_ZH = (
    "增加|增长|提高|提升|上涨|上升|上调|上浮|增多|增大|加大|扩大|扩充|扩增|高出|多出|暴涨|猛增|激增|攀升|走高|"
    "涨幅|增幅|增|涨|升|提|加|高|多"
)
DOWN_ZH = (
    "下降|减少|降低|下跌|下调|下浮|下滑|回落|缩减|缩小|削减|萎缩|缩水|减小|减掉|砍掉|损失|流失|失去|跌落|"
    "降幅|降|减|跌|砍|少|低|掉"
)
UP_EN = (
    "rises?|rose|risen|rising|increases?|increased|increasing|grows?|grew|grown|growing|go(?:es)? up|went up|"
    "gone up|climbs?|climbed|jumps?|jumped|surges?|surged|spikes?|spiked|soars?|soared|raises?|raised|"
    "raising|boosts?|boosted|lifts?|lifted|expands?|expanded|up|higher|more|greater|larger|bigger|above|"
    "extra|gains?|gained|hikes?|hiked|comes? in above|came in above"
)
DOWN_EN = (
    "falls?|fell|fallen|falling|drops?|dropped|dropping|decreases?|decreased|decreasing|declines?|declined|"
    "declining|go(?:es)? down|went down|gone down|shrinks?|shrank|shrunk|reduces?|reduced|reducing|cuts?|"
    "cutting|slumps?|slumped|dips?|dipped|lower|lowered|lowers|lowering|slash(?:es|ed)?|plunges?|plunged|"
    "plummets?|plummeted|sinks?|sank|loses?|lost|losing|less|fewer|smaller|below|down|comes? in below|"
    "came in below"
)
_UP_POST = (
    "higher|more|greater|larger|bigger|above|up|increase|rise|jump|growth|extra|gain|hike|增长|增幅|涨幅|增加|"
    "提升|上涨|的增长|的增幅"
)
_DOWN_POST = (
    "lower|less|fewer|smaller|below|down|decrease|drop|decline|reduction|cut|fall|loss|下降|降幅|减少|降低|下滑|"
    "的下降|的降幅"
)
_PER_ZH = r"(?:每(?:件|单位|个|吨|箱|袋|公斤|千克|份|托)|单价)?"
_BASE_ZH = r"(?:原来的|原先的|以前的|平时的|正常的|往常的|现在的|目前的|当前的|正常水平的|基准的|平常的)"
_ONLY_ZH = (
    r"(?:只剩下|只剩|仅剩|只有|仅有|仅为|只为|剩下|仅|只)(?:能|可以|可)?"
    r"(?:供应|供货|交付|提供|交|送|发货|出货|生产|运转|运行|运|给|发|保证|维持|满足|达到|处理|有|供|出|开工|开|跑)?(?:出)?"
    r"(?:到|至|在)?"
)
_SETV_ZH = (
    r"(?:变为|变成|改为|改成|调整为|调整到|调整至|调为|调到|调至|设为|设置为|设定为|设成|定为|改到|变到|等于|达到|"
    r"降为|升为|是|为|=)"
)
# not a multiple, a share, a duration or a count of things (个 is a unit count only as 个单位 or at the
# end of a clause); the first lookahead stops the number from backtracking ("100个" is not "10")
_NOT_UNIT = (
    r"(?!\d|\.\d|[零〇一二两俩三四五六七八九十百千万])"
    r"(?!\s*(?:%|倍|成|分之|天|日|周|个(?!单位|$|[,，。;；?？!！])|月|年|家|种|次|下|些|样|对|起|直|点|号))"
)
_SET_VERBS_EN = (
    r"\b(?:set|sets|change|changes|changed|adjust|adjusts|adjusted|put|bring|make|reset|fix|move|"
    r"raise|raises|raised|increase|increases|increased|lift|lifts|lifted|boost|boosts|boosted|push|"
    r"cut|cuts|reduce|reduces|reduced|lower|lowers|lowered|decrease|decreases|decreased|drop|drops|"
    r"dropped|trim|trims|trimmed|take|takes|limit|limits|limited|cap|caps|capped|update|updates|updated)\b"
)
_BY_VERBS_UP = r"\b(?:raise|raises|raised|increase|increases|increased|boost|boosts|boosted|lift|lifts|hike|grow|expand|scale up|push up|mark up)\b"
_BY_VERBS_DOWN = r"\b(?:cut|cuts|reduce|reduces|reduced|lower|lowers|lowered|decrease|decreases|decreased|drop|drops|shrink|scale down|slash|trim|trims)\b"


@dataclass
class Op:
    """One operator: ``text[start:end]``."""

    kind: str
    start: int
    end: int
    factor: float | None = None
    value: float | None = None
    implied: str | None = None  # attribute the words carry (涨价 -> price, "costs 4" -> cost)
    pending: str | None = None  # "by": direction taken from a verb earlier in the clause
    only_before: int | None = None  # source ops "only X may supply Y": where X starts

    @property
    def span(self) -> tuple[int, int]:
        return (self.start, self.end)


def _a(prefix: str) -> str:
    """AMOUNT with group names prefixed (several amounts in one pattern need unique names)."""
    return re.sub(r"\(\?P<(\w+)>", lambda m: f"(?P<{prefix}{m.group(1)}>", AMOUNT)


_AMT = _a("a_")


def _compile(p: str) -> re.Pattern[str]:
    return re.compile(p)


_FACTOR_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # self-contained words
    (_compile(r"翻(?:了)?(?P<fan>一|两|二|三)番|翻番|翻倍|翻了一倍|翻一倍|加倍|倍增|成倍"), "x2"),
    (_compile(r"减半|砍半|腰斩|对半|折半|减去一半|砍掉一半|少了一半|降了一半"), "x0.5"),
    (
        _compile(
            r"(?<![a-z])(?:doubles|doubled|doubling|double|twice as (?:much|many|high|large)|twice)(?![a-z])"
        ),
        "x2",
    ),
    (
        _compile(
            r"(?<![a-z])(?:triples|tripled|tripling|triple|treble[sd]?|three times as (?:much|many))(?![a-z])"
        ),
        "x3",
    ),
    (_compile(r"(?<![a-z])(?:quadruples|quadrupled|quadruple)(?![a-z])"), "x4"),
    (
        _compile(
            r"(?<![a-z])(?:halves|halved|halving|halve|(?:cut |split )?in half|half as (?:much|many|high|large))(?![a-z])"
        ),
        "x0.5",
    ),
    # direction + to + amount
    (_compile(rf"(?P<dir_up>{UP_ZH})(?:了)?(?:到|至|成)(?:了)?{_BASE_ZH}?{_PER_ZH}\s*{_AMT}"), "to"),
    (_compile(rf"(?P<dir_dn>{DOWN_ZH})(?:了)?(?:到|至|成)(?:了)?{_BASE_ZH}?{_PER_ZH}\s*{_AMT}"), "to"),
    (_compile(rf"(?<![a-z])(?:{UP_EN}|{DOWN_EN})\s+to\s+(?:only\s+|just\s+|about\s+)?{_AMT}"), "to"),
    # direction + amount
    (_compile(rf"(?P<dir_up>{UP_ZH})(?:了|达|约|近)?\s*{_AMT}"), "by"),
    (_compile(rf"(?P<dir_dn>{DOWN_ZH})(?:了|达|约|近)?\s*{_AMT}"), "by"),
    (
        _compile(
            rf"(?<![a-z])(?P<dir_up>{UP_EN})\s+(?:by\s+)?(?:about\s+|around\s+|roughly\s+|some\s+|another\s+|nearly\s+|almost\s+)?{_AMT}"
        ),
        "by",
    ),
    (
        _compile(
            rf"(?<![a-z])(?P<dir_dn>{DOWN_EN})\s+(?:by\s+)?(?:about\s+|around\s+|roughly\s+|some\s+|another\s+|nearly\s+|almost\s+)?{_AMT}"
        ),
        "by",
    ),
    # amount + direction ("a 20% increase", "30% lower", "20%的增长")
    (_compile(rf"{_AMT}\s*(?:the\s+)?(?P<dir_up>{_UP_POST})(?![a-z])"), "by"),
    (_compile(rf"{_AMT}\s*(?:the\s+)?(?P<dir_dn>{_DOWN_POST})(?![a-z])"), "by"),
    # "a 5 percent price increase": nouns after the changed word
    (
        _compile(
            rf"{_AMT}\s+(?:[a-z][a-z\-]*\s+){{1,3}}?(?P<dir_up>increase|rise|hike|jump|gain|growth|surge)s?(?![a-z])"
        ),
        "by",
    ),
    (
        _compile(
            rf"{_AMT}\s+(?:[a-z][a-z\-]*\s+){{1,3}}?(?P<dir_dn>decrease|drop|decline|reduction|cut|fall|dip|loss)s?(?![a-z])"
        ),
        "by",
    ),
    # levels: only half, 只有一半, 原来的70%, at 60%, 80% of normal
    (_compile(rf"{_ONLY_ZH}{_BASE_ZH}?\s*{_AMT}"), "level"),
    (_compile(rf"{_SETV_ZH}{_BASE_ZH}?\s*{_AMT}"), "level"),
    (_compile(rf"{_BASE_ZH}\s*{_AMT}"), "level"),
    (_compile(rf"(?<![a-z])(?:only|just|merely)\s+(?:[a-z']+\s+){{0,2}}?{_AMT}"), "level"),
    (
        _compile(
            rf"{_AMT}\s+(?:of\s+(?:its|their|the|his|her|normal|usual|current|what|today|baseline|original|capacity|"
            rf"demand|plan|planned)|as\s+(?:much|many))(?![a-z])"
        ),
        "level",
    ),
    (_compile(rf"(?<![a-z])(?:at|to)\s+{_AMT}"), "level"),
    (
        _compile(
            rf"(?<![a-z])(?:is|are|be|becomes?|became|will be|would be)\s+(?:now\s+)?(?:only\s+)?{_AMT}"
        ),
        "level",
    ),
    # signs and multipliers: +20%, -10%, x1.5
    (_compile(rf"(?<![a-z0-9_])(?P<sg>[+\-])\s*(?P<sv>{DIGITS})\s*%"), "sign"),
    (_compile(rf"(?<![a-z0-9])(?:x|×|\*|乘以)\s*(?P<mv>{DIGITS})(?!\d|\.\d)"), "mult"),
]

_SET_PATTERNS: list[tuple[re.Pattern[str], str | None]] = [
    (_compile(rf"{_SETV_ZH}\s*{_PER_ZH}\s*(?P<n>{DIGITS}|{CN_NUM}){_NOT_UNIT}"), None),
    # 以后按0.9算, 按每件0.45计
    (
        _compile(
            rf"按\s*{_PER_ZH}\s*(?P<n>{DIGITS}|{CN_NUM})\s*(?:元|块)?\s*(?:来)?(?:算|计|计算|结算|收取|收)"
        ),
        None,
    ),
    (
        _compile(
            rf"(?<![a-z])(?:is|are|be|becomes?|became|equals?|=|will be|goes to|go to|changes? to|changed to|set to|"
            rf"reset to|now)\s+(?:now\s+)?(?:only\s+)?(?:at\s+)?(?:\$|€|¥)?(?P<n>{DIGITS})"
            rf"(?!\d|\.\d|\s*(?:%|x\b|times|percent|days?|weeks?|months?|-fold))"
        ),
        None,
    ),
    (
        _compile(
            rf"(?<![a-z])(?:now\s+)?costs?\s+(?:now\s+)?(?:only\s+)?(?:\$|€|¥)?(?P<n>{DIGITS})(?!\d|\.\d|\s*(?:%|x\b|times|percent))"
        ),
        "cost",
    ),
    (
        _compile(
            rf"(?<![a-z])(?:can|could|is able to|are able to|only|will)\s+(?:now\s+)?(?:only\s+)?(?:hold|handle|store|process|"
            rf"produce|make|supply|deliver|ship|take|serve|provide|manage|roast)\s+(?:up to\s+|at most\s+|only\s+)?"
            rf"(?P<n>{DIGITS})(?!\d|\.\d|\s*%)"
        ),
        "capacity",
    ),
    (
        _compile(
            rf"(?:最多|只能|能够|能|可以)(?:供应|供货|供给|生产|处理|存放|容纳|储存|交付|发货|运|加工|供|产|烘焙|出)(?:到|至)?(?P<n>{DIGITS}|{CN_NUM}){_NOT_UNIT}"
        ),
        "capacity",
    ),
    (
        _compile(
            rf"(?<![a-z])to\s+(?:\$|€|¥)?(?P<n>{DIGITS})(?!\d|\.\d|\s*(?:%|x\b|times|percent|days?|weeks?|months?))"
        ),
        "to",
    ),
    # "set the freight from X to Y at 0.8" (a set verb must come before, as for "to")
    (
        _compile(
            rf"(?<![a-z])at\s+(?:\$|€|¥)?(?P<n>{DIGITS})(?!\d|\.\d|\s*(?:%|x\b|times|percent)|\s+(?!per\b|each\b|a\s+unit\b)[a-z])"
        ),
        "to",
    ),
]

_QTY_UNIT_EN = r"(?:units?|bags?|cases?|kg|kilos?|pallets?|boxes|crates?|tons?|tonnes?|cups?|packs?)"
_QTY_UNIT_ZH = r"(?:个单位|单位|个|件|箱|袋|包|公斤|千克|吨|份|杯|托)"
_NOT_MORE_EN = r"(?!\d|\.\d|\s*(?:%|percent|per cent|x\b|times|more|less|fewer|extra|additional|-fold))"
# a customer's new demand level ("c2 now needs 70 units", "c3要40个低因"): set, implied demand
_DEMAND_SET = [
    _compile(
        rf"(?<![a-z])(?:needs?|wants?|orders?|requires?|asks? for|takes?|buys?|will need|would need|"
        rf"will want|would want|will order|would order)\s+(?:only\s+|just\s+|about\s+|around\s+|exactly\s+)?"
        rf"(?P<n>{DIGITS}|{EN_NUM}){_NOT_MORE_EN}(?:\s*{_QTY_UNIT_EN})?"
    ),
    _compile(
        rf"(?<![多再少])(?:需要|要|订购|订|要货|买)(?:了)?(?!一个|一家|一些|一下|一点|一批|一份|两个|几)(?P<n>{DIGITS}|{CN_NUM})"
        rf"(?![\d.零〇一二两俩三四五六七八九十百千万])\s*{_QTY_UNIT_ZH}"
    ),
]
# more / less of something ("多要10个", "add 40 units to p1's capacity", "take 20 off w1"): delta
_DELTA = [
    (_compile(rf"(?:多|再多|额外)(?:要|订|买|需要|采购|进)(?:了)?(?P<n>{DIGITS}|{CN_NUM})"), 1.0),
    (_compile(rf"少(?:要|订|买|需要|采购|进)(?:了)?(?P<n>{DIGITS}|{CN_NUM})"), -1.0),
    (
        _compile(
            rf"(?<![a-z])(?:add|adds|added|adding|give|gives|giving)\s+(?:another\s+|an extra\s+|extra\s+)?"
            rf"(?P<n>{DIGITS}|{EN_NUM})\s*(?:more\s+|extra\s+|additional\s+)?(?:{_QTY_UNIT_EN}\s+)?"
            rf"(?:of\s+(?:capacity|demand|supply)\s+)?(?:to|at|for|on)(?![a-z])"
        ),
        1.0,
    ),
    (
        _compile(
            rf"(?<![a-z])(?:take|takes|took|remove|removes|removed|subtract|subtracts|knock|knocks)\s+"
            rf"(?P<n>{DIGITS}|{EN_NUM})\s*(?:{_QTY_UNIT_EN}\s+)?(?:of\s+(?:capacity|demand|supply)\s+)?"
            rf"(?:off|away from|away|from|out of)(?![a-z])"
        ),
        -1.0,
    ),
]
# buying up to a quantity from a supplier is its capacity ("从s2买到250", "buy up to 250 from s2")
_BUY_UP_TO = [
    _compile(rf"(?:买|采购|购买|进货|订货|拿货|进)(?:到|至)(?P<n>{DIGITS}|{CN_NUM}){_NOT_UNIT}"),
    _compile(
        rf"(?<![a-z])(?:buy|buying|source|sourcing|purchase|purchasing|order|ordering)\s+(?:up to\s+|at most\s+)?"
        rf"(?P<n>{DIGITS})\s*(?:{_QTY_UNIT_EN}\s+)?(?:of\s+\w+\s+)?from(?![a-z])"
    ),
]

_FORCE = [
    _compile(
        rf"(?:至少|最少|不少于|不低于|起码|最低|下限为?|≥|>=)(?:要|需|得|需要)?[^,，。;；]{{0,12}}?"
        rf"(?<![a-z_\d.])(?P<n>{DIGITS}|{CN_NUM})"
    ),
    _compile(
        rf"(?<![a-z])(?:at least|a minimum of|minimum of|minimum|min\.?|no less than|not less than|no fewer than|"
        rf">=|≥)\s*(?P<n>{DIGITS}|{EN_NUM})(?![a-z])"
    ),
    _compile(rf"必须(?:运|发|送|走|运输|发货|供应|供货|配送)\s*(?P<n>{DIGITS}|{CN_NUM})"),
    _compile(rf"(?<![a-z])must\s+(?:ship|send|move|deliver|supply|carry|flow)\s+(?P<n>{DIGITS})"),
    _compile(
        rf"(?<![a-z])(?:force|forces|forced|forcing|guarantee|guarantees|guaranteed)\s+(?P<n>{DIGITS}|{EN_NUM})(?![a-z\d%])"
    ),
]
_WHY = _compile(
    r"为什么|为何|为啥|干嘛|干吗|怎么会|何故|(?<![a-z])(?:why|how come|what'?s the reason|what is the reason|"
    r"reason (?:for|why|that)|the reason)(?![a-z])"
)
_WHY_NOT = _compile(
    r"(?:为什么|为何|为啥|怎么)(?:不|没有?|别)(?:用|使用|选|选择|从|让|给|走|经过)?|"
    r"(?:为什么|为何|为啥)[^,，。;；?？!！]{1,40}?(?:不|没有?)(?=用|使用|选|从|让|给|走|经|向|发|送|运|供|采购|进货)|"
    r"(?<![a-z])why\s+(?:not|don'?t|doesn'?t|didn'?t|isn'?t|aren'?t|won'?t|can'?t|wouldn'?t|shouldn'?t)(?![a-z])|"
    r"(?<![a-z])why\s+(?:do|does|did|is|are|would|can|will|should)\s+(?:\S+\s+){0,2}?(?:not|never)(?![a-z])"
)
_EXCLUSIVE = _compile(
    r"独家绑定|绑定|一对一|专属|互为唯一|独占|独家合作|独家配对|配对|排他|"
    r"(?<![a-z])(?:exclusive(?:ly)?\s+(?:pair(?:ed|ing|s)?|partner(?:s|ship|ed)?|with)|pair(?:ed|s)?\s+(?:\S+\s+){0,3}?"
    r"exclusively|exclusive pair(?:ing)?|one-to-one|1:1|tied exclusively|exclusively tied)(?![a-z])"
)
_SOURCE = _compile(
    r"(?:只|仅|仅仅)(?:能|可以|可)?(?:从|由|跟|找)|独家(?:供应|供货)|(?:只|仅|仅仅)(?:能|可以|可)?向(?=.{0,12}?(?:采购|进货|订货|购买|买|拿货|要货|订购))|(?:全部|都|均|一律|全都)(?:从|由)|只能来自|只来自|唯一(?:的)?(?:供应商|来源|货源)|"
    r"(?<![a-z])(?:(?:only|solely|exclusively|just)\s+(?:[a-z']+\s+){0,2}?from|from\s+(?:[a-z]+\s+)?(?:only|alone|"
    r"exclusively|solely)|(?:only|solely|exclusively)\s+(?:be\s+)?(?:supplied|served|sourced|delivered|fed|"
    r"replenished)\s+by|(?:supplied|served|sourced|delivered|fed)\s+(?:only|solely|exclusively)\s+by|only\s+by|"
    r"sole (?:source|supplier))(?![a-z])"
)
_ONLY_NODE = _compile(r"只有|仅有|唯有|(?<![a-z])(?:only|just|solely)(?![a-z])")
_RESTRICT = _compile(
    r"(?:只|仅|仅仅|只能|只可以|专门|专)(?:给|为|向|对)?(?:供应|供货|服务|负责|覆盖|配送|送货|发货|送|供|对接)|专供|"
    r"(?:只|仅|仅仅|只能|只可以|专门)(?:给|为|向|对)|"
    r"(?<![a-z])(?:only\s+(?:serves?|supplies|supply|ships?\s+to|delivers?\s+to|serve|covers?|handles?|feeds?)|"
    r"(?:serves?|supplies|supply|ships?\s+to|delivers?\s+to|covers?)\s+only|(?:serves?|supplies|delivers? to|ships? to)"
    r".{0,40}?\bonly\b|restrict(?:s|ed)?|limit(?:s|ed)?|dedicated to|exclusively serves?|reserved for|"
    r"exclusive(?:ly)?\s+(?:to|for))(?![a-z])"
)
_FORBID = _compile(
    r"禁止|不要|不许|不准|(?<!能)不能|不得|(?<!可)不可以|(?<!可)不可|不允许|不再|停止|断开|封锁|禁用|切断|杜绝|避免|"
    r"别(?=再|让|给|从|往|向|用|走|发|运|送)|"
    r"(?<![a-z])(?:don'?t|do not|never|no longer|stop|stops|cannot|can'?t|can not|must not|mustn'?t|may not|"
    r"should not|shouldn'?t|won'?t|forbid|forbids|forbidden|ban|bans|banned|block|blocks|blocked|"
    r"prohibit(?:s|ed)?|disallow(?:s|ed)?|avoid|exclude|excluded|no\s+more(?!\s+than)|no\s+(?:more\s+)?(?:shipments?|flows?|deliveries|"
    r"supply|shipping|transport|product|goods|trucks?))(?![a-z])"
)
_CLOSE = _compile(
    r"关闭|关停|关掉|关了|停用|停运|停掉|停止运营|停止营业|停业|歇业|关门|关店|闭店|关张|撤掉|撤销|去掉|拿掉|弃用|不再使用|不用|停产|下线|失效|"
    r"(?:关|停)(?=[一二两三四五六七八九十几半\d]+(?:个)?(?:天|日|周|星期|礼拜|个月|月))|不可用|无法使用|用不了|瘫痪|倒闭|破产|宕机|罢工|暂停使用|暂停运营|暂停|没有了|没了|停了|断供|停供|停止供货|停止供应|中断|失去|丢失|丢掉|流失|停工|停摆|停机|"
    r"撤出|移除|剔除|"
    r"(?<![a-z])(?:close|closes|closed|closing|closure|shut|shuts|shutting|shut down|shutdown|decommission(?:ed|s)?|"
    r"remove|removed|take\s+(?:\S+\s+){0,4}?offline|offline|unavailable|not available|out of service|out of action|"
    r"goes down|fails|failed|failure|bankrupt|goes bust|is lost|lose|lost|loses|losing|without|halts?|halted|"
    r"take\s+(?:\S+\s+){0,4}?out|drop|drops|dropped|remove|removes|exclude|excludes|no longer (?:available|used|in use|"
    r"operating)|stop using|stops operating|ceases? operati(?:ng|ons)|out of business|on strike|strikes?|walkouts?|out of commission|goes offline|went offline|goes dark)(?![a-z])"
)


_FUSED_AMOUNT: list[tuple[re.Pattern[str], str, str]] = [
    (_compile(rf"(?:涨价|提价|加价)(?:了)?\s*{_AMT}"), "price", "up"),
    (_compile(rf"(?:降价|减价)(?:了)?\s*{_AMT}"), "price", "down"),
    (_compile(rf"(?:扩产|增产)(?:了)?\s*{_AMT}"), "production", "up"),
    (_compile(rf"减产(?:了)?\s*{_AMT}"), "production", "down"),
    (_compile(rf"(?:更贵|贵)(?:了)?\s*{_AMT}"), "cost", "up"),
    (_compile(rf"便宜(?:了)?\s*{_AMT}"), "cost", "down"),
    (_compile(rf"{_AMT}\s*(?:cheaper|less expensive|lower in cost)(?![a-z])"), "cost", "down"),
    (_compile(rf"{_AMT}\s*(?:more expensive|costlier|pricier|dearer)(?![a-z])"), "cost", "up"),
]
_DISCOUNT = _compile(r"打(?P<n>[一二三四五六七八九]|\d(?:\.\d)?)折")


def _free(mask: list[bool], s: int, e: int) -> bool:
    return not any(mask[s:e])


def find_ops(text: str, taken: list[bool], *, zh: bool, node_starts: tuple[int, ...] = ()) -> list[Op]:
    """Every operator in ``text`` (see the module docstring), in text order, without overlaps.

    ``taken`` marks characters no number may come from (node names, horizons); not changed.
    ``node_starts``: where node mentions start ("only p2 may supply c4" needs a node after "only").
    """
    ops: list[Op] = []
    busy = [False] * len(text)

    def claim(op: Op, number_span: tuple[int, int] | None = None) -> bool:
        if not _free(busy, op.start, op.end):
            return False
        if number_span is not None and not _free(taken, *number_span):
            return False
        for i in range(op.start, op.end):
            busy[i] = True
        ops.append(op)
        return True

    for m in _WHY_NOT.finditer(text):
        claim(Op("why_not", m.start(), m.end()))
    for m in _WHY.finditer(text):
        claim(Op("why", m.start(), m.end()))
    for m in _EXCLUSIVE.finditer(text):
        claim(Op("exclusive", m.start(), m.end()))
    for pat in _FORCE:
        for m in pat.finditer(text):
            try:
                n = to_number(m.group("n"))
            except ValueError:
                continue
            claim(Op("force", m.start(), m.end(), value=n), m.span("n"))
    for pat, attr, direction in _FUSED_AMOUNT:
        for m in pat.finditer(text):
            kv = amount_value(m, "a_")
            if kv is None or kv[0] == "abs":
                continue
            f = factor_from(direction, kv[0], abs(kv[1]), zh=zh)
            if f is not None and f >= 0:
                claim(Op("factor", m.start(), m.end(), factor=f, implied=attr), _number_span(m))
    for m in _DISCOUNT.finditer(text):
        claim(Op("factor", m.start(), m.end(), factor=to_number(m.group("n")) / 10.0, implied="price"))
    for pat, mode in _FACTOR_PATTERNS:
        for m in pat.finditer(text):
            op = _factor_op(m, mode, zh)
            if op is not None:
                claim(op, _number_span(m))
    for pat, implied in _SET_PATTERNS:
        for m in pat.finditer(text):
            if implied == "to" and not re.search(_SET_VERBS_EN, text[max(0, m.start() - 80) : m.start()]):
                continue
            try:
                v = to_number(m.group("n"))
            except ValueError:
                continue
            claim(
                Op("set", m.start(), m.end(), value=v, implied=None if implied == "to" else implied),
                m.span("n"),
            )
    for pat, sign in _DELTA:
        for m in pat.finditer(text):
            try:
                v = to_number(m.group("n"))
            except ValueError:
                continue
            claim(Op("delta", m.start(), m.end(), value=sign * v), m.span("n"))
    for pat in _DEMAND_SET:
        for m in pat.finditer(text):
            try:
                v = to_number(m.group("n"))
            except ValueError:
                continue
            claim(Op("set", m.start(), m.end(), value=v, implied="demand"), m.span("n"))
    for pat in _BUY_UP_TO:
        for m in pat.finditer(text):
            try:
                v = to_number(m.group("n"))
            except ValueError:
                continue
            claim(Op("set", m.start(), m.end(), value=v, implied="capacity"), m.span("n"))
    for m in re.finditer(rf"(?<![a-z])by\s+{_AMT}", text):
        kv = amount_value(m, "a_")
        if kv is None:
            continue
        kind = "delta" if kv[0] == "abs" else "factor"
        claim(Op(kind, m.start(), m.end(), value=kv[1], implied=kv[0], pending="by"), _number_span(m))
    for m in _SOURCE.finditer(text):
        claim(Op("source", m.start(), m.end()))
    for m in _RESTRICT.finditer(text):
        claim(Op("restrict", m.start(), m.end()))
    for m in _ONLY_NODE.finditer(text):
        if any(
            re.fullmatch(r"\s*(?:the\s+)?(?:[a-z]+\s+)?|[^\sa-z0-9]{0,3}", text[m.end() : n])
            for n in node_starts
            if n >= m.end()
        ):
            claim(Op("source", m.start(), m.end(), only_before=m.end()))
    for m in _CLOSE.finditer(text):
        claim(Op("close", m.start(), m.end()))
    for m in _FORBID.finditer(text):
        claim(Op("forbid", m.start(), m.end()))
    return sorted(ops, key=lambda o: o.start)


def _number_span(m: re.Match[str]) -> tuple[int, int] | None:
    for name, val in m.groupdict().items():
        if (
            val is not None
            and name.startswith("a_")
            and name[2:]
            in (
                "pct",
                "pctw",
                "pctcn",
                "cheng",
                "fden",
                "fnum",
                "timesn",
                "timesx",
                "xtimes",
                "abs",
            )
        ):
            return m.span(name)
    for name in ("sv", "mv", "n"):
        if m.groupdict().get(name) is not None:
            return m.span(name)
    return None


def _factor_op(m: re.Match[str], mode: str, zh: bool) -> Op | None:
    s, e = m.start(), m.end()
    if mode.startswith("x"):
        if mode == "x2" and m.groupdict().get("fan"):
            n = {"一": 1, "两": 2, "二": 2, "三": 3}[m.group("fan")]
            return Op("factor", s, e, factor=float(2**n))
        return Op("factor", s, e, factor=float(mode[1:]))
    if mode == "sign":
        v = float(m.group("sv")) / 100.0
        return Op("factor", s, e, factor=1.0 + v if m.group("sg") == "+" else 1.0 - v)
    if mode == "mult":
        return Op("factor", s, e, factor=float(m.group("mv")))
    kv = amount_value(m, "a_")
    if kv is None:
        return None
    kind, val = kv
    gd = m.groupdict()
    if mode == "by":
        direction = "up" if gd.get("dir_up") else "down"
        if kind == "abs":  # an absolute change ("up 20 units"): a new value where the base is known
            return Op("delta", s, e, value=val if direction == "up" else -val)
        if kind == "rel" and val < 0:  # "-10%" after a direction word
            val = -val
        f = factor_from(direction, kind, val, zh=zh)
    else:  # "to", "level"
        if kind == "abs":
            return Op("set", s, e, value=val) if mode == "to" else None
        f = factor_from("to", kind, val, zh=zh)
    if f is None or f < 0:
        return None
    return Op("factor", s, e, factor=f)


def resolve_pending(op: Op, clause: str) -> Op | None:
    """An English "by N%" op takes its direction from the last raise/cut verb in ``clause``."""
    ups = [m.end() for m in re.finditer(_BY_VERBS_UP, clause)]
    downs = [m.end() for m in re.finditer(_BY_VERBS_DOWN, clause)]
    if not ups and not downs:
        return None
    direction = "up" if (max(ups) if ups else -1) > (max(downs) if downs else -1) else "down"
    if op.kind == "delta":
        v = op.value or 0.0
        return Op("delta", op.start, op.end, value=v if direction == "up" else -v)
    f = factor_from(direction, op.implied or "rel", op.value or 0.0)
    if f is None or f < 0:
        return None
    return Op("factor", op.start, op.end, factor=f)
