"""The model registry: verified copies of model directories (versions) and names that point at them (aliases).

Layout under the registry root (a plain directory, so it can live on a shared filesystem)::

    versions/<version>/      model.onnx, model.int8.onnx, weights.safetensors, metadata.json,
                             registration.json
    aliases/<alias>.json     {"version": ..., "stack": [earlier versions], "log": [promotions and rollbacks]}
    .staging/                copies being made; renamed into versions/ only once complete and verified
    .lock                    serialises alias updates (read-modify-write) between processes and machines

Readers never see a half-written model or alias: a version appears by renaming a complete, verified
directory into place, and an alias file is replaced in one rename. Every load verifies the checksums.
"""

from __future__ import annotations

import contextlib
import fcntl
import getpass
import json
import os
import shutil
import socket
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import platformdirs

from digitrec.errors import DigitrecError, ModelError, UsageError
from digitrec.modeldir import METADATA, Metadata, load_metadata, write_atomic
from digitrec.registry.names import check_name

REGISTRY_ENV = "DIGITREC_REGISTRY"
REGISTRATION = "registration.json"  # when and from where; beside the model's own files, not among them
DEFAULT_ALIAS = "production"
KEEP = 100  # entries of an alias' stack and log that are kept


class NotInRegistry(ModelError):
    """No alias or version of that name."""


def default_root() -> Path:
    """``$DIGITREC_REGISTRY``, else ``registry/`` in the user data folder."""
    return Path(os.environ.get(REGISTRY_ENV) or Path(platformdirs.user_data_dir("digitrec")) / "registry")


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def who() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        user = str(os.getuid())
    return f"{user}@{socket.gethostname()}"


@dataclass(frozen=True)
class Version:
    name: str
    path: Path
    metadata: Metadata
    registered: str = ""
    source: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict:
        m = self.metadata
        return {"version": self.name, "path": str(self.path), "model": m.name, "dataset": m.dataset,
                "created": m.created, "registered": self.registered, "source": self.source,
                "metrics": m.metrics, "files": m.files}


@dataclass(frozen=True)
class Alias:
    name: str
    version: str
    stack: list[str]  # earlier targets, oldest first: rollback returns to the last one
    log: list[dict]

    @property
    def updated(self) -> str:
        return self.log[-1]["at"] if self.log else ""

    def to_json(self) -> dict:
        return {"alias": self.name, "version": self.version, "stack": self.stack, "log": self.log}


