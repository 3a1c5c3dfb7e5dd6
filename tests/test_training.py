"""sclm.training: devices, determinism, resume, early stopping, AMP path, and learning a sine."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from sclm.models import Forecaster, ForecasterConfig
from sclm.repro import seed_everything
from sclm.training import FitResult, fit, predict, resolve_device

T, H = 32, 8


def sine_windows(n: int, seed: int, *, noise: float = 0.05, sign: float = 1.0):
    """Windows of sin(2πt/16 + φ) (+ a cosine covariate and a known-future ramp), φ random."""
    rng = np.random.default_rng(seed)
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1))
    t = np.arange(T + H)[None, :]
    s = np.sin(2 * np.pi * t / 16 + phase)
    c = np.cos(2 * np.pi * t / 16 + phase)
    X = np.stack([s[:, :T] + noise * rng.normal(size=(n, T)), c[:, :T]], axis=-1).astype(np.float32)
    X_future = np.repeat(np.linspace(0, 1, H)[None, :, None], n, axis=0).astype(np.float32)
    Y = (sign * s[:, T:, None]).astype(np.float32)
    return X, X_future, Y


def tiny_model(seed: int = 0, **kw) -> Forecaster:
    seed_everything(seed)
    cfg = dict(
        n_channels=2,
        n_future=1,
        n_targets=1,
        input_size=T,
        horizon=H,
        patch_len=8,
        patch_stride=8,
        d_model=16,
        n_heads=2,
        n_layers=1,
        dropout=0.1,
    )
    return Forecaster(ForecasterConfig(**{**cfg, **kw}))


def weights(m: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in m.state_dict().items()}


def same_weights(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


KW = dict(batch_size=16, lr=3e-3, weight_decay=0.01, seed=1, device="cpu", progress=False)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


# --------------------------------------------------------------------------------------------------
# Devices
# --------------------------------------------------------------------------------------------------


def test_resolve_device():
    assert resolve_device("cpu").type == "cpu"
    auto = resolve_device("auto").type
    assert auto == ("cuda" if torch.cuda.is_available() else auto)
    with pytest.raises(ValueError, match="device must be"):
        resolve_device("tpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_forcing_cuda_without_cuda_raises():
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        resolve_device("cuda")
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        fit(tiny_model(), sine_windows(8, 0), None, epochs=1, **{**KW, "device": "cuda"})


# --------------------------------------------------------------------------------------------------
# Determinism, resume, early stopping
# --------------------------------------------------------------------------------------------------


def test_two_runs_same_seed_bit_identical():
    data, val = sine_windows(64, 0), sine_windows(16, 1)
    runs = []
    for _ in range(2):
        m = tiny_model()
        r = fit(m, data, val, epochs=2, **KW)
        runs.append((weights(m), r))
    assert same_weights(runs[0][0], runs[1][0])
    assert runs[0][1].train_loss == runs[1][1].train_loss and runs[0][1].val_loss == runs[1][1].val_loss
    m = tiny_model()
    fit(m, data, val, epochs=2, **{**KW, "seed": 2})
    assert not same_weights(runs[0][0], weights(m))


@pytest.mark.parametrize("with_val", [False, True])
def test_resume_equals_uninterrupted(tmp_path, with_val):
    data = sine_windows(48, 0)
    val = sine_windows(16, 1) if with_val else None
    full = tiny_model()
    r_full = fit(full, data, val, epochs=4, **KW)

    first = tiny_model()
    r1 = fit(first, data, val, epochs=2, checkpoint_dir=tmp_path, **KW)
    assert r1.epochs_run == 2
    latest = json.loads((tmp_path / "latest.json").read_text())["folder"]
    assert latest == "epoch-0002" and not (tmp_path / "epoch-0001").exists()
    assert {p.suffix for p in (tmp_path / latest).iterdir()} <= {".safetensors", ".json"}

    resumed = tiny_model(seed=123)  # different init: everything must come from the checkpoint
    r2 = fit(resumed, data, val, epochs=4, checkpoint_dir=tmp_path, resume=True, **KW)
    assert r2.resumed_from == 2 and r2.epochs_run == 4
    assert same_weights(weights(full), weights(resumed))
    assert r2.train_loss == r_full.train_loss and r2.val_loss == r_full.val_loss
    assert r2.best_epoch == r_full.best_epoch and r2.steps == r_full.steps


def test_resume_rejects_other_data(tmp_path):
    fit(tiny_model(), sine_windows(48, 0), None, epochs=1, checkpoint_dir=tmp_path, **KW)
    with pytest.raises(ValueError, match="checkpoint"):
        fit(tiny_model(), sine_windows(40, 0), None, epochs=2, checkpoint_dir=tmp_path, resume=True, **KW)


def test_early_stopping_stops_and_restores_best():
    # validation targets are the negated training targets: learning makes validation worse
    train, val = sine_windows(64, 0), sine_windows(32, 1, sign=-1.0)
    m = tiny_model()
    r = fit(m, train, val, epochs=40, patience=2, **KW)
    assert isinstance(r, FitResult)
    assert r.stopped_early and r.epochs_run < 40
    assert r.epochs_run == r.best_epoch + 2
    assert r.best_val_loss == min(r.val_loss) == r.val_loss[r.best_epoch - 1]
    assert len(r.history) == r.epochs_run and r.history[0]["epoch"] == 1
    # the model holds the best epoch's weights: its validation loss is the best one, not the last
    m.eval()
    with torch.no_grad():
        x, xf, y = (torch.from_numpy(a) for a in val)
        v = m.loss(m(x, xf), y).item()
    assert v == pytest.approx(r.best_val_loss, rel=1e-5)
    assert v < r.val_loss[-1]


def test_max_steps_caps_optimizer_steps():
    kw = {**KW, "progress": True}  # also runs the tqdm bar
    r = fit(tiny_model(), sine_windows(64, 0), sine_windows(8, 1), epochs=10, max_steps=3, **kw)
    assert r.steps == 3 and r.epochs_run == 1 and len(r.val_loss) == 1


# --------------------------------------------------------------------------------------------------
# AMP / pinned memory path on CPU
# --------------------------------------------------------------------------------------------------


def test_amp_and_pin_memory_path_on_cpu():
    m = tiny_model()
    seen: list[torch.dtype] = []
    m.head.register_forward_hook(lambda mod, inp, out: seen.append(out.dtype))
    with pytest.warns(UserWarning, match="pin_memory") if not torch.cuda.is_available() else _nothing():
        r = fit(m, sine_windows(32, 0), sine_windows(8, 1), epochs=1, amp=True, pin_memory=True, **KW)
    assert r.amp and r.device == "cpu"
    assert seen and all(d == torch.bfloat16 for d in seen)  # autocast really ran
    assert np.isfinite(r.train_loss).all() and np.isfinite(r.val_loss).all()
    # default "auto" on CPU: no autocast
    seen.clear()
    r = fit(m, sine_windows(32, 0), None, epochs=1, **KW)
    assert not r.amp and all(d == torch.float32 for d in seen)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


# --------------------------------------------------------------------------------------------------
# Learning
# --------------------------------------------------------------------------------------------------


def test_tiny_model_learns_a_sine_wave():
    train, val = sine_windows(256, 0), sine_windows(64, 1)
    m = tiny_model(dropout=0.0)
    x, xf, y = (torch.from_numpy(a) for a in val)
    with torch.no_grad():
        untrained = m.eval().loss(m(x, xf), y).item()
    r = fit(m, train, val, epochs=30, patience=5, **{**KW, "batch_size": 32})
    assert untrained > 0.3  # an untrained model is no better than predicting 0 (MSE ≈ 0.5)
    assert r.best_val_loss < 0.02, r.history
    assert r.steps == 8 * r.epochs_run  # 256 windows in batches of 32, no partial batch
    # samples/s counts every training window of every epoch over the training time (< the total)
    assert r.samples_per_s * r.seconds >= 256 * r.epochs_run
    pred = predict(m, val[0], val[1], device="cpu")
    assert pred.point.shape == (64, H, 1) and pred.quantiles is None
    assert float(np.mean((pred.point - val[2]) ** 2)) == pytest.approx(r.best_val_loss, rel=1e-4)


def test_mps_unavailable_raises_and_no_future_covariates():
    if not torch.backends.mps.is_available():
        with pytest.raises(RuntimeError, match="MPS"):
            resolve_device("mps")
    X, _, Y = sine_windows(32, 0)
    m = tiny_model(n_future=0)
    r = fit(m, (X, None, Y), (X[:8], None, Y[:8]), epochs=1, **KW)
    assert len(r.val_loss) == 1
    assert predict(m, X, device="cpu").point.shape == (32, H, 1)
    with pytest.raises(ValueError, match="X_future"):
        fit(m, (X, np.zeros((32, H + 1, 0), np.float32), Y), None, epochs=1, **KW)
