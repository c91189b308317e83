"""Reading a number: find every digit in an image, left to right, line by line.

The image is first made readable as a single digit's is: a note on a desk is cut to its sheet, and a
small image — or small digits on a large one — enlarged, pale ink kept where it joins the strokes; a
number photographed turned by 9° or more is turned back.
Connected components of the ink mask are the candidates: a printed box around them, the ruled line they
sit on and squared paper's grid are erased; specks, loose rules, colons and dashes dropped; pieces of one
digit (a 5's flag, a 7's bar, a 4 drawn in two strokes, a broken stroke) are merged into their neighbour. Each blob is then
read twice: by the digit classifier, and by the number reader (a network that reads a run of touching
digits left to right, see :mod:`digitrec.inference.reader`). A blob the reader reads as several digits is
cut between them — unless it is narrower than half the line height, or the reader still gives fair odds
to its being the one digit the digit model sees (a wide 6 read "61"); a blob it reads as one digit is
answered with both models' mean. Without the reader (a model that is not of digits), a wide blob is split
recognition-guided: candidate cuts are paths from top to bottom that cross as little ink as possible,
every piece between two cuts is scored by the classifier, and the segmentation with the best total
(confidence and digit shape) wins.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Callable, Protocol

import cv2
import numpy as np

from digitrec.errors import ImageError
from digitrec.preprocess import rules, stages

# Scores 28×28 float images (N, 28, 28) -> probabilities (N, classes); supplied by the Recognizer.
Classifier = Callable[[np.ndarray], np.ndarray]


class RunReading(Protocol):
    """What the number reader read in one blob (:class:`digitrec.inference.reader.RunReading`)."""

    digits: list[tuple[np.ndarray, float]]  # per digit read, left to right: (probabilities, centre column)

    def log_likelihood(self, digits: Sequence[int]) -> float: ...

    def as_one_digit(self) -> np.ndarray: ...


# Reads runs of digits (blobs: bright ink on black), one RunReading per blob; the number reader, supplied
# by the Recognizer for digit models.
RunReader = Callable[[list[np.ndarray]], list[RunReading]]

SPLIT_FROM = 0.8  # blobs at least this wide (× line height) are tried as touching digits too
CUT_FROM = 0.5  # ... and this wide when the number reader reads several digits in them (a "1" is narrow)
MAX_CUTS = 14
# Separate marks an image of a number may hold — a dense page of handwritten digits has under a thousand;
# noise, a texture or a page of print has tens of thousands, whose reading would take minutes
MAX_MARKS = 2000
DOT = 0.4  # × the line height: a piece of ink smaller than this both ways is a dot, not a stroke
PIECE_COST = 0.3  # log-prior cost of each digit: a split must explain the ink clearly better
# A blob the reader reads as several digits stays one digit when that reading, weighed by the digit model's
# confidence in it, is at least this likely against the reader's (a wide 6 that the reader reads "61")
ONE_DIGIT_ODDS = 1 / 7
# Degrees by which a number's lines must be turned before it is turned back: digits set a little high or
# low tilt a short line's fit by up to ~7° (99th percentile on the robustness strings, which are not
# turned), and turning those back cost more strings than it saved; numbers turned 12° gain 2 points.
MIN_SLANT = 9.0
# Width/height of each MNIST digit class: mean and spread of log(aspect), measured on the training set.
ASPECT = {0: (-0.10, 0.20), 1: (-0.89, 0.46), 2: (-0.07, 0.22), 3: (-0.22, 0.22), 4: (-0.23, 0.21),
          5: (-0.06, 0.27), 6: (-0.33, 0.22), 7: (-0.26, 0.22), 8: (-0.27, 0.22), 9: (-0.38, 0.20)}


@dataclass
class Blob:
    x: int
    y: int
    w: int
    h: int
    labels: list[int] = field(default_factory=list)  # the connected components that make it up

    @property
    def x2(self) -> int:
        return self.x + self.w

    @property
    def y2(self) -> int:
        return self.y + self.h

    def merge(self, other: Blob) -> Blob:
        x, y = min(self.x, other.x), min(self.y, other.y)
        return Blob(x, y, max(self.x2, other.x2) - x, max(self.y2, other.y2) - y, self.labels + other.labels)

    def overlap_x(self, other: Blob) -> int:
        return min(self.x2, other.x2) - max(self.x, other.x)


@dataclass
class FoundDigit:
    box: tuple[int, int, int, int]  # x, y, w, h in the analysed image's pixels
    image: np.ndarray  # float32 (28, 28): what the classifier saw
    probabilities: np.ndarray
    line: int


def ink_components(grey: np.ndarray, faint: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Bright-ink image, component label map and component stats; None when there is no ink. ``faint``
    keeps weak ink connected to strong ink (for enlarged small scans, whose thin strokes are pale)."""
    background = stages.paper(grey)
    ink = stages.flatten_light(grey, background, stages.ink_is_dark(grey, background))
    mask = stages.ink_mask(ink, faint=faint)
    if mask is None:
        return None
    mask, outlines = stages.drop_frame(mask)
    ink, mask = stages.join_dots(ink, mask, outlines, number=True)  # a number drawn as separate dots
    mask = rules.drop_rules(mask, ink, number=True)  # digits on a ruled line are one blob with it
    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    return ink, labels, stats


