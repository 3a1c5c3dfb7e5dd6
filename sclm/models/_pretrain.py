"""Pretraining M on simulated series and warm-starting a data set's model from it.

``synthetic_retail_panel ──► pretrain (train_forecaster, cached under build/) ──► warm_start ──► fine-tune``

* :func:`pretrained_forecaster` trains M, with the configuration the data set's row will use,
  on the corpus of :func:`sclm.scenarios._synthetic_series.synthetic_retail_panel` (hundreds of
  simulated daily retail-like series with promotions, price, holidays, closed days and
  weather-like known-future columns), through :func:`sclm.pipeline.train_forecaster` (the same
  scaler, windows and calendar as every data set).  The checkpoint is written under
  ``build/pretrain/<key>/`` (``save_pretrained`` plus ``pretrain.json``), the key a hash of the
  model configuration, the corpus and training settings, the generator's source and
  :data:`VERSION` (raise it when the pretraining code changes), so a change to any of them
  pretrains anew; a second call loads it.
* :func:`warm_start` copies the pretrained weights into a freshly built model of the data set:
  every tensor of the same name and shape (patch embedding, backbone, flatten head and linear
  skip when the channels, input days and horizon agree; the known-future MLP's hidden and output
  layers), and the first layer of the known-future MLP column by column through
  :func:`map_future`: a data set's known-future channel takes the weights of the corpus channel
  of the same name (the calendar, the static features, ``is_holiday``, ``rain`` ...) or of the
  same kind by keyword (``closed`` → ``is_closed``, ``promo`` → ``promotion``, ``price``); an
  unmatched channel (e.g. ``wind``) starts at zero weights, so the warm-started model forecasts
  as the pretrained one and learns that channel's effect while fine-tuning.
  (Pretraining with a fixed set of generic known-future slots mapped by name, the first of the
  two designs of issue 14.)

Fine-tuning is then ordinary training on the data set's windows (``init=`` of
:func:`sclm.pipeline.train_forecaster`), usually with a lower learning rate.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from sclm.models.forecaster import Forecaster

__all__ = [
    "PRETRAIN_FUTURE",
    "Pretrained",
    "map_future",
    "pretrained_forecaster",
    "static_features",
    "synthetic_task",
    "warm_start",
]

STATIC = ("zero_share", "log_mean")
_KEYWORDS = (("clos", "is_closed"), ("holiday", "is_holiday"), ("promo", "promotion"), ("price", "price"))
VERSION = 1
"""Part of the cache key: raise it when this module's pretraining changes."""
CORPUS = {"n_groups": 64, "series_per_group": 8, "n_days": 730, "seed": 0}
"""Default corpus: 512 series of two years (about 374 k days)."""


def _pretrain_future() -> tuple[str, ...]:
    from sclm.scenarios._synthetic_series import KNOWN_FUTURE

    return (*KNOWN_FUTURE, *STATIC)


PRETRAIN_FUTURE: tuple[str, ...] = _pretrain_future()
"""Known-future panel columns of the pretraining task (the calendar is added by the pipeline)."""


def static_features(history: pd.Series, nodes: pd.Index) -> pd.DataFrame:
    """Per-series constants :data:`STATIC`: ``zero_share`` (share of zero days) and ``log_mean``
    (log1p of the mean) of each node's ``history``, one row per entry of ``nodes``.

    Parameters
    ----------
    history : pandas.Series
        The target over the days the constants may see (index with a ``node`` level).
    nodes : pandas.Index
        The node of every row to fill (e.g. the panel's ``node`` level).

    Returns
    -------
    pandas.DataFrame
        ``(len(nodes), 2)``, columns ``zero_share``, ``log_mean``.
    """
    y = history.groupby(level="node")
    return pd.DataFrame(
        {
            "zero_share": nodes.map(y.apply(lambda v: float((v == 0).mean()))).to_numpy(float),
            "log_mean": nodes.map(np.log1p(y.mean())).to_numpy(float),
        }
    )


@dataclass
class Pretrained:
    """A pretrained M: the model, the names of its known-future channels (``X_future``'s order,
    calendar included) and what :func:`pretrained_forecaster` recorded (``pretrain.json``)."""

    model: Forecaster
    future: tuple[str, ...]
    meta: dict[str, Any]


def synthetic_task(input_size: int, horizon: int, corpus: dict[str, Any] | None = None):
    """The corpus as a :class:`sclm.pipeline.ForecastTask`: target ``target``, the known-future
    columns of :data:`PRETRAIN_FUTURE` (the static ``zero_share`` and ``log_mean`` over each
    series' days, as ``bench/forecast.py``'s ``add_static``), scaled like a real data set (the
    target and the non-binary columns; binary flags and static features left as they are)."""
    from sclm.pipeline import ForecastTask
    from sclm.scenarios._synthetic_series import BINARY, synthetic_retail_panel

    panel = synthetic_retail_panel(**{**CORPUS, **(corpus or {})})
    statics = static_features(panel["target"], panel.index.get_level_values("node"))
    panel[list(STATIC)] = statics.to_numpy()
    scaled = ("target", *(c for c in PRETRAIN_FUTURE if c not in BINARY and c not in STATIC))
    return ForecastTask(
        panel=panel,
        targets=("target",),
        known_future=PRETRAIN_FUTURE,
        horizon=horizon,
        input_size=input_size,
        scaled=scaled,
    )


def _source_hash() -> str:
    from sclm.scenarios import _synthetic_series

    h = hashlib.sha256(Path(_synthetic_series.__file__).read_bytes())
    return f"{VERSION}:{h.hexdigest()}"


