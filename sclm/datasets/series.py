"""Time-series data sets: retail pasta sales, YAZ restaurant demand, US business inventories.

Each loader returns a :class:`SeriesDataset`: the long Readings table and the wide Panel
of the data contracts (see ``sclm.schema``), plus what the series need around them
(hierarchy, covariates, calendar gaps, change-point annotations).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sclm.schema import validate_panel, validate_readings

from ._base import (
    check_header,
    check_increasing,
    csv_cell,
    malformed,
    numeric_columns,
    parse_dates,
    read_csv,
    read_text,
    require_file,
)


@dataclass(frozen=True, eq=False)
class SeriesDataset:
    """A set of real time series in both data contracts.

    Attributes
    ----------
    name
        Data-set (folder) name.
    readings
        Readings contract, long: columns ``ts, node, node_type, variable, value, unit,
        source``; one row per (node, ts, variable); ``value`` float.
    panel
        Panel contract, wide: MultiIndex (``node``, ``ts``), one float column per
        variable; rows exactly as in the source file (so not necessarily gap-free:
        see ``meta["missing_dates"]`` and :meth:`to_daily`).
    meta
        ``frequency`` (pandas alias, ``"D"`` or ``"MS"``), ``n_series``, ``n_periods``,
        ``start``, ``end``, ``missing_dates`` (calendar periods with no row), ``source``
        (credit), ``licence``, ``files``, and data-set specific entries.
    hierarchy
        Bottom level → upper levels (e.g. columns ``item, brand``), or None.
    covariates
        Per-period features indexed by ``ts`` (e.g. weather and calendar), or None.
    """

    name: str
    readings: pd.DataFrame
    panel: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)
    hierarchy: pd.DataFrame | None = None
    covariates: pd.DataFrame | None = None

    @property
    def nodes(self) -> list[str]:
        """The series (node) names, in panel order."""
        return list(self.panel.index.get_level_values("node").unique())

    def to_daily(self, fill_value: float | Mapping[str, float] = 0.0) -> pd.DataFrame:
        """Reindex the panel to a full daily calendar, flagging inserted days.

        Parameters
        ----------
        fill_value
            Value for the variables on inserted days (a store closed on a holiday
            sold nothing: 0.0), or a mapping variable → value.

        Returns
        -------
        pandas.DataFrame
            Panel, MultiIndex (``node``, ``ts``) over every node and every day from
            ``meta["start"]`` to ``meta["end"]``, shape (n_series · n_days, n_variables + 1);
            the extra float column ``closed`` is 1.0 on inserted days, 0.0 on days
            present in the file.  It passes :func:`sclm.schema.validate_panel`
            with ``require_daily=True``.

        Raises
        ------
        ValueError
            The data set is not daily (``meta["frequency"] != "D"``).
        """
        if self.meta.get("frequency") != "D":
            raise ValueError(
                f"{self.name}: to_daily() needs a daily data set; this one has frequency "
                f"{self.meta.get('frequency')!r}"
            )
        days = pd.date_range(self.meta["start"], self.meta["end"], freq="D")
        index = pd.MultiIndex.from_product([self.nodes, days], names=["node", "ts"])
        inserted = ~index.isin(self.panel.index)
        out = self.panel.reindex(index)
        fills = fill_value if isinstance(fill_value, Mapping) else dict.fromkeys(out.columns, fill_value)
        for col in out.columns:
            if col in fills:
                out.loc[inserted, col] = float(fills[col])
        out["closed"] = inserted.astype("float64")
        return validate_panel(out, source=f"{self.name}.to_daily()", allow_nan=False, require_daily=True)


def _long_and_wide(
    dates: pd.DatetimeIndex,
    nodes: Sequence[str],
    blocks: Mapping[str, tuple[np.ndarray, str]],
    *,
    node_type: str,
    source: str,
    where: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Build Readings and Panel from per-variable (periods × nodes) matrices.

    Parameters
    ----------
    dates
        Periods, length T.
    nodes
        Series names, length N.
    blocks
        Variable → (values of shape (T, N), unit).

    Returns
    -------
    (readings, panel)
        Readings with T·N·V rows (variable-major, then node, then ts) and a panel with
        T·N rows (node-major) and V columns; both validated.
    """
    t, n = len(dates), len(nodes)
    ts = np.tile(dates.values.astype("datetime64[ns]"), n)
    node = np.repeat(np.asarray(nodes, dtype=object), t)
    parts = []
    for variable, (values, unit) in blocks.items():
        parts.append(
            pd.DataFrame(
                {
                    "ts": ts,
                    "node": node,
                    "node_type": node_type,
                    "variable": variable,
                    "value": values.T.reshape(-1).astype("float64"),
                    "unit": unit,
                    "source": source,
                }
            )
        )
    readings = pd.concat(parts, ignore_index=True)
    index = pd.MultiIndex.from_arrays([node, pd.DatetimeIndex(ts)], names=["node", "ts"])
    panel = pd.DataFrame(
        {v: values.T.reshape(-1).astype("float64") for v, (values, _) in blocks.items()}, index=index
    )
    validate_readings(readings, source=where, allow_duplicates=False)
    validate_panel(panel, source=where, allow_nan=False, require_daily=False)
    return readings, panel


