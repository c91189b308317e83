"""Decoding whatever users send: every format quirk and every kind of broken or hostile file."""

from __future__ import annotations

import importlib
import io
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from conftest import heic
from digitrec.errors import ImageError
from digitrec.preprocess import decode, prepare_bytes, read_bytes, to_grey
from digitrec.preprocess.decode import MAX_PIXELS, WORK_SIDE, decode_sized

decode_module = importlib.import_module("digitrec.preprocess.decode")  # the package exports a function of that name


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


def test_white_pen_on_a_transparent_canvas_is_composited_on_black():
    """A page that styles its canvas black with CSS and draws with a white pen exports white strokes on
    transparency: on white paper they would vanish."""
    rgba = np.zeros((120, 120, 4), np.uint8)
    rgba[20:100, 55:65] = (255, 255, 255, 255)
    grey = to_grey(decode(png(rgba)))
    assert grey[0, 0] == 0 and grey[60, 60] == 255
    assert prepare_bytes(png(rgba)).image is not None


def _half_transparent(*ink: int) -> np.ndarray:
    return np.array([[[*ink, 128]]], np.uint8).repeat(10, 0).repeat(10, 1)


@pytest.mark.parametrize("data, expected", [
    (png(_half_transparent(0, 0, 0)), 127),  # a half-transparent black pen: grey, one plane
    (png(_half_transparent(0, 128)[..., :2], mode="LA"), 127),  # the same as grey + alpha (Pillow's path)
    (png(_half_transparent(200, 100, 0)), (227, 177, 127)),  # orange: each channel halfway to white
])
def test_half_transparent_ink_is_blended_with_white(data, expected):
    decoded = decode(data)
    assert decoded.ndim == (2 if isinstance(expected, int) else 3)
    assert np.abs(decoded[5, 5].astype(int) - np.array(expected)).max() <= 1


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


def test_iphone_heic_photo_is_read_turned_as_displayed():
    a = digit_one((100, 300))  # wide image, the stroke upright in its middle
    grey, original = decode_sized(heic(a, orientation=6), "IMG_0001.HEIC")
    assert grey.shape[:2] == (300, 100) and original == (100, 300)  # turned once, not twice
    rows, columns = np.nonzero(to_grey(grey) < 60)
    assert np.ptp(columns) > 2 * np.ptp(rows)  # the upright stroke now runs across


def test_heic_is_read_without_any_setup(tmp_path):
    photo = tmp_path / "IMG_0003.HEIC"
    photo.write_bytes(heic(digit_one()))
    read = subprocess.run([sys.executable, "-c", "import sys; from digitrec.preprocess import decode; "
                           "print(decode(open(sys.argv[1], 'rb').read()).shape)", str(photo)],
                          capture_output=True, text=True, timeout=120)
    assert read.returncode == 0 and read.stdout.strip() == "(200, 150, 3)", read.stderr


