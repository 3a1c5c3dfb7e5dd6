"""Decision threshold for BIO decoding: a bias on the ``O`` tag, chosen on validation data.

A tagger trained on text that is mostly ``O`` (WNUT-17: ~90 % of the words) may say ``O`` too
often: its precision runs far above its recall.  :func:`o_bias_logits` adds a constant ``b`` to
the ``O`` tag's per-word log-probability before the (BIO-constrained) decoding, so ``b < 0``
lowers ``O`` and lets more words start or continue an entity; :func:`choose_o_bias` picks ``b``
from a grid by entity F1 on validation sentences (never on the test set).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sclm.models._tagger_data import bio_viterbi

__all__ = ["O_BIAS_GRID", "choose_o_bias", "decode_tags", "mean_transitions", "o_bias_logits"]

#: The default grid of ``O`` biases: -3.0 to +1.0 in steps of 0.25.
O_BIAS_GRID: tuple[float, ...] = tuple(round(-3.0 + 0.25 * i, 2) for i in range(17))


def o_bias_logits(logits: Sequence[np.ndarray], labels: Sequence[str], bias: float) -> list[np.ndarray]:
    """Per-word log-probabilities with ``bias`` added to the ``O`` tag's.

    Parameters
    ----------
    logits
        Per sentence an array ``(n_words, n_labels)`` of scores (:meth:`Tagger.logits` or
        :func:`~sclm.models._tagger_data.ensemble_logits`).  All-zero rows (words cut off by
        ``max_length``) stay all zero, so decoders still tag them ``"O"``.
    labels
        The labels (index = column); must contain ``"O"``.
    bias
        Added to ``log P(O)`` of every word: ``< 0`` favours entities, ``0`` leaves the
        decoding unchanged (the rows are only log-softmaxed, which neither argmax nor
        :func:`~sclm.models._tagger_data.bio_viterbi` notices).

    Returns
    -------
    list[numpy.ndarray]
        Per sentence ``(n_words, n_labels)`` float64: ``log_softmax(row)`` plus ``bias`` in the
        ``O`` column.  The rows are no longer normalised; a decoder's own log-softmax then
        renormalises them, which shifts every tag of the word by the same amount and so keeps
        the bias's effect (the ``O`` score relative to the others moves by ``bias``).
    """
    o = list(labels).index("O")
    out = []
    for lg in logits:
        a = np.asarray(lg, dtype=np.float64)
        if a.size == 0:
            out.append(a.copy())
            continue
        z = a - a.max(1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(1, keepdims=True))
        logp[:, o] += bias
        logp[~a.any(axis=1)] = 0.0
        out.append(logp)
    return out


def decode_tags(
    logits: Sequence[np.ndarray],
    labels: Sequence[str],
    *,
    constrained: bool = True,
    transitions: tuple[np.ndarray, np.ndarray] | None = None,
) -> list[list[str]]:
    """BIO tags from word-level scores (the decoding of :meth:`sclm.models.tagger.Tagger.decode`):
    per-word argmax or the most likely valid BIO sequence
    (:func:`~sclm.models._tagger_data.bio_viterbi`); all-zero rows are ``"O"``.

    Parameters
    ----------
    logits
        Per sentence an array ``(n_words, n_labels)``.
    labels
        The labels (index = column).
    constrained
        BIO-constrained Viterbi (``True``) or per-word argmax.
    transitions
        With ``constrained=True``: transition log-probabilities
        (:func:`~sclm.models._tagger_data.bio_transitions`) added as a CRF's transition scores;
        ``None``: hard BIO rules only.

    Returns
    -------
    list[list[str]]
        One tag per word.
    """
    labels = list(labels)
    o = labels.index("O")
    tags = []
    for lg in logits:
        lg = np.asarray(lg)
        if constrained and len(lg):
            ids = bio_viterbi(lg, labels, transitions=transitions)
        else:
            ids = lg.argmax(axis=1) if len(lg) else np.zeros(0, int)
        ids[~lg.any(axis=1)] = o
        tags.append([labels[i] for i in ids])
    return tags


def choose_o_bias(
    logits: Sequence[np.ndarray],
    gold: Sequence[Sequence[str]],
    labels: Sequence[str],
    *,
    grid: Sequence[float] = O_BIAS_GRID,
    transitions: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[float, pd.DataFrame]:
    """The ``O`` bias of ``grid`` with the highest entity F1 (seqeval, micro) on validation data
    under BIO-constrained decoding (:func:`o_bias_logits` then :func:`decode_tags`).

    Parameters
    ----------
    logits
        Validation sentences' word-level scores, per sentence ``(n_words, n_labels)``.
    gold
        Their gold BIO tags (same lengths).
    labels
        The labels (index = column).
    grid
        Candidate biases.  Ties (equal F1) go to the bias closest to 0, then to the smaller.
    transitions
        ``(start, trans)`` transition scores for the Viterbi (a learned CRF's,
        :attr:`sclm.models.tagger.Tagger.crf_transitions`); ``None``: hard BIO rules only.

    Returns
    -------
    (float, pandas.DataFrame)
        The chosen bias and the curve: one row per grid point (in grid order), columns
        ``bias, precision, recall, f1`` (fractions in [0, 1]).
    """
    from sclm.documents import ner_scores

    if not len(grid):
        raise ValueError("grid is empty")
    rows = []
    for b in grid:
        sc = ner_scores(
            gold, decode_tags(o_bias_logits(logits, labels, float(b)), labels, transitions=transitions)
        )
        micro = sc.loc["micro avg"]
        rows.append(
            {
                "bias": float(b),
                "precision": float(micro["precision"]),
                "recall": float(micro["recall"]),
                "f1": float(micro["f1"]),
            }  # fmt: skip
        )
    table = pd.DataFrame(rows)
    best = max(rows, key=lambda r: (r["f1"], -abs(r["bias"]), -r["bias"]))
    return best["bias"], table


def mean_transitions(members: Sequence[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """The mean of several taggers' ``(start, trans)`` transition scores (learned CRFs of a seed
    ensemble), entry by entry; an entry that is ``-inf`` (a BIO-invalid transition) in one member
    must be ``-inf`` in all and stays ``-inf``.

    Parameters
    ----------
    members
        Per member ``(start (k,), trans (k, k))``, as :attr:`sclm.models.tagger.Tagger.crf_transitions`.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``start (k,)`` and ``trans (k, k)`` float64.
    """
    members = list(members)
    if not members:
        raise ValueError("no transitions to average")
    out = []
    for part in range(2):
        arrs = [np.asarray(m[part], dtype=np.float64) for m in members]
        if any(a.shape != arrs[0].shape for a in arrs):
            raise ValueError(f"members' transitions differ in shape: {[a.shape for a in arrs]}")
        inf = [np.isneginf(a) for a in arrs]
        if any((m != inf[0]).any() for m in inf):
            raise ValueError("members disagree on which transitions are impossible (-inf)")
        mean = np.mean([np.where(inf[0], 0.0, a) for a in arrs], axis=0)
        mean[inf[0]] = -np.inf
        out.append(mean)
    return out[0], out[1]
