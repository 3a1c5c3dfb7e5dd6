"""Job-shop scheduling with CP-SAT: brute-force optima, ft06, the checker, the Gantt chart."""

from __future__ import annotations

import itertools
import json

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from sclm import config, load_dataset
from sclm.decisions.scheduling import (
    check_schedule,
    greedy_schedule,
    left_shift,
    normalise_jobs,
    plot_gantt,
    solve_jobshop,
)

TINY = [[(0, 3), (1, 2)], [(1, 4), (0, 1)], [(0, 2), (1, 3)]]  # 3 jobs x 2 machines

needs_data = pytest.mark.skipif(
    not config.has_data(),
    reason=f"real data folder not found: set SCLM_DATA_DIR (looked in {config.data_dir(must_exist=False)})",
)


def brute_force_makespan(jobs) -> int:
    """Optimal makespan by enumerating every sequence of operations on every machine.

    Each choice of machine sequences fixes the semi-active schedule (every operation as early
    as the job and machine predecessors allow); cyclic choices are infeasible.  The optimum is
    a semi-active schedule, so the minimum over all choices is the optimal makespan.
    """
    ops = [(j, k) for j, job in enumerate(jobs) for k in range(len(job))]
    machines = sorted({m for job in jobs for m, _ in job})
    on = {m: [op for op in ops if jobs[op[0]][op[1]][0] == m] for m in machines}
    best = None
    for seqs in itertools.product(*(itertools.permutations(on[m]) for m in machines)):
        preds = {op: [] for op in ops}
        for j, k in ops:
            if k:
                preds[(j, k)].append((j, k - 1))
        for seq in seqs:
            for a, b in itertools.pairwise(seq):
                preds[b].append(a)
        start, done, progress = {}, set(), True
        while progress and len(done) < len(ops):  # Kahn-style longest path
            progress = False
            for op in ops:
                if op not in done and all(p in done for p in preds[op]):
                    start[op] = max((start[p] + jobs[p[0]][p[1]][1] for p in preds[op]), default=0)
                    done.add(op)
                    progress = True
        if len(done) < len(ops):
            continue  # a cycle: these sequences admit no schedule
        makespan = max(start[(j, k)] + jobs[j][k][1] for j, k in ops)
        best = makespan if best is None else min(best, makespan)
    return best


def random_jobs(seed: int, n_jobs: int = 3, n_machines: int = 3) -> list[list[tuple[int, int]]]:
    rng = np.random.default_rng(seed)
    return [
        [
            (int(m), int(d))
            for m, d in zip(rng.permutation(n_machines), rng.integers(1, 10, n_machines), strict=True)
        ]
        for _ in range(n_jobs)
    ]


def test_tiny_instance_matches_brute_force():
    # by hand: machine 1 carries 4 + 2 + 3 = 9, and M1 running jobs 1, 0, 2 (M0: 0, 2, 1) reaches it
    assert brute_force_makespan(TINY) == 9
    s = solve_jobshop(TINY, time_limit=5)
    assert (s.status, s.optimal, s.makespan, s.bound, s.gap) == ("optimal", True, 9, 9, 0.0)
    assert s.check() == [] and len(s.frame) == 6
    assert list(s.frame.columns) == ["job", "op", "machine", "start", "end", "duration"]
    assert s.frame["end"].max() == 9
    json.dumps(s.to_dict())


@pytest.mark.parametrize("seed", range(4))
def test_random_instances_match_brute_force(seed):
    jobs = random_jobs(seed)
    s = solve_jobshop(jobs, time_limit=5)
    assert s.optimal and s.makespan == brute_force_makespan(jobs)
    assert s.check() == []


def test_machines_as_labels_and_repeated_visits():
    jobs = [[("lathe", 2), ("mill", 3), ("lathe", 1)], [("mill", 2), ("lathe", 4)]]
    s = solve_jobshop(jobs, time_limit=5)
    assert s.machines == ["lathe", "mill"] and set(s.frame["machine"]) == {"lathe", "mill"}
    # lathe load is 7 and job 1 can reach the lathe at 2 at the earliest: the optimum is 7
    assert s.optimal and s.makespan == brute_force_makespan(jobs) == 7
    one_machine = solve_jobshop([[("a", 2), ("a", 3)], [("a", 1)]], time_limit=5)
    assert one_machine.makespan == 6  # a single machine simply runs its whole load


@needs_data
def test_ft06_is_proven_optimal():
    inst = load_dataset("jssp_benchmarks")["ft06"]
    s = solve_jobshop(inst, time_limit=20)
    assert (s.makespan, s.optimal, s.bound) == (55, True, 55)
    assert s.check() == []
    assert inst.violations(s.starts()) == [] and inst.makespan(s.starts()) == 55  # the loader's own checker
    again = solve_jobshop(inst, time_limit=20, workers=1)
    assert again.makespan == 55 and again.frame.equals(solve_jobshop(inst, time_limit=20, workers=1).frame)


