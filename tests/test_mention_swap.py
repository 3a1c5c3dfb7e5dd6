"""Tests of sclm.models._mention_swap (mention-replacement augmentation)."""

from __future__ import annotations

import pytest

from sclm.models._mention_swap import bio_spans, equal_step_swap, mention_pool, swap_mentions

TOKENS = [
    ["I", "love", "New", "York", "and", "Apple"],
    ["nothing", "here"],
    ["Bob", "Smith", "works", "at", "Google"],
    ["see", "Paris"],
    ["Alice", "went", "to", "Rome", "Italy"],
]
TAGS = [
    ["O", "O", "B-location", "I-location", "O", "B-corporation"],
    ["O", "O"],
    ["B-person", "I-person", "O", "O", "B-corporation"],
    ["O", "B-location"],
    ["B-person", "O", "O", "B-location", "B-location"],
]


def _well_formed(tags: list[str]) -> bool:
    try:
        bio_spans(tags)
    except ValueError:
        return False
    return True


def test_bio_spans() -> None:
    assert bio_spans(TAGS[0]) == [(2, 4, "location"), (5, 6, "corporation")]
    assert bio_spans(TAGS[4]) == [(0, 1, "person"), (3, 4, "location"), (4, 5, "location")]
    assert bio_spans(["O", "O"]) == []


def test_pool_keeps_repeats_in_order() -> None:
    pool = mention_pool(TOKENS, TAGS)
    assert pool["location"] == [("New", "York"), ("Paris",), ("Rome",), ("Italy",)]
    assert pool["corporation"] == [("Apple",), ("Google",)]
    assert pool["person"] == [("Bob", "Smith"), ("Alice",)]


def test_copies_valid_same_types_from_pool() -> None:
    tok, tag = swap_mentions(TOKENS, TAGS, seed=0, copies=3)
    n_ent = sum(any(t != "O" for t in s) for s in TAGS)
    assert len(tok) == len(tag) == len(TOKENS) + 3 * n_ent
    assert tok[: len(TOKENS)] == TOKENS and tag[: len(TAGS)] == TAGS  # originals kept, in order
    pool = mention_pool(TOKENS, TAGS)
    originals = [k for k, s in enumerate(TAGS) if any(t != "O" for t in s)] * 3
    for k, (tk, tg) in zip(originals, zip(tok[len(TOKENS) :], tag[len(TAGS) :], strict=True), strict=True):
        assert len(tk) == len(tg)
        assert _well_formed(tg)
        new, old = bio_spans(tg), bio_spans(TAGS[k])
        assert [t for _, _, t in new] == [t for _, _, t in old]  # same types, same order
        for s, e, typ in new:
            assert tuple(tk[s:e]) in pool[typ]
        # the words outside the entities are the original's
        assert [w for w, t in zip(tk, tg, strict=True) if t == "O"] == [
            w for w, t in zip(TOKENS[k], TAGS[k], strict=True) if t == "O"
        ]


def test_no_entity_sentences_not_copied() -> None:
    tok, tag = swap_mentions(TOKENS, TAGS, seed=1, copies=2)
    assert tok.count(["nothing", "here"]) == 1
    assert tag[1] == ["O", "O"]
    only_o = [["a", "b"], ["c"]]
    assert swap_mentions(only_o, [["O", "O"], ["O"]], seed=0) == (only_o, [["O", "O"], ["O"]])


def test_deterministic_and_seed_dependent() -> None:
    a = swap_mentions(TOKENS, TAGS, seed=7, copies=4)
    b = swap_mentions(TOKENS, TAGS, seed=7, copies=4)
    c = swap_mentions(TOKENS, TAGS, seed=8, copies=4)
    assert a == b
    assert a != c


def test_replacement_varies_and_uses_given_pool() -> None:
    tok, _ = swap_mentions(TOKENS, TAGS, seed=0, copies=50)
    # sentence 3 ("see Paris") copies: its location drawn from all four mentions
    drawn = {tuple(t[1:]) for t in tok[len(TOKENS) :] if t[0] == "see"}
    assert drawn == {("New", "York"), ("Paris",), ("Rome",), ("Italy",)}
    pool = {"location": [("Oslo",)], "corporation": [("Acme", "Inc")], "person": [("Zed",)]}
    tok, tag = swap_mentions(TOKENS[:1], TAGS[:1], seed=0, pool=pool)
    assert tok[1] == ["I", "love", "Oslo", "and", "Acme", "Inc"]
    assert tag[1] == ["O", "O", "B-location", "O", "B-corporation", "I-corporation"]


def test_zero_copies() -> None:
    assert swap_mentions(TOKENS, TAGS, seed=0, copies=0) == (TOKENS, TAGS)


@pytest.mark.parametrize(
    ("tokens", "tags", "match"),
    [
        ([["a", "b"]], [["O"]], "2 tokens but 1 tags"),
        ([["a"], ["b"]], [["O"]], "2 token sentences but 1 tag"),
        ([["a", "b"]], [["O", "I-person"]], "does not continue"),
        ([["a", "b"]], [["B-location", "I-person"]], "does not continue"),
        ([["a"]], [["X-person"]], "malformed tag"),
        ([["a"]], [["B-"]], "malformed tag"),
        ([["a"]], [["person"]], "malformed tag"),
    ],
)
def test_bad_input_raises(tokens, tags, match) -> None:
    with pytest.raises(ValueError, match=match):
        swap_mentions(tokens, tags, seed=0)


def test_bad_pool_and_copies_raise() -> None:
    with pytest.raises(ValueError, match="no mentions in the pool"):
        swap_mentions(TOKENS, TAGS, seed=0, pool={"location": [("Oslo",)]})
    with pytest.raises(ValueError, match="empty mention"):
        swap_mentions(TOKENS[3:4], TAGS[3:4], seed=0, pool={"location": [()]})
    with pytest.raises(ValueError, match="copies"):
        swap_mentions(TOKENS, TAGS, seed=0, copies=-1)


def test_equal_step_swap_scales_epochs() -> None:
    tok, tag, epochs = equal_step_swap(TOKENS, TAGS, 5, seed=3)
    assert (tok, tag) == swap_mentions(TOKENS, TAGS, seed=3)
    assert len(tok) == 9  # 5 originals + 4 copies
    assert epochs == pytest.approx(5 * 5 / 9)
    assert epochs * len(tok) == pytest.approx(5 * len(TOKENS))  # same sentence visits, same steps
    with pytest.raises(ValueError, match="epochs"):
        equal_step_swap(TOKENS, TAGS, 0, seed=0)
