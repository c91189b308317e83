"""Keeping the workers' shares of the open connections even.

Workers share one listening socket and whichever accepts a connection keeps it, so clients that hold their
connections open (a reverse proxy's upstream pool, a benchmark, a busy page) can leave one worker with far
more than its share: 32 connections split 8 / 24 in one run of the service benchmark, and since each worker
answers its own connections in turn, the larger share sets the latency. Each worker counts its open
connections (:class:`CountingHttpToolsProtocol`) on a :class:`ConnectionBoard`, a small file every worker
maps; a worker holding ``SPREAD`` or more connections more than another answers with ``Connection: close``
(:class:`~digitrec.service.middleware.SpreadConnections`), and the client's reconnection goes to whichever
worker accepts it first (landing on the fuller one again, it is moved again). Connections move only while
the shares are uneven.
"""

from __future__ import annotations

import fcntl
import functools
import mmap
import os
import struct
from pathlib import Path

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from digitrec.service.metrics import MULTIPROC_ENV

SPREAD = 2  # shares that differ by one are even
SLOTS = 64  # workers the board has room for (``digitrec serve --workers`` allows up to 64)
SLOT = struct.Struct("ii")  # process id (0: free), open connections
BOARD_FILE = "connections"


class ConnectionBoard:
    """Every worker's count of open connections, in a file the workers map into memory: one slot each,
    claimed with the file locked (a slot whose process is gone is free again — uvicorn replaces a dead
    worker). Each worker writes only its own slot; an aligned 4-byte store is seen whole by the others."""

    def __init__(self, path: str | os.PathLike):
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if os.fstat(fd).st_size < SLOTS * SLOT.size:
                os.ftruncate(fd, SLOTS * SLOT.size)
            self._map = mmap.mmap(fd, SLOTS * SLOT.size)
            self._cells = memoryview(self._map).cast("i")  # pid, count, pid, count, ...
            self.slot = next((i for i in range(SLOTS) if not _alive(self._cells[2 * i])), None)
            if self.slot is None:
                raise RuntimeError(f"connection board {path} is full ({SLOTS} live workers)")
            self._cells[2 * self.slot + 1] = 0
            self._cells[2 * self.slot] = os.getpid()
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)  # explicitly: the mapping keeps the file, and so the lock, open
            os.close(fd)

    @property
    def count(self) -> int:
        return self._cells[2 * self.slot + 1]

    def add(self, change: int) -> None:
        self._cells[2 * self.slot + 1] += change

    def others_below(self, limit: int) -> bool:
        """Whether another live worker holds ``limit`` connections or fewer."""
        cells = self._cells.tolist()
        return any(cells[i + 1] <= limit and _alive(cells[i])
                   for i in range(0, len(cells), 2) if cells[i] and i != 2 * self.slot)


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    return True


@functools.cache
def worker_board() -> ConnectionBoard | None:
    """This worker's slot on the board in the workers' shared folder (``digitrec serve`` with several
    workers sets it up); None for a single process."""
    folder = os.environ.get(MULTIPROC_ENV)
    return ConnectionBoard(Path(folder) / BOARD_FILE) if folder else None


class CountingHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, counting this worker's open connections on the board."""

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if (board := worker_board()) is not None:
            board.add(1)

    def connection_lost(self, exc: Exception | None) -> None:
        if (board := worker_board()) is not None:
            board.add(-1)
        super().connection_lost(exc)