def _blobs(stats: np.ndarray, name: str) -> list[Blob]:
    """Components worth reading: not specks, dots or ruled lines (judged against the typical height); more
    than ``MAX_MARKS`` of them are an ImageError naming ``name``."""
    blobs = [Blob(int(s[0]), int(s[1]), int(s[2]), int(s[3]), [i]) for i, s in enumerate(stats) if i > 0]
    if not blobs:
        return []
    areas = stats[1:, cv2.CC_STAT_AREA]
    largest = int(areas.max())
    height = float(np.median([b.h for b, a in zip(blobs, areas) if a >= 0.1 * largest]))
    kept = []
    for b, area in zip(blobs, areas):
        speck = max(b.h, b.w) < 0.2 * height or area < max(4, 0.01 * largest)
        rule = b.w > 3 * height and (b.h < 0.3 * height or area < 0.05 * height * b.w)  # flat, or thin and askew
        if not speck and not rule:
            kept.append(b)
    if len(kept) > MAX_MARKS:
        raise ImageError(f"{name}: {len(kept)} separate marks, more than the {MAX_MARKS} an image of a number "
                         "may hold (noise, a texture or a page of print?)")
    return kept


def _lines(blobs: list[Blob]) -> list[list[Blob]]:
    """Group blobs into text lines, top to bottom, each sorted left to right. Full-height blobs, left to
    right, make the lines: each joins the line whose last three blobs it overlaps most vertically — its
    neighbours, not the whole line, so a line written or photographed askew stays one line. Small blobs
    (a 5's flag, a 7's bar above its stem) join the nearest line."""
    if not blobs:
        return []
    typical = float(np.median([b.h for b in blobs]))
    tallest = max(b.h for b in blobs)  # a digit's height, where pieces of broken digits pull the median down
    lines: list[list[Blob]] = []

    def span(line: list[Blob]) -> tuple[int, int]:
        return min(m.y for m in line), max(m.y2 for m in line)

    for b in sorted((b for b in blobs if b.h >= 0.5 * typical), key=lambda b: b.x):
        best, best_overlap = None, 0.3
        for line in lines:
            top, bottom = span(line[-3:])
            overlap = (min(bottom, b.y2) - max(top, b.y)) / max(1, min(b.h, bottom - top))
            if overlap > best_overlap:
                best, best_overlap = line, overlap
        if best is None:  # the lower or upper part of a digit broken across: the line of the part it tops
            best = next((line for line in lines if _stacked(line[-1], b, tallest)), None)
        if best is None:
            lines.append([b])
        else:
            best.append(b)
    for b in (b for b in blobs if b.h < 0.5 * typical):
        def gap(line: list[Blob]) -> float:
            top, bottom = span(line)
            return max(top - b.y2, b.y - bottom, 0)
        nearest = min(lines, key=gap, default=None)
        if nearest is not None and gap(nearest) < 0.6 * (span(nearest)[1] - span(nearest)[0]):
            nearest.append(b)
        else:
            lines.append([b])
    lines.sort(key=lambda line: span(line)[0])
    return [sorted(line, key=lambda b: b.x) for line in lines]


