"""Job-shop scheduling with OR-Tools CP-SAT: minimise the makespan; Gantt chart; an independent checker.

Every job is a sequence of operations ``(machine, duration)`` done in that (technological)
order; a machine runs one operation at a time and never interrupts it.  The model is the
standard one:

* one interval variable ``[start, start + duration)`` per operation;
* ``NoOverlap`` of the intervals of each machine;
* ``start[j, k + 1] >= end[j, k]`` within each job;
* ``makespan >= end`` of each job's last operation; minimise ``makespan``.

Before CP-SAT runs, a Giffler–Thompson active schedule with the most-work-remaining rule gives
a feasible schedule: its makespan bounds every start-time domain (the horizon) and its start
times are the solver's hint, so CP-SAT starts from a good solution.  If CP-SAT finds no
solution within the time limit, that schedule is returned (status ``"feasible"``).  The
solver's schedule is left-shifted (:func:`left_shift`: same machine sequences, every operation
as early as it can go) before it is returned, so it never holds idle time for no reason.

Search: with ``workers >= 2`` and no ``params`` of yours, the full-problem workers are
``default_lp`` and ``max_lp`` (the second solves the full linear relaxation with cuts, which
raises the bound fast).  Measured on ft10 with 2 workers on a shared 2-core machine (load 2–7):
proven optimal in 25–63 s over seeds 0–2 this way, while CP-SAT's own 2-worker default (one
full worker plus large-neighbourhood search) on the same model left the bound at 819–858
after 120 s for each of those seeds.  With 8 or more workers CP-SAT's own portfolio is kept.

Determinism: the model is built the same way every time and CP-SAT gets a fixed
``num_workers`` and ``random_seed``.  A single worker follows the same search every run (it
stops elsewhere only when the wall-clock limit cuts it short).  Several workers run in
parallel threads, so under a time limit they may exchange different intermediate solutions and
bounds from one run to the next (and under CPU contention): the makespan of a proven optimum
is the same every run, but the schedule itself, an unproven makespan, the bound and the time
may differ.
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sclm.datasets.scheduling import JobShopInstance

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "FRAME_COLUMNS",
    "Schedule",
    "check_schedule",
    "greedy_schedule",
    "left_shift",
    "normalise_jobs",
    "plot_gantt",
    "solve_jobshop",
]

Jobs = tuple[tuple[tuple[Hashable, int], ...], ...]
FRAME_COLUMNS = ("job", "op", "machine", "start", "end", "duration")
_STATUS = {"OPTIMAL": "optimal", "FEASIBLE": "feasible", "INFEASIBLE": "infeasible", "UNKNOWN": "unknown"}


@dataclass(frozen=True, eq=False)
class Schedule:
    """A job-shop schedule and what the solver proved about it.

    Attributes
    ----------
    name
        Instance name (``"ft06"``), or ``"jobs"`` for a plain list of jobs.
    makespan
        End of the last operation (time units of the durations); ``None`` when there is no
        schedule (status ``"infeasible"``).
    bound
        Best lower bound on the optimal makespan known at the end: CP-SAT's bound, at least
        the trivial bound max(largest machine load, longest job).
    status
        ``"optimal"`` (proven), ``"feasible"`` (a schedule, not proven optimal) or
        ``"infeasible"`` (CP-SAT proved there is none: cannot happen for a job shop with
        finite durations, kept for completeness).
    optimal
        ``status == "optimal"``.
    gap
        ``(makespan - bound) / bound`` (0 when proven; NaN without a schedule or with bound 0).
    seconds
        Wall-clock seconds of the whole call (greedy start, model building, CP-SAT).
    frame
        One row per operation (rows = Σ operations): :data:`FRAME_COLUMNS` = ``job`` (0-based),
        ``op`` (0-based position in the job), ``machine`` (as given), ``start``, ``end``,
        ``duration`` (int64), sorted by job and op.
    jobs
        The jobs as solved: ``jobs[j][k] = (machine, duration)``.
    meta
        Solver settings and statistics: workers, seed, time limit, greedy makespan, CP-SAT
        status, branches, conflicts, ``source`` (``"cp-sat"`` or ``"greedy"``), ...
    """

    name: str
    makespan: int | None
    bound: int
    status: str
    optimal: bool
    gap: float
    seconds: float
    frame: pd.DataFrame
    jobs: Jobs
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def n_jobs(self) -> int:
        """Number of jobs."""
        return len(self.jobs)

    @property
    def machines(self) -> list[Hashable]:
        """Machine labels, in the order of :func:`normalise_jobs` (sorted when sortable)."""
        return list(self.meta["machines"])

    def starts(self) -> np.ndarray:
        """Start times, shape (n_jobs, max operations per job), -1 where a job has fewer operations."""
        width = max(len(j) for j in self.jobs)
        out = np.full((self.n_jobs, width), -1, dtype=np.int64)
        out[self.frame["job"].to_numpy(), self.frame["op"].to_numpy()] = self.frame["start"].to_numpy()
        return out

    def check(self) -> list[str]:
        """Problems of this schedule (empty when feasible): see :func:`check_schedule`."""
        return check_schedule(self.jobs, self.frame)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable summary plus one record per operation."""
        frame = self.frame.copy()
        frame["machine"] = [_py(m) for m in frame["machine"]]
        return {
            "name": self.name,
            "makespan": self.makespan,
            "bound": self.bound,
            "status": self.status,
            "optimal": self.optimal,
            "gap": None if not np.isfinite(self.gap) else float(self.gap),
            "seconds": float(self.seconds),
            "n_jobs": self.n_jobs,
            "n_machines": len(self.machines),
            "operations": [{k: _py(v) for k, v in r.items()} for r in frame.to_dict("records")],
            "meta": {k: _py(v) for k, v in self.meta.items()},
        }


