"""Shared machinery of the synthetic scenarios.

This module holds what the three simulators (:mod:`~sclm.scenarios.manufacturing`,
:mod:`~sclm.scenarios.logistics`, :mod:`~sclm.scenarios.retail`) have in common:

* :class:`Scenario` — the frozen bundle a simulator returns (readings, truth, faults,
  drivers, documents, nodes, units, meta);
* :class:`ScenarioParams` — the frozen, validated parameter base class;
* random streams (:func:`streams`): one :class:`numpy.random.Generator` per purpose, spawned
  from a single :class:`numpy.random.SeedSequence`, so the exogenous demand, the distractor,
  the measurement noise, the faults and the documents draw from independent streams and no
  global random state is touched;
* the **measurement model** (:class:`Channel`, :func:`measure_and_corrupt`): how each source
  reports a truth variable (relative Gaussian noise, IoT binomial thinning, cases instead of
  units) and the injected faults (missing source-days, outliers, duplicated ERP records), each
  one written to the ``faults`` answer key.

Measurement model
-----------------
For a truth value ``x`` (node, day, variable) and a source ``s`` with relative noise ``σ_s``:

1. IoT thinning (channels with ``thinning=True``): ``x' ~ Binomial(x, 1 - p)`` — each of the
   ``x`` events (truth counts are integers) is seen with probability ``1 - p``, so
   ``E[x'] = (1 - p)·x`` exactly and ``p`` is estimable without bias from ``Σ iot / Σ erp``.
2. Cases (channels with ``cases=True``): ``x' = x' / units_per_case`` (not rounded).
3. Noise: ``y = max(0, x'·(1 + σ_s·ε))``, ``ε ~ N(0, 1)``.  The clip at 0 keeps quantities
   non-negative (it is reached only for ``ε < -1/σ_s``, i.e. never for ``σ_s <= 0.1``).

Master data (``exact=True``: promotion flags, prices) is recorded without noise or faults.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import math
import numbers
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from sclm.scenarios._measure import CASE_UNIT as CASE_UNIT
from sclm.scenarios._measure import COUNT_UNIT as COUNT_UNIT
from sclm.scenarios._measure import FAULT_COLUMNS as FAULT_COLUMNS
from sclm.scenarios._measure import Channel as Channel
from sclm.scenarios._measure import _obj
from sclm.scenarios._measure import measure_and_corrupt as measure_and_corrupt
from sclm.scenarios._vocabulary import CITIES
from sclm.scenarios.documents import DOCUMENT_COLUMNS as DOCUMENT_COLUMNS
from sclm.scenarios.documents import DOCUMENT_NAMES, NodeInfo, make_documents, scenario_pools
from sclm.schema import validate_panel, validate_readings

FAULT_KINDS: tuple[str, ...] = ("undercount", "unit", "noise", "missing", "outlier", "duplicate")
"""Fault kinds, in the order they appear in :attr:`Scenario.faults`.

* ``undercount`` — systematic (``ts`` NaT): the IoT counter misses a fraction ``p`` of events;
* ``unit`` — systematic: the source reports cases, ``value = units / units_per_case``
  (detail ``"pack=<units_per_case>"``);
* ``noise`` — systematic: relative Gaussian noise ``σ`` on every reading of that series;
* ``missing`` — the reading was dropped (``observed_value`` NaN): a whole source-day is lost;
* ``outlier`` — a spike (×3 to ×10) or a drop (×0 to ×0.05);
* ``duplicate`` — an ERP record entered twice (exact copy or slightly different value).
"""

DRIVER_COLUMNS: tuple[str, ...] = ("target", "driver", "lag", "effect", "node_type", "note", "role")
"""Columns of :attr:`Scenario.drivers` (``node_type`` is ``"all"`` or the one type it holds for).

``role`` is one of :data:`DRIVER_ROLES`."""

DRIVER_ROLES: tuple[str, ...] = ("driver", "ancestor", "equivalent")
"""What a row of :attr:`Scenario.drivers` says about ``target[t]`` and ``driver[t - lag]``.

* ``driver`` — a cell of the data-generating rule of ``target`` (the rule is in ``note``);
* ``ancestor`` — the visible cell that carries a latent part of the rule (retail: the weekly
  season and the level of demand, read from the same weekday a week earlier);
