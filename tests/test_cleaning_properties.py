"""Property-based invariants of sclm.cleaning (hypothesis): nothing lost, exact inversion, no-op on clean data,
input never mutated."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sclm.cleaning import clean
from sclm.schema import validate_readings

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
VARIABLES = ("production", "inventory")
SOURCES = ("erp", "mes", "iot")
KEY = ["node", "ts", "variable", "source"]


def readings(rows: list[tuple]) -> pd.DataFrame:
    """(day, node, variable, value, unit, source) tuples → a Readings table."""
    df = pd.DataFrame(rows, columns=["day", "node", "variable", "value", "unit", "source"])
    return pd.DataFrame(
        {
            "ts": (pd.Timestamp("2024-01-01") + pd.to_timedelta(df["day"], unit="D")).astype(
                "datetime64[ns]"
            ),
            "node": df["node"].astype(object),
            "node_type": np.full(len(df), "plant", dtype=object),
            "variable": df["variable"].astype(object),
            "value": df["value"].astype(np.float64),
            "unit": df["unit"].astype(object),
            "source": df["source"].astype(object),
        }
    )


@st.composite
def messy(draw) -> tuple[pd.DataFrame, dict]:
    """Several series with missing days, duplicates, spikes, drops and one source in cases."""
    n_days = draw(st.integers(3, 40))
    nodes = draw(st.lists(st.sampled_from(["A", "B", "C"]), min_size=1, max_size=2, unique=True))
    variables = draw(st.lists(st.sampled_from(VARIABLES), min_size=1, max_size=2, unique=True))
    sources = draw(st.lists(st.sampled_from(SOURCES), min_size=1, max_size=3, unique=True))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    cases = draw(st.booleans())
    pack = 12
    rows = []
    for node in nodes:
        for var in variables:
            level = rng.uniform(5, 500)
            for src in sources:
                in_cases = cases and src == "erp" and var == "inventory"
                for d in range(n_days):
                    if rng.random() < 0.15:
                        continue  # missing day
                    v = level * (1 + 0.2 * rng.standard_normal())
                    v = max(v, 0.0)
                    u = rng.random()
                    if u < 0.05:
                        v *= rng.uniform(3, 10)
                    elif u < 0.08:
                        v *= rng.uniform(0, 0.05)
                    elif u < 0.1:
                        v = 0.0
                    value = v / pack if in_cases else v
                    row = (d, node, var, round(value, 4), "case" if in_cases else "unit", src)
                    rows.append(row)
                    if rng.random() < 0.05:
                        rows.append(row[:3] + (round(value * rng.uniform(0.98, 1.02), 4),) + row[4:])
    if not rows:
        rows.append((0, nodes[0], variables[0], 1.0, "unit", sources[0]))
    order = rng.permutation(len(rows)) if draw(st.booleans()) else np.arange(len(rows))
    raw = readings([rows[i] for i in order])
    units = {(n, v): pack for n in nodes for v in VARIABLES}
    options = {
        "units": units,
        "duplicates": draw(st.sampled_from(["first", "mean", "median"])),
        "max_gap": draw(st.integers(0, 4)),
        "fill": draw(st.sampled_from(["seasonal", "linear", "weekday"])),
    }
    return raw, options


@pytest.mark.filterwarnings("ignore:noise rate of source:UserWarning")
@SETTINGS
@given(messy())
def test_no_row_is_lost_without_an_audit_entry(case):
    raw, options = case
    out, audit = clean(raw, **options)
    validate_readings(out, allow_duplicates=False)
    dropped = audit[audit["action"] == "dropped"]
    filled = audit[audit["action"] == "filled"]
    assert len(out) == len(raw) - len(dropped) + len(filled)
    raw_keys = set(map(tuple, raw[KEY].to_numpy()))
    out_keys = set(map(tuple, out[KEY].to_numpy()))
    # a key that disappeared was dropped (and audited); a key that appeared was filled
    assert raw_keys - out_keys <= set(map(tuple, dropped[KEY].to_numpy()))
    assert out_keys - raw_keys == set(map(tuple, filled[KEY].to_numpy()))
    # every changed value is recorded with its old and new value
    assert audit["action"].isin(["changed", "dropped", "filled", "reported"]).all()
    assert not audit.loc[audit["action"] == "changed", ["old_value", "new_value"]].isna().any().any()


@st.composite
def undercounted(draw) -> tuple[pd.DataFrame, float]:
    """An exact undercount: iot = (1 - p)·q, erp = q, every day present, no noise."""
    p = draw(st.floats(0.0, 0.6, allow_nan=False))
    n_days = draw(st.integers(2, 40))
    nodes = draw(st.lists(st.sampled_from(["A", "B", "C"]), min_size=1, max_size=3, unique=True))
    q = draw(st.lists(st.integers(1, 5000), min_size=n_days * len(nodes), max_size=n_days * len(nodes)))
    rows = []
    for i, node in enumerate(nodes):
        for d in range(n_days):
            qq = float(q[i * n_days + d])
            rows.append((d, node, "production", (1 - p) * qq, "unit", "iot"))
            rows.append((d, node, "production", qq, "unit", "erp"))
    return readings(rows), p


@SETTINGS
@given(undercounted())
def test_given_p_inverts_an_exact_undercount(case):
    raw, p = case
    out, audit = clean(raw, p=p)
    iot = out[out["source"] == "iot"].set_index(["node", "ts"])["value"]
    erp = out[out["source"] == "erp"].set_index(["node", "ts"])["value"]
    np.testing.assert_allclose(iot.sort_index().to_numpy(), erp.sort_index().to_numpy(), rtol=1e-12)
    assert set(audit["rule"]) <= {"noise_rate"}
    assert len(out) == len(raw)


@st.composite
def tidy(draw) -> pd.DataFrame:
    """Already clean readings: complete days, one row per key, one unit, sources that agree."""
    n_days = draw(st.integers(1, 40))
    nodes = draw(st.lists(st.sampled_from(["A", "B", "C"]), min_size=1, max_size=2, unique=True))
    variables = draw(st.lists(st.sampled_from(VARIABLES), min_size=1, max_size=2, unique=True))
    sources = draw(st.lists(st.sampled_from(("erp", "mes", "wms")), min_size=1, max_size=3, unique=True))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    rows = []
    for node in nodes:
        for var in variables:
            level = rng.uniform(1, 1000)
            for src in sources:
                for d in range(n_days):
                    rows.append((d, node, var, round(level * rng.uniform(0.85, 1.15), 3), "unit", src))
    raw = readings(rows)
    return raw.sample(frac=1.0, random_state=seed).reset_index(drop=True) if draw(st.booleans()) else raw


@SETTINGS
@given(tidy())
def test_cleaning_clean_data_changes_nothing(raw):
    out, audit = clean(raw)
    assert len(audit) == 0
    pd.testing.assert_frame_equal(out, raw)


@pytest.mark.filterwarnings("ignore:noise rate of source:UserWarning")
@SETTINGS
@given(messy())
def test_the_input_is_never_mutated(case):
    raw, options = case
    raw.index = raw.index + 100  # a non-default index must survive too
    before = raw.copy(deep=True)
    clean(raw, **options)
    pd.testing.assert_frame_equal(raw, before)
