"""Galleries of 28×28 images: a dataset's samples, and a model's predictions with the wrong ones in red."""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np
from matplotlib.figure import Figure

from digitrec.data import Dataset
from digitrec.errors import UsageError
from digitrec.reports.plots import RIGHT, WRONG, image_grid

GRID = re.compile(r"^\s*(\d+)\s*[x×X]\s*(\d+)\s*$")


def parse_grid(text: str) -> tuple[int, int]:
    """``"16x8"`` → (16 columns, 8 rows), as the first lesson's W × H."""
    match = GRID.match(text)
    if not match or not all(1 <= int(v) <= 100 for v in match.groups()):
        raise UsageError(f"--grid must be COLUMNSxROWS with each between 1 and 100, e.g. 16x8; got '{text}'")
    return int(match[1]), int(match[2])


def class_index(classes: Sequence[str], label: str | int) -> int:
    """A class given by its index ("5") or its name ("Sneaker", any case)."""
    text = str(label).strip()
    names = [c.lower() for c in classes]
    if text.lower() in names:
        return names.index(text.lower())
    if text.isdigit() and int(text) < len(classes):
        return int(text)
    raise UsageError(f"unknown label '{label}'; expected 0..{len(classes) - 1} or one of: {', '.join(classes)}")


def pick(labels: np.ndarray, n: int, label: int | None = None, random: bool = False, seed: int = 0) -> np.ndarray:
    """Indices of ``n`` examples (of one class, if given): the first ones, or a seeded random choice in order."""
    candidates = np.flatnonzero(labels == label) if label is not None else np.arange(len(labels))
    if random:
        chosen = np.random.default_rng(seed).permutation(candidates)[:n]
        return np.sort(chosen)
    return candidates[:n]


def dataset_gallery(data: Dataset, label: str | int | None = None, grid: tuple[int, int] = (16, 8),
                    random: bool = False, seed: int = 0) -> Figure:
    """A grid of a dataset's images, each captioned with its class name."""
    cols, rows = grid
    k = class_index(data.classes, label) if label is not None else None
    chosen = pick(data.labels, cols * rows, k, random, seed)
    which = f" of class '{data.classes[k]}'" if k is not None else ""
    if not len(chosen):
        raise UsageError(f"{data.name} has no images{which}")
    how_many = f"{len(chosen)} random" if random else f"the first {len(chosen)}"
    names = [data.classes[i] for i in data.labels[chosen]]
    return image_grid(data.images[chosen], names, cols=cols, title=f"{data.name}: {how_many} images{which}")


def mistakes(probabilities: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Indices of the wrongly predicted examples, in dataset order."""
    return np.flatnonzero(probabilities.argmax(1) != labels)


def most_confident_mistakes(probabilities: np.ndarray, labels: np.ndarray, n: int) -> np.ndarray:
    """The ``n`` mistakes the model was surest of: often mislabelled or truly ambiguous images."""
    wrong = mistakes(probabilities, labels)
    confidence = probabilities[wrong].max(1)
    return wrong[np.argsort(-confidence, kind="stable")[:n]]


def prediction_gallery(images: np.ndarray, labels: np.ndarray, probabilities: np.ndarray,
                       classes: Sequence[str], indices: np.ndarray, cols: int = 10, title: str | None = None,
                       confidence: bool = False) -> Figure:
    """Images captioned with the predicted class; a wrong one is red and also names the true class."""
    captions, colors = [], []
    for i in indices:
        predicted = int(probabilities[i].argmax())
        text = classes[predicted] + (f" {probabilities[i, predicted]:.0%}" if confidence else "")
        if predicted != labels[i]:
            text += f"\n(true {classes[labels[i]]})"
        captions.append(text)
        colors.append(RIGHT if predicted == labels[i] else WRONG)
    return image_grid(images[indices], captions, colors, cols=cols, title=title)
