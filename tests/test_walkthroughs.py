"""The 0.x teaching walkthroughs run end to end under papermill with small parameters."""

from __future__ import annotations

import re

import nbformat
import pytest

from sclm import config
from sclm.reporting import notebook_parameters

SMOKE = {"n_days": 120}


def _run(name: str, tmp_path, **params):
    import papermill as pm

    nb = config.NOTEBOOKS_DIR / name
    known = notebook_parameters(nb)
    params = {k: v for k, v in {**SMOKE, **params}.items() if k in known}
    out = tmp_path / name
    pm.execute_notebook(
        str(nb), str(out), parameters=params, kernel_name="python3", progress_bar=False, cwd=str(nb.parent)
    )
    return nbformat.read(out, as_version=4)


def _text(nb) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            parts.append(out.get("text", "") + data.get("text/markdown", "") + data.get("text/plain", ""))
    return "\n".join(parts)


@pytest.mark.slow
def test_cleaning_and_fusion_walkthrough(tmp_path):
    nb = _run("0.1-cleaning-and-fusion.ipynb", tmp_path, p=0.2)
    text = _text(nb)
    p_hat = float(re.search(r"p̂ = \*\*([0-9.]+)\*\*", text).group(1))
    assert abs(p_hat - 0.2) < 0.02
    assert "(balanced)" in text
    assert sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", [])) >= 4
    if config.has_data():
        assert "No month deviates on its own" in text and "line items" in text


@pytest.mark.slow
def test_training_walkthrough(tmp_path):
    nb = _run(
        "0.2-training-a-forecaster.ipynb",
        tmp_path,
        horizon=7,
        input_size=28,
        epochs=2,
        compare_backbones=False,
    )
    text = _text(nb)
    assert "Training tensors unchanged after scrambling the future: **True**" in text
    assert "Reloaded model gives identical forecasts: **True**" in text
    assert re.search(r"best epoch \*\*[12]\*\*", text)
    assert "Seasonal Naive" in text and "relMASE" in text
    assert sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", [])) >= 2


@pytest.mark.slow
def test_documents_walkthrough(tmp_path):
    nb = _run("0.3-documents.ipynb", tmp_path)
    text = _text(nb)
    f1 = float(re.search(r"Micro F1 on the scenario documents: \*\*([0-9.]+)\*\*", text).group(1))
    assert 0.0 <= f1 <= 1.0
    assert "The document fills the gap with the true value: **True**" in text
    assert "[PER]" in text or "[EMAIL]" in text or "[PHONE]" in text
    html = "".join(o.get("data", {}).get("text/html", "") for c in nb.cells for o in c.get("outputs", []))
    assert "<sup" in html and "sclm-tokens" in html  # entity highlighting and token attributions


@pytest.mark.slow
def test_explainability_walkthrough(tmp_path):
    nb = _run("0.4-explainability.ipynb", tmp_path, epochs=2, n_windows=40, tagger_steps=2)
    text = _text(nb)
    errors = [float(e) for e in re.findall(r"completeness error: ([0-9.e+-]+)", text)]
    assert len(errors) == 2 and errors[0] < 1e-4  # the toy linear model is exact
    assert "refused on transformer models" in text and "DeepExplainer" in text
    html = "".join(o.get("data", {}).get("text/html", "") for c in nb.cells for o in c.get("outputs", []))
    assert html.count("sclm-tokens") >= 2
    assert sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", [])) >= 5


@pytest.mark.slow
def test_decisions_walkthrough(tmp_path):
    nb = _run("0.5-decisions.ipynb", tmp_path, epochs=1, n_origins=8, time_limit=0.5)
    text = _text(nb)
    # the network file: OptiGuide's optimum, LP against MILP, the named load errors
    assert "cost **2,470** (OptiGuide reports 2,470: the same)" in text
    assert "the LP delivers **38.7** units and the MILP **39**" in text
    assert text.count("NetworkFileError:") == 2 and "unknown key(s) ['capcity']" in text
    # edits: an infeasible what-if short by demand 1.2 x 230 - supply 75 + 50 + 100; an unknown name
    assert "Total short: **51** units = demand 276 − the suppliers' capacity 225" in text
    assert "UnknownNameError: unknown node 'roastery9'" in text
    # why-questions: the hand-checked cost of doing without, and a tie
    assert "**roastery2->cafe3** carries 130 units because the next best plan costs **+480** more" in text
    assert "**roastery2->cafe1** carries nothing" in text and "tie-break, not a necessity" in text
    # policies and routes
    assert "Every value matches the book: **True**" in text
    assert "At the common target, **" in text
    assert "every route passes the checker: True" in text
    if config.has_data():
        gap = float(re.search(r"\(gap (-?[0-9.]+)%\)", text).group(1))
        assert gap >= 0  # no feasible 5-truck solution can beat the proven optimum
        assert "CP-SAT: makespan **55**, bound 55, status **optimal**" in text
    else:
        assert "Augerat instance is skipped" in text and "hand-made shop" in text
    assert "(proven optimal)" in text
    images = sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
    assert images >= 9 + config.has_data()  # the Augerat route map needs the data folder


@pytest.mark.slow
def test_ask_and_monitor_walkthrough(tmp_path):
    nb = _run("0.6-ask-and-monitor.ipynb", tmp_path, work_dir=str(tmp_path / "work"))
    text = _text(nb)
    # instructions: paraphrases agree, refusals name the problem
    assert re.search(r"paraphrases give the Task of their group's first instruction: \*\*True\*\*", text)
    assert "unknown node 'p9' in network 'roastery'" in text and "never run" in text
    # answers: the hand-checked why (tests/test_ask.py), every number grounded, a forged one caught
    assert "p1→c2 carries **20** units in the current plan (cost 2,167)" in text and "**+20**" in text
    assert len(re.findall(r"Ungrounded numbers in (?:all|these) \*\*\d+\*\* texts: \*\*0\*\*", text)) == 2
    assert "ungrounded **['2,386']**" in text and "ungrounded **[]** (grounded, yet wrong)" in text
    assert "M from **memory**" in text and "same forecast: **True**" in text
    # the language model only proposes
    assert "numbers not in the instruction: edits.0.factor=0.4" in text
    assert "the model's text is shown" in text and "the template text is kept" in text
    # monitoring: calibrated coverage near 80 %, alerts against the key, the drift sums, the feedback loop
    cover = re.search(
        r"raw \*\*([0-9.]+)%\*\*, split conformal \*\*([0-9.]+)%\*\*, ACI \*\*([0-9.]+)%\*\*", text
    )
    assert abs(float(cover.group(2)) - 80) < 5 and abs(float(cover.group(3)) - 80) < 5
    recall = float(re.search(r"recall \*\*([0-9.]+)\*\*", text).group(1))
    assert recall >= 0.75
    assert "The recomputed alarms are the monitor's: **True**" in text
    assert re.search(r"relMASE on the week after each of [1-9] updates", text)
    assert "(config.json, model.safetensors)" in text
    assert sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", [])) >= 5
