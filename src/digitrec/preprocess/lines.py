"""What the number reader sees: a run of digits scaled to MNIST's 20 px height, strokes evened out, on a
black strip 28 px tall. The same function prepares the reader's training lines and the blobs it reads."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from digitrec.preprocess import stages

LINE_HEIGHT = stages.MNIST_SIZE
DIGIT_HEIGHT = stages.MNIST_BOX
MARGIN = 4  # black columns each side, so the first and last digit have context like the middle ones
STEP = 4  # input columns per output step of the reader (its two 2× poolings)
MAX_COLUMNS = 1024  # about 50 digits: a longer run is squeezed, so time and memory stay bounded


@dataclass
class LineInput:
    image: np.ndarray  # float32 (28, W), W a multiple of STEP, in [0, 1]
    x0: int  # the piece's first inked column ...
    scale: float  # ... and its scale: input column = MARGIN + (piece column - x0) · scale

    def piece_column(self, step: int) -> float:
        """The piece's column under the centre of an output step."""
        return self.x0 + (STEP * step + STEP / 2 - MARGIN) / self.scale


def to_line_input(piece: np.ndarray, min_width: int = 0) -> LineInput | None:
    """A run of digits (bright ink on black, uint8, any size) -> the reader's input; None when empty.
    ``min_width`` pads the strip to at least that many columns (training batches share one width)."""
    rows, cols = np.flatnonzero(piece.any(1)), np.flatnonzero(piece.any(0))
    if rows.size == 0:
        return None
    ink = piece[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h, w = ink.shape
    scale = DIGIT_HEIGHT / h
    width = min(max(1, round(w * scale)), MAX_COLUMNS)
    ink = cv2.resize(ink, (width, DIGIT_HEIGHT), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    ink = stages.normalize_intensity(_even_stroke(ink))
    total = max(min_width, -(-(width + 2 * MARGIN) // STEP) * STEP)
    strip = np.zeros((LINE_HEIGHT, total), np.float32)
    top = (LINE_HEIGHT - DIGIT_HEIGHT) // 2
    strip[top : top + DIGIT_HEIGHT, MARGIN : MARGIN + width] = ink * (1.0 / 255.0)
    return LineInput(strip, int(cols[0]), width / w)


def _even_stroke(ink: np.ndarray, target: float = stages.MNIST_STROKE) -> np.ndarray:
    """Thicken hairlines and thin marker strokes toward MNIST's stroke width for digits of this height
    (as :func:`stages.normalize_stroke` does for one digit, judged by the height, not the run's length)."""
    mask = cv2.threshold(ink, 96, 255, cv2.THRESH_BINARY)[1]
    if cv2.countNonZero(mask) == 0:
        return ink
    evened = stages.restroke(ink, stages.stroke_width(mask), target * DIGIT_HEIGHT)
    return evened if evened.any() else ink  # blots with no stroke to thin are kept as they are
