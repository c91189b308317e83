"""Examples of what is *not* one digit, for models that learn to say so (an extra "no digit" class).

A recognizer meets two digits run together (while reading a number), letters and scribbles. Pieces of
digits are left out on purpose: half an 8 is a fine 3, and teaching the model otherwise would hurt. Each negative is made with the real preprocessing (``to_model_input``), so it looks exactly
like what the model will be shown in use.
"""

from __future__ import annotations

import cv2
import numpy as np

from digitrec.preprocess.segment import to_model_input

# Letters that do not look like a digit in handwriting (no O/o, l/I, S/s, Z/z, B, G, b, g, q, ...).
LETTERS = "ACEHKMNPRUVWXacehkmnruvwx"
FONTS = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX,
         cv2.FONT_HERSHEY_TRIPLEX, cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, cv2.FONT_HERSHEY_SCRIPT_COMPLEX)


def _big(digit: np.ndarray) -> np.ndarray:
    return cv2.resize(digit, (84, 84), interpolation=cv2.INTER_CUBIC)


def pair(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Two digits run together (touching or nearly), as an unsplit blob looks."""
    a, b = _big(a), _big(b)
    cols_a, cols_b = np.flatnonzero(a.max(0) > 60), np.flatnonzero(b.max(0) > 60)
    if cols_a.size == 0 or cols_b.size == 0:
        return a
    a, b = a[:, cols_a[0] : cols_a[-1] + 1], b[:, cols_b[0] : cols_b[-1] + 1]
    overlap = int(rng.uniform(-0.05, 0.2) * 84)
    width = a.shape[1] + b.shape[1] - overlap
    out = np.zeros((84, max(width, a.shape[1], b.shape[1])), np.uint8)
    out[:, : a.shape[1]] = a
    start = a.shape[1] - overlap
    region = out[:, start : start + b.shape[1]]
    out[:, start : start + b.shape[1]] = np.maximum(region, b[:, : region.shape[1]])
    return out


def letter(rng: np.random.Generator) -> np.ndarray:
    canvas = np.zeros((120, 120), np.uint8)
    text = LETTERS[rng.integers(len(LETTERS))]
    font = FONTS[rng.integers(len(FONTS))]
    scale = rng.uniform(2.0, 3.2)
    thickness = int(rng.integers(2, 9))
    (w, h), _ = cv2.getTextSize(text, font, scale, thickness)
    cv2.putText(canvas, text, ((120 - w) // 2, (120 + h) // 2), font, scale, 255, thickness, cv2.LINE_AA)
    m = cv2.getRotationMatrix2D((60, 60), rng.uniform(-15, 15), 1.0)
    m[0, 1] += rng.uniform(-0.3, 0.3)
    return cv2.warpAffine(canvas, m, (120, 120))


def scribble(rng: np.random.Generator) -> np.ndarray:
    """A tangle: many sharp turns and crossings, unlike any digit's few strokes."""
    canvas = np.zeros((100, 100), np.uint8)
    points = np.cumsum(rng.normal(0, 18, (int(rng.integers(8, 16)), 2)), axis=0)
    points = (points - points.min(0)) / max(np.ptp(points, 0).max(), 1) * 80 + 10
    cv2.polylines(canvas, [points.astype(np.int32)], False, 255, int(rng.integers(2, 7)), cv2.LINE_AA)
    return canvas


def make_negatives(images: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """``n`` MNIST-style 28×28 uint8 negatives from digit ``images`` (bright on dark): 60 % pairs of
    digits, 28 % letters, 12 % scribbles."""
    rng = np.random.default_rng(seed)
    out = np.zeros((n, 28, 28), np.uint8)
    i = 0
    while i < n:
        r = rng.random()
        if r < 0.60:
            raw = pair(images[rng.integers(len(images))], images[rng.integers(len(images))], rng)
        elif r < 0.88:
            raw = letter(rng)
        else:
            raw = scribble(rng)
        model_input = to_model_input(raw)
        if model_input is None:
            continue
        out[i] = np.round(model_input * 255).astype(np.uint8)
        i += 1
    return out
