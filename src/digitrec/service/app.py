"""``create_app(settings)``: the FastAPI application — API, operations endpoints and the drawing page."""

from __future__ import annotations

from pathlib import Path

import anyio
from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from digitrec import __version__
from digitrec.inference import Recognizer, resolve_model_dir
from digitrec.service import errors
from digitrec.service.balance import worker_board
from digitrec.service.follow import alias_follower, following
from digitrec.service.holder import ModelHolder
from digitrec.service.metrics import Metrics
from digitrec.service.middleware import LimitBody, LimitTime, ObserveRequests, SpreadConnections
from digitrec.service.process import single_threaded_libraries
from digitrec.service.routes import api, ops
from digitrec.service.settings import Settings
from digitrec.service.store import FeedbackStore

WEB = Path(__file__).parent / "web"
# The page loads nothing from elsewhere: scripts, styles and images come from this server (or are drawn).
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
                               "style-src 'self'; script-src 'self'; connect-src 'self'; object-src 'none'; "
                               "base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
DESCRIPTION = """Handwritten-digit recognition over HTTP, and a drawing page at `/`.

Send an image (a canvas drawing, a photo, a scan) and get the digit, its confidence, the ten class
probabilities and the 28×28 image the model saw. Errors are JSON `{"detail": "..."}` with a 4xx code
that names the cause."""


def create_app(settings: Settings | None = None, recognizer: Recognizer | None = None) -> FastAPI:
    """Build the app; loads (and verifies) the model now, so a bad model fails at start, not per request."""
    settings = settings or Settings()
    recognizer = recognizer or Recognizer(resolve_model_dir(settings.model, settings.registry),
                                          precision=settings.precision, threads=1,
                                          min_confidence=settings.min_confidence)
    metrics = Metrics()
    metrics.model_loaded(recognizer.info)
    holder = ModelHolder(recognizer, on_swap=lambda new, old: metrics.model_loaded(new.info, old.info))
    app = FastAPI(title="digitrec recognition service", version=__version__, description=DESCRIPTION,
                  docs_url=None, redoc_url=None,  # their UIs load from a CDN; the page must work offline
                  lifespan=following(alias_follower(settings, holder)))
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.holder = holder
    app.state.store = FeedbackStore(settings.feedback_db)
    app.state.limiter = anyio.CapacityLimiter(settings.inference_threads)
    errors.install(app)
    app.include_router(api)
    app.include_router(ops)
    add_page(app)
    # Added last = outermost: observe everything, then the time limit, then the body limit.
    app.add_middleware(SpreadConnections, board=worker_board(), metrics=metrics)
    app.add_middleware(LimitBody, max_bytes=settings.max_body_bytes)
    app.add_middleware(LimitTime, seconds=settings.request_timeout)
    app.add_middleware(ObserveRequests, metrics=metrics, log=settings.access_log)
    return app


def add_page(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=WEB), name="static")

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(WEB / "index.html", headers=PAGE_HEADERS)


def app_from_environment() -> FastAPI:
    """The factory uvicorn calls in each worker process: settings from ``DIGITREC_*`` variables."""
    single_threaded_libraries()
    return create_app(Settings())
