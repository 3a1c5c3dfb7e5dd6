"""Boundary augmentation for Chinese tagger corpora: common words inserted next to entities.

Chinese has no spaces, so where an entity ends is read from the words around it.  A tagger that
has only seen the training templates' few neighbours of each slot learns those neighbours, not
the boundary: next to a word it has never seen there it runs the entity on (``原产`` + a country
read as one place, a person merged into the organisation after ``代表``, a city and ``工厂`` read
as one organisation).  :func:`insert_context_words` puts random common words right before and
after the entities of training documents, tagged ``O``, so the model learns that any word can
stand next to an entity without belonging to it.

The words (:func:`context_words`) come from jieba's bundled dictionary (general language
knowledge, no template or held-out name is looked at): two-character, all-CJK words of at least
``min_freq`` occurrences whose part of speech is not a name, place, organisation, other proper
noun, numeral, time, quantifier or foreign word, and which are no substring of any name in the
given pools (so an inserted word never looks like part of a name).
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import numpy as np
import pandas as pd

from sclm._text import join_zh
from sclm.datasets.text import entity_spans

__all__ = ["NAME_POS", "context_words", "insert_context_words", "pool_names"]

NAME_POS = ("nr", "ns", "nt", "nz", "m", "t", "q", "x", "eng")
"""jieba part-of-speech prefixes never drawn: names (person, place, organisation, other proper
nouns), numerals, times, quantifiers, non-words and foreign words."""


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def _name_substrings(names: Iterable[str], length: int) -> set[str]:
    out: set[str] = set()
    for name in names:
        out.update(name[i : i + length] for i in range(len(name) - length + 1))
    return out


def pool_names(*pools) -> list[str]:
    """Every name of the given :class:`~sclm.scenarios.documents.NamePools` (organisations of
    every kind, people, cities, countries, products, modes), in order, repeats dropped."""
    out: dict[str, None] = {}
    for p in pools:
        for group in (*p.orgs.values(), p.people, p.cities, p.countries, p.products, p.modes):
            out.update(dict.fromkeys(group))
    return list(out)


def context_words(
    names: Iterable[str], *, min_freq: int = 1000, dict_path: str | None = None
) -> tuple[str, ...]:
    """Common two-character words of jieba's dictionary that are no part of any of ``names``.

    Parameters
    ----------
    names
        Every name an entity may take (real and synthetic pools): a word that is a substring of
        one of them is left out.
    min_freq
        Smallest dictionary frequency kept.
    dict_path
        A jieba-format dictionary (``word freq pos`` per line); default the one bundled with jieba.

    Returns
    -------
    tuple of str
        Sorted, so the same dictionary gives the same words on every machine.
    """
    if dict_path is None:
        import jieba

        dict_path = os.path.join(os.path.dirname(jieba.__file__), "dict.txt")
    banned = _name_substrings(names, 2)
    words = set()
    with open(dict_path, encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) < 3 or len(parts[0]) != 2 or int(parts[1]) < min_freq:
                continue
            word, pos = parts[0], parts[2]
            if all(_is_cjk(c) for c in word) and not pos.startswith(NAME_POS) and word not in banned:
                words.add(word)
    if not words:
        raise ValueError(f"no context word in {dict_path!r} with frequency >= {min_freq}")
    return tuple(sorted(words))


def insert_context_words(
    corpus: pd.DataFrame,
    words: tuple[str, ...],
    *,
    share: float,
    before: float = 0.5,
    after: float = 0.5,
    seed: int = 0,
) -> pd.DataFrame:
    """``corpus`` with words inserted next to the entities of a ``share`` of its documents.

    Parameters
    ----------
    corpus
        A Chinese corpus of :func:`sclm.scenarios.documents.make_corpus` (``tokens``, ``tags``,
        ``text``; one token per CJK character).
    words
        The words drawn from (uniformly), e.g. :func:`context_words`.
    share
        Share of documents augmented, in [0, 1] (drawn per document).
    before, after
        Probability of a word right before an entity, and independently of one right after it.
    seed
        Same seed → the same corpus.

    Returns
    -------
    DataFrame
        A copy: the augmented documents' ``tokens`` and ``tags`` (each inserted character its own
        token, tagged ``O``) and ``text``; every other column unchanged.
    """
    if not all(0.0 <= v <= 1.0 for v in (share, before, after)):
        raise ValueError(f"share, before and after must be in [0, 1], got {share}, {before}, {after}")
    if not words:
        raise ValueError("no words to insert")
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xC0E7]))
    out = corpus.copy()
    tokens_col, tags_col, texts = [], [], []
    for tokens, tags, text in zip(corpus["tokens"], corpus["tags"], corpus["text"], strict=True):
        if rng.random() >= share:
            tokens_col.append(list(tokens))
            tags_col.append(list(tags))
            texts.append(text)
            continue
        pre: dict[int, str] = {}
        post: dict[int, str] = {}
        for start, end, _ in entity_spans(list(tags)):
            if rng.random() < before:
                pre[start] = words[int(rng.integers(len(words)))]
            if rng.random() < after:
                post[end - 1] = words[int(rng.integers(len(words)))]
        tok, tag = [], []
        for i, (t, g) in enumerate(zip(tokens, tags, strict=True)):
            if i in pre:
                tok += list(pre[i])
                tag += ["O"] * len(pre[i])
            tok.append(t)
            tag.append(g)
            if i in post:
                tok += list(post[i])
                tag += ["O"] * len(post[i])
        tokens_col.append(tok)
        tags_col.append(tag)
        texts.append(join_zh(tok))
    out["tokens"], out["tags"], out["text"] = tokens_col, tags_col, texts
    return out
