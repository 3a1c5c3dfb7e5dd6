"""Scoring cleaning and fusion against answer keys: exact values on hand-made tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sclm import scoring

TS = pd.date_range("2024-01-01", periods=4)


def readings(source: str, values, node: str = "A") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ts": TS[: len(values)],
            "node": node,
            "node_type": "plant",
            "variable": "production",
            "value": np.asarray(values, dtype=float),
            "unit": "unit",
            "source": source,
        }
    )


def truth(values, node: str = "A") -> pd.DataFrame:
    idx = pd.MultiIndex.from_product([[node], TS[: len(values)]], names=["node", "ts"])
    return pd.DataFrame({"production": np.asarray(values, dtype=float)}, index=idx)


def audit(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["node", "ts", "variable", "source", "rule", "action"])


def test_outlier_scores_count_matches_on_the_full_key():
    a = audit(
        [
            ("A", TS[0], "production", "iot", "outlier_hampel", "changed"),
            ("A", TS[1], "production", "iot", "outlier_cross_source", "changed"),
            ("A", TS[2], "production", "iot", "gap_seasonal", "filled"),
        ]
    )
    faults = pd.DataFrame(
        {
            "kind": ["outlier", "outlier", "missing"],
            "node": ["A", "A", "A"],
            "ts": [TS[0], TS[3], TS[2]],
            "variable": "production",
            "source": "iot",
        }
    )
    s = scoring.outlier_scores(a, faults)
    assert s == {"flagged": 2, "injected": 2, "true_positives": 1, "precision": 0.5, "recall": 0.5}


def test_imputed_keys_are_fills_and_replaced_outliers():
    a = audit(
        [
            ("A", TS[0], "production", "iot", "outlier_hampel", "changed"),
            ("A", TS[1], "production", "iot", "gap_seasonal", "filled"),
            ("A", TS[2], "production", "iot", "noise_rate", "changed"),
            ("A", TS[3], "production", "erp", "duplicate_first", "dropped"),
        ]
    )
    keys = scoring.imputed_keys(a)
    assert keys["ts"].tolist() == [TS[0], TS[1]]


def test_rmse_and_fusion_ratios_by_hand():
    t = truth([10, 10, 10, 10])
    cleaned = pd.concat([readings("erp", [11, 9, 11, 9]), readings("iot", [12, 8, 12, 8])], ignore_index=True)
    assert scoring.rmse_vs_truth(cleaned, t, "production", "erp") == pytest.approx(1.0)
    assert scoring.rmse_vs_truth(cleaned, t, "production", "iot") == pytest.approx(2.0)
    fused = truth([10.5, 9.5, 10.5, 9.5])
    table = scoring.fusion_scores(cleaned, {"iv": fused}, t, {"production": ["erp", "iot"]})
    row = table.loc["production"]
    assert row["best_source"] == "erp" and row["nodes"] == 1
    assert row["rmse_iv"] == pytest.approx(0.5) and row["ratio_iv"] == pytest.approx(0.5)


def test_sources_on_disjoint_nodes_are_not_scored():
    t = pd.concat([truth([1, 1], "A"), truth([2, 2], "B")])
    cleaned = pd.concat([readings("pos", [1, 1], "A"), readings("erp", [2, 2], "B")], ignore_index=True)
    table = scoring.fusion_scores(cleaned, {"iv": t}, t, {"production": ["pos", "erp"]})
    assert table.empty
