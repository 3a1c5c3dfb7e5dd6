"""Label encoding shared by the cleaning and fusion engines (private).

Both engines turn the string label columns of a Readings table (``node``, ``variable``,
``source``, ``unit``...) into small integer codes into the *sorted* unique labels, so that a code
order is the label order and a (node, variable, source) key is a few integer operations.  This
module is that encoding, once:

* :func:`factorize_labels` — ``pd.factorize`` of an object column, missing labels included;
* :func:`label_runs` — start positions of runs of equal labels, when a column comes in long runs
  (sorted readings), so only one value per run is hashed;
* :func:`sorted_codes` — codes (int32) into the sorted uniques, with the str check and a choice of
  what a missing label becomes.

See ``docs/architecture.md`` for where the engines sit in the package.
"""

from __future__ import annotations

import ctypes
from typing import Literal

import numpy as np
import pandas as pd

__all__ = ["NonStringLabelError", "category_codes", "factorize_labels", "label_runs", "sorted_codes"]

_RUN_PROBE = 65_536  # rows probed before building the run starts of a column
_POINTER_MIN = 4_096  # object rows from which sorted_codes hashes addresses first (_pointer_codes)


class NonStringLabelError(TypeError):
    """An object label column holds a value that is not a ``str`` (None, NaN, a number...).

    ``examples`` holds up to three offending unique values, for the caller's message.
    """

    def __init__(self, examples: list[object]) -> None:
        super().__init__(f"non-string label, e.g. {examples!r}")
        self.examples = examples


