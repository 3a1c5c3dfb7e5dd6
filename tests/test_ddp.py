"""sclm.training.fit under torchrun: 2 CPU processes (gloo) reproduce the single-process run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from test_training import sine_windows, tiny_model
from torch.utils.data import DataLoader, TensorDataset

from sclm._distributed import GlobalBatchSampler, share_weight
from sclm.training import fit

pytestmark = pytest.mark.usefixtures("one_torch_thread")

KW = dict(batch_size=16, lr=3e-3, weight_decay=0.01, seed=1, device="cpu", progress=False)

# Each case: (train windows, val windows or None, val sign, fit keywords).  45 = 16 + 16 + 13
# (the short batch splits 7/6); 33 = 16 + 16 + 1 (rank 1 gets no sample of the last batch).
CASES = {
    "uneven": (45, 11, 1.0, dict(epochs=3)),
    "one_left": (33, None, 1.0, dict(epochs=2)),
    "early_stop": (32, 16, -1.0, dict(epochs=30, patience=2)),
    "max_steps": (48, 8, 1.0, dict(epochs=10, max_steps=4)),
}

SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    import torch
    from safetensors.torch import save_file
    sys.path.insert(0, {tests!r})
    from sclm.training import fit
    from test_training import sine_windows, tiny_model

    torch.set_num_threads(1)
    out, rank = sys.argv[1], int(os.environ["RANK"])
    cases, kw = json.loads({cases!r}), json.loads({kw!r})
    report = {{}}
    for name, (n, n_val, sign, extra) in cases.items():
        val = sine_windows(n_val, 1, sign=sign) if n_val else None
        m = tiny_model(dropout=0.0)
        ckpt = os.path.join(out, f"ckpt-{{name}}-rank{{rank}}")
        r = fit(m, sine_windows(n, 0), val, checkpoint_dir=ckpt, **kw, **extra)
        if rank == 0:
            save_file({{k: v.contiguous() for k, v in m.state_dict().items()}}, os.path.join(out, name + ".safetensors"))
            report[name] = r.to_dict()
    # resume across fit calls: 2 epochs with a checkpoint shared by both ranks, then up to 4
    shared = os.path.join(out, "ckpt-shared")
    for epochs in (2, 4):
        m = tiny_model(dropout=0.0, seed=0 if epochs == 2 else 123)
        r = fit(m, sine_windows(40, 0), sine_windows(8, 1), epochs=epochs, checkpoint_dir=shared, resume=True, **kw)
    if rank == 0:
        save_file({{k: v.contiguous() for k, v in m.state_dict().items()}}, os.path.join(out, "resume.safetensors"))
        report["resume"] = r.to_dict()
        json.dump(report, open(os.path.join(out, "report.json"), "w"))
    print("rank", rank, "initialised after fit:", torch.distributed.is_initialized())
    """
)


