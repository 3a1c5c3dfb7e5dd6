"""The bench contract: goals are checked, the table printed and the JSON written."""

from __future__ import annotations

import json

import pytest

from sclm.benchmarking import Bench, check_goal


def test_goals():
    assert check_goal(0.2, "<= 0.25") is True
    assert check_goal(0.3, "<= 0.25") is False
    assert check_goal(0.96, ">= 0.95") is True
    assert check_goal(1.0, None) is None
    with pytest.raises(ValueError, match="goal 'about 3'"):
        check_goal(1.0, "about 3")


def test_bench_writes_contract_json(tmp_path, capsys):
    b = Bench("demo", out_dir=tmp_path)
    b.add("ratio", 0.2, "<= 0.25")
    b.add("recall", 0.9, ">= 0.95")
    with b.timer("seconds"):
        pass
    path = b.finish()
    data = json.loads(path.read_text())
    assert data["ratio"] == {"value": 0.2, "goal": "<= 0.25", "holds": True}
    assert data["recall"]["holds"] is False
    assert data["seconds"]["goal"] is None and 0 <= data["seconds"]["value"] < 0.5  # an empty block
    out = capsys.readouterr().out
    assert "ratio" in out and "NO" in out
