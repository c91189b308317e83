"""Printed lines behind handwriting: a notebook's rules, squared (graph) paper, a form's underline.

A photographed notebook page brings its lines into the ink mask whenever they are darker than the paper
by more than the threshold — grey or blue rules, a printed grid — and a digit read together with them
is no digit at all (a 1 between two rules read 8, a 9 on squared paper read 8). A line is found as a long,
thin, straight run of ink (a Hough transform), near-horizontal or (on the transposed mask) near-vertical,
and erased with its own thickness — except where a stroke crosses it, so a digit is not cut in two. What
is left of lines where they leave the picture goes with them.
"""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np

from digitrec.preprocess.stages import scaled_size

SPAN = 0.9  # × the image's width (height): how far ink must run unbroken across it before rules are sought
ALONG = 0.5  # × the image's width: the shortest run of a line counted (a rule fading in shade breaks up),
# and in a number, how far ink must run across before the line the digits sit on is sought
THIN = 0.05  # × its length: the most ink across a line where no stroke crosses it
SLOPE = 0.15  # rise over run: lines within ±8.5° of the axis (a page photographed a little askew)
LOW = 0.5  # × the ink's threshold: where lines are sought
PEN_OVER = 1.3  # × the lines' ink: ink this strong along a line is a stroke of the pen
HOUGH_SIDE = 200  # px: the longer side of the copy lines are sought in
HOUGH_ALONG = 100  # px: and the least its lines' own length (a strip's short side is no shorter)
HOUGH_INK = 30  # of 255: a reduced pixel holding this much of a line is part of it
HOUGH_VOTES = 0.6  # × ALONG of the width: the pixels on a line that make it one (shade breaks lines up)
MOST_LINE_INK = 0.35  # of the image at half the threshold: small dark squares cover 0.3, shadows more
COVERED = 0.85  # of the columns a line behind the ink crosses: inked (a row of digits is not so dense)
BEYOND = 0.02  # × the image's side: how far a rule runs past the digits on either end, at least


def drop_rules(mask: np.ndarray, ink: np.ndarray, number: bool = False) -> np.ndarray:
    """The mask of ``ink`` without ruled lines (horizontal and vertical); ``mask`` itself when it has none.

    Lines are sought in a mask at half the ink's threshold, where a pale rule that the threshold broke
    into dashes is whole again, and only when such ink runs across most of the image (``SPAN`` of its
    columns or rows unbroken — no drawing on a canvas does). A line is a rule only when it runs past the
    ink left without it on both ends: a tightly cropped 1 or the bar of a 7 are the digit, not lines
    behind it. In a ``number``, a rule also runs across ``SPAN`` of the image, and a horizontal line is one
    the digits sit on, found whole: it needs no margin, since they sit on it from its one end to the other
    (with the margin and lines broken by shade bridged, the tops of a row of sevens made a rule, and
    numbers on squared paper read worse: 289 of 400 against 305). Where rules were erased, so are the
    ends of lines at the picture's edge (:func:`_without_line_ends`)."""
    low = cv2.threshold(ink, cv2.minMaxLoc(ink, mask)[0] * LOW, 255, cv2.THRESH_BINARY)[1]
    if cv2.countNonZero(low) > MOST_LINE_INK * low.size:
        return mask  # a shadow or noise at that level, not lines on paper (and costly to search)
    out, reach, thickest = mask, cv2.boundingRect(low)[2:], 0
    # (across: 0 for lines across the image, horizontal; 1 for lines down it, found transposed)
    for across, sits_on in ((0, number), (1, False)):
        least = (ALONG if sits_on else SPAN) * low.shape[1 - across]
        if reach[across] < least or _widest_run(low, across) < least:
            continue  # (a bounding box costs microseconds, a projection tens, the Hough transform ms)
        flip = (lambda image: np.ascontiguousarray(image.T)) if across else (lambda image: image)
        view = flip(out)
        erased, rules = _erase_lines(view, flip(ink), flip(low), sits_on, number)
        if rules:
            out, thickest = flip(erased), max([thickest] + [rule.thickness for rule in rules])
    return _without_line_ends(out, thickest) if thickest else out


