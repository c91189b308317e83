"""Typed requests and responses: the API contract, published in the OpenAPI schema with examples."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

# A 28×28 PNG of a hand-drawn 7 (dark ink on white), small enough to paste into a curl command.
EXAMPLE_IMAGE = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAABwAAAAcCAAAAABXZoBIAAAAUklEQVR42s3SQQ6AIAxE0X7i"
                 "/a/8XZkYcWZpZEV4KaRTcPJa8z0e14b7qa2Shj6udfYHVil8QXorRqSHYER6fEakB29E+siMSB+2EdnS+tvXPAH5BAw5kV/z"
                 "lgAAAABJRU5ErkJggg==")
EXAMPLE_PROBABILITIES = [0.0, 0.0, 0.0, 1.6e-05, 0.0, 0.0, 0.0, 0.999974, 0.0, 1e-05]
EXAMPLE_MODEL = {"name": "fast", "version": "20261121.231818-d74075a1",
                 "sha256": "d74075a10c340c19bd1e9cc27bc3a00f980a80e0d89fce75ee373b919817b582"}
EXAMPLE_PREPROCESSED = "data:image/png;base64,iVBORw0KGgo..."

ImageText = Field(description="The image: a data URL (`data:image/png;base64,...`, as `canvas.toDataURL()` "
                  "gives) or plain base64 of a PNG, JPEG, GIF, BMP, WebP or TIFF file.",
                  examples=[EXAMPLE_IMAGE], min_length=1)


class PredictRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    image: str = ImageText


class BatchRequest(BaseModel):
    """Either ``images`` (encoded images, each preprocessed like a single prediction) or ``pixels`` (raw
    MNIST-style 28×28 images, the fast path)."""

    model_config = ConfigDict(extra="forbid")
    images: list[str] | None = Field(None, description="Encoded images: data URLs or base64.",
                                     examples=[[EXAMPLE_IMAGE, EXAMPLE_IMAGE]])
    pixels: str | None = Field(None, description="Base64 of N×784 bytes: N images of 28×28 uint8, row by row, "
                               "bright ink on black, already centred as MNIST digits are (the model's input; no "
                               "preprocessing is applied). A body of Content-Type application/octet-stream "
                               "holding those bytes directly is accepted too.", examples=["AAAA..."])


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    image: str = ImageText
    correct: int = Field(ge=0, le=9, description="The digit the image really shows.", examples=[7])
    predicted: int | None = Field(None, ge=0, le=9, description="What the service answered (null: nothing).",
                                  examples=[1])
    confidence: float | None = Field(None, ge=0.0, le=1.0, description="The confidence it answered with.",
                                     examples=[0.62])
    model_version: str | None = Field(None, max_length=200, description="Version of the model that answered "
                                      "(default: the one serving now).", examples=[EXAMPLE_MODEL["version"]])


class ModelRef(BaseModel):
    name: str = Field(examples=[EXAMPLE_MODEL["name"]])
    version: str = Field(examples=[EXAMPLE_MODEL["version"]])
    sha256: str | None = Field(examples=[EXAMPLE_MODEL["sha256"]])


class PredictResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "digit": 7, "confidence": 0.999974, "probabilities": EXAMPLE_PROBABILITIES,
        "preprocessed": EXAMPLE_PREPROCESSED, "model": EXAMPLE_MODEL}]})
    digit: int | None = Field(description="The digit, or null for a blank image or an answer below "
                              "the minimum confidence.")
    confidence: float = Field(ge=0, le=1)
    probabilities: list[float] = Field(description="One probability per class, 0 to 9.")
    label: str | None = Field(None, description="The class name, when it differs from the digit.")
    preprocessed: str | None = Field(description="Data URL of the 28×28 PNG the model saw (bright ink on "
                                     "black); null for a blank image.")
    model: ModelRef


class DigitFound(BaseModel):
    digit: int | None
    confidence: float = Field(ge=0, le=1)
    box: list[int] = Field(min_length=4, max_length=4, description="x, y, width, height in the input's pixels.")
    line: int = Field(description="Line of text the digit is on, from 0 at the top.")
    probabilities: list[float]
    preprocessed: str | None


class NumberResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "text": "42", "model": EXAMPLE_MODEL, "digits": [
            {"digit": 4, "confidence": 0.998, "box": [40, 52, 150, 190], "line": 0,
             "probabilities": EXAMPLE_PROBABILITIES, "preprocessed": EXAMPLE_PREPROCESSED},
            {"digit": 2, "confidence": 0.997, "box": [300, 60, 140, 180], "line": 0,
             "probabilities": EXAMPLE_PROBABILITIES, "preprocessed": EXAMPLE_PREPROCESSED}]}]})
    text: str = Field(description="The digits left to right, one line of text per line found ('?' for an "
                      "unsure digit).")
    digits: list[DigitFound]
    model: ModelRef


class BatchItem(BaseModel):
    digit: int | None
    confidence: float = Field(ge=0, le=1)
    probabilities: list[float]
    error: str | None = Field(None, description="Why this image could not be read (the others still are).")


class BatchResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "count": 1, "model": EXAMPLE_MODEL,
        "predictions": [{"digit": 7, "confidence": 0.999974, "probabilities": EXAMPLE_PROBABILITIES}]}]})
    count: int
    predictions: list[BatchItem]
    model: ModelRef


class FeedbackResponse(BaseModel):
    id: int = Field(examples=[42])
    correct: int = Field(examples=[7])
    predicted: int | None = Field(examples=[1])
    model_version: str | None = Field(examples=[EXAMPLE_MODEL["version"]])
    created: str = Field(description="UTC time, ISO 8601.", examples=["2026-11-21T23:30:00.123+00:00"])


class ModelInfo(BaseModel):
    name: str
    version: str
    dataset: str
    sha256: str | None
    precision: str
    classes: list[str]
    created: str
    metrics: dict[str, float | int | str | None] = Field(description="As measured when the model was made, "
                                                         "e.g. test_accuracy.")


class ModelsResponse(BaseModel):
    current: ModelInfo = Field(description="The model answering requests now.")
    models: list[ModelInfo] = Field(description="Every model this server has loaded.")


class Health(BaseModel):
    status: str = Field(examples=["ok"])


class Ready(BaseModel):
    status: str = Field(examples=["ready"])
    model: ModelRef


class ErrorResponse(BaseModel):
    detail: str = Field(description="What was wrong, in one line.", examples=["image: empty file"])
