"""Score cleaning and fusion against a scenario's answer keys (faults and truth).

Used by the walkthrough, the case-study notebooks and ``bench/cleaning_fusion.py``, so
every place reports the same figures computed the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

KEY: list[str] = ["node", "ts", "variable", "source"]


def imputed_keys(audit: pd.DataFrame) -> pd.DataFrame:
    """Keys (node, ts, variable, source) of cleaned readings that cleaning invented.

    A gap fill (action ``filled``) or a value put in place of an outlier (rule ``outlier_*``)
    is not a measurement; pass these keys to :func:`sclm.fusion.fuse` as ``imputed=`` so
    fusion prefers the sources that did measure that day.
    """
    rule = audit["rule"].astype(str)
    mask = (audit["action"] == "filled") | (rule.str.startswith("outlier") & (audit["action"] == "changed"))
    return audit.loc[mask, KEY].drop_duplicates().reset_index(drop=True)


def outlier_scores(audit: pd.DataFrame, faults: pd.DataFrame) -> dict[str, float]:
    """Precision and recall of the outlier rule against the injected outliers.

    Returns
    -------
    dict
        ``flagged``, ``injected``, ``true_positives``, ``precision``, ``recall``
        (matching on node, ts, variable, source).
    """
    flagged = audit.loc[audit["rule"].astype(str).str.startswith("outlier"), KEY].drop_duplicates()
    injected = faults.loc[faults["kind"] == "outlier", KEY].drop_duplicates()
    tp = len(flagged.merge(injected, on=KEY))
    return {
        "flagged": len(flagged),
        "injected": len(injected),
        "true_positives": tp,
        "precision": tp / len(flagged) if len(flagged) else float("nan"),
        "recall": tp / len(injected) if len(injected) else float("nan"),
    }


def rmse_vs_truth(readings: pd.DataFrame, truth: pd.DataFrame, variable: str, source: str) -> float:
    """RMSE of one source's readings of ``variable`` against the truth, on the days it reports."""
    sel = readings[(readings["variable"] == variable) & (readings["source"] == source)]
    j = sel.merge(truth[variable].rename("truth").reset_index(), on=["node", "ts"])
    if j.empty:
        return float("nan")
    return float(np.sqrt(np.mean((j["value"].to_numpy() - j["truth"].to_numpy()) ** 2)))


def fusion_scores(
    cleaned: pd.DataFrame,
    panels: Mapping[str, pd.DataFrame],
    truth: pd.DataFrame,
    sources: Mapping[str, Sequence[str]],
    *,
    min_sources: int = 2,
) -> pd.DataFrame:
    """RMSE of each cleaned source and of each fused panel against the truth, per variable.

    Parameters
    ----------
    cleaned
        Cleaned readings (native units).
    panels
        Fusion method name → fused Panel (index node, ts).
    truth
        The scenario's truth Panel.
    sources
        Variable → its sources (``scenario.meta["sources"]``); variables with fewer than
        ``min_sources`` sources are skipped.  Each variable is scored on the nodes that all its
        sources report (where fusion had something to combine); a variable whose sources cover
        disjoint nodes is skipped.

    Returns
    -------
    pandas.DataFrame
        One row per variable: ``nodes`` (scored), ``best_source``, ``best_rmse``, ``rmse_<source>`` for each source,
        ``rmse_<method>`` and ``ratio_<method>`` (fused RMSE / best single-source RMSE).
    """
    rows = []
    for variable, srcs in sources.items():
        if len(srcs) < min_sources:
            continue
        sel = cleaned[cleaned["variable"] == variable]
        per_source = [set(sel.loc[sel["source"] == s, "node"]) for s in srcs]
        common = sorted(set.intersection(*per_source))
        if not common:  # the sources cover different nodes: nothing was fused
            continue
        t = truth.loc[truth.index.get_level_values("node").isin(common), variable]
        sub = sel[sel["node"].isin(common)]
        single = {s: rmse_vs_truth(sub, truth, variable, s) for s in srcs}
        best = min(single, key=lambda s: single[s])
        row: dict[str, object] = {"variable": variable, "nodes": len(common), "best_source": best}
        row["best_rmse"] = single[best]
        row.update({f"rmse_{s}": v for s, v in single.items()})
        for method, panel in panels.items():
            fused = panel[variable].reindex(t.index)
            r = float(np.sqrt(np.mean((fused.to_numpy() - t.to_numpy()) ** 2)))
            row[f"rmse_{method}"] = r
            row[f"ratio_{method}"] = r / single[best]
        rows.append(row)
    return pd.DataFrame(rows).set_index("variable") if rows else pd.DataFrame()
