"""A training job's life: submit, follow its state, cancel, resubmit (which resumes from its checkpoint)."""

from __future__ import annotations

import shutil
import time
from dataclasses import replace

from digitrec.errors import UsageError
from digitrec.jobs import executors
from digitrec.jobs.records import JobRecord, JobStore, Resources, TrainSpec, now
from digitrec.jobs.task import TrainingTask

# Scheduler states of a job that has not ended yet (Slurm's names; a local job is RUNNING or ENDED).
LIVE = frozenset({"PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "REQUEUED", "REQUEUE_HOLD",
                  "REQUEUE_FED", "RESIZING", "SUSPENDED", "SIGNALING", "STAGE_OUT"})
# Ways a job can end that say why; any other end without the job's own report is INTERRUPTED (killed).
CAUSES = frozenset({"CANCELLED", "TIMEOUT", "PREEMPTED", "NODE_FAIL", "OUT_OF_MEMORY", "BOOT_FAIL",
                    "DEADLINE"})


def submit_training(spec: TrainSpec, resources: Resources, store: JobStore,
                    resumes: str | None = None) -> JobRecord:
    job_id, folder = store.new_folder()
    if not spec.out_dir:  # the model goes to the job's own folder
        spec = replace(spec, out_dir=str(folder / "model"))
    try:
        native_id = executors.submit(TrainingTask(spec, str(folder)), resources, folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)  # nothing was submitted: leave no empty job behind
        raise
    record = JobRecord(job_id, str(folder), native_id, now(), resources, spec, resumes)
    record.save()
    return record


def job_state(record: JobRecord, status: dict) -> str:
    """FINISHED and FAILED as the job reported them; otherwise what the scheduler says, with INTERRUPTED for a
    job that ended without reporting (killed): resubmitting it resumes from its last checkpoint."""
    reported = status.get("state")
    if reported in ("finished", "failed"):
        return reported.upper()
    scheduler = executors.scheduler_state(record)
    if scheduler in LIVE or scheduler == "UNKNOWN":
        return scheduler
    if record.cancelled:
        return "CANCELLED"
    return scheduler if scheduler in CAUSES else "INTERRUPTED"


def is_over(state: str) -> bool:
    return state not in LIVE and state != "UNKNOWN"


def describe(record: JobRecord) -> dict:
    status = record.status()
    return {**record.to_json(), "state": job_state(record, status), "status": status,
            "log": str(executors.log_path(record))}


def wait(record: JobRecord, poll: float = 2.0) -> dict:
    """Poll until the job is over; returns its description."""
    while True:
        described = describe(record)
        if is_over(described["state"]):
            return described
        time.sleep(poll)


def cancel(record: JobRecord) -> JobRecord:
    state = job_state(record, record.status())
    if is_over(state):
        raise UsageError(f"job {record.id} is already over ({state})")
    executors.cancel(record)
    cancelled = replace(record, cancelled=now())
    cancelled.save()
    return cancelled


def resubmit(record: JobRecord, store: JobStore) -> JobRecord:
    """The same training again, into the same out dir: it resumes from the last checkpoint written there."""
    state = job_state(record, record.status())
    if not is_over(state):
        raise UsageError(f"job {record.id} is {state}; cancel it first (`digitrec jobs cancel {record.id}`)")
    if state == "FINISHED":
        version = record.status().get("version")
        raise UsageError(f"job {record.id} finished (version {version}); nothing to resume")
    return submit_training(record.spec, record.resources, store, resumes=record.id)
