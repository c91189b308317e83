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
MIN_HEIGHT = 64  # px: smaller images are enlarged before the stages measure paper, ink and strokes
MAX_ENLARGED_SIDE = 2048
SMALL_INK = 40  # px: a digit (or a line of digits) smaller than this in a larger image is read enlarged,
SMALL_INK_SIZE = 48  # to this size
INK_IN_MEDIAN = MIN_CONTRAST // 2  # grey levels by which the median paper map may be ink-dark (:func:`paper`)
MOST_FRAME_INK = 0.5  # of a printed box's area, the most that its lines and the digits in it cover
SHEET_CONTRAST = 40  # grey levels by which a desk around a photographed sheet is darker than the sheet
MIN_SHARPNESS = 0.1  # edge sharpness below which "ink" is a shadow or a smudge (:func:`edge_sharpness`)
# Separate marks, specks dropped, above which ink is noise or a texture: digits of canvases, photos, MNIST
# and optdigits have 1-4 (2 500 measured), uniform noise and salt-and-pepper 100 to 10 000
MAX_DIGIT_MARKS = 40
NEAR_PIECES = np.ones((3, 3), np.uint8)  # pieces of ink this close are weighed as one (:func:`denoise`)
FAINT_INK = 0.6  # of the threshold: how faint connected ink may be in a small scan (hysteresis)
# A stroke drawn as separate dots (:func:`join_dots`): at least this many round marks of one pen's size
DOTTED_MARKS = 5
MOST_DOTS = 400  # a digit's path holds fewer pen-sized dots than this; a halftone or a dotted page more
MIN_DOT = 3  # px across: a smaller mark is a speck, whatever its shape
# of the ink's height, the most a dot measures (digits drawn dotted: ≤ 0.24; the bold digits of a number,
# as round as dots, 0.68 and up)
MOST_DOT_SIZE = 0.3
DOT_GAP = 2.5  # a gap bridged, in typical gaps between neighbouring dots
MOST_LINKS = 1.5  # per dot: a chain has one (up to 1.13 in digits drawn dotted), a grid two
MOST_ROUGH = 0.25  # of linked dots, the most that branch or turn back (:func:`_how_rough`)
# joined dots that enclose more loops than digits have (three; in a number, one per five dots) are a mesh of
# noise, not strokes
MOST_DOTTED_HOLES = 3
DOTS_PER_HOLE = 5


def histogram(image: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """256-bin histogram of a uint8 image, of the pixels under ``mask`` if given (OpenCV's is several times
    faster than numpy's bincount)."""
    return cv2.calcHist([np.ascontiguousarray(image)], [0], mask, [256], [0, 256]).ravel()


def border(grey: np.ndarray) -> np.ndarray:
    """The pixels along the image's four edges, in one row."""
    return np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])


def scaled_size(shape: tuple[int, ...], factor: float) -> tuple[int, int]:
    """(width, height) of an image of ``shape`` scaled by ``factor``, at least 1 px each way: for cv2.resize."""
    h, w = shape[:2]
    return max(1, round(w * factor)), max(1, round(h * factor))


def percentiles(image: np.ndarray, qs: tuple[float, ...], hist: np.ndarray | None = None) -> list[int]:
    """Percentiles of a uint8 image from its histogram: far cheaper than sorting the pixels."""
    cumulative = np.cumsum(histogram(image) if hist is None else hist)
    return [int(np.searchsorted(cumulative, q / 100.0 * (cumulative[-1] - 1), side="right")) for q in qs]


def enlarge(grey: np.ndarray, min_height: int = MIN_HEIGHT) -> tuple[np.ndarray, float]:
    """A small image (a scan at 8-30 px, a thumbnail) enlarged with cubic interpolation to ``min_height``
    px high, and the factor. Thresholds and stroke widths need a few dozen pixels across a digit (with
    :func:`with_faint_ink`: 8×8 scans of real handwriting 92 → 97 % right, numbers 14 px high 78 → 96 %;
    ``benchmarks/real_world.py``)."""
    return enlarge_by(grey, min_height / grey.shape[0])


