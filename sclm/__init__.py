"""sclm — transformer/LLM-based supply-chain analytics.

The curated public API; everything else lives in its stage module
(``sclm.scenarios``, ``sclm.datasets``, ``sclm.schema``, ``sclm.reporting``, ...).
"""

from sclm import config, repro, schema
from sclm.cleaning import clean
from sclm.datasets import DATASETS, load_dataset
from sclm.fusion import fuse
from sclm.repro import provenance, seed_everything
from sclm.scenarios import SCENARIOS, Scenario, make_scenario
from sclm.schema import DataValidationError, UnknownNameError, validate_panel, validate_readings

__version__ = "0.1.0"

__all__ = [
    "DATASETS",
    "Answer",
    "SCENARIOS",
    "DataValidationError",
    "Scenario",
    "UnknownNameError",
    "__version__",
    "ask",
    "clean",
    "config",
    "explain",
    "fuse",
    "load_dataset",
    "make_scenario",
    "provenance",
    "repro",
    "schema",
    "seed_everything",
    "validate_panel",
    "validate_readings",
]


def __getattr__(name: str):
    """Public names that import torch, loaded on first use (``import sclm`` stays torch-free)."""
    if name == "explain":
        import importlib

        return importlib.import_module("sclm.explain")
    if name in ("ask", "Answer"):
        from sclm import assistant

        return getattr(assistant, name)
    raise AttributeError(f"module 'sclm' has no attribute {name!r}")
