"""Decisions bench, routing part: PyVRP (and OR-Tools routing) on CVRPLIB A/B/P and Solomon VRPTW.

Protocol
- CVRP: every Augerat A, B and P instance (``sclm.load_dataset("cvrp_augerat_abp")``, 74, all
  proven optimal), TSPLIB ``nint`` distances (the optima's convention), the fleet fixed to the
  ``k`` of the instance name (the optima use exactly k vehicles; with a free fleet a solver
  finds routes below them).  Gap = ``(distance - optimum) / optimum``; "optimal" = the optimum
  reached.  A feasible k-vehicle solution below the optimum would be a bug: counted, with goal 0.
- VRPTW: the 56 Solomon instances (``"vrptw_solomon"``), double-precision Euclidean distances
  (the best-knowns' convention; the solvers see them times 1000, rounded, with travel times
  rounded up so that every route is feasible in real time), 25 vehicles available,
  objective vehicles first, then distance (``minimise="vehicles_then_distance"``: PyVRP spends
  30 % of the time on a first solution and fleet minimisation, then searches distance on the
  smallest fleet; OR-Tools gets a fixed cost per vehicle above any solution's distance), as the
  best-knowns (``bks_vehmin_*``).  Gap =
  distance gap to the best-known distance; vehicles reported against the best-known vehicles.
  A solution with *more* vehicles than the best-known may have a shorter distance (the
  literature trades one vehicle for distance), so the mean gap is also given over the instances
  where the vehicle count matches.
- Solvers: PyVRP (the goals) and OR-Tools routing (guided local search; the comparison row,
  same instances and time limits), seed ``--routing-seed``; each solve single-threaded, run in
  ``--routing-workers`` processes at once.  Every solution is re-checked by the data loader's
  own ``violations()`` (capacity, every customer once, fleet, time windows, depot horizon).
- Goals (issue 11, PyVRP): CVRP mean gap <= 0.1 %, optimum on >= 90 % of instances, <= 10 s per
  instance; VRPTW mean distance gap <= 1.5 % at <= 30 s per instance.  "Seconds" is the wall
  clock of one solve including building the model; its goal allows the limit plus 1 s.
- Output: figures on the shared bench, one CSV row per (instance, solver) in
  ``build/bench/decisions_routing.csv`` (the bench's ``--out-dir``).
- ``--quick``: 4 CVRP instances at 1 s and 3 Solomon instances at 2 s, both solvers.
- ``--routing-clock cpu``: PyVRP's limits count CPU seconds of its process (OR-Tools has only a
  wall-clock limit): on a shared machine this shows what an idle one would reach in the limit;
  the figures then say "CPU-second limits" and carry no seconds goal.

Time-limited searches depend on the machine's speed and load: two workers on a 2-core machine
shared with other jobs get less search than on an idle one ("mean CPU share" = CPU seconds /
wall seconds per solve says how much less).
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sclm import config, load_dataset
from sclm.benchmarking import Bench

CSV_NAME = "decisions_routing.csv"
SOLVERS = ("pyvrp", "ortools")
QUICK_CVRP = ("A-n32-k5", "B-n31-k5", "P-n16-k8", "P-n55-k15")
QUICK_VRPTW = ("C101", "R101", "RC201")
FAMILIES = ("C1", "C2", "R1", "R2", "RC1", "RC2")
_CACHE: dict[str, Any] = {}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The routing part's options (all prefixed ``--routing-``)."""
    g = parser.add_argument_group("routing")
    g.add_argument(
        "--routing-cvrp-time-limit",
        type=float,
        default=None,
        help="seconds per CVRP instance (default 10; quick 1)",
    )
    g.add_argument(
        "--routing-vrptw-time-limit",
        type=float,
        default=None,
        help="seconds per Solomon instance (default 30; quick 2)",
    )
    g.add_argument("--routing-workers", type=int, default=2, help="instances solved at once (default 2)")
    g.add_argument("--routing-seed", type=int, default=0, help="PyVRP seed (default 0)")
    g.add_argument(
        "--routing-solvers", default=",".join(SOLVERS), help=f"comma-separated subset of {list(SOLVERS)}"
    )
    g.add_argument(
        "--routing-clock",
        choices=("wall", "cpu"),
        default="wall",
        help="PyVRP time limits in wall-clock (default) or CPU seconds; OR-Tools always wall clock",
    )
    g.add_argument(
        "--routing-cvrp-instances",
        default=None,
        help="comma-separated CVRP instances instead of all 74 ('none' to skip CVRP)",
    )
    g.add_argument(
        "--routing-vrptw-instances",
        default=None,
        help="comma-separated Solomon instances instead of all 56 ('none' to skip VRPTW)",
    )


