"""Reading a number: find every digit in an image, left to right, line by line.

Connected components of the ink mask are the candidates. Specks and ruled lines are dropped; pieces of
one digit (a 5's flag, a 4 drawn in two strokes, a broken stroke) are merged when they overlap
horizontally; components too wide for one digit are split where the classifier is most confident
(candidate cuts at ink-projection minima, best path by dynamic programming).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import cv2
import numpy as np

from digitrec.preprocess import stages

# Scores 28×28 float images (N, 28, 28) -> probabilities (N, classes); supplied by the Recognizer.
Classifier = Callable[[np.ndarray], np.ndarray]

MAX_DIGITS_PER_BLOB = 4  # a wide blob is split into at most this many digits
WIDE = 1.15  # width/height above which a blob may hold touching digits


@dataclass
class Blob:
    x: int
    y: int
    w: int
    h: int
    labels: list[int] = field(default_factory=list)  # connected-component ids that make it up

    @property
    def x2(self) -> int:
        return self.x + self.w

    @property
    def y2(self) -> int:
        return self.y + self.h

    def merge(self, other: Blob) -> Blob:
        x, y = min(self.x, other.x), min(self.y, other.y)
        return Blob(x, y, max(self.x2, other.x2) - x, max(self.y2, other.y2) - y, self.labels + other.labels)


@dataclass
class FoundDigit:
    box: tuple[int, int, int, int]  # x, y, w, h in the input image's pixels
    image: np.ndarray  # float32 (28, 28), what the classifier saw
    probabilities: np.ndarray
    line: int


def ink_components(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Bright-ink image, component label map and stats; None when there is no ink."""
    ink = stages.stretch(stages.flatten_light(stages.orient(grey)))
    mask = stages.ink_mask(ink)
    if mask is None:
        return None
    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    return ink, labels, stats


def _blobs(stats: np.ndarray) -> list[Blob]:
    blobs = [Blob(int(s[0]), int(s[1]), int(s[2]), int(s[3]), [i]) for i, s in enumerate(stats) if i > 0]
    if not blobs:
        return []
    areas = np.array([stats[b.labels[0], cv2.CC_STAT_AREA] for b in blobs])
    big = np.array([b.h for b, a in zip(blobs, areas) if a >= 0.1 * areas.max()])
    height = float(np.median(big)) if big.size else 1.0
    kept = []
    for b, area in zip(blobs, areas):
        if b.h < 0.25 * height and b.w < 0.25 * height:  # specks and dots
            continue
        if b.w > 4 * height and b.h < 0.35 * height:  # ruled lines, underlines
            continue
        if area < max(4, 0.02 * areas.max()):
            continue
        kept.append(b)
    return kept


def _lines(blobs: list[Blob]) -> list[list[Blob]]:
    """Group blobs into text lines by vertical overlap, top to bottom."""
    lines: list[list[Blob]] = []
    for b in sorted(blobs, key=lambda b: b.y + b.h / 2):
        for line in lines:
            top, bottom = min(m.y for m in line), max(m.y2 for m in line)
            overlap = min(bottom, b.y2) - max(top, b.y)
            if overlap > 0.4 * min(b.h, bottom - top):
                line.append(b)
                break
        else:
            lines.append([b])
    return [sorted(line, key=lambda b: b.x) for line in lines]


def _merge_pieces(line: list[Blob]) -> list[Blob]:
    """Merge blobs that overlap horizontally: parts of one digit drawn or broken apart."""
    height = float(np.median([b.h for b in line]))
    merged: list[Blob] = []
    for b in line:
        if merged:
            last = merged[-1]
            overlap = min(last.x2, b.x2) - max(last.x, b.x)
            narrow = min(last.w, b.w)
            combined = max(last.x2, b.x2) - min(last.x, b.x)
            if overlap > 0.5 * narrow and combined < 1.1 * height:
                merged[-1] = last.merge(b)
                continue
        merged.append(b)
    return merged


def _digit_image(ink: np.ndarray, labels: np.ndarray, blob: Blob, x0: int | None = None,
                 x1: int | None = None) -> np.ndarray | None:
    """The blob's ink alone (other components masked out), optionally a column range, as MNIST input."""
    x0 = blob.x if x0 is None else x0
    x1 = blob.x2 if x1 is None else x1
    region = labels[blob.y : blob.y2, x0:x1]
    mine = np.isin(region, blob.labels)
    piece = np.where(mine, ink[blob.y : blob.y2, x0:x1], 0).astype(np.uint8)
    mask = np.where(mine & (piece > 0), 255, 0).astype(np.uint8)
    if cv2.countNonZero(mask) < 3:
        return None
    piece, mask = stages.crop(piece, mask)
    piece = stages.normalize_stroke(piece, mask)
    return stages.centre(stages.fit(piece)).astype(np.float32) / 255.0


