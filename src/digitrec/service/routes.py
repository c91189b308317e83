"""The HTTP endpoints: parse the request, compute (inline or in a worker thread), answer JSON."""

from __future__ import annotations

from typing import Annotated, Callable, TypeVar

import anyio.to_thread
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from digitrec.errors import ImageError
from digitrec.inference import Recognizer
from digitrec.preprocess import decode
from digitrec.service import recognize
from digitrec.service.errors import PayloadTooLarge, UnsupportedMediaType, from_validation
from digitrec.service.holder import model_summary
from digitrec.service.images import as_jpeg, as_png, check_pixels, from_base64, pixels_to_arrays
from digitrec.service.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE, Metrics
from digitrec.service.schemas import (BatchRequest, BatchResponse, ErrorResponse, FeedbackRequest,
                                      FeedbackResponse, Health, ModelInfo, ModelsResponse, NumberResponse,
                                      PredictRequest, PredictResponse, Ready)
from digitrec.service.settings import Settings
from digitrec.service.store import FeedbackStore

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
JSON, MULTIPART, OCTETS = "application/json", "multipart/form-data", "application/octet-stream"

api = APIRouter(prefix="/api/v1", tags=["recognition"])
ops = APIRouter(tags=["operations"])


# Dependencies: what the app was built with, kept in its state. Async because FastAPI runs a plain ``def``
# dependency in a worker thread: a thread hop per dependency per request, for one attribute read.
async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def current_model(request: Request) -> Recognizer:
    return request.app.state.holder.current  # taken once: this request is answered by this model


async def get_store(request: Request) -> FeedbackStore:
    return request.app.state.store


async def get_metrics(request: Request) -> Metrics:
    return request.app.state.metrics


SettingsDep = Annotated[Settings, Depends(get_settings)]
ModelDep = Annotated[Recognizer, Depends(current_model)]
StoreDep = Annotated[FeedbackStore, Depends(get_store)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]


# Below this size an image is computed on the event loop: handing it to a thread costs about 0.5 ms, a
# large share of a canvas drawing's few milliseconds. Larger work (photos, batches) goes to a thread so the
# loop stays responsive and the time limit can answer for it.
INLINE_MAX_BYTES = 128 * 1024


async def compute(request: Request, work: Callable[..., T], *args, size: int = INLINE_MAX_BYTES + 1) -> T:
    """Run CPU work: inline when small, else in a thread, at most ``inference_threads`` at once per worker
    (the rest queue, first come first served), abandoned rather than awaited if the request times out."""
    if size <= INLINE_MAX_BYTES:
        return work(*args)
    return await anyio.to_thread.run_sync(work, *args, limiter=request.app.state.limiter, abandon_on_cancel=True)


def failures(*codes: int) -> dict:
    """OpenAPI entries for the error answers an endpoint can give."""
    reasons = {400: "Malformed request: not JSON, not base64, a bad multipart body.",
               413: "Body, or number of images in a batch, over the configured limit.",
               415: "Unsupported Content-Type.",
               422: "Not a readable image, too many pixels, or a field missing or out of range.",
               503: "Not answered in time, or no model loaded."}
    return {code: {"model": ErrorResponse, "description": reasons[code]} for code in codes}


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


async def parse_json(request: Request, model: type[M]) -> M:
    try:
        return model.model_validate_json(await request.body())
    except ValidationError as exc:
        raise from_validation(exc.errors()) from None


def body_schema(json_model: type[BaseModel], extra: dict) -> dict:
    return {"requestBody": {"required": True, "content": {
        JSON: {"schema": json_model.model_json_schema()}, **extra}}}


UPLOAD = {MULTIPART: {"schema": {"type": "object", "required": ["file"], "properties": {
    "file": {"type": "string", "format": "binary", "description": "The image file."}}}}}
RAW_PIXELS = {OCTETS: {"schema": {"type": "string", "format": "binary",
                                  "description": "N×784 bytes: N 28×28 uint8 images, row by row."}}}


async def read_image(request: Request, settings: Settings) -> tuple[bytes, str]:
    """The image of a predict request (JSON ``image`` or multipart ``file``), and a name for messages."""
    kind = media_type(request)
    if kind == JSON:
        data, name = from_base64((await parse_json(request, PredictRequest)).image), "image"
    elif kind == MULTIPART:
        async with request.form(max_files=1, max_fields=8) as form:
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise ImageError("multipart body has no file in field 'file'")
            data, name = await upload.read(), upload.filename or "file"
    else:
        raise UnsupportedMediaType(f"Content-Type must be {JSON} (an 'image' field) or {MULTIPART} "
                                   f"(a 'file' field), not '{kind or 'none'}'")
    check_pixels(data, settings.max_pixels, name)
    return data, name


@api.post("/predict", response_model=PredictResponse | NumberResponse, summary="Recognize a digit or a number",
          openapi_extra=body_schema(PredictRequest, UPLOAD), responses=failures(400, 413, 415, 422, 503))
async def predict(request: Request, recognizer: ModelDep, settings: SettingsDep, metrics: MetricsDep,
                  multi: Annotated[bool, Query(description="Read a whole number (several digits, several "
                                               "lines) and answer text and boxes.")] = False) -> Response:
    """One image in — a canvas drawing, a photo, a scan — as JSON `{"image": "<data URL or base64>"}` or a
    multipart upload in field `file`. It goes through the same preprocessing as `digitrec predict`; the
    answer includes the 28×28 image the model saw. With `?multi=true`: the digits of a number, left to
    right, each with its box."""
    data, name = await read_image(request, settings)
    work = recognize.read_number if multi else recognize.predict_one
    body, digits = await compute(request, work, recognizer, data, name, size=len(data))
    metrics.count_digits(digits)
    body["model"] = model_summary(recognizer)
    return JSONResponse(body)


