"""The Recognizer: verified loading, arrays and images in, one answer per image out."""

from __future__ import annotations

import io
import json
import shutil

import numpy as np
import pytest
from PIL import Image

from digitrec.errors import ImageError, ModelError
from digitrec.inference import Recognizer


def as_photo_png(digit28: np.ndarray, size: int = 200) -> bytes:
    """An MNIST digit as a user would hand it over: dark ink on white, larger, PNG."""
    image = Image.fromarray(255 - digit28).resize((size, size), Image.Resampling.BICUBIC)
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def test_predict_arrays_accepts_uint8_and_float(tiny_model, mnist_test):
    rec = Recognizer(tiny_model)
    p8 = rec.predict_arrays(mnist_test.images[:64])
    pf = rec.predict_arrays(mnist_test.images[:64, None].astype(np.float32) / 255)
    assert p8.shape == (64, 10) and np.allclose(p8, pf, atol=1e-6)
    assert np.allclose(p8.sum(1), 1, atol=1e-5)
    assert (p8.argmax(1) == mnist_test.labels[:64]).mean() > 0.8
    with pytest.raises(ImageError, match="shape"):
        rec.predict_arrays(np.zeros((3, 32, 32)))


def test_images_go_through_the_pipeline(tiny_model, mnist_test):
    rec = Recognizer(tiny_model)
    hits = sum(rec.predict_bytes(as_photo_png(mnist_test.images[i])).digit == mnist_test.labels[i]
               for i in range(30))
    assert hits >= 24


def test_blank_and_unsure_answers_are_null(tiny_model):
    blank = io.BytesIO()
    Image.new("L", (280, 280), 255).save(blank, format="PNG")
    answer = Recognizer(tiny_model).predict_bytes(blank.getvalue(), "blank.png")
    assert answer.digit is None and answer.to_json()["digit"] is None
    assert json.loads(json.dumps(answer.to_json()))["probabilities"] == [0.0] * 10
    strict = Recognizer(tiny_model, min_confidence=1.0)
    canvas = np.full((100, 100), 255, np.uint8)
    canvas[20:80, 45:55] = 0
    buf = io.BytesIO()
    Image.fromarray(canvas).save(buf, format="PNG")
    unsure = strict.predict_bytes(buf.getvalue())
    assert unsure.digit is None and unsure.confidence > 0


def test_tampered_model_is_refused(tiny_model, tmp_path):
    copy = tmp_path / "m"
    shutil.copytree(tiny_model, copy)
    data = bytearray((copy / "model.onnx").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (copy / "model.onnx").write_bytes(bytes(data))
    with pytest.raises(ModelError, match="checksum mismatch"):
        Recognizer(copy)


def test_incomplete_or_hostile_model_dirs_are_refused(tiny_model, tmp_path):
    with pytest.raises(ModelError, match="no such model"):
        Recognizer(tmp_path / "missing")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelError, match="metadata.json"):
        Recognizer(empty)
    hostile = tmp_path / "hostile"
    shutil.copytree(tiny_model, hostile)
    meta = json.loads((hostile / "metadata.json").read_text())
    meta["files"]["../../etc/passwd"] = "0" * 64
    (hostile / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="outside the model directory"):
        Recognizer(hostile)
    (hostile / "metadata.json").write_text("{ not json")
    with pytest.raises(ModelError, match="unreadable"):
        Recognizer(hostile)
    with pytest.raises(ModelError, match="int8"):
        Recognizer(tiny_model, precision="int8")


