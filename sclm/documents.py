"""From document text to data: words, entities, records, Readings; redaction; seqeval scores.

The flow for one text (a purchase order, shipping notice, delay report or supplier e-mail)::

    text ──words()──► tokens ──tagger.predict()──► BIO tags ──entities()──► spans
         ──document_record()──► {kind, quantity, date, product, site, origin, org, ...}
         ──to_readings(records, nodes=..., spec=...)──► Readings with source="document"
         ──sclm.fuse(...)──► a panel row

:func:`extract` runs it for many texts with a tagger (anything with ``predict(list of token
lists) -> list of tag lists``, e.g. :class:`sclm.models.tagger.Tagger`).  Nothing here imports
torch: the rules work on tags from any source (a tagger, gold tags, another NER system).

Records and readings
--------------------
A record takes the **first** ``QTY`` span as the quantity (:func:`parse_quantity`: ``1200``,
``1,200``, ``1 200``), the first ``DATE`` span as the day (:func:`parse_date`: ISO,
``2024/03/05``, ``5 March 2024``, ``Mar 5 2024``, ``2024年3月5日``), the first ``PRODUCT``, the
first ``ORG``; the ``LOC`` spans are matched to the nodes table (``city``, case-insensitive,
product breaking ties between nodes of one city) — the first LOC that names a node is the
``site``, any other LOC the ``origin``.  The document kind comes from cue words in the untagged
text (:func:`detect_kind`) unless given.  :func:`to_readings` maps kind → variable with the
scenario's ``spec`` (``Scenario.meta["documents"]``); several documents stating the same
(node, day, variable) are averaged into one reading.

Privacy
-------
:func:`redact` replaces person names (``PER`` entities found by a tagger, or given tags),
e-mail addresses and phone numbers (regular expressions, at least 9 digits) by placeholders.
Call it on every text *before* it is sent anywhere off the machine (an LLM API, a ticket, a log).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

from sclm._text import MONTHS, join_zh
from sclm.datasets.text import entity_spans

__all__ = [
    "EMAIL_RE",
    "PHONE_RE",
    "Entity",
    "Extraction",
    "detect_kind",
    "document_record",
    "entities",
    "extract",
    "ner_scores",
    "parse_date",
    "parse_quantity",
    "redact",
    "to_readings",
    "word_spans",
    "words",
]

EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
"""An e-mail address."""

PHONE_RE = re.compile(
    r"(?<![A-Za-z0-9/.\-])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?)?\d{2,4}(?:[\s.-]\d{2,5}){1,4}(?![A-Za-z0-9/\-])"
)
"""A phone-number candidate; :func:`redact` keeps only matches with at least 9 digits (so dates
such as ``2024-03-05`` and quantities are left alone)."""

PHONE_MIN_DIGITS = 9

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")
_EN_WORD = re.compile(
    r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"  # e-mail
    r"|\d{1,3}(?:,\d{3})+"  # 1,200
    r"|\w+(?:[-'’/.&]\w+)*"  # words, O'Connor, PO-2024-1, 1/2, 2024-03-05
    r"|[^\w\s]"  # punctuation
)
_ZH_WORD = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+|\+?[A-Za-z0-9][A-Za-z0-9@._/'+&-]*|\S")

KINDS: tuple[str, ...] = ("purchase_order", "shipping_notice", "delay_report", "supplier_email")

# cue words, checked on the untagged words in this order; no cue → supplier_email
_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "delay_report",
        re.compile(r"\b(delay|delayed|late|behind|overdue|slipped|held up)\b|延误|推迟|晚了|晚到", re.I),
    ),
    (
        "purchase_order",
        re.compile(r"\b(purchase order|orders?|po|requisition|requires|buyer)\b|订单|订购|下单|需要", re.I),
    ),
    (
        "shipping_notice",
        re.compile(
            r"\b(shipping notice|asn|dispatch advice|notice of dispatch|consignment|waybill|delivery note|"
            r"arrive|reached)\b|发货通知|提单|交付|到货",
            re.I,
        ),
    ),
)


def _lang(text: str, lang: str) -> str:
    if lang not in ("auto", "en", "zh"):
        raise ValueError(f"lang must be 'auto', 'en' or 'zh', got {lang!r}")
    if lang == "auto":
        return "zh" if _CJK.search(text) else "en"
    return lang


def word_spans(text: str, lang: str = "auto") -> list[tuple[str, int, int]]:
    """Words of a raw text with character offsets ``(word, start, end)``.

    English: e-mail addresses, ``1,200``-style numbers and words with inner ``- ' / . &``
    (``O'Connor``, ``PO-2024-12345``, ``2024-03-05``) stay whole, other punctuation is split
    off.  Chinese (``lang="zh"`` or any CJK character with ``"auto"``): one word per character,
    Latin/digit runs whole (as in :func:`sclm._text.zh_tokens`).
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    pattern = _ZH_WORD if _lang(text, lang) == "zh" else _EN_WORD
    return [(m.group(), m.start(), m.end()) for m in pattern.finditer(text)]


def words(text: str, lang: str = "auto") -> list[str]:
    """The words of a raw text (see :func:`word_spans`), the unit a tagger tags."""
    return [w for w, _, _ in word_spans(text, lang)]


@dataclass(frozen=True)
class Entity:
    """One entity: its ``type`` (``QTY``, ...), ``text`` (words joined), and word span
    ``start``..``end`` (end exclusive)."""

    type: str
    text: str
    start: int
    end: int


def _check_pair(tokens: Sequence[str], tags: Sequence[str]) -> None:
    if len(tokens) != len(tags):
        raise ValueError(f"tokens and tags must have the same length, got {len(tokens)} and {len(tags)}")
    bad = [t for t in tags if not (t == "O" or (len(t) > 2 and t[:2] in ("B-", "I-")))]
    if bad:
        raise ValueError(f"tags must be BIO ('O', 'B-TYPE', 'I-TYPE'), got {bad[0]!r}")


def entities(tokens: Sequence[str], tags: Sequence[str], *, lang: str = "auto") -> list[Entity]:
    """Entities of one tagged text, in order (an ``I-`` not continuing its type starts a new one).

    ``text`` joins the words with spaces (English) or without (Chinese, spaces kept only between
    Latin/digit words).
    """
    _check_pair(tokens, tags)
    zh = _lang("".join(tokens), lang) == "zh"
    out = []
    for start, end, kind in entity_spans(list(tags)):
        span = list(tokens[start:end])
        out.append(Entity(kind, join_zh(span) if zh else " ".join(span), start, end))
    return out


def parse_quantity(text: str) -> float:
    """A stated quantity: ``"1200"``, ``"1,200"``, ``"1 200"``, ``"1200.5"`` → float.

    Raises
    ------
    ValueError
        No number in ``text``.
    """
    compact = re.sub(r"(?<=\d)[,\s](?=\d{3}\b)", "", text.strip())
    m = re.search(r"\d+(?:\.\d+)?", compact)
    if not m:
        raise ValueError(f"no quantity in {text!r}; expected a number such as '1200' or '1,200'")
    return float(m.group())


_ZH_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?")
_MONTH = {m.lower(): i + 1 for i, m in enumerate(MONTHS)} | {
    m[:3].lower(): i + 1 for i, m in enumerate(MONTHS)
}


def parse_date(text: str) -> pd.Timestamp:
    """A stated day: ``2024-03-05``, ``2024/03/05``, ``5 March 2024``, ``Mar 5 2024``,
    ``March 5 , 2024``, ``2024年3月5日``.  Day-first or month-first numeric forms (``05/03/2024``)
    are ambiguous and rejected.

    Raises
    ------
    ValueError
        Not one of the forms above.
    """
    s = text.strip()
    if m := _ZH_DATE.search(s):
        return pd.Timestamp(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    if m := re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", s):
        return pd.Timestamp(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    parts = re.findall(r"[A-Za-z]+|\d+", s)
    month = [p for p in parts if p.lower() in _MONTH]
    nums = [p for p in parts if p.isdigit()]
    if len(month) == 1 and len(nums) == 2:
        year = [n for n in nums if len(n) == 4]
        day = [n for n in nums if len(n) <= 2]
        if len(year) == 1 and len(day) == 1:
            return pd.Timestamp(int(year[0]), _MONTH[month[0].lower()], int(day[0]))
    raise ValueError(
        f"cannot read a date from {text!r}; expected e.g. '2024-03-05', '5 March 2024', 'Mar 5 2024' "
        "or '2024年3月5日'"
    )


def detect_kind(tokens: Sequence[str], tags: Sequence[str] | None = None) -> str:
    """The document kind from cue words in the untagged (``O``) words.

    Checked in order: delay words (``late``, ``delayed``, 延误 ...) → ``delay_report``; order words
    (``order``, ``PO``, ``requisition``, 订单 ...) → ``purchase_order``; shipping words (``ASN``,
    ``consignment``, ``waybill``, 到货 ...) → ``shipping_notice``; otherwise ``supplier_email``.
    """
    if tags is not None:
        _check_pair(tokens, tags)
    plain = [t for i, t in enumerate(tokens) if tags is None or tags[i] == "O"]
    text = " ".join(plain) + " | " + "".join(plain)  # spaced for English cues, joined for Chinese
    for kind, cue in _CUES:
        if cue.search(text):
            return kind
    return "supplier_email"


def _safe(parse, text: str) -> Any:
    try:
        return parse(text)
    except ValueError:
        return None


def document_record(
    tokens: Sequence[str],
    tags: Sequence[str],
    *,
    kind: str | None = None,
    nodes: pd.DataFrame | None = None,
    lang: str = "auto",
) -> dict[str, Any]:
    """The facts one tagged document states.

    Parameters
    ----------
    tokens, tags
        The document's words and their BIO tags (same length).
    kind
        The document kind; ``None`` → :func:`detect_kind`.
    nodes
        Optional nodes table (``node``, ``city``, optionally ``product``, ``node_type``) used to
        tell the site (a node's city) from an origin among the ``LOC`` entities.
    lang
        ``"auto"``, ``"en"`` or ``"zh"`` (how entity words are joined).

    Returns
    -------
    dict
        ``kind, quantity`` (float or None), ``ts`` (Timestamp or None), ``product, org, person,
        site, origin`` (str or None), ``node`` (str or None: the matched node), ``entities``
        (list of :class:`Entity`).
    """
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown document kind {kind!r}; expected one of {list(KINDS)}")
    ents = entities(tokens, tags, lang=lang)
    first = {}
    for e in ents:
        first.setdefault(e.type, e)
    locs = [e.text for e in ents if e.type == "LOC"]
    product = first["PRODUCT"].text if "PRODUCT" in first else None
    node, site = None, None
    if nodes is not None and locs:
        for loc in locs:
            node = _match_node(nodes, loc, product)
            if node is not None:
                site = loc
                break
    if site is None and locs:
        site = locs[0]
    others = [loc for loc in locs if loc != site]
    return {
        "kind": kind or detect_kind(tokens, tags),
        "quantity": _safe(parse_quantity, first["QTY"].text) if "QTY" in first else None,
        "ts": _safe(parse_date, first["DATE"].text) if "DATE" in first else None,
        "product": product,
        "org": first["ORG"].text if "ORG" in first else None,
        "person": first["PER"].text if "PER" in first else None,
        "site": site,
        "origin": others[0] if others else None,
        "node": node,
        "entities": ents,
    }


def _norm(s: str) -> str:
    return " ".join(str(s).lower().split())


def _match_node(nodes: pd.DataFrame, loc: str, product: str | None) -> str | None:
    hit = nodes[nodes["city"].map(_norm) == _norm(loc)]
    if len(hit) > 1 and product is not None and "product" in nodes:
        narrowed = hit[hit["product"].map(_norm) == _norm(product)]
        hit = narrowed if len(narrowed) else hit
    if len(hit) == 1:
        return str(hit["node"].iloc[0])
    return None


RECORD_COLUMNS: tuple[str, ...] = (
    "doc",
    "kind",
    "node",
    "ts",
    "quantity",
    "product",
    "site",
    "origin",
    "org",
    "person",
    "variable",
    "status",
)


def to_readings(
    records: pd.DataFrame | Iterable[Mapping[str, Any]],
    *,
    nodes: pd.DataFrame,
    spec: Mapping[str, str],
    unit: str = "unit",
) -> pd.DataFrame:
    """Readings (``source="document"``) from document records.

    Parameters
    ----------
    records
        Output of :func:`document_record` (or :attr:`Extraction.records`): needs ``kind, node,
        ts, quantity``.
    nodes
        Nodes table with ``node`` and ``node_type`` (e.g. ``Scenario.nodes``).
    spec
        Document kind → variable (e.g. ``Scenario.meta["documents"]``); kinds not in ``spec``
        give no reading.
    unit
        Unit of the stated quantities (``"unit"``: counts).

    Returns
    -------
    pandas.DataFrame
        Readings (``ts, node, node_type, variable, value, unit, source``), one row per (node,
        ts, variable) — the mean when several documents state one cell — sorted, passing
        :func:`sclm.schema.validate_readings` (or empty, with those columns, when no record is
        complete).  Records lacking a node, day or quantity are
        skipped (see :attr:`Extraction.records` ``status`` for why).
    """
    from sclm.schema import READING_COLUMNS, validate_readings

    missing = [c for c in ("node", "node_type") if c not in nodes]
    if missing:
        raise ValueError(f"nodes: missing column(s) {missing}; expected a nodes table such as Scenario.nodes")
    recs = pd.DataFrame(list(records) if not isinstance(records, pd.DataFrame) else records)
    need = [c for c in ("kind", "node", "ts", "quantity") if c not in recs]
    if need:
        raise ValueError(f"records: missing column(s) {need}; expected the output of document_record()")
    ok = recs["node"].notna() & recs["ts"].notna() & recs["quantity"].notna() & recs["kind"].isin(list(spec))
    recs = recs[ok]
    node_type = nodes.set_index("node")["node_type"]
    out = pd.DataFrame(
        {
            "ts": pd.to_datetime(recs["ts"]).astype("datetime64[ns]"),
            "node": recs["node"].astype(str),
            "variable": recs["kind"].map(dict(spec)).astype(str),
            "value": recs["quantity"].astype(np.float64),
        }
    )
    out = out[out["node"].isin(node_type.index)]
    out = out.groupby(["node", "ts", "variable"], as_index=False, sort=True)["value"].mean()
    out["node_type"] = out["node"].map(node_type).astype(str)
    out["unit"] = unit
    out["source"] = "document"
    out = out[list(READING_COLUMNS)].reset_index(drop=True)
    if len(out):  # an empty result (no usable document) is allowed, typed like Readings
        validate_readings(out, source="document readings")
    return out


class _Predicts(Protocol):
    def predict(self, tokens: Sequence[Sequence[str]]) -> list[list[str]]: ...


@dataclass(frozen=True)
class Extraction:
    """What :func:`extract` read from a batch of documents.

    Attributes
    ----------
    records
        One row per document: :data:`RECORD_COLUMNS` (``doc`` is the position in the input,
        ``status`` is ``"ok"`` or why no reading was made).
    readings
        Readings with ``source="document"`` (see :func:`to_readings`).
    tokens, tags
        The words and predicted tags per document.
    """

    records: pd.DataFrame
    readings: pd.DataFrame
    tokens: list[list[str]]
    tags: list[list[str]]


def extract(
    texts: Sequence[str | Sequence[str]],
    tagger: _Predicts | None = None,
    *,
    nodes: pd.DataFrame,
    spec: Mapping[str, str],
    tags: Sequence[Sequence[str]] | None = None,
    kinds: Sequence[str | None] | None = None,
    unit: str = "unit",
) -> Extraction:
    """Text → entities → records → Readings for a batch of documents.

    Parameters
    ----------
    texts
        Raw texts (split with :func:`words`) or token lists.
    tagger
        Anything with ``predict(list of token lists) -> list of tag lists``; not needed when
        ``tags`` is given.
    nodes
        Nodes table (``node``, ``node_type``, ``city``, optionally ``product``).
    spec
        Document kind → variable.
    tags
        Known tags per document (skips the tagger, e.g. gold tags).
    kinds
        Known kind per document (``None`` entries → :func:`detect_kind`).
    unit
        Unit of the quantities.
    """
    tokens = [words(t) if isinstance(t, str) else list(t) for t in texts]
    if tags is None:
        if tagger is None:
            raise ValueError("extract needs a tagger (with a predict method) or tags=")
        tags = tagger.predict(tokens)
    tags = [list(t) for t in tags]
    if len(tags) != len(tokens):
        raise ValueError(f"got {len(tokens)} texts but {len(tags)} tag lists")
    if kinds is not None and len(kinds) != len(tokens):
        raise ValueError(f"got {len(tokens)} texts but {len(kinds)} kinds")
    rows = []
    for i, (tok, tag) in enumerate(zip(tokens, tags, strict=True)):
        rec = document_record(tok, tag, kind=None if kinds is None else kinds[i], nodes=nodes)
        rec.pop("entities")
        rec["doc"] = i
        rec["variable"] = spec.get(rec["kind"])
        missing = [k for k in ("quantity", "ts", "node", "variable") if rec[k] is None]
        rec["status"] = "ok" if not missing else "no " + ", no ".join(missing)
        rows.append(rec)
    records = pd.DataFrame(rows, columns=list(RECORD_COLUMNS))
    readings = to_readings(records[records["status"] == "ok"], nodes=nodes, spec=spec, unit=unit)
    return Extraction(records=records, readings=readings, tokens=tokens, tags=tags)


def redact(
    text: str,
    tagger: _Predicts | None = None,
    *,
    tokens: Sequence[str] | None = None,
    tags: Sequence[str] | None = None,
    persons: bool = True,
    lang: str = "auto",
) -> str:
    """Replace person names, e-mail addresses and phone numbers in ``text`` by placeholders.

    Person names (``PER`` entities) → ``[PER]``, e-mail addresses → ``[EMAIL]``, phone numbers
    (:data:`PHONE_RE` with at least 9 digits) → ``[PHONE]``.  Run it before any text leaves the
    machine.

    Parameters
    ----------
    text
        The document.
    tagger
        Finds the ``PER`` entities (its ``predict`` on :func:`word_spans` of ``text``).
    tokens, tags
        Instead of a tagger: the words of ``text`` in order and their tags.
    persons
        ``False`` redacts only e-mail addresses and phone numbers (no tagger needed).
    lang
        ``"auto"``, ``"en"`` or ``"zh"`` (how ``text`` is split into words for the tagger).

    Raises
    ------
    ValueError
        ``persons=True`` without a tagger or tags; tokens that do not occur in ``text`` in order.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    cuts: list[tuple[int, int, str]] = []
    if persons:
        if tags is not None:
            if tokens is None:
                raise ValueError("tags= needs tokens= (the words of text, in order)")
            _check_pair(tokens, tags)
            spans, pos = [], 0
            for tok in tokens:
                at = text.find(tok, pos)
                if at < 0:
                    raise ValueError(f"token {tok!r} not found in text after position {pos}")
                spans.append((tok, at, at + len(tok)))
                pos = at + len(tok)
        elif tagger is not None:
            spans = word_spans(text, lang)
            tags = tagger.predict([[w for w, _, _ in spans]])[0] if spans else []
        else:
            raise ValueError(
                "redact needs a tagger (or tokens= and tags=) to find person names; "
                "pass persons=False to redact only e-mail addresses and phone numbers"
            )
        for e in entity_spans(list(tags)):
            if e[2] == "PER":
                cuts.append((spans[e[0]][1], spans[e[1] - 1][2], "[PER]"))
    cuts += [(m.start(), m.end(), "[EMAIL]") for m in EMAIL_RE.finditer(text)]
    for m in PHONE_RE.finditer(text):
        if sum(c.isdigit() for c in m.group()) >= PHONE_MIN_DIGITS:
            cuts.append((m.start(), m.end(), "[PHONE]"))
    out, pos = [], 0
    for start, end, mask in sorted(cuts):
        if start < pos:  # overlapping (e.g. a name inside an e-mail address): extend the cut
            if end > pos:
                pos = end
            continue
        out += [text[pos:start], mask]
        pos = end
    out.append(text[pos:])
    return "".join(out)


def ner_scores(y_true: Sequence[Sequence[str]], y_pred: Sequence[Sequence[str]]) -> pd.DataFrame:
    """Entity-level precision, recall and F1 (seqeval, conlleval rules), per type and overall.

    Parameters
    ----------
    y_true, y_pred
        Per sentence, the BIO tags (same lengths).

    Returns
    -------
    pandas.DataFrame
        Index: the entity types (sorted), then ``micro avg``, ``macro avg``, ``weighted avg``;
        columns ``precision, recall, f1`` (fractions in [0, 1]) and ``support`` (gold entities).
    """
    from seqeval.metrics import classification_report

    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} sentences but y_pred has {len(y_pred)}")
    for i, (a, b) in enumerate(zip(y_true, y_pred, strict=True)):
        if len(a) != len(b):
            raise ValueError(f"sentence {i}: {len(a)} gold tags but {len(b)} predicted tags")
    rep = classification_report(
        [list(t) for t in y_true], [list(t) for t in y_pred], output_dict=True, zero_division=0
    )
    df = pd.DataFrame(rep).T.rename(columns={"f1-score": "f1"})
    types = sorted(i for i in df.index if not i.endswith(" avg"))
    df = df.loc[types + [i for i in ("micro avg", "macro avg", "weighted avg") if i in df.index]]
    df["support"] = df["support"].astype(int)
    return df[["precision", "recall", "f1", "support"]]
