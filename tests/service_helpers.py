"""Helpers for the service tests: canvas-like images, and a real ``digitrec serve`` in a subprocess that is
always stopped by its PID."""

from __future__ import annotations

import base64
import contextlib
import io
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import httpx
import numpy as np
from PIL import Image


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def canvas_png(digit28: np.ndarray, size: int = 280, ink_box: int = 200, offset: tuple[int, int] = (0, 0)) -> bytes:
    """An MNIST digit as the drawing page sends it: black ink on a white 280×280 RGBA canvas, PNG."""
    ink = np.asarray(Image.fromarray(digit28).resize((ink_box, ink_box), Image.Resampling.BILINEAR))
    canvas = np.full((size, size, 4), 255, np.uint8)
    top = (size - ink_box) // 2 + offset[1]
    left = (size - ink_box) // 2 + offset[0]
    canvas[top : top + ink_box, left : left + ink_box, :3] = 255 - ink[..., None]
    return png_bytes(canvas, "RGBA")


def number_png(digits: list[np.ndarray], cell: int = 120) -> bytes:
    """Several MNIST digits side by side on white paper, as a number written on the page."""
    paper = np.full((cell + 40, cell * len(digits) + 40), 255, np.uint8)
    for i, digit in enumerate(digits):
        ink = np.asarray(Image.fromarray(digit).resize((cell, cell), Image.Resampling.BILINEAR))
        paper[20 : 20 + cell, 20 + i * cell : 20 + (i + 1) * cell] = 255 - ink
    return png_bytes(paper, "L")


def png_bytes(array: np.ndarray, mode: str | None = None) -> bytes:
    out = io.BytesIO()
    Image.fromarray(array, mode).save(out, format="PNG")
    return out.getvalue()


def data_url(data: bytes, kind: str = "png") -> str:
    return f"data:image/{kind};base64," + base64.b64encode(data).decode()


@contextlib.contextmanager
def running_server(*args: str, port: int | None = None, env: dict | None = None,
                   log: Path | None = None) -> Iterator[tuple[str, subprocess.Popen]]:
    """``digitrec serve ARGS`` on a free port; yields (base URL, process) once /readyz answers; stops the
    process by its PID (SIGTERM, then SIGKILL of its own process group) however the test ends."""
    port = port or free_port()
    out = open(log, "wb") if log else subprocess.DEVNULL
    process = subprocess.Popen([sys.executable, "-m", "digitrec", "serve", "--port", str(port), *args],
                               stdout=out, stderr=subprocess.STDOUT if log else subprocess.DEVNULL,
                               env={**os.environ, "COLUMNS": "200", **(env or {})}, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, process)
        yield url, process
    finally:
        stop(process)
        if log:
            out.close()


def wait_ready(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"digitrec serve exited with {process.returncode} before it was ready")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"digitrec serve not ready at {url} within {timeout} s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # its own session: the server and its workers only
            process.wait(timeout=10)
