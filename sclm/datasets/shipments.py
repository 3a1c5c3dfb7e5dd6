"""USAID / PEPFAR SCMS delivery history: 10,324 shipment line items with messy real cells.

The loader keeps every cell.  Dates in mixed formats become ``datetime64``; text where a
date or number should be (``Date Not Captured``, ``Weight Captured Separately``,
``See ASN-93 (ID#:1281)``, ...) becomes NaT / NaN with the original text kept in a
``<column>_note`` column, and :attr:`ShipmentsDataset.issues` counts such cells.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sclm.schema import validate_readings

from ._base import check_header, malformed, numeric_columns, read_csv, require_file

SCMS = "shipments_usaid_scms"
SCMS_FILE = "SCMS_Delivery_History_Dataset.csv"

SCMS_COLUMNS: dict[str, str] = {
    "ID": "id",
    "Project Code": "project_code",
    "PQ #": "pq",
    "PO / SO #": "po_so",
    "ASN/DN #": "asn_dn",
    "Country": "country",
    "Managed By": "managed_by",
    "Fulfill Via": "fulfill_via",
    "Vendor INCO Term": "vendor_inco_term",
    "Shipment Mode": "shipment_mode",
    "PQ First Sent to Client Date": "pq_first_sent_to_client_date",
    "PO Sent to Vendor Date": "po_sent_to_vendor_date",
    "Scheduled Delivery Date": "scheduled_delivery_date",
    "Delivered to Client Date": "delivered_to_client_date",
    "Delivery Recorded Date": "delivery_recorded_date",
    "Product Group": "product_group",
    "Sub Classification": "sub_classification",
    "Vendor": "vendor",
    "Item Description": "item_description",
    "Molecule/Test Type": "molecule_test_type",
    "Brand": "brand",
    "Dosage": "dosage",
    "Dosage Form": "dosage_form",
    "Unit of Measure (Per Pack)": "unit_of_measure_per_pack",
    "Line Item Quantity": "line_item_quantity",
    "Line Item Value": "line_item_value",
    "Pack Price": "pack_price",
    "Unit Price": "unit_price",
    "Manufacturing Site": "manufacturing_site",
    "First Line Designation": "first_line_designation",
    "Weight (Kilograms)": "weight_kg",
    "Freight Cost (USD)": "freight_cost_usd",
    "Line Item Insurance (USD)": "line_item_insurance_usd",
}
"""Original column name → snake_case name, in file order (33 columns)."""

DATE_COLUMNS: tuple[str, ...] = (
    "pq_first_sent_to_client_date",
    "po_sent_to_vendor_date",
    "scheduled_delivery_date",
    "delivered_to_client_date",
    "delivery_recorded_date",
)
"""Date columns (``2-Jun-06`` or ``11/13/06``); other text there becomes NaT plus a note."""

MIXED_NUMERIC_COLUMNS: tuple[str, ...] = ("weight_kg", "freight_cost_usd")
"""Numeric columns that also hold text (kept in ``<col>_note``, NaN in the number)."""

NUMERIC_COLUMNS: tuple[str, ...] = (
    "unit_of_measure_per_pack",
    "line_item_quantity",
    "line_item_value",
    "pack_price",
    "unit_price",
)
"""Columns that must hold a number in every row (anything else is a malformed file)."""

OPTIONAL_NUMERIC_COLUMNS: tuple[str, ...] = ("line_item_insurance_usd",)
"""Numeric columns that may be empty (NaN, counted as ``missing`` in the issues)."""

_MONTHS = {m: i + 1 for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split())}
_DMY = re.compile(r"^(\d{1,2})-([A-Za-z]{3})-(\d{2}|\d{4})$")
_MDY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})$")
_REFERENCE = re.compile(r"^See (?:ASN|DN)-\d+ \(ID#:(\d+)\)$")


@dataclass(frozen=True, eq=False)
class ShipmentsDataset:
    """Shipment line items of the SCMS delivery history.

    Attributes
    ----------
    name
        ``"shipments_usaid_scms"``.
    table
        One row per line item (10,324), the 33 source columns renamed to snake_case
        (:data:`SCMS_COLUMNS`) in file order, then the extra columns: for each date
        column and each of ``weight_kg``, ``freight_cost_usd`` a ``<col>_note`` (the
        original text where it was not a date / number, else None), and
        ``weight_kg_ref_id``, ``freight_cost_usd_ref_id`` (nullable Int64: the line-item
        ``id`` a ``See ASN-… (ID#:n)`` cell points to).  Dates are datetime64[ns] (NaT
        where not a date); ``id`` and ``unit_of_measure_per_pack`` and
        ``line_item_quantity`` are int64; money and weight columns float64 (USD, kg).
        Text columns are kept verbatim (``shipment_mode`` ``"N/A"`` included); empty text
        cells are None.
    issues
        One row per kind of non-conforming cell: ``column``, ``kind`` (``"text"``: text
        where a date/number belongs; ``"reference"``: ``See ASN-… (ID#:n)``;
        ``"missing"``: empty cell), ``value`` (the text; references collapsed to
        ``"See <ASN/DN> (ID#:<id>)"``; ``""`` for missing), ``count``.
    meta
        Source credit, licence, row count, file name.
    """

    name: str
    table: pd.DataFrame
    issues: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    def readings(self, *, aggregate: bool = True) -> pd.DataFrame:
        """Delivered quantities as a Readings table.

        Parameters
        ----------
        aggregate
            Sum line items per (country, delivery day) so that each key appears once
            (default); with False, one reading per line item (keys repeat, as raw ERP
            records may).

        Returns
        -------
        pandas.DataFrame
            Readings contract: ``ts`` = ``delivered_to_client_date``, ``node`` =
            ``country``, node_type ``"country"``, variable ``"delivery"``, ``value`` =
            ``line_item_quantity`` (float, packs), unit ``"pack"``, source ``"erp"``;
            sorted by node and ts.  Line items without a delivery date are left out.
        """
        t = self.table[self.table["delivered_to_client_date"].notna()]
        frame = pd.DataFrame(
            {
                "ts": t["delivered_to_client_date"].to_numpy(),
                "node": t["country"].to_numpy(),
                "value": t["line_item_quantity"].to_numpy(dtype="float64"),
            }
        )
        if aggregate:
            frame = frame.groupby(["node", "ts"], as_index=False, sort=True)["value"].sum()
        else:
            frame = frame.sort_values(["node", "ts"], kind="stable", ignore_index=True)
        out = pd.DataFrame(
            {
                "ts": frame["ts"].astype("datetime64[ns]"),
                "node": frame["node"].astype(object),
                "node_type": "country",
                "variable": "delivery",
                "value": frame["value"].astype("float64"),
                "unit": "pack",
                "source": "erp",
            }
        )
        return validate_readings(out, source=f"{self.name}.readings()", allow_duplicates=not aggregate)


def _two_digit_year(y: pd.Series) -> pd.Series:
    y = y.astype("int64")
    return y.where(y >= 100, np.where(y < 70, 2000 + y, 1900 + y))


def parse_mixed_dates(values: pd.Series) -> pd.Series:
    """Parse dates written as ``2-Jun-06`` (day-month-year) or ``11/13/06`` (month/day/year).

    Two-digit years below 70 are 20xx.  Anything else, or an impossible date, is NaT.

    Parameters
    ----------
    values
        Strings (None/NaN allowed), length n.

    Returns
    -------
    pandas.Series
        datetime64[ns], length n, same index.
    """
    s = values.fillna("").astype(str).str.strip()
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    dmy = s.str.extract(_DMY)
    ok = dmy[0].notna()
    if ok.any():
        month = dmy.loc[ok, 1].str.lower().map(_MONTHS)
        good = month.notna()
        idx = month.index[good]
        parts = pd.DataFrame(
            {
                "year": _two_digit_year(dmy.loc[idx, 2]),
                "month": month[good].astype("int64"),
                "day": dmy.loc[idx, 0].astype("int64"),
            }
        )
        out.loc[idx] = pd.to_datetime(parts, errors="coerce").astype("datetime64[ns]")
    mdy = s.str.extract(_MDY)
    ok = mdy[0].notna()
    if ok.any():
        idx = mdy.index[ok]
        parts = pd.DataFrame(
            {
                "year": _two_digit_year(mdy.loc[idx, 2]),
                "month": mdy.loc[idx, 0].astype("int64"),
                "day": mdy.loc[idx, 1].astype("int64"),
            }
        )
        out.loc[idx] = pd.to_datetime(parts, errors="coerce").astype("datetime64[ns]")
    return out


def _classify(raw: pd.Series, parsed_ok: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Kind and collapsed value of each cell that did not parse."""
    bad = raw[~parsed_ok]
    empty = bad.isna() | (bad.astype(str).str.strip() == "")
    is_ref = bad.astype(str).str.match(_REFERENCE)
    kind = pd.Series(np.where(empty, "missing", np.where(is_ref, "reference", "text")), index=bad.index)
    value = bad.astype(str).where(~is_ref, "See <ASN/DN> (ID#:<id>)").where(~empty, "")
    return kind, value


def load_scms(folder: Path) -> ShipmentsDataset:
    """Parse ``SCMS_Delivery_History_Dataset.csv`` into a :class:`ShipmentsDataset`."""
    path = require_file(folder, SCMS_FILE, SCMS)
    raw = read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig")
    check_header(path, raw.columns, list(SCMS_COLUMNS))
    raw.columns = list(SCMS_COLUMNS.values())
    table = raw.astype(object).where(raw.notna(), None)
    issues: list[pd.DataFrame] = []

    def note(col: str, parsed_ok: pd.Series, keep: bool = True) -> None:
        kind, value = _classify(raw[col], parsed_ok)
        if len(kind):
            counts = (
                pd.DataFrame({"kind": kind, "value": value})
                .value_counts(sort=False)
                .reset_index(name="count")
            )
            counts.insert(0, "column", col)
            issues.append(counts)
        if keep:
            table[f"{col}_note"] = raw[col].where(~parsed_ok & raw[col].notna(), None).astype(object)

    for col in DATE_COLUMNS:
        parsed = parse_mixed_dates(raw[col])
        table[col] = parsed
        note(col, parsed.notna())
    for col in MIXED_NUMERIC_COLUMNS:
        number = pd.to_numeric(raw[col], errors="coerce").astype("float64")
        table[col] = number
        note(col, number.notna())
        ref = raw[col].str.extract(_REFERENCE, expand=False)
        table[f"{col}_ref_id"] = pd.to_numeric(ref, errors="coerce").astype("Int64")
    ints = ["id", "unit_of_measure_per_pack", "line_item_quantity"]
    floats = [c for c in NUMERIC_COLUMNS if c not in ints]
    for col, values in numeric_columns(path, raw, ints, integer=True).items():
        table[col] = values.astype("int64")
    for col, values in numeric_columns(path, raw, floats).items():
        table[col] = values
    for col in OPTIONAL_NUMERIC_COLUMNS:
        table[col] = numeric_columns(path, raw, [col], allow_missing=True)[col]
        note(col, table[col].notna(), keep=False)
    dup = table["id"].duplicated()
    if dup.any():
        row = int(np.flatnonzero(dup.to_numpy())[0])
        raise malformed(path, f"line {row + 2}, column 'ID'", "a unique line-item ID", raw["id"].iloc[row])
    issues_df = (
        pd.concat(issues, ignore_index=True)
        if issues
        else pd.DataFrame({"column": [], "kind": [], "value": [], "count": []})
    )
    issues_df["count"] = issues_df["count"].astype("int64")
    meta = {
        "n_rows": len(table),
        "n_source_columns": len(SCMS_COLUMNS),
        "columns": dict(SCMS_COLUMNS),
        "source": (
            "USAID, 'Supply Chain Shipment Pricing Data' (PEPFAR SCMS delivery history), catalog.data.gov; "
            "copy from GitHub Hitesh-Nimbalkar/Shipment_Pricing_EDA"
        ),
        "licence": "US federal government open data (normally public domain; not verified)",
        "files": [SCMS_FILE],
    }
    return ShipmentsDataset(name=SCMS, table=table, issues=issues_df, meta=meta)
