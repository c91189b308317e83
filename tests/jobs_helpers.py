"""Driving `digitrec jobs` as a user would, and making sure no local job outlives its test."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

from conftest import run_cli
from digitrec.jobs import JobStore
from digitrec.jobs.executors import local_controller_alive

# Small, quick training; one thread per process so jobs do not fight over the two cores.
QUICK = ["--model", "fast", "--limit", "3000", "--epochs", "2", "--seed", "1"]
JOB_ENV = {"OMP_NUM_THREADS": "1"}


def submit(*args: str) -> dict:
    return json.loads(run_cli("jobs", "submit", "--json", *args, env=JOB_ENV, check=True).stdout_text)


def status(job_id: str) -> dict:
    return json.loads(run_cli("jobs", "status", job_id, "--json", check=True).stdout_text)


def wait_until(job_id: str, done, timeout: float = 180, poll: float = 0.25) -> dict:
    """Poll the job's status (in this process: no interpreter start per poll) until ``done(status)``."""
    from digitrec.jobs import describe

    store = JobStore()
    deadline = time.monotonic() + timeout
    while True:
        described = describe(store.get(job_id))
        if done(described):
            return described
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {described['state']} after {timeout} s: "
                                 f"{described['status']}")
        time.sleep(poll)


def stop_local_jobs(jobs_dir: Path) -> None:
    """SIGINT each live local controller (it stops its tasks, as `jobs cancel` does), then make sure: SIGKILL
    the controller's children and the controller, by PID."""
    for record in JobStore(jobs_dir).all():
        pid = int(record.native_id)
        if record.executor != "local" or not local_controller_alive(pid):
            continue
        os.kill(pid, signal.SIGINT)
        deadline = time.monotonic() + 15
        while local_controller_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if local_controller_alive(pid):
            for child in children(pid):
                os.kill(child, signal.SIGKILL)
            os.kill(pid, signal.SIGKILL)


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        found += [int(c) for c in (task / "children").read_text().split()]
    return found
