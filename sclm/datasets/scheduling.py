"""Job-shop scheduling benchmarks (242 instances, OR-Library format) with bounds and best-known makespans."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._base import InstanceSet, check_header, malformed, numeric_columns, read_csv, read_text, require_file


@dataclass(frozen=True, eq=False)
class JobShopInstance:
    """A job-shop instance: every job visits machines in a fixed technological order.

    Attributes
    ----------
    name
        E.g. ``"ft06"``.
    family
        Name without the number: ``abz, dmu, ft, la, orb, swv, ta, yn``.
    n_jobs, n_machines
        Size (jobs × machines); each job has ``n_machines`` operations.
    machines
        Shape (n_jobs, n_machines), int64: ``machines[j, k]`` is the 0-based machine of
        job ``j``'s ``k``-th operation.
    durations
        Shape (n_jobs, n_machines), int64: processing time of that operation.
    lower_bound
        Best lower bound on the optimal makespan (2020 snapshot).
    bks
        Best-known makespan; ``lower_bound == bks`` means proven optimal.
    description
        The description line of the source file.
    """

    name: str
    family: str
    n_jobs: int
    n_machines: int
    machines: np.ndarray
    durations: np.ndarray
    lower_bound: int
    bks: int
    description: str = ""

    @property
    def is_closed(self) -> bool:
        """True when the lower bound equals the best-known makespan (proven optimal)."""
        return self.lower_bound == self.bks

    def trivial_lower_bound(self) -> int:
        """max(largest machine load, longest job): a bound every schedule respects."""
        loads = np.bincount(self.machines.ravel(), weights=self.durations.ravel(), minlength=self.n_machines)
        return int(max(loads.max(), self.durations.sum(axis=1).max()))

    def violations(self, starts: np.ndarray) -> list[str]:
        """Why a schedule of operation start times is infeasible (empty list when it is).

        Parameters
        ----------
        starts
            Shape (n_jobs, n_machines): start time of job ``j``'s ``k``-th operation
            (technological order, as :attr:`machines`).
        """
        s = np.asarray(starts)
        if s.shape != self.machines.shape:
            return [f"starts has shape {s.shape}; expected {self.machines.shape}"]
        out = []
        if (s < 0).any():
            out.append("negative start times")
        end = s + self.durations
        late = np.argwhere(s[:, 1:] < end[:, :-1])
        if len(late):
            j, k = late[0]
            out.append(
                f"{len(late)} precedence violations, e.g. job {j} operation {k + 1} starts before operation {k} ends"
            )
        for m in range(self.n_machines):
            jobs, ops = np.nonzero(self.machines == m)
            order = np.argsort(s[jobs, ops], kind="stable")
            st, en = s[jobs, ops][order], end[jobs, ops][order]
            clash = np.flatnonzero(st[1:] < en[:-1])
            if len(clash):
                out.append(f"machine {m} runs {len(clash) + 1} overlapping operations")
        return out

    def makespan(self, starts: np.ndarray) -> int:
        """Makespan of a feasible schedule (see :meth:`violations` for ``starts``).

        Raises
        ------
        ValueError
            The schedule breaks a precedence or machine constraint.
        """
        problems = self.violations(starts)
        if problems:
            raise ValueError(f"{self.name}: infeasible schedule: " + "; ".join(problems))
        return int((np.asarray(starts) + self.durations).max())


JSSP = "jssp_benchmarks"
JSSP_DATA = "instance_data.txt"
JSSP_BKS = "instances_with_bks.csv"
JSSP_BKS_COLUMNS = (
    "inst.id",
    "inst.ref",
    "inst.jobs",
    "inst.machines",
    "inst.opt.bound.lower",
    "inst.opt.bound.lower.ref",
    "inst.bks",
    "inst.bks.ref",
    "inst.bks.time",
    "inst.bks.time.ref",
)
JSSP_FAMILIES = ("abz", "dmu", "ft", "la", "orb", "swv", "ta", "yn")
_INSTANCE = re.compile(r"^\s*instance\s+(\S+)\s*$")
_FAMILY = re.compile(r"^([a-z]+)\d+$")


def _parse_instances(path: Path) -> dict[str, dict[str, Any]]:
    """Parse every ``instance <name>`` block: description, ``jobs machines``, one line per job."""
    lines = read_text(path).splitlines()
    out: dict[str, dict[str, Any]] = {}
    i, n = 0, len(lines)
    while i < n:
        m = _INSTANCE.match(lines[i])
        if not m:
            i += 1
            continue
        name, start = m.group(1), i + 1
        i += 1
        body: list[tuple[int, str]] = []  # (line number, text) of the non-separator lines
        while i < n and not _INSTANCE.match(lines[i]):
            text = lines[i].strip()
            if text and not text.startswith("+"):
                body.append((i + 1, text))
            i += 1
        if len(body) < 2:
            raise malformed(
                path, f"line {start} (instance {name})", "a description line and a '<jobs> <machines>' line"
            )
        no, size = body[1]
        try:
            nj, nm = (int(t) for t in size.split())
        except ValueError:
            raise malformed(path, f"line {no} (instance {name})", "'<jobs> <machines>'", size) from None
        jobs = body[2:]
        if len(jobs) != nj:
            raise malformed(path, f"line {no} (instance {name})", f"{nj} job lines after it", len(jobs))
        mach = np.empty((nj, nm), dtype=np.int64)
        dur = np.empty((nj, nm), dtype=np.int64)
        for j, (no, text) in enumerate(jobs):
            try:
                vals = np.asarray([int(t) for t in text.split()], dtype=np.int64)
            except ValueError:
                raise malformed(
                    path, f"line {no} (instance {name}, job {j})", "integer pairs 'machine time'", text
                ) from None
            if len(vals) != 2 * nm:
                raise malformed(
                    path,
                    f"line {no} (instance {name}, job {j})",
                    f"{nm} 'machine time' pairs",
                    f"{len(vals)} numbers",
                )
            mach[j], dur[j] = vals[0::2], vals[1::2]
            if (mach[j] < 0).any() or (mach[j] >= nm).any() or (dur[j] < 0).any():
                raise malformed(
                    path,
                    f"line {no} (instance {name}, job {j})",
                    f"machines in 0..{nm - 1} and times >= 0",
                    text,
                )
        if name in out:
            raise malformed(path, f"line {start}", "unique instance names", name)
        out[name] = {
            "description": body[0][1],
            "n_jobs": nj,
            "n_machines": nm,
            "machines": mach,
            "durations": dur,
        }
    return out


def load_jssp(folder: Path) -> InstanceSet[JobShopInstance]:
    """Parse ``instance_data.txt`` and ``instances_with_bks.csv``.

    Returns
    -------
    InstanceSet[JobShopInstance]
        242 instances by name, in the CSV order; ``.table`` is the CSV with columns
        renamed (``inst.opt.bound.lower`` → ``lower_bound``, ``inst.bks`` → ``bks``, dots →
        underscores otherwise) plus ``family``, indexed by name.
    """
    data_path = require_file(folder, JSSP_DATA, JSSP)
    bks_path = require_file(folder, JSSP_BKS, JSSP)
    table = read_csv(bks_path, dtype=str, keep_default_na=False)
    check_header(bks_path, table.columns, JSSP_BKS_COLUMNS)
    ints = ["inst.jobs", "inst.machines", "inst.opt.bound.lower", "inst.bks"]
    table[ints] = numeric_columns(bks_path, table, ints, integer=True).astype("int64")
    time = table["inst.bks.time"].replace({"NA": ""}).where(lambda s: s != "", None)
    table["inst.bks.time"] = numeric_columns(
        bks_path, pd.DataFrame({"inst.bks.time": time}), ["inst.bks.time"], integer=True, allow_missing=True
    )["inst.bks.time"].astype("Int64")
    for col in ("inst.ref", "inst.opt.bound.lower.ref", "inst.bks.ref", "inst.bks.time.ref"):
        table[col] = table[col].where(~table[col].isin(["", "NA"]), None)
    table = table.rename(
        columns={
            "inst.id": "name",
            "inst.opt.bound.lower": "lower_bound",
            "inst.opt.bound.lower.ref": "lower_bound_ref",
            "inst.bks": "bks",
            "inst.bks.ref": "bks_ref",
            "inst.jobs": "n_jobs",
            "inst.machines": "n_machines",
            "inst.ref": "ref",
            "inst.bks.time": "bks_time",
            "inst.bks.time.ref": "bks_time_ref",
        }
    )
    fam = table["name"].str.extract(_FAMILY, expand=False)
    if fam.isna().any():
        row = int(np.flatnonzero(fam.isna().to_numpy())[0])
        raise malformed(
            bks_path, f"line {row + 2}, column 'inst.id'", "a name like ft06 or ta01", table["name"].iloc[row]
        )
    table.insert(1, "family", fam)
    parsed = _parse_instances(data_path)
    instances: dict[str, JobShopInstance] = {}
    for row in table.itertuples(index=False):
        if row.name not in parsed:
            raise malformed(
                data_path, "instance blocks", f"a block 'instance {row.name}' (listed in {JSSP_BKS})"
            )
        p = parsed[row.name]
        if (p["n_jobs"], p["n_machines"]) != (row.n_jobs, row.n_machines):
            raise malformed(
                data_path,
                f"instance {row.name}",
                f"{row.n_jobs} jobs x {row.n_machines} machines as in {JSSP_BKS}",
                (p["n_jobs"], p["n_machines"]),
            )
        instances[row.name] = JobShopInstance(
            name=row.name,
            family=row.family,
            n_jobs=p["n_jobs"],
            n_machines=p["n_machines"],
            machines=p["machines"],
            durations=p["durations"],
            lower_bound=int(row.lower_bound),
            bks=int(row.bks),
            description=p["description"],
        )
    extra = sorted(set(parsed) - set(instances))
    if extra:
        raise malformed(bks_path, "rows", f"a row for every instance of {JSSP_DATA}; missing {extra[:5]}")
    table = table.set_index("name", drop=False)
    table.index.name = None
    meta = {
        "n_instances": len(instances),
        "families": table["family"].value_counts().reindex(list(JSSP_FAMILIES)).to_dict(),
        "source": (
            "OR-Library jobshop1 (abz, ft, la, orb, swv, yn), Taillard (1993), Demirkol, Mehta & Uzsoy (1998); "
            "bounds and best-known makespans from GitHub thomasWeise/jsspInstancesAndResults (2020)"
        ),
        "licence": "GPL-3.0 (repository); benchmark instances without a formal licence",
        "files": [JSSP_DATA, JSSP_BKS],
    }
    return InstanceSet(JSSP, instances, table, meta)
