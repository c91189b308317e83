"""Training jobs on a real single-node Slurm cluster (munged, slurmctld, slurmd started for the session): a
two-task DDP job trains, registers and promotes its model; a preempted job is requeued and resumes."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import run_cli
from digitrec.jobs import default_jobs_dir
from digitrec.modeldir import load_metadata
from digitrec.registry import Registry
from jobs_helpers import QUICK, submit, wait_until
from slurm_helpers import node_state, slurm_cluster, wait_for

OVER = ("FINISHED", "FAILED", "INTERRUPTED", "CANCELLED", "TIMEOUT", "PREEMPTED", "NODE_FAIL",
        "OUT_OF_MEMORY")


@pytest.fixture(scope="session")
def slurm() -> dict[str, str]:
    with slurm_cluster() as env:
        yield env


@pytest.fixture(autouse=True)
def slurm_env(slurm, monkeypatch) -> dict[str, str]:
    for key, value in slurm.items():
        monkeypatch.setenv(key, value)
    return slurm


def test_a_slurm_job_trains_with_two_tasks_and_registers_its_model():
    job = submit("--executor", "slurm", "--partition", "debug", "--tasks-per-node", "2", "--time", "10",
                 "--promote", "staging", "--", *QUICK)
    assert job["native_id"].isdigit()
    finished = wait_until(job["id"], lambda d: d["state"] in OVER)
    assert finished["state"] == "FINISHED", run_cli("jobs", "logs", job["id"]).stdout_text
    version = finished["status"]["version"]
    registry = Registry()
    assert registry.alias("staging").version == version
    assert registry.version(version).source["job"] == job["id"]
    listed = json.loads(run_cli("models", "list", "--json", check=True).stdout_text)
    assert [v["version"] for v in listed["versions"]] == [version]

    rank0 = run_cli("jobs", "logs", job["id"], check=True).stdout_text
    rank1 = run_cli("jobs", "logs", job["id"], "--task", "1", check=True).stdout_text
    assert "Epoch 2/2:" in rank0
    assert "global_rank=1(2)" in rank1 and "Epoch" not in rank1  # DDP: rank 0 alone reports
    script = (Path(job["folder"]) / f"{job['native_id']}_submission.sh").read_text()
    for line in ("#SBATCH --partition=debug", "#SBATCH --ntasks-per-node=2", "#SBATCH --time=10", "srun"):
        assert line in script
    table = run_cli("jobs", "list", check=True).stdout_text
    assert job["id"] in table and "FINISHED" in table


def test_a_preempted_job_is_requeued_and_resumes_from_its_checkpoint(tmp_path):
    out = tmp_path / "run"
    job = submit("--executor", "slurm", "--", "--model", "fast", "--limit", "16000", "--epochs", "3",
                 "--out", str(out))
    wait_until(job["id"], lambda d: (d["status"].get("epoch") or 0) >= 1)
    # What Slurm does before preempting (or at --time minus the grace period): signal the job step.
    slurm_command("scancel", "--signal=USR2", job["native_id"])
    wait_until(job["id"], lambda d: d["state"] == "PENDING")  # submitit checkpointed and requeued it
    # Slurm holds a requeued job for two minutes before it may start again; once the node has cleaned up
    # after the first attempt (idle again), let it start now.
    wait_for(lambda: node_state(dict(os.environ)) == "idle", "the node to be idle", [], timeout=60)
    slurm_command("scontrol", "update", f"JobId={job['native_id']}", "StartTime=now")
    finished = wait_until(job["id"], lambda d: d["state"] in OVER)
    assert finished["state"] == "FINISHED", run_cli("jobs", "logs", job["id"]).stdout_text
    assert finished["status"]["attempt"] == 2 and finished["status"]["resumed"] is True
    log = run_cli("jobs", "logs", job["id"], check=True).stdout_text
    assert "DUE TO JOB REQUEUE" in log
    assert f"resuming from {out / 'checkpoint.safetensors'} after epoch" in log
    assert log.count("untrained model") == 1  # the second attempt did not start over
    assert [row["epoch"] for row in load_metadata(out).history] == [1, 2, 3]
    assert default_jobs_dir() in Path(job["folder"]).parents


def slurm_command(*args: str) -> None:
    done = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