def _cuts(ink: np.ndarray, labels: np.ndarray, blob: Blob) -> list[int]:
    """Candidate cut columns: local minima of the blob's vertical ink projection."""
    region = np.where(np.isin(labels[blob.y : blob.y2, blob.x : blob.x2], blob.labels), 1, 0)
    profile = cv2.GaussianBlur(region.sum(0).astype(np.float32)[None], (0, 0), max(1.0, blob.h / 30))[0]
    margin = max(2, int(0.25 * blob.h))
    candidates = [i for i in range(margin, blob.w - margin)
                  if profile[i] <= profile[i - 1] and profile[i] <= profile[i + 1]]
    candidates.sort(key=lambda i: profile[i])
    return sorted(blob.x + i for i in candidates[:8])


def _split(ink, labels, blob: Blob, classify: Classifier) -> list[tuple[int, int, np.ndarray, np.ndarray]]:
    """Recognition-guided split of a wide blob: the segmentation whose pieces the classifier is most
    confident about (mean log-confidence, ties to fewer pieces), over candidate cut columns."""
    cuts = [blob.x, *_cuts(ink, labels, blob), blob.x2]
    n = len(cuts)
    pieces: dict[tuple[int, int], tuple[np.ndarray, np.ndarray] | None] = {}
    spans = [(i, j) for i in range(n) for j in range(i + 1, n)
             if cuts[j] - cuts[i] >= 0.25 * blob.h and (j - i) <= n]
    images = []
    for i, j in spans:
        img = _digit_image(ink, labels, blob, cuts[i], cuts[j])
        pieces[(i, j)] = None if img is None else (img, None)
        if img is not None:
            images.append(((i, j), img))
    if images:
        probs = classify(np.stack([img for _, img in images]))
        for (key, img), p in zip(images, probs):
            pieces[key] = (img, p)
    # best[j] = (score sum, count, path) over segmentations of cuts[0..j]
    best: dict[int, tuple[float, int, list]] = {0: (0.0, 0, [])}
    for j in range(1, n):
        for i in range(j):
            if i not in best or pieces.get((i, j)) is None:
                continue
            img, p = pieces[(i, j)]
            score, count, path = best[i]
            candidate = (score + float(np.log(max(p.max(), 1e-6))) - 0.15, count + 1, path + [(i, j)])
            if count + 1 <= MAX_DIGITS_PER_BLOB and (j not in best or candidate[0] > best[j][0]):
                best[j] = candidate
    if n - 1 not in best:
        return []
    return [(cuts[i], cuts[j], *pieces[(i, j)]) for i, j in best[n - 1][2]]


def find_digits(grey: np.ndarray, classify: Classifier) -> list[FoundDigit]:
    """Every digit in a grey image, in reading order (lines top to bottom, digits left to right)."""
    found = ink_components(grey)
    if found is None:
        return []
    ink, labels, stats = found
    out: list[FoundDigit] = []
    for line_no, line in enumerate(_lines(_blobs(stats))):
        blobs = _merge_pieces(line)
        height = float(np.median([b.h for b in blobs]))
        singles = [b for b in blobs if b.w <= WIDE * max(b.h, height * 0.8)]
        images = {id(b): _digit_image(ink, labels, b) for b in singles}
        ready = [(b, img) for b, img in ((b, images[id(b)]) for b in singles) if img is not None]
        probs = classify(np.stack([img for _, img in ready])) if ready else []
        scored = {id(b): (img, p) for (b, img), p in zip(ready, probs)}
        for b in blobs:
            if id(b) in scored:
                img, p = scored[id(b)]
                out.append(FoundDigit((b.x, b.y, b.w, b.h), img, p, line_no))
            elif id(b) not in images:  # wide: touching digits
                for x0, x1, img, p in _split(ink, labels, b, classify):
                    sub = labels[b.y : b.y2, x0:x1]
                    ys = np.flatnonzero(np.isin(sub, b.labels).any(1))
                    y0, y1 = (b.y + int(ys[0]), b.y + int(ys[-1]) + 1) if ys.size else (b.y, b.y2)
                    out.append(FoundDigit((x0, y0, x1 - x0, y1 - y0), img, p, line_no))
    return out
