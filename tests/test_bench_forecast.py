"""bench/forecast.py runs end to end at its smallest settings (YAZ, one epoch, a 1-layer MiniLM)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from sclm import config

BASELINE_ROWS = ("Seasonal Naive", "AutoETS", "AutoTheta", "LightGBM")
MIX = "M (row ensemble)"  # the M of the goals (bench/_forecast/rows.py GOAL_MODEL)


@pytest.mark.slow
def test_bench_forecast_smoke(tmp_path):
    res = subprocess.run(
        [
            sys.executable,
            "bench/forecast.py",
            "--quick",
            "--datasets",
            "yaz",
            "--m-variants",
            "q,q-static,m,m-mix",
            "--ensemble",
            "2",
            "--hybrids",
            "m-lgbm,m-all",
            "--conformal",
            "--counts",
            "--save-forecasts",
            "--epochs",
            "1",
            "--tag",
            "smoke",
            "--device",
            "cpu",
            "--out-dir",
            str(tmp_path),
        ],
        cwd=config.PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    data = json.loads((tmp_path / "forecast_quick_smoke.json").read_text())
    rows = BASELINE_ROWS + ("Fracast (zero-shot)", "M (quantile)", "M (quantile, static)", "M", MIX)
    rel = {m: data[f"yaz: {m}: relMASE"]["value"] for m in rows}
    assert rel["Seasonal Naive"] == 1.0  # the reference: every ratio is 1
    # the same 7 series for every model (YAZ has no zero-scale series), each scored on its q0.5
    assert all(data[f"yaz: {m}: relMASE"]["note"].startswith("7 series, 0 excluded") for m in rel)
    assert all(data[f"yaz: {m}: relMASE"]["note"].endswith("point: q0.5") for m in rows[1:])
    for model in rows[1:]:  # the mean output is reported too, and every row's coverage
        assert f"yaz: {model}: relMASE of mean" in data
        assert 0 <= data[f"yaz: {model}: cov80"]["value"] <= 1
    # the goal is the row ensemble's, over every baseline, AutoTheta included (Fracast is
    # reported beside it); the validation selection's ratio is context
    goal = data[f"yaz: {MIX}: relMASE / best baseline's"]
    base = {b: rel[b] for b in BASELINE_ROWS}  # every baseline, as is and (--counts) rounded
    base |= {f"{b} (counts)": data[f"yaz: {b} (counts): relMASE"]["value"] for b in BASELINE_ROWS[1:]}
    best = min(base, key=base.get)
    assert goal["goal"] == "<= 1" and goal["note"].endswith(": " + best)
    assert goal["value"] == pytest.approx(rel[MIX] / base[best], rel=1e-3)
    assert goal["holds"] is (goal["value"] <= 1)
    assert data[f"yaz: {MIX}: relMASE / Fracast (zero-shot)'s"]["value"] == pytest.approx(
        rel[MIX] / rel["Fracast (zero-shot)"], rel=1e-3
    )
    context = data["yaz: M: relMASE / best baseline's"]
    assert context["goal"] is None and context["value"] == pytest.approx(rel["M"] / base[best], rel=1e-3)
    assert data[f"yaz: {MIX}: relMASE"]["goal"] == "<= 0.70" and data["yaz: M: relMASE"]["goal"] is None
    # YAZ has 4 origins: every row retrained at each; M takes the candidate row of lower
    # validation MASE (recorded) and trains a second seed (its first is the candidate's own member)
    assert res.stdout.count("M (quantile): trained") == 4 and res.stdout.count("M: trained") == 4
    assert res.stdout.count("2 member(s)") == 8  # M's, and the row ensemble's two rows
    picks = [v for k, v in data.items() if "validation MASE of the row chosen" in k]
    cands = ("M (quantile); candidates", "M (quantile, static); candidates")
    assert len(picks) == 4 and all(p["note"].startswith(cands) for p in picks)
    assert all(0 < p["value"] < 5 for p in picks)
    # the hybrid rows: the cell-by-cell mean of their members' saved forecasts, scored like every
    # row, with their ratio to the best baseline as context (no goal)
    saved = pd.read_csv(tmp_path / "forecast_quick_smoke_yaz_forecasts.csv")
    wide = saved.pivot_table(index=["unique_id", "origin", "ds"], columns="row", values="q0.5")
    # the row ensemble: the median, quantile by quantile, of the two rows' saved forecasts (each
    # one seed-0 member), cell by cell; --counts (YAZ sells whole dishes) rounds it to whole
    # numbers, half up, and keeps it as it was in the unrounded row; each baseline but the
    # reference has a rounded twin, and the goal's best baseline is taken over both forms
    for q in ("q0.1", "q0.5", "q0.9"):
        cell = saved.pivot_table(index=["unique_id", "origin", "ds"], columns="row", values=q)
        median = cell[["M (quantile)", "M (quantile, static)"]].median(axis=1)
        np.testing.assert_allclose(cell["M (row ensemble, unrounded)"], median, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(cell[MIX], np.floor(median + 0.5), atol=1e-6)
        for b in BASELINE_ROWS[1:]:
            np.testing.assert_allclose(cell[f"{b} (counts)"], np.floor(cell[b] + 0.5), atol=1e-9)
    assert "Seasonal Naive (counts)" not in set(saved["row"])
    assert res.stdout.count(f"{MIX}: combined (M (quantile), M (quantile, static))") == 4
    for label, members in (
        ("M (hybrid: M, LightGBM)", ["M", "LightGBM"]),
        ("M (hybrid: M, AutoETS, AutoTheta, LightGBM)", ["M", "AutoETS", "AutoTheta", "LightGBM"]),
    ):
        np.testing.assert_allclose(wide[label], wide[members].mean(axis=1), rtol=1e-9)
        ratio = data[f"yaz: {label}: relMASE / best baseline's"]
        assert ratio["goal"] is None and ratio["value"] == pytest.approx(
            data[f"yaz: {label}: relMASE"]["value"] / base[best], rel=1e-3
        )
        assert data[f"yaz: {label}: relMASE"]["goal"] is None
    # the conformal row: M's median, its own interval
    np.testing.assert_allclose(wide["M (conformal)"], wide["M"], rtol=1e-9)
    assert data["yaz: M (conformal): relMASE"]["value"] == pytest.approx(rel["M"], abs=1e-4)
    assert 0 <= data["yaz: M (conformal): cov80"]["value"] <= 1


def _bench_module():
    import importlib.util

    root = config.PROJECT_ROOT / "bench"
    sys.path.insert(0, str(root))  # forecast.py imports its sibling forecast_baselines
    try:
        spec = importlib.util.spec_from_file_location("bench_forecast", root / "forecast.py")
        mod = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = mod  # dataclasses look their module up
        spec.loader.exec_module(mod)
    finally:
        sys.path.remove(str(root))
    return mod


def _toy_args(**kw):
    """The bench's arguments at their smallest (one epoch, weekly windows), ``kw`` overriding."""
    import argparse

    base = dict(
        static=False, stride=7, quick=False, lm_stride=None, ensemble=1, seeds=1, epochs=1, patience=1,
        batch_size=16, lr=1e-3, device="cpu", lm_layers=1, revin=True, linear_skip=True, patch_len=7, config={},
    )  # fmt: skip
    return argparse.Namespace(**{**base, **kw})