def _missing_periods(dates: pd.DatetimeIndex, freq: str) -> list[pd.Timestamp]:
    full = pd.date_range(dates.min(), dates.max(), freq=freq)
    return list(full.difference(dates))


# --------------------------------------------------------------------------- pasta

PASTA = "retail_pasta_hierarchical_sales"
PASTA_FILE = "hierarchical_sales_data.csv"
_PASTA_QTY = re.compile(r"^QTY_(B\d+)_(\d+)$")


def load_pasta(folder: Path) -> SeriesDataset:
    """Parse ``hierarchical_sales_data.csv`` (daily units sold and promotion flags of 118 pasta items).

    Returns
    -------
    SeriesDataset
        ``readings``: 2 × 118 × 1,798 rows, node = item id (``"B1_1"``), node_type
        ``"item"``, variables ``sales`` (unit ``"unit"``) and ``promotion`` (0/1,
        unit ``"flag"``), source ``"pos"``.  ``panel``: columns ``sales, promotion``,
        rows as in the file (27 calendar days are absent; see :meth:`SeriesDataset.to_daily`).
        ``hierarchy``: columns ``item, brand`` (118 rows).
    """
    path = require_file(folder, PASTA_FILE, PASTA)
    raw = read_csv(path, dtype={"DATE": str})
    cols = list(raw.columns)
    n_items = (len(cols) - 1) // 2
    qty = cols[1 : 1 + n_items]
    items = []
    for c in qty:
        m = _PASTA_QTY.match(c)
        if m is None:
            raise malformed(
                path, "line 1 (header)", f"'DATE', then QTY_B<brand>_<item> columns; column {c!r}", c
            )
        items.append(f"{m.group(1)}_{m.group(2)}")
    expected = ["DATE", *[f"QTY_{i}" for i in items], *[f"PROMO_{i}" for i in items]]
    check_header(path, cols, expected)
    if not items:
        raise malformed(path, "line 1 (header)", "at least one QTY_/PROMO_ column pair", cols)
    dates = parse_dates(path, raw["DATE"], "%Y-%m-%d", csv_cell("DATE"))
    check_increasing(path, dates, csv_cell("DATE"))
    sales = numeric_columns(path, raw, qty, integer=True).to_numpy()
    promo_cols = [f"PROMO_{i}" for i in items]
    promo = numeric_columns(path, raw, promo_cols, integer=True).to_numpy()
    for arr, names, rule in ((sales, qty, "a count >= 0"), (promo, promo_cols, "0 or 1")):
        bad = (arr < 0) if arr is sales else ~np.isin(arr, (0.0, 1.0))
        if bad.any():
            r, c = np.argwhere(bad)[0]
            raise malformed(path, f"line {r + 2}, column {names[c]!r}", rule, arr[r, c])
    readings, panel = _long_and_wide(
        dates,
        items,
        {"sales": (sales, "unit"), "promotion": (promo, "flag")},
        node_type="item",
        source="pos",
        where=str(path),
    )
    hierarchy = pd.DataFrame({"item": items, "brand": [i.split("_")[0] for i in items]})
    meta = {
        "frequency": "D",
        "n_series": len(items),
        "n_periods": len(dates),
        "start": dates[0],
        "end": dates[-1],
        "missing_dates": _missing_periods(dates, "D"),
        "brands": hierarchy.groupby("brand", sort=True)["item"].count().to_dict(),
        "source": (
            "Mancuso, Piccialli & Sudoso (2021), 'Data for: A machine learning approach for forecasting "
            "hierarchical time series', Mendeley Data V1, doi:10.17632/njdkntcpc9.1 (also UCI dataset 611); "
            "copy from GitHub GonBla/Pasta_Time_Series"
        ),
        "licence": "CC BY 4.0 as usual for Mendeley Data/UCI (not verified; the copy repository has no licence)",
        "files": [PASTA_FILE],
    }
    return SeriesDataset(name=PASTA, readings=readings, panel=panel, meta=meta, hierarchy=hierarchy)


