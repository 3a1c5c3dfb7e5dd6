"""Shared plumbing of the real-data loaders: file look-up, error messages, copies, instance sets.

Nothing here knows about a particular data set.  The loaders in the sibling modules
use these helpers so that every data set reports a missing or malformed file the same
way:

* a missing file raises :class:`FileNotFoundError` naming the file path and the data set;
* a malformed file raises :class:`sclm.schema.DataValidationError` naming the file, the
  line / row / column and what was expected.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np
import pandas as pd

from sclm.schema import DataValidationError, unknown_name

FileStamp = tuple[tuple[str, int, int], ...]
"""``((relative path, mtime in ns, size in bytes), ...)``: the cache key of a data-set folder."""


def require_file(folder: Path, relpath: str, dataset: str) -> Path:
    """Return ``folder / relpath`` or raise a :class:`FileNotFoundError` naming it and the data set."""
    path = folder / relpath
    if not path.is_file():
        raise FileNotFoundError(
            f"dataset {dataset!r}: file {str(path)!r} not found; "
            f"expected it in the data-set folder {str(folder)!r} (see its SOURCE.md)"
        )
    return path


def folder_stamp(folder: Path, dataset: str, required: Sequence[str], globs: Sequence[str] = ()) -> FileStamp:
    """Stat the files a loader reads, for use as a cache key.

    Parameters
    ----------
    folder
        The data-set folder (``<data dir>/<dataset>``).
    dataset
        Its name, for messages.
    required
        Paths relative to ``folder`` that must exist.
    globs
        Glob patterns relative to ``folder`` for files that are read when present
        (e.g. ``"A/*.vrp"``); they join the key so that editing any of them
        invalidates the cache.

    Returns
    -------
    FileStamp
        Sorted ``(relative path, st_mtime_ns, st_size)`` triples.

    Raises
    ------
    FileNotFoundError
        The folder, or one of the ``required`` files, is missing.
    """
    if not folder.is_dir():
        raise FileNotFoundError(
            f"dataset {dataset!r}: folder {str(folder)!r} not found; expected a folder named {dataset!r} "
            f"in the data directory {str(folder.parent)!r}"
        )
    seen: dict[str, os.stat_result] = {}
    for rel in required:
        seen[rel] = require_file(folder, rel, dataset).stat()
    for pattern in globs:
        for path in folder.glob(pattern):
            if path.is_file():
                seen[path.relative_to(folder).as_posix()] = path.stat()
    return tuple(sorted((rel, st.st_mtime_ns, st.st_size) for rel, st in seen.items()))


def malformed(path: Path | str, where: str, expected: str, got: object | None = None) -> DataValidationError:
    """Build the error for a malformed file.

    Parameters
    ----------
    path
        The file.
    where
        Position in the file, e.g. ``"line 12, column 'QTY_B1_3'"``.
    expected
        What should have been there.
    got
        What was found (``repr`` is shown), if useful.
    """
    found = "" if got is None else f", got {got!r}"
    return DataValidationError(f"{os.fspath(path)}: {where}: expected {expected}{found}")


def read_text(path: Path, *, encoding: str = "utf-8") -> str:
    """Read a text file, turning a decoding failure into a :class:`DataValidationError`."""
    try:
        return path.read_text(encoding=encoding)
    except UnicodeDecodeError as exc:
        raise malformed(path, f"byte {exc.start}", f"{encoding} text") from None


def read_csv(path: Path, **kwargs: Any) -> pd.DataFrame:
    """:func:`pandas.read_csv` whose parser errors become a :class:`DataValidationError` naming the file."""
    try:
        frame = pd.read_csv(path, **kwargs)
    except pd.errors.EmptyDataError:
        raise malformed(path, "whole file", "a header line and data lines", "an empty file") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise malformed(
            path, "CSV parsing", "well-formed CSV with the same number of fields on every line", str(exc)
        ) from None
    if not isinstance(frame.index, pd.RangeIndex):  # pandas took the surplus leading fields as an index
        raise malformed(
            path,
            "data lines",
            f"as many fields as the header ({len(frame.columns)}); the data lines have more",
        )
    return frame


def check_header(path: Path, got: Sequence[str], expected: Sequence[str]) -> None:
    """Raise when a CSV header differs from ``expected`` (names and order)."""
    got, expected = list(got), list(expected)
    if got == expected:
        return
    missing = [c for c in expected if c not in got]
    extra = [c for c in got if c not in expected]
    if missing or extra:
        detail = f"missing {missing}" if missing else ""
        detail += ("; " if detail and extra else "") + (f"unexpected {extra}" if extra else "")
        raise malformed(path, "line 1 (header)", f"columns {expected} ({detail})", got)
    raise malformed(path, "line 1 (header)", f"columns in the order {expected}", got)


def numeric_columns(
    path: Path,
    frame: pd.DataFrame,
    columns: Sequence[str],
    *,
    integer: bool = False,
    allow_missing: bool = False,
    first_line: int = 2,
) -> pd.DataFrame:
    """Check that ``columns`` of a freshly read CSV hold numbers and return them as floats.

    Parameters
    ----------
    path
        The CSV file, for messages.
    frame
        The table as read by :func:`pandas.read_csv` (one row per data line).
    columns
        Columns that must be numeric.
    integer
        Also require whole numbers.
    allow_missing
        Accept empty cells (NaN); otherwise an empty cell is an error.
    first_line
        File line number of the first data row (2 below a one-line header).

    Returns
    -------
    pandas.DataFrame
        ``frame[columns]`` as float64, shape (rows, len(columns)).

    Raises
    ------
    DataValidationError
        Naming the file, the line, the column and the bad cell.
    """
    out = {}
    for col in columns:
        raw = frame[col]
        values = raw if pd.api.types.is_numeric_dtype(raw) else pd.to_numeric(raw, errors="coerce")
        values = values.astype("float64")
        bad = values.isna() & (raw.notna() | (not allow_missing))
        if integer:
            bad |= values.notna() & (np.floor(values) != values)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            kind = "a whole number" if integer else "a number"
            raise malformed(
                path,
                f"line {first_line + row}, column {col!r} ({int(bad.sum())} bad cells)",
                kind,
                None if pd.isna(raw.iloc[row]) else raw.iloc[row],
            ) from None
        out[col] = values
    return pd.DataFrame(out, index=frame.index)


def csv_cell(column: str, first_line: int = 2) -> Callable[[int], str]:
    """Locator for messages: data row ``i`` (0-based) → ``"line <first_line + i>, column '<column>'"``."""
    return lambda row: f"line {first_line + row}, column {column!r}"


def parse_dates(path: Path, values: pd.Series, fmt: str, locate: Callable[[int], str]) -> pd.DatetimeIndex:
    """Parse dates in one fixed ``fmt``; any failure is a :class:`DataValidationError`.

    Parameters
    ----------
    path
        The file, for messages.
    values
        Date strings, one per row.
    fmt
        :func:`datetime.strptime` format.
    locate
        Row number (0-based) → position text, e.g. :func:`csv_cell`.

    Returns
    -------
    pandas.DatetimeIndex
        datetime64[ns], same length as ``values``.
    """
    ts = pd.to_datetime(values, format=fmt, errors="coerce")
    bad = ts.isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise malformed(path, locate(row), f"a date in format {fmt!r}", values.iloc[row])
    return pd.DatetimeIndex(ts).astype("datetime64[ns]")


def check_increasing(path: Path, dates: pd.DatetimeIndex, locate: Callable[[int], str]) -> None:
    """Raise unless ``dates`` are strictly increasing (sorted, no duplicates)."""
    steps = np.diff(dates.values.astype("datetime64[ns]").astype(np.int64))
    if len(steps) and (steps <= 0).any():
        k = int(np.argmax(steps <= 0))
        raise malformed(
            path,
            locate(k + 1),
            f"dates strictly increasing (the row before has {dates[k].date()})",
            str(dates[k + 1].date()),
        )


_KEY_VALUE = re.compile(r"^\s*([A-Za-z_]+)\s*:\s*(.*?)\s*$")


def key_value(line: str) -> tuple[str, str] | None:
    """Split a ``KEY : value`` header line (TSPLIB style); None for other lines."""
    m = _KEY_VALUE.match(line)
    return (m.group(1), m.group(2)) if m else None


def fresh(obj: Any) -> Any:
    """Deep, cheap copy of a loader result so that callers may mutate what they get.

    DataFrames are copied deeply, including list cells (pandas alone shares them),
    arrays are copied, containers and dataclasses are rebuilt; immutable scalars are shared.
    """
    if isinstance(obj, pd.DataFrame):
        out = obj.copy(deep=True)
        for col in out.columns:
            if pd.api.types.is_object_dtype(out[col]) and len(out) and isinstance(out[col].iloc[0], list):
                out[col] = [list(v) for v in out[col]]
        return out
    if isinstance(obj, (pd.Series, pd.Index)):
        return obj.copy(deep=True)
    if isinstance(obj, np.ndarray):
        return obj.copy()
    if isinstance(obj, dict):
        return {k: fresh(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [fresh(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(fresh(v) for v in obj)
    if isinstance(obj, InstanceSet):
        return obj._fresh()
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        changes = {f.name: fresh(getattr(obj, f.name)) for f in dataclasses.fields(obj) if f.init}
        return dataclasses.replace(obj, **changes)
    return obj


T = TypeVar("T")


class InstanceSet(Mapping[str, T], Generic[T]):
    """A read-only mapping instance name → instance, plus a summary table.

    Parameters
    ----------
    name
        The data set's name (e.g. ``"cvrp_augerat_abp"``).
    instances
        Name → instance, in a stable order (the order of :attr:`table`).
    table
        One row per instance (e.g. ``bks.csv``), indexed by the instance name.
    meta
        Source credit, licence and counts.

    Examples
    --------
    >>> cvrp = load_dataset("cvrp_augerat_abp")          # doctest: +SKIP
    >>> inst = cvrp["A-n32-k5"]; inst.route_cost(inst.solution)  # doctest: +SKIP
    784
    """

    def __init__(self, name: str, instances: Mapping[str, T], table: pd.DataFrame, meta: dict[str, Any]):
        self.name = name
        self._instances: dict[str, T] = dict(instances)
        self.table = table
        self.meta = meta

    def __getitem__(self, key: str) -> T:
        try:
            return self._instances[key]
        except KeyError:
            raise unknown_name(f"{self.name} instance", key, self._instances) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._instances)

    def __len__(self) -> int:
        return len(self._instances)

    def __contains__(self, key: object) -> bool:
        return key in self._instances

    def __repr__(self) -> str:
        names = list(self._instances)
        shown = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
        return f"InstanceSet({self.name!r}, {len(names)} instances: {shown})"

    def _fresh(self) -> InstanceSet[T]:
        return InstanceSet(
            self.name, {k: fresh(v) for k, v in self._instances.items()}, fresh(self.table), fresh(self.meta)
        )
