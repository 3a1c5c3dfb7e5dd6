"""Benchmark: cleaning + fusion out of core on Dask (2 workers) against pandas in memory, one run.

1. Generates ``--readings`` readings (default 100 M) to partitioned Parquet (``sclm.io.write_readings``)
   chunk by chunk — manufacturing scenarios of ``--chunk-nodes`` nodes each, node names prefixed
   by the chunk, so no more than one chunk is ever in memory.
2. Cleans and fuses them out of core: ``sclm.clean(folder)`` then ``sclm.fuse(cleaned folder,
   imputed=audit folder)`` on a ``LocalCluster`` of ``--workers`` workers (1 thread each,
   ``--memory-limit`` each); the RSS of this process and all its children is sampled every
   0.2 s with psutil (goal: peak <= 4 GB); readings per second.
3. The same figures for ``--pandas-readings`` (default 10 M) with pandas in memory
   (``ReadingsCleaner.fit_transform`` + ``fuse``), in the same run, and their time against one
   pandas ``groupby(["node", "ts", "variable"]).value.mean()`` of that table (wall, and CPU:
   the fair figure on a shared machine; goal <= 3).

``--data-dir`` keeps the Parquet data (and ``units.parquet``) there; ``--reuse-data`` then skips
step 1 on a later run.

Prints the table and writes build/bench/scale.json.  Run:
.venv/bin/python bench/scale.py [--readings 1000000 --pandas-readings 1000000]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd
import psutil

import sclm
from sclm import scoring
from sclm.benchmarking import Bench
from sclm.cleaning import ReadingsCleaner
from sclm.fusion import fuse
from sclm.io import write_readings


class PeakRSS:
    """Peak of the summed RSS of this process and its children (bytes), sampled in a thread."""

    def __init__(self, every: float = 0.2) -> None:
        self.every, self.peak, self._stop = every, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._cpu: dict[int, float] = {}
        self._cpu0 = 0.0

    @property
    def cpu_seconds(self) -> float:
        """User + system CPU seconds of this process and its children over the block (last samples)."""
        return sum(self._cpu.values()) - self._cpu0

    def _sample(self) -> int:
        me = psutil.Process()
        total = 0
        for proc in [me, *me.children(recursive=True)]:
            try:
                total += proc.memory_info().rss
                t = proc.cpu_times()
                self._cpu[proc.pid] = t.user + t.system
            except psutil.Error:
                pass
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            self._stop.wait(self.every)

    def __enter__(self) -> PeakRSS:
        self.peak = self._sample()
        self._cpu0 = sum(self._cpu.values())
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._sample())


def _chunk(i: int, nodes: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    sc = sclm.make_scenario("manufacturing", seed=i, n_nodes=nodes)
    r, u = sc.readings, sc.units.copy()
    prefix = f"g{i:04d}_"
    r["node"] = prefix + r["node"].astype(str)
    u["node"] = prefix + u["node"].astype(str)
    return r, u


def generate(
    folder: Path, target: int, chunk_nodes: int, rows_per_file: int
) -> tuple[int, pd.DataFrame, float]:
    """Write about ``target`` readings to ``folder``; returns (rows, unit declarations, seconds)."""
    t0 = time.perf_counter()
    total, units, i = 0, [], 0
    while total < target:
        r, u = _chunk(i, chunk_nodes)
        if total + len(r) > target:  # last chunk: keep whole nodes up to the target
            per_node = r.groupby("node", sort=True).size().cumsum()
            keep = per_node.index[per_node <= target - total]
            r = r[r["node"].isin(keep)] if len(keep) else r[r["node"] == per_node.index[0]]
        write_readings(r, folder, rows_per_file=rows_per_file, append=i > 0)
        total += len(r)
        units.append(u[u["node"].isin(r["node"].unique())])
        i += 1
    table = pd.concat(units, ignore_index=True)
    table.to_parquet(folder.parent / "units.parquet", index=False)  # for --reuse-data
    return total, table, time.perf_counter() - t0


def reuse(folder: Path) -> tuple[int, pd.DataFrame, float] | None:
    """The readings already generated in ``folder`` (rows from the Parquet metadata), or None."""
    import pyarrow.parquet as pq

    units = folder.parent / "units.parquet"
    if not units.exists() or not folder.exists():
        return None
    n = sum(pq.ParquetFile(f).metadata.num_rows for f in sorted(folder.glob("*.parquet")))
    return n, pd.read_parquet(units), 0.0


def run_dask(folder: Path, units: pd.DataFrame, workers: int, memory_limit: str) -> dict:
    from distributed import Client, LocalCluster

    with PeakRSS() as rss:
        with (
            LocalCluster(
                n_workers=workers, threads_per_worker=1, memory_limit=memory_limit, dashboard_address=None
            ) as cluster,
            Client(cluster) as client,
        ):
            client.run(lambda: None)  # workers up before the clock starts
            t0 = time.perf_counter()
            cleaned, audit = sclm.clean(folder, units=units, client=client)
            t_clean = time.perf_counter() - t0
            panel = fuse(cleaned, imputed=audit, client=client)
            t_total = time.perf_counter() - t0
    return {"clean_s": t_clean, "total_s": t_total, "peak": rss.peak, "cpu": rss.cpu_seconds, "panel": panel}


def run_pandas(n_target: int) -> dict:
    nodes = max(1, round(n_target / 10e6 * 1200))  # 1200 manufacturing nodes give about 10 M readings
    sc = sclm.make_scenario("manufacturing", seed=0, n_nodes=nodes)
    readings, units = sc.readings, sc.units
    del sc
    c0, t0 = time.process_time(), time.perf_counter()
    readings.groupby(["node", "ts", "variable"], sort=False)["value"].mean()
    t_groupby, c_groupby = time.perf_counter() - t0, time.process_time() - c0
    with PeakRSS() as rss:
        t0 = time.perf_counter()
        cleaner = ReadingsCleaner(units=units)
        cleaned = cleaner.fit_transform(readings)
        fuse(cleaned, imputed=scoring.imputed_keys(cleaner.audit_))
        t_total = time.perf_counter() - t0
    return {
        "n": len(readings),
        "total_s": t_total,
        "groupby_s": t_groupby,
        "groupby_cpu": c_groupby,
        "peak": rss.peak,
        "cpu": rss.cpu_seconds,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--readings", type=int, default=100_000_000, help="readings for the Dask run")
    ap.add_argument("--pandas-readings", type=int, default=10_000_000, help="readings for the pandas run")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--memory-limit", default="1.5GB", help="per Dask worker")
    ap.add_argument("--rows-per-file", type=int, default=250_000, help="Parquet file (= partition) size")
    ap.add_argument("--chunk-nodes", type=int, default=120, help="manufacturing nodes per generated chunk")
    ap.add_argument("--data-dir", default=None, help="folder for the Parquet data (default: a temp dir)")
    ap.add_argument("--out-dir", default=None, help="folder for scale.json (default build/bench)")
    ap.add_argument(
        "--reuse-data", action="store_true", help="with --data-dir: use the readings generated there before"
    )
    args = ap.parse_args()
    bench = Bench("scale", out_dir=args.out_dir)
    base = Path(args.data_dir) if args.data_dir else Path(tempfile.mkdtemp(prefix="sclm_scale_"))
    folder = base / "raw"
    try:
        found = reuse(folder) if args.reuse_data else None
        n, units, t_gen = found or generate(folder, args.readings, args.chunk_nodes, args.rows_per_file)
        bench.add(f"generated readings to Parquet ({n:,})", n)
        bench.add("generation seconds", round(t_gen, 1))
        d = run_dask(folder, units, args.workers, args.memory_limit)
        bench.add(
            f"dask ({args.workers} workers, {args.memory_limit} each): clean seconds", round(d["clean_s"], 1)
        )
        bench.add("dask: clean+fuse seconds", round(d["total_s"], 1))
        bench.add("dask: clean+fuse readings per second", round(n / d["total_s"]))
        bench.add("dask: peak RSS of all processes (GB)", round(d["peak"] / 1e9, 2), "<= 4")
        bench.add("dask: CPU seconds, all processes (user+sys)", round(d["cpu"], 1))
        p = run_pandas(args.pandas_readings)
        bench.add(f"pandas ({p['n']:,} readings): clean+fuse seconds", round(p["total_s"], 1))
        bench.add("pandas: clean+fuse readings per second", round(p["n"] / p["total_s"]))
        bench.add("pandas: peak RSS (GB)", round(p["peak"] / 1e9, 2))
        bench.add("pandas: CPU seconds (user+sys)", round(p["cpu"], 1))
        bench.add("pandas: clean+fuse / one groupby-mean", round(p["total_s"] / p["groupby_s"], 2), "<= 3")
        bench.add("pandas: groupby-mean CPU seconds", round(p["groupby_cpu"], 2))
        bench.add(
            "pandas: clean+fuse CPU / groupby-mean CPU (fair under load)",
            round(p["cpu"] / p["groupby_cpu"], 2),
            "<= 3",
        )
        bench.add("dask / pandas readings per second", round((n / d["total_s"]) / (p["n"] / p["total_s"]), 2))
    finally:
        if not args.data_dir:
            shutil.rmtree(base, ignore_errors=True)
    bench.finish()


if __name__ == "__main__":
    main()
