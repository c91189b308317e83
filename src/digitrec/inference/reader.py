"""The number reader: a small ONNX network with a CTC head that reads a run of touching digits, left to
right, where cutting them apart first and reading each piece fails (a "14" read as one confident 4)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from digitrec.inference.sessions import cpu_session
from digitrec.modeldir import BUNDLED
from digitrec.preprocess.lines import LINE_HEIGHT, to_line_input

READER_FILE = "reader.onnx"  # its name in the bundle and in what `digitrec train-reader` writes
READER = BUNDLED / READER_FILE


class NumberReader:
    """``read(pieces)`` → for each piece (a blob of digits, bright ink on black), one (probabilities over the
    ten digits, the piece's column under its centre) per digit read, left to right."""

    def __init__(self, path: Path = READER, threads: int = 0):
        self.session = cpu_session(path, threads, "the number reader")
        self.input_name = self.session.get_inputs()[0].name

    def read(self, pieces: list[np.ndarray]) -> list[list[tuple[np.ndarray, float]]]:
        lines = [to_line_input(piece) for piece in pieces]
        strips = [line.image for line in lines if line is not None]
        if not strips:
            return [[] for _ in pieces]
        batch = np.zeros((len(strips), 1, LINE_HEIGHT, max(s.shape[1] for s in strips)), np.float32)
        for row, strip in zip(batch, strips):  # one model call for the whole line; blank columns pad
            row[0, :, : strip.shape[1]] = strip
        log_probs = iter(self.session.run(None, {self.input_name: batch})[0])
        return [[] if line is None else
                [(p, min(max(line.piece_column(step), 0.0), piece.shape[1] - 1.0)) for p, step in best_path(next(log_probs))]
                for piece, line in zip(pieces, lines)]


def best_path(log_probs: np.ndarray) -> list[tuple[np.ndarray, int]]:
    """CTC best-path decoding of (steps, digits + 1) log-probabilities, CTC's blank last: per digit read,
    its probabilities over the digits and the step where it is surest."""
    blank = log_probs.shape[-1] - 1
    best = log_probs.argmax(-1)
    out, start = [], 0
    for step in range(1, len(best) + 1):
        if step == len(best) or best[step] != best[start]:
            if best[start] != blank:
                run = log_probs[start:step, best[start]]
                peak = start + int(run.argmax())
                probabilities = np.exp(log_probs[peak, :blank])
                out.append((probabilities / probabilities.sum(), peak))
            start = step
    return out


def best_path_text(log_probs: np.ndarray) -> str:
    """The digits :func:`best_path` reads, as text (at its peak step a digit is also the likeliest digit)."""
    return "".join(str(int(probabilities.argmax())) for probabilities, _ in best_path(log_probs))
