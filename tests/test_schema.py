"""Each contract violation raises an error whose message says where, what and what was expected."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sclm.schema import DataValidationError, UnknownNameError, unknown_name, validate_panel, validate_readings


def readings(n: int = 4) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ts": pd.date_range("2024-01-01", periods=n, freq="D"),
            "node": ["P1"] * n,
            "node_type": ["plant"] * n,
            "variable": ["production"] * n,
            "value": np.arange(n, dtype=float) + 10.0,
            "unit": ["unit"] * n,
            "source": ["erp"] * n,
        }
    )


def panel(n: int = 5) -> pd.DataFrame:
    idx = pd.MultiIndex.from_product(
        [["A", "B"], pd.date_range("2024-01-01", periods=n)], names=["node", "ts"]
    )
    return pd.DataFrame({"production": np.ones(len(idx)), "inventory": np.full(len(idx), 5.0)}, index=idx)


def test_valid_inputs_pass_unchanged():
    r = readings()
    assert validate_readings(r) is r
    p = panel()
    assert validate_panel(p) is p


def test_missing_column_names_the_column_and_file():
    with pytest.raises(DataValidationError, match=r"erp\.csv.*missing column 'unit'.*expected columns"):
        validate_readings(readings().drop(columns="unit"), source="erp.csv")


def test_wrong_dtype_names_column_and_expected_dtype():
    bad = readings().assign(value=lambda d: d["value"].astype(str))
    with pytest.raises(DataValidationError, match=r"column 'value' has dtype object; expected float64"):
        validate_readings(bad)


def test_wrong_ts_dtype():
    bad = readings().assign(ts=lambda d: d["ts"].dt.strftime("%Y-%m-%d"))
    with pytest.raises(DataValidationError, match=r"column 'ts' has dtype object; expected datetime64"):
        validate_readings(bad)


def test_negative_quantity_names_the_row_and_variable():
    bad = readings()
    bad.loc[2, "value"] = -3.0
    with pytest.raises(
        DataValidationError,
        match=r"negative quantity in rows \[2\].*'production'.*-3\.0.*expected value >= 0",
    ):
        validate_readings(bad)


def test_negative_value_allowed_for_non_quantities():
    ok = readings().assign(variable="ambient_temp", value=-5.0)
    validate_readings(ok)


def test_duplicate_key_rejected_when_not_allowed():
    bad = pd.concat([readings(), readings().iloc[[1]]], ignore_index=True)
    validate_readings(bad)  # raw readings may repeat ERP records
    with pytest.raises(
        DataValidationError, match=r"duplicate key \['node', 'ts', 'variable', 'source'\] in rows \[1, 4\]"
    ):
        validate_readings(bad, allow_duplicates=False)


def test_nan_value_names_column_and_rows():
    bad = readings()
    bad.loc[1, "value"] = np.nan
    with pytest.raises(
        DataValidationError, match=r"column 'value' has NaN/None in rows \[1\].*expected no missing"
    ):
        validate_readings(bad)


def test_nat_date_names_column():
    bad = readings()
    bad.loc[0, "ts"] = pd.NaT
    with pytest.raises(DataValidationError, match=r"column 'ts' has NaN/None in rows \[0\]"):
        validate_readings(bad)


def test_empty_table_and_not_a_frame():
    with pytest.raises(DataValidationError, match="the table is empty"):
        validate_readings(readings().iloc[:0])
    with pytest.raises(DataValidationError, match="expected a pandas DataFrame, got list"):
        validate_readings([1, 2])


def test_panel_errors():
    p = panel()
    with pytest.raises(DataValidationError, match=r"column 'production' has 1 NaN, first at \[\('A'"):
        validate_panel(p.assign(production=lambda d: d["production"].where(np.arange(len(d)) != 0)))
    with pytest.raises(DataValidationError, match=r"duplicate key \(node, ts\)"):
        validate_panel(pd.concat([p, p.iloc[[3]]]))
    with pytest.raises(DataValidationError, match=r"column 'inventory' has 1 negative values"):
        validate_panel(p.assign(inventory=lambda d: np.where(np.arange(len(d)) == 7, -1.0, 5.0)))
    with pytest.raises(
        DataValidationError, match=r"node 'A' is not daily: 2024-01-02 is followed by 2024-01-04"
    ):
        validate_panel(p.drop(index=("A", pd.Timestamp("2024-01-03"))))
    with pytest.raises(DataValidationError, match=r"index levels are \[None\]; expected \['node', 'ts'\]"):
        validate_panel(p.reset_index(drop=True))
    with pytest.raises(DataValidationError, match=r"column 'flag' has dtype object; expected float"):
        validate_panel(p.assign(flag="x"))


def test_unknown_name_lists_known_names():
    err = unknown_name("scenario", "bakery", ["retail", "logistics"])
    assert isinstance(err, UnknownNameError) and isinstance(err, KeyError)
    assert str(err) == "unknown scenario 'bakery'; expected one of: logistics, retail"
