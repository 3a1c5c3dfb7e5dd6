"""Number extraction and grounding (sclm.language.narrative), and the recommendation on network answers.

The network answers need no model, so every template of a network question is checked here in
both languages; the forecast-based questions are in tests/test_ask.py.
"""

from __future__ import annotations

import datetime
import re

import pytest

from sclm.language.narrative import (
    UngroundedNumberError,
    check_numbers,
    extract_numbers,
    flatten_values,
    recommend,
)

NETWORK = "tests/data/instructions/network.yaml"
EXAMPLE = "params/networks/example.yaml"


def _tok(text):
    return [(t.text, t.value, t.decimals, t.percent, t.signed, t.date) for t in extract_numbers(text)]


# --------------------------------------------------------------------------------------------
# extraction
# --------------------------------------------------------------------------------------------


def test_integers_decimals_thousands_and_negatives():
    toks = _tok("cost 1,234.5 then -12 and −3.25, list 1,2 and 12,34567")
    assert toks[0] == ("1,234.5", 1234.5, 1, False, False, None)
    assert toks[1] == ("-12", -12.0, 0, False, True, None)
    assert toks[2] == ("−3.25", -3.25, 2, False, True, None)
    # a comma not followed by exactly three digits is no thousands separator
    assert [t[1] for t in toks[3:]] == [1.0, 2.0, 12.0, 34567.0]


def test_percentages_with_and_without_space_and_sign():
    toks = _tok("+20% more, 12.3 % less, ５％ in full width")
    assert toks[0] == ("+20%", 20.0, 0, True, True, None)
    assert toks[1] == ("12.3 %", 12.3, 1, True, False, None)
    assert toks[2][1:4] == (5.0, 0, True)


def test_chinese_text_multipliers_and_full_width_digits():
    toks = _tok("总成本为2167元，下降12.3%，约1.2万件，缺货－５件，库存１２３件")
    assert [t[1] for t in toks] == [2167.0, 12.3, 12000.0, -5.0, 123.0]
    assert toks[2][2] == 1  # 1.2万: one decimal of 万, i.e. precision 1000
    assert extract_numbers("约1.2万件")[0].tolerance == pytest.approx(500.0)


def test_names_with_digits_are_not_numbers():
    assert _tok("plant_01 ships to c1 via w2, quantile q0.1, instance P-n55-k15") == []
    # a dash between digits is a range, not a sign
    assert [(t[1], t[4]) for t in _tok("days 1-7")] == [(1.0, False), (7.0, False)]
    # digits after a letter-free arrow are numbers again
    assert [t[1] for t in _tok("s3→p2 100")] == [100.0]


def test_dates_are_values_not_numbers():
    toks = _tok("from 2023-05-01 to 2024年1月7日, not 2023-13-45")
    assert [t[5] for t in toks[:2]] == ["2023-05-01", "2024-01-07"]
    # not a calendar date: read as numbers
    assert [t[1] for t in toks[2:]] == [2023.0, 13.0, 45.0]


def test_extract_rejects_non_text():
    with pytest.raises(TypeError, match="str"):
        extract_numbers(12)


# --------------------------------------------------------------------------------------------
# grounding
# --------------------------------------------------------------------------------------------


def test_rounding_rule_of_the_brief():
    v = {"cost": 1234.567, "share": 0.123}
    assert check_numbers("1,234.6 or 1235 or 1234.57, and 12.3%", v) == []
    assert check_numbers("1,200 or 1234.6", v) == ["1,200"]


def test_rounding_precisely():
    v = {"cost": 1234.567, "share": 0.123}
    assert check_numbers("1,234.6", v) == []
    assert check_numbers("1,234.5", v) == ["1,234.5"]  # 0.067 > 0.05
    assert check_numbers("1,200", v) == ["1,200"]  # no rounding to hundreds
    assert check_numbers("12.3%", v) == []  # share × 100
    assert check_numbers("12.4%", v) == ["12.4%"]
    assert check_numbers("0.12", v) == []  # the share itself, two decimals


def test_signs_and_dates():
    v = {"delta": -120.0, "day": "2023-05-01"}
    assert check_numbers("falls by 120", v) == []  # unsigned: either sign
    assert check_numbers("-120", v) == []
    assert check_numbers("+120", v) == ["+120"]  # a signed number must match the sign
    assert check_numbers("on 2023-05-01", v) == []
    assert check_numbers("on 2023-05-02", v) == ["2023-05-02"]


def test_flatten_values_nested_and_filtered():
    flat = flatten_values({"a": {"b": [1, 2.5, True, None, "x", "2023-01-02"]}, "c": float("nan")})
    assert flat == {"a.b.0": 1.0, "a.b.1": 2.5, "a.b.5": "2023-01-02"}


# --------------------------------------------------------------------------------------------
# recommendations of network answers (no model)
# --------------------------------------------------------------------------------------------