def _toy_setup(
    bench_mod, n_days: int, origin: int, columns: dict | None = None, known_future=(), scaled=(), seed=0
):
    """Two weekly-seasonal toy series ``a`` and ``b`` of ``n_days`` (+ ``columns``, arrays of both
    series' days in order), origin day ``origin``, input 14, horizon 7, with the static features.
    Returns the setup and its days."""
    days = pd.date_range("2024-01-01", periods=n_days, freq="D")
    idx = pd.MultiIndex.from_product([["a", "b"], days], names=["node", "ts"])
    rng = np.random.default_rng(seed)
    y = np.tile(10 + 3 * np.sin(np.arange(n_days) * 2 * np.pi / 7), 2) + rng.normal(0, 1, 2 * n_days)
    panel = pd.DataFrame({"target": y, **(columns or {})}, index=idx)
    s = bench_mod.Setup(
        name="toy", panel=panel, targets=["target"], covariates=[], known_future=list(known_future),
        scaled=["target", *scaled], horizon=7, origins=[days[origin]], retrain=True, input_size=14,
    )  # fmt: skip
    bench_mod.add_static(s)
    return s, days


def test_static_features_see_only_days_up_to_the_first_origin():
    import numpy as np
    import pandas as pd

    bench = _bench_module()
    days = pd.date_range("2024-01-01", periods=40, freq="D")
    idx = pd.MultiIndex.from_product([["a", "b"], days], names=["node", "ts"])
    y = np.tile(np.r_[np.zeros(10), np.arange(1.0, 31.0)], 2)
    y[40:] *= 2  # node b: twice node a
    panel = pd.DataFrame({"target": y, "open": True}, index=idx)
    panel.loc[("a", days[5]), "open"] = False  # a closed day is not counted
    origins = [days[19], days[29]]

    def setup(p):
        return bench.Setup(
            name="toy", panel=p.copy(), targets=["target"], covariates=[], known_future=[], scaled=["target"],
            horizon=5, origins=origins, retrain=True, input_size=7, open_col="open",
        )  # fmt: skip

    s = setup(panel)
    bench.add_static(s)
    assert s.static == ["zero_share", "log_mean"] and s.known_future == []
    assert bench.task_of(s, s.static).known_future == ("zero_share", "log_mean")
    zero = s.panel["zero_share"].groupby(level="node").first()
    assert zero["a"] == pytest.approx(9 / 19) and zero["b"] == pytest.approx(10 / 20)
    assert s.panel["log_mean"].groupby(level="node").first()["b"] == pytest.approx(np.log1p(2 * 55 / 20))
    later = panel.copy()
    later.loc[later.index.get_level_values("ts") > origins[0], "target"] = 999.0  # only the test days
    t = setup(later)
    bench.add_static(t)
    pd.testing.assert_frame_equal(s.panel[["zero_share", "log_mean"]], t.panel[["zero_share", "log_mean"]])


