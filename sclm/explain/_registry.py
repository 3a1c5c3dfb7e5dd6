"""The registry of attribution methods: one adapter per method over Captum or SHAP.

:func:`sclm.explain.explain` looks a method up in :data:`REGISTRY` and hands its adapter a job:

* window methods get a :class:`_WindowJob` — the explained scalar ``f`` (``(N,)``, see
  :class:`sclm.explain._inputs._Scalar`), the windows (N, T, C) and known-future inputs
  (N, H, F), their baselines, the background, seed, batch size and the caller's options; the
  adapter attributes batch by batch into the job (:meth:`_WindowJob.keep`) and returns the
  base values (N,) (``f(baseline)``, SHAP's expected value, or None);
* text methods get a :class:`_TextJob` for one text — the logit function of one label at one
  token and the token ids — and return ``(values per token, delta or None, base value)``.

Adding a method is one decorated function here (``@_register(name, kind, library)``);
:data:`sclm.explain.METHODS` and the window/text split follow from the registry, in
registration order.  The architecture page ``docs/architecture.md`` describes where this
module sits in the package.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch

from sclm.explain._inputs import (
    _background,
    _baseline,
    _chunks,
    _Data,
    _group_mask,
    _np,
    _Scalar,
    _Shap1,
    _t,
)

__all__ = ["REGISTRY", "TEXT_OPTIONS", "adapter", "run_window_adapter"]


# --------------------------------------------------------------------------------------------------
# Adapters and the registry
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Adapter:
    """One attribution method behind :func:`sclm.explain.explain`.

    Attributes
    ----------
    name : str
        Registry name (``"integrated_gradients"``, ``"shap_permutation"``, ...).
    kind : {"windows", "text"}
        What it explains: forecaster windows or the texts of a document tagger.
    library : {"captum", "shap"}
        The library that computes the attributions.
    run : callable
        ``run(job: _WindowJob) -> base values (N,) or None`` for windows;
        ``run(job: _TextJob) -> (values (L,), delta or None, base value)`` for texts.
    refused : str or None
        Why the method is refused on transformer models (LayerNorm / attention) and what to use
        instead; None when it is not.
    """

    name: str
    kind: Literal["windows", "text"]
    library: Literal["captum", "shap"]
    run: Callable[..., Any]
    refused: str | None = None


REGISTRY: dict[str, _Adapter] = {}
"""Method name → adapter, in registration order (the order of :data:`sclm.explain.METHODS`)."""


def _register(
    name: str,
    kind: Literal["windows", "text"],
    library: Literal["captum", "shap"],
    refused: str | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def deco(run: Callable[..., Any]) -> Callable[..., Any]:
        if name in REGISTRY:
            raise ValueError(f"method {name!r} is registered twice")
        REGISTRY[name] = _Adapter(name=name, kind=kind, library=library, run=run, refused=refused)
        return run

    return deco


def adapter(name: str) -> _Adapter:
    """The adapter registered as ``name`` (a canonical name, aliases resolved by the caller).

    Raises
    ------
    ValueError
        No method of that name.
    """
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown method {name!r}; available: {list(REGISTRY)}") from None


# --------------------------------------------------------------------------------------------------
# Window jobs
# --------------------------------------------------------------------------------------------------


@dataclass
class _WindowJob:
    """The inputs of one window attribution and the batches it has produced so far.

    ``bx`` (1 or N, T, C) and ``bf`` (1 or N, H, F) are the baselines; ``use_f`` says whether the
    known-future input is attributed (else it is passed fixed as an extra forward argument).
    """

    f: _Scalar
    data: _Data
    dev: torch.device
    use_f: bool
    bx: np.ndarray
    bf: np.ndarray | None
    b_past: Any
    background: Any
    seed: int
    batch_size: int
    opts: dict[str, Any]
    meta: dict[str, Any] = field(default_factory=dict)
    vals: list[np.ndarray] = field(default_factory=list)
    fvals: list[np.ndarray] = field(default_factory=list)
    deltas: list[np.ndarray] = field(default_factory=list)

    @property
    def x(self) -> np.ndarray:
        """Windows (N, T, C), float32."""
        return self.data.x

    @property
    def xf(self) -> np.ndarray | None:
        """Known-future inputs (N, H, F), float32, or None."""
        return self.data.xf

    @property
    def n(self) -> int:
        return int(self.data.x.shape[0])

    def shape(self) -> tuple[int, int, int, int]:
        """(T, C, H, F) with H = F = 0 without a known-future input."""
        _, t, c = self.x.shape
        h, nf = (0, 0) if self.xf is None else self.xf.shape[1:]
        return t, c, h, nf

    def inputs(self, sl: slice) -> tuple[torch.Tensor, ...]:
        """The attributed inputs of windows ``sl``: (x,) or (x, x_future)."""
        x, xf = self.x, self.xf
        return (_t(x[sl], self.dev), _t(xf[sl], self.dev)) if self.use_f else (_t(x[sl], self.dev),)

    def baselines(self, sl: slice) -> tuple[torch.Tensor, ...]:
        """Baselines matching :meth:`inputs` (broadcast ones stay (1, ...))."""
        n = self.n
        pick = lambda b: b[sl] if b.shape[0] == n and n > 1 else b  # noqa: E731
        if self.use_f:
            return (_t(pick(self.bx), self.dev), _t(pick(self.bf), self.dev))
        return (_t(pick(self.bx), self.dev),)

    def extra(self, sl: slice) -> tuple[Any, ...] | None:
        """The fixed known-future input of windows ``sl`` when it is not attributed, else None."""
        return None if self.use_f or self.xf is None else (_t(self.xf[sl], self.dev),)

    def used(self, name: str, default: Any) -> Any:
        """Option ``name`` (or ``default``), taken from the caller's options and recorded in meta."""
        v = self.opts.pop(name, default)
        self.meta[name] = v
        return v

    def keep(
        self, attr: tuple[torch.Tensor, ...] | torch.Tensor, delta: torch.Tensor | None = None, rep: int = 1
    ) -> None:
        """Store one batch of Captum attributions (and its delta, averaged over ``rep`` samples)."""
        attr = attr if isinstance(attr, tuple) else (attr,)
        self.vals.append(_np(attr[0]))
        if self.use_f:
            self.fvals.append(_np(attr[1]))
        if delta is not None:
            d = _np(delta).reshape(-1)
            self.deltas.append(d.reshape(-1, rep).mean(axis=1) if rep > 1 else d)

    def keep_shap(self, sv: Any, sl: slice) -> None:
        """Store one batch of SHAP values (an array, or a list [past, future])."""
        sv = sv if isinstance(sv, list) else [sv]
        self.vals.append(np.asarray(sv[0], np.float64).reshape(self.x[sl].shape))
        if self.use_f:
            self.fvals.append(np.asarray(sv[1], np.float64).reshape(self.xf[sl].shape))

    def need_future_attributed(self, method: str) -> None:
        """Refuse ``attribute_future=False`` for explainers that take every input as attributed."""
        if self.xf is not None and not self.use_f:
            raise ValueError(f"{method} needs attribute_future=True when the model takes x_future")

    def baseline_outputs(self) -> np.ndarray:
        """``f(baseline)`` per window, shape (N,)."""
        n = self.n
        with torch.no_grad():
            outs = []
            for sl in _chunks(n, max(self.batch_size, 256)):
                b = self.baselines(sl)
                bb = tuple(v.expand(sl.stop - sl.start, *v.shape[1:]) for v in b)
                outs.append(_np(self.f(*bb, *(self.extra(sl) or ()))))
            return np.concatenate(outs)


