"""sclm.models: Forecaster shapes (patch and LM backbones), losses, persistence, GPT4TS freezing."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from sclm.models import Forecaster, ForecasterConfig, ForecastOutput, default_lm_path, joint_mse, pinball
from sclm.repro import seed_everything
from sclm.training import fit, predict

N, T, C, F, K, H = 6, 24, 3, 2, 2, 5


def tiny(**kw) -> ForecasterConfig:
    base = dict(
        n_channels=C,
        n_future=F,
        n_targets=K,
        input_size=T,
        horizon=H,
        patch_len=8,
        patch_stride=4,
        d_model=16,
        n_heads=2,
        n_layers=1,
        dropout=0.0,
    )
    return ForecasterConfig(**{**base, **kw})


def batch(n: int = N, f: int = F, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    return (
        torch.randn(n, T, C, generator=g),
        torch.randn(n, H, f, generator=g),
        torch.randn(n, H, K, generator=g),
    )


pytestmark = pytest.mark.usefixtures("one_torch_thread")


# --------------------------------------------------------------------------------------------------
# Losses
# --------------------------------------------------------------------------------------------------


def test_joint_mse_by_hand():
    rng = np.random.default_rng(0)
    p, y = rng.normal(size=(4, 3, 2)), rng.normal(size=(4, 3, 2))
    expected = sum(np.mean((p[..., k] - y[..., k]) ** 2) for k in range(2))
    got = joint_mse(torch.tensor(p), torch.tensor(y))
    assert got.item() == pytest.approx(expected, rel=1e-6)
    # a single cell: (3 - 1)^2 over 1 cell for target 0, 0 for target 1
    assert joint_mse(torch.tensor([[[3.0, 1.0]]]), torch.tensor([[[1.0, 1.0]]])).item() == 4.0
    with pytest.raises(ValueError, match="shape mismatch"):
        joint_mse(torch.zeros(2, 3, 1), torch.zeros(2, 3, 2))


def test_pinball_by_hand():
    y = torch.tensor([[[1.0]]])  # N=H=K=1
    q = torch.tensor([[[[0.0, 2.0]]]])  # levels 0.1, 0.9
    # τ=0.1, e=+1 → 0.1; τ=0.9, e=-1 → 0.1·1 = 0.1 ; mean over Q = 0.1
    assert pinball(q, y, (0.1, 0.9)).item() == pytest.approx(0.1)
    with pytest.raises(ValueError):
        pinball(q, y, (0.5,))


# --------------------------------------------------------------------------------------------------
# Config
# --------------------------------------------------------------------------------------------------


def test_config_json_roundtrip_and_validation():
    cfg = tiny(quantiles=(0.1, 0.5, 0.9), nonneg=(True, False))
    again = ForecasterConfig.from_dict(json.loads(cfg.to_json()))
    assert again == cfg
    with pytest.raises(ValueError, match="patch_len"):
        tiny(patch_len=T + 1)
    with pytest.raises(ValueError, match="quantiles"):
        tiny(quantiles=(0.9, 0.1))
    with pytest.raises(ValueError, match="nonneg"):
        tiny(nonneg=(True,))
    with pytest.raises(ValueError, match="backbone"):
        tiny(backbone="gpt")
    with pytest.raises(ValueError, match="unknown"):
        ForecasterConfig.from_dict({**cfg.to_dict(), "bogus": 1})


# --------------------------------------------------------------------------------------------------
# Patch backbone
# --------------------------------------------------------------------------------------------------


def test_patch_shapes_point_and_quantiles():
    x, xf, y = batch()
    out = Forecaster(tiny())(x, xf)
    assert isinstance(out, ForecastOutput)
    assert out.point.shape == (N, H, K) and out.quantiles is None
    m = Forecaster(tiny(quantiles=(0.1, 0.5, 0.9)))
    out = m(x, xf)
    assert out.point.shape == (N, H, K) and out.quantiles.shape == (N, H, K, 3)
    loss = m.loss(out, y)
    assert loss.ndim == 0 and torch.isfinite(loss)
    assert loss.item() > joint_mse(out.point, y).item()  # pinball term added


def test_no_future_covariates_and_shape_errors():
    x, _, _ = batch()
    m = Forecaster(tiny(n_future=0))
    assert m(x).point.shape == (N, H, K)
    assert m(x, torch.zeros(N, H, 0)).point.shape == (N, H, K)
    with pytest.raises(ValueError, match="x must have shape"):
        m(torch.zeros(N, T + 1, C))
    with pytest.raises(ValueError, match="x_future"):
        Forecaster(tiny())(x)


def test_future_covariates_change_the_forecast():
    x, xf, _ = batch()
    m = Forecaster(tiny()).eval()
    assert not torch.equal(m(x, xf).point, m(x, xf + 1).point)


def test_save_load_roundtrip_identical(tmp_path):
    seed_everything(0)
    m = Forecaster(tiny(quantiles=(0.1, 0.9), nonneg=(True, False))).eval()
    x, xf, _ = batch()
    m.save_pretrained(tmp_path / "m")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["config.json", "model.safetensors"]
    m2 = Forecaster.from_pretrained(tmp_path / "m").eval()
    assert m2.config == m.config
    o1, o2 = m(x, xf), m2(x, xf)
    assert torch.equal(o1.point, o2.point) and torch.equal(o1.quantiles, o2.quantiles)
    with pytest.raises(FileNotFoundError):
        Forecaster.from_pretrained(tmp_path / "missing")


def test_predict_inverse_and_nonneg_clamp():
    seed_everything(0)
    m = Forecaster(tiny(quantiles=(0.1, 0.5, 0.9), nonneg=(True, False)))
    x, xf, _ = batch()
    raw = predict(m, x.numpy(), xf.numpy(), device="cpu", batch_size=4)
    assert raw.point.shape == (N, H, K) and raw.quantiles.shape == (N, H, K, 3)
    assert np.all(np.diff(raw.quantiles, axis=-1) >= 0)  # sorted
    out = predict(m, x.numpy(), xf.numpy(), device="cpu", inverse=lambda a: a * 10 - 100)
    assert (out.point[..., 0] == 0).all() and (out.point[..., 1] < 0).all()
    assert (out.quantiles[..., 0, :] >= 0).all() and (out.quantiles[..., 1, :] < 0).any()
    np.testing.assert_allclose(out.point[..., 1], raw.point[..., 1] * 10 - 100, rtol=1e-6)


# --------------------------------------------------------------------------------------------------
# LM backbone (GPT4TS style)
# --------------------------------------------------------------------------------------------------


def lm_cfg(**kw) -> ForecasterConfig:
    return tiny(**{"backbone": "lm", "lm_layers": 1, "patch_len": 8, "patch_stride": 8, **kw})


def _is_attention_or_ffn(name: str) -> bool:
    return "encoder.layer." in name and "LayerNorm" not in name


def test_lm_shapes_and_parameter_counts():
    x, xf, _ = batch()
    m = Forecaster(lm_cfg(quantiles=(0.5,)))
    assert m.config.d_model == 384 and m.config.lm_config["num_hidden_layers"] == 1
    out = m(x, xf)
    assert out.point.shape == (N, H, K) and out.quantiles.shape == (N, H, K, 1)
    counts = m.trainable_parameters()
    assert counts["trainable"] + counts["frozen"] == counts["total"] == sum(p.numel() for p in m.parameters())
    frozen = {n for n, p in m.named_parameters() if not p.requires_grad}
    # exactly the attention/FFN weights (+ token-type table and word-embedding stub) are frozen
    assert {n for n in frozen if "encoder.layer." in n} == {
        n for n, _ in m.named_parameters() if _is_attention_or_ffn(n)
    }
    assert all(p.requires_grad for n, p in m.named_parameters() if "LayerNorm" in n or n.startswith("head"))
    assert m.backbone.bert.embeddings.position_embeddings.weight.requires_grad
    assert m.patch_embed.weight.requires_grad
    # one layer of MiniLM: 4 attention 384×384 + 2 FFN 384×1536 matrices with biases
    assert counts["frozen"] >= 4 * 384 * 384 + 2 * 384 * 1536


def test_lm_pretrained_weights_loaded_vs_random():
    ref = load_file(f"{default_lm_path()}/model.safetensors")
    key = next(k for k in ref if k.endswith("encoder.layer.0.attention.self.query.weight"))
    pre = Forecaster(lm_cfg())
    rand = Forecaster(lm_cfg(lm_pretrained=False))
    w_pre = pre.backbone.bert.encoder.layer[0].attention.self.query.weight
    w_rand = rand.backbone.bert.encoder.layer[0].attention.self.query.weight
    assert torch.equal(w_pre, ref[key].float())
    assert not torch.equal(w_rand, w_pre)
    assert pre.trainable_parameters() == rand.trainable_parameters()


def test_lm_training_step_keeps_attention_and_ffn_frozen():
    seed_everything(0)
    m = Forecaster(lm_cfg(lm_layers=2))
    before = {n: p.detach().clone() for n, p in m.named_parameters()}
    x, xf, y = batch(n=8)
    kw = {"epochs": 1, "batch_size": 8, "lr": 1e-2, "max_steps": 1, "device": "cpu", "progress": False}
    fit(m, (x.numpy(), xf.numpy(), y.numpy()), None, seed=0, **kw)
    after = dict(m.named_parameters())
    for n in before:
        if _is_attention_or_ffn(n):
            assert torch.equal(before[n], after[n]), f"frozen weight {n} changed"
    for n in (
        "head.weight",
        "patch_embed.weight",
        "backbone.bert.embeddings.LayerNorm.weight",
        "backbone.bert.encoder.layer.0.attention.output.LayerNorm.weight",
        "backbone.bert.encoder.layer.1.output.LayerNorm.bias",
        "backbone.bert.embeddings.position_embeddings.weight",
    ):
        assert not torch.equal(before[n], after[n]), f"trainable weight {n} did not change"


def test_lm_save_load_roundtrip_without_lm_dir(tmp_path):
    seed_everything(0)
    m = Forecaster(lm_cfg(lm_path=default_lm_path())).eval()
    m.save_pretrained(tmp_path)
    cfg = json.loads((tmp_path / "config.json").read_text())
    cfg["lm_path"] = str(tmp_path / "nowhere")  # the LM directory is not needed to load
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    m2 = Forecaster.from_pretrained(tmp_path).eval()
    x, xf, _ = batch()
    assert torch.equal(m(x, xf).point, m2(x, xf).point)
    assert m2.trainable_parameters() == m.trainable_parameters()
    assert (tmp_path / "model.safetensors").stat().st_size < 10e6  # no 30k-word embedding table


def test_lm_lora_adds_trainable_adapters_and_keeps_the_pretrained_weights_frozen(tmp_path):
    """lm_lora=r: rank-r adapters on every layer's query and value, B started at zero (the adapted
    model starts as the frozen one); one step trains them and the LayerNorms, never the weights."""
    plain = Forecaster(lm_cfg(lm_layers=2))
    seed_everything(0)
    m = Forecaster(lm_cfg(lm_layers=2, lm_lora=4))
    lora = {n: p for n, p in m.named_parameters() if "lora_" in n}
    assert len(lora) == 2 * 2 * 2 and all(p.requires_grad for p in lora.values())  # 2 layers × q, v × A, B
    assert all(("query" in n or "value" in n) for n in lora)
    a = m.backbone.bert.encoder.layer[0].attention.self.query.lora_A["default"].weight
    assert a.shape == (4, 384)
    extra = m.trainable_parameters()["trainable"] - plain.trainable_parameters()["trainable"]
    assert extra == 2 * 2 * (4 * 384 + 384 * 4)
    x, xf, y = batch(n=8)
    with torch.no_grad():  # B = 0: the same forecast as without adapters, same weights
        plain.load_state_dict({k: v for k, v in m.state_dict().items() if "lora_" not in k}, strict=False)
        torch.testing.assert_close(m.eval()(x, xf).point, plain.eval()(x, xf).point)
    before = {n: p.detach().clone() for n, p in m.named_parameters()}
    kw = {"epochs": 1, "batch_size": 8, "lr": 1e-2, "max_steps": 2, "device": "cpu", "progress": False}
    fit(m, (x.numpy(), xf.numpy(), y.numpy()), None, seed=0, **kw)
    after = dict(m.named_parameters())
    for n in before:
        if _is_attention_or_ffn(n) and "lora_" not in n:
            assert torch.equal(before[n], after[n]), f"frozen weight {n} changed"
    assert any(not torch.equal(before[n], after[n]) for n in lora)  # the adapters learned
    assert not torch.equal(
        before["backbone.bert.embeddings.LayerNorm.weight"],
        after["backbone.bert.embeddings.LayerNorm.weight"],
    )
    m.eval().save_pretrained(tmp_path)
    back = Forecaster.from_pretrained(tmp_path).eval()
    assert back.config.lm_lora == 4 and torch.equal(m(x, xf).point, back(x, xf).point)
    with pytest.raises(ValueError, match="lm_lora adapts the language model"):
        tiny(lm_lora=4)
    with pytest.raises(ValueError, match="lm_lora must be a non-negative integer"):
        lm_cfg(lm_lora=-1)


# --------------------------------------------------------------------------------------------------
# RevIN and the linear skip path
# --------------------------------------------------------------------------------------------------


def test_revin_is_equivariant_to_level_and_scale_of_the_window():
    """With instance normalisation, shifting/scaling every input channel by (a, b) maps the
    forecast to a + b·forecast (the known-future term scales with the window too)."""
    seed_everything(0)
    model = Forecaster(tiny(revin=True, linear_skip=True, quantiles=(0.1, 0.5, 0.9))).eval()
    x, xf, _ = batch()
    with torch.no_grad():
        base = model(x, xf)
        moved = model(x * 3.0 + 10.0, xf)
    assert torch.allclose(moved.point, base.point * 3.0 + 10.0, atol=1e-3)
    assert torch.allclose(moved.quantiles, base.quantiles * 3.0 + 10.0, atol=1e-3)
    # without RevIN the same shift does not carry through
    plain = Forecaster(tiny()).eval()
    with torch.no_grad():
        assert not torch.allclose(plain(x * 3.0 + 10.0, xf).point, plain(x, xf).point * 3.0 + 10.0, atol=1e-2)


def test_revin_constant_window_gives_finite_output():
    model = Forecaster(tiny(revin=True)).eval()
    x = torch.full((2, T, C), 5.0)
    with torch.no_grad():
        out = model(x, torch.zeros(2, H, F)).point
    assert torch.isfinite(out).all()
    # RevIN restores the window's level; its scale is only the eps floor, so the forecast stays at 5
    torch.testing.assert_close(out, torch.full_like(out, 5.0), atol=0.05, rtol=0.0)


def test_linear_skip_adds_a_trainable_history_path_and_roundtrips(tmp_path):
    seed_everything(0)
    model = Forecaster(tiny(linear_skip=True, quantiles=(0.5,)))
    assert model.skip.weight.shape == (H * 2, T)
    x, xf, _ = batch()
    with torch.no_grad():
        model.eval()
        before = model(x, xf).point.clone()
        model.skip.bias.add_(1.0)  # every output of every target moves by exactly 1
        after = model(x, xf).point
    assert torch.allclose(after - before, torch.ones_like(before), atol=1e-5)
    model.save_pretrained(tmp_path)
    again = Forecaster.from_pretrained(tmp_path).eval()
    assert again.config.linear_skip and not again.config.revin
    with torch.no_grad():
        assert torch.equal(again(x, xf).point, after)


def test_patch_stride_is_the_patch_step_and_the_old_name_still_loads():
    import dataclasses
    import warnings

    new = tiny(patch_len=4, patch_stride=2)
    fields = {k: v for k, v in dataclasses.asdict(new).items() if k != "patch_stride"}
    with pytest.warns(DeprecationWarning, match="patch_stride"):
        old = ForecasterConfig(**fields, stride=2)  # the old name alone: its value is taken
    assert old.patch_stride == 2 and old == new
    with pytest.warns(DeprecationWarning, match="stride=3 ignored"):
        both = ForecasterConfig(**fields, patch_stride=2, stride=3)  # an explicit patch_stride wins
    assert both == new
    d = new.to_dict()
    assert "stride" not in d and d["patch_stride"] == 2
    d["stride"] = d.pop("patch_stride")  # a config.json saved before the rename
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ForecasterConfig.from_dict(d) == new


def test_quantile_loss_kind_point_is_the_median_and_loss_is_pinball_only():
    seed_everything(0)
    qs = (0.1, 0.5, 0.9)
    model = Forecaster(tiny(quantiles=qs, loss_kind="quantile"))
    x, xf, y = batch()
    out = model(x, xf)
    torch.testing.assert_close(out.point, out.quantiles[..., 1])  # q0.5 is the point
    assert model.loss(out, y).item() == pytest.approx(pinball(out.quantiles, y, qs).item())
    joint = Forecaster(tiny(quantiles=qs))
    joint.load_state_dict(model.state_dict())
    o2 = joint(x, xf)  # same weights, joint loss: the point is the separate output
    assert not torch.allclose(o2.point, o2.quantiles[..., 1])
    assert joint.loss(o2, y).item() > pinball(o2.quantiles, y, qs).item()
    with pytest.raises(ValueError, match="0.5"):
        tiny(quantiles=(0.1, 0.9), loss_kind="quantile")
    with pytest.raises(ValueError, match="loss_kind"):
        tiny(quantiles=qs, loss_kind="nb")
    assert (
        ForecasterConfig.from_dict(tiny(quantiles=qs, loss_kind="quantile").to_dict()).loss_kind == "quantile"
    )


def test_quantile_training_fits_the_median_of_a_skewed_target():
    """On zero-heavy targets the pinball-trained point sits near the median, the MSE point near the mean."""
    seed_everything(0)
    g = torch.Generator().manual_seed(1)
    n = 256
    x = torch.randn(n, T, C, generator=g)
    xf = torch.zeros(n, H, F)
    y = (torch.rand(n, H, K, generator=g) < 0.3).float() * 10.0  # 70 % zeros: median 0, mean 3
    points = {}
    for kind in ("joint", "quantile"):
        seed_everything(0)
        m = Forecaster(tiny(quantiles=(0.1, 0.5, 0.9), loss_kind=kind))
        fit(
            m,
            (x, xf, y),
            (x[:64], xf[:64], y[:64]),
            epochs=30,
            batch_size=64,
            lr=1e-2,
            patience=30,
            device="cpu",
        )
        points[kind] = float(predict(m, x, xf, device="cpu").point.mean())
    assert abs(points["quantile"]) < 1.0 < points["joint"]


def test_seasonal_loss_scale_divides_each_window_by_its_seasonal_naive_mae():
    seed_everything(0)
    qs = (0.1, 0.5, 0.9)
    model = Forecaster(tiny(quantiles=qs, loss_kind="quantile", loss_scale="seasonal", season_length=7))
    x, xf, y = batch()
    x[0, :, 0] = 0.0  # an all-zero target window: its scale is the floor
    out = model(x, xf)
    by_hand = np.abs(x[:, 7:, :K].numpy() - x[:, :-7, :K].numpy()).mean(axis=1)
    by_hand = np.maximum(by_hand, 0.1)
    np.testing.assert_allclose(out.loss_scale.detach().numpy(), by_hand, rtol=1e-5)
    assert out.loss_scale[0, 0].item() == pytest.approx(0.1)
    s = torch.as_tensor(by_hand)[:, None, :]
    expected = pinball(out.quantiles / s[..., None], y / s, qs)
    assert model.loss(out, y).item() == pytest.approx(expected.item(), rel=1e-5)
    plain = Forecaster(tiny(quantiles=qs, loss_kind="quantile"))
    plain.load_state_dict(model.state_dict())
    o2 = plain(x, xf)
    torch.testing.assert_close(o2.quantiles, out.quantiles)  # the forecast is the same, only the loss
    assert o2.loss_scale is None
    with pytest.raises(ValueError, match="season_length"):
        tiny(loss_scale="seasonal", season_length=T)


def test_seasonal_mean_base_is_added_to_every_output_and_is_causal():
    from sclm.models.forecaster import seasonal_base

    x = torch.arange(21.0).reshape(1, 21, 1)  # three weeks: 0..20
    by_hand = torch.tensor([7.0, 8, 9, 10, 11, 12, 13, 7, 8])  # mean of day 0, 7, 14 is 7, ...
    torch.testing.assert_close(seasonal_base(x, 9, 7).ravel(), by_hand)
    torch.testing.assert_close(seasonal_base(x, 2, 7, 1).ravel(), torch.tensor([14.0, 15]))
    qs = (0.1, 0.5, 0.9)
    seed_everything(0)
    model = Forecaster(
        tiny(
            quantiles=qs,
            loss_kind="quantile",
            revin=True,
            linear_skip=True,
            base="seasonal_mean",
            season_length=7,
        )
    )
    for p in model.parameters():  # a network that outputs 0: the forecast is the base itself
        torch.nn.init.zeros_(p)
    xb, xf, _ = batch()
    out = model(xb, xf)
    expect = seasonal_base(xb[:, :, :K], H, 7, 0)  # RevIN is affine: the base of the raw window
    torch.testing.assert_close(out.point, expect, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(
        out.quantiles, expect[..., None].expand(-1, -1, -1, len(qs)), rtol=1e-4, atol=1e-4
    )
    later = xb.clone()
    later[:, : T - 3 * 7] = 99.0  # the days before the three full weeks the base reads do not matter
    torch.testing.assert_close(model(later, xf).point, out.point, rtol=1e-4, atol=1e-4)
    plain = Forecaster(tiny(quantiles=qs, loss_kind="quantile", revin=True, linear_skip=True))
    plain.load_state_dict(model.state_dict())
    assert not torch.allclose(plain(xb, xf).point, out.point)
    with pytest.raises(ValueError, match="base_weeks"):
        tiny(base="seasonal_mean", base_weeks=4, season_length=7)  # 28 days > input_size 24
    with pytest.raises(ValueError, match="base must be"):
        tiny(base="mean")


def test_seasonal_median_base_ignores_one_spike_week():
    from sclm.models.forecaster import seasonal_base

    x = torch.arange(28.0).reshape(1, 28, 1) % 7  # four weeks of 0..6
    x[0, 7:14, 0] += 100.0  # a promotion week inside the window
    torch.testing.assert_close(seasonal_base(x, 7, 7, median=True).ravel(), torch.arange(7.0))
    assert (seasonal_base(x, 7, 7).ravel() == torch.arange(7.0) + 25).all()  # the mean is lifted
    three = torch.tensor([1.0, 5.0, 2.0]).repeat_interleave(7).reshape(1, 21, 1)  # odd W: middle
    torch.testing.assert_close(seasonal_base(three, 2, 7, median=True).ravel(), torch.tensor([2.0, 2]))
    even = torch.tensor([1.0, 5.0, 2.0, 9.0]).repeat_interleave(7).reshape(1, 28, 1)  # mean of 2, 5
    torch.testing.assert_close(seasonal_base(even, 1, 7, median=True).ravel(), torch.tensor([3.5]))
    seed_everything(0)
    cfg = dict(quantiles=(0.1, 0.5, 0.9), loss_kind="quantile", revin=True, season_length=7)
    model = Forecaster(tiny(base="seasonal_median", **cfg))
    for q in model.parameters():  # a network that outputs 0: the forecast is the median base
        torch.nn.init.zeros_(q)
    xb, xf, _ = batch()
    expect = seasonal_base(xb[:, :, :K], H, 7, 0, median=True)  # RevIN is affine: raw window's base
    torch.testing.assert_close(model(xb, xf).point, expect, rtol=1e-4, atol=1e-4)


def test_seasonal_level_base_is_a_damped_level_with_a_weekly_profile():
    from sclm.models.forecaster import seasonal_base

    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 28, 1, generator=g) + 5.0
    v = x[0, :, 0].double().numpy()
    prof = v.reshape(4, 7).mean(axis=0) - v.mean()  # four full weeks: the weekday deviations
    level = (v - np.tile(prof, 4))[0]
    for z in (v - np.tile(prof, 4))[1:]:  # exponential smoothing of the deseasonalised days
        level = 0.1 * z + 0.9 * level
    got = seasonal_base(x, 9, 7, 0, alpha=0.1)[0, :, 0].numpy()
    np.testing.assert_allclose(got, level + prof[np.arange(9) % 7], rtol=1e-5)
    # a level shift in the latest days moves the level base, less than it moves the last week
    y = x.clone()
    y[:, -7:] += 3.0
    shift = (seasonal_base(y, 7, 7, 0, alpha=0.1) - seasonal_base(x, 7, 7, 0, alpha=0.1)).mean().item()
    mean_shift = (seasonal_base(y, 7, 7) - seasonal_base(x, 7, 7)).mean().item()
    assert mean_shift == pytest.approx(0.75, abs=1e-5) and 0.75 < shift < 3.0
    m = Forecaster(tiny(quantiles=(0.5,), loss_kind="quantile", base="seasonal_level", season_length=7))
    assert m(*batch()[:2]).point.shape == (N, H, K)
    with pytest.raises(ValueError, match="base_alpha"):
        tiny(base="seasonal_level", base_alpha=0.0, season_length=7)


def _theta_reference(v: np.ndarray, h: int, m: int, alphas: tuple[float, ...], steps: int = 1) -> np.ndarray:
    """The Theta method by hand, loop by loop (an independent reference of ``theta_base``)."""
    n = len(v)
    mult = bool((v > 0).all())
    c = m // 2
    trend = np.array([v[i - c : i + c + 1].mean() for i in range(c, n - c)])  # odd m: m-day mean
    det = v[c : n - c] / trend if mult else v[c : n - c] - trend
    idx = np.array([det[[i - c for i in range(c, n - c) if i % m == j]].mean() for j in range(m)])
    idx = idx / idx.mean() if mult else idx - idx.mean()
    y = v / idx[np.arange(n) % m] if mult else v - idx[np.arange(n) % m]
    fits = []
    for a in alphas:
        levels = [y[0]]  # the level after each day
        for z in y[1:]:
            levels.append(a * z + (1 - a) * levels[-1])
        sse = sum((y[i + s] - levels[i]) ** 2 for s in range(1, steps + 1) for i in range(n - s))
        fits.append((sse, a, levels[-1]))
    _, a, level = min(fits)
    b0 = np.polyfit(np.arange(n), y, 1)[0]
    f = level + 0.5 * b0 * (np.arange(h) + 1 / a - (1 - a) ** n / a)
    s = idx[np.arange(h) % m]
    return f * s if mult else f + s


def test_theta_base_equals_statsmodels_theta_and_a_reference_by_hand_and_is_causal():
    from sclm.models._bases import THETA_ALPHAS, theta_base

    sm_theta = pytest.importorskip("statsmodels.tsa.forecasting.theta")
    rng = np.random.default_rng(0)
    n = 35
    v = 10 + 0.1 * np.arange(n) + np.tile([1.0, 2, 3, 0, -1, 4, 5], 5) + rng.normal(0, 1, n)
    w = v.copy()
    w[3] = 0.0  # a zero day: the additive index
    for series, method in ((v, "mul"), (w, "add")):
        res = sm_theta.ThetaModel(series, period=7, deseasonalize=True, use_test=False, method=method).fit()
        alpha = float(res.params["alpha"])  # statsmodels' own SES weight (optimised, start at day 0)
        x = torch.tensor(series).reshape(1, n, 1)
        got = theta_base(x, 9, 7, 0, alphas=(alpha,))[0, :, 0].numpy()
        np.testing.assert_allclose(got, np.asarray(res.forecast(9)), rtol=1e-9, atol=1e-9)
        grid = theta_base(x, 9, 7)[0, :, 0].numpy()  # weight chosen from the grid by one-step error
        np.testing.assert_allclose(grid, _theta_reference(series, 9, 7, THETA_ALPHAS), rtol=1e-9)
        multi = theta_base(x, 9, 7, fit_steps=9)[0, :, 0].numpy()  # the weight fitted to 1..9 steps
        np.testing.assert_allclose(multi, _theta_reference(series, 9, 7, THETA_ALPHAS, 9), rtol=1e-9)
    # multiplicative and additive differ on the same positive window (the choice is not a no-op)
    add_fc = sm_theta.ThetaModel(v, period=7, use_test=False, method="add").fit().forecast(9)
    assert (
        np.abs(np.asarray(add_fc) - theta_base(torch.tensor(v)[None, :, None], 9, 7)[0, :, 0].numpy()).max()
        > 1e-3
    )
    # batched: every window and channel on its own; causal: the days after a window never enter,
    # the days before the seasons read (base_weeks) do not matter
    long = torch.tensor(np.stack([v, w]), dtype=torch.float32).T[None]  # 1, 35, 2
    both = theta_base(long, 7, 7)
    torch.testing.assert_close(both[..., 1], theta_base(long[..., 1:], 7, 7)[..., 0])
    series = torch.tensor(np.r_[v, rng.normal(0, 50, 14)], dtype=torch.float32)  # 49 days
    early = theta_base(series[None, :35, None], 7, 7)
    series[35:] = 1e3  # later days change: the forecast from day 35 does not
    torch.testing.assert_close(theta_base(series[None, :35, None], 7, 7), early)
    older = series[None, :35, None].clone()
    older[:, :7] = -5.0
    torch.testing.assert_close(theta_base(older, 7, 7, 4), theta_base(series[None, :35, None], 7, 7, 4))
    assert not torch.allclose(theta_base(older, 7, 7), early)
    with pytest.raises(ValueError, match="2 seasons"):
        theta_base(long[:, :10], 7, 7)
    with pytest.raises(ValueError, match="alphas"):
        theta_base(long, 7, 7, alphas=(0.0,))
    with pytest.raises(ValueError, match="fit_steps"):
        theta_base(long, 7, 7, fit_steps=0)
    # short-lived AR(1) swings around a constant: the one-step fit takes the most reactive weight
    # (it follows the swing), the 7-step fit a smooth one (the swing is gone a week later)
    ar = np.zeros(70)
    for i, e in enumerate(np.random.default_rng(0).normal(0, 1, 70)[1:], start=1):
        ar[i] = 0.6 * ar[i - 1] + e
    noisy = torch.tensor(20 + ar)[None, :, None]
    flat = [theta_base(noisy, 7, 7, alphas=(a,), theta=1.0)[0, 0, 0].item() for a in THETA_ALPHAS]
    picked = [flat.index(theta_base(noisy, 7, 7, theta=1.0, fit_steps=f)[0, 0, 0].item()) for f in (1, 7)]
    assert picked[0] > picked[1] and THETA_ALPHAS[picked[0]] >= 0.5


def test_theta_base_in_the_model_is_computed_before_revin_and_is_causal():
    from sclm.models._bases import theta_base

    seed_everything(0)
    qs = (0.1, 0.5, 0.9)
    model = Forecaster(
        tiny(quantiles=qs, loss_kind="quantile", revin=True, linear_skip=True, base="theta", season_length=7)
    )
    for p in model.parameters():  # a network that outputs 0: the forecast is the Theta base itself
        torch.nn.init.zeros_(p)
    xb, xf, _ = batch()
    xb = xb.abs() + 0.5  # positive windows: the multiplicative index, not affine in the data
    out = model(xb, xf)
    expect = theta_base(xb[:, :, :K], H, 7)
    torch.testing.assert_close(out.point, expect, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(
        out.quantiles, expect[..., None].expand(-1, -1, -1, len(qs)), rtol=1e-4, atol=1e-4
    )
    # on the RevIN axis it would differ: the base must read the window before normalisation
    mu, sd = xb.mean(1, keepdim=True), xb.std(1, unbiased=False, keepdim=True)
    on_revin = theta_base((xb - mu) / sd, H, 7)[..., :K] * sd[:, :, :K] + mu[:, :, :K]
    assert not torch.allclose(on_revin, expect, atol=1e-3)
    later = xb.clone()
    later[:, : T - 3 * 7] = 99.0  # before the three full weeks the base reads; the network reads them
    plain = Forecaster(tiny(quantiles=qs, loss_kind="quantile", revin=False, base="theta", season_length=7))
    for p in plain.parameters():
        torch.nn.init.zeros_(p)
    torch.testing.assert_close(plain(later, xf).point, plain(xb, xf).point)
    fitted = Forecaster(
        tiny(quantiles=qs, loss_kind="quantile", base="theta", base_fit="horizon", season_length=7)
    )
    for p in fitted.parameters():
        torch.nn.init.zeros_(p)
    torch.testing.assert_close(fitted(xb, xf).point, theta_base(xb[:, :, :K], H, 7, fit_steps=H))
    with pytest.raises(ValueError, match="base_fit"):
        tiny(base="theta", base_fit="two_step", season_length=7)
    with pytest.raises(ValueError, match="2 seasons"):
        tiny(base="theta", base_weeks=1, season_length=7)
    with pytest.raises(ValueError, match="base_weeks"):
        tiny(base="theta", season_length=13)  # one season of 13 days in 24: too few