def factorize_labels(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize`` of an object column: codes and the uniques in order of first appearance.

    Parameters
    ----------
    values
        Shape ``(n,)``, any dtype (usually object holding str).

    Returns
    -------
    codes : numpy.ndarray
        Shape ``(n,)``, integer codes into ``uniques``.
    uniques : numpy.ndarray
        Shape ``(k,)``, object: the distinct values in order of first appearance.  A missing label
        (None/NaN) gets its own code, so the caller's ``str`` check sees it.

    Notes
    -----
    Factorizing with the default NA sentinel first avoids pandas' slow NA scan of object arrays
    when, as usual, no label is missing.
    """
    codes, uniques = pd.factorize(values)
    if len(codes) and codes.min() < 0:
        codes, uniques = pd.factorize(values, use_na_sentinel=False)
    return codes, np.asarray(uniques, dtype=object)


def label_runs(values: np.ndarray) -> np.ndarray | None:
    """Start positions of runs of equal values, when an object column comes in long runs (else None).

    Readings are usually sorted by node, so ``node`` and ``node_type`` are a few thousand runs:
    hashing one value per run instead of one per row makes their encoding ~10x cheaper.

    Parameters
    ----------
    values
        Shape ``(n,)``.

    Returns
    -------
    numpy.ndarray or None
        Shape ``(r,)`` int64, the first position of each run (``starts[0] == 0``), when ``values``
        is an object array of at least ``4 * 65536`` rows in at most ``n / 64`` runs; else None.
    """
    n, probe = len(values), _RUN_PROBE
    if values.dtype != object or n < 4 * probe:
        return None
    try:
        head = values[:probe]
        if np.count_nonzero(head[1:] != head[:-1]) > probe // 64:
            return None
        change = np.empty(n, dtype=bool)
        change[0] = True
        np.not_equal(values[1:], values[:-1], out=change[1:])
    except (TypeError, ValueError):  # objects without elementwise comparison
        return None
    starts = np.flatnonzero(change)
    return starts if len(starts) <= n // 64 else None


def _pointer_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes of an object array by object identity, and one object per code.

    The addresses of the referenced objects (``PyObject*``, read from the array's buffer) are
    factorized as int64: equal addresses are the same object, hence the same label, so the
    labels are then compared only among the few distinct objects (equal strings held by different
    objects get different codes here and are merged by the caller).  Hashing int64 is ~4x cheaper
    than hashing and comparing the strings of every row.

    Parameters
    ----------
    values
        Shape ``(n,)``, object.

    Returns
    -------
    codes : numpy.ndarray
        Shape ``(n,)`` int64 codes into ``objects`` (``objects[codes[i]] is values[i]``).
    objects : numpy.ndarray
        Shape ``(k,)``, object: one reference per distinct address, in order of first appearance.
    """
    arr = np.ascontiguousarray(values)
    if len(arr) == 0:
        return np.zeros(0, dtype=np.int64), arr
    raw = (ctypes.c_ssize_t * len(arr)).from_address(arr.ctypes.data)
    addresses = np.frombuffer(raw, dtype=np.intp).copy()  # `arr` stays referenced while read
    del raw
    codes, uniq = pd.factorize(addresses)
    where = np.empty(len(uniq), dtype=np.int64)
    where[codes] = np.arange(len(arr), dtype=np.int64)  # a position of each address
    return codes, arr[where]


def sorted_codes(
    values: np.ndarray,
    *,
    missing: Literal["error", "sentinel"] = "error",
    runs: bool = False,
    str_subclasses: bool = False,
    _pointers: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes into the sorted unique values.

    Parameters
    ----------
    values
        Shape ``(n,)``.  An object array must hold ``str`` labels; any other dtype (e.g. int64
        keys) is encoded by value.
    missing
        What a missing label (None/NaN) of an object array becomes: ``"error"`` (default) raises
        :class:`NonStringLabelError` like any other non-string label; ``"sentinel"`` gives it the
        code ``-1`` (it is then not among the uniques).
    runs
        Hash one value per run of equal values when the column comes in long runs
        (:func:`label_runs`); the result is the same, only faster on sorted columns.
    str_subclasses
        Accept instances of ``str`` subclasses (e.g. ``numpy.str_``) as labels (default False:
        exactly ``str``).
    _pointers
        Private: an object array of at least 4096 values is first coded by object identity
        (:func:`_pointer_codes`), then only the distinct objects by value (same result, faster).

    Returns
    -------
    codes : numpy.ndarray
        Shape ``(n,)`` int32: ``uniques[codes[i]] == values[i]`` (``-1`` for a missing label with
        ``missing="sentinel"``).
    uniques : numpy.ndarray
        Shape ``(k,)``, sorted ascending (object for object input).

    Raises
    ------
    NonStringLabelError
        An object array holds a non-string value (or a missing one, with ``missing="error"``).
    """
    if missing not in ("error", "sentinel"):
        raise ValueError(f"missing={missing!r} is unknown; expected 'error' or 'sentinel'")
    starts = label_runs(values) if runs else None
    hashed = values if starts is None else values[starts]
    if _pointers and values.dtype == object and len(hashed) >= _POINTER_MIN:
        # hash the objects' addresses (int64), then the few distinct objects by value
        by_ptr, objects = _pointer_codes(hashed)
        sub, uniques = sorted_codes(objects, missing=missing, str_subclasses=str_subclasses, _pointers=False)
        out = sub[by_ptr]
        if starts is not None:
            out = np.repeat(out, np.diff(np.append(starts, len(values))))
        return out, uniques
    if values.dtype == object:
        if missing == "error":
            codes, uniques = factorize_labels(hashed)
        else:
            codes, uniques = pd.factorize(hashed, sort=False)
            uniques = np.asarray(uniques, dtype=object)
        bad = [u for u in uniques if not (isinstance(u, str) if str_subclasses else type(u) is str)]
        if bad:
            raise NonStringLabelError(bad[:3])
    else:
        codes, uniques = pd.factorize(hashed, sort=False)
        uniques = np.asarray(uniques)
    order = np.argsort(uniques, kind="stable")
    k = len(order)
    if np.array_equal(order, np.arange(k)) and (missing == "error" or not (codes < 0).any()):
        out = codes.astype(np.int32)
    else:
        rank = np.empty(k + 1, dtype=np.int32)
        rank[order] = np.arange(k, dtype=np.int32)
        rank[-1] = -1  # code -1 (missing, "sentinel") stays -1
        out = rank[codes]
    if starts is not None:
        out = np.repeat(out, np.diff(np.append(starts, len(values))))
    return out, uniques[order]


_SAMPLE_STRIDE = 61  # rows between the sampled codes of category_codes' first look


def category_codes(
    column: pd.Series, *, missing: Literal["error", "sentinel"] = "error"
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`sorted_codes` of a ``category`` column, from its codes: no hashing of the rows.

    Parameters
    ----------
    column
        Shape ``(n,)``, dtype ``category`` with ``str`` categories.
    missing
        A missing value (code -1): ``"error"`` raises :class:`NonStringLabelError`, ``"sentinel"``
        keeps the code ``-1``.

    Returns
    -------
    codes : numpy.ndarray
        Shape ``(n,)`` int32 codes into ``uniques``.
    uniques : numpy.ndarray
        The categories that occur, sorted ascending (object).
    """
    cats = np.asarray(column.cat.categories, dtype=object)
    if pd.api.types.infer_dtype(cats, skipna=False) not in ("string", "empty"):
        bad = [c for c in cats if type(c) is not str][:3]
        raise NonStringLabelError(bad)
    raw = column.cat.codes.to_numpy()
    absent = raw < 0
    if absent.any() and missing == "error":
        raise NonStringLabelError([None])
    k = len(cats)
    # which categories occur: a strided sample usually shows all of them (a code seen in the
    # sample occurs); only when it does not, count every row
    sample = raw[::_SAMPLE_STRIDE]
    used = np.bincount(sample[sample >= 0], minlength=k) > 0
    if not used.all():
        used = np.bincount(raw[~absent] if absent.any() else raw, minlength=k) > 0
    kept = np.flatnonzero(used)
    order = kept[np.argsort(cats[kept], kind="stable")]
    if len(order) == k and np.array_equal(order, np.arange(k)):
        return raw.astype(np.int32), cats  # sorted and all used: the codes are the answer (-1 stays)
    remap = np.full(k + 1, -1, dtype=np.int32)
    remap[order] = np.arange(len(order), dtype=np.int32)
    return remap[raw], cats[order]
