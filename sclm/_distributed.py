"""Data-parallel helpers for :func:`sclm.training.fit` (``torchrun`` / ``accelerate launch``).

``fit`` detects a launcher from the environment it sets (``WORLD_SIZE``, ``RANK``,
``LOCAL_RANK``, ``MASTER_ADDR``, ``MASTER_PORT``), joins (or creates) the default process group
(``gloo`` on CPU, ``nccl`` on CUDA), and trains the model wrapped in
:class:`torch.nn.parallel.DistributedDataParallel`.

Same global batch as one process
--------------------------------
:class:`GlobalBatchSampler` is the distributed sampler: every rank draws the *same* seeded
permutation (from identically seeded ``torch.Generator`` objects, exactly as the single-process
``DataLoader(shuffle=True, generator=...)`` does), cuts it into global batches of
``batch_size`` and gives each rank a contiguous share (``numpy.array_split``: sizes differ by at
most one; a rank may get none of a short last batch).  Unlike
:class:`torch.utils.data.DistributedSampler` it neither reseeds per epoch nor pads by repeating
samples, so the union of the ranks' shares is exactly the single-process batch.  DDP averages
gradients over ranks; weighting each rank's mean loss by ``n_rank * world / n_global``
(:func:`share_weight`) makes that average the gradient of the global batch mean, also for
uneven shares.  This holds for losses that are a mean over the samples of the batch (as
:func:`sclm.models.forecaster.forecast_loss` is).
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist
from torch.utils.data import Sampler

__all__ = [
    "DistContext",
    "GlobalBatchSampler",
    "all_reduce_sums",
    "env_world_size",
    "setup",
    "share_weight",
    "teardown",
]


def env_world_size() -> int:
    """``WORLD_SIZE`` set by ``torchrun`` / ``accelerate launch`` (1 when absent)."""
    try:
        return int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:  # pragma: no cover - malformed environment
        return 1


@dataclass
class DistContext:
    """The process group ``fit`` trains in.

    Attributes
    ----------
    world_size, rank, local_rank : int
        Number of processes, this process's global index, its index on this machine.
    created : bool
        :func:`setup` initialised the default group (in this call or an earlier one); it is
        then kept for later ``fit`` calls and destroyed when the interpreter exits.
    backend : str
        ``"gloo"``, or ``"cpu:gloo,cuda:nccl"`` where CUDA is available.
    """

    world_size: int
    rank: int
    local_rank: int
    created: bool
    backend: str

    @property
    def is_main(self) -> bool:
        """Rank 0: the only process that writes checkpoints and shows progress."""
        return self.rank == 0


_created_here = False


def _destroy_at_exit() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def setup(device_type: str) -> DistContext | None:
    """Join the default process group, initialising it from the environment if needed.

    Parameters
    ----------
    device_type : {"cpu", "cuda", "mps"}
        Device kind the model trains on; CUDA tensors go through ``nccl``, CPU ones through
        ``gloo`` (both backends are registered where CUDA is available).

    Returns
    -------
    DistContext or None
        None when there is a single process (no group initialised and ``WORLD_SIZE`` ≤ 1).

    Notes
    -----
    The group is created once per process and reused by later calls: destroying and
    re-creating the default group under ``torchrun`` reuses the launcher's key-value store, where
    gloo then finds the previous group's (closed) addresses and fails to connect.
    """
    global _created_here
    if not dist.is_available():  # pragma: no cover - torch built without distributed
        return None
    if not dist.is_initialized():
        if env_world_size() <= 1:
            return None
        if device_type == "cuda" and not torch.cuda.is_available():  # pragma: no cover
            raise RuntimeError("CUDA training requested but CUDA is not available")
        backend = "cpu:gloo,cuda:nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend=backend, init_method="env://")
        _created_here = True
        atexit.register(_destroy_at_exit)
    world = dist.get_world_size()
    if world <= 1:
        return None
    return DistContext(
        world_size=world,
        rank=dist.get_rank(),
        local_rank=local_rank(),
        created=_created_here,
        backend=str(dist.get_backend()),
    )


def local_rank() -> int:
    """``LOCAL_RANK`` from the launcher (0 when absent)."""
    return int(os.environ.get("LOCAL_RANK", "0"))


def teardown(ctx: DistContext | None, device: torch.device) -> None:
    """Barrier: every rank has finished (and rank 0 has written its checkpoint) before returning."""
    if ctx is None:
        return
    if device.type == "cuda":
        dist.barrier(device_ids=[device.index if device.index is not None else local_rank()])
    else:
        dist.barrier()


def all_reduce_sums(values: list[float], device: torch.device) -> list[float]:
    """Sum ``values`` over all ranks (float64), identical on every rank."""
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return [float(v) for v in t.cpu()]


def share_weight(n_local: int, n_global: int, world_size: int) -> float:
    """Factor on a rank's mean loss so that DDP's gradient average is the global-batch mean.

    DDP computes ``(1/W) Σ_r ∇(w_r · L_r)``; with ``L_r`` the mean over the ``n_r`` local
    samples and ``w_r = n_r · W / n``, this is ``∇ (1/n) Σ_i ℓ_i``.
    """
    return n_local * world_size / n_global


class GlobalBatchSampler(Sampler[list[int]]):
    """Batch sampler giving this rank its share of each seeded global batch.

    Parameters
    ----------
    n : int
        Dataset length.
    batch_size : int
        Global batch size (all ranks together), as in a single-process run.
    generator : torch.Generator
        Seeded identically on every rank; one ``torch.randperm(n, generator=...)`` per epoch
        (the draw :class:`torch.utils.data.RandomSampler` makes), so the order follows the
        single-process run and a restored generator state resumes it.
    rank, world_size : int

    Notes
    -----
    Iterating yields, per global batch, this rank's indices (one placeholder index when its
    share is empty); :attr:`global_sizes` and :meth:`local_sizes` give the real counts.  ``set_epoch`` is accepted for
    the :class:`~torch.utils.data.DistributedSampler` protocol; the order depends only on the
    generator state.
    """

    def __init__(self, n: int, batch_size: int, generator: torch.Generator, rank: int, world_size: int):
        self.n, self.batch_size, self.generator = n, batch_size, generator
        self.rank, self.world_size = rank, world_size
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    @property
    def global_sizes(self) -> list[int]:
        """Global batch sizes of one epoch, e.g. ``[B, B, ..., n mod B]``."""
        full, rest = divmod(self.n, self.batch_size)
        return [self.batch_size] * full + ([rest] if rest else [])

    def __len__(self) -> int:
        return len(self.global_sizes)

    def local_sizes(self) -> list[int]:
        """This rank's real share of each global batch (0 where it only gets a placeholder)."""
        return [len(np.array_split(np.arange(b), self.world_size)[self.rank]) for b in self.global_sizes]

    def __iter__(self) -> Iterator[list[int]]:
        perm = torch.randperm(self.n, generator=self.generator).numpy()
        for start in range(0, self.n, self.batch_size):
            batch = perm[start : start + self.batch_size]
            share = np.array_split(batch, self.world_size)[self.rank].tolist()
            # a rank without samples in a short last batch still runs forward/backward (DDP
            # needs every rank in the all-reduce) on one placeholder sample weighted 0
            yield share or [int(batch[0])]
        # RandomSampler draws a second permutation at the end of each epoch and keeps none of
        # it (num_samples % n == 0): draw it too, so the generator stays in step
        torch.randperm(self.n, generator=self.generator)
