"""sclm.explain: every method, exactness on linear models, checks, refusals, devices, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from sclm.explain import (
    METHODS,
    REFUSED,
    TEXT_METHODS,
    Attribution,
    checks,
    explain,
    explain_forecast_summary,
    plots,
)
from sclm.models import Forecaster, ForecasterConfig
from sclm.windows import Windows

T, C, H, F, K = 12, 3, 4, 2, 2


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    cfg = ForecasterConfig(
        n_channels=C,
        n_future=F,
        n_targets=K,
        input_size=T,
        horizon=H,
        patch_len=4,
        patch_stride=4,
        d_model=8,
        n_heads=2,
        n_layers=1,
        quantiles=(0.1, 0.5, 0.9),
    )
    model = Forecaster(cfg).eval()
    rng = np.random.default_rng(0)
    w = Windows(
        X=rng.normal(size=(5, T, C)).astype(np.float32),
        X_future=rng.normal(size=(5, H, F)).astype(np.float32),
        Y=np.zeros((5, H, K), np.float32),
        meta=pd.DataFrame({"node": ["a"] * 5, "origin": pd.date_range("2024-01-01", periods=5)}),
        channels=("q", "k", "temp"),
        targets=("q", "k"),
        known_future=("promo", "price"),
        input_size=T,
        horizon=H,
    )
    return model, w


class Planted(nn.Module):
    """Linear forecaster: y[:, h, k] = Σ W[h, k] ⊙ x (+ b), optionally one planted cell only."""

    def __init__(self, weight: torch.Tensor):
        super().__init__()
        self.w = nn.Parameter(weight)  # (H, K, T, C)
        self.b = nn.Parameter(torch.tensor(0.5))

    def forward(self, x):
        return torch.einsum("ntc,hktc->nhk", x, self.w) + self.b


def planted_model(cell=(1, 2), step=2, k=1):
    """Only x[:, T-1-lag, c] at step ``step`` of target ``k`` matters."""
    lag, c = cell
    w = torch.zeros(H, K, T, C)
    w[step - 1, k, T - 1 - lag, c] = 2.0
    return Planted(w)


WINDOW_ONLY = [m for m in METHODS if m not in TEXT_METHODS and m not in REFUSED]


@pytest.mark.parametrize("method", WINDOW_ONLY)
def test_every_window_method_returns_the_input_shape(tiny, method, one_torch_thread):
    model, w = tiny
    att = explain(model, w, method, target="k", step=2, device="cpu")
    assert isinstance(att, Attribution)
    assert att.values.shape == w.X.shape
    assert att.future_values.shape == w.X_future.shape
    assert att.feature_names == w.channels and att.future_names == w.known_future
    assert att.values.dtype == np.float64 and np.isfinite(att.values).all()
    assert np.abs(att.values).sum() > 0
    assert att.target["target"] == "k" and att.target["step"] == [2]
    assert att.outputs.shape == (5,)


@pytest.mark.parametrize("method", ["integrated_gradients", "shapley_value_sampling", "shap_permutation"])
def test_additive_methods_sum_to_the_output_gap(tiny, method, one_torch_thread):
    model, w = tiny
    att = (
        explain(model, w, method, target=0, step="all", device="cpu", n_samples=50)
        if method == ("shapley_value_sampling")
        else explain(model, w, method, target=0, device="cpu")
    )
    err = checks.completeness(att)["relative_error"]
    assert err < 1e-3
    if method == "integrated_gradients":
        assert np.abs(att.delta).max() < 1e-3


def test_integrated_gradients_is_exact_on_a_linear_model(one_torch_thread):
    torch.manual_seed(1)
    model = Planted(torch.randn(H, K, T, C))
    x = np.random.default_rng(1).normal(size=(4, T, C)).astype(np.float32)
    base = x.mean(axis=(0, 1), keepdims=True)
    att = explain(model, x, "integrated_gradients", target=(3, 1), device="cpu")
    expected = model.w.detach().numpy()[2, 1][None] * (x - base)
    np.testing.assert_allclose(att.values, expected, rtol=1e-4, atol=1e-5)
    # DeepLift is allowed on a model without LayerNorm/attention and is exact here too
    dl = explain(model, x, "deep_lift", target=(3, 1), device="cpu")
    np.testing.assert_allclose(dl.values, expected, rtol=1e-4, atol=1e-5)


def test_aup_is_one_with_one_planted_driver(one_torch_thread):
    model = planted_model(cell=(1, 2), step=2, k=1)
    x = np.random.default_rng(2).normal(size=(8, T, C)).astype(np.float32)
    att = explain(model, x, "integrated_gradients", target=(2, 1), device="cpu")
    # the scenario answer key: y1[t] depends on x2[t-3]; forecast 2 days ahead → cell (x2, lag 1)
    drivers = pd.DataFrame(
        {"target": ["y1"], "driver": ["x2"], "lag": [3], "effect": [2.0], "node_type": ["all"], "note": [""]}
    )
    cells = checks.driver_cells(drivers, "y1", 2, channels=att.feature_names, input_size=T)
    assert cells == {("x2", 1)}
    pr = checks.precision_recall(att, cells)
    assert pr["aup"] == 1.0 and pr["aur"] == 1.0 and pr["top"] == [("x2", 1)]
    # a wrong answer key scores low
    assert checks.precision_recall(att, {("x0", 0)})["aup"] == 0.0
    # the deletion curve drops at once when the planted cell goes first
    dele = checks.deletion_curve(model, att, steps=10, n_random=2)
    assert dele["ratio"] < 0.5 and dele["curve"][0] == pytest.approx(1.0)


def test_driver_cells_maps_lags_steps_future_and_proxies():
    drivers = pd.DataFrame(
        {
            "target": ["q", "q", "d", "dem"],
            "driver": ["orders", "k", "orders", "promo"],
            "lag": [2, 1, 1, 0],
            "effect": [1.0, -0.3, 1.0, 0.4],
            "node_type": ["all", "all", "all", "store"],
            "note": [""] * 4,
        }
    )
    chans = ("q", "k", "d", "orders")
    assert checks.driver_cells(drivers, "q", 1, channels=chans) == {("orders", 1), ("k", 0)}
    assert checks.driver_cells(drivers, "q", 2, channels=chans) == {("orders", 0)}  # k[t-1] is future
    assert checks.driver_cells(drivers, "q", 1, channels=chans, proxies=True) == {
        ("orders", 1),
        ("k", 0),
        ("d", 0),  # d[t] = orders[t-1] is an exact copy of orders at lag 1
    }
    drivers_k = pd.concat([drivers, drivers.iloc[[1]].assign(target="k", driver="d", lag=1)])
    assert checks.driver_cells(drivers_k, "k", 1, channels=chans, proxies=True) == {("d", 0), ("orders", 1)}
    fut = checks.driver_cells(drivers, "dem", 3, channels=chans, future_names=("promo",), node_type="store")
    assert fut == {("promo", -3)}
    assert (
        checks.driver_cells(drivers, "dem", 3, channels=chans, future_names=("promo",), node_type="dc")
        == set()
    )
    with pytest.raises(ValueError, match="columns"):
        checks.driver_cells(drivers.drop(columns="lag"), "q", 1, channels=chans)


def test_precision_recall_rejects_unknown_cells(one_torch_thread):
    att = explain(planted_model(), np.ones((2, T, C), np.float32) * 0.5, "integrated_gradients", target=1)
    with pytest.raises(ValueError, match="no true driver cells"):
        checks.precision_recall(att, set())
    with pytest.raises(ValueError, match="not inputs"):
        checks.precision_recall(att, {("nope", 0)})


@pytest.mark.parametrize("method", sorted(REFUSED))
def test_deeplift_and_deep_explainer_are_refused_on_transformers(tiny, method):
    model, w = tiny
    with pytest.raises(ValueError, match="refused on transformer") as exc:
        explain(model, w, method)
    msg = str(exc.value)
    assert "LayerNorm" in msg and "attention" in msg and "instead" in msg
    if method == "shap_deep":
        assert "additivity" in msg and "shap_gradient" in msg
    else:
        assert "integrated_gradients" in msg
    with pytest.raises(ValueError, match="refused"):
        explain(model, w, "DeepLift" if method == "deep_lift" else "deep_explainer")


def test_same_seed_same_attributions(tiny, one_torch_thread):
    model, w = tiny
    for method in ("gradient_shap", "shap_gradient", "shapley_value_sampling"):
        a = explain(model, w, method, target=1, seed=3, device="cpu")
        b = explain(model, w, method, target=1, seed=3, device="cpu")
        np.testing.assert_array_equal(a.values, b.values)
    c = explain(model, w, "gradient_shap", target=1, seed=4, device="cpu")
    assert not np.array_equal(c.values, explain(model, w, "gradient_shap", target=1, seed=3).values)


def _devices():
    out = ["cpu"]
    if torch.cuda.is_available():  # pragma: no cover - no GPU in CI
        out.append("cuda")
    return out


@pytest.mark.parametrize("built_on", _devices())
def test_same_attributions_on_cpu_whatever_device_or_mode_the_model_was_in(tiny, built_on, one_torch_thread):
    model, w = tiny
    ref = explain(model, w, "integrated_gradients", target=1, device="cpu")
    other = Forecaster(model.config)
    other.load_state_dict(model.state_dict())
    other.to(built_on).train()  # built for another device, left in training mode (dropout on)
    att = explain(other, w, "integrated_gradients", target=1, device="cpu")
    np.testing.assert_allclose(att.values, ref.values, rtol=1e-5, atol=1e-7)
    assert isinstance(att.values, np.ndarray)
    # the caller's model is neither moved nor switched to eval mode
    assert next(other.parameters()).device.type == torch.device(built_on).type
    assert other.training


def test_targets_reductions_and_quantiles(tiny, one_torch_thread):
    model, w = tiny
    week = explain(model, w, "integrated_gradients", target="q", step=range(1, 4), device="cpu")
    one = [explain(model, w, "integrated_gradients", target="q", step=h, device="cpu") for h in (1, 2, 3)]
    np.testing.assert_allclose(week.values, sum(a.values for a in one), rtol=1e-4, atol=1e-6)
    mean = explain(model, w, "integrated_gradients", target=("mean", "q"), device="cpu")
    full = explain(model, w, "integrated_gradients", target="q", device="cpu")
    np.testing.assert_allclose(mean.values * H, full.values, rtol=1e-4, atol=1e-6)
    q9 = explain(model, w, "integrated_gradients", target="q", output=0.9, device="cpu")
    assert q9.target["output"] == 0.9 and not np.allclose(q9.values, full.values)
    fixed = explain(model, w, "integrated_gradients", target="q", attribute_future=False, device="cpu")
    assert fixed.future_values is None and fixed.values.shape == w.X.shape


def test_bad_inputs_raise_clear_errors(tiny):
    model, w = tiny
    with pytest.raises(ValueError, match="unknown method 'lime'"):
        explain(model, w, "lime")
    with pytest.raises(ValueError, match=r"unknown target 'sales'; the model forecasts \['q', 'k'\]"):
        explain(model, w, target="sales")
    with pytest.raises(ValueError, match=r"step must be in 1..4 \(the model's horizon"):
        explain(model, w, step=9)
    with pytest.raises(ValueError, match="step must be a step, a sequence of steps or 'all'"):
        explain(model, w, step=1.5)
    with pytest.raises(ValueError, match=r"expects \(T, C\) = \(12, 3\)"):
        explain(model, np.zeros((2, 10, 3), np.float32), x_future=np.zeros((2, H, F), np.float32))
    with pytest.raises(ValueError, match="needs x_future"):
        explain(model, w.X)
    with pytest.raises(ValueError, match=r"option\(s\) \['n_stepz'\] are not used"):
        explain(model, w, n_stepz=3)
    with pytest.raises(ValueError, match="finite"):
        bad = w.X.copy()
        bad[0, 0, 0] = np.nan
        explain(model, bad, x_future=w.X_future)
    with pytest.raises(ValueError, match="quantile levels"):
        explain(model, w, output=0.3)
    with pytest.raises(ValueError, match="for a document tagger use"):
        explain(_tagger(), ["a b"], "integrated_gradients")
    with pytest.raises(ValueError, match="explains texts"):
        explain(model, w, "shap_partition")
    with pytest.raises(TypeError, match="torch.nn.Module"):
        explain(object(), w)


def test_attribution_api_and_shap_explanation(tiny, one_torch_thread):
    import shap

    model, w = tiny
    att = explain(model, w, "integrated_gradients", target="k", step=1, device="cpu")
    cells = att.cells()
    assert len(cells) == T * C + H * F and cells.index.names == ["channel", "lag"]
    assert set(cells.index.get_level_values("lag")) == set(range(-H, T))
    top = att.top_k(5)
    assert len(top) == 5 and top["importance"].is_monotonic_decreasing
    assert top["importance"].iloc[0] == pytest.approx(cells.max())
    ch = att.per_channel()
    assert list(ch.index) == ["q", "k", "temp", "promo", "price"]
    assert ch.sum() == pytest.approx(cells.sum())
    assert att.per_lag().shape == (T + H, C + F)
    ex = att.to_shap_explanation()
    assert ex.values.shape == (5, T * C + H * F) and ex.data.shape == ex.values.shape
    assert (
        "q[t]" in ex.feature_names and "promo[t+1]" in ex.feature_names and "temp[t-11]" in ex.feature_names
    )
    np.testing.assert_allclose(ex.values.sum(axis=1) + ex.base_values, att.outputs, rtol=1e-4, atol=1e-5)
    ex_ch = att.to_shap_explanation(by="channel")
    assert ex_ch.values.shape == (5, C + F)
    import matplotlib

    matplotlib.use("Agg")
    shap.plots.bar(ex_ch, show=False)
    sub = att.subset([0, 2])
    assert len(sub) == 2 and sub.future_values.shape == (2, H, F)
    with pytest.raises(ValueError, match="k must be a positive integer"):
        att.top_k(0)


def test_rank_agreement_and_randomization(tiny, one_torch_thread):
    model, w = tiny
    a = explain(model, w, "integrated_gradients", target=1, device="cpu")
    same = checks.rank_agreement(a, a)
    assert same["spearman"] == pytest.approx(1.0) and same["top_overlap"] == 1.0
    b = explain(model, w, "shap_gradient", target=1, device="cpu", nsamples=64)
    assert checks.rank_agreement(a, b)["spearman"] > 0.5  # same model, two libraries
    planted = planted_model()
    x = np.random.default_rng(3).normal(size=(6, T, C)).astype(np.float32)
    rnd = checks.randomization_check(planted, x, target=(2, 1), n_stages=2, threshold=0.5)
    # one module owns every weight: one stage; random weights use every cell, not the planted one
    assert rnd["passes"] and len(rnd["stages"]) == 1 and rnd["max_spearman"] < 0.5
    res = checks.randomization_check(model, w, target=1, n_stages=3)
    assert [s["modules"][0] for s in res["stages"]][0] in ("future.2", "head")  # output side first


def test_plots_draw(tiny, one_torch_thread):
    import matplotlib

    matplotlib.use("Agg")
    model, w = tiny
    att = explain(model, w, "integrated_gradients", target=1, device="cpu")
    for fig in (plots.heatmap(att), plots.channel_bar(att, top=3), plots.overlay(att, sample=1)):
        assert fig.axes
    with pytest.raises(ValueError, match="unknown channel"):
        plots.overlay(att, channels=["nope"])
    with pytest.raises(ValueError, match="text attributions"):
        plots.token_html(att)


def test_explain_forecast_summary(tiny, one_torch_thread):
    import matplotlib

    matplotlib.use("Agg")
    model, w = tiny
    drivers = pd.DataFrame(
        {
            "target": ["k", "k"],
            "driver": ["k", "promo"],
            "lag": [1, 0],
            "effect": [1.0, 1.0],
            "node_type": "all",
        }
    )
    table, res, fig = explain_forecast_summary(model, w, drivers, target="k", step=range(1, 3))
    assert list(table.columns) == ["channel", "importance", "share", "direction", "peak_lag", "driver"]
    assert table["importance"].is_monotonic_decreasing and table["share"].sum() == pytest.approx(1.0)
    assert dict(zip(table["channel"], table["driver"], strict=True))["promo"] is True
    assert dict(zip(table["channel"], table["driver"], strict=True))["temp"] is False
    assert res["step"] == [1, 2] and res["attribution"].target["step"] == [1, 2]
    assert res["driver_cells"] == [("k", 0), ("promo", -2), ("promo", -1)]
    assert 0 <= res["aup"] <= 1 and res["completeness_error"] < 0.01
    assert set(res["passes"]) == {"completeness", "agreement", "randomization", "deletion", "drivers"}
    assert res["all_pass"] == all(res["passes"].values())
    assert fig.axes


def test_registry_has_one_adapter_per_method_in_the_public_order():
    from sclm.explain._registry import REGISTRY

    assert (
        METHODS
        == tuple(REGISTRY)
        == (
            "integrated_gradients",
            "gradient_shap",
            "feature_ablation",
            "occlusion",
            "shapley_value_sampling",
            "temporal_saliency_rescaling",
            "shap_gradient",
            "shap_permutation",
            "deep_lift",
            "shap_deep",
            "layer_integrated_gradients",
            "shap_partition",
        )
    )
    assert all(a.name == n for n, a in REGISTRY.items())
    assert TEXT_METHODS == tuple(n for n, a in REGISTRY.items() if a.kind == "text")
    assert {n for n, a in REGISTRY.items() if a.library == "shap"} == {
        "shap_gradient",
        "shap_permutation",
        "shap_deep",
        "shap_partition",
    }
    assert REFUSED == {n: a.refused for n, a in REGISTRY.items() if a.refused}
    assert set(REFUSED) == {"deep_lift", "shap_deep"}


def test_a_registered_adapter_is_dispatched_by_explain(monkeypatch, one_torch_thread):
    """The extension point: one adapter in the registry is a method of explain()."""
    from sclm.explain import _registry

    def gradient_x_input(job):
        x = job.inputs(slice(None))[0].requires_grad_(True)
        (grad,) = torch.autograd.grad(job.f(x).sum(), x)
        job.keep((grad * x).detach())
        return None

    ad = _registry._Adapter("gradient_x_input", "windows", "captum", gradient_x_input)
    monkeypatch.setitem(_registry.REGISTRY, "gradient_x_input", ad)
    torch.manual_seed(2)
    model = Planted(torch.randn(H, K, T, C))
    x = np.random.default_rng(2).normal(size=(3, T, C)).astype(np.float32)
    att = explain(model, x, "gradient_x_input", target=(2, 0), device="cpu")
    np.testing.assert_allclose(att.values, model.w.detach().numpy()[1, 0][None] * x, rtol=1e-5, atol=1e-6)
    assert att.method == "gradient_x_input" and att.base_values is None and att.target["step"] == [2]


def test_the_old_horizon_keyword_warns_and_gives_the_same_result(tiny, one_torch_thread):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    model, w = tiny
    new = explain(model, w, "integrated_gradients", target="k", step=2, device="cpu")
    with pytest.warns(FutureWarning, match=r"horizon= is renamed step=") as rec:
        old = explain(model, w, "integrated_gradients", target="k", horizon=2, device="cpu")
    assert rec[0].filename == __file__  # points at the caller's line
    np.testing.assert_array_equal(old.values, new.values)
    assert (
        old.target
        == new.target
        == {"target": "k", "index": 1, "step": [2], "reduce": "sum", "output": "point"}
    )
    with pytest.raises(TypeError, match="both step= and its old name horizon="):
        explain(model, w, step=1, horizon=2)

    drivers = pd.DataFrame(
        {"target": ["q"], "driver": ["k"], "lag": [2], "effect": [1.0], "node_type": ["all"], "note": [""]}
    )
    with pytest.warns(FutureWarning, match=r"driver_cells\(\): horizon= is renamed step="):
        assert checks.driver_cells(drivers, "q", horizon=1, channels=w.channels) == {("k", 1)}
    assert checks.driver_cells(drivers, "q", step=2, channels=w.channels) == {("k", 0)}
    with pytest.raises(TypeError, match="missing the step"):
        checks.driver_cells(drivers, "q", channels=w.channels)
    with pytest.raises(ValueError, match="step must be a whole number >= 1"):
        checks.driver_cells(drivers, "q", 0, channels=w.channels)

    kw = {"target": "k", "run_checks": ("completeness",), "device": "cpu"}
    with pytest.warns(FutureWarning, match=r"explain_forecast_summary\(\): horizon= is renamed step="):
        t_old, r_old, fig_old = explain_forecast_summary(model, w, horizon=range(1, 3), **kw)
    t_new, r_new, fig_new = explain_forecast_summary(model, w, step=range(1, 3), **kw)
    plt.close(fig_old)
    plt.close(fig_new)
    assert r_old["step"] == r_new["step"] == [1, 2]
    pd.testing.assert_frame_equal(t_old, t_new)
    np.testing.assert_array_equal(r_old["attribution"].values, r_new["attribution"].values)

    with pytest.warns(FutureWarning, match=r"randomization_check\(\): horizon= is renamed step="):
        rnd_old = checks.randomization_check(model, w, target=1, n_stages=1, horizon=1, device="cpu")
    rnd_new = checks.randomization_check(model, w, target=1, n_stages=1, step=1, device="cpu")
    assert rnd_old["max_spearman"] == rnd_new["max_spearman"]


def test_device_defaults_to_auto_everywhere(tiny, monkeypatch, one_torch_thread):
    import inspect

    import sclm.training
    from sclm.explain import summary

    for fn in (explain, explain_forecast_summary, checks.randomization_check, checks.deletion_curve):
        assert inspect.signature(fn).parameters["device"].default == "auto", fn.__name__
    # "auto" goes through sclm.training.resolve_device: cuda, else mps, else cpu
    model, w = tiny
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(sclm.training, "_mps_available", lambda: False)
    seen = []
    real = summary.explain
    monkeypatch.setattr(summary, "explain", lambda *a, **k: seen.append(k["device"]) or real(*a, **k))
    _, res, fig = explain_forecast_summary(model, w.subset([0, 1]), target=1, run_checks=("completeness",))
    assert seen == ["auto"] and res["attribution"].meta["device"] == "cpu"
    import matplotlib.pyplot as plt

    plt.close(fig)
    monkeypatch.setattr(sclm.training, "_mps_available", lambda: True)
    assert sclm.training.resolve_device("auto") == torch.device("mps")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert sclm.training.resolve_device("auto") == torch.device("cuda")


# --------------------------------------------------------------------------------------------------
# Text (document tagger stand-in: tiny random BERT + the offline MiniLM tokenizer)
# --------------------------------------------------------------------------------------------------


def _tagger():
    from transformers import AutoTokenizer, BertConfig, BertForTokenClassification

    from sclm.models.backbones import default_lm_path

    class StandIn:
        labels = ["O", "B-ORG", "I-ORG", "B-QTY", "I-QTY"]

    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(default_lm_path())
    cfg = BertConfig(
        vocab_size=tok.vocab_size,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        num_labels=len(StandIn.labels),
    )
    t = StandIn()
    t.model, t.tokenizer = BertForTokenClassification(cfg).eval(), tok
    return t


TEXTS = ["Acme Logistics shipped 120 pallets to Hamburg", "Invoice from Globex: 35 units"]


@pytest.mark.parametrize("method", TEXT_METHODS)
def test_text_methods_return_one_value_per_token(method, one_torch_thread):
    tagger = _tagger()
    att = explain(tagger, TEXTS, method, target=(2, "B-QTY"), device="cpu")
    n_tok = [len(tagger.tokenizer(t.split(), is_split_into_words=True)["input_ids"]) for t in TEXTS]
    assert att.kind == "text" and att.values.shape == (2, max(n_tok))
    assert [len(t) for t in att.tokens] == n_tok and att.mask.sum(axis=1).tolist() == n_tok
    assert att.tokens[0][0] == "[CLS]" and att.tokens[0][n_tok[0] - 1] == "[SEP]"
    assert np.abs(att.values[0]).sum() > 0 and (att.values[1, n_tok[1] :] == 0).all()
    if method == "layer_integrated_gradients":
        gap = att.outputs - att.base_values
        np.testing.assert_allclose(att.values.sum(axis=1), gap, rtol=0.05, atol=1e-3)
    html = plots.token_html(att, sample=0)
    assert "shipped" in html and "[CLS]" not in html and "<span" in html
    words = att.per_word(0)
    assert "acme" in list(words["word"])  # uncased tokenizer
    ex = att.to_shap_explanation()
    assert len(ex.values[0]) == n_tok[0]


def test_text_targets_are_checked():
    tagger = _tagger()
    with pytest.raises(ValueError, match="unknown label 'B-XYZ'"):
        explain(tagger, TEXTS, "layer_integrated_gradients", target=(0, "B-XYZ"))
    with pytest.raises(ValueError, match="word position 40 out of range: the text has 7 words"):
        explain(tagger, TEXTS[:1], "layer_integrated_gradients", target=(40, "O"))
    with pytest.raises(ValueError, match=r"\(word_index, label\)"):
        explain(tagger, TEXTS, "shap_partition", target="O")
    with pytest.raises(ValueError, match="list of texts"):
        explain(tagger, [], "shap_partition", target=(0, "O"))


def test_the_package_is_callable_as_the_verb(tiny, one_torch_thread):
    import sclm.explain as pkg

    model, w = tiny
    a = pkg(model, w, "integrated_gradients", target=1, step=1, device="cpu")
    b = explain(model, w, "integrated_gradients", target=1, step=1, device="cpu")
    np.testing.assert_array_equal(a.values, b.values)


def test_text_token_types_are_passed_to_the_model(one_torch_thread):
    tagger = _tagger()
    plain = explain(tagger, TEXTS[:1], "layer_integrated_gradients", target=(0, "B-ORG"), device="cpu")

    def casing(words):  # 1 on the pieces of capitalised words, 0 elsewhere ([CLS]/[SEP] too)
        enc = tagger.tokenizer(words, is_split_into_words=True)
        return [0 if w is None else int(words[w][:1].isupper()) for w in enc.word_ids()]

    tagger.token_type_ids = casing
    cased = explain(tagger, TEXTS[:1], "layer_integrated_gradients", target=(0, "B-ORG"), device="cpu")
    assert cased.outputs[0] != pytest.approx(plain.outputs[0])  # the logit the tagger itself computes
    np.testing.assert_allclose(
        cased.values.sum(axis=1), cased.outputs - cased.base_values, rtol=0.05, atol=1e-3
    )
    tagger.token_type_ids = lambda words: [0]
    with pytest.raises(ValueError, match="token_type_ids gave 1 values"):
        explain(tagger, TEXTS[:1], "shap_partition", target=(0, "B-ORG"))


# --- time-aware saliency, the randomisation statistic, the answer key in the report ------------------


def test_temporal_saliency_rescaling_finds_the_planted_cell(one_torch_thread):
    model = planted_model(cell=(3, 1), step=2, k=1)
    x = np.random.default_rng(4).normal(size=(6, T, C)).astype(np.float32)
    att = explain(model, x, "tsr", target=(2, 1), device="cpu")
    assert att.method == "temporal_saliency_rescaling" and att.values.shape == (6, T, C)
    assert (att.values >= 0).all()
    nz = {tuple(c) for c in np.argwhere(np.abs(att.values).sum(axis=0) > 1e-9)}
    assert nz == {(T - 1 - 3, 1)}  # only the planted (time, channel) cell survives both stages
    assert checks.precision_recall(att, {(att.feature_names[1], 3)})["aup"] == 1.0
    # a plain gradient does not depend on the input of a linear model: no step is relevant
    sal = explain(model, x, "tsr", target=(2, 1), device="cpu", base="saliency")
    assert sal.meta["base"] == "saliency" and np.abs(sal.values).max() == 0
    with pytest.raises(ValueError, match="base must be"):
        explain(model, x, "tsr", target=(2, 1), device="cpu", base="lime")
    with pytest.raises(ValueError, match="time_threshold"):
        explain(model, x, "tsr", target=(2, 1), device="cpu", time_threshold=2.0)


def test_tsr_ranks_time_steps_then_features_on_the_tiny_forecaster(tiny, one_torch_thread):
    model, w = tiny
    att = explain(model, w, "temporal_saliency_rescaling", target=1, step=1, device="cpu", n_steps=4)
    assert att.future_values is not None and att.future_values.shape == (len(w), H, F)
    # only the steps above each window's mean time relevance carry feature scores
    per_step = np.concatenate([att.values.sum(axis=2), att.future_values.sum(axis=2)], axis=1)
    zero_steps = (per_step == 0).sum(axis=1)
    assert (zero_steps >= 1).all() and (zero_steps < T + H).all()
    assert 0 < att.meta["kept_steps"] < T + H


def test_randomization_statistic_is_per_window_signed_and_records_all(tiny, one_torch_thread):
    model, w = tiny
    res = checks.randomization_check(model, w, target=1, n_stages=2, device="cpu")
    assert res["statistic"] == "per_window"
    for s in res["stages"]:
        assert {"per_window", "per_window_abs", "pooled", "spearman"} <= set(s)
        assert s["spearman"] == s["per_window"]
    pooled = checks.randomization_check(model, w, target=1, n_stages=2, device="cpu", statistic="pooled")
    assert [s["spearman"] for s in pooled["stages"]] == [s["pooled"] for s in res["stages"]]
    with pytest.raises(ValueError, match="statistic"):
        checks.randomization_check(model, w, target=1, statistic="ssim")


def _toy_key() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "target": ["k", "k", "k", "q"],
            "driver": ["q", "temp", "promo", "q"],
            "lag": [1, 2, 0, 3],
            "effect": [1.0, 0.5, 1.0, 1.0],
            "node_type": ["all", "store", "dc", "all"],
            "note": ["", "", "", ""],
            "role": ["driver", "equivalent", "driver", "ancestor"],
        }
    )


def test_key_windows_and_roles():
    key = _toy_key()
    types = np.array(["store", "dc", "store", "store"])
    kw = {"channels": ("q", "k", "temp"), "future_names": ("promo",), "input_size": T, "future_horizon": H}
    rows, cells = checks.key_windows(key, "k", 1, types, **kw)
    assert rows.tolist() == [0, 2, 3] and cells == {("q", 0), ("temp", 1)}  # stores: the larger group
    strict = checks.driver_cells(key, "k", 1, node_type="store", roles=("driver",), **kw)
    assert strict == {("q", 0)}
    rows, cells = checks.key_windows(key, "k", 1, np.array(["dc", "dc"]), **kw)
    assert rows.tolist() == [0, 1] and cells == {("q", 0), ("promo", -1)}  # the known-future day
    assert checks.key_windows(key, "nothing", 1, types, **kw)[0].size == 0


def test_key_beside_heatmap_and_the_report_checks(tiny, one_torch_thread):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sclm.explain import explanation_checks, key_beside_heatmap

    model, w = tiny
    att = explain(model, w, "integrated_gradients", target="k", step=1, device="cpu", n_steps=8)
    fig = key_beside_heatmap(att, {("q", 0), ("temp", 1)}, max_lag=5, verdict="AUP 0.50")
    left, right = fig.axes[:2]
    assert len(right.patches) == 2 and "answer key: 2 cell(s)" in left.get_title()
    key_img = left.images[0].get_array()
    assert int(np.nansum(key_img)) == 2
    plt.close(fig)
    table, fig, details = explanation_checks(
        model, w, _toy_key(), {"a": "store"}, "k", n_windows=5, n_randomization=5, device="cpu"
    )
    assert table["check"].tolist() == ["completeness", "agreement", "randomization", "deletion", "drivers"]
    assert set(table.columns) == {"check", "figure", "value", "goal", "passes", "note"}
    assert details["driver_cells"] == [("q", 0), ("temp", 1)] and details["step"] == 1
    assert table.set_index("check").loc["drivers", "value"] == pytest.approx(details["aup"])
    assert table["passes"].map(lambda v: v in (True, False)).all()
    plt.close(fig)
    with pytest.raises(ValueError, match="no window has an observable driver"):
        explanation_checks(model, w, _toy_key(), {"a": "store"}, "q", step=4, device="cpu")


def test_key_fit_recovers_the_rule_and_scores_model_and_persistence(one_torch_thread):
    """y[step 1, k=1] = 3·q[lag 2] − 1·promo[day +1] + 0.5 (plus a little noise): the key-only fit
    finds the weights; a wrong key and persistence do worse; a planted model's error is its own."""
    rng = np.random.default_rng(0)

    def make(n):
        x = rng.normal(size=(n, T, C)).astype(np.float32)
        xf = rng.normal(size=(n, H, F)).astype(np.float32)
        y = np.zeros((n, H, K), np.float32)
        y[:, 0, 1] = 3 * x[:, T - 1 - 2, 0] - xf[:, 0, 0] + 0.5 + 0.01 * rng.normal(size=n)
        return Windows(
            X=x,
            X_future=xf,
            Y=y,
            meta=pd.DataFrame({"node": ["a"] * n, "origin": pd.date_range("2024-01-01", periods=n)}),
            channels=("q", "k", "temp"),
            targets=("q", "k"),
            known_future=("promo", "price"),
            input_size=T,
            horizon=H,
        )

    fit_w, test_w = make(200), make(50)
    key = [("q", 2), ("promo", -1)]
    r = checks.key_fit(fit_w, test_w, "k", key, step=1)
    assert np.allclose(r["coef"], [3.0, -1.0], atol=0.01) and abs(r["intercept"] - 0.5) < 0.01
    assert r["mae_key"] < 0.02 and r["mae_last"] > 1.0 and np.isnan(r["mae_model"])
    wrong = checks.key_fit(fit_w, test_w, "k", [("q", 3), ("price", -1)], step=1)
    assert wrong["mae_key"] > 50 * r["mae_key"]

    class Future(nn.Module):
        def forward(self, x, xf):  # the rule without the intercept: error 0.5
            y = torch.zeros(len(x), H, K)
            y[:, 0, 1] = 3 * x[:, T - 1 - 2, 0] - xf[:, 0, 0]
            return y

    m = checks.key_fit(fit_w, test_w, "k", key, step=1, model=Future(), device="cpu")
    assert abs(m["mae_model"] - 0.5) < 0.02
    with pytest.raises(ValueError, match="step"):
        checks.key_fit(fit_w, test_w, "k", key, step=H + 1)
    with pytest.raises(ValueError, match="no key cells"):
        checks.key_fit(fit_w, test_w, "k", [], step=1)


