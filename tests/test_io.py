"""sclm.io: partitioned Parquet Readings (whole nodes per file) round trip and errors."""

from __future__ import annotations

import pandas as pd
import pytest

import sclm
from sclm.io import read_readings, write_readings
from sclm.schema import DataValidationError


@pytest.fixture(scope="module")
def readings():
    return sclm.make_scenario("retail", n_days=60).readings


def test_round_trip_whole_nodes(readings, tmp_path):
    path = write_readings(readings, tmp_path / "r", rows_per_file=500)
    files = sorted(path.glob("part-*.parquet"))
    assert len(files) == readings["node"].nunique()  # ~765 rows a node > 500: a file per node
    ddf = read_readings(path)
    assert ddf.npartitions == len(files)
    back = ddf.compute(scheduler="synchronous")
    assert back.dtypes.to_dict() == readings.dtypes.to_dict()
    per_part = [p.compute(scheduler="synchronous")["node"].nunique() for p in ddf.to_delayed()]
    assert per_part == [1] * len(files)
    want = readings.sort_values("node", kind="stable", ignore_index=True)
    pd.testing.assert_frame_equal(back.reset_index(drop=True), want)


def test_append_and_overwrite(readings, tmp_path):
    nodes = sorted(readings["node"].unique())
    a, b = readings[readings["node"].isin(nodes[:3])], readings[readings["node"].isin(nodes[3:])]
    write_readings(a, tmp_path / "r", rows_per_file=10**9)
    write_readings(b, tmp_path / "r", rows_per_file=10**9, append=True)
    assert len(list((tmp_path / "r").glob("part-*.parquet"))) == 2
    assert len(read_readings(tmp_path / "r").compute(scheduler="synchronous")) == len(readings)
    write_readings(a, tmp_path / "r")  # without append: replaces
    assert len(read_readings(tmp_path / "r").compute(scheduler="synchronous")) == len(a)


def test_errors(readings, tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_readings(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no Parquet"):
        read_readings(tmp_path / "empty")
    with pytest.raises(DataValidationError, match="missing column"):
        write_readings(readings.drop(columns=["source"]), tmp_path / "x")
    readings.drop(columns=["source"]).to_parquet(tmp_path / "y.parquet")
    with pytest.raises(DataValidationError, match="missing column"):
        read_readings(tmp_path / "y.parquet")
    with pytest.raises(ValueError, match="rows_per_file"):
        write_readings(readings, tmp_path / "z", rows_per_file=0)