class Registry:
    """Versions and aliases under ``root`` (default: :func:`default_root`).

    >>> reg = Registry()
    >>> v = reg.register("runs/fast-mnist")        # doctest: +SKIP
    >>> reg.promote(v.name, "production")          # doctest: +SKIP
    >>> reg.resolve("production").path             # doctest: +SKIP
    """

    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root or default_root()).expanduser().absolute()
        if self.root.exists() and not self.root.is_dir():
            raise ModelError(f"{self.root}: not a registry folder (it is a file)")

    # ---- versions ----

    def _version_dir(self, name: str) -> Path:
        return self.root / "versions" / check_name("version", name)

    def register(self, model_dir: str | os.PathLike,
                 source: dict[str, Any] | None = None) -> tuple[Version, bool]:
        """Copy a model directory in as the version its metadata names; returns (version, newly added).
        Registering the same model again is a no-op; another model under an existing version is refused."""
        model_dir = Path(model_dir).expanduser()
        meta = load_metadata(model_dir, verify=True)
        if not meta.version:
            raise ModelError(f"{model_dir}: {METADATA} has no version")
        target = self._version_dir(meta.version)
        if target.exists():
            return self._same_version(target.name, meta), False
        staging = self._staging() / f"{meta.version}.{uuid.uuid4().hex[:12]}"
        try:
            staging.mkdir()  # not mkdtemp: permissions follow the umask, so other users can read the version
            for name in [*meta.files, METADATA]:
                write_atomic(staging / name, (model_dir / name).read_bytes())
            load_metadata(staging, verify=True)  # the copy is what will be served: check the copy
            info = {"registered": now(), "by": who(),
                    "source": {"path": str(model_dir.absolute()), **(source or {})}}
            write_atomic(staging / REGISTRATION, (json.dumps(info, indent=2) + "\n").encode())
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.rename(staging, target)  # atomic: the version appears complete, or not at all
            except OSError:
                if not target.exists():
                    raise
                return self._same_version(target.name, meta), False  # registered meanwhile by another process
        except OSError as exc:
            raise ModelError(f"cannot copy {model_dir} into the registry at {self.root} "
                             f"({exc.strerror or exc})") from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return self.version(target.name), True

    def _staging(self) -> Path:
        return self._writable_dir(self.root / ".staging")

    def _writable_dir(self, folder: Path) -> Path:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ModelError(f"cannot write to the registry at {self.root} ({exc.strerror or exc})") from None
        return folder

    def _same_version(self, name: str, meta: Metadata) -> Version:
        existing = self.version(name)
        if existing.metadata.files != meta.files:
            raise UsageError(f"version {name} is already registered with different files; a version names "
                             "exactly one model")
        return existing

    def version(self, name: str, verify: bool = True) -> Version:
        """A registered version; with ``verify``, every file's checksum is checked."""
        path = self._version_dir(name)
        if not path.is_dir():
            raise NotInRegistry(f"no version '{name}' in the registry at {self.root} "
                                "(`digitrec models list` shows them)")
        meta = load_metadata(path, verify=verify)
        if meta.version != name:
            raise ModelError(f"{path}: {METADATA} names version {meta.version!r}, not {name!r}; refusing it")
        info = read_json(path / REGISTRATION, default={})
        return Version(name, path, meta, info.get("registered", ""), info.get("source", {}))

    def versions(self) -> list[Version]:
        """Every version (checksums not verified: listing stays fast), oldest registration first."""
        folder = self.root / "versions"
        found = []
        for path in sorted(folder.iterdir()) if folder.is_dir() else []:
            try:
                found.append(self.version(path.name, verify=False))
            except DigitrecError:
                continue  # not a version (a stray file, a foreign folder): listing skips it
        return sorted(found, key=lambda v: (v.registered, v.name))

    def remove(self, name: str) -> None:
        """Delete a version no alias points to (and forget it in the aliases' rollback history)."""
        path = self._version_dir(name)
        with self._lock():
            if not path.is_dir():
                raise NotInRegistry(f"no version '{name}' in the registry at {self.root}")
            users = [a.name for a in self.aliases() if a.version == name]
            if users:
                raise UsageError(f"version {name} is what {', '.join(users)} point(s) to; promote another "
                                 "version (or roll back) first")
            for alias in self.aliases():
                if name in alias.stack:
                    self._write_alias(Alias(alias.name, alias.version, [v for v in alias.stack if v != name],
                                            alias.log))
            trash = Path(tempfile.mkdtemp(dir=self._staging(), prefix=f"removed.{name}."))
            os.rename(path, trash / name)  # out of versions/ in one step; deleting files can take its time
            shutil.rmtree(trash, ignore_errors=True)

    # ---- aliases ----

    def _alias_file(self, name: str) -> Path:
        return self.root / "aliases" / f"{check_name('alias', name)}.json"

    def find_alias(self, name: str) -> Alias | None:
        path = self._alias_file(name)
        if not path.is_file():
            return None
        data = read_json(path)
        try:
            return Alias(name, check_name("version", data["version"]), list(data.get("stack", [])),
                         list(data.get("log", [])))
        except (KeyError, TypeError, UsageError) as exc:
            raise ModelError(f"{path}: unreadable alias ({exc})") from None

    def alias(self, name: str) -> Alias:
        found = self.find_alias(name)
        if found is None:
            known = ", ".join(a.name for a in self.aliases()) or "none yet"
            raise NotInRegistry(f"no alias '{name}' in the registry at {self.root} (aliases: {known}); "
                             f"create it with `digitrec models promote VERSION --alias {name}`")
        return found

    def aliases(self) -> list[Alias]:
        folder = self.root / "aliases"
        names = sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []
        return [a for a in (self.find_alias(n) for n in names) if a is not None]

    def promote(self, version: str, alias: str = DEFAULT_ALIAS) -> Alias:
        """Point ``alias`` at ``version`` (verified first). Services following the alias switch to it."""
        check_name("alias", alias)
        with self._lock():
            self.version(version)  # refuses a missing or tampered version before anything points at it
            current = self.find_alias(alias)
            if current is not None and current.version == version:
                return current
            stack = [*current.stack, current.version] if current else []
            log = [*current.log] if current else []
            log.append({"action": "promote", "version": version, "from": current.version if current else None,
                        "at": now(), "by": who()})
            updated = Alias(alias, version, stack[-KEEP:], log[-KEEP:])
            self._write_alias(updated)
        return updated

    def rollback(self, alias: str = DEFAULT_ALIAS) -> Alias:
        """Point ``alias`` back at the version it pointed to before the current one."""
        with self._lock():
            current = self.alias(alias)
            stack = [v for v in current.stack if (self.root / "versions" / v).is_dir()]
            if not stack:
                raise UsageError(f"alias '{alias}' has no earlier version to roll back to")
            previous = stack.pop()
            self.version(previous)  # verified: never roll back onto a damaged model
            log = [*current.log, {"action": "rollback", "version": previous, "from": current.version,
                                  "at": now(), "by": who()}]
            updated = Alias(alias, previous, stack, log[-KEEP:])
            self._write_alias(updated)
        return updated

    def _write_alias(self, alias: Alias) -> None:
        write_atomic(self._alias_file(alias.name), (json.dumps(alias.to_json(), indent=2) + "\n").encode())

    # ---- references ----

    def resolve(self, ref: str) -> Version:
        """An alias (first) or a version name → the version, verified."""
        check_name("model reference", ref)
        alias = self.find_alias(ref)
        if alias is not None:
            return self.version(alias.version)
        if self._version_dir(ref).is_dir():
            return self.version(ref)
        known = ", ".join(a.name for a in self.aliases()) or "none yet"
        raise NotInRegistry(f"no alias or version '{ref}' in the registry at {self.root} (aliases: {known})")

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """An exclusive lock for read-modify-write of aliases (flock; NFS maps it to a POSIX lock)."""
        with open(self._writable_dir(self.root) / ".lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def read_json(path: Path, default: Any = None) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        if default is not None:
            return default
        raise ModelError(f"{path}: missing") from None
    except (ValueError, OSError) as exc:
        raise ModelError(f"{path}: unreadable ({exc})") from None