@api.post("/predict/batch", response_model=BatchResponse, summary="Recognize many images in one model call",
          openapi_extra=body_schema(BatchRequest, RAW_PIXELS), responses=failures(400, 413, 415, 422, 503))
async def predict_batch(request: Request, recognizer: ModelDep, settings: SettingsDep,
                        metrics: MetricsDep) -> Response:
    """Many images, answered with one model call, in order. Either encoded images (`images`: data URLs or
    base64, each preprocessed as a single prediction is) or raw 28×28 images already in the model's form
    (`pixels`: base64 of N×784 uint8, or the bytes themselves as `application/octet-stream`): the fast path
    for MNIST-style data."""
    kind = media_type(request)
    if kind == OCTETS:
        arrays, images = pixels_to_arrays(await request.body()), None
    elif kind == JSON:
        batch = await parse_json(request, BatchRequest)
        if (batch.images is None) == (batch.pixels is None):
            raise ImageError("give either 'images' (encoded images) or 'pixels' (raw 28×28 images), not both "
                             "or neither")
        if batch.pixels is not None:
            arrays, images = pixels_to_arrays(from_base64(batch.pixels, "pixels")), None
        else:
            arrays, images = None, batch.images
    else:
        raise UnsupportedMediaType(f"Content-Type must be {JSON} or {OCTETS}, not '{kind or 'none'}'")
    count = len(arrays) if arrays is not None else len(images)
    if count > settings.max_batch:
        raise PayloadTooLarge(f"batch of {count:,} images is more than the limit of {settings.max_batch:,}")
    if arrays is not None:
        predictions = await compute(request, recognize.predict_pixels, recognizer, arrays)
    else:
        encoded = [from_base64(text, f"images[{i}]") for i, text in enumerate(images)]
        for i, data in enumerate(encoded):
            check_pixels(data, settings.max_pixels, f"images[{i}]")
        predictions = await compute(request, recognize.predict_images, recognizer, encoded)
    metrics.batch_images.inc(count)
    metrics.count_digits(p["digit"] for p in predictions)
    return JSONResponse({"count": count, "predictions": predictions, "model": model_summary(recognizer)})


@api.post("/image", summary="An image as the service decodes it, as JPEG", response_class=Response,
          openapi_extra=body_schema(PredictRequest, UPLOAD),
          responses={200: {"content": {"image/jpeg": {}},
                           "description": "The image turned upright, at most 1024 px, as JPEG."},
                     **failures(400, 413, 415, 422, 503)})
async def image(request: Request, settings: SettingsDep) -> Response:
    """The image decoded as for a prediction — turned as its EXIF says, at most 1024 px — and sent back as
    JPEG: for a browser that cannot show the format itself (an iPhone's HEIC photo outside Safari), so the
    drawing page can still show the photo it recognizes."""
    data, name = await read_image(request, settings)
    jpeg = await compute(request, lambda: as_jpeg(decode(data, name)), size=len(data))
    return Response(jpeg, media_type="image/jpeg")


@api.post("/feedback", status_code=201, response_model=FeedbackResponse, summary="Store a correction",
          responses=failures(400, 413, 422, 503))
async def feedback(request: Request, correction: FeedbackRequest, recognizer: ModelDep, settings: SettingsDep,
                   store: StoreDep, metrics: MetricsDep) -> FeedbackResponse:
    """"Wrong? The right digit is …": the image (as sent for prediction), what the service answered and the
    right digit. Stored (as PNG) for retraining; `digitrec feedback export DIR` writes them as a folder
    dataset for `digitrec train --dataset DIR`."""
    data = from_base64(correction.image)
    check_pixels(data, settings.max_pixels, "image")
    png = await compute(request, lambda: as_png(data, decode(data, "image")))  # stores only what decodes
    version = correction.model_version or recognizer.info["version"]
    name = recognizer.info["name"] if version == recognizer.info["version"] else None
    saved = await compute(request, lambda: store.add(png, correction.correct, correction.predicted,
                                                     correction.confidence, name, version))
    metrics.feedback.labels("right" if correction.predicted == correction.correct else "wrong").inc()
    return FeedbackResponse(id=saved.id, correct=saved.correct, predicted=saved.predicted,
                            model_version=saved.model_version, created=saved.created)


@api.get("/models", response_model=ModelsResponse, summary="The model answering, and every model loaded")
async def models(recognizer: ModelDep) -> ModelsResponse:
    info = model_info(recognizer)
    return ModelsResponse(current=info, models=[info])


def model_info(recognizer: Recognizer) -> ModelInfo:
    meta = recognizer.meta
    metrics = {k: v for k, v in meta.metrics.items() if isinstance(v, (int, float, str)) or v is None}
    return ModelInfo(**recognizer.info, classes=list(meta.classes), created=meta.created, metrics=metrics)


@ops.get("/healthz", response_model=Health, summary="Alive: the process answers")
async def healthz() -> Health:
    return Health(status="ok")


@ops.get("/readyz", response_model=Ready, summary="Ready: a model is loaded and answers",
         responses=failures(503))
async def readyz(request: Request, recognizer: ModelDep) -> Ready:
    await compute(request, recognize.self_test, recognizer)
    return Ready(status="ready", model=model_summary(recognizer))


@ops.get("/metrics", summary="Prometheus metrics", response_class=Response,
         responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format."}})
async def metrics_text(metrics: MetricsDep) -> Response:
    return Response(metrics.render(), media_type=METRICS_CONTENT_TYPE)
