"""Training jobs on this machine or a Slurm cluster (through submitit), with DDP across tasks, automatic
registration of the model they produce, and resumption from checkpoints after preemption or a crash."""

from digitrec.jobs.lifecycle import cancel, describe, job_state, resubmit, submit_training, wait
from digitrec.jobs.records import JobRecord, JobStore, Resources, TrainSpec, default_jobs_dir

__all__ = ["JobRecord", "JobStore", "Resources", "TrainSpec", "cancel", "default_jobs_dir", "describe",
           "job_state", "resubmit", "submit_training", "wait"]
