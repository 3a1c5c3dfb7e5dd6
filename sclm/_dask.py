"""Cleaning and fusion on Dask: partitions of whole nodes, the pandas code per partition, exact reductions.

Where each rule lives
---------------------
Every rule of cleaning and fusion but two is **per node** (per (node, variable), per series or
per key): units (declared or majority unit of a (node, variable)), duplicates (per key), outliers
(Hampel on each series, cross-source within a (node, variable, day)), gaps (per series), the
fused value of a cell, its fill (within a node) and the panel span (per node).  Each Dask
partition holds whole nodes and runs the *same* pandas code as the in-memory path
(``ReadingsCleaner._fit_inputs`` / ``_transform_run``, ``SourceFuser._transform``): there is one
implementation of every rule.

The two **global** estimates are per (source, variable) over all nodes:

* the noise rate ``p̂`` (:func:`sclm.cleaning.estimate_noise_rate`): its screen uses medians (the
  starting ratio over groups of consecutive days, the dispersion ``κ²``), which no sum of
  per-partition statistics reproduces.  Each partition returns its sufficient data — the aligned
  (counter, reference) values of every node-day, 16 bytes per node-day of a counter, ordered by
  (node, day) — the driver concatenates them in node order (the order of the in-memory path) and
  runs the estimator once; the ratio of sums over the kept days is then bit for bit the pandas one.
* the source noise ``σ̂`` (:mod:`sclm.fusion.noise`): medians and MADs of pairwise differences,
  then a screened variance; likewise each partition returns the differences of every pair of
  sources on the node-days both report (8 bytes each) and the counts ``n_days``, which are summed;
  the driver orders the differences by node and solves the three-cornered hat once.

So the Dask result equals the pandas result exactly (tested on a scenario: frames, audit,
``p_``, ``weights_``, ``pairs_``).  Row order: a partition's cleaned rows come in the pandas order
(its surviving rows in input order, then its filled rows), partition after partition (ordered by
their first node); the audit likewise, so it equals the pandas audit up to row order.

Input: a Dask frame (its partitions are checked for whole nodes, and shuffled by node keeping
the input order within a node when they are not), or a folder of Parquet files whose node ranges
(Parquet statistics) do not overlap, read file by file with category labels
(:func:`sclm.io.read_partition`).  Passes: cleaning reads the data twice (fit: the conversions
and the p̂ data; transform), fusion twice more (fit: the σ̂ data; transform).

Schedulers
----------
``client=`` (a :class:`distributed.Client`, a scheduler address, or one of dask's local schedulers
``"synchronous"``/``"threads"``/``"processes"``), else ``SCLM_DASK_SCHEDULER`` (same values),
else the current distributed client, else a :class:`distributed.LocalCluster` started once per
process (2 workers of 1 thread at most, one per CPU) and closed at exit (:func:`close`).
"""

from __future__ import annotations

import atexit
import copy
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sclm.schema import READING_COLUMNS, DataValidationError

__all__ = ["close", "is_scalable", "runner"]

_LOCAL = ("synchronous", "sync", "single-threaded", "threads", "threading", "processes")
_created: dict[str, Any] = {}


# -- scheduler ------------------------------------------------------------------------------------
class _Runner:
    """Computes Dask objects on a distributed client or a local scheduler."""

    def __init__(self, client: Any = None, scheduler: str | None = None) -> None:
        self.client = client
        self.scheduler = scheduler

    def compute(self, objs: list[Any]) -> list[Any]:
        import dask

        if not objs:
            return []
        if self.client is not None:
            return list(self.client.compute(objs, sync=True))
        return list(dask.compute(*objs, scheduler=self.scheduler))


def close() -> None:
    """Close the clients and LocalCluster this module created (also run at interpreter exit)."""
    for key in list(_created):
        client, cluster = _created.pop(key)
        client.close()
        if cluster is not None:
            cluster.close()


atexit.register(close)


