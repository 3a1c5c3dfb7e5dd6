"""Chinese word features for the tagger: jieba word boundaries, part of speech and dictionary status.

The Chinese corpora tag one token per character (:func:`sclm._text.zh_tokens`), so the encoder
sees no word boundaries.  ``jieba`` (MIT; the version tested is 0.42.1) segments the joined text
with its offline dictionary and, for words it does not know, an HMM; ``jieba.posseg`` tags the
words (``nr`` person, ``ns`` place, ``nt`` organisation, ``nz`` other proper noun, …).  Unseen
names are exactly the words the dictionary lacks, so the three features per token are:

* the token's place in its jieba word: ``B`` first, ``I`` inside, ``E`` last, ``S`` single-token
  word (:data:`BOUNDARY`);
* the word's part-of-speech class (:data:`POS_CLASSES`, folded from jieba's flags by :func:`pos_class`);
* the word's dictionary status (:data:`DICT_CLASSES`): not in the dictionary (found by the HMM
  or a number), rare, or common (jieba's word counts).

Index 0 of each table is padding (special tokens, padding pieces).  :class:`WordFeatures` embeds the
three ids, sums them and adds the sum to the hidden states entering the tagger's first trainable
encoder layer (or the classifier, when the encoder is frozen): a forward pre-hook reads the
batch's feature ids from :attr:`WordFeatures.current`, set by the caller for one forward pass
(:meth:`WordFeatures.using`); with no ids set (e.g. attribution code running ``.model`` alone)
the hook adds nothing.

jieba is deterministic (dictionary + Viterbi); its dictionary cache is written once under
``build/jieba/`` (never to the system temp directory), and jieba is imported only when a tagger
with word features is built.
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from sclm._text import join_zh_offsets

__all__ = [
    "BOUNDARY",
    "DICT_CLASSES",
    "N_FEATURES",
    "POS_CLASSES",
    "WordFeatures",
    "attach_word_features",
    "feature_layer",
    "jieba_pos",
    "pad_features",
    "piece_features",
    "pos_class",
    "word_features",
]

BOUNDARY = ("pad", "B", "I", "E", "S")
"""Token place in its jieba word (index 0 padding)."""

POS_CLASSES = (
    "pad",
    "person",  # nr, nrfg, nrt
    "place",  # ns
    "org",  # nt
    "proper",  # nz
    "noun",  # n, nl, ng, vn, an
    "position",  # s, f (方位/处所)
    "verb",  # v*
    "number",  # m, mq
    "quantifier",  # q
    "time",  # t, tg
    "punct",  # x, w (jieba tags punctuation x)
    "latin",  # eng
    "other",
)
"""Part-of-speech classes folded from jieba's flags (index 0 padding)."""

DICT_CLASSES = ("pad", "unknown", "rare", "common")
"""Dictionary status of the token's word: absent, count < 100, count >= 100 (index 0 padding)."""

N_FEATURES = 3
"""Feature ids per token: (boundary, part of speech, dictionary status)."""

_RARE = 100


def pos_class(flag: str) -> int:
    """Index in :data:`POS_CLASSES` of a jieba part-of-speech flag (``"nr"`` → person, …)."""
    if flag.startswith("nr"):
        return 1
    if flag.startswith("ns"):
        return 2
    if flag == "nt":
        return 3
    if flag == "nz":
        return 4
    if flag in ("n", "nl", "ng", "vn", "an"):
        return 5
    if flag in ("s", "f"):
        return 6
    if flag.startswith("v"):
        return 7
    if flag in ("m", "mq"):
        return 8
    if flag == "q":
        return 9
    if flag in ("t", "tg"):
        return 10
    if flag in ("x", "w"):
        return 11
    if flag == "eng":
        return 12
    return 13


@functools.lru_cache(maxsize=1)
def _posseg() -> Any:
    """A ``jieba.posseg.POSTokenizer`` whose dictionary cache lives under ``build/jieba/``."""
    import logging

    import jieba
    import jieba.posseg

    from sclm.config import BUILD_DIR

    jieba.setLogLevel(logging.WARNING)
    tk = jieba.Tokenizer()
    cache = BUILD_DIR / "jieba"
    cache.mkdir(parents=True, exist_ok=True)
    tk.tmp_dir = str(cache)
    tk.initialize()
    return jieba.posseg.POSTokenizer(tokenizer=tk)


def jieba_pos(text: str) -> list[tuple[str, str]]:
    """``(word, flag)`` pairs of ``jieba.posseg`` (HMM on) for ``text``, in order; the words
    concatenate to ``text``."""
    return [(p.word, p.flag) for p in _posseg().cut(text, HMM=True)]


def word_features(tokens: Sequence[str]) -> np.ndarray:
    """Per token its (boundary, part-of-speech class, dictionary status) ids.

    Parameters
    ----------
    tokens
        One sentence's tokens (Chinese: one per character, Latin/digit runs whole).

    Returns
    -------
    numpy.ndarray
        ``(len(tokens), 3)`` int64, ids into :data:`BOUNDARY`, :data:`POS_CLASSES`,
        :data:`DICT_CLASSES` (never 0).  A token belongs to the jieba word holding its first
        character; the tokens of one word are ``B I … E`` (``S`` alone).
    """
    tokens = list(tokens)
    out = np.zeros((len(tokens), N_FEATURES), np.int64)
    if not tokens:
        return out
    text, starts = join_zh_offsets(tokens)
    freq = _posseg().tokenizer.FREQ
    # word index, pos class and dictionary class of every character offset
    word_at = np.zeros(len(text), np.int64)
    classes: list[tuple[int, int]] = []
    off = 0
    for w, (word, flag) in enumerate(jieba_pos(text)):
        word_at[off : off + len(word)] = w
        count = freq.get(word, 0)
        classes.append((pos_class(flag), 1 if not count else 2 if count < _RARE else 3))
        off += len(word)
    words = word_at[np.asarray(starts)]
    for i, w in enumerate(words):
        first = i == 0 or words[i - 1] != w
        last = i == len(words) - 1 or words[i + 1] != w
        out[i, 0] = 4 if first and last else 1 if first else 3 if last else 2
        out[i, 1], out[i, 2] = classes[w]
    return out


