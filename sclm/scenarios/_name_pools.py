"""Name pools of the document generator: built-in names, and names from the SCMS data when present.

:class:`NamePools` holds the names one language's documents draw from (organisations per document
kind, people, cities, origin countries, products, shipment modes); :func:`name_pools` builds them
from the built-in lists of :mod:`sclm.scenarios._vocabulary`, adding the vendors, countries,
shipment modes and item descriptions of the USAID SCMS delivery history (``shipments_usaid_scms``)
when asked for and present; :func:`scenario_pools` picks a scenario's English pools from its
``document_names`` option (:data:`DOCUMENT_NAMES`).

A private module: every name here is re-exported by :mod:`sclm.scenarios.documents`, which is
where callers import it from.  It imports the vocabulary, :mod:`sclm.config` and
:mod:`sclm.datasets` only, never the generator, so there is no import cycle.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from sclm import config
from sclm.datasets import load_dataset
from sclm.scenarios._vocabulary import (
    CITIES,
    COUNTERPARTIES,
    COUNTRIES,
    CUSTOMERS,
    EXTRA_CITIES,
    FIRST_NAMES,
    LAST_NAMES,
    MODES,
    PEOPLE,
    PRODUCTS,
    RETAILERS,
    SPLITS,
    SUPPLIERS,
    TEMPLATES,
    ZH_CITIES,
    ZH_COUNTRIES,
    ZH_GIVEN,
    ZH_MODES,
    ZH_ORGS,
    ZH_PEOPLE,
    ZH_PRODUCTS,
    ZH_SURNAMES,
)

__all__ = ["DOCUMENT_NAMES", "NamePools", "name_pools", "scenario_pools"]

DOCUMENT_NAMES: dict[str, str] = {"builtin": "builtin", "data": "scms"}
"""Scenario option ``document_names`` → the :func:`name_pools` source it asks for: ``"builtin"``
(the default; texts independent of the data folder) or ``"data"`` (the SCMS names; the data set
must be present)."""


@dataclass(frozen=True)
class NamePools:
    """The names documents draw from (one language).

    Attributes
    ----------
    orgs
        Document kind → organisation names (the counterparty of that kind).
    people, cities, countries, products, modes
        Person names, node cities, origin countries, product names, shipment modes.
    source
        ``"scms"`` (built-in lists plus the SCMS shipments data) or ``"builtin"``.
    lang
        ``"en"`` or ``"zh"``.
    extra
        Other name lists of the source (e.g. the SCMS product groups); not drawn by the generators.
    """

    orgs: Mapping[str, tuple[str, ...]]
    people: tuple[str, ...]
    cities: tuple[str, ...]
    countries: tuple[str, ...]
    products: tuple[str, ...]
    modes: tuple[str, ...]
    source: str = "builtin"
    lang: str = "en"
    extra: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def split(self, part: str) -> NamePools:
        """Every fifth name of each pool (``"heldout"``), the others (``"train"``), or all (``"all"``).

        An organisation that is held out in one kind's pool is left out of every kind's
        ``"train"`` pool, so no held-out name is ever seen in training (the Chinese pools share
        organisations across kinds; the English ones do not, so their split is unchanged)."""
        if part not in SPLITS:
            raise ValueError(f"split must be one of {list(SPLITS)}, got {part!r}")
        if part == "all":
            return self

        def pick(names: Sequence[str]) -> tuple[str, ...]:
            keep = [n for i, n in enumerate(names) if (i % 5 == 4) == (part == "heldout")]
            return tuple(keep) or tuple(names)

        # an organisation held out in one kind's pool is held out of every kind's training pool
        # (the Chinese pools share names across kinds)
        held_orgs = {n for v in self.orgs.values() for i, n in enumerate(v) if i % 5 == 4}

        def pick_org(names: Sequence[str]) -> tuple[str, ...]:
            if part == "heldout":
                return pick(names)
            return tuple(n for n in names if n not in held_orgs) or pick(names)

        return NamePools(
            orgs={k: pick_org(v) for k, v in self.orgs.items()},
            people=pick(self.people),
            cities=pick(self.cities),
            countries=pick(self.countries),
            products=pick(self.products),
            modes=self.modes,
            source=self.source,
            lang=self.lang,
            extra=self.extra,
        )

    def fingerprint(self) -> dict[str, str]:
        """Where the names come from and a digest of them, for a scenario's meta and a report's manifest.

        Returns
        -------
        dict
            ``{"source": "builtin" | "scms", "lang": "en" | "zh", "sha256": <64 hex digits>}``;
            ``sha256`` is taken over the canonical JSON (sorted keys, UTF-8) of every name the
            generators may draw (``orgs``, ``people``, ``cities``, ``countries``, ``products``,
            ``modes``; not ``extra``), so two runs with the same digest draw from the same names.
        """
        names = {
            "orgs": {k: list(v) for k, v in self.orgs.items()},
            "people": list(self.people),
            "cities": list(self.cities),
            "countries": list(self.countries),
            "products": list(self.products),
            "modes": list(self.modes),
        }
        blob = json.dumps(names, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return {"source": self.source, "lang": self.lang, "sha256": hashlib.sha256(blob.encode()).hexdigest()}


_PAREN = re.compile(r"\s*\([^)]*\)?")


def _clean_vendor(name: str) -> str:
    name = _PAREN.sub("", name).replace(")", "")
    return " ".join(name.split()).strip(" ,")


def _clean_item(desc: str) -> str:
    desc = _PAREN.sub("", desc)
    desc = re.sub(r",\s*\d+\s*[A-Za-z]+\s*$", "", desc)  # drop the pack size ", 30 Tabs"
    return " ".join(desc.replace(",", " ").split())


@functools.lru_cache(maxsize=4)
def _scms_names(data_dir: str) -> dict[str, tuple[str, ...]] | None:
    """Vendors, countries, modes, products and product groups from the SCMS data (None if absent).

    ``data_dir`` is the resolved data folder, so the cache follows ``$SCLM_DATA_DIR``.
    """
    if not (Path(data_dir) / "shipments_usaid_scms").is_dir():
        return None
    table = load_dataset("shipments_usaid_scms", data_dir=data_dir).table

    def uniq(values) -> tuple[str, ...]:
        return tuple(sorted({v for v in values if v and v.lower() not in ("n/a", "scms from rdc")}))

    vendors = uniq(_clean_vendor(v) for v in table["vendor"].dropna())
    items = uniq(_clean_item(v) for v in table["item_description"].dropna() if len(v) <= 60)
    molecules = uniq(_clean_item(m) for m in table["molecule_test_type"].dropna() if len(m) <= 30)
    return {
        "vendors": vendors,
        "countries": uniq(table["country"].dropna()),
        "modes": uniq(m.lower() for m in table["shipment_mode"].dropna()),
        "products": tuple(dict.fromkeys(items + molecules)),
        "product_groups": uniq(table["product_group"].dropna()),
    }


def _combos(first: Sequence[str], last: Sequence[str], n: int, *, sep: str) -> tuple[str, ...]:
    """``n`` deterministic first × last combinations (a fixed stride through the grid)."""
    out = []
    for i in range(n):
        out.append(f"{first[i % len(first)]}{sep}{last[(i * 5 + i // len(first)) % len(last)]}")
    return tuple(dict.fromkeys(out))


def name_pools(source: str = "auto", *, lang: str = "en", data_dir: str | None = None) -> NamePools:
    """The name pools documents draw from.

    Parameters
    ----------
    source
        ``"auto"`` (SCMS names when the data folder holds them, else built-in), ``"scms"`` (raise
        when the data is missing) or ``"builtin"`` (never read data: texts independent of it).
    lang
        ``"en"`` or ``"zh"``.  Chinese pools are built-in Chinese names plus, with SCMS, the
        (Latin) vendor names among the suppliers.
    data_dir
        The real-data folder (default: :func:`sclm.config.data_dir`).

    Raises
    ------
    ValueError
        Unknown ``source`` or ``lang``.
    FileNotFoundError
        ``source="scms"`` and the data set is missing.
    """
    if source not in ("auto", "scms", "builtin"):
        raise ValueError(f"source must be 'auto', 'scms' or 'builtin', got {source!r}")
    if lang not in ("en", "zh"):
        raise ValueError(f"lang must be 'en' or 'zh', got {lang!r}")
    scms = None if source == "builtin" else _scms_names(str(config.data_dir(data_dir, must_exist=False)))
    if source == "scms" and scms is None:
        raise FileNotFoundError(
            "source='scms' needs the data set 'shipments_usaid_scms' in the data folder "
            "(see sclm.config.data_dir); use source='auto' to fall back to the built-in names"
        )
    vendors = scms["vendors"] if scms else ()
    if lang == "zh":
        orgs = {
            k: tuple(ZH_ORGS[i::2] if k != "supplier_email" else ZH_ORGS) for i, k in enumerate(TEMPLATES)
        }
        orgs["supplier_email"] = tuple(dict.fromkeys(orgs["supplier_email"] + vendors[::3]))
        return NamePools(
            orgs=orgs,
            people=tuple(dict.fromkeys(ZH_PEOPLE + _combos(ZH_SURNAMES, ZH_GIVEN, 160, sep=""))),
            cities=ZH_CITIES,
            countries=ZH_COUNTRIES,
            products=ZH_PRODUCTS,
            modes=ZH_MODES,
            source="scms" if scms else "builtin",
            lang="zh",
        )
    orgs = {k: tuple(v) for k, v in COUNTERPARTIES.items()}
    orgs["purchase_order"] = tuple(dict.fromkeys(CUSTOMERS + RETAILERS))
    orgs["supplier_email"] = tuple(dict.fromkeys(SUPPLIERS + vendors))
    products = tuple(dict.fromkeys(p for ps in PRODUCTS.values() for p in ps))
    return NamePools(
        orgs=orgs,
        people=tuple(dict.fromkeys(PEOPLE + _combos(FIRST_NAMES, LAST_NAMES, 200, sep=" "))),
        cities=tuple(dict.fromkeys(tuple(c for c, _ in CITIES) + EXTRA_CITIES)),
        countries=tuple(dict.fromkeys(COUNTRIES + (scms["countries"] if scms else ()))),
        products=tuple(dict.fromkeys(products + (scms["products"] if scms else ()))),
        modes=tuple(dict.fromkeys(MODES + (scms["modes"] if scms else ()))),
        source="scms" if scms else "builtin",
        lang="en",
        extra={"product_groups": scms["product_groups"]} if scms else {},
    )


def scenario_pools(
    document_names: str = "builtin",
    counterparties: Mapping[str, Sequence[str]] | None = None,
    *,
    data_dir: str | None = None,
) -> NamePools:
    """The English name pools a scenario's documents draw from.

    Parameters
    ----------
    document_names
        A key of :data:`DOCUMENT_NAMES`: ``"builtin"`` (default; never reads the data folder, so
        the same parameters give the same texts on every machine) or ``"data"`` (the SCMS names,
        :func:`name_pools` ``("scms")``; raises when the data set is missing).
    counterparties
        Document kind → organisation names, replacing the pool of that kind.
    data_dir
        The real-data folder for ``"data"`` (default: :func:`sclm.config.data_dir`).

    Returns
    -------
    NamePools
        ``lang="en"``; its :meth:`NamePools.fingerprint` identifies every name the documents
        may draw.

    Raises
    ------
    ValueError
        Unknown ``document_names``.
    FileNotFoundError
        ``"data"`` and the SCMS data set is missing.
    """
    if document_names not in DOCUMENT_NAMES:
        raise ValueError(
            f"document_names must be one of {list(DOCUMENT_NAMES)}, got {document_names!r} "
            "('builtin': built-in names, the same on every machine; 'data': names from the SCMS data set)"
        )
    pools = name_pools(DOCUMENT_NAMES[document_names], data_dir=data_dir)
    if counterparties:
        pools = replace(pools, orgs={**pools.orgs, **{k: tuple(v) for k, v in counterparties.items()}})
    return pools
