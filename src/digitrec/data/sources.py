"""Where dataset files come from, in order: ``--data-dir``, ``$DIGITREC_DATA_DIR``, the user cache, the
system dataset folders (Debian's ``dataset-fashion-mnist``), then a download into the user cache."""

from __future__ import annotations

import gzip
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from digitrec.data.catalog import DataFile, DatasetSpec
from digitrec.data.download import fetch
from digitrec.errors import DataError

ENV_DATA_DIR = "DIGITREC_DATA_DIR"
ENV_MIRROR = "DIGITREC_DATA_MIRROR"  # a mirror of your own, tried first: <url>/<dataset>/<file>
ENV_OFFLINE = "DIGITREC_OFFLINE"  # set to 1: never download, only use local copies


@dataclass(frozen=True)
class Place:
    """A folder that may hold a dataset's files, and why it is searched."""

    label: str
    path: Path | None  # None: the place is not configured (e.g. the env var is unset)


def cache_root() -> Path:
    return Path(platformdirs.user_cache_dir("digitrec")) / "datasets"


def search_places(spec: DatasetSpec, data_dir: str | os.PathLike | None = None) -> list[Place]:
    env = os.environ.get(ENV_DATA_DIR)
    return [
        Place("--data-dir", Path(data_dir) / spec.name if data_dir else None),
        Place(f"${ENV_DATA_DIR}", Path(env) / spec.name if env else None),
        Place("user cache", cache_root() / spec.name),
        *(Place("system", Path(d)) for d in spec.system_dirs),
    ]


def file_in(folder: Path, f: DataFile) -> Path | None:
    """The file in ``folder``, compressed (``x.gz``) or not (``x``)."""
    for candidate in (folder / f.name, folder / f.name.removesuffix(".gz")):
        if candidate.is_file():
            return candidate
    return None


def complete(folder: Path, spec: DatasetSpec) -> bool:
    return all(file_in(folder, f) for f in spec.all_files())


def locate(spec: DatasetSpec, data_dir: str | os.PathLike | None = None, download: bool = True,
           progress: bool = True) -> Path:
    """The folder holding all of ``spec``'s files, downloading them into the cache if no place has them."""
    places = search_places(spec, data_dir)
    if data_dir and complete(Path(data_dir), spec):
        return Path(data_dir)  # a folder holding the files themselves is accepted too
    for place in places:
        if place.path is not None and complete(place.path, spec):
            return place.path
    searched = ", ".join(f"{p.path} ({p.label})" for p in places if p.path is not None)
    how = (f"put {', '.join(f.name for f in spec.all_files()[:2])} and the test files in one of those folders, "
           f"or set {ENV_DATA_DIR} to a folder holding '{spec.name}/'")
    if not download or os.environ.get(ENV_OFFLINE, "") not in ("", "0"):
        raise DataError(f"dataset '{spec.name}' not found (downloads off); searched {searched}; {how}")
    target = cache_root() / spec.name
    try:
        for f in spec.all_files():
            if file_in(target, f) is None:
                fetch(mirror_urls(spec, f), target / f.name, f.md5, progress=progress)
    except DataError as exc:
        raise DataError(f"dataset '{spec.name}' not found locally and {exc}; searched {searched}; {how}") from None
    return target


def mirror_urls(spec: DatasetSpec, f: DataFile) -> list[str]:
    own = os.environ.get(ENV_MIRROR)
    urls = [f"{own.rstrip('/')}/{spec.name}/{f.name}"] if own else []
    return urls + [m + f.name for m in spec.mirrors]


def verify(path: Path, f: DataFile) -> bool:
    """True when ``path`` is the official file: md5 of the ``.gz`` or sha256 of its content matches."""
    raw = path.read_bytes()
    if hashlib.md5(raw, usedforsecurity=False).hexdigest() == f.md5:
        return True
    if f.content_sha256 is None:
        return False
    try:
        content = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    except (OSError, EOFError):
        return False
    return hashlib.sha256(content).hexdigest() == f.content_sha256
