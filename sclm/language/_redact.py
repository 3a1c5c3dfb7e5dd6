"""Rule-based redaction of person names, e-mail addresses and phone numbers in instructions.

Used by :mod:`sclm.language.llm` before any text leaves the machine.  It needs no model, so it
runs wherever the adapter runs.  What it finds (and its limits):

- **E-mail addresses**: ``local@domain.tld``.
- **Phone numbers**: international numbers written with a leading ``+`` (``+44 20 7946 0958``,
  ``+1 (555) 010-4477``), Chinese mobile numbers (``13812345678``, ``138-1234-5678``,
  ``+86 138 1234 5678``), Chinese landlines with an area code (``010-12345678``,
  ``(021) 6234 5678``) and any other run of digit groups joined by spaces, dots or hyphens with at
  least 9 digits in all.  Dates (``2024-03-05``: 8 digits), quantities (``1,200``, ``20%``) and
  horizons (``30 days``) are left alone; a bare run of digits that is not a Chinese mobile number
  (an order number such as ``4500012345``) is left alone too.
- **Person names**: a courtesy title or role before a capitalised name (``Mr./Mrs./Ms./Miss/Dr./
  Prof.``, ``contact``, ``attn``, ``ask``, ``call``, ``cc``, ``signed by``, ``regards,``:
  ``Dr. Ana Silva`` → ``Dr. [PER]``, ``contact John Smith`` → ``contact [PER]``), and in Chinese
  a common surname before a title (``张伟经理``, ``王先生``, ``李女士``, ``陈总``) or a name after
  ``联系人`` / ``联系`` / ``负责人`` / ``收件人`` / ``经办人`` (``联系人：刘洋``).

Limits: these are cues, not a tagger.  A name with no cue (``John approved the plan``, ``张伟说``)
is not found; a Chinese given name is taken to be one or two characters, so a name may be cut
short or take one following character with it (``联系张伟明天`` → ``联系[PER]天``); a capitalised
word after a cue that is not a name (``contact Warehouse North``) is redacted unless it is in
``keep`` (the network's node and product names are passed there).  For documents, where a
trained tagger is available, :func:`sclm.documents.redact` finds names by their context.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["redact"]

EMAIL_RE = re.compile(r"(?<![\w.%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")

# +86 138 1234 5678, 138-1234-5678, 13812345678 (11 digits starting 13-19)
_CN_MOBILE = r"(?:(?:\+|00)86[\s-]?)?1[3-9]\d(?:[\s-]?\d{4}){2}"
# 010-12345678, (021) 6234 5678, 0755-8888 6666
_CN_LANDLINE = r"(?:\(0\d{2,3}\)|0\d{2,3})[\s-]?\d{3,4}[\s-]?\d{4}"
# +44 20 7946 0958, +1 (555) 010-4477, +49-30-1234567
_INTL = r"(?:\+|00)\d{1,3}(?:[\s.-]?\(\d{1,4}\))?(?:[\s.-]?\d{1,5}){1,5}"
# 555 010 4477, 555.010.4477 (kept only with >= 9 digits)
_GROUPS = r"(?:\(\d{2,4}\)[\s.-]?)?\d{2,5}(?:[\s.-]\d{2,5}){1,4}"
PHONE_RE = re.compile(
    rf"(?<![A-Za-z0-9_+/.,-])(?:{_CN_MOBILE}|{_CN_LANDLINE}|{_INTL}|{_GROUPS})(?![A-Za-z0-9_/%-]|[.,]\d)"
)
PHONE_MIN_DIGITS = 9

_TITLE_WORD = r"(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Madam)"
_TITLE = rf"{_TITLE_WORD}\.?"
_CUE = (
    r"(?:[Cc]ontact(?:\s+person)?:?|[Aa]ttn\.?:?|[Aa]ttention:?|[Aa]sk|[Cc]all|[Cc][Cc]:?|"
    r"[Ss]igned\s+by|[Rr]egards,|[Ss]incerely,|[Ee]-?mail|[Tt]ell|[Ii]nform|[Nn]otify)"
)
_CAP_NAME = r"[A-Z][a-z]+(?:['-][A-Z]?[a-z]+)?"
EN_NAME_RE = re.compile(
    rf"\b(?:{_TITLE}|{_CUE})\s+(?!{_TITLE_WORD}\b)(?P<name>{_CAP_NAME}(?:\s+{_CAP_NAME}){{0,2}})(?=$|[^\w@])"
)

_SURNAMES_2 = "欧阳|司马|诸葛|上官|东方|皇甫|慕容|令狐|夏侯|公孙|尉迟|长孙|宇文|司徒|端木"
_SURNAMES_1 = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
    "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚"
    "邵万钱严覃武戴莫孔向汤"
)
_ZH_TITLE = r"(?:先生|女士|小姐|太太|经理|总监|主管|主任|老师|博士|教授|师傅|总(?=[，,。、；;：:\s说]|$))"
# a surname is not one after a word it ends (下周, 每周, 提高, 对于, ...)
_ZH_SURNAME = rf"(?<![下每本上这几两一二三四五六七八九十\d提资对由地方流])(?:{_SURNAMES_2}|[{_SURNAMES_1}])"
# given-name characters: CJK ideographs other than the domain words of an instruction
_ZH_GIVEN = r"(?:(?![库存产量物流需求计划仓厂店运输配送预测销售采购部门货品的和与及在是])[\u4e00-\u9fff])"
ZH_NAME_BEFORE_TITLE_RE = re.compile(rf"(?P<name>{_ZH_SURNAME}{_ZH_GIVEN}{{0,2}}?){_ZH_TITLE}")
ZH_NAME_AFTER_CUE_RE = re.compile(
    rf"(?:(?:联系人|联系(?!方式|电话|地址)|负责人|收件人|经办人|对接人)[:：\s]*|致[:：]\s*)"
    rf"(?P<name>{_ZH_SURNAME}{_ZH_GIVEN}{{1,2}})"
)


def _digits(s: str) -> int:
    return sum(c.isdigit() for c in s)


def redact(text: str, keep: Iterable[str] = ()) -> tuple[str, list[tuple[str, str]]]:
    """Replace person names, e-mail addresses and phone numbers by placeholders.

    Names → ``[PER]``, e-mail addresses → ``[EMAIL]``, phone numbers → ``[PHONE]``.  Rule-based;
    see the module docstring for what is found and what is not.

    Parameters
    ----------
    text
        The text (e.g. an instruction), English or Chinese.
    keep
        Names never to redact (e.g. a network's node and product names): a cue followed by one of
        them (``contact Plant A``) leaves it in place.

    Returns
    -------
    redacted : str
        ``text`` with each finding replaced.
    found : list of (kind, original)
        What was replaced, in order of position; ``kind`` is ``"PER"``, ``"EMAIL"`` or ``"PHONE"``.

    Raises
    ------
    TypeError
        ``text`` is not a ``str``.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    kept = {k.strip().casefold() for k in keep if isinstance(k, str) and k.strip()}
    cuts: list[tuple[int, int, str]] = [(m.start(), m.end(), "EMAIL") for m in EMAIL_RE.finditer(text)]
    cuts += [
        (m.start(), m.end(), "PHONE")
        for m in PHONE_RE.finditer(text)
        if _digits(m.group()) >= PHONE_MIN_DIGITS or re.fullmatch(_CN_MOBILE, m.group())
    ]
    for rx in (EN_NAME_RE, ZH_NAME_BEFORE_TITLE_RE, ZH_NAME_AFTER_CUE_RE):
        for m in rx.finditer(text):
            rest = text[m.start("name") :].casefold()
            if any(rest.startswith(k) for k in kept):
                continue
            cuts.append((m.start("name"), m.end("name"), "PER"))
    out, found, pos = [], [], 0
    for start, end, kind in sorted(cuts, key=lambda c: (c[0], -c[1])):
        if start < pos:  # overlaps a cut already made (e.g. a name inside an e-mail address)
            continue
        out += [text[pos:start], f"[{kind}]"]
        found.append((kind, text[start:end]))
        pos = end
    out.append(text[pos:])
    return "".join(out), found