def _toy_results(offsets: dict[str, float], median_exact: tuple[str, ...] = ()):
    """Two daily series (b = 2·a), origin day 13, forecast days 14 and 15; history of 21 days.

    a = weeks 0..6, 1..7, 2..8: every |y[t] - y[t-7]| is 1, so a's scale at day 13 is 1 (b's 2).
    Seasonal naive forecasts y[t-7] = y[t] - 1: MASE 1 on both.  A model forecasting y + c·s
    (s = 1 on a, 2 on b) has MASE c on a and on b, so its relMASE is c.
    """
    import numpy as np
    import pandas as pd

    days = pd.date_range("2024-01-01", periods=21, freq="D")
    a = np.r_[np.arange(7), np.arange(1, 8), np.arange(2, 9)].astype(float)
    history = pd.concat(
        [pd.DataFrame({"unique_id": u, "ds": days, "y": k * a}) for u, k in (("a", 1.0), ("b", 2.0))],
        ignore_index=True,
    )
    test = history[history["ds"].isin(days[14:16])].assign(origin=days[13])
    k = test["unique_id"].map({"a": 1.0, "b": 2.0}).to_numpy()
    results = {}
    for label, c in offsets.items():
        mean = test["y"].to_numpy() + c * k
        r = test.assign(mean=mean)
        for q in ("q0.1", "q0.2", "q0.3", "q0.4", "q0.5", "q0.6", "q0.7", "q0.8", "q0.9"):
            r[q] = mean
        if label in median_exact:
            r["q0.5"] = test["y"].to_numpy()
        results[label] = r
    return results, history


