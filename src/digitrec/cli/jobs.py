"""``digitrec jobs``: training as batch jobs on this machine or a Slurm cluster."""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path
from typing import List, Optional

import typer
from rich.table import Table

from digitrec.cli.output import console, emit_json
from digitrec.errors import UsageError

app = typer.Typer(
    help="Training as batch jobs, on this machine or a Slurm cluster (several GPUs or nodes train together "
         "with DDP). A finished job registers its model; a preempted, timed-out or killed job resumes from "
         "its last checkpoint.\n\nExamples:\n\n"
         "    digitrec jobs submit -- --preset fast\n\n"
         "    digitrec jobs submit -x slurm --partition gpu --gpus 4 --time 2:00:00 -- --preset best\n\n"
         "    digitrec jobs list\n\n    digitrec jobs logs JOB --follow",
    no_args_is_help=True, rich_markup_mode="markdown")

JobsDirOption = typer.Option(None, "--jobs-dir", envvar="DIGITREC_JOBS_DIR", show_envvar=True,
                             help="Where job records and logs live (default: jobs/ in the user data folder; "
                             "on a cluster it must be on a filesystem the nodes share).")
JsonOption = typer.Option(False, "--json", help="JSON output.")
JobArgument = typer.Argument(..., help="The job id (or its Slurm job id).")
DURATION = re.compile(r"(?:(\d+)-)?(\d+):(\d{2})(?::(\d{2}))?")


def minutes(text: str) -> int:
    """Slurm's time formats: minutes, H:MM, H:MM:SS or D-H:MM[:SS]."""
    if text.isdigit():
        value = int(text)
    elif match := DURATION.fullmatch(text):
        days, hours, mins, secs = (int(g or 0) for g in match.groups())
        value = days * 1440 + hours * 60 + mins + (secs > 0)
    else:
        raise UsageError(f"--time {text!r}: expected minutes, H:MM:SS or D-H:MM:SS")
    if value < 1:
        raise UsageError("--time must be at least one minute")
    return value


def absolute(path: Optional[Path]) -> Optional[str]:
    return str(path.absolute()) if path else None


def store(jobs_dir: Optional[Path]):
    from digitrec.jobs import JobStore

    return JobStore(jobs_dir)