def _dataset(name: str) -> Any:
    if name not in _CACHE:
        _CACHE[name] = load_dataset(name)
    return _CACHE[name]


def _solve_one(task: tuple[str, str, str, float, int, str]) -> dict[str, Any]:
    """Solve one (kind, instance, solver) in a worker process; return its CSV row."""
    from sclm.decisions.routing import solve_cvrp, solve_vrptw

    kind, name, solver, limit, seed, clock = task
    cpu0 = time.process_time()
    if kind == "cvrp":
        inst = _dataset("cvrp_augerat_abp")[name]
        res = solve_cvrp(
            inst.coords,
            inst.demands,
            inst.capacity,
            n_vehicles=inst.n_vehicles,
            rounding="nint",
            time_limit=limit,
            seed=seed,
            solver=solver,
            clock=clock,
        )
        loader = inst.violations(res.routes, max_vehicles=inst.n_vehicles)
        best, best_veh = float(inst.optimum), inst.n_vehicles
        feasible = res.feasible and not loader
        gap = 100 * (res.distance - best) / best if feasible else np.nan
        # The Augerat optima are for exactly k routes.  A solution with fewer routes (allowed by a
        # fleet of k) is not comparable with them: counted apart, left out of the gap figures.
        fewer = feasible and res.n_vehicles < best_veh
        optimal = feasible and not fewer and res.distance == best
        negative = feasible and not fewer and res.distance < best
        extra = {
            "family": inst.family,
            "distmin_bks": np.nan,
            "gap_distmin_pct": np.nan,
            "fewer_routes": fewer,
        }
    else:
        inst = _dataset("vrptw_solomon")[name]
        res = solve_vrptw(
            inst.coords,
            inst.demands,
            inst.capacity,
            np.c_[inst.ready, inst.due],
            inst.service,
            n_vehicles=inst.n_vehicles,
            rounding="exact",
            minimise="vehicles_then_distance",
            time_limit=limit,
            seed=seed,
            solver=solver,
            clock=clock,
        )
        loader = inst.violations(res.routes)
        best, best_veh = float(inst.bks_vehmin_distance), int(inst.bks_vehmin_vehicles)
        feasible = res.feasible and not loader
        gap = 100 * (res.distance - best) / best if feasible else np.nan
        # the best-knowns are rounded to 2 decimals: "reached" within that rounding
        optimal = feasible and res.n_vehicles == best_veh and res.distance <= best + 0.006
        negative = feasible and res.n_vehicles <= best_veh and res.distance < best - 0.006
        dm = float(inst.bks_distmin_distance)
        extra = {
            "family": inst.family,
            "distmin_bks": dm,
            "gap_distmin_pct": 100 * (res.distance - dm) / dm if feasible else np.nan,
            "fewer_routes": False,
        }
    return {
        "kind": kind,
        "instance": name,
        "solver": solver,
        "n_customers": inst.n_customers,
        "capacity": inst.capacity,
        "vehicles_available": res.vehicles_available,
        "best_known": best,
        "best_known_vehicles": best_veh,
        "distance": round(res.distance, 4),
        "vehicles": res.n_vehicles,
        "gap_pct": round(gap, 4) if np.isfinite(gap) else np.nan,
        "reached_best_known": bool(optimal),
        "negative_gap": bool(negative),
        "feasible": bool(feasible),
        "violations": "; ".join([*res.violations, *loader])[:300],
        "seconds": round(res.seconds, 3),
        # CPU seconds this process got (loading the data set included): well below "seconds"
        # when other jobs compete for the cores
        "cpu_seconds": round(time.process_time() - cpu0, 3),
        "time_limit": limit,
        "clock": clock,
        "seed": seed,
        **extra,
    }