def _root() -> str:
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def ddp_run(tmp_path_factory):
    """Run every case once under ``torchrun --nproc_per_node 2`` (one launch, a few seconds)."""
    out = tmp_path_factory.mktemp("ddp")
    script = out / "train.py"
    script.write_text(
        SCRIPT.format(tests=os.path.join(_root(), "tests"), cases=json.dumps(CASES), kw=json.dumps(KW)),
        encoding="utf-8",
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    proc = subprocess.run(
        [*cmd, str(script), str(out)], env=env, capture_output=True, text=True, timeout=300, cwd=_root()
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out, proc.stdout, json.loads((out / "report.json").read_text())


def _single(name: str):
    n, n_val, sign, extra = CASES[name]
    val = sine_windows(n_val, 1, sign=sign) if n_val else None
    m = tiny_model(dropout=0.0)
    r = fit(m, sine_windows(n, 0), val, **KW, **extra)
    return m, r


def _comparable(k: str, v: torch.Tensor) -> torch.Tensor:
    """The weights to compare: all but the attention *key* bias.

    Softmax ignores a constant added to every logit, so the key bias has an exactly zero
    gradient; its float rounding noise (~1e-10, summed in another order by DDP) is scaled up
    to steps of size ``lr`` by Adam's normalisation, so that bias drifts differently in any two
    summation orders without changing the output (checked on the predictions below).
    """
    if k.endswith("self_attn.in_proj_bias"):
        d = v.shape[0] // 3
        return torch.cat([v[:d], v[2 * d :]])
    return v


def _outputs(state: dict[str, torch.Tensor]) -> torch.Tensor:
    m = tiny_model(dropout=0.0)
    m.load_state_dict(state)
    x, xf, _ = (torch.from_numpy(a) for a in sine_windows(32, 7))
    with torch.no_grad():
        return m.eval()(x, xf).point


@pytest.mark.parametrize("name", list(CASES))
def test_two_processes_equal_one(ddp_run, name):
    out, _, report = ddp_run
    m, r = _single(name)
    got = load_file(str(out / f"{name}.safetensors"))
    want = {k: v.detach() for k, v in m.state_dict().items()}
    assert got.keys() == want.keys()
    for k in want:
        torch.testing.assert_close(
            _comparable(k, got[k]),
            _comparable(k, want[k]),
            rtol=1e-5,
            atol=1e-6,
            msg=lambda s, k=k: f"{k}: {s}",
        )
    torch.testing.assert_close(_outputs(got), _outputs(want), rtol=1e-5, atol=1e-5)
    # training moved the weights (the comparison is not between two untrained models)
    fresh = tiny_model(dropout=0.0).state_dict()
    assert any(not torch.allclose(fresh[k], want[k], atol=1e-3) for k in want)
    d = report[name]
    assert d["world_size"] == 2 and r.world_size == 1
    assert d["steps"] == r.steps and d["epochs_run"] == r.epochs_run and d["best_epoch"] == r.best_epoch
    assert d["stopped_early"] == r.stopped_early
    np.testing.assert_allclose(d["train_loss"], r.train_loss, rtol=1e-5)
    np.testing.assert_allclose(d["val_loss"], r.val_loss, rtol=1e-5)
    # only rank 0 wrote a checkpoint
    assert (out / f"ckpt-{name}-rank0" / "latest.json").is_file()
    assert not (out / f"ckpt-{name}-rank1").exists()


def test_cases_cover_what_they_claim(ddp_run):
    _, stdout, report = ddp_run
    assert report["early_stop"]["stopped_early"] and report["early_stop"]["epochs_run"] < 30
    assert report["max_steps"]["steps"] == 4
    # the group fit made is kept for the later fit calls (re-creating it under torchrun fails)
    assert stdout.count("initialised after fit: True") == 2


def test_resume_under_ddp_equals_uninterrupted_single_process(ddp_run):
    out, _, report = ddp_run
    m = tiny_model(dropout=0.0)
    r = fit(m, sine_windows(40, 0), sine_windows(8, 1), epochs=4, **KW)
    assert report["resume"]["resumed_from"] == 2 and report["resume"]["epochs_run"] == 4
    got = load_file(str(out / "resume.safetensors"))
    for k, v in m.state_dict().items():
        torch.testing.assert_close(_comparable(k, got[k]), _comparable(k, v), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(_outputs(got), _outputs(m.state_dict()), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(report["resume"]["train_loss"], r.train_loss, rtol=1e-5)


# --------------------------------------------------------------------------------------------------
# The sampler alone (no processes)
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "batch", "world"), [(45, 16, 2), (33, 16, 2), (50, 8, 3), (7, 4, 4)])
def test_global_batches_are_the_single_process_batches(n, batch, world):
    data = TensorDataset(torch.arange(n))
    g1 = torch.Generator().manual_seed(5)
    single = DataLoader(data, batch_size=batch, shuffle=True, generator=g1)
    gens = [torch.Generator().manual_seed(5) for _ in range(world)]
    samplers = [GlobalBatchSampler(n, batch, gens[r], r, world) for r in range(world)]
    loaders = [DataLoader(data, batch_sampler=s, generator=g) for s, g in zip(samplers, gens, strict=True)]
    for epoch in range(3):
        for s in samplers:
            s.set_epoch(epoch)
        want = [b[0].tolist() for b in single]
        per_rank = [[b[0].tolist() for b in loader] for loader in loaders]
        assert all(len(p) == len(want) for p in per_rank)
        for i, w in enumerate(want):
            sizes = [s.local_sizes()[i] for s in samplers]
            assert sum(sizes) == len(w) == samplers[0].global_sizes[i]
            union = [x for r in range(world) for x in per_rank[r][i][: sizes[r]]]
            assert union == w  # same samples, in the same order
            weights = [share_weight(k, len(w), world) for k in sizes]
            assert sum(weights) == pytest.approx(world)  # DDP's mean of the weighted means
        # the generators stay in step with the single-process one across epochs
        assert all(torch.equal(g.get_state(), g1.get_state()) for g in gens)


def test_single_process_fit_reports_world_size_one():
    r = fit(tiny_model(), sine_windows(16, 0), None, epochs=1, **KW)
    assert r.world_size == 1 and not torch.distributed.is_initialized()
