"""A real single-node Slurm cluster for the tests: munged, slurmctld and slurmd with their own key, sockets,
ports, state and logs in a temporary folder; every daemon is stopped by its PID afterwards."""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Iterator

from service_helpers import free_port

SLURM_CONF = """\
ClusterName=digitrec-test
SlurmctldHost=localhost
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
SlurmUser={user}
SlurmdUser={user}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={munge_socket}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/run/slurmctld.pid
SlurmdPidFile={root}/run/slurmd.pid
SlurmctldLogFile={root}/log/slurmctld.log
SlurmdLogFile={root}/log/slurmd.log
NodeName=localhost CPUs={cpus} RealMemory={memory_mb} State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
"""
LIVE_STATES = "PENDING,RUNNING,COMPLETING,CONFIGURING,SUSPENDED"
MEMORY_MARGIN_MB = 512  # RealMemory above what slurmd measures would mark the node invalid


def total_memory_mb() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024
    raise RuntimeError("no MemTotal in /proc/meminfo")


@contextlib.contextmanager
def slurm_cluster() -> Iterator[dict[str, str]]:
    """Start the cluster; yields the environment Slurm's commands need (``SLURM_CONF``)."""
    # Under /tmp, not pytest's deep tmp dirs: munge's socket path must be short, its folders searchable.
    root = Path(tempfile.mkdtemp(prefix="digitrec-slurm-"))
    root.chmod(0o755)
    for name in ("state", "spool", "log", "run"):
        (root / name).mkdir(mode=0o755)
    (root / "munge").mkdir(mode=0o700)
    key = root / "munge" / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o400)
    socket = root / "run" / "munge.socket"
    conf = root / "slurm.conf"
    conf.write_text(SLURM_CONF.format(root=root, ctld_port=free_port(), slurmd_port=free_port(),
                                      user=getpass.getuser(), munge_socket=socket, cpus=os.cpu_count() or 1,
                                      memory_mb=total_memory_mb() - MEMORY_MARGIN_MB))
    env = {**os.environ, "SLURM_CONF": str(conf)}
    daemons: list[subprocess.Popen] = []
    try:
        with open(root / "log" / "daemons.out", "ab") as log:
            daemons.append(subprocess.Popen(
                ["munged", "--foreground", f"--key-file={key}", f"--socket={socket}",
                 f"--pid-file={root / 'run' / 'munged.pid'}", f"--log-file={root / 'munge' / 'munged.log'}",
                 f"--seed-file={root / 'munge' / 'munged.seed'}"], stdout=log, stderr=log))
            wait_for(lambda: socket.exists(), "munged's socket", daemons)
            daemons.append(subprocess.Popen(["slurmctld", "-D", "-i", "-f", str(conf)], stdout=log,
                                            stderr=log, env=env))
            daemons.append(subprocess.Popen(["slurmd", "-D", "-N", "localhost", "-f", str(conf)], stdout=log,
                                            stderr=log, env=env))
            wait_for(lambda: node_state(env) == "idle", "the Slurm node to be idle", daemons)
        yield {"SLURM_CONF": str(conf)}
    finally:
        stop_jobs(env)
        for daemon in reversed(daemons):
            stop(daemon)
        shutil.rmtree(root, ignore_errors=True)


def node_state(env: dict) -> str:
    done = subprocess.run(["sinfo", "--noheader", "--format=%t"], capture_output=True, text=True, env=env)
    return done.stdout.strip()


def wait_for(ready, what: str, daemons: list[subprocess.Popen], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        dead = [d.args[0] for d in daemons if d.poll() is not None]
        if dead or time.monotonic() > deadline:
            reason = f"{', '.join(dead)} exited" if dead else "timed out"
            raise RuntimeError(f"waiting for {what}: {reason}")
        time.sleep(0.1)


def stop_jobs(env: dict, timeout: float = 60) -> None:
    """Cancel whatever is left in this cluster's queue and wait for it to end: job steps are processes too."""
    subprocess.run(["scancel", "--user", getpass.getuser()], env=env, capture_output=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        queue = subprocess.run(["squeue", "--noheader", f"--states={LIVE_STATES}"], capture_output=True,
                               text=True, env=env)
        if queue.returncode != 0 or not queue.stdout.strip():
            return
        time.sleep(0.5)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