def _merge_pieces(line: list[Blob]) -> list[Blob]:
    """Merge what belongs to one digit: blobs stacked over each other, and small strokes (a 5's flag,
    a 7's bar, the end of a broken stroke) into the neighbour they touch or overlap most."""
    height = float(np.percentile([b.h for b in line], 75))
    merged: list[Blob] = []
    for b in sorted(line, key=lambda b: b.x):
        if merged:
            last = merged[-1]
            overlap = last.overlap_x(b)
            combined = max(last.x2, b.x2) - min(last.x, b.x)
            if (overlap > 0.5 * min(last.w, b.w) and combined < 1.1 * height) or _stacked(last, b, height):
                merged[-1] = last.merge(b)
                continue
        merged.append(b)
    # small pieces join the nearest big neighbour (by horizontal overlap, then by gap)
    small = [b for b in merged if b.h < 0.5 * height]
    big = [b for b in merged if b.h >= 0.5 * height]
    if not big:
        return merged
    for piece in small:
        def distance(b: Blob) -> float:
            return -piece.overlap_x(b)  # negative overlap = gap
        target = min(big, key=distance)
        if _is_dash(piece, target, height):
            continue
        if distance(target) < 0.35 * height:
            big[big.index(target)] = target.merge(piece)
        else:
            big.append(piece)
    return sorted(big, key=lambda b: b.x)


def _stacked(a: Blob, b: Blob, height: float) -> bool:
    """One blob over the other, not beside it — two parts of one digit broken across (a 3, a 5 whose bowl
    came apart from its flag): mostly the same columns, barely the same rows, together under 1.5 digit
    heights (two lines' digits one over the other make two heights and more). Digits on one line stand side
    by side, never one on top of the other."""
    rows = min(a.y2, b.y2) - max(a.y, b.y)
    together = max(a.y2, b.y2) - min(a.y, b.y)
    return a.overlap_x(b) > 0.5 * min(a.w, b.w) and rows < 0.3 * min(a.h, b.h) and together < 1.5 * height


def _is_dash(piece: Blob, nearest: Blob, height: float) -> bool:
    """A flat stroke at mid-height, clear of the digit beside it: a dash ("2026-11-22", "12-34"), which would
    otherwise join that digit and be read as one more. A 5's flag or a 7's bar drawn apart sits at the top
    and overlaps its digit."""
    if piece.h >= 0.25 * height or piece.w < 2 * piece.h or piece.overlap_x(nearest) > 0:
        return False
    middle = piece.y + piece.h / 2 - nearest.y
    return 0.3 * nearest.h < middle < 0.75 * nearest.h


def _only_dots(blob: Blob, stats: np.ndarray, height: float) -> bool:
    """A blob made only of dots — a colon, specks stacked over each other — is not a digit (read, it is a
    confident "1"): every stroke of a digit, even a broken one's, runs at least 0.4 of the line's height."""
    return all(max(stats[i, cv2.CC_STAT_WIDTH], stats[i, cv2.CC_STAT_HEIGHT]) < DOT * height
               for i in blob.labels)


def _a_point(blob: Blob, stats: np.ndarray, typical: float) -> bool:
    """One filled round dot, small beside the image's digits: a point that fell on a line of its own (a
    decimal point written low), where the line's own height is the dot's. Judged filled and round, so a
    small 0 (hollow) or 1 (thin) on a line of smaller digits is not taken for one."""
    if len(blob.labels) != 1 or not 0.5 <= blob.w / blob.h <= 2:
        return False
    filled = stats[blob.labels[0], cv2.CC_STAT_AREA] >= 0.5 * blob.w * blob.h
    return filled and _only_dots(blob, stats, typical)