def test_arrays_as_notebooks_hold_them(mnist_test):
    """What the lessons' notebooks hand over: x_test / 255 (float in [0, 1]), Keras' (28, 28, 1), uint8,
    16-bit, a bool mask, RGB, nested lists, a transparent RGBA canvas — the same digit each time; a shape
    that is no image is one ImageError."""
    rec = Recognizer()
    for i in range(20):
        digit, label = mnist_test.images[i], mnist_test.labels[i]
        canvas = np.zeros((28, 28, 4), np.uint8)
        canvas[..., 3] = digit  # black ink on a transparent canvas, as a browser's canvas holds it
        forms = [digit, digit / 255.0, (digit / 255.0).astype(np.float32)[..., None], digit.astype(np.uint16) * 257,
                 digit > 127, np.stack([digit] * 3, axis=-1), digit.tolist(), canvas]
        answers = [rec.predict_grey(form).digit for form in forms]
        assert answers.count(label) >= 7, (i, label, answers)  # the bool mask may lose a faint stroke
    for bad in (np.zeros((0, 0)), np.zeros(28), np.zeros((28, 28, 2)), np.zeros((28, 28), complex),
                [[1, 2], [3]]):
        with pytest.raises(ImageError, match="image"):
            rec.predict_grey(bad)


def test_scans_of_other_sizes_even_cropped_to_the_ink(mnist_test):
    """Digits scanned at other resolutions, with a margin or cropped so tightly the strokes touch the edges
    (then the ink can cover most of the image and the paper estimate needs the fallback hypotheses)."""
    import cv2

    rec = Recognizer()
    hits = total = 0
    for i in range(40):
        digit = mnist_test.images[i]
        ys, xs = np.nonzero(digit > 30)
        for crop, size in ((digit, 48), (digit[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1], 64)):
            h, w = crop.shape
            scale = size / max(h, w)
            scan = cv2.resize(crop, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_CUBIC)
            buf = io.BytesIO()
            Image.fromarray(255 - scan).save(buf, format="PNG")
            hits += rec.predict_bytes(buf.getvalue()).digit == mnist_test.labels[i]
            total += 1
    assert hits >= 0.95 * total


def test_digits_written_in_a_printed_box(mnist_test):
    """A form's field: the digit inside a thin rectangle, not touching it. The box is not the digit."""
    import cv2

    rec = Recognizer()
    hits = 0
    for i in range(20):
        page = np.full((200, 200), 255, np.uint8)
        page[40:160, 40:160] = 255 - cv2.resize(mnist_test.images[i], (120, 120), interpolation=cv2.INTER_CUBIC)
        cv2.rectangle(page, (20, 20), (180, 180), 0, 2)
        buf = io.BytesIO()
        Image.fromarray(page).save(buf, format="PNG")
        hits += rec.predict_bytes(buf.getvalue()).digit == mnist_test.labels[i]
    assert hits >= 19


def test_real_handwriting_scanned_at_8_px():
    """Independent real handwriting: scikit-learn's 1 797 digits of 43 writers (UCI optdigits), each an
    8×8 scan with 17 grey levels — far from MNIST in size and look. Read as dark ink on white."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    rec = Recognizer(threads=2)
    hits = 0
    for image, label in zip(digits.images, digits.target):
        buf = io.BytesIO()
        Image.fromarray((255 - image * (255 / 16)).astype(np.uint8)).save(buf, format="PNG")
        hits += rec.predict_bytes(buf.getvalue()).digit == label
    assert hits >= 0.96 * len(digits.target), hits / len(digits.target)


def test_bundled_model_meets_its_numbers(mnist_test):
    """The model `predict` and `serve` use by default: the robust one, ≥ 99.5 % on MNIST test, int8 within
    0.1 points of it, and small enough to ship (≤ 2 MB, every file of it)."""
    from digitrec.modeldir import BUNDLED

    labels = mnist_test.labels
    fp32 = Recognizer(threads=2)
    assert fp32.meta.name == "robust"
    accuracy = float((fp32.predict_arrays(mnist_test.images).argmax(1) == labels).mean())
    int8 = float((Recognizer(precision="int8", threads=2).predict_arrays(mnist_test.images).argmax(1) == labels).mean())
    assert len(labels) == 10_000 and accuracy >= 0.995, accuracy
    assert accuracy - int8 <= 0.001, (accuracy, int8)
    assert sum(f.stat().st_size for f in BUNDLED.iterdir()) <= 2 * 1024 * 1024
