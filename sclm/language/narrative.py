"""Recommendations written from computed results, with a checker that every number is grounded.

:func:`recommend` turns an :class:`sclm.assistant.Answer` (or the same fields as a dict) into a
short text in Chinese or English: the question as understood, the decision, the few numbers
that matter, the confidence (forecast interval, what-if delta), the main drivers (forecast and
explain questions) and what to watch.  The templates live in :mod:`sclm._ask_text`; every
number they write is a value of the answer's ``values`` (the flat view of its task, result,
baseline and delta), and :func:`recommend` proves it with :func:`check_numbers` before it
returns: a number that is not grounded raises :class:`UngroundedNumberError`.

Numbers in a text (:func:`extract_numbers`)
-------------------------------------------
* integers and decimals, with thousands separators (``1,234.5``: a comma followed by exactly
  three digits), a leading sign (``-12``, ``−12``, ``+20%``: a sign counts only where it does
  not follow a letter, digit or closing bracket, so the ``-`` of ``1-7`` is a dash), a percent
  sign (``12.3%``, ``12.3 %``, ``１２％``), and the Chinese multipliers 万 (10⁴) and 亿 (10⁸)
  (``1.2万`` = 12,000 written to the nearest thousand);
* digits inside Chinese text (``成本为1234元``) are numbers; full-width digits are read as digits;
* digits that belong to a name are not numbers: a digit run that follows an ASCII letter,
  digit, underscore or dot (``plant_01``, ``c1``, ``q0.1``, ``P-n55-k15``) is part of that name;
* dates are values too, not numbers: ``2023-05-01`` and ``2023年5月1日`` are read as one date
  each and must be among the values as a date (a ``datetime.date``, a timestamp, or an ISO
  string ``YYYY-MM-DD``);
* Chinese-character numerals (三, 十二, 百分之二十) are not read: the templates never write them.

When a number is grounded (:func:`check_numbers`)
-------------------------------------------------
A number written with *d* decimals is grounded when some value rounds to it at *d* decimals
(``|value - number| <= 0.5·10⁻ᵈ``): 1234.567 may be quoted as ``1,234.6``, ``1234.57`` or
``1235``, never as ``1,200``.  A percentage ``p%`` is grounded by a value *v* with ``100·v``
(a share: 0.123 → ``12.3%``) or *v* itself (already in percent) rounding to *p*.  An unsigned
number is grounded by a value of either sign (the text says "falls by 120" for a delta of
−120); a signed one (``-120``, ``+20%``) only by a value of that sign.  Booleans and strings
other than ISO dates in the values are ignored; nested mappings and sequences are flattened.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "NumberToken",
    "UngroundedNumberError",
    "check_numbers",
    "extract_numbers",
    "flatten_values",
    "recommend",
]

# Full-width digits, dot, percent and the minus signs → ASCII, one character for one (so spans
# in the normalised text are spans in the original).
_TRANSLATE = str.maketrans("０１２３４５６７８９．％－−＋", "0123456789.%--+")
_NAME_CHAR = re.compile(r"[A-Za-z0-9_.]")
_NO_SIGN_AFTER = re.compile(r"[A-Za-z0-9_)\]）】]")
_DATE = re.compile(
    r"(?<![A-Za-z0-9_.])(?P<y>\d{4})(?:-(?P<m>\d{2})-(?P<d>\d{2})|年(?P<zm>\d{1,2})月(?P<zd>\d{1,2})日)(?![0-9])"
)
_NUMBER = re.compile(
    r"(?<![A-Za-z0-9_.])(?<![A-Za-z]-)"  # "cafe-4", "DC-2": part of a name, not a number
    r"(?P<int>\d{1,3}(?:,\d{3})+(?![0-9])|\d+)"
    r"(?:\.(?P<frac>\d+))?"
    r"(?P<pct>[ \u00a0\u202f]?%)?"
    r"(?P<mult>[万亿])?"
)
_MULT = {"万": 1e4, "亿": 1e8}


@dataclass(frozen=True)
class NumberToken:
    """One number (or date) found in a text.

    Attributes
    ----------
    text : str
        As written, e.g. ``"-1,234.5"``, ``"12.3 %"``, ``"2023-05-01"``.
    start, end : int
        Span in the text.
    value : float
        The number (percent: the number before ``%``, e.g. 12.3; 万: times 10⁴); NaN for dates.
    decimals : int
        Digits after the decimal point as written (precision: ``0.5·10⁻ᵈ``, times the multiplier).
    percent, signed : bool
        Written with ``%``; written with an explicit sign.
    scale : float
        The Chinese multiplier (1, 10⁴ or 10⁸).
    date : str or None
        ISO ``YYYY-MM-DD`` for a date (then ``kind == "date"``).
    """

    text: str
    start: int
    end: int
    value: float
    decimals: int = 0
    percent: bool = False
    signed: bool = False
    scale: float = 1.0
    date: str | None = None

    @property
    def kind(self) -> str:
        return "date" if self.date is not None else "number"

    @property
    def tolerance(self) -> float:
        """Half a unit of the last written digit (in the token's units)."""
        return 0.5 * 10.0 ** (-self.decimals) * self.scale


class UngroundedNumberError(ValueError):
    """A generated text quotes a number that is not a value of the results."""

    def __init__(self, numbers: list[str], text: str) -> None:
        self.numbers = numbers
        self.text = text
        super().__init__(
            f"the text quotes {len(numbers)} number(s) not found among the result values: "
            f"{', '.join(repr(n) for n in numbers)}\n--- text ---\n{text}"
        )


def extract_numbers(text: str) -> list[NumberToken]:
    """Every number and date in ``text``, in order (rules in the module docstring).

    Parameters
    ----------
    text : str
        Chinese or English prose.

    Returns
    -------
    list of NumberToken
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    norm = text.translate(_TRANSLATE)
    tokens: list[NumberToken] = []
    taken = np.zeros(len(norm) + 1, dtype=bool)
    for m in _DATE.finditer(norm):
        y, mo, d = int(m["y"]), int(m["m"] or m["zm"]), int(m["d"] or m["zd"])
        try:
            iso = _dt.date(y, mo, d).isoformat()
        except ValueError:
            continue  # not a calendar date (e.g. 2023-13-45): read its parts as numbers
        tokens.append(NumberToken(text[m.start() : m.end()], m.start(), m.end(), math.nan, date=iso))
        taken[m.start() : m.end()] = True
    for m in _NUMBER.finditer(norm):
        if taken[m.start()]:
            continue
        start = m.start()
        signed = False
        if start > 0 and norm[start - 1] in "-+":
            before = norm[start - 2] if start >= 2 else ""
            if not before or not _NO_SIGN_AFTER.match(before):
                start -= 1
                signed = True
        digits = m["int"].replace(",", "") + (f".{m['frac']}" if m["frac"] else "")
        scale = _MULT.get(m["mult"] or "", 1.0)
        value = float(digits) * scale
        if signed and norm[start] == "-":
            value = -value
        tokens.append(
            NumberToken(
                text=text[start : m.end()],
                start=start,
                end=m.end(),
                value=value,
                decimals=len(m["frac"] or ""),
                percent=m["pct"] is not None,
                signed=signed,
                scale=scale,
            )
        )
    tokens.sort(key=lambda t: t.start)
    return tokens


def _as_date(v: Any) -> str | None:
    if isinstance(v, _dt.datetime):
        return v.date().isoformat()
    if isinstance(v, _dt.date):
        return v.isoformat()
    if isinstance(v, np.datetime64):
        return str(v.astype("datetime64[D]"))
    if isinstance(v, str):
        s = v.strip()
        m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})(?:[T ][0-9:.]+)?", s)
        if m:
            try:
                return _dt.date(int(m[1]), int(m[2]), int(m[3])).isoformat()
            except ValueError:
                return None
    return None


def flatten_values(values: Any, prefix: str = "") -> dict[str, Any]:
    """A flat ``{dotted.name: number or ISO date}`` view of nested mappings and sequences.

    Numbers (int, float, NumPy scalars; not bool; finite only) are kept as float, dates as ISO
    strings; other leaves (names, flags) are dropped.  List items are named by their index.
    """
    out: dict[str, Any] = {}

    def walk(v: Any, name: str) -> None:
        if isinstance(v, bool | np.bool_) or v is None:
            return
        if isinstance(v, int | float | np.integer | np.floating):
            f = float(v)
            if math.isfinite(f):
                out[name] = f
            return
        d = _as_date(v)
        if d is not None:
            out[name] = d
            return
        if isinstance(v, str | bytes):
            return
        if hasattr(v, "model_dump"):
            walk(v.model_dump(mode="python"), name)
            return
        if isinstance(v, Mapping):
            for k, x in v.items():
                walk(x, f"{name}.{k}" if name else str(k))
            return
        if isinstance(v, np.ndarray):
            v = v.tolist()
        if isinstance(v, Iterable):
            for i, x in enumerate(v):
                walk(x, f"{name}.{i}" if name else str(i))

    walk(values, prefix)
    return out


def _pools(values: Any) -> tuple[np.ndarray, set[str]]:
    if isinstance(values, Mapping):
        flat = flatten_values(values)
        leaves = list(flat.values())
    else:
        leaves = list(flatten_values(list(values) if isinstance(values, Iterable) else [values]).values())
    nums = np.array([v for v in leaves if isinstance(v, float)], dtype=np.float64)
    dates = {v for v in leaves if isinstance(v, str)}
    return nums, dates


def _grounded(tok: NumberToken, nums: np.ndarray, dates: set[str]) -> bool:
    if tok.date is not None:
        return tok.date in dates
    if nums.size == 0:
        return False
    cands = [nums * 100.0, nums] if tok.percent else [nums]
    for c in cands:
        c = c if tok.signed else np.abs(c)
        target = tok.value if tok.signed else abs(tok.value)
        tol = tok.tolerance * (1 + 1e-9) + 1e-12 * max(1.0, abs(target))
        if np.any(np.abs(c - target) <= tol):
            return True
    return False


def check_numbers(text: str, values: Mapping[str, Any] | Iterable[Any]) -> list[str]:
    """The numbers (and dates) of ``text`` not found among ``values``, as written.

    Parameters
    ----------
    text : str
        The text to check.
    values : mapping or iterable
        The values the text may quote (nested mappings/sequences are flattened, see
        :func:`flatten_values`).

    Returns
    -------
    list of str
        Each ungrounded token's text, in order of appearance (empty: every number is grounded).
        The rounding and sign rules are in the module docstring.
    """
    nums, dates = _pools(values)
    return [t.text for t in extract_numbers(text) if not _grounded(t, nums, dates)]


def recommend(answer: Any, lang: str | None = None, *, check: bool = True) -> str:
    """The recommendation for a computed answer, in Chinese or English.

    Parameters
    ----------
    answer : sclm.assistant.Answer or mapping
        An answer (or a dict with its fields: ``task``, ``result``, ``baseline``, ``delta``,
        ``values`` …) as built by :func:`sclm.ask`.
    lang : {"zh", "en"}, optional
        Default: the task's language, else ``"en"``.
    check : bool
        Run :func:`check_numbers` on the text against the answer's values (default; turning it
        off is for debugging templates only).

    Returns
    -------
    str
        A few short paragraphs: question, decision, numbers, confidence, drivers, what to watch.

    Raises
    ------
    UngroundedNumberError
        The text quotes a number that is not a value of the answer.
    ValueError
        Unknown language or action.
    """
    from sclm import _ask_text

    text, values = _ask_text.render(answer, lang)
    if check:
        bad = check_numbers(text, values)
        if bad:
            raise UngroundedNumberError(bad, text)
    return text
