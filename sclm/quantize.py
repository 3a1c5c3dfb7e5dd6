"""int8 dynamic quantisation of trained models for CPU inference (article Q3).

Wraps :func:`torch.ao.quantization.quantize_dynamic`: the weights of every ``nn.Linear`` are
stored as int8 (per-tensor scale), activations are quantised on the fly per batch, and the
matrix products run in int8 (fbgemm / qnnpack kernels).  Everything else (attention
softmax, layer norms, GELU, embeddings) stays float32.  Quantised modules run on the CPU only.

- :func:`quantize_forecaster` — a copy of M (:class:`sclm.models.Forecaster`), usable with
  :func:`sclm.training.predict` and in a :class:`sclm.pipeline.TrainedForecaster`.
- :func:`quantize_tagger` — a copy of a :class:`sclm.models.tagger.Tagger` whose transformer
  is quantised (query/key/value, attention output, feed-forward and classifier layers).
- :func:`linear_time_share` — the share of a forward pass's time spent in the linear layers
  that get quantised: the ceiling on what quantising them can gain (Amdahl).

Note on M: ``nn.MultiheadAttention`` keeps its input projection as a raw parameter and its
output projection as ``NonDynamicallyQuantizableLinear``, which ``quantize_dynamic`` leaves in
float; in M's patch backbone only the feed-forward layers, the patch embedding, the head and
the known-future MLP are quantised.
"""

from __future__ import annotations

import copy
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

__all__ = [
    "Throughput",
    "linear_time_share",
    "quantize_dynamic_int8",
    "quantize_forecaster",
    "quantize_tagger",
    "quantized_linear_count",
    "throughput",
]


def quantize_dynamic_int8(
    module: nn.Module, layers: set[type[nn.Module]] | None = None, *, per_channel: bool = False
) -> nn.Module:
    """A quantised copy of ``module`` (the original is untouched), on the CPU, in eval mode.

    Parameters
    ----------
    module : nn.Module
        A trained float model.
    layers : set of module types, default ``{nn.Linear}``
        Layer types whose weights become int8.
    per_channel : bool
        One int8 scale per output row of each weight matrix
        (``per_channel_dynamic_qconfig``) instead of one per matrix.

    Returns
    -------
    nn.Module
        The copy, with those layers replaced by ``torch.ao.nn.quantized.dynamic`` modules.
    """
    engines = torch.backends.quantized.supported_engines
    if torch.backends.quantized.engine == "none" and engines:  # pragma: no cover - exotic builds
        torch.backends.quantized.engine = next(e for e in ("x86", "fbgemm", "qnnpack") if e in engines)
    float_copy = copy.deepcopy(module).to("cpu").eval()
    with warnings.catch_warnings():
        # torch 2.13 flags eager-mode quantisation (and quantised tensor creation) as deprecated
        # in favour of torchao, which is not a dependency; the API still works as documented
        warnings.filterwarnings("ignore", message=r"torch\.ao\.quantization is deprecated")
        warnings.filterwarnings("ignore", message=r"torch\.quantize_per_tensor", category=UserWarning)
        if per_channel:
            qconfig = torch.ao.quantization.per_channel_dynamic_qconfig
            spec: Any = dict.fromkeys(layers or {nn.Linear}, qconfig)
        else:
            spec = layers or {nn.Linear}
        q = torch.ao.quantization.quantize_dynamic(float_copy, spec, dtype=torch.qint8)
    for m in q.modules():
        if isinstance(m, nn.TransformerEncoderLayer | nn.TransformerDecoderLayer):
            # the fused eval fast path reads ``linear1.weight`` as a tensor, which a quantised
            # Linear's is not (it is a method); a hook on the layer makes torch take the
            # module-by-module path, which calls the int8 layers
            m.register_forward_pre_hook(_keep_module_path)
    return q


def _keep_module_path(_module: nn.Module, _args: object) -> None:
    return None