def enlarge_by(grey: np.ndarray, factor: float) -> tuple[np.ndarray, float]:
    """Cubic enlargement by ``factor`` (none below 1), the longer side within ``MAX_ENLARGED_SIDE``; returns
    the image and the factor applied."""
    h, w = grey.shape
    factor = min(factor, MAX_ENLARGED_SIDE / max(h, w))
    if factor <= 1:
        return grey, 1.0
    return cv2.resize(grey, scaled_size(grey.shape, factor), interpolation=cv2.INTER_CUBIC), factor


def around(box: tuple[int, int, int, int], margin: int, shape: tuple[int, ...]) -> tuple[slice, slice]:
    """Rows and columns of ``box`` (x, y, w, h) grown by ``margin`` on every side, within an image."""
    x, y, w, h = box
    return (slice(max(0, y - margin), min(shape[0], y + h + margin)),
            slice(max(0, x - margin), min(shape[1], x + w + margin)))


def small_ink_region(grey: np.ndarray, box: tuple[int, int, int, int], digit_size: float | None = None,
                     ) -> tuple[np.ndarray, float, tuple[int, int]] | None:
    """Digits small within a larger image (written small, or photographed from afar) have as few pixels
    as a small scan: the region of the ink ``box`` (x, y, w, h), half a digit around it, enlarged so a digit
    (``digit_size`` px, by default the box's longer side) is ``SMALL_INK_SIZE`` px; with the factor and
    the region's top-left corner. None when the digits are not that small."""
    digit_size = digit_size or max(box[2], box[3])
    if not 0 < digit_size < SMALL_INK:
        return None
    rows, cols = around(box, int(digit_size) // 2 + 2, grey.shape)
    enlarged, factor = enlarge_by(grey[rows, cols], SMALL_INK_SIZE / digit_size)
    return (enlarged, factor, (cols.start, rows.start)) if factor > 1 else None


def sheet(grey: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    """A sheet of paper photographed on a darker surface (a note on a desk): the sheet alone — cropped, the
    surface left in its corners painted the sheet's colour — and its top-left corner in the image. The
    image itself, at (0, 0), when there is no such sheet: the border is not clearly darker than most of the
    image, or the bright part is not a large, solid, four-to-six-cornered shape that the border mostly
    does not cut (lit and shadowed parts of one page are not a sheet on a desk)."""
    h, w = grey.shape
    edge = border(grey)
    surface = percentiles(edge, (50,))[0]
    # a border too light for a darker desk (every canvas, every scan) ends it before the image's histogram
    if min(h, w) < 16 or surface + SHEET_CONTRAST > 255 or surface + SHEET_CONTRAST > percentiles(grey, (75,))[0]:
        return grey, (0, 0)
    split = otsu(histogram(grey))
    bright = cv2.threshold(grey, split, 255, cv2.THRESH_BINARY)[1]
    contours, _ = cv2.findContours(bright, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return grey, (0, 0)
    outline = max(contours, key=cv2.contourArea)
    hull = cv2.convexHull(outline)
    area, hull_area = cv2.contourArea(outline), cv2.contourArea(hull)
    corners = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True)
    on_border = np.count_nonzero(edge > split) / edge.size
    if area < 0.2 * h * w or area < 0.9 * hull_area or not 4 <= len(corners) <= 6 or on_border > 0.35:
        return grey, (0, 0)
    inside = np.zeros_like(grey)
    cv2.fillPoly(inside, [hull], 255)
    trim = 2 * max(3, round(0.01 * max(h, w))) + 1  # the sheet's blurred edge is neither desk nor sheet
    inside = cv2.erode(inside, cv2.getStructuringElement(cv2.MORPH_RECT, (trim, trim)))
    paper_pixels = grey[(inside > 0) & (bright > 0)]
    x, y, bw, bh = cv2.boundingRect(hull)
    if paper_pixels.size == 0 or min(bw, bh) <= 4:
        return grey, (0, 0)
    level = int(np.median(paper_pixels))
    rows, cols = slice(y + 2, y + bh - 2), slice(x + 2, x + bw - 2)
    cropped = grey[rows, cols].copy()
    cropped[inside[rows, cols] == 0] = level
    return cropped, (x + 2, y + 2)


def paper(grey: np.ndarray) -> np.ndarray | int:
    """The background (paper, canvas, board) brightness.

    A single level when the image border is uniform (a canvas, a scan), or when most of it is (a tightly
    cropped digit whose strokes run off the edges: the rest of the border is their ink, darker than the
    paper by ``MIN_CONTRAST`` at least — paper in shade is not). Otherwise the border varies smoothly —
    light falling across a photographed page — and the paper is a map: a large median filter on a reduced
    copy, which ignores the ink where it is a minority of the window and follows shadows and uneven light.
    Where bold strokes fill most of a window (a marker's number photographed close) the median is ink; a
    closing (an opening for light ink) removes strokes narrower than the window however dense they are,
    and where it is clearly nearer the paper's side the map takes it instead."""
    edge = border(grey)
    hist = histogram(edge)
    q1, mid, q3 = percentiles(edge, (25, 50, 75), hist)
    if q3 - q1 <= 12:
        return mid
    split = otsu(hist) + 1
    majority = hist.copy()
    if hist[:split].sum() >= hist[split:].sum():
        majority[split:] = 0
    else:
        majority[:split] = 0
    if majority.sum() >= 0.6 * hist.sum():
        q1, mid, q3 = percentiles(edge, (25, 50, 75), majority)
        rest = percentiles(edge, (50,), hist - majority)[0]
        if q3 - q1 <= 12 and abs(rest - mid) >= MIN_CONTRAST:  # the rest is ink, not the paper in shade
            return mid
    h, w = grey.shape
    scale = min(1.0, 64 / max(h, w))
    small = cv2.resize(grey, (max(3, round(w * scale)), max(3, round(h * scale))), interpolation=cv2.INTER_AREA)
    k = max(3, (int(np.sqrt(small.size)) // 3) | 1)  # a third of the image's mean side
    background = _ink_free(small, cv2.medianBlur(small, k), k)
    background = cv2.GaussianBlur(background, (0, 0), k / 6)
    return cv2.resize(background, (w, h), interpolation=cv2.INTER_LINEAR)


def _ink_free(small: np.ndarray, median: np.ndarray, k: int) -> np.ndarray:
    """The median paper map, with an opening of the image (as bright ink on dark: a closing of dark ink)
    where the median window was mostly ink: where the median lies on the ink's side of the paper seen at
    the image's edges (beyond its quarter nearest the ink) and the opening is nearer the paper, each by
    ``INK_IN_MEDIAN`` grey levels. (Noise has no paper to find: its median stays.) Which side the ink is
    on is judged against a median over half the image, where ink is a minority even when it is not in the
    map's smaller windows (judged against those, bold dark ink read as light)."""
    dark = ink_is_dark(small, cv2.medianBlur(small, max(3, (max(small.shape) // 2) | 1)))
    bright, median = orient(small, dark), orient(median, dark)
    window = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    opened = cv2.morphologyEx(bright, cv2.MORPH_OPEN, window, borderType=cv2.BORDER_REPLICATE)
    inky = (cv2.subtract(median, opened) > INK_IN_MEDIAN) & (median > np.percentile(border(bright), 75) + INK_IN_MEDIAN)
    return orient(np.where(inky, opened, median), dark)


def ink_is_dark(grey: np.ndarray, background: np.ndarray | int) -> bool:
    """True for dark ink on light paper: the far tail of (image − paper) lies on the dark side. Unlike a
    global brightness test, this holds under shadows and uneven light. The far tail is the last 0.05 % of
    pixels: a small digit in a large photo is a few tenths of a percent of it, and at 0.2 % the paper
    estimate's own errors outweighed it."""
    step = 2 if min(grey.shape) >= 64 else 1  # every other pixel is plenty to see which tail is longer
    grey = grey[::step, ::step]
    if isinstance(background, np.ndarray):
        background = background[::step, ::step]
    else:
        background = np.full_like(grey, int(background))
    darker = percentiles(cv2.subtract(background, grey), (99.95,))[0]
    brighter = percentiles(cv2.subtract(grey, background), (99.95,))[0]
    if darker == brighter:
        return bool(np.mean(grey) >= 128)
    return darker > brighter


def orient(grey: np.ndarray, dark_ink: bool) -> np.ndarray:
    """Ink polarity: the image as bright ink on a dark background, whatever it was."""
    return cv2.bitwise_not(grey) if dark_ink else grey


def flatten_light(grey: np.ndarray, background: np.ndarray | int, dark_ink: bool) -> np.ndarray:
    """Illumination correction: ink is what differs from the paper, so compare with the paper estimate.
    Dark ink is measured relative to the paper's brightness: light falling on a page scales paper and ink
    alike, so (paper − image) / paper is the same under a shadow as in full light. Returns bright ink on
    black."""
    if not isinstance(background, np.ndarray):
        background = np.full_like(grey, int(background))
    if dark_ink:
        return cv2.divide(cv2.subtract(background, grey), cv2.max(background, 1), scale=255)
    return cv2.subtract(grey, background)


def otsu(hist: np.ndarray) -> int:
    """Otsu's threshold of a histogram: the level that best separates it into two classes."""
    levels = np.arange(hist.size, dtype=np.float64)
    weight = np.cumsum(hist)
    mass = np.cumsum(hist * levels)
    total, total_mass = weight[-1], mass[-1]
    denominator = weight * (total - weight)
    between = np.full(hist.size, -1.0)  # a split with an empty side is never the best
    np.divide((total_mass * weight - total * mass) ** 2, denominator, out=between, where=denominator > 0)
    return int(between.argmax())


def ink_threshold(ink: np.ndarray, min_contrast: int = MIN_CONTRAST) -> int | None:
    """The binarization level of bright ink over a dark background: Otsu over the levels that stand out of
    the noise (4 σ, σ from the median of the background class — the darker side of a first Otsu split, so
    that a tightly cropped digit, more ink than paper, is measured right too); None when nothing stands
    out by ``min_contrast`` grey levels — a blank page or canvas."""
    hist = histogram(ink)
    background = hist.copy()
    background[otsu(hist) + 1 :] = 0
    floor = int(4 * (1.4826 * percentiles(ink, (50,), background)[0] + 1.0))
    peak = int(cv2.medianBlur(ink, 3).max()) if min(ink.shape) >= 3 else int(ink.max())
    if peak < max(min_contrast, floor):
        peak = _paired_peak(ink)  # the median also wipes out a 1 px line: a canvas pen's default width
    if peak < max(min_contrast, floor) or floor >= 255:
        return None
    above = hist[floor + 1 :]
    if above.sum() < 2:
        return None
    # Otsu may split strong ink from weaker ink (a faint pen, a corner in shade): never cut above half
    # the strongest ink, nor below the noise floor or a quarter of the peak.
    return max(min(floor + 1 + otsu(above), int(0.5 * peak)), floor, int(0.25 * peak))


def _paired_peak(ink: np.ndarray) -> int:
    """The strongest ink that has a neighbour as strong (across, down or diagonally): a 1 px line counts,
    a lone bright pixel (noise) does not."""
    diagonal = np.eye(2, dtype=np.uint8)
    pairs = (np.ones((1, 2), np.uint8), np.ones((2, 1), np.uint8), diagonal, diagonal[::-1])
    return max(int(cv2.morphologyEx(ink, cv2.MORPH_OPEN, pair).max()) for pair in pairs)


def ink_mask(ink: np.ndarray, min_contrast: int = MIN_CONTRAST, faint: bool = False) -> np.ndarray | None:
    """Binarization: 255 where the ink is above :func:`ink_threshold`, and with ``faint`` also where
    weaker ink is connected to it (:func:`with_faint_ink`); None for a blank image."""
    threshold = ink_threshold(ink, min_contrast)
    if threshold is None:
        return None
    mask = cv2.threshold(ink, threshold, 255, cv2.THRESH_BINARY)[1]
    return with_faint_ink(ink, mask, threshold) if faint else mask


def with_faint_ink(ink: np.ndarray, mask: np.ndarray, threshold: int, ratio: float = FAINT_INK) -> np.ndarray:
    """Hysteresis: the mask grown by the weaker ink (down to ``ratio`` of the threshold) connected to it. In
    a small scan a thin stroke is pale where it crosses few pixels — the top of a 9's loop, the join of a
    4 — and a single threshold loses it; connected to the rest of the digit, it is ink, not noise. Only
    small scans need it (see :func:`enlarge`); on large images it would cost ≈ 0.3 ms for nothing."""
    weak = cv2.threshold(ink, int(threshold * ratio), 255, cv2.THRESH_BINARY)[1]
    count, labels = cv2.connectedComponents(weak, connectivity=8)
    touched = np.zeros(count, np.uint8)
    touched[labels[mask > 0]] = 255
    touched[0] = 0
    return touched[labels]


def join_dots(ink: np.ndarray, mask: np.ndarray, outlines: list[np.ndarray], number: bool = False,
              ) -> tuple[np.ndarray, np.ndarray]:
    """A stroke drawn as a chain of separate dots — a drawing page that stamps the pen at each pointer
    event and never draws the line between them, under a fast mouse — with its dots joined: each dot to
    the neighbours it is a link with (a relative-neighbourhood graph of the marks: no third mark nearer to
    both ends, so the chain is followed and its curves are not cut across), by lines the dots' width,
    across gaps up to ``DOT_GAP`` times the typical gap between neighbours.

    Unchanged unless the ink is ``DOTTED_MARKS`` to ``MOST_DOTS`` marks, at least half of them round dots of
    one size, small beside the ink's height (a digit's strokes are one to four marks, specks of noise
    smaller than ``MIN_DOT``, a number's bold digits as round as dots but not small, a halftone more); and
    unchanged when the links make a grid (dotted notebook paper), or a single digit's links branch and
    zigzag (dots scattered at random: in a ``number`` the links between digits branch too), or the joined
    marks enclose more loops than a digit has — than a ``number`` has, one per ``DOTS_PER_HOLE`` marks —
    (pen-sized noise joins into a mesh). ``outlines`` are the marks' outlines, as :func:`drop_frame` gives
    them: counting them decides at no cost for nearly every image."""
    if not DOTTED_MARKS <= len(outlines) <= MOST_DOTS:
        return ink, mask
    boxes = np.array([cv2.boundingRect(c) for c in outlines])
    short, long = boxes[:, 2:].min(axis=1), boxes[:, 2:].max(axis=1)
    filled = np.array([cv2.countNonZero(mask[y : y + h, x : x + w]) for x, y, w, h in boxes]) / (short * long)
    round_ = (short >= MIN_DOT) & (long <= 2 * short) & (filled >= 0.5)  # a round dot fills π/4 of its box
    if not round_.any():
        return ink, mask
    pen = float(np.median(long[round_]))
    dots = round_ & (long >= pen / 2) & (long <= 2 * pen)
    x, y, w, h = cv2.boundingRect(mask)  # every shortest link lies within the marks' box
    if np.count_nonzero(dots) < max(DOTTED_MARKS, len(outlines) / 2) or pen > MOST_DOT_SIZE * h:
        return ink, mask
    links, roughness = _links(mask[y : y + h, x : x + w])
    if len(links) > MOST_LINKS * len(outlines) or (roughness > MOST_ROUGH and not number):
        return ink, mask
    joined_ink, joined = ink.copy(), mask.copy()
    strength, width = percentiles(ink, (90,), histogram(ink, mask))[0], max(1, round(pen))
    for (x0, y0), (x1, y1) in links:
        a, b = (x + x0, y + y0), (x + x1, y + y1)
        cv2.line(joined, a, b, 255, width)
        cv2.line(joined_ink, a, b, strength, width, cv2.LINE_AA)
    found, hierarchy = cv2.findContours(joined, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    loops = sum(1 for c, link in zip(found, hierarchy[0]) if link[3] >= 0 and cv2.contourArea(c) >= pen**2)
    most = max(MOST_DOTTED_HOLES, len(outlines) / DOTS_PER_HOLE) if number else MOST_DOTTED_HOLES
    return (ink, mask) if loops > most else (joined_ink, joined)


def _links(mask: np.ndarray) -> tuple[list[tuple[tuple[int, int], tuple[int, int]]], float]:
    """The pairs of nearest points by which the marks of ``mask`` are linked into chains (see
    :func:`join_dots`), and how rough the chains are (:func:`_how_rough`). Every pixel learns its nearest
    inked pixel (a distance transform with labels); where two neighbouring pixels learn pixels of different
    marks, those marks are neighbours and the two inked pixels a candidate link — the shortest one per pair
    of marks is their gap."""
    count, marks = cv2.connectedComponents(mask, connectivity=8)
    _, nearest = cv2.distanceTransformWithLabels(cv2.bitwise_not(mask), cv2.DIST_L2, 5,
                                                 labelType=cv2.DIST_LABEL_PIXEL)
    ys, xs = np.nonzero(mask)
    labels = nearest[ys, xs]  # each inked pixel is its own label
    mark_of, y_of, x_of = (np.zeros(int(labels.max()) + 1, np.int64) for _ in range(3))
    mark_of[labels], y_of[labels], x_of[labels] = marks[ys, xs], ys, xs
    owner = mark_of[nearest]  # the mark nearest to every pixel
    here, there = [], []
    for left, right, l_owner, r_owner in ((nearest[:, :-1], nearest[:, 1:], owner[:, :-1], owner[:, 1:]),
                                          (nearest[:-1], nearest[1:], owner[:-1], owner[1:])):
        border = l_owner != r_owner
        here.append(left[border])
        there.append(right[border])
    here, there = np.concatenate(here), np.concatenate(there)
    if here.size == 0:
        return [], 0.0
    first, second = np.sort(np.stack([mark_of[here], mark_of[there]]), axis=0)
    gap = np.hypot(x_of[here] - x_of[there], y_of[here] - y_of[there])
    key = first * count + second
    order = np.lexsort((gap, key))
    shortest = order[np.r_[True, key[order][1:] != key[order][:-1]]]  # per pair of marks, its gap
    a, b, gap, here, there = first[shortest], second[shortest], gap[shortest], here[shortest], there[shortest]
    gaps = np.full((count, count), np.inf)
    gaps[a, b] = gaps[b, a] = gap
    typical = float(np.median(gaps[1:].min(axis=1)))
    # a link is kept unless a third mark is nearer than it to both of its ends (it is then a chord)
    third = np.any((gaps[a] < gap[:, None]) & (gaps[b] < gap[:, None]), axis=1)
    keep = ~third & (gap <= DOT_GAP * max(typical, 1.0))
    here, there = here[keep], there[keep]
    links = [((int(x_of[i]), int(y_of[i])), (int(x_of[j]), int(y_of[j]))) for i, j in zip(here, there)]
    starts, ends = np.r_[here, there], np.r_[there, here]
    return links, _how_rough(mark_of[starts], starts, ends, x_of, y_of)


def _how_rough(marks: np.ndarray, starts: np.ndarray, ends: np.ndarray, x_of: np.ndarray, y_of: np.ndarray,
               ) -> float:
    """Of the linked marks, the fraction where a pen could not have passed: a mark with three links or
    more, or two links that turn back by more than a right angle. A chain of dots runs on (a dotted digit:
    median 0.05); dots scattered at random branch and zigzag (median 0.29)."""
    order = np.argsort(marks, kind="stable")
    marks, heading = marks[order], np.stack([x_of[ends] - x_of[starts], y_of[ends] - y_of[starts]], 1)[order]
    linked, first, links = np.unique(marks, return_index=True, return_counts=True)
    two = first[links == 2]
    sharp = np.count_nonzero((heading[two] * heading[two + 1]).sum(axis=1) > 0)
    return (np.count_nonzero(links >= 3) + sharp) / max(linked.size, 1)


def denoise(mask: np.ndarray, keep_fraction: float = 0.06, outlines: list[np.ndarray] | None = None,
            ) -> np.ndarray | None:
    """Drop what is not the digit: a printed box around it (:func:`_frame`), then specks — blobs smaller
    than ``keep_fraction`` of the largest, and single pixels, unless they lie within two pixels of other ink
    that together holds ``keep_fraction`` of the largest such group's (the dashes of a hairline). Returns
    None when nothing is left, and when what is left is more than ``MAX_DIGIT_MARKS`` separate marks: noise
    or a texture, not a digit. Contours, far cheaper than labelling components, decide whether there is
    anything to drop at all; ``outlines``, when :func:`drop_frame` has already run, are its."""
    mask, contours = drop_frame(mask) if outlines is None else (mask, outlines)
    if not contours:
        return None
    areas = np.array([max(cv2.contourArea(c), len(c) / 2) for c in contours])  # thin lines have ~0 area
    small = areas < max(1.0, keep_fraction * areas.max())
    if small.all() or np.count_nonzero(~small) > MAX_DIGIT_MARKS:
        return None
    if not small.any():
        return mask
    cleaned = mask.copy()
    cv2.drawContours(cleaned, [c for c, s in zip(contours, small) if s], -1, 0, thickness=cv2.FILLED)
    # A hairline comes out of the threshold as dashes (anti-aliasing leaves it pale between its beads), each
    # dash small beside the digit's largest blob: small pieces are weighed again together with the ink within
    # a pixel or two of them, so a dashed stroke comes back and a speck on its own still goes.
    count, groups = cv2.connectedComponents(cv2.dilate(mask, NEAR_PIECES), connectivity=8)
    weight = np.bincount(groups[mask > 0], minlength=count)  # label 0, the paper, holds no ink
    dashes = np.where(weight >= keep_fraction * weight.max(), 255, 0).astype(np.uint8)
    return cv2.bitwise_or(cleaned, cv2.bitwise_and(mask, dashes[groups]))


def drop_frame(mask: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """The mask without a printed box around its digits (:func:`_frame`), and the outlines of the blobs
    left — every blob's, those inside another blob's hole (a digit in a box, a speck in a loop) included."""
    found, hierarchy = cv2.findContours(mask, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    contours = [c for c, link in zip(found, hierarchy[0]) if link[3] < 0] if found else []
    boxed = _frame(contours, mask)
    if boxed is None:
        return mask, contours
    frame, held = boxed
    cleaned = mask.copy()
    cv2.drawContours(cleaned, [frame], -1, 0, thickness=cv2.FILLED)
    cv2.drawContours(cleaned, held, -1, 255, thickness=cv2.FILLED)  # their own holes come back from the mask
    return cv2.bitwise_and(cleaned, mask), [c for c in contours if c is not frame]


def _frame(contours: list[np.ndarray], mask: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]] | None:
    """A printed box around the digits (a form's field or its row of cells, a frame drawn on a page), and
    the blobs it holds: the largest blob, when its outline is a rectangle, it is lines rather than a filled
    area (paper read as ink is a rectangle too, with the digit's loops for holes), and what it holds is a
    digit's height within it, not a dot in a zero. A digit touching its box is one blob with it, and stays."""
    if len(contours) < 2:
        return None
    frame = max(contours, key=cv2.contourArea)
    corners = cv2.approxPolyDP(frame, 0.02 * cv2.arcLength(frame, True), True)
    (_, _), (width, height), _ = cv2.minAreaRect(frame)
    if len(corners) != 4 or cv2.contourArea(frame) < 0.85 * width * height:
        return None
    fx, fy, fw, fh = cv2.boundingRect(frame)
    if cv2.countNonZero(mask[fy : fy + fh, fx : fx + fw]) > MOST_FRAME_INK * fw * fh:
        return None
    held, top, bottom = [], fy + fh, fy
    for c in contours:
        x, y, w, h = cv2.boundingRect(c)
        if c is not frame and fx < x and fy < y and x + w < fx + fw and y + h < fy + fh:
            held.append(c)
            top, bottom = min(top, y), max(bottom, y + h)
    return (frame, held) if held and bottom - top >= 0.25 * fh else None


def edge_sharpness(ink: np.ndarray, mask: np.ndarray) -> float:
    """How abruptly the ink rises at the mask's edge: the mean gradient there, per pixel of the ink reduced
    to 64 px, over the ink's strength. A pen stroke, even blurred by a phone camera, rises within a pixel
    or two (0.18 and up on the canvases and photos of the robustness sets); the shadow of a hand or a
    fold on a blank page rises over dozens (0.06 and under)."""
    x, y, w, h = cv2.boundingRect(mask)
    ink, mask = ink[y : y + h, x : x + w], mask[y : y + h, x : x + w]
    scale = 64 / max(h, w)
    if scale < 1:
        size = scaled_size(ink.shape, scale)
        ink = cv2.resize(ink, size, interpolation=cv2.INTER_AREA)
        mask = cv2.resize(mask, size, interpolation=cv2.INTER_NEAREST)
    edge = cv2.morphologyEx(mask, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > 0
    if not edge.any():
        return 1.0
    gradient = cv2.magnitude(cv2.Sobel(ink, cv2.CV_32F, 1, 0), cv2.Sobel(ink, cv2.CV_32F, 0, 1)) / 8
    strength = percentiles(ink, (95,), histogram(ink, mask))[0] if mask.any() else 1
    return float(gradient[edge].mean()) / max(strength, 1)


def is_shadow(ink: np.ndarray, mask: np.ndarray) -> bool:
    """Ink that is only a shadow or a smudge on a blank page: it rises slowly at its edges (below
    ``MIN_SHARPNESS``) and it is a filled blob, not a line — a hairline, reduced for the measurement,
    looks soft too, but its stroke is a hundredth of its size, a shadow's a twentieth and more."""
    if edge_sharpness(ink, mask) >= MIN_SHARPNESS:
        return False
    x, y, w, h = cv2.boundingRect(mask)
    return stroke_width(mask[y : y + h, x : x + w]) > 0.03 * max(w, h)


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
        size = scaled_size(ink.shape, scale)
        # a hairline (a 2 px pen on a large tablet canvas) fades when reduced: bring it back to strength first
        ink = normalize_intensity(cv2.resize(ink, size, interpolation=cv2.INTER_AREA))
        mask = cv2.threshold(ink, 96, 255, cv2.THRESH_BINARY)[1]
        h, w = ink.shape
    if cv2.countNonZero(mask) == 0:
        return ink
    return restroke(ink, stroke_width(mask), target * max(h, w))


def restroke(ink: np.ndarray, width: float, want: float) -> np.ndarray:
    """Bring strokes ``width`` px wide toward ``want`` px: dilate thinner ones; erode only much thicker
    ones (a marker), since eroding eats small loops."""
    k = int(round(want - width))
    if k >= 1:
        return cv2.dilate(ink, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k + 1, k + 1)))
    if width > 1.8 * want:
        k = int(round((width - want) / 2)) * 2 + 1
        return cv2.erode(ink, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
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
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(ink, scaled_size(ink.shape, scale), interpolation=interpolation)


def normalize_intensity(ink: np.ndarray) -> np.ndarray:
    """Strokes at full strength, as in MNIST: scale so the strong ink (99th percentile of inked pixels)
    is 255, whatever the pen pressure, ink colour or lighting was."""
    hist = histogram(ink)
    hist[0] = 0
    if hist.sum() == 0:
        return ink
    top = percentiles(ink, (99,), hist)[0]
    return np.clip(ink.astype(np.float32) * (255.0 / max(top, 1.0)), 0, 255).astype(np.uint8)


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
