"""sclm — transformer/LLM-based supply-chain analytics.

The curated public API; everything else lives in its stage module
(``sclm.scenarios``, ``sclm.datasets``, ``sclm.schema``, ``sclm.reporting``, ...).
"""

from typing import TYPE_CHECKING

from sclm import config, repro
from sclm.repro import provenance, seed_everything

if TYPE_CHECKING:  # the lazy names below, for type checkers and IDEs
    from sclm import schema
    from sclm.assistant import Answer, ask
    from sclm.cleaning import clean
    from sclm.datasets import DATASETS, load_dataset
    from sclm.fusion import fuse
    from sclm.scenarios import SCENARIOS, Scenario, make_scenario
    from sclm.schema import DataValidationError, UnknownNameError, validate_panel, validate_readings

__version__ = "0.1.0"

# Public names loaded on first use, so that ``import sclm`` stays light (no torch, no pandera,
# no scikit-learn/scipy.stats): a network question in a fresh process (``sclm ask``) pays only
# for what it uses.  name -> (module, attribute; None = the module itself).
_LAZY: dict[str, tuple[str, str | None]] = {
    "clean": ("sclm.cleaning", "clean"),
    "fuse": ("sclm.fusion", "fuse"),
    "DATASETS": ("sclm.datasets", "DATASETS"),
    "load_dataset": ("sclm.datasets", "load_dataset"),
    "SCENARIOS": ("sclm.scenarios", "SCENARIOS"),
    "Scenario": ("sclm.scenarios", "Scenario"),
    "make_scenario": ("sclm.scenarios", "make_scenario"),
    "schema": ("sclm.schema", None),
    "DataValidationError": ("sclm.schema", "DataValidationError"),
    "UnknownNameError": ("sclm.schema", "UnknownNameError"),
    "validate_panel": ("sclm.schema", "validate_panel"),
    "validate_readings": ("sclm.schema", "validate_readings"),
    "explain": ("sclm.explain", None),
    "ask": ("sclm.assistant", "ask"),
    "Answer": ("sclm.assistant", "Answer"),
}
# Subpackages reachable as attributes after a bare ``import sclm`` (``sclm.cleaning.clean``).
_SUBMODULES = frozenset(
    "cleaning fusion datasets scenarios decisions language models monitor pipeline windows metrics "
    "baselines training reporting case_study robustness documents io assistant".split()
)

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
    """The lazy public names of :data:`_LAZY` and the subpackages, imported on first use."""
    import importlib

    if name in _LAZY:
        module, attr = _LAZY[name]
        mod = importlib.import_module(module)
        value = mod if attr is None else getattr(mod, attr)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"sclm.{name}")
    raise AttributeError(f"module 'sclm' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