def _without_line_ends(mask: np.ndarray, thickness: int) -> np.ndarray:
    """``mask`` without the ends of printed lines where they leave the picture: pieces at its edge, along
    an axis and no thicker than the lines erased. On a page photographed askew a line runs out across a
    corner, too short there to be found as a rule, and the crop took it for part of the digit."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    height, width = mask.shape
    ends = [i for i, (x, y, w, h, area) in enumerate(stats[1:], 1)
            if (x == 0 or y == 0 or x + w == width or y + h == height)
            and (h <= SLOPE * w + thickness or w <= SLOPE * h + thickness)
            and area <= thickness * np.hypot(w, h)]
    if not ends:
        return mask
    return np.where(np.isin(labels, ends), 0, mask).astype(np.uint8)


def _widest_run(mask: np.ndarray, axis: int) -> int:
    """The most neighbouring columns (``axis`` 0) or rows (1) that all hold ink."""
    starts, ends = _runs(mask.any(axis=axis))  # (cv2.reduce's MAX: 20× slower)
    return int((ends - starts).max(initial=0))


def _runs(flags: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where the runs of True in a 1-D array start, and end (exclusive)."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], flags, [0])).astype(np.int8)))
    return edges[::2], edges[1::2]


class Rule(NamedTuple):
    """A straight line across the image: row = ``offset`` + ``slope`` · column, ``thickness`` px; found
    running from column ``start`` to ``end``."""

    slope: float
    offset: float
    thickness: int
    start: float
    end: float

    def ends(self, width: int) -> tuple[tuple[int, int], tuple[int, int]]:
        """Its ends on the image's left and right edges: a rule runs the page's width, also where shade
        broke it up."""
        return (0, round(self.offset)), (width - 1, round(self.offset + self.slope * (width - 1)))


def _erase_lines(mask: np.ndarray, ink: np.ndarray, low: np.ndarray, sits_on: bool,
                 number: bool) -> tuple[np.ndarray, list[Rule]]:
    """``mask`` without the near-horizontal rules found in ``low`` (see :func:`drop_rules`), and the rules;
    ``mask`` itself and none when there are none."""
    width = mask.shape[1]
    # Found on a copy reduced to HOUGH_SIDE px (the transform's cost grows with the ink's pixels: 40 ms on a
    # 600 px photo of squared paper), then followed in full resolution.
    scale = min(1.0, max(HOUGH_SIDE / max(low.shape), HOUGH_ALONG / low.shape[1]))
    small = low if scale == 1 else cv2.threshold(cv2.resize(low, scaled_size(low.shape, scale),
                                                            interpolation=cv2.INTER_AREA), HOUGH_INK, 255,
                                                 cv2.THRESH_BINARY)[1]
    window = 2 / scale + 2  # rows: where the line found at reduced scale may lie at full size
    rules = [rule for x0, y0, x1, y1 in _candidates(small, sits_on) / scale
             if abs(y1 - y0) <= SLOPE * abs(x1 - x0)
             and (rule := _followed(low, (x0, y0, x1, y1), window, sits_on))]
    if not sits_on:
        rules = _running_past(mask, [r for r in rules if not number or r.end - r.start >= SPAN * width])
    if not rules:
        return mask, []
    strip = np.zeros_like(mask)
    for rule in rules:
        line, band = np.zeros_like(mask), np.zeros_like(mask)
        cv2.line(line, *rule.ends(width), 255, rule.thickness)
        cv2.line(band, *rule.ends(width), 255, 3 * rule.thickness)
        # A stroke crossing the rule fills the band around it: in those columns the ink is the stroke's.
        inked = cv2.reduce(cv2.bitwise_and(mask, band), 0, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel() // 255
        line[:, inked > 2 * rule.thickness] = 0
        strip |= line
    # A pen is darker than a notebook's printed lines: where the strip holds ink clearly stronger than the
    # lines' own, a stroke runs along a line, and it stays.
    on_lines = (strip > 0) & (mask > 0)
    if on_lines.any():
        strip[ink > PEN_OVER * float(np.median(ink[on_lines]))] = 0
    return cv2.bitwise_and(mask, cv2.bitwise_not(strip)), rules


def _candidates(small: np.ndarray, whole: bool) -> np.ndarray:
    """Where lines may run in the reduced mask: segments (x0, y0, x1, y1), strongest first.

    A line the digits of a number sit on must be found ``whole`` (the probabilistic transform, gaps barely
    bridged: bridging them, the tops of a row of sevens make a line too). Lines behind the ink are sought
    with the standard transform instead, within ``SLOPE`` of the axis, each from edge to edge: the
    probabilistic one draws its pixels at random and, on squared paper, where each line is short and
    crossed by many, finds only some of them — and a grid with lines left in it is no grid to erase."""
    reach = ALONG * small.shape[1]
    if whole:
        found = cv2.HoughLinesP(small, 1, np.pi / 180, threshold=int(reach), minLineLength=reach,
                                maxLineGap=max(2, int(0.01 * small.shape[1])))
        return np.zeros((0, 4)) if found is None else found.reshape(-1, 4).astype(float)
    tilt = float(np.arctan(SLOPE))
    found = cv2.HoughLines(small, 1, np.pi / 180, threshold=int(HOUGH_VOTES * reach),
                           min_theta=np.pi / 2 - tilt, max_theta=np.pi / 2 + tilt)
    if found is None:
        return np.zeros((0, 4))
    height, right = small.shape[0], small.shape[1] - 1
    columns = np.arange(right + 1)
    rho, theta = found.reshape(-1, 2).T  # x cos θ + y sin θ = ρ, strongest first
    y0, y1 = rho / np.sin(theta), (rho - right * np.cos(theta)) / np.sin(theta)
    rows = np.rint(y0[:, None] + (y1 - y0)[:, None] * columns / max(right, 1)).astype(int)  # one per line
    inside = (rows >= 0) & (rows < height)
    rows = rows.clip(0, height - 1)
    near = cv2.dilate(small, np.ones((3, 1), np.uint8))[rows, columns] > 0  # ink within a pixel
    # ink five rows deep is a shadow's or a stroke's: a line is thin along most of its length
    solid = cv2.erode(small, np.ones((5, 1), np.uint8))[rows, columns] > 0
    length = np.maximum(inside.sum(axis=1), 1)
    lines = np.flatnonzero(((near & inside).sum(axis=1) >= COVERED * length)
                           & ((near & ~solid & inside).sum(axis=1) >= 0.5 * length))
    taken = np.zeros(2 * height + 1, bool)  # middles (in half rows) of the lines kept
    segments = []
    for i in lines:
        middle = int(round(y0[i] + y1[i]))
        if 0 <= middle < taken.size and taken[max(0, middle - 4) : middle + 5].any():
            continue  # within 2 px of a stronger line in the middle: the same one
        taken[max(0, min(middle, taken.size - 1) - 4) : max(0, middle) + 5] = True
        segments.append((0.0, y0[i], right, y1[i]))
    return np.array(segments).reshape(-1, 4)


def _running_past(mask: np.ndarray, rules: list[Rule]) -> list[Rule]:
    """The rules whose found runs pass the largest piece of ink left without them, on both ends."""
    rest = mask.copy()
    for rule in rules:
        cv2.line(rest, *rule.ends(mask.shape[1]), 0, rule.thickness)
    count, _, stats, _ = cv2.connectedComponentsWithStats(rest, connectivity=8)
    if count < 2:
        return []  # nothing but lines: they are the drawing
    left, _, span = stats[1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA])), :3]
    room = BEYOND * mask.shape[1]
    return [rule for rule in rules if rule.start <= left - room and rule.end >= left + span + room]


def _followed(low: np.ndarray, found: tuple[float, float, float, float], window: float,
              alone: bool) -> Rule | None:
    """A line found at reduced scale, followed in ``low``: at 16 columns along it, the run of ink nearest
    to it (within ``window`` rows); a straight line fitted through the runs' middles. Its thickness is the
    median run (strokes crossing it are the few) and a pixel of blurred edge each side. None when it is
    mostly not there, or not thin: its median run over ``THIN`` of its length — or, when it must stand
    ``alone``, the median of all the ink near it (the joined bars of bold sevens are no line they sit on)."""
    x0, y0, x1, y1 = found
    if x1 < x0:
        x0, y0, x1, y1 = x1, y1, x0, y0
    reach = int(window + THIN * (x1 - x0)) + 2  # room for the thickest run a rule may have, and one more
    columns, middles, runs, near = [], [], [], []
    step = (x1 - x0) / 17
    for x in np.linspace(x0, x1, 18)[1:-1]:
        row = y0 + (y1 - y0) * (x - x0) / max(x1 - x0, 1.0)
        top = max(0, int(row) - reach)
        starts, ends = _runs(low[top : int(row) + reach + 1, min(int(round(x)), low.shape[1] - 1)] > 0)
        starts, ends = starts + top, ends + top  # runs of ink: rows [start, end)
        if starts.size == 0:
            continue
        nearest = int(np.argmin(np.maximum(starts - row, 0) + np.maximum(row - ends + 1, 0)))
        if max(starts[nearest] - row, row - ends[nearest] + 1) <= window:
            columns.append(x)
            middles.append((starts[nearest] + ends[nearest] - 1) / 2)
            runs.append(ends[nearest] - starts[nearest])
            near.append(int((ends - starts).sum()))  # all the ink near it: a bold stroke beside it is no rule
    if len(runs) < 8 or np.median(near if alone else runs) > THIN * (x1 - x0):
        return None
    across = float(np.median(runs))
    plain = np.array(runs) <= 2 * across  # where no stroke crosses it
    slope, offset = np.polyfit(np.array(columns)[plain], np.array(middles)[plain], 1)
    # It runs where it was found, to half a step beyond the outer columns.
    start, end = max(x0, min(columns) - step / 2), min(x1, max(columns) + step / 2)
    return Rule(float(slope), float(offset), int(round(across)) + 2, start, end)
