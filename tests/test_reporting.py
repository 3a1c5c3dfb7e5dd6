"""The report pipeline: metrics, parameters, papermill execution and byte-stable HTML export."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from sclm import cli, config, reporting
from sclm.reporting import Report

SMOKE = config.PARAMS_DIR / "smoke.yaml"


def test_report_records_metrics_as_plain_sorted_json(tmp_path):
    r = Report("demo", {"seed": 1}, report_dir=tmp_path)
    r.metric("b", np.float32(0.5), "a half")
    r.metric("a", {"x": np.int64(3), "y": [np.nan, 1.0]})
    with pytest.raises(ValueError, match="metric 'a' recorded twice"):
        r.metric("a", 1)
    path = r.save()
    data = json.loads(path.read_text())
    assert data["metrics"] == {"a": {"x": 3, "y": [None, 1.0]}, "b": 0.5}
    assert data["descriptions"] == {"b": "a half"}
    assert list(data) == sorted(data)


def test_report_dir_defaults_to_env_then_build_lab(tmp_path, monkeypatch):
    monkeypatch.delenv(reporting.REPORT_DIR_ENV, raising=False)
    assert Report("x").report_dir == config.BUILD_DIR / "lab" / "x"
    monkeypatch.setenv(reporting.REPORT_DIR_ENV, str(tmp_path))
    assert Report("x").report_dir == tmp_path


def test_figures_are_saved_without_timestamps(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    r = Report("demo", report_dir=tmp_path)
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    a = r.figure(fig, "line").read_bytes()
    b = r.figure(fig, "line").read_bytes()
    plt.close(fig)
    assert a == b and a[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"Software" not in a and b"Creation" not in a
    with pytest.raises(ValueError, match="figure name"):
        r.figure(fig, "../escape")


def test_params_and_notebook_parameters_agree():
    nb = config.notebook_path("retail")
    known = reporting.notebook_parameters(nb)
    for case in config.CASES:
        params = reporting.load_params(config.PARAMS_DIR / f"{case}.yaml")
        assert set(params) <= set(known), case
    assert set(reporting.load_params(SMOKE)) <= set(known)


def _notebook(path, *sources, tags=("parameters",)):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    nb.cells = [nbformat.v4.new_code_cell(src, metadata={"tags": list(tags)}) for src in sources]
    nb.cells.append(nbformat.v4.new_markdown_cell("# done"))
    nbformat.write(nb, path)
    return path


def test_notebook_parameters_are_read_by_papermill_and_must_be_literals(tmp_path):
    cell = (
        'case = "retail"  # which case\n'
        "seed = 3\n"
        "\n"
        "# a comment line\n"
        "p = 0.25  # miss rate\n"
        'opts = {"noise": {"erp": 0.05}, "n": [1, 2]}\n'
        "flag = None\n"
    )
    params = reporting.notebook_parameters(_notebook(tmp_path / "ok.ipynb", cell))
    assert params == {
        "case": "retail",
        "seed": 3,
        "p": 0.25,
        "opts": {"noise": {"erp": 0.05}, "n": [1, 2]},
        "flag": None,
    }
    assert list(params) == ["case", "seed", "p", "opts", "flag"]
    with pytest.raises(ValueError, match=r"parameter 'n' in .* is not a literal"):
        reporting.notebook_parameters(_notebook(tmp_path / "expr.ipynb", "n = len([1, 2])\n"))
    with pytest.raises(
        ValueError, match=r"papermill cannot read the parameters cell .* line 1 'n = 3  # n = 3'"
    ):
        reporting.notebook_parameters(_notebook(tmp_path / "eq.ipynb", "n = 3  # n = 3\nm = 1\n"))
    with pytest.raises(ValueError, match=r"exactly one cell tagged 'parameters', found 2"):
        reporting.notebook_parameters(_notebook(tmp_path / "two.ipynb", "a = 1\n", "b = 2\n"))
    with pytest.raises(ValueError, match=r"exactly one cell tagged 'parameters', found 0"):
        reporting.notebook_parameters(_notebook(tmp_path / "none.ipynb", "a = 1\n", tags=()))


def test_scenario_name_source_reaches_metrics_and_manifest(tmp_path):
    import sclm
    from sclm.scenarios import documents as gen

    sc = sclm.make_scenario("logistics", seed=2, n_days=40, n_documents=5)
    r = Report("demo", {"seed": 2}, report_dir=tmp_path)
    assert r.scenario(sc) is sc
    with pytest.raises(
        ValueError, match=r"needs a Scenario whose meta has \['name', 'seed', 'document_names'\]"
    ):
        r.scenario(object())
    r.save()
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    builtin = gen.scenario_pools("builtin").fingerprint()
    entry = {"name": "logistics", "seed": 2, "document_names": {"option": "builtin", **builtin}}
    assert metrics["scenarios"] == [{**entry, "params": sc.meta["params"]}]
    assert f"document names `builtin` sha256 `{builtin['sha256'][:16]}" in r.provenance_markdown()
    executed = _notebook(tmp_path / "executed.ipynb", "x = 1\n", tags=())
    reporting.export("demo", executed, tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["scenarios"] == metrics["scenarios"]
    assert manifest["outputs"]["metrics.json"] == reporting.sha256_file(tmp_path / "metrics.json")
    # without a recorded scenario, metrics.json and the manifest keep their former keys
    plain = Report("demo", {"seed": 2}, report_dir=tmp_path / "plain")
    plain.save()
    assert "scenarios" not in json.loads((tmp_path / "plain" / "metrics.json").read_text())


def test_timing_is_a_sidecar_named_by_the_provenance_and_not_hashed(tmp_path):
    import nbformat

    out = tmp_path / "demo"
    r = Report("demo", {"seed": 0}, report_dir=out)
    sum(i * i for i in range(200_000))  # some CPU time
    r.save()
    timing = json.loads((out / reporting.TIMING_FILE).read_text())
    assert timing["case"] == "demo" and timing["wall_s"] >= 0 and timing["cpu_s"] >= 0
    assert "`timing.json`" in r.provenance_markdown()
    nb = nbformat.v4.new_notebook()
    nb.metadata["papermill"] = {"duration": 12.34}
    cells = [
        nbformat.v4.new_code_cell("a = 1", metadata={"papermill": {"duration": 1.0}}),
        nbformat.v4.new_markdown_cell("## Forecasting q, k, d\n\ntext"),
        nbformat.v4.new_code_cell("b = 2", metadata={"papermill": {"duration": 2.5}}),
        nbformat.v4.new_markdown_cell("### a subsection stays in its section"),
        nbformat.v4.new_code_cell("c = 3", metadata={"papermill": {"duration": 0.25}}),
        nbformat.v4.new_markdown_cell("## Monitoring"),
        nbformat.v4.new_code_cell("d = 4", metadata={"papermill": {"duration": 4.0}}),
    ]
    nb.cells = cells
    executed = out / "executed.ipynb"
    nbformat.write(nb, executed)
    assert reporting.section_times(executed) == {"setup": 1.0, "Forecasting q, k, d": 2.8, "Monitoring": 4.0}
    reporting.export("demo", executed, out)
    timing = json.loads((out / reporting.TIMING_FILE).read_text())
    assert timing["papermill_wall_s"] == 12.3 and timing["sections_wall_s"]["Monitoring"] == 4.0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["timing"] == "timing.json" and "timing.json" not in manifest["outputs"]
    table = reporting.timings_table(["demo", "missing"], tmp_path).splitlines()
    assert table[1].startswith("demo") and "12.3" in table[1] and "Monitoring 4" in table[1]
    assert "no timing.json" in table[2]


def test_shared_cache_builds_once_and_hits_after(tmp_path):
    fields = {"n": 3, "lr": 1e-3}
    with reporting.shared_cache("thing", fields, root=tmp_path) as (folder, hit):
        assert not hit and not any(folder.iterdir())
        (folder / "w.txt").write_text("built")
    with reporting.shared_cache("thing", dict(reversed(fields.items())), root=tmp_path) as (again, hit):
        assert hit and again == folder and (again / "w.txt").read_text() == "built"
    with reporting.shared_cache("thing", {**fields, "n": 4}, root=tmp_path) as (other, hit):
        assert not hit and other != folder
    # a block that fails leaves no complete entry: the next call builds again
    with pytest.raises(RuntimeError), reporting.shared_cache("bad", fields, root=tmp_path) as (f, hit):
        (f / "half.txt").write_text("x")
        raise RuntimeError("training failed")
    with reporting.shared_cache("bad", fields, root=tmp_path) as (f, hit):
        assert not hit and not (f / "half.txt").exists()
    # only the most recent entries of a kind are kept
    for n in range(5):
        with reporting.shared_cache("many", {"n": n}, root=tmp_path, keep=2) as (_, hit):
            assert not hit
    assert len([p for p in (tmp_path / "many").iterdir() if p.is_dir()]) == 2


def test_shared_cache_makes_a_second_kernel_wait_for_the_first(tmp_path):
    import threading
    import time

    order: list[str] = []

    def worker(name: str, delay: float) -> None:
        time.sleep(delay)
        with reporting.shared_cache("tagger", {"k": 1}, root=tmp_path) as (folder, hit):
            order.append(f"{name}:{'hit' if hit else 'build'}")
            if not hit:
                time.sleep(0.3)
                (folder / "model").write_text(name)

    threads = [
        threading.Thread(target=worker, args=("a", 0.0)),
        threading.Thread(target=worker, args=("b", 0.05)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert order == ["a:build", "b:hit"]


def test_case_study_start_fixes_torch_threads():
    import torch

    from sclm import case_study

    n = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        report = case_study.start({"case": "demo", "seed": 0})
        assert torch.get_num_threads() == case_study.TORCH_THREADS == 1
        assert report.case == "demo"
    finally:
        torch.set_num_threads(n)


def test_unknown_parameter_is_refused_before_running(tmp_path):
    with pytest.raises(
        ValueError, match=r"unknown parameter\(s\) \['epochz'\] for notebook 'notebooks/4.3-retail.ipynb'"
    ):
        reporting.execute("retail", SMOKE, {"epochz": 3}, output=tmp_path / "x.ipynb", report_dir=tmp_path)
    with pytest.raises(FileNotFoundError, match="parameters file .*nope.yaml' does not exist"):
        reporting.load_params(tmp_path / "nope.yaml")


def test_cli_lists_cases_and_rejects_unknown(capsys):
    assert cli.main(["cases"]) == 0
    out = capsys.readouterr().out
    assert all(case in out for case in config.CASES)
    with pytest.raises(SystemExit):
        cli.main(["report", "bakery"])
    assert "unknown case 'bakery'" in capsys.readouterr().err


def _render(case, out_dir):
    return reporting.render(case, SMOKE, report_dir=out_dir, executed=out_dir / "executed.ipynb")


@pytest.mark.slow
@pytest.mark.parametrize("case", list(config.CASES))
def test_case_study_renders_with_smoke_parameters(case, tmp_path):
    html = _render(case, tmp_path)
    text = html.read_text()
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    # the report is the outputs, not the code
    assert "make_scenario(" not in text and "report.metric(" not in text
    assert len(re.findall(r'<img [^>]*src="data:image/png;base64,', text)) >= 3
    assert "Raw sources" in text and "answer key" in text
    # the numbers are computed and consistent with the parameters
    m = metrics["metrics"]
    assert metrics["params"]["n_days"] == 120 and m["n_days"] == 120
    assert m["balance_max_abs_error"] < 1e-6
    assert abs(m["iot_ratio_to_truth"] - 0.9) < 0.03
    assert m["n_readings"] > 1000 and m["faults_by_kind"]["outlier"] > 0
    # forecasting: M and the baselines scored on the same cells; seasonal naive is the yardstick
    scores = m["forecast_scores"]
    assert set(scores) == {"M", "Seasonal Naive", "AutoETS", "AutoTheta", "LightGBM"}
    assert scores["Seasonal Naive"]["relMASE"] == 1.0
    assert len({s["series"] for s in scores.values()}) == 1
    assert all(0.0 <= s["cov80"] <= 1.0 for s in scores.values())
    # explanations: every check reported with a verdict; IG is complete
    assert set(m["explain_checks_pass"]) == {
        "completeness",
        "agreement",
        "randomization",
        "deletion",
        "drivers",
    }
    assert m["explain_checks"]["completeness"] <= 0.01 and m["explain_checks_pass"]["completeness"]
    # ... and tomorrow's forecast scored against the answer key, the key beside the heatmap
    assert set(m["explain_key_pass"]) == {"completeness", "agreement", "randomization", "deletion", "drivers"}
    assert (
        0.0 <= m["explain_key_checks"]["drivers"] <= 1.0 and "figures/explain_key.png" in manifest["outputs"]
    )
    # robustness to the IoT miss rate: M and LightGBM at every p of the grid, slopes and the ratio
    rob = m["robustness_relmase"]
    assert set(rob) == {"M", "LightGBM"} and all(set(v) == {"0", "0.3"} for v in rob.values())
    assert all(0.0 < x < 5.0 for v in rob.values() for x in v.values())
    assert m["robustness_slopes"]["M"] == pytest.approx((rob["M"]["0.3"] - rob["M"]["0"]) / 0.3, abs=1e-3)
    assert m["robustness_max_ratio"] == pytest.approx(rob["M"]["0.3"] / rob["M"]["0"], abs=1e-3)
    # documents: the smoke tagger (a tiny BERT, seconds of training) reads part of them
    assert m["documents_f1_scenario"] > 0.3
    assert 0.0 < m["documents_read_exactly"] <= 1.0
    # nothing machine-specific; every output is hashed in the manifest
    for blob in (text, json.dumps(manifest)):
        assert str(tmp_path) not in blob and str(config.PROJECT_ROOT) not in blob
    assert set(manifest["outputs"]) >= {"index.html", "metrics.json", "figures/truth_qkd.png"}
    assert manifest["stderr_outputs_dropped"] == 0
    assert manifest["provenance"]["inputs"] == {"params/smoke.yaml": reporting.sha256_file(SMOKE)}
    # decisions from M's forecast: each case's plans are consistent and behave as the theory says
    _check_decisions(case, m, metrics["params"], manifest)
    # Ask sclm and monitoring: grounded answers to two zh and two en instructions; calibrated coverage
    _check_ask_and_monitor(case, m, metrics["params"], text)


def _check_decisions(case, m, params, manifest):
    outputs = set(manifest["outputs"])
    if case == "manufacturing":
        cost, parts = m["decision_network_cost"], m["decision_network_cost_parts"]
        assert m["decision_network_status"] == "optimal" and cost > 0
        assert set(parts) == {"supply", "processing", "handling", "transport", "fixed"}
        assert sum(parts.values()) == pytest.approx(cost, abs=0.05)
        assert 0 < m["decision_network_used_arcs"] and all(
            0.0 <= u <= 1.0 + 1e-9 for u in m["decision_network_utilisation"].values()
        )
        # min cost is convex in the demand and 0 at 0 (no fixed costs): 20 % more costs >= 20 % more
        assert m["decision_network_whatif_delta"] >= 0.2 * cost - 0.05
        for label, w in m["decision_network_whatifs"].items():  # less capacity never costs less
            assert w["status"] != "optimal" or w["delta"] >= -1e-6, label
        assert m["decision_production_status"] == "optimal"
        assert sum(m["decision_production_cost_parts"].values()) == pytest.approx(
            m["decision_production_cost"], abs=0.05
        )
        assert all(0.0 <= f <= 1.0 for f in m["decision_production_fill_rate"].values())
        assert all(u <= 1.0 + 1e-9 for u in m["decision_production_max_utilisation"].values())
        assert m["decision_production_whatif_delta"] > 0
        assert m["decision_schedule_optimal"] and m["decision_schedule_makespan"] > 0
        assert m["decision_schedule_jobs"] == 2 * len(m["decision_production_fill_rate"])
        assert {"figures/decision_production.png", "figures/decision_gantt.png"} <= outputs
    elif case == "logistics":
        sites = m["decision_routes_per_site"]
        assert m["decision_routes_feasible"]
        last = np.datetime64(m["last_day"])
        assert np.datetime64(m["decision_routes_day"]) == last - np.timedelta64(params["horizon"] - 1, "D")
        assert m["decision_routes_units"] == sum(s["units"] for s in sites.values()) > 0
        assert m["decision_routes_vehicles"] == sum(s["vehicles"] for s in sites.values())
        assert m["decision_routes_distance"] == pytest.approx(
            sum(s["distance_km"] for s in sites.values()), abs=0.05 * len(sites) + 0.05
        )
        assert all(s["vehicles"] >= 1 for s in sites.values() if s["units"] > 0)
        assert 0.0 < m["decision_routes_load_share"] <= 1.0
        assert m["decision_routes_whatif_delta"]["vehicles"] >= 0
        assert m["decision_routes_truth"]["vehicles"] >= 1
        assert "figures/decision_routes.png" in outputs
    else:
        assert m["decision_inventory_review_days"] == params["horizon"] * (params["n_origins"] - 1) + 1
        costs = m["decision_inventory_costs"]
        assert set(costs) == {"M", "Seasonal Naive", "LightGBM"} == set(m["decision_inventory_whatif_delta"])
        for label, c in costs.items():
            assert c["total"] == pytest.approx(c["holding"] + c["shortage"], abs=1e-3), label
            assert 0.0 <= c["fill_rate"] <= 1.0 and 0.0 <= c["csl"] <= 1.0, label
            # the cheapest grid level reaching 95 % fill is never dearer than 95 % service when that reaches it
            at = m["decision_inventory_at_fill"][label]
            if c["fill_rate"] >= 0.95:
                assert at["service"] is not None and at["total"] <= c["total"] + 1e-6, label
            surged = c["fill_rate"] + m["decision_inventory_whatif_delta"][label]["fill_rate"]
            assert 0.0 <= surged <= 1.0, label
        # a 95 % service level lies above the mean of the (normal) lead-time demand
        for store, levels in m["decision_inventory_policy"].items():
            assert levels["M"] >= m["decision_inventory_lead_time_demand"][store], store
            assert all(s >= 0 for s in levels.values()), store
        assert "figures/decision_inventory.png" in outputs


ASK_ACTIONS = {
    "manufacturing": ["plan_network", "plan_production", "forecast", "plan_network"],
    "logistics": ["plan_routes", "forecast", "forecast", "plan_routes"],
    "retail": ["forecast", "plan_inventory", "forecast", "plan_inventory"],
}


def _check_ask_and_monitor(case, m, params, text):
    assert "Ask sclm" in text and "Monitoring" in text
    tasks = m["ask_tasks"]
    assert [t["action"] for t in tasks] == m["ask_actions"] == ASK_ACTIONS[case]
    assert [t["language"] for t in tasks] == ["zh", "zh", "en", "en"]
    assert m["ask_ungrounded_numbers"] == 0
    # each recommendation is a quoted block of escaped paragraphs, not a console dump
    assert text.count('<blockquote class="sclm-recommendation">') == len(tasks)
    if case == "manufacturing":  # 需求增加20% is a global what-if on demand, not an edit
        assert tasks[0]["what_if"] == {"demand": 1.2} and tasks[0]["edits"] == []
        assert tasks[3]["what_if"] == {"capacity": 0.8}
    elif case == "logistics":  # the zh and en forecast questions are the same Task
        assert {k: v for k, v in tasks[1].items() if k != "language"} == {
            k: v for k, v in tasks[2].items() if k != "language"
        }
        assert tasks[1]["targets"] == ["delivery"] and tasks[1]["horizon"] == 7
    else:  # 销售 is read as demand, 库存 as inventory; the inputs follow 基于
        assert tasks[0]["targets"] == ["demand"] and set(tasks[0]["inputs"]) == {"demand", "inventory"}
    for key in ("monitor_cov80_raw", "monitor_cov80_calibrated"):
        assert 0.0 <= m[key] <= 1.0, key
    assert isinstance(m["monitor_alerts"], int) and m["monitor_alerts"] >= 0
    # alerts are actuals of the last origin: at most one per series and forecast day
    assert m["monitor_alerts"] <= m["forecast_scores"]["M"]["series"] * params["horizon"]


@pytest.mark.slow
def test_same_parameters_give_byte_identical_reports(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    _render("logistics", a)
    _render("logistics", b)
    for name in ("index.html", "metrics.json", "manifest.json", "figures/raw_q.png"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), (
            f"{name} differs between two identical runs"
        )


def test_ask_tables_show_counts_as_integers_and_keep_decimals_of_the_rest():
    from sclm._case_study_text import _number_text

    assert _number_text(7.0) == "7"
    assert _number_text(33817.0) == "33,817"
    assert _number_text(17405.66) == "17,405.66"
    assert _number_text(0.15336) == "0.1534"
    assert _number_text(-6045.424) == "-6,045.42"
