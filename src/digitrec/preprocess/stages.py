"""The named stages that turn a grey image of one digit into what an MNIST model expects.

MNIST digits are bright ink on black, anti-aliased, scaled so the longer side of the digit is 20 px
(aspect ratio kept), and placed in a 28×28 frame with the centre of mass at the centre. Each stage below is
a pure function on uint8 arrays; :mod:`digitrec.preprocess.pipeline` chains them.
"""

from __future__ import annotations

import cv2
import numpy as np

MNIST_SIZE = 28
MNIST_BOX = 20
MNIST_STROKE = 0.12  # stroke width / digit height in MNIST (median 2.4 px for a 20 px digit)
MIN_CONTRAST = 48  # grey levels between paper and ink below which an image is treated as blank


def percentiles(image: np.ndarray, qs: tuple[float, ...]) -> list[int]:
    """Percentiles of a uint8 image from its histogram: far cheaper than sorting the pixels."""
    cumulative = np.cumsum(np.bincount(image.ravel(), minlength=256))
    return [int(np.searchsorted(cumulative, q / 100.0 * (cumulative[-1] - 1), side="right")) for q in qs]


def ink_is_dark(grey: np.ndarray) -> bool:
    """True for dark ink on light paper. Ink is the minority of pixels, so it pulls the mean away from the
    median towards its side; this holds under uneven light. A tie falls back to the border, mostly paper."""
    median = percentiles(grey, (50,))[0]
    mean = float(grey.mean())
    if abs(mean - median) > 1.0:
        return mean < median
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    return float(np.median(border)) >= 128


def orient(grey: np.ndarray) -> np.ndarray:
    """Ink polarity: return the image as bright ink on a dark background, whatever it was."""
    return cv2.bitwise_not(grey) if ink_is_dark(grey) else grey


