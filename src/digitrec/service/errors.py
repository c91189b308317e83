"""Every failure becomes JSON ``{"detail": "<one line>"}`` with the status code that names its cause."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException

from digitrec.errors import DataError, DigitrecError, ImageError, ModelError, UsageError

log = logging.getLogger("digitrec.service")


class PayloadTooLarge(DigitrecError):
    """More images in a batch than the configured limit (413)."""


class UnsupportedMediaType(DigitrecError):
    """A body in a format the endpoint does not take (415)."""


class InvalidField(DigitrecError):
    """Well-formed JSON whose fields break the schema: missing, wrong type, out of range (422)."""


STATUS = {ImageError: 422, InvalidField: 422, UsageError: 400, PayloadTooLarge: 413, UnsupportedMediaType: 415,
          ModelError: 503, DataError: 503}


def status_of(exc: DigitrecError) -> int:
    for kind in type(exc).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 400


def from_validation(errors: list[dict]) -> DigitrecError:
    """Pydantic's (or FastAPI's) list of errors as one line; a body that is not JSON at all is 400, not 422."""
    if any(e.get("type") == "json_invalid" for e in errors):
        return UsageError("request body is not valid JSON")
    parts = []
    for e in errors[:3]:
        where = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {e.get('msg', 'invalid')}")
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return InvalidField("; ".join(parts) + more)


def install(app: FastAPI) -> None:
    @app.exception_handler(DigitrecError)
    async def digitrec_error(request: Request, exc: DigitrecError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=status_of(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return await digitrec_error(request, from_validation(exc.errors()))

    @app.exception_handler(MultiPartException)
    async def bad_multipart(request: Request, exc: MultiPartException) -> JSONResponse:
        return JSONResponse({"detail": f"malformed multipart body: {exc.message}"}, status_code=400)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"detail": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error answering %s %s", request.method, request.url.path)
        return JSONResponse({"detail": f"internal error ({type(exc).__name__}); the server log has details"},
                            status_code=500)