# --------------------------------------------------------------------------- YAZ

YAZ = "demand_ddop_yaz_restaurant"
YAZ_FEATURES = "yaz_data.csv"
YAZ_TARGET = "yaz_target.csv"
YAZ_FEATURE_COLUMNS = (
    "date",
    "weekday",
    "month",
    "year",
    "is_holiday",
    "is_closed",
    "weekend",
    "wind",
    "clouds",
    "rain",
    "sunshine",
    "temperature",
)
YAZ_ITEMS = ("calamari", "fish", "shrimp", "chicken", "koefte", "lamb", "steak")
_WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


def load_yaz(folder: Path) -> SeriesDataset:
    """Parse the ddop YAZ restaurant files (7 ingredient demand series, calendar and weather).

    Returns
    -------
    SeriesDataset
        ``readings``: 7 × 765 rows, node = ingredient, node_type ``"item"``, variable
        ``demand`` (unit ``"unit"``), source ``"pos"``.  ``panel``: column ``demand``,
        daily and gap-free.  ``covariates``: indexed by ``ts``, columns ``weekday``
        (``"MON"``..``"SUN"``), ``month`` (``"JAN"``..), ``year``, ``is_holiday``,
        ``is_closed``, ``weekend`` (int 0/1), ``wind``, ``clouds``, ``rain``,
        ``sunshine``, ``temperature`` (float, units as in the ddop source).
    """
    fpath = require_file(folder, YAZ_FEATURES, YAZ)
    tpath = require_file(folder, YAZ_TARGET, YAZ)
    feats = read_csv(fpath, dtype={"date": str, "weekday": str, "month": str})
    check_header(fpath, feats.columns, YAZ_FEATURE_COLUMNS)
    target = read_csv(tpath)
    check_header(tpath, target.columns, YAZ_ITEMS)
    if len(target) != len(feats):
        raise malformed(
            tpath,
            f"{len(target)} data lines",
            f"{len(feats)} data lines, one per line of {YAZ_FEATURES}",
        )
    dates = parse_dates(fpath, feats["date"], "%Y-%m-%d", csv_cell("date"))
    check_increasing(fpath, dates, csv_cell("date"))
    ints = ["year", "is_holiday", "is_closed", "weekend"]
    floats = ["wind", "clouds", "rain", "sunshine", "temperature"]
    cov = pd.concat(
        [
            numeric_columns(fpath, feats, ints, integer=True).astype("int64"),
            numeric_columns(fpath, feats, floats),
        ],
        axis=1,
    )
    for col, allowed in (("weekday", _WEEKDAYS), ("month", _MONTHS)):
        bad = ~feats[col].isin(allowed)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise malformed(
                fpath, f"line {row + 2}, column {col!r}", f"one of {list(allowed)}", feats[col].iloc[row]
            )
    for col in ("is_holiday", "is_closed", "weekend"):
        bad = ~cov[col].isin((0, 1))
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise malformed(fpath, f"line {row + 2}, column {col!r}", "0 or 1", cov[col].iloc[row])
    covariates = pd.DataFrame(
        {"weekday": feats["weekday"].to_numpy(), "month": feats["month"].to_numpy()},
        index=pd.DatetimeIndex(dates, name="ts"),
    )
    for col in [*ints, *floats]:
        covariates[col] = cov[col].to_numpy()
    demand = numeric_columns(tpath, target, YAZ_ITEMS, integer=True).to_numpy()
    if (demand < 0).any():
        r, c = np.argwhere(demand < 0)[0]
        raise malformed(tpath, f"line {r + 2}, column {YAZ_ITEMS[c]!r}", "a count >= 0", demand[r, c])
    readings, panel = _long_and_wide(
        dates, YAZ_ITEMS, {"demand": (demand, "unit")}, node_type="item", source="pos", where=str(tpath)
    )
    validate_panel(panel, source=str(tpath), require_daily=True)
    meta = {
        "frequency": "D",
        "n_series": len(YAZ_ITEMS),
        "n_periods": len(dates),
        "start": dates[0],
        "end": dates[-1],
        "missing_dates": _missing_periods(dates, "D"),
        "closed_dates": list(dates[covariates["is_closed"].to_numpy() == 1]),
        "source": (
            "YAZ restaurant (Stuttgart) ingredient demand from the ddop package, GitHub d3group/ddop "
            "(ddop/datasets/data/yaz_*.csv)"
        ),
        "licence": "BSD-3-Clause (ddop developers)",
        "files": [YAZ_FEATURES, YAZ_TARGET],
    }
    return SeriesDataset(name=YAZ, readings=readings, panel=panel, meta=meta, covariates=covariates)


