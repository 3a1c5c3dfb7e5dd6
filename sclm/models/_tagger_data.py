"""The tagger's data side: label checks, casing classes, word-piece label alignment, the token
classification dataset, the fit report, class weights, WordPiece training, BIO-constrained
decoding with counted or learned (linear-chain CRF) transitions, seed ensembles
(:func:`ensemble_logits`), and the training helpers
(``[UNK]`` dropout, class-weighted Trainer); :mod:`sclm.models.tagger` re-exports the public names."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

IGNORE = -100
"""Label id ignored by the loss (special tokens, padding, non-first pieces)."""

N_CASING = 4


def _check_labels(labels: Sequence[str]) -> list[str]:
    labels = list(labels)
    if not labels or "O" not in labels:
        raise ValueError(f"labels must be a non-empty list of BIO tags including 'O', got {labels!r}")
    if len(set(labels)) != len(labels):
        raise ValueError(f"labels must be unique, got {labels!r}")
    bad = [t for t in labels if t != "O" and not (len(t) > 2 and t[:2] in ("B-", "I-"))]
    if bad:
        raise ValueError(f"labels must be BIO tags ('O', 'B-TYPE', 'I-TYPE'), got {bad[0]!r}")
    return labels


def _check_corpus(tokens: Sequence[Sequence[str]], tags: Sequence[Sequence[str]] | None, labels) -> None:
    if isinstance(tokens, str) or not isinstance(tokens, Sequence):
        raise TypeError("tokens must be a list of token lists (one per sentence)")
    if tags is None:
        return
    if len(tokens) != len(tags):
        raise ValueError(f"got {len(tokens)} token lists but {len(tags)} tag lists")
    known = set(labels)
    for i, (tok, tag) in enumerate(zip(tokens, tags, strict=True)):
        if len(tok) != len(tag):
            raise ValueError(f"sentence {i}: {len(tok)} tokens but {len(tag)} tags")
        unknown = set(tag) - known
        if unknown:
            raise ValueError(
                f"sentence {i}: unknown tag(s) {sorted(unknown)}; the tagger's labels are {labels}"
            )


def casing_classes(word: str) -> int:
    """Casing class of a word: 0 lower/other, 1 ``Capitalised``, 2 ``UPPER`` (2+ letters), 3 has a digit."""
    if any(c.isdigit() for c in word):
        return 3
    letters = [c for c in word if c.isalpha()]
    if len(letters) >= 2 and all(c.isupper() for c in letters):
        return 2
    if letters and letters[0].isupper():
        return 1
    return 0


def align_labels(
    word_ids: Sequence[int | None],
    word_labels: Sequence[int],
    *,
    label_all_subtokens: bool = False,
    b_to_i: Mapping[int, int] | None = None,
) -> list[int]:
    """Word-level label ids → one label id per word piece.

    Parameters
    ----------
    word_ids
        Per piece, the index of its word (``None`` for special tokens), as from a fast
        tokenizer's ``word_ids()``.
    word_labels
        Per word, its label id.
    label_all_subtokens
        ``False``: only a word's first piece carries its label, later pieces get ``-100``.
        ``True``: every piece is labelled; a continuation piece of a ``B-X`` word gets ``I-X``.
    b_to_i
        Label id of ``B-X`` → label id of ``I-X`` (only used with ``label_all_subtokens``).

    Returns
    -------
    list[int]
        Same length as ``word_ids``; ``-100`` for special tokens (and skipped pieces).
    """
    out: list[int] = []
    previous: int | None = None
    for wid in word_ids:
        if wid is None:
            out.append(IGNORE)
        elif wid != previous:
            if wid >= len(word_labels):
                raise ValueError(f"word id {wid} but only {len(word_labels)} word labels")
            out.append(int(word_labels[wid]))
        elif label_all_subtokens:
            lab = int(word_labels[wid])
            out.append(int((b_to_i or {}).get(lab, lab)))
        else:
            out.append(IGNORE)
        previous = wid
    return out


class TokenClassificationDataset(torch.utils.data.Dataset):
    """Tokenised sentences with aligned labels, ready for ``DataCollatorForTokenClassification``.

    Parameters
    ----------
    tokens
        Per sentence, its words.
    tags
        Per sentence, its BIO tags (``None`` for unlabelled data).
    tokenizer
        A fast tokenizer (needs ``word_ids``).
    labels
        The label list (tag → id by position).
    max_length
        Pieces per sentence, special tokens included (longer sentences are truncated).
    label_all_subtokens, casing
        See :func:`align_labels` and :class:`Tagger`.
    word_features
        Also compute jieba word features per piece (:mod:`sclm.models._zh_features`), kept in
        :attr:`features` (not in the items, which the collator pads).

    Items are dicts of int lists: ``input_ids``, ``attention_mask``, ``token_type_ids`` (casing
    classes, or zeros), ``labels`` (when tagged).  ``features`` is ``None`` or per sentence an
    int64 array ``(n_pieces, 3)``.
    """

    def __init__(
        self,
        tokens: Sequence[Sequence[str]],
        tags: Sequence[Sequence[str]] | None,
        tokenizer: Any,
        labels: Sequence[str],
        *,
        max_length: int = 128,
        label_all_subtokens: bool = False,
        casing: bool = False,
        word_features: bool = False,
    ) -> None:
        labels = _check_labels(labels)
        _check_corpus(tokens, tags, labels)
        if not getattr(tokenizer, "is_fast", False):
            raise TypeError("tokenizer must be a fast (Rust) tokenizer: word_ids() is needed to align tags")
        label2id = {t: i for i, t in enumerate(labels)}
        b_to_i = {label2id[t]: label2id.get("I-" + t[2:], label2id[t]) for t in labels if t.startswith("B-")}
        self.tokens = [list(t) for t in tokens]
        enc = tokenizer(
            self.tokens,
            is_split_into_words=True,
            truncation=True,
            max_length=max_length,
            add_special_tokens=True,
        )
        self.items: list[dict[str, list[int]]] = []
        self.word_ids: list[list[int | None]] = []
        for i in range(len(self.tokens)):
            wids = enc.word_ids(i)
            item = {"input_ids": enc["input_ids"][i], "attention_mask": enc["attention_mask"][i]}
            item["token_type_ids"] = (
                [0 if w is None else casing_classes(self.tokens[i][w]) for w in wids]
                if casing
                else [0] * len(wids)
            )
            if tags is not None:
                ids = [label2id[t] for t in tags[i]]
                item["labels"] = align_labels(
                    wids, ids, label_all_subtokens=label_all_subtokens, b_to_i=b_to_i
                )
            self.items.append(item)
            self.word_ids.append(wids)
        self.features: list[np.ndarray] | None = None
        if word_features:
            from sclm.models._zh_features import piece_features
            from sclm.models._zh_features import word_features as zh_word_features

            self.features = [
                piece_features(w, zh_word_features(t))
                for w, t in zip(self.word_ids, self.tokens, strict=True)
            ]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict[str, list[int]]:
        return self.items[i]

    @property
    def n_pieces(self) -> int:
        """Word pieces over all sentences (special tokens included)."""
        return sum(len(it["input_ids"]) for it in self.items)


@dataclass
class FitReport:
    """What :meth:`Tagger.fit` did.

    Attributes
    ----------
    seconds
        Wall-clock training time (s).
    epochs, steps
        Epochs and optimiser steps run.
    pieces_per_epoch
        Word pieces in the training set (special tokens included, padding excluded).
    tokens_per_second
        ``pieces_per_epoch * epochs / seconds``.
    history
        Per epoch: ``{"epoch", "loss"}`` (mean training loss).
    config
        The training options.
    """

    seconds: float
    epochs: float
    steps: int
    pieces_per_epoch: int
    tokens_per_second: float
    history: list[dict[str, float]] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)


def class_weights_from(
    tags: Sequence[Sequence[str]], labels: Sequence[str], *, power: float = 0.5
) -> np.ndarray:
    """Class weights ``(count_max / count_c) ** power`` (``power=0.5``: square-root inverse
    frequency), normalised to mean 1 over the labels; unseen labels get the largest weight.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(labels),)``, float32.
    """
    counts = np.array([sum(t == lab for s in tags for t in s) for lab in labels], dtype=np.float64)
    seen = counts > 0
    w = np.ones(len(labels))
    w[seen] = (counts[seen].max() / counts[seen]) ** power
    w[~seen] = w[seen].max() if seen.any() else 1.0
    return (w / w.mean()).astype(np.float32)


def train_wordpiece(
    texts: Sequence[str],
    *,
    vocab_size: int = 2000,
    min_frequency: int = 1,
    lowercase: bool = True,
) -> Any:
    """Train a BERT-style WordPiece tokenizer with the ``tokenizers`` library.

    CJK characters become single words (``BertNormalizer(handle_chinese_chars=True)``), other
    text splits on whitespace and punctuation, then into word pieces (``##`` continuation).

    Parameters
    ----------
    texts
        Training text (e.g. generated documents of the training split only).
    vocab_size
        Target vocabulary size, special tokens included.
    min_frequency
        Minimum pair frequency for a merge.
    lowercase
        Lowercase Latin text.

    Returns
    -------
    transformers.PreTrainedTokenizerFast
        With ``[PAD] [UNK] [CLS] [SEP] [MASK]`` and ``[CLS] … [SEP]`` post-processing; saves with
        ``save_pretrained`` and loads with ``AutoTokenizer.from_pretrained``.
    """
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    if isinstance(texts, str) or not len(texts):
        raise ValueError("texts must be a non-empty list of strings")
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=False, lowercase=lowercase
    )
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(
        vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=specials, show_progress=False
    )
    tok.train_from_iterator(list(texts), trainer=trainer)
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)],
    )
    tok.decoder = decoders.WordPiece(prefix="##")
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    )


def _bio_allowed(labels: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """``(start (k,), ok (k, k))``: which tags may open a sentence, which may follow which."""
    k = len(labels)
    ok = np.ones((k, k), bool)  # ok[prev, next]
    start = np.ones(k, bool)
    for j, lab in enumerate(labels):
        if lab.startswith("I-"):
            start[j] = False
            ok[:, j] = [p in ("B-" + lab[2:], lab) for p in labels]
    return start, ok


def bio_transitions(
    tags: Sequence[Sequence[str]], labels: Sequence[str], *, smoothing: float = 1.0, pmi: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Log transition probabilities of the training tags, for CRF-like decoding (:func:`bio_viterbi`).

    Parameters
    ----------
    tags
        Training sentences' BIO tags.
    labels
        The BIO labels (index = column).
    smoothing
        Added to every allowed count (Laplace), so an allowed but unseen transition keeps a
        finite score.
    pmi
        Subtract the log prior of the next tag, log P(tag) (its share of all training tags,
        smoothed likewise): ``start = log P(first) - log P(tag)``, ``trans = log P(next | prev)
        - log P(next)``.  A tagger's softmax is already a posterior P(tag | text) that holds the
        tag prior; adding log P(next | prev) counts that prior twice (on WNUT-17, 90 % ``O``, it
        pushed recall down), while the ratio P(next | prev) / P(next) adds only what the
        previous tag tells (an HMM's posterior/prior combination).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``start`` ``(k,)``: log P(first tag); ``trans`` ``(k, k)``: log P(next | previous)
        (minus log P(next) with ``pmi``).  Transitions that break BIO are ``-inf``.
    """
    index = {t: i for i, t in enumerate(labels)}
    allowed_start, ok = _bio_allowed(labels)
    first = np.where(allowed_start, float(smoothing), 0.0)
    pair = np.where(ok, float(smoothing), 0.0)
    for sent in tags:
        ids = [index[t] for t in sent]
        if ids:
            first[ids[0]] += 1
        for a, b in zip(ids[:-1], ids[1:], strict=True):
            pair[a, b] += 1
    with np.errstate(divide="ignore"):
        start = np.log(first / max(first.sum(), 1e-12))
        rows = pair.sum(1, keepdims=True)
        trans = np.log(pair / np.where(rows > 0, rows, 1.0))
    if pmi:
        unigram = np.full(len(labels), float(smoothing))
        for sent in tags:
            for t in sent:
                unigram[index[t]] += 1
        prior = np.log(unigram / unigram.sum())
        start = start - prior
        trans = trans - prior[None, :]
    start[~allowed_start] = -np.inf
    trans[~ok] = -np.inf
    return start, trans


def bio_viterbi(
    logits: np.ndarray,
    labels: Sequence[str],
    *,
    transitions: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Most likely valid BIO tag sequence (``I-X`` only after ``B-X`` or ``I-X``).

    Parameters
    ----------
    logits
        ``(n_words, n_labels)`` scores; turned into log-probabilities per word.
    labels
        The BIO labels (index = column).
    transitions
        ``None``: every valid BIO sequence is equally likely a priori (hard constraints only).
        Else ``(start, trans)`` log-probabilities (:func:`bio_transitions`) added to the
        per-word log-probabilities, as the transition scores of a linear-chain CRF.

    Returns
    -------
    numpy.ndarray
        ``(n_words,)`` label ids.
    """
    lg = np.asarray(logits, dtype=np.float64)
    logp = lg - lg.max(1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(1, keepdims=True))
    n, k = logp.shape
    start, ok = _bio_allowed(labels)
    trans = np.where(ok, 0.0, -np.inf)
    first = np.where(start, 0.0, -np.inf)
    if transitions is not None:
        first, trans = (np.asarray(x, dtype=np.float64) for x in transitions)
        if first.shape != (k,) or trans.shape != (k, k):
            raise ValueError(
                f"transitions must be shaped ({k},) and ({k}, {k}), got {first.shape}, {trans.shape}"
            )
        first = np.where(start, first, -np.inf)
        trans = np.where(ok, trans, -np.inf)
    score = first + logp[0]
    back = np.zeros((n, k), int)
    for t in range(1, n):
        cand = score[:, None] + trans  # (prev, next)
        back[t] = cand.argmax(0)
        score = cand.max(0) + logp[t]
    out = np.zeros(n, int)
    out[-1] = int(score.argmax())
    for t in range(n - 1, 0, -1):
        out[t - 1] = back[t, out[t]]
    return out


def ensemble_logits(members: Sequence[Sequence[np.ndarray]]) -> list[np.ndarray]:
    """Seed ensemble: per word, the log of the members' **averaged probabilities** (softmax of each
    member's logits, mean over members) — a mixture of the members' predictive distributions.

    The result decodes like one tagger's logits (:meth:`sclm.models.tagger.Tagger.decode`,
    :func:`bio_viterbi`): its rows are already log-probabilities, so their log-softmax is
    themselves.  Probabilities are averaged rather than log-probabilities (a product of experts)
    so that one confident member cannot veto a tag the others agree on, and a word's score stays
    a probability the BIO Viterbi can trade against its neighbours'.

    Parameters
    ----------
    members
        Per member, per sentence an array ``(n_words, n_labels)`` (:meth:`Tagger.logits`); all
        members must cover the same sentences and labels.  Rows that are all zero in every member
        (words cut off by ``max_length``) stay all zero, so they still decode to ``"O"``.

    Returns
    -------
    list[numpy.ndarray]
        Per sentence ``(n_words, n_labels)`` float32 log mean probabilities.
    """
    members = [list(m) for m in members]
    if not members:
        raise ValueError("an ensemble needs at least one member")
    n = len(members[0])
    if any(len(m) != n for m in members):
        raise ValueError(f"members cover different numbers of sentences: {[len(m) for m in members]}")
    out = []
    for i in range(n):
        arrs = [np.asarray(m[i], dtype=np.float64) for m in members]
        if any(a.shape != arrs[0].shape for a in arrs):
            raise ValueError(f"sentence {i}: members' logits differ in shape {[a.shape for a in arrs]}")
        if arrs[0].size == 0:
            out.append(np.zeros(arrs[0].shape, np.float32))
            continue
        prob = np.zeros(arrs[0].shape)
        for a in arrs:
            z = np.exp(a - a.max(1, keepdims=True))
            prob += z / z.sum(1, keepdims=True)
        logp = np.log(np.maximum(prob / len(arrs), np.finfo(np.float64).tiny))
        logp[~np.any([a.any(axis=1) for a in arrs], axis=0)] = 0.0
        out.append(logp.astype(np.float32))
    return out


class LinearChainCRF(torch.nn.Module):
    """Learned BIO transition scores (a linear-chain CRF over word-level emissions).

    Transitions that break BIO (:func:`_bio_allowed`) are fixed at ``-inf``; the others are
    trained by the negative log-likelihood of the gold tag sequence (forward algorithm).
    :meth:`as_transitions` gives ``(start, trans)`` for :func:`bio_viterbi`.

    Parameters
    ----------
    labels
        The BIO labels (index = class id).
    init
        Optional ``(start, trans)`` to start from (e.g. :func:`bio_transitions` of the training
        tags); default zeros.
    """

    def __init__(self, labels: Sequence[str], init: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        super().__init__()
        start_ok, ok = _bio_allowed(labels)
        k = len(labels)
        s0 = np.zeros(k, np.float32)
        t0 = np.zeros((k, k), np.float32)
        if init is not None:
            s0 = np.where(start_ok, np.asarray(init[0], np.float64), 0.0).astype(np.float32)
            t0 = np.where(ok, np.asarray(init[1], np.float64), 0.0).astype(np.float32)
        self.start = torch.nn.Parameter(torch.from_numpy(s0))
        self.trans = torch.nn.Parameter(torch.from_numpy(t0))
        self.register_buffer("start_mask", torch.from_numpy(~start_ok))
        self.register_buffer("trans_mask", torch.from_numpy(~ok))

    def _scores(self) -> tuple[torch.Tensor, torch.Tensor]:
        neg = torch.finfo(self.start.dtype).min / 4
        return (
            self.start.masked_fill(self.start_mask, neg),
            self.trans.masked_fill(self.trans_mask, neg),
        )

    def nll(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Mean negative log-likelihood per sentence.

        Parameters
        ----------
        emissions
            ``(batch, length, k)`` scores (the tagger's logits, log-softmaxed here).
        tags
            ``(batch, length)`` gold label ids (any value where ``mask`` is false).
        mask
            ``(batch, length)`` bool, true on the sentence's words; each row a prefix (left-aligned).
        """
        start, trans = self._scores()
        em = torch.log_softmax(emissions.float(), -1)
        b, n, _ = em.shape
        tags = tags.clamp(min=0)
        rows = torch.arange(b, device=em.device)
        # gold path score
        gold = start[tags[:, 0]] + em[rows, 0, tags[:, 0]]
        for t in range(1, n):
            step = trans[tags[:, t - 1], tags[:, t]] + em[rows, t, tags[:, t]]
            gold = gold + step * mask[:, t]
        # partition function
        alpha = start + em[:, 0]
        for t in range(1, n):
            nxt = torch.logsumexp(alpha[:, :, None] + trans[None], dim=1) + em[:, t]
            alpha = torch.where(mask[:, t, None], nxt, alpha)
        logz = torch.logsumexp(alpha, dim=1)
        has = mask[:, 0]
        return ((logz - gold) * has).sum() / has.sum().clamp(min=1)

    def as_transitions(self) -> tuple[np.ndarray, np.ndarray]:
        """``(start (k,), trans (k, k))`` float64 for :func:`bio_viterbi` (BIO-invalid ``-inf``)."""
        with torch.no_grad():
            start = self.start.detach().double().cpu().numpy().copy()
            trans = self.trans.detach().double().cpu().numpy().copy()
        start[self.start_mask.cpu().numpy()] = -np.inf
        trans[self.trans_mask.cpu().numpy()] = -np.inf
        return start, trans


def compact_labels(
    logits: torch.Tensor, labels: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Piece-level logits and labels → word-level (the pieces whose label is not ``-100``),
    left-aligned: ``(emissions (b, n, k), tags (b, n), mask (b, n))``."""
    keep = labels != IGNORE
    n = max(int(keep.sum(1).max()), 1)
    b, _, k = logits.shape
    em = logits.new_zeros(b, n, k)
    tg = torch.zeros(b, n, dtype=torch.long, device=labels.device)
    mask = torch.zeros(b, n, dtype=torch.bool, device=labels.device)
    for j in range(b):
        pos = keep[j].nonzero().squeeze(1)
        m = len(pos)
        em[j, :m] = logits[j, pos]
        tg[j, :m] = labels[j, pos]
        mask[j, :m] = True
    return em, tg, mask


class _UnkDropout:
    """Collator wrapper: each real word piece becomes ``[UNK]`` with probability ``p`` (torch RNG)."""

    def __init__(self, base: Any, unk_id: int, p: float) -> None:
        self.base, self.unk_id, self.p = base, int(unk_id), float(p)

    def __call__(self, items: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        batch = self.base(items)
        ids, mask = batch["input_ids"], batch["attention_mask"].bool()
        inner = mask.clone()
        inner[:, 0] = False  # [CLS]
        inner[torch.arange(len(ids)), mask.sum(1) - 1] = False  # [SEP]
        drop = inner & (torch.rand(ids.shape) < self.p)
        batch["input_ids"] = ids.masked_fill(drop, self.unk_id)
        return batch


def crf_for(tags: Sequence[Sequence[str]], labels: Sequence[str]) -> tuple[LinearChainCRF, float]:
    """A :class:`LinearChainCRF` started from the training tags' counted transitions
    (:func:`bio_transitions`) and the mean words per sentence, by which its negative
    log-likelihood (per sentence) is divided to be added to a per-word cross-entropy."""
    chain = LinearChainCRF(labels, init=bio_transitions(tags, labels))
    return chain, max(1.0, sum(map(len, tags)) / max(len(tags), 1))


_ENCODER_LAYER = re.compile(r"encoder\.layer\.(\d+)\.")


def _layer_depth(name: str, n_layers: int) -> int:
    """Depth of a parameter of a BERT-style model: the embeddings 0, encoder layer ``i`` (0-based)
    ``i + 1``, anything above the encoder (pooler, head) ``n_layers``."""
    m = _ENCODER_LAYER.search(name)
    if m:
        return int(m.group(1)) + 1
    return 0 if "embeddings" in name else n_layers


def layer_decay_groups(
    model: torch.nn.Module, lr: float, decay: float, weight_decay: float, decay_names: set[str]
) -> list[dict[str, Any]]:
    """AdamW parameter groups with layer-wise learning-rate decay (Sun et al. 2019).

    Encoder layer ``l`` (1 .. L, from the bottom) gets ``lr · decay^(L - l)``: the top layer and
    the head ``lr``, the embeddings ``lr · decay^L``.  ``decay_names``: the parameters that take
    ``weight_decay`` (the Trainer's choice: not biases and LayerNorms); the others get none.
    Frozen parameters are left out.
    """
    if not 0.0 < decay <= 1.0:
        raise ValueError(f"layer decay must be in (0, 1], got {decay}")
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    n_layers = max((_layer_depth(n, 0) for n, _ in named), default=0)  # the top encoder layer
    groups: dict[tuple[int, bool], dict[str, Any]] = {}
    for name, p in named:
        depth = _layer_depth(name, n_layers)
        wd = name in decay_names
        g = groups.setdefault(
            (depth, wd),
            {
                "params": [],
                "lr": lr * decay ** (n_layers - depth),
                "weight_decay": weight_decay if wd else 0.0,
            },
        )
        g["params"].append(p)
    return [groups[k] for k in sorted(groups)]


def _weighted_trainer_cls() -> type:
    from transformers import Trainer

    class WeightedTrainer(Trainer):
        """``Trainer`` with its own token cross-entropy: class-weighted where ``class_weights`` is
        given, plus a linear-chain CRF's negative log-likelihood per word where ``chain`` is
        given (:class:`LinearChainCRF` over the word-level emissions of :func:`compact_labels`;
        its transition scores in a parameter group of their own, learning rate ``chain_lr``, no
        weight decay, under the model's schedule)."""

        def __init__(
            self,
            *args: Any,
            class_weights: torch.Tensor | None = None,
            chain: LinearChainCRF | None = None,
            chain_lr: float = 1e-2,
            words_per: float = 1.0,
            layer_decay: float | None = None,
            **kwargs: Any,
        ) -> None:
            super().__init__(*args, **kwargs)
            self.class_weights = class_weights
            self.chain, self.chain_lr, self.words_per = chain, float(chain_lr), float(words_per)
            self.layer_decay = layer_decay

        def create_optimizer(self, model=None):
            fresh = self.optimizer is None
            if fresh and self.layer_decay is not None:
                model = self.model if model is None else model
                cls, kwargs = Trainer.get_optimizer_cls_and_kwargs(self.args, model)
                groups = layer_decay_groups(
                    model, self.args.learning_rate, self.layer_decay, self.args.weight_decay,
                    set(self.get_decay_parameter_names(model)),
                )  # fmt: skip
                self.optimizer = cls(groups, **{k: v for k, v in kwargs.items() if k != "lr"})
            opt = super().create_optimizer(model)
            if fresh and self.chain is not None:
                opt.add_param_group(
                    {"params": list(self.chain.parameters()), "lr": self.chain_lr, "weight_decay": 0.0}
                )
            return opt

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            labels = inputs.pop("labels")
            outputs = model(**inputs)
            logits = outputs.logits
            weight = None if self.class_weights is None else self.class_weights.to(logits.device)
            loss = torch.nn.functional.cross_entropy(
                logits.reshape(-1, logits.shape[-1]).float(),
                labels.reshape(-1),
                weight=weight,
                ignore_index=IGNORE,
            )
            if self.chain is not None:
                em, tg, wm = compact_labels(logits, labels)
                loss = loss + self.chain.nll(em, tg, wm) / self.words_per
            return (loss, outputs) if return_outputs else loss

    return WeightedTrainer
