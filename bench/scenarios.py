"""Benchmark: scenario generation speed and how faithfully the raw sources follow their fault model.

Prints a table (figure, value, goal, holds) and writes build/bench/scenarios.json.

Figures, per scenario at default size:
- seconds to generate, and readings per second at ~1 million readings;
- |sum(IoT) / sum(truth) - (1 - p)| on non-outlier IoT readings, for p in {0.05, 0.1, 0.2}
  (the undercount the cleaning stage must undo; goal <= 0.005);
- realised rate of each random fault kind against its configured rate (ratio; goal >= 0.7, a loose check that the faults happen).

Run: make bench   (or .venv/bin/python bench/scenarios.py)
"""

from __future__ import annotations

import time

import pandas as pd

from sclm import make_scenario
from sclm.benchmarking import Bench

NAMES = ("manufacturing", "logistics", "retail")
LARGE_NODES = {"manufacturing": 165, "logistics": 165, "retail": 120}  # ~1 million readings each


def iot_ratio(sc) -> float:
    q = sc.meta["targets"]["q"]
    iot = sc.readings[(sc.readings["source"] == "iot") & (sc.readings["variable"] == q)]
    keys = ["node", "ts", "variable", "source"]
    out = sc.faults.loc[sc.faults["kind"] == "outlier", keys].assign(_o=1)
    iot = iot.merge(out, on=keys, how="left")
    iot = iot[iot["_o"].isna()].merge(sc.truth[q].rename("truth").reset_index(), on=["node", "ts"])
    return float(iot["value"].sum() / iot["truth"].sum())


def main() -> None:
    bench = Bench("scenarios")
    for name in NAMES:
        t0 = time.perf_counter()
        sc = make_scenario(name, seed=0)
        bench.add(
            f"{name}: seconds, default size ({len(sc.readings):,} readings)",
            round(time.perf_counter() - t0, 3),
        )
        t0 = time.perf_counter()
        big = make_scenario(name, seed=0, n_nodes=LARGE_NODES[name])
        secs = time.perf_counter() - t0
        bench.add(f"{name}: readings/s at {len(big.readings):,} readings", round(len(big.readings) / secs))
        del big
        for p in (0.05, 0.1, 0.2):
            sc_p = make_scenario(name, seed=1, p=p)
            bench.add(
                f"{name}: |IoT ratio - (1-p)| at p={p}", round(abs(iot_ratio(sc_p) - (1 - p)), 5), "<= 0.005"
            )
        # realised fault rates over the readings each fault kind can hit
        exact = set(sc.meta["exact_channels"])
        r = sc.readings
        eligible = r[~(r["variable"] + "/" + r["source"]).isin(exact)]
        counts = sc.faults[sc.faults["ts"].notna()].groupby("kind").size()
        n_dup = int(counts.get("duplicate", 0))
        n_miss = int(counts.get("missing", 0))
        base = {
            "missing": len(eligible) - n_dup + n_miss,
            "outlier": int((eligible["value"] > 0).sum()) - n_dup,
            "duplicate": int((eligible["source"] == "erp").sum()) - n_dup,
        }
        for kind, rate in sc.meta["fault_rates"].items():
            realised = counts.get(kind, 0) / base[kind]
            bench.add(f"{name}: realised/configured {kind} rate", round(float(realised / rate), 3), ">= 0.7")
    bench.finish()


if __name__ == "__main__":
    pd.set_option("display.width", 160)
    main()
