"""Shared pytest fixtures."""

from __future__ import annotations

import pytest


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
