"""The schedulers, through submitit: submit a task, ask a job's state, cancel it, find its logs.

submitit writes the sbatch script (or starts a local controller process), pickles the task for the job to
load, and handles preemption and timeouts (signal, checkpoint, requeue). Those pickles are submitit's own:
written and read by the same user in the job folder, never something a user is handed by someone else.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Iterator

import submitit
from submitit.core.utils import FailedJobError, JobPaths

from digitrec.errors import DigitrecError, UsageError
from digitrec.jobs.records import JobRecord, Resources

LOCAL_CONTROLLER = b"submitit.local._local"
LOCAL_TIME_MIN = 7 * 24 * 60  # a local job has no scheduler to stop it; submitit needs some limit


def make_executor(resources: Resources, folder: Path) -> submitit.AutoExecutor:
    try:
        executor = submitit.AutoExecutor(folder=folder, cluster=resources.executor)
    except RuntimeError as exc:  # submitit found no srun: not a Slurm machine
        raise DigitrecError(f"Slurm is not available here ({exc}); use --executor local") from None
    parameters = {"name": resources.name, "timeout_min": resources.time_min, "nodes": resources.nodes,
                  "tasks_per_node": resources.tasks_per_node, "gpus_per_node": resources.gpus or None,
                  "stderr_to_stdout": True, "cpus_per_task": resources.cpus, "mem_gb": resources.mem_gb,
                  "slurm_partition": resources.partition}
    executor.update_parameters(**{k: v for k, v in parameters.items() if v is not None})
    return executor


def submit(task, resources: Resources, folder: Path) -> str:
    """Submit ``task``; returns the scheduler's job id (Slurm's, or the local controller's process id)."""
    executor = make_executor(resources, folder)
    messages = io.StringIO()
    local = resources.executor == "local"
    detach = detached_stdio(folder / "controller.log") if local else contextlib.nullcontext()
    interruptible = interruptible_children() if local else contextlib.nullcontext()
    try:
        with contextlib.redirect_stderr(messages), detach, interruptible:
            job = executor.submit(task)
    except FailedJobError as exc:  # sbatch refused the job or could not reach the controller
        reason = (str(exc).strip() or messages.getvalue().strip() or "no reason given").splitlines()[-1]
        raise DigitrecError(f"Slurm did not accept the job: {reason}") from None
    return str(job.job_id)


@contextlib.contextmanager
def interruptible_children() -> Iterator[None]:
    """Let the local controller be cancelled. `jobs cancel` sends it SIGINT, as submitit does; but a command
    started in the background by a shell (`digitrec jobs submit ... &`, CI runners) has SIGINT ignored, and an
    ignored signal stays ignored in every child. With a handler here, children start with the default."""
    previous = signal.getsignal(signal.SIGINT)
    if previous is signal.SIG_IGN and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)
    else:
        yield


@contextlib.contextmanager
def redirected(targets: dict[int, str | os.PathLike]) -> Iterator[None]:
    """Point file descriptors (0, 1, 2) at files for a while: unlike sys.stdout, child processes see it."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = {fd: os.dup(fd) for fd in targets}
    try:
        for fd, target in targets.items():
            with open(target, "rb" if fd == 0 else "ab") as file:
                os.dup2(file.fileno(), fd)
        yield
    finally:
        for fd, copy in saved.items():
            os.dup2(copy, fd)
            os.close(copy)


def detached_stdio(log: Path) -> contextlib.AbstractContextManager:
    """The local controller outlives this command and inherits its stdin/stdout/stderr: give it /dev/null and
    a log file instead, or whoever reads this command's output would wait for the job to end."""
    return redirected({0: os.devnull, 1: log, 2: log})


def scheduler_state(record: JobRecord) -> str:
    """What the scheduler says: Slurm's state name (PENDING, RUNNING, COMPLETED, CANCELLED, TIMEOUT, ...),
    RUNNING or ENDED for a local job (and a Slurm job the scheduler has forgotten), UNKNOWN when Slurm
    cannot be asked."""
    if record.executor == "local":
        return "RUNNING" if local_controller_alive(int(record.native_id)) else "ENDED"
    # sacct (through submitit) knows every job where accounting is on; the live queue covers the rest
    with redirected({2: os.devnull}):  # sacct (and submitit's log of it) complain where accounting is off
        state = submitit.SlurmJob(record.folder, record.native_id).get_info(mode="force").get("State")
    if state is None:
        state = squeue_state(record.native_id)
    return (state or "UNKNOWN").split()[0]


def squeue_state(native_id: str) -> str | None:
    """The job's state in Slurm's live queue; ENDED when the queue no longer lists it, None when Slurm
    cannot be asked."""
    try:
        done = subprocess.run(["squeue", "--json"], capture_output=True, text=True, timeout=60, check=True)
        answer = json.loads(done.stdout)
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    if answer.get("errors"):
        return None
    jobs = answer.get("jobs", [])
    # squeue --json lists every job whatever the filters (Slurm 22.05): pick ours here
    return next((job["job_state"] for job in jobs if str(job.get("job_id")) == native_id), "ENDED")


def local_controller_alive(pid: int) -> bool:
    """Whether the local job's controller still runs: the process exists, is not a zombie, and is submitit's
    controller (not another process that was given the same id later)."""
    proc = Path(f"/proc/{pid}")
    if not Path("/proc/self").exists():  # no procfs (macOS): the process id is all there is
        with contextlib.suppress(OSError):
            os.kill(pid, 0)
            return True
        return False
    try:
        state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        return state != "Z" and LOCAL_CONTROLLER in (proc / "cmdline").read_bytes()
    except (OSError, IndexError):
        return False


def cancel(record: JobRecord) -> None:
    if record.executor == "local":
        if not local_controller_alive(int(record.native_id)):
            raise UsageError(f"job {record.id} is not running")
        os.kill(int(record.native_id), signal.SIGINT)  # as submitit's LocalJob.cancel: it stops its tasks
        return
    try:
        submitit.SlurmJob(record.folder, record.native_id).cancel(check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        raise DigitrecError(f"scancel {record.native_id} failed ({exc})") from None


def log_path(record: JobRecord, task: int = 0) -> Path:
    """The log (stdout and stderr together) of one task of the job."""
    return JobPaths(record.folder, job_id=record.native_id, task_id=task).stdout
