"""Real input beyond the robustness sets: small scans, digits small on a page, forms with printed boxes,
hairlines on a large canvas, numbers on ruled lines and askew, and sheets of paper photographed on a desk.

Three sets, each read by the lessons' naive recipe and by digitrec (same model), as dark ink on white PNGs:
- **real handwriting at 8×8**: scikit-learn's digits (UCI optdigits: 1 797 digits of 43 writers, 8×8
  with 17 grey levels) — independent of MNIST, writers and scanner both;
- **MNIST test digits as scans** of 28 px (as stored) and 14 px (halved, area-averaged): 10 000 each;
- **numbers**: 400 rows of 2–8 MNIST test digits, 2–5 px apart, at 28, 20 and 14 px high (whole number
  right counts; the naive recipe has no number reader, so it is not run on them);
- **small on a page**: the first 2 000 MNIST test digits and the numbers, at 28 and 14 px, each placed
  at a random spot of a 240×320 px white page (wider for long numbers) — written small, or photographed
  from afar;
- **forms**: the first 2 000 MNIST test digits at 120 px, each in a printed box (a 2 px rectangle, not
  touching it), and the numbers at 64 px a digit, in a row of printed cells and in one long field.
- **hairlines on a large canvas**: the first 400 MNIST test digits redrawn along their skeleton with a
  2 px pen, 600 px high on a 1000 px canvas (a tablet drawing app at full resolution, a fine pen scanned
  at high resolution);
- **a 1 px pen on a canvas**: the first 400 MNIST test digits redrawn along their skeleton, 1 px wide
  (a canvas's default ``lineWidth``), 168 px high on a 280 px canvas;
- **a dotted pen**: the first 400 MNIST test digits, 168 px high on a 280 px canvas, drawn as a drawing page
  draws them when it stamps a round dot (3–9 px) at each pointer event and never joins them — along the
  digit's skeleton, a dot every 8–12, 12–16 or 16–22 px (a fast mouse: the pointer's speed over the event rate);
  and the numbers of the forms' rows (2–8 digits) drawn so, 120 px high, one pen a number;
- **numbers on a ruled line**: the numbers at 2.5× their size sitting on a dark 2 px rule (a notebook
  line, a form's underline) that runs through the bottom of every digit, with rules above and below;
- **numbers askew**: the numbers at 2.5× their size on white, turned 8°, 12° and 20° (alternately either way),
  as a number is written across a page or photographed at an angle;
- **blank pages with a shadow**: 200 photos of a blank page — a gradient of light, a soft shadow (a hand,
  a fold; 0–70 grey levels deep, 30–90 px wide), sensor noise, a slight blur. Right means no digit
  answered;
- **a sheet on a desk**: the first 2 000 MNIST test digits (and the numbers, 2.5× their size) on a sheet of
  light paper lying a little askew (±8°) on a dark, grainy desk that shows around it — a note photographed
  from above;
- **notebook paper**: the first 400 MNIST test digits (and the numbers) photographed as the robustness
  photos are, written on ruled paper (between two rules) or on squared paper, whose lines are printed pale
  blue, blue, grey or dark (a form, a photocopy) and turn with the page.

    python benchmarks/real_world.py [--numbers 400] [--seed 0] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from skimage.morphology import skeletonize
from sklearn.datasets import load_digits

sys.path.insert(0, str(Path(__file__).parent))
from realistic import NotebookLines, draw_string, encode, photo_of_digit  # noqa: E402
from robustness import naive  # noqa: E402

from digitrec.data import load_dataset  # noqa: E402
from digitrec.inference import Recognizer  # noqa: E402


def halved(grey: np.ndarray, height: int) -> np.ndarray:
    h, w = grey.shape
    return cv2.resize(grey, (max(1, round(w * height / h)), height), interpolation=cv2.INTER_AREA)


def numbers(images: np.ndarray, labels: np.ndarray, count: int, seed: int) -> list[tuple[np.ndarray, str]]:
    """Rows of 2–8 MNIST digits cropped to their ink columns, 2–5 px apart, dark on white, 28 px high."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(count):
        picks = rng.integers(0, len(images), rng.integers(2, 9))
        columns = [np.zeros((28, 4), np.uint8)]
        for i in picks:
            inked = np.flatnonzero(images[i].max(0) > 0)
            columns += [images[i][:, inked[0] : inked[-1] + 1], np.zeros((28, int(rng.integers(2, 6))), np.uint8)]
        rows.append((255 - np.concatenate(columns, axis=1), "".join(str(labels[i]) for i in picks)))
    return rows


