"""Decisions bench: routes, schedules and replenishment policies against published optima and baselines.

Parts (each in ``bench/_decisions/<part>.py`` with ``add_arguments(parser)`` and
``run(bench, args)``, recording its figures on the shared :class:`sclm.benchmarking.Bench`):

``network``
    Supply-network plans: the coffee network's known optimum, the europe network against an
    independent solver, plan / what-if / why timings.

``routing``
    PyVRP on every Augerat A/B/P CVRP instance (fleet fixed to the k of the name; gap to the
    proven optimum, share of optima reached, seconds) and on the 56 Solomon VRPTW instances
    (distance gap to the best-known, vehicles), with OR-Tools routing on the same instances and
    time limits.
``scheduling``
    CP-SAT on ft06, ft10 (proven optimal?) and la01–la20 (gap to the best bound, seconds).
``inventory``
    Replenishment policies driven by M's quantiles against Seasonal Naive and LightGBM quantiles,
    simulated on the retail and manufacturing scenarios' truth.

Usage::

    .venv/bin/python bench/decisions.py                 # every part, full limits
    .venv/bin/python bench/decisions.py --parts routing,scheduling --quick
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sclm.benchmarking import Bench

PARTS = ("network", "routing", "scheduling", "inventory")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated subset of {PARTS}")
    parser.add_argument("--quick", action="store_true", help="a few instances and short limits")
    parser.add_argument("--out-dir", default=None, help="folder for decisions.json (default build/bench)")
    modules = {p: importlib.import_module(f"_decisions.{p}") for p in PARTS}
    for m in modules.values():
        m.add_arguments(parser)
    args = parser.parse_args(argv)
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        parser.error(f"unknown part(s) {unknown}; choose from {list(PARTS)}")
    bench = Bench("decisions", out_dir=args.out_dir)
    for p in parts:
        t0 = time.perf_counter()
        modules[p].run(bench, args)
        print(f"[{p}] {time.perf_counter() - t0:.1f} s", flush=True)
    bench.finish()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