def pretrained_forecaster(
    config: dict[str, Any],
    *,
    input_size: int,
    horizon: int,
    corpus: dict[str, Any] | None = None,
    epochs: int = 8,
    patience: int = 2,
    lr: float = 1e-3,
    batch_size: int = 256,
    window_stride: int = 7,
    seed: int = 0,
    device: str = "auto",
    cache_dir: str | Path | None = None,
) -> Pretrained:
    """M pretrained on the simulated corpus, loaded from ``cache_dir`` when it was trained before.

    Parameters
    ----------
    config : dict
        :class:`sclm.models.ForecasterConfig` fields of the row to fine-tune (``loss_kind``,
        ``base``, ``d_model`` ...), as for :func:`sclm.pipeline.train_forecaster`.
    input_size, horizon : int
        T and H of the data set (the flatten head depends on both).
    corpus : dict, optional
        Arguments of ``synthetic_retail_panel`` over :data:`CORPUS`.
    epochs, patience, lr, batch_size, window_stride, seed, device
        Pretraining settings (early stopping on the corpus's latest 20 % of origins); ``device``
        ``"auto"`` is cuda, else mps, else cpu (not part of the cache key).
    cache_dir : path, optional
        Default ``build/pretrain``.

    Returns
    -------
    Pretrained
    """
    from sclm.config import BUILD_DIR
    from sclm.pipeline import train_forecaster

    corpus = {**CORPUS, **(corpus or {})}
    settings = {
        "config": config,
        "input_size": input_size,
        "horizon": horizon,
        "corpus": corpus,
        "epochs": epochs,
        "patience": patience,
        "lr": lr,
        "batch_size": batch_size,
        "window_stride": window_stride,
        "seed": seed,
        "torch": torch.__version__,
        "source": _source_hash(),
    }
    key = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:16]
    folder = Path(cache_dir or BUILD_DIR / "pretrain") / key
    meta_file = folder / "pretrain.json"
    if meta_file.is_file():
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        return Pretrained(Forecaster.from_pretrained(folder), tuple(meta["future"]), meta)
    t0, c0 = time.perf_counter(), time.process_time()
    task = synthetic_task(input_size, horizon, corpus)
    trained = train_forecaster(
        task,
        epochs=epochs,
        patience=patience,
        lr=lr,
        batch_size=batch_size,
        window_stride=window_stride,
        seed=seed,
        device=device,
        **config,
    )
    fr = trained.fit_result
    from sclm.windows import CALENDAR_FEATURES

    meta = {
        **settings,
        "key": key,
        "future": [*PRETRAIN_FUTURE, *CALENDAR_FEATURES],
        "series": int(task.panel.index.get_level_values("node").nunique()),
        "epochs_run": int(fr.epochs_run),
        "best_epoch": int(fr.best_epoch),
        "best_val_loss": None if fr.best_val_loss is None else float(fr.best_val_loss),
        "wall_s": round(time.perf_counter() - t0, 1),
        "cpu_s": round(time.process_time() - c0, 1),
    }
    trained.model.save_pretrained(folder)
    meta_file.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return Pretrained(trained.model.cpu(), tuple(meta["future"]), meta)


def map_future(names: Sequence[str], slots: Sequence[str], binary: Collection[str] = ()) -> list[int | None]:
    """For each of a data set's known-future channels, the pretrained channel it takes, or None.

    First the same name; then, for a 0/1 channel (``binary``) or any channel whose name holds a
    keyword, the slot of that keyword (``clos`` → ``is_closed``, ``holiday`` → ``is_holiday``,
    ``promo`` → ``promotion``, ``price`` → ``price``).  A slot is taken at most once.
    """
    used: set[int] = set()
    out: list[int | None] = [None] * len(names)
    for i, n in enumerate(names):
        if n in slots and slots.index(n) not in used:
            out[i] = slots.index(n)
            used.add(out[i])
    for i, n in enumerate(names):
        if out[i] is not None:
            continue
        low = n.lower()
        for word, slot in _KEYWORDS:
            if word in low and slot in slots and slots.index(slot) not in used:
                if slot != "price" or n not in binary:
                    out[i] = slots.index(slot)
                    used.add(out[i])
                    break
    return out


def warm_start(
    model: Forecaster, pretrained: Pretrained, future: Sequence[str], binary: Collection[str] = ()
) -> dict[str, list[str]]:
    """Copy ``pretrained``'s weights into ``model`` (in place); see the module docstring.

    ``future``: the names of ``model``'s known-future channels (``Windows.known_future``).
    Returns ``{"copied": [...], "skipped": [...], "future": [...]}``: tensor names copied whole,
    tensors left at their fresh values (shape differs), and per known-future channel
    ``"name <- slot"`` or ``"name <- 0"``.
    """
    new = model.state_dict()
    old = pretrained.model.state_dict()
    report: dict[str, list[str]] = {"copied": [], "skipped": [], "future": []}
    mapping = map_future(list(future), list(pretrained.future), binary)
    with torch.no_grad():
        for name, w in old.items():
            if name == "future.0.weight" and name in new and new[name].shape[0] == w.shape[0]:
                cols = torch.zeros_like(new[name])
                for i, j in enumerate(mapping):
                    if j is not None:
                        cols[:, i] = w[:, j]
                new[name].copy_(cols)
                report["future"] = [
                    f"{n} <- {pretrained.future[j] if j is not None else 0}"
                    for n, j in zip(future, mapping, strict=True)
                ]
            elif name in new and new[name].shape == w.shape:
                new[name].copy_(w)
                report["copied"].append(name)
            else:
                report["skipped"].append(name)
    return report
