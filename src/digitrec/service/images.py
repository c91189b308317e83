"""Images in and out of HTTP: base64 and data URLs to bytes, pixel limits, 28×28 arrays to PNG data URLs,
decoded photos to JPEG."""

from __future__ import annotations

import base64
import binascii
import io

import cv2
import numpy as np
from PIL import Image

from digitrec.errors import ImageError, UsageError
from digitrec.preprocess.decode import MAX_PIXELS, PNG_SIGNATURE, header_size

MNIST_PIXELS = 28 * 28
URL_SAFE = str.maketrans("-_", "+/")  # base64url (RFC 4648 §5) to the standard alphabet: no character is in both


def from_base64(text: str, what: str = "image") -> bytes:
    """Bytes of a data URL (``data:image/png;base64,...``) or of plain base64; 400 when it is neither."""
    if text.startswith("data:"):
        header, comma, text = text.partition(",")
        if not comma or not header.endswith(";base64"):
            raise UsageError(f"{what}: a data URL must be base64-encoded (data:<type>;base64,<data>)")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        try:  # tolerate line breaks and missing padding, as pasted base64 often has, and the URL-safe alphabet
            compact = "".join(text.split()).translate(URL_SAFE)
            return base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)
        except (binascii.Error, ValueError):
            raise UsageError(f"{what}: not valid base64") from None


def check_pixels(data: bytes, limit: int, name: str) -> None:
    """422 for an image larger than ``limit`` pixels, read from its header before anything is decoded.
    (Decoding enforces the package's own ceiling; this applies a stricter one set for the service.)"""
    if limit >= MAX_PIXELS or not data or (size := header_size(data)) is None:
        return  # no stricter limit, or not an image: decoding will say so
    width, height = size
    if width * height > limit:
        raise ImageError(f"{name}: image is {width}×{height} ({width * height:,} pixels), more than the "
                         f"{limit:,} pixel limit")


def pixels_to_arrays(raw: bytes) -> np.ndarray:
    """N×784 bytes → (N, 28, 28) uint8."""
    if not raw or len(raw) % MNIST_PIXELS:
        raise ImageError(f"pixels: {len(raw)} bytes is not a whole number of 28×28 images "
                         f"({MNIST_PIXELS} bytes each)")
    return np.frombuffer(raw, np.uint8).reshape(-1, 28, 28)


def png_data_url(image: np.ndarray | None) -> str | None:
    """The 28×28 float image the model saw, as a grey PNG data URL."""
    if image is None:
        return None
    grey = np.clip(np.rint(np.asarray(image, np.float32) * 255.0), 0, 255).astype(np.uint8)
    ok, png = cv2.imencode(".png", grey)
    return "data:image/png;base64," + base64.b64encode(png.tobytes()).decode("ascii") if ok else None


def as_png(data: bytes, decoded: np.ndarray) -> bytes:
    """PNG bytes for storing an image: a PNG as it came, anything else re-encoded from its decoded pixels."""
    if data.startswith(PNG_SIGNATURE):
        return data
    out = io.BytesIO()
    Image.fromarray(decoded).save(out, format="PNG")
    return out.getvalue()


def as_jpeg(decoded: np.ndarray, quality: int = 90) -> bytes:
    """A decoded image (grey or RGB) as JPEG bytes, for a browser to show."""
    pixels = cv2.cvtColor(decoded[..., :3], cv2.COLOR_RGB2BGR) if decoded.ndim == 3 else decoded
    ok, jpeg = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ImageError("the image could not be encoded as JPEG")
    return jpeg.tobytes()
