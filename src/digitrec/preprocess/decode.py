"""Decoding any image a user may hand us into a grey uint8 array, within bounded time and memory.

Handles what real input brings: EXIF orientation (phone photos), iPhone photos (HEIC, through
pillow-heif), transparency (canvas drawings are transparent PNGs: composited on white, or on black under a
white pen), CMYK JPEGs, 16-bit PNGs, animated GIFs (first frame), and huge photos, which JPEG decodes at
reduced scale (``draft``) before anything else touches them.
"""

from __future__ import annotations

import io
import os
import stat
import struct
import sys
import warnings
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import cv2
import numpy as np
import pyspng
from PIL import Image, ImageOps, UnidentifiedImageError
from zlib_ng import zlib_ng

from digitrec.errors import ImageError

MAX_PIXELS = 150_000_000  # a 12 000 × 9 000 photo is 108 MP; more than this is treated as a decompression bomb
MAX_FILE_BYTES = 64 << 20
STDIN = "-"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
STORED_BLOCK = 65535  # bytes: the most one stored deflate block holds
LIGHT_INK = 160  # luma of a transparent image's opaque pixels above which its ink is light
WORK_SIDE = 1024  # longest side images are reduced to before preprocessing: ample for a digit or a number

Image.MAX_IMAGE_PIXELS = None  # we check the size ourselves, with a clear message


def read_bytes(path: str | os.PathLike) -> bytes:
    """A regular file's bytes, at most ``MAX_FILE_BYTES``; ``-`` reads standard input (``curl … | digitrec
    predict -``). A file is opened without blocking and checked before reading, so a named pipe waits for
    no writer and /dev/zero is not read for ever."""
    path = Path(path)
    try:
        if str(path) == STDIN:
            data = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
        else:
            with open(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as file:
                if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                    raise ImageError(f"{path}: not a regular file")
                data = file.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ImageError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise ImageError(f"{path}: file is more than the {MAX_FILE_BYTES >> 20} MiB limit")
    return data


def decode(data: bytes, name: str = "image", max_side: int = WORK_SIDE) -> np.ndarray:
    """Decode image bytes to RGB or grey uint8, longest side at most ``max_side``."""
    return decode_sized(data, name, max_side)[0]


def decode_sized(data: bytes, name: str = "image", max_side: int = WORK_SIDE) -> tuple[np.ndarray, tuple[int, int]]:
    """As :func:`decode`, with the image's original (width, height), as displayed (EXIF applied)."""
    if not data:
        raise ImageError(f"{name}: empty file")
    return _decode_plain_png(data, max_side) or _decode_with_pillow(data, name, max_side)


def header_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the image's header, nothing decoded; None when it is not an image."""
    _knows_the_format(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return Image.open(io.BytesIO(data)).size
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError, struct.error):
        return None


def _decode_with_pillow(data: bytes, name: str, max_side: int) -> tuple[np.ndarray, tuple[int, int]]:
    _knows_the_format(data)
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
        reason = " ".join(str(exc).split()) or type(exc).__name__  # one line: libheif's messages end in a newline
        raise ImageError(f"{name}: corrupt or truncated image ({reason})") from None


def _knows_the_format(data: bytes) -> None:
    if data[4:8] == b"ftyp":  # an ISO media file: HEIC (an iPhone's photos), AVIF (Pillow's own)
        _open_heif()


@cache
def _open_heif() -> None:
    """Teach Pillow to open HEIC/HEIF — on first need, since importing libheif costs 70 ms that no canvas
    should pay. libheif turns the picture as its file says, and the EXIF orientation then reads 1."""
    from pillow_heif import register_heif_opener

    register_heif_opener()


def _decode_plain_png(data: bytes, max_side: int) -> tuple[np.ndarray, tuple[int, int]] | None:
    """What every canvas sends — an 8-bit grey, RGB or RGBA PNG without palette, transparency key, EXIF
    or animation, no larger than the work size, every chunk whole — decoded straight into an array in
    0.3 ms for a 280×280 canvas, where libspng alone takes 0.6 ms and Pillow and OpenCV (libpng) 1.1.
    None for any other image, and for a damaged one; Pillow then decodes it (or explains what is wrong).

    libspng undoes the row filters, but its inflate (the zlib it is built with) spends 0.48 of its
    0.57 ms on a canvas's deflate stream, which zlib-ng inflates in 0.06 ms. So the stream is inflated
    here and handed to libspng again as stored (uncompressed) deflate blocks, which it only copies
    (docs/benchmarks.md, "Prediction speed": how it was measured, and where it is slower)."""
    if len(data) < 33 or not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        return None
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    if depth != 8 or colour not in (0, 2, 6) or not 1 <= max(width, height) <= max_side or min(width, height) < 1:
        return None
    chunks = list(_png_chunks(data))
    kinds = {kind for kind, _ in chunks}
    if b"IEND" not in kinds or kinds & {b"tRNS", b"eXIf", b"acTL"}:  # truncated, or pixels mean more
        return None
    scanlines = _inflate_scanlines([payload for kind, payload in chunks if kind == b"IDAT"],
                                   height * (1 + width * {0: 1, 2: 3, 6: 4}[colour]))
    if scanlines is None:
        return None
    try:
        pixels = pyspng.load(b"".join((data[:33], *_png_chunk(b"IDAT", _stored_zlib(scanlines)), *PNG_END)))
    except RuntimeError:
        return None
    if pixels.dtype != np.uint8 or pixels.shape[:2] != (height, width):
        return None
    if pixels.ndim == 3 and pixels.shape[2] == 4:
        pixels = _on_paper(pixels)
    return pixels, (width, height)


def _png_chunks(data: bytes) -> Iterator[tuple[bytes, memoryview]]:
    """The chunks of a PNG as (type, payload), up to IEND or to where the data is cut short or fails its
    CRC (a chunk damaged in transit ends the image there)."""
    view = memoryview(data)
    offset = len(PNG_SIGNATURE)
    while offset + 12 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, offset)
        end = offset + 8 + length
        if end + 4 > len(data):
            return
        payload = view[offset + 8 : end]
        if zlib_ng.crc32(payload, zlib_ng.crc32(kind)) != struct.unpack_from(">I", data, end)[0]:
            return
        yield kind, payload
        if kind == b"IEND":
            return
        offset = end + 4


