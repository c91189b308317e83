"""Service configuration: defaults, overridden by ``DIGITREC_*`` environment variables, overridden by flags.

``digitrec serve`` turns its flags into these variables before uvicorn starts, so every worker process
builds the same :class:`Settings` from its environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from digitrec.preprocess.decode import MAX_PIXELS

ENV_PREFIX = "DIGITREC_"


def default_feedback_db() -> Path:
    return Path(platformdirs.user_data_dir("digitrec")) / "feedback.sqlite3"


class Settings(BaseSettings):
    """Everything ``digitrec serve`` can be told; each field is also ``DIGITREC_<FIELD>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", protected_namespaces=())

    model: str | None = Field(None, description="Model directory, or a registry alias (followed: a promotion "
                              "swaps the model in) or version; empty means the bundled MNIST model.")
    registry: Path | None = Field(None, description="Model registry folder (default: registry/ in the user "
                                  "data folder).")
    precision: Literal["fp32", "int8"] = Field("fp32", description="Which ONNX file of the model to run.")
    min_confidence: float = Field(0.0, ge=0.0, le=1.0, description="Answer no digit (null) below this.")
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    workers: int = Field(1, ge=1, le=64, description="Server processes; each loads its own model copy.")
    inference_threads: int = Field(1, ge=1, le=64, description="Requests computed at once per worker.")
    max_body_bytes: int = Field(10 * 1024 * 1024, ge=1024, description="Larger request bodies get 413.")
    max_pixels: int = Field(MAX_PIXELS, ge=1, le=MAX_PIXELS,
                            description="Larger images (width × height) get 422: decompression bombs.")
    max_batch: int = Field(10_000, ge=1, description="Most images in one batch request (more get 413).")
    request_timeout: float = Field(30.0, gt=0, description="Seconds before a request is answered 503.")
    feedback_db: Path = Field(default_factory=default_feedback_db, description="SQLite file for feedback.")
    access_log: bool = Field(True, description="One JSON line per request on stderr.")