def on_page(grey: np.ndarray, rng: np.random.Generator, height: int = 240, width: int = 320) -> np.ndarray:
    width = max(width, grey.shape[1] + 20)
    page = np.full((height, width), 255, np.uint8)
    y, x = int(rng.integers(0, height - grey.shape[0])), int(rng.integers(0, width - grey.shape[1]))
    page[y : y + grey.shape[0], x : x + grey.shape[1]] = grey
    return page


def boxed(digit: np.ndarray) -> np.ndarray:
    """An MNIST digit (bright on black) at 120 px, dark on white, inside a printed 160 px box."""
    page = np.full((200, 200), 255, np.uint8)
    page[40:160, 40:160] = 255 - cv2.resize(digit, (120, 120), interpolation=cv2.INTER_CUBIC)
    cv2.rectangle(page, (20, 20), (180, 180), 0, 2)
    return page


def in_cells(digits: list[np.ndarray], one_field: bool, cell: int = 80) -> np.ndarray:
    """MNIST digits at 64 px written into a form: one printed cell each, or one long field around them."""
    page = np.full((140, 40 + len(digits) * cell), 255, np.uint8)
    for i, digit in enumerate(digits):
        page[38:102, 28 + i * cell : 92 + i * cell] = 255 - cv2.resize(digit, (64, 64), interpolation=cv2.INTER_CUBIC)
        if not one_field:
            cv2.rectangle(page, (20 + i * cell, 30), (20 + (i + 1) * cell, 110), 0, 2)
    if one_field:
        cv2.rectangle(page, (12, 24), (28 + len(digits) * cell, 116), 0, 2)
    return page


def hairline(digit: np.ndarray, side: int = 1000, pen: int = 2) -> np.ndarray:
    """An MNIST digit (bright on black) redrawn along its skeleton with a ``pen`` px pen, 0.6 of a
    ``side`` px white canvas high."""
    size = side * 6 // 10
    skeleton = skeletonize(cv2.resize(digit, (size, size), interpolation=cv2.INTER_CUBIC) > 100)
    stroke = skeleton.astype(np.uint8) * 255
    if pen > 1:
        stroke = cv2.dilate(stroke, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (pen, pen)))
    canvas = np.full((side, side), 255, np.uint8)
    canvas[side // 5 : side // 5 + size, side // 5 : side // 5 + size] = 255 - stroke
    return canvas


def pen_paths(skeleton: np.ndarray) -> list[np.ndarray]:
    """A skeleton's pixels as the paths a pen would take: from an end (a pixel with one neighbour), pixel
    to neighbouring pixel until none is left unvisited, then a new path (a branch, a loop) — (y, x) rows."""
    left = {(int(y), int(x)) for y, x in zip(*np.nonzero(skeleton))}
    steps = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx]
    paths = []
    while left:
        ends = [p for p in left if sum((p[0] + dy, p[1] + dx) in left for dy, dx in steps) == 1]
        here = min(ends or left)
        path = [here]
        left.discard(here)
        while step := next(((here[0] + dy, here[1] + dx) for dy, dx in steps if (here[0] + dy, here[1] + dx) in left),
                           None):
            path.append(step)
            left.discard(step)
            here = step
        paths.append(np.array(path, np.float64))
    return paths