def runner(client: Any = None) -> _Runner:
    """The scheduler to run on: ``client=``, else ``SCLM_DASK_SCHEDULER``, else the current client, else a LocalCluster."""
    from distributed import Client, LocalCluster

    if client is None:
        client = os.environ.get("SCLM_DASK_SCHEDULER") or None
    if isinstance(client, Client):
        return _Runner(client)
    if isinstance(client, str):
        if client in _LOCAL:
            return _Runner(None, client)
        if client not in _created:
            _created[client] = (Client(client), None)
        return _Runner(_created[client][0])
    if client is not None:
        raise TypeError(
            f"client must be a distributed.Client, a scheduler address or one of {list(_LOCAL)}; got {client!r}"
        )
    try:
        from distributed import get_client

        return _Runner(get_client())
    except ValueError:
        pass
    if "local" not in _created:
        n = max(1, min(2, os.cpu_count() or 1))
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None)
        _created["local"] = (Client(cluster), cluster)
    return _Runner(_created["local"][0])


def is_scalable(readings: Any) -> bool:
    """Whether ``readings`` is a Dask DataFrame or a path (the Dask path), not an in-memory table."""
    if isinstance(readings, str | os.PathLike):
        return True
    if isinstance(readings, pd.DataFrame) or "dask.dataframe" not in sys.modules:
        return False  # a Dask frame exists only once dask.dataframe is imported: no import here
    return isinstance(readings, sys.modules["dask.dataframe"].DataFrame)


def _from_delayed(parts: list[Any], meta: pd.DataFrame, verify_meta: bool = False) -> Any:
    """``dd.from_delayed`` keeping object labels (no conversion to Arrow strings: the pandas contract)."""
    import dask
    import dask.dataframe as dd

    with dask.config.set({"dataframe.convert-string": False}):
        return dd.from_delayed(parts, meta=meta, verify_meta=verify_meta)


def _frame(readings: Any) -> Any:
    from sclm.io import _as_readings, read_readings

    if isinstance(readings, str | os.PathLike):
        return read_readings(readings)
    missing = [c for c in READING_COLUMNS if c not in readings.columns]
    if missing:
        raise DataValidationError(
            f"readings: missing column(s) {missing}; expected {list(READING_COLUMNS)} (Dask frame)"
        )
    import dask

    with dask.config.set({"dataframe.convert-string": False}):
        return readings.map_partitions(_as_readings, meta=_as_readings(readings._meta))


# -- partitions of whole nodes --------------------------------------------------------------------
def _unique_nodes(node: pd.Series) -> np.ndarray:
    return np.asarray(pd.unique(node.to_numpy()), dtype=object)


def _restore_order(part: pd.DataFrame) -> pd.DataFrame:
    return part.sort_values("_sclm_row", kind="stable").drop(columns="_sclm_row")


def _disjoint_files(readings: Any, ddf: Any) -> list[tuple[str, str]] | None:
    """For a folder whose files (one partition each) have disjoint node ranges: the ranges; else None."""
    from sclm.io import node_ranges

    if not isinstance(readings, str | os.PathLike):
        return None
    ranges = node_ranges(readings)
    if ranges is None or len(ranges) != ddf.npartitions:
        return None
    ordered = sorted(ranges)
    if any(a[1] >= b[0] for a, b in zip(ordered[:-1], ordered[1:], strict=True)):
        return None
    return ranges


def _node_parts(ddf: Any, run: _Runner, readings: Any = None) -> tuple[list[Any], list[np.ndarray]]:
    """Delayed partitions holding whole nodes (shuffled by node only when a node spans partitions).

    Returns the partitions, ordered by their first node, and each one's node labels (sorted).  A
    folder whose files' node ranges (Parquet statistics) do not overlap needs no pass over the data;
    its node labels are then the (min, max) of each file (enough for the ordering and for the
    imputed keys, which are split by range).
    """
    from dask import delayed

    ranges = _disjoint_files(readings, ddf)
    if ranges is not None:
        from sclm.io import _files, read_partition

        order = sorted(range(len(ranges)), key=lambda i: ranges[i][0])
        parts = [delayed(read_partition)(f) for f in _files(readings)]  # category labels: no hashing
        return [parts[i] for i in order], [np.array(ranges[i], dtype=object) for i in order]
    nodes = run.compute([delayed(_unique_nodes)(p) for p in ddf["node"].to_delayed()])
    flat = np.concatenate(nodes) if nodes else np.empty(0, dtype=object)
    if len(flat) == 0:
        raise DataValidationError("readings: the Dask frame has no rows; expected at least one reading")
    if len(pd.unique(flat)) == len(flat):
        parts = list(ddf.to_delayed())
    else:  # a node in several partitions: shuffle by node, keeping the input order within a node
        with_row = ddf.assign(_sclm_row=1)
        with_row["_sclm_row"] = with_row["_sclm_row"].cumsum()
        shuffled = with_row.shuffle("node", npartitions=ddf.npartitions)
        parts = [delayed(_restore_order)(p) for p in shuffled.to_delayed()]
        nodes = run.compute([delayed(lambda f: _unique_nodes(f["node"]))(p) for p in parts])
    keep = [i for i, n in enumerate(nodes) if len(n)]
    keep.sort(key=lambda i: min(nodes[i]))
    return [parts[i] for i in keep], [np.sort(nodes[i]) for i in keep]


