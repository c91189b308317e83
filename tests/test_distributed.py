"""Data-parallel training (DDP over gloo) launched by torchrun: two CPU processes reach the accuracy of one,
only rank 0 writes; and the sharding that makes a DDP step see what a single process would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import torch

from digitrec.training.distributed import Distributed, backend

TRAIN = ["train", "--model", "fast", "--limit", "12000", "--epochs", "2", "--seed", "3", "--quiet", "--json"]


def run_training(out: Path, processes: int) -> dict:
    torchrun = Path(sys.executable).parent / "torchrun"
    if processes == 1:
        command = [sys.executable, "-m"]
    else:
        command = [str(torchrun), "--standalone", f"--nproc-per-node={processes}", "-m"]
    command += ["digitrec", *TRAIN, "--out", str(out)]
    # one thread per process: the comparison is 1 core against 2, not threads fighting over cores
    done = subprocess.run(command, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr
    results = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(results) == 1, done.stdout  # rank 0 alone reports
    return results[0]


def test_two_processes_match_one(tmp_path):
    one = run_training(tmp_path / "one", 1)
    two = run_training(tmp_path / "two", 2)
    print(f"1 process: {one['test_accuracy']:.4f} in {one['train_seconds']:.1f} s; "
          f"2 processes: {two['test_accuracy']:.4f} in {two['train_seconds']:.1f} s")
    assert abs(one["test_accuracy"] - two["test_accuracy"]) <= 0.01  # the same recipe, within noise
    assert two["test_accuracy"] > 0.95
    assert [row["epoch"] for row in two["history"]] == [1, 2]
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == ["metadata.json", "model.onnx",
                                                                      "weights.safetensors"]


def test_each_rank_takes_its_share_of_every_global_batch():
    batch = torch.arange(10)
    shares = [Distributed(rank=r, world_size=3).share(batch) for r in range(3)]
    assert torch.equal(torch.cat(shares), batch) and [len(s) for s in shares] == [4, 3, 3]
    assert Distributed().share(batch) is batch
    assert Distributed().steps_per_epoch(1000, 128) == 8  # one process: the last, partial batch too
    assert Distributed(rank=0, world_size=2).steps_per_epoch(1000, 128) == 7  # whole global batches only


def test_nccl_only_when_every_process_has_a_gpu_of_its_own():
    # Two processes on a one-GPU machine crashed in NCCL ("duplicate GPU"), seen on an H100 with torchrun.
    cuda, cpu = torch.device("cuda"), torch.device("cpu")
    assert backend(cuda, processes_per_node=2, gpus=2) == "nccl"
    assert backend(cuda, processes_per_node=4, gpus=8) == "nccl"
    assert backend(cuda, processes_per_node=2, gpus=1) == "gloo"
    assert backend(cpu, processes_per_node=2, gpus=0) == "gloo"
