"""bench/forecast.py's Theta-base rows (issue 14): their configurations and a tiny training run."""

from __future__ import annotations

import numpy as np
import pytest
from test_bench_forecast import _bench_module, _toy_args, _toy_setup

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_theta_rows_are_q_base_long_with_the_theta_base_and_their_input_lengths():
    bench_mod = _bench_module()
    rows = {
        k: bench_mod.M_VARIANTS[bench_mod.M_KEYS[k]]
        for k in ("q-base-long", "q-theta-long", "q-thetah-long", "q-theta-4x")
    }
    assert rows["q-theta-long"] == {**rows["q-base-long"], "base": "theta"}
    assert rows["q-thetah-long"] == {**rows["q-theta-long"], "base_fit": "horizon"}
    assert rows["q-theta-4x"] == {**rows["q-theta-long"], "long_input": 4}
    assert [bench_mod.input_factor(rows[k]) for k in rows] == [2, 2, 2, 4]
    assert bench_mod.input_factor(bench_mod.M_VARIANTS[bench_mod.M_KEYS["q-base"]]) == 1

    s, days = _toy_setup(bench_mod, 160, 140)
    args = _toy_args()
    for key, size, fit in (("q-thetah-long", 28, "horizon"), ("q-theta-4x", 56, "one_step")):
        (member,), _ = bench_mod.train_m(s, days[140], rows[key], args)
        cfg = member.model.config
        assert (cfg.base, cfg.base_fit, cfg.input_size) == ("theta", fit, size)
        fc = bench_mod.predict_m(s, [member], days[140], args)
        assert fc.shape[0] == 2 * 7 and np.isfinite(fc["q0.5"]).all()


def test_forecast_bases_script_gives_every_base_of_a_window(monkeypatch):
    import torch

    from sclm import config
    from sclm.models._bases import theta_base

    monkeypatch.syspath_prepend(str(config.PROJECT_ROOT / "bench"))
    from forecast_bases import bases

    x = torch.tensor(10 + np.tile([1.0, 2, 3, 0, -1, 4, 5], 4))[None, :, None]
    out = bases(x, 7)
    assert sorted(out) == ["level", "mean", "theta", "theta-h"]
    assert all(v.shape == (1, 7, 1) for v in out.values())
    torch.testing.assert_close(out["theta-h"], theta_base(x, 7, 7, fit_steps=7))
    torch.testing.assert_close(out["mean"][0, :, 0], x[0, -7:, 0])  # an exact weekly pattern
