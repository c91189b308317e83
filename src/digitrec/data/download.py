"""Fetching dataset files: mirrors in turn, retries with back-off, md5 check, atomic rename.

A file is written as ``<name>.partial`` beside its destination and renamed only once its checksum matches,
so an interrupted or corrupt download is never mistaken for a good file.
"""

from __future__ import annotations

import hashlib
import os
import time
import urllib.error
import urllib.request
from pathlib import Path

from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

from digitrec.errors import DataError

CHUNK = 1 << 16
TIMEOUT_S = 30
MAX_BYTES = 200 << 20  # no MNIST-family file comes close; a hostile server cannot fill the disk


def fetch(urls: list[str], dest: Path, md5: str, retries: int = 3, progress: bool = True) -> None:
    """Download the first of ``urls`` that yields a file with checksum ``md5`` to ``dest``."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    errors: dict[str, str] = {}  # url -> its last error
    for url in urls:
        for attempt in range(retries):
            try:
                _fetch_once(url, dest, md5, progress)
                return
            except _ChecksumMismatch as exc:
                errors[url] = str(exc)
                break  # the mirror serves a wrong file; retrying it will not help
            except (urllib.error.URLError, OSError, TimeoutError) as exc:
                errors[url] = str(getattr(exc, "reason", None) or exc)
                if attempt + 1 < retries:
                    time.sleep(0.5 * 2**attempt)
    raise DataError(f"could not download {dest.name} ({'; '.join(f'{u}: {e}' for u, e in errors.items())})")


class _ChecksumMismatch(Exception):
    pass


def _fetch_once(url: str, dest: Path, md5: str, progress: bool) -> None:
    partial = dest.with_name(dest.name + f".partial-{os.getpid()}")
    digest = hashlib.md5(usedforsecurity=False)
    try:
        request = urllib.request.Request(url, headers={"User-Agent": "digitrec"})
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response, open(partial, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            with _bar(progress) as bar:
                task = bar.add_task(dest.name, total=total)
                size = 0
                while chunk := response.read(CHUNK):
                    size += len(chunk)
                    if size > MAX_BYTES:
                        raise _ChecksumMismatch(f"larger than {MAX_BYTES >> 20} MiB, refused")
                    out.write(chunk)
                    digest.update(chunk)
                    bar.advance(task, len(chunk))
        if digest.hexdigest() != md5:
            raise _ChecksumMismatch(f"checksum mismatch (md5 {digest.hexdigest()}, expected {md5})")
        os.replace(partial, dest)
    finally:
        partial.unlink(missing_ok=True)


def _bar(enabled: bool) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
        TimeRemainingColumn(), disable=not enabled, transient=True,
    )
