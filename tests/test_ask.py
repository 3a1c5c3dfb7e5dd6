"""sclm.ask: network questions against the planner, the model cache, every question kind grounded.

Network questions run on the instruction parser's test network (no model).  Forecast-based
questions run on tiny scenarios (150 days, 28 held out, 1 training epoch) with the cache in a
temporary folder; they are marked slow.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time

import pytest

from sclm import make_scenario
from sclm.assistant import Answer, TaskView, ask, default_scenario
from sclm.decisions.edits import CloseFacility, ForbidArc, ScaleCapacity, ScaleDemand
from sclm.decisions.network import load_network, plan_network, what_if, why
from sclm.language.narrative import check_numbers, recommend

NETWORK = "tests/data/instructions/network.yaml"
EXAMPLE = "params/networks/example.yaml"
TINY = {"scenario_options": {"n_days": 150}, "future_days": 28, "input_size": 28, "epochs": 1}


# --------------------------------------------------------------------------------------------
# network questions (no model)
# --------------------------------------------------------------------------------------------


def test_network_plan_has_the_planner_cost():
    a = ask({"action": "plan_network", "language": "en"}, network=NETWORK)
    plan = plan_network(NETWORK)
    assert a.result["status"] == "optimal"
    assert a.result["cost"] == pytest.approx(plan.cost)
    assert a.result["cost"] == pytest.approx(
        2167.0
    )  # hand-checked: supply 300 + processing 595 + handling 72 + transport 1200
    assert a.baseline is None and a.delta is None
    assert "2,167" in a.text
    assert a.network == "roastery" and a.scenario is None and not a.cache_used


def test_network_what_if_demand_is_scale_demand_on_all_customers():
    a = ask({"action": "plan_network", "what_if": {"demand": 0.85}}, network=NETWORK)
    wi = what_if(NETWORK, [ScaleDemand(factor=0.85)])
    assert a.result["cost"] == pytest.approx(wi.result.cost)
    assert a.baseline["cost"] == pytest.approx(wi.baseline.cost)
    assert a.delta["cost"] == pytest.approx(wi.delta)
    assert a.delta["cost"] == pytest.approx(a.result["cost"] - a.baseline["cost"])
    assert a.delta["n_changed"] == len(wi.changed_flows)


def test_network_what_if_capacity_scales_every_capacitated_node():
    net = load_network(NETWORK)
    capped = [n for n, v in net.nodes.items() if v.role != "customer" and v.capacity is not None]
    a = ask({"action": "plan_network", "what_if": {"capacity": 0.7}}, network=net)
    ref = plan_network(net, [ScaleCapacity(node=n, factor=0.7) for n in capped])
    assert a.result["status"] == ref.status
    assert a.result["cost"] == pytest.approx(ref.cost)
    assert {e["node"] for e in a.result["edits"]} == set(capped)


def test_network_infeasible_reports_status_and_diagnosis():
    a = ask({"action": "plan_network", "what_if": {"demand": 3.0}, "language": "en"}, network=NETWORK)
    ref = plan_network(NETWORK, [ScaleDemand(factor=3.0)])
    assert a.result["status"] == "infeasible" == ref.status
    assert a.result["cost"] is None and a.delta["cost"] is None
    assert a.result["total_short"] == pytest.approx(ref.shortfall["short"].sum())
    assert "No plan meets every demand" in a.text and "Diagnosis" in a.text
    # the capacities that bind in the planner's diagnosis are the ones named in the text
    binding = set(re.findall(r"(?:supplier|plant|warehouse) (\w+) \(capacity", ref.diagnosis))
    assert binding and {b["name"] for b in a.result["binding"]} == binding
    for node in binding:
        assert f"{node} (" in a.text
    assert f"{a.result['total_short']:,.0f}" in a.text
    zh = ask({"action": "plan_network", "what_if": {"demand": 3.0}, "language": "zh"}, network=NETWORK)
    assert "没有能满足全部需求的方案" in zh.text and "诊断" in zh.text


def test_network_why_arc_is_the_counterfactual():
    a = ask(
        {"action": "plan_network", "question": "why", "edits": [ForbidArc(arc=("p1", "c2"))]}, network=NETWORK
    )
    w = why(NETWORK, ("p1", "c2"))
    assert a.baseline["cost"] == pytest.approx(w.baseline.cost)  # the current plan
    assert a.result["cost"] == pytest.approx(w.result.cost)  # without the flow
    assert a.delta["cost"] == pytest.approx(w.delta) == pytest.approx(a.result["cost"] - a.baseline["cost"])
    assert a.delta["cost"] > 0
    assert a.delta["subject"]["flow"] == pytest.approx(w.flow) == pytest.approx(20.0)
    assert not any(f["from"] == "p1" and f["to"] == "c2" for f in a.result["flows"])


def test_network_why_facility_and_unused_arc():
    a = ask(
        {"action": "plan_network", "question": "why", "edits": [CloseFacility(node="s2")]}, network=NETWORK
    )
    wi = what_if(NETWORK, [CloseFacility(node="s2")])
    assert a.result["cost"] == pytest.approx(wi.result.cost)
    assert a.delta["cost"] == pytest.approx(wi.delta)
    assert a.delta["subject"]["flow"] == pytest.approx(60.0)  # s2 -> p1 raw in the current plan
    u = ask(
        {"action": "plan_network", "question": "why", "edits": [ForbidArc(arc=("s1", "p2"))]}, network=NETWORK
    )
    assert u.delta["subject"]["used"] is False and u.delta["cost"] == 0.0
    assert u.result["cost"] == pytest.approx(u.baseline["cost"])


def test_network_why_with_infeasible_counterfactual():
    # the example network has one supplier arc: without it no plan exists
    a = ask(
        {"action": "plan_network", "question": "why", "edits": [ForbidArc(arc=("s1", "p1"))]}, network=EXAMPLE
    )
    assert a.baseline["status"] == "optimal" and a.baseline["cost"] == pytest.approx(520.0)
    assert a.result["status"] == "infeasible" and a.delta["cost"] is None
    assert "no plan without it" in a.text and "essential" in a.text


def test_network_why_with_a_shared_change_questions_the_last_flow():
    # "if s3 is closed, why do we still ship p1 -> c1?": the closure is the shared scenario
    net = load_network(NETWORK)
    a = ask(
        {
            "action": "plan_network",
            "question": "why",
            "edits": [CloseFacility(node="s3"), ForbidArc(arc=("p1", "c1"))],
        },
        network=NETWORK,
    )
    w = why(net, ("p1", "c1"), edits=[CloseFacility(node="s3")])
    assert a.baseline["cost"] == pytest.approx(w.baseline.cost)
    assert a.baseline["cost"] == pytest.approx(plan_network(net, [CloseFacility(node="s3")]).cost)
    if w.result.ok:
        assert a.result["cost"] == pytest.approx(w.result.cost)
    else:
        assert a.result["status"] == "infeasible"


def test_network_question_errors_name_the_problem():
    with pytest.raises(ValueError, match="needs a questioned flow"):
        ask({"action": "plan_network", "question": "why"}, network=NETWORK)
    with pytest.raises(ValueError, match="price"):
        ask({"action": "plan_network", "what_if": {"price": 1.1}}, network=NETWORK)
    with pytest.raises(KeyError, match="w9"):
        ask({"action": "plan_network", "edits": [CloseFacility(node="w9")]}, network=NETWORK)
    with pytest.raises(ValueError, match="unknown action"):
        ask({"action": "dance"}, network=NETWORK)


def test_answer_is_json_serialisable():
    a = ask({"action": "plan_network", "what_if": {"demand": 0.85}, "language": "zh"}, network=NETWORK)
    d = json.loads(json.dumps(a.model_dump(mode="json"), ensure_ascii=False))
    assert d["result"]["cost"] == pytest.approx(a.result["cost"])
    assert d["task"]["what_if"] == {"demand": 0.85}
    assert "figures" not in d and d["text"] == a.text
    assert Answer.model_validate(d).result == a.result


@pytest.mark.slow
def test_network_path_does_not_import_torch():
    code = (
        "import sys, sclm; "
        f"a = sclm.ask({{'action': 'plan_network', 'what_if': {{'demand': 0.85}}}}, network={NETWORK!r}); "
        "print(a.result['status'], 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["optimal", "False"]


def test_default_scenarios_and_conflicts():
    assert default_scenario(TaskView("plan_routes"))[0] == "logistics"
    assert default_scenario(TaskView("plan_inventory"))[0] == "retail"
    assert default_scenario(TaskView("forecast", targets=["demand"]))[0] == "retail"
    assert default_scenario(TaskView("forecast", targets=["delivery"]))[0] == "logistics"
    name, note = default_scenario(TaskView("forecast", targets=["inventory"]))
    assert name == "manufacturing" and "default" in note
    assert default_scenario(TaskView("forecast", scenario="retail"), "retail") == ("retail", None)
    with pytest.raises(ValueError, match="names the retail scenario"):
        default_scenario(TaskView("forecast", scenario="retail"), "logistics")


# --------------------------------------------------------------------------------------------
# forecast-based questions (tiny models, cache in tmp)
# --------------------------------------------------------------------------------------------

QUESTIONS = {
    "manufacturing": [
        {
            "action": "forecast",
            "targets": ["inventory"],
            "inputs": ["production", "inventory", "logistics"],
            "horizon": 7,
        },
        {"action": "forecast", "targets": ["production"], "horizon": 10, "what_if": {"capacity": 0.6}},
        {"action": "explain", "targets": ["inventory"]},
        {"action": "plan_production", "horizon": 7},
        {"action": "plan_production", "horizon": 7, "what_if": {"capacity": 0.5}},
        {"action": "plan_network", "horizon": 7},
        {"action": "plan_network", "horizon": 7, "what_if": {"demand": 1.3}},
        {"action": "monitor", "targets": ["inventory"], "horizon": 7},
    ],
    "logistics": [
        {"action": "forecast", "targets": ["delivery"], "horizon": 1, "what_if": {"logistics": 0.9}},
        {"action": "plan_routes", "horizon": 1},
        {"action": "plan_inventory", "horizon": 7},
        {"action": "monitor", "targets": ["delivery"], "horizon": 7},
    ],
    "retail": [
        {"action": "forecast", "targets": ["demand", "inventory"], "horizon": 14},
        {"action": "forecast", "targets": ["inventory"], "horizon": 7, "what_if": {"demand": 1.25}},
        {"action": "forecast", "targets": ["demand"], "horizon": 14, "what_if": {"price": 1.05}},
        {"action": "explain", "targets": ["demand"]},
        {"action": "plan_inventory", "horizon": 14},
        {"action": "plan_inventory", "horizon": 7, "what_if": {"demand": 1.2}},
    ],
}


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("ask-cache")


@pytest.fixture(scope="module")
def first_calls(cache):
    """The first question per scenario trains M (timed); the model memo is then cleared."""
    from sclm._ask_forecast import clear_memo

    out = {}
    for name, qs in QUESTIONS.items():
        t0 = time.perf_counter()
        a = ask({**qs[0], "scenario": name, "language": "en"}, setup=TINY, cache_dir=cache, figures=False)
        out[name] = (a, time.perf_counter() - t0)
    clear_memo()
    return out


@pytest.fixture(scope="module")
def answers(first_calls, cache):
    """Every question once, asked alternately in English and Chinese; keyed (scenario, index)."""
    out = {}
    for name, qs in QUESTIONS.items():
        for i, q in enumerate(qs):
            lang = ("en", "zh")[i % 2]
            out[(name, i)] = ask(
                {**q, "scenario": name, "language": lang}, setup=TINY, cache_dir=cache, figures=i == 0
            )
    return out


@pytest.mark.slow
def test_cache_written_then_reused_with_same_numbers(first_calls, cache):
    from sclm._ask_forecast import clear_memo

    a, seconds = first_calls["retail"]
    assert a.cache["source"] == "trained" and not a.cache_used
    folder = next((cache / "retail-seed0").glob("h14-*"))
    assert {"config.json", "model.safetensors", "ask.json"} <= {p.name for p in folder.iterdir()}
    meta = json.loads((folder / "ask.json").read_text())
    assert meta["train_end"] == a.result["model"]["origin"] and meta["task"]["horizon"] == 14
    clear_memo()
    t0 = time.perf_counter()
    b = ask(
        {**QUESTIONS["retail"][0], "scenario": "retail", "language": "en"},
        setup=TINY,
        cache_dir=cache,
        figures=False,
    )
    assert time.perf_counter() - t0 < seconds
    assert b.cache["source"] == "disk" and b.cache_used
    assert b.result["targets"] == a.result["targets"] and b.result["drivers"] == a.result["drivers"]
    assert "loaded from the cache" in b.text and "trained for this question" in a.text
    c = ask({**QUESTIONS["retail"][0], "scenario": "retail"}, setup=TINY, cache_dir=cache, figures=False)
    assert c.cache["source"] == "memory" and c.result == b.result


@pytest.mark.slow
def test_every_question_kind_is_grounded_in_both_languages(answers):
    from test_narrative import mutation_check

    kinds = set()
    for (name, i), a in answers.items():
        assert a.scenario == name
        assert a.result["status"] in ("ok", "optimal", "infeasible"), (name, i)
        other = "zh" if a.lang == "en" else "en"
        for lang, text in (
            (a.lang, a.text),
            (other, recommend(a, other)),
        ):  # the same answer in both languages
            assert check_numbers(text, a.values) == [], (name, i, lang, text)
            tried, caught = mutation_check(text, a.values)
            assert tried >= 3 and caught == tried, (name, i, lang, tried, caught)
            assert bool(re.search(r"[\u4e00-\u9fff]", text)) == (lang == "zh"), (name, i, lang, text)
        kinds.add(a.action + ("+what_if" if a.view.what_if else ""))
        json.dumps(a.model_dump(mode="json"))
    assert {
        "forecast",
        "explain",
        "plan_inventory",
        "plan_routes",
        "plan_production",
        "plan_network",
        "monitor",
    } <= {k.split("+")[0] for k in kinds}


@pytest.mark.slow
def test_forecast_what_if_scales_and_propagates(answers):
    # retail: demand x 1.25 → inventory falls by the extra sales (exact balance), never below 0
    a = answers[("retail", 1)]
    assert a.baseline is not None and a.result["what_if"]["demand"]["factor"] == 1.25
    inv, base = a.result["targets"]["inventory"], a.baseline["targets"]["inventory"]
    assert inv["mean"] <= base["mean"] and inv["low"] >= 0
    assert a.delta["targets"]["inventory"]["mean"] == pytest.approx(inv["mean"] - base["mean"], abs=0.02)
    # logistics: deliveries x 0.9 → exactly 0.9 times the forecast
    d = answers[("logistics", 0)]
    assert d.result["targets"]["delivery"]["mean"] == pytest.approx(
        0.9 * d.baseline["targets"]["delivery"]["mean"], rel=1e-3
    )
    # manufacturing: capacity x 0.6 caps production at 0.6 x capacity per plant and day
    m = answers[("manufacturing", 1)]
    assert m.result["targets"]["production"]["mean"] <= m.baseline["targets"]["production"]["mean"]
    # production plan with half the capacity costs at least as much
    p = answers[("manufacturing", 4)]
    assert p.result["capacity_scale"] == 0.5 and p.result["cost"] >= p.baseline["cost"] - 1e-6


@pytest.mark.slow
def test_forecast_totals_are_per_node_type_never_across_types(answers):
    # retail: a DC's demand is its stores' orders; summing both would count the units twice
    a = answers[("retail", 0)]
    for g in ("demand", "inventory"):
        r = a.result["targets"][g]
        per = {n["node"]: n["mean"] for n in r["nodes"]}
        stores = [n for n in per if n.startswith("store")]
        assert r["node_type"] == "store" and r["n_nodes"] == len(stores) == 5
        assert r["mean"] == pytest.approx(sum(per[n] for n in stores), abs=0.05)
        (dc,) = r["other_types"]
        assert (
            dc["node_type"] == "dc"
            and dc["n_nodes"] == 1
            and dc["mean"] == pytest.approx(per["dc_01"], abs=0.01)
        )
    assert "5 store nodes" in a.text and "1 dc node" in a.text
    zh = recommend(a, "zh")
    assert "5个store节点" in zh and "1个dc节点" in zh


@pytest.mark.slow
def test_scenario_network_and_figures(answers):
    n = answers[("manufacturing", 5)]
    assert n.result["status"] == "optimal" and n.result["cost"] > 0 and n.network == "manufacturing-seed0"
    w = answers[("manufacturing", 6)]
    assert (
        w.delta["cost"] == pytest.approx(w.result["cost"] - w.baseline["cost"]) if w.result["cost"] else True
    )
    f = answers[("manufacturing", 0)]
    assert set(f.figures) == {"forecast"} and hasattr(f.figures["forecast"], "savefig")


@pytest.mark.slow
def test_scenario_network_reads_numbered_names_without_a_file(answers, cache):
    """ "supplier 1" needs a network to resolve; without a file it is read against the scenario's."""
    from sclm.language.instructions import InstructionError, parse_instruction

    text = "What if supplier 1 can only deliver half next week?"
    with pytest.raises(InstructionError, match="pass the network"):
        parse_instruction(text)
    a = ask(text, setup=TINY, cache_dir=cache, figures=False)
    assert [e.model_dump(exclude_none=True) for e in a.task.edits] == [
        {"kind": "scale_capacity", "node": "supplier_1", "factor": 0.5}
    ]
    assert a.network == "manufacturing-seed0" and a.result["status"] in ("optimal", "infeasible")
    assert any("scenario network manufacturing-seed0" in n for n in a.notes)
    assert a.baseline is not None and a.baseline["cost"] == answers[("manufacturing", 5)].result["cost"]
    with pytest.raises(InstructionError, match="pass the network"):  # another scenario: no network
        ask(text, scenario="retail", setup=TINY, cache_dir=cache, figures=False)


