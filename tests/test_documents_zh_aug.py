"""Validation templates, recombined templates and Latin synthetic organisations of Chinese tagger
corpora (sclm.scenarios.documents.make_corpus options ``templates``, ``recombined``,
``synthetic_latin``)."""

from __future__ import annotations

import numpy as np
import pytest
from test_zh_names import _held as held_names

from sclm.datasets.text import entity_spans
from sclm.documents import parse_date, words
from sclm.scenarios import _zh_names as zn
from sclm.scenarios import documents as gen
from sclm.scenarios._recombine import REQUIRED_SLOTS, clauses


def _spans(tokens, tags, label):
    return ["".join(tokens[s:e]) for s, e, t in entity_spans(list(tags)) if t == label]


def _entities(df) -> set[str]:
    out = set()
    for doc in df.itertuples():
        out |= {"".join(doc.tokens[s:e]) for s, e, _ in entity_spans(list(doc.tags))}
    return out


def _held(pools: gen.NamePools) -> set[str]:
    return held_names(pools, people=True)


@pytest.fixture(scope="module")
def pools() -> gen.NamePools:
    return gen.name_pools("builtin", lang="zh")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_validation_templates_are_training_templates_of_every_kind_and_deterministic(lang):
    val = gen.validation_templates(lang)
    assert val == gen.validation_templates(lang)
    assert not val & gen.HELDOUT_TEMPLATES
    table = gen.ZH_TEMPLATES if lang == "zh" else gen.TEMPLATES
    prefix = "zh:" if lang == "zh" else ""
    for kind, tpls in table.items():
        ids = {f"{prefix}{kind}/{i + 1}" for i in range(len(tpls))}
        train = ids - gen.HELDOUT_TEMPLATES
        assert 1 <= len(val & ids) < len(train), kind  # some held out, some left to train on
    with pytest.raises(ValueError):
        gen.validation_templates("fr")


def test_fit_and_val_corpora_use_disjoint_templates(pools):
    val_ids = gen.validation_templates("zh")
    val = gen.make_corpus(120, seed=5, lang="zh", split="train", pools=pools, composed=0.0, templates="val")
    fit = gen.make_corpus(300, seed=5, lang="zh", split="train", pools=pools, templates="fit", recombined=0.5)
    assert set(val["template"]) == val_ids
    fixed = {t for t in fit["template"] if not t.endswith(("/composed", "/recombined"))}
    assert fixed and not fixed & val_ids and not fixed & gen.HELDOUT_TEMPLATES
    # recombined templates are made only of clauses of the fitting templates
    fit_tpls = [
        tpl
        for k, v in gen.ZH_TEMPLATES.items()
        for i, tpl in enumerate(v)
        if f"zh:{k}/{i + 1}" not in val_ids | gen.HELDOUT_TEMPLATES
    ]
    allowed = {c for c, _ in clauses(fit_tpls)}
    other = {c for c, _ in clauses(list(gen.ZH_TEMPLATES["purchase_order"]))} - allowed
    assert other  # the validation / held-out purchase-order templates have clauses of their own
    rng = np.random.default_rng(0)
    for _ in range(200):
        assert {c for c, _ in clauses([gen.recombine_template(rng, fit_tpls)])} <= allowed
    with pytest.raises(ValueError):
        gen.make_corpus(4, lang="zh", split="heldout", templates="val")
    with pytest.raises(ValueError):
        gen.make_corpus(4, lang="zh", templates="test")


def test_new_options_off_leave_corpora_unchanged(pools):
    for lang in ("en", "zh"):
        base = gen.make_corpus(60, seed=2, lang=lang)
        same = gen.make_corpus(60, seed=2, lang=lang, templates=None, recombined=0.0, synthetic_latin=0.0)
        assert base.equals(same)
    base = gen.make_corpus(60, seed=2, lang="zh", synthetic=0.5, pools=pools)
    assert base.equals(gen.make_corpus(60, seed=2, lang="zh", synthetic=0.5, pools=pools, recombined=0.0))
    assert not base.equals(gen.make_corpus(60, seed=2, lang="zh", synthetic=0.5, pools=pools, recombined=0.5))


