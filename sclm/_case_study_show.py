"""How the case-study sections show their tables and text: in the running IPython kernel, else printed.

IPython belongs to the notebook's kernel, not to the package's dependencies: it is looked up in
``sys.modules`` (the kernel has imported it), never imported here.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["_md", "_show"]


def _show(*objs: Any) -> None:
    """``IPython.display.display(*objs)`` in a kernel, else ``print``."""
    ipd = sys.modules.get("IPython.display")
    if ipd is None:
        print(*objs)
    else:
        ipd.display(*objs)


def _md(text: str) -> None:
    """``text`` displayed as Markdown in a kernel, else printed."""
    ipd = sys.modules.get("IPython.display")
    if ipd is None:
        print(text)
    else:
        ipd.display(ipd.Markdown(text))
