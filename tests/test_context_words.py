"""Boundary augmentation of Chinese tagger corpora (sclm.scenarios._context_words)."""

from __future__ import annotations

import pytest

from sclm._text import join_zh
from sclm.datasets.text import entity_spans
from sclm.scenarios import documents as gen
from sclm.scenarios._context_words import context_words, insert_context_words, pool_names


def test_context_words_keep_common_two_character_words_that_are_no_part_of_a_name(tmp_path):
    d = tmp_path / "dict.txt"
    d.write_text(
        "\n".join(
            [
                "代表 5000 n",  # kept
                "工厂 2000 n",  # kept
                "罕见 10 a",  # too rare
                "北京 9000 ns",  # a place
                "张伟 3000 nr",  # a person
                "三个 4000 m",  # a numeral
                "电子 8000 n",  # part of the name 宏图电子
                "我们的 9000 r",  # three characters
                "AB 9000 eng",  # not CJK
            ]
        ),
        encoding="utf-8",
    )
    assert context_words(["宏图电子", "李明"], dict_path=str(d)) == ("代表", "工厂")
    with pytest.raises(ValueError, match="no context word"):
        context_words([], min_freq=10**6, dict_path=str(d))


def test_the_bundled_dictionary_gives_thousands_of_words_none_inside_a_name():
    pools = gen.name_pools("builtin", lang="zh")
    names = pool_names(pools, gen.synthetic_pools(pools))
    words = context_words(names)
    assert len(words) > 1000 and words == tuple(sorted(words))
    inside = {n[i : i + 2] for n in names for i in range(len(n) - 1)}
    assert not inside & set(words)


def test_insert_context_words_puts_o_words_beside_entities_and_keeps_everything_else():
    corpus = gen.make_corpus(40, seed=3, lang="zh", split="train")
    words = ("甲乙", "丙丁")
    out = insert_context_words(corpus, words, share=1.0, before=1.0, after=1.0, seed=0)
    for (tok0, tag0), (tok, tag), text in zip(
        zip(corpus["tokens"], corpus["tags"], strict=True),
        zip(out["tokens"], out["tags"], strict=True),
        out["text"],
        strict=True,
    ):
        assert text == join_zh(tok) and len(tok) == len(tag)
        spans0, spans = entity_spans(list(tag0)), entity_spans(list(tag))
        # the same entities, in order, each now between two inserted words tagged O
        assert [(tok0[a:b], t) for a, b, t in spans0] == [(tok[a:b], t) for a, b, t in spans]
        for a, b, _ in spans:
            assert "".join(tok[a - 2 : a]) in words and "".join(tok[b : b + 2]) in words
            assert tag[a - 2 : a] == ["O", "O"] and tag[b : b + 2] == ["O", "O"]
        # taking the inserted words out gives the document back
        n_inserted = 4 * len(spans0)
        assert len(tok) == len(tok0) + n_inserted
    assert out.drop(columns=["tokens", "tags", "text"]).equals(
        corpus.drop(columns=["tokens", "tags", "text"])
    )
    same = insert_context_words(corpus, words, share=0.5, seed=1)
    assert same["text"].tolist() == insert_context_words(corpus, words, share=0.5, seed=1)["text"].tolist()
    changed = (same["text"] != corpus["text"]).mean()
    assert 0.2 < changed < 0.8  # about half the documents
    assert insert_context_words(corpus, words, share=0.0)["tokens"].tolist() == corpus["tokens"].tolist()
    only = insert_context_words(corpus, words, share=1.0, before=1.0, after=0.0)
    for tok0, tok, tag in zip(corpus["tokens"], only["tokens"], only["tags"], strict=True):
        spans = entity_spans(list(tag))  # a word before each entity, none after
        assert all("".join(tok[a - 2 : a]) in words for a, _, _ in spans)
        assert len(tok) == len(tok0) + 2 * len(spans)
    with pytest.raises(ValueError, match="share, before and after"):
        insert_context_words(corpus, words, share=1.5)
    with pytest.raises(ValueError, match="no words"):
        insert_context_words(corpus, (), share=0.5)