def test_forecast_bench_goal_is_taken_over_every_baseline():
    from sclm.benchmarking import Bench

    bench_mod = _bench_module()
    offsets = {
        "Seasonal Naive": -1.0,
        "AutoETS": 0.5,
        "AutoTheta": 2.0,
        "LightGBM": 0.25,
        "M": 0.75,
        MIX: 0.5,
    }
    results, history = _toy_results(offsets, median_exact=("AutoETS",))
    secs = {k: [0.0, None] for k in offsets}
    bench = Bench("toy")
    table = bench_mod.score("toy", results, history, secs, bench)
    f = bench.figures
    # every row is scored on its median q0.5 (the reference on its seasonal naive forecast):
    # relMASE = |c| by construction, but AutoETS's q0.5 is exact: the floor 1e-3
    for label, c in offsets.items():
        want = 1e-3 if label == "AutoETS" else abs(c)
        assert f[f"toy: {label}: relMASE"]["value"] == pytest.approx(want, abs=1e-4)
    assert f["toy: AutoETS: relMASE of mean"]["value"] == pytest.approx(0.5, abs=1e-4)
    assert table.loc["AutoETS mean", "relMASE"] == pytest.approx(0.5)
    assert f[f"toy: {MIX}: relMASE"]["note"] == "2 series, 0 excluded, 0 clipped; point: q0.5"
    # best baseline: AutoETS 1e-3; the goal model's 0.5 is far above it, so the goal fails
    goal = f[f"toy: {MIX}: relMASE / best baseline's"]
    assert goal["value"] == pytest.approx(500.0) and goal["goal"] == "<= 1" and goal["holds"] is False
    assert "AutoETS" in goal["note"]
    # the validation selection's ratio is context: its figure, no goal
    context = f["toy: M: relMASE / best baseline's"]
    assert context["value"] == pytest.approx(750.0) and context["goal"] is None and context["holds"] is None
    # without AutoTheta (and LightGBM) the goal is marked not evaluated, never passed
    sub = {k: v for k, v in results.items() if k in ("Seasonal Naive", "AutoETS", MIX)}
    bench2 = Bench("toy2")
    bench_mod.score("toy", sub, history, secs, bench2)
    goal2 = bench2.figures[f"toy: {MIX}: relMASE / best baseline's"]
    assert goal2["value"] is None and goal2["holds"] is None
    assert goal2["note"] == "not evaluated: needs every baseline; not run: AutoTheta, LightGBM"
    # without the goal model the goal is marked not evaluated too, never taken from another M row
    sub3 = {k: v for k, v in results.items() if k != MIX}
    bench3 = Bench("toy3")
    bench_mod.score("toy", sub3, history, secs, bench3)
    goal3 = bench3.figures[f"toy: {MIX}: relMASE / best baseline's"]
    assert goal3["value"] is None and goal3["holds"] is None and "not run" in goal3["note"]
    assert bench3.figures["toy: M: relMASE / best baseline's"]["goal"] is None
    assert bench_mod.BASELINES["AutoTheta"] == "auto_theta"
    from _forecast.rows import GOALS  # bench/_forecast/rows.py (bench/ is on sys.path)

    assert GOALS == {"pasta": "<= 0.62", "yaz": "<= 0.70"}


def test_counts_twins_of_the_baselines_enter_the_best_baseline_of_the_goal():
    """--counts: a baseline's rounded twin that beats every as-is baseline is the one M is
    compared with; the unrounded M is reported beside M with its own ratio, no goal."""
    from sclm.benchmarking import Bench

    bench_mod = _bench_module()
    offsets = {
        "Seasonal Naive": -1.0,
        "AutoETS": 0.5,
        "AutoTheta": 2.0,
        "LightGBM": 0.4,
        "LightGBM (counts)": 0.25,
        "AutoETS (counts)": 0.5,
        MIX: 0.3,
        "M (row ensemble, unrounded)": 0.35,
    }
    results, history = _toy_results(offsets)
    bench = Bench("toy")
    bench_mod.score("toy", results, history, {k: [0.0, None] for k in offsets}, bench)
    goal = bench.figures[f"toy: {MIX}: relMASE / best baseline's"]
    assert goal["note"] == "best of the 4 baselines (as is and rounded): LightGBM (counts)"
    assert goal["value"] == pytest.approx(0.3 / 0.25) and goal["holds"] is False  # 0.3 < 0.4 not enough
    raw = bench.figures["toy: M (row ensemble, unrounded): relMASE / best baseline's"]
    assert raw["goal"] is None and raw["value"] == pytest.approx(0.35 / 0.25, abs=1e-4)


def test_seed_ensemble_is_the_median_of_the_members():
    bench_mod = _bench_module()
    a = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 1.0]])
    members = [a, a + 10.0, a + 1.0]  # one member far off: the median ignores it
    np.testing.assert_allclose(bench_mod.combine_members(members), a + 1.0)
    np.testing.assert_allclose(bench_mod.combine_members([a, a + 2.0]), a + 1.0)  # two: the mean


def test_series_id_is_a_one_hot_known_future_input():
    bench_mod = _bench_module()
    days = pd.date_range("2024-01-01", periods=10, freq="D")
    idx = pd.MultiIndex.from_product([["b", "a", "c"], days], names=["node", "ts"])
    panel = pd.DataFrame({"target": np.arange(30.0)}, index=idx)
    s = bench_mod.Setup(
        name="toy", panel=panel, targets=["target"], covariates=[], known_future=[], scaled=["target"],
        horizon=3, origins=[days[5]], retrain=True, input_size=4,
    )  # fmt: skip
    bench_mod.add_series_id(s)
    assert s.ids == ["id_0", "id_1", "id_2"]
    onehot = s.panel[s.ids]
    assert (onehot.sum(axis=1) == 1).all()
    assert (onehot.xs("a", level="node")["id_0"] == 1).all() and (
        onehot.xs("c", level="node")["id_2"] == 1
    ).all()
    args = bench_mod.main.__globals__["argparse"].Namespace(static=False)
    assert bench_mod.m_inputs(s, bench_mod.M_VARIANTS["M (quantile, series id)"], args) == s.ids
    assert bench_mod.m_inputs(s, bench_mod.M_VARIANTS["M (quantile)"], args) == []


