"""sclm.quantize: int8 dynamic copies of M and of the tagger, timing and the linear-time share."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_training import H, sine_windows, tiny_model
from torch import nn
from torch.ao.nn.quantized.dynamic import Linear as QLinear

from sclm.quantize import (
    linear_time_share,
    quantize_dynamic_int8,
    quantize_forecaster,
    quantize_tagger,
    quantized_linear_count,
    throughput,
)
from sclm.training import fit, predict

pytestmark = [
    pytest.mark.usefixtures("one_torch_thread"),
    pytest.mark.filterwarnings("ignore:torch.quantize_per_tensor:UserWarning"),
]


@pytest.fixture(scope="module")
def trained():
    torch.set_num_threads(1)
    m = tiny_model(dropout=0.0, quantiles=(0.1, 0.5, 0.9))
    fit(m, sine_windows(128, 0), None, epochs=4, batch_size=32, lr=3e-3, seed=0, device="cpu", progress=False)
    return m


def test_quantized_forecaster_is_a_separate_int8_copy(trained):
    before = {k: v.clone() for k, v in trained.state_dict().items()}
    q = quantize_forecaster(trained)
    n_q, n_f = quantized_linear_count(q)
    # every plain Linear (patch embedding, head, future MLP, skip, feed-forward pair) is int8;
    # the attention output projection (NonDynamicallyQuantizableLinear) stays float
    plain = sum(type(m) is nn.Linear for m in trained.modules())
    assert n_q == plain >= 5 and n_f == trained.config.n_layers
    assert quantized_linear_count(trained) == (0, plain + n_f)
    layer = q.backbone.encoder.layers[0]
    assert isinstance(q.head, QLinear) and isinstance(layer.linear1, QLinear)
    assert not isinstance(trained.head, QLinear)
    assert all(torch.equal(v, before[k]) for k, v in trained.state_dict().items())
    assert q.config == trained.config


def test_quantized_forecaster_predicts_close_to_float(trained):
    X, Xf, Y = sine_windows(64, 3)
    fp = predict(trained, X, Xf, device="cpu")
    q8 = predict(quantize_forecaster(trained), X, Xf, device="cpu")
    assert q8.point.shape == fp.point.shape == (64, H, 1) and q8.quantiles.shape == (64, H, 1, 3)
    assert not np.array_equal(q8.point, fp.point)  # the int8 path really ran
    # int8 weights: errors of a few percent of the signal, far below the model's own error
    diff = float(np.abs(q8.point - fp.point).mean())
    assert diff < 0.05 * float(np.abs(fp.point).mean())
    mse_fp, mse_q8 = (float(np.mean((p - Y) ** 2)) for p in (fp.point, q8.point))
    assert mse_q8 < 1.2 * mse_fp + 1e-3
    # quantile order survives (predict sorts), and the copy stays in eval mode
    assert (np.diff(q8.quantiles, axis=-1) >= 0).all()


def test_generic_quantize_and_linear_share():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(256, 512), nn.ReLU(), nn.Linear(512, 256))
    q = quantize_dynamic_int8(net)
    assert quantized_linear_count(q) == (2, 0)
    x = torch.randn(512, 256)
    with torch.no_grad():
        torch.testing.assert_close(q(x), net(x), rtol=0.05, atol=0.05)
    qc = quantize_dynamic_int8(net, per_channel=True)
    assert qc[0].weight().qscheme() == torch.per_channel_affine
    assert q[0].weight().qscheme() == torch.per_tensor_affine
    with torch.no_grad():  # one scale per row fits each row's range: no larger error
        err_t, err_c = ((m(x) - net(x)).abs().mean().item() for m in (q, qc))
    assert err_c <= err_t * 1.05
    # an MLP spends nearly all its time in its linear layers; a padded workload much less
    share = linear_time_share(net, lambda: net(x))
    assert 0.5 < share <= 1.0

    def padded():
        net(x)
        torch.linalg.qr(torch.randn(400, 400))

    assert linear_time_share(net, padded) < share
    t = throughput(lambda: net(x), 512, repeats=3)
    assert t.items == 512 and 0 < t.best_s <= t.median_s and t.per_s > 0 and t.per_cpu_s > 0


def test_quantize_tagger_keeps_the_original():
    from sclm.models.tagger import Tagger
    from sclm.scenarios import documents as gen

    corpus = gen.make_corpus(24, seed=0, split="train")
    tg = Tagger.from_scratch(gen.LABELS, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                             intermediate_size=64, seed=0, device="cpu")  # fmt: skip
    tokens = corpus["tokens"].tolist()[:8]
    before = tg.logits(tokens)
    q = quantize_tagger(tg)
    n_q, n_f = quantized_linear_count(q.model)
    assert n_q >= 6 and n_f == 0  # q, k, v, attention output, 2 feed-forward, classifier
    assert quantized_linear_count(tg.model) == (0, n_q)
    after = q.logits(tokens)
    assert all(a.shape == b.shape for a, b in zip(after, before, strict=True))
    assert any(not np.array_equal(a, b) for a, b in zip(after, before, strict=True))
    assert max(float(np.abs(a - b).max()) for a, b in zip(after, before, strict=True)) < 0.5
    # the original still runs its float model
    assert all(np.array_equal(a, b) for a, b in zip(tg.logits(tokens), before, strict=True))
    assert len(q.predict(tokens)) == 8 and q.device.type == "cpu"
