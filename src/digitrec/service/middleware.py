"""Pure ASGI middleware (cheaper per request than Starlette's BaseHTTPMiddleware), one job each:
observe (access log, metrics, request id), limit the body size, limit the time a request may take, move
connections off a worker that holds more than its share."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from digitrec.service.balance import SPREAD, ConnectionBoard
from digitrec.service.logs import ACCESS_LOGGER
from digitrec.service.metrics import Metrics

access_log = logging.getLogger(ACCESS_LOGGER)


async def send_json_error(send: Send, status: int, detail: str, headers: list | None = None) -> None:
    body = json.dumps({"detail": detail}, ensure_ascii=False, separators=(",", ":")).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


class ObserveRequests:
    """Times every request; counts it in the metrics by route template and status; writes one JSON access
    line; echoes or assigns an ``X-Request-ID``."""

    def __init__(self, app: ASGIApp, metrics: Metrics, log: bool):
        self.app, self.metrics, self.log = app, metrics, log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        request_id = _header(scope, b"x-request-id")[:64] or os.urandom(8).hex()
        outcome = {"status": 500, "bytes": 0}

        async def observing_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                outcome["status"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode("latin-1"))]
            elif message["type"] == "http.response.body":
                outcome["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, observing_send)
        finally:
            elapsed = time.perf_counter() - start
            route = scope.get("route")
            template = getattr(route, "path", None) or ("/static" if scope["path"].startswith("/static/")
                                                        else "unmatched")
            method = scope["method"]
            self.metrics.requests.labels(method, template, str(outcome["status"])).inc()
            self.metrics.latency.labels(method, template).observe(elapsed)
            if self.log:
                client = scope.get("client")
                access_log.info("request", extra={"fields": {
                    "method": method, "path": scope["path"], "query": scope.get("query_string", b"").decode(
                        "latin-1"), "status": outcome["status"], "duration_ms": round(elapsed * 1000, 3),
                    "bytes_out": outcome["bytes"], "client": client[0] if client else None,
                    "request_id": request_id}})


class LimitBody:
    """413 for a body over ``max_bytes``: at once from Content-Length, before anything is read; while
    reading, for a chunked body that carries no length."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        too_large = f"request body is larger than the {self.max_bytes:,} byte limit"
        length = _header(scope, b"content-length")
        if length:
            if not length.isdigit():
                return await send_json_error(send, 400, "invalid Content-Length header")
            if int(length) > self.max_bytes:
                return await send_json_error(send, 413, too_large, [(b"connection", b"close")])
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await send_json_error(send, 413, too_large, [(b"connection", b"close")])


class BodyTooLarge(Exception):
    pass


class LimitTime:
    """503 for a request not answered within ``seconds`` (overload, or a pathological image)."""

    def __init__(self, app: ASGIApp, seconds: float):
        self.app, self.seconds = app, seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            async with asyncio.timeout(self.seconds):
                await self.app(scope, receive, tracking_send)
        except TimeoutError:
            if not started:
                await send_json_error(send, 503, f"request took longer than {self.seconds:g} s; try again "
                                      "later or send a smaller image", [(b"retry-after", b"1")])


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return ""


class SpreadConnections:
    """While this worker holds ``SPREAD`` or more open connections more than another worker (as counted
    on the :class:`~digitrec.service.balance.ConnectionBoard`), answers with ``Connection: close``: the
    client reconnects, and the new connection goes to whichever worker accepts it first."""

    def __init__(self, app: ASGIApp, board: ConnectionBoard | None, metrics: Metrics):
        self.app, self.board, self.metrics = app, board, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.board is None:
            return await self.app(scope, receive, send)
        board = self.board

        async def moving_send(message: Message) -> None:
            if message["type"] == "http.response.start" and board.others_below(board.count - SPREAD):
                message["headers"] = [*message.get("headers", []), (b"connection", b"close")]
                self.metrics.moved.inc()
            await send(message)

        await self.app(scope, receive, moving_send)