def _blob_ink(ink: np.ndarray, labels: np.ndarray, blob: Blob) -> np.ndarray:
    """The blob's ink alone, in its bounding box (other components' ink removed)."""
    mine = np.isin(labels[blob.y : blob.y2, blob.x : blob.x2], blob.labels)
    return np.where(mine, ink[blob.y : blob.y2, blob.x : blob.x2], 0).astype(np.uint8)


def to_model_input(piece: np.ndarray) -> np.ndarray | None:
    """One digit's ink (bright on black, any size) -> the 28×28 float MNIST-style input; None if empty."""
    mask = np.where(piece > 0, 255, 0).astype(np.uint8)
    if cv2.countNonZero(mask) < 3:
        return None
    piece, mask = stages.crop(piece, mask)
    piece = stages.normalize_stroke(piece, mask)
    return stages.centre(stages.normalize_intensity(stages.fit(piece))).astype(np.float32) / 255.0


def _cut_paths(piece: np.ndarray, columns: list[int], drift: float) -> list[np.ndarray]:
    """For each candidate column, the top-to-bottom path ending there that crosses the least ink, moving
    at most one pixel sideways per row (each sideways step costs ``drift``): where touching digits are
    easiest to separate. One dynamic programme over the whole blob serves every candidate."""
    h, w = piece.shape
    cost = piece.astype(np.float32) / 255.0 + 0.02
    total = cost[0].copy()
    moves = np.zeros((h, w), np.int8)  # -1, 0, +1: where each row's best predecessor is
    for y in range(1, h):
        left = np.concatenate([[np.inf], total[:-1] + drift])
        right = np.concatenate([total[1:] + drift, [np.inf]])
        options = np.stack([left, total, right])
        choice = options.argmin(0)
        total = options[choice, np.arange(w)] + cost[y]
        moves[y] = choice.astype(np.int8) - 1
    xs = np.asarray(columns, np.int64)
    paths = np.empty((len(columns), h), np.int32)
    for y in range(h - 1, -1, -1):  # backtrack all candidates at once
        paths[:, y] = xs
        xs = np.clip(xs + moves[y, xs], 0, w - 1)
    return list(paths)


