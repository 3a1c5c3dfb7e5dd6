"""bench/forecast_baselines.py's ``pasta-brands`` data set (the pasta items summed per brand, on
YAZ's protocol) and its setup in bench/forecast.py.  Needs the real data folder."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
from _real_data import require_real_data
from test_bench_forecast import _bench_module

from sclm import load_dataset

require_real_data()


@pytest.fixture(scope="module")
def task():
    _bench_module()  # loads bench/forecast_baselines.py with it
    return sys.modules["forecast_baselines"].pasta_brands_task()


def test_brand_series_are_the_sums_of_their_items(task):
    df = task.data
    assert task.name == "pasta-brands" and task.horizon == 7 and task.n_origins == 4
    assert sorted(df["unique_id"].unique()) == ["B1", "B2", "B3", "B4"]
    raw = load_dataset("retail_pasta_hierarchical_sales")
    wide = raw.panel.reset_index()
    wide["brand"] = wide["node"].str.split("_").str[0]
    day = wide["ts"].unique()[500]
    items = wide[(wide["ts"] == day) & (wide["brand"] == "B3")]
    row = df[(df["ds"] == day) & (df["unique_id"] == "B3")].iloc[0]
    assert row["y"] == items["sales"].sum()
    assert row["promotion"] == pytest.approx(items["promotion"].mean())
    assert row["closed"] == 0.0 and bool(row["open"])
    # every brand has every calendar day; a day absent from the file is closed, sells 0, not scored
    days = pd.date_range(raw.meta["start"], raw.meta["end"], freq="D")
    assert (df.groupby("unique_id")["ds"].nunique() == len(days)).all()
    missing = set(days) - set(wide["ts"])
    closed = df[df["ds"].isin(missing)]
    assert len(closed) == 4 * len(missing) > 0
    assert (closed["y"] == 0).all() and (closed["closed"] == 1.0).all() and not closed["open"].any()
    assert df["promotion"].between(0, 1).all() and 0 < df["promotion"].mean() < 1
    assert set(task.models) >= {"seasonal_naive", "auto_ets", "auto_theta", "lightgbm (promotions)"}


def test_setup_follows_yaz_protocol_and_scales_the_promotion_share():
    mod = _bench_module()
    s = mod.real_setup("pasta-brands", False, raw_shares=False)
    end = s.panel.index.get_level_values("ts").max()
    assert end == pd.Timestamp("2018-12-31")
    assert s.origins == [end - pd.Timedelta(days=7 * k) for k in (4, 3, 2, 1)]
    assert s.horizon == 7 and s.input_size == 56 and s.retrain and s.open_col == "open"
    assert s.known_future == ["closed", "promotion"] == s.exog
    assert s.scaled == ["target", "promotion"]  # the 0/1 closed flag is never rescaled
    v = mod.real_setup("pasta-brands", False, 12)
    assert v.panel.index.get_level_values("ts").max() == s.origins[0]  # no test day read
    assert len(v.origins) == 12 and np.all(np.diff(v.origins) == pd.Timedelta(days=7))
    with pytest.raises(ValueError, match="unknown real data set"):
        mod.real_setup("pasta-items", False)


def test_raw_shares_leave_the_promotion_share_unscaled_and_change_nothing_else():
    mod = _bench_module()
    raw = mod.real_setup("pasta-brands", False, 0)  # the default
    assert raw.scaled == ["target"]  # the share in [0, 1] keeps its own scale
    # YAZ's weather columns are not shares: the option leaves its scaling as it was
    yaz = mod.real_setup("yaz", False).scaled
    assert yaz == mod.real_setup("yaz", False, 0, raw_shares=False).scaled and "temperature" in yaz
    pasta = mod.real_setup("pasta", True)
    assert pasta.scaled == mod.real_setup("pasta", True, 0, raw_shares=False).scaled == ["target"]
