"""bench/tagger.py's Chinese e5 options: ``latin`` and ``recomb`` parse, name their rows and fail loudly
when unknown (the rows themselves are measured by the bench, not here)."""

from __future__ import annotations

import importlib.util

import pytest

from sclm import config


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_tagger", config.PROJECT_ROOT / "bench" / "tagger.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_e5_spec_parses_the_generalisation_options(bench):
    layers, share, opts = bench._e5_spec("3:0.5:jieba+crf+latin+recomb")
    assert (layers, share, opts) == (3, 0.5, frozenset({"jieba", "crf", "latin", "recomb"}))
    label = bench._e5_label(layers, share, opts)
    assert "30% Latin synthetic orgs" in label and "50% recombined templates" in label
    assert label.endswith("learned CRF")
    assert "Latin" not in bench._e5_label(*bench._e5_spec("3:0.5:jieba+crf"))
    with pytest.raises(ValueError, match="unknown e5 option"):
        bench._e5_spec("3:0.5:jieba+latn")
    assert 0.0 < bench.ZH_LATIN < 1.0 and 0.0 < bench.ZH_RECOMBINED <= 1.0
