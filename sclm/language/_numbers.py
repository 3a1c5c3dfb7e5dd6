"""Numbers in instructions: Chinese and English numerals, percentages, fractions, multiples, and
forecast horizons in days.

All functions read *normalised* text (lower case, half-width, no spaces next to CJK characters;
see :func:`sclm.language.instructions.normalise`).

Horizons: a day is 1, a week 7, a fortnight 14, a month 30, a quarter 90, a year 365 days.
Relative words: 今天/today and 明天/tomorrow = 1, 后天/the day after tomorrow = 2, 大后天 = 3,
下周/本周/next week/the coming week = 7, 下个月/next month = 30, 下季度/next quarter = 90,
明年/next year = 365, 半个月 = 15, 半年 = 180, a couple of weeks = 14.  Spans that look back
(过去/最近/近/上/历史/last/past/previous/..., "60 days of history") are windows of past data,
not horizons; they are returned with ``days=None`` so the caller can ignore them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# ---------------------------------------------------------------------------- numerals
_CN_DIGIT = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "俩": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_UNIT = {"十": 10, "百": 100, "千": 1000, "万": 10000}

DIGITS = r"\d+(?:\.\d+)?"
CN_NUM = r"[零〇一二两俩三四五六七八九十百千万]+(?:点[零〇一二三四五六七八九]+)?"
_EN_SMALL = {
    "zero": 0,
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "couple": 2,
    "a couple of": 2,
    "a dozen": 12,
    "dozen": 12,
    "a few": None,
}
_EN_TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_EN_WORD = (
    r"(?:(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[- ](?:one|two|three|four|five|"
    r"six|seven|eight|nine))?|zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|(?:one |a )?hundred)"
)
EN_NUM = rf"(?:{_EN_WORD})"
NUM = rf"(?:{DIGITS}|{CN_NUM}|(?<![a-z]){EN_NUM}(?![a-z]))"


def cn_int(s: str) -> int:
    """A Chinese integer numeral: ``十五`` -> 15, ``二十一`` -> 21, ``一百二十`` -> 120, ``两千`` -> 2000."""
    total = section = number = 0
    for ch in s:
        if ch in _CN_DIGIT:
            number = number * 10 + _CN_DIGIT[ch] if number and ch not in "零〇" else _CN_DIGIT[ch]
        elif ch in _CN_UNIT:
            unit = _CN_UNIT[ch]
            if unit == 10000:
                total += (section + number) * unit
                section = 0
            else:
                section += (number or 1) * unit
            number = 0
        else:
            raise ValueError(f"not a Chinese numeral: {s!r}")
    return total + section + number


def to_number(s: str) -> float:
    """Digits, a Chinese numeral (``一点五`` = 1.5) or English number words (``twenty-one``)."""
    s = s.strip()
    if re.fullmatch(DIGITS, s):
        return float(s)
    if re.fullmatch(CN_NUM, s):
        if "点" in s:
            whole, frac = s.split("点", 1)
            return float(cn_int(whole) if whole else 0) + float(
                "0." + "".join(str(_CN_DIGIT[c]) for c in frac)
            )
        return float(cn_int(s))
    words = s.replace("-", " ").split()
    total = 0.0
    for w in words:
        if w in _EN_TENS:
            total += _EN_TENS[w]
        elif w == "hundred":
            total = (total or 1) * 100
        elif w in _EN_SMALL and _EN_SMALL[w] is not None:
            total += _EN_SMALL[w]  # type: ignore[operator]
        else:
            raise ValueError(f"not a number: {s!r}")
    return total


# ---------------------------------------------------------------------------- amounts
_FRAC_EN = {
    "half": 2,
    "halves": 2,
    "third": 3,
    "thirds": 3,
    "quarter": 4,
    "quarters": 4,
    "fourth": 4,
    "fourths": 4,
    "fifth": 5,
    "fifths": 5,
    "sixth": 6,
    "sixths": 6,
    "seventh": 7,
    "sevenths": 7,
    "eighth": 8,
    "eighths": 8,
    "tenth": 10,
    "tenths": 10,
}
_NUMERATOR_EN = r"(?:a|an|one|two|three|four|five|six|seven|eight|nine|\d+)"

# One amount: a share of the base ("rel"), a multiple ("times") or a plain number ("abs").
AMOUNT = (
    r"(?<![a-z_])(?:"
    rf"(?P<sign>[+\-])?\s*(?P<pct>{DIGITS})\s*(?:%|percent\b|per cent\b|pct\b|个百分点|percentage points?\b)"
    rf"|(?P<pctw>{EN_NUM})\s+(?:percent|per cent)\b"
    rf"|百分之(?P<pctcn>{CN_NUM}|{DIGITS})"
    r"|(?P<cheng>[一二两三四五六七八九十]|\d)成(?:(?P<chenghalf>半)|(?P<chengd>[一二三四五六七八九]|\d)(?![\d十百千万个天周月年]))?"
    r"(?![本为了功])"
    rf"|(?P<fden>{CN_NUM}|\d+)分之(?P<fnum>{CN_NUM}|\d+)"
    r"|(?P<halfcn>一半|半数)"
    rf"|(?:(?P<fennum>{_NUMERATOR_EN})[\s-]+)?(?P<fen>half|halves|thirds?|quarters?|fourths?|fifths?|"
    r"sixths?|sevenths?|eighths?|tenths?)\b"
    rf"|(?P<timesn>{DIGITS}|{CN_NUM})\s*倍"
    rf"|(?P<timesx>{DIGITS})\s*(?:x\b|×|times\b|-?fold\b)|(?:x|×|\*)\s*(?P<xtimes>{DIGITS})\b"
    rf"|(?P<timesw>two|three|four|five|ten)[\s-]?(?:times|fold)\b"
    rf"|(?P<abs>{DIGITS}|{CN_NUM})"
    r")"
)


def amount_value(m: re.Match[str], prefix: str = "") -> tuple[str, float] | None:
    """``("rel", share)``, ``("times", multiple)`` or ``("abs", number)`` for an AMOUNT match.

    ``prefix`` is prepended to the group names (for patterns that hold several amounts).
    """

    def g(name: str) -> str | None:
        return m.groupdict().get(prefix + name)

    try:
        if g("pct") is not None:
            v = float(g("pct")) / 100.0  # type: ignore[arg-type]
            return ("rel", -v if g("sign") == "-" else v) if g("sign") else ("rel", v)
        if g("pctw") is not None:
            return ("rel", to_number(g("pctw")) / 100.0)  # type: ignore[arg-type]
        if g("pctcn") is not None:
            return ("rel", to_number(g("pctcn")) / 100.0)  # type: ignore[arg-type]
        if g("cheng") is not None:
            tail = 0.05 if g("chenghalf") else (to_number(g("chengd")) / 100.0 if g("chengd") else 0.0)  # type: ignore[arg-type]
            return ("rel", to_number(g("cheng")) / 10.0 + tail)  # type: ignore[arg-type]
        if g("fden") is not None:
            return ("rel", to_number(g("fnum")) / to_number(g("fden")))  # type: ignore[arg-type]
        if g("halfcn") is not None:
            return ("rel", 0.5)
        if g("fen") is not None:
            num = g("fennum")
            n = 1.0 if num in (None, "a", "an") else to_number(num)  # type: ignore[arg-type]
            return ("rel", n / _FRAC_EN[g("fen")])  # type: ignore[index]
        if g("timesn") is not None:
            return ("times", to_number(g("timesn")))  # type: ignore[arg-type]
        if g("timesx") is not None:
            return ("times", float(g("timesx")))  # type: ignore[arg-type]
        if g("xtimes") is not None:
            return ("times", float(g("xtimes")))  # type: ignore[arg-type]
        if g("timesw") is not None:
            return ("times", to_number(g("timesw")))  # type: ignore[arg-type]
        if g("abs") is not None:
            return ("abs", to_number(g("abs")))  # type: ignore[arg-type]
    except (ValueError, ZeroDivisionError):
        return None
    return None


def factor_from(direction: str, kind: str, value: float, *, zh: bool = False) -> float | None:
    """The multiplicative factor of a change.

    ``direction`` is ``"up"`` (by), ``"down"`` (by) or ``"to"``.  Chinese 增加一倍 is x2 and
    增加两倍 x3 (the base plus two times the base); 减少一倍 is read as halving; English "up 2x"
    is x2.  Returns ``None`` for an absolute change (``"up", "abs"``), which is not a factor.
    """
    if kind == "abs":
        return None
    if direction == "to":
        return value
    if kind == "rel":
        return 1.0 + value if direction == "up" else 1.0 - value
    # a multiple
    if direction == "up":
        return 1.0 + value if zh else value
    return 1.0 / (1.0 + value) if zh else 1.0 / value


# ---------------------------------------------------------------------------- horizons
_UNIT_DAYS = {
    "天": 1,
    "日": 1,
    "周": 7,
    "星期": 7,
    "礼拜": 7,
    "月": 30,
    "季度": 90,
    "季": 90,
    "年": 365,
    "旬": 10,
    "day": 1,
    "days": 1,
    "week": 7,
    "weeks": 7,
    "fortnight": 14,
    "fortnights": 14,
    "month": 30,
    "months": 30,
    "quarter": 90,
    "quarters": 90,
    "year": 365,
    "years": 365,
}
# abbreviations: 30d, 2wk(s), 3w, 6 mos, 1 yr
_UNIT_DAYS.update(
    {"d": 1, "wk": 7, "wks": 7, "w": 7, "mo": 30, "mos": 30, "mth": 30, "mths": 30, "yr": 365, "yrs": 365}
)

_PAST_ZH = r"(?:过去|最近|近|前|上|历史|以往|之前|此前|往前|过往)"
_FUTURE_ZH = r"(?:未来|接下来|今后|之后|往后|后面|此后|随后|以后|下|后续|将来|向后)"
_RELATIVE: list[tuple[str, int | None]] = [
    (r"大后天", 3),
    (r"后天", 2),
    (r"明天|明日|明早|明晚|明儿|翌日|次日", 1),
    (r"今天|今日|当天|本日|今晚", 1),
    (r"下(?:个|一个|一)?(?:星期|礼拜|周)", 7),
    (r"(?:本|这|这个)(?:星期|礼拜|周)", 7),
    (r"双周", 14),
    (r"下(?:个|一个|一)?月", 30),
    (r"(?:本|这个)月", 30),
    (r"下(?:个|一个|一)?季度?", 90),
    (r"(?:本|这个)季度", 90),
    (r"明年|来年|下一?年", 365),
    (r"半个?月", 15),
    (r"半年", 180),
    (r"(?:上|前)(?:个|一个|一)?(?:星期|礼拜|周|月|季度)|去年|昨天|前天|上旬", None),
    (r"the day after tomorrow", 2),
    (r"tomorrow", 1),
    (r"today|tonight|this evening", 1),
    (r"(?:the )?(?:next|coming|following|upcoming) week|this week|the week ahead|a week from now", 7),
    (r"(?:the )?(?:next|coming|following|upcoming) fortnight|a fortnight", 14),
    (r"(?:the )?(?:next|coming|following|upcoming) couple (?:of )?weeks|a couple (?:of )?weeks", 14),
    (r"(?:the )?(?:next|coming|following|upcoming) couple (?:of )?days|a couple (?:of )?days", 2),
    (r"(?:the )?(?:next|coming|following|upcoming) month|this month|the month ahead", 30),
    (r"(?:the )?(?:next|coming|following|upcoming) quarter|this quarter|the quarter ahead", 90),
    (r"(?:the )?(?:next|coming|following|upcoming) year|this year|the year ahead", 365),
    (r"(?:last|past|previous|prior|preceding) (?:week|month|quarter|year|fortnight)|yesterday", None),
]

_H_ZH = re.compile(
    rf"(?P<pre>{_PAST_ZH}|{_FUTURE_ZH})?(?:的)?(?P<neg>负|-|−)?(?P<n>{DIGITS}|{CN_NUM})(?P<half>个半)?"
    r"(?P<ge>个)?(?P<unit>天|日|星期|礼拜|周|月|季度|旬|年)(?P<post>内|以内|之内|后|以后|之后|里|左右)?"
)
_H_EN = re.compile(
    r"(?P<pre>(?:over |for |during |within |in |across )?(?:the )?(?:next|coming|following|upcoming)|"
    r"(?:over|for|during|within|in|across)(?: the)?|(?:the )?(?:last|past|previous|prior|preceding|recent))?"
    rf"\s*(?P<neg>-|−|minus |negative )?(?P<n>{DIGITS}|{EN_NUM}|a|an|one)(?:(?![a-z0-9])[\s-]*|(?<=\d)(?=[a-z]))"
    r"(?P<unit>days?|weeks?|fortnights?|months?|quarters?|years?|wks?|mths?|mos|yrs?|(?<=\d)(?:d|w|mo))\b"
    r"(?P<post>\s+(?:ahead|out|from now|later|away|horizon|of (?:history|data|sales|past|historical)|ago|"
    r"back|before))?"
)
_H_EXPLICIT = re.compile(
    r"(?<![a-z])(?:horizon|h)\s*(?:=|:|of)?\s*(?P<neg>-)?(?P<n>\d+)(?:\s*(?P<unit>days?|天))?"
)


@dataclass(frozen=True)
class Horizon:
    """A horizon mention: ``text[start:end]``; ``days`` is ``None`` for a look-back window."""

    start: int
    end: int
    days: int | None
    future_marked: bool = False


def find_horizons(text: str) -> list[Horizon]:
    """Every horizon (and look-back window) mentioned in ``text``, in text order.

    A negative count (``-5 天``, ``负10天``, ``the next -7 days``) gives a negative ``days``.
    """
    out: list[Horizon] = []
    taken = [False] * len(text)

    def add(s: int, e: int, days: int | None, future: bool = False) -> None:
        if any(taken[s:e]):
            return
        for i in range(s, e):
            taken[i] = True
        out.append(Horizon(s, e, days, future))

    for m in _H_EXPLICIT.finditer(text):
        n = int(m.group("n"))
        add(m.start(), m.end(), -n if m.group("neg") else n, True)
    for m in _H_ZH.finditer(text):
        try:
            n = to_number(m.group("n"))
        except ValueError:
            continue
        unit, pre = m.group("unit"), m.group("pre") or ""
        if unit == "年" and n >= 1900:  # a year date, 2024年
            continue
        if unit == "月" and not m.group("ge") and not re.fullmatch(_FUTURE_ZH, pre) and not m.group("half"):
            continue  # 5月 is May, not five months
        if m.group("half"):
            n += 0.5
        days: int | None = int(round(n * _UNIT_DAYS[unit]))
        if m.group("neg"):
            days = -days  # type: ignore[operator]
        if pre and re.fullmatch(_PAST_ZH, pre):
            days = None
        add(m.start(), m.end(), days, bool(pre) and days is not None)
    for m in _H_EN.finditer(text):
        raw = m.group("n")
        try:
            n = 1.0 if raw in ("a", "an") else to_number(raw)
        except ValueError:
            continue
        pre, post = (m.group("pre") or "").strip(), (m.group("post") or "").strip()
        if raw in ("a", "an", "one") and not pre and not post:
            continue  # "a quarter" (of capacity), "a day" (a rate)
        if re.search(r"(?:per|each|every|/)\s*$", text[max(0, m.start() - 6) : m.start()]) and not pre:
            continue
        days = int(round(n * _UNIT_DAYS[m.group("unit")]))
        if m.group("neg"):
            days = -days
        if re.search(r"last|past|previous|prior|preceding|recent", pre) or re.match(
            r"of |ago|back|before", post
        ):
            days = None
        add(m.start(), m.end(), days, bool(re.search(r"next|coming|following|upcoming", pre)))
    for pat, days in _RELATIVE:
        for m in re.finditer(pat, text):
            add(m.start(), m.end(), days, days is not None)
    return sorted(out, key=lambda h: h.start)
