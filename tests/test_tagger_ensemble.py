"""Seed ensembles of taggers (:func:`sclm.models.tagger.ensemble_logits`): averaging of the members'
per-word probabilities and the decoding of the result.  Hand-made arrays and a tiny tagger."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from sclm.models.tagger import Tagger, bio_viterbi, ensemble_logits
from sclm.scenarios import documents as gen

LABELS = list(gen.LABELS)
TINY = {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 64}


def _softmax(a: np.ndarray) -> np.ndarray:
    z = np.exp(a - a.max(1, keepdims=True))
    return z / z.sum(1, keepdims=True)


def test_ensemble_averages_probabilities_not_log_probabilities():
    labels = ["O", "B-X", "I-X"]
    # per word: member probabilities; word 0 separates a mixture from a product of experts
    a = np.log(np.array([[0.001, 0.998, 0.001], [0.2, 0.1, 0.7]]))
    b = np.log(np.array([[0.9, 0.05, 0.05], [0.5, 0.2, 0.3]]))
    out = ensemble_logits([[a], [b + 3.0], [b - 1.0]])  # shifting logits leaves probabilities alone
    assert len(out) == 1 and out[0].shape == (2, 3) and out[0].dtype == np.float32
    mean = (np.exp(a) + 2 * np.exp(b)) / 3
    np.testing.assert_allclose(np.exp(out[0]), mean, rtol=1e-5)
    np.testing.assert_allclose(np.exp(out[0]).sum(1), 1.0, rtol=1e-5)
    assert out[0][0].argmax() == 0  # mean probability: O (0.60 against 0.37)
    assert (a[0] + 2 * b[0]).argmax() == 1  # a product of experts would say B-X
    # word 1's argmax I-X may not follow O; the best valid pair is O O (0.60 * 0.40 > B-X I-X 0.37 * 0.43)
    assert list(out[0].argmax(1)) == [0, 2]
    assert list(bio_viterbi(out[0], labels)) == [0, 0]


def test_ensemble_viterbi_is_the_viterbi_of_the_mean_probabilities():
    rng = np.random.default_rng(0)
    k = len(LABELS)
    members = [[rng.normal(0, 3, (n, k)) for n in (5, 1, 9)] for _ in range(3)]
    out = ensemble_logits(members)
    for i, lg in enumerate(out):
        mean = np.mean([_softmax(m[i]) for m in members], axis=0)
        np.testing.assert_array_equal(bio_viterbi(lg, LABELS), bio_viterbi(np.log(mean), LABELS))


def test_cut_off_words_stay_zero_and_empty_sentences_pass():
    lg = np.array([[2.0, -1.0, 0.5], [0.0, 0.0, 0.0]], np.float32)  # word 1 cut off by max_length
    out = ensemble_logits([[lg, np.zeros((0, 3))], [lg * 2, np.zeros((0, 3))]])
    assert out[0][0].any() and not out[0][1].any() and out[1].shape == (0, 3)


def test_ensemble_errors():
    with pytest.raises(ValueError, match="at least one member"):
        ensemble_logits([])
    with pytest.raises(ValueError, match="different numbers of sentences"):
        ensemble_logits([[np.zeros((2, 3))], [np.zeros((2, 3)), np.zeros((1, 3))]])
    with pytest.raises(ValueError, match="differ in shape"):
        ensemble_logits([[np.zeros((2, 3))], [np.zeros((2, 4))]])


def test_an_ensemble_of_identical_taggers_decodes_like_the_tagger(one_torch_thread):
    data = gen.make_corpus(16, seed=0, pools=gen.name_pools("builtin"))
    toks, tags = data["tokens"].tolist(), data["tags"].tolist()
    tagger = Tagger.from_scratch(LABELS, **TINY, max_length=24, seed=1, device="cpu")
    tagger.fit(toks, tags, max_steps=4, batch_size=8, learning_rate=3e-3, seed=1)
    lg = tagger.logits(toks)
    assert any(not row.any() for s in lg for row in s)  # max_length cuts some words off
    out = ensemble_logits([lg, lg, lg])
    for one, ens in zip(lg, out, strict=True):
        logp = np.log(_softmax(one.astype(np.float64)))
        keep = one.any(axis=1)
        np.testing.assert_allclose(ens[keep], logp[keep], rtol=1e-5, atol=1e-5)
    for constrained in (False, True):
        assert tagger.decode(out, constrained=constrained) == tagger.decode(lg, constrained=constrained)
    other = Tagger.from_scratch(LABELS, **TINY, max_length=24, seed=2, device="cpu")
    other.fit(toks, tags, max_steps=4, batch_size=8, learning_rate=3e-3, seed=2)
    mixed = ensemble_logits([lg, other.logits(toks)])
    assert not all(np.allclose(m, e) for m, e in zip(mixed, out, strict=True))
