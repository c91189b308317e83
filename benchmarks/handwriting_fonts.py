"""Digits in other people's hands: handwriting fonts from Debian, read as canvases, photos and numbers.

Every other set here is made of MNIST digits — one population of American writers of the 1990s, whichever
way they are redrawn. A handwriting font is a person's hand drawn out as glyphs, and Debian packages more
than twenty of them, English, Japanese and Korean — the lessons' languages: crossed 7s, flagged 1s, open 4s,
9s with a straight tail, brush and marker strokes. Nothing here was seen in training.

Each font's digits are varied as people vary them (turned ±8°, slanted ±0.2, drawn thinner or bolder) and
read as:
- **canvases**: one digit at 30–90 % of a 280×280 canvas, anywhere on it, dark on white (PNG);
- **photos**: one digit on paper photographed (the robustness benchmark's uneven light, shadow, tinted
  ink, noise, blur, slight turn and JPEG);
- **numbers**: 2–8 digits of one font in a row, on a white page or photographed, gaps as the font sets
  them, wider or narrower, a quarter of them touching (whole number right counts).

    python benchmarks/handwriting_fonts.py [--per-digit 20] [--numbers 20] [--seed 0] [--json]

Needs the fonts: ``apt-get install fonts-bwht fonts-breip fonts-dkg-handwriting fonts-humor-sans fonts-klee
fonts-rufscript fonts-seto fonts-nanum-extra fonts-yusei-magic fonts-sjfonts fonts-comic-neue fonts-kristi
fonts-dancingscript`` (``scripts/system-deps.sh --fonts``); a font that is missing is left out and named.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from realistic import encode, paper_photo, trim  # noqa: E402
from robustness import ours  # noqa: E402

from digitrec.inference import Recognizer  # noqa: E402
from digitrec.training.fonts import FONT_DIR, glyphs, pen, varied  # noqa: E402

# Handwriting fonts whose digits are drawn by hand (fonts whose digits are outlines or type are not here);
# none of them is among the fonts `digitrec data fonts` draws training digits from.
FONTS = {
    "Because We Build (bwht)": "opentype/bwht/BecauseWeBuild-Regular.otf",
    "Because We Connect (bwht)": "opentype/bwht/BecauseWeConnect-Regular.otf",
    "Because We Create (bwht)": "opentype/bwht/BecauseWeCreate-Regular.otf",
    "Because We Learn (bwht)": "opentype/bwht/BecauseWeLearn-Regular.otf",
    "Because We Mentor (bwht)": "opentype/bwht/BecauseWeMentor-Regular.otf",
    "Because We Organize (bwht)": "opentype/bwht/BecauseWeOrganize-Regular.otf",
    "Breip": "truetype/breip/Breip.ttf",
    "dkg handwriting": "truetype/fifthhorseman/dkg.ttf",
    "dkg handwriting, italic": "truetype/fifthhorseman/dkgIt.ttf",
    "Humor Sans": "truetype/humor-sans/Humor-Sans.ttf",
    "Klee One (ja)": "truetype/klee/KleeOne-Regular.ttf",
    "Rufscript": "truetype/rufscript/Rufscript010.ttf",
    "Seto (ja)": "truetype/seto/setofont.ttf",
    "Nanum Pen (ko)": "truetype/nanum/NanumPen.ttf",
    "Nanum Brush (ko)": "truetype/nanum/NanumBrush.ttf",
    "Nanum Barun Pen (ko)": "truetype/nanum/NanumBarunpenR.ttf",
    "Yusei Magic (ja)": "truetype/yusei-magic/YuseiMagic-Regular.ttf",
    "Delphine (sjfonts)": "truetype/sjfonts/Delphine.ttf",
    "Steve Hand (sjfonts)": "truetype/sjfonts/SteveHand.ttf",
    "Comic Neue": "opentype/comic-neue/ComicNeue-Regular.otf",
    "Kristi": "truetype/kristi/Kristi.ttf",
    "Dancing Script": "opentype/dancingscript/DancingScript-Regular.otf",
}


def scaled(ink: np.ndarray, height: int) -> np.ndarray:
    h, w = ink.shape
    return cv2.resize(ink, (max(1, round(w * height / h)), height), interpolation=cv2.INTER_AREA)


def canvas(ink: np.ndarray, rng: np.random.Generator, side: int = 280) -> bytes:
    ink = scaled(ink, int(rng.uniform(0.3, 0.9) * side))
    h, w = ink.shape
    if w > side:
        ink = cv2.resize(ink, (side - 10, max(1, h * (side - 10) // w)), interpolation=cv2.INTER_AREA)
        h, w = ink.shape
    page = np.zeros((side, side), np.float32)
    y, x = rng.integers(0, side - h + 1), rng.integers(0, side - w + 1)
    page[y : y + h, x : x + w] = ink
    return encode(np.round(255 * (1 - page)).astype(np.uint8))


def photo(ink: np.ndarray, rng: np.random.Generator) -> bytes:
    return paper_photo(scaled(ink, int(rng.uniform(80, 300))), rng)


def number(inks: list[np.ndarray], rng: np.random.Generator, touching: bool, photographed: bool) -> bytes:
    """Glyphs in a row on their shared baseline: the font's spacing made wider or narrower, or touching."""
    height = int(rng.uniform(50, 110))
    inks = [scaled(ink, height) for ink in inks]
    gaps = [-int(rng.uniform(0.02, 0.12) * height) if touching and rng.random() < 0.6
            else int(rng.uniform(0.08, 0.5) * height) for _ in inks]
    line = np.zeros((height + height, sum(i.shape[1] for i in inks) + sum(max(g, 0) for g in gaps) + height),
                    np.float32)
    x = height // 2
    for ink, gap in zip(inks, gaps):
        h, w = ink.shape
        line[height // 2 : height // 2 + h, x : x + w] = np.maximum(line[height // 2 : height // 2 + h, x : x + w], ink)
        x += w + gap
    line = trim(line)
    if photographed:
        size = (int(line.shape[0] * rng.uniform(1.6, 3)), int(line.shape[1] * rng.uniform(1.15, 1.5)))
        return paper_photo(line, rng, size)
    return encode(np.round(255 * (1 - np.pad(line, height // 2))).astype(np.uint8))


def run(per_digit: int, numbers: int, seed: int, model: str | None = None) -> dict:
    recognizer = Recognizer(model, threads=1)
    rng = np.random.default_rng(seed)
    found = {name: FONT_DIR / path for name, path in FONTS.items() if (FONT_DIR / path).exists()}
    missing = sorted(set(FONTS) - set(found))
    kinds = ("canvas", "photo", "number", "number photo")
    right = {kind: 0 for kind in kinds}
    count = {kind: 0 for kind in kinds}
    per_font: dict[str, dict] = {}
    misreads: Counter[str] = Counter()
    seconds = 0.0
    for name, path in found.items():
        inks = glyphs(path)
        font_right = font_count = 0
        samples = []
        for digit in range(10):
            for n in range(per_digit):
                kind = "canvas" if n % 2 == 0 else "photo"
                ink = varied(inks[digit], rng, pen(rng))
                samples.append((kind, (canvas if kind == "canvas" else photo)(ink, rng), str(digit)))
        for n in range(numbers):
            digits = rng.integers(0, 10, int(rng.integers(2, 9)))
            kind = "number" if n % 2 == 0 else "number photo"
            writer = pen(rng)  # one pen for the whole number
            data = number([varied(inks[d], rng, writer) for d in digits], rng, rng.random() < 0.25, kind == "number photo")
            samples.append((kind, data, "".join(map(str, digits))))
        for kind, data, truth in samples:
            start = time.perf_counter()
            answer = ours(recognizer, data, "string" if kind.startswith("number") else kind)
            seconds += time.perf_counter() - start
            ok = answer == truth
            right[kind] += ok
            count[kind] += 1
            font_right += ok
            font_count += 1
            if not ok and not kind.startswith("number"):
                misreads[f"{truth}→{answer or '-'}"] += 1
        per_font[name] = {"right": font_right, "n": font_count}
    return {
        "fonts": len(found), "missing": missing, "seed": seed,
        "sets": {kind: {"n": count[kind], "right": right[kind],
                        "accuracy": right[kind] / count[kind] if count[kind] else None} for kind in kinds},
        "per_font": per_font,
        "misreads": dict(misreads.most_common()),
        "ms_per_image": 1000 * seconds / max(1, sum(count.values())),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-digit", type=int, default=20, help="images per digit and font (half canvases)")
    parser.add_argument("--numbers", type=int, default=20, help="numbers per font (half photographed)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", default=None, help="model directory or registry name (default: bundled)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args.per_digit, args.numbers, args.seed, args.model)
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return
    if result["missing"]:
        print(f"fonts not installed, left out: {', '.join(result['missing'])}")
    print(f"{result['fonts']} fonts, seed {result['seed']}, {result['ms_per_image']:.2f} ms per image")
    for kind, r in result["sets"].items():
        print(f"  {kind:13} {r['right']:5d} of {r['n']:5d}  {100 * r['accuracy']:6.2f} %")
    print("per font: " + ", ".join(f"{name} {r['right']}/{r['n']}" for name, r in result["per_font"].items()))
    print("misread digits: " + ", ".join(f"{k} ×{v}" for k, v in result["misreads"].items()))


if __name__ == "__main__":
    main()
