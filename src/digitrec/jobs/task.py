"""What runs inside a job: train (resuming from the out dir's checkpoint if there is one), register the model,
and keep ``status.json`` up to date. Every task of a multi-task job is one DDP rank; rank 0 reports.

The task is checkpointable (submitit): on preemption or timeout submitit calls :meth:`TrainingTask.checkpoint`
and requeues the job; training has already saved a checkpoint after every epoch, so the requeued task simply
resumes from it. A job resubmitted with the same out dir resumes the same way.
"""

from __future__ import annotations

import os
import random
import socket
from pathlib import Path

import submitit
from rich.console import Console

from digitrec.errors import DigitrecError
from digitrec.jobs.records import STATUS, TrainSpec, now, read_json, write_json
from digitrec.training.progress import EpochProgress

MASTER_PORTS = range(20000, 32768)  # for a multi-task job's rank 0 to listen on: below the ephemeral ports
LOG_WIDTH = 160  # a log file is no terminal: without a width, rich would wrap lines at 80 columns


class Status:
    """``status.json`` of a job, updated by rank 0 as training goes."""

    def __init__(self, folder: str | os.PathLike):
        self.path = Path(folder) / STATUS
        self.data = read_json(self.path) or {}

    def update(self, **fields) -> None:
        self.data.update(fields, updated=now())
        write_json(self.path, self.data)


class StatusProgress(EpochProgress):
    """Progress lines in the job's log, and the latest epoch in ``status.json``."""

    def __init__(self, status: Status):
        super().__init__(Console(stderr=True, width=LOG_WIDTH), enabled=True)
        self.status = status
        self.epochs = 0

    def start_epoch(self, epoch: int, epochs: int, steps: int) -> None:
        super().start_epoch(epoch, epochs, steps)
        self.epochs = epochs

    def end_epoch(self, summary: dict) -> None:
        super().end_epoch(summary)
        self.status.update(epoch=summary["epoch"], epochs=self.epochs, loss=summary["loss"],
                           val_accuracy=summary.get("val_accuracy"))


def master_port(job_id: str) -> int:
    """The port rank 0 of a multi-task job listens on, the same in every task: derived from the job id, as
    submitit does — but submitit picks it anywhere in 20000-60000, mostly among Linux's ephemeral ports
    (32768-60999), which any outgoing connection on the node may hold (a job failed so: EADDRINUSE)."""
    return random.Random(job_id).choice(MASTER_PORTS)


class TrainingTask(submitit.helpers.Checkpointable):
    def __init__(self, spec: TrainSpec, folder: str):
        self.spec, self.folder = spec, folder

    def __call__(self) -> dict | None:
        from digitrec.registry import Registry
        from digitrec.training.checkpoint import CHECKPOINT
        from digitrec.training.config import TrainConfig
        from digitrec.training.trainer import train

        environment = submitit.JobEnvironment()
        if environment.num_tasks > 1:  # MASTER_ADDR/PORT, RANK, WORLD_SIZE, LOCAL_RANK for torch.distributed
            os.environ.setdefault("MASTER_PORT", str(master_port(environment.job_id)))
            distributed = submitit.helpers.TorchDistributedEnvironment()
            distributed.export(set_cuda_visible_devices=False, overwrite=True)
        main = environment.global_rank == 0
        status = Status(self.folder)
        out_dir = Path(self.spec.out_dir)
        resume = (out_dir / CHECKPOINT).is_file()
        if main:
            status.update(state="running", attempt=status.data.get("attempt", 0) + 1, resumed=resume,
                          host=socket.gethostname(), pid=os.getpid(), started=now(), message=None)
        try:
            result = train(TrainConfig.from_dict(self.spec.config), out_dir, resume=resume,
                           data_dir=self.spec.data_dir,
                           progress=StatusProgress(status) if main else EpochProgress(enabled=False))
            if result is None:  # another rank: rank 0 registers the model
                return None
            registry = Registry(self.spec.registry)
            version, _ = registry.register(out_dir, {"job": Path(self.folder).name})
            if self.spec.promote:
                registry.promote(version.name, self.spec.promote)
        except Exception as exc:
            if main:
                message = str(exc) if isinstance(exc, DigitrecError) else f"{type(exc).__name__}: {exc}"
                status.update(state="failed", message=message)
            raise
        status.update(state="finished", version=version.name, model_dir=str(out_dir),
                      test_accuracy=result.test_accuracy, promoted=self.spec.promote)
        return {"version": version.name, "model_dir": str(out_dir), "test_accuracy": result.test_accuracy}

    def checkpoint(self) -> submitit.helpers.DelayedSubmission:
        # Training saved its own checkpoint at the end of the last epoch: the requeued task resumes from it.
        return submitit.helpers.DelayedSubmission(TrainingTask(self.spec, self.folder))