def _merge_segments(
    items: list[tuple[np.ndarray, np.ndarray, tuple[np.ndarray, ...]]],
) -> tuple[np.ndarray, ...]:
    """Concatenate per-node segments from several partitions in node-label order.

    ``items``: per partition ``(node labels, rows per node, arrays)``, each array ordered by node.
    Returns the arrays concatenated over all nodes sorted by label, and the node label per element.
    """
    segs = []
    for labels, counts, arrays in items:
        starts = np.cumsum(counts) - counts
        for lab, a, k in zip(labels, starts, counts, strict=True):
            segs.append((lab, [x[a : a + k] for x in arrays]))
    segs.sort(key=lambda s: s[0])
    n_arr = len(items[0][2]) if items else 0
    if not segs:
        return (*(np.empty(0) for _ in range(n_arr)), np.empty(0, dtype=object))
    out = tuple(np.concatenate([s[1][j] for s in segs]) for j in range(n_arr))
    labels = np.repeat(np.array([s[0] for s in segs], dtype=object), [len(s[1][0]) for s in segs])
    return (*out, labels)


# -- cleaning -------------------------------------------------------------------------------------
def _shared(estimator: Any) -> Any:
    """``estimator`` as one graph key that every partition's task depends on.

    Passed as a plain argument it would be embedded (pickled, and held by the worker) in every
    task: a cleaner's unit declarations and conversions are megabytes at 10^4 nodes, which at
    hundreds of partitions filled the workers' memory (unmanaged) until they paused.  As one key
    it travels to each worker once.
    """
    from dask import delayed

    return delayed(estimator)


def _clean_fit_part(part: pd.DataFrame, cleaner: Any) -> tuple[Any, ...]:
    from sclm.cleaning._engine import _encode

    c = copy.copy(cleaner)
    c._validate()
    conversions, pairs, data = c._fit_inputs(_encode(part))
    return conversions, pairs, data


