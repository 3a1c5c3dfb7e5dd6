"""ForecasterConfig(future_lags=L): the known-future MLP reads the same weekday's last L values."""

from __future__ import annotations

import pytest
import torch

from sclm.models import Forecaster, ForecasterConfig
from sclm.models.forecaster import seasonal_lags
from sclm.repro import seed_everything


def _cfg(**kw) -> ForecasterConfig:
    base = dict(n_channels=2, n_future=3, n_targets=1, input_size=28, horizon=7, patch_len=7, patch_stride=7)
    return ForecasterConfig(**{**base, **kw})


def test_seasonal_lags_read_the_same_weekday_in_the_last_seasons():
    t = 21
    x = torch.arange(2.0 * t).reshape(1, t, 2)  # day i: channel 0 = 2i, channel 1 = 2i + 1
    lags = seasonal_lags(x, horizon=7, season_length=7, lags=2)
    assert lags.shape == (1, 7, 4)
    for h in range(1, 8):  # day t - 1 + h - 7 and - 14, target-major
        d1, d2 = t - 1 + h - 7, t - 1 + h - 14
        assert lags[0, h - 1].tolist() == [2 * d1, 2 * d2, 2 * d1 + 1, 2 * d2 + 1]
    # beyond one season the nearest whole season back inside the window is taken: h = 8 -> 2 seasons
    long = seasonal_lags(x, horizon=10, season_length=7, lags=1)
    assert long[0, 7, 0].item() == 2 * (t - 1 + 8 - 14)
    assert long[0, 6, 0].item() == 2 * (t - 1 + 7 - 7)  # h = 7: the window's last day itself


def test_seasonal_lags_are_causal_and_checked():
    x = torch.randn(2, 21, 1)
    y = x.clone()
    y[:, :7] += 100.0  # days never read with 2 lags of a 7-day horizon (the earliest read is day 7)
    assert torch.equal(seasonal_lags(x, 7, 7, 2), seasonal_lags(y, 7, 7, 2))
    y[:, 7] += 1.0
    assert not torch.equal(seasonal_lags(x, 7, 7, 2), seasonal_lags(y, 7, 7, 2))
    with pytest.raises(ValueError, match="exceed"):
        seasonal_lags(x, 7, 7, 4)
    with pytest.raises(ValueError, match="future_lags"):
        _cfg(future_lags=5)  # 5 seasons back from a 28-day window
    with pytest.raises(ValueError, match="future_lags"):
        _cfg(future_lags=-1)


def test_the_future_mlp_sees_covariates_then_lags_on_revins_axis():
    seed_everything(0)
    cfg = _cfg(future_lags=3, revin=True)
    model = Forecaster(cfg).eval()
    assert model.future[0].in_features == 3 + 1 * 3 == cfg.n_future_inputs
    assert Forecaster(_cfg()).future[0].in_features == 3  # default: the covariates alone
    x, xf = torch.randn(4, 28, 2), torch.randn(4, 7, 3)
    seen = {}
    hook = model.future[0].register_forward_hook(lambda m, a, o: seen.update(x=a[0].detach().clone()))
    model(x, xf)
    hook.remove()
    mu, sd = x.mean(dim=1, keepdim=True), torch.sqrt(x.var(dim=1, keepdim=True, unbiased=False) + 1e-5)
    want = torch.cat([xf, seasonal_lags(((x - mu) / sd)[:, :, :1], 7, 7, 3)], dim=-1)
    torch.testing.assert_close(seen["x"], want, rtol=1e-4, atol=1e-4)


def test_lags_alone_build_a_future_path_and_roundtrip(tmp_path):
    seed_everything(0)
    model = Forecaster(_cfg(n_future=0, future_lags=2)).eval()
    x = torch.randn(3, 28, 2)
    out = model(x)  # no known-future covariates: x_future may be None
    assert out.point.shape == (3, 7, 1)
    model.save_pretrained(tmp_path)
    again = Forecaster.from_pretrained(tmp_path).eval()
    torch.testing.assert_close(again(x).point, out.point)
    y = x.clone()
    y[:, 27, 0] += 5.0  # the last day: a lag of forecast day 7, so the future path's output moves
    with torch.no_grad():
        base = model.future(seasonal_lags(x[:, :, :1], 7, 7, 2))
        moved = model.future(seasonal_lags(y[:, :, :1], 7, 7, 2))
    assert not torch.allclose(base[:, 6], moved[:, 6]) and torch.allclose(base[:, :6], moved[:, :6])
