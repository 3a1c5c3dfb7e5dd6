"""The simulated retail corpus and M's pretrain / warm-start / fine-tune path (small and fast)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from sclm.models import Forecaster
from sclm.models._pretrain import (
    PRETRAIN_FUTURE,
    map_future,
    pretrained_forecaster,
    synthetic_task,
    warm_start,
)
from sclm.pipeline import ForecastTask, train_forecaster
from sclm.scenarios._synthetic_series import BINARY, KNOWN_FUTURE, synthetic_retail_panel

CFG = {
    "loss_kind": "quantile",
    "loss_scale": "seasonal",
    "base": "seasonal_mean",
    "d_model": 16,
    "n_heads": 2,
}
SMALL = {"n_groups": 3, "series_per_group": 2, "n_days": 120}


def test_corpus_is_seeded_counts_with_known_future_columns():
    a = synthetic_retail_panel(4, 3, 200, seed=1)
    assert a.shape == (4 * 3 * 200, 1 + len(KNOWN_FUTURE))
    assert list(a.columns) == ["target", *KNOWN_FUTURE]
    pd.testing.assert_frame_equal(a, synthetic_retail_panel(4, 3, 200, seed=1))  # deterministic
    assert not a.equals(synthetic_retail_panel(4, 3, 200, seed=2))
    y = a["target"].to_numpy()
    assert (y >= 0).all() and np.array_equal(y, np.round(y))  # counts
    for c in BINARY:
        assert set(np.unique(a[c])) <= {0.0, 1.0}
    assert (a.loc[a["is_closed"] == 1, "target"] == 0).all()  # closed days sell nothing
    # a group shares its weather; series differ in level and weekly shape
    g0 = a.xs("g000_s00", level="node")["temperature"].to_numpy()
    assert np.array_equal(g0, a.xs("g000_s01", level="node")["temperature"].to_numpy())
    assert not np.array_equal(g0, a.xs("g001_s00", level="node")["temperature"].to_numpy())
    means = a["target"].groupby(level="node").mean()
    assert means.max() / max(means.min(), 1e-3) > 3


def test_corpus_has_promotion_uplift_on_average():
    p = synthetic_retail_panel(40, 4, 365, seed=0)
    lift = []
    for _, g in p.groupby(level="node"):
        on = g["promotion"] == 1
        if on.sum() >= 5 and g["target"].mean() > 5:
            lift.append(g.loc[on, "target"].mean() / g.loc[~on, "target"].mean())
    assert len(lift) > 10 and np.median(lift) > 1.1


def test_map_future_by_name_then_keyword_each_slot_once():
    slots = list(PRETRAIN_FUTURE) + ["dow_sin"]
    names = [
        "wind",
        "rain",
        "closed",
        "promotion",
        "is_holiday",
        "is_closed",
        "log_mean",
        "dow_sin",
        "price_x",
    ]
    m = map_future(names, slots, binary={"closed", "promotion", "is_holiday", "is_closed"})
    got = {n: (None if j is None else slots[j]) for n, j in zip(names, m, strict=True)}
    assert got["wind"] is None and got["rain"] == "rain" and got["dow_sin"] == "dow_sin"
    assert got["is_closed"] == "is_closed" and got["closed"] is None  # exact name wins the slot
    assert got["promotion"] == "promotion" and got["log_mean"] == "log_mean" and got["price_x"] == "price"
    assert map_future(["store_closed"], slots, {"store_closed"}) == [slots.index("is_closed")]


def _toy_task() -> ForecastTask:
    days = pd.date_range("2024-01-01", periods=150, freq="D")
    idx = pd.MultiIndex.from_product([["a", "b"], days], names=["node", "ts"])
    rng = np.random.default_rng(0)
    y = np.tile(10 + 3 * np.sin(np.arange(150) * 2 * np.pi / 7), 2) + rng.normal(0, 1, 300)
    panel = pd.DataFrame(
        {"y": y, "wind": rng.gamma(2, 1, 300), "is_closed": (rng.random(300) < 0.05).astype(float)}, index=idx
    )
    return ForecastTask(
        panel, ("y",), known_future=("wind", "is_closed"), horizon=7, input_size=28, scaled=("y", "wind")
    )


def test_pretrain_caches_and_warm_start_copies_weights(tmp_path):
    kw = {
        "input_size": 28,
        "horizon": 7,
        "corpus": SMALL,
        "epochs": 1,
        "window_stride": 7,
        "cache_dir": tmp_path,
    }
    pre = pretrained_forecaster(CFG, **kw)
    assert (
        pre.meta["series"] == 6
        and pre.meta["epochs_run"] == 1
        and pre.future[-4:] == ("dow_sin", "dow_cos", "doy_sin", "doy_cos")
    )
    again = pretrained_forecaster(CFG, **kw)  # loaded from the cache, the same weights
    assert again.meta["key"] == pre.meta["key"] and len(list(tmp_path.iterdir())) == 1
    for (k, v), w in zip(pre.model.state_dict().items(), again.model.state_dict().values(), strict=True):
        assert torch.equal(v, w), k
    assert pretrained_forecaster({**CFG, "d_model": 8}, **kw).meta["key"] != pre.meta["key"]
    task = synthetic_task(28, 7, SMALL)
    assert task.known_future == PRETRAIN_FUTURE and "is_closed" not in task.scaled

    # a data set with other channels: same-shaped tensors copied, calendar and is_closed mapped, wind at 0
    toy = _toy_task()
    ft = train_forecaster(toy, epochs=1, patience=1, window_stride=7, seed=0, device="cpu", init=pre, **CFG)
    fresh = Forecaster(ft.model.config)
    report = warm_start(
        fresh, pre, ("wind", "is_closed", "dow_sin", "dow_cos", "doy_sin", "doy_cos"), {"is_closed"}
    )
    assert "patch_embed.weight" in report["copied"] and "head.weight" in report["copied"]
    assert report["future"][:2] == ["wind <- 0", "is_closed <- is_closed"]
    w_new, w_old = fresh.state_dict()["future.0.weight"], pre.model.state_dict()["future.0.weight"]
    assert torch.equal(w_new[:, 0], torch.zeros_like(w_new[:, 0]))
    assert torch.equal(w_new[:, 1], w_old[:, PRETRAIN_FUTURE.index("is_closed")])
    assert torch.equal(w_new[:, -1], w_old[:, -1])  # doy_cos
    new, old = fresh.state_dict(), pre.model.state_dict()
    assert all(torch.equal(new[k], old[k]) for k in report["copied"])
    fc = ft.forecast(pd.Timestamp("2024-04-30"), device="cpu")
    assert fc.shape[0] == 2 * 7 and np.isfinite(fc["q0.5"]).all()
    # fine-tuning moved the weights away from the warm start
    assert not torch.equal(ft.model.state_dict()["head.weight"], pre.model.state_dict()["head.weight"])


def test_warm_start_skips_tensors_of_another_shape(tmp_path):
    pre = pretrained_forecaster(
        CFG, input_size=28, horizon=7, corpus=SMALL, epochs=1, window_stride=14, cache_dir=tmp_path
    )
    from sclm.models import ForecasterConfig

    other = Forecaster(ForecasterConfig(**{**pre.model.config.to_dict(), "horizon": 14, "lm_config": None}))
    report = warm_start(other, pre, pre.future)
    assert "head.weight" in report["skipped"] and "patch_embed.weight" in report["copied"]