def _clean_transform_part(
    part: pd.DataFrame, cleaner: Any
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    from sclm.cleaning._engine import _encode

    c = copy.copy(cleaner)
    c._validate()
    cleaned = c._transform_run(_encode(part))
    return cleaned, pd.DataFrame(c.audit_), c.gaps_


def clean_fit(cleaner: Any, readings: Any, client: Any = None) -> Any:
    """``ReadingsCleaner.fit`` on a Dask frame or a Parquet path: one pass, exact reductions."""
    from dask import delayed

    cleaner._validate()
    run = runner(client)
    ddf = _frame(readings)
    parts, _ = _node_parts(ddf, run, readings)
    shared = _shared(cleaner)
    results = run.compute([delayed(_clean_fit_part)(p, shared) for p in parts])
    conversions = pd.concat([r[0] for r in results], ignore_index=True)
    conversions = conversions.sort_values("node", kind="stable", ignore_index=True)
    pairs = sorted({pair for r in results for pair in r[1]})
    keys = sorted({k for r in results for k in r[2]})
    aligned = {}
    for k in keys:
        y, x, _ = _merge_segments(
            [(d[0], d[1], (d[2], d[3])) for r in results if (d := r[2].get(k)) is not None]
        )
        aligned[k] = (y, x)
    cleaner._fit_finish(conversions, pairs, aligned)
    cleaner._record_input(ddf._meta)
    cleaner._dask_parts = None
    return cleaner


def clean_transform(cleaner: Any, readings: Any, client: Any = None, out: Any = None) -> Any:
    """``ReadingsCleaner.transform`` on a Dask frame (lazy result) or a path (written to ``out``)."""
    from dask import delayed

    from sclm.cleaning._output import _gaps_frame
    from sclm.cleaning.audit import _empty_audit

    cleaner._check_fitted()
    cleaner._validate()
    run = runner(client)
    path_in = isinstance(readings, str | os.PathLike)
    ddf = _frame(readings)
    parts, _ = _node_parts(ddf, run, readings)
    shared = _shared(cleaner)
    tasks = [delayed(_clean_transform_part)(p, shared) for p in parts]
    if path_in or out is not None:
        target = Path(out) if out is not None else Path(f"{Path(readings).as_posix().rstrip('/')}.clean")
        written = run.compute([delayed(_write_clean)(t, target, i) for i, t in enumerate(tasks)])
        cleaner.gaps_ = pd.concat([w[1] for w in written], ignore_index=True) if written else None
        cleaner.audit_ = target / "audit"
        cleaner.n_readings_out_ = int(sum(w[0] for w in written))
        return target / "readings"
    gaps_meta = _gaps_frame(_EmptyRun())
    cleaned = _from_delayed([t[0] for t in tasks], meta=ddf._meta, verify_meta=False)
    cleaner.audit_ = _from_delayed(
        [t[1] for t in tasks], meta=pd.DataFrame(_empty_audit()), verify_meta=False
    )
    cleaner.gaps_ = _from_delayed([t[2] for t in tasks], meta=gaps_meta, verify_meta=False)
    return cleaned


class _EmptyRun:
    gaps: list[Any] = []
    layout = None


def _write_clean(result: tuple[pd.DataFrame, ...], target: Path, i: int) -> tuple[int, pd.DataFrame]:
    cleaned, audit, gaps = result
    for name, frame in (("readings", cleaned), ("audit", audit)):
        (target / name).mkdir(parents=True, exist_ok=True)
        frame.to_parquet(target / name / f"part-{i:05d}.parquet", index=False, row_group_size=len(frame) + 1)
    return len(cleaned), gaps


# -- fusion ---------------------------------------------------------------------------------------
def _split_imputed(imputed: Any, nodes: list[np.ndarray], run: _Runner) -> list[pd.DataFrame | None]:
    """The imputed keys of each partition's nodes.

    ``imputed``: a pandas frame of keys (as in the pandas path), or the cleaning audit as a Dask
    frame or a Parquet folder (``clean``'s ``<out>/audit``), of which the invented readings are
    taken (:func:`sclm.scoring.imputed_keys`: filled gaps and replaced outliers).
    """
    if imputed is None:
        return [None] * len(nodes)
    if isinstance(imputed, str | os.PathLike):
        import dask
        import dask.dataframe as dd

        if not Path(imputed).exists():
            raise FileNotFoundError(
                f"imputed: {str(imputed)!r} does not exist; expected the audit folder of clean"
            )
        with dask.config.set({"dataframe.convert-string": False}):
            imputed = dd.read_parquet(
                str(imputed), columns=["node", "ts", "variable", "source", "rule", "action"]
            )
    if not isinstance(imputed, pd.DataFrame):
        from sclm.scoring import imputed_keys

        if {"rule", "action"} <= set(imputed.columns):
            imputed = imputed.map_partitions(
                imputed_keys, meta=imputed._meta[["node", "ts", "variable", "source"]]
            )
        imputed = run.compute([imputed[["node", "ts", "variable", "source"]]])[0]
    node = imputed["node"].astype(object)
    # a partition's nodes, or the label range of a file of whole nodes (keys of other nodes are ignored)
    return [imputed[node.isin(n)] if len(n) > 2 else imputed[(node >= n[0]) & (node <= n[-1])] for n in nodes]


def _fuse_fit_part(part: pd.DataFrame, fuser: Any, imputed: pd.DataFrame | None) -> dict[str, Any]:
    from sclm.fusion._table import _dense, _read
    from sclm.fusion.noise import _group_codes, _pair_diffs

    t = _read(part)
    dense = _dense(t, part, imputed)
    node_group, names = _group_codes(t, fuser.weights_by)
    cell_group = np.repeat(node_group, t.n_days)
    vars_ = {}
    for var in dense:
        n_days, pairs, diffs = _pair_diffs(var, cell_group, len(names), relative=fuser.noise == "relative")
        src = [str(s) for s in var.sources]
        segs = {}
        for (a, b), (d, _, cells) in zip(pairs, diffs, strict=True):
            node = cells // t.n_days
            starts = (
                np.flatnonzero(np.r_[True, node[1:] != node[:-1]]) if len(node) else np.empty(0, np.int64)
            )
            counts = np.diff(np.append(starts, len(node)))
            segs[(src[a], src[b])] = (t.nodes[node[starts]], counts, (d,))
        vars_[var.name] = (src, names, n_days, segs)
    return {
        "nodes": t.nodes,
        "node_types": t.node_types,
        "units": dict(t.units),
        "n": len(t.node),
        "vars": vars_,
    }


def fuse_fit(fuser: Any, readings: Any, client: Any = None, imputed: Any = None) -> Any:
    """``SourceFuser.fit`` on a Dask frame or a path: one pass, the σ̂ data reduced exactly."""
    from dask import delayed

    from sclm.fusion._table import _Var
    from sclm.fusion.noise import _solve_noise

    fuser._check_params()
    run = runner(client)
    ddf = _frame(readings)
    parts, nodes = _node_parts(ddf, run, readings)
    imp = _split_imputed(imputed, nodes, run)
    shared = _shared(fuser)
    res = run.compute([delayed(_fuse_fit_part)(p, shared, i) for p, i in zip(parts, imp, strict=True)])
    all_nodes = np.concatenate([r["nodes"] for r in res])
    all_types = np.concatenate([r["node_types"] for r in res])
    order = np.argsort(all_nodes, kind="stable")
    all_nodes, all_types = all_nodes[order], all_types[order]
    units: dict[str, str] = {}
    for r in res:
        for v, u in r["units"].items():
            if units.setdefault(v, u) != u:
                raise DataValidationError(
                    f"readings: variable {v!r} comes in several units {sorted({units[v], u})}; "
                    "expected one unit per variable (convert units before fusing)"
                )
    variables = sorted(units)
    if fuser.weights_by == "variable":
        group_names = np.array(["all"], dtype=object)
        group_of = np.zeros(len(all_nodes), dtype=np.int64)
    elif fuser.weights_by == "node":
        group_names, group_of = all_nodes, np.arange(len(all_nodes))
    else:
        group_names = np.array(sorted(set(all_types.tolist())), dtype=object)
        group_of = np.searchsorted(group_names, all_types)
    n_groups = len(group_names)
    stats = {}
    for v in variables:
        entries = [r["vars"][v] for r in res if v in r["vars"]]
        sources = np.array(sorted({s for e in entries for s in e[0]}), dtype=object)
        spos = {s: j for j, s in enumerate(sources)}
        gpos = {g: i for i, g in enumerate(group_names)}
        n_days = np.zeros((n_groups, len(sources)), dtype=np.int64)
        for src, names, nd, _ in entries:
            rows = [gpos[g] for g in names]
            cols = [spos[s] for s in src]
            np.add.at(n_days, (np.array(rows)[:, None], np.array(cols)[None, :]), nd)
        pairs = [(a, b) for a in range(len(sources)) for b in range(a + 1, len(sources))]
        diffs = []
        for a, b in pairs:
            key = (str(sources[a]), str(sources[b]))
            d, labels = _merge_segments([e[3][key] for e in entries if key in e[3]])
            g = group_of[np.searchsorted(all_nodes, labels)] if len(labels) else np.empty(0, dtype=np.int64)
            diffs.append((d, g))
        var = _Var(name=v, sources=sources, A=np.empty((0, len(sources))))
        stats[v] = _solve_noise(
            var, n_days, pairs, diffs, n_groups, spread=fuser.spread, min_overlap=fuser.min_overlap
        )
    fuser._fit_stats(
        stats,
        group_names,
        variables=variables,
        units={v: units[v] for v in variables},
        node_types=dict(zip(map(str, all_nodes), map(str, all_types), strict=True)),
        n_readings=int(sum(r["n"] for r in res)),
    )
    return fuser


def _fuse_transform_part(
    part: pd.DataFrame, fuser: Any, imputed: pd.DataFrame | None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    from sclm.fusion._table import _dense, _read

    f = copy.copy(fuser)
    t = _read(part)
    panel = f._transform(t, _dense(t, part, imputed))
    panel = panel.reindex(columns=f.variables_).reset_index()
    mask = f.filled_mask_.reindex(columns=f.variables_, fill_value=False).reset_index()
    return panel, f.filled_, mask, f.rejected_


def fuse_transform(
    fuser: Any, readings: Any, client: Any = None, imputed: Any = None, out: Any = None
) -> Any:
    """``SourceFuser.transform`` on a Dask frame (lazy panel, index reset) or a path (written to ``out``)."""
    from dask import delayed

    fuser._check_fitted()
    fuser._check_params()
    run = runner(client)
    path_in = isinstance(readings, str | os.PathLike)
    ddf = _frame(readings)
    parts, nodes = _node_parts(ddf, run, readings)
    imp = _split_imputed(imputed, nodes, run)
    shared = _shared(fuser)
    tasks = [delayed(_fuse_transform_part)(p, shared, i) for p, i in zip(parts, imp, strict=True)]
    meta = pd.DataFrame(
        {
            "node": pd.Series(dtype=object),
            "ts": pd.Series(dtype="datetime64[ns]"),
            **{v: pd.Series(dtype=np.float64) for v in fuser.variables_},
        }
    )
    mask_meta = meta.astype({v: bool for v in fuser.variables_})
    filled_meta = pd.DataFrame(
        {
            "node": pd.Series(dtype=object),
            "variable": pd.Series(dtype=object),
            **{c: pd.Series(dtype=np.int64) for c in ("n_days", "n_observed", "n_interpolated")},
            **{c: pd.Series(dtype=np.int64) for c in ("n_extended", "n_imputed", "n_nan")},
        }
    )
    rej_meta = pd.DataFrame(
        {
            "variable": pd.Series(dtype=object),
            "source": pd.Series(dtype=object),
            "n_rejected": pd.Series(dtype=np.int64),
        }
    )
    if path_in or out is not None:
        target = Path(out) if out is not None else Path(f"{Path(readings).as_posix().rstrip('/')}.panel")
        written = run.compute([delayed(_write_fused)(t, target, i) for i, t in enumerate(tasks)])
        _reduce_reports(fuser, [w[0] for w in written], [w[1] for w in written])
        fuser.filled_mask_ = target / "filled_mask"
        return target / "panel"
    fuser.filled_ = _from_delayed([t[1] for t in tasks], meta=filled_meta, verify_meta=False)
    fuser.filled_mask_ = _from_delayed([t[2] for t in tasks], meta=mask_meta, verify_meta=False)
    fuser.rejected_ = _from_delayed([t[3] for t in tasks], meta=rej_meta, verify_meta=False)
    fuser.n_filled_ = None
    return _from_delayed([t[0] for t in tasks], meta=meta, verify_meta=False)


def _write_fused(result: tuple[pd.DataFrame, ...], target: Path, i: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    panel, filled, mask, rejected = result
    for name, frame in (("panel", panel), ("filled_mask", mask)):
        (target / name).mkdir(parents=True, exist_ok=True)
        frame.to_parquet(target / name / f"part-{i:05d}.parquet", index=False, row_group_size=len(frame) + 1)
    return filled, rejected


def _reduce_reports(fuser: Any, filled: list[pd.DataFrame], rejected: list[pd.DataFrame]) -> None:
    """``filled_``, ``rejected_`` and ``n_filled_`` of the whole panel from the partitions' (exact sums)."""
    f = pd.concat(filled, ignore_index=True).sort_values(["node", "variable"], ignore_index=True)
    fuser.filled_ = f
    fuser.n_filled_ = int(f[["n_interpolated", "n_extended", "n_imputed"]].to_numpy().sum())
    r = pd.concat(rejected, ignore_index=True)
    if len(r):
        r = r.groupby(["variable", "source"], sort=True, as_index=False)["n_rejected"].sum()
    fuser.rejected_ = r.astype({"n_rejected": np.int64}).reset_index(drop=True)


def compute_reports(fuser: Any, client: Any = None) -> None:
    """Compute a lazy (Dask) transform's ``filled_`` / ``rejected_`` into pandas and set ``n_filled_``."""
    run = runner(client)
    filled, rejected = run.compute([fuser.filled_, fuser.rejected_])
    _reduce_reports(fuser, [filled], [rejected])
