"""Loaders for the real public data sets in ``$SCLM_DATA_DIR`` (default ``../shared/data``).

One verb, :func:`load_dataset`, takes the data set's folder name.  :data:`DATASETS` lists
them with a one-line description (what, kind, licence/credit); each folder's
``SOURCE.md`` has the full provenance.

=================================== ======================== =====================================
name                                returns                  contents
=================================== ======================== =====================================
retail_pasta_hierarchical_sales     :class:`SeriesDataset`   118 items × 1,798 days, sales + promo
demand_ddop_yaz_restaurant          :class:`SeriesDataset`   7 ingredients × 765 days + covariates
inventory_us_business_inventories   :class:`SeriesDataset`   330 months + change-point annotations
shipments_usaid_scms                :class:`ShipmentsDataset` 10,324 shipment line items
cvrp_augerat_abp                    ``InstanceSet[CVRPInstance]``   74 CVRP instances + optima
vrptw_solomon                       ``InstanceSet[VRPTWInstance]``  56 VRPTW instances + BKS
jssp_benchmarks                     ``InstanceSet[JobShopInstance]`` 242 job-shop instances
ner_wnut17                          :class:`NERDataset`      WNUT-17 NER train/dev/test
=================================== ======================== =====================================

Parsing happens once per process and file version (the cache key holds each file's
mtime and size); every call returns a fresh copy, so callers may mutate the result.

Examples
--------
>>> from sclm.datasets import load_dataset
>>> pasta = load_dataset("retail_pasta_hierarchical_sales")      # doctest: +SKIP
>>> pasta.panel.shape                                           # doctest: +SKIP
(212164, 2)
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sclm import config
from sclm.schema import unknown_name

from ._base import FileStamp, InstanceSet, folder_stamp, fresh
from .routing import CVRP, VRPTW, CVRPInstance, VRPTWInstance, load_cvrp, load_solomon
from .scheduling import JSSP, JSSP_BKS, JSSP_DATA, JobShopInstance, load_jssp
from .series import (
    BUSINV,
    BUSINV_ANNOTATIONS,
    BUSINV_FILE,
    PASTA,
    PASTA_FILE,
    YAZ,
    YAZ_FEATURES,
    YAZ_TARGET,
    SeriesDataset,
    load_businv,
    load_pasta,
    load_yaz,
)
from .shipments import SCMS, SCMS_FILE, ShipmentsDataset, load_scms
from .text import WNUT, WNUT_FILES, NERDataset, entity_spans, load_wnut17

__all__ = [
    "DATASETS",
    "CVRPInstance",
    "InstanceSet",
    "JobShopInstance",
    "NERDataset",
    "SeriesDataset",
    "ShipmentsDataset",
    "VRPTWInstance",
    "clear_cache",
    "entity_spans",
    "load_dataset",
]


@dataclass(frozen=True)
class _Spec:
    description: str
    parse: Callable[[Path], Any]
    required: tuple[str, ...]
    globs: tuple[str, ...] = ()


_SPECS: dict[str, _Spec] = {
    PASTA: _Spec(
        "Daily units sold and promotion flags of 118 pasta items (4 brands) in one Italian grocery store, "
        "2014-2018 (series; Mancuso, Piccialli & Sudoso 2021, Mendeley doi:10.17632/njdkntcpc9.1; "
        "CC BY 4.0 unverified)",
        load_pasta,
        (PASTA_FILE,),
    ),
    YAZ: _Spec(
        "Daily demand for 7 ingredients of the YAZ restaurant, 765 days, with calendar and weather "
        "covariates (series; ddop package, BSD-3-Clause)",
        load_yaz,
        (YAZ_FEATURES, YAZ_TARGET),
    ),
    BUSINV: _Spec(
        "US total business inventories, monthly 1992-2019, with human change-point annotations "
        "(series; US Census Bureau via TCPD, public data; cite van den Burg & Williams 2020)",
        load_businv,
        (BUSINV_FILE, BUSINV_ANNOTATIONS),
    ),
    SCMS: _Spec(
        "USAID/PEPFAR SCMS delivery history: 10,324 shipment line items, 33 columns (records; "
        "US government open data, licence unverified)",
        load_scms,
        (SCMS_FILE,),
    ),
    CVRP: _Spec(
        "Augerat CVRP sets A, B, P: 74 instances with optimal solutions (routing instances; CVRPLIB via "
        "PyVRP/VRPLIB MIT and vroom-scripts BSD-2-Clause)",
        load_cvrp,
        ("bks.csv",),
        ("A/*", "B/*", "P/*"),
    ),
    VRPTW: _Spec(
        "Solomon VRPTW: 56 instances of 100 customers with best-known values and the C101 solution "
        "(routing instances; Solomon 1987 via vroom-scripts BSD-2-Clause and PyVRP/VRPLIB MIT)",
        load_solomon,
        ("bks.csv",),
        ("instances/*.txt", "*.sol"),
    ),
    JSSP: _Spec(
        "242 job-shop scheduling instances (abz, dmu, ft, la, orb, swv, ta, yn) with lower bounds and "
        "best-known makespans (scheduling instances; thomasWeise/jsspInstancesAndResults, GPL-3.0)",
        load_jssp,
        (JSSP_DATA, JSSP_BKS),
    ),
    WNUT: _Spec(
        "WNUT-2017 emerging-entity NER: CoNLL BIO, 6 types, train/dev/test (text; Derczynski et al. 2017, "
        "CC BY 4.0)",
        load_wnut17,
        tuple(WNUT_FILES.values()),
    ),
}

DATASETS: dict[str, str] = {name: spec.description for name, spec in _SPECS.items()}
"""Data-set (folder) name → one-line description: what, kind, licence/credit."""


@functools.lru_cache(maxsize=32)
def _parse_cached(name: str, folder: str, stamp: FileStamp) -> Any:
    """Parse once per (data set, resolved folder, file versions); ``stamp`` is only the cache key."""
    del stamp
    return _SPECS[name].parse(Path(folder))


def clear_cache() -> None:
    """Forget every parsed data set (the next :func:`load_dataset` re-reads the files)."""
    _parse_cached.cache_clear()


def load_dataset(name: str, data_dir: str | os.PathLike[str] | None = None) -> Any:
    """Load a real data set by its folder name.

    Parameters
    ----------
    name
        A key of :data:`DATASETS` (the folder name under the data directory).
    data_dir
        The data directory; default ``$SCLM_DATA_DIR``, else ``../shared/data`` beside
        the project root (see :func:`sclm.config.data_dir`).

    Returns
    -------
    SeriesDataset | ShipmentsDataset | InstanceSet | NERDataset
        See the table in this module's docstring.  A fresh copy on every call.

    Raises
    ------
    sclm.schema.UnknownNameError
        ``name`` is not a known data set (the message lists them).
    FileNotFoundError
        The data directory, the data-set folder or one of its files is missing (the
        message names the path and the data set).
    sclm.schema.DataValidationError
        A file is malformed (the message names the file, the line/column and what was
        expected).
    """
    if not isinstance(name, str) or name not in _SPECS:
        raise unknown_name("dataset", name, DATASETS)
    spec = _SPECS[name]
    folder = (config.data_dir(data_dir) / name).resolve()
    stamp = folder_stamp(folder, name, spec.required, spec.globs)
    return fresh(_parse_cached(name, str(folder), stamp))