def quantized_linear_count(module: nn.Module) -> tuple[int, int]:
    """``(quantised, float)`` counts of linear layers in ``module``.

    ``float`` counts ``nn.Linear`` modules (including attention's output projection) still in
    float32.
    """
    from torch.ao.nn.quantized.dynamic import Linear as QLinear

    q = sum(isinstance(m, QLinear) for m in module.modules())
    f = sum(isinstance(m, nn.Linear) for m in module.modules())
    return q, f


def quantize_forecaster(model: nn.Module, *, per_channel: bool = False) -> nn.Module:
    """int8 copy of a trained forecaster M for CPU inference.

    The copy keeps ``config`` (so :func:`sclm.training.predict` clamps and reshapes as for the
    float model) and the ``forward(x, x_future)`` / ``loss`` protocol.  Use ``device="cpu"``.
    """
    return quantize_dynamic_int8(model, per_channel=per_channel)


def quantize_tagger(tagger: Any, *, per_channel: bool = False) -> Any:
    """A copy of ``tagger`` (:class:`sclm.models.tagger.Tagger`) with an int8 transformer, on the CPU.

    The tokenizer and label maps are shared with the original; the original keeps its float
    model and device.  ``predict``, ``logits``, ``evaluate`` and ``entities`` work as before.
    """
    out = copy.copy(tagger)
    out.model = quantize_dynamic_int8(tagger.model, per_channel=per_channel)
    out.device = torch.device("cpu")
    return out


@dataclass
class Throughput:
    """Timing of ``repeats`` calls of one workload.

    Attributes
    ----------
    items : int
        Predictions per call (windows, documents ...).
    best_s, median_s : float
        Wall seconds of the fastest and the median call.
    cpu_s : float
        Median process CPU seconds (user + system) per call.
    """

    items: int
    best_s: float
    median_s: float
    cpu_s: float

    @property
    def per_s(self) -> float:
        """Items per wall second of the fastest call (the least disturbed by other load)."""
        return self.items / self.best_s

    @property
    def per_cpu_s(self) -> float:
        """Items per CPU second (median call): robust to a machine shared with other jobs."""
        return self.items / self.cpu_s


def throughput(fn: Callable[[], object], items: int, *, repeats: int = 5, warmup: int = 1) -> Throughput:
    """Call ``fn`` ``warmup`` + ``repeats`` times and time the repeats (wall and CPU)."""
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    for _ in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return Throughput(items, float(np.min(wall)), float(np.median(wall)), float(np.median(cpu)))


def linear_time_share(model: nn.Module, fn: Callable[[], object], *, repeats: int = 3) -> float:
    """Share (0..1) of the wall time of ``fn()`` spent inside ``model``'s ``nn.Linear`` modules.

    Timed with forward pre/post hooks on every ``nn.Linear`` called as a module: exactly the
    layers :func:`quantize_dynamic_int8` converts (attention's functional input/output
    projections in ``nn.MultiheadAttention`` are not called as modules, so they count as the
    rest).  This share bounds the speed-up quantising them can give: ``1 / (1 - share)`` even
    if the int8 layers took no time.  Median over ``repeats`` calls after one warm-up.
    """
    spent = [0.0]
    starts: dict[int, float] = {}

    def pre(mod: nn.Module, _args: object) -> None:
        starts[id(mod)] = time.perf_counter()

    def post(mod: nn.Module, _args: object, _out: object) -> None:
        spent[0] += time.perf_counter() - starts.pop(id(mod))

    handles = []
    for m in model.modules():
        if type(m) is nn.Linear:
            handles += [m.register_forward_pre_hook(pre), m.register_forward_hook(post)]
    try:
        fn()
        shares = []
        for _ in range(repeats):
            spent[0] = 0.0
            t0 = time.perf_counter()
            fn()
            shares.append(spent[0] / (time.perf_counter() - t0))
    finally:
        for h in handles:
            h.remove()
    return float(np.median(shares))