def _between(piece: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """The ink of ``piece`` between two cut paths (one column per row): from ``left`` up to ``right``."""
    xs = np.arange(piece.shape[1])[None, :]
    return np.where((xs >= left[:, None]) & (xs < right[:, None]), piece, 0).astype(np.uint8)


def _shape_score(piece: np.ndarray, height: float, digit: int) -> float:
    """Log-prior of a piece being one ``digit``: its width/height as that digit's usually is (a '1' is
    narrow, a '0' round), and as tall as the line's digits rather than a fragment."""
    ys, xs = np.nonzero(piece)
    if ys.size == 0:
        return -np.inf
    h, w = ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
    mean, spread = ASPECT.get(digit, (-0.25, 0.3))
    z = (np.log(w / max(h, 0.6 * height)) - mean) / (1.5 * spread)  # 1.5×: handwriting varies more
    score = -PIECE_COST - 0.5 * z * z
    if h < 0.45 * height:
        score -= 2.0
    return score


def _split(piece: np.ndarray, height: float, classify: Classifier) -> list[tuple[int, int, np.ndarray, np.ndarray]]:
    """Split a blob of touching digits; returns (x0, x1, model input, probabilities) per digit."""
    h, w = piece.shape
    weight = (piece > 0).astype(np.float32)
    profile = cv2.GaussianBlur(weight.sum(0)[None], (0, 0), max(1.0, h / 30))[0]
    margin = max(2, int(0.15 * height))
    minima = [i for i in range(margin, w - margin) if profile[i] <= profile[i - 1] and profile[i] <= profile[i + 1]]
    grid = list(range(margin, w - margin, max(2, int(height / 4))))
    columns = sorted(set(sorted(minima, key=lambda i: profile[i])[: MAX_CUTS // 2] + grid))[:MAX_CUTS]
    cuts = _cut_paths(piece, columns, drift=0.15) if columns else []
    paths = [np.zeros(h, np.int32), *cuts, np.full(h, w, np.int32)]
    paths.sort(key=lambda p: p.mean())
    spans, images = [], []
    for i in range(len(paths)):
        for j in range(i + 1, len(paths)):
            width = paths[j].mean() - paths[i].mean()
            if width < 0.2 * height or width > 1.3 * height:
                continue
            part = _between(piece, paths[i], paths[j])
            model_input = to_model_input(part)
            if model_input is not None:
                spans.append((i, j, part))
                images.append(model_input)
    if not images:
        return []
    probabilities = classify(np.stack(images))
    score = {}
    for (i, j, part), p, image in zip(spans, probabilities, images):
        digit = int(p.argmax())
        score[(i, j)] = (float(np.log(max(p[digit], 1e-6))) + _shape_score(part, height, digit), image, p, part)
    best: dict[int, tuple[float, list[tuple[int, int]]]] = {0: (0.0, [])}
    for j in range(1, len(paths)):
        for i in range(j):
            if i in best and (i, j) in score:
                total = best[i][0] + score[(i, j)][0]
                if j not in best or total > best[j][0]:
                    best[j] = (total, best[i][1] + [(i, j)])
    end = len(paths) - 1
    if end not in best:
        return []
    out = []
    for i, j in best[end][1]:
        _, image, p, part = score[(i, j)]
        cols = np.flatnonzero(part.any(0))
        out.append((int(cols[0]), int(cols[-1]) + 1, image, p))
    return out


def _cut_between(piece: np.ndarray, digits: list[tuple[np.ndarray, float]]
                 ) -> list[tuple[int, int, np.ndarray, np.ndarray]]:
    """Cut a blob of touching digits between the digits the number reader read in it (at the least-ink
    path between their centres), for each digit's box and image. Returns (x0, x1, model input,
    probabilities) per digit."""
    h, w = piece.shape
    profile = (piece > 0).sum(0)
    columns = []
    for (_, a), (_, b) in zip(digits, digits[1:]):
        lo, hi = int(np.clip(a + 0.25 * (b - a), 0, w - 1)), int(np.clip(b - 0.25 * (b - a), 0, w - 1)) + 1
        columns.append(lo + int(profile[lo:hi].argmin()) if hi > lo else int(np.clip((a + b) / 2, 0, w - 1)))
    paths = [np.zeros(h, np.int32), *_cut_paths(piece, columns, drift=0.15), np.full(h, w, np.int32)]
    out = []
    for (probabilities, _), left, right in zip(digits, paths, paths[1:]):
        part = _between(piece, left, right)
        cols = np.flatnonzero(part.any(0))
        image = to_model_input(part)
        if image is None:  # the cut left this digit no ink of its own: box it between the cuts
            image, cols = np.zeros((28, 28), np.float32), np.array([int(left.mean()), int(right.mean()) - 1])
        out.append((int(cols[0]), int(cols[-1]) + 1, image, probabilities))
    return out


def _one_digit_after_all(read: RunReading, probabilities: np.ndarray) -> bool:
    """Whether a blob the number reader reads as several digits is better taken as the one digit the digit
    model sees in it: the reader's own likelihood of that single digit (over every alignment, not only its
    best path), times the digit model's confidence, against the likelihood of what the reader read. The
    reader reads a wide 6 as "61" with its best path, yet still gives "6" fair odds; on a real touching
    pair the single digit is far less likely (measured on the robustness strings)."""
    digit = int(probabilities.argmax())
    several = [int(p.argmax()) for p, _ in read.digits]
    one = read.log_likelihood([digit]) + math.log(max(float(probabilities[digit]), 1e-9))
    return one - read.log_likelihood(several) > math.log(ONE_DIGIT_ODDS)


def _clearly_one(piece: np.ndarray, probabilities: np.ndarray, height: float) -> bool:
    """A wide-ish blob the classifier reads confidently as a digit of plausible shape needs no split."""
    digit = int(probabilities.argmax())
    return probabilities[digit] >= 0.9 and _shape_score(piece, height, digit) > -PIECE_COST - 2.0


def find_digits(grey: np.ndarray, classify: Classifier, read_runs: RunReader | None = None,
                name: str = "image") -> list[FoundDigit]:
    """Every digit in a grey image, in reading order (lines top to bottom, digits left to right).

    A number written or photographed turned by ``MIN_SLANT`` or more is turned back first (its boxes are
    still given in the image's pixels). With the number reader (``read_runs``), every blob is also read
    by it: a blob it reads as several digits is cut between them (unless :func:`_one_digit_after_all`); a
    blob it reads as one digit gets the mean of its and the classifier's probabilities (two different
    models, each wrong where the other is often right). Without it, or when it reads nothing in a wide
    blob, a wide blob the classifier is not sure of goes to the splitter. More than ``MAX_MARKS`` marks
    are an :class:`ImageError` naming ``name``."""
    layout = _layout(grey, name)
    if layout is None:
        return []
    slant = _slant(layout.lines)
    if abs(slant) < MIN_SLANT:
        return _read(layout, classify, read_runs)
    turned, turn = _turned(grey, slant)
    straight = _layout(turned, name)
    if straight is None or len(straight.lines) > len(layout.lines):
        # Turning back only straightens lines; more of them is a wrong turn: a short line's digits set
        # high and low, on paper whose printed lines it turned askew.
        return _read(layout, classify, read_runs)
    back = cv2.invertAffineTransform(turn)
    return [replace(d, box=_box_through(back, d.box, grey.shape)) for d in _read(straight, classify, read_runs)]


@dataclass
class _Layout:
    """The ink of an image of a number, as components grouped into lines of blobs."""

    ink: np.ndarray
    labels: np.ndarray
    stats: np.ndarray
    lines: list[list[Blob]]
    factor: float  # the enlargement applied, and where the analysed region starts in the image given
    origin: tuple[int, int]


def _layout(grey: np.ndarray, name: str) -> _Layout | None:
    grey, corner = stages.sheet(grey)  # a sheet of paper on a desk: read the sheet
    grey, factor = stages.enlarge(grey)
    found = ink_components(grey, faint=factor > 1)
    if found is None:
        return None
    kept, origin = _blobs(found[2], name), corner
    if factor == 1 and (region := _small_digits_region(grey, kept)):
        grey, factor, (x0, y0) = region  # small digits in a large image: read their region, enlarged
        origin = (corner[0] + x0, corner[1] + y0)
        found = ink_components(grey, faint=True)
        if found is None:
            return None
        kept = _blobs(found[2], name)
    ink, labels, stats = found
    return _Layout(ink, labels, stats, [_merge_pieces(line) for line in _lines(kept)], factor, origin)


def _slant(lines: list[list[Blob]]) -> float:
    """How far the lines of a number are turned, in degrees (counter-clockwise positive, as OpenCV
    rotates): the median over lines of three blobs or more of the median slope between their blobs'
    centres (Theil–Sen: a digit set high or low does not tilt it); 0 when no line is that long."""
    slants = []
    for line in (line for line in lines if len(line) >= 3):
        x = [b.x + b.w / 2 for b in line]
        y = [b.y + b.h / 2 for b in line]
        slopes = [(y[j] - y[i]) / (x[j] - x[i]) for i in range(len(x)) for j in range(i + 1, len(x)) if x[j] > x[i]]
        if slopes:
            slants.append(math.degrees(math.atan(float(np.median(slopes)))))
    return float(np.median(slants)) if slants else 0.0


def _turned(grey: np.ndarray, degrees: float) -> tuple[np.ndarray, np.ndarray]:
    """``grey`` rotated by ``degrees`` on a canvas that holds all of it, filled with the level of its
    border (the paper), and the 2×3 matrix that did it."""
    h, w = grey.shape
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    cos, sin = abs(turn[0, 0]), abs(turn[0, 1])
    width, height = int(h * sin + w * cos) + 2, int(h * cos + w * sin) + 2
    turn[:, 2] += (width / 2 - w / 2, height / 2 - h / 2)
    paper = int(np.median(stages.border(grey)))
    return cv2.warpAffine(grey, turn, (width, height), flags=cv2.INTER_LINEAR, borderValue=paper), turn


def _box_through(matrix: np.ndarray, box: tuple[int, int, int, int],
                 shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """The upright box (x, y, w, h) around ``box`` carried through a 2×3 affine ``matrix``, within an image
    of ``shape``: the corners of a box on the turned canvas can land outside the picture it came from."""
    x, y, w, h = box
    corners = np.array([[x, y, 1], [x + w, y, 1], [x, y + h, 1], [x + w, y + h, 1]], np.float64) @ matrix.T
    (x0, y0), (x1, y1) = np.floor(corners.min(0)), np.ceil(corners.max(0))
    x0, y0 = min(max(int(x0), 0), shape[1] - 1), min(max(int(y0), 0), shape[0] - 1)
    x1, y1 = min(int(x1), shape[1]), min(int(y1), shape[0])
    return x0, y0, max(1, x1 - x0), max(1, y1 - y0)


def _read(layout: _Layout, classify: Classifier, read_runs: RunReader | None) -> list[FoundDigit]:
    """Read every line of the layout: each blob by both models, cut or split where it holds several."""
    ink, labels, stats, lines = layout.ink, layout.labels, layout.stats, layout.lines
    typical = float(np.median([b.h for line in lines for b in line])) if lines else 0.0
    out: list[FoundDigit] = []
    for line_no, blobs in enumerate(lines):
        height = float(np.median([b.h for b in blobs]))
        blobs = [b for b in blobs if not (_only_dots(b, stats, height) or _a_point(b, stats, typical))]
        pieces = [(b, _blob_ink(ink, labels, b)) for b in blobs]
        wholes = [(b, piece, to_model_input(piece)) for b, piece in pieces]
        wholes = [(b, piece, image) for b, piece, image in wholes if image is not None]
        if not wholes:
            continue
        probabilities = classify(np.stack([image for *_, image in wholes]))
        readings = read_runs([piece for _, piece, _ in wholes]) if read_runs is not None else [None] * len(wholes)
        for (b, piece, image), p, read in zip(wholes, probabilities, readings):
            count = len(read.digits) if read is not None else 0
            several = count > 1 and b.w >= CUT_FROM * max(b.h, height)
            if several and not _one_digit_after_all(read, p):
                parts = _cut_between(piece, read.digits)
            elif several:
                parts = [(0, b.w, image, (p + read.as_one_digit()) / 2)]
            elif count == 1:
                parts = [(0, b.w, image, (p + read.digits[0][0]) / 2)]
            elif b.w >= SPLIT_FROM * max(b.h, height) and not _clearly_one(piece, p, height):
                parts = _split(piece, max(height, b.h), classify)
            else:
                parts = [(0, b.w, image, p)]
            for x0, x1, part_image, part_p in parts:
                rows = np.flatnonzero(piece[:, x0:x1].any(1))
                y0, y1 = (int(rows[0]), int(rows[-1]) + 1) if rows.size else (0, b.h)
                box = (b.x + x0, b.y + y0, x1 - x0, y1 - y0)
                out.append(FoundDigit(_unscaled(box, layout.factor, layout.origin), part_image, part_p, line_no))
    return out


def _small_digits_region(grey: np.ndarray, blobs: list[Blob]) -> tuple[np.ndarray, float, tuple[int, int]] | None:
    """The region of digits too small to read well where they are (typical height under
    ``stages.SMALL_INK``), enlarged; None when they are not small."""
    if not blobs:
        return None
    x0, y0 = min(b.x for b in blobs), min(b.y for b in blobs)
    extent = (x0, y0, max(b.x2 for b in blobs) - x0, max(b.y2 for b in blobs) - y0)
    return stages.small_ink_region(grey, extent, float(np.median([b.h for b in blobs])))


def _unscaled(box: tuple[int, int, int, int], factor: float, origin: tuple[int, int]) -> tuple[int, int, int, int]:
    """A box found in the enlarged image (or region), in the pixels of the image given."""
    x, y, w, h = box
    left, top = int(x / factor), int(y / factor)
    right, bottom = math.ceil((x + w) / factor), math.ceil((y + h) / factor)
    return origin[0] + left, origin[1] + top, max(1, right - left), max(1, bottom - top)
