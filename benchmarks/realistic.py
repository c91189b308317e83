"""Realistic test input built from MNIST *test* digits: canvas drawings, photos of paper, digit strings.

Each generator turns an MNIST digit into what a user would actually hand the recognizer: the digit's
skeleton is re-drawn with a pen of some width (so stroke width varies independently of size), then placed
on a canvas or on photographed paper. Only test digits are used, so nothing here was seen in training.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image
from skimage.morphology import medial_axis


@dataclass
class Sample:
    data: bytes  # an encoded image file, as a user would upload it
    label: str  # the digit, or the digit string
    kind: str
    parts: list[np.ndarray] = field(default_factory=list, repr=False)  # a string's digits as drawn, one by one
    touching: bool = False


def holes(mask: np.ndarray, min_fraction: float = 0.004) -> int:
    """Enclosed background regions (the loops of 0, 6, 8, 9) bigger than a speck."""
    contours, hierarchy = cv2.findContours(mask.astype(np.uint8), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return 0
    least = min_fraction * mask.size
    return sum(1 for c, h in zip(contours, hierarchy[0]) if h[3] != -1 and cv2.contourArea(c) >= least)


def parts(mask: np.ndarray, min_fraction: float = 0.002) -> int:
    """Separate pieces of ink bigger than a speck."""
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    return int((stats[1:, cv2.CC_STAT_AREA] >= min_fraction * mask.size).sum())


def topology(mask: np.ndarray) -> tuple[int, int]:
    return holes(mask, 0.002), parts(mask)


def pen_digit(digit28: np.ndarray, height: int, pen: float, rng: np.random.Generator) -> np.ndarray:
    """Re-draw an MNIST digit ``height`` px tall with a round pen ``pen`` px wide; float ink in [0, 1].

    The pen follows the digit's medial axis. A writer keeps a digit's loops open and its strokes joined, so
    when the chosen pen would change the digit's topology (fill a loop, lose a blob, break a stroke) it is
    tried thinner, and failing that the digit is drawn with the writer's own stroke, scaled."""
    big = cv2.resize(digit28, (112, 112), interpolation=cv2.INTER_CUBIC).astype(np.float32) / 255
    shape = cv2.GaussianBlur(big, (0, 0), 1.5) > 0.45  # a smoothed 4× copy: fewer spurs than at 28 px
    want = topology(shape)
    size = int(round(28 * height / 20.0))
    angle, shear = rng.uniform(-8, 8), rng.uniform(-0.15, 0.15)  # real writers rotate and slant
    for _ in range(3):
        ink = _pen(shape, size, pen)
        if topology(cv2.resize(ink, (112, 112), interpolation=cv2.INTER_AREA) > 0.5) == want:
            break
        pen *= 0.7
    else:
        ink = np.clip(cv2.resize(big, (size, size), interpolation=cv2.INTER_CUBIC), 0, 1)
    m = cv2.getRotationMatrix2D((size / 2, size / 2), angle, 1.0)
    m[0, 1] += shear
    return cv2.warpAffine(ink, m, (size, size), flags=cv2.INTER_LINEAR, borderValue=0)