def _worker_init() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def _names(arg: str | None, default: tuple[str, ...], allowed: Any, what: str) -> list[str]:
    if arg is None:
        return list(default)
    if arg.strip().lower() == "none":
        return []
    names = [n.strip() for n in arg.split(",") if n.strip()]
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise SystemExit(f"--routing-{what}-instances: unknown instance(s) {unknown}")
    return names


def _record(bench: Bench, t: pd.DataFrame, kind: str, solver: str, limit: float) -> None:
    """Figures of one (problem kind, solver) block of the table."""
    goals = solver == "pyvrp"
    n = len(t)
    feas = t[t["feasible"]]
    label = "CVRP A/B/P" if kind == "cvrp" else "VRPTW Solomon"
    clock = str(t["clock"].iloc[0])
    pre = f"routing: {label} {solver}" + (" (CPU-second limits)" if clock == "cpu" else "")
    note = f"{n} instances, {limit:g} {'CPU ' if clock == 'cpu' else ''}s each"
    if kind == "cvrp":
        fewer = feas[feas["fewer_routes"].astype(bool)]
        bench.add(
            f"{pre} fewer routes than k (count)",
            len(fewer),
            note="the optimum is for exactly k routes; these are left out of the gap figures: "
            + ", ".join(
                f"{r.instance} {r.vehicles}/{r.best_known_vehicles} routes {r.distance:g}"
                for r in fewer.itertuples()
            ),
        )
        feas = feas[~feas["fewer_routes"].astype(bool)]
        bench.add(
            f"{pre} mean gap to the optimum (%)",
            round(float(feas["gap_pct"].mean()), 4) if len(feas) else None,
            "<= 0.1" if goals else None,
            note=note + ("" if len(feas) == n else f"; over the {len(feas)} feasible"),
        )
        bench.add(
            f"{pre} share optimal",
            round(float(t["reached_best_known"].mean()), 4),
            ">= 0.9" if goals else None,
            note=f"{int(t['reached_best_known'].sum())} of {n}",
        )
        bench.add(f"{pre} max gap (%)", round(float(feas["gap_pct"].max()), 4) if len(feas) else None)
    else:
        bench.add(
            f"{pre} mean distance gap to the best-known (%)",
            round(float(feas["gap_pct"].mean()), 4) if len(feas) else None,
            "<= 1.5" if goals else None,
            note=note
            + " (vehicles first, then distance)"
            + ("" if len(feas) == n else f"; {len(feas)} feasible"),
        )
        same = feas[feas["vehicles"] == feas["best_known_vehicles"]]
        bench.add(
            f"{pre} mean distance gap where vehicles = best-known (%)",
            round(float(same["gap_pct"].mean()), 4) if len(same) else None,
            note=f"{len(same)} instances",
        )
        bench.add(
            f"{pre} max distance gap (%)", round(float(feas["gap_pct"].max()), 4) if len(feas) else None
        )
        bench.add(f"{pre} mean vehicles", round(float(t["vehicles"].mean()), 3))
        bench.add(f"{pre} mean best-known vehicles", round(float(t["best_known_vehicles"].mean()), 3))
        bench.add(
            f"{pre} share with the best-known vehicle count",
            round(float((feas["vehicles"] == feas["best_known_vehicles"]).sum() / n), 4),
        )
        bench.add(
            f"{pre} instances with more vehicles than the best-known",
            int((feas["vehicles"] > feas["best_known_vehicles"]).sum()),
        )
        bench.add(f"{pre} best-known reached (of {n})", int(t["reached_best_known"].sum()))
        if goals:
            fam = feas.groupby("family")["gap_pct"].mean()
            for f in FAMILIES:
                if f in fam.index:
                    bench.add(f"{pre} {f} mean distance gap (%)", round(float(fam[f]), 4))
    bench.add(
        f"{pre} negative gaps (count)",
        int(t["negative_gap"].sum()),
        "== 0",
        note="feasible, no more vehicles than the reference, yet below it: a bug",
    )
    bench.add(f"{pre} infeasible (count)", int((~t["feasible"]).sum()), "== 0" if goals else None)
    bench.add(
        f"{pre} max seconds",
        round(float(t["seconds"].max()), 3),
        f"<= {limit + 1:g}" if clock == "wall" else None,
        note=f"time limit {limit:g} {clock} s; wall clock incl. model building",
    )
    bench.add(f"{pre} mean seconds", round(float(t["seconds"].mean()), 3))
    bench.add(
        f"{pre} mean CPU share",
        round(float((t["cpu_seconds"] / t["seconds"]).mean()), 3),
        note="CPU seconds / wall seconds per solve; < 1 when the machine is shared",
    )


