"""Document corpora (EN/ZH, held-out templates and names), text → records → readings → panel,
redaction and seqeval scores.  No torch here: tags come from the generator (gold)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sclm
from sclm import config
from sclm.datasets.text import entity_spans
from sclm.documents import (
    detect_kind,
    document_record,
    entities,
    extract,
    ner_scores,
    parse_date,
    parse_quantity,
    redact,
    to_readings,
    words,
)
from sclm.fusion import fuse
from sclm.scenarios import _zh_names
from sclm.scenarios import documents as gen
from sclm.schema import validate_panel, validate_readings


def _spans(tokens, tags, label):
    return [tokens[s:e] for s, e, t in entity_spans(list(tags)) if t == label]


def _check_bio(tags):
    previous = "O"
    for tag in tags:
        assert tag == "O" or tag[:2] in ("B-", "I-"), tag
        if tag.startswith("I-"):
            assert previous in (f"B-{tag[2:]}", tag)
        previous = tag


# --- corpora ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("split", ["train", "heldout"])
def test_corpus_invariants(lang, split):
    df = gen.make_corpus(120, seed=3, lang=lang, split=split)
    assert list(df.columns) == list(gen.CORPUS_COLUMNS) and len(df) == 120
    assert set(df["kind"]) == set(gen.TEMPLATES)
    seen = set()
    for doc in df.itertuples():
        assert len(doc.tokens) == len(doc.tags)
        _check_bio(doc.tags)
        seen |= {t[2:] for t in doc.tags if t != "O"}
        qty = _spans(doc.tokens, doc.tags, "QTY")
        assert len(qty) == 1 and float(qty[0][0]) == doc.quantity
        date = _spans(doc.tokens, doc.tags, "DATE")[0]
        assert parse_date(("" if lang == "zh" else " ").join(date)) == doc.ts
        loc = _spans(doc.tokens, doc.tags, "LOC")[0]
        assert gen.name_tokens(doc.city, lang) == loc
        assert gen.name_tokens(doc.product, lang) == _spans(doc.tokens, doc.tags, "PRODUCT")[0]
        if lang == "en":
            assert doc.text == " ".join(doc.tokens)
        else:
            assert doc.text == gen.join_zh(doc.tokens) and words(doc.text) == doc.tokens
        held = doc.template in gen.HELDOUT_TEMPLATES
        assert held == (split == "heldout"), doc.template
        assert doc.template.startswith("zh:") == (lang == "zh")
    assert set(gen.ENTITY_TYPES) <= seen


def test_corpus_is_reproducible_and_seed_dependent():
    a = gen.make_corpus(30, seed=1, lang="zh")
    b = gen.make_corpus(30, seed=1, lang="zh")
    pd.testing.assert_frame_equal(a, b)
    assert gen.make_corpus(30, seed=2, lang="zh")["text"].tolist() != a["text"].tolist()


def test_heldout_names_and_templates_are_unseen_in_training():
    train = gen.make_corpus(400, seed=0, split="train")
    held = gen.make_corpus(200, seed=1, split="heldout")

    def names(df, label):
        return {
            " ".join(s) for t, g in zip(df["tokens"], df["tags"], strict=True) for s in _spans(t, g, label)
        }

    assert not set(train["template"]) & set(held["template"])
    assert len(set(held["template"])) == 8  # two held-out templates per kind
    for label in ("PER", "PRODUCT"):
        assert not names(train, label) & names(held, label), label
    assert not set(train["city"]) & set(held["city"])
    pools = gen.name_pools()
    tr, he = pools.split("train"), pools.split("heldout")
    assert set(tr.people).isdisjoint(he.people) and set(tr.people) | set(he.people) == set(pools.people)
    assert len(he.people) == len(pools.people) // 5


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_no_heldout_organisation_is_in_any_training_pool(lang):
    pools = gen.name_pools("builtin", lang=lang)
    tr, he = pools.split("train"), pools.split("heldout")
    held = {n for v in he.orgs.values() for n in v}
    assert held and not held & {n for v in tr.orgs.values() for n in v}
    train = gen.make_corpus(300, seed=0, lang=lang, split="train", pools=pools)
    test = gen.make_corpus(200, seed=1, lang=lang, split="heldout", pools=pools)

    def orgs(df):
        return {
            "".join(s) if lang == "zh" else " ".join(s)
            for t, g in zip(df["tokens"], df["tags"], strict=True)
            for s in _spans(t, g, "ORG")
        }

    assert orgs(test) and not orgs(train) & orgs(test)


def test_synthetic_training_names_are_many_and_never_heldout():
    pools = gen.name_pools("builtin", lang="zh")
    syn = gen.synthetic_pools(pools, n=1500)
    assert syn.source == "synthetic" and gen.synthetic_pools(pools, n=1500) is syn
    held = pools.split("heldout")
    held_names = {n for v in held.orgs.values() for n in v} | set(held.cities) | set(held.countries)
    held_names |= set(held.products)
    for key in ("cities", "countries", "products"):
        names = getattr(syn, key)
        assert len(names) >= 500 and len(set(names)) == len(names), key
        assert not any(h in n or n in h for n in names for h in held_names), key
    orgs = syn.orgs["purchase_order"]
    assert len(orgs) >= 1000 and not any(h in n or n in h for n in orgs for h in held_names)
    brands = {_zh_names.org_core(o) for v in held.orgs.values() for o in v} - {""}
    assert "宏图" in brands and not any(b in n for n in orgs for b in brands if len(b) >= 2)
    assert len(syn.people) >= 1000 and not set(syn.people) & set(held.people)
    train = gen.make_corpus(200, seed=0, lang="zh", split="train", pools=pools, synthetic=0.5)
    test = gen.make_corpus(200, seed=1, lang="zh", split="heldout", pools=pools)
    again = gen.make_corpus(200, seed=0, lang="zh", split="train", pools=pools, synthetic=0.5)
    pd.testing.assert_frame_equal(train, again)
    for tags in train["tags"]:
        _check_bio(tags)
    # about half the documents state a synthetic city; no held-out span is seen in training
    real = pools.split("train")
    used = gen.synthetic_pools(pools)  # the pools make_corpus draws from (default size)
    assert train["city"].isin(used.cities + real.cities).all()
    assert 0.35 < (~train["city"].isin(real.cities)).mean() < 0.65
    for label in gen.ENTITY_TYPES[:4]:
        seen = {
            "".join(s)
            for t, g in zip(train["tokens"], train["tags"], strict=True)
            for s in _spans(t, g, label)
        }
        held_spans = {
            "".join(s) for t, g in zip(test["tokens"], test["tags"], strict=True) for s in _spans(t, g, label)
        }
        assert held_spans and not seen & held_spans, label
    plain = gen.make_corpus(50, seed=0, lang="zh", split="train", pools=pools)
    assert plain["city"].isin(real.cities).all()
    with pytest.raises(ValueError, match="synthetic must be in"):
        gen.make_corpus(5, lang="zh", split="heldout", synthetic=0.5)
    with pytest.raises(ValueError, match="synthetic must be in"):
        gen.make_corpus(5, lang="en", synthetic=0.5)
    with pytest.raises(ValueError, match="synthetic names are Chinese"):
        gen.synthetic_pools(gen.name_pools("builtin"))


def test_name_pools_draw_on_scms_when_present_and_fall_back_otherwise(tmp_path):
    builtin = gen.name_pools("builtin")
    assert builtin.source == "builtin" and "Gruber Packaging" in builtin.orgs["supplier_email"]
    empty = gen.name_pools("auto", data_dir=str(tmp_path))  # a data folder without the SCMS set
    assert empty.source == "builtin" and empty.products == builtin.products
    with pytest.raises(FileNotFoundError, match=r"source='scms' needs the data set 'shipments_usaid_scms'"):
        gen.name_pools("scms", data_dir=str(tmp_path))
    if not config.has_data():
        pytest.skip("real data folder absent: the SCMS part is not checked")
    scms = gen.name_pools("scms")
    assert scms.source == "scms"
    assert "Aurobindo Pharma Limited" in scms.orgs["supplier_email"]
    assert "ABBVIE LOGISTICS" in scms.orgs["supplier_email"]  # parenthetical remark removed
    assert {"Nigeria", "Côte d'Ivoire", "Congo, DRC"} <= set(scms.countries)
    assert {"air", "truck", "ocean", "air charter"} <= set(scms.modes) and "n/a" not in scms.modes
    assert "Efavirenz 600mg tablets" in scms.products
    # asked for, scenario documents name real vendors (supplier e-mails); by default they never do
    vendors = {" ".join(gen.name_tokens(v)) for v in scms.orgs["supplier_email"]} - set(gen.SUPPLIERS)

    def orgs(sc):
        return {
            " ".join(s)
            for t, g in zip(sc.documents["tokens"], sc.documents["tags"], strict=True)
            for s in _spans(t, g, "ORG")
        }

    assert orgs(sclm.make_scenario("manufacturing", seed=0, n_days=120, document_names="data")) & vendors
    assert not orgs(sclm.make_scenario("manufacturing", seed=0, n_days=120)) & vendors


# A fake SCMS delivery history in the loader's format: the 33 source columns, two line items whose
# vendors, countries, modes and items exist nowhere in the built-in pools.
_FAKE_SCMS_ROWS = (
    {
        "ID": "1",
        "Country": "Atlantis",
        "Shipment Mode": "Zeppelin",
        "Vendor": "Zyxwv Fake Pharma (test)",
        "Item Description": "Fakeamol 10mg, tablets, 30 Tabs",
        "Molecule/Test Type": "Fakeamol",
    },
    {
        "ID": "2",
        "Country": "Lemuria",
        "Shipment Mode": "Zeppelin",
        "Vendor": "Qqq Invented Labs",
        "Item Description": "Testacillin 5mg, capsules, 60 Caps",
        "Molecule/Test Type": "Testacillin",
    },
)


def _fake_scms_folder(root):
    import csv

    from sclm.datasets.shipments import SCMS, SCMS_COLUMNS, SCMS_FILE

    base = {c: "" for c in SCMS_COLUMNS}
    base |= {
        "Product Group": "ARV",
        "Unit of Measure (Per Pack)": "30",
        "Line Item Quantity": "100",
        "Line Item Value": "250",
        "Pack Price": "2.5",
        "Unit Price": "0.08",
        "Delivered to Client Date": "2-Jun-06",
        "Scheduled Delivery Date": "2-Jun-06",
    }
    folder = root / SCMS
    folder.mkdir(parents=True)
    with open(folder / SCMS_FILE, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(SCMS_COLUMNS))
        writer.writeheader()
        for row in _FAKE_SCMS_ROWS:
            writer.writerow(base | row)
    return root


def _digest(df):
    import hashlib

    return hashlib.sha256(df.to_json(orient="split", date_format="iso").encode()).hexdigest()


def test_scenario_documents_do_not_depend_on_the_data_folder(tmp_path, monkeypatch):
    data = _fake_scms_folder(tmp_path / "data")
    assert gen.name_pools("auto", data_dir=str(data)).orgs["supplier_email"][-2:] == (
        "Qqq Invented Labs",
        "Zyxwv Fake Pharma",
    )  # the loader reads the fake file (parenthetical remark removed)
    runs = {}
    for label, folder in (("present", data), ("missing", tmp_path / "no-such-folder")):
        monkeypatch.setenv(config.DATA_ENV_VAR, str(folder))
        runs[label] = sclm.make_scenario("retail", seed=0, n_days=60, n_documents=80)
    a, b = runs["present"], runs["missing"]
    pd.testing.assert_frame_equal(a.documents, b.documents)
    assert _digest(a.documents) == _digest(b.documents)
    assert a.meta["document_names"] == b.meta["document_names"]
    builtin = gen.scenario_pools(
        "builtin", {"purchase_order": gen.RETAILERS}
    ).fingerprint()  # retail's buyers
    assert a.meta["document_names"] == {"option": "builtin", **builtin} and builtin["source"] == "builtin"
    assert a.meta["params"]["document_names"] == "builtin"
    # asked for explicitly, the data's names are used and the meta says so
    monkeypatch.setenv(config.DATA_ENV_VAR, str(data))
    c = sclm.make_scenario("retail", seed=0, n_days=60, n_documents=80, document_names="data")
    names = c.meta["document_names"]
    assert names["option"] == "data" and names["source"] == "scms"
    pools = gen.scenario_pools("data", {"purchase_order": gen.RETAILERS}, data_dir=str(data))
    assert "Zyxwv Fake Pharma" in pools.orgs["supplier_email"] and {"Atlantis", "Lemuria"} <= set(
        pools.countries
    )
    assert names["sha256"] == pools.fingerprint()["sha256"] != builtin["sha256"]
    assert len(names["sha256"]) == 64 and int(names["sha256"], 16) >= 0
    assert _digest(c.documents) != _digest(a.documents)
    stated = " ".join(c.documents["text"])
    fake = {"zeppelin", "Atlantis", "Lemuria", "Zyxwv", "Qqq"}
    assert set(stated.split()) & fake  # the fake names are stated
    # a missing data set is an error when asked for, never a silent fallback
    monkeypatch.setenv(config.DATA_ENV_VAR, str(tmp_path / "no-such-folder"))
    with pytest.raises(FileNotFoundError, match=r"source='scms' needs the data set 'shipments_usaid_scms'"):
        sclm.make_scenario("retail", seed=0, n_days=60, document_names="data")
    with pytest.raises(ValueError, match=r"document_names='web' is out of range; expected one of"):
        sclm.make_scenario("retail", seed=0, n_days=60, document_names="web")


def test_name_pool_fingerprint_is_a_digest_of_the_names():
    import hashlib
    import json
    from dataclasses import replace

    pools = gen.name_pools("builtin")
    fp = pools.fingerprint()
    names = {
        "orgs": {k: list(v) for k, v in pools.orgs.items()},
        "people": list(pools.people),
        "cities": list(pools.cities),
        "countries": list(pools.countries),
        "products": list(pools.products),
        "modes": list(pools.modes),
    }
    blob = json.dumps(names, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    assert fp == {"source": "builtin", "lang": "en", "sha256": hashlib.sha256(blob).hexdigest()}
    assert replace(pools, people=pools.people[:-1]).fingerprint()["sha256"] != fp["sha256"]
    assert gen.name_pools("builtin", lang="zh").fingerprint()["sha256"] != fp["sha256"]
    # counterparties replace a kind's pool, and the digest follows
    swapped = gen.scenario_pools("builtin", {"purchase_order": ["Only Buyer Ltd"]})
    assert swapped.orgs["purchase_order"] == ("Only Buyer Ltd",)
    assert swapped.fingerprint()["sha256"] != fp["sha256"]
    with pytest.raises(ValueError, match=r"document_names must be one of \['builtin', 'data'\], got 'web'"):
        gen.scenario_pools("web")


def test_corpus_and_pool_errors():
    with pytest.raises(ValueError, match=r"n_documents must be an int >= 0, got -1"):
        gen.make_corpus(-1)
    with pytest.raises(ValueError, match=r"lang must be 'en' or 'zh', got 'fr'"):
        gen.make_corpus(3, lang="fr")
    with pytest.raises(ValueError, match=r"split must be one of \['train', 'heldout', 'all'\], got 'test'"):
        gen.make_corpus(3, split="test")
    with pytest.raises(ValueError, match=r"pools are for lang='en' but lang='zh'"):
        gen.make_corpus(3, lang="zh", pools=gen.name_pools("builtin"))
    with pytest.raises(ValueError, match=r"source must be 'auto', 'scms' or 'builtin', got 'web'"):
        gen.name_pools("web")


# --- text → records → readings -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["manufacturing", "retail"])
def test_gold_tags_give_readings_equal_to_the_truth(name):
    sc = sclm.make_scenario(name, seed=2, n_days=60, n_documents=120)
    docs = sc.documents
    ex = extract(
        docs["tokens"].tolist(), tags=docs["tags"].tolist(), nodes=sc.nodes, spec=sc.meta["documents"]
    )
    rec = ex.records
    assert (rec["status"] == "ok").all()
    assert rec["kind"].tolist() == docs["kind"].tolist()  # detected from cue words
    assert rec["node"].tolist() == docs["node"].tolist()
    assert (rec["ts"] == docs["ts"]).all() and (rec["quantity"] == docs["quantity"]).all()
    r = ex.readings
    validate_readings(r)
    assert (r["source"] == "document").all() and (r["unit"] == "unit").all()
    truth = sc.truth.stack()
    got = r.set_index(["node", "ts", "variable"])["value"]
    np.testing.assert_array_equal(got.to_numpy(), truth.reindex(got.index).to_numpy())
    assert len(r) == len(docs.drop_duplicates(["node", "ts", "variable"]))


def test_kind_detection_on_every_template():
    for lang in ("en", "zh"):
        df = gen.make_corpus(200, seed=5, lang=lang, split="all")
        assert len(set(df["template"])) == sum(
            len(v) for v in (gen.ZH_TEMPLATES if lang == "zh" else gen.TEMPLATES).values()
        )
        got = [detect_kind(t, g) for t, g in zip(df["tokens"], df["tags"], strict=True)]
        assert got == df["kind"].tolist()


def test_record_tells_site_from_origin_and_reads_chinese():
    nodes = pd.DataFrame(
        {"node": ["a", "b"], "node_type": ["plant", "plant"], "city": ["Lyon", "上海"], "product": ["x", "y"]}
    )
    toks = "Shipped from Kenya to Lyon : 1,200 units of x on 5 March 2024 by Redline Express".split()
    tags = [
        "O",
        "O",
        "B-LOC",
        "O",
        "B-LOC",
        "O",
        "B-QTY",
        "O",
        "O",
        "B-PRODUCT",
        "O",
        "B-DATE",
        "I-DATE",
        "I-DATE",
    ]
    tags += ["O", "B-ORG", "I-ORG"]
    rec = document_record(toks, tags, nodes=nodes)
    assert rec["site"] == "Lyon" and rec["origin"] == "Kenya" and rec["node"] == "a"
    assert rec["quantity"] == 1200.0 and rec["ts"] == pd.Timestamp("2024-03-05")
    assert rec["kind"] == "supplier_email" and rec["org"] == "Redline Express"
    zh = gen.zh_tokens("上海于2024年3月5日到货1200件")
    ztags = [
        "B-LOC",
        "I-LOC",
        "O",
        "B-DATE",
        "I-DATE",
        "I-DATE",
        "I-DATE",
        "I-DATE",
        "I-DATE",
        "O",
        "O",
        "B-QTY",
        "O",
    ]
    rec = document_record(zh, ztags, nodes=nodes)
    assert (rec["node"], rec["kind"], rec["quantity"]) == ("b", "shipping_notice", 1200.0)
    assert rec["ts"] == pd.Timestamp("2024-03-05") and entities(zh, ztags)[0].text == "上海"


def test_document_reading_fills_a_gap_in_the_fused_panel():
    """Text → readings → fuse: a shipping notice supplies the day the ERP feed lost."""
    sc = sclm.make_scenario("retail", seed=0, n_days=40, n_documents=40)
    spec = sc.meta["documents"]
    doc = sc.documents[sc.documents["kind"] == "shipping_notice"].iloc[0]
    variable = spec["shipping_notice"]
    erp = (
        sc.truth[variable].rename("value").reset_index().assign(variable=variable, unit="unit", source="erp")
    )
    erp["node_type"] = erp["node"].map(sc.nodes.set_index("node")["node_type"])
    erp = erp[~((erp["node"] == doc.node) & (erp["ts"] == doc.ts))]  # the ERP lost that cell
    ex = extract([doc.tokens], tags=[doc.tags], nodes=sc.nodes, spec=spec)
    row = ex.readings.iloc[0]
    assert (row["node"], row["ts"], row["variable"], row["source"]) == (
        doc.node,
        doc.ts,
        variable,
        "document",
    )
    readings = pd.concat([erp[list(ex.readings.columns)], ex.readings], ignore_index=True)
    panel = fuse(readings, "mean", fill=None, allow_nan=True)
    validate_panel(panel)
    assert (
        panel.loc[(doc.node, doc.ts), variable] == doc.quantity == sc.truth.loc[(doc.node, doc.ts), variable]
    )
    without = fuse(erp[list(ex.readings.columns)], "mean", fill=None, allow_nan=True)
    assert np.isnan(without.loc[(doc.node, doc.ts), variable])


def test_to_readings_averages_duplicates_and_skips_incomplete():
    nodes = pd.DataFrame({"node": ["a"], "node_type": ["store"]})
    recs = [
        {"kind": "shipping_notice", "node": "a", "ts": pd.Timestamp("2024-01-02"), "quantity": 10.0},
        {"kind": "delay_report", "node": "a", "ts": pd.Timestamp("2024-01-02"), "quantity": 14.0},
        {"kind": "shipping_notice", "node": None, "ts": pd.Timestamp("2024-01-03"), "quantity": 5.0},
        {"kind": "purchase_order", "node": "a", "ts": pd.Timestamp("2024-01-03"), "quantity": 5.0},
    ]
    r = to_readings(recs, nodes=nodes, spec={"shipping_notice": "shipments", "delay_report": "shipments"})
    assert r[["node", "variable", "value", "source"]].values.tolist() == [
        ["a", "shipments", 12.0, "document"]
    ]
    none = to_readings(recs[2:3], nodes=nodes, spec={"shipping_notice": "shipments"})
    assert none.empty and list(none.columns) == list(r.columns) and str(none["ts"].dtype) == "datetime64[ns]"
    with pytest.raises(ValueError, match=r"nodes: missing column\(s\) \['node_type'\]"):
        to_readings(recs, nodes=nodes[["node"]], spec={})
    with pytest.raises(ValueError, match=r"records: missing column\(s\) \['quantity'\]"):
        to_readings([{"kind": "x", "node": "a", "ts": None}], nodes=nodes, spec={})
    with pytest.raises(ValueError, match=r"extract needs a tagger"):
        extract(["text"], nodes=nodes, spec={})


def test_parsers():
    assert (
        parse_quantity("1,200") == 1200.0 and parse_quantity("1 200") == 1200.0 and parse_quantity("37") == 37
    )
    for s in ("2024-03-05", "2024/03/05", "5 March 2024", "Mar 5 2024", "March 5 , 2024", "2024年3月5日"):
        assert parse_date(s) == pd.Timestamp("2024-03-05"), s
    with pytest.raises(ValueError, match=r"cannot read a date from '05/03/2024'"):
        parse_date("05/03/2024")
    with pytest.raises(ValueError, match=r"no quantity in 'many'"):
        parse_quantity("many")
    assert words("Hello, O'Connor: 1,200 units of HIV 1/2 kits to anna@x.com.") == [
        "Hello",
        ",",
        "O'Connor",
        ":",
        "1,200",
        "units",
        "of",
        "HIV",
        "1/2",
        "kits",
        "to",
        "anna@x.com",
        ".",
    ]
    with pytest.raises(ValueError, match=r"tokens and tags must have the same length, got 2 and 1"):
        entities(["a", "b"], ["O"])
    with pytest.raises(ValueError, match=r"tags must be BIO .* got 'PER'"):
        entities(["a"], ["PER"])


# --- privacy ---------------------------------------------------------------------------------------------


def test_redact_people_emails_and_phones_but_not_dates_or_quantities():
    text = "Hi Anna Schmidt , call +49 40 1234 5678 or (020) 7946-0958 , mail anna.schmidt@gruber.com : 1200 units on 2024-03-05 ."
    toks = text.split()
    tags = ["O", "B-PER", "I-PER"] + ["O"] * (len(toks) - 3)
    out = redact(text, tokens=toks, tags=tags)
    assert out == "Hi [PER] , call [PHONE] or [PHONE] , mail [EMAIL] : 1200 units on 2024-03-05 ."
    assert redact(text, persons=False).startswith("Hi Anna Schmidt , call [PHONE]")
    zh = "请联系张伟，电话+86 21 5555 1234，邮箱zw@hd.cn。2024年3月5日到货1200件"
    ztoks = gen.zh_tokens(zh)
    ztags = ["B-PER" if t == "张" else "I-PER" if t == "伟" else "O" for t in ztoks]
    assert (
        redact(zh, tokens=ztoks, tags=ztags)
        == "请联系[PER]，电话[PHONE]，邮箱[EMAIL]。2024年3月5日到货1200件"
    )
    # every generated e-mail and phone number disappears
    df = gen.make_corpus(200, seed=0, split="all")
    for doc in df.itertuples():
        out = redact(doc.text, tokens=doc.tokens, tags=doc.tags)
        assert "@" not in out and not any(t.startswith("+") and t[1:].isdigit() for t in out.split())
        for span in _spans(doc.tokens, doc.tags, "PER"):
            assert " ".join(span) not in out
        assert str(int(doc.quantity)) in out.split()


def test_redact_errors():
    with pytest.raises(
        ValueError, match=r"redact needs a tagger \(or tokens= and tags=\) to find person names"
    ):
        redact("Hi Anna")
    with pytest.raises(ValueError, match=r"token 'Bob' not found in text after position 2"):
        redact("Hi Anna", tokens=["Hi", "Bob"], tags=["O", "B-PER"])
    with pytest.raises(TypeError, match=r"text must be a str, got list"):
        redact(["Hi"], persons=False)


# --- scores ----------------------------------------------------------------------------------------------


def test_ner_scores_are_entity_level():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-LOC", "O"]]
    pred = [["B-PER", "I-PER", "O", "O"], ["B-LOC", "B-PER"]]
    s = ner_scores(gold, pred)
    assert list(s.index[:2]) == ["LOC", "PER"] and list(s.columns) == ["precision", "recall", "f1", "support"]
    assert s.loc["LOC", "recall"] == 0.5 and s.loc["LOC", "precision"] == 1.0
    assert s.loc["PER", "precision"] == 0.5 and s.loc["PER", "support"] == 1
    assert s.loc["micro avg", "precision"] == pytest.approx(2 / 3) and s.loc[
        "micro avg", "recall"
    ] == pytest.approx(2 / 3)
    # a partial span is a miss, not a half hit
    assert ner_scores([["B-ORG", "I-ORG"]], [["B-ORG", "O"]]).loc["micro avg", "f1"] == 0.0
    with pytest.raises(ValueError, match=r"sentence 0: 2 gold tags but 1 predicted tags"):
        ner_scores([["O", "O"]], [["O"]])


def test_composed_training_documents():
    for lang in ("en", "zh"):
        df = gen.make_corpus(200, seed=4, lang=lang, split="train")
        comp = df[df["template"].str.endswith("/composed")]
        assert 60 < len(comp) < 140  # about half
        assert len(set(comp["text"])) == len(comp)
        assert [detect_kind(t, g) for t, g in zip(comp["tokens"], comp["tags"], strict=True)] == comp[
            "kind"
        ].tolist()
        for doc in comp.itertuples():  # every entity clause is there, and the site comes first
            spans = entity_spans(doc.tags)
            assert {"QTY", "DATE", "LOC", "PRODUCT"} <= {t for _, _, t in spans}
            assert gen.name_tokens(doc.city, lang) == _spans(doc.tokens, doc.tags, "LOC")[0]
    assert (gen.make_corpus(50, seed=4, composed=0.0)["template"].str.endswith("/composed")).sum() == 0
    with pytest.raises(
        ValueError, match=r"composed must be in \[0, 1\] \(and 0 for the held-out split\), got 0.5"
    ):
        gen.make_corpus(5, split="heldout", composed=0.5)


def test_text_to_data_does_not_import_torch():
    import subprocess
    import sys

    code = "import sys, sclm, sclm.documents; print('torch' in sys.modules, 'transformers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_corpus_default_names_do_not_depend_on_the_data_folder():
    # the same parameters give the same corpus on a machine with or without the SCMS names
    a = gen.make_corpus(20, seed=4)
    b = gen.make_corpus(20, seed=4, pools=gen.name_pools("builtin"))
    assert a["text"].tolist() == b["text"].tolist()
    if gen.name_pools("auto").source != "builtin":  # the data folder is there: its names differ
        c = gen.make_corpus(20, seed=4, pools=gen.name_pools("auto"))
        assert c["text"].tolist() != a["text"].tolist()
