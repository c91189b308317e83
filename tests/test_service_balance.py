"""Workers keep their shares of the open connections even: each counts its connections on a shared board,
and one that holds more than another by SPREAD answers ``Connection: close`` so its client reconnects."""

from __future__ import annotations

import asyncio
import http.client
import subprocess
import sys
import time

import pytest
from prometheus_client import generate_latest

from digitrec.service.balance import BOARD_FILE, SLOT, SLOTS, SPREAD, ConnectionBoard
from digitrec.service.metrics import MULTIPROC_ENV, Metrics
from digitrec.service.middleware import SpreadConnections
from digitrec.service.process import multiprocess_metrics
from service_helpers import running_server


def read_board(path) -> dict[int, int]:
    """pid → open connections, for every claimed slot."""
    data = path.read_bytes()
    slots = (SLOT.unpack_from(data, i * SLOT.size) for i in range(SLOTS))
    return {pid: count for pid, count in slots if pid}


def test_board_slots_count_and_compare(tmp_path):
    path = tmp_path / BOARD_FILE
    mine, other = ConnectionBoard(path), ConnectionBoard(path)  # two "workers" (this process holds both)
    assert (mine.slot, other.slot) == (0, 1) and path.stat().st_size == SLOTS * SLOT.size
    mine.add(5)
    other.add(3)
    other.add(1)
    other.add(-1)
    assert (mine.count, other.count) == (5, 3)
    assert mine.others_below(5 - SPREAD) and not mine.others_below(2)
    assert not other.others_below(4)  # 5 is not below 4
    assert ConnectionBoard(path).slot == 2


def test_a_dead_workers_slot_is_never_compared_and_is_taken_over(tmp_path):
    path = tmp_path / BOARD_FILE
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    mine = ConnectionBoard(path)
    mine.add(9)
    with open(path, "r+b") as f:  # slot 1: a worker that died holding nothing
        f.seek(SLOT.size)
        f.write(SLOT.pack(gone.pid, 0))
    assert not mine.others_below(7)
    replacement = ConnectionBoard(path)  # uvicorn's replacement for the dead worker
    assert replacement.slot == 1 and replacement.count == 0 and mine.others_below(7)


async def ok(scope, receive, send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


async def response_headers(app) -> list[tuple[bytes, bytes]]:
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    await app({"type": "http", "method": "GET", "path": "/"}, receive, send)
    return sent[0]["headers"]


@pytest.mark.parametrize("mine, other, moved", [(5, 3, True), (5, 4, False), (0, 0, False)])
def test_a_worker_holding_more_than_its_share_closes_the_connection_it_answers(tmp_path, mine, other, moved):
    path = tmp_path / BOARD_FILE
    board, elsewhere = ConnectionBoard(path), ConnectionBoard(path)
    board.add(mine)
    elsewhere.add(other)
    metrics = Metrics()
    headers = asyncio.run(response_headers(SpreadConnections(ok, board, metrics)))
    assert ((b"connection", b"close") in headers) == moved
    assert f"digitrec_connections_moved_total {float(moved)}" in generate_latest(metrics.registry).decode()


def test_a_single_process_has_no_board_and_never_moves_connections():
    metrics = Metrics()
    headers = asyncio.run(response_headers(SpreadConnections(ok, None, metrics)))
    assert headers == [(b"content-length", b"2")]


def test_two_workers_count_their_connections_and_even_them_out(tmp_path):
    board_path = tmp_path / BOARD_FILE
    with running_server("--workers", "2", env={"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}) as (url, _):
        host, port = url.removeprefix("http://").split(":")
        deadline = time.monotonic() + 30
        while len(read_board(board_path)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(read_board(board_path)) == 2  # both workers have their slot

        def until(condition) -> dict[int, int]:
            end = time.monotonic() + 10
            while not condition(counts := read_board(board_path)) and time.monotonic() < end:
                time.sleep(0.05)
            return counts

        connections = [http.client.HTTPConnection(host, int(port), timeout=10) for _ in range(10)]
        moved = 0
        for _ in range(40):  # rounds: one request per connection; a closed one is opened again
            closed = 0
            for i, conn in enumerate(connections):
                conn.request("GET", "/healthz")
                response = conn.getresponse()
                assert response.status == 200 and response.read() == b'{"status":"ok"}'
                if response.getheader("connection") == "close":
                    conn.close()
                    connections[i] = http.client.HTTPConnection(host, int(port), timeout=10)
                    connections[i].connect()
                    closed += 1
            moved += closed
            counts = until(lambda c: sum(c.values()) == 10)
            if closed == 0 and max(counts.values()) - min(counts.values()) < SPREAD:
                break
        assert sum(counts.values()) == 10  # every open connection counted once, where it is held
        assert max(counts.values()) - min(counts.values()) < SPREAD, (counts, moved)
        for conn in connections:
            conn.close()
        assert sum(until(lambda c: sum(c.values()) == 0).values()) == 0  # and uncounted when it closes


def test_serve_starts_a_users_folder_with_a_fresh_board(tmp_path, monkeypatch):
    stale = ConnectionBoard(tmp_path / BOARD_FILE)  # a process alive now, in the last run's board
    stale.add(3)
    monkeypatch.setenv(MULTIPROC_ENV, str(tmp_path))
    with multiprocess_metrics(2):
        assert not (tmp_path / BOARD_FILE).exists()
        assert ConnectionBoard(tmp_path / BOARD_FILE).slot == 0
    assert tmp_path.exists()  # the user's folder stays
