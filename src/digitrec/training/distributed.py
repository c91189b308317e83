"""Data-parallel training (DDP): one process per GPU, or several CPU processes, launched by torchrun or as the
tasks of a Slurm job.

The launcher describes the run in the environment (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``,
``MASTER_PORT``): torchrun sets them, and a Slurm job gets them from submitit's
``TorchDistributedEnvironment``. Every rank holds the whole training set in memory and walks the same
seeded permutation, taking its own slice of each global batch, so one step sees the examples one process
would see and the learning-rate schedule is unchanged; DDP averages the gradients. Rank 0 alone writes
checkpoints, progress and the model. Without these variables, nothing here does anything.
"""

from __future__ import annotations

import contextlib
import math
import os
from dataclasses import dataclass
from typing import Iterator

import torch
import torch.distributed as td
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel

RANK_SEED_STRIDE = 7919  # a prime: each rank's dropout/augmentation stream starts far from the others'


@dataclass(frozen=True)
class Distributed:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    local_world_size: int = 1

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def device(self, requested: torch.device) -> torch.device:
        """One GPU per process on a node: ``cuda`` becomes ``cuda:<local rank>`` (modulo the GPUs visible,
        which is 1 when the scheduler already binds one GPU to each task)."""
        if self.enabled and requested.type == "cuda" and requested.index is None:
            return torch.device("cuda", self.local_rank % torch.cuda.device_count())
        return requested

    def steps_per_epoch(self, examples: int, batch_size: int) -> int:
        # Several processes take whole global batches only, so no rank is ever handed an empty share.
        return max(1, examples // batch_size) if self.enabled else math.ceil(examples / batch_size)

    def share(self, batch: torch.Tensor) -> torch.Tensor:
        """This rank's slice of a global batch of indices."""
        return batch.tensor_split(self.world_size)[self.rank] if self.enabled else batch

    def reseed(self, generator: torch.Generator, seed: int) -> None:
        """Different dropout and augmentation draws on each rank (after the shared permutation was drawn);
        rank 0 keeps the single-process stream."""
        if self.rank:
            torch.manual_seed(seed + RANK_SEED_STRIDE * self.rank)
            generator.manual_seed(seed + RANK_SEED_STRIDE * self.rank)

    def wrap(self, model: nn.Module, device: torch.device) -> nn.Module:
        """The module to run forward/backward through: DDP-wrapped when distributed, else the model itself."""
        if not self.enabled:
            return model
        return DistributedDataParallel(model, device_ids=[device] if device.type == "cuda" else None)

    def totals(self, loss_sum: torch.Tensor, correct: torch.Tensor, seen: int) -> tuple[float, float, int]:
        """An epoch's loss sum, correct count and examples over every rank (one all-reduce)."""
        if not self.enabled:
            return loss_sum.item(), correct.item(), seen
        count = torch.tensor(float(seen), device=loss_sum.device)
        packed = torch.stack([loss_sum.float(), correct.float(), count])
        td.all_reduce(packed)
        loss, right, count = packed.tolist()
        return loss, right, int(count)


def from_environment() -> Distributed:
    env = os.environ
    world = int(env.get("WORLD_SIZE", "1"))
    return Distributed(rank=int(env.get("RANK", "0")), world_size=world,
                       local_rank=int(env.get("LOCAL_RANK", "0")),
                       local_world_size=int(env.get("LOCAL_WORLD_SIZE", str(world))))


def backend(device: torch.device, processes_per_node: int, gpus: int) -> str:
    """NCCL when every process on the node has a GPU of its own. NCCL refuses two ranks on one GPU — what
    more processes than GPUs means (torchrun --nproc-per-node=2 on a one-GPU machine) — while gloo
    all-reduces CUDA tensors too, through the host."""
    return "nccl" if device.type == "cuda" and processes_per_node <= gpus else "gloo"


@contextlib.contextmanager
def process_group(dist: Distributed, device: torch.device) -> Iterator[None]:
    """Join the process group (NCCL with a GPU per process, else gloo) for the duration of a training run."""
    if not dist.enabled or td.is_initialized():
        yield
        return
    if device.type == "cuda":
        torch.cuda.set_device(device)
    elif "OMP_NUM_THREADS" not in os.environ:  # the node's processes share its cores, not each take all
        torch.set_num_threads(max(1, len(os.sched_getaffinity(0)) // dist.local_world_size))
    gpus = torch.cuda.device_count() if device.type == "cuda" else 0
    td.init_process_group(backend(device, dist.local_world_size, gpus), rank=dist.rank,
                          world_size=dist.world_size)
    try:
        yield
    finally:
        td.destroy_process_group()
