"""The bench contract shared by every script in ``bench/``.

Each benchmark prints a table of (figure, value, goal, holds) and writes
``build/bench/<name>.json`` = ``{figure: {"value": v, "goal": g, "holds": bool | None}}``.
A goal is a string such as ``"<= 0.25"`` or ``">= 0.95"`` (or ``None`` for figures
reported without a goal, e.g. timings used as context).
"""

from __future__ import annotations

import operator
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sclm import config
from sclm.reporting import dump_json

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
    "==": operator.eq,
}


def check_goal(value: float | None, goal: str | None) -> bool | None:
    """Whether ``value`` meets ``goal`` (``"<= 0.25"``); ``None`` when there is no goal or value."""
    if goal is None or value is None:
        return None
    for sym in ("<=", ">=", "==", "<", ">"):
        if goal.strip().startswith(sym):
            return bool(_OPS[sym](float(value), float(goal.strip()[len(sym) :])))
    raise ValueError(f"goal {goal!r} must start with one of {list(_OPS)} followed by a number")


class Bench:
    """Collect figures for one benchmark, print the table and write the JSON.

    Parameters
    ----------
    name
        Benchmark name; the JSON goes to ``build/bench/<name>.json``.
    out_dir
        Override the output folder (tests).
    """

    def __init__(self, name: str, out_dir: str | Path | None = None) -> None:
        self.name = name
        self.out_dir = Path(out_dir) if out_dir else config.BUILD_DIR / "bench"
        self.figures: dict[str, dict[str, Any]] = {}

    def add(self, figure: str, value: float | None, goal: str | None = None, note: str = "") -> bool | None:
        """Record a figure; returns whether it holds its goal."""
        holds = check_goal(value, goal)
        self.figures[figure] = {
            "value": value,
            "goal": goal,
            "holds": holds,
            **({"note": note} if note else {}),
        }
        return holds

    @contextmanager
    def timer(self, figure: str, goal: str | None = None, note: str = "") -> Iterator[None]:
        """Time the block (wall-clock seconds) and record it as ``figure``."""
        t0 = time.perf_counter()
        yield
        self.add(figure, round(time.perf_counter() - t0, 4), goal, note)

    def table(self) -> str:
        """The figures as an aligned text table."""
        rows = [("figure", "value", "goal", "holds")]
        for fig, rec in self.figures.items():
            v = rec["value"]
            shown = f"{v:.4g}" if isinstance(v, float) else str(v)
            holds = {True: "yes", False: "NO", None: "-"}[rec["holds"]]
            rows.append((fig, shown, rec["goal"] or "-", holds))
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows)

    def finish(self) -> Path:
        """Print the table and write the JSON; return its path."""
        print(f"# {self.name}")
        print(self.table())
        return dump_json(self.figures, self.out_dir / f"{self.name}.json")
