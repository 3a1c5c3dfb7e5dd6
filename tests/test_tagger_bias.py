"""An ``O``-tag bias before BIO decoding (:mod:`sclm.models._decoding`) and its choice on validation
data: hand-made log-probabilities whose right answer is known, and the bench's wiring (--quick)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from sclm import config
from sclm.models._decoding import O_BIAS_GRID, choose_o_bias, decode_tags, mean_transitions, o_bias_logits
from sclm.models.tagger import bio_viterbi

LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]


def _row(o: float, b_per: float, rest: float = -6.0) -> list[float]:
    """One word's log-probabilities (unnormalised is fine): O, B-PER, then the rest low."""
    return [o, b_per, rest, rest, rest]


def test_grid_is_minus_3_to_1_step_quarter():
    assert O_BIAS_GRID[0] == -3.0 and O_BIAS_GRID[-1] == 1.0 and len(O_BIAS_GRID) == 17
    assert np.allclose(np.diff(O_BIAS_GRID), 0.25) and 0.0 in O_BIAS_GRID


def test_bias_zero_equals_plain_decoding():
    rng = np.random.default_rng(0)
    logits = [rng.normal(size=(n, len(LABELS))).astype(np.float32) * 3 for n in (1, 4, 9, 0)]
    logits[1][2] = 0.0  # a cut-off word
    plain = decode_tags(logits, LABELS)
    assert decode_tags(o_bias_logits(logits, LABELS, 0.0), LABELS) == plain
    assert plain[:3] == [[LABELS[i] for i in bio_viterbi(lg, LABELS)] for lg in logits[:2]] + [plain[2]]
    assert plain[1][2] == "O" and plain[3] == []
    # argmax too
    assert decode_tags(o_bias_logits(logits, LABELS, 0.0), LABELS, constrained=False) == decode_tags(
        logits, LABELS, constrained=False
    )


def test_bias_shifts_only_the_o_column_of_log_probabilities():
    lg = [np.array([[2.0, 1.0, -1.0, 0.0, 0.5], [0.0, 0.0, 0.0, 0.0, 0.0]], np.float32)]
    out = o_bias_logits(lg, LABELS, -1.5)[0]
    z = lg[0][0] - np.log(np.exp(lg[0][0]).sum())
    assert np.allclose(out[0, 1:], z[1:]) and np.isclose(out[0, 0], z[0] - 1.5)
    assert not out[1].any()  # cut-off word stays all zero → still "O"
    assert decode_tags(o_bias_logits(lg, LABELS, -10.0), LABELS)[0][1] == "O"


def test_large_negative_bias_turns_an_o_word_with_runner_up_b_into_an_entity():
    lg = [np.array([_row(0.0, -6.0), _row(2.0, 1.0), _row(0.0, -6.0)])]
    assert decode_tags(lg, LABELS) == [["O", "O", "O"]]
    assert decode_tags(o_bias_logits(lg, LABELS, -0.5), LABELS) == [["O", "O", "O"]]  # margin is 1
    assert decode_tags(o_bias_logits(lg, LABELS, -2.0), LABELS) == [["O", "B-PER", "O"]]
    # a positive bias never creates entities
    assert decode_tags(o_bias_logits(lg, LABELS, 1.0), LABELS) == [["O", "O", "O"]]


def _dev_example():
    """Sentence 1: a person whose O margin over B-PER is 0.6 (found once b < -0.6); sentence 2: an
    O word whose margin is 1.6 (a false person once b < -1.6); sentence 3: a sure person.  F1 is 1
    exactly for -1.6 < b < -0.6, lower outside."""
    logits = [
        np.array([_row(0.0, -6.0), _row(0.6, 0.0)]),
        np.array([_row(1.6, 0.0), _row(0.0, -6.0)]),
        np.array([_row(-6.0, 0.0)]),
    ]
    gold = [["O", "B-PER"], ["O", "O"], ["B-PER"]]
    return logits, gold


def test_dev_search_returns_the_grid_point_of_max_f1():
    logits, gold = _dev_example()
    b, table = choose_o_bias(logits, gold, LABELS, grid=(-2.0, -1.0, 0.0, 1.0))
    assert b == -1.0
    assert list(table.columns) == ["bias", "precision", "recall", "f1"]
    assert table["bias"].tolist() == [-2.0, -1.0, 0.0, 1.0]
    f1 = table.set_index("bias")["f1"]
    assert f1[-1.0] == 1.0 and f1[0.0] < 1.0 and f1[-2.0] < 1.0
    assert table.set_index("bias").loc[0.0, "recall"] == 0.5  # one of two persons at b = 0
    assert table.set_index("bias").loc[-2.0, "precision"] == pytest.approx(2 / 3)


def _zero_transitions():
    """BIO-valid transitions all 0, the invalid ones -inf (an untrained CRF)."""
    from sclm.models._tagger_data import LinearChainCRF

    return LinearChainCRF(LABELS).as_transitions()


def test_dev_search_decodes_with_given_transitions():
    """A learned CRF that scores entering B-PER 1 lower moves every margin of _dev_example by 1,
    so the chosen bias moves from -1 to -2 (F1 1 exactly for -2.6 < b < -1.6)."""
    logits, gold = _dev_example()
    start, trans = _zero_transitions()
    assert (
        choose_o_bias(logits, gold, LABELS, grid=(-3.0, -2.0, -1.0, 0.0), transitions=(start, trans))[0]
        == -1.0
    )
    b_per = LABELS.index("B-PER")
    start[b_per] -= 1.0
    trans[:, b_per] -= 1.0
    b, table = choose_o_bias(logits, gold, LABELS, grid=(-3.0, -2.0, -1.0, 0.0), transitions=(start, trans))
    f1 = table.set_index("bias")["f1"]
    assert b == -2.0 and f1[-2.0] == 1.0 and f1[-1.0] < 1.0 and f1[-3.0] < 1.0


