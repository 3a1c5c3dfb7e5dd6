"""sclm.robustness: the noise-robustness curve (cells, slopes, ratios, goals, figure)."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest

from sclm import make_scenario, pipeline
from sclm.robustness import (
    CURVE_COLUMNS,
    MODELS,
    cell_task,
    ls_slope,
    ls_slope_se,
    mean_over_seeds,
    noise_fields,
    plot_robustness,
    robustness_curve,
    scenario_options,
    summarize,
)
from sclm.scenarios import SCENARIOS

TINY = {"d_model": 16, "n_heads": 2, "n_layers": 1, "batch_size": 256}
SMALL = {"n_days": 110, "n_nodes": 3}


def _iot_share(sc) -> float:
    """Σ IoT readings of q / Σ true q over the node-days without an injected IoT fault."""
    q = sc.meta["targets"]["q"]
    r = sc.readings[(sc.readings["variable"] == q) & (sc.readings["source"] == "iot")]
    f = sc.faults[(sc.faults["variable"] == q) & (sc.faults["source"] == "iot") & sc.faults["ts"].notna()]
    bad = pd.MultiIndex.from_frame(f[["node", "ts"]])
    keys = pd.MultiIndex.from_frame(r[["node", "ts"]])
    r = r[~keys.isin(bad)]
    truth = sc.truth[q].reindex(pd.MultiIndex.from_frame(r[["node", "ts"]]))
    return float(r["value"].sum() / truth.sum())


# -- the cell's scenario ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_noise_field_is_scaled(name):
    defaults = {f.name: f.default for f in dataclasses.fields(SCENARIOS[name]) if f.name.startswith("noise_")}
    assert set(noise_fields(name)) == set(defaults)
    assert {"noise_iot", "noise_erp"} <= set(defaults)
    opts = scenario_options(name, p=0.3, noise_scale=2.0, base={"n_days": 60})
    assert opts["p"] == 0.3 and opts["n_days"] == 60
    for field, d in defaults.items():
        assert opts[field] == pytest.approx(2.0 * d)
    # a base noise value given by the caller is the one scaled
    assert scenario_options(name, p=0.0, noise_scale=0.5, base={"noise_erp": 0.04})["noise_erp"] == 0.02
    sc = make_scenario(
        name, seed=0, n_days=40, n_documents=0, **scenario_options(name, p=0.3, noise_scale=2.0)
    )
    for source, sigma in sc.meta["noise"].items():
        assert sigma == pytest.approx(2.0 * defaults[f"noise_{source}"])


def test_scenario_options_rejects_bad_input():
    with pytest.raises(ValueError, match="noise_scale"):
        scenario_options("retail", p=0.1, noise_scale=-1.0)
    with pytest.raises(ValueError, match="p="):
        scenario_options("retail", p=0.1, noise_scale=1.0, base={"p": 0.2})
    with pytest.raises(KeyError):
        noise_fields("bakery")


def test_p_and_noise_reach_the_generator():
    """Σ IoT / Σ truth of q is 1 - p; the ERP error grows with the noise scale; the truth stays."""
    cells = {}
    for p, s in ((0.0, 1.0), (0.3, 1.0), (0.3, 0.5), (0.3, 2.0)):
        opts = scenario_options("manufacturing", p=p, noise_scale=s, base={"n_days": 200, "n_documents": 0})
        cells[p, s] = make_scenario("manufacturing", seed=0, **opts)
    for (p, _), sc in cells.items():
        assert sc.p == p
        assert _iot_share(sc) == pytest.approx(1.0 - p, abs=0.01)
    truth = cells[0.0, 1.0].truth
    assert all(sc.truth.equals(truth) for sc in cells.values())

    def erp_rel_sd(sc) -> float:  # robust sd of the relative ERP error of q (outliers left out)
        q = sc.meta["targets"]["q"]
        r = sc.readings[(sc.readings["variable"] == q) & (sc.readings["source"] == "erp")]
        r = r.drop_duplicates(["node", "ts"])
        t = sc.truth[q].reindex(pd.MultiIndex.from_frame(r[["node", "ts"]])).to_numpy()
        ok = t > 0
        rel = r["value"].to_numpy()[ok] / t[ok] - 1.0
        return float(np.median(np.abs(rel - np.median(rel))) / 0.6745)

    sigma = SCENARIOS["manufacturing"]().noise_erp
    for s in (0.5, 1.0, 2.0):
        assert erp_rel_sd(cells[0.3, s]) == pytest.approx(sigma * s, rel=0.1)


def test_training_sees_the_cleaned_and_fused_panel():
    """The task is causal on the raw readings; its training panel is the cleaned, fused one (p̂ divided out)."""
    p = 0.3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        sc, task, train_end = cell_task(
            "manufacturing", p=p, noise_scale=1.0, scenario_params={"n_days": 200}
        )
    assert isinstance(task.panels, pipeline.CausalPanels)
    assert task.panels.readings is sc.readings and task.panels.train_end == train_end
    assert train_end == sc.truth.index.get_level_values("ts").max() - pd.Timedelta(days=42)
    est = task.panels.cleaner_.p_
    row = est[(est["source"] == "iot") & (est["variable"] == task.targets[0])].iloc[0]
    assert row["applied"] and row["p_hat"] == pytest.approx(p, abs=0.02)
    # what training_windows fits the scaler on and cuts windows from
    seen = task.panel_at(train_end)
    pd.testing.assert_frame_equal(seen, task.panels.panel_at(train_end)[task.columns].astype("float64"))
    q = task.targets[0]
    days = seen.index.get_level_values("ts") <= train_end
    truth = sc.truth.loc[seen.index[days], q]
    fused = seen.loc[days, q]
    assert fused.sum() / truth.sum() == pytest.approx(1.0, abs=0.02)  # undercount corrected
    assert not np.allclose(fused.to_numpy(), truth.to_numpy())  # not the truth itself
    r = sc.readings
    raw_iot = r[(r["variable"] == q) & (r["source"] == "iot") & (r["ts"] <= train_end)]["value"].sum()
    assert raw_iot / truth.sum() == pytest.approx(1.0 - p, abs=0.02)  # the raw counter is 30 % short


def test_ablation_without_the_p_correction_leaves_the_undercount():
    """cleaner_options reach the cleaner: without the noise-rate step the cleaned IoT stays 40 % short."""
    shares = {}
    for label, opts in (("corrected", None), ("ablation", {"skip": ["noise_rate"]})):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            sc, task, te = cell_task(
                "manufacturing", p=0.4, noise_scale=1.0, scenario_params={"n_days": 110}, cleaner_options=opts
            )
        q = task.targets[0]
        cleaned = task.panels.cleaner_.transform(sc.readings[sc.readings["ts"] <= te])
        iot = cleaned[(cleaned["variable"] == q) & (cleaned["source"] == "iot")]
        truth = sc.truth[q].reindex(pd.MultiIndex.from_frame(iot[["node", "ts"]]))
        shares[label] = float(iot["value"].sum() / truth.sum())
        assert task.panels.cleaner_.p_.empty == (opts is not None)
    assert shares["corrected"] == pytest.approx(1.0, abs=0.02)
    assert shares["ablation"] == pytest.approx(0.6, abs=0.02)


# -- the curve --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_curve_table_and_what_training_gets(monkeypatch, one_torch_thread):
    seen = []
    real = pipeline.train_forecaster

    def spy(task, **kw):
        seen.append(task)
        return real(task, **kw)

    monkeypatch.setattr(pipeline, "train_forecaster", spy)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        df = robustness_curve(
            "manufacturing",
            p_values=(0.0, 0.3),
            noise_scales=(1.0,),
            horizon=7,
            input_size=28,
            n_origins=2,
            epochs=1,
            patience=1,
            device="cpu",
            scenario_params=SMALL,
            train_options=TINY,
        )
    assert list(df.columns) == list(CURVE_COLUMNS)
    assert len(df) == len(MODELS) * 2
    assert set(zip(df["model"], df["p"], strict=True)) == {(m, p) for m in MODELS for p in (0.0, 0.3)}
    assert (df["noise_scale"] == 1.0).all() and (df["scenario"] == "manufacturing").all()
    assert np.isfinite(df[["relMASE", "MASE", "MASE_snaive", "WQL", "cov80"]].to_numpy()).all()
    assert (df["relMASE"] == df["relMASE_median"]).all()
    assert (df["series"] == 3 * 3).all()  # 3 nodes x targets q, k, d
    assert df["p_hat"].to_numpy() == pytest.approx(df["p"].to_numpy(), abs=0.03)
    assert len(seen) == 2 and all(isinstance(t.panels, pipeline.CausalPanels) for t in seen)
    assert [t.panels.cleaner_.p_["p_hat"].iloc[0] for t in seen] == pytest.approx([0.0, 0.3], abs=0.03)
    s = summarize(df)
    assert list(s.goals.index) == ["manufacturing"]
    m = df[df["model"] == "M"].set_index("p")["relMASE"]
    assert s.ratios.loc[("manufacturing", 1.0, 0.3), "M_ratio"] == pytest.approx(m[0.3] / m[0.0])
    assert s.slopes.loc[("manufacturing", 1.0), "slope_M"] == pytest.approx((m[0.3] - m[0.0]) / 0.3)


def _hand_curve() -> pd.DataFrame:
    p = [0.0, 0.1, 0.2, 0.3, 0.4]
    rows = []
    m1 = [1.0, 1.0, 1.1, 1.0, 1.3]  # slope 0.6 (hand: Σdx·dy = 0.06, Σdx² = 0.1)
    l1 = [0.8, 0.81, 0.82, 0.83, 0.84]  # slope 0.1
    m2 = [0.5, 0.51, 0.52, 0.52, 0.9]  # slope 0.81 (worked out in the test)
    l2 = [0.7, 0.8, 0.9, 1.0, 1.1]  # slope 1.0
    for s, mv, lv in ((1.0, m1, l1), (2.0, m2, l2)):
        for pi, a, b in zip(p, mv, lv, strict=True):
            rows.append(
                {"scenario": "x", "model": "M", "p": pi, "noise_scale": s, "relMASE": a, "MASE": 2 * a}
            )
            rows.append(
                {"scenario": "x", "model": "LightGBM", "p": pi, "noise_scale": s, "relMASE": b, "MASE": b}
            )
    return pd.DataFrame(rows)


def test_slope_and_ratio_arithmetic_by_hand():
    assert ls_slope([0, 0.1, 0.2, 0.3, 0.4], [1.0, 1.0, 1.1, 1.0, 1.3]) == pytest.approx(0.6)
    assert ls_slope([0, 1], [2, 5]) == pytest.approx(3.0)
    assert np.isnan(ls_slope([0.2, 0.2], [1, 2])) and np.isnan(ls_slope([0.1], [1.0]))
    # residuals of the line 0.96 + 0.6 p: (.04, -.02, .02, -.14, .10), Σ² = .032; se = sqrt(.032 / 3 / .1)
    assert ls_slope_se([0, 0.1, 0.2, 0.3, 0.4], [1.0, 1.0, 1.1, 1.0, 1.3]) == pytest.approx(
        np.sqrt(0.032 / 3 / 0.1)
    )
    assert ls_slope_se([0, 0.1, 0.2], [1.0, 1.1, 1.2]) == pytest.approx(0.0, abs=1e-12)
    assert np.isnan(ls_slope_se([0, 1], [1, 2]))
    s = summarize(_hand_curve())
    # noise x2, M: dx = (-.2, -.1, 0, .1, .2), y - mean(y) = (-.09, -.08, -.07, -.07, .31)
    # Σdx·dy = .018 + .008 + 0 - .007 + .062 = .081 -> slope .81
    assert s.slopes.loc[("x", 2.0), "slope_M"] == pytest.approx(0.81)
    assert s.slopes.loc[("x", 2.0), "slope_LightGBM"] == pytest.approx(1.0)
    assert s.slopes.loc[("x", 2.0), "M_no_steeper"]
    assert s.slopes.loc[("x", 1.0), "slope_M"] == pytest.approx(0.6)
    assert s.slopes.loc[("x", 1.0), "slope_LightGBM"] == pytest.approx(0.1)
    assert s.slopes.loc[("x", 1.0), "slope_MASE_M"] == pytest.approx(1.2)
    assert s.slopes.loc[("x", 1.0), "se_M"] == pytest.approx(np.sqrt(0.032 / 3 / 0.1))
    assert s.slopes.loc[("x", 1.0), "se_LightGBM"] == pytest.approx(0.0, abs=1e-9)
    assert not s.slopes.loc[("x", 1.0), "M_no_steeper"]
    # ratios only for 0 < p <= 0.3
    assert list(s.ratios.loc[("x", 1.0)].index) == [0.1, 0.2, 0.3]
    assert s.ratios.loc[("x", 1.0, 0.2), "M_ratio"] == pytest.approx(1.1)
    assert s.ratios.loc[("x", 2.0, 0.3), "M_ratio"] == pytest.approx(1.04)
    assert s.ratios.loc[("x", 2.0, 0.1), "LightGBM_ratio"] == pytest.approx(0.8 / 0.7)
    g = s.goals.loc["x"]
    assert g["slope_M"] == pytest.approx(0.6) and g["slope_LightGBM"] == pytest.approx(0.1)
    assert not g["slope_goal"]
    assert g["max_M_ratio"] == pytest.approx(1.1) and not g["ratio_goal"]
    # judged at noise x2 instead: M is flatter, and within 5 % up to p = 0.3 (1.04)
    g2 = summarize(_hand_curve(), reference_scale=2.0).goals.loc["x"]
    assert g2["slope_goal"] and g2["ratio_goal"] and g2["max_M_ratio"] == pytest.approx(1.04)
    with pytest.raises(ValueError, match="LightGBM"):
        summarize(_hand_curve().query("model == 'M'"))


def test_plot_has_one_panel_per_scenario():
    df = pd.concat([_hand_curve(), _hand_curve().assign(scenario="y")], ignore_index=True)
    fig = plot_robustness(df)
    axes = fig.get_axes()
    assert [a.get_title() for a in axes] == ["x", "y"]
    assert len(axes[0].get_lines()) == 4  # 2 models x 2 noise scales
    m1 = [ln for ln in axes[0].get_lines() if ln.get_label() == "M, noise ×1"][0]
    assert list(m1.get_ydata()) == [1.0, 1.0, 1.1, 1.0, 1.3]
    assert len(fig.legends) == 1 and len(fig.legends[0].get_texts()) == 4


def test_seed_average_and_seed_standard_errors_by_hand():
    # seed 1: M and LightGBM shifted by constants, slopes as seed 0 plus a tilt of +-0.1 per unit p
    base = _hand_curve().query("noise_scale == 1.0")
    tilt = base.copy()
    tilt.loc[tilt["model"] == "M", "relMASE"] += 0.1 * tilt.loc[tilt["model"] == "M", "p"] + 0.05
    tilt.loc[tilt["model"] == "LightGBM", "relMASE"] -= 0.1 * tilt.loc[tilt["model"] == "LightGBM", "p"]
    two = pd.concat([base.assign(seed=0), tilt.assign(seed=1)], ignore_index=True)
    mean = mean_over_seeds(two)
    assert len(mean) == len(base) and (mean["seeds"] == 2).all()
    m0 = mean.query("model == 'M' and p == 0.0")["relMASE"].item()
    assert m0 == pytest.approx((1.0 + 1.05) / 2)
    s = summarize(two)
    # mean curve slopes: M 0.6 + 0.05, LightGBM 0.1 - 0.05; per-seed slopes (0.6, 0.7), (0.1, 0.0)
    assert s.slopes.loc[("x", 1.0), "slope_M"] == pytest.approx(0.65)
    assert s.slopes.loc[("x", 1.0), "slope_LightGBM"] == pytest.approx(0.05)
    # se of the mean of two values a, b: |a - b| / 2
    assert s.slopes.loc[("x", 1.0), "se_M"] == pytest.approx(0.05)
    assert s.slopes.loc[("x", 1.0), "se_LightGBM"] == pytest.approx(0.05)
    assert s.slopes.loc[("x", 1.0), "se_diff"] == pytest.approx(0.1)  # diffs 0.5, 0.7
    assert s.slopes.loc[("x", 1.0), "seeds"] == 2
    # one seed only: the plain curve, residual standard errors
    one = summarize(base.assign(seed=0))
    assert one.slopes.loc[("x", 1.0), "se_M"] == pytest.approx(np.sqrt(0.032 / 3 / 0.1))
    with pytest.raises(ValueError, match="seed"):
        mean_over_seeds(base)
