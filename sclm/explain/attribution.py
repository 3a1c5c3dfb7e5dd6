"""The result type of :func:`sclm.explain.explain`: one :class:`Attribution` for every method.

Windows (forecaster M)
----------------------
``values`` has the shape of the explained input ``X``: (N, T, C), channel names
``feature_names`` (the :class:`sclm.windows.Windows` channels, targets first).  When the model
also takes known-future covariates (N, H, F) and the method attributes them, they are in
``future_values`` with names ``future_names``.

Every cell is addressed by ``(channel, lag)`` with one convention for both inputs:
``lag = origin - day``.  Past position ``t`` (0 = oldest, T-1 = origin) has ``lag = T-1-t``
(0 = the origin day, the last observed day); known-future step ``h`` (1 = the day after the
origin) has ``lag = -h``.  A scenario driver ``(variable, L)`` of a target forecast ``h`` days
ahead is the cell ``(variable, L - h)`` (see :func:`sclm.explain.checks.driver_cells`).

Texts (document tagger)
-----------------------
``values`` is (N, L) over the sub-word tokens of each text including ``[CLS]``/``[SEP]``,
zero-padded to the longest text; ``tokens`` holds each text's token strings and ``mask`` which
positions are real.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

__all__ = ["Attribution"]


@dataclass(frozen=True, eq=False, repr=False)
class Attribution:
    """Attributions of one model output to its inputs (numpy, on the CPU).

    Attributes
    ----------
    values : numpy.ndarray, float64
        (N, T, C) for windows, (N, L) for texts (zero beyond each text's length).
    feature_names : tuple of str
        C channel names (windows) or, for texts, ``()`` (see ``tokens``).
    method : str
        Registry name of the method (``"integrated_gradients"``, ``"shap_gradient"``, ...).
    target : dict
        What was explained: ``{"target": name, "index": k, "step": [1-based steps], "reduce":
        ..., "output": ...}`` for forecasts; ``{"position": i, "label": name, ...}`` for texts.
    kind : {"windows", "text"}
    delta : numpy.ndarray or None, shape (N,)
        The method's convergence delta (IntegratedGradients, GradientShap:
        ``Σ attributions - (f(x) - f(baseline))``); None where the method has none.
    future_values : numpy.ndarray or None, shape (N, H, F)
    future_names : tuple of str
    inputs : numpy.ndarray or None
        The explained data, same shape as ``values`` (token ids for texts).
    future_inputs : numpy.ndarray or None, shape (N, H, F)
    outputs : numpy.ndarray or None, shape (N,)
        f(x), the explained scalar per sample.
    base_values : numpy.ndarray or None, shape (N,)
        f(baseline) (or the expected value over the background for SHAP).
    tokens : list of list of str or None
        Texts only: the token strings of each text.
    mask : numpy.ndarray of bool or None, shape (N, L)
        Texts only: real (not padding) token positions.
    meta : dict
        Method parameters (baseline, n_steps, seed, ...) and timings.
    """

    values: np.ndarray
    feature_names: tuple[str, ...]
    method: str
    target: dict[str, Any]
    kind: Literal["windows", "text"] = "windows"
    delta: np.ndarray | None = None
    future_values: np.ndarray | None = None
    future_names: tuple[str, ...] = ()
    inputs: np.ndarray | None = None
    future_inputs: np.ndarray | None = None
    outputs: np.ndarray | None = None
    base_values: np.ndarray | None = None
    tokens: list[list[str]] | None = None
    mask: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        v = np.asarray(self.values, dtype=np.float64)
        object.__setattr__(self, "values", v)
        if self.kind == "windows":
            if v.ndim != 3 or v.shape[2] != len(self.feature_names):
                raise ValueError(
                    f"window attributions must be (N, T, C) with C = {len(self.feature_names)} "
                    f"feature names, got shape {v.shape}"
                )
            if self.future_values is not None:
                fv = np.asarray(self.future_values, dtype=np.float64)
                if fv.ndim != 3 or fv.shape[0] != v.shape[0] or fv.shape[2] != len(self.future_names):
                    raise ValueError(
                        f"future attributions must be (N, H, F={len(self.future_names)}), got {fv.shape}"
                    )
                object.__setattr__(self, "future_values", fv)
        elif self.kind == "text":
            if v.ndim != 2:
                raise ValueError(f"text attributions must be (N, L), got shape {v.shape}")
        else:
            raise ValueError(f"kind must be 'windows' or 'text', got {self.kind!r}")

    # ---- basics ----------------------------------------------------------------------------------

    def __len__(self) -> int:
        return int(self.values.shape[0])

    def __repr__(self) -> str:
        fut = "" if self.future_values is None else f", future={self.future_values.shape}"
        d = "" if self.delta is None else f", max|delta|={float(np.max(np.abs(self.delta))):.3g}"
        return f"Attribution({self.method!r}, values={self.values.shape}{fut}, target={self.target}{d})"

    @property
    def input_size(self) -> int:
        """T (windows)."""
        return int(self.values.shape[1])

    @property
    def horizon(self) -> int:
        """H, the number of known-future steps attributed (0 without them); not the explained step."""
        return 0 if self.future_values is None else int(self.future_values.shape[1])

    def total(self) -> np.ndarray:
        """Σ of all attributions per sample (past and future inputs), shape (N,)."""
        s = self.values.reshape(len(self), -1).sum(axis=1)
        if self.future_values is not None:
            s = s + self.future_values.reshape(len(self), -1).sum(axis=1)
        return s

    def _need_windows(self, what: str) -> None:
        if self.kind != "windows":
            raise ValueError(f"{what} is defined for window attributions; this one is {self.kind!r}")

    # ---- cells -----------------------------------------------------------------------------------

    def flat(self) -> tuple[np.ndarray, list[tuple[str, int]]]:
        """All cells per sample as one row: values (N, T·C + H·F) and their ``(channel, lag)``.

        Past cells come first (time-major: position 0 channels 0..C-1, then position 1, ...),
        then the future cells (step 1..H, channels 0..F-1).
        """
        self._need_windows("flat()")
        n, t, c = self.values.shape
        parts = [self.values.reshape(n, t * c)]
        cells = [(self.feature_names[j], t - 1 - i) for i in range(t) for j in range(c)]
        if self.future_values is not None:
            h, f = self.future_values.shape[1:]
            parts.append(self.future_values.reshape(n, h * f))
            cells += [(self.future_names[j], -(i + 1)) for i in range(h) for j in range(f)]
        return np.concatenate(parts, axis=1), cells

    def flat_inputs(self) -> np.ndarray | None:
        """The explained data as in :meth:`flat`, (N, T·C + H·F), or None if not kept."""
        if self.inputs is None:
            return None
        n = len(self)
        parts = [np.asarray(self.inputs, dtype=np.float64).reshape(n, -1)]
        if self.future_values is not None and self.future_inputs is not None:
            parts.append(np.asarray(self.future_inputs, dtype=np.float64).reshape(n, -1))
        return np.concatenate(parts, axis=1)

    def cells(self, agg: Literal["abs_mean", "mean", "abs_sum", "sum"] = "abs_mean") -> pd.Series:
        """Importance of every (channel, lag) cell aggregated over the N samples.

        Parameters
        ----------
        agg : {"abs_mean", "mean", "abs_sum", "sum"}
            ``abs_mean`` (default): mean over samples of |attribution| (importance regardless of
            sign); ``mean``: signed mean (direction of the effect); the ``sum`` forms sum instead.

        Returns
        -------
        pandas.Series
            MultiIndex (``channel``, ``lag``), one row per cell (T·C + H·F).
        """
        vals, cells = self.flat()
        out = _agg(vals, agg)
        return pd.Series(out, index=pd.MultiIndex.from_tuples(cells, names=["channel", "lag"]), name=agg)

    def per_channel(self, agg: Literal["abs_mean", "mean", "abs_sum", "sum"] = "abs_mean") -> pd.Series:
        """Importance per input channel: the cell importances summed over lags.

        Returns
        -------
        pandas.Series
            One row per past channel then per future channel (a future channel that is also a
            past channel gets the suffix ``" (future)"``), sorted as in the inputs.
        """
        self._need_windows("per_channel()")
        n = len(self)
        past = _agg(self.values.reshape(n, -1), agg).reshape(self.values.shape[1:]).sum(axis=0)
        names = list(self.feature_names)
        out = list(past)
        if self.future_values is not None:
            fut = (
                _agg(self.future_values.reshape(n, -1), agg).reshape(self.future_values.shape[1:]).sum(axis=0)
            )
            for name, v in zip(self.future_names, fut, strict=True):
                names.append(f"{name} (future)" if name in self.feature_names else name)
                out.append(v)
        return pd.Series(out, index=pd.Index(names, name="channel"), name=agg)

    def per_lag(self, agg: Literal["abs_mean", "mean", "abs_sum", "sum"] = "abs_mean") -> pd.DataFrame:
        """Importance per (lag, channel): rows lag (future steps negative, then 0 = origin, 1, ...
        up to T-1), one column per channel (past and future channels).  Empty cells are NaN."""
        s = self.cells(agg)
        return s.unstack("channel").sort_index()

    def top_k(
        self, k: int = 10, agg: Literal["abs_mean", "mean", "abs_sum", "sum"] = "abs_mean"
    ) -> pd.DataFrame:
        """The ``k`` most important cells, ranked by ``|agg|``.

        Windows: columns ``channel``, ``lag``, ``importance`` (``agg`` over samples), ``mean``
        (signed mean, the direction), ``share`` (of the total |importance|).  Texts: ``sample``,
        ``position``, ``token``, ``importance`` over every (text, token) pair.
        """
        if not isinstance(k, int | np.integer) or k < 1:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        if self.kind == "text":
            rows = []
            for i, toks in enumerate(self.tokens or []):
                for j, tok in enumerate(toks):
                    rows.append((i, j, tok, float(self.values[i, j])))
            df = pd.DataFrame(rows, columns=["sample", "position", "token", "importance"])
            order = np.argsort(-np.abs(df["importance"].to_numpy()), kind="stable")
            return df.iloc[order[:k]].reset_index(drop=True)
        imp = self.cells(agg)
        signed = self.cells("mean")
        order = np.argsort(-np.abs(imp.to_numpy()), kind="stable")[:k]
        total = float(np.abs(imp.to_numpy()).sum()) or 1.0
        df = pd.DataFrame(
            {
                "channel": imp.index.get_level_values("channel")[order],
                "lag": imp.index.get_level_values("lag")[order].astype(int),
                "importance": imp.to_numpy()[order],
                "mean": signed.to_numpy()[order],
                "share": np.abs(imp.to_numpy()[order]) / total,
            }
        )
        return df

    # ---- texts -----------------------------------------------------------------------------------

    def per_word(self, sample: int = 0) -> pd.DataFrame:
        """Texts: token attributions of one text summed per word (WordPiece ``##`` pieces merged).

        Returns
        -------
        pandas.DataFrame
            ``word`` and ``importance``, special tokens dropped.
        """
        if self.kind != "text" or self.tokens is None:
            raise ValueError("per_word() is defined for text attributions")
        words: list[str] = []
        vals: list[float] = []
        for j, tok in enumerate(self.tokens[sample]):
            v = float(self.values[sample, j])
            if tok in ("[CLS]", "[SEP]", "[PAD]"):
                continue
            if tok.startswith("##") and words:
                words[-1] += tok[2:]
                vals[-1] += v
            else:
                words.append(tok)
                vals.append(v)
        return pd.DataFrame({"word": words, "importance": vals})

    # ---- SHAP interoperability -------------------------------------------------------------------

    def to_shap_explanation(self, *, by: Literal["cell", "channel"] = "cell"):
        """A :class:`shap.Explanation` for SHAP's plots (``shap.plots.bar``, ``beeswarm``,
        ``waterfall``, ``text``).

        Parameters
        ----------
        by : {"cell", "channel"}
            Windows: one feature per (channel, lag) cell, named ``"channel[t-lag]"`` (future
            ``"channel[t+h]"``), or one per channel (lags summed; data = the channel's mean over
            the window).  Ignored for texts.

        Returns
        -------
        shap.Explanation
            Windows: ``values`` (N, M); ``base_values`` (N,) when known; ``data`` (N, M) when
            the inputs were kept.  Texts: one row per text with its own token count (object
            arrays), as ``shap.plots.text`` expects.
        """
        import shap

        base = None if self.base_values is None else np.asarray(self.base_values, dtype=np.float64)
        if self.kind == "text":
            toks = self.tokens or [[] for _ in range(len(self))]
            vals = [self.values[i, : len(t)] for i, t in enumerate(toks)]
            data = [np.array(t, dtype=object) for t in toks]
            out = np.empty(len(vals), dtype=object)
            dat = np.empty(len(vals), dtype=object)
            for i in range(len(vals)):
                out[i], dat[i] = vals[i], data[i]
            return shap.Explanation(values=out, base_values=base, data=dat, feature_names=None)
        if by == "cell":
            vals, cells = self.flat()
            names = [_cell_name(c, lag) for c, lag in cells]
            data = self.flat_inputs()
        elif by == "channel":
            n = len(self)
            vals_l = [self.values.sum(axis=1)]
            names = list(self.feature_names)
            data_l = None if self.inputs is None else [np.asarray(self.inputs).mean(axis=1)]
            if self.future_values is not None:
                vals_l.append(self.future_values.sum(axis=1))
                names += [f"{f} (future)" for f in self.future_names]
                if data_l is not None and self.future_inputs is not None:
                    data_l.append(np.asarray(self.future_inputs).mean(axis=1))
                else:
                    data_l = None
            vals = np.concatenate(vals_l, axis=1).reshape(n, -1)
            data = None if data_l is None else np.concatenate(data_l, axis=1)
        else:
            raise ValueError(f"by must be 'cell' or 'channel', got {by!r}")
        return shap.Explanation(values=vals, base_values=base, data=data, feature_names=names)

    # ---- misc ------------------------------------------------------------------------------------

    def subset(self, rows: Sequence[int] | np.ndarray) -> Attribution:
        """The attributions of the selected samples (integer positions or a boolean mask)."""
        rows = np.asarray(rows)
        if rows.dtype == np.bool_:
            rows = np.flatnonzero(rows)

        def take(a):
            return None if a is None else np.asarray(a)[rows]

        return Attribution(
            values=self.values[rows],
            feature_names=self.feature_names,
            method=self.method,
            target=dict(self.target),
            kind=self.kind,
            delta=take(self.delta),
            future_values=take(self.future_values),
            future_names=self.future_names,
            inputs=take(self.inputs),
            future_inputs=take(self.future_inputs),
            outputs=take(self.outputs),
            base_values=take(self.base_values),
            tokens=None if self.tokens is None else [self.tokens[i] for i in rows],
            mask=take(self.mask),
            meta=dict(self.meta),
        )


def _agg(vals: np.ndarray, agg: str) -> np.ndarray:
    if agg == "abs_mean":
        return np.abs(vals).mean(axis=0)
    if agg == "mean":
        return vals.mean(axis=0)
    if agg == "abs_sum":
        return np.abs(vals).sum(axis=0)
    if agg == "sum":
        return vals.sum(axis=0)
    raise ValueError(f"agg must be 'abs_mean', 'mean', 'abs_sum' or 'sum', got {agg!r}")


def _cell_name(channel: str, lag: int) -> str:
    if lag == 0:
        return f"{channel}[t]"
    return f"{channel}[t-{lag}]" if lag > 0 else f"{channel}[t+{-lag}]"