def test_recombined_documents_keep_the_corpus_invariants_and_no_heldout_name(pools):
    df = gen.make_corpus(400, seed=1, lang="zh", split="train", pools=pools, synthetic=0.5, recombined=1.0,
                         composed=0.0, synthetic_latin=0.3)  # fmt: skip
    rec = df[df["template"].str.endswith("/recombined")]
    assert len(rec) == len(df)  # composed=0 → every fixed-template document recombined
    assert len(set(rec["text"].map(lambda t: "".join(c for c in t if not c.isdigit())))) > 100
    for doc in rec.itertuples():
        assert len(doc.tokens) == len(doc.tags)
        assert doc.text == gen.join_zh(doc.tokens) and words(doc.text) == doc.tokens
        qty = _spans(doc.tokens, doc.tags, "QTY")
        assert len(qty) == 1 and float(qty[0]) == doc.quantity
        assert parse_date(_spans(doc.tokens, doc.tags, "DATE")[0]) == doc.ts
        assert _spans(doc.tokens, doc.tags, "LOC") == ["".join(gen.name_tokens(doc.city, "zh"))]
        assert _spans(doc.tokens, doc.tags, "PRODUCT") == ["".join(gen.name_tokens(doc.product, "zh"))]
    assert not _entities(df) & _held(pools)


def test_recombine_template_covers_required_slots_once():
    rng = np.random.default_rng(3)
    tpls = [t for v in gen.ZH_TEMPLATES.values() for t in v[:3]]
    for _ in range(300):
        tpl = gen.recombine_template(rng, tpls)
        slots = [s for part in tpl.split("{")[1:] for s in [part.split("}")[0]]]
        assert len(slots) == len(set(slots)) and REQUIRED_SLOTS <= set(slots), tpl
    with pytest.raises(ValueError):
        gen.recombine_template(rng, ["联系人{PER}，{QTY}件"])


@pytest.mark.parametrize("source", ["builtin", "auto"])
def test_latin_synthetic_orgs_never_touch_a_heldout_name(source):
    pools = gen.name_pools(source, lang="zh")
    held = {n for v in pools.split("heldout").orgs.values() for n in v}
    held_all = _held(pools)
    synth = zn.synthetic_pools(pools, latin=0.3)
    orgs = synth.orgs["purchase_order"]
    latin = [o for o in orgs if any("a" <= c.lower() <= "z" for c in o)]
    assert 0.2 < len(latin) / len(orgs) < 0.4 and len(set(latin)) == len(latin)
    assert any(o.isupper() for o in latin) and any("," in o for o in latin)
    held_words = {w for x in held for w in x.lower().replace(",", " ").split()}
    for o in latin:
        low = o.lower()
        assert not any(x.lower() in low or low in x.lower() for x in held_all), o
        brand = o.split()[0].split(",")[0].lower()
        assert brand not in held_words or not brand.isascii(), o
    # the Chinese synthetic names are those drawn without Latin ones
    base = zn.synthetic_pools(pools)
    assert set(base.orgs["purchase_order"]) <= set(orgs) and base.cities == synth.cities


def test_latin_clash_is_case_insensitive_and_by_trade_name():
    assert zn._latin_clash("ACME PHARMA LTD", ["Acme Pharma"])
    assert zn._latin_clash("Acme Foods GmbH", ["ACME CORPORATION"])
    assert not zn._latin_clash("Varotin Medical GmbH", ["Acme Medical GmbH"])
    with pytest.raises(ValueError):
        zn.synthetic_names(10, latin=1.5)
    with pytest.raises(ValueError):
        gen.make_corpus(4, lang="zh", synthetic_latin=0.3)