@pytest.mark.slow
def test_horizon_beyond_held_out_days_is_an_error(first_calls, cache):
    with pytest.raises(ValueError, match="longer than the 28 days held out"):
        ask({"action": "forecast", "scenario": "retail", "horizon": 60}, setup=TINY, cache_dir=cache)
    with pytest.raises(ValueError, match="no demand forecast"):
        ask(
            {"action": "forecast", "scenario": "manufacturing", "targets": ["demand"]},
            setup=TINY,
            cache_dir=cache,
        )
    with pytest.raises(ValueError, match="planned"):
        ask(
            {"action": "forecast", "scenario": "logistics", "what_if": {"price": 1.1}},
            setup=TINY,
            cache_dir=cache,
        )


# --------------------------------------------------------------------------------------------
# the command line (needs the instruction parser)
# --------------------------------------------------------------------------------------------


def test_cli_ask_json_and_refusal(capsys):
    pytest.importorskip("sclm.language.instructions", reason="the instruction parser is not built yet")
    from sclm.cli import main

    assert (
        main(["ask", "Why are we sending product from p1 to c2 at all?", "--network", NETWORK, "--json"]) == 0
    )
    d = json.loads(capsys.readouterr().out)
    assert d["action"] == "plan_network" and d["delta"]["cost"] == pytest.approx(20.0)
    assert main(["ask", "Why are we sending product from p1 to c2 at all?", "--network", NETWORK]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Task: ") and "p1→c2" in out
    assert main(["ask", "lorem ipsum dolor", "--network", NETWORK]) == 2
    assert "error" in capsys.readouterr().err


def test_scenario_data_round_trip_and_staleness(tmp_path, monkeypatch):
    import pandas as pd

    from sclm import _ask_data
    from sclm._ask_forecast import ForecastSetup

    setup = ForecastSetup(**{**TINY, "scenario_options": {"n_days": 60}})
    sc1, p1, src1 = _ask_data.load_or_build("retail", 0, setup, tmp_path)
    sc2, p2, src2 = _ask_data.load_or_build("retail", 0, setup, tmp_path)
    assert (src1, src2) == ("simulated", "disk")
    assert _ask_data.panel_hash(p1) == _ask_data.panel_hash(p2)  # exact float round trip
    pd.testing.assert_frame_equal(sc1.truth, sc2.truth)
    for t in ("nodes", "drivers", "units"):
        pd.testing.assert_frame_equal(getattr(sc1, t), getattr(sc2, t))
    assert sc2.meta["targets"] == sc1.meta["targets"] and sc2.name == "retail"
    # the order of the planned inputs is the order of M's channels
    assert list(sc2.meta["known_future"]) == list(sc1.meta["known_future"])
    monkeypatch.setattr(_ask_data, "_sources_digest", lambda: "changed sources")
    assert _ask_data.load_or_build("retail", 0, setup, tmp_path)[2] == "simulated"


@pytest.mark.slow
def test_explain_names_the_rules_drivers_not_their_declared_stand_ins(answers):
    for name, i in (("manufacturing", 2), ("retail", 3)):
        a = answers[(name, i)]
        assert a.action == "explain"
        key = make_scenario(name, seed=0, n_days=120).drivers
        col = a.result["variable"]
        rule = set(key.loc[(key["target"] == col) & (key["role"] == "driver"), "driver"])
        stand_ins = set(key.loc[(key["target"] == col) & (key["role"] != "driver"), "driver"]) - rule
        assert set(a.result["true_drivers"]) == rule and stand_ins, (name, col)
