"""Token-level NER data: WNUT-2017 emerging and rare entities (CoNLL BIO, 6 types)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ._base import malformed, read_text, require_file

WNUT = "ner_wnut17"
WNUT_FILES: dict[str, str] = {
    "train": "wnut17train.conll",
    "dev": "emerging.dev.conll",
    "test": "emerging.test.annotated",
}
"""Split → file.  ``test`` is the adjudicated gold used for the shared-task scores."""

_TAG = re.compile(r"^(O|[BI]-[A-Za-z][A-Za-z-]*)$")


def entity_spans(tags: list[str]) -> list[tuple[int, int, str]]:
    """Entities of one BIO-tagged sentence as ``(start, end_exclusive, type)``.

    An ``I-`` tag that does not continue an entity of the same type starts a new one
    (the conlleval / seqeval convention).
    """
    spans: list[tuple[int, int, str]] = []
    start, kind = -1, ""
    for i, tag in enumerate([*tags, "O"]):
        prefix, _, typ = tag.partition("-")
        if start >= 0 and not (prefix == "I" and typ == kind):
            spans.append((start, i, kind))
            start = -1
        if prefix == "B" or (prefix == "I" and start < 0):
            start, kind = i, typ
    return spans


@dataclass(frozen=True, eq=False)
class NERDataset:
    """A token-classification corpus in three splits.

    Attributes
    ----------
    name
        ``"ner_wnut17"``.
    train, dev, test
        One row per sentence: ``sentence_id`` (0-based within the split), ``tokens``
        (list[str]) and ``tags`` (list[str], BIO, same length).
    labels
        Sorted tag set over all splits (``"B-corporation"``, ..., ``"O"``).
    entity_types
        Sorted entity types (``corporation, creative-work, group, location, person, product``).
    meta
        Per-split counts (``sentences``, ``tokens``, ``entities``), source, licence.
    """

    name: str
    train: pd.DataFrame
    dev: pd.DataFrame
    test: pd.DataFrame
    labels: list[str] = field(default_factory=list)
    entity_types: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def split(self, name: str) -> pd.DataFrame:
        """The split called ``name`` (``train``, ``dev`` or ``test``)."""
        if name not in WNUT_FILES:
            raise ValueError(f"unknown split {name!r}; expected one of {list(WNUT_FILES)}")
        return getattr(self, name)

    def stats(self) -> pd.DataFrame:
        """Sentences, tokens and entities per split, shape (3, 3), int."""
        rows = {}
        for s in WNUT_FILES:
            df = self.split(s)
            rows[s] = {
                "sentences": len(df),
                "tokens": int(df["tokens"].map(len).sum()),
                "entities": int(sum(len(entity_spans(t)) for t in df["tags"])),
            }
        return pd.DataFrame.from_dict(rows, orient="index")


def _parse_conll(path: Path) -> pd.DataFrame:
    """Parse ``token<TAB>tag`` lines; a blank (or whitespace-only) line ends a sentence."""
    sentences: list[tuple[list[str], list[str]]] = []
    tokens: list[str] = []
    tags: list[str] = []
    # split on "\n" only: str.splitlines() would also break on U+2028, U+0085, ... inside tokens
    for no, raw in enumerate(read_text(path).split("\n"), start=1):
        line = raw.removesuffix("\r")
        if not line.strip():
            if tokens:
                sentences.append((tokens, tags))
                tokens, tags = [], []
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not parts[0] or not _TAG.match(parts[1]):
            raise malformed(path, f"line {no}", "'token<TAB>tag' with a BIO tag (O, B-type, I-type)", line)
        tokens.append(parts[0])
        tags.append(parts[1])
    if tokens:
        sentences.append((tokens, tags))
    if not sentences:
        raise malformed(path, "whole file", "at least one sentence")
    return pd.DataFrame(
        {
            "sentence_id": range(len(sentences)),
            "tokens": [s[0] for s in sentences],
            "tags": [s[1] for s in sentences],
        }
    )


def load_wnut17(folder: Path) -> NERDataset:
    """Parse the three WNUT-2017 files into a :class:`NERDataset`."""
    splits = {s: _parse_conll(require_file(folder, f, WNUT)) for s, f in WNUT_FILES.items()}
    labels = sorted({t for df in splits.values() for tags in df["tags"] for t in tags})
    types = sorted({t[2:] for t in labels if t != "O"})
    ds = NERDataset(
        name=WNUT,
        labels=labels,
        entity_types=types,
        meta={
            "files": dict(WNUT_FILES),
            "source": (
                "Derczynski, Nichols, van Erp & Limsopatham (2017), 'Results of the WNUT2017 Shared Task on Novel "
                "and Emerging Entity Recognition', W-NUT at EMNLP; GitHub leondz/emerging_entities_17"
            ),
            "licence": "CC BY 4.0",
        },
        **splits,
    )
    ds.meta["counts"] = ds.stats().to_dict(orient="index")
    return ds