def _inflate_scanlines(parts: list[memoryview], size: int) -> bytes | None:
    """The PNG's filtered rows from its IDAT payloads: exactly ``size`` bytes, or None (damaged, short,
    or more than the header allows — inflation stops there, so a deflate bomb costs nothing)."""
    inflater = zlib_ng.decompressobj()
    try:
        scanlines = inflater.decompress(b"".join(parts), size + 1)
    except zlib_ng.error:
        return None
    return scanlines if len(scanlines) == size and inflater.eof else None


def _stored_zlib(data: bytes) -> list[bytes | memoryview]:
    """``data`` as a zlib stream of stored (uncompressed) deflate blocks, RFC 1950/1951, in parts to be
    joined once: what zlib's ``compress(data, 0)`` writes, without the 0.25 ms it takes to set up a
    compressor that will not compress."""
    view, last = memoryview(data), max(0, len(data) - 1) // STORED_BLOCK * STORED_BLOCK
    parts = [b"\x78\x01"]  # deflate, 32 KiB window, no dictionary, header check bits
    for start in range(0, last + 1, STORED_BLOCK):
        block = view[start : start + STORED_BLOCK]
        parts += [struct.pack("<BHH", start == last, len(block), len(block) ^ 0xFFFF), block]
    parts.append(struct.pack(">I", zlib_ng.adler32(data)))
    return parts


def _png_chunk(kind: bytes, payload: list[bytes | memoryview]) -> list[bytes | memoryview]:
    """A PNG chunk holding the ``payload`` parts, as parts."""
    crc = zlib_ng.crc32(kind)
    for part in payload:
        crc = zlib_ng.crc32(part, crc)
    return [struct.pack(">I", sum(len(part) for part in payload)), kind, *payload, struct.pack(">I", crc)]


