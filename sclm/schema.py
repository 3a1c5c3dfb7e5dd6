"""Data contracts (pandera schemas) and the errors raised for bad input.

Two contracts run through the whole flow (see ``docs/architecture.md``, Data contracts):

* **Readings** — long table, one row per reading: ``ts`` (date), ``node``,
  ``node_type``, ``variable``, ``value`` (float), ``unit``, ``source``.
* **Panel** — wide table indexed by (``node``, ``ts``), one float column per
  variable, daily, no duplicate keys.

Every validation failure raises :class:`DataValidationError` whose message names
*where* (file or table), *what* (column, row, key) and *what was expected*, so a
user can fix the input without reading pandera's internals.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaError, SchemaErrors

READING_COLUMNS: tuple[str, ...] = ("ts", "node", "node_type", "variable", "value", "unit", "source")
READING_KEY: tuple[str, ...] = ("node", "ts", "variable", "source")

QUANTITY_VARIABLES: frozenset[str] = frozenset(
    {
        "production",
        "inventory",
        "logistics",
        "demand",
        "delivery",
        "orders",
        "sales",
        "shipments",
        "capacity",
        "price",
        "backlog",
    }
)
"""Variables that count goods (or money) and so can never be negative."""


class DataValidationError(ValueError):
    """Input data breaks a contract.  The message says where, what and what was expected."""


class UnknownNameError(KeyError):
    """An unknown scenario, dataset, case or unit name; the message lists the known ones."""

    def __str__(self) -> str:  # KeyError quotes its message; show it plainly
        return str(self.args[0]) if self.args else ""


def unknown_name(kind: str, name: object, known: Iterable[str]) -> UnknownNameError:
    """Build the error for an unknown ``kind`` called ``name``, listing the ``known`` ones."""
    return UnknownNameError(f"unknown {kind} {name!r}; expected one of: {', '.join(sorted(known))}")


def _where(source: str | os.PathLike[str] | None, default: str) -> str:
    return f"{default} from {os.fspath(source)!r}" if source is not None else default


def _numeric(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values, errors="coerce")


_LABEL_COLUMNS = ("node", "node_type", "variable", "unit", "source")


def _label_column(categorical: bool) -> pa.Column:
    """A label column: ``str`` values, or a ``category`` dtype whose categories are all ``str``."""
    if not categorical:
        return pa.Column(str, nullable=False)
    return pa.Column(
        "category",
        nullable=False,
        checks=pa.Check(
            lambda col: pd.api.types.infer_dtype(col.cat.categories, skipna=False) in ("string", "empty"),
            element_wise=False,
            name="str_categories",
            error="a categorical label column must have str categories",
        ),
    )


def _readings_schema(*, allow_duplicates: bool, categorical: tuple[str, ...] = ()) -> pa.DataFrameSchema:
    quantity = pa.Check(
        lambda df: ~(df["variable"].isin(QUANTITY_VARIABLES) & (_numeric(df["value"]) < 0)),
        element_wise=False,
        name="non_negative_quantity",
        error="quantities (variables " + ", ".join(sorted(QUANTITY_VARIABLES)) + ") must be >= 0",
    )
    return pa.DataFrameSchema(
        {
            "ts": pa.Column("datetime64[ns]", nullable=False),
            "node": _label_column("node" in categorical),
            "node_type": _label_column("node_type" in categorical),
            "variable": _label_column("variable" in categorical),
            "value": pa.Column(float, nullable=False),
            "unit": _label_column("unit" in categorical),
            "source": _label_column("source" in categorical),
        },
        checks=[quantity],
        unique=None if allow_duplicates else list(READING_KEY),
        strict=False,
        coerce=False,
        ordered=False,
    )


def _describe_failures(exc: SchemaErrors | SchemaError, where: str, frame: pd.DataFrame) -> str:
    """Turn pandera failure cases into one readable message, at most a few lines per problem."""
    fc = getattr(exc, "failure_cases", None)
    if fc is None or len(fc) == 0:
        return f"{where}: {exc}"
    lines: list[str] = []
    for (column, check), grp in fc.groupby(["column", "check"], dropna=False, sort=False):
        column = None if (isinstance(column, float) and np.isnan(column)) else column
        check = str(check)
        cases = grp["failure_case"].tolist()
        idx = [
            i for i in grp["index"].tolist() if i is not None and not (isinstance(i, float) and np.isnan(i))
        ]
        if check == "column_in_dataframe":
            lines.append(
                f"missing column {cases[0]!r}; expected columns {list(READING_COLUMNS)}, got {list(frame.columns)}"
            )
        elif check.startswith("dtype("):
            want = check[len("dtype(") : -1].strip("'\"")
            lines.append(f"column {column!r} has dtype {cases[0]}; expected {want}")
        elif check == "not_nullable":
            lines.append(
                f"column {column!r} has NaN/None in rows {idx[:5]} (of {len(idx)}); expected no missing values"
            )
        elif check in ("multiple_fields_uniqueness", "field_uniqueness") or "unique" in check:
            rows = sorted(set(idx))
            sample = (
                frame.loc[rows[:2], list(READING_KEY)] if set(READING_KEY) <= set(frame.columns) else None
            )
            shown = "" if sample is None else f": {sample.to_dict('records')}"
            lines.append(
                f"duplicate key {list(READING_KEY)} in rows {rows[:5]} (of {len(rows)}){shown}; expected one row per key"
            )
        elif check == "non_negative_quantity" or "quantities" in check:
            bad = frame.index[(frame["variable"].isin(QUANTITY_VARIABLES)) & (_numeric(frame["value"]) < 0)]
            first = frame.loc[bad[:3], ["variable", "value"]].to_dict("records")
            lines.append(
                f"negative quantity in rows {list(bad[:5])} (of {len(bad)}), e.g. {first}; "
                f"expected value >= 0 for {sorted(QUANTITY_VARIABLES)}"
            )
        else:
            lines.append(f"column {column!r} failed {check} in rows {idx[:5]}: {cases[:3]}")
    return f"{where}: " + "; ".join(lines)


def readings_columns_ok(readings: pd.DataFrame) -> bool:
    """Whether ``readings`` has the contract's columns, once each, with its dtypes (no row is read).

    ``ts`` datetime64[ns], ``value`` float64, the label columns object or ``category`` with
    ``str`` categories.  A fast pre-check: when it is False, :func:`validate_readings` words what
    is wrong; the row-level rules (missing values, str labels, negative quantities, duplicate
    keys) are not checked here.
    """
    cols = readings.columns
    if any(c not in cols for c in READING_COLUMNS) or cols.duplicated().any():
        return False
    if readings["ts"].dtype != np.dtype("datetime64[ns]") or readings["value"].dtype != np.dtype(np.float64):
        return False
    for c in _LABEL_COLUMNS:
        dtype = readings[c].dtype
        if isinstance(dtype, pd.CategoricalDtype):
            if pd.api.types.infer_dtype(dtype.categories, skipna=False) not in ("string", "empty"):
                return False
        elif dtype != np.dtype(object):
            return False
    return True


def validate_readings(
    readings: pd.DataFrame,
    *,
    source: str | os.PathLike[str] | None = None,
    allow_duplicates: bool = True,
) -> pd.DataFrame:
    """Check a Readings table against the contract and return it unchanged.

    Parameters
    ----------
    readings
        Long table with the columns of :data:`READING_COLUMNS`.  The label columns (``node``,
        ``node_type``, ``variable``, ``unit``, ``source``) hold ``str`` (object dtype) or are
        ``category`` columns with ``str`` categories (cheaper to encode: cleaning and fusion use
        the codes and keep the dtype).
    source
        The file or table name the readings came from, for the error message.
    allow_duplicates
        Raw readings may repeat a key (duplicated ERP records are a documented
        fault); cleaned readings may not.

    Raises
    ------
    DataValidationError
        Missing column, wrong dtype, NaN, negative quantity or duplicate key.
    """
    where = _where(source, "readings")
    if not isinstance(readings, pd.DataFrame):
        raise DataValidationError(f"{where}: expected a pandas DataFrame, got {type(readings).__name__}")
    if len(readings) == 0:
        raise DataValidationError(f"{where}: the table is empty; expected at least one reading")
    missing = [c for c in READING_COLUMNS if c not in readings.columns]
    if missing:
        raise DataValidationError(
            f"{where}: missing column {missing[0]!r}"
            + (f" (and {missing[1:]})" if len(missing) > 1 else "")
            + f"; expected columns {list(READING_COLUMNS)}, got {list(readings.columns)}"
        )
    try:
        categorical = tuple(c for c in _LABEL_COLUMNS if isinstance(readings[c].dtype, pd.CategoricalDtype))
        schema = _readings_schema(allow_duplicates=allow_duplicates, categorical=categorical)
        schema.validate(readings, lazy=True)
    except (SchemaErrors, SchemaError) as exc:
        raise DataValidationError(_describe_failures(exc, where, readings)) from None
    return readings


def validate_panel(
    panel: pd.DataFrame,
    *,
    source: str | os.PathLike[str] | None = None,
    allow_nan: bool = False,
    require_daily: bool = True,
) -> pd.DataFrame:
    """Check a Panel (wide, indexed by ``node`` and ``ts``) and return it unchanged.

    Parameters
    ----------
    panel
        Wide table, MultiIndex (``node``, ``ts``), float columns, one per variable.
    source
        Name for messages.
    allow_nan
        Raw panels may have gaps; a cleaned panel may not (default).
    require_daily
        Each node's ``ts`` must be consecutive days.

    Raises
    ------
    DataValidationError
        Wrong index, non-numeric column, NaN, negative quantity, duplicate key or a gap in days.
    """
    where = _where(source, "panel")
    if not isinstance(panel, pd.DataFrame):
        raise DataValidationError(f"{where}: expected a pandas DataFrame, got {type(panel).__name__}")
    if list(panel.index.names) != ["node", "ts"]:
        raise DataValidationError(
            f"{where}: index levels are {list(panel.index.names)}; expected ['node', 'ts']"
        )
    ts = panel.index.get_level_values("ts")
    if not pd.api.types.is_datetime64_any_dtype(ts):
        raise DataValidationError(f"{where}: index level 'ts' has dtype {ts.dtype}; expected datetime64[ns]")
    if ts.hasnans:
        raise DataValidationError(f"{where}: index level 'ts' holds NaT; expected a date on every row")
    dup = panel.index.duplicated()
    if dup.any():
        first = panel.index[dup][0]
        raise DataValidationError(
            f"{where}: duplicate key (node, ts) = {first!r} ({int(dup.sum())} duplicates); expected one row per node and day"
        )
    for col in panel.columns:
        if not pd.api.types.is_numeric_dtype(panel[col]) or pd.api.types.is_bool_dtype(panel[col]):
            raise DataValidationError(f"{where}: column {col!r} has dtype {panel[col].dtype}; expected float")
        values = panel[col]
        if not allow_nan and values.isna().any():
            rows = list(panel.index[values.isna()][:3])
            raise DataValidationError(
                f"{where}: column {col!r} has {int(values.isna().sum())} NaN, first at {rows}; expected no missing values"
            )
        if col in QUANTITY_VARIABLES and (values < 0).any():
            rows = list(panel.index[values < 0][:3])
            raise DataValidationError(
                f"{where}: column {col!r} has {int((values < 0).sum())} negative values, first at {rows}; expected >= 0"
            )
    if require_daily:
        for node, grp in panel.groupby(level="node", sort=False):
            days = grp.index.get_level_values("ts")
            step = np.diff(days.values.astype("datetime64[D]").astype(np.int64))
            if len(step) and not (step == 1).all():
                k = int(np.argmax(step != 1))
                raise DataValidationError(
                    f"{where}: node {node!r} is not daily: {days[k].date()} is followed by {days[k + 1].date()}; "
                    "expected consecutive days, sorted"
                )
    return panel
