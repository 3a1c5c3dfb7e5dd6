"""Fusion: alignment, mean / median / inverse-variance values, the noise estimator, gaps, aggregation, errors."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import median_abs_deviation

from sclm.fusion import (
    FILLED_COLUMNS,
    METHODS,
    WEIGHT_COLUMNS,
    NodeAggregator,
    NotFittedError,
    SourceFuser,
    align,
    default_rule,
    fuse,
)
from sclm.fusion.noise import _SCREEN_CORRECTION, _components, _median_and_mad, _solve_group, _spread
from sclm.scenarios import make_scenario
from sclm.schema import DataValidationError, validate_panel

DAY0 = pd.Timestamp("2024-01-01")


def readings(rows: list[tuple], node_type: str = "plant", unit: str = "unit") -> pd.DataFrame:
    """Rows ``(node, day offset, variable, source, value)`` as a Readings table."""
    df = pd.DataFrame(rows, columns=["node", "day", "variable", "source", "value"])
    return pd.DataFrame(
        {
            "ts": (DAY0 + pd.to_timedelta(df["day"], unit="D")).astype("datetime64[ns]"),
            "node": df["node"].astype(object),
            "node_type": node_type,
            "variable": df["variable"].astype(object),
            "value": df["value"].astype(float),
            "unit": unit,
            "source": df["source"].astype(object),
        }
    )


def simulate(
    sigmas: dict[str, float],
    *,
    n_nodes: int = 4,
    n_days: int = 200,
    variables: tuple[str, ...] = ("production",),
    missing: float = 0.0,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Clean multi-source readings ``truth·(1 + σ_s·N(0,1))`` and the truth panel."""
    rng = np.random.default_rng(seed)
    nodes = [f"n{i:02d}" for i in range(n_nodes)]
    days = pd.date_range(DAY0, periods=n_days, freq="D")
    index = pd.MultiIndex.from_product([nodes, days], names=["node", "ts"])
    truth = pd.DataFrame({v: np.round(rng.uniform(200, 2000, len(index))) for v in variables}, index=index)
    long = truth.stack().rename("x").reset_index().rename(columns={"level_2": "variable"})
    frames = []
    for source, sigma in sigmas.items():
        value = long["x"].to_numpy() * (1.0 + sigma * rng.standard_normal(len(long)))
        keep = rng.random(len(long)) >= missing
        frames.append(long[keep].assign(value=value[keep], source=source))
    r = pd.concat(frames, ignore_index=True)
    r = r.assign(node_type="plant", unit="unit").drop(columns="x")
    return r[["ts", "node", "node_type", "variable", "value", "unit", "source"]], truth


def rmse(est: pd.Series, truth: pd.Series) -> float:
    return float(np.sqrt(np.mean((est - truth.reindex(est.index)) ** 2)))


# --------------------------------------------------------------------------------------------------
# exact values on tiny frames
# --------------------------------------------------------------------------------------------------


def test_mean_and_median_by_hand():
    r = readings(
        [
            ("A", 0, "production", "erp", 10.0),
            ("A", 0, "production", "iot", 13.0),
            ("A", 0, "production", "mes", 40.0),
            ("A", 1, "production", "erp", 20.0),
            ("A", 1, "production", "iot", 22.0),  # mes missing this day
        ]
    )
    mean = fuse(r, "mean")
    assert mean.loc[("A", DAY0), "production"] == pytest.approx(21.0)
    assert mean.loc[("A", DAY0 + pd.Timedelta(days=1)), "production"] == pytest.approx(21.0)
    median = fuse(r, "median")
    assert median.loc[("A", DAY0), "production"] == 13.0
    assert median.loc[("A", DAY0 + pd.Timedelta(days=1)), "production"] == 21.0


