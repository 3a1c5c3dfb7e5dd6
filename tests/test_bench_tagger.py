"""bench/tagger.py runs end to end in --quick mode (tiny models; the full run belongs to `make bench`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from sclm import config


@pytest.mark.slow
def test_tagger_bench_quick(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    args = [sys.executable, "bench/tagger.py", "--quick", "--threads", "1", "--out-dir", str(tmp_path)]
    if not config.has_data():
        args.append("--skip-wnut")
    res = subprocess.run(args, cwd=config.PROJECT_ROOT, capture_output=True, text=True, timeout=600, env=env)
    assert res.returncode == 0, res.stderr[-3000:]
    data = json.loads((tmp_path / "tagger.json").read_text())
    for lang in ("EN", "ZH"):
        f1 = data[f"docs {lang} held-out F1"]
        assert f1["goal"] == ">= 0.95" and 0.0 <= f1["value"] <= 1.0 and isinstance(f1["holds"], bool)
        assert data[f"docs {lang} training pieces/s"]["value"] > 0
        assert data[f"docs {lang} inference pieces/s"]["value"] > 0
        assert data[f"docs {lang} training seconds"]["value"] > 0
    assert 0.0 <= data["docs EN text → reading exact (share)"]["value"] <= 1.0
    # Chinese: the WordPiece baseline and the e5 rows (headline = the e5 main option, constrained)
    assert 0.0 <= data["docs ZH held-out F1 (WordPiece baseline)"]["value"] <= 1.0
    assert data["docs ZH WordPiece held-out [UNK] share"]["value"] > 0.0
    # --quick runs the main option only (--zh-e5-main, default 3:0.5:jieba+crf+latin): the decodings of one model;
    # the headline is its learned-CRF decoding
    main = "e5, top 3 layers, 50% synthetic names, jieba features, 30% Latin synthetic orgs, learned CRF"
    e5 = data[f"docs ZH held-out F1 ({main}, BIO + learned CRF transitions)"]
    assert e5["value"] == data["docs ZH held-out F1"]["value"] and e5["goal"] == ">= 0.95"
    for decoding in (
        "per-word argmax",
        "BIO-constrained",
        "BIO + training transitions",
        "BIO + transitions / tag prior",
    ):
        assert 0.0 <= data[f"docs ZH held-out F1 ({main}, {decoding})"]["value"] <= 1.0
    assert data["docs ZH held-out [UNK] share"]["value"] == 0.0
    if config.has_data():
        wnut = data["WNUT-17 test entity F1 (%)"]
        assert wnut["goal"] == ">= 50" and 0.0 <= wnut["value"] <= 100.0
        assert data["WNUT-17 training seconds"]["value"] > 0
        for decoding in (
            "BIO-constrained",
            "BIO + training transitions",
            "BIO + training transitions / tag prior",
        ):
            assert 0.0 <= data[f"WNUT-17 test entity F1, {decoding} (%)"]["value"] <= 100.0
    assert "docs EN held-out F1" in res.stdout and "# tagger" in res.stdout
