"""The events base of M (issue 14): ``regression_base``, ``ForecasterConfig(base="regression")``
and bench/forecast.py's ``q-events-long`` row."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_bench_forecast import _bench_module, _toy_args, _toy_setup

from sclm.models import Forecaster, ForecasterConfig
from sclm.models._bases import regression_base
from sclm.models.forecaster import seasonal_base
from sclm.repro import seed_everything

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _ridge_by_hand(y: np.ndarray, c: np.ndarray, cf: np.ndarray, lam: float, m: int = 7) -> np.ndarray:
    """One window's fit by an augmented least-squares system (no normal equations): weekday
    dummies unpenalised, centred covariates penalised by ``lam * n``; the H-day forecast."""
    n, r = c.shape
    mu = c.mean(axis=0)
    d = np.hstack([np.eye(m)[np.arange(n) % m], c - mu])
    aug = np.vstack([d, np.hstack([np.zeros((r, m)), np.sqrt(lam * n) * np.eye(r)])])
    coef, *_ = np.linalg.lstsq(aug, np.r_[y, np.zeros(r)], rcond=None)
    h = cf.shape[0]
    return np.hstack([np.eye(m)[np.arange(h) % m], cf - mu]) @ coef


def _loo_mae(y: np.ndarray, c: np.ndarray, lam: float, m: int = 7) -> float:
    """Mean absolute leave-one-out error of the fit, by refitting without each day in turn."""
    n = len(y)
    errs = []
    for i in range(n):
        keep = np.arange(n) != i
        d = np.hstack([np.eye(m)[np.arange(n) % m], c - c.mean(axis=0)])
        r = c.shape[1]
        aug = np.vstack([d[keep], np.hstack([np.zeros((r, m)), np.sqrt(lam * n) * np.eye(r)])])
        coef, *_ = np.linalg.lstsq(aug, np.r_[y[keep], np.zeros(r)], rcond=None)
        errs.append(abs(y[i] - d[i] @ coef))
    return float(np.mean(errs))


def _windows(seed: int = 0):
    rng = np.random.default_rng(seed)
    n, h = 56, 7
    promo = (rng.random((3, n + h)) < 0.2).astype(float) * rng.uniform(0.3, 1.0, (3, n + h))
    closed = (rng.random((3, n + h)) < 0.05).astype(float)
    weekly = np.array([3.0, 4, 5, 5, 6, 9, 8])[np.arange(n + h) % 7]
    y = (weekly + 6 * promo) * (1 - closed) + rng.normal(0, 0.5, (3, n + h))
    c = np.stack([promo, closed], axis=-1)
    return y[:, :n], c[:, :n], c[:, n:], y[:, n:]


def _model(**kw) -> Forecaster:
    """A small M with the regression base on its first two covariates (past channels 1-2 and
    known-future columns 0-1 of six), in eval mode."""
    seed_everything(0)
    cfg = ForecasterConfig(
        n_future=6, n_targets=1, input_size=56, horizon=7, patch_len=7, patch_stride=7,
        quantiles=(0.1, 0.5, 0.9), loss_kind="quantile", revin=True, base="regression", base_covariates=2, **kw,
    )  # fmt: skip
    return Forecaster(cfg).eval()


def test_a_fixed_penalty_equals_an_augmented_least_squares_fit_by_hand():
    y, c, cf, _ = _windows()
    for lam in (0.0, 0.01, 0.3):
        out = regression_base(torch.tensor(y)[..., None], torch.tensor(c), torch.tensor(cf), 7, ridge=lam)
        for i in range(3):
            np.testing.assert_allclose(
                out[i, :, 0].numpy(), _ridge_by_hand(y[i], c[i], cf[i], lam), atol=1e-5
            )


def test_the_default_penalty_is_the_one_with_the_smallest_leave_one_out_error():
    from sclm.models._bases import RIDGES

    y, c, cf, _ = _windows(1)
    out = regression_base(torch.tensor(y)[..., None], torch.tensor(c), torch.tensor(cf), 7)
    for i in range(3):
        lam = min(RIDGES, key=lambda g: _loo_mae(y[i], c[i], g))  # brute force: refit n times
        np.testing.assert_allclose(out[i, :, 0].numpy(), _ridge_by_hand(y[i], c[i], cf[i], lam), atol=1e-5)


def test_it_reads_a_promotion_lift_and_a_closed_day_and_without_covariates_is_the_weekday_mean():
    y, c, cf, y_future = _windows(2)
    x = torch.tensor(y)[..., None]
    out = regression_base(x, torch.tensor(c), torch.tensor(cf), 7)[..., 0].numpy()
    mean = seasonal_base(x, 7, 7, 0)[..., 0].numpy()
    # the lift of 6 per unit of promotion and the closed days' zeros are forecast
    assert np.abs(out - y_future).mean() < 0.5 * np.abs(mean - y_future).mean()
    flat = regression_base(x, torch.zeros(3, 56, 1), torch.ones(3, 7, 1), 7)
    torch.testing.assert_close(flat, seasonal_base(x, 7, 7, 0))  # a constant covariate has no effect
    with pytest.raises(ValueError, match="ridge"):
        regression_base(x, torch.tensor(c), torch.tensor(cf), 7, ridge=-1.0)
    with pytest.raises(ValueError, match="c_future"):
        regression_base(x, torch.tensor(c), torch.tensor(cf[..., :1]), 7)


def test_the_forecaster_adds_the_regression_base_of_its_first_covariates():
    model = _model(n_channels=3)
    with torch.no_grad():  # the network's correction off: the forecast is the base
        for layer in (model.head, model.future[2]):
            layer.weight.zero_()
            layer.bias.zero_()
    y, c, cf, _ = _windows(3)
    x = torch.tensor(np.concatenate([y[..., None], c], axis=-1), dtype=torch.float32)
    xf = torch.cat([torch.tensor(cf, dtype=torch.float32), torch.rand(3, 7, 4)], dim=-1)
    out = model(x, xf)
    base = regression_base(x[..., :1], x[..., 1:3], xf[..., :2], 7)
    torch.testing.assert_close(out.point, base, atol=1e-4, rtol=1e-4)
    for q in range(3):
        torch.testing.assert_close(out.quantiles[..., q], base, atol=1e-4, rtol=1e-4)
    with pytest.raises(ValueError, match="base_covariates"):
        ForecasterConfig(n_channels=1, n_future=2, n_targets=1, input_size=56, horizon=7, base="regression")
    with pytest.raises(ValueError, match="base_covariates"):
        ForecasterConfig(n_channels=3, n_future=1, n_targets=1, input_size=56, horizon=7, base="regression",
                         base_covariates=2)  # fmt: skip


def test_the_events_row_puts_the_flags_and_shares_first_in_the_past_and_the_future():
    bench_mod = _bench_module()
    row = bench_mod.M_VARIANTS[bench_mod.M_KEYS["q-events-long"]]
    base_long = bench_mod.M_VARIANTS[bench_mod.M_KEYS["q-base-long"]]
    assert row == {**{k: v for k, v in base_long.items() if k != "base"}, "events_base": True}
    rng = np.random.default_rng(0)
    promo = (rng.random(320) < 0.2) * 0.5
    cols = {"temp": rng.normal(20, 3, 320), "promotion": promo}
    s, days = _toy_setup(bench_mod, 160, 140, cols, known_future=["temp", "promotion"], scaled=["temp"])
    s.panel["target"] += 8 * promo
    assert bench_mod.event_columns(s) == ["promotion"]  # the share; the rescaled weather is not one
    task = bench_mod.task_of(s, s.static, 28, ["promotion"])
    assert task.covariates == ("promotion",)
    assert task.known_future == ("promotion", "temp", "zero_share", "log_mean")
    args = _toy_args()
    (member,), _ = bench_mod.train_m(s, days[140], row, args)
    cfg = member.model.config
    assert (cfg.base, cfg.base_covariates, cfg.input_size, cfg.n_channels) == ("regression", 1, 28, 2)
    fc = bench_mod.predict_m(s, [member], days[140], args)
    assert fc.shape[0] == 2 * 7 and np.isfinite(fc["q0.5"]).all()
    s.known_future = ["temp"]  # no flag or share: the row cannot run, and says why
    with pytest.raises(ValueError, match="events base"):
        bench_mod.train_m(s, days[140], row, args)


def test_the_year_ago_row_adds_the_scaled_year_ago_value_to_the_events_base_alone():
    bench_mod = _bench_module()
    row = bench_mod.M_VARIANTS[bench_mod.M_KEYS["q-events-ya-b"]]
    events_b = bench_mod.M_VARIANTS[bench_mod.M_KEYS["q-events-long-b"]]
    assert row == {**events_b, "year_ago": True}
    n = 400
    promo = (np.random.default_rng(0).random(2 * n) < 0.2) * 0.5
    s, days = _toy_setup(bench_mod, n, 380, {"promotion": promo}, known_future=["promotion"])
    s.panel["target"] += 8 * promo
    bench_mod.add_year_ago(s)
    assert bench_mod.YEAR_AGO in s.scaled and bench_mod.YEAR_AGO not in s.known_future + s.exog
    a = s.panel.xs("a", level="node")
    assert a[bench_mod.YEAR_AGO].iloc[390] == pytest.approx(
        a["target"].iloc[[390 - 357, 390 - 364, 390 - 371]].mean()
    )
    args = _toy_args()
    (member,), _ = bench_mod.train_m(s, days[380], row, args)
    assert member.task.covariates == ("promotion", bench_mod.YEAR_AGO)  # past channels for the base
    assert member.task.known_future[:2] == ("promotion", bench_mod.YEAR_AGO)
    assert bench_mod.YEAR_AGO in member.task.scaled  # rescaled like the target
    cfg = member.model.config
    assert (cfg.base, cfg.base_covariates, cfg.encode_base_covariates) == ("regression", 2, False)
    assert np.isfinite(bench_mod.predict_m(s, [member], days[380], args)["q0.5"]).all()
    (other,), _ = bench_mod.train_m(s, days[380], events_b, args)  # the other rows do not read it
    assert bench_mod.YEAR_AGO not in other.task.columns
    with pytest.raises(ValueError, match="year-ago"):
        bench_mod.train_m(
            s, days[380], {**bench_mod.M_VARIANTS[bench_mod.M_KEYS["q-base-long"]], "year_ago": True}, args
        )


def test_covariates_left_to_the_base_do_not_reach_the_encoder():
    model = _model(n_channels=4, encode_base_covariates=False)
    cfg = model.config
    assert cfg.n_encoded == 2 and model.head.in_features == 2 * cfg.n_patches * cfg.d_model
    y, c, cf, _ = _windows(4)
    other = torch.rand(3, 56, 1)
    x = torch.cat(
        [torch.tensor(y, dtype=torch.float32)[..., None], torch.tensor(c, dtype=torch.float32), other], -1
    )
    xf = torch.cat([torch.tensor(cf, dtype=torch.float32), torch.rand(3, 7, 4)], dim=-1)

    def net(xx):  # the forecast less its base: the network's part
        return model(xx, xf).point - regression_base(xx[..., :1], xx[..., 1:3], xf[..., :2], 7)

    moved = x.clone()
    moved[..., 1:3] = torch.rand(3, 56, 2)  # other past covariates for the base
    torch.testing.assert_close(net(moved), net(x), atol=1e-4, rtol=1e-4)
    moved[..., 3:] = torch.rand(3, 56, 1)  # the encoded covariate does reach the network
    assert (net(moved) - net(x)).abs().max() > 1e-3


def test_the_correction_weight_moves_the_median_towards_the_base_and_keeps_the_interval():
    model = _model(n_channels=3)
    y, c, cf, _ = _windows(5)
    x = torch.tensor(np.concatenate([y[..., None], c], axis=-1), dtype=torch.float32)
    xf = torch.cat([torch.tensor(cf, dtype=torch.float32), torch.rand(3, 7, 4)], dim=-1)
    base = regression_base(x[..., :1], x[..., 1:3], xf[..., :2], 7)
    full = model(x, xf)
    for w in (0.0, 0.25, 1.0):
        model.config.correction = w
        out = model(x, xf)
        torch.testing.assert_close(out.point, base + w * (full.point - base), atol=1e-4, rtol=1e-4)
        width = out.quantiles[..., 2] - out.quantiles[..., 0]
        torch.testing.assert_close(
            width, full.quantiles[..., 2] - full.quantiles[..., 0], atol=1e-4, rtol=1e-4
        )
    with pytest.raises(ValueError, match="correction"):
        ForecasterConfig(n_channels=1, n_future=0, n_targets=1, input_size=56, horizon=7, correction=0.5)
    with pytest.raises(ValueError, match="correction"):
        ForecasterConfig(
            n_channels=1,
            n_future=0,
            n_targets=1,
            input_size=56,
            horizon=7,
            base="seasonal_mean",
            correction=1.5,
        )


def test_a_shrink_row_picks_the_weight_with_the_lowest_validation_mase_on_a_copy():
    bench_mod = _bench_module()
    s, days = _toy_setup(bench_mod, 160, 140, seed=1)
    args = _toy_args()
    cache: dict = {}
    plain = bench_mod.M_VARIANTS[bench_mod.M_KEYS["q-base-long"]]
    shrunk = bench_mod.M_VARIANTS[bench_mod.M_KEYS["q-base-long-s"]]
    assert shrunk == {**plain, "shrink": True}
    (member,), _ = bench_mod.train_m(s, days[140], plain, args, cache)
    (copy,), _ = bench_mod.train_m(s, days[140], shrunk, args, cache)  # the same training, shrunk
    assert copy is not member and member.model.config.correction == 1.0
    val = {}
    for w in bench_mod.SHRINK_GRID:
        member.model.config.correction = w
        val[w] = bench_mod.validation_mase(member, 7, "cpu", 14)
    member.model.config.correction = 1.0
    assert copy.model.config.correction == min(sorted(val, reverse=True), key=val.get)
    fc = bench_mod.predict_m(s, [copy], days[140], args)
    assert fc.shape[0] == 2 * 7 and np.isfinite(fc["q0.5"]).all()
