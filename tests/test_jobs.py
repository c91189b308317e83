"""Training jobs on this machine (submitit's local executor): a job killed with SIGKILL mid-epoch resumes from
its checkpoint when resubmitted; cancel; and every kind of bad input is one clear line."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest

from conftest import assert_clean_error, run_cli
from digitrec.jobs import default_jobs_dir
from digitrec.modeldir import load_metadata
from digitrec.registry import Registry
from digitrec.training.checkpoint import CHECKPOINT, load_checkpoint
from jobs_helpers import JOB_ENV, QUICK, stop_local_jobs, submit, wait_until
from service_helpers import free_port
from slurm_helpers import SLURM_CONF

OVER = ("FINISHED", "FAILED", "INTERRUPTED", "CANCELLED")


@pytest.fixture(autouse=True)
def no_job_outlives_its_test():
    jobs_dir = default_jobs_dir()
    yield
    stop_local_jobs(jobs_dir)


def test_a_killed_job_resumes_from_its_checkpoint(tmp_path):
    out = tmp_path / "run"
    job = submit("--", "--model", "fast", "--limit", "16000", "--epochs", "3", "--seed", "2", "--out",
                 str(out))
    running = wait_until(job["id"], lambda d: d["state"] == "RUNNING" and d["status"].get("epoch", 0) >= 1)
    time.sleep(0.3)  # into the next epoch
    os.kill(running["status"]["pid"], signal.SIGKILL)
    killed = wait_until(job["id"], lambda d: d["state"] in OVER)
    assert killed["state"] == "INTERRUPTED"
    _, saved = load_checkpoint(out / CHECKPOINT)
    done = saved["epoch"]
    assert 1 <= done < 3 and not (out / "metadata.json").exists()

    resubmitted = run_cli("jobs", "resubmit", job["id"], "--json", env=JOB_ENV, check=True)
    resumed = json.loads(resubmitted.stdout_text)
    assert resumed["resumes"] == job["id"] and resumed["spec"]["out_dir"] == str(out)
    finished = wait_until(resumed["id"], lambda d: d["state"] in OVER)
    assert finished["state"] == "FINISHED", finished["status"]
    log = run_cli("jobs", "logs", resumed["id"], check=True).stdout_text
    assert f"resuming from {out / CHECKPOINT} after epoch {done}/3" in log
    assert "untrained model" not in log and f"Epoch {done}/3:" not in log  # nothing done twice
    history = load_metadata(out).history
    assert [row["epoch"] for row in history] == [1, 2, 3]
    assert history[:done] == saved["history"]  # the killed job's epochs, continued
    version = finished["status"]["version"]
    assert Registry().version(version).metadata.history == history
    assert_clean_error(run_cli("jobs", "resubmit", resumed["id"]), "nothing to resume")


def test_cancel_a_running_job():
    job = submit("--", "--model", "fast", "--limit", "20000", "--epochs", "200")  # far longer than the test
    wait_until(job["id"], lambda d: d["state"] == "RUNNING" and d["status"].get("state") == "running")
    cancelled = run_cli("jobs", "cancel", job["id"], check=True)
    assert f"cancelled {job['id']}" in cancelled.stdout_text
    assert wait_until(job["id"], lambda d: d["state"] in OVER, timeout=30)["state"] == "CANCELLED"
    assert_clean_error(run_cli("jobs", "cancel", job["id"]), "already over (CANCELLED)")
    lines = run_cli("jobs", "list", "--json", check=True).stdout_text.splitlines()
    listed = [json.loads(line) for line in lines]
    assert [(j["id"], j["state"]) for j in listed] == [(job["id"], "CANCELLED")]


@pytest.mark.parametrize("args, message", [
    (["--", "--epochs", "0"], "--epochs must be at least 1"),
    (["--", "--model", "nope"], "unknown model 'nope'"),
    (["--", "--bogus"], "No such option: --bogus"),
    (["--", "--resume", "--out", "x"], "drop --resume"),
    (["--", "--from-feedback"], "not as a job"),
    (["--executor", "pbs"], "unknown executor 'pbs'"),
    (["--nodes", "2"], "--nodes > 1 needs --executor slurm"),
    (["--time", "1:x"], "--time '1:x'"),
    (["--promote", "../prod"], "invalid alias name"),
    (["--tasks-per-node", "2", "--", "--model", "sk-mlp"], "sk-mlp trains in one process"),
])
def test_bad_submissions_are_refused_before_anything_runs(args, message):
    assert_clean_error(run_cli("jobs", "submit", *args), message)
    assert not default_jobs_dir().exists() or not any(default_jobs_dir().iterdir())


def test_unknown_jobs_are_one_clear_line():
    assert_clean_error(run_cli("jobs", "status", "20990101-000000-abcd"), "no job '20990101-000000-abcd'")
    assert_clean_error(run_cli("jobs", "logs", "../../etc"), "invalid job id name")
    assert_clean_error(run_cli("jobs", "cancel", "42"), "no job '42'")


def test_unreachable_slurm_is_one_clear_line(tmp_path):
    conf = tmp_path / "slurm.conf"  # a cluster whose controller is not running
    conf.write_text(SLURM_CONF.format(root=tmp_path, ctld_port=free_port(), slurmd_port=free_port(),
                                      user="nobody", munge_socket=tmp_path / "none", cpus=1, memory_mb=100))
    result = run_cli("jobs", "submit", "--executor", "slurm", "--", *QUICK, env={"SLURM_CONF": str(conf)})
    assert_clean_error(result, "Slurm did not accept the job")
    assert len(result.stderr_text.strip().splitlines()) == 1


def test_a_multi_task_job_s_port_is_its_own_and_not_an_ephemeral_one():
    """Every task of a job derives rank 0's port from the job id, so all agree; submitit's own pick lies
    mostly among Linux's ephemeral ports, where a test's job 1 once met an outgoing connection's port."""
    from digitrec.jobs.task import master_port

    ports = [master_port(str(job)) for job in range(1, 2001)]
    assert all(20000 <= port < 32768 for port in ports)
    assert master_port("1") == master_port("1") and len(set(ports)) > 1500
    assert master_port("4242_3") != master_port("4242_4")  # the tasks of an array are jobs of their own
