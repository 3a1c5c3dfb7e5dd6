"""Reproducibility: one seed for everything, and a provenance record.

``seed_everything`` seeds Python, NumPy and torch and switches torch to
deterministic algorithms.  ``provenance`` returns what a reader needs to
reproduce a result: package versions, parameters, and sha256 digests of the
input files and of the package sources — no timestamps, no host names, no
absolute paths, so that it is identical on every run with the same inputs.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import platform
import random
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from sclm import config

TRACKED_PACKAGES: tuple[str, ...] = (
    "sclm",
    "numpy",
    "pandas",
    "pandera",
    "scipy",
    "matplotlib",
    "torch",
    "transformers",
    "captum",
    "shap",
    "statsforecast",
    "lightgbm",
    "ortools",
    "stockpyl",
    "papermill",
    "nbconvert",
)


def seed_everything(seed: int, *, deterministic: bool = True) -> int:
    """Seed ``random``, NumPy and torch (CPU and CUDA) and make torch deterministic.

    Parameters
    ----------
    seed
        A non-negative integer below 2**32.
    deterministic
        Switch torch to deterministic algorithms (``torch.use_deterministic_algorithms``),
        disable cuDNN benchmarking, and set ``CUBLAS_WORKSPACE_CONFIG`` if unset.

    Returns
    -------
    int
        The seed, for chaining and logging.
    """
    if not isinstance(seed, int | np.integer) or isinstance(seed, bool) or not 0 <= int(seed) < 2**32:
        raise ValueError(f"seed must be an integer in [0, 2**32), got {seed!r}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - third-party code draws from the legacy global RNG
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a core dependency
        return seed
    torch.manual_seed(seed)
    if torch.cuda.is_available():  # pragma: no cover - no GPU in CI
        torch.cuda.manual_seed_all(seed)
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=False)
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    return seed


def sha256_file(path: str | os.PathLike[str], *, chunk: int = 1 << 20) -> str:
    """sha256 hex digest of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def sources_digest(package_dir: Path | None = None) -> dict[str, str]:
    """sha256 of every ``.py`` file of the package, keyed by path relative to the project root."""
    package_dir = package_dir or config.PACKAGE_DIR
    root = package_dir.parent
    return {
        p.relative_to(root).as_posix(): sha256_file(p)
        for p in sorted(package_dir.rglob("*.py"))
        if "__pycache__" not in p.parts
    }


def combined_digest(digests: Mapping[str, str]) -> str:
    """One sha256 over a mapping of name → digest (order-independent)."""
    h = hashlib.sha256()
    for name in sorted(digests):
        h.update(f"{name}\0{digests[name]}\n".encode())
    return h.hexdigest()


def _package_versions(names: Iterable[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in names:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


def relative_name(path: str | os.PathLike[str]) -> str:
    """A machine-independent name for ``path``: relative to the project root, to the
    data folder (as ``$SCLM_DATA_DIR/...``), or else just the file name."""
    p = Path(path).resolve()
    for base, prefix in (
        (config.PROJECT_ROOT, ""),
        (config.data_dir(must_exist=False).resolve(), "$SCLM_DATA_DIR/"),
    ):
        try:
            return prefix + p.relative_to(base).as_posix()
        except ValueError:
            continue
    return p.name


def provenance(
    params: Mapping[str, Any] | None = None,
    inputs: Iterable[str | os.PathLike[str]] = (),
    *,
    packages: Iterable[str] = TRACKED_PACKAGES,
) -> dict[str, Any]:
    """A reproducibility record without timestamps, host names or absolute paths.

    Parameters
    ----------
    params
        The parameters of the run (JSON-serialisable values).
    inputs
        Files the run read (data files, parameter files); each is hashed.
    packages
        Distribution names whose installed versions are recorded.

    Returns
    -------
    dict
        ``{"python", "packages", "params", "inputs", "sources", "sources_sha256"}``, where
        ``inputs`` maps each file's machine-independent name to its sha256 and
        ``sources`` maps each package source file to its sha256.
    """
    src = sources_digest()
    return {
        "python": platform.python_version(),
        "packages": _package_versions(packages),
        "params": dict(sorted((params or {}).items())),
        "inputs": {relative_name(p): sha256_file(p) for p in sorted(map(os.fspath, inputs))},
        "sources": src,
        "sources_sha256": combined_digest(src),
    }