def run_window_adapter(
    ad: _Adapter,
    f: _Scalar,
    data: _Data,
    dev: torch.device,
    *,
    baseline: Any,
    background: Any,
    seed: int,
    batch_size: int,
    attribute_future: bool,
    opts: dict[str, Any],
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None, np.ndarray | None, dict[str, Any]]:
    """Run a window adapter → values (N,T,C), future values (N,H,F) or None, delta (N,) or None,
    base values (N,) or None, meta.

    ``baseline`` is ``"mean"``, ``"zeros"``, an array, or a tuple (past, future); a string
    baseline applies to the known-future input too, an array leaves it at zeros.
    """
    if ad.kind != "windows":  # pragma: no cover - guarded by explain()
        raise ValueError(f"method {ad.name!r} does not explain windows")
    x, xf = data.x, data.xf
    if isinstance(baseline, tuple):
        b_past, b_fut = baseline
    else:
        b_past, b_fut = baseline, ("mean" if isinstance(baseline, str) else "zeros")
    job = _WindowJob(
        f=f,
        data=data,
        dev=dev,
        use_f=attribute_future and xf is not None,
        bx=_baseline(b_past, x, "baseline"),
        bf=None if xf is None else _baseline(b_fut, xf, "baseline (future)"),
        b_past=b_past,
        background=background,
        seed=seed,
        batch_size=batch_size,
        opts=opts,
    )
    base = ad.run(job)
    values = np.concatenate(job.vals)
    fut = np.concatenate(job.fvals) if job.use_f else None
    delta = np.concatenate(job.deltas) if job.deltas else None
    return values, fut, delta, base, job.meta


