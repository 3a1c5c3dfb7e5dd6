"""Mention replacement: data augmentation for BIO-tagged sentences (Dai & Adel 2020).

A tagger trained on few sentences may memorise entity *names* rather than the contexts they
occur in.  Mention replacement (Dai & Adel, "An Analysis of Simple Data Augmentation for Named
Entity Recognition", COLING 2020) adds copies of the training sentences in which every entity
mention is replaced by another mention of the same type, drawn at random from the mentions of
the training sentences: the context stays, the name changes.

:func:`mention_pool` collects the mentions (with repeats, so frequent mentions are drawn more
often); :func:`swap_mentions` returns the original sentences followed by the augmented copies;
:func:`equal_step_swap` also scales the epoch count so that training on the augmented sentences
takes as many optimizer steps as training on the originals (an equal-compute ablation).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["bio_spans", "equal_step_swap", "mention_pool", "swap_mentions"]


def bio_spans(tags: Sequence[str]) -> list[tuple[int, int, str]]:
    """Entity spans of one well-formed BIO sequence → ``[(start, end, type), ...]`` (end exclusive).

    Raises
    ------
    ValueError
        On a tag that is neither ``O`` nor ``B-X`` / ``I-X`` with a non-empty ``X``, or an
        ``I-X`` that does not continue a ``B-X`` / ``I-X`` span of the same type.
    """
    spans: list[tuple[int, int, str]] = []
    start, typ = -1, ""
    for i, tag in enumerate(tags):
        if not isinstance(tag, str):
            raise ValueError(f"tag {i} is not a string: {tag!r}")
        if tag == "O":
            if typ:
                spans.append((start, i, typ))
            start, typ = -1, ""
            continue
        prefix, _, name = tag.partition("-")
        if prefix not in ("B", "I") or not name:
            raise ValueError(f"malformed tag {i}: {tag!r} (want 'O', 'B-X' or 'I-X')")
        if prefix == "I":
            if typ != name:
                raise ValueError(f"tag {i}: {tag!r} does not continue a span of type {name!r} (BIO)")
            continue
        if typ:
            spans.append((start, i, typ))
        start, typ = i, name
    if typ:
        spans.append((start, len(tags), typ))
    return spans


def _check(
    tokens: Sequence[Sequence[str]], tags: Sequence[Sequence[str]]
) -> list[list[tuple[int, int, str]]]:
    if len(tokens) != len(tags):
        raise ValueError(f"{len(tokens)} token sentences but {len(tags)} tag sentences")
    out = []
    for k, (tok, tag) in enumerate(zip(tokens, tags, strict=True)):
        if len(tok) != len(tag):
            raise ValueError(f"sentence {k}: {len(tok)} tokens but {len(tag)} tags")
        try:
            out.append(bio_spans(tag))
        except ValueError as err:
            raise ValueError(f"sentence {k}: {err}") from None
    return out


def mention_pool(
    tokens: Sequence[Sequence[str]], tags: Sequence[Sequence[str]]
) -> dict[str, list[tuple[str, ...]]]:
    """Every entity mention of the sentences by type, in order of occurrence, repeats kept.

    Parameters
    ----------
    tokens, tags
        Per sentence its words and BIO tags (equal lengths; tags well-formed, see :func:`bio_spans`).

    Returns
    -------
    dict
        Entity type → list of mentions (tuples of words).
    """
    pool: dict[str, list[tuple[str, ...]]] = {}
    for tok, spans in zip(tokens, _check(tokens, tags), strict=True):
        for s, e, typ in spans:
            pool.setdefault(typ, []).append(tuple(tok[s:e]))
    return pool


def swap_mentions(
    tokens: Sequence[Sequence[str]],
    tags: Sequence[Sequence[str]],
    *,
    seed: int,
    copies: int = 1,
    pool: dict[str, list[tuple[str, ...]]] | None = None,
) -> tuple[list[list[str]], list[list[str]]]:
    """The sentences followed by ``copies`` mention-replaced copies of each sentence with an entity.

    In a copy every entity span of type X is replaced by a mention of type X drawn uniformly
    (a seeded :func:`numpy.random.default_rng`) from ``pool`` — by default the mentions of the
    given sentences (:func:`mention_pool`), so frequent mentions are drawn more often; the
    replacement's words are tagged ``B-X, I-X, ...``; the words outside entities are kept.
    Sentences without entities are not copied.

    Parameters
    ----------
    tokens, tags
        Per sentence its words and BIO tags (equal lengths; tags well-formed).
    seed
        Seed of the draws: the same seed gives the same copies.
    copies
        Augmented copies per sentence with an entity (``0``: the sentences unchanged).
    pool
        Entity type → mentions to draw from; must hold every type of ``tags``.

    Returns
    -------
    tokens, tags
        Lists of lists: the originals in order, then copy 1 of every sentence with an entity
        (in order), then copy 2, ...

    Raises
    ------
    ValueError
        On sentences and tags of unequal lengths, malformed BIO tags, ``copies < 0``, or a type
        missing from ``pool``.
    """
    if copies < 0:
        raise ValueError(f"copies must be >= 0, got {copies}")
    spans = _check(tokens, tags)
    if pool is None:
        pool = mention_pool(tokens, tags)
    missing = {typ for sp in spans for _, _, typ in sp} - {t for t, m in pool.items() if m}
    if missing:
        raise ValueError(f"no mentions in the pool for the types {sorted(missing)}")
    if any(not m for ms in pool.values() for m in ms):
        raise ValueError("the pool holds an empty mention")
    rng = np.random.default_rng(seed)
    out_tok = [list(t) for t in tokens]
    out_tag = [list(t) for t in tags]
    for _ in range(copies):
        for tok, tag, sp in zip(tokens, tags, spans, strict=True):
            if not sp:
                continue
            new_tok: list[str] = []
            new_tag: list[str] = []
            last = 0
            for s, e, typ in sp:
                new_tok += tok[last:s]
                new_tag += tag[last:s]
                mentions = pool[typ]
                rep = mentions[int(rng.integers(len(mentions)))]
                new_tok += rep
                new_tag += [f"B-{typ}"] + [f"I-{typ}"] * (len(rep) - 1)
                last = e
            new_tok += tok[last:]
            new_tag += tag[last:]
            out_tok.append(new_tok)
            out_tag.append(new_tag)
    return out_tok, out_tag


def equal_step_swap(
    tokens: Sequence[Sequence[str]],
    tags: Sequence[Sequence[str]],
    epochs: float,
    *,
    seed: int,
    copies: int = 1,
) -> tuple[list[list[str]], list[list[str]], float]:
    """:func:`swap_mentions` (pool: the given sentences) and the epoch count that keeps the number
    of optimizer steps: ``epochs * n_original / n_augmented``.

    Returns
    -------
    tokens, tags, epochs
        The augmented sentences and the scaled epoch count.
    """
    if not epochs > 0:
        raise ValueError(f"epochs must be > 0, got {epochs}")
    out_tok, out_tag = swap_mentions(tokens, tags, seed=seed, copies=copies)
    n = len(out_tok)
    return out_tok, out_tag, (epochs * len(tokens) / n if n else float(epochs))
