"""The synthetic Chinese name inventories (sclm.scenarios._zh_names): shapes and held-out exclusion."""

from __future__ import annotations

import re

import pytest

from sclm.scenarios import _zh_names as zn
from sclm.scenarios import documents as gen

_MODS = set(zn.MATERIALS) | set(zn.USES) | set(zn.FORMS)


def _held(pools: gen.NamePools, people: bool = False) -> set[str]:
    """Every held-out name of ``pools`` (organisations, cities, countries, products; people too
    with ``people``)."""
    held = pools.split("heldout")
    names = {n for v in held.orgs.values() for n in v} | set(held.cities) | set(held.countries)
    return names | set(held.products) | (set(held.people) if people else set())


def _parses(product: str, inv: dict[str, tuple[str, ...]]) -> list[tuple[str, ...]]:
    """Every split of ``product`` into the grammar's words (modifier* head kit?), from ``inv``."""
    mods = set(inv["MATERIALS"]) | set(inv["USES"]) | set(inv["FORMS"])
    out = []

    def walk(rest: str, words: tuple[str, ...], head: bool) -> None:
        if not rest:
            if head:
                out.append(words)
            return
        for i in range(1, len(rest) + 1):
            w = rest[:i]
            if not head and w in mods:
                walk(rest[i:], (*words, w), False)
            if not head and w in inv["HEADS"]:
                walk(rest[i:], (*words, w), True)
            if head and w in inv["KITS"] and i == len(rest):
                walk("", (*words, w), True)

    walk(product, (), False)
    return out


@pytest.fixture(scope="module")
def pools() -> gen.NamePools:
    return gen.name_pools("builtin", lang="zh")


def test_product_inventories_drop_every_word_of_an_excluded_name():
    assert "办公" in zn.USES and "阀门" in zn.HEADS
    inv = zn.product_inventories({"办公用纸", "不锈钢阀门配件"})
    assert "办公" not in inv["USES"] and "阀门" not in inv["HEADS"] and "不锈钢" not in inv["MATERIALS"]
    assert "配件" not in inv["KITS"] and "医用" in inv["USES"]
    assert all(len(v) for v in inv.values())
    assert zn.product_inventories() == {
        "MATERIALS": zn.MATERIALS, "USES": zn.USES, "FORMS": zn.FORMS, "HEADS": zn.HEADS, "KITS": zn.KITS
    }  # fmt: skip


def test_products_are_compounds_of_inventory_words_none_part_of_a_heldout_name(pools):
    held = _held(pools)
    inv = zn.product_inventories(held)
    syn = gen.synthetic_pools(pools, n=1500)
    words = {1: 0, 2: 0, 3: 0}
    for p in syn.products:
        splits = _parses(p, inv)
        assert splits, p  # made of inventory words that no held-out name contains
        words[min(len(s) for s in splits)] += 1
    n = len(syn.products)
    assert words[2] / n > 0.4 and words[3] / n > 0.1 and words[1] > 0  # mostly compounds
    assert any(p.startswith(m) for p in syn.products for m in zn.USES)
    assert any(p.endswith(k) for p in syn.products for k in zn.KITS)
    # 办公用纸 is held out: its word 办公 (a use word of the inventory) is never drawn
    assert "办公用纸" in held and not any("办公" in p for p in syn.products)
    assert not any(h in p or p in h for p in syn.products for h in held)
    # the validation protocol (training part of the names): 医用耗材 is then held out, 医用 unused
    val = gen.synthetic_pools(pools.split("train"), n=1500)
    assert "医用耗材" in _held(pools.split("train"))
    assert not any("医用" in p for p in val.products) and any("医用" in p for p in syn.products)


def test_organisations_have_several_shapes_of_trade_name(pools):
    syn = gen.synthetic_pools(pools, n=1500)
    orgs = syn.orgs["purchase_order"]

    def alt(words) -> str:
        return "|".join(map(re.escape, sorted(words, key=len, reverse=True)))

    cities = alt(c for c in syn.cities if len(c) == 2)
    suffixes = alt({s for s, _ in zn.ORG_SUFFIXES + zn.LEGAL_SUFFIXES if s})
    shape = re.compile(
        f"^(?P<city>{cities})??(?P<brand>[{''.join(zn.BRAND_CHARS)}]{{2,4}}?)(?P<intl>国际)?"
        f"(?P<ind>(?:{alt(zn.INDUSTRIES)}){{0,2}})(?P<suffix>{suffixes})?$"
    )
    seen = {"city": 0, "intl": 0, "two industries": 0, "legal only": 0, "no suffix": 0}
    brands = set()
    for o in orgs:
        m = shape.match(o)
        assert m, o
        brands.add(len(m["brand"]))
        seen["city"] += bool(m["city"])
        seen["intl"] += bool(m["intl"])
        seen["legal only"] += not m["ind"] and bool(m["suffix"])
        seen["no suffix"] += not m["suffix"]
        seen["two industries"] += len(m["ind"]) >= 4 and not any(m["ind"] == i for i in zn.INDUSTRIES)
    assert {2, 3, 4} <= brands
    assert all(v > 0.03 * len(orgs) for v in seen.values()), seen


def test_people_are_varied_and_never_heldout(pools):
    syn = gen.synthetic_pools(pools, n=1500)
    held = set(pools.split("heldout").people)
    assert held and not set(syn.people) & held
    given = {1: 0, 2: 0}
    for p in syn.people:
        sur = p[:2] if p[:2] in zn.SURNAMES else p[0]
        assert sur in zn.SURNAMES and set(p[len(sur) :]) <= set(zn.GIVEN_CHARS), p
        given[len(p) - len(sur)] += 1
    assert min(given.values()) > 0.2 * len(syn.people)
    assert len({p[0] for p in syn.people}) > 120  # surnames beyond the most common hundred
    assert (
        zn.synthetic_names(300, seed=1) == zn.synthetic_names(300, seed=1) != zn.synthetic_names(300, seed=2)
    )
