"""Natural-language instructions and narratives.

==========================  ==================================================================
:mod:`~.instructions`       ``parse_instruction(text, network=None) -> Task`` (offline, zh/en),
                            ``Task``, ``InstructionError``, ``UnknownEntityError``,
                            ``network_edits``
:mod:`~.narrative`          ``recommend``, ``check_numbers``: written recommendations whose
                            every number comes from a result
:mod:`~.llm`                ``propose_task``: an optional LLM adapter whose Task is validated
==========================  ==================================================================

The narrative and LLM names are imported on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from sclm.language.instructions import (
    ACTIONS,
    DEFAULT_MAX_HORIZON,
    SCENARIOS,
    WHAT_IF_VARIABLES,
    InstructionError,
    Task,
    UnknownEntityError,
    network_edits,
    parse_instruction,
)

_LAZY: dict[str, str] = {"recommend": "narrative", "check_numbers": "narrative", "propose_task": "llm"}

__all__ = [
    "ACTIONS",
    "DEFAULT_MAX_HORIZON",
    "SCENARIOS",
    "WHAT_IF_VARIABLES",
    "InstructionError",
    "Task",
    "UnknownEntityError",
    "check_numbers",
    "network_edits",
    "parse_instruction",
    "propose_task",
    "recommend",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = importlib.import_module(f"sclm.language.{_LAZY[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'sclm.language' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