def test_inverse_variance_weights_renormalise_when_a_source_is_missing():
    r, _ = simulate({"a": 0.01, "b": 0.02, "c": 0.04}, n_days=100, seed=1)
    day = r["ts"] == DAY0 + pd.Timedelta(days=5)
    gone = day & (r["node"] == "n00") & (r["source"] == "b")
    r = r[~gone].reset_index(drop=True)
    fuser = SourceFuser("inverse_variance")
    panel = fuser.fit_transform(r)
    w = fuser.weights_.set_index("source")["weight"]
    assert w.sum() == pytest.approx(1.0)
    cell = r[(r["node"] == "n00") & (r["ts"] == DAY0 + pd.Timedelta(days=5))].set_index("source")["value"]
    assert set(cell.index) == {"a", "c"}
    expected = (w["a"] * cell["a"] + w["c"] * cell["c"]) / (w["a"] + w["c"])
    assert panel.loc[("n00", DAY0 + pd.Timedelta(days=5)), "production"] == pytest.approx(expected, rel=1e-12)
    full = r[(r["node"] == "n01") & (r["ts"] == DAY0)].set_index("source")["value"]
    expected = (w * full).sum() / w.sum()
    assert panel.loc[("n01", DAY0), "production"] == pytest.approx(expected, rel=1e-12)


def test_least_squares_recovers_exact_variances():
    s2 = np.array([1e-4, 4e-4, 9e-4])
    pairs = [(0, 1), (0, 2), (1, 2)]
    v = np.array([s2[a] + s2[b] for a, b in pairs])
    sigma2, raw, method, comp = _solve_group(np.ones(3, bool), pairs, np.full(3, 100), v, 10)
    np.testing.assert_allclose(sigma2, s2, rtol=1e-9)
    np.testing.assert_allclose(raw, 1 / s2, rtol=1e-9)
    assert method == ["three-cornered hat: 3 sources"] * 3
    assert len(set(comp)) == 1
    # four sources: six equations, still exact
    s2 = np.array([1e-4, 4e-4, 9e-4, 2e-4])
    pairs = [(a, b) for a in range(4) for b in range(a + 1, 4)]
    v = np.array([s2[a] + s2[b] for a, b in pairs])
    sigma2, _, method, _ = _solve_group(np.ones(4, bool), pairs, np.full(6, 100), v, 10)
    np.testing.assert_allclose(sigma2, s2, rtol=1e-9)
    assert method[0] == "three-cornered hat: 4 sources"


def test_bipartite_overlap_is_not_identifiable():
    pairs = [(0, 1), (1, 2), (2, 3), (0, 3)]  # a 4-cycle: no odd cycle
    sigma2, raw, method, _ = _solve_group(np.ones(4, bool), pairs, np.full(4, 100), np.full(4, 2e-4), 10)
    assert method == ["equal: not identifiable"] * 4
    np.testing.assert_allclose(sigma2, 1e-4)


def test_negative_solution_is_clipped_at_a_positive_floor():
    pairs = [(0, 1), (0, 2), (1, 2)]
    v = np.array([1e-4, 1e-4, 9e-4])  # implies σ_0² < 0
    sigma2, raw, _, _ = _solve_group(np.ones(3, bool), pairs, np.full(3, 100), v, 10)
    assert (sigma2 > 0).all() and np.isfinite(raw).all()


def test_overlap_components_are_ordered_by_their_smallest_member():
    assert _components(6, [(4, 5), (1, 4), (2, 3)]) == [[0], [1, 4, 5], [2, 3]]
    assert _components(3, []) == [[0], [1], [2]]
    assert _components(4, [(3, 0), (3, 0), (2, 1)]) == [[0, 3], [1, 2]]  # repeated edge
    # component numbers follow: source 5 is alone, 0-2-4 and 1-3 are linked
    pairs = [(0, 2), (2, 4), (1, 3), (0, 4)]
    _, _, method, comp = _solve_group(np.ones(6, bool), pairs, np.full(4, 100), np.full(4, 2e-4), 10)
    assert comp.tolist() == [0, 1, 0, 1, 0, 2]
    assert method == ["three-cornered hat: 3 sources", "equal: 2 sources"] * 2 + [
        "three-cornered hat: 3 sources",
        "no overlap",
    ]