def test_forecast_baselines_goals_are_measured_in_the_same_run():
    import importlib

    from sclm.benchmarking import Bench

    root = config.PROJECT_ROOT / "bench"
    sys.path.insert(0, str(root))
    try:
        fb = importlib.import_module("forecast_baselines")
    finally:
        sys.path.remove(str(root))
    offsets = {
        "seasonal_naive": -1.0,
        "auto_ets": 0.5,
        "auto_theta": 1.5,
        "lightgbm (no promotions)": 0.8,
        "lightgbm (promotions)": 0.4,
    }
    results, history = _toy_results(offsets)
    bench = Bench("toy")
    fb.score_task("pasta", results, history, dict.fromkeys(offsets, 0.0), 1, bench)
    f = bench.figures
    assert f["pasta: auto_ets relative MASE"]["value"] == pytest.approx(0.5)
    assert f["pasta: auto_ets relative MASE"]["goal"] == "< 1"
    assert f["pasta: auto_ets relative MASE"]["holds"] is True
    assert f["pasta: auto_theta relative MASE"]["holds"] is False  # worse than seasonal naive
    assert f["pasta: lightgbm (promotions), median relative MASE"]["goal"] is None
    promo = f["pasta: lightgbm relative MASE, promotions / no promotions"]
    assert promo["value"] == pytest.approx(0.5) and promo["holds"] is True
    assert not any("+ 0.05" in str(v["goal"]) for v in f.values())
    # one LightGBM row only: the promotions goal is not evaluated
    one = {k: v for k, v in results.items() if k != "lightgbm (no promotions)"}
    bench2 = Bench("toy2")
    fb.score_task("pasta", one, history, dict.fromkeys(offsets, 0.0), 1, bench2)
    promo2 = bench2.figures["pasta: lightgbm relative MASE, promotions / no promotions"]
    assert promo2["value"] is None and promo2["holds"] is None


def test_base_rows_learn_on_the_seasonal_mean_and_the_long_row_doubles_the_input():
    bench_mod = _bench_module()
    s, days = _toy_setup(bench_mod, 120, 100)
    args = _toy_args()
    short = bench_mod.M_VARIANTS[bench_mod.M_KEYS["q-base"]]
    long = bench_mod.M_VARIANTS[bench_mod.M_KEYS["q-base-long"]]
    (m_short,), _ = bench_mod.train_m(s, days[100], short, args)
    (m_long,), _ = bench_mod.train_m(s, days[100], long, args)
    assert m_short.model.config.base == m_long.model.config.base == "seasonal_mean"
    assert (m_short.model.config.input_size, m_long.model.config.input_size) == (14, 28)
    assert m_long.task.known_future == ("zero_share", "log_mean")  # static, as the row says
    assert bench_mod.predict_m(s, [m_long], days[100], args).shape[0] == 2 * 7
    # validation MASE: the long row is scaled over its last 14 input days, the short row's own scale
    v_long = bench_mod.validation_mase(m_long, 7, "cpu", scale_days=14)
    assert np.isfinite(v_long) and v_long != bench_mod.validation_mase(m_long, 7, "cpu")
    assert bench_mod.validation_mase(m_short, 7, "cpu", scale_days=14) == bench_mod.validation_mase(
        m_short, 7, "cpu"
    )


