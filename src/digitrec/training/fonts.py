"""Digits in other hands: a folder dataset of digits drawn from handwriting fonts.

MNIST's writers are one population (American census staff and students of the 1990s). A handwriting font
is one person's hand drawn out as glyphs — crossed 7s, flagged 1s, open 4s, brush and marker strokes — and
Debian packages dozens of them. Each example is one font's digit varied as writers vary it (turned, slanted,
a thinner or bolder pen), at a random size, dark on white: a picture as a user would send it, so that
``digitrec train --extra DIR`` prepares it with the same pipeline as ``predict``.

The default fonts are disjoint from ``benchmarks/handwriting_fonts.py``'s, which measures hands that no
model here has seen.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from digitrec.errors import DataError
from digitrec.preprocess import stages

FONT_DIR = Path("/usr/share/fonts")
# Hands for training, each font's digits drawn by hand: name -> file under FONT_DIR.
TRAINING_FONTS = {
    "kiloji": "truetype/kiloji/kiloji.ttf",
    "kiloji P": "truetype/kiloji/kiloji_p.ttf",
    "Tomson Talks": "truetype/tomsontalks/TomsonTalks.ttf",
    "Purisa": "opentype/tlwg/Purisa.otf",
    "Purisa Oblique": "opentype/tlwg/Purisa-Oblique.otf",
    "Domestic Manners": "truetype/dustin/Domestic_Manners.ttf",
    "Junkyard": "truetype/dustin/Junkyard.ttf",
    "Kaushan Script": "opentype/kaushanscript/KaushanScript-Regular.otf",
    "Leckerli One": "truetype/leckerli-one/LeckerliOne-Regular.ttf",
    "Aoyagi Kouzan T": "truetype/aoyagi-kouzan-t/AoyagiKouzanT.ttf",
    "Aoyagi Soseki": "truetype/aoyagi-soseki/aoyagi-soseki.ttf",
    "Kouzan Mouhitsu": "truetype/kouzan-mouhitsu/kouzan-mouhitsu.ttf",
    "Kouzan Brush Sousyo": "truetype/kouzan-mouhitsu/KouzanBrushFontSousyo.ttf",
    "Navilu": "truetype/Navilu/Navilu.ttf",
    "Havana": "opentype/havana/Havana-Regular.otf",
    "Lobster": "opentype/lobster/lobster.otf",
}
# The Debian packages that hold them (scripts/system-deps.sh --fonts installs these too).
TRAINING_FONT_PACKAGES = (
    "fonts-kiloji", "fonts-tomsontalks", "fonts-tlwg-purisa-otf", "fonts-dustin", "fonts-kaushanscript",
    "fonts-leckerli-one", "fonts-aoyagi-kouzan-t", "fonts-aoyagi-soseki", "fonts-kouzan-mouhitsu",
    "fonts-navilu", "fonts-havana", "fonts-lobster",
)
GLYPH_SIZE = 200  # px of font size the glyphs are drawn at before they are varied and scaled
HEIGHTS = (40, 120)  # px: the digit's height in the picture, from a small scan to a large canvas


def installed_training_fonts(font_dir: Path = FONT_DIR) -> tuple[dict[str, Path], list[str]]:
    """The default fonts found under ``font_dir``, and the names of those missing."""
    found = {name: font_dir / rel for name, rel in TRAINING_FONTS.items() if (font_dir / rel).is_file()}
    return found, [name for name in TRAINING_FONTS if name not in found]


def glyphs(path: Path) -> list[np.ndarray]:
    """The font's ten digits as ink (float, [0, 1]), on one baseline: every glyph the height of the tallest
    digit's box, so a 7 that drops below the line keeps its place."""
    try:
        font = ImageFont.truetype(str(path), GLYPH_SIZE)
    except OSError as e:
        raise DataError(f"{path}: not a font Pillow can read ({e})") from None
    boxes = [font.getbbox(str(d)) for d in range(10)]
    top, bottom = min(b[1] for b in boxes), max(b[3] for b in boxes)
    inks = []
    for d, (left, _, right, _) in enumerate(boxes):
        image = Image.new("L", (max(1, right - left) + 8, max(1, bottom - top) + 8), 0)
        ImageDraw.Draw(image).text((4 - left, 4 - top), str(d), font=font, fill=255)
        inks.append(np.asarray(image, np.float32) / 255)
    if any(ink.max() < 0.5 for ink in inks) or len({ink.tobytes() for ink in inks}) < 10:
        raise DataError(f"{path}: the font has no glyphs of its own for all ten digits")
    return inks