def run(bench: Bench, args: argparse.Namespace) -> None:
    """Solve the instances with both solvers, record the figures and write the CSV."""
    if not config.has_data():
        print(f"[routing] skipped: no data folder ({config.data_dir(must_exist=False)})", flush=True)
        bench.add("routing: skipped (no data folder)", None)
        return
    solvers = [s.strip() for s in args.routing_solvers.split(",") if s.strip()]
    bad = [s for s in solvers if s not in SOLVERS]
    if bad:
        raise SystemExit(f"--routing-solvers: unknown solver(s) {bad}; choose from {list(SOLVERS)}")
    if args.routing_workers < 1:
        raise SystemExit(f"--routing-workers={args.routing_workers}; expected >= 1")
    cv, vs = load_dataset("cvrp_augerat_abp"), load_dataset("vrptw_solomon")
    cv_names = _names(args.routing_cvrp_instances, QUICK_CVRP if args.quick else tuple(cv), cv, "cvrp")
    vs_names = _names(args.routing_vrptw_instances, QUICK_VRPTW if args.quick else tuple(vs), vs, "vrptw")
    cv_limit = args.routing_cvrp_time_limit or (1.0 if args.quick else 10.0)
    vs_limit = args.routing_vrptw_time_limit or (2.0 if args.quick else 30.0)
    clock = {s: args.routing_clock if s == "pyvrp" else "wall" for s in solvers}
    tasks = [("cvrp", n, s, cv_limit, args.routing_seed, clock[s]) for s in solvers for n in cv_names]
    tasks += [("vrptw", n, s, vs_limit, args.routing_seed, clock[s]) for s in solvers for n in vs_names]
    total = sum(t[3] for t in tasks) / args.routing_workers
    print(
        f"[routing] {len(tasks)} solves ({len(cv_names)} CVRP, {len(vs_names)} VRPTW x {solvers}) on "
        f"{args.routing_workers} worker(s): about {total / 60:.1f} min",
        flush=True,
    )
    rows = []
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.routing_workers, initializer=_worker_init) as pool:
        for row in pool.map(_solve_one, tasks):
            rows.append(row)
            gap = "infeasible" if not row["feasible"] else f"{row['gap_pct']:+.2f} %"
            print(
                f"[routing] {row['kind']:>5} {row['instance']:>10} {row['solver']:>7}: {row['distance']:.2f} "
                f"({gap} vs {row['best_known']:g}), {row['vehicles']}/{row['best_known_vehicles']} vehicles, "
                f"{row['seconds']:.1f} s",
                flush=True,
            )
    table = pd.DataFrame(rows)
    out = Path(bench.out_dir) / CSV_NAME
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out, index=False)
    print(f"[routing] {len(table)} rows -> {out} ({time.perf_counter() - t0:.0f} s)", flush=True)
    for kind, limit in (("cvrp", cv_limit), ("vrptw", vs_limit)):
        for solver in solvers:
            t = table[(table["kind"] == kind) & (table["solver"] == solver)] if len(table) else table
            if len(t):
                _record(bench, t, kind, solver, limit)