def test_pretrained_row_fine_tunes_from_the_cached_checkpoint(tmp_path):
    bench_mod = _bench_module()
    holiday = (np.random.default_rng(1).random(240) < 0.05).astype(float)
    s, days = _toy_setup(bench_mod, 120, 100, {"is_holiday": holiday}, known_future=["is_holiday"])
    args = _toy_args(
        ensemble=2, ft_lr=3e-4, pretrain_epochs=1, pretrain_dir=tmp_path,
        pretrain_corpus={"n_groups": 2, "series_per_group": 2, "n_days": 90},
    )  # fmt: skip
    pre_row = bench_mod.M_VARIANTS[bench_mod.M_KEYS["q-pre"]]
    plain = {k: v for k, v in pre_row.items() if k != "pretrain"}
    assert plain == bench_mod.M_VARIANTS[bench_mod.M_KEYS["q-base-long"]]  # q-base-long + pretraining
    cache: dict = {}
    (m_pre,), _ = bench_mod.train_m(s, days[100], pre_row, args, cache)
    (m_plain,), _ = bench_mod.train_m(s, days[100], plain, args, cache)
    assert m_pre is not m_plain and len(cache) == 2  # the pretrained member is not the plain one's
    assert len(list(tmp_path.iterdir())) == 1 and bench_mod.PRETRAINED["toy"]["series"] == 4
    assert m_pre.model.config.input_size == 28 and m_pre.model.config.base == "seasonal_mean"
    members, _ = bench_mod.train_m(s, days[100], {**pre_row, "ensemble": True}, args, cache)
    assert members[0] is m_pre and len(members) == 2  # seed 0 shared with the row, one new seed
    assert bench_mod.predict_m(s, members, days[100], args).shape[0] == 2 * 7


def test_row_ensemble_combines_the_other_patch_rows_only(capsys):
    bench_mod = _bench_module()
    k = bench_mod.M_KEYS
    models = {k[x]: [x] for x in ("q-base-long", "lm", "q-pre", "m")}
    assert bench_mod.mixed_rows(models, k["m-mix"]) == [k["q-base-long"], k["q-pre"]]
    assert bench_mod.mixed_rows({**models, k["m-mix"]: ["mix"]}, k["m-mix"]) == [k["q-base-long"], k["q-pre"]]
    assert list(bench_mod.M_VARIANTS)[-2:] == ["M", "M (row ensemble)"]  # run after the rows it mixes
    # every seed member of each row (--seeds K), not only the first
    seeded = {k[x]: [f"{x}/0", f"{x}/1", f"{x}/2"] for x in ("q-base-long", "q-pre")}
    rows = bench_mod.mixed_rows(seeded, k["m-mix"])
    assert bench_mod.mixed_members(seeded, rows) == [
        f"{x}/{i}" for x in ("q-base-long", "q-pre") for i in range(3)
    ]
    # with nothing to combine (the selection and LM rows are not combined) it refuses to run
    for keys in ("m-mix", "m,m-mix", "lm,m-mix"):
        with pytest.raises(SystemExit, match="2"):
            bench_mod.main(["--m-variants", keys, "--datasets", "yaz"])
        assert "none among --m-variants" in capsys.readouterr().err


def test_hybrid_is_the_mean_of_its_members_and_refuses_other_cells():
    bench_mod = _bench_module()
    cols = ["mean", *bench_mod.QCOLS]
    days = pd.date_range("2024-01-01", periods=3, freq="D")

    def frame(shift, order=slice(None)):
        f = pd.DataFrame({"unique_id": ["a"] * 3, "ds": days})
        for j, c in enumerate(cols):
            f[c] = shift + j + np.arange(3.0)
        return f.iloc[order].reset_index(drop=True)

    fcs = {"M": frame(0.0), "LightGBM": frame(4.0, slice(None, None, -1)), "AutoETS": frame(-1.0)}
    out = bench_mod.hybrid_forecast(fcs, ("M", "LightGBM", "AutoETS"))
    np.testing.assert_allclose(out[cols].to_numpy(), frame(1.0)[cols].to_numpy())  # (0 + 4 - 1) / 3
    assert (np.diff(out[cols[1:]].to_numpy(), axis=1) >= 0).all()  # quantiles stay sorted
    with pytest.raises(ValueError, match="not run"):
        bench_mod.hybrid_forecast(fcs, ("M", "AutoTheta"))
    with pytest.raises(ValueError, match="other cells"):
        bench_mod.hybrid_forecast({**fcs, "LightGBM": frame(4.0).iloc[:2]}, ("M", "LightGBM"))
    # never the M of the goals, and its members are rows the bench runs
    rows = sys.modules["_forecast.rows"]  # imported by forecast.py
    assert rows.GOAL_MODEL not in bench_mod.HYBRIDS and rows.GOAL_MODEL in bench_mod.M_VARIANTS
    assert bench_mod.M_VARIANTS[rows.GOAL_MODEL].get("mix") and rows.SELECTION_MODEL in bench_mod.M_VARIANTS
    known = {*bench_mod.BASELINES, *bench_mod.M_VARIANTS}
    assert all(set(m) <= known for m in bench_mod.HYBRIDS.values())