def test_robust_spread_is_the_normal_consistent_mad_per_group():
    rng = np.random.default_rng(4)
    d = rng.normal(0.01, 0.03, 301)
    g = rng.integers(0, 4, len(d))
    g[g == 2] = 3  # group 2 empty
    centre, sd = _median_and_mad(d, g, 4)
    for k in (0, 1, 3):
        assert centre[k] == np.median(d[g == k])
        assert sd[k] == pytest.approx(median_abs_deviation(d[g == k], scale="normal"), rel=1e-12)
        assert sd[k] == pytest.approx(1.4826 * np.median(np.abs(d[g == k] - centre[k])), rel=2e-6)
    assert np.isnan(centre[2]) and np.isnan(sd[2])
    c1, s1 = _median_and_mad(d, np.zeros(len(d), dtype=np.int64), 1)
    assert c1[0] == np.median(d) and s1[0] == median_abs_deviation(d, scale="normal")
    # "mad": the square of that sd; "screened": the variance within 4 sd, over Var(N(0,1) | ±4)
    _, var_mad = _spread(d, g, 4, "mad")
    np.testing.assert_allclose(var_mad[[0, 1, 3]], sd[[0, 1, 3]] ** 2, rtol=1e-12)
    phi4 = np.exp(-8.0) / np.sqrt(2 * np.pi)
    assert _SCREEN_CORRECTION == pytest.approx(1 - 8 * phi4 / math.erf(4 / np.sqrt(2)), rel=1e-14)
    x = np.append(d[g == 0], [5.0, -5.0])  # two outliers, far outside 4 sd
    _, var_screened = _spread(x, np.zeros(len(x), dtype=np.int64), 1, "screened")
    assert var_screened[0] == pytest.approx(np.var(d[g == 0], ddof=1) / _SCREEN_CORRECTION, rel=1e-12)


# --------------------------------------------------------------------------------------------------
# the noise estimator and the gain
# --------------------------------------------------------------------------------------------------


def test_estimator_recovers_known_sigmas_within_20_percent():
    sigmas = {"a": 0.01, "b": 0.02, "c": 0.04}
    r, _ = simulate(sigmas, n_nodes=50, n_days=400, missing=0.05, seed=2)
    w = SourceFuser().fit(r).weights_.set_index("source")
    for source, sigma in sigmas.items():
        assert w.loc[source, "sigma_hat"] == pytest.approx(sigma, rel=0.2)
    assert (w["method"] == "three-cornered hat: 3 sources").all()
    assert (w["sigma_kind"] == "relative").all()
    assert list(SourceFuser().fit(r).weights_.columns) == list(WEIGHT_COLUMNS)


def test_estimator_is_robust_to_leftover_outliers():
    sigmas = {"a": 0.01, "b": 0.02, "c": 0.04}
    r, truth = simulate(sigmas, n_nodes=20, n_days=300, seed=3)
    rng = np.random.default_rng(3)
    spike = rng.random(len(r)) < 0.01
    r.loc[spike, "value"] *= rng.uniform(3, 10, spike.sum())
    fuser = SourceFuser()
    panel = fuser.fit_transform(r)
    w = fuser.weights_.set_index("source")
    for source, sigma in sigmas.items():
        assert w.loc[source, "sigma_hat"] == pytest.approx(sigma, rel=0.25)
    assert fuser.rejected_["n_rejected"].sum() >= 0.9 * spike.sum()
    mean = fuse(r, "mean")
    assert rmse(panel["production"], truth["production"]) < 0.2 * rmse(
        mean["production"], truth["production"]
    )


def test_inverse_variance_beats_mean_and_the_best_source():
    sigmas = {"a": 0.01, "b": 0.03, "c": 0.05}
    r, truth = simulate(sigmas, n_nodes=10, n_days=300, seed=4)
    iv = fuse(r, "inverse_variance")["production"]
    mean = fuse(r, "mean")["production"]
    best = rmse(r[r["source"] == "a"].set_index(["node", "ts"])["value"], truth["production"])
    assert rmse(iv, truth["production"]) < 0.97 * best
    assert rmse(iv, truth["production"]) < 0.6 * rmse(mean, truth["production"])


def test_three_comparable_sources_give_about_one_over_sqrt_three():
    r, truth = simulate({"a": 0.02, "b": 0.02, "c": 0.02}, n_nodes=10, n_days=300, seed=5)
    iv = fuse(r)["production"]
    best = min(
        rmse(g.set_index(["node", "ts"])["value"], truth["production"]) for _, g in r.groupby("source")
    )
    assert rmse(iv, truth["production"]) / best < 0.65


