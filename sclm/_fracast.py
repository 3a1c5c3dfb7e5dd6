"""Zero-shot baseline: the pretrained ``fracast`` forecaster (Fracast-0, Apache-2.0, weights bundled).

``fracast`` 0.1.0 ships an 85 k-parameter model with its weights inside the package, so it loads
with no network.  It reads up to 2048 past values of each series (channels independent,
normalised by the context's min and span inside the package), and predicts the quantiles
0.1 ... 0.9 for 48 steps natively; longer horizons are rolled forward by the package on its own
median.  No training, no covariates: a foundation-model reference row for the benches.

:func:`fracast_forecast` is called through :func:`sclm.baselines.forecast` (``name="fracast"``).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import pandas as pd

__all__ = ["fracast_forecast", "load_fracast_model"]


@lru_cache(maxsize=1)
def load_fracast_model():
    """The bundled Fracast-0 model on the CPU (fp32 weights), loaded once per process."""
    from fracast import FracastModel

    return FracastModel.from_pretrained(weights="fp32", device="cpu")


def _quantile_index(model_qs: Sequence[float], qs: Sequence[float]) -> list[int]:
    """Positions of the requested levels among the model's (every one must be a model level)."""
    out = []
    for q in qs:
        hit = [i for i, m in enumerate(model_qs) if abs(m - q) < 1e-9]
        if not hit:
            raise ValueError(f"fracast predicts the quantiles {list(model_qs)} only; {q} was asked for")
        out.append(hit[0])
    return out


def fracast_forecast(train: pd.DataFrame, horizon: int, qs: Sequence[float], freq: str = "D") -> pd.DataFrame:
    """Zero-shot quantile forecasts of every series of ``train`` (checked, sorted long frame).

    Parameters
    ----------
    train : pandas.DataFrame
        ``unique_id, ds, y``, gap-free per series, sorted by ``unique_id`` then ``ds``.
    horizon : int
        Steps after each series' last ``ds``.
    qs : sequence of float
        Requested levels, each one of the model's (0.1, 0.2, ..., 0.9).
    freq : str
        pandas frequency of the series.

    Returns
    -------
    pandas.DataFrame
        ``unique_id, ds, mean, q<level>...``; ``mean`` is the model's median (it predicts no
        mean), quantiles sorted per row so that they never cross.
    """
    model = load_fracast_model()
    idx = _quantile_index(model.quantiles, qs)
    groups = list(train.groupby("unique_id", sort=False))
    width = min(max(len(g) for _, g in groups), model.context_length)
    ctx = np.full((len(groups), width), np.nan, dtype=np.float32)
    for i, (_, g) in enumerate(groups):
        y = g["y"].to_numpy("float32")[-width:]
        ctx[i, width - len(y) :] = y  # right-aligned: the last value is the origin
    fc = model.forecast_batch(ctx, horizon=int(horizon))  # (B, H, Q_model)
    q = np.sort(fc[:, :, idx].astype("float64"), axis=-1)  # (B, H, Q) in the requested order
    off = pd.tseries.frequencies.to_offset(freq)
    rows = []
    med = _quantile_index(model.quantiles, [0.5])[0]
    for i, (uid, g) in enumerate(groups):
        d = pd.DataFrame(
            {"unique_id": uid, "ds": pd.date_range(g["ds"].iloc[-1] + off, periods=horizon, freq=off)}
        )
        d["mean"] = fc[i, :, med].astype("float64")
        for j, level in enumerate(qs):
            d[f"q{float(level):g}"] = q[i, :, j]
        rows.append(d)
    return pd.concat(rows, ignore_index=True)