PNG_END = _png_chunk(b"IEND", [])


def _to_8bit(image: Image.Image) -> Image.Image:
    """RGB or L, 8 bits per channel, transparency composited on paper (:func:`_on_paper`)."""
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
        return Image.fromarray(_on_paper(np.asarray(image.convert("RGBA" if image.mode.startswith("RGB") else "LA"))))
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    return image


def _on_paper(pixels: np.ndarray) -> np.ndarray:
    """Composite straight-alpha pixels (H, W, C + 1) on paper that shows the ink: white, or black when the
    ink is light — a canvas drawn with a white pen and left transparent, shown over a dark page by CSS,
    exports white strokes on nothing, which on white would vanish. Canvas drawings arrive this way on
    every request, so this works on contiguous planes and skips what it can: compositing when nothing is
    transparent, two of three colour planes when the ink is grey (every drawing page's pen)."""
    *colour, alpha = cv2.split(np.ascontiguousarray(pixels))
    if all(cv2.norm(colour[0], plane, cv2.NORM_INF) == 0 for plane in colour[1:]):
        colour = colour[:1]
    if cv2.minMaxLoc(alpha)[0] < 255:
        drawn = cv2.threshold(alpha, 127, 255, cv2.THRESH_BINARY)[1]
        means = [cv2.mean(plane, mask=drawn)[0] for plane in colour]  # R, G, B (or grey) of the ink
        lightness = means[0] if len(means) == 1 else 0.299 * means[0] + 0.587 * means[1] + 0.114 * means[2]
        if cv2.countNonZero(drawn) and lightness > LIGHT_INK:
            # black + colour · alpha
            colour = [cv2.multiply(plane, alpha, scale=1 / 255) for plane in colour]
        else:
            # white + (colour - white) · alpha = 255 - (255 - colour) · alpha / 255; for uint8, 255 - x is ~x
            # (and cv2.subtract(255, x) would take a 4×1 array for a scalar)
            colour = [cv2.bitwise_not(cv2.multiply(cv2.bitwise_not(plane), alpha, scale=1 / 255)) for plane in colour]
    return colour[0] if len(colour) == 1 else cv2.merge(colour)


def as_grey(image, name: str = "image") -> np.ndarray:
    """Any image array a user may hold — a notebook's MNIST digit scaled to [0, 1], Keras' (28, 28, 1), a
    bool mask, 16-bit, RGB(A), nested lists — as the grey uint8 the stages take; ImageError otherwise."""
    try:
        array = np.asarray(image)
    except (ValueError, TypeError) as exc:
        raise ImageError(f"{name}: not an image array ({exc})") from None
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)) or 0 in array.shape:
        raise ImageError(f"{name}: expected a grey (height, width) or colour (height, width, 3 or 4) image, "
                         f"got shape {array.shape}")
    if array.dtype == np.uint8:
        pass
    elif array.dtype == bool:
        array = array.astype(np.uint8) * 255
    elif array.dtype.kind == "f":
        array = np.nan_to_num(array.astype(np.float32), nan=0.0, posinf=255.0, neginf=0.0)
        array = array * 255 if array.max() <= 1.0 else array  # [0, 1], as notebooks scale MNIST
        array = np.clip(np.rint(array), 0, 255).astype(np.uint8)
    elif array.dtype.kind in "iu":
        top = 65535 if array.max() > 255 else 255  # 16-bit
        array = np.clip(array.astype(np.int64) * 255 // top, 0, 255).astype(np.uint8)
    else:
        raise ImageError(f"{name}: pixels of type {array.dtype} are not an image")
    if array.ndim == 3 and array.shape[2] == 4:
        array = _on_paper(array)  # as a decoded RGBA image: a transparent canvas's ink on paper that shows it
    return to_grey(np.ascontiguousarray(array))


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
