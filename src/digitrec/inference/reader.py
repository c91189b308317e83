"""The number reader: a small ONNX network with a CTC head that reads a run of touching digits, left to
right, where cutting them apart first and reading each piece fails (a "14" read as one confident 4)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from digitrec.inference.sessions import cpu_session
from digitrec.modeldir import BUNDLED
from digitrec.preprocess.lines import LINE_HEIGHT, STEP, to_line_input

READER_FILE = "reader.onnx"  # its name in the bundle and in what `digitrec train-reader` writes
READER = BUNDLED / READER_FILE


@dataclass(frozen=True)
class RunReading:
    """What the number reader read in one blob: per digit, left to right, its probabilities over the ten
    digits and the blob's column under its centre; and the per-step log-probabilities behind them, which
    weigh any other reading of the same ink (:meth:`log_likelihood`)."""

    digits: list[tuple[np.ndarray, float]]
    log_probs: np.ndarray  # (steps, 11): the ten digits, then CTC's blank

    def log_likelihood(self, digits: Sequence[int]) -> float:
        """log P(the blob holds exactly these digits), summed over every way of placing them."""
        return ctc_log_likelihood(self.log_probs, digits)

    def as_one_digit(self) -> np.ndarray:
        """Probabilities that the blob holds one digit, and which: P(exactly "d") for each d, normalized."""
        scores = np.array([self.log_likelihood([d]) for d in range(self.log_probs.shape[-1] - 1)])
        scores = np.exp(scores - scores.max())
        return scores / scores.sum()


NOTHING_READ = RunReading([], np.zeros((0, 11), np.float32))


class NumberReader:
    """``read(pieces)`` → for each piece (a blob of digits, bright ink on black), a :class:`RunReading`."""

    def __init__(self, path: Path = READER, threads: int = 0):
        self.session = cpu_session(path, threads, "the number reader", float_compute=True)
        self.input_name = self.session.get_inputs()[0].name

    def read(self, pieces: list[np.ndarray]) -> list[RunReading]:
        lines = [to_line_input(piece) for piece in pieces]
        strips = [line.image for line in lines if line is not None]
        if not strips:
            return [NOTHING_READ for _ in pieces]
        batch = np.zeros((len(strips), 1, LINE_HEIGHT, max(s.shape[1] for s in strips)), np.float32)
        for row, strip in zip(batch, strips):  # one model call for the whole line; blank columns pad
            row[0, :, : strip.shape[1]] = strip
        log_probs = iter(self.session.run(None, {self.input_name: batch})[0])
        out = []
        for piece, line in zip(pieces, lines):
            if line is None:
                out.append(NOTHING_READ)
                continue
            steps = next(log_probs)[: line.image.shape[1] // STEP]  # this strip's own steps, not the padding
            out.append(RunReading([(p, min(max(line.piece_column(step), 0.0), piece.shape[1] - 1.0))
                                   for p, step in best_path(steps)], steps))
        return out


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


def ctc_log_likelihood(log_probs: np.ndarray, digits: Sequence[int]) -> float:
    """CTC's forward algorithm: log P(``digits``) under (steps, digits + 1) log-probabilities, blank last —
    the sum over every alignment (each digit held for one or more steps, blanks between and around,
    a blank required between two equal digits). −inf when there are too few steps for them."""
    if len(log_probs) == 0:
        return 0.0 if len(digits) == 0 else -np.inf
    blank = log_probs.shape[-1] - 1
    states = np.full(2 * len(digits) + 1, blank)
    states[1::2] = digits
    skip = np.zeros(states.size, bool)  # a state reachable from two back: a digit after a different digit
    skip[3::2] = states[3::2] != states[1:-2:2]
    alpha = np.full(states.size, -np.inf)
    alpha[:2] = log_probs[0, states[:2]]
    for row in log_probs[1:]:
        previous = np.concatenate(([-np.inf], alpha[:-1]))
        two_back = np.concatenate(([-np.inf], previous[:-1]))
        alpha = np.logaddexp(alpha, previous)
        alpha = np.where(skip, np.logaddexp(alpha, two_back), alpha) + row[states]
    return float(np.logaddexp.reduce(alpha[-2:]))


def best_path_text(log_probs: np.ndarray) -> str:
    """The digits :func:`best_path` reads, as text (at its peak step a digit is also the likeliest digit)."""
    return "".join(str(int(probabilities.argmax())) for probabilities, _ in best_path(log_probs))