def dotted(digit: np.ndarray, rng: np.random.Generator, apart: tuple[float, float], side: int = 280,
           radius: float | None = None) -> np.ndarray:
    """An MNIST digit (bright on black) drawn 0.6 of a ``side`` px white canvas high by a drawing page that
    stamps a round dot at each pointer event and never joins them: along the digit's skeleton, a dot every
    ``apart`` px or so (the pointer's speed over the event rate), 3–9 px wide (or ``radius`` px)."""
    size = side * 6 // 10
    skeleton = skeletonize(cv2.resize(digit, (size, size), interpolation=cv2.INTER_CUBIC) > 100)
    spacing, radius = rng.uniform(*apart), radius or rng.uniform(1.5, 4.5)
    canvas = np.full((side, side), 255, np.uint8)
    for path in pen_paths(skeleton):
        travelled = np.r_[0, np.cumsum(np.hypot(*np.diff(path, axis=0).T))]
        stops, at = [0], 0.0
        while (at := at + spacing * rng.uniform(0.75, 1.25)) < travelled[-1]:
            stops.append(int(np.searchsorted(travelled, at)))
        if travelled[-1] - travelled[stops[-1]] > spacing / 2:
            stops.append(len(path) - 1)  # the pointer's last event, where the pen was lifted
        for y, x in path[stops]:
            centre = (round((x + side // 5) * 16), round((y + side // 5) * 16))
            cv2.circle(canvas, centre, round(radius * 16), 0, -1, cv2.LINE_AA, shift=4)
    return canvas


def dotted_number(digits: list[np.ndarray], rng: np.random.Generator, apart: tuple[float, float]) -> np.ndarray:
    """MNIST digits drawn side by side with one dotted pen (:func:`dotted`), 120 px high, 10–30 px apart."""
    radius, columns = rng.uniform(1.5, 4.5), [np.full((180, 20), 255, np.uint8)]
    for digit in digits:
        drawn = dotted(digit, rng, apart, side=200, radius=radius)[10:190]
        inked = np.flatnonzero((drawn < 128).any(axis=0))
        columns += [drawn[:, inked[0] : inked[-1] + 1], np.full((180, int(rng.integers(10, 31))), 255, np.uint8)]
    return np.concatenate(columns, axis=1)


def on_desk(grey: np.ndarray, rng: np.random.Generator, margin: int = 60) -> np.ndarray:
    """A sheet bearing ``grey`` (dark on white), a margin of paper around it, lying askew on a dark desk."""
    h, w = grey.shape
    H, W = h + 4 * margin, w + 4 * margin
    photo = (np.full((H, W), 70.0) + rng.normal(0, 8, (H, W))).clip(0, 255)
    photo[margin : H - margin, margin : W - margin] = 235
    photo[2 * margin : 2 * margin + h, 2 * margin : 2 * margin + w] = grey * (235 / 255)
    turn = cv2.getRotationMatrix2D((W / 2, H / 2), float(rng.uniform(-8, 8)), 1.0)
    return cv2.warpAffine(photo.astype(np.uint8), turn, (W, H), borderValue=70)


def on_rules(grey: np.ndarray, margin: int = 40, spacing: int = 100) -> np.ndarray:
    """``grey`` (a row of 70 px digits, dark on white) with a margin, on ruled paper: a dark 2 px rule
    through the bottom of the digits and others ``spacing`` px above and below."""
    page = np.pad(grey, margin, constant_values=255)
    base = margin + grey.shape[0] - 6
    for y in range(base % spacing, page.shape[0] - 1, spacing):
        page[y : y + 2] = np.minimum(page[y : y + 2], 120)
    return page


def shadowed_blank(rng: np.random.Generator, side: int = 300) -> np.ndarray:
    """A photographed blank page: uneven light, one soft shadow, noise, a little blur."""
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float32)
    shadow = np.exp(-((xx - rng.uniform(0, side)) ** 2 + (yy - rng.uniform(0, side)) ** 2) / (2 * rng.uniform(30, 90) ** 2))
    page = 225 - rng.uniform(0, 0.25) * xx - rng.uniform(0, 0.2) * yy - rng.uniform(0, 70) * shadow
    page = cv2.GaussianBlur(page + rng.normal(0, rng.uniform(1, 6), page.shape), (0, 0), rng.uniform(0.5, 1.5))
    return np.clip(page, 0, 255).astype(np.uint8)


def askew(grey: np.ndarray, angle: float, margin: int = 60) -> np.ndarray:
    """``grey`` (dark on white) with a white margin, turned by ``angle`` degrees on a canvas that holds it."""
    grey = np.pad(grey, margin, constant_values=255)
    h, w = grey.shape
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(turn[0, 0]), abs(turn[0, 1])
    width, height = int(h * sin + w * cos), int(h * cos + w * sin)
    turn[0, 2] += width / 2 - w / 2
    turn[1, 2] += height / 2 - h / 2
    return cv2.warpAffine(grey, turn, (width, height), borderValue=255)


# A notebook's lines as printed: pale blue, blue, grey, and dark (a form, a photocopy)
LINE_COLOURS = [(170, 200, 235), (120, 160, 215), (150, 150, 150), (90, 90, 90)]


def notebook(kind: str, rng: np.random.Generator) -> NotebookLines:
    """Ruled paper, the digits written between two rules (0.6–0.95 of their spacing high), or squared
    paper, the digits over 1.2–2.5 squares; the lines of one of ``LINE_COLOURS``."""
    spacing = 1 / rng.uniform(0.6, 0.95) if kind == "ruled" else 1 / rng.uniform(1.2, 2.5)
    return NotebookLines(kind, spacing, LINE_COLOURS[int(rng.integers(len(LINE_COLOURS)))])


def score(recognizer: Recognizer, samples: list[tuple[np.ndarray | bytes, str]], number: bool = False) -> dict:
    encoded = [(image if isinstance(image, bytes) else encode(image), label) for image, label in samples]
    start = time.perf_counter()
    if number:
        ours = sum(recognizer.read_number_bytes(data).text == label for data, label in encoded)
    else:
        ours = sum(str(recognizer.predict_bytes(data).digit) == label for data, label in encoded)
    ms = (time.perf_counter() - start) * 1000 / len(encoded)
    out = {"n": len(encoded), "digitrec": ours / len(encoded), "ms_per_image": round(ms, 2)}
    if not number:
        out["naive"] = sum(naive(recognizer, data) == label for data, label in encoded) / len(encoded)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--numbers", type=int, default=400, help="numbers per height")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    recognizer = Recognizer(threads=1)
    optdigits = load_digits()
    test = load_dataset("mnist", "test", progress=False)
    mnist = [(255 - image, str(label)) for image, label in zip(test.images, test.labels)]
    rows = numbers(test.images, test.labels, args.numbers, args.seed)
    picks = np.random.default_rng(args.seed).integers(0, len(test.images), (args.numbers, 8))
    forms = [([test.images[i] for i in p[: 2 + n % 7]], "".join(str(test.labels[i]) for i in p[: 2 + n % 7]))
             for n, p in enumerate(picks)]
    results = {
        "real handwriting, 8 px (optdigits)": score(recognizer, [
            ((255 - image * (255 / 16)).astype(np.uint8), str(label))
            for image, label in zip(optdigits.images, optdigits.target)]),
        "MNIST test, 28 px": score(recognizer, mnist),
        "MNIST test, 14 px": score(recognizer, [(halved(grey, 14), label) for grey, label in mnist]),
    }
    for height in (28, 20, 14):
        results[f"numbers, {height} px high"] = score(
            recognizer, [(grey if height == 28 else halved(grey, height), text) for grey, text in rows], number=True)
    rng = np.random.default_rng(args.seed)
    for height in (28, 14):
        results[f"digit {height} px on a page"] = score(recognizer, [
            (on_page(grey if height == 28 else halved(grey, height), rng), label) for grey, label in mnist[:2000]])
        results[f"number {height} px high on a page"] = score(recognizer, [
            (on_page(grey if height == 28 else halved(grey, height), rng), text) for grey, text in rows], number=True)
    results["digit in a printed box"] = score(recognizer, [(boxed(image), str(label)) for image, label
                                                           in zip(test.images[:2000], test.labels[:2000])])
    for one_field, name in ((False, "number in printed cells"), (True, "number in a printed field")):
        results[name] = score(recognizer, [(in_cells(digits, one_field), text) for digits, text in forms], number=True)
    results["1 px pen on a 280 px canvas"] = score(recognizer, [(hairline(image, side=280, pen=1), str(label))
                                                               for image, label in zip(test.images[:400], test.labels[:400])])
    results["hairline, 2 px pen on 1000 px"] = score(recognizer, [(hairline(image), str(label)) for image, label
                                                                 in zip(test.images[:400], test.labels[:400])])
    pen = np.random.default_rng(args.seed)  # its own stream: the rows after these keep their samples
    for apart in ((8, 12), (12, 16), (16, 22)):
        results[f"dotted pen, dots {apart[0]}–{apart[1]} px apart"] = score(recognizer, [
            (dotted(image, pen, apart), str(label))
            for image, label in zip(test.images[:400], test.labels[:400])])
    for apart in ((8, 12), (12, 16), (16, 22)):
        results[f"number, dotted pen, {apart[0]}–{apart[1]} px"] = score(recognizer, [
            (dotted_number(digits, pen, apart), text) for digits, text in forms], number=True)
    results["number on a ruled line"] = score(recognizer, [
        (on_rules(cv2.resize(grey, None, fx=2.5, fy=2.5, interpolation=cv2.INTER_CUBIC)), text)
        for grey, text in rows], number=True)
    for angle in (8, 12, 20):
        results[f"number askew by {angle}°"] = score(recognizer, [
            (askew(cv2.resize(grey, None, fx=2.5, fy=2.5, interpolation=cv2.INTER_CUBIC), angle * (-1) ** n), text)
            for n, (grey, text) in enumerate(rows)], number=True)
    results["blank page with a shadow (no digit)"] = score(recognizer, [(shadowed_blank(rng), "None")
                                                                       for _ in range(200)])
    results["digit on a sheet on a desk"] = score(recognizer, [
        (on_desk(cv2.resize(grey, (160, 160), interpolation=cv2.INTER_CUBIC), rng, 40), label)
        for grey, label in mnist[:2000]])
    results["number on a sheet on a desk"] = score(recognizer, [
        (on_desk(cv2.resize(grey, None, fx=2.5, fy=2.5, interpolation=cv2.INTER_CUBIC), rng), text)
        for grey, text in rows], number=True)
    lined = np.random.default_rng(args.seed)  # its own stream, as the dotted pen's
    for kind in ("ruled", "squared"):
        results[f"digit photographed on {kind} paper"] = score(recognizer, [
            (photo_of_digit(image, lined, notebook(kind, lined)), str(label))
            for image, label in zip(test.images[:400], test.labels[:400])])
        results[f"number photographed on {kind} paper"] = score(recognizer, [
            (draw_string(digits, lined, False, True, notebook(kind, lined))[0], text) for digits, text in forms],
            number=True)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"{'set':36} {'n':>6} {'naive':>8} {'digitrec':>9} {'ms/image':>9}")
    for name, r in results.items():
        naive_text = f"{r['naive'] * 100:7.2f}%" if "naive" in r else f"{'—':>8}"
        print(f"{name:36} {r['n']:6d} {naive_text} {r['digitrec'] * 100:8.2f}% {r['ms_per_image']:9.2f}")


if __name__ == "__main__":
    main()