def trim(ink: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(ink > 0.05)
    if ys.size == 0:
        return ink
    return ink[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]


def pen(rng: np.random.Generator) -> float:
    """How much wider (or narrower) than the font's this writer's pen is: 0.6–2×, log-uniform."""
    return float(np.exp(rng.uniform(np.log(0.6), np.log(2.0))))


def varied(ink: np.ndarray, rng: np.random.Generator, pen: float = 1.0) -> np.ndarray:
    """``ink`` as another writer of the same hand would draw it: turned ±8°, slanted ±0.2, and with a pen
    ``pen`` times as wide as the font's (kept to whole pixels of the glyph's size)."""
    h, w = ink.shape
    pad = h // 3
    ink = np.pad(ink, pad)
    middle = h / 2 + pad
    turn = np.vstack([cv2.getRotationMatrix2D((w / 2 + pad, middle), rng.uniform(-8, 8), 1.0), [0, 0, 1]])
    slant = rng.uniform(-0.2, 0.2)
    shear = np.array([[1, slant, -slant * middle], [0, 1, 0]])  # x moves by slant × (distance above the middle)
    ink = cv2.warpAffine(ink, shear @ turn, ink.shape[::-1], flags=cv2.INTER_LINEAR)
    width = stages.stroke_width(np.where(ink > 0.5, 255, 0).astype(np.uint8))
    grow = round((pen - 1) * width / 2)  # px added (or taken) on each side of a stroke
    if grow:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * abs(grow) + 1, 2 * abs(grow) + 1))
        ink = cv2.erode(ink, kernel) if grow < 0 else cv2.dilate(ink, kernel)
    return trim(ink)


def picture(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The digit ``HEIGHTS`` px high, dark ink on white paper with a margin: a grey uint8 image."""
    height = int(rng.integers(HEIGHTS[0], HEIGHTS[1] + 1))
    h, w = ink.shape
    ink = cv2.resize(ink, (max(1, round(w * height / h)), height), interpolation=cv2.INTER_AREA)
    margin = int(rng.integers(height // 8, height // 2 + 1))
    ink = np.pad(ink, margin)
    darkness = rng.uniform(0.75, 1.0)  # pencil to black ink
    return np.round(255 * (1 - darkness * np.clip(ink, 0, 1))).astype(np.uint8)


def write_font_digits(out: Path, fonts: dict[str, Path], per_digit: int, seed: int = 0,
                      advance: Callable[[int], None] | None = None) -> int:
    """Write ``per_digit`` varied pictures of each digit of each font as ``out/<digit>/<font>-<n>.png``.

    Returns how many were written. Deterministic for a seed: each font draws from its own generator, so
    adding a font leaves the others' pictures as they were."""
    inks = {name: glyphs(path) for name, path in fonts.items()}  # every font checked before anything is written
    for digit in range(10):
        (out / str(digit)).mkdir(parents=True, exist_ok=True)
    written = 0
    for name, digits in inks.items():
        rng = np.random.default_rng([seed, *name.encode()])
        stem = "".join(c if c.isalnum() else "-" for c in name.lower())
        for digit, ink in enumerate(digits):
            for n in range(per_digit):
                cv2.imwrite(str(out / str(digit) / f"{stem}-{n:04d}.png"), picture(varied(ink, rng, pen(rng)), rng))
                written += 1
            if advance:
                advance(per_digit)
    return written
