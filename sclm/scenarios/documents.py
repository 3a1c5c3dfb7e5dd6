"""BIO-tagged business documents: scenario documents consistent with the truth, and tagger corpora.

Two generators share the templates and name lists of :mod:`sclm.scenarios._vocabulary` and the
name pools of :mod:`sclm.scenarios._name_pools` (:class:`NamePools`, :func:`name_pools`,
:func:`scenario_pools`, :data:`DOCUMENT_NAMES`), all re-exported here:

* :func:`make_documents` — the ``documents`` of a scenario.  Each document states one truth cell:
  a (node, day, variable) and its quantity.  A purchase order states the orders of that node and
  day, a shipping notice its outbound (or inbound, per scenario) quantity, and so on — the mapping
  kind → variable is given by the scenario.
* :func:`make_corpus` — a stand-alone corpus for training and scoring a tagger, in English
  (``lang="en"``) or Chinese (``lang="zh"``), split into **training** and **held-out** parts:
  the held-out part uses only templates (:data:`HELDOUT_TEMPLATES`) *and* names (every fifth
  entry of each name pool) that the training part never uses, so a score on it measures
  generalisation, not memorised templates.  Half of the training documents are *composed* from a
  clause grammar (:func:`compose_template`: ``quantity : 120``, ``site : Lyon``, ... in random
  order) so that a tagger learns local contexts rather than a dozen fixed sentences.

Tokens are split and joined by the helpers of :mod:`sclm._text` (:func:`name_tokens`,
:func:`zh_tokens`, :func:`join_zh`), which the reader :mod:`sclm.documents` shares.  See
``docs/architecture.md`` for how the modules fit together.

Tags
----
Slots are filled with multi-token names; each slot's tokens get ``B-<TYPE>``/``I-<TYPE>`` tags and
every literal token ``O``.  Entity types (:data:`ENTITY_TYPES`): ``ORG`` (the counterparty),
``LOC`` (the node's city, and in some templates an origin country after it), ``PER``,
``PRODUCT``, ``QTY`` (the quantity, one integer token), ``DATE``.  Reference numbers, delays in
days, shipment modes, e-mail addresses and phone numbers are untagged (``O``) text.

Invariants (tested): every document has exactly one ``QTY`` span (the stated quantity); its first
``DATE`` span is the day of that quantity; its first ``LOC`` span is the node's city; English
texts satisfy ``text == " ".join(tokens)``; Chinese texts are the tokens joined without spaces
except between two Latin/digit tokens (:func:`join_zh`); the same seed gives identical documents.

Names from real data
--------------------
When the real-data folder holds ``shipments_usaid_scms`` (USAID SCMS delivery history),
:func:`name_pools` ``("scms")`` (or ``"auto"``) adds its 72 vendor names (parenthetical remarks
removed) to the suppliers, its 43 destination countries to the origins, its shipment modes (Air,
Truck, Air Charter, Ocean), and its item descriptions (e.g. ``Efavirenz 600mg tablets``) and
molecule names to the products of :func:`make_corpus`.

**Scenario documents never depend on the data folder unless asked**: :func:`make_documents` and
the scenarios (parameter ``document_names``, :data:`DOCUMENT_NAMES`) use the built-in names by
default; ``document_names="data"`` asks for the SCMS names and fails when they are missing.
Either way the scenario's ``meta["document_names"]`` records the option, the source actually
used and the sha256 of the pools (:meth:`NamePools.fingerprint`), and
:meth:`sclm.reporting.Report.scenario` copies it into a report's manifest.  Scenario documents
always state the node's own city and product, so only the counterparties, origins and modes draw
on the data there.  :func:`make_corpus` keeps ``"auto"`` as its default (SCMS names when present):
pass ``pools=name_pools("builtin")`` where a corpus must not depend on the data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sclm._text import MONTHS, join_zh, name_tokens, zh_tokens

# the name pools, and their private helpers still reachable here as before they moved (patch a
# helper in sclm.scenarios._name_pools, where name_pools looks it up, not here)
from sclm.scenarios._name_pools import _PAREN as _PAREN
from sclm.scenarios._name_pools import DOCUMENT_NAMES, NamePools, name_pools, scenario_pools
from sclm.scenarios._name_pools import _clean_item as _clean_item
from sclm.scenarios._name_pools import _clean_vendor as _clean_vendor
from sclm.scenarios._name_pools import _combos as _combos
from sclm.scenarios._name_pools import _scms_names as _scms_names
from sclm.scenarios._recombine import recombine_template, validation_templates
from sclm.scenarios._vocabulary import (
    CARRIERS,
    CITIES,
    CLAUSES,
    COUNTERPARTIES,
    COUNTRIES,
    CUSTOMERS,
    DOC_PREFIX,
    ENTITY_TYPES,
    EXTRA_CITIES,
    FILLERS,
    FIRST_NAMES,
    HELDOUT_TEMPLATES,
    LABELS,
    LAST_NAMES,
    MODES,
    OPENERS,
    PEOPLE,
    PRODUCTS,
    RETAILERS,
    SEPARATORS,
    SLOT_TYPES,
    SPLITS,
    SUPPLIERS,
    TEMPLATES,
    ZH_CITIES,
    ZH_COUNTRIES,
    ZH_GIVEN,
    ZH_MODES,
    ZH_ORGS,
    ZH_PEOPLE,
    ZH_PRODUCTS,
    ZH_SURNAMES,
    ZH_TEMPLATES,
)
from sclm.scenarios._zh_names import synthetic_pools

__all__ = [
    "CARRIERS",
    "CITIES",
    "CLAUSES",
    "CORPUS_COLUMNS",
    "COUNTERPARTIES",
    "COUNTRIES",
    "CUSTOMERS",
    "DOCUMENT_COLUMNS",
    "DOCUMENT_NAMES",
    "DOC_PREFIX",
    "ENTITY_TYPES",
    "EXTRA_CITIES",
    "FILLERS",
    "FIRST_NAMES",
    "HELDOUT_TEMPLATES",
    "LABELS",
    "LAST_NAMES",
    "MODES",
    "MONTHS",
    "OPENERS",
    "PEOPLE",
    "PRODUCTS",
    "RETAILERS",
    "SEPARATORS",
    "SLOT_TYPES",
    "SPLITS",
    "SUPPLIERS",
    "TEMPLATES",
    "ZH_CITIES",
    "ZH_COUNTRIES",
    "ZH_GIVEN",
    "ZH_MODES",
    "ZH_ORGS",
    "ZH_PEOPLE",
    "ZH_PRODUCTS",
    "ZH_SURNAMES",
    "ZH_TEMPLATES",
    "NamePools",
    "NodeInfo",
    "compose",
    "compose_template",
    "join_zh",
    "make_corpus",
    "make_documents",
    "name_pools",
    "name_tokens",
    "recombine_template",
    "render",
    "render_zh",
    "scenario_pools",
    "synthetic_pools",
    "validation_templates",
    "zh_tokens",
]

DOCUMENT_COLUMNS: tuple[str, ...] = (
    "doc_id",
    "kind",
    "template",
    "node",
    "ts",
    "lang",
    "text",
    "tokens",
    "tags",
    "variable",
    "quantity",
)
"""Columns of :func:`make_documents` (``Scenario.documents``; ``variable``/``quantity``: the truth
cell the text states)."""


def compose_template(rng: np.random.Generator, kind: str, lang: str = "en") -> str:
    """A random template from :data:`CLAUSES`: opener, the six entity clauses (origin after the
    site) and a few untagged extras (reference, mode, phone, e-mail; a delay for delay reports),
    in random order, joined by one separator.  Same format as :data:`TEMPLATES` / :data:`ZH_TEMPLATES`."""
    grammar = CLAUSES[lang]
    slots = ["ORG", "PER", "QTY", "PRODUCT", "LOC", "DATE"]
    slots = [s for s in slots if s in ("QTY", "DATE", "LOC", "PRODUCT") or rng.random() < 0.85]
    slots += [s for s in ("ORIGIN", "DOC", "MODE", "PHONE", "EMAIL") if rng.random() < 0.35]
    if kind == "delay_report":
        slots.append("DAYS")
    order = [slots[i] for i in rng.permutation(len(slots))]
    if "ORIGIN" in order and order.index("ORIGIN") < order.index("LOC"):
        i, j = order.index("ORIGIN"), order.index("LOC")
        order[i], order[j] = order[j], order[i]
    clauses = [grammar[s][int(rng.integers(len(grammar[s])))] for s in order]
    opener = _pick(rng, OPENERS[lang][kind])
    sep = _pick(rng, SEPARATORS[lang])
    if rng.random() < 0.5:
        clauses.insert(0 if rng.random() < 0.5 else len(clauses), _pick(rng, FILLERS[lang]))
    if lang == "zh":
        return opener + "：" + sep.join(clauses) + "。"
    return f"{opener} : " + f" {sep} ".join(clauses) + " ."


@dataclass(frozen=True)
class NodeInfo:
    """What documents say about a node: its city and product."""

    city: str
    product: str


def _fmt_date(ts: pd.Timestamp, style: int, lang: str = "en") -> list[str]:
    if lang == "zh":
        if style == 0:
            return [ts.strftime("%Y-%m-%d")]
        return [str(ts.year), "年", str(ts.month), "月", str(ts.day), "日"]
    if style == 0:
        return [ts.strftime("%Y-%m-%d")]
    if style == 1:
        return [str(ts.day), MONTHS[ts.month - 1], str(ts.year)]
    if style == 2:
        return [MONTHS[ts.month - 1][:3], str(ts.day), str(ts.year)]
    return [ts.strftime("%Y/%m/%d")]


def render(
    template: str, slots: Mapping[str, Sequence[str]], labels: Mapping[str, str]
) -> tuple[list[str], list[str]]:
    """Fill a template; return tokens and BIO tags.

    Parameters
    ----------
    template
        Space-separated tokens; ``{NAME}`` is replaced by ``slots[NAME]`` (a token list).
    slots
        Slot name → tokens.
    labels
        Slot name → entity type (slots missing here are tagged ``O``).
    """
    tokens: list[str] = []
    tags: list[str] = []
    for piece in template.split():
        if piece.startswith("{") and piece.endswith("}"):
            _extend(tokens, tags, list(slots[piece[1:-1]]), labels.get(piece[1:-1]))
        else:
            tokens.append(piece)
            tags.append("O")
    return tokens, tags


def _extend(tokens: list[str], tags: list[str], words: list[str], label: str | None) -> None:
    tokens.extend(words)
    if label is None:
        tags.extend(["O"] * len(words))
    else:
        tags.extend([f"B-{label}"] + [f"I-{label}"] * (len(words) - 1))


_SLOT = re.compile(r"\{([A-Z]+)\}")


def render_zh(
    template: str, slots: Mapping[str, Sequence[str]], labels: Mapping[str, str]
) -> tuple[list[str], list[str]]:
    """Fill a Chinese template (slot markers inside running text); return tokens and BIO tags."""
    tokens: list[str] = []
    tags: list[str] = []
    for i, part in enumerate(_SLOT.split(template)):
        if i % 2:  # a slot name
            _extend(tokens, tags, list(slots[part]), labels.get(part))
        elif part:
            _extend(tokens, tags, zh_tokens(part), None)
    return tokens, tags


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())[:18] or "mail"


def _phone(rng: np.random.Generator) -> list[str]:
    cc = ("+49", "+44", "+33", "+39", "+86", "+27", "+1", "+91")[int(rng.integers(8))]
    return [
        cc,
        str(int(rng.integers(10, 1000))),
        str(int(rng.integers(1000, 10_000))),
        str(int(rng.integers(1000, 10_000))),
    ]


def _email(per: str, org: str) -> str:
    local = ".".join(_slug(w) for w in per.split()[:2]) if per.isascii() else "contact"
    return f"{local}@{_slug(org) if org.isascii() else 'supplier'}.com"


def _pick(rng: np.random.Generator, names: Sequence[str]) -> str:
    return names[int(rng.integers(len(names)))]


def compose(
    rng: np.random.Generator,
    *,
    kind: str,
    template: int | str,
    city: str,
    product: str,
    qty: int,
    ts: pd.Timestamp,
    pools: NamePools,
    org_pool: Sequence[str] | None = None,
) -> tuple[list[str], list[str]]:
    """One document: fill template number ``template`` (0-based) of ``kind`` in ``pools.lang``, or a
    template string (e.g. from :func:`compose_template`).

    Returns
    -------
    tokens, tags : list[str]
        Equal length; BIO tags over :data:`ENTITY_TYPES`.
    """
    lang = pools.lang
    orgs = org_pool if org_pool is not None else pools.orgs[kind]
    org = _pick(rng, orgs)
    per = _pick(rng, pools.people)
    slots = {
        "ORG": name_tokens(org, lang),
        "PER": name_tokens(per, lang),
        "LOC": name_tokens(city, lang),
        "ORIGIN": name_tokens(_pick(rng, pools.countries), lang),
        "PRODUCT": name_tokens(product, lang),
        "QTY": [str(qty)],
        "DATE": _fmt_date(ts, int(rng.integers(4 if lang == "en" else 2)), lang),
        "DOC": [f"{DOC_PREFIX[kind]}-{ts.year}-{int(rng.integers(10_000, 100_000))}"],
        "DAYS": [str(int(rng.integers(2, 7)))],
        "MODE": name_tokens(_pick(rng, pools.modes), lang),
        "EMAIL": [_email(per, org)],
        "PHONE": _phone(rng),
    }
    if isinstance(template, str):
        text = template
    else:
        text = (ZH_TEMPLATES if lang == "zh" else TEMPLATES)[kind][template]
    if lang == "zh":
        return render_zh(text, slots, SLOT_TYPES)
    return render(text, slots, SLOT_TYPES)


def make_documents(
    rng: np.random.Generator,
    *,
    truth: Mapping[str, np.ndarray],
    names: Sequence[str],
    info: Sequence[NodeInfo],
    dates: pd.DatetimeIndex,
    spec: Mapping[str, str],
    n_documents: int,
    counterparties: Mapping[str, Sequence[str]] | None = None,
    pools: NamePools | None = None,
) -> pd.DataFrame:
    """Generate ``n_documents`` BIO-tagged English documents that state truth values.

    Parameters
    ----------
    rng
        The documents stream.
    truth
        Variable → ``(N, T)`` array (integer counts as float64).
    names, info
        Length N: node names (sorted) and their city/product.
    dates
        Length T.
    spec
        Document kind (a key of :data:`TEMPLATES`) → the truth variable it states.
    n_documents
        How many documents (kinds in turn, then shuffled).
    counterparties
        Kind → organisation names, overriding the pools for that kind.
    pools
        English name pools (default :func:`name_pools` ``("builtin")``: the texts never depend
        on the data folder; see :func:`scenario_pools`).

    Returns
    -------
    pandas.DataFrame
        Columns ``doc_id, kind, template, node, ts, lang, text, tokens, tags, variable,
        quantity``; one row per document, sorted by (ts, node, kind); ``tokens`` and ``tags``
        are lists of equal length.  ``template`` is ``kind/number`` (1-based), every template used.
    """
    kinds = list(spec)
    unknown = [k for k in kinds if k not in TEMPLATES]
    if unknown:
        raise ValueError(f"unknown document kind(s) {unknown}; expected some of {list(TEMPLATES)}")
    pools = pools if pools is not None else name_pools("builtin")
    if pools.lang != "en":
        raise ValueError(f"scenario documents are English: pools must have lang='en', got {pools.lang!r}")
    orgs = {**pools.orgs, **(counterparties or {})}
    rows = []
    if n_documents and kinds:
        assigned = np.asarray(kinds, dtype=object)[np.arange(n_documents) % len(kinds)]
        assigned = assigned[rng.permutation(n_documents)]
        n_days = len(dates)
        positive = {v: np.flatnonzero(truth[v].reshape(-1) > 0) for v in dict.fromkeys(spec.values())}
        for j, kind in enumerate(assigned):
            variable = spec[kind]
            values = truth[variable]
            cells = positive[variable]
            if not len(cells):
                continue
            cell = int(cells[rng.integers(len(cells))])
            n, t = divmod(cell, n_days)
            qty = int(values[n, t])
            ts = dates[t]
            tpl_id = int(rng.integers(len(TEMPLATES[kind])))
            tokens, tags = compose(
                rng,
                kind=kind,
                template=tpl_id,
                city=info[n].city,
                product=info[n].product,
                qty=qty,
                ts=ts,
                pools=pools,
                org_pool=orgs[kind],
            )
            rows.append(
                {
                    "kind": kind,
                    "template": f"{kind}/{tpl_id + 1}",
                    "node": names[n],
                    "ts": ts,
                    "lang": "en",
                    "text": " ".join(tokens),
                    "tokens": tokens,
                    "tags": tags,
                    "variable": variable,
                    "quantity": float(qty),
                    "_order": j,
                }
            )
    if not rows:
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in DOCUMENT_COLUMNS})
        return empty.astype({"ts": "datetime64[ns]", "quantity": np.float64})
    df = pd.DataFrame(rows)
    df = df.sort_values(["ts", "node", "kind", "_order"], kind="stable").reset_index(drop=True)
    df.insert(0, "doc_id", [f"doc-{i + 1:05d}" for i in range(len(df))])
    df["ts"] = df["ts"].astype("datetime64[ns]")
    return df[list(DOCUMENT_COLUMNS)]


CORPUS_COLUMNS: tuple[str, ...] = (
    "doc_id",
    "kind",
    "template",
    "lang",
    "split",
    "text",
    "tokens",
    "tags",
    "ts",
    "quantity",
    "city",
    "product",
)
"""Columns of :func:`make_corpus`."""


def make_corpus(
    n_documents: int,
    *,
    seed: int = 0,
    lang: str = "en",
    split: str = "train",
    pools: NamePools | None = None,
    start: str = "2015-01-01",
    n_days: int = 3650,
    composed: float | None = None,
    names: str | None = None,
    synthetic: float = 0.0,
    templates: str | None = None,
    recombined: float = 0.0,
    synthetic_latin: float = 0.0,
) -> pd.DataFrame:
    """A stand-alone BIO-tagged corpus for training or scoring a document tagger.

    Parameters
    ----------
    n_documents
        Number of documents (>= 0); kinds in turn, then shuffled.
    seed
        Same seed (and pools) → identical corpus.
    lang
        ``"en"`` or ``"zh"``.
    split
        ``"train"`` (training templates, four fifths of every name pool), ``"heldout"``
        (only :data:`HELDOUT_TEMPLATES` and the other fifth of the names) or ``"all"``.
    pools
        Name pools of ``lang`` (default :func:`name_pools` ``("builtin", lang=lang)``: the same
        corpus on every machine, whether or not the data folder holds the SCMS names; pass
        ``name_pools("auto", lang=lang)`` for real names where they exist).
    start, n_days
        Dates are drawn uniformly from ``n_days`` days from ``start``.
    composed
        Share of documents built from the clause grammar (:func:`compose_template`, template id
        ``kind/composed``) instead of a fixed template; default 0.5 for ``"train"``, else 0.
        Composed documents are never in the held-out split.
    names
        Which part of the name pools to draw from (``"train"``, ``"heldout"``, ``"all"``);
        default: the same as ``split``.  ``split="heldout", names="train"`` scores unseen
        templates with familiar names.
    synthetic
        Share of (training) documents whose names are all drawn from large pools of synthetic
        names (:func:`synthetic_pools`: thousands of names composed from generic inventories of
        name parts, none equal to, containing or contained in a held-out name), so that a tagger
        learns context and name shape rather than a few dozen names.  Chinese only; 0 (default)
        for the held-out split.
    templates
        ``split="train"`` only: ``"fit"`` (the training templates without the validation ones) or
        ``"val"`` (the validation templates: every third training template of each kind,
        :func:`validation_templates`), so that a validation split can hold out templates as the
        held-out split does; default (None) every training template.
    recombined
        Share of the fixed-template (training) documents whose template is recombined from clauses of the allowed
        fixed templates of every kind (:func:`recombine_template`); Chinese only, 0 (default) for
        the held-out split.  Drawn after the ``composed`` choice, so 0 leaves every corpus as before.
    synthetic_latin
        Share of the synthetic organisations that are Latin-script names (:func:`synthetic_pools`
        ``latin=``); needs ``synthetic``.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CORPUS_COLUMNS`, one row per document: ``tokens``/``tags`` lists of equal
        length, ``text`` (English: tokens joined by spaces; Chinese: :func:`join_zh`), ``ts`` (the
        stated day), ``quantity`` (the stated quantity, float), ``city`` and ``product`` (the
        stated site and product).

    Raises
    ------
    ValueError
        Bad ``n_documents``, ``lang``, ``split`` or a ``pools`` of another language.
    """
    if isinstance(n_documents, bool) or not isinstance(n_documents, int | np.integer) or n_documents < 0:
        raise ValueError(f"n_documents must be an int >= 0, got {n_documents!r}")
    if lang not in ("en", "zh"):
        raise ValueError(f"lang must be 'en' or 'zh', got {lang!r}")
    if split not in SPLITS:
        raise ValueError(f"split must be one of {list(SPLITS)}, got {split!r}")
    composed = (0.5 if split == "train" else 0.0) if composed is None else float(composed)
    if not 0.0 <= composed <= 1.0 or (composed and split == "heldout"):
        raise ValueError(f"composed must be in [0, 1] (and 0 for the held-out split), got {composed}")
    pools = pools if pools is not None else name_pools("builtin", lang=lang)
    if pools.lang != lang:
        raise ValueError(f"pools are for lang={pools.lang!r} but lang={lang!r}")
    if names is not None and names not in SPLITS:
        raise ValueError(f"names must be one of {list(SPLITS)}, got {names!r}")
    part = pools.split(split if names is None else names)
    synthetic = float(synthetic)
    if synthetic and (not 0.0 < synthetic <= 1.0 or split == "heldout" or lang != "zh"):
        raise ValueError(
            f"synthetic must be in [0, 1] (and 0 for the held-out split and for English), got {synthetic}"
        )
    if templates is not None and (templates not in ("fit", "val") or split != "train"):
        raise ValueError(f"templates must be 'fit' or 'val' (with split='train'), got {templates!r}")
    recombined, synthetic_latin = float(recombined), float(synthetic_latin)
    if recombined and (not 0.0 < recombined <= 1.0 or split == "heldout" or lang != "zh"):
        raise ValueError(
            f"recombined must be in [0, 1] (0 for the held-out split and English), got {recombined}"
        )
    if synthetic_latin and (not 0.0 < synthetic_latin <= 1.0 or not synthetic):
        raise ValueError(f"synthetic_latin must be in [0, 1] and needs synthetic > 0, got {synthetic_latin}")
    synth = None
    if synthetic:
        synth = synthetic_pools(pools, latin=synthetic_latin) if synthetic_latin else synthetic_pools(pools)
    tpl_table = ZH_TEMPLATES if lang == "zh" else TEMPLATES
    prefix = "zh:" if lang == "zh" else ""
    allowed = {
        k: [
            i
            for i in range(len(tpls))
            if split == "all" or ((f"{prefix}{k}/{i + 1}" in HELDOUT_TEMPLATES) == (split == "heldout"))
        ]
        for k, tpls in tpl_table.items()
    }
    if templates is not None:
        val_ids = validation_templates(lang)
        allowed = {
            k: [i for i in ids if (f"{prefix}{k}/{i + 1}" in val_ids) == (templates == "val")]
            for k, ids in allowed.items()
        }
    clause_pool = [tpl_table[k][i] for k, ids in allowed.items() for i in ids] if recombined else []
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x5C1D0C, 1 if lang == "zh" else 0]))
    kinds = np.asarray(list(tpl_table), dtype=object)[np.arange(n_documents) % len(tpl_table)]
    kinds = kinds[rng.permutation(n_documents)]
    day0 = pd.Timestamp(start)
    rows = []
    for j, kind in enumerate(kinds):
        tpl: int | str = allowed[kind][int(rng.integers(len(allowed[kind])))]
        if composed and rng.random() < composed:
            tpl = compose_template(rng, kind, lang)
        recomb = bool(recombined) and not isinstance(tpl, str) and rng.random() < recombined
        if recomb:
            tpl = recombine_template(rng, clause_pool)
        names_of = part
        if synth is not None and rng.random() < synthetic:
            names_of = synth
        ts = day0 + pd.Timedelta(days=int(rng.integers(n_days)))
        qty = int(np.ceil(np.exp(rng.uniform(np.log(2), np.log(50_000)))))
        city = _pick(rng, names_of.cities)
        product = _pick(rng, names_of.products)
        tokens, tags = compose(
            rng, kind=kind, template=tpl, city=city, product=product, qty=qty, ts=ts, pools=names_of
        )
        rows.append(
            {
                "doc_id": f"{lang}-{split}-{j + 1:05d}",
                "kind": kind,
                "template": f"{prefix}{kind}/"
                + ("recombined" if recomb else "composed" if isinstance(tpl, str) else str(tpl + 1)),
                "lang": lang,
                "split": split,
                "text": join_zh(tokens) if lang == "zh" else " ".join(tokens),
                "tokens": tokens,
                "tags": tags,
                "ts": ts,
                "quantity": float(qty),
                "city": city,
                "product": product,
            }
        )
    df = pd.DataFrame(rows, columns=list(CORPUS_COLUMNS))
    df["ts"] = df["ts"].astype("datetime64[ns]")
    return df
