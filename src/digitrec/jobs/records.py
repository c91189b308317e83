"""Job records: what was submitted where (``record.json``) and how it is going (``status.json``, written by
the job itself), one folder per job under the jobs directory. Plain JSON, readable by any tool."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import platformdirs

from digitrec.errors import DigitrecError, UsageError
from digitrec.modeldir import write_atomic
from digitrec.registry.names import check_name

JOBS_ENV = "DIGITREC_JOBS_DIR"
RECORD, STATUS = "record.json", "status.json"
EXECUTORS = ("local", "slurm")


def default_jobs_dir() -> Path:
    """``$DIGITREC_JOBS_DIR``, else ``jobs/`` in the user data folder (on a cluster: a shared home)."""
    return Path(os.environ.get(JOBS_ENV) or Path(platformdirs.user_data_dir("digitrec")) / "jobs")


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Resources:
    """Where and with what a job runs. ``tasks_per_node`` processes per node train together (DDP)."""

    executor: str = "local"
    partition: str | None = None
    gpus: int = 0  # per node
    nodes: int = 1
    tasks_per_node: int = 1
    cpus: int | None = None  # per task
    mem_gb: float | None = None  # per node
    time_min: int = 60
    name: str = "digitrec-train"

    @property
    def tasks(self) -> int:
        return self.nodes * self.tasks_per_node


@dataclass(frozen=True)
class TrainSpec:
    """What a job does: train with ``config`` into ``out_dir``, then register the model (maybe promote it)."""

    config: dict[str, Any]
    out_dir: str
    registry: str
    data_dir: str | None = None
    promote: str | None = None  # alias to point at the new version
    args: list[str] = field(default_factory=list)  # the `digitrec train` arguments, for people to read


@dataclass(frozen=True)
class JobRecord:
    id: str
    folder: str
    native_id: str  # the scheduler's id: the Slurm job id, or the local controller's process id
    submitted: str
    resources: Resources
    spec: TrainSpec
    resumes: str | None = None  # the job this one continues, when resubmitted
    cancelled: str | None = None  # when `digitrec jobs cancel` was asked

    @property
    def executor(self) -> str:
        return self.resources.executor

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> JobRecord:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["resources"] = Resources(**data["resources"])
        values["spec"] = TrainSpec(**data["spec"])
        return cls(**values)

    def save(self) -> None:
        write_json(Path(self.folder) / RECORD, self.to_json())

    def status(self) -> dict:
        """What the job last said about itself (empty before it starts)."""
        return read_json(Path(self.folder) / STATUS) or {}


class JobStore:
    """The jobs directory: one folder per job, named by its id."""

    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root or default_jobs_dir()).expanduser().absolute()

    def new_folder(self) -> tuple[str, Path]:
        job_id = f"{datetime.now():%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"
        folder = self.root / job_id
        try:
            folder.mkdir(parents=True)
        except OSError as exc:
            raise DigitrecError(f"cannot create job folder {folder} ({exc.strerror or exc})") from None
        return job_id, folder

    def all(self) -> list[JobRecord]:
        found = []
        for path in sorted(self.root.glob(f"*/{RECORD}")) if self.root.is_dir() else []:
            try:
                found.append(self.load(path.parent))
            except DigitrecError:
                continue  # an unreadable or foreign folder is skipped, not fatal to the listing
        return sorted(found, key=lambda r: (r.submitted, r.id))

    def get(self, ref: str) -> JobRecord:
        """A job by its id, or by its scheduler id (the Slurm job id) when that is unambiguous."""
        check_name("job id", ref)
        if (self.root / ref / RECORD).is_file():
            return self.load(self.root / ref)
        matches = [r for r in self.all() if r.native_id == ref]
        if len(matches) == 1:
            return matches[0]
        if matches:
            ids = ", ".join(r.id for r in matches)
            raise UsageError(f"'{ref}' is the scheduler id of several jobs ({ids}); use the job id")
        raise UsageError(f"no job '{ref}' in {self.root} (`digitrec jobs list` shows them)")

    @staticmethod
    def load(folder: Path) -> JobRecord:
        data = read_json(folder / RECORD)
        try:
            return JobRecord.from_json(data)
        except (TypeError, KeyError) as exc:
            raise DigitrecError(f"{folder / RECORD}: not a job record ({exc})") from None


def write_json(path: Path, data: dict) -> None:
    write_atomic(path, (json.dumps(data, indent=2) + "\n").encode())


def read_json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (ValueError, OSError) as exc:
        raise DigitrecError(f"{path}: unreadable ({exc})") from None
    if not isinstance(data, dict):
        raise DigitrecError(f"{path}: not a JSON object")
    return data