def piece_features(word_ids: Sequence[int | None], feats: np.ndarray) -> np.ndarray:
    """Word features → one row per word piece (special tokens get zeros, i.e. padding).

    Parameters
    ----------
    word_ids
        Per piece its word index (``None`` for special tokens), from a fast tokenizer.
    feats
        ``(n_words, 3)`` from :func:`word_features`.

    Returns
    -------
    numpy.ndarray
        ``(len(word_ids), 3)`` int64.
    """
    out = np.zeros((len(word_ids), N_FEATURES), np.int64)
    for p, w in enumerate(word_ids):
        if w is not None:
            out[p] = feats[w]
    return out


def pad_features(rows: Sequence[np.ndarray], length: int) -> torch.Tensor:
    """Per-sentence piece features ``(n_i, 3)`` → a ``(batch, length, 3)`` long tensor (0-padded)."""
    out = torch.zeros(len(rows), length, N_FEATURES, dtype=torch.long)
    for j, r in enumerate(rows):
        n = min(len(r), length)
        out[j, :n] = torch.from_numpy(np.asarray(r[:n], dtype=np.int64))
    return out


class WordFeatures(nn.Module):
    """Embeddings of the word features, summed and added to hidden states.

    Parameters
    ----------
    hidden_size
        Width of the hidden states the sum is added to.
    init_std
        Standard deviation of the initial embedding weights (padding rows are zero).

    Attributes
    ----------
    current
        The ``(batch, length, 3)`` feature ids of the forward pass in progress, or ``None``.
    """

    def __init__(self, hidden_size: int, *, init_std: float = 0.02) -> None:
        super().__init__()
        sizes = (len(BOUNDARY), len(POS_CLASSES), len(DICT_CLASSES))
        self.tables = nn.ModuleList(nn.Embedding(n, hidden_size, padding_idx=0) for n in sizes)
        with torch.no_grad():
            for t in self.tables:
                t.weight.normal_(0.0, init_std / math.sqrt(len(sizes)))
                t.weight[0].zero_()
        self.current: torch.Tensor | None = None
        self.layer: int = 0

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """``(batch, length, 3)`` ids → ``(batch, length, hidden_size)`` summed embeddings."""
        return sum(t(ids[..., k]) for k, t in enumerate(self.tables))

    @contextlib.contextmanager
    def using(self, ids: torch.Tensor | None) -> Iterator[None]:
        """Set :attr:`current` to ``ids`` for the forward passes inside the block."""
        self.current = ids
        try:
            yield
        finally:
            self.current = None

    def add_to(self, hidden: torch.Tensor) -> torch.Tensor:
        """``hidden + embed(current)`` (unchanged when no ids are set)."""
        ids = self.current
        if ids is None:
            return hidden
        if ids.shape[:2] != hidden.shape[:2]:
            raise ValueError(
                f"word feature ids {tuple(ids.shape)} do not match hidden states {tuple(hidden.shape)}"
            )
        return hidden + self(ids.to(hidden.device)).to(hidden.dtype)

    def pre_hook(self, module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Forward pre-hook of the target layer: adds the features to its hidden-state input."""
        if self.current is None:
            return None
        if args:
            return (self.add_to(args[0]), *args[1:]), kwargs
        kwargs["hidden_states"] = self.add_to(kwargs["hidden_states"])
        return args, kwargs


def feature_layer(model: Any) -> int:
    """Where :func:`attach_word_features` adds the features by default: the index of the lowest
    encoder layer with a trainable weight, or the number of layers (the classifier's input)
    when the whole encoder is frozen."""
    layers = model.bert.encoder.layer
    return next(
        (i for i, lay in enumerate(layers) if any(p.requires_grad for p in lay.parameters())), len(layers)
    )


def attach_word_features(model: Any, layer: int | None = None) -> WordFeatures:
    """Give a ``BertForTokenClassification`` a :class:`WordFeatures` module (``model.word_features``,
    trainable) whose sum is added to the input of encoder layer ``layer``; ``layer`` equal to the
    number of layers means the classifier's input.

    Parameters
    ----------
    model
        The token classifier.
    layer
        Default :func:`feature_layer` (the first trainable layer); stored as
        ``model.word_features.layer``.

    Returns
    -------
    WordFeatures
        The attached module (also ``model.word_features``).
    """
    if getattr(model, "word_features", None) is not None:
        return model.word_features
    layers = model.bert.encoder.layer
    layer = feature_layer(model) if layer is None else int(layer)
    if not 0 <= layer <= len(layers):
        raise ValueError(f"layer must be in [0, {len(layers)}], got {layer}")
    feats = WordFeatures(model.config.hidden_size)
    feats.layer = layer
    model.word_features = feats
    target = layers[layer] if layer < len(layers) else model.classifier
    # a bound method (not a closure): a deep copy of the model (e.g. int8 quantisation) hooks its
    # own copy of the module
    target.register_forward_pre_hook(feats.pre_hook, with_kwargs=True)
    return feats
