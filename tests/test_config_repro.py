"""sclm.config paths and sclm.repro seeding and provenance."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from sclm import config
from sclm.repro import combined_digest, provenance, seed_everything, sha256_file, sources_digest


def test_paths_hang_off_the_project_root():
    assert (config.PROJECT_ROOT / "pyproject.toml").is_file()
    assert config.PACKAGE_DIR == config.PROJECT_ROOT / "sclm"
    for case in config.CASES:
        assert config.notebook_path(case).is_file(), case
    with pytest.raises(
        KeyError, match=r"unknown case 'bakery'; expected one of \['logistics', 'manufacturing', 'retail'\]"
    ):
        config.notebook_path("bakery")


def test_data_dir_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv("SCLM_DATA_DIR", str(tmp_path))
    assert config.data_dir() == tmp_path
    other = tmp_path / "x"
    other.mkdir()
    assert config.data_dir(other) == other  # the argument wins over the environment
    monkeypatch.delenv("SCLM_DATA_DIR")
    assert config.data_dir(must_exist=False) == config.PROJECT_ROOT.parent / "shared" / "data"


def test_missing_data_dir_names_the_folder_and_its_origin(tmp_path, monkeypatch):
    missing = tmp_path / "nope"
    monkeypatch.setenv("SCLM_DATA_DIR", str(missing))
    with pytest.raises(
        FileNotFoundError, match=r"data directory '.*nope' from \$SCLM_DATA_DIR does not exist"
    ):
        config.data_dir()
    assert not config.has_data()


def test_seed_everything_makes_draws_repeat_and_torch_deterministic():
    def draws():
        return random.random(), np.random.rand(), torch.rand(3).tolist()  # noqa: NPY002

    seed_everything(7)
    a = draws()
    seed_everything(7)
    b = draws()
    seed_everything(8)
    c = draws()
    assert a == b and a != c
    assert torch.are_deterministic_algorithms_enabled()
    for bad in (-1, 2**32, 1.5, "3", True):
        with pytest.raises(ValueError, match="seed must be an integer"):
            seed_everything(bad)


def test_provenance_is_stable_and_machine_independent(tmp_path):
    f = tmp_path / "input.csv"
    f.write_text("a,b\n1,2\n")
    p1 = provenance({"seed": 1, "p": 0.1}, [f])
    p2 = provenance({"p": 0.1, "seed": 1}, [f])
    assert p1 == p2
    text = json.dumps(p1)
    assert str(tmp_path) not in text and str(config.PROJECT_ROOT) not in text
    assert p1["inputs"] == {"input.csv": sha256_file(f)}
    assert p1["packages"]["numpy"] == np.__version__
    assert "sclm/repro.py" in p1["sources"]
    assert p1["sources_sha256"] == combined_digest(sources_digest())
    # a changed input changes its digest
    f.write_text("a,b\n1,3\n")
    assert provenance({"seed": 1}, [f])["inputs"]["input.csv"] != p1["inputs"]["input.csv"]
    # no timestamps or host names anywhere
    import socket

    assert socket.gethostname() not in text
    assert set(p1) == {"python", "packages", "params", "inputs", "sources", "sources_sha256"}


def test_sources_digest_sees_a_change(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "a.py").write_text("x = 1\n")
    d1 = combined_digest(sources_digest(pkg))
    (pkg / "a.py").write_text("x = 2\n")
    assert combined_digest(sources_digest(pkg)) != d1
    assert list(sources_digest(pkg)) == ["pkg/a.py"]
    assert Path(pkg / "a.py").exists()
