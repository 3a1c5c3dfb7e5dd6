"""Chinese word features (jieba boundaries, part of speech, dictionary status), their injection
into a tagger's hidden states, and the learned CRF transitions.  Tiny models only."""

from __future__ import annotations

import itertools
import os

import numpy as np
import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from sclm.models._tagger_data import LinearChainCRF, compact_labels
from sclm.models._zh_features import (
    BOUNDARY,
    POS_CLASSES,
    attach_word_features,
    piece_features,
    pos_class,
    word_features,
)
from sclm.models.tagger import Tagger, bio_transitions, bio_viterbi
from sclm.scenarios import documents as gen

LABELS = list(gen.LABELS)
TINY = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64}


def _words(tokens, feats):
    """Group tokens into jieba words from their B/I/E/S ids."""
    out, cur = [], []
    for tok, b in zip(tokens, feats[:, 0], strict=True):
        cur.append(tok)
        if BOUNDARY[b] in ("E", "S"):
            out.append("".join(cur))
            cur = []
    assert not cur
    return out


def test_word_features_segment_characters_into_jieba_words():
    tokens = list("发往济南的") + [
        "7",
        "件",
        "Aurobindo",
        "Pharma",
        "，",
        "联",
        "系",
        "人",
        "陈",
        "海",
        "燕",
        "。",
    ]
    f = word_features(tokens)
    assert f.shape == (len(tokens), 3) and f.dtype == np.int64 and (f > 0).all()
    # boundaries form whole words: B (I…) E or S, never I/E without an opening B
    words = _words(tokens, f)
    assert "济南" in words and "联系人" in words and "AurobindoPharma" not in words
    i = tokens.index("济")
    assert [BOUNDARY[b] for b in f[i : i + 2, 0]] == ["B", "E"]
    assert POS_CLASSES[f[i, 1]] == "place" == POS_CLASSES[f[i + 1, 1]]
    assert POS_CLASSES[f[tokens.index("7"), 1]] == "number"
    assert POS_CLASSES[f[tokens.index("Aurobindo"), 1]] == "latin"
    assert POS_CLASSES[f[tokens.index("陈"), 1]] == "person"
    assert POS_CLASSES[f[tokens.index("，"), 1]] == "punct"
    assert (word_features(tokens) == f).all()  # deterministic
    assert word_features([]).shape == (0, 3)


def test_jieba_cache_stays_under_build():
    from sclm.config import BUILD_DIR
    from sclm.models._zh_features import _posseg

    word_features(["济", "南"])
    tmp = _posseg().tokenizer.tmp_dir
    assert os.path.realpath(tmp).startswith(os.path.realpath(str(BUILD_DIR)))


def test_pos_class_folds_jieba_flags():
    assert [
        POS_CLASSES[pos_class(f)] for f in ("nr", "nrfg", "ns", "nt", "nz", "vn", "v", "m", "q", "x")
    ] == [
        "person",
        "person",
        "place",
        "org",
        "proper",
        "noun",
        "verb",
        "number",
        "quantifier",
        "punct",
    ]
    assert POS_CLASSES[pos_class("uj")] == "other"


def test_piece_features_repeat_a_words_ids_and_pad_special_tokens():
    feats = np.array([[1, 2, 3], [3, 5, 1]])
    out = piece_features([None, 0, 0, 1, None], feats)
    assert out.tolist() == [[0, 0, 0], [1, 2, 3], [1, 2, 3], [3, 5, 1], [0, 0, 0]]


def _tiny_tagger(train_top: int | None = 1) -> Tagger:
    torch.manual_seed(0)
    t = Tagger.from_scratch(LABELS, **TINY, max_length=96, seed=0, device="cpu")
    if train_top is not None:
        for layer in t.model.bert.encoder.layer[: 2 - train_top]:
            for p in layer.parameters():
                p.requires_grad_(False)
    return t


def test_attached_features_enter_at_the_first_trainable_layer():
    t = _tiny_tagger(train_top=1)
    feats = attach_word_features(t.model)
    assert feats.layer == 1 and t.model.word_features is feats
    tagger = Tagger(t.model, t.tokenizer, LABELS, max_length=96, word_features=True, device="cpu")
    zh = gen.make_corpus(4, seed=3, lang="zh", split="heldout", pools=gen.name_pools("builtin", lang="zh"))
    data = tagger.dataset(zh["tokens"].tolist())
    assert data.features is not None and len(data.features) == 4
    assert all(len(f) == len(it["input_ids"]) for f, it in zip(data.features, data.items, strict=True))
    with torch.no_grad():
        for tab in feats.tables:
            tab.weight[1:].normal_(0, 1.0)
    with_f = tagger.logits(zh["tokens"].tolist())
    plain = Tagger(t.model, t.tokenizer, LABELS, max_length=96, device="cpu")  # same model, no ids fed
    without = plain.logits(zh["tokens"].tolist())
    assert not np.allclose(with_f[0], without[0])
    assert feats.current is None  # cleared after each forward
    with pytest.raises(ValueError, match="trains with sclm.models._e5.fit_cached"):
        tagger.fit(zh["tokens"].tolist(), zh["tags"].tolist(), max_steps=1)
    with pytest.raises(ValueError, match="needs a model with word-feature embeddings"):
        Tagger(_tiny_tagger().model, t.tokenizer, LABELS, max_length=96, word_features=True, device="cpu")


def test_frozen_encoder_features_enter_at_the_classifier():
    t = _tiny_tagger(train_top=0)
    for p in t.model.bert.parameters():
        p.requires_grad_(False)
    assert attach_word_features(t.model).layer == 2


