"""bench/forecast.py's validation origins before the test period (``--origins-before``) and its
per-block scores (``--origin-block``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_bench_forecast import _bench_module


def test_origin_days_default_is_the_test_protocol_and_before_precedes_it():
    bench_mod = _bench_module()
    from forecast_baselines import origin_days

    end = pd.Timestamp("2015-11-07")
    test = origin_days(end, 7, 4)
    assert test == [end - pd.Timedelta(days=d) for d in (28, 21, 14, 7)]
    early = origin_days(end, 7, 4, before=12)
    assert len(early) == 12 and early[-1] == test[0] - pd.Timedelta(days=7)
    assert all(b - a == pd.Timedelta(days=7) for a, b in zip(early, early[1:], strict=False))
    assert max(early) < min(test)
    assert bench_mod.origin_days is origin_days  # one definition of the origins for every bench


def test_yaz_setup_keeps_its_test_origins_and_cuts_the_data_before_them():
    bench_mod = _bench_module()
    s = bench_mod.real_setup("yaz", False)
    end = s.panel.index.get_level_values("ts").max()
    assert s.origins == [end - pd.Timedelta(days=7 * k) for k in (4, 3, 2, 1)]  # unchanged by default
    e = bench_mod.real_setup("yaz", False, 12)
    first_test = s.origins[0]
    week = pd.Timedelta(days=7)
    assert e.origins == [first_test - week * k for k in range(12, 0, -1)]
    # no day after the first test origin is in the panel (the last validation window ends on it)
    assert e.panel.index.get_level_values("ts").max() == first_test
    before = s.panel[s.panel.index.get_level_values("ts") <= first_test]
    pd.testing.assert_frame_equal(e.panel, before)


def _two_origin_results(offsets: dict[str, tuple[float, float]]):
    """Two series (b = 2·a) of 28 days, |y[t] - y[t-7]| = 1 on a: seasonal naive has MASE 1 at
    origins day 13 and day 20 (forecast days 14-15 and 21-22); a row forecasting y + c·k at an
    origin has MASE c there (k = 1 on a, 2 on b)."""
    days = pd.date_range("2024-01-01", periods=28, freq="D")
    a = np.concatenate([np.arange(w, w + 7) for w in range(4)]).astype(float)
    history = pd.concat(
        [pd.DataFrame({"unique_id": u, "ds": days, "y": k * a}) for u, k in (("a", 1.0), ("b", 2.0))],
        ignore_index=True,
    )
    results = {}
    for label, cs in offsets.items():
        frames = []
        for origin, cells, c in ((days[13], days[14:16], cs[0]), (days[20], days[21:23], cs[1])):
            test = history[history["ds"].isin(cells)].assign(origin=origin)
            k = test["unique_id"].map({"a": 1.0, "b": 2.0}).to_numpy()
            r = test.assign(mean=test["y"].to_numpy() + c * k)
            for q in range(1, 10):
                r[f"q0.{q}"] = r["mean"]
            frames.append(r)
        results[label] = pd.concat(frames, ignore_index=True)
    return results, history


def test_block_scores_score_each_run_of_origins_on_its_own():
    from sclm.benchmarking import Bench

    bench_mod = _bench_module()
    offsets = {
        "Seasonal Naive": (-1.0, -1.0),
        "AutoETS": (1.0, 1.0),
        "AutoTheta": (0.8, 0.8),
        "LightGBM": (3.0, 3.0),
        "M": (0.5, 2.0),
    }
    results, history = _two_origin_results(offsets)
    bench = Bench("toy")
    whole = bench_mod.point_table(results, history)
    assert whole.loc["M", "relMASE"] == pytest.approx(1.25)  # mean of 0.5 and 2 over the origins
    tables = bench_mod.block_scores("toy", results, history, 1, bench)
    assert [t.loc["M", "relMASE"] for t in tables] == pytest.approx([0.5, 2.0])
    f = bench.figures
    first, second = "toy: origins 1-1 (2024-01-14..2024-01-14)", "toy: origins 2-2 (2024-01-21..2024-01-21)"
    assert f[f"{first}: M: relMASE"]["value"] == pytest.approx(0.5)
    # the winner flips between blocks: M beats AutoTheta on the first origin only
    assert f[f"{first}: M: relMASE / best baseline's"]["value"] == pytest.approx(0.5 / 0.8)
    assert f[f"{second}: M: relMASE / best baseline's"]["value"] == pytest.approx(2.0 / 0.8)
    assert f[f"{second}: M: relMASE / best baseline's"]["note"] == "AutoTheta"
    assert f[f"{first}: M: cov80"]["value"] == 0.0  # a point-mass interval off the truth
    assert len(bench_mod.block_scores("toy", results, history, 4, Bench("one"))) == 1
