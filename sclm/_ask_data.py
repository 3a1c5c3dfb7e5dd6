"""The scenario and its fused panel for :func:`sclm.ask`, simulated once and kept beside the models.

Simulating a scenario and cleaning and fusing its readings is deterministic, but the first time
in a process it also imports SciPy's signal module and the cleaning stack, which is most of a
cached forecast question's time.  So the tables a question needs are written once under
``build/ask/<scenario>-seed<seed>/data-<key>/`` as CSV (floats with 17 significant digits, an
exact round trip) plus JSON:

* ``truth.csv``, ``panel.csv`` — the clean panel and the panel M reads (fused or truth);
* ``nodes.csv``, ``drivers.csv``, ``meta.json`` — the scenario's node table, true drivers, meta;
* ``data.json`` — the SHA-256 of the panel and of the sources that produced it (the scenario
  simulators, cleaning, fusion and scoring modules).

On load the source digest is compared with the current sources and the panel's hash with the
stored one: any difference simulates again and rewrites the folder.  The scenario rebuilt from
the folder has the truth, nodes, drivers, units and meta of the original; its raw ``readings``,
``faults`` and ``documents`` are empty (the panel already holds what the readings gave).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from sclm import config

if TYPE_CHECKING:
    from sclm._ask_forecast import ForecastSetup
    from sclm.scenarios import Scenario

__all__ = ["load_or_build", "panel_hash"]

# the modules (a module ``x.py`` or a package ``x/``) whose code the cached panel depends on
_SOURCES = ("scenarios", "cleaning", "fusion", "scoring", "schema", "estimator", "_labels")


def panel_hash(panel: pd.DataFrame) -> str:
    """SHA-256 of a panel's column names, index and values."""
    h = hashlib.sha256()
    h.update(",".join(map(str, panel.columns)).encode())
    h.update(pd.util.hash_pandas_object(panel, index=True).to_numpy().tobytes())
    return h.hexdigest()


def _sources_digest() -> str:
    h = hashlib.sha256()
    for name in _SOURCES:
        p = config.PACKAGE_DIR / name
        files = sorted(p.rglob("*.py")) if p.is_dir() else [q for q in [p.with_suffix(".py")] if q.is_file()]
        for f in files:
            h.update(f.relative_to(config.PACKAGE_DIR).as_posix().encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def _key(setup: ForecastSetup) -> str:
    blob = json.dumps(
        {"scenario_options": setup.scenario_options, "panel": setup.panel}, sort_keys=True, default=str
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:8]


def _build_panel(scenario: Scenario, setup: ForecastSetup) -> pd.DataFrame:
    if setup.panel == "truth":
        return scenario.truth
    from sclm import clean, fuse
    from sclm.scoring import imputed_keys

    cleaned, audit = clean(scenario.readings, units=scenario.units)
    return fuse(cleaned, "inverse_variance", imputed=imputed_keys(audit))


def _write_panel(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, float_format="%.17g")


def _read_panel(path: Path) -> pd.DataFrame:
    f = pd.read_csv(path, parse_dates=["ts"], float_precision="round_trip").set_index(["node", "ts"])
    return f.astype("float64")


def _save(folder: Path, scenario: Scenario, panel: pd.DataFrame, sources: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    _write_panel(scenario.truth, folder / "truth.csv")
    _write_panel(panel, folder / "panel.csv")
    scenario.nodes.to_csv(folder / "nodes.csv", index=False, float_format="%.17g")
    scenario.drivers.to_csv(folder / "drivers.csv", index=False, float_format="%.17g")
    scenario.units.to_csv(folder / "units.csv", index=False, float_format="%.17g")
    # no sort_keys: the order of meta's mappings is the order of the task's channels
    (folder / "meta.json").write_text(json.dumps(scenario.meta, default=str) + "\n", encoding="utf-8")
    info = {
        "name": scenario.name,
        "sources_sha256": sources,
        "panel_sha256": panel_hash(panel),
        "truth_sha256": panel_hash(scenario.truth),
        "panel_columns": list(panel.columns),
        "truth_columns": list(scenario.truth.columns),
        "dtypes": {
            t: {c: str(d) for c, d in getattr(scenario, t).dtypes.items()}
            for t in ("nodes", "drivers", "units")
        },
    }
    (folder / "data.json").write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")


def _load(folder: Path, sources: str) -> tuple[Scenario, pd.DataFrame] | None:
    from sclm.scenarios import Scenario

    meta_file = folder / "data.json"
    if not meta_file.is_file():
        return None
    info = json.loads(meta_file.read_text(encoding="utf-8"))
    if info.get("sources_sha256") != sources:
        return None
    panel = _read_panel(folder / "panel.csv")[info["panel_columns"]]
    truth = _read_panel(folder / "truth.csv")[info["truth_columns"]]
    if panel_hash(panel) != info["panel_sha256"] or panel_hash(truth) != info["truth_sha256"]:
        return None
    tables = {}
    for t in ("nodes", "drivers", "units"):
        dtypes = info["dtypes"][t]
        f = pd.read_csv(
            folder / f"{t}.csv", keep_default_na=False, na_values=[""], float_precision="round_trip"
        )
        for c, d in dtypes.items():
            f[c] = f[c].fillna("") if d == "object" else f[c].astype(d)
        tables[t] = f[list(dtypes)]
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    empty = pd.DataFrame()
    sc = Scenario(
        name=info["name"],
        readings=empty,
        truth=truth,
        faults=empty,
        drivers=tables["drivers"],
        documents=empty,
        nodes=tables["nodes"],
        units=tables["units"],
        meta=meta,
    )
    return sc, panel


def load_or_build(
    scenario_name: str, seed: int, setup: ForecastSetup, root: Path, *, use_cache: bool = True
) -> tuple[Scenario, pd.DataFrame, str]:
    """The scenario and its panel, from the folder or simulated now (and written).

    Returns
    -------
    scenario, panel, source
        ``source`` is ``"disk"`` or ``"simulated"``.
    """
    from sclm.scenarios import make_scenario

    folder = root / f"{scenario_name}-seed{seed}" / f"data-{_key(setup)}"
    sources = _sources_digest()
    got = _load(folder, sources) if use_cache else None
    if got is not None:
        return got[0], got[1], "disk"
    scenario = make_scenario(scenario_name, seed=seed, **setup.scenario_options)
    panel = _build_panel(scenario, setup)
    _save(folder, scenario, panel, sources)
    return scenario, panel, "simulated"