def _answers():
    from sclm.assistant import ask
    from sclm.decisions.edits import CloseFacility, ForbidArc, ForceArc, ScaleCapacity

    tasks = {
        "optimal": ({"action": "plan_network"}, NETWORK),
        "what_if": ({"action": "plan_network", "what_if": {"demand": 0.85}}, NETWORK),
        "infeasible": ({"action": "plan_network", "what_if": {"demand": 3.0}}, NETWORK),
        "infeasible_minimum": (
            {
                "action": "plan_network",
                "edits": [ScaleCapacity(node="s3", factor=0.5), ForceArc(arc=("p1", "c1"), min_flow=500)],
            },
            NETWORK,
        ),
        "why_arc": (
            {
                "action": "plan_network",
                "question": "why",
                "edits": [ForbidArc(arc=("p2", "c3"), product="dark")],
            },
            NETWORK,
        ),
        "why_facility": (
            {"action": "plan_network", "question": "why", "edits": [CloseFacility(node="s2")]},
            NETWORK,
        ),
        "why_unused": (
            {"action": "plan_network", "question": "why", "edits": [ForbidArc(arc=("s1", "p2"))]},
            NETWORK,
        ),
        "why_not": ({"action": "plan_network", "edits": [ForceArc(arc=("p2", "c1"), min_flow=1)]}, NETWORK),
        "why_not_infeasible": (
            {"action": "plan_network", "edits": [ForceArc(arc=("s1", "p2"), min_flow=900)]},
            NETWORK,
        ),
        "why_infeasible": (
            {"action": "plan_network", "question": "why", "edits": [ForbidArc(arc=("s1", "p1"))]},
            EXAMPLE,
        ),
    }
    out = {}
    for name, (task, net) in tasks.items():
        for lang in ("en", "zh"):
            out[(name, lang)] = ask({**task, "language": lang}, network=net)
    return out


@pytest.fixture(scope="module")
def network_answers():
    return _answers()


def test_every_network_template_is_grounded(network_answers):
    for (name, lang), a in network_answers.items():
        assert a.text, name
        assert check_numbers(a.text, a.values) == [], (name, lang, a.text)
        assert len(extract_numbers(a.text)) >= 1, (name, lang)
        if lang == "zh":
            assert re.search(r"[\u4e00-\u9fff]", a.text), name
        else:
            assert not re.search(r"[\u4e00-\u9fff]", a.text), (name, a.text)


def _independent_grounded(x: float, pct: bool, signed: bool, tol: float, values: dict) -> bool:
    for v in values.values():
        if isinstance(v, str):
            continue
        for c in (v, 100 * v) if pct else (v,):
            if abs((c if signed else abs(c)) - (x if signed else abs(x))) <= tol * (1 + 1e-9) + 1e-12:
                return True
    return False


def mutation_check(text: str, values: dict) -> tuple[int, int]:
    """Alter each number of the text in turn; every alteration that lands on no value must be caught.

    Returns (mutations tried, mutations caught).  Two alterations per number: its last digit
    changed (+3 mod 10), and the number replaced by one far from every value; a date moves three
    days (a mutation that lands on another value is not a fabrication and is not counted).
    """
    tried = caught = 0
    far = max([abs(v) for v in values.values() if isinstance(v, float)] + [1.0]) * 1000 + 0.5
    for tok in extract_numbers(text):
        if tok.date is not None:  # another calendar day, three days later
            mutated = (datetime.date.fromisoformat(tok.date) + datetime.timedelta(days=3)).isoformat()
            if mutated in values.values():
                continue
            new_text = text[: tok.start] + mutated + text[tok.end :]
            tried += 1
            caught += mutated in check_numbers(new_text, values)
            continue
        digits = [i for i, ch in enumerate(tok.text) if ch.isdigit()]
        i = digits[-1]
        alt = tok.text[:i] + str((int(tok.text[i]) + 3) % 10) + tok.text[i + 1 :]
        new = extract_numbers(alt)[0] if extract_numbers(alt) else None
        for cand in [alt, f"{far:.1f}"]:
            new_text = text[: tok.start] + cand + text[tok.end :]
            found = [t for t in extract_numbers(new_text) if t.start == tok.start]
            assert found, (cand, new_text)
            t = found[0]
            if (
                cand == alt
                and new is not None
                and _independent_grounded(t.value, t.percent, t.signed, t.tolerance, values)
            ):
                continue  # the altered number happens to be another value: not a fabrication
            tried += 1
            caught += t.text in check_numbers(new_text, values)
    return tried, caught


def test_mutations_of_network_texts_are_caught(network_answers):
    for key, a in network_answers.items():
        tried, caught = mutation_check(a.text, a.values)
        assert tried >= 1 and caught == tried, (key, tried, caught)


def test_invented_number_is_caught_and_recommend_raises(network_answers):
    a = network_answers[("what_if", "en")]
    text = a.text + " Savings reach 4,321.9 units."
    assert check_numbers(text, a.values) == ["4,321.9"]
    bad = a.model_copy(update={"values": {k: v for k, v in a.values.items() if k != "result.cost"}})
    with pytest.raises(UngroundedNumberError, match="not found"):
        recommend(bad)


def test_recommend_is_deterministic_and_language_switch(network_answers):
    a = network_answers[("why_arc", "en")]
    assert recommend(a) == a.text
    zh = recommend(a, "zh")
    assert re.search(r"[\u4e00-\u9fff]", zh) and check_numbers(zh, a.values) == []
    with pytest.raises(ValueError, match="lang"):
        recommend(a, "fr")