def test_conformal_interval_is_the_cqr_calibration_on_the_validation_windows():
    from sclm.monitor import ConformalCalibrator
    from sclm.pipeline import validation_forecasts

    bench_mod = _bench_module()
    s, days = _toy_setup(bench_mod, 150, 130)
    args = _toy_args(stride=1, epochs=2)
    members, _ = bench_mod.train_m(s, days[130], bench_mod.M_VARIANTS["M (quantile)"], args)
    plain = bench_mod.predict_m(s, members, days[130], args)
    cal = bench_mod.predict_m(s, members, days[130], args, conformal=True)
    np.testing.assert_allclose(cal["q0.5"], plain["q0.5"])  # the median is kept
    q = cal[bench_mod.QCOLS].to_numpy()
    assert (np.diff(q, axis=1) >= 0).all() and (q >= 0).all()
    # the bounds are the calibrator's, fitted on the members' validation windows only
    val = validation_forecasts(members, window_stride=1, device="cpu")
    assert val["ts"].max() <= days[130]
    ref = ConformalCalibrator(alpha=0.2, score="cqr", floor=0.0).fit(val)
    fc = members[0].forecast(days[130], device="cpu").assign(origin=days[130])
    want = ref.transform(fc)
    np.testing.assert_allclose(cal["q0.1"], want["lo"], rtol=1e-6)
    np.testing.assert_allclose(cal["q0.9"], want["hi"], rtol=1e-6)
    # on the calibration rows themselves the interval covers at least 80 % of each step
    inside = ref.transform(val).pipe(lambda f: (f["y"] >= f["lo"]) & (f["y"] <= f["hi"]))
    assert inside.groupby(ref.transform(val)["step"]).mean().min() >= 0.8
    assert not np.allclose(cal["q0.9"] - cal["q0.1"], plain["q0.9"] - plain["q0.1"])  # it moved


def test_refit_rows_forecast_with_the_refitted_model_and_are_ranked_on_the_early_stopped_one():
    bench_mod = _bench_module()
    s, days = _toy_setup(bench_mod, 160, 140)
    args = _toy_args(epochs=2)
    plain = bench_mod.M_VARIANTS[bench_mod.M_KEYS["q-base-long"]]
    refit = bench_mod.M_VARIANTS[bench_mod.M_KEYS["q-base-long-r"]]
    assert refit == {**plain, "refit": True}
    assert bench_mod.M_VARIANTS[bench_mod.M_KEYS["q-events-long-br"]] == {
        **bench_mod.M_VARIANTS[bench_mod.M_KEYS["q-events-long-b"]],
        "refit": True,
    }
    cache = {}
    (p,), _ = bench_mod.train_m(s, days[140], plain, args, cache)
    (r,), _ = bench_mod.train_m(s, days[140], refit, args, cache)
    assert len(cache) == 2 and r.refit_result is not None and p.refit_result is None  # not shared
    # ranked on the model that never saw its validation windows: the plain row's (same seed)
    assert bench_mod.validation_mase(r, 7, "cpu", 14) == bench_mod.validation_mase(p, 7, "cpu", 14)
    fp = bench_mod.predict_m(s, [p], days[140], args)
    fr = bench_mod.predict_m(s, [r], days[140], args)
    assert np.abs(fp["q0.5"].to_numpy() - fr["q0.5"].to_numpy()).max() > 1e-6  # forecast by the refit


def test_m_variants_goal_names_the_rows_of_the_m_of_the_goals():
    bench_mod = _bench_module()
    rows = sys.modules["_forecast.rows"]
    assert bench_mod.goal_rows("goal") == ",".join(rows.GOAL_ROWS)
    assert bench_mod.goal_rows("m, goal ,q-seasonal") == "m," + ",".join(rows.GOAL_ROWS)  # each once
    labels = [bench_mod.M_KEYS[k] for k in rows.GOAL_ROWS]
    assert labels[-1] == rows.GOAL_MODEL and all(k in bench_mod.M_KEYS for k in rows.GOAL_ROWS)
    # the row ensemble combines exactly the four candidate rows
    assert bench_mod.mixed_rows(dict.fromkeys(labels), rows.GOAL_MODEL) == labels[:-1]