@app.command(no_args_is_help=True)
def submit(
    train_args: Optional[List[str]] = typer.Argument(None, metavar="-- TRAIN_ARGS",
                                                     help="Options for `digitrec train`, after `--`."),
    executor: str = typer.Option("local", "--executor", "-x", help="local (this machine) or slurm."),
    partition: Optional[str] = typer.Option(None, "--partition", "-p", help="Slurm partition."),
    gpus: int = typer.Option(0, "--gpus", min=0, help="GPUs per node; one training process per GPU (DDP over "
                             "NCCL)."),
    nodes: int = typer.Option(1, "--nodes", "-N", min=1, help="Nodes (Slurm); every node runs "
                              "--tasks-per-node processes."),
    tasks_per_node: Optional[int] = typer.Option(None, "--tasks-per-node", min=1, help="Training processes "
                                                 "per node (default: --gpus, or 1). Several CPU processes "
                                                 "train together over gloo."),
    cpus: Optional[int] = typer.Option(None, "--cpus", min=1, help="CPU cores per process (Slurm)."),
    mem: Optional[float] = typer.Option(None, "--mem", min=0.1, help="Memory per node in GB (Slurm)."),
    time_limit: Optional[str] = typer.Option(None, "--time", "-t", help="Time limit: minutes, H:MM:SS or "
                                             "D-H:MM:SS (default: 60 minutes on Slurm, 7 days locally). "
                                             "Near the limit the job is requeued and resumes from its "
                                             "checkpoint."),
    name: Optional[str] = typer.Option(None, "--name", help="Job name (default: digitrec-MODEL)."),
    promote: Optional[str] = typer.Option(None, "--promote", help="Point this alias (staging, production, …) "
                                          "at the model once registered."),
    registry: Optional[Path] = typer.Option(None, "--registry", envvar="DIGITREC_REGISTRY", show_envvar=True,
                                            help="Registry the finished model goes to (default: registry/ in "
                                            "the user data folder)."),
    jobs_dir: Optional[Path] = JobsDirOption,
    json: bool = JsonOption,
):
    """Submit `digitrec train TRAIN_ARGS` as a job.

    The arguments are checked now, as `digitrec train` checks them. The model goes to the job folder unless
    `--out` is among them, and into the registry when done. Submitting again with the same `--out` resumes an
    unfinished run from its checkpoint.

    Examples:

        digitrec jobs submit -- --preset fast --out runs/fast
        digitrec jobs submit --executor slurm --partition debug --time 30 -- --model cnn-32-64 --epochs 5
        digitrec jobs submit --executor slurm --nodes 2 --gpus 4 --promote staging -- --preset best
    """
    from digitrec.cli.train import CONFIG_OPTIONS, parse_train_args
    from digitrec.jobs import Resources, TrainSpec, submit_training
    from digitrec.jobs.executors import LOCAL_TIME_MIN
    from digitrec.jobs.records import EXECUTORS
    from digitrec.models.catalog import get_model_info
    from digitrec.registry import Registry, check_name
    from digitrec.training.config import make_config

    if executor not in EXECUTORS:
        raise UsageError(f"unknown executor '{executor}'; expected one of {', '.join(EXECUTORS)}")
    if executor == "local" and nodes > 1:
        raise UsageError("a local job runs on this machine only; --nodes > 1 needs --executor slurm")
    params = parse_train_args(train_args or [])
    if params["resume"]:
        raise UsageError("drop --resume: a job resumes by itself when its --out holds a checkpoint")
    if params["from_feedback"]:
        raise UsageError("--from-feedback runs with `digitrec train` itself, not as a job")
    options = {key: params[key] for key in CONFIG_OPTIONS}
    if Path(options["dataset"]).is_dir():  # a folder dataset: the job may start elsewhere, make it absolute
        options["dataset"] = str(Path(options["dataset"]).absolute())
    options["extra"] = [Path(folder).absolute() for folder in options["extra"] or ()]
    config = make_config(**options)
    default_time = LOCAL_TIME_MIN if executor == "local" else 60
    resources = Resources(executor=executor, partition=partition, gpus=gpus, nodes=nodes,
                          tasks_per_node=tasks_per_node or max(gpus, 1), cpus=cpus, mem_gb=mem,
                          time_min=minutes(time_limit) if time_limit else default_time,
                          name=check_name("job name", name or f"digitrec-{config.model}"))
    if resources.tasks > 1 and get_model_info(config.model).kind != "torch":
        raise UsageError(f"{config.model} trains in one process: drop --nodes/--tasks-per-node/--gpus")
    spec = TrainSpec(config=config.to_dict(), out_dir=absolute(params["out"]) or "",
                     registry=str(Registry(registry).root), data_dir=absolute(params["data_dir"]),
                     promote=check_name("alias", promote) if promote else None, args=list(train_args or []))
    record = submit_training(spec, resources, store(jobs_dir))
    if json:
        emit_json(record.to_json())
        return
    where = f"slurm job {record.native_id}" if executor == "slurm" else f"local process {record.native_id}"
    console.print(f"submitted [bold]{record.id}[/] ({where}): {config.model} on {config.dataset}, "
                  f"{config.epochs} epochs, {resources.tasks} process{'es' * (resources.tasks > 1)} → "
                  f"{record.spec.out_dir}\n  digitrec jobs status {record.id}\n"
                  f"  digitrec jobs logs {record.id} --follow", highlight=False, soft_wrap=True)


def progress_text(status: dict) -> str:
    if status.get("epoch"):
        return f"epoch {status['epoch']}/{status.get('epochs', '?')}"
    return "–"


def outcome_text(status: dict) -> str:
    if status.get("version"):
        accuracy = status.get("test_accuracy")
        return status["version"] + (f" ({accuracy * 100:.2f} %)" if accuracy is not None else "")
    return status.get("message") or ""


STATE_STYLE = {"FINISHED": "green", "RUNNING": "cyan", "PENDING": "dim", "FAILED": "red",
               "INTERRUPTED": "yellow", "CANCELLED": "dim"}


