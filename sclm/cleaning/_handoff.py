"""Private: the cleaner hands the label codes of its output to fusion (no second encoding).

:class:`~sclm.cleaning.ReadingsCleaner` encodes the label columns once (:mod:`sclm._labels`); its
pandas output is registered here with the codes of its object label columns (``node``,
``variable``, ``source``, ``unit``) into the sorted labels, keyed by the frame's identity (a weak
reference: the entry goes with the frame).  Fusion's reader (:func:`sclm.fusion._table._read`)
asks for them.  A column's codes are used only while every row still holds the very label object
they were built from — its address equals that of ``labels[code]``: one copy of the addresses
and a compare, no hashing — so a frame changed in place, a replaced column or labels held by
other (equal) string objects fall back to encoding the column: the result never depends on it.
"""

from __future__ import annotations

import ctypes
import weakref
from typing import Any

import numpy as np
import pandas as pd

_BLOCK = 1 << 16  # rows compared at a time
_SAMPLE_STRIDE = 61  # rows between the sampled codes of the first look at the labels used
_REGISTRY: dict[int, tuple[weakref.ref[pd.DataFrame], dict[str, tuple[np.ndarray, np.ndarray]]]] = {}


def addresses(values: np.ndarray) -> np.ndarray:
    """The addresses (``PyObject*``) of the objects of an object array, shape ``(n,)`` intp."""
    arr = np.ascontiguousarray(values)
    if len(arr) == 0:
        return np.zeros(0, dtype=np.intp)
    raw = (ctypes.c_ssize_t * len(arr)).from_address(arr.ctypes.data)
    out = np.frombuffer(raw, dtype=np.intp).copy()  # `arr` stays referenced while read
    del raw
    return out


def small_dtype(k: int) -> np.dtype:
    """The smallest signed integer dtype that holds codes ``0 .. k - 1``."""
    for dt in (np.int8, np.int16, np.int32):
        if k <= np.iinfo(dt).max:
            return np.dtype(dt)
    return np.dtype(np.int64)


def register(frame: pd.DataFrame, codes: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    """Remember, for ``frame``, each column's ``(codes (n,), sorted labels (k,) object)``.

    ``frame[column]`` must hold the objects ``labels[codes]`` (the same objects, not equal copies)
    for the codes to be used later.
    """
    key = id(frame)

    def drop(_ref: Any, key: int = key) -> None:
        _REGISTRY.pop(key, None)

    _REGISTRY[key] = (weakref.ref(frame, drop), codes)


def lookup(frame: Any, column: str) -> tuple[np.ndarray, np.ndarray] | None:
    """Codes (int32, into the sorted labels that occur) of ``frame[column]`` if registered and unchanged.

    Returns
    -------
    tuple or None
        ``(codes (n,) int32, labels (k,) object sorted)`` — what :func:`sclm._labels.sorted_codes`
        gives for the column — or None (not a registered frame, or the column changed since).
    """
    entry = _REGISTRY.get(id(frame))
    if entry is None or entry[0]() is not frame or column not in entry[1]:
        return None
    codes, labels = entry[1][column]
    col = frame[column]
    if col.dtype != object or len(col) != len(codes):
        return None
    values, label_at = col.to_numpy(), addresses(labels)
    for s0 in range(0, len(values), _BLOCK):  # cache-sized blocks: no table-sized temporaries
        if not np.array_equal(addresses(values[s0 : s0 + _BLOCK]), label_at.take(codes[s0 : s0 + _BLOCK])):
            return None
    # which labels occur: a strided sample usually shows all of them, else count every row
    k = len(labels)
    used = np.bincount(codes[::_SAMPLE_STRIDE], minlength=k) > 0
    if not used.all():
        used = np.bincount(codes, minlength=k) > 0
    if used.all():
        return codes.astype(np.int32), labels
    remap = (np.cumsum(used) - 1).astype(np.int32)
    return remap[codes], labels[used]
