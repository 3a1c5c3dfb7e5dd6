"""sclm.cleaning: each step on tiny handmade tables (exact values), on the scenarios, and bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import sclm
from sclm import scoring
from sclm.cleaning import (
    ACTIONS,
    AUDIT_COLUMNS,
    GAP_COLUMNS,
    P_COLUMNS,
    Audit,
    DuplicateResolver,
    GapFiller,
    NoiseRateCorrector,
    NotFittedError,
    OutlierFilter,
    ReadingsCleaner,
    UnitConverter,
    clean,
    estimate_noise_rate,
    summary,
)
from sclm.schema import READING_COLUMNS, DataValidationError, validate_readings

# --------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------


def frame(rows: list[tuple]) -> pd.DataFrame:
    """Readings from (ts, node, variable, value, unit, source) tuples (node_type 'plant')."""
    df = pd.DataFrame(rows, columns=["ts", "node", "variable", "value", "unit", "source"])
    return pd.DataFrame(
        {
            "ts": pd.to_datetime(df["ts"]).astype("datetime64[ns]"),
            "node": df["node"].astype(object),
            "node_type": np.full(len(df), "plant", dtype=object),
            "variable": df["variable"].astype(object),
            "value": df["value"].astype(np.float64),
            "unit": df["unit"].astype(object),
            "source": df["source"].astype(object),
        }
    )


def series(values, *, node="A", variable="production", unit="unit", source="erp", start="2024-01-01"):
    """One daily series; NaN values are left out (missing days)."""
    days = pd.date_range(start, periods=len(values), freq="D")
    return frame(
        [(d, node, variable, v, unit, source) for d, v in zip(days, values, strict=True) if not np.isnan(v)]
    )


def noisy(n: int, level: float = 100.0, seed: int = 0, sd: float = 0.02) -> np.ndarray:
    return np.round(level * (1.0 + sd * np.random.default_rng(seed).standard_normal(n)), 3)


def keys(df: pd.DataFrame) -> set[tuple]:
    return set(zip(df["node"], df["ts"], df["variable"], df["source"], strict=True))


def check_contract(raw: pd.DataFrame, out: pd.DataFrame, audit: pd.DataFrame) -> None:
    validate_readings(out, allow_duplicates=False)
    assert list(out.columns) == list(raw.columns)
    assert (out.dtypes == raw.dtypes).all()
    assert isinstance(out.index, pd.RangeIndex)
    assert list(audit.columns) == list(AUDIT_COLUMNS)
    dropped = int((audit["action"] == "dropped").sum())
    filled = int((audit["action"] == "filled").sum())
    assert len(out) == len(raw) - dropped + filled


@pytest.fixture(scope="module")
def manufacturing():
    return sclm.make_scenario("manufacturing", seed=0, n_documents=0)


@pytest.fixture(scope="module")
def manufacturing_clean(manufacturing):
    cleaner = ReadingsCleaner(units=manufacturing.units)
    out = cleaner.fit_transform(manufacturing.readings)
    return cleaner, out, cleaner.audit_


# --------------------------------------------------------------------------------------------------
# units
# --------------------------------------------------------------------------------------------------


def test_cases_convert_to_units_with_the_declared_pack():
    raw = frame(
        [
            ("2024-01-01", "A", "inventory", 10.0, "case", "wms"),
            ("2024-01-01", "A", "inventory", 241.0, "unit", "erp"),
            ("2024-01-02", "A", "inventory", 2.5, "case", "wms"),
        ]
    )
    units = pd.DataFrame({"node": ["A"], "variable": ["inventory"], "unit": ["unit"], "units_per_case": [24]})
    out, audit = clean(raw, units=units)
    assert out["value"].tolist() == [240.0, 241.0, 60.0]
    assert out["unit"].tolist() == ["unit"] * 3
    conv = audit[audit["rule"] == "unit_conversion"]
    assert conv["action"].tolist() == ["changed", "changed"]
    assert conv["old_value"].tolist() == [10.0, 2.5]
    assert conv["new_value"].tolist() == [240.0, 60.0]
    assert conv["old_unit"].tolist() == ["case", "case"]
    assert conv["new_unit"].tolist() == ["unit", "unit"]
    assert conv["detail"].str.contains("x24").all()


def test_units_mapping_form_and_units_to_cases():
    raw = frame([("2024-01-01", "A", "inventory", 48.0, "unit", "erp")])
    out, _ = clean(raw, units={("A", "inventory"): 12})
    assert out["value"].tolist() == [48.0]
    to_cases = pd.DataFrame(
        {"node": ["A"], "variable": ["inventory"], "unit": ["case"], "units_per_case": [12]}
    )
    out, audit = clean(raw, units=to_cases)
    assert out["value"].tolist() == [4.0] and out["unit"].tolist() == ["case"]
    assert audit["rule"].tolist() == ["unit_conversion"]


def test_unit_converter_alone_keeps_rows_and_records_conversions():
    raw = frame(
        [
            ("2024-01-01", "A", "inventory", 1.0, "case", "wms"),
            ("2024-01-01", "A", "inventory", 6.0, "unit", "erp"),
        ]
    )
    conv = UnitConverter({("A", "inventory"): 6}).fit(raw)
    assert conv.fit(raw) is conv
    out = conv.transform(raw)
    assert out["value"].tolist() == [6.0, 6.0]
    assert conv.conversions_[["source", "from_unit", "to_unit", "factor", "readings"]].values.tolist() == [
        ["wms", "case", "unit", 6.0, 1]
    ]
    assert len(conv.audit_) == 1


def test_unknown_unit_names_unit_row_node_and_variable():
    raw = frame(
        [
            ("2024-01-01", "A", "inventory", 10.0, "unit", "erp"),
            ("2024-01-01", "A", "inventory", 3.0, "pallet", "wms"),
        ]
    )
    with pytest.raises(
        DataValidationError, match=r"unknown unit 'pallet' in row 1 \(node 'A', variable 'inventory'"
    ):
        clean(raw, units={("A", "inventory"): 24})
    # without a declaration, a second unit for one (node, variable) is unknown too
    cases = raw.assign(unit=["unit", "case"])
    with pytest.raises(DataValidationError, match=r"unknown unit 'case' in row 1 .*expected 'unit'"):
        clean(cases)


# --------------------------------------------------------------------------------------------------
# duplicates
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("rule", "kept"), [("first", 10.0), ("mean", 12.0), ("median", 11.0)])
def test_duplicates_resolve_by_rule(rule, kept):
    raw = frame(
        [
            ("2024-01-01", "A", "orders", 10.0, "unit", "erp"),
            ("2024-01-01", "A", "orders", 15.0, "unit", "erp"),
            ("2024-01-01", "A", "orders", 11.0, "unit", "erp"),
            ("2024-01-01", "B", "orders", 7.0, "unit", "erp"),
        ]
    )
    res = DuplicateResolver(rule)
    out = res.fit_transform(raw)
    assert out["value"].tolist() == [kept, 7.0]
    audit = res.audit_
    dropped = audit[audit["action"] == "dropped"]
    assert dropped["old_value"].tolist() == [15.0, 11.0]
    assert (dropped["rule"] == f"duplicate_{rule}").all()
    assert dropped["detail"].str.contains("repeated 3x; kept row 0").all()
    changed = audit[audit["action"] == "changed"]
    assert changed["new_value"].tolist() == ([] if rule == "first" else [kept])
    check_contract(raw, out, audit)


def test_duplicate_rule_is_checked():
    with pytest.raises(ValueError, match=r"rule='last' is not a duplicate rule; expected one of"):
        DuplicateResolver("last").fit(series([1.0, 2.0]))


# --------------------------------------------------------------------------------------------------
# noise rate
# --------------------------------------------------------------------------------------------------


def counter_and_reference(p: float, n: int = 60, seed: int = 0) -> pd.DataFrame:
    q = np.random.default_rng(seed).integers(200, 400, n).astype(float)
    days = pd.date_range("2024-01-01", periods=n)
    rows = [(d, "A", "production", (1 - p) * v, "unit", "iot") for d, v in zip(days, q, strict=True)]
    rows += [(d, "A", "production", v, "unit", "erp") for d, v in zip(days, q, strict=True)]
    return frame(rows)


def test_given_p_inverts_the_undercount():
    raw = counter_and_reference(0.2)
    corr = NoiseRateCorrector(p=0.2).fit(raw)
    out = corr.transform(raw)
    iot = out[out["source"] == "iot"]["value"].to_numpy()
    erp = out[out["source"] == "erp"]["value"].to_numpy()
    np.testing.assert_allclose(iot, erp, rtol=1e-12)
    assert corr.p_.loc[0, ["source", "variable", "reference"]].tolist() == ["iot", "production", "(given)"]
    assert list(corr.p_.columns) == list(P_COLUMNS)
    audit = corr.audit_
    assert (audit["rule"] == "noise_rate").all() and len(audit) == 60
    np.testing.assert_allclose(audit["new_value"], audit["old_value"] / 0.8, rtol=1e-15)


def test_p_is_estimated_against_the_reference_with_a_ci():
    raw = counter_and_reference(0.15, n=200)
    noisy_raw = raw.copy()
    rng = np.random.default_rng(1)
    iot = noisy_raw["source"] == "iot"
    noisy_raw.loc[iot, "value"] *= 1 + 0.01 * rng.standard_normal(int(iot.sum()))
    noisy_raw.loc[noisy_raw.index[iot][::50], "value"] *= 6.0  # spikes are trimmed
    corr = NoiseRateCorrector().fit(noisy_raw)
    row = corr.p_.iloc[0]
    assert row["reference"] == "erp" and row["n_days"] == 196 and row["n_screened"] == 4
    assert abs(row["p_hat"] - 0.15) < 0.003
    assert row["ci_low"] < 0.15 < row["ci_high"] and row["ci_high"] - row["ci_low"] < 0.01


def wilson(p_hat: float, n: float, z: float = 1.959963984540054) -> tuple[float, float]:
    c = z * z / n
    mid = (p_hat + c / 2) / (1 + c)
    half = z / (1 + c) * np.sqrt(p_hat * (1 - p_hat) / n + c / (4 * n))
    return mid - half, mid + half


def test_estimate_noise_rate_exact_and_screened():
    # continuous values on an exact ratio: no residual, a zero-width interval
    x = np.array([100.5, 200.5, 300.5, 400.5])
    est = estimate_noise_rate(0.9 * x, x)
    assert est["p_hat"] == pytest.approx(0.1, abs=1e-12) and est["n_days"] == 4 and est["n_screened"] == 0
    assert est["ci_low"] == pytest.approx(0.1, abs=1e-9) and est["ci_high"] == pytest.approx(0.1, abs=1e-9)
    # integer counts: thinning alone implies the binomial variance, so the interval is Wilson's at
    # sum(reference) = 1000 events even when every day matches exactly
    x = np.array([100.0, 200.0, 300.0, 400.0])
    est = estimate_noise_rate(0.9 * x, x)
    assert est["p_hat"] == pytest.approx(0.1, abs=1e-12)
    lo, hi = wilson(0.1, 1000.0)
    assert est["ci_low"] == pytest.approx(lo, rel=1e-9) and est["ci_high"] == pytest.approx(hi, rel=1e-9)
    y = 0.9 * x
    y[1] = 0.0  # a drop in the counter: set aside, the ratio of the other three is exact
    est = estimate_noise_rate(y, x)
    assert est["n_days"] == 3 and est["n_screened"] == 1 and est["p_hat"] == pytest.approx(0.1, abs=1e-12)
    assert np.isnan(estimate_noise_rate(np.array([]), np.array([]))["p_hat"])


def test_p_per_source_and_pair_mappings():
    raw = counter_and_reference(0.1)
    a = NoiseRateCorrector(p={"iot": 0.1}).fit(raw).p_
    b = NoiseRateCorrector(p={("iot", "production"): 0.1}).fit(raw).p_
    assert a["p_hat"].tolist() == b["p_hat"].tolist() == [0.1]
    c = NoiseRateCorrector(p={("iot", "production"): None}).fit(raw).p_
    assert c["reference"].tolist() == ["erp"] and c["p_hat"].iloc[0] == pytest.approx(0.1, abs=1e-12)
    assert a["applied"].tolist() == c["applied"].tolist() == [True]


def test_an_estimate_outside_0_1_warns_and_is_not_applied():
    raw = counter_and_reference(0.1)
    corr = NoiseRateCorrector(reference={"erp": "iot"})  # erp reconciled against iot: it over-counts
    with pytest.warns(UserWarning, match=r"estimate p_hat=-0\.1111 .* is outside \[0, 1\); not corrected"):
        corr.fit(raw)
    d = corr.p_
    assert d["source"].tolist() == ["erp"] and d["p_hat"].iloc[0] == pytest.approx(1 - 1 / 0.9, abs=1e-12)
    assert d["applied"].tolist() == [False] and d["n_days"].tolist() == [60]
    out = corr.transform(raw)
    pd.testing.assert_frame_equal(out, raw)  # nothing divided by 1 - p_hat > 1
    assert len(corr.audit_) == 0


def test_missing_reference_warns_and_does_not_correct():
    raw = series(noisy(30), source="iot")
    with pytest.warns(UserWarning, match=r"no day on which reference source 'erp' reports"):
        corr = NoiseRateCorrector().fit(raw)
    assert corr.p_["applied"].tolist() == [False] and np.isnan(corr.p_["p_hat"].iloc[0])
    out = corr.transform(raw)
    pd.testing.assert_frame_equal(out, raw)


@pytest.mark.parametrize("p", [1, 1.0, -0.1, 1.5, float("nan")])
def test_p_out_of_range_raises(p):
    raw = counter_and_reference(0.1)
    with pytest.raises(ValueError, match=r"p=.* is out of range; expected 0 <= p < 1"):
        clean(raw, p=p)
    with pytest.raises(ValueError, match=r"out of range; expected 0 <= p < 1"):
        clean(raw, p={"iot": p})


def test_p_not_a_number_raises():
    with pytest.raises(ValueError, match=r"p must be None \(estimate\), a number in \[0, 1\).*got '0.1'"):
        clean(counter_and_reference(0.1), p="0.1")


# --------------------------------------------------------------------------------------------------
# outliers
# --------------------------------------------------------------------------------------------------


def test_hampel_flags_a_spike_and_the_gap_step_refills_it():
    values = noisy(40)
    values[20] *= 5.0
    raw = series(values)
    out, audit = clean(raw, fill="linear")
    assert audit["rule"].tolist() == ["outlier_hampel"] and audit["action"].tolist() == ["changed"]
    row = audit.iloc[0]
    assert row["ts"] == pd.Timestamp("2024-01-21") and row["old_value"] == values[20]
    expected = (values[19] + values[21]) / 2  # linear interpolation of the neighbours
    assert row["new_value"] == pytest.approx(expected, rel=1e-12)
    assert out["value"].iloc[20] == pytest.approx(expected, rel=1e-12)
    assert "z=" in row["detail"] and "> 5" in row["detail"]
    check_contract(raw, out, audit)


def test_outlier_filter_alone_drops_and_records_the_rule():
    values = noisy(40)
    values[10] *= 0.01  # a drop
    raw = series(values)
    filt = OutlierFilter().fit(raw)
    assert "z > 5" in filt.rule_ and "x <= b/10" in filt.rule_
    out = filt.transform(raw)
    assert len(out) == 39 and filt.audit_["action"].tolist() == ["dropped"]
    assert filt.audit_["old_value"].tolist() == [values[10]]


def test_true_zeros_and_moderate_swings_are_kept():
    values = noisy(40)
    values[15] = 0.0  # a stock-out: an exact zero of a count series
    values[25] *= 1.8  # below the x2 spike floor
    out, audit = clean(series(values))
    assert len(audit) == 0 and out["value"].tolist() == list(values)
    # with the protection off, the zero is flagged as a drop
    _, audit = clean(series(values), protect_zeros=False)
    assert audit["ts"].tolist() == [pd.Timestamp("2024-01-16")]


def test_cross_source_confirms_a_real_spike_and_catches_a_lone_deviation():
    base = noisy(40)
    erp, mes, iot = base.copy(), noisy(40, seed=1), noisy(40, seed=2)
    erp[12] *= 5.0  # every source sees the spike: a real event, kept
    mes[12] *= 5.0
    iot[12] *= 5.0
    iot[30] *= 0.3  # far from the other two sources, too mild for the temporal rule
    raw = pd.concat(
        [series(erp, source="erp"), series(mes, source="mes"), series(iot, source="iot")], ignore_index=True
    )
    out, audit = clean(raw, p=0.0)
    assert audit["rule"].tolist() == ["outlier_cross_source"]
    assert audit[["ts", "source"]].values.tolist() == [[pd.Timestamp("2024-01-31"), "iot"]]
    assert "disagrees" in audit["detail"].iloc[0]
    check_contract(raw, out, audit)


def test_piecewise_constant_series_are_not_screened():
    price = np.r_[np.full(20, 2.99), np.full(20, 1.49)]
    flag = np.zeros(40)
    flag[[5, 6, 7, 30]] = 1.0
    raw = pd.concat(
        [series(price, variable="price", unit="EUR"), series(flag, variable="promotion", unit="flag")],
        ignore_index=True,
    )
    out, audit = clean(raw)
    assert len(audit) == 0
    pd.testing.assert_frame_equal(out, raw)


# --------------------------------------------------------------------------------------------------
# gaps
# --------------------------------------------------------------------------------------------------


def test_short_gaps_filled_long_gaps_reported():
    values = np.arange(1.0, 21.0) * 10.0
    values[[3, 4]] = np.nan  # 2 days: filled
    values[10:15] = np.nan  # 5 days: reported
    raw = series(values)
    filler = GapFiller(max_gap=3, method="linear").fit(raw)
    out = filler.transform(raw)
    filled = out.iloc[len(raw) :]
    assert filled["ts"].tolist() == [pd.Timestamp("2024-01-04"), pd.Timestamp("2024-01-05")]
    assert filled["value"].tolist() == [40.0, 50.0]
    assert filled["node_type"].tolist() == ["plant", "plant"]
    audit = filler.audit_
    assert audit["action"].tolist() == ["filled", "filled", "reported"]
    assert audit["rule"].tolist() == ["gap_linear", "gap_linear", "gap_too_long"]
    assert "gap of 5 day(s) 2024-01-11..2024-01-15 > max_gap=3" in audit["detail"].iloc[2]
    gaps = filler.gaps_
    assert list(gaps.columns) == list(GAP_COLUMNS)
    assert gaps[["days", "action"]].values.tolist() == [[2, "filled"], [5, "reported"]]
    assert not (keys(out) & {("A", pd.Timestamp("2024-01-12"), "production", "erp")})
    check_contract(raw, out, audit)


def test_seasonal_fill_follows_the_weekday_profile():
    weekly = np.array([1.2, 1.2, 1.2, 1.2, 1.2, 0.5, 0.5])
    values = 100.0 * np.tile(weekly, 8)  # 2024-01-01 is a Monday
    values[40] = np.nan  # a Saturday between a Friday and a Sunday
    out, audit = clean(series(values), max_gap=3)
    assert audit["rule"].tolist() == ["gap_seasonal"]
    assert audit["new_value"].iloc[0] == pytest.approx(50.0)
    _, lin = clean(series(values), fill="linear")
    assert lin["new_value"].iloc[0] == pytest.approx(85.0)
    _, wk = clean(series(values), fill="weekday")
    assert wk["new_value"].iloc[0] == pytest.approx(50.0)


def test_max_gap_zero_reports_every_gap():
    values = noisy(20)
    values[5] = np.nan
    out, audit = clean(series(values), max_gap=0)
    assert audit["action"].tolist() == ["reported"] and len(out) == 19


# --------------------------------------------------------------------------------------------------
# pipeline, audit, API
# --------------------------------------------------------------------------------------------------


def test_clean_equals_fit_then_transform_and_keeps_input(manufacturing, manufacturing_clean):
    raw = manufacturing.readings
    before = raw.copy(deep=True)
    cleaner, out, audit = manufacturing_clean
    again, audit2 = clean(raw, units=manufacturing.units)
    pd.testing.assert_frame_equal(out, again)
    pd.testing.assert_frame_equal(audit, audit2)
    separate = ReadingsCleaner(units=manufacturing.units).fit(raw).transform(raw)
    pd.testing.assert_frame_equal(out, separate)
    pd.testing.assert_frame_equal(raw, before)
    check_contract(raw, out, audit)


def test_audit_summary_counts_rules_and_actions(manufacturing_clean):
    _, _, audit = manufacturing_clean
    assert isinstance(audit, Audit)
    table = audit.summary()
    assert list(table.columns) == [*ACTIONS, "total"]
    assert table.index.tolist()[:3] == ["unit_conversion", "duplicate_first", "noise_rate"]
    assert table.loc["duplicate_first", "dropped"] == (audit["rule"] == "duplicate_first").sum()
    assert int(table["total"].sum()) == len(audit)
    pd.testing.assert_frame_equal(summary(audit), table)
    assert isinstance(audit[audit["action"] == "filled"], Audit)


def test_imputed_keys_from_the_codes_equal_the_audit_scan(manufacturing, manufacturing_clean):
    cleaner, _, audit = manufacturing_clean
    keys_ = cleaner.imputed_
    assert len(keys_) > 100 and set(keys_.columns) == {"node", "ts", "variable", "source"}
    pd.testing.assert_frame_equal(keys_, pd.DataFrame(scoring.imputed_keys(audit)))
    # an outlier replaced by a fill counts, a dropped one does not; a stale value is never returned
    values = noisy(40)
    values[20] *= 5.0
    for fill, n in (("linear", 1), (None, 0)):
        options = {"fill": fill} if fill else {"max_gap": 0}
        c = ReadingsCleaner(p=0.0, **options)
        c.fit_transform(series(values))
        assert len(c.imputed_) == n
        pd.testing.assert_frame_equal(c.imputed_, pd.DataFrame(scoring.imputed_keys(c.audit_)))
    c.audit_ = audit
    pd.testing.assert_frame_equal(c.imputed_, keys_, check_frame_type=False)


def test_scenario_p_estimate_is_accurate_with_a_ci(manufacturing_clean):
    cleaner, _, _ = manufacturing_clean
    row = cleaner.p_.set_index(["source", "variable"]).loc[("iot", "production")]
    assert abs(row["p_hat"] - 0.1) <= 0.01
    assert row["ci_low"] <= 0.1 <= row["ci_high"]
    assert row["n_days"] > 3000 and row["reference"] == "erp"


def test_scenario_outliers_precision_recall(manufacturing, manufacturing_clean):
    _, _, audit = manufacturing_clean
    faults = manufacturing.faults
    truth = keys(faults[faults["kind"] == "outlier"])
    flagged = keys(audit[audit["rule"].str.startswith("outlier")])
    hits = len(truth & flagged)
    assert hits / len(flagged) >= 0.9
    assert hits / len(truth) >= 0.9


def test_scenario_duplicates_audit_equals_the_duplicate_faults(manufacturing, manufacturing_clean):
    _, out, audit = manufacturing_clean
    faults = manufacturing.faults
    dropped = audit[audit["action"] == "dropped"]
    dup = dropped[dropped["rule"] == "duplicate_first"]
    assert keys(dup) == keys(faults[faults["kind"] == "duplicate"])
    assert len(dup) == (faults["kind"] == "duplicate").sum()


def test_scenario_units_back_to_truth_and_iot_closer_to_truth(manufacturing, manufacturing_clean):
    _, out, _ = manufacturing_clean
    truth = manufacturing.truth
    wms = out[(out["source"] == "wms") & (out["variable"] == "inventory")]
    assert (wms["unit"] == "unit").all()
    t = truth["inventory"].reindex(pd.MultiIndex.from_arrays([wms["node"], wms["ts"]])).to_numpy()
    assert np.median(np.abs(wms["value"].to_numpy() / t - 1)) < 0.03
    raw = manufacturing.readings
    for df, bound in ((raw, None), (out, 0.3)):
        iot = df[(df["source"] == "iot") & (df["variable"] == "production")].drop_duplicates(
            ["node", "ts", "variable", "source"]
        )
        tq = truth["production"].reindex(pd.MultiIndex.from_arrays([iot["node"], iot["ts"]])).to_numpy()
        rmse = float(np.sqrt(np.mean((iot["value"].to_numpy() - tq) ** 2)))
        if bound is None:
            raw_rmse = rmse
        else:
            assert rmse < bound * raw_rmse


def test_scenario_long_gap_is_reported_not_filled(manufacturing):
    raw = manufacturing.readings
    hole = (
        (raw["node"] == "plant_01")
        & (raw["source"] == "iot")
        & raw["ts"].between(pd.Timestamp("2023-06-01"), pd.Timestamp("2023-06-06"))
    )
    out, audit = clean(raw[~hole].reset_index(drop=True), units=manufacturing.units)
    rep = audit[(audit["action"] == "reported") & (audit["node"] == "plant_01") & (audit["source"] == "iot")]
    assert len(rep) == 1 and rep["ts"].iloc[0] == pd.Timestamp("2023-06-01")
    assert "gap of 6 day(s)" in rep["detail"].iloc[0]
    sel = (out["node"] == "plant_01") & (out["source"] == "iot")
    assert not out[sel]["ts"].between(pd.Timestamp("2023-06-01"), pd.Timestamp("2023-06-06")).any()


def test_fit_on_one_table_transform_another(manufacturing):
    other = sclm.make_scenario("manufacturing", seed=1, n_documents=0)
    cleaner = ReadingsCleaner(units=manufacturing.units).fit(manufacturing.readings)
    out = cleaner.transform(other.readings.iloc[:5000])
    validate_readings(out, allow_duplicates=False)
    assert (cleaner.audit_["rule"] == "noise_rate").any()


def test_skip_steps_and_sort(manufacturing):
    raw = manufacturing.readings
    out, audit = clean(raw, units=manufacturing.units, skip=("outliers", "gaps", "noise_rate"), sort=True)
    assert set(audit["rule"]) == {"unit_conversion", "duplicate_first"}
    assert out[["node", "ts", "variable", "source"]].equals(
        out.sort_values(["node", "ts", "variable", "source"])[
            ["node", "ts", "variable", "source"]
        ].reset_index(drop=True)
    )
    with pytest.raises(DataValidationError, match=r"duplicate key .*resolve duplicates first"):
        clean(raw, units=manufacturing.units, skip=("duplicates",))
    with pytest.raises(ValueError, match=r"skip: unknown step 'outlier'"):
        clean(raw, skip=("outlier",))


def test_sklearn_conventions():
    cleaner = ReadingsCleaner(max_gap=2)
    assert cleaner.get_params()["max_gap"] == 2
    assert cleaner.set_params(fill="linear") is cleaner and cleaner.fill == "linear"
    assert repr(cleaner) == "ReadingsCleaner(max_gap=2, fill='linear')"
    with pytest.raises(ValueError, match="invalid parameter"):
        cleaner.set_params(bogus=1)
    raw = series(noisy(10))
    with pytest.raises(NotFittedError, match="not fitted yet"):
        cleaner.transform(raw)
    assert cleaner.fit(raw) is cleaner
    assert list(cleaner.get_feature_names_out()) == list(READING_COLUMNS)
    assert cleaner.n_features_in_ == 7
    sk = pytest.importorskip("sklearn.base")
    twin = sk.clone(cleaner)
    assert twin.get_params() == cleaner.get_params() and not hasattr(twin, "p_")


def test_threads_do_not_change_the_result(manufacturing):
    a, audit_a = clean(manufacturing.readings, units=manufacturing.units, n_jobs=1)
    b, audit_b = clean(manufacturing.readings, units=manufacturing.units, n_jobs=3)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(audit_a, audit_b)


@pytest.mark.parametrize("name", ["logistics", "retail"])
def test_other_scenarios_clean_to_the_contract(name):
    sc = sclm.make_scenario(name, seed=0, n_documents=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, audit = clean(sc.readings, units=sc.units)
    check_contract(sc.readings, out, audit)
    assert not audit[audit["variable"].isin(["price", "promotion"])]["rule"].str.startswith("outlier").any()


# --------------------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------------------


def test_empty_table_raises():
    with pytest.raises(DataValidationError, match=r"the table is empty"):
        clean(frame([]))


def test_wrong_dtypes_raise():
    raw = series(noisy(5))
    with pytest.raises(DataValidationError, match=r"column 'value' has dtype object; expected float64"):
        clean(raw.assign(value=raw["value"].astype(str)))
    with pytest.raises(DataValidationError, match=r"column 'value' has dtype int64; expected float64"):
        clean(raw.assign(value=raw["value"].astype(np.int64)))
    with pytest.raises(DataValidationError, match=r"column 'ts' has dtype object; expected datetime64\[ns\]"):
        clean(raw.assign(ts=raw["ts"].astype(str)))
    with pytest.raises(DataValidationError, match=r"missing column 'unit'"):
        clean(raw.drop(columns="unit"))
    with pytest.raises(DataValidationError, match=r"expected a pandas DataFrame"):
        clean(raw.to_dict())


def test_nan_dates_values_and_labels_raise():
    raw = series(noisy(5))
    with pytest.raises(DataValidationError, match=r"column 'ts' has NaN/None in rows \[2\]"):
        clean(raw.assign(ts=raw["ts"].where(raw.index != 2)))
    with pytest.raises(DataValidationError, match=r"column 'value' has NaN/None in rows \[1\]"):
        clean(raw.assign(value=raw["value"].where(raw.index != 1)))
    with pytest.raises(DataValidationError, match=r"column 'node' has NaN/None in rows \[3\]"):
        clean(raw.assign(node=raw["node"].where(raw.index != 3)))
    with pytest.raises(DataValidationError, match=r"infinite values in rows \[0\]"):
        clean(raw.assign(value=np.r_[np.inf, raw["value"].to_numpy()[1:]]))
    with pytest.raises(DataValidationError, match=r"negative quantity in rows \[4\]"):
        clean(raw.assign(value=np.r_[raw["value"].to_numpy()[:4], -1.0]))
    with pytest.raises(DataValidationError, match=r"times of day in rows \[0\]"):
        clean(raw.assign(ts=raw["ts"] + pd.to_timedelta(np.r_[6, 0, 0, 0, 0], unit="h")))


def test_bad_options_raise():
    raw = series(noisy(10))
    with pytest.raises(ValueError, match=r"fill method 'cubic' is unknown"):
        clean(raw, fill="cubic")
    with pytest.raises(ValueError, match=r"max_gap=-1 is out of range"):
        clean(raw, max_gap=-1)
    with pytest.raises(ValueError, match=r"units_per_case=0.0 .* is not a positive number"):
        clean(raw, units={("A", "production"): 0})
    with pytest.raises(ValueError, match=r"reference: source 'iot' cannot be its own reference"):
        clean(raw, reference={"iot": "iot"})
    with pytest.raises(TypeError):
        clean(raw, bogus=1)


# --------------------------------------------------------------------------------------------------
# the shared label encoding (sclm._labels, used by the cleaning and fusion engines)
# --------------------------------------------------------------------------------------------------


def test_sorted_codes_index_the_sorted_labels():
    from sclm._labels import NonStringLabelError, sorted_codes

    values = np.array(["b", "a", "c", "a", "b"], dtype=object)
    codes, uniques = sorted_codes(values)
    assert (
        uniques.tolist() == ["a", "b", "c"] and codes.tolist() == [1, 0, 2, 0, 1] and codes.dtype == np.int32
    )
    # a long sorted column is hashed one value per run: same codes
    long = np.repeat(np.array(["n2", "n0", "n1"], dtype=object), 100_000)
    fast, fast_u = sorted_codes(long, runs=True)
    slow, slow_u = sorted_codes(long)
    np.testing.assert_array_equal(fast, slow)
    assert fast_u.tolist() == slow_u.tolist() == ["n0", "n1", "n2"] and fast[0] == 2
    missing = np.array(["b", None, "a"], dtype=object)
    assert sorted_codes(missing, missing="sentinel")[0].tolist() == [1, -1, 0]
    with pytest.raises(NonStringLabelError):
        sorted_codes(missing)
    with pytest.raises(TypeError):  # numpy.str_ is not a plain str unless allowed
        sorted_codes(np.array([np.str_("a"), "b"], dtype=object))
    assert sorted_codes(np.array([np.str_("a"), "b"], dtype=object), str_subclasses=True)[0].tolist() == [
        0,
        1,
    ]
    keys, key_u = sorted_codes(np.array([30, 10, 20, 10]))  # integer keys: by value
    assert keys.tolist() == [2, 0, 1, 0] and key_u.tolist() == [10, 20, 30]


def test_sorted_codes_by_object_identity_equal_the_codes_by_value():
    """Long object columns are coded by address first; equal strings in distinct objects still merge."""
    from sclm._labels import NonStringLabelError, _pointer_codes, sorted_codes

    rng = np.random.default_rng(0)
    idx = rng.integers(0, 7, 20_000)
    shared = np.array([f"lab{i}" for i in range(7)], dtype=object)[idx]
    distinct = np.array(["".join(["lab", str(i)]) for i in idx], dtype=object)  # one object per row
    assert len(_pointer_codes(shared)[1]) == 7 and len(_pointer_codes(distinct)[1]) > 7
    for values in (shared, distinct, np.concatenate([shared, distinct])):
        fast, fast_u = sorted_codes(values)
        slow, slow_u = sorted_codes(values, _pointers=False)
        np.testing.assert_array_equal(fast, slow)
        assert fast.dtype == np.int32 and fast_u.tolist() == slow_u.tolist() == sorted(set(shared))
    holes = shared.copy()
    holes[[5, 900]] = None
    codes, _ = sorted_codes(holes, missing="sentinel")
    assert codes[5] == codes[900] == -1 and (np.delete(codes, [5, 900]) >= 0).all()
    with pytest.raises(NonStringLabelError):
        sorted_codes(holes)
    holes[5] = 3
    with pytest.raises(NonStringLabelError):
        sorted_codes(holes, missing="sentinel")


def test_category_codes_see_a_category_used_once_and_drop_unused_ones():
    from sclm._labels import category_codes

    codes = np.zeros(10_000, dtype=np.int8)
    codes[4_999] = 2  # off the strided sample
    col = pd.Series(pd.Categorical.from_codes(codes, categories=["b", "z", "a"]))
    got, uniques = category_codes(col)
    assert uniques.tolist() == ["a", "b"] and got[4_999] == 0 and (np.delete(got, 4_999) == 1).all()
    sorted_col = pd.Series(pd.Categorical.from_codes(np.arange(10_000) % 3, categories=["a", "b", "c"]))
    got, uniques = category_codes(sorted_col)
    assert uniques.tolist() == ["a", "b", "c"] and got.dtype == np.int32
    np.testing.assert_array_equal(got, np.arange(10_000) % 3)


_LABELS = ["node", "node_type", "variable", "unit", "source"]


@pytest.mark.parametrize("name", ["retail", "manufacturing"])
def test_categorical_labels_give_the_object_result(name):
    """A Readings table with category label columns cleans and fuses to the object-label result."""
    import sclm.scoring as scoring
    from sclm.fusion import fuse

    sc = (
        sclm.make_scenario(name, n_days=120)
        if name == "retail"
        else sclm.make_scenario(name, n_nodes=12, n_days=120)
    )
    raw = sc.readings
    cat = raw.astype({k: "category" for k in _LABELS})
    c1, a1 = sclm.clean(raw, units=sc.units)
    c2, a2 = sclm.clean(cat, units=sc.units)
    sclm.validate_readings(c2, allow_duplicates=False)
    assert all(isinstance(c2[k].dtype, pd.CategoricalDtype) for k in _LABELS)
    assert (c2["unit"] != "case").all()  # converted rows carry the target unit's category
    pd.testing.assert_frame_equal(c2.astype({k: object for k in _LABELS}), c1)
    pd.testing.assert_frame_equal(a2, a1)
    p1 = fuse(c1, imputed=scoring.imputed_keys(a1))
    p2 = fuse(c2, imputed=scoring.imputed_keys(a2))
    pd.testing.assert_frame_equal(p2, p1)


def test_categorical_labels_are_schema_checked():
    raw = sclm.make_scenario("retail", n_days=30).readings
    cat = raw.astype({k: "category" for k in _LABELS})
    numeric = cat.copy()
    numeric["node"] = numeric["node"].cat.rename_categories(range(len(numeric["node"].cat.categories)))
    with pytest.raises(sclm.DataValidationError, match="str categories"):
        sclm.clean(numeric)
    missing = cat.copy()
    missing.loc[3, "source"] = None
    with pytest.raises(sclm.DataValidationError, match="source"):
        sclm.clean(missing)