# --------------------------------------------------------------------------- business inventories

BUSINV = "inventory_us_business_inventories"
BUSINV_FILE = "businv.json"
BUSINV_ANNOTATIONS = "businv_annotations.json"


def _read_json(path: Path) -> Any:
    try:
        return json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise malformed(path, f"line {exc.lineno}, column {exc.colno}", f"valid JSON ({exc.msg})") from None


def _json_item(key: str) -> Callable[[int], str]:
    return lambda i: f"{key}[{i}]"


def load_businv(folder: Path) -> SeriesDataset:
    """Parse the TCPD ``businv`` series (US total business inventories, monthly) and its annotations.

    Returns
    -------
    SeriesDataset
        ``readings``: 330 rows, node ``"US"``, node_type ``"country"``, variable
        ``inventory`` in ``"million USD"``, source ``"census"``, ``ts`` the first day of
        each month.  ``panel``: column ``inventory`` (monthly, so validated with
        ``require_daily=False``).  ``meta["change_points"]``: annotator id → 0-based
        indices into the series; ``meta["change_point_dates"]``: the same as month starts.
    """
    path = require_file(folder, BUSINV_FILE, BUSINV)
    apath = require_file(folder, BUSINV_ANNOTATIONS, BUSINV)
    doc = _read_json(path)
    for key in ("n_obs", "time", "series"):
        if not isinstance(doc, dict) or key not in doc:
            raise malformed(
                path,
                "top level",
                f"a TCPD object with key {key!r}",
                sorted(doc) if isinstance(doc, dict) else type(doc).__name__,
            )
    time, series = doc["time"], doc["series"]
    if not isinstance(time, dict) or time.get("format") != "%Y-%m" or not isinstance(time.get("raw"), list):
        raise malformed(path, "key 'time'", "an object with format '%Y-%m' and a list 'raw'")
    if not isinstance(series, list) or len(series) != 1 or not isinstance(series[0].get("raw"), list):
        raise malformed(path, "key 'series'", "a list with one series object holding a list 'raw'")
    raw_t, raw_v = time["raw"], series[0]["raw"]
    n = doc["n_obs"]
    if not (len(raw_t) == len(raw_v) == n):
        raise malformed(
            path,
            "keys 'n_obs', 'time.raw', 'series[0].raw'",
            f"{n} observations in each",
            (len(raw_t), len(raw_v)),
        )
    dates = parse_dates(path, pd.Series(raw_t, dtype=object), "%Y-%m", _json_item("time.raw"))
    check_increasing(path, dates, _json_item("time.raw"))
    bad = [i for i, v in enumerate(raw_v) if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0]
    if bad:
        raise malformed(
            path, f"series[0].raw[{bad[0]}]", "a non-negative number (million USD)", raw_v[bad[0]]
        )
    values = np.asarray(raw_v, dtype="float64")[:, None]
    readings, panel = _long_and_wide(
        dates,
        ["US"],
        {"inventory": (values, "million USD")},
        node_type="country",
        source="census",
        where=str(path),
    )
    ann_doc = _read_json(apath)
    ann = ann_doc.get("businv") if isinstance(ann_doc, dict) else None
    if not isinstance(ann, dict):
        raise malformed(apath, "top level", "an object with key 'businv' (annotator id -> indices)")
    change_points: dict[str, list[int]] = {}
    for who, idx in ann.items():
        if not isinstance(idx, list) or any(
            isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < n for i in idx
        ):
            raise malformed(apath, f"businv[{who!r}]", f"a list of integer indices in [0, {n})", idx)
        change_points[str(who)] = list(idx)
    meta = {
        "frequency": "MS",
        "n_series": 1,
        "n_periods": n,
        "start": dates[0],
        "end": dates[-1],
        "missing_dates": _missing_periods(dates, "MS"),
        "longname": doc.get("longname"),
        "change_points": change_points,
        "change_point_dates": {who: [dates[i] for i in idx] for who, idx in change_points.items()},
        "source": (
            "US Census Bureau, Manufacturing and Trade Inventories and Sales, total business inventories (not "
            "seasonally adjusted), via the Turing Change Point Dataset (alan-turing-institute/TCPD); cite "
            "van den Burg & Williams (2020), arXiv:2003.06222"
        ),
        "licence": "US Census public data (redistributed by TCPD, code MIT)",
        "files": [BUSINV_FILE, BUSINV_ANNOTATIONS],
    }
    return SeriesDataset(name=BUSINV, readings=readings, panel=panel, meta=meta)