def test_damaged_heic_is_one_clear_line():
    data = heic(digit_one())
    for cut in (data[: len(data) // 2], data[:60]):
        with pytest.raises(ImageError, match="corrupt or truncated|not a recognised") as error:
            decode(cut, "IMG_0002.HEIC")
        assert "\n" not in str(error.value)


def test_huge_jpeg_is_decoded_small_and_fast():
    big = np.full((6000, 8000), 255, np.uint8)
    big[1000:5000, 3800:4200] = 0
    buf = io.BytesIO()
    Image.fromarray(big).save(buf, format="JPEG", quality=70)
    out = decode(buf.getvalue())
    assert max(out.shape) <= WORK_SIDE


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _grey_png(width: int, height: int, *idat: bytes) -> bytes:
    """An 8-bit grey PNG written chunk by chunk, with the IDAT payloads given."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + b"".join(_chunk(b"IDAT", d) for d in idat) + \
        _chunk(b"IEND", b"")


def _png_header_only(width: int, height: int) -> bytes:
    return _grey_png(width, height, zlib.compress(b"\x00" * 64))


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


def test_files_are_read_up_to_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(decode_module, "MAX_FILE_BYTES", 100)
    (tmp_path / "small.png").write_bytes(b"x" * 100)
    (tmp_path / "big.png").write_bytes(b"x" * 101)
    assert read_bytes(tmp_path / "small.png") == b"x" * 100
    with pytest.raises(ImageError, match="big.png: file is more than"):
        read_bytes(tmp_path / "big.png")
    with pytest.raises(ImageError, match="cannot read: Is a directory"):
        read_bytes(tmp_path)


def test_bomb_limit_is_above_a_12000_by_9000_photo():
    assert 12000 * 9000 < MAX_PIXELS


@pytest.mark.parametrize("array", [
    np.full((1, 1), 0, np.uint8), np.full((1, 1), 255, np.uint8),
    np.full((300, 300), 255, np.uint8), np.zeros((300, 300), np.uint8),
    np.full((64, 64, 4), 0, np.uint8),  # fully transparent
])
def test_blank_images_give_no_digit(array):
    assert prepare_bytes(png(array)).image is None


@settings(max_examples=60, deadline=None)
@given(arrays(np.uint8, st.tuples(st.integers(1, 40), st.integers(1, 40), st.sampled_from([1, 3, 4]))))
def test_canvas_fast_path_decodes_exactly_as_pillow(pixels):
    """8-bit grey/RGB/RGBA PNGs (what canvases export) skip Pillow; the result must not change."""
    data = png(pixels[..., 0] if pixels.shape[2] == 1 else pixels)
    fast = decode_module._decode_plain_png(data, WORK_SIDE)
    assert fast is not None
    reference = decode_module._decode_with_pillow(data, "image", WORK_SIDE)
    assert fast[1] == reference[1] == (pixels.shape[1], pixels.shape[0])
    assert fast[0].shape == reference[0].shape and np.array_equal(fast[0], reference[0])


def test_pixels_split_over_several_idat_chunks_take_the_fast_path():
    rows = np.arange(40 * 30, dtype=np.uint8).reshape(40, 30)
    stream = zlib.compress(b"".join(b"\x00" + row.tobytes() for row in rows))  # filter 0: the rows as they are
    data = _grey_png(30, 40, stream[:7], stream[7:100], stream[100:])
    fast = decode_module._decode_plain_png(data, WORK_SIDE)
    assert fast is not None and np.array_equal(fast[0], rows)


@pytest.mark.parametrize("rows", [b"\x00" * (8 * 9 + 1), b"\x00" * (8 * 9 - 1), b"\x00" * (64 << 20)])
def test_pixels_that_do_not_fill_the_header_exactly_are_not_read_fast(rows):
    """One byte more or less than an 8×8 grey image holds, or a 64 MiB deflate bomb behind a small header:
    the fast path stops inflating at the header's size and leaves the file to Pillow, which must not
    crash on it either."""
    data = _grey_png(8, 8, zlib.compress(rows, 9))
    assert decode_module._decode_plain_png(data, WORK_SIDE) is None
    try:
        assert decode(data).shape == (8, 8)
    except ImageError:
        pass


@pytest.mark.parametrize("size", [0, 1, 65534, 65535, 65536, 2 * 65535, 2 * 65535 + 1, 200_000])
def test_stored_zlib_stream_inflates_to_its_data(size):
    data = np.random.default_rng(size).bytes(size)
    assert zlib.decompress(b"".join(decode_module._stored_zlib(data))) == data


def _damaged(data: bytes) -> bytes:
    """Flip bits in the middle of the pixel data (a copy gone wrong), leaving the structure intact."""
    at = data.index(b"IDAT") + 30
    return data[:at] + bytes([data[at] ^ 0xFF, data[at + 1] ^ 0x55]) + data[at + 2 :]


@pytest.mark.parametrize("data", [
    png(np.zeros((8, 8), np.uint8), mode="P"),  # palette
    png(np.zeros((8, 8, 3), np.uint8), transparency=(0, 0, 0)),  # a transparent colour key
    png(digit_one().astype(np.uint16) * 257),  # 16 bits
    png(np.zeros((8, WORK_SIDE + 1), np.uint8)),  # larger than the work size: Pillow reduces it
    png(digit_one())[:-20],  # truncated
    _damaged(png(digit_one())),  # a chunk that fails its CRC
])
def test_other_pngs_take_pillows_path(data):
    assert decode_module._decode_plain_png(data, WORK_SIDE) is None


def test_damaged_png_is_one_clear_error_and_nothing_on_stderr(capfd):
    with pytest.raises(ImageError, match="corrupt or truncated"):
        decode(_damaged(png(digit_one())), "scan.png")
    assert capfd.readouterr().err == ""  # the one error above, nothing printed by a decoder library