* ``equivalent`` — an input that equals a driver cell by an identity of the simulator (retail:
  ``shipments[t] = orders[t-L]``, store ``sales[t] = demand[t]`` unless stock runs out); the
  ``note`` names the driver it copies.  A method crediting either is right.

An explanation is scored against all three (:func:`sclm.explain.checks.driver_cells`)."""

BURN_IN_DAYS = 56
"""Days simulated before ``start`` and discarded, so the inventory loop starts in steady state."""

STREAMS: tuple[str, ...] = (
    "structure",
    "exogenous",
    "distractor",
    "measurement",
    "faults",
    "documents",
    "fulfilment",
)
"""Named random streams, spawned in this order from ``SeedSequence([seed, crc32(name)])``.

``SeedSequence.spawn`` children depend only on their index, so a stream appended at the end
(``fulfilment``: the daily fill rates of manufacturing and logistics) leaves the others' draws
unchanged."""


# --------------------------------------------------------------------------------------------------
# Scenario bundle
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class Scenario:
    """A simulated supply chain: raw readings plus every answer key needed to score the flow.

    Attributes
    ----------
    name
        ``"manufacturing"``, ``"logistics"`` or ``"retail"``.
    readings
        Raw long table (rows ≈ nodes × days × channels): the Readings columns ``ts``
        (datetime64[ns], daily), ``node``, ``node_type``, ``variable``, ``value`` (float64),
        ``unit``, ``source``; sorted by (node, ts, variable, source), a duplicated record right
        after its original; RangeIndex.  Duplicated keys are allowed (they are faults).
    truth
        Clean Panel that generated the readings: MultiIndex (``node``, ``ts``), one float64
        column per variable (same set for every node), daily, no gaps, no NaN.  Counts are
        integers stored as floats, and ``inventory[t+1] = inventory[t] + q[t] - d[t]`` exactly.
    faults
        One row per injected fault (columns :data:`FAULT_COLUMNS`, kinds :data:`FAULT_KINDS`).
        ``true_value`` is the reading's value before *that* fault (in the source's unit, so it
        includes the source's noise, thinning and case conversion); NaN for systematic rows.
    drivers
        The answer key of the explanations: which (variable, lag) cells determine each target
        in the data-generating process (columns :data:`DRIVER_COLUMNS`, roles
        :data:`DRIVER_ROLES`: the rule's drivers, the visible ancestors of a latent part, and
        declared equivalents); distractors never appear.  Each scenario's docstring says what a
        perfect explanation of each target's one-step-ahead forecast shows.
    documents
        BIO-tagged texts consistent with the truth (columns :data:`DOCUMENT_COLUMNS`).
    nodes
        One row per node: ``node``, ``node_type``, ``parent`` (``""`` at the top), ``city``,
        ``country``, ``product``, ``units_per_case``, ``capacity``, ``target_stock``.
    units
        ``node``, ``variable``, ``unit`` (native unit), ``units_per_case`` (pack size for count
        variables, 1 otherwise).
    meta
        JSON-serialisable: seed, params, p, noise (source → σ), start, end, targets,
        distractors, description, ...
    """

    name: str
    readings: pd.DataFrame
    truth: pd.DataFrame
    faults: pd.DataFrame
    drivers: pd.DataFrame
    documents: pd.DataFrame
    nodes: pd.DataFrame
    units: pd.DataFrame
    meta: dict[str, Any]

    @property
    def targets(self) -> dict[str, str]:
        """Role → variable, e.g. ``{"q": "production", "k": "inventory", "d": "logistics"}``."""
        return dict(self.meta["targets"])

    @property
    def distractors(self) -> list[str]:
        """Variables that drive nothing (plausible sensors)."""
        return list(self.meta["distractors"])

    @property
    def p(self) -> float:
        """The fraction of events the IoT counter misses."""
        return float(self.meta["p"])

    def __repr__(self) -> str:
        counts = self.nodes["node_type"].value_counts(sort=False)
        types = ", ".join(f"{t} {n}" for t, n in counts.items())
        return (
            f"Scenario({self.name!r}, seed={self.meta['seed']}, nodes={len(self.nodes)} ({types}), "
            f"days={self.meta['n_days']} {self.meta['start']}..{self.meta['end']}, "
            f"readings={len(self.readings):,}, faults={len(self.faults):,}, "
            f"documents={len(self.documents):,}, p={self.meta['p']})"
        )

    def summary(self) -> pd.DataFrame:
        """Readings and fault counts per (source, variable).

        Returns
        -------
        pandas.DataFrame
            Index (``source``, ``variable``); columns ``reported_unit`` (units as reported, joined),
            ``readings`` (rows) and one count column per fault kind in :data:`FAULT_KINDS`.
        """
        r = self.readings
        grp = r.groupby(["source", "variable"], sort=True)
        out = pd.DataFrame(
            {
                "reported_unit": grp["unit"].agg(lambda u: "/".join(sorted(set(u)))),
                "readings": grp.size(),
            }
        )
        if len(self.faults):
            fc = self.faults.groupby(["source", "variable", "kind"]).size().unstack("kind", fill_value=0)
        else:
            fc = pd.DataFrame(index=out.index)
        fc = fc.reindex(index=out.index.union(fc.index), columns=list(FAULT_KINDS), fill_value=0)
        out = out.reindex(fc.index)
        out["reported_unit"] = out["reported_unit"].fillna("")
        out["readings"] = out["readings"].fillna(0).astype(np.int64)
        return pd.concat([out, fc.astype(np.int64)], axis=1)

    def validate(self) -> Scenario:
        """Check the readings and the truth against the data contracts; return ``self``.

        Raises
        ------
        sclm.schema.DataValidationError
            When a table breaks its contract.
        """
        validate_readings(self.readings, source=f"scenario {self.name!r} readings")
        validate_panel(self.truth, source=f"scenario {self.name!r} truth")
        return self


# --------------------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------------------


def stability_limit(lead_time: int) -> float:
    """Largest stable ``beta`` for a lead time: ``2·sin(π / (2·(2L + 1)))``.

    The stock gap follows ``e[t+1] = e[t] - beta·e[t-L] + noise``, whose characteristic
    polynomial ``z^(L+1) - z^L + beta`` has all roots inside the unit circle exactly below
    this bound (1 for L = 1, 0.618 for L = 2, 0.445 for L = 3, ...).
    """
    return 2.0 * math.sin(math.pi / (2 * (2 * lead_time + 1)))


def _bad(name: str, value: object, expected: str) -> ValueError:
    return ValueError(f"{name}={value!r} is out of range; expected {expected}")


@dataclass(frozen=True)
class ScenarioParams:
    """Parameters shared by every scenario (frozen; checked on construction).

    Parameters
    ----------
    seed
        Seed of every random stream (int >= 0).
    n_nodes
        Total number of nodes; each scenario documents how it splits them into types.
    n_days
        Days in the panel (>= 28; default 760, a little over two years).
    start
        First day, ISO date (default ``"2023-01-02"``, a Monday).
    p
        Fraction of events the IoT counter misses, ``0 <= p < 1``.
    noise_iot, noise_erp, noise_wms
        Relative Gaussian noise σ of each source (``0 <= σ <= 0.5``); subclasses add theirs.
    outlier_rate
        Probability that a reading is replaced by a spike or a drop (``0 <= r <= 0.2``).
    missing_rate
        Probability that a source loses a whole node-day of readings (``0 <= r <= 0.2``).
    duplicate_rate
        Probability that an ERP record is entered twice (``0 <= r <= 0.2``).
    lead_time
        Days between a replenishment request and its arrival (1 to 14).
    alpha
        Weight of the demand signal in the replenishment rule (``0 < α <= 1.5``).
    beta
        Weight of the inventory gap in the replenishment rule (``0 <= β <= 0.5`` and below
        :func:`stability_limit` of ``lead_time``, so the stock loop is stable).
    cover_days
        Target stock in days of mean demand (1 to 60).
    growth
        Mean demand trend per year (``-0.5`` to ``0.5``; each node draws 0.5× to 1.5× of it).
    n_documents
        Number of BIO-tagged documents (0 to 100000).
    document_names
        Where the documents' names come from (:data:`~sclm.scenarios.documents.DOCUMENT_NAMES`):
        ``"builtin"`` (default: built-in lists, so the documents never depend on the data
        folder) or ``"data"`` (adds the SCMS vendors, countries and modes; the data set must be
        present).  ``meta["document_names"]`` records the option, the source and a sha256.
    """

    seed: int = 0
    n_nodes: int = 5
    n_days: int = 760
    start: str = "2023-01-02"
    p: float = 0.1
    noise_iot: float = 0.01
    noise_erp: float = 0.015
    noise_wms: float = 0.02
    outlier_rate: float = 0.002
    missing_rate: float = 0.01
    duplicate_rate: float = 0.005
    lead_time: int = 1
    alpha: float = 1.0
    beta: float = 0.3
    cover_days: float = 4.0
    growth: float = 0.08
    n_documents: int = 300
    document_names: str = "builtin"

    scenario: ClassVar[str] = ""
    MIN_DAYS: ClassVar[int] = 28

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.type in ("int", int):
                if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                    raise TypeError(f"{f.name} must be an int, got {type(value).__name__} {value!r}")
                object.__setattr__(self, f.name, int(value))
            elif f.type in ("float", float):
                if isinstance(value, bool) or not isinstance(value, numbers.Real):
                    raise TypeError(f"{f.name} must be a number, got {type(value).__name__} {value!r}")
                value = float(value)
                if not math.isfinite(value):
                    raise _bad(f.name, value, "a finite number")
                object.__setattr__(self, f.name, value)
        self._check()

    # each check names the parameter, the value and the allowed range
    def _check(self) -> None:
        if self.seed < 0:
            raise _bad("seed", self.seed, "an int >= 0")
        if not 1 <= self.n_nodes <= 1_000_000:
            raise _bad("n_nodes", self.n_nodes, "1 <= n_nodes <= 1000000")
        if not self.MIN_DAYS <= self.n_days <= 36_500:
            raise _bad("n_days", self.n_days, f"{self.MIN_DAYS} <= n_days <= 36500")
        if not isinstance(self.start, str | datetime.date):
            raise TypeError(
                f"start must be an ISO date string, got {type(self.start).__name__} {self.start!r}"
            )
        try:
            ts = pd.Timestamp(self.start)
        except (TypeError, ValueError):
            raise ValueError(
                f"start={self.start!r} is not a date; expected an ISO date such as '2023-01-02'"
            ) from None
        if pd.isna(ts):
            raise ValueError(f"start={self.start!r} is not a date; expected an ISO date such as '2023-01-02'")
        object.__setattr__(self, "start", ts.normalize().strftime("%Y-%m-%d"))
        if not 0.0 <= self.p < 1.0:
            raise _bad("p", self.p, "0 <= p < 1 (the fraction of events the IoT counter misses)")
        for source, sigma in self.noise.items():
            if not 0.0 <= sigma <= 0.5:
                raise _bad(f"noise_{source}", sigma, "0 <= sigma <= 0.5 (relative noise)")
        for name in ("outlier_rate", "missing_rate", "duplicate_rate"):
            if not 0.0 <= getattr(self, name) <= 0.2:
                raise _bad(name, getattr(self, name), "0 <= rate <= 0.2")
        if not 1 <= self.lead_time <= 14:
            raise _bad("lead_time", self.lead_time, "1 <= lead_time <= 14 days")
        if not 0.0 < self.alpha <= 1.5:
            raise _bad("alpha", self.alpha, "0 < alpha <= 1.5")
        if not 0.0 <= self.beta <= 0.5:
            raise _bad("beta", self.beta, "0 <= beta <= 0.5")
        stable = stability_limit(self.lead_time)
        if self.beta >= stable:
            raise _bad(
                "beta",
                self.beta,
                f"0 <= beta < {stable:.3f} (the stock loop is unstable beyond, lead_time={self.lead_time})",
            )
        if not 1.0 <= self.cover_days <= 60.0:
            raise _bad("cover_days", self.cover_days, "1 <= cover_days <= 60")
        if not -0.5 <= self.growth <= 0.5:
            raise _bad("growth", self.growth, "-0.5 <= growth <= 0.5 per year")
        if not 0 <= self.n_documents <= 100_000:
            raise _bad("n_documents", self.n_documents, "0 <= n_documents <= 100000")
        if self.document_names not in DOCUMENT_NAMES:
            raise _bad("document_names", self.document_names, f"one of {list(DOCUMENT_NAMES)}")

    @property
    def noise(self) -> dict[str, float]:
        """Source → relative noise σ, from the ``noise_<source>`` fields."""
        return {
            f.name[6:]: getattr(self, f.name) for f in dataclasses.fields(self) if f.name.startswith("noise_")
        }

    def to_dict(self) -> dict[str, Any]:
        """All parameters as plain JSON types."""
        return dataclasses.asdict(self)

    def build(self) -> Scenario:
        """Simulate the scenario with these parameters."""
        raise NotImplementedError


# --------------------------------------------------------------------------------------------------
# Random streams and exogenous signals
# --------------------------------------------------------------------------------------------------


def streams(seed: int, name: str) -> dict[str, np.random.Generator]:
    """One independent generator per purpose in :data:`STREAMS`.

    Parameters
    ----------
    seed
        The scenario seed.
    name
        The scenario name, mixed into the entropy so scenarios with one seed differ.
    """
    root = np.random.SeedSequence([int(seed), zlib.crc32(name.encode())])
    return {k: np.random.default_rng(s) for k, s in zip(STREAMS, root.spawn(len(STREAMS)), strict=True)}


def ar1(rng: np.random.Generator, shape: tuple[int, int], phi: float) -> np.ndarray:
    """Stationary AR(1) paths with unit marginal variance, along axis 0.

    Parameters
    ----------
    shape
        ``(S, N)``: S days, N independent series.
    phi
        Autocorrelation, ``|phi| < 1``.

    Returns
    -------
    numpy.ndarray
        Shape ``(S, N)``, float64; ``z[t] = phi·z[t-1] + sqrt(1-phi²)·e[t]``, ``z[0] ~ N(0, 1)``.
    """
    eps = rng.standard_normal(shape)
    eps[1:] *= math.sqrt(1.0 - phi * phi)
    from scipy.signal import lfilter  # scipy.signal costs ~0.4 s to import: load it on first use

    return lfilter([1.0], [1.0, -phi], eps, axis=0)


def demand_rate(
    rng: np.random.Generator,
    *,
    days: np.ndarray,
    start_dow: int,
    base: np.ndarray,
    growth: np.ndarray,
    weekly: Sequence[float],
    amplitude: np.ndarray,
    shock_sd: float,
    shock_phi: float,
    parent: np.ndarray | None = None,
    rho: float = 0.5,
) -> np.ndarray:
    """Expected daily demand: base × linear trend × weekly season × AR(1) log-shock.

    Parameters
    ----------
    days
        Shape ``(S,)``, day offsets from ``start`` (negative during the burn-in).
    start_dow
        Weekday of ``start`` (Monday = 0).
    base, growth, amplitude
        Shape ``(N,)``: level (units/day), trend per year, weekly amplitude (0 = flat).
    weekly
        Seven multipliers, Monday first, mean 1.
    shock_sd, shock_phi
        Marginal sd and autocorrelation of the log-shock.
    parent
        Shape ``(N,)`` parent index or -1; a child's shock is ``rho·z_parent + sqrt(1-rho²)·z_own``.

    Returns
    -------
    numpy.ndarray
        Shape ``(S, N)``, float64, > 0 (units/day).
    """
    weekly = np.asarray(weekly, dtype=float)
    weekly = weekly / weekly.mean()
    dow = (start_dow + days) % 7
    season = 1.0 + amplitude[None, :] * (weekly[dow][:, None] - 1.0)
    trend = np.maximum(1.0 + growth[None, :] * days[:, None] / 365.0, 0.05)
    z = ar1(rng, (len(days), len(base)), shock_phi)
    if parent is not None and (parent >= 0).any():
        child = parent >= 0
        z[:, child] = rho * z[:, parent[child]] + math.sqrt(1 - rho * rho) * z[:, child]
    shock = np.exp(shock_sd * z - 0.5 * shock_sd**2)
    return base[None, :] * trend * season * shock


# --------------------------------------------------------------------------------------------------
# Nodes
# --------------------------------------------------------------------------------------------------


def node_names(prefix: str, count: int) -> list[str]:
    """``prefix_01``, ``prefix_02``, ... zero-padded so lexicographic order is numeric order."""
    width = max(2, len(str(count)))
    return [f"{prefix}_{i + 1:0{width}d}" for i in range(count)]


def round_robin_parents(n_children: int, n_parents: int) -> np.ndarray:
    """Child ``i`` → parent ``i mod n_parents`` (indices into the parent list)."""
    return np.arange(n_children) % max(n_parents, 1)


# --------------------------------------------------------------------------------------------------
# Assembly helpers
# --------------------------------------------------------------------------------------------------


def truth_panel(
    truth: Mapping[str, np.ndarray], names: Sequence[str], dates: pd.DatetimeIndex
) -> pd.DataFrame:
    """Variable → ``(N, T)`` arrays as a Panel: MultiIndex (``node``, ``ts``), float64 columns."""
    index = pd.MultiIndex.from_product([list(names), dates], names=["node", "ts"])
    return pd.DataFrame(
        {v: np.ascontiguousarray(a, dtype=np.float64).reshape(-1) for v, a in truth.items()}, index=index
    )


def drivers_frame(rows: Sequence[tuple]) -> pd.DataFrame:
    """Driver rows ``(target, driver, lag, effect, node_type, note[, role])`` as a table.

    ``role`` defaults to ``"driver"`` (see :data:`DRIVER_ROLES`).
    """
    full = [tuple(r) if len(r) == 7 else (*r, "driver") for r in rows]
    bad = {r[6] for r in full} - set(DRIVER_ROLES)
    if bad:
        raise ValueError(f"unknown driver role(s) {sorted(bad)}; expected one of {DRIVER_ROLES}")
    df = pd.DataFrame(full, columns=list(DRIVER_COLUMNS))
    return df.astype({"lag": np.int64, "effect": np.float64})


def flow_key_rows(
    q: str, k: str, d: str, *, lag: int, alpha: float, beta: float, fill_mean: float
) -> list[tuple]:
    """The declared equivalents and ancestors of the stock-and-flow key (manufacturing, logistics).

    The rule's drivers (``q[t]`` on ``orders[t-L-1]`` and ``k[t-L]``; ``k[t]`` on the balance
    ``k[t-1] + q[t-1] - d[t-1]``; ``d[t]`` on ``orders[t-L]``) are listed by each scenario.  Two
    identities of the loop (:mod:`sclm.scenarios._network`) make other inputs carry the same
    information, and a model that reads them is right:

    * the balance one day earlier, ``k[s] = k[s-1] + q[s-1] - d[s-1]``, makes ``k[s-1]``,
      ``q[s-1]`` and ``d[s-1]`` together equivalent to the stock cell ``k[s]`` of a rule
      (role ``equivalent``: for ``q[t]`` the cell ``k[t-L]``; for ``k[t]`` the cell ``k[t-1]``);
    * the order rule, ``q[t-1] = rint(alpha·orders[t-L-2] + beta·(target_stock - k[t-L-1]))``,
      makes ``orders[t-L-2]`` and ``k[t-L-1]`` equivalent to the balance's inflow cell
      ``q[t-1]`` (role ``equivalent``), and ``orders[t-L-1]`` is the cell the balance's outflow
      ``d[t-1]`` ships a random share of (role ``ancestor``: the fill rate makes it no copy).

    Parameters
    ----------
    q, k, d : str
        Names of the inflow, stock and outflow variables.
    lag : int
        Lead time L (days).
    alpha, beta : float
        Order-rule weights.
    fill_mean : float
        Mean fill rate (the outflow's share of the orders it serves).

    Returns
    -------
    list of tuple
        Rows ``(target, driver, lag, effect, node_type, note, role)`` for :func:`drivers_frame`
        (one row per cell: where two identities name the same cell, the first note is kept).
    """
    bal = f"{k}[s] = {k}[s-1] + {q}[s-1] - {d}[s-1] (the balance one day earlier)"
    rule = f"{q}[t-1] = rint(alpha*orders[t-{lag + 2}] + beta*(target_stock - {k}[t-{lag + 1}])) (the order rule)"
    rows = [
        (q, k, lag + 1, -beta, "all", f"equivalent of {k}[t-{lag}]: {bal}", "equivalent"),
        (q, q, lag + 1, -beta, "all", f"equivalent of {k}[t-{lag}]: {bal}", "equivalent"),
        (q, d, lag + 1, beta, "all", f"equivalent of {k}[t-{lag}]: {bal}", "equivalent"),
        (k, "orders", lag + 2, alpha, "all", f"equivalent of {q}[t-1]: {rule}", "equivalent"),
        (k, k, lag + 1, -beta, "all", f"equivalent of {q}[t-1]: {rule}", "equivalent"),
        (
            k,
            "orders",
            lag + 1,
            -fill_mean,
            "all",
            f"ancestor of {d}[t-1]: it ships a random share (the fill rate) of orders[t-{lag + 1}]",
            "ancestor",
        ),
        (k, k, 2, 1.0, "all", f"equivalent of {k}[t-1]: {bal}", "equivalent"),
        (k, q, 2, 1.0, "all", f"equivalent of {k}[t-1]: {bal}", "equivalent"),
        (k, d, 2, -1.0, "all", f"equivalent of {k}[t-1]: {bal}", "equivalent"),
    ]
    seen: set[tuple[str, str, int]] = set()
    out = []
    for r in rows:
        if (r[0], r[1], r[2]) not in seen:
            seen.add((r[0], r[1], r[2]))
            out.append(r)
    return out


def units_frame(names: Sequence[str], upc: np.ndarray, native: Mapping[str, str]) -> pd.DataFrame:
    """The units table: one row per (node, variable), pack size for count variables, else 1."""
    rows = []
    for i, node in enumerate(names):
        for var, unit in native.items():
            rows.append((node, var, unit, int(upc[i]) if unit == COUNT_UNIT else 1))
    df = pd.DataFrame(rows, columns=["node", "variable", "unit", "units_per_case"])
    return df.astype({"units_per_case": np.int64})


def jsonable(obj: Any) -> Any:
    """Round-trip through JSON so ``meta`` holds plain types only (and fails loudly otherwise)."""
    return json.loads(json.dumps(obj, allow_nan=False))


def build_scenario(
    *,
    params: ScenarioParams,
    rngs: Mapping[str, np.random.Generator],
    names: Sequence[str],
    node_types: Sequence[str],
    parents: Sequence[str],
    cities: Sequence[tuple[str, str]],
    products: Sequence[str],
    units_per_case: np.ndarray,
    capacity: np.ndarray,
    target_stock: np.ndarray,
    dates: pd.DatetimeIndex,
    truth: Mapping[str, np.ndarray],
    native_units: Mapping[str, str],
    channels: Sequence[Channel],
    drivers: Sequence[tuple[str, str, int, float, str, str]],
    documents: Mapping[str, str],
    meta: Mapping[str, Any],
    node_extra: Mapping[str, np.ndarray] | None = None,
    counterparties: Mapping[str, Sequence[str]] | None = None,
) -> Scenario:
    """Bundle a simulated truth into a :class:`Scenario` (readings, faults, documents, tables, meta).

    Parameters
    ----------
    names, node_types, parents, cities, products
        Length N, nodes in sorted name order; ``parents`` holds ``""`` at the top;
        ``cities`` holds (city, country) pairs.
    units_per_case, capacity, target_stock
        Shape ``(N,)``.
    truth
        Variable → ``(N, T)`` float64 array (the panel columns, in order).
    native_units
        Variable → native unit (``"unit"`` marks a count variable).
    channels
        The sources of each variable (see :class:`Channel`).
    drivers
        Rows ``(target, driver, lag, effect, node_type, note)``.
    documents
        Document kind → truth variable it states.
    meta
        Scenario-specific entries (targets, distractors, description, ...).
    node_extra
        Extra columns of the nodes table (length N each).
    counterparties
        Document kind → organisation names (overrides the defaults of :mod:`.documents`).

    The documents draw their names from
    :func:`~sclm.scenarios.documents.scenario_pools` ``(params.document_names, counterparties)``;
    ``meta["document_names"]`` is ``{"option", "source", "lang", "sha256"}`` of those pools.
    """
    if list(names) != sorted(names):
        raise AssertionError("node names must be given in sorted order")
    readings, faults = measure_and_corrupt(
        truth=truth,
        names=names,
        node_types=node_types,
        units_per_case=units_per_case,
        dates=dates,
        channels=channels,
        params=params,
        rng_measure=rngs["measurement"],
        rng_faults=rngs["faults"],
    )
    info = [NodeInfo(city=c[0], product=p) for c, p in zip(cities, products, strict=True)]
    pools = scenario_pools(params.document_names, counterparties)
    docs = make_documents(
        rngs["documents"],
        truth=truth,
        names=names,
        info=info,
        dates=dates,
        spec=documents,
        n_documents=params.n_documents,
        pools=pools,
    )
    nodes = pd.DataFrame(
        {
            "node": _obj(names),
            "node_type": _obj(node_types),
            "parent": _obj(parents),
            "city": _obj([c[0] for c in cities]),
            "country": _obj([c[1] for c in cities]),
            "product": _obj(products),
            "units_per_case": np.asarray(units_per_case, dtype=np.int64),
            "capacity": np.asarray(capacity, dtype=np.float64),
            "target_stock": np.asarray(target_stock, dtype=np.float64),
            **(node_extra or {}),
        }
    )
    sources: dict[str, list[str]] = {}
    for ch in sorted(channels, key=lambda c: (c.variable, c.source)):
        sources.setdefault(ch.variable, []).append(ch.source)
    used = sorted({c.source for c in channels})
    counts = {t: int(n) for t, n in pd.Series(list(node_types)).value_counts(sort=False).items()}
    full_meta = {
        "name": params.scenario,
        "seed": params.seed,
        "params": params.to_dict(),
        "p": params.p,
        "noise": {s: params.noise.get(s, 0.0) for s in used},
        "noise_model": "relative Gaussian: value = max(0, x * (1 + sigma * N(0, 1)))",
        "iot_model": "binomial thinning: iot = Binomial(truth, 1 - p) (unbiased, E = (1 - p) * truth)",
        "cases_model": "value = units / units_per_case (not rounded), unit 'case'",
        "start": dates[0].strftime("%Y-%m-%d"),
        "end": dates[-1].strftime("%Y-%m-%d"),
        "n_days": len(dates),
        "n_nodes": len(names),
        "node_counts": counts,
        "variables": list(truth),
        "units": dict(native_units),
        "sources": sources,
        "exact_channels": [f"{c.variable}/{c.source}" for c in channels if c.exact],
        "fault_rates": {
            "outlier": params.outlier_rate,
            "missing": params.missing_rate,
            "duplicate": params.duplicate_rate,
        },
        "fault_kinds": list(FAULT_KINDS),
        "documents": dict(documents),
        "document_names": {"option": params.document_names, **pools.fingerprint()},
        "burn_in_days": BURN_IN_DAYS,
        "lead_time": params.lead_time,
        **meta,
    }
    return Scenario(
        name=params.scenario,
        readings=readings,
        truth=truth_panel(truth, names, dates),
        faults=faults,
        drivers=drivers_frame(drivers),
        documents=docs,
        nodes=nodes,
        units=units_frame(names, np.asarray(units_per_case), native_units),
        meta=jsonable(full_meta),
    )


def panel_days(params: ScenarioParams) -> tuple[pd.DatetimeIndex, np.ndarray, int]:
    """The panel dates, the simulated day offsets (burn-in included) and the start weekday.

    Returns
    -------
    dates : pandas.DatetimeIndex
        ``n_days`` daily dates from ``start`` (datetime64[ns]).
    days : numpy.ndarray
        Shape ``(BURN_IN_DAYS + n_days,)``: ``-BURN_IN_DAYS .. n_days - 1``.
    start_dow : int
        Weekday of ``start`` (Monday = 0).
    """
    dates = pd.date_range(params.start, periods=params.n_days, freq="D").astype("datetime64[ns]")
    days = np.arange(-BURN_IN_DAYS, params.n_days)
    return dates, days, int(dates[0].dayofweek)


def pick_cities(rng: np.random.Generator, n: int) -> list[tuple[str, str]]:
    """``n`` (city, country) pairs: a random order of the city list, repeated as needed."""
    order = rng.permutation(len(CITIES))
    return [CITIES[order[i % len(CITIES)]] for i in range(n)]
