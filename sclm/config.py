"""Project paths, all derived from the project root.

Every path the package, the notebooks and the Makefile use comes from here, so a
checkout can live anywhere.  The real-data folder is taken from the environment
variable ``SCLM_DATA_DIR`` and otherwise defaults to ``../shared/data``, a path
relative to the project root (the folder ``shared/data`` beside the checkout),
where that folder exists.  See ``docs/architecture.md`` (Real data).
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR: Path = Path(__file__).resolve().parent
"""The ``sclm`` package folder."""

PROJECT_ROOT: Path = PACKAGE_DIR.parent
"""The project root (the folder holding ``pyproject.toml``)."""

NOTEBOOKS_DIR: Path = PROJECT_ROOT / "notebooks"
PARAMS_DIR: Path = PROJECT_ROOT / "params"
REPORTS_DIR: Path = PROJECT_ROOT / "reports"
BUILD_DIR: Path = PROJECT_ROOT / "build"
BENCH_DIR: Path = PROJECT_ROOT / "bench"

DATA_ENV_VAR = "SCLM_DATA_DIR"
DEFAULT_DATA_DIR: Path = PROJECT_ROOT.parent / "shared" / "data"

CASES: dict[str, str] = {
    "manufacturing": "4.1-manufacturing",
    "logistics": "4.2-logistics",
    "retail": "4.3-retail",
}
"""Case study name → notebook stem (without ``.ipynb``) under ``notebooks/``."""


def data_dir(path: str | os.PathLike[str] | None = None, *, must_exist: bool = True) -> Path:
    """Return the folder holding the real data sets.

    Parameters
    ----------
    path
        An explicit folder; wins over the environment.
    must_exist
        Raise when the folder is missing (default).  With ``False`` the path
        is returned as is, so callers can test ``.is_dir()`` themselves.

    Returns
    -------
    Path
        ``path`` if given, else ``$SCLM_DATA_DIR`` if set, else ``../shared/data``
        beside the project root.

    Raises
    ------
    FileNotFoundError
        When ``must_exist`` and the folder does not exist; the message names the
        folder and where its path came from.
    """
    if path is not None:
        chosen, origin = Path(path), "the data_dir argument"
    elif os.environ.get(DATA_ENV_VAR):
        chosen, origin = Path(os.environ[DATA_ENV_VAR]), f"${DATA_ENV_VAR}"
    else:
        chosen, origin = DEFAULT_DATA_DIR, f"the default (../shared/data; set ${DATA_ENV_VAR} to override)"
    chosen = chosen.expanduser()
    if must_exist and not chosen.is_dir():
        raise FileNotFoundError(
            f"data directory {str(chosen)!r} from {origin} does not exist or is not a folder; "
            f"expected a folder holding the data set folders (e.g. retail_pasta_hierarchical_sales/)"
        )
    return chosen


def has_data(path: str | os.PathLike[str] | None = None) -> bool:
    """True when the real-data folder exists (used by tests to skip with a reason)."""
    return data_dir(path, must_exist=False).is_dir()


def notebook_path(case: str) -> Path:
    """Path of the case-study notebook template for ``case``."""
    if case not in CASES:
        raise KeyError(f"unknown case {case!r}; expected one of {sorted(CASES)}")
    return NOTEBOOKS_DIR / f"{CASES[case]}.ipynb"
