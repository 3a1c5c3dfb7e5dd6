"""Small text helpers shared by the document generators and the document reader.

:mod:`sclm.scenarios.documents` writes texts with them and :mod:`sclm.documents` reads texts
with them, so both agree on how a name splits into tokens, how Chinese tokens join back into a
text and how months are spelt.  Plain Python (``re`` only): importing it costs nothing.  See
``docs/architecture.md`` for where it sits.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["MONTHS", "join_zh", "join_zh_offsets", "name_tokens", "zh_tokens"]

MONTHS: tuple[str, ...] = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
"""English month names, January first (``MONTHS[ts.month - 1]``)."""

_EN_NAME = re.compile(r"[^\s,;:()]+|[,;:()]")
_ZH_TOKEN = re.compile(r"\+?[A-Za-z0-9][A-Za-z0-9@._/'+&-]*|\S")
_CJK_CHAR = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")


def name_tokens(name: str, lang: str = "en") -> list[str]:
    """Split a name into tokens: English on spaces with ``, ; : ( )`` apart; Chinese per
    character with Latin/digit runs kept whole (:func:`zh_tokens`).

    >>> name_tokens("Harrow & Finch Trading, Ltd")
    ['Harrow', '&', 'Finch', 'Trading', ',', 'Ltd']
    """
    return zh_tokens(name) if lang == "zh" else _EN_NAME.findall(name)


def zh_tokens(text: str) -> list[str]:
    """Chinese tokens: one per CJK character or punctuation mark, Latin/digit runs whole.

    >>> zh_tokens("华东物流于2024年3月5日发货 Aurobindo Pharma")
    ['华', '东', '物', '流', '于', '2024', '年', '3', '月', '5', '日', '发', '货', 'Aurobindo', 'Pharma']
    """
    return _ZH_TOKEN.findall(text)


def join_zh(tokens: Sequence[str]) -> str:
    """Join Chinese tokens: no spaces, except one between two non-CJK tokens
    (``Aurobindo Pharma``).

    >>> join_zh(["华", "东", "Aurobindo", "Pharma", "2024", "年"])
    '华东Aurobindo Pharma 2024年'
    """
    return join_zh_offsets(tokens)[0]


def join_zh_offsets(tokens: Sequence[str]) -> tuple[str, list[int]]:
    """:func:`join_zh`'s text and each token's start offset in it.

    >>> join_zh_offsets(["华", "Aurobindo", "Pharma"])
    ('华Aurobindo Pharma', [0, 1, 11])
    """
    out: list[str] = []
    starts: list[int] = []
    pos = 0
    for i, tok in enumerate(tokens):
        if i and not _CJK_CHAR.match(tok[:1]) and not _CJK_CHAR.match(tokens[i - 1][-1:]):
            out.append(" ")
            pos += 1
        starts.append(pos)
        out.append(tok)
        pos += len(tok)
    return "".join(out), starts
