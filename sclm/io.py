"""Readings on disk: partitioned Parquet, whole nodes per file, for the Dask path of cleaning and fusion.

:func:`write_readings` writes a Readings table (pandas or Dask) as ``part-00000.parquet``,
``part-00001.parquet``... in one folder, sorted by node, each file holding whole nodes (one row
group per file); ``append=True`` adds files after the existing ones, so a generator can write a
table far larger than memory chunk by chunk.  :func:`read_readings` opens such a folder (or any
Parquet dataset with the Readings columns) as a :class:`dask.dataframe.DataFrame` with the
Readings dtypes (``ts`` datetime64[ns], ``value`` float64, labels object), one partition per file.
:func:`sclm.clean` and :func:`sclm.fuse` accept either the folder or the frame (see
:mod:`sclm._dask`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sclm.schema import READING_COLUMNS, DataValidationError

__all__ = ["read_readings", "write_readings"]

_PART = re.compile(r"^part-(\d{5,})\.parquet$")
_LABELS = ("node", "node_type", "variable", "unit", "source")


def _parts(path: Path) -> list[Path]:
    return sorted(p for p in path.iterdir() if _PART.match(p.name))


def _files(path: str | os.PathLike[str]) -> list[Path]:
    """The Parquet files of a Readings folder, in partition order (or the one file)."""
    folder = Path(path)
    if not folder.is_dir():
        return [folder]
    return _parts(folder) or sorted(folder.glob("*.parquet"))


def read_partition(file: str | os.PathLike[str]) -> pd.DataFrame:
    """One file of a Readings folder as pandas, label columns ``category`` (read as Parquet dictionaries).

    The Dask path reads files of whole nodes with this: the Readings contract allows category
    labels, whose codes the engines use without hashing the rows.
    """
    import pyarrow.parquet as pq

    table = pq.read_table(file, read_dictionary=[c for c in _LABELS if c in pq.read_schema(file).names])
    frame = table.to_pandas()
    if "ts" in frame.columns and frame["ts"].dtype != np.dtype("datetime64[ns]"):
        frame["ts"] = frame["ts"].astype("datetime64[ns]")
    return frame


def _as_readings(frame: pd.DataFrame) -> pd.DataFrame:
    """Label columns back to object str (Parquet / Dask give ``string`` or ``category``); others kept."""
    out = {}
    for c in frame.columns:
        col = frame[c]
        if c in _LABELS and col.dtype != np.dtype(object):
            col = col.astype(object)
        elif c == "ts" and col.dtype != np.dtype("datetime64[ns]"):
            col = col.astype("datetime64[ns]")
        out[c] = col
    return pd.DataFrame(out, index=frame.index, copy=False)


def write_readings(
    readings: Any,
    path: str | os.PathLike[str],
    *,
    rows_per_file: int = 1_000_000,
    append: bool = False,
) -> Path:
    """Write Readings as partitioned Parquet: files of whole nodes, sorted by node.

    Parameters
    ----------
    readings
        A Readings table (:class:`pandas.DataFrame`, R rows) or a :class:`dask.dataframe.DataFrame`
        (written partition by partition; a node split across partitions raises).
    path
        The folder (created).  Without ``append``, existing ``part-*.parquet`` files are removed.
    rows_per_file
        Target rows per file (a file always holds whole nodes, so it may hold more).
    append
        Add files after the existing ones (a chunked writer: every chunk must hold other nodes).

    Returns
    -------
    pathlib.Path
        The folder.
    """
    import dask.dataframe as dd

    if not isinstance(rows_per_file, int) or rows_per_file < 1:
        raise ValueError(f"rows_per_file={rows_per_file!r}; expected a positive int")
    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    if not append:
        for p in _parts(out):
            p.unlink()
    if isinstance(readings, dd.DataFrame):
        for part in readings.to_delayed():
            write_readings(part.compute(), out, rows_per_file=rows_per_file, append=True)
        return out
    if not isinstance(readings, pd.DataFrame):
        raise TypeError(f"readings must be a pandas or Dask DataFrame, got {type(readings).__name__}")
    missing = [c for c in READING_COLUMNS if c not in readings.columns]
    if missing:
        raise DataValidationError(f"readings: missing column(s) {missing}; expected {list(READING_COLUMNS)}")
    if not len(readings):
        return out
    existing = _parts(out)
    k = int(_PART.match(existing[-1].name).group(1)) + 1 if existing else 0  # type: ignore[union-attr]
    frame = readings.sort_values("node", kind="stable", ignore_index=True)
    node = frame["node"].to_numpy()
    starts = np.flatnonzero(np.r_[True, node[1:] != node[:-1]])
    ends = np.append(starts[1:], len(node))
    cut, pos = [0], 0
    for e in ends:  # cut at node ends once a file holds rows_per_file rows
        if e - cut[-1] >= rows_per_file:
            cut.append(int(e))
        pos = e
    if cut[-1] != pos:
        cut.append(int(pos))
    for a, b in zip(cut[:-1], cut[1:], strict=True):
        piece = frame.iloc[a:b]
        piece.to_parquet(out / f"part-{k:05d}.parquet", index=False, row_group_size=len(piece) + 1)
        k += 1
    return out


def read_readings(path: str | os.PathLike[str], *, columns: list[str] | None = None) -> Any:
    """Open partitioned Parquet Readings as a Dask DataFrame (one partition per file, Readings dtypes).

    Parameters
    ----------
    path
        A folder written by :func:`write_readings` (or any Parquet dataset with the Readings columns).
    columns
        Columns to read (default: all).

    Returns
    -------
    dask.dataframe.DataFrame
        Lazy; labels object str, ``ts`` datetime64[ns], ``value`` float64.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist or holds no Parquet file.
    DataValidationError
        A Readings column is missing.
    """
    import dask
    import dask.dataframe as dd

    folder = Path(path)
    if not folder.exists():
        raise FileNotFoundError(
            f"read_readings: {str(path)!r} does not exist; expected a folder of Parquet files"
        )
    files = _files(folder)
    if not files:
        raise FileNotFoundError(f"read_readings: no Parquet file in {str(path)!r}")
    with dask.config.set({"dataframe.convert-string": False}):
        ddf = dd.read_parquet([str(f) for f in files], columns=columns, split_row_groups=False)
    want = list(READING_COLUMNS) if columns is None else list(columns)
    missing = [c for c in want if c not in ddf.columns]
    if missing:
        raise DataValidationError(
            f"readings at {str(path)!r}: missing column(s) {missing}; expected {list(READING_COLUMNS)}"
        )
    meta = _as_readings(ddf._meta)
    with dask.config.set({"dataframe.convert-string": False}):
        out = ddf.map_partitions(_as_readings, meta=meta)
    return out


def node_ranges(path: str | os.PathLike[str]) -> list[tuple[str, str]] | None:
    """Per file of a Readings folder, the (min, max) node from the Parquet statistics (no data read).

    None when a file lacks statistics or has several row groups (the partitions then are checked
    by reading the ``node`` column).  Used by :mod:`sclm._dask` to see that files hold whole nodes.
    """
    import pyarrow.parquet as pq

    out = []
    files = _files(path)
    for f in files:
        meta = pq.ParquetFile(f).metadata
        if meta.num_row_groups != 1:
            return None
        names = [meta.schema.column(i).name for i in range(meta.num_columns)]
        if "node" not in names:
            return None
        stats = meta.row_group(0).column(names.index("node")).statistics
        if stats is None or not stats.has_min_max:
            return None
        lo, hi = stats.min, stats.max
        out.append(
            (lo.decode() if isinstance(lo, bytes) else lo, hi.decode() if isinstance(hi, bytes) else hi)
        )
    return out