@app.command("list")
def list_(jobs_dir: Optional[Path] = JobsDirOption,
          json: bool = typer.Option(False, "--json", help="JSON Lines, one object per job.")):
    """Every job, oldest first (a job id is its submission time): state, progress, the version it
    registered."""
    from digitrec.jobs import describe

    described = [describe(record) for record in store(jobs_dir).all()]
    if json:
        for job in described:
            emit_json(job)
        return
    table = Table(title="training jobs")
    for column in ("job", "state", "epoch", "executor", "version", "test acc"):
        table.add_column(column, no_wrap=column in ("job", "state", "version"))  # what people copy: never cut
    for job in described:
        status, style = job["status"], STATE_STYLE.get(job["state"], "yellow")
        accuracy = status.get("test_accuracy")
        table.add_row(job["id"], f"[{style}]{job['state']}[/]",
                      f"{status['epoch']}/{status.get('epochs', '?')}" if status.get("epoch") else "–",
                      f"{job['resources']['executor']} {job['native_id']}", status.get("version", ""),
                      f"{accuracy * 100:.2f} %" if accuracy is not None else "")
    console.print(table if described else "no jobs yet: `digitrec jobs submit -- --preset fast`")


@app.command()
def status(
    job: str = JobArgument,
    wait: bool = typer.Option(False, "--wait", help="Wait until the job is over, then report."),
    jobs_dir: Optional[Path] = JobsDirOption, json: bool = JsonOption,
):
    """One job in detail: state, progress, where its model and log are."""
    from digitrec.jobs import describe, wait as wait_for

    record = store(jobs_dir).get(job)
    described = wait_for(record) if wait else describe(record)
    if json:
        emit_json(described)
        return
    s, r = described["status"], described["resources"]
    rows = [("state", described["state"]), ("progress", progress_text(s)), ("model", outcome_text(s)),
            ("out dir", described["spec"]["out_dir"]),
            ("train args", " ".join(described["spec"]["args"]) or "–"),
            ("executor", f"{r['executor']} {described['native_id']}, {r['nodes']} node(s) × "
                         f"{r['tasks_per_node']} process(es), {r['gpus']} GPU(s) per node"),
            ("attempts", str(s.get("attempt", 0))), ("log", described["log"])]
    if described["resumes"]:
        rows.append(("resumes", described["resumes"]))
    table = Table(show_header=False, box=None, title=f"job {record.id}")
    for key, value in rows:
        table.add_row(f"[dim]{key}[/]", value)
    console.print(table)


@app.command()
def logs(
    job: str = JobArgument,
    task: int = typer.Option(0, "--task", min=0, help="Which process of a multi-process job (0 reports "
                             "progress)."),
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing as the log grows, until the job "
                                "is over."),
    jobs_dir: Optional[Path] = JobsDirOption,
):
    """Print a job's log (its training progress, and errors if any)."""
    from digitrec.jobs import job_state
    from digitrec.jobs.executors import log_path
    from digitrec.jobs.lifecycle import is_over

    record = store(jobs_dir).get(job)
    path = log_path(record, task)
    if not follow and not path.exists():
        raise UsageError(f"job {record.id} has no log yet ({path}); it may still be waiting to start")
    position = 0
    while True:
        over = not follow or is_over(job_state(record, record.status()))
        if path.exists():
            with open(path, "rb") as log:
                log.seek(position)
                chunk = log.read()
            sys.stdout.buffer.write(chunk)
            sys.stdout.flush()
            position += len(chunk)
        if over:
            return
        time.sleep(1.0)


@app.command()
def cancel(job: str = JobArgument, jobs_dir: Optional[Path] = JobsDirOption, json: bool = JsonOption):
    """Stop a job. Its last checkpoint stays: `digitrec jobs resubmit JOB` continues from there."""
    from digitrec.jobs import cancel as cancel_job

    record = cancel_job(store(jobs_dir).get(job))
    if json:
        emit_json(record.to_json())
        return
    console.print(f"cancelled {record.id}", highlight=False)


@app.command()
def resubmit(job: str = JobArgument, jobs_dir: Optional[Path] = JobsDirOption, json: bool = JsonOption):
    """Submit an interrupted, failed or cancelled job again, with the same options and out dir: it resumes
    from its last checkpoint (the epochs already done are not repeated)."""
    from digitrec.jobs import resubmit as resubmit_job

    jobs = store(jobs_dir)
    record = resubmit_job(jobs.get(job), jobs)
    if json:
        emit_json(record.to_json())
        return
    console.print(f"submitted [bold]{record.id}[/], resuming {job} → {record.spec.out_dir}\n"
                  f"  digitrec jobs logs {record.id} --follow", highlight=False, soft_wrap=True)
