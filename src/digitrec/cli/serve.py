"""``digitrec serve``: the recognition service and its drawing page."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Optional

import typer

from digitrec.cli.output import console
from digitrec.errors import DigitrecError


def serve(
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Model directory (default: the bundled "
                                        "MNIST model)."),
    host: Optional[str] = typer.Option(None, "--host", help="Address to listen on (default 127.0.0.1: this "
                                       "machine only; 0.0.0.0 for every interface)."),
    port: Optional[int] = typer.Option(None, "--port", "-p", min=1, max=65535, help="TCP port (default 8000)."),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", min=1, max=64,
                                          help="Server processes (default 1); one per CPU core is a good start."),
    int8: bool = typer.Option(False, "--int8", help="Serve the int8 model (model.int8.onnx)."),
    min_confidence: Optional[float] = typer.Option(None, "--min-confidence", min=0.0, max=1.0,
                                                   help="Answer no digit (null) below this confidence."),
    feedback_db: Optional[Path] = typer.Option(None, "--feedback-db", help="SQLite file for corrections "
                                               "(default: feedback.sqlite3 in the user data folder)."),
    max_body_bytes: Optional[int] = typer.Option(None, "--max-body-bytes", min=1024,
                                                 help="Larger request bodies are refused with 413 "
                                                 "(default 10485760 = 10 MiB)."),
    max_pixels: Optional[int] = typer.Option(None, "--max-pixels", min=1, help="Larger images (width × "
                                             "height) are refused with 422 (default 150000000)."),
    max_batch: Optional[int] = typer.Option(None, "--max-batch", min=1, help="Most images in one batch "
                                            "request (default 10000)."),
    timeout: Optional[float] = typer.Option(None, "--timeout", min=0.1, help="Seconds before a request is "
                                            "answered 503 (default 30)."),
    access_log: Optional[bool] = typer.Option(None, "--access-log/--no-access-log",
                                              help="One JSON line per request on stderr (default on)."),
    log_level: str = typer.Option("info", "--log-level", help="debug, info, warning or error."),
):
    """Serve the recognition API and the drawing page, then wait (Ctrl-C stops it).

    The page at `/` lets anyone draw a digit (mouse, touch, pen), upload or photograph one, and correct a
    wrong answer; the API at `/api/v1` answers other programs; `/metrics` feeds Prometheus. Every option
    can also be set in the environment as `DIGITREC_<OPTION>` (e.g. `DIGITREC_PORT=9000`,
    `DIGITREC_MAX_BATCH=2000`); an option given here wins. Logs are JSON lines on stderr.

    Examples:

        digitrec serve                                # http://127.0.0.1:8000/
        digitrec serve --workers 2 --host 0.0.0.0     # every interface, two processes
        digitrec serve --model runs/best --int8 --port 9000

        curl -s localhost:8000/api/v1/predict -F file=@my_digit.png
    """
    import uvicorn

    from digitrec.inference import Recognizer
    from digitrec.service.balance import CountingHttpToolsProtocol
    from digitrec.service.app import create_app
    from digitrec.service.logs import log_config
    from digitrec.service.process import export_settings, multiprocess_metrics, single_threaded_libraries
    from digitrec.service.settings import Settings

    given = {"model": model, "host": host, "port": port, "workers": workers,
             "precision": "int8" if int8 else None, "min_confidence": min_confidence, "feedback_db": feedback_db,
             "max_body_bytes": max_body_bytes, "max_pixels": max_pixels, "max_batch": max_batch,
             "request_timeout": timeout, "access_log": access_log}
    settings = Settings(**{k: v for k, v in given.items() if v is not None})
    # Load and verify the model here, so a bad one is one red line now rather than a traceback per worker.
    recognizer = Recognizer(settings.model, precision=settings.precision, threads=1,
                            min_confidence=settings.min_confidence)
    export_settings(settings)
    _check_can_listen(settings.host, settings.port)
    url = f"http://{'[' + settings.host + ']' if ':' in settings.host else settings.host}:{settings.port}/"
    info = recognizer.info
    console.print(f"[bold]digitrec[/] serving model [bold]{info['name']}[/] {info['version']} ({info['precision']}) "
                  f"with {settings.workers} worker{'s' * (settings.workers > 1)}\n"
                  f"  drawing page  [link={url}]{url}[/link]\n  API           {url}api/v1/predict\n"
                  f"  metrics       {url}metrics\n  feedback      {settings.feedback_db}\n"
                  "Press Ctrl-C to stop.", highlight=False, soft_wrap=True)
    options = dict(host=settings.host, port=settings.port, log_config=log_config(log_level), access_log=False,
                   server_header=False, timeout_graceful_shutdown=5, backlog=2048)
    with multiprocess_metrics(settings.workers):
        if settings.workers == 1:
            single_threaded_libraries()
            uvicorn.run(create_app(settings, recognizer), **options)
        else:
            uvicorn.run("digitrec.service.app:app_from_environment", factory=True, workers=settings.workers,
                        http=CountingHttpToolsProtocol, **options)


def _check_can_listen(host: str, port: int) -> None:
    """Bind the address for a moment, as uvicorn will (SO_REUSEADDR): a port in use or a host that is not
    this machine's is one line before the banner, not a log record after it."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as exc:
        raise DigitrecError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