# --------------------------------------------------------------------------------------------------
# Window adapters: Captum
# --------------------------------------------------------------------------------------------------


@_register("integrated_gradients", "windows", "captum")
def _integrated_gradients(job: _WindowJob) -> np.ndarray:
    """IntegratedGradients from the baseline (Gauss–Legendre, ``n_steps`` 32); delta = completeness gap.

    ``internal_batch_size`` (Captum's) caps the samples of one forward/backward pass (default
    None: the ``batch_size · n_steps`` path points of a batch at once).
    """
    import captum.attr as ca

    n_steps = job.used("n_steps", 32)
    internal = job.used("internal_batch_size", None)
    ig = ca.IntegratedGradients(job.f)
    for sl in _chunks(job.n, job.batch_size):
        a, d = ig.attribute(
            job.inputs(sl),
            baselines=job.baselines(sl),
            additional_forward_args=job.extra(sl),
            n_steps=n_steps,
            method=job.used("integration", "gausslegendre"),
            internal_batch_size=internal,
            return_convergence_delta=True,
        )
        job.keep(a, d)
    job.meta["baseline"] = job.b_past if isinstance(job.b_past, str) else "array"
    return job.baseline_outputs()


@_register("gradient_shap", "windows", "captum")
def _gradient_shap(job: _WindowJob) -> None:
    """GradientShap over the background (``n_samples`` 20, ``stdevs`` 0); no base values."""
    import captum.attr as ca

    n_samples = job.used("n_samples", 20)
    bgx, bgf = _background(job.background, job.data, job.seed)
    gs = ca.GradientShap(job.f)
    bgs = (_t(bgx, job.dev), _t(bgf, job.dev)) if job.use_f else (_t(bgx, job.dev),)
    job.need_future_attributed("gradient_shap")
    for sl in _chunks(job.n, max(1, job.batch_size // max(1, n_samples // 4))):
        a, d = gs.attribute(
            job.inputs(sl),
            baselines=bgs,
            n_samples=n_samples,
            stdevs=job.used("stdevs", 0.0),
            return_convergence_delta=True,
        )
        job.keep(a, d, rep=n_samples)
    job.meta["background"] = len(bgx)
    return None


def _perturbation(job: _WindowJob, alg: Any, group_default: str, kw: dict[str, Any]) -> np.ndarray:
    """FeatureAblation / ShapleyValueSampling over groups of cells (``group``: cell, channel, time)."""
    t, c, h, nf = job.shape()
    group = job.used("group", group_default)
    mask = _group_mask(group, t, c, h if job.use_f else 0, nf if job.use_f else 0, job.dev)
    kw = {k: job.used(k, v) for k, v in kw.items()}
    # Captum gives every cell of a group the group's value: spread it evenly instead, so
    # the cells of a window sum to the group totals (per-channel sums stay comparable)
    counts = torch.bincount(torch.cat([mk.reshape(-1) for mk in mask]).cpu()).to(job.dev, torch.float32)
    for sl in _chunks(job.n, job.batch_size):
        a = alg.attribute(
            job.inputs(sl),
            baselines=job.baselines(sl),
            additional_forward_args=job.extra(sl),
            feature_mask=mask,
            **kw,
        )
        a = a if isinstance(a, tuple) else (a,)
        job.keep(tuple(ai / counts[mk] for ai, mk in zip(a, mask, strict=True)))
    return job.baseline_outputs()


@_register("feature_ablation", "windows", "captum")
def _feature_ablation(job: _WindowJob) -> np.ndarray:
    """FeatureAblation, one cell at a time by default (``group``, ``perturbations_per_eval`` 8)."""
    import captum.attr as ca

    return _perturbation(job, ca.FeatureAblation(job.f), "cell", {"perturbations_per_eval": 8})


@_register("occlusion", "windows", "captum")
def _occlusion(job: _WindowJob) -> np.ndarray:
    """Occlusion of whole time steps (``window`` and ``stride`` in days, default 1)."""
    import captum.attr as ca

    t, c, h, nf = job.shape()
    window = job.used("window", 1)
    stride = job.used("stride", 1)
    if not 1 <= window <= t:
        raise ValueError(f"window must be in 1..{t} time steps, got {window}")
    occ = ca.Occlusion(job.f)
    use_f = job.use_f
    shapes = ((window, c), (min(window, h), nf)) if use_f else ((window, c),)
    strides = ((stride, c), (stride, nf)) if use_f else ((stride, c),)
    for sl in _chunks(job.n, job.batch_size):
        a = occ.attribute(
            job.inputs(sl),
            sliding_window_shapes=shapes if use_f else shapes[0],
            strides=strides if use_f else strides[0],
            baselines=job.baselines(sl),
            additional_forward_args=job.extra(sl),
            perturbations_per_eval=job.used("perturbations_per_eval", 8),
        )
        a = a if isinstance(a, tuple) else (a,)
        # each cell holds the mean effect of the windows covering it: spread over the window's cells
        job.keep(tuple(ai / (s[0] * s[1]) for ai, s in zip(a, shapes, strict=False)))
    return job.baseline_outputs()


@_register("shapley_value_sampling", "windows", "captum")
def _shapley_value_sampling(job: _WindowJob) -> np.ndarray:
    """ShapleyValueSampling, grouped by channel by default (``n_samples`` 25)."""
    import captum.attr as ca

    kw = {"n_samples": 25, "perturbations_per_eval": 8}
    return _perturbation(job, ca.ShapleyValueSampling(job.f), "channel", kw)


@_register("temporal_saliency_rescaling", "windows", "captum")
def _temporal_saliency_rescaling(job: _WindowJob) -> None:
    """Temporal Saliency Rescaling (Ismail et al., NeurIPS 2020, Algorithm 1) over a Captum base.

    With ``R(X)`` the base saliency of a window (``base``: ``"integrated_gradients"``,
    default, ``n_steps`` 8 Gauss-Legendre steps from the baseline; or ``"saliency"``, the plain
    gradient) and ``X̄^τ`` the window with every feature of time step ``τ`` set to the
    baseline:

    1. time relevance ``Δ_τ = Σ_cells |R(X) - R(X̄^τ)|`` for every step ``τ`` (the T past days
       and, when attributed, the H known-future days);
    2. for the steps with ``Δ_τ`` above ``time_threshold`` (default ``"mean"``: the window's
       mean ``Δ``; or a quantile in (0, 1)), feature relevance
       ``Δ_{i,τ} = Σ_cells |R(X) - R(X̄^{i,τ})|`` with only cell ``(i, τ)`` set to the
       baseline; ``Δ_{i,τ} = 0`` at the other steps;
    3. the saliency of cell ``(i, τ)`` is ``Δ_τ · Δ_{i,τ}`` (non-negative, no base values).

    Cost: ``T + H`` base saliencies per window for step 1 plus one per feature of each kept
    step (about ``(T + H) + (T·C + H·F) / 2``), each ``n_steps`` gradients for IG.
    """
    import captum.attr as ca

    base_name = job.used("base", "integrated_gradients")
    if base_name not in ("integrated_gradients", "saliency"):
        raise ValueError(f"base must be 'integrated_gradients' or 'saliency', got {base_name!r}")
    n_steps = job.used("n_steps", 8)
    thr = job.used("time_threshold", "mean")
    if not (thr == "mean" or (isinstance(thr, float) and 0.0 < thr < 1.0)):
        raise ValueError(f"time_threshold must be 'mean' or a quantile in (0, 1), got {thr!r}")
    use_f, x, xf, n, dev = job.use_f, job.x, job.xf, job.n, job.dev
    t, c, h, nf = job.shape()
    bx = np.broadcast_to(job.bx, x.shape)
    bf = np.broadcast_to(job.bf, xf.shape) if use_f else None
    alg = ca.IntegratedGradients(job.f) if base_name == "integrated_gradients" else ca.Saliency(job.f)
    bs = max(1, job.batch_size)

    def saliency(rows: np.ndarray, xp: np.ndarray, xfp: np.ndarray | None) -> np.ndarray:
        """Base saliency of modified windows ``xp`` (of windows ``rows``), flat (len(rows), T·C + H·F)."""
        out = []
        for s0 in range(0, len(rows), bs):
            r = rows[s0 : s0 + bs]
            sl = slice(s0, s0 + bs)
            inputs = (_t(xp[sl], dev), _t(xfp[sl], dev)) if use_f else (_t(xp[sl], dev),)
            extra = None if use_f or xf is None else (_t(xf[r], dev),)
            if base_name == "integrated_gradients":
                base = (_t(bx[r], dev), _t(bf[r], dev)) if use_f else (_t(bx[r], dev),)
                a = alg.attribute(
                    inputs,
                    baselines=base,
                    additional_forward_args=extra,
                    n_steps=n_steps,
                    method="gausslegendre",
                )
            else:
                a = alg.attribute(inputs, additional_forward_args=extra, abs=False)
            a = a if isinstance(a, tuple) else (a,)
            out.append(np.concatenate([_np(ai).reshape(len(r), -1) for ai in a], axis=1))
        return np.concatenate(out)

    def masked(rows: np.ndarray, tau: int, feature: int | None) -> tuple[np.ndarray, np.ndarray | None]:
        xp = x[rows].copy()
        xfp = xf[rows].copy() if use_f else None
        cols = slice(None) if feature is None else slice(feature, feature + 1)
        if tau < t:
            xp[:, tau, cols] = bx[rows, tau, cols]
        else:
            xfp[:, tau - t, cols] = bf[rows, tau - t, cols]
        return xp, xfp

    n_time = t + (h if use_f else 0)
    every = np.arange(n)

    def stacked(variants: list[tuple[np.ndarray, int, int | None]]) -> list[np.ndarray]:
        """Base saliency of many masked variants in one pass (batches of ``batch_size``)."""
        parts = [masked(r, tau, i) for r, tau, i in variants]
        rows = np.concatenate([r for r, _, _ in variants])
        xp = np.concatenate([p[0] for p in parts])
        xfp = np.concatenate([p[1] for p in parts]) if use_f else None
        out = saliency(rows, xp, xfp)
        return np.split(out, np.cumsum([len(r) for r, _, _ in variants])[:-1])

    r0 = saliency(every, x, xf if use_f else None)
    delta_t = np.zeros((n, n_time))
    for tau, r in enumerate(stacked([(every, tau, None) for tau in range(n_time)])):
        delta_t[:, tau] = np.abs(r - r0).sum(axis=1)
    cut = (
        delta_t.mean(axis=1, keepdims=True)
        if thr == "mean"
        else np.quantile(delta_t, float(thr), axis=1, keepdims=True)
    )
    keep = delta_t > cut
    past = np.zeros((n, t, c))
    fut = np.zeros((n, h, nf)) if use_f else None
    variants = [
        (np.flatnonzero(keep[:, tau]), tau, i)
        for tau in range(n_time)
        if keep[:, tau].any()
        for i in range(c if tau < t else nf)
    ]
    if variants:
        for (rows, tau, i), r in zip(variants, stacked(variants), strict=True):
            d = np.abs(r - r0[rows]).sum(axis=1)
            if tau < t:
                past[rows, tau, i] = delta_t[rows, tau] * d
            else:
                fut[rows, tau - t, i] = delta_t[rows, tau] * d
    job.vals.append(past)
    if use_f:
        job.fvals.append(fut)
    job.meta["base"] = base_name
    job.meta["kept_steps"] = float(keep.sum(axis=1).mean())
    return None


# --------------------------------------------------------------------------------------------------
# Window adapters: SHAP
# --------------------------------------------------------------------------------------------------


@_register("shap_gradient", "windows", "shap")
def _shap_gradient(job: _WindowJob) -> np.ndarray:
    """SHAP GradientExplainer (expected gradients, ``nsamples`` 32); base = E[f] over the background."""
    import shap

    dev, x, xf, use_f = job.dev, job.x, job.xf, job.use_f
    job.need_future_attributed("shap_gradient")
    bgx, bgf = _background(job.background, job.data, job.seed)
    nsamples = job.used("nsamples", 32)
    bg = [_t(bgx, dev), _t(bgf, dev)] if use_f else _t(bgx, dev)
    expl = shap.GradientExplainer(_Shap1(job.f), bg, batch_size=job.used("shap_batch_size", nsamples))
    for sl in _chunks(job.n, job.batch_size):
        xin = [_t(x[sl], dev), _t(xf[sl], dev)] if use_f else _t(x[sl], dev)
        job.keep_shap(expl.shap_values(xin, nsamples=nsamples, rseed=job.seed), sl)
    with torch.no_grad():
        base = float(_np(job.f(*([_t(bgx, dev), _t(bgf, dev)] if use_f else [_t(bgx, dev)]))).mean())
    job.meta["background"] = len(bgx)
    job.meta["expected_value"] = base
    return np.full(job.n, base)


@_register("shap_permutation", "windows", "shap")
def _shap_permutation(job: _WindowJob) -> np.ndarray:
    """SHAP's Permutation explainer per window over M features (cells, channels or time steps).

    Each window is explained on its own: a feature vector z ∈ {0, 1}^M switches groups of cells
    between the window (1) and the baseline (0), so the explainer sees the model as a black box
    of M binary inputs; ``max_evals`` defaults to ``n_permutations · (2M + 1)`` (the Permutation
    explainer needs at least 2M + 1 evaluations for one forward-and-back permutation).  Base
    values are the explainer's (the model at the baseline).
    """
    import shap

    f, dev, use_f, opts, meta = job.f, job.dev, job.use_f, job.opts, job.meta
    x, xf, bx, bf = job.x, job.xf, job.bx, job.bf
    n = job.n
    t, c, h, nf = job.shape()
    group = opts.pop("group", "cell")
    meta["group"] = group
    masks = _group_mask(group, t, c, h if use_f else 0, nf if use_f else 0, torch.device("cpu"))
    gp = masks[0][0].numpy()
    gf = masks[1][0].numpy() if use_f else None
    m = int(max(gp.max(), -1 if gf is None else gf.max())) + 1
    n_perm = opts.pop("n_permutations", 2)
    max_evals = opts.pop("max_evals", None) or n_perm * (2 * m + 1)
    if max_evals < 2 * m + 1:
        raise ValueError(f"max_evals={max_evals} is below 2M + 1 = {2 * m + 1} for M = {m} features")
    meta.update(max_evals=int(max_evals), n_features=m)
    out_p = np.zeros((n, t, c))
    out_f = np.zeros((n, h, nf)) if use_f else None
    bases = np.zeros(n)
    bxi = bx if bx.shape[0] == n else np.broadcast_to(bx, x.shape)
    bfi = None if bf is None else (bf if bf.shape[0] == n else np.broadcast_to(bf, xf.shape))
    masker = shap.maskers.Independent(np.zeros((1, m)), max_samples=1)
    # spread a group's value evenly over its cells (cells when group == "cell")
    cnt = np.bincount(gp.reshape(-1), minlength=m) + (
        np.bincount(gf.reshape(-1), minlength=m) if use_f else 0
    )
    for i in range(n):
        xi, b0 = x[i], bxi[i]
        fi = None if xf is None else xf[i]
        fb = None if bfi is None else bfi[i]

        def fz(z: np.ndarray, xi=xi, b0=b0, fi=fi, fb=fb) -> np.ndarray:
            z = np.asarray(z, np.float32)
            xp = b0[None] + z[:, gp] * (xi - b0)[None]
            args = [_t(xp, dev)]
            if use_f:
                args.append(_t(fb[None] + z[:, gf] * (fi - fb)[None], dev))
            elif fi is not None:
                args.append(_t(np.repeat(fi[None], len(z), axis=0), dev))
            with torch.no_grad():
                return _np(f(*args))

        expl = shap.PermutationExplainer(fz, masker, seed=job.seed + i)
        ex = expl(np.ones((1, m)), max_evals=max_evals, batch_size=int(max_evals), silent=True)
        phi = np.asarray(ex.values[0], np.float64)
        bases[i] = float(np.asarray(ex.base_values).reshape(-1)[0])
        per = phi / np.maximum(cnt, 1)
        out_p[i] = per[gp]
        if use_f:
            out_f[i] = per[gf]
    job.vals.append(out_p)
    if use_f:
        job.fvals.append(out_f)
    return bases


# --------------------------------------------------------------------------------------------------
# Window adapters refused on transformers (no DeepLift rules for LayerNorm / attention)
# --------------------------------------------------------------------------------------------------

_REFUSED_DEEP_LIFT = (
    "DeepLift is refused on transformer models: Captum's DeepLift has no propagation rules for "
    "LayerNorm or attention (softmax of products of inputs), so its attributions are not "
    "meaningful and its summation-to-delta property fails. Use method='integrated_gradients' "
    "(or 'gradient_shap', 'shap_gradient') instead."
)
_REFUSED_SHAP_DEEP = (
    "SHAP's DeepExplainer is refused on transformer models: it has no DeepLift rules for "
    "LayerNorm or attention, so its additivity check fails (SHAP values do not sum to f(x) - "
    "E[f]). Use method='shap_gradient' (SHAP GradientExplainer, expected gradients) or "
    "'integrated_gradients' instead."
)


@_register("deep_lift", "windows", "captum", refused=_REFUSED_DEEP_LIFT)
def _deep_lift(job: _WindowJob) -> np.ndarray:
    """Captum DeepLift from the baseline; delta = summation-to-delta gap."""
    import captum.attr as ca

    dl = ca.DeepLift(job.f)
    for sl in _chunks(job.n, job.batch_size):
        a, d = dl.attribute(
            job.inputs(sl),
            baselines=job.baselines(sl),
            additional_forward_args=job.extra(sl),
            return_convergence_delta=True,
        )
        job.keep(a, d)
    return job.baseline_outputs()


@_register("shap_deep", "windows", "shap", refused=_REFUSED_SHAP_DEEP)
def _shap_deep(job: _WindowJob) -> None:
    """SHAP DeepExplainer over the background, additivity checked; no base values."""
    import shap

    dev, x, xf, use_f = job.dev, job.x, job.xf, job.use_f
    job.need_future_attributed("shap_deep")
    bgx, bgf = _background(job.background, job.data, job.seed)
    bg = [_t(bgx, dev), _t(bgf, dev)] if use_f else _t(bgx, dev)
    expl = shap.DeepExplainer(_Shap1(job.f), bg)
    xin = [_t(x, dev), _t(xf, dev)] if use_f else _t(x, dev)
    job.keep_shap(expl.shap_values(xin, check_additivity=True), slice(None))
    return None


# --------------------------------------------------------------------------------------------------
# Text adapters (document tagger; see sclm.explain.text)
# --------------------------------------------------------------------------------------------------

TEXT_OPTIONS: tuple[str, ...] = ("n_steps", "internal_batch_size", "max_evals", "shap_batch_size")
"""Options the text adapters read (either method accepts all of them)."""


@dataclass
class _TextJob:
    """One text: ``logit(input_ids, attention_mask) → (B,)`` is the explained label logit at a token."""

    model: torch.nn.Module
    tokenizer: Any
    text: str
    ids: list[int]
    ids_t: torch.Tensor  # (1, L)
    att_mask: torch.Tensor  # (1, L)
    logit: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    dev: torch.device
    opts: dict[str, Any]
    meta: dict[str, Any]


def _embeddings(hf_model: torch.nn.Module) -> torch.nn.Module:
    base = getattr(hf_model, getattr(hf_model, "base_model_prefix", ""), None)
    emb = getattr(base, "embeddings", None)
    return emb if emb is not None else hf_model.get_input_embeddings()


@_register("layer_integrated_gradients", "text", "captum")
def _layer_integrated_gradients(job: _TextJob) -> tuple[np.ndarray, float, float]:
    """LayerIntegratedGradients on the embeddings from ``[CLS] [PAD]… [SEP]`` (``n_steps`` 50)."""
    from captum.attr import LayerIntegratedGradients

    tok, ids, dev = job.tokenizer, job.ids, job.dev
    ref = [tok.cls_token_id] + [tok.pad_token_id] * (len(ids) - 2) + [tok.sep_token_id]
    ref_t = torch.tensor([ref], device=dev)
    lig = LayerIntegratedGradients(job.logit, _embeddings(job.model))
    n_steps = job.opts.get("n_steps", 50)
    a, d = lig.attribute(
        job.ids_t,
        baselines=ref_t,
        additional_forward_args=(job.att_mask,),
        n_steps=n_steps,
        internal_batch_size=job.opts.get("internal_batch_size", 64),
        return_convergence_delta=True,
    )
    vals = a.sum(dim=-1)[0].detach().float().cpu().numpy()
    with torch.no_grad():
        base = float(job.logit(ref_t, job.att_mask)[0])
    job.meta["n_steps"] = n_steps
    return vals, float(d.reshape(-1)[0]), base


@_register("shap_partition", "text", "shap")
def _shap_partition(job: _TextJob) -> tuple[np.ndarray, None, float]:
    """SHAP Partition explainer with a Text masker (masked tokens → ``[MASK]``)."""
    import shap

    masker = shap.maskers.Text(job.tokenizer, output_type="token_ids")
    dev, logit = job.dev, job.logit

    def f(batch: Any) -> np.ndarray:
        arr = np.asarray([np.asarray(b, dtype=np.int64).reshape(-1) for b in batch])
        with torch.no_grad():
            t = torch.as_tensor(arr, device=dev)
            return logit(t, torch.ones_like(t)).float().cpu().numpy()

    max_evals = job.opts.get("max_evals", max(100, 10 * len(job.ids)))
    expl = shap.PartitionExplainer(f, masker)
    ex = expl([job.text], max_evals=max_evals, batch_size=job.opts.get("shap_batch_size", 64), silent=True)
    vals = np.asarray(ex.values[0], np.float64).reshape(-1)
    if len(vals) != len(job.ids):
        raise RuntimeError(
            f"SHAP's Text masker split the text into {len(vals)} tokens, the tokenizer into {len(job.ids)}"
        )
    job.meta["max_evals"] = max_evals
    return vals, None, float(np.asarray(ex.base_values).reshape(-1)[0])
