"""The preprocessing pipeline shared by the CLI, the Python API and the service: one code path.

``prepare_digit`` runs the named stages of :mod:`digitrec.preprocess.stages` on a grey image and returns
the 28×28 float image the model sees, or ``None`` for a blank input. With ``trace=True`` it also keeps a
snapshot after each stage, which ``predict --explain`` draws as a strip.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import cv2
import numpy as np

from digitrec.preprocess import rules, stages
from digitrec.preprocess.decode import decode, to_grey


@dataclass(frozen=True)
class PreprocessConfig:
    """Switches for the optional stages; the defaults are what the bundled model was measured with."""

    flatten_light: bool = True
    normalize_stroke: bool = True
    deskew: bool = False
    # "auto": estimate paper and ink polarity; "light" / "dark": assume light (or dark) paper of one level,
    # the hypotheses the Recognizer falls back on when the automatic reading is unsure
    paper: str = "auto"

    def to_dict(self) -> dict:
        return {"flatten_light": self.flatten_light, "normalize_stroke": self.normalize_stroke,
                "deskew": self.deskew, "paper": self.paper, "box": stages.MNIST_BOX, "size": stages.MNIST_SIZE,
                "centre": "mass", "ink": "bright-on-dark", "range": [0.0, 1.0]}


DEFAULT = PreprocessConfig()


@dataclass
class Prepared:
    """The model's input for one digit (None when the image holds no ink) and, if asked, every stage."""

    image: np.ndarray | None  # float32 (28, 28) in [0, 1]
    trace: list[tuple[str, np.ndarray]] = field(default_factory=list)
    ink_fraction: float = 0.0  # of the image's pixels taken as ink: near 1 means the paper was read as ink


def prepare_digit(grey: np.ndarray, config: PreprocessConfig = DEFAULT, trace: bool = False) -> Prepared:
    """Run the stages on one grey uint8 image that shows a single digit."""
    snapshots: list[tuple[str, np.ndarray]] = []

    def keep(name: str, image: np.ndarray) -> np.ndarray:
        if trace:
            snapshots.append((name, image))
        return image

    keep("grey", grey)
    found, _ = stages.sheet(grey)
    if found is not grey:  # a sheet of paper on a desk: read the sheet
        grey = keep("sheet", found)
    grey, factor = stages.enlarge(grey)
    if factor > 1:
        keep("enlarge", grey)
    ink, mask = _find_ink(grey, config, factor > 1, keep)
    if mask is not None and factor == 1 and (region := stages.small_ink_region(grey, cv2.boundingRect(mask))):
        grey, factor, _ = region  # a small digit in a large image: start again on its region, enlarged
        del snapshots[1:]
        keep("enlarge", grey)
        ink, mask = _find_ink(grey, config, True, keep)
    if mask is None or (factor == 1 and stages.is_shadow(ink, mask)):
        return Prepared(None, snapshots)  # blank, or only a shadow (small scans are soft by enlargement)
    keep("binarize", mask)
    ink_fraction = cv2.countNonZero(mask) / mask.size
    ink, mask = stages.crop(ink, mask)
    keep("crop", ink)
    if config.normalize_stroke:
        ink = keep("stroke", stages.normalize_stroke(ink, mask))
    if config.deskew:
        ink = keep("deskew", stages.deskew(ink))
    ink = keep("fit", stages.normalize_intensity(stages.fit(ink)))
    final = keep("centre", stages.centre(ink))
    return Prepared(final.astype(np.float32) * (1.0 / 255.0), snapshots, ink_fraction)


def _find_ink(grey: np.ndarray, config: PreprocessConfig, faint: bool,
              keep: Callable[[str, np.ndarray], np.ndarray]) -> tuple[np.ndarray, np.ndarray | None]:
    """Paper, polarity and light: the bright-ink image, and its binary mask without specks (None: blank)."""
    if config.paper == "light":  # one light paper level: the brightest pixels; the ink is dark
        background, dark = stages.percentiles(grey, (99.5,))[0], True
    elif config.paper == "dark":
        background, dark = stages.percentiles(grey, (0.5,))[0], False
    else:
        background = stages.paper(grey) if config.flatten_light else stages.percentiles(grey, (50,))[0]
        dark = stages.ink_is_dark(grey, background)
    keep("polarity", stages.orient(grey, dark))
    ink = keep("light", stages.flatten_light(grey, background, dark))
    mask = stages.ink_mask(ink, faint=faint)
    if mask is None:
        return ink, None
    unruled = rules.drop_rules(mask, ink)  # a notebook's rules or squared paper behind the digit
    if unruled is not mask:
        ink, mask = keep("rules", cv2.bitwise_and(ink, ink, mask=unruled)), unruled
    mask, outlines = stages.drop_frame(mask)  # a printed box around the digit is neither dots nor specks
    joined_ink, joined = stages.join_dots(ink, mask, outlines)
    if joined is not mask:  # a stroke of separate dots, joined
        ink, mask, outlines = keep("dots", joined_ink), joined, None
    return ink, stages.denoise(mask, outlines=outlines)


def prepare_bytes(data: bytes, name: str = "image", config: PreprocessConfig = DEFAULT,
                  trace: bool = False) -> Prepared:
    """Decode image bytes and prepare the single digit they show."""
    decoded = decode(data, name)
    prepared = prepare_digit(to_grey(decoded), config, trace)
    if trace:
        prepared.trace.insert(0, ("decode", decoded))
    return prepared