def _pen(shape: np.ndarray, size: int, pen: float) -> np.ndarray:
    skeleton, distance = medial_axis(shape, return_distance=True, rng=0)
    f = size / shape.shape[0]
    ss = 2  # supersample for smooth anti-aliased strokes
    ys, xs = np.nonzero(skeleton)
    canvas = np.zeros((size * ss, size * ss), np.uint8)
    if ys.size:
        # One pen, but where the writer's stroke was much wider (a loop inked solid) it stays wider:
        # the local width follows the original's, softened by a square root.
        radii = distance[ys, xs]
        scale = np.sqrt(radii / max(float(np.median(radii)), 1e-3))
        for y, x, k in zip(ys, xs, scale):
            radius = max(1, int(round(pen * ss / 2 * k)))
            cv2.circle(canvas, (int(x * f * ss), int(y * f * ss)), radius, 255, -1, cv2.LINE_AA)
    return cv2.resize(canvas, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0


def trim(ink: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(ink > 0.05)
    if ys.size == 0:
        return ink
    return ink[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]


def encode(rgb_or_grey: np.ndarray, fmt: str = "PNG", **kw) -> bytes:
    """The image as file bytes (PNG unless ``fmt`` says otherwise; ``kw`` as Pillow's save takes them)."""
    buf = io.BytesIO()
    Image.fromarray(rgb_or_grey).save(buf, format=fmt, **kw)
    return buf.getvalue()


def canvas_drawing(digit28: np.ndarray, rng: np.random.Generator, side: int = 280) -> bytes:
    """A digit drawn with the mouse or a pen into a 280×280 canvas: random size and position, stroke
    width from hairline to marker, exported as the browser does (black strokes on transparent RGBA)."""
    height = int(rng.uniform(0.3, 0.9) * side)
    pen = rng.uniform(2, 0.16 * height + 2)
    ink = trim(pen_digit(digit28, height, pen, rng))
    h, w = ink.shape
    if h > side or w > side:
        f = side / max(h, w) * 0.95
        ink = cv2.resize(ink, (max(1, int(w * f)), max(1, int(h * f))), interpolation=cv2.INTER_AREA)
        h, w = ink.shape
    y, x = rng.integers(0, side - h + 1), rng.integers(0, side - w + 1)
    alpha = np.zeros((side, side), np.float32)
    alpha[y : y + h, x : x + w] = ink
    rgba = np.zeros((side, side, 4), np.uint8)
    rgba[..., 3] = np.round(alpha * 255).astype(np.uint8)
    if rng.random() < 0.3:  # some pages fill the canvas white first
        rgb = np.round(255 * (1 - alpha)).astype(np.uint8)
        return encode(np.dstack([rgb, rgb, rgb]))
    return encode(rgba)


INKS = [(20, 20, 25), (25, 40, 140), (30, 30, 90), (150, 25, 25), (40, 90, 40)]  # black, blue, navy, red, green


@dataclass(frozen=True)
class NotebookLines:
    """A notebook's printed lines: ``kind`` "ruled" (across) or "squared" (a grid), ``spacing`` times the
    writing's height apart, of an RGB ``colour`` (as printed on white paper)."""

    kind: str
    spacing: float
    colour: tuple[int, int, int]

    def drawn(self, shape: tuple[int, int], angle: float, height: int, rng: np.random.Generator) -> np.ndarray:
        """Where the lines are (float, 1 on a line) on a page ``shape`` turned by ``angle`` degrees, under
        writing ``height`` px high: 1–2.5 px wide for a 500 px photo, running off every edge."""
        h, w = shape
        step = max(8, round(self.spacing * height))
        thickness = max(1, round(rng.uniform(1, 2.5) * max(h, w) / 500))
        side = 3 * max(h, w)  # a larger sheet, turned, then cut to the photo
        sheet = np.zeros((side, side), np.float32)
        for y in range(int(rng.integers(step)), side, step):
            sheet[y : y + thickness] = 1
        if self.kind == "squared":
            for x in range(int(rng.integers(step)), side, step):
                sheet[:, x : x + thickness] = 1
        m = cv2.getRotationMatrix2D((side / 2, side / 2), angle, 1.0)
        m[:, 2] -= (side / 2 - w / 2, side / 2 - h / 2)
        return cv2.warpAffine(sheet, m, (w, h), flags=cv2.INTER_AREA)


def paper_photo(ink: np.ndarray, rng: np.random.Generator, size: tuple[int, int] | None = None,
                lines: NotebookLines | None = None) -> bytes:
    """Ink (float, [0,1]) on paper, photographed: uneven light, shadow, tint, noise, blur, rotation, JPEG;
    on a notebook's printed ``lines`` if given."""
    h, w = size or (int(rng.integers(360, 720)), int(rng.integers(360, 720)))
    ih, iw = ink.shape
    f = min(1.0, 0.8 * min(h / ih, w / iw))  # leave room for the rotation below
    if f < 1.0:
        ink = cv2.resize(ink, (max(1, int(iw * f)), max(1, int(ih * f))), interpolation=cv2.INTER_AREA)
        ih, iw = ink.shape
    alpha = np.zeros((h, w), np.float32)
    my, mx = (h - ih) // 10, (w - iw) // 10
    y, x = rng.integers(my, h - ih - my + 1), rng.integers(mx, w - iw - mx + 1)
    alpha[y : y + ih, x : x + iw] = ink
    angle = rng.uniform(-6, 6)
    m = cv2.getRotationMatrix2D((x + iw / 2, y + ih / 2), angle, 1.0)
    alpha = cv2.warpAffine(alpha, m, (w, h), borderValue=0)
    paper = np.array([rng.uniform(200, 250), rng.uniform(195, 245), rng.uniform(180, 240)], np.float32)
    if lines is not None:  # printed on the paper, turned with it
        ruled = lines.drawn((h, w), angle, ih, rng)[..., None]
        paper = paper[None, None] * (1 - ruled) + np.array(lines.colour, np.float32) * paper / 245 * ruled
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    gx, gy = rng.uniform(-1, 1, 2)
    light = 1 + 0.35 * (gx * (xx / w - 0.5) + gy * (yy / h - 0.5))  # light falls off across the page
    if rng.random() < 0.5:  # a soft shadow of the phone or the hand
        cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.3, 0.8) * max(h, w)
        light -= 0.35 * np.exp(-(((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r)))
    light = np.clip(light, 0.35, 1.2)
    ink_rgb = np.array(INKS[rng.integers(len(INKS))], np.float32)
    strength = rng.uniform(0.75, 1.0)
    image = paper * (1 - strength * alpha[..., None]) + ink_rgb * strength * alpha[..., None]
    image = image * light[..., None]
    image += rng.normal(0, rng.uniform(2, 8), image.shape)
    image = np.clip(image, 0, 255).astype(np.uint8)
    k = rng.choice([0, 3, 5])
    if k:
        image = cv2.GaussianBlur(image, (k, k), 0)
    return encode(image, "JPEG", quality=int(rng.integers(55, 92)))


def photo_of_digit(digit28: np.ndarray, rng: np.random.Generator, lines: NotebookLines | None = None) -> bytes:
    height = int(rng.uniform(80, 300))
    ink = trim(pen_digit(digit28, height, rng.uniform(0.06, 0.16) * height, rng))
    return paper_photo(ink, rng, lines=lines)


def digit_string(digits: list[np.ndarray], rng: np.random.Generator, touching: bool, photo: bool) -> bytes:
    """2-8 digits written in a row: random gaps, or touching (overlapping strokes) when ``touching``."""
    return draw_string(digits, rng, touching, photo)[0]


def draw_string(digits: list[np.ndarray], rng: np.random.Generator, touching: bool,
                photo: bool, lines: NotebookLines | None = None) -> tuple[bytes, list[np.ndarray]]:
    """:func:`digit_string`, and also each digit's ink as drawn (float, [0, 1]), to tell segmentation errors
    from recognition errors."""
    height = int(rng.uniform(50, 110))
    pen = rng.uniform(0.08, 0.16) * height
    inks = [trim(pen_digit(d, height, pen, rng)) for d in digits]
    total_h = max(i.shape[0] for i in inks) + 2 * height // 2
    gaps = [(-int(rng.uniform(0.02, 0.12) * height) if touching and rng.random() < 0.6 else
             int(rng.uniform(0.08, 0.5) * height)) for _ in inks]
    width = sum(i.shape[1] for i in inks) + sum(max(g, 0) for g in gaps) + height
    line = np.zeros((total_h, width), np.float32)
    x = height // 2
    for ink, gap in zip(inks, gaps):
        h, w = ink.shape
        y = (total_h - h) // 2 + int(rng.integers(-height // 10, height // 10 + 1))
        y = min(max(y, 0), total_h - h)
        line[y : y + h, x : x + w] = np.maximum(line[y : y + h, x : x + w], ink)
        x += w + gap
    line = trim(line)
    if photo:
        pad_h, pad_w = int(line.shape[0] * rng.uniform(1.6, 3)), int(line.shape[1] * rng.uniform(1.15, 1.5))
        return paper_photo(line, rng, (pad_h, pad_w), lines), inks
    pad = height // 2
    canvas = np.pad(line, pad)
    grey = np.round(255 * (1 - canvas)).astype(np.uint8)
    return encode(grey), inks


def make_sets(images: np.ndarray, labels: np.ndarray, n: int, seed: int = 0) -> dict[str, list[Sample]]:
    """``n`` samples of each kind from the given (test) digits."""
    rng = np.random.default_rng(seed)
    pick = lambda: int(rng.integers(len(labels)))  # noqa: E731
    sets: dict[str, list[Sample]] = {"canvas": [], "photo": [], "string": []}
    for _ in range(n):
        i = pick()
        sets["canvas"].append(Sample(canvas_drawing(images[i], rng), str(labels[i]), "canvas"))
        i = pick()
        sets["photo"].append(Sample(photo_of_digit(images[i], rng), str(labels[i]), "photo"))
        idx = [pick() for _ in range(int(rng.integers(2, 9)))]
        touching = rng.random() < 0.25
        data, parts = draw_string([images[j] for j in idx], rng, touching, photo=rng.random() < 0.5)
        sets["string"].append(Sample(data, "".join(str(labels[j]) for j in idx), "string", parts, touching))
    return sets