def flatten_light(ink: np.ndarray) -> np.ndarray:
    """Illumination correction: subtract a background estimate (morphological opening at a scale larger
    than strokes), so shadows and uneven light on paper do not look like ink."""
    h, w = ink.shape
    small_scale = max(1, max(h, w) // 256)  # estimate the background on a reduced copy: it is smooth
    small = cv2.resize(ink, (max(1, w // small_scale), max(1, h // small_scale)), interpolation=cv2.INTER_AREA)
    k = max(3, (min(small.shape) // 6) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    background = cv2.morphologyEx(small, cv2.MORPH_OPEN, kernel)
    background = cv2.GaussianBlur(background, (0, 0), k / 4)
    if small_scale > 1:
        background = cv2.resize(background, (w, h), interpolation=cv2.INTER_LINEAR)
    return cv2.subtract(ink, background)


def stretch(ink: np.ndarray) -> np.ndarray:
    """Contrast: map the background level to 0 and the strong ink level to 255."""
    lo, hi = percentiles(ink, (50, 99.7))
    if hi - lo < 1:
        return np.zeros_like(ink)
    scaled = (ink.astype(np.float32) - lo) * (255.0 / (hi - lo))
    return np.clip(scaled, 0, 255).astype(np.uint8)


def ink_mask(ink: np.ndarray, min_contrast: int = MIN_CONTRAST) -> np.ndarray | None:
    """Binarization (Otsu) of bright ink; None when there is no ink at all (a blank page or canvas)."""
    lo, hi = percentiles(ink, (50, 99.9))
    if hi - lo < min_contrast:
        return None
    threshold, mask = cv2.threshold(ink, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    if threshold < lo + min_contrast / 2:  # Otsu split the paper's noise, not ink from paper
        _, mask = cv2.threshold(ink, int(lo + min_contrast / 2), 255, cv2.THRESH_BINARY)
    return mask


def denoise(mask: np.ndarray, keep_fraction: float = 0.06) -> np.ndarray | None:
    """Drop specks: connected components smaller than ``keep_fraction`` of the largest one, and single
    pixels. Returns None when nothing is left."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n <= 1:
        return None
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = np.flatnonzero(areas >= max(2, keep_fraction * areas.max())) + 1
    if keep.size == 0:
        return None
    if keep.size == n - 1:
        return mask
    return np.where(np.isin(labels, keep), 255, 0).astype(np.uint8)


def crop(ink: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Crop ink and mask to the bounding box of the ink; ink outside the (slightly grown) mask is zeroed."""
    x, y, w, h = cv2.boundingRect(mask)
    grown = cv2.dilate(mask[y : y + h, x : x + w], np.ones((3, 3), np.uint8))
    return cv2.bitwise_and(ink[y : y + h, x : x + w], grown), mask[y : y + h, x : x + w]


def stroke_width(mask: np.ndarray) -> float:
    """Mean stroke width in pixels, 2·area/perimeter (for a long stroke, perimeter ≈ 2·length)."""
    contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    perimeter = sum(cv2.arcLength(c, True) for c in contours)
    return 2.0 * cv2.countNonZero(mask) / max(perimeter, 1.0)


def normalize_stroke(ink: np.ndarray, mask: np.ndarray, target: float = MNIST_STROKE,
                     work: int = 64) -> np.ndarray:
    """Stroke-width normalization: thicken hairlines (a 2 px pen on a big canvas) and thin marker strokes
    toward MNIST's stroke/height ratio, working on a copy reduced to about ``work`` px."""
    h, w = ink.shape
    scale = work / max(h, w)
    if scale < 1:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        ink = cv2.resize(ink, size, interpolation=cv2.INTER_AREA)
        mask = cv2.threshold(ink, 96, 255, cv2.THRESH_BINARY)[1]
        h, w = ink.shape
    if cv2.countNonZero(mask) == 0:
        return ink
    width = stroke_width(mask)
    want = target * max(h, w)
    k = int(round(want - width))
    if k >= 1:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k + 1, k + 1))
        ink = cv2.dilate(ink, kernel)
    elif width > 1.8 * want:
        k = int(round((width - want) / 2)) * 2 + 1
        ink = cv2.erode(ink, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    return ink


def deskew(ink: np.ndarray) -> np.ndarray:
    """Shear the digit upright using its second-order image moments (the classic MNIST deskew)."""
    m = cv2.moments(ink)
    if abs(m["mu02"]) < 1e-2:
        return ink
    skew = m["mu11"] / m["mu02"]
    h, w = ink.shape
    pad = int(abs(skew) * h / 2) + 1
    cy = m["m01"] / max(m["m00"], 1e-6)
    matrix = np.float32([[1, -skew, skew * cy + pad], [0, 1, 0]])  # x' = x - skew·(y - cy)
    return cv2.warpAffine(ink, matrix, (w + 2 * pad, h), flags=cv2.INTER_LINEAR)


def fit(ink: np.ndarray, box: int = MNIST_BOX) -> np.ndarray:
    """Scale so the longer side is ``box`` px, keeping the aspect ratio (a '1' stays thin)."""
    h, w = ink.shape
    scale = box / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(ink, size, interpolation=interpolation)


def centre(ink: np.ndarray, size: int = MNIST_SIZE) -> np.ndarray:
    """Place the digit in a ``size``×``size`` frame with its centre of mass at the centre."""
    h, w = ink.shape
    m = cv2.moments(ink)
    cx, cy = (m["m10"] / m["m00"], m["m01"] / m["m00"]) if m["m00"] > 0 else (w / 2, h / 2)
    shift_x, shift_y = size / 2 - cx, size / 2 - cy
    # keep the whole digit in the frame even when the centre of mass is far off-centre
    shift_x = min(max(shift_x, 0.0), float(size - w)) if w <= size else shift_x
    shift_y = min(max(shift_y, 0.0), float(size - h)) if h <= size else shift_y
    matrix = np.float32([[1, 0, shift_x], [0, 1, shift_y]])
    return cv2.warpAffine(ink, matrix, (size, size), flags=cv2.INTER_LINEAR, borderValue=0)
