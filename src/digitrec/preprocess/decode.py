"""Decoding any image a user may hand us into a grey uint8 array, within bounded time and memory.

Handles what real input brings: EXIF orientation (phone photos), transparency (canvas drawings are
transparent PNGs: composited on white), CMYK JPEGs, 16-bit PNGs, animated GIFs (first frame), and huge
photos, which JPEG decodes at reduced scale (``draft``) before anything else touches them.
"""

from __future__ import annotations

import io
import os
import struct
import warnings
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from digitrec.errors import ImageError

MAX_PIXELS = 150_000_000  # a 12 000 × 9 000 photo is 108 MP; more than this is treated as a decompression bomb
MAX_FILE_BYTES = 64 << 20
WORK_SIDE = 1024  # longest side images are reduced to before preprocessing: ample for a digit or a number

Image.MAX_IMAGE_PIXELS = None  # we check the size ourselves, with a clear message


def read_bytes(path: str | os.PathLike) -> bytes:
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ImageError(f"{path}: file is {size >> 20} MiB, more than the {MAX_FILE_BYTES >> 20} MiB limit")
        return path.read_bytes()
    except OSError as exc:
        raise ImageError(f"{path}: cannot read: {exc.strerror or exc}") from None


def decode(data: bytes, name: str = "image", max_side: int = WORK_SIDE) -> np.ndarray:
    """Decode image bytes to RGB or grey uint8, longest side at most ``max_side``."""
    return decode_sized(data, name, max_side)[0]


def decode_sized(data: bytes, name: str = "image", max_side: int = WORK_SIDE) -> tuple[np.ndarray, tuple[int, int]]:
    """As :func:`decode`, with the image's original (width, height), as displayed (EXIF applied)."""
    if not data:
        raise ImageError(f"{name}: empty file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow warns on odd metadata; what matters is whether it decodes
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ImageError(f"{name}: image is {width}×{height} ({width * height / 1e6:.0f} MP), "
                                 f"more than the {MAX_PIXELS / 1e6:.0f} MP limit")
            if width < 1 or height < 1:
                raise ImageError(f"{name}: image has no pixels")
            if image.format == "JPEG":
                # Decode at 1/2, 1/4 or 1/8 scale straight from the DCT: a 12 MP photo costs a fraction.
                scale = max(width, height) / max_side
                if scale >= 2:
                    image.draft(image.mode if image.mode in ("L", "RGB") else "RGB",
                                (int(width / scale) + 1, int(height / scale) + 1))
            orientation = image.getexif().get(0x0112, 1)
            image = ImageOps.exif_transpose(image)  # also loads the first frame of an animation
            original = (height, width) if orientation in (5, 6, 7, 8) else (width, height)
            image = _to_8bit(image)
            if max(image.size) > max_side:
                image.thumbnail((max_side, max_side), Image.Resampling.BILINEAR, reducing_gap=2.0)
            return np.asarray(image), original
    except ImageError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise ImageError(f"{name}: not a recognised image file ({type(exc).__name__})") from None
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError, TypeError, IndexError, KeyError,
            ZeroDivisionError, struct.error) as exc:
        raise ImageError(f"{name}: corrupt or truncated image ({str(exc) or type(exc).__name__})") from None


def _to_8bit(image: Image.Image) -> Image.Image:
    """RGB or L, 8 bits per channel, transparency composited on white paper."""
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        array = np.asarray(image, dtype=np.float32)
        top = 65535.0 if mode.startswith("I;16") or array.max() > 255 else 255.0
        return Image.fromarray(np.clip(array * (255.0 / top), 0, 255).astype(np.uint8))
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif mode in ("1", "CMYK", "YCbCr", "LAB", "HSV", "RGBX"):
        image = image.convert("RGB" if mode != "1" else "L")
    elif mode == "PA":
        image = image.convert("RGBA")
    if image.mode in ("LA", "La", "RGBa", "RGBA"):
        return Image.fromarray(_on_white(np.asarray(image.convert("RGBA" if image.mode.startswith("RGB") else "LA"))))
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    return image


def _on_white(pixels: np.ndarray) -> np.ndarray:
    """Composite straight-alpha pixels (H, W, C + 1) on white paper. Canvas drawings arrive this way on
    every request, so this is array arithmetic, skipped entirely when nothing is transparent."""
    colour, alpha = pixels[..., :-1], pixels[..., -1]
    if colour.shape[-1] == 1 or (np.array_equal(colour[..., 0], colour[..., 1])
                                 and np.array_equal(colour[..., 0], colour[..., 2])):
        colour = colour[..., 0]  # grey ink (every drawing page's black pen): one channel is a third of the work
    if alpha.min() == 255:
        return np.ascontiguousarray(colour)
    if colour.ndim == 3:
        alpha = cv2.merge([alpha] * colour.shape[-1])
    # white + (colour - white) · alpha = 255 - (255 - colour) · alpha / 255
    return cv2.subtract(255, cv2.multiply(cv2.subtract(255, np.ascontiguousarray(colour)), alpha, scale=1 / 255))


def to_grey(image: np.ndarray) -> np.ndarray:
    """Grey uint8; for colour, the view where ink and paper differ most (blue biro, red pen, chalk)."""
    if image.ndim == 2:
        return image
    if image.ndim != 3 or image.shape[2] < 3:
        raise ImageError(f"expected a grey or RGB image, got shape {image.shape}")
    r, g, b = cv2.split(np.ascontiguousarray(image[..., :3]))
    luma = cv2.cvtColor(cv2.merge((r, g, b)), cv2.COLOR_RGB2GRAY)
    spread = cv2.absdiff(cv2.max(cv2.max(r, g), b), cv2.min(cv2.min(r, g), b))
    if int(spread.max()) < 24:  # grey pixels stored as RGB (a canvas export): luma is all there is
        return luma
    darkest = cv2.min(cv2.min(r, g), b)
    # Coloured ink is dark in at least one channel where luma may leave it pale: use the channel minimum
    # when it separates ink from paper clearly better than luma does.
    if _contrast(darkest) > 1.25 * _contrast(luma) and _median(luma) > 110:
        return darkest
    return luma


def _sample(grey: np.ndarray) -> np.ndarray:
    return grey[:: max(1, grey.shape[0] // 64), :: max(1, grey.shape[1] // 64)]


def _contrast(grey: np.ndarray) -> float:
    lo, hi = np.percentile(_sample(grey), (2, 98))
    return float(hi - lo)


def _median(grey: np.ndarray) -> float:
    return float(np.median(_sample(grey)))
