"""Shared pytest fixtures."""

from __future__ import annotations

import os

import pytest

# pytest runs on two workers (``-n 2``) on two cores: one OpenMP thread per process (torch,
# LightGBM, and the kernels papermill starts, which inherit the environment) avoids
# oversubscription, which slows tiny models down by an order of magnitude.
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture
def one_torch_thread():
    """Run torch on one intra-op thread for the test, then restore the setting.

    Tiny models only suffer from thread contention (70x slower on a loaded 2-core machine).
    """
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
