"""Validation templates and clause recombination for tagger corpora (:func:`sclm.scenarios.documents.make_corpus`).

* :func:`validation_templates` — every third *training* template of each document kind: a
  validation split that holds out templates (``make_corpus(templates="val")``) as the held-out
  split does, while the model trains on the others (``templates="fit"``).
* :func:`recombine_template` — a new Chinese template made of clauses of the given fixed
  templates (of every kind): each template is cut at its punctuation into clauses, and clauses
  are drawn in random order, none repeating a slot, until the quantity, date, site and product
  are stated, then joined by random separators.  It only reuses the training templates' own
  text, so it needs no knowledge of the held-out templates.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from sclm.scenarios._vocabulary import HELDOUT_TEMPLATES, SEPARATORS, TEMPLATES, ZH_TEMPLATES

__all__ = ["REQUIRED_SLOTS", "clauses", "recombine_template", "validation_templates"]

REQUIRED_SLOTS = frozenset({"QTY", "DATE", "LOC", "PRODUCT"})
"""Slots every document states (one each)."""
VALIDATION_EVERY = 3
"""Every third training template of a kind (positions 3, 6, ... among its training templates)."""
_ZH_CUT = re.compile(r"[，。｜：；、（）]")
_SLOT = re.compile(r"\{([A-Z]+)\}")


def validation_templates(lang: str = "zh") -> frozenset[str]:
    """Template ids (``kind/number``, ``zh:`` prefix for Chinese) held out of training for validation.

    Parameters
    ----------
    lang
        ``"en"`` or ``"zh"``.

    Returns
    -------
    frozenset of str
        Among each kind's training templates (those not in :data:`HELDOUT_TEMPLATES`), in order,
        every :data:`VALIDATION_EVERY`-th; never a held-out template.
    """
    if lang not in ("en", "zh"):
        raise ValueError(f"lang must be 'en' or 'zh', got {lang!r}")
    table, prefix = (ZH_TEMPLATES, "zh:") if lang == "zh" else (TEMPLATES, "")
    out = []
    for kind, tpls in table.items():
        train = [f"{prefix}{kind}/{i + 1}" for i in range(len(tpls))]
        train = [t for t in train if t not in HELDOUT_TEMPLATES]
        out += train[VALIDATION_EVERY - 1 :: VALIDATION_EVERY]
    return frozenset(out)


def clauses(templates: Sequence[str]) -> list[tuple[str, frozenset[str]]]:
    """The clauses of Chinese templates, cut at punctuation: ``(text, slots it holds)``, empty
    clauses dropped; duplicates kept once."""
    out: dict[str, frozenset[str]] = {}
    for tpl in templates:
        for part in _ZH_CUT.split(tpl):
            if part.strip():
                out.setdefault(part, frozenset(_SLOT.findall(part)))
    return list(out.items())


def recombine_template(rng: np.random.Generator, templates: Sequence[str], p_extra: float = 0.5) -> str:
    """A Chinese template recombined from clauses of ``templates``.

    Parameters
    ----------
    rng
        Random stream.
    templates
        Chinese fixed templates (``{SLOT}`` markers in running text) whose clauses are drawn.
    p_extra
        Chance to keep each clause that adds no required slot (an organisation, person, reference,
        a slot-free phrase) met before the required slots are covered.

    Returns
    -------
    str
        Clauses in random order, each slot at most once, every one of :data:`REQUIRED_SLOTS` once,
        joined by one random separator and ending with ``。``.

    Raises
    ------
    ValueError
        The clauses do not cover :data:`REQUIRED_SLOTS`.
    """
    pool = clauses(templates)
    have = frozenset().union(*(s for _, s in pool)) if pool else frozenset()
    if not REQUIRED_SLOTS <= have:
        raise ValueError(f"the templates' clauses lack slots {sorted(REQUIRED_SLOTS - have)}")
    taken: list[str] = []
    used: set[str] = set()
    for k in rng.permutation(len(pool)):
        text, slots = pool[int(k)]
        if slots & used:
            continue
        if not slots & (REQUIRED_SLOTS - used) and rng.random() >= p_extra:
            continue
        taken.append(text)
        used |= slots
        if REQUIRED_SLOTS <= used:
            break
    sep = SEPARATORS["zh"][int(rng.integers(len(SEPARATORS["zh"])))]
    return sep.join(taken) + "。"
