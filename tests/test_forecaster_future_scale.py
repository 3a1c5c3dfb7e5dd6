"""ForecasterConfig(future_scale=...): where the known-future MLP's output enters the forecast."""

from __future__ import annotations

import pytest
import torch

from sclm.models import Forecaster, ForecasterConfig
from sclm.repro import seed_everything


def _model(future_scale: str, **kw) -> Forecaster:
    seed_everything(0)
    cfg = ForecasterConfig(
        n_channels=2, n_future=2, n_targets=1, input_size=28, horizon=7, patch_len=7, patch_stride=7,
        quantiles=(0.1, 0.5, 0.9), revin=True, future_scale=future_scale, **kw,
    )  # fmt: skip
    model = Forecaster(cfg).eval()
    with torch.no_grad():  # the head then outputs 0 on RevIN's axis: the forecast is the mean
        model.head.weight.zero_()
        model.head.bias.zero_()
    return model


def _windows() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    x = torch.rand(3, 28, 2, generator=g) * 4
    x[1, 5, 0] = 60.0  # a spike: the standard deviation jumps, the mean level much less
    x[2, :, 0] = 0.0  # an all-zero target window
    return x, torch.rand(3, 7, 2, generator=g)


@pytest.mark.parametrize("future_scale", ["revin", "level"])
def test_the_covariate_effect_is_scaled_by_the_window_sd_or_its_level(future_scale):
    model = _model(future_scale)
    x, xf = _windows()
    out = model(x, xf)
    fut = model.future(xf)  # N, H, 1 + Q (one target)
    y = x[:, :, :1]
    mu = y.mean(dim=1)  # N, 1
    if future_scale == "revin":
        sd = torch.sqrt(y.var(dim=1, unbiased=False) + 1e-5)
        expected = mu[:, None, :] + fut * sd[:, None, :]
    else:
        expected = mu[:, None, :] + fut * y.abs().mean(dim=1)[:, None, :]
    torch.testing.assert_close(out.quantiles[:, :, 0, :], expected[..., 1:])
    torch.testing.assert_close(out.point[:, :, 0], expected[..., 0])
    if future_scale == "level":  # an all-zero window gets no covariate effect: its forecast is 0
        assert torch.count_nonzero(out.quantiles[2]) == 0


def test_level_scaling_keeps_the_spike_out_of_the_effect_and_is_scale_equivariant():
    x, xf = _windows()
    lvl, rev = _model("level"), _model("revin")
    with torch.no_grad():
        rev.future.load_state_dict(lvl.future.state_dict())
    fut = lvl.future(xf)[1, :, 0].abs().max()
    y = x[1, :, 0]
    effect_lvl = (lvl(x, xf).point[1, :, 0] - y.mean()).abs().max()
    effect_rev = (rev(x, xf).point[1, :, 0] - y.mean()).abs().max()
    sd, level = torch.sqrt(y.var(unbiased=False) + 1e-5), y.abs().mean()
    assert sd > 2.5 * level  # the spike dominates the window's sd, not its level
    torch.testing.assert_close(effect_lvl, fut * level)
    torch.testing.assert_close(effect_rev, fut * sd)
    # both mappings scale with the data: the whole forecast of 10·x is 10 times that of x
    torch.testing.assert_close(lvl(10 * x, xf).point, 10 * lvl(x, xf).point, rtol=1e-4, atol=1e-4)


def test_future_scale_is_checked_saved_and_defaults_to_revin(tmp_path):
    with pytest.raises(ValueError, match="future_scale"):
        _model("sd")
    assert (
        ForecasterConfig(n_channels=1, n_future=0, n_targets=1, input_size=14, horizon=7).future_scale
        == "revin"
    )
    model = _model("level")
    model.save_pretrained(tmp_path)
    again = Forecaster.from_pretrained(tmp_path).eval()
    assert again.config.future_scale == "level"
    x, xf = _windows()
    torch.testing.assert_close(again(x, xf).point, model(x, xf).point)
