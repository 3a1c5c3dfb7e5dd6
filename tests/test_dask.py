"""Cleaning and fusion on Dask (sclm._dask): identical to the pandas path, schedulers, errors."""

from __future__ import annotations

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest

import sclm
from sclm import _dask, scoring
from sclm.cleaning import ReadingsCleaner
from sclm.fusion import SourceFuser
from sclm.io import read_readings, write_readings
from sclm.schema import DataValidationError

KEY = ["node", "ts", "variable", "source"]
AUDIT_ORDER = [*KEY, "rule", "action", "old_value", "new_value"]


def _sorted(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    return pd.DataFrame(frame).sort_values(by, kind="stable", ignore_index=True)


@pytest.fixture(scope="module")
def scenario():
    return sclm.make_scenario("retail", n_days=120)  # 6 nodes, ~9 k readings


@pytest.fixture(scope="module")
def reference(scenario):
    cleaner = ReadingsCleaner(units=scenario.units)
    cleaned = cleaner.fit_transform(scenario.readings)
    imputed = scoring.imputed_keys(cleaner.audit_)
    fuser = SourceFuser()
    panel = fuser.fit_transform(cleaned, imputed=imputed)
    return cleaner, cleaned, imputed, fuser, panel


def _node_frame(readings: pd.DataFrame, groups: int) -> dd.DataFrame:
    """A Dask frame whose partitions hold whole nodes (as read_readings gives)."""
    nodes = np.array_split(np.sort(readings["node"].unique()), groups)
    parts = [dask.delayed(readings[readings["node"].isin(n)]) for n in nodes]
    with dask.config.set({"dataframe.convert-string": False}):
        return dd.from_delayed(parts, meta=readings.iloc[:0])


def _check_clean(cleaner, cleaned, audit, gaps, reference):
    ref_cleaner, ref_cleaned = reference[0], reference[1]
    pd.testing.assert_frame_equal(cleaner.p_, ref_cleaner.p_)
    pd.testing.assert_frame_equal(cleaner.conversions_, ref_cleaner.conversions_)
    pd.testing.assert_frame_equal(_sorted(cleaned, KEY), _sorted(ref_cleaned, KEY))
    pd.testing.assert_frame_equal(_sorted(audit, AUDIT_ORDER), _sorted(ref_cleaner.audit_, AUDIT_ORDER))
    gap_key = ["node", "variable", "source", "start"]
    pd.testing.assert_frame_equal(_sorted(gaps, gap_key), _sorted(ref_cleaner.gaps_, gap_key))
    assert len(audit) > 100 and set(audit["rule"]) >= {"unit_conversion", "noise_rate", "duplicate_first"}


def test_clean_dask_frame_equals_pandas(scenario, reference):
    ddf = _node_frame(scenario.readings, 3)
    cleaner = ReadingsCleaner(units=scenario.units)
    lazy = cleaner.fit_transform(ddf, client="synchronous")
    assert isinstance(lazy, dd.DataFrame) and isinstance(cleaner.audit_, dd.DataFrame)
    cleaned, audit, gaps = dask.compute(lazy, cleaner.audit_, cleaner.gaps_, scheduler="synchronous")
    _check_clean(cleaner, cleaned, audit, gaps, reference)
    # each partition is in the pandas order: its surviving rows in input order, then its fills
    assert list(cleaned.columns) == list(scenario.readings.columns)


def test_clean_shuffles_when_nodes_span_partitions(scenario, reference):
    ddf = dd.from_pandas(scenario.readings, npartitions=4, sort=False)  # cuts nodes across partitions
    cleaner = ReadingsCleaner(units=scenario.units)
    lazy = cleaner.fit_transform(ddf, client="synchronous")
    cleaned, audit, gaps = dask.compute(lazy, cleaner.audit_, cleaner.gaps_, scheduler="synchronous")
    _check_clean(cleaner, cleaned, audit, gaps, reference)


def test_fuse_dask_equals_pandas(reference):
    _, cleaned, imputed, fuser, panel = reference
    ddf = _node_frame(cleaned, 3)
    f2 = SourceFuser()
    lazy = f2.fit_transform(ddf, imputed=imputed, client="synchronous")
    got = lazy.compute(scheduler="synchronous").set_index(["node", "ts"])
    pd.testing.assert_frame_equal(f2.weights_, fuser.weights_)
    pd.testing.assert_frame_equal(f2.pairs_, fuser.pairs_)
    pd.testing.assert_frame_equal(got, panel)
    _dask.compute_reports(f2, client="synchronous")
    pd.testing.assert_frame_equal(f2.filled_, fuser.filled_)
    pd.testing.assert_frame_equal(f2.rejected_, fuser.rejected_)
    assert f2.n_filled_ == fuser.n_filled_ > 0


@pytest.mark.parametrize("weights_by", ["node_type", "node"])
def test_fuse_dask_groups_equal_pandas(reference, weights_by):
    cleaned = reference[1]
    f1 = SourceFuser(weights_by=weights_by)
    panel = f1.fit_transform(cleaned)
    f2 = SourceFuser(weights_by=weights_by)
    got = f2.fit_transform(_node_frame(cleaned, 2), client="synchronous").compute(scheduler="synchronous")
    pd.testing.assert_frame_equal(f2.weights_, f1.weights_)
    pd.testing.assert_frame_equal(got.set_index(["node", "ts"]), panel)


def test_parquet_paths_on_a_local_cluster(scenario, reference, tmp_path):
    """Path in, path out, on a distributed LocalCluster of 2 workers with 1 thread each (in-process: fast)."""
    from distributed import Client, LocalCluster

    write_readings(scenario.readings, tmp_path / "raw", rows_per_file=3000)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            cleaned_path, audit_path = sclm.clean(tmp_path / "raw", units=scenario.units, client=client)
            panel_path = sclm.fuse(cleaned_path, imputed=audit_path, client=client)
    assert cleaned_path == tmp_path / "raw.clean" / "readings"
    cleaned = read_readings(cleaned_path).compute(scheduler="synchronous")
    pd.testing.assert_frame_equal(_sorted(cleaned, KEY), _sorted(reference[1], KEY))
    # a Parquet file has no global row labels: a duplicate's "kept row" is its row within the file
    audit, want = (_sorted(a, AUDIT_ORDER) for a in (pd.read_parquet(audit_path), reference[0].audit_))
    for a in (audit, want):
        a["detail"] = a["detail"].str.replace(r"kept row \d+", "kept row #", regex=True)
    pd.testing.assert_frame_equal(audit, want)
    panel = pd.read_parquet(panel_path).set_index(["node", "ts"]).sort_index()
    pd.testing.assert_frame_equal(panel, reference[4])


def test_scheduler_from_environment(monkeypatch):
    monkeypatch.setenv("SCLM_DASK_SCHEDULER", "synchronous")
    run = _dask.runner()
    assert run.client is None and run.scheduler == "synchronous"
    assert run.compute([dask.delayed(sum)([1, 2])]) == [3]
    with pytest.raises(TypeError, match="client must be"):
        _dask.runner(3.5)


def test_bad_input(scenario, tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        sclm.clean(tmp_path / "nowhere", client="synchronous")
    ddf = dd.from_pandas(scenario.readings.drop(columns=["unit"]), npartitions=2)
    with pytest.raises(DataValidationError, match="missing column"):
        sclm.clean(ddf, client="synchronous")
    with pytest.raises(ValueError, match="groups"):
        sclm.fuse(_node_frame(scenario.readings, 2), groups="total", client="synchronous")