@needs_data
def test_time_limit_gives_a_feasible_schedule_and_a_bound():
    inst = load_dataset("jssp_benchmarks")["ta41"]  # 30 x 20, open in the literature
    s = solve_jobshop(inst, time_limit=0.3, workers=1)
    assert s.status == "feasible" and not s.optimal
    # no bound can pass the optimum (<= the best-known), and no schedule can beat the proven bound
    assert inst.bks >= s.bound >= inst.trivial_lower_bound()
    assert s.makespan >= inst.lower_bound and s.gap == pytest.approx((s.makespan - s.bound) / s.bound)
    assert s.makespan <= s.meta["greedy_makespan"] and s.check() == []


def test_checker_catches_broken_schedules():
    good = solve_jobshop(TINY, time_limit=5).frame
    assert check_schedule(TINY, good) == []

    overlap = good.copy()  # job 2's first op onto M0 at the time job 0 runs there
    row = overlap.index[(overlap["job"] == 2) & (overlap["op"] == 0)][0]
    first = overlap.index[(overlap["job"] == 0) & (overlap["op"] == 0)][0]
    overlap.loc[row, ["start", "end"]] = overlap.loc[first, "start"] + 1, overlap.loc[first, "start"] + 3
    assert any("overlapping" in p for p in check_schedule(TINY, overlap))

    early = good.copy()  # job 0's second op before its first ends
    row = early.index[(early["job"] == 0) & (early["op"] == 1)][0]
    early.loc[row, ["start", "end"]] = 0, 2
    assert any("precedence" in p for p in check_schedule(TINY, early))

    short = good.copy()
    short.loc[0, "end"] = short.loc[0, "start"] + 1
    assert any("duration" in p for p in check_schedule(TINY, short))

    assert any("not scheduled" in p for p in check_schedule(TINY, good.drop(index=3)))
    assert any("wrong machine" in p for p in check_schedule(TINY, good.assign(machine=0)))
    assert any("before time 0" in p for p in check_schedule(TINY, good.assign(start=good["start"] - 100)))


def as_frame(jobs, starts) -> pd.DataFrame:
    _, norm, _ = normalise_jobs(jobs)
    rows = [
        (j, k, m, int(starts[j, k]), int(starts[j, k]) + d)
        for j, job in enumerate(norm)
        for k, (m, d) in enumerate(job)
    ]
    return pd.DataFrame(rows, columns=["job", "op", "machine", "start", "end"])


def test_greedy_and_left_shift_are_feasible():
    for seed in range(5):
        jobs = random_jobs(seed, n_jobs=6, n_machines=4)
        _, norm, _ = normalise_jobs(jobs)
        greedy = greedy_schedule(jobs)
        assert check_schedule(jobs, as_frame(jobs, greedy)) == []
        late = 2 * greedy + 1  # doubling every start (plus one) keeps a schedule feasible, with idle gaps
        assert check_schedule(jobs, as_frame(jobs, late)) == []
        shifted = left_shift(norm, late)
        assert check_schedule(jobs, as_frame(jobs, shifted)) == []
        # the same machine sequences, every operation as early as possible: back to the greedy schedule
        np.testing.assert_array_equal(shifted, greedy)


def test_bad_jobs_name_the_problem():
    with pytest.raises(ValueError, match="no jobs"):
        solve_jobshop([])
    with pytest.raises(ValueError, match="job 1 has no operations"):
        solve_jobshop([[(0, 1)], []])
    with pytest.raises(ValueError, match="job 0 operation 1 has duration -2"):
        solve_jobshop([[(0, 1), (1, -2)]])
    with pytest.raises(ValueError, match="duration 1.5"):
        solve_jobshop([[(0, 1.5)]])
    with pytest.raises(ValueError, match="job 0 operation 0"):
        solve_jobshop([[(0, 1, 2)]])
    with pytest.raises(ValueError, match="time_limit"):
        solve_jobshop(TINY, time_limit=0)
    with pytest.raises(ValueError, match="workers"):
        solve_jobshop(TINY, workers=0)
    with pytest.raises(ValueError, match="unknown CP-SAT parameter 'no_such'"):
        solve_jobshop(TINY, params={"no_such": 1})


def test_gantt_has_one_bar_per_operation(tmp_path):
    jobs = random_jobs(7, n_jobs=5, n_machines=4)
    s = solve_jobshop(jobs, time_limit=5)
    fig = plot_gantt(s)
    ax = fig.axes[0]
    assert len(ax.patches) == len(s.frame) == 20
    widths = sorted(round(p.get_width()) for p in ax.patches)
    assert widths == sorted(s.frame["duration"])
    assert any(np.allclose(line.get_xdata(), s.makespan) for line in ax.lines)  # the makespan line
    assert [t.get_text() for t in ax.get_yticklabels()] == ["M0", "M1", "M2", "M3"]
    fig.savefig(tmp_path / "gantt.png")
    plt.close(fig)
