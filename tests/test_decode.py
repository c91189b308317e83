"""Decoding whatever users send: every format quirk and every kind of broken or hostile file."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from digitrec.errors import ImageError
from digitrec.preprocess import decode, prepare_bytes, to_grey
from digitrec.preprocess.decode import MAX_PIXELS, WORK_SIDE


def png(array: np.ndarray, mode: str | None = None, **save) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array, mode=mode).save(buf, format="PNG", **save)
    return buf.getvalue()


def digit_one(size=(200, 150), ink=0, paper=255) -> np.ndarray:
    a = np.full(size, paper, np.uint8)
    h, w = size
    a[h // 5 : 4 * h // 5, w // 2 - w // 20 : w // 2 + w // 20] = ink
    return a


def test_transparent_canvas_png_is_composited_on_white():
    rgba = np.zeros((120, 120, 4), np.uint8)  # what a fresh canvas exports: transparent everywhere
    rgba[20:100, 55:65] = (0, 0, 0, 255)  # a black stroke
    grey = to_grey(decode(png(rgba)))
    assert grey[0, 0] == 255 and grey[60, 60] == 0
    assert prepare_bytes(png(rgba)).image is not None


def test_sixteen_bit_png_is_scaled_not_clipped():
    a = (digit_one().astype(np.uint16) * 257)
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="PNG")
    assert Image.open(io.BytesIO(buf.getvalue())).mode.startswith("I")
    grey = to_grey(decode(buf.getvalue()))
    assert grey.dtype == np.uint8 and grey.max() == 255 and grey.min() == 0


def test_cmyk_jpeg_decodes():
    buf = io.BytesIO()
    Image.fromarray(digit_one()).convert("CMYK").save(buf, format="JPEG", quality=95)
    grey = to_grey(decode(buf.getvalue()))
    assert grey.ndim == 2 and grey[0, 0] > 200 and grey[100, 75] < 60


def test_animated_gif_uses_the_first_frame():
    frames = [Image.fromarray(digit_one()), Image.fromarray(np.full((200, 150), 255, np.uint8))]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    grey = to_grey(decode(buf.getvalue()))
    assert grey[100, 75] < 60  # the digit of frame one, not the blank frame two


def test_exif_orientation_is_applied():
    a = digit_one((100, 300))  # wide image
    image = Image.fromarray(a)
    exif = image.getexif()
    exif[0x0112] = 6  # rotate 90° clockwise when displayed
    buf = io.BytesIO()
    image.save(buf, format="JPEG", exif=exif.tobytes())
    assert decode(buf.getvalue()).shape[:2] == (300, 100)


def test_huge_jpeg_is_decoded_small_and_fast():
    big = np.full((6000, 8000), 255, np.uint8)
    big[1000:5000, 3800:4200] = 0
    buf = io.BytesIO()
    Image.fromarray(big).save(buf, format="JPEG", quality=70)
    out = decode(buf.getvalue())
    assert max(out.shape) <= WORK_SIDE


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + \
        chunk(b"IEND", b"")


@pytest.mark.parametrize("data, message", [
    (b"", "empty"),
    (b"hello, I am a text file\n", "not a recognised image"),
    (_png_header_only(60000, 60000), "MP limit"),  # a decompression bomb: 3.6 gigapixels declared
    (png(digit_one())[:150], "corrupt or truncated"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "corrupt|not a recognised"),
    (b"GIF89a" + b"\xff" * 20, "corrupt|not a recognised"),
])
def test_bad_input_is_a_clear_error(data, message):
    with pytest.raises(ImageError, match=message):
        prepare_bytes(data, "upload.png")


def test_bomb_limit_is_above_a_12000_by_9000_photo():
    assert 12000 * 9000 < MAX_PIXELS


@pytest.mark.parametrize("array", [
    np.full((1, 1), 0, np.uint8), np.full((1, 1), 255, np.uint8),
    np.full((300, 300), 255, np.uint8), np.zeros((300, 300), np.uint8),
    np.full((64, 64, 4), 0, np.uint8),  # fully transparent
])
def test_blank_images_give_no_digit(array):
    assert prepare_bytes(png(array)).image is None