def test_two_sources_equal_weights_or_borrowed():
    r, _ = simulate({"erp": 0.01, "iot": 0.03}, n_days=60, seed=6)
    w = SourceFuser().fit(r).weights_
    assert (w["method"] == "equal: 2 sources").all()
    np.testing.assert_allclose(w["weight"], 0.5)
    # erp identified by a three-cornered hat on inventory → borrowed for production
    r3, _ = simulate({"erp": 0.01, "rfid": 0.02, "wms": 0.03}, variables=("inventory",), n_days=300, seed=7)
    r2, _ = simulate({"erp": 0.01, "iot": 0.03}, n_days=300, seed=8)
    both = pd.concat([r2, r3], ignore_index=True)
    w = SourceFuser().fit(both).weights_.set_index(["variable", "source"])
    assert w.loc[("production", "erp"), "method"] == "borrowed: 2 sources, sigma of erp from inventory"
    assert w.loc[("production", "iot"), "sigma_hat"] == pytest.approx(0.03, rel=0.2)
    assert w.loc[("production", "erp"), "weight"] > 0.8
    w = SourceFuser(borrow=False).fit(both).weights_.set_index(["variable", "source"])
    assert w.loc[("production", "erp"), "method"] == "equal: 2 sources"


def test_single_source_weight_one_and_sources_that_never_overlap():
    r = readings(
        [("dc", d, "demand", "erp", 100.0 + d) for d in range(20)]
        + [("s1", d, "demand", "pos", 10.0 + d) for d in range(20)]
        + [("dc", d, "price", "erp", 3.5) for d in range(20)]
        + [("s1", d, "price", "erp", 3.5) for d in range(20)]
    )
    fuser = SourceFuser()
    panel = fuser.fit_transform(r)
    w = fuser.weights_.set_index(["variable", "source"])
    assert w.loc[("price", "erp"), "method"] == "single source"
    assert w.loc[("price", "erp"), "weight"] == 1.0
    assert w.loc[("demand", "erp"), "method"] == "no overlap"
    assert w.loc[("demand", "erp"), "weight"] == 1.0 and w.loc[("demand", "pos"), "weight"] == 1.0
    assert panel.loc[("s1", DAY0), "demand"] == 10.0
    assert panel.loc[("dc", DAY0), "demand"] == 100.0


def test_weights_by_node_type():
    a, _ = simulate({"a": 0.01, "b": 0.02, "c": 0.04}, n_days=150, seed=9)
    b, _ = simulate({"a": 0.04, "b": 0.02, "c": 0.01}, n_days=150, seed=10)
    b = b.assign(node=b["node"].str.replace("n", "w"), node_type="warehouse")
    fuser = SourceFuser(weights_by="node_type").fit(pd.concat([a, b], ignore_index=True))
    w = fuser.weights_.set_index(["group", "source"])["weight"]
    assert w[("plant", "a")] > w[("plant", "c")]
    assert w[("warehouse", "c")] > w[("warehouse", "a")]


