"""BIO-tagged business documents consistent with a scenario's truth.

Each document states one truth cell: a (node, day, variable) and its quantity.  A purchase order
states the orders of that node and day, a shipping notice its outbound (or inbound, per
scenario) quantity, and so on — the mapping kind → variable is given by the scenario.  The texts
are built from templates whose slots are filled with multi-token names; each slot's tokens get
``B-<TYPE>``/``I-<TYPE>`` tags and every literal token ``O``.  Entity types: ``ORG``, ``LOC``,
``PER``, ``PRODUCT``, ``QTY`` (the quantity, one integer token), ``DATE``.

Every document has exactly one ``QTY`` span (the stated quantity) and its first ``DATE`` span is
the day of that quantity; ``text == " ".join(tokens)``.

The name lists below are small, invented but plausible; a later version will draw real names
from data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

ENTITY_TYPES: tuple[str, ...] = ("ORG", "LOC", "PER", "PRODUCT", "QTY", "DATE")

CUSTOMERS: tuple[str, ...] = (
    "Meridian Components Ltd",
    "Apex Polymers",
    "Kestrel Steelworks",
    "Bluewater Foods Group",
    "Orion Retail Group",
    "Harrow & Finch Trading",
    "Vantage Appliances",
    "Lindqvist Maskin AB",
    "Costa Verde Distribuciones",
    "Pioneer Hardware Co",
    "Sakura Home Goods",
    "Northfield Builders Supply",
)
RETAILERS: tuple[str, ...] = (
    "Orion Retail Group",
    "Bluewater Foods Group",
    "Sakura Home Goods",
    "Marktplatz Handels AG",
    "Sunrise Grocers",
    "Casa Fresca Supermercados",
    "Northwind Convenience",
    "Golden Basket Stores",
)
CARRIERS: tuple[str, ...] = (
    "Nordwind Logistics",
    "Baltic Freight Lines",
    "TransAlpine Cargo",
    "Redline Express",
    "Atlas Road Haulage",
    "Harbor & Crane Shipping",
    "Silverline Transport GmbH",
    "Meseta Carga SL",
    "Blue Heron Couriers",
    "Polar Parcel Services",
    "Danube Trucking Kft",
    "Ironbridge Freight",
)
SUPPLIERS: tuple[str, ...] = (
    "Gruber Packaging",
    "Solano Resins",
    "Tamarind Chemicals",
    "Westmark Metals",
    "Ferrovia Castings SpA",
    "Greenleaf Paper Mills",
    "Hoshino Electronics",
    "Brightwater Textiles",
    "Cordova Agro Foods",
    "Kaskade Plastics",
    "Eastgate Fasteners",
    "Mistral Glassworks",
)
PEOPLE: tuple[str, ...] = (
    "Anna Schmidt",
    "Luca Bianchi",
    "Maria Garcia",
    "Wei Zhang",
    "Priya Nair",
    "Tomasz Nowak",
    "Sofia Lindberg",
    "Kenji Watanabe",
    "Fatima El Amrani",
    "James O'Connor",
    "Chloe Martin",
    "Diego Fernandez",
    "Olga Petrova",
    "Samuel Okafor",
)
CITIES: tuple[tuple[str, str], ...] = (
    ("Rotterdam", "Netherlands"),
    ("Hamburg", "Germany"),
    ("Lyon", "France"),
    ("Milan", "Italy"),
    ("Gdansk", "Poland"),
    ("Valencia", "Spain"),
    ("Porto", "Portugal"),
    ("Leipzig", "Germany"),
    ("Antwerp", "Belgium"),
    ("Brno", "Czechia"),
    ("Tampere", "Finland"),
    ("Cork", "Ireland"),
    ("Kansas City", "United States"),
    ("New York", "United States"),
    ("Sao Paulo", "Brazil"),
    ("Ho Chi Minh City", "Vietnam"),
    ("Osaka", "Japan"),
    ("Pune", "India"),
)
PRODUCTS: dict[str, tuple[str, ...]] = {
    "manufacturing": (
        "steel brackets",
        "hydraulic pumps",
        "PVC pipe fittings",
        "gear motors",
        "ceramic floor tiles",
        "aluminium profiles",
        "brake pads",
        "circuit breakers",
    ),
    "logistics": (
        "bottled water",
        "cement bags",
        "office paper",
        "cleaning supplies",
        "engine oil",
        "fresh produce crates",
        "spare tyres",
        "medical consumables",
    ),
    "retail": (
        "olive oil",
        "fusilli pasta",
        "ground coffee",
        "AA batteries",
        "laundry detergent",
        "greek yoghurt",
        "sparkling water",
        "dark chocolate",
    ),
}

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

# Templates: tokens separated by spaces; {SLOT} fills a slot.  Slots: ORG (the counterparty),
# PER, LOC (the node's city), PRODUCT (the node's product), QTY, DATE, plus unlabelled
# DOC (reference number) and DAYS (a delay in days).
TEMPLATES: dict[str, tuple[str, ...]] = {
    "purchase_order": (
        "Purchase order {DOC} from {ORG} : please supply {QTY} units of {PRODUCT} to our {LOC} site , "
        "order date {DATE} . Contact : {PER} .",
        "{ORG} hereby orders {QTY} units of {PRODUCT} ( ref {DOC} ) dated {DATE} for the {LOC} facility .",
        "PO {DOC} | buyer {ORG} | item {PRODUCT} | quantity {QTY} | date {DATE} | site {LOC} | approved by {PER}",
        "Dear team , {PER} of {ORG} confirms an order for {QTY} units of {PRODUCT} placed on {DATE} "
        "with {LOC} under reference {DOC} .",
        "New order received on {DATE} : {QTY} x {PRODUCT} , customer {ORG} , fulfilment site {LOC} .",
    ),
    "shipping_notice": (
        "Shipping notice {DOC} : {ORG} confirms a consignment of {QTY} units of {PRODUCT} at {LOC} "
        "on {DATE} .",
        "ASN {DOC} | carrier {ORG} | {PRODUCT} | {QTY} units | {LOC} | {DATE}",
        "On {DATE} {ORG} handled {QTY} units of {PRODUCT} for the {LOC} site ; driver {PER} signed "
        "the delivery note {DOC} .",
        "Dispatch advice : {QTY} units of {PRODUCT} moved through {LOC} on {DATE} by {ORG} "
        "( waybill {DOC} ) .",
        "Hello , this is {PER} from {ORG} . The consignment {DOC} of {QTY} units of {PRODUCT} "
        "was completed at {LOC} on {DATE} .",
    ),
    "delay_report": (
        "Delay report {DOC} : the consignment of {QTY} units of {PRODUCT} at {LOC} on {DATE} ran "
        "{DAYS} days behind plan , reported by {ORG} .",
        "{ORG} reports that {QTY} units of {PRODUCT} handled on {DATE} at {LOC} were delayed by "
        "{DAYS} days due to congestion .",
        "Incident {DOC} | {LOC} | {DATE} | {PRODUCT} | {QTY} units | late by {DAYS} days | carrier {ORG} "
        "| owner {PER}",
        "Dear {PER} , we regret that the load of {QTY} units of {PRODUCT} for {LOC} on {DATE} was "
        "{DAYS} days late . Regards , {ORG} .",
        "Late arrival : {ORG} consignment {DOC} , {QTY} units of {PRODUCT} , {LOC} , {DATE} , "
        "{DAYS} days behind schedule .",
    ),
    "supplier_email": (
        "Hi {PER} , {ORG} confirms {QTY} units of {PRODUCT} for your {LOC} site on {DATE} . Best regards .",
        "Dear {PER} , please find attached the statement {DOC} : {QTY} units of {PRODUCT} , {LOC} , "
        "{DATE} . Kind regards , {ORG} .",
        "From {ORG} : the {PRODUCT} batch for {LOC} on {DATE} totalled {QTY} units . Questions to {PER} .",
        "{PER} here from {ORG} . Our records show {QTY} units of {PRODUCT} at {LOC} on {DATE} "
        "( ref {DOC} ) .",
        "Supply update {DOC} : {QTY} units of {PRODUCT} booked for {LOC} on {DATE} . {ORG} account "
        "manager {PER} .",
    ),
}

COUNTERPARTIES: dict[str, tuple[str, ...]] = {
    "purchase_order": CUSTOMERS,
    "shipping_notice": CARRIERS,
    "delay_report": CARRIERS,
    "supplier_email": SUPPLIERS,
}

DOC_PREFIX = {"purchase_order": "PO", "shipping_notice": "SN", "delay_report": "DR", "supplier_email": "SE"}


@dataclass(frozen=True)
class NodeInfo:
    """What documents say about a node: its city and product."""

    city: str
    product: str


def _fmt_date(ts: pd.Timestamp, style: int) -> list[str]:
    if style == 0:
        return [ts.strftime("%Y-%m-%d")]
    if style == 1:
        return [str(ts.day), MONTHS[ts.month - 1], str(ts.year)]
    return [MONTHS[ts.month - 1][:3], str(ts.day), str(ts.year)]


def render(
    template: str, slots: Mapping[str, Sequence[str]], labels: Mapping[str, str]
) -> tuple[list[str], list[str]]:
    """Fill a template; return tokens and BIO tags.

    Parameters
    ----------
    template
        Space-separated tokens; ``{NAME}`` is replaced by ``slots[NAME]`` (a token list).
    slots
        Slot name → tokens.
    labels
        Slot name → entity type (slots missing here are tagged ``O``).
    """
    tokens: list[str] = []
    tags: list[str] = []
    for piece in template.split():
        if piece.startswith("{") and piece.endswith("}"):
            name = piece[1:-1]
            words = list(slots[name])
            label = labels.get(name)
            tokens.extend(words)
            if label is None:
                tags.extend(["O"] * len(words))
            else:
                tags.extend([f"B-{label}"] + [f"I-{label}"] * (len(words) - 1))
        else:
            tokens.append(piece)
            tags.append("O")
    return tokens, tags


def make_documents(
    rng: np.random.Generator,
    *,
    truth: Mapping[str, np.ndarray],
    names: Sequence[str],
    info: Sequence[NodeInfo],
    dates: pd.DatetimeIndex,
    spec: Mapping[str, str],
    n_documents: int,
    counterparties: Mapping[str, Sequence[str]] | None = None,
) -> pd.DataFrame:
    """Generate ``n_documents`` BIO-tagged documents that state truth values.

    Parameters
    ----------
    rng
        The documents stream.
    truth
        Variable → ``(N, T)`` array (integer counts as float64).
    names, info
        Length N: node names (sorted) and their city/product.
    dates
        Length T.
    spec
        Document kind (a key of :data:`TEMPLATES`) → the truth variable it states.
    n_documents
        How many documents (kinds in turn, then shuffled).
    counterparties
        Kind → organisation names, overriding :data:`COUNTERPARTIES` for that kind.

    Returns
    -------
    pandas.DataFrame
        Columns ``doc_id, kind, template, node, ts, lang, text, tokens, tags, variable,
        quantity``; one row per document, sorted by (ts, node, kind); ``tokens`` and ``tags``
        are lists of equal length.
    """
    from sclm.scenarios._base import DOCUMENT_COLUMNS

    kinds = list(spec)
    orgs = {**COUNTERPARTIES, **(counterparties or {})}
    rows = []
    if n_documents and kinds:
        assigned = np.asarray(kinds, dtype=object)[np.arange(n_documents) % len(kinds)]
        assigned = assigned[rng.permutation(n_documents)]
        n_days = len(dates)
        labels = {e: e for e in ENTITY_TYPES}
        positive = {v: np.flatnonzero(truth[v].reshape(-1) > 0) for v in dict.fromkeys(spec.values())}
        for j, kind in enumerate(assigned):
            variable = spec[kind]
            values = truth[variable]
            cells = positive[variable]
            if not len(cells):
                continue
            cell = int(cells[rng.integers(len(cells))])
            n, t = divmod(cell, n_days)
            qty = int(values[n, t])
            ts = dates[t]
            tpl_id = int(rng.integers(len(TEMPLATES[kind])))
            slots = {
                "ORG": orgs[kind][int(rng.integers(len(orgs[kind])))].split(),
                "PER": PEOPLE[int(rng.integers(len(PEOPLE)))].split(),
                "LOC": info[n].city.split(),
                "PRODUCT": info[n].product.split(),
                "QTY": [str(qty)],
                "DATE": _fmt_date(ts, int(rng.integers(3))),
                "DOC": [f"{DOC_PREFIX[kind]}-{ts.year}-{int(rng.integers(10_000, 100_000))}"],
                "DAYS": [str(int(rng.integers(2, 7)))],
            }
            tokens, tags = render(TEMPLATES[kind][tpl_id], slots, labels)
            rows.append(
                {
                    "kind": kind,
                    "template": f"{kind}/{tpl_id + 1}",
                    "node": names[n],
                    "ts": ts,
                    "lang": "en",
                    "text": " ".join(tokens),
                    "tokens": tokens,
                    "tags": tags,
                    "variable": variable,
                    "quantity": float(qty),
                    "_order": j,
                }
            )
    if not rows:
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in DOCUMENT_COLUMNS})
        return empty.astype({"ts": "datetime64[ns]", "quantity": np.float64})
    df = pd.DataFrame(rows)
    df = df.sort_values(["ts", "node", "kind", "_order"], kind="stable").reset_index(drop=True)
    df.insert(0, "doc_id", [f"doc-{i + 1:05d}" for i in range(len(df))])
    df["ts"] = df["ts"].astype("datetime64[ns]")
    return df[list(DOCUMENT_COLUMNS)]