def test_the_reports_key_section_explains_a_one_step_model(one_torch_thread):
    """case_study.one_step_model: the bench's recipe (horizon 1) on the report's own task and
    training end; explanation_checks scores it against the scenario's key (every check reported)."""
    from sclm import make_scenario
    from sclm.case_study import ONE_STEP_RECIPE, one_step_model
    from sclm.explain import explanation_checks
    from sclm.pipeline import scenario_task, train_forecaster

    sc = make_scenario("manufacturing", seed=0, n_days=150, n_nodes=2)
    task = scenario_task(sc, horizon=7, input_size=35)
    end = sc.truth.index.get_level_values("ts").max() - pd.Timedelta(days=30)
    m = train_forecaster(task, train_end=end, epochs=1, device="cpu", d_model=8, n_layers=1)
    one = one_step_model(m, epochs=1)
    assert one.task.horizon == 1 and one.task.input_size == ONE_STEP_RECIPE["input_size"] == 28
    assert one.train_end == m.train_end and one.model.config.patch_len == 4 and not one.model.config.revin
    table, _, details = explanation_checks(
        one.model,
        one.windows(),
        sc.drivers,
        sc.nodes,
        "inventory",
        n_windows=20,
        n_randomization=5,
        device="cpu",
    )
    assert set(table["check"]) == {"completeness", "agreement", "randomization", "deletion", "drivers"}
    # the key's cells include the declared equivalents of the balance (the balance one day earlier)
    assert {("inventory", 0), ("production", 0), ("logistics", 0), ("inventory", 1)} <= set(
        details["driver_cells"]
    )