def test_mean_transitions_averages_the_possible_and_keeps_the_impossible():
    s0, t0 = _zero_transitions()
    s1, t1 = s0.copy(), t0.copy()
    ok = np.isfinite(t0)
    t1[ok] = 2.0
    s1[np.isfinite(s0)] = -4.0
    start, trans = mean_transitions([(s0, t0), (s1, t1)])
    assert (trans[ok] == 1.0).all() and np.isneginf(trans[~ok]).all() and (~ok).any()
    assert (start[np.isfinite(s0)] == -2.0).all() and np.isneginf(start[np.isneginf(s0)]).all()
    bad = t1.copy()
    bad[~ok] = 0.0
    with pytest.raises(ValueError, match="disagree"):
        mean_transitions([(s0, t0), (s1, bad)])
    with pytest.raises(ValueError, match="shape"):
        mean_transitions([(s0, t0), (s1[:2], t1)])
    with pytest.raises(ValueError, match="no transitions"):
        mean_transitions([])


def test_ties_go_to_the_bias_nearest_zero():
    logits, gold = _dev_example()
    # -1.5, -1.25, -1.0, -0.75 all reach F1 1 on the default grid: the nearest to 0 wins
    b, table = choose_o_bias(logits, gold, LABELS)
    assert b == -0.75 and len(table) == len(O_BIAS_GRID)
    # every bias equally good (no O word near an entity): 0 itself, else the nearest, then the smaller
    sure = [np.array([_row(-6.0, 0.0), _row(0.0, -6.0)])]
    assert choose_o_bias(sure, [["B-PER", "O"]], LABELS, grid=(-1.0, 0.0, 0.5))[0] == 0.0
    assert choose_o_bias(sure, [["B-PER", "O"]], LABELS, grid=(-1.0, 0.5, 1.0))[0] == 0.5
    assert choose_o_bias(sure, [["B-PER", "O"]], LABELS, grid=(0.25, -0.25))[0] == -0.25
    with pytest.raises(ValueError):
        choose_o_bias(sure, [["B-PER", "O"]], LABELS, grid=())


@pytest.mark.slow
@pytest.mark.skipif(not config.has_data(), reason="WNUT-17 data not available")
@pytest.mark.parametrize("crf", [False, True], ids=["plain", "crf"])
def test_bench_o_bias_dev_and_logits_cache(tmp_path, crf):
    """--wnut-o-bias dev chooses a grid bias on dev; a second run from the saved logits
    (--wnut-logits-from) trains nothing and reproduces every F1 row.  With --wnut-crf the learned
    transitions are saved and loaded beside the logits and every CRF decoding reproduces too."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    base = [
        sys.executable,
        "bench/tagger.py",
        "--quick",
        "--skip-docs",
        "--threads",
        "1",
        "--wnut-seeds",
        "0,1",
    ]
    base += ["--wnut-o-bias", "dev"]
    base += ["--wnut-crf"] if crf else []
    runs = []
    for extra in (["--wnut-logits-dir", str(tmp_path / "lg")], ["--wnut-logits-from", str(tmp_path / "lg")]):
        out = tmp_path / f"out{len(runs)}"
        res = subprocess.run(base + extra + ["--out-dir", str(out)], cwd=config.PROJECT_ROOT, capture_output=True,
                             text=True, timeout=600, env=env)  # fmt: skip
        assert res.returncode == 0, res.stderr[-3000:]
        runs.append((json.loads((out / "tagger.json").read_text()), res.stdout))
    (first, out0), (second, out1) = runs
    b = first["WNUT-17 O bias chosen on dev"]["value"]
    assert b in O_BIAS_GRID and "WNUT-17 dev curve" in out0
    head = first["WNUT-17 test entity F1, BIO + O-bias chosen on dev (%)"]
    assert head["goal"] == ">= 50" and 0.0 <= head["value"] <= 100.0
    assert (f"WNUT-17 member seed 1 test entity F1, BIO + O bias {b:g} (%)" in first) is not crf
    assert "WNUT-17 O-bias model (train only) training CPU seconds" in first
    assert "WNUT-17 O-bias model (train only) training CPU seconds" not in second
    assert "WNUT-17 member seed 0 training CPU seconds" not in second and "logits loaded" in out1
    crf_rows = [k for k in first if "learned CRF" in k]
    if crf:
        assert f"WNUT-17 member seed 1 test entity F1, BIO + learned CRF + O bias {b:g} (%)" in first
        assert "WNUT-17 test entity F1, BIO + learned CRF transitions (%)" in first
        assert "learned CRF transitions (mean of the members')" in head["note"]
        assert list((tmp_path / "lg").glob("*_crf.npz"))
    else:
        assert not crf_rows and "CRF" not in head["note"]
    f1_rows = [k for k in first if "F1" in k or "O bias chosen" in k]
    assert len(f1_rows) > 10
    assert {k: first[k]["value"] for k in f1_rows} == {k: second[k]["value"] for k in f1_rows}