@settings(max_examples=30, deadline=None)
@given(
    values=st.lists(
        st.floats(min_value=0.0, max_value=1e9, allow_nan=False, allow_infinity=False),
        min_size=3,
        max_size=24,
    ),
    n_sources=st.integers(min_value=1, max_value=4),
    method=st.sampled_from(METHODS),
)
def test_identical_sources_return_that_source_exactly(values, n_sources, method):
    rows = [
        (f"n{i % 2}", i // 2, "production", f"s{k}", v)
        for i, v in enumerate(values)
        for k in range(n_sources)
    ]
    r = readings(rows)
    one = readings([row for row in rows if row[3] == "s0"])
    panel = fuse(r, method, min_overlap=2)
    observed = one.set_index(["node", "ts"])["value"]
    pd.testing.assert_series_equal(
        panel["production"].reindex(observed.index), observed, check_names=False, rtol=0, atol=0
    )


# --------------------------------------------------------------------------------------------------
# gaps, panel contract, alignment
# --------------------------------------------------------------------------------------------------


def test_gaps_are_filled_by_time_interpolation_and_reported():
    rows = [("A", d, "production", s, 10.0 * d) for d in range(6) for s in ("erp", "iot")]
    rows = [row for row in rows if row[1] not in (2, 3)]  # days 2, 3: no source
    rows += [("A", d, "inventory", "erp", 50.0) for d in range(1, 6)]  # day 0 missing: extended
    r = readings(rows)
    fuser = SourceFuser("mean")
    panel = fuser.fit_transform(r)
    validate_panel(panel)
    assert panel["production"].tolist() == [0.0, 10.0, 20.0, 30.0, 40.0, 50.0]
    assert panel["inventory"].tolist() == [50.0] * 6
    f = fuser.filled_.set_index("variable")
    assert list(fuser.filled_.columns) == list(FILLED_COLUMNS)
    assert f.loc["production", "n_interpolated"] == 2 and f.loc["production", "n_extended"] == 0
    assert f.loc["inventory", "n_extended"] == 1 and f.loc["inventory", "n_observed"] == 5
    assert fuser.n_filled_ == 3
    mask = fuser.filled_mask_
    assert mask["production"].tolist() == [False, False, True, True, False, False]
    assert mask["inventory"].tolist() == [True] + [False] * 5


def test_imputed_readings_are_used_only_where_nothing_was_observed():
    rows = [("A", d, "production", s, 10.0) for d in range(4) for s in ("erp", "iot")]
    rows[2] = ("A", 1, "production", "erp", 99.0)  # invented upstream (e.g. a filled gap)
    rows[6] = ("A", 3, "production", "erp", 50.0)
    rows[7] = ("A", 3, "production", "iot", 70.0)  # day 3: both invented
    r = readings(rows)
    imputed = r.iloc[[2, 6, 7]][["node", "ts", "variable", "source"]]
    plain = fuse(r, "mean")
    assert plain["production"].tolist() == [10.0, 54.5, 10.0, 60.0]
    fuser = SourceFuser("mean")
    panel = fuser.fit_transform(r, imputed=imputed)
    assert panel["production"].tolist() == [10.0, 10.0, 10.0, 60.0]
    assert fuser.filled_.set_index("variable").loc["production", "n_imputed"] == 1
    assert fuser.n_filled_ == 1 and fuser.filled_mask_["production"].tolist() == [False, False, False, True]
    with pytest.raises(DataValidationError, match=r"imputed: missing column\(s\) \['source'\]"):
        fuse(r, imputed=imputed.drop(columns="source"))


def test_scenario_panel_passes_the_contract():
    sc = make_scenario("retail", n_days=60, n_documents=0)
    rng = np.random.default_rng(0)
    cov = sc.readings[["node", "node_type", "variable", "source", "unit"]].drop_duplicates()
    cov = cov.assign(unit=cov["variable"].map(sc.meta["units"]))
    long = sc.truth.stack().rename("x").reset_index().rename(columns={"level_2": "variable"})
    r = long.merge(cov, on=["node", "variable"])
    r["value"] = r["x"] * (1 + 0.01 * rng.standard_normal(len(r)))
    r = r[rng.random(len(r)) > 0.05].drop(columns="x").reset_index(drop=True)
    before = r.copy()
    panel, report = fuse(r, return_report=True)
    pd.testing.assert_frame_equal(r, before)  # input not mutated
    validate_panel(panel)
    assert sorted(panel.columns) == sorted(sc.truth.columns)
    assert panel.index.equals(sc.truth.index)
    assert not panel.isna().any().any()
    assert report.n_filled == int(report.filled[["n_interpolated", "n_extended"]].to_numpy().sum())
    assert report.n_filled > 0
    totals = fuse(r, groups="total")
    validate_panel(totals)
    assert totals.index.get_level_values("node").unique().tolist() == ["total"]
    parent = sc.nodes.set_index("node")["parent"]
    by_parent = fuse(r, groups=parent, unmapped="self")
    assert by_parent.index.get_level_values("node").unique().tolist() == ["dc_01"]


def test_align_is_wide_over_sources():
    r = readings(
        [
            ("A", 0, "production", "erp", 1.0),
            ("A", 0, "production", "iot", 2.0),
            ("A", 1, "inventory", "wms", 3.0),
        ]
    )
    a = align(r)
    assert list(a.index.names) == ["node", "ts", "variable"]
    assert list(a.columns) == ["erp", "iot", "wms"]
    assert a.shape == (2, 3)
    assert a.loc[("A", DAY0, "production")].tolist()[:2] == [1.0, 2.0]
    assert np.isnan(a.loc[("A", DAY0 + pd.Timedelta(days=1), "inventory"), "erp"])


# --------------------------------------------------------------------------------------------------
# aggregation
# --------------------------------------------------------------------------------------------------


def small_panel() -> pd.DataFrame:
    idx = pd.MultiIndex.from_product(
        [["p1", "p2", "w1"], pd.date_range(DAY0, periods=3)], names=["node", "ts"]
    )
    return pd.DataFrame(
        {
            "production": [1.0, 2.0, 3.0, 10.0, 20.0, 30.0, 100.0, 200.0, 300.0],
            "ambient_temp": [20.0, 21.0, 22.0, 10.0, 11.0, 12.0, 30.0, 31.0, 32.0],
            "price": [2.0] * 3 + [4.0] * 3 + [6.0] * 3,
        },
        index=idx,
    )


def test_aggregation_sum_and_mean_by_hand():
    p = small_panel()
    agg = NodeAggregator({"p1": "plants", "p2": "plants", "w1": "warehouses"})
    out = agg.fit_transform(p)
    validate_panel(out)
    assert agg.rules_ == {"production": "sum", "ambient_temp": "mean", "price": "mean"}
    assert out.loc["plants", "production"].tolist() == [11.0, 22.0, 33.0]
    assert out.loc["plants", "ambient_temp"].tolist() == [15.0, 16.0, 17.0]
    assert out.loc["plants", "price"].tolist() == [3.0, 3.0, 3.0]
    assert out.loc["warehouses", "production"].tolist() == [100.0, 200.0, 300.0]
    total = NodeAggregator("total", rules={"production": "mean"}).fit_transform(p)
    assert total.loc["total", "production"].tolist() == [37.0, 74.0, 111.0]
    assert list(NodeAggregator().fit(p).get_feature_names_out()) == list(p.columns)
    assert default_rule("inventory") == "sum" and default_rule("price") == "mean"


def test_aggregation_keeps_only_days_every_member_has():
    p = small_panel().drop(index=("p2", DAY0))
    out = NodeAggregator("total").fit_transform(p)
    validate_panel(out)
    assert out.index.get_level_values("ts").tolist() == list(
        pd.date_range(DAY0 + pd.Timedelta(days=1), periods=2)
    )


def test_aggregation_unmapped_nodes():
    p = small_panel()
    groups = {"p1": "", "p2": "p1", "w1": "p1"}  # p1 is the top node (empty parent)
    with pytest.raises(ValueError, match=r"1 node\(s\) have no group.*unmapped='self'"):
        NodeAggregator(groups).fit(p)
    out = NodeAggregator(groups, unmapped="self").fit_transform(p)
    assert out.loc["p1", "production"].tolist() == [111.0, 222.0, 333.0]
    out = NodeAggregator(groups, unmapped="drop").fit_transform(p)
    assert out.loc["p1", "production"].tolist() == [110.0, 220.0, 330.0]
    with pytest.raises(ValueError, match=r"unknown rule for 'production' 'max'; expected one of: sum, mean"):
        NodeAggregator("total", rules={"production": "max"}).fit(p)


# --------------------------------------------------------------------------------------------------
# scikit-learn conventions and errors
# --------------------------------------------------------------------------------------------------


def test_transformer_conventions():
    r, _ = simulate({"a": 0.01, "b": 0.02, "c": 0.04}, n_days=60, variables=("production", "inventory"))
    fuser = SourceFuser(method="mean", reject=None)
    assert fuser.fit(r) is fuser
    assert list(fuser.get_feature_names_out()) == ["inventory", "production"]
    assert fuser.get_params()["method"] == "mean"
    assert repr(fuser) == "SourceFuser(method='mean', reject=None)"
    assert fuser.set_params(method="median") is fuser and fuser.method == "median"
    with pytest.raises(ValueError, match="invalid parameter 'bogus'"):
        fuser.set_params(bogus=1)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        SourceFuser().transform(r)
    iv = SourceFuser().fit(r)
    pd.testing.assert_frame_equal(iv.transform(r), SourceFuser().fit_transform(r))
    extra = r.assign(source=r["source"].replace({"c": "d"}))
    with pytest.raises(ValueError, match=r"source\(s\) \['d'\].*not seen by fit"):
        iv.transform(extra)


def test_unknown_method_lists_the_methods():
    r = readings([("A", 0, "production", "erp", 1.0)])
    with pytest.raises(
        ValueError, match=r"unknown method 'avg'; expected one of: inverse_variance, mean, median"
    ):
        fuse(r, "avg")


def test_unconverted_cases_are_refused():
    r = readings([("A", 0, "inventory", "wms", 3.0), ("A", 0, "inventory", "erp", 36.0)])
    r.loc[0, "unit"] = "case"
    with pytest.raises(DataValidationError, match=r"unit 'case'.*inventory from wms.*unit conversion first"):
        fuse(r)


def test_mixed_units_are_refused():
    r = readings([("A", 0, "inventory", "wms", 3.0), ("A", 0, "inventory", "erp", 36.0)])
    r.loc[0, "unit"] = "kg"
    with pytest.raises(
        DataValidationError, match=r"variable 'inventory' comes in several units \['kg', 'unit'\]"
    ):
        fuse(r)


def test_duplicate_keys_are_refused():
    r = readings([("A", 0, "production", "erp", 1.0), ("A", 1, "production", "erp", 2.0)])
    r = pd.concat([r, r.iloc[[1]]], ignore_index=True)
    with pytest.raises(DataValidationError, match=r"duplicate key.*expected one row per key"):
        fuse(r)
    with pytest.raises(DataValidationError, match=r"duplicate key"):
        align(r)


def test_empty_and_malformed_input():
    empty = readings([("A", 0, "production", "erp", 1.0)]).iloc[:0]
    with pytest.raises(DataValidationError, match="the table is empty"):
        fuse(empty)
    with pytest.raises(DataValidationError, match="missing column 'source'"):
        fuse(readings([("A", 0, "production", "erp", 1.0)]).drop(columns="source"))
    bad = readings([("A", 0, "production", "erp", 1.0), ("A", 1, "production", "erp", -2.0)])
    with pytest.raises(DataValidationError, match="negative quantity"):
        fuse(bad)
    bad = readings([("A", 0, "production", "erp", 1.0)])
    bad["ts"] = bad["ts"] + pd.Timedelta(hours=6)
    with pytest.raises(DataValidationError, match="time of day"):
        fuse(bad)


def test_node_without_a_variable():
    r = readings(
        [("A", d, "production", "erp", 1.0) for d in range(3)]
        + [("A", d, "inventory", "erp", 5.0) for d in range(3)]
        + [("B", d, "production", "erp", 2.0) for d in range(3)]
    )
    with pytest.raises(
        DataValidationError, match=r"node 'B' has no reading of variable 'inventory'.*allow_nan=True"
    ):
        fuse(r)
    panel, report = fuse(r, allow_nan=True, return_report=True)
    assert panel.loc["B", "inventory"].isna().all()
    validate_panel(panel, allow_nan=True)
    assert report.filled.set_index(["node", "variable"]).loc[("B", "inventory"), "n_nan"] == 3


def test_fill_none_leaves_gaps_only_on_request():
    r = readings([("A", d, "production", "erp", 1.0) for d in (0, 2)])
    with pytest.raises(
        DataValidationError, match=r"1 panel cells have no source.*fill='linear' or allow_nan=True"
    ):
        fuse(r, fill=None)
    panel = fuse(r, fill=None, allow_nan=True)
    assert np.isnan(panel["production"].iloc[1])


def test_bad_options():
    r = readings([("A", 0, "production", "erp", 1.0)])
    with pytest.raises(
        ValueError, match=r"unknown weights_by 'x'; expected one of: variable, node_type, node"
    ):
        fuse(r, weights_by="x")
    with pytest.raises(ValueError, match="rules apply to node aggregation"):
        fuse(r, rules={"production": "sum"})
    with pytest.raises(ValueError, match="reject=-1"):
        fuse(r, reject=-1)