def test_fit_cached_trains_feature_embeddings_and_a_crf():
    from sclm.models._e5 import fit_cached

    t = _tiny_tagger(train_top=1)
    attach_word_features(t.model)
    tagger = Tagger(t.model, t.tokenizer, LABELS, max_length=96, word_features=True, device="cpu")
    zh = gen.make_corpus(12, seed=5, lang="zh", split="train", pools=gen.name_pools("builtin", lang="zh"))
    before = tagger.model.word_features.tables[1].weight.detach().clone()
    rep = fit_cached(
        tagger,
        zh["tokens"].tolist(),
        zh["tags"].tolist(),
        epochs=3,
        batch_size=4,
        learning_rate=3e-3,
        crf=True,
    )
    assert rep.config["crf"] and rep.config["cached_frozen_layers"] == 1
    assert not torch.equal(before, tagger.model.word_features.tables[1].weight)
    start, trans = tagger.crf_transitions
    init_start, init_trans = bio_transitions(zh["tags"].tolist(), LABELS)
    assert start.shape == (len(LABELS),) and trans.shape == (len(LABELS), len(LABELS))
    assert (np.isneginf(trans) == np.isneginf(init_trans)).all()  # BIO rules kept
    assert not np.allclose(trans[np.isfinite(trans)], init_trans[np.isfinite(init_trans)])
    tags = tagger.decode(
        tagger.logits(zh["tokens"].tolist()[:2]), constrained=True, transitions=(start, trans)
    )
    assert [len(x) for x in tags] == [len(x) for x in zh["tokens"].tolist()[:2]]


def test_crf_nll_equals_brute_force_and_masks_invalid_paths():
    labels = ["O", "B-X", "I-X", "B-Y", "I-Y"]
    crf = LinearChainCRF(labels)
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        crf.start.copy_(torch.randn(5, generator=g))
        crf.trans.copy_(torch.randn(5, 5, generator=g))
    em = torch.randn(2, 4, 5, generator=g)
    tags = torch.tensor([[1, 2, 0, 3], [0, 3, 4, 0]])
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]]).bool()
    start, trans = crf.as_transitions()
    assert np.isneginf(start[2]) and np.isneginf(trans[0, 2]) and np.isneginf(trans[3, 2])
    lp = torch.log_softmax(em, -1).double().numpy()
    total = 0.0
    for j, n in enumerate((4, 3)):

        def score(seq, j=j):
            s = start[seq[0]] + lp[j, 0, seq[0]]
            return s + sum(trans[a, b] + lp[j, i + 1, b] for i, (a, b) in enumerate(itertools.pairwise(seq)))

        z = np.logaddexp.reduce([score(q) for q in itertools.product(range(5), repeat=n)])
        total += z - score(tags[j, :n].tolist())
    assert np.isclose(float(crf.nll(em, tags, mask).detach()), total / 2, atol=1e-4)
    # learned transitions decode like counted ones
    ids = bio_viterbi(em[0].numpy(), labels, transitions=(start, trans))
    assert ids[0] != 2 and not (ids[1:] == 2)[ids[:-1] == 0].any()


def test_compact_labels_keeps_word_pieces_in_order():
    logits = torch.arange(2 * 5 * 3, dtype=torch.float).reshape(2, 5, 3)
    labels = torch.tensor([[-100, 1, -100, 2, -100], [-100, 0, -100, -100, -100]])
    em, tg, mask = compact_labels(logits, labels)
    assert em.shape == (2, 2, 3) and tg.tolist() == [[1, 2], [0, 0]] and mask.tolist() == [[1, 1], [1, 0]]
    assert torch.equal(em[0, 1], logits[0, 3])


def test_save_load_keeps_word_features_and_crf(tmp_path):
    from sclm.models._e5 import fit_cached

    t = _tiny_tagger(train_top=1)
    attach_word_features(t.model)
    tagger = Tagger(t.model, t.tokenizer, LABELS, max_length=96, word_features=True, device="cpu")
    zh = gen.make_corpus(6, seed=6, lang="zh", split="train", pools=gen.name_pools("builtin", lang="zh"))
    fit_cached(tagger, zh["tokens"].tolist(), zh["tags"].tolist(), epochs=1, batch_size=3, crf=True)
    tagger.save_pretrained(tmp_path)
    back = Tagger.from_pretrained(tmp_path, device="cpu")
    assert back.word_features and back.model.word_features.layer == 1
    assert np.allclose(
        back.logits(zh["tokens"].tolist()[:2])[1], tagger.logits(zh["tokens"].tolist()[:2])[1], atol=1e-5
    )
    for a, b in zip(back.crf_transitions, tagger.crf_transitions, strict=True):
        assert (np.isneginf(a) == np.isneginf(b)).all() and np.allclose(a[np.isfinite(a)], b[np.isfinite(b)])


def test_a_deep_copy_hooks_its_own_feature_module():
    import copy

    t = _tiny_tagger(train_top=1)
    attach_word_features(t.model)
    clone = copy.deepcopy(t.model)
    with torch.no_grad():
        clone.word_features.tables[0].weight[1:].fill_(5.0)
    ids = torch.ones(1, 4, 3, dtype=torch.long)
    x = torch.tensor([[2, 10, 11, 3]])
    with torch.no_grad():
        plain = clone(input_ids=x).logits
        with clone.word_features.using(ids):
            fed = clone(input_ids=x).logits
    assert not torch.allclose(plain, fed)  # the clone's hook reads the clone's ids