def _py(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, dict):
        return {str(k): _py(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_py(x) for x in v]
    return v


# --------------------------------------------------------------------------- inputs


def normalise_jobs(
    instance_or_jobs: JobShopInstance | Sequence[Sequence[tuple[Hashable, int]]],
) -> tuple[str, Jobs, list[Hashable]]:
    """``(name, jobs, machines)`` from a :class:`JobShopInstance` or a list of jobs.

    Parameters
    ----------
    instance_or_jobs
        A :class:`~sclm.datasets.scheduling.JobShopInstance`, or ``[[(machine, duration), ...],
        ...]``: one list per job, operations in technological order; machines are any hashable
        labels (ints, strings), durations non-negative integers (integral floats are accepted).
        A job may visit a machine more than once.

    Returns
    -------
    tuple
        The name (``"jobs"`` for a list), the jobs as tuples with ``int`` durations, and the
        machine labels (sorted when they sort, else in order of first appearance).

    Raises
    ------
    ValueError
        No jobs, a job without operations, an operation that is not a ``(machine, duration)``
        pair, or a duration that is negative or not an integer (the message names job and op).
    """
    if isinstance(instance_or_jobs, JobShopInstance):
        inst = instance_or_jobs
        jobs = tuple(
            tuple((int(m), int(d)) for m, d in zip(inst.machines[j], inst.durations[j], strict=True))
            for j in range(inst.n_jobs)
        )
        return inst.name, jobs, list(range(inst.n_machines))
    if isinstance(instance_or_jobs, str | bytes) or not isinstance(instance_or_jobs, Sequence | np.ndarray):
        raise ValueError(
            "expected a JobShopInstance or a list of jobs [[(machine, duration), ...], ...]; "
            f"got {type(instance_or_jobs).__name__}"
        )
    if len(instance_or_jobs) == 0:
        raise ValueError("no jobs to schedule")
    out = []
    for j, job in enumerate(instance_or_jobs):
        if isinstance(job, str | bytes) or len(job) == 0:
            raise ValueError(f"job {j} has no operations; expected a list of (machine, duration) pairs")
        ops = []
        for k, op in enumerate(job):
            if isinstance(op, str | bytes) or len(op) != 2:
                raise ValueError(f"job {j} operation {k} is {op!r}; expected a (machine, duration) pair")
            m, d = op
            if isinstance(m, np.generic):
                m = m.item()
            try:
                hash(m)
                dv = float(d)
            except (TypeError, ValueError):
                raise ValueError(
                    f"job {j} operation {k} is {op!r}; expected a (machine, duration) pair"
                ) from None
            if not np.isfinite(dv) or dv < 0 or dv != int(dv):
                raise ValueError(f"job {j} operation {k} has duration {d!r}; expected an integer >= 0")
            ops.append((m, int(dv)))
        out.append(tuple(ops))
    labels = list(dict.fromkeys(m for job in out for m, _ in job))
    try:
        labels = sorted(labels)
    except TypeError:
        pass
    return "jobs", tuple(out), labels


def _trivial_bound(jobs: Jobs) -> int:
    load: dict[Hashable, int] = {}
    for job in jobs:
        for m, d in job:
            load[m] = load.get(m, 0) + d
    return int(max(max(load.values()), max(sum(d for _, d in job) for job in jobs)))


# --------------------------------------------------------------------------- checker and greedy start


def check_schedule(
    instance_or_jobs: JobShopInstance | Sequence[Sequence[tuple[Hashable, int]]], frame: pd.DataFrame
) -> list[str]:
    """Why a schedule is infeasible, independently of the solver (empty list when it is feasible).

    Parameters
    ----------
    instance_or_jobs
        The problem (as :func:`solve_jobshop` takes it).
    frame
        One row per operation with columns ``job, op, machine, start, end`` (``duration`` is
        optional), as :attr:`Schedule.frame`.

    Returns
    -------
    list of str
        One message per kind of problem: missing or extra operations, wrong machine,
        ``end - start`` different from the duration, negative starts, precedence within a job
        broken, two operations overlapping on a machine.
    """
    _, jobs, _ = normalise_jobs(instance_or_jobs)
    need = ["job", "op", "machine", "start", "end"]
    missing_cols = [c for c in need if c not in frame.columns]
    if missing_cols:
        return [f"frame has no column(s) {missing_cols}"]
    problems: list[str] = []
    expected = {(j, k): op for j, job in enumerate(jobs) for k, op in enumerate(job)}
    keys = list(zip(frame["job"].astype(int), frame["op"].astype(int), strict=True))
    seen: dict[tuple[int, int], int] = {}
    for row, key in enumerate(keys):
        if key in seen:
            problems.append(f"operation job {key[0]} op {key[1]} appears more than once")
        seen[key] = row
    extra = sorted(set(seen) - set(expected))
    if extra:
        problems.append(
            f"{len(extra)} operations not in the problem, e.g. job {extra[0][0]} op {extra[0][1]}"
        )
    lost = sorted(set(expected) - set(seen))
    if lost:
        problems.append(f"{len(lost)} operations not scheduled, e.g. job {lost[0][0]} op {lost[0][1]}")
    start = frame["start"].to_numpy(dtype=np.int64)
    end = frame["end"].to_numpy(dtype=np.int64)
    machine = frame["machine"].tolist()
    if (start < 0).any():
        problems.append(f"{int((start < 0).sum())} operations start before time 0")
    wrong_m, wrong_d = [], []
    for key, row in seen.items():
        if key not in expected:
            continue
        m, d = expected[key]
        if machine[row] != m:
            wrong_m.append(key)
        if end[row] - start[row] != d:
            wrong_d.append(key)
    if wrong_m:
        problems.append(
            f"{len(wrong_m)} operations on the wrong machine, e.g. job {wrong_m[0][0]} op {wrong_m[0][1]}"
        )
    if wrong_d:
        j, k = wrong_d[0]
        problems.append(
            f"{len(wrong_d)} operations whose end - start is not their duration, e.g. job {j} op {k} "
            f"(duration {expected[(j, k)][1]})"
        )
    late = [
        (j, k)
        for j, job in enumerate(jobs)
        for k in range(1, len(job))
        if (j, k) in seen and (j, k - 1) in seen and start[seen[(j, k)]] < end[seen[(j, k - 1)]]
    ]
    if late:
        j, k = late[0]
        problems.append(
            f"{len(late)} precedence violations, e.g. job {j} op {k} starts before op {k - 1} ends"
        )
    by_machine: dict[Hashable, list[int]] = {}
    for row, m in enumerate(machine):
        by_machine.setdefault(m, []).append(row)
    for m, rows in by_machine.items():
        rows = sorted(rows, key=lambda r: (start[r], end[r]))
        clashes = [
            (rows[i], rows[i + 1])
            for i in range(len(rows) - 1)
            if start[rows[i + 1]] < end[rows[i]] and end[rows[i + 1]] > start[rows[i + 1]]
        ]
        if clashes:
            a, b = clashes[0]
            problems.append(
                f"machine {m!r} runs overlapping operations {len(clashes)} time(s), e.g. job {keys[a][0]} "
                f"op {keys[a][1]} [{start[a]}, {end[a]}) and job {keys[b][0]} op {keys[b][1]} [{start[b]}, {end[b]})"
            )
    return problems


def greedy_schedule(
    instance_or_jobs: JobShopInstance | Sequence[Sequence[tuple[Hashable, int]]],
) -> np.ndarray:
    """A feasible active schedule (Giffler–Thompson, most work remaining first).

    At each step, among the next operations of all jobs, take the machine where one could finish
    earliest (earliest completion ``c*``); among the operations on that machine that could start
    before ``c*``, schedule the one whose job has the most work left (ties: lowest job).

    Returns
    -------
    numpy.ndarray
        Start times, shape (n_jobs, max operations per job), int64; -1 past a job's last
        operation.
    """
    _, jobs, _ = normalise_jobs(instance_or_jobs)
    n = len(jobs)
    width = max(len(j) for j in jobs)
    starts = np.full((n, width), -1, dtype=np.int64)
    nxt = [0] * n
    job_ready = [0] * n
    machine_ready: dict[Hashable, int] = {}
    remaining = [sum(d for _, d in job) for job in jobs]
    left = sum(len(j) for j in jobs)
    while left:
        cand = [j for j in range(n) if nxt[j] < len(jobs[j])]
        est = {j: max(job_ready[j], machine_ready.get(jobs[j][nxt[j]][0], 0)) for j in cand}
        j_star = min(cand, key=lambda j: (est[j] + jobs[j][nxt[j]][1], j))
        m_star = jobs[j_star][nxt[j_star]][0]
        c_star = est[j_star] + jobs[j_star][nxt[j_star]][1]
        conflict = [j for j in cand if jobs[j][nxt[j]][0] == m_star and est[j] < c_star] or [j_star]
        j = min(conflict, key=lambda i: (-remaining[i], i))
        m, d = jobs[j][nxt[j]]
        s = est[j]
        starts[j, nxt[j]] = s
        job_ready[j] = machine_ready[m] = s + d
        remaining[j] -= d
        nxt[j] += 1
        left -= 1
    return starts


def left_shift(jobs: Jobs, starts: np.ndarray) -> np.ndarray:
    """The semi-active schedule of the same machine sequences: every operation as early as it can go.

    Operations keep their order on each machine and within each job; each starts when both its
    job predecessor and its machine predecessor have ended.  The makespan never grows, so an
    optimal schedule stays optimal, and idle gaps the solver left for no reason disappear.

    Parameters
    ----------
    jobs
        As :func:`normalise_jobs` returns them.
    starts
        Shape (n_jobs, max operations), a feasible schedule (-1 past a job's last operation).

    Returns
    -------
    numpy.ndarray
        New start times, same shape.
    """
    ops = sorted(
        (
            (int(starts[j, k]), int(starts[j, k]) + d, j, k)
            for j, job in enumerate(jobs)
            for k, (_, d) in enumerate(job)
        )
    )
    out = np.full_like(starts, -1)
    job_free = [0] * len(jobs)
    machine_free: dict[Hashable, int] = {}
    for _, _, j, k in ops:
        m, d = jobs[j][k]
        s = max(job_free[j], machine_free.get(m, 0))
        out[j, k] = s
        job_free[j] = machine_free[m] = s + d
    return out


def _frame(jobs: Jobs, starts: np.ndarray) -> pd.DataFrame:
    rows = [
        (j, k, m, int(starts[j, k]), int(starts[j, k]) + d, d)
        for j, job in enumerate(jobs)
        for k, (m, d) in enumerate(job)
    ]
    f = pd.DataFrame(rows, columns=list(FRAME_COLUMNS))
    for c in ("job", "op", "start", "end", "duration"):
        f[c] = f[c].astype(np.int64)
    return f


# --------------------------------------------------------------------------- CP-SAT


def _set_params(params: Any, values: Mapping[str, Any]) -> None:
    for key, v in values.items():
        if not hasattr(params, key):
            raise ValueError(f"unknown CP-SAT parameter {key!r}")
        cur = getattr(params, key)
        if hasattr(cur, "append") and not isinstance(cur, str):
            for item in [v] if isinstance(v, str) else v:
                cur.append(item)
        else:
            setattr(params, key, v)


def solve_jobshop(
    instance_or_jobs: JobShopInstance | Sequence[Sequence[tuple[Hashable, int]]],
    *,
    time_limit: float = 30.0,
    workers: int = 2,
    seed: int = 0,
    params: Mapping[str, Any] | None = None,
    hint: bool = True,
    log: bool = False,
) -> Schedule:
    """Minimise the makespan of a job shop with CP-SAT.

    Parameters
    ----------
    instance_or_jobs
        A :class:`~sclm.datasets.scheduling.JobShopInstance` (``sclm.load_dataset(
        "jssp_benchmarks")["ft06"]``) or a list of jobs ``[[(machine, duration), ...], ...]``
        (see :func:`normalise_jobs`).
    time_limit
        Wall-clock seconds for CP-SAT (> 0).
    workers
        CP-SAT ``num_workers`` (threads, >= 1); fixed so runs are comparable.
    seed
        CP-SAT ``random_seed``.
    params
        Further CP-SAT parameters by name (``{"subsolvers": ["core"], "num_full_subsolvers":
        1}``); when given, the 2-worker default subsolvers described in the module are not set.
    hint
        Start CP-SAT from the greedy schedule (its makespan always bounds the horizon).
    log
        Print CP-SAT's search log.

    Returns
    -------
    Schedule
        Checked with :func:`check_schedule` before it is returned.

    Raises
    ------
    ValueError
        Bad jobs (see :func:`normalise_jobs`), ``time_limit <= 0``, ``workers < 1`` or an
        unknown CP-SAT parameter.
    RuntimeError
        CP-SAT rejected the model, or returned a schedule the checker rejects (a bug).

    Notes
    -----
    See the module docstring on determinism: with several workers, the schedule, an unproven
    makespan and the bound reached under a time limit may differ between runs.
    """
    from ortools.sat.python import cp_model

    t0 = time.perf_counter()
    if not time_limit > 0:
        raise ValueError(f"time_limit must be > 0 seconds; got {time_limit!r}")
    if not isinstance(workers, int | np.integer) or workers < 1:
        raise ValueError(f"workers must be an integer >= 1; got {workers!r}")
    name, jobs, machines = normalise_jobs(instance_or_jobs)
    trivial = _trivial_bound(jobs)
    greedy = greedy_schedule(jobs)
    greedy_frame = _frame(jobs, greedy)
    horizon = int(greedy_frame["end"].max())

    model = cp_model.CpModel()
    start_vars: dict[tuple[int, int], Any] = {}
    intervals: dict[Hashable, list[Any]] = {m: [] for m in machines}
    last_ends = []
    for j, job in enumerate(jobs):
        prev_end = None
        for k, (m, d) in enumerate(job):
            s = model.new_int_var(0, horizon - d, f"s_{j}_{k}")
            e = model.new_int_var(d, horizon, f"e_{j}_{k}")
            intervals[m].append(model.new_interval_var(s, d, e, f"op_{j}_{k}"))
            start_vars[(j, k)] = s
            if prev_end is not None:
                model.add(s >= prev_end)
            prev_end = e
        last_ends.append(prev_end)
    for ivs in intervals.values():
        if len(ivs) > 1:
            model.add_no_overlap(ivs)
    makespan = model.new_int_var(trivial, horizon, "makespan")
    model.add_max_equality(makespan, last_ends)
    model.minimize(makespan)
    order = [start_vars[key] for key in sorted(start_vars)]
    model.add_decision_strategy(order, cp_model.CHOOSE_LOWEST_MIN, cp_model.SELECT_MIN_VALUE)
    if hint:
        for (j, k), var in start_vars.items():
            model.add_hint(var, int(greedy[j, k]))

    solver = cp_model.CpSolver()
    p = solver.parameters
    p.max_time_in_seconds = float(time_limit)
    p.num_workers = int(workers)
    p.random_seed = int(seed)
    p.log_search_progress = bool(log)
    if params is not None:
        _set_params(p, params)
    elif 2 <= workers < 8:
        _set_params(p, {"subsolvers": ["default_lp", "max_lp"], "num_full_subsolvers": min(workers, 2)})
    code = solver.solve(model)
    cp_status = solver.status_name(code)
    if cp_status == "MODEL_INVALID":
        raise RuntimeError(f"CP-SAT rejected the job-shop model of {name}: {model.validate()}")
    status = _STATUS.get(cp_status, "unknown")
    source = "cp-sat"
    if status in ("optimal", "feasible"):
        starts = np.full_like(greedy, -1)
        for (j, k), var in start_vars.items():
            starts[j, k] = solver.value(var)
        frame = _frame(jobs, left_shift(jobs, starts))
        value: int | None = int(frame["end"].max())
    elif status == "infeasible":
        frame, value = greedy_frame.iloc[:0], None
    else:  # no CP-SAT solution in time: the greedy schedule is still feasible
        frame, value, status, source = greedy_frame, horizon, "feasible", "greedy"
    bound = (
        max(trivial, int(np.ceil(solver.best_objective_bound - 1e-9))) if status != "infeasible" else trivial
    )
    if value is not None:
        bound = min(bound, value)
        if status == "optimal":
            bound = value
    gap = (value - bound) / bound if value is not None and bound > 0 else float("nan")
    meta = {
        "machines": machines,
        "workers": int(workers),
        "seed": int(seed),
        "time_limit": float(time_limit),
        "params": dict(params) if params is not None else None,
        "hint": bool(hint),
        "greedy_makespan": horizon,
        "trivial_bound": trivial,
        "cp_sat_status": cp_status,
        "cp_sat_seconds": float(solver.wall_time),
        "branches": int(solver.num_branches),
        "conflicts": int(solver.num_conflicts),
        "source": source,
    }
    sched = Schedule(
        name=name,
        makespan=value,
        bound=int(bound),
        status=status,
        optimal=status == "optimal",
        gap=float(gap),
        seconds=time.perf_counter() - t0,
        frame=frame.reset_index(drop=True),
        jobs=jobs,
        meta=meta,
    )
    if value is not None:
        problems = sched.check()
        if problems:
            raise RuntimeError(f"{name}: the solver's schedule fails the checker: " + "; ".join(problems))
    return sched


# --------------------------------------------------------------------------- figure


def plot_gantt(schedule: Schedule, *, labels: bool = True) -> Figure:
    """Gantt chart: one row per machine, one colour per job, a line at the makespan.

    Parameters
    ----------
    schedule
        A :class:`Schedule` with operations.
    labels
        Write the job number on bars wide enough to hold it.

    Returns
    -------
    matplotlib.figure.Figure
        One horizontal bar (a ``Rectangle`` patch) per operation; x in the durations' time
        units; a dashed line at the makespan (and a dotted one at the bound when it is lower).
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    if schedule.makespan is None or schedule.frame.empty:
        raise ValueError(f"{schedule.name}: nothing to draw (status {schedule.status!r})")
    machines = schedule.machines
    row = {m: i for i, m in enumerate(machines)}
    n = schedule.n_jobs
    cmap = plt.get_cmap("tab10" if n <= 10 else "tab20" if n <= 20 else "turbo")
    colour = [cmap(j if n <= 20 else j / max(n - 1, 1)) for j in range(n)]
    fig, ax = plt.subplots(figsize=(10, 0.45 * len(machines) + 1.6))
    f = schedule.frame
    min_label = 0.025 * schedule.makespan
    for r in f.itertuples(index=False):
        y = row[r.machine]
        ax.barh(
            y, r.duration, left=r.start, height=0.7, color=colour[r.job], edgecolor="white", linewidth=0.6
        )
        if labels and r.duration >= min_label:
            ax.text(
                r.start + r.duration / 2, y, str(r.job), ha="center", va="center", fontsize=7, color="black"
            )
    ax.axvline(schedule.makespan, color="black", ls="--", lw=1.2)
    if schedule.bound < schedule.makespan:
        ax.axvline(schedule.bound, color="grey", ls=":", lw=1.2)
    ax.set_yticks(range(len(machines)), [f"M{m}" if isinstance(m, int) else str(m) for m in machines])
    ax.invert_yaxis()
    ax.set_xlim(0, schedule.makespan * 1.02)
    ax.set_xlabel("time")
    ax.set_ylabel("machine")
    proof = "proven optimal" if schedule.optimal else f"bound {schedule.bound}, gap {schedule.gap:.2%}"
    ax.set_title(f"{schedule.name}: makespan {schedule.makespan} ({proof})", loc="left", fontsize=10)
    if n <= 20:
        handles = [Patch(color=colour[j], label=f"job {j}") for j in range(n)]
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False)
    fig.tight_layout()
    return fig
