"""Errors and small behaviours of ``sclm.datasets`` that need no real data (tiny files in tmp dirs)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sclm.datasets import (
    DATASETS,
    CVRPInstance,
    JobShopInstance,
    VRPTWInstance,
    clear_cache,
    entity_spans,
    load_dataset,
)
from sclm.datasets._base import InstanceSet
from sclm.datasets.shipments import parse_mixed_dates
from sclm.schema import DataValidationError, UnknownNameError, validate_panel

PASTA = "retail_pasta_hierarchical_sales"
PASTA_HEADER = '"DATE","QTY_B1_1","QTY_B1_2","PROMO_B1_1","PROMO_B1_2"\n'


def _write(root: Path, dataset: str, files: dict[str, str]) -> Path:
    folder = root / dataset
    folder.mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text, encoding="utf-8")
    return root


def test_datasets_registry_names_the_eight_folders():
    assert set(DATASETS) == {
        "retail_pasta_hierarchical_sales",
        "demand_ddop_yaz_restaurant",
        "inventory_us_business_inventories",
        "shipments_usaid_scms",
        "cvrp_augerat_abp",
        "vrptw_solomon",
        "jssp_benchmarks",
        "ner_wnut17",
    }
    assert all(isinstance(v, str) and len(v) > 40 for v in DATASETS.values())


def test_unknown_dataset_lists_the_known_names(tmp_path):
    with pytest.raises(UnknownNameError) as info:
        load_dataset("pasta", data_dir=tmp_path)
    msg = str(info.value)
    assert "unknown dataset 'pasta'" in msg
    for name in DATASETS:
        assert name in msg
    assert isinstance(info.value, KeyError)


def test_nonexistent_data_dir_names_the_folder(tmp_path):
    missing = tmp_path / "no_such_data"
    with pytest.raises(FileNotFoundError, match="no_such_data") as info:
        load_dataset(PASTA, data_dir=missing)
    assert "data_dir argument" in str(info.value)


def test_missing_dataset_folder_names_folder_and_dataset(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load_dataset("ner_wnut17", data_dir=tmp_path)
    msg = str(info.value)
    assert "ner_wnut17" in msg and str(tmp_path) in msg


def test_missing_file_names_path_and_dataset(tmp_path):
    root = _write(tmp_path, PASTA, {"SOURCE.md": "# fake\n"})
    with pytest.raises(FileNotFoundError) as info:
        load_dataset(PASTA, data_dir=root)
    msg = str(info.value)
    assert os.fspath(root / PASTA / "hierarchical_sales_data.csv") in msg
    assert f"dataset {PASTA!r}" in msg


def test_missing_second_file_is_named(tmp_path):
    header = "date,weekday,month,year,is_holiday,is_closed,weekend,wind,clouds,rain,sunshine,temperature\n"
    root = _write(tmp_path, "demand_ddop_yaz_restaurant", {"yaz_data.csv": header})
    with pytest.raises(FileNotFoundError, match=r"yaz_target\.csv"):
        load_dataset("demand_ddop_yaz_restaurant", data_dir=root)


def test_wrong_header_names_file_line_and_expected_columns(tmp_path):
    root = _write(
        tmp_path,
        "demand_ddop_yaz_restaurant",
        {
            "yaz_data.csv": "day,weekday\n2013-10-04,FRI\n",
            "yaz_target.csv": "calamari,fish,shrimp,chicken,koefte,lamb,steak\n1,2,3,4,5,6,7\n",
        },
    )
    with pytest.raises(DataValidationError) as info:
        load_dataset("demand_ddop_yaz_restaurant", data_dir=root)
    msg = str(info.value)
    assert "yaz_data.csv" in msg and "line 1 (header)" in msg
    assert "missing ['date'" in msg and "unexpected ['day']" in msg


def test_unparseable_number_names_line_and_column(tmp_path):
    body = "2014-01-02,1,2,0,1\n2014-01-03,3,abc,0,0\n"
    root = _write(tmp_path, PASTA, {"hierarchical_sales_data.csv": PASTA_HEADER + body})
    with pytest.raises(DataValidationError) as info:
        load_dataset(PASTA, data_dir=root)
    msg = str(info.value)
    assert "hierarchical_sales_data.csv" in msg
    assert "line 3, column 'QTY_B1_2'" in msg and "expected a whole number" in msg and "'abc'" in msg


def test_bad_date_and_bad_flag_are_reported(tmp_path):
    root = _write(tmp_path, PASTA, {"hierarchical_sales_data.csv": PASTA_HEADER + "2014-13-02,1,2,0,1\n"})
    with pytest.raises(DataValidationError, match=r"line 2, column 'DATE'.*format '%Y-%m-%d'"):
        load_dataset(PASTA, data_dir=root)
    clear_cache()
    root2 = _write(
        tmp_path / "b", PASTA, {"hierarchical_sales_data.csv": PASTA_HEADER + "2014-01-02,1,2,0,2\n"}
    )
    with pytest.raises(DataValidationError, match=r"line 2, column 'PROMO_B1_2'.*0 or 1"):
        load_dataset(PASTA, data_dir=root2)


def test_tiny_pasta_loads_caches_and_returns_fresh_copies(tmp_path):
    body = "2014-01-02,1,2,0,1\n2014-01-04,3,0,1,0\n"
    root = _write(tmp_path, PASTA, {"hierarchical_sales_data.csv": PASTA_HEADER + body})
    ds = load_dataset(PASTA, data_dir=root)
    assert ds.panel.shape == (4, 2)
    assert ds.readings.shape == (8, 7)
    assert ds.meta["missing_dates"] == [pd.Timestamp("2014-01-03")]
    assert ds.hierarchy.to_dict("list") == {"item": ["B1_1", "B1_2"], "brand": ["B1", "B1"]}
    daily = ds.to_daily()
    assert daily.shape == (6, 3)
    assert daily.loc[("B1_1", pd.Timestamp("2014-01-03"))].tolist() == [0.0, 0.0, 1.0]
    assert daily["closed"].sum() == 2
    validate_panel(daily, require_daily=True)
    # mutate the result: the next load is unaffected
    ds.panel.iloc[0, 0] = 99.0
    ds.meta["missing_dates"].clear()
    again = load_dataset(PASTA, data_dir=root)
    assert again.panel.iloc[0, 0] == 1.0 and len(again.meta["missing_dates"]) == 1
    # a changed file is re-read
    path = root / PASTA / "hierarchical_sales_data.csv"
    path.write_text(PASTA_HEADER + body + "2014-01-05,7,7,0,0\n", encoding="utf-8")
    assert load_dataset(PASTA, data_dir=root).panel.shape == (6, 2)


def test_malformed_conll_line(tmp_path):
    files = {
        "wnut17train.conll": "Hello\tO\nworld\tB-location\n\n",
        "emerging.dev.conll": "a\tO\tO\n",
        "emerging.test.annotated": "b\tO\n",
    }
    root = _write(tmp_path, "ner_wnut17", files)
    with pytest.raises(DataValidationError, match=r"emerging\.dev\.conll: line 1: expected 'token<TAB>tag'"):
        load_dataset("ner_wnut17", data_dir=root)


def test_tiny_conll_with_tab_only_separator(tmp_path):
    files = {
        "wnut17train.conll": "Hello\tO\nNew\tB-location\nYork\tI-location\n\t\nbye\tI-person\n",
        "emerging.dev.conll": "a\tO\n",
        "emerging.test.annotated": "b\tO\n\n",
    }
    ds = load_dataset("ner_wnut17", data_dir=_write(tmp_path, "ner_wnut17", files))
    assert ds.train["tokens"].tolist() == [["Hello", "New", "York"], ["bye"]]
    assert ds.stats().loc["train"].tolist() == [2, 4, 2]
    assert ds.entity_types == ["location", "person"]


def test_malformed_json(tmp_path):
    root = _write(
        tmp_path,
        "inventory_us_business_inventories",
        {"businv.json": '{"n_obs": 2,\n "time": }', "businv_annotations.json": "{}"},
    )
    with pytest.raises(DataValidationError, match=r"businv\.json: line 2, column 10: expected valid JSON"):
        load_dataset("inventory_us_business_inventories", data_dir=root)


_CVRP_HEADER = (
    "instance,set,n_customers,capacity,k_in_name,routes_in_sol,sol_cost_recomputed,sol_cost_stated,"
    "bks_vroom,proven_optimal,sol_feasible,note\n"
)
_VRP = (
    "NAME : A-n3-k1\nCOMMENT : (Augerat et al, No of trucks: 1, Optimal value: 10)\nTYPE : CVRP\n"
    "DIMENSION : 3\nEDGE_WEIGHT_TYPE : EUC_2D\nCAPACITY : 10\nNODE_COORD_SECTION\n1 0 0\n2 3 4\n3 0 1\n"
    "DEMAND_SECTION\n1 0\n2 5\n3 5\nDEPOT_SECTION\n1\n-1\nEOF\n"
)


def _tiny_cvrp(root: Path, vrp: str = _VRP, sol: str | None = "Route #1: 1 2\nCost 12\n") -> Path:
    files = {"bks.csv": _CVRP_HEADER + "A-n3-k1,A,2,10,1,1,12,12.0,12,True,True,\n", "A/A-n3-k1.vrp": vrp}
    if sol is not None:
        files["A/A-n3-k1.sol"] = sol
    return _write(root, "cvrp_augerat_abp", files)


def test_cvrp_missing_sol_is_named(tmp_path):
    root = _tiny_cvrp(tmp_path, sol=None)
    with pytest.raises(FileNotFoundError, match=r"A-n3-k1\.sol.*cvrp_augerat_abp"):
        load_dataset("cvrp_augerat_abp", data_dir=root)
    (root / "cvrp_augerat_abp" / "A" / "A-n3-k1.sol").write_text("Route #1: 1 2\nCost 12\n")
    cvrp = load_dataset("cvrp_augerat_abp", data_dir=root)
    inst = cvrp["A-n3-k1"]
    assert inst.coords.tolist() == [[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]] and inst.coords.dtype == np.float64
    assert inst.demands.tolist() == [0, 5, 5] and inst.capacity == 10
    assert (inst.n_vehicles, inst.optimum, inst.solution, inst.solution_cost) == (1, 12.0, [[1, 2]], 12.0)
    # .sol customer 1 is .vrp node 2 at (3, 4): 0->(3,4) = 5, (3,4)->(0,1) = nint(4.243) = 4, back = 1
    assert inst.route_cost(inst.solution) == 10
    assert inst.is_feasible(inst.solution)
    with pytest.raises(UnknownNameError, match="A-n3-k1"):
        cvrp["A-n99-k9"]


@pytest.mark.parametrize(
    ("vrp", "sol", "message"),
    [
        (
            _VRP.replace("2 3 4", "2 3 x"),
            None,
            r"\.vrp: NODE_COORD_SECTION: expected 'id x y' .*not a number",
        ),
        (_VRP.replace("2 3 4", "2 3"), None, r"NODE_COORD_SECTION: .*rows of different lengths"),
        (_VRP.replace("3 0 1\n", ""), None, r"NODE_COORD_SECTION: expected 'id x y' rows for nodes 1\.\.3"),
        (_VRP.replace("CAPACITY : 10\n", ""), None, r"header: expected a 'CAPACITY' line"),
        (_VRP.replace("EUC_2D", "GEO"), None, r"EDGE_WEIGHT_TYPE: expected 'EUC_2D', got 'GEO'"),
        (_VRP.replace("2 5\n", "2 5.5\n"), None, r"DEMAND_SECTION: expected integer demands"),
        (_VRP.replace("1 0\n2 5", "1 2\n2 5"), None, r"DEMAND_SECTION: expected depot demand 0"),
        (_VRP.replace("DEPOT_SECTION\n1\n", "DEPOT_SECTION\n2\n"), None, r"DEPOT_SECTION: .*got \[2\]"),
        (_VRP.replace("TYPE : CVRP", "TYPE CVRP"), None, r"VRPLIB layout: expected 'KEY : value'"),
        (
            _VRP,
            "Route #1: 1 x\nCost 12\n",
            r"\.sol: routes: expected .*integer customer ids, got 'Route #1: 1 x'",
        ),
        (_VRP, "Route #1: 1 2\n", r"\.sol: end of file: expected at least one 'Route #k:' line and a 'Cost'"),
        (_VRP, "Route #1: 1 2\nCost abc\n", r"\.sol: Cost line: expected 'Cost <number>', got 'abc'"),
        (_VRP, "Route #1: 1 2\nfoo bar\nCost 12\n", r"\.sol: key 'foo': expected only 'Route #k"),
        (_VRP, "Route #1: 1 3\nCost 12\n", r"\.sol: routes: expected customer ids 1\.\.2, got 3"),
    ],
)
def test_malformed_cvrp_files_name_file_and_place(tmp_path, vrp, sol, message):
    root = _tiny_cvrp(tmp_path, vrp, "Route #1: 1 2\nCost 12\n" if sol is None else sol)
    with pytest.raises(DataValidationError, match=message):
        load_dataset("cvrp_augerat_abp", data_dir=root)


_SOLOMON = (
    "R199\n\nVEHICLE\nNUMBER     CAPACITY\n  2         10\n\nCUSTOMER\n"
    "CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME\n\n"
    "    0      0          0          0          0       100          0\n"
    "    1      3          4          5         10        50         2\n"
    "    2      6          8          5          0        60         2\n"
)
_SOLOMON_BKS = (
    "instance,capacity,n_customers,vehicles_available,bks_vehmin_vehicles,bks_vehmin_distance,"
    "bks_distmin_vehicles,bks_distmin_distance\nR199,10,2,2,1,20.0,1,20.0\n"
)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (_SOLOMON, None),
        (_SOLOMON.replace("  5         10", "  5.5       10"), r"customer 1: expected non-negative integers"),
        (_SOLOMON.replace("  5         10", "  x         10"), r"customer 1: expected non-negative integers"),
        (_SOLOMON.replace("        50         2\n", "        50\n"), r"rows of 7 numbers"),
        (_SOLOMON.replace("NUMBER", "NUM"), r"R199\.txt: layout: expected the name, VEHICLE"),
        (
            _SOLOMON.replace("  2         10", "  2         11"),
            r"expected capacity 10, 2 vehicles, 2 customers",
        ),
        (_SOLOMON.replace("R199\n", "R198\n"), r"line 1: expected the instance name 'R199', got 'R198'"),
    ],
)
def test_tiny_solomon_loads_and_malformed_files_are_named(tmp_path, text, message):
    root = _write(tmp_path, "vrptw_solomon", {"bks.csv": _SOLOMON_BKS, "instances/R199.txt": text})
    if message is not None:
        with pytest.raises(DataValidationError, match=message):
            load_dataset("vrptw_solomon", data_dir=root)
        return
    inst = load_dataset("vrptw_solomon", data_dir=root)["R199"]
    assert inst.coords.tolist() == [[0.0, 0.0], [3.0, 4.0], [6.0, 8.0]] and inst.coords.dtype == np.float64
    assert inst.demands.tolist() == [0, 5, 5] and inst.demands.dtype == np.int64
    assert (inst.ready.tolist(), inst.due.tolist(), inst.service.tolist()) == (
        [0.0, 10.0, 0.0],
        [100.0, 50.0, 60.0],
        [0.0, 2.0, 2.0],
    )
    assert (inst.capacity, inst.n_vehicles, inst.family, inst.solution) == (10, 2, "R1", [])
    assert inst.route_cost([[1, 2]]) == pytest.approx(20.0)


def _toy_cvrp() -> CVRPInstance:
    coords = np.array([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0], [1.0, 1.0]])
    return CVRPInstance("toy", "A", coords, np.array([0, 5, 5, 3]), capacity=10, n_vehicles=2, optimum=None)


def test_cvrp_costs_and_violations():
    inst = _toy_cvrp()
    d = inst.distance_matrix()
    assert d.dtype == np.int64 and d[0, 1] == 5 and d[1, 2] == 4 and d[0, 3] == 1  # nint(1.414) = 1
    assert inst.route_cost([[1, 2], [3]]) == 5 + 4 + 1 + 1 + 1
    assert inst.is_feasible([[1, 2], [3]])
    assert inst.violations([[1, 2, 3]]) == ["route 0 carries 13 > capacity 10"]
    assert inst.violations([[1, 1], [3]]) == [
        "customers visited more than once: [1]",
        "customers not visited: [2]",
    ]
    assert not inst.is_feasible([[1], [2], [3]], max_vehicles=2)
    with pytest.raises(ValueError, match="depot 0 left out"):
        inst.route_cost([[0, 1]])


def test_vrptw_time_windows_and_horizon():
    coords = np.array([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0]])
    inst = VRPTWInstance(
        "toy",
        "C1",
        coords,
        demands=np.array([0, 1, 1]),
        ready=np.array([0.0, 10.0, 0.0]),
        due=np.array([40.0, 15.0, 30.0]),
        service=np.array([0.0, 2.0, 2.0]),
        capacity=5,
        n_vehicles=2,
    )
    assert inst.route_cost([[1, 2]]) == pytest.approx(20.0)
    # wait until 10 at customer 1, start 2 at 10 + 2 + 5 = 17, back at 17 + 2 + 10 = 29
    assert inst.schedule([1, 2]).tolist() == [10.0, 17.0, 29.0]
    assert inst.is_feasible([[1, 2]])
    late = inst.violations([[2, 1]])
    assert late and "customer 1 starts at" in late[0]
    assert inst.violations([[1, 2]], max_vehicles=0) == ["1 routes > 0 vehicles"]
    truncated = VRPTWInstance(
        "t",
        "C1",
        np.array([[0.0, 0.0], [1.0, 1.0]]),
        np.array([0, 1]),
        np.zeros(2),
        np.full(2, 9.0),
        np.zeros(2),
        5,
        1,
    )
    assert truncated.route_cost([[1]], truncate_decimals=1) == pytest.approx(2.8)


def test_jobshop_helpers():
    inst = JobShopInstance(
        "toy",
        "ft",
        2,
        2,
        machines=np.array([[0, 1], [1, 0]]),
        durations=np.array([[3, 2], [2, 4]]),
        lower_bound=7,
        bks=7,
    )
    assert inst.trivial_lower_bound() == 7  # machine 0 load 7, longest job 6
    starts = np.array([[0, 3], [0, 3]])
    assert inst.makespan(starts) == 7
    with pytest.raises(ValueError, match="machine 1 runs 2 overlapping"):
        inst.makespan(np.array([[0, 3], [3, 5]]))
    with pytest.raises(ValueError, match="precedence"):
        inst.makespan(np.array([[0, 1], [0, 3]]))


def test_mixed_dates():
    got = parse_mixed_dates(
        pd.Series(["2-Jun-06", "11/13/06", "Date Not Captured", "31-Feb-07", None, "1/2/2015"])
    )
    want = ["2006-06-02", "2006-11-13", None, None, None, "2015-01-02"]
    assert [None if pd.isna(t) else str(t.date()) for t in got] == want
    assert got.dtype == "datetime64[ns]"


def test_entity_spans():
    assert entity_spans(["B-person", "I-person", "O", "I-group", "B-group", "B-group"]) == [
        (0, 2, "person"),
        (3, 4, "group"),
        (4, 5, "group"),
        (5, 6, "group"),
    ]


def test_instance_set_is_a_read_only_mapping():
    s = InstanceSet("x", {"a": 1, "b": 2}, pd.DataFrame({"v": [1, 2]}, index=["a", "b"]), {})
    assert list(s) == ["a", "b"] and len(s) == 2 and "a" in s and "c" not in s
    assert s.get("c") is None
    with pytest.raises(KeyError, match="expected one of: a, b"):
        s["c"]


def test_empty_and_ragged_csv(tmp_path):
    root = _write(tmp_path, PASTA, {"hierarchical_sales_data.csv": ""})
    with pytest.raises(DataValidationError, match=r"hierarchical_sales_data\.csv: whole file: .*empty file"):
        load_dataset(PASTA, data_dir=root)
    root = _write(
        tmp_path / "b", PASTA, {"hierarchical_sales_data.csv": PASTA_HEADER + "2014-01-02,1,2,0,1,9\n"}
    )
    with pytest.raises(
        DataValidationError,
        match=r"hierarchical_sales_data\.csv: data lines: expected as many fields as the header \(5\)",
    ):
        load_dataset(PASTA, data_dir=root)
    root = _write(
        tmp_path / "c",
        PASTA,
        {"hierarchical_sales_data.csv": PASTA_HEADER + "2014-01-02,1,2,0,1\n2014-01-03,1,2,0,1,9\n"},
    )
    with pytest.raises(DataValidationError, match=r"CSV parsing: .*Expected 5 fields in line 3, saw 6"):
        load_dataset(PASTA, data_dir=root)
