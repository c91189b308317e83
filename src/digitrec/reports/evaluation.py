"""A model's answers on a labelled split, with the figures that explain them (for reports and notebooks)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from digitrec.data import Dataset, load_dataset
from digitrec.data.catalog import CATALOG
from digitrec.errors import UsageError
from digitrec.inference import Recognizer
from digitrec.inference.metrics import Report, report
from digitrec.modeldir import Metadata
from digitrec.reports import gallery, plots


@dataclass
class Evaluation:
    """What a model predicted for every image of a labelled split.

    >>> ev = evaluate("runs/fast-mnist")          # doctest: +SKIP
    >>> ev.accuracy, ev.plot_confusion()           # doctest: +SKIP
    """

    model_dir: Path
    meta: Metadata
    precision: str
    data: Dataset
    split: str
    probabilities: np.ndarray  # (N, classes)
    scores: Report

    @property
    def accuracy(self) -> float:
        return self.scores.accuracy

    @property
    def loss(self) -> float:
        return self.scores.loss

    @property
    def predicted(self) -> np.ndarray:
        return self.probabilities.argmax(1)

    @property
    def mistakes(self) -> np.ndarray:
        """Indices of the wrongly predicted images."""
        return gallery.mistakes(self.probabilities, self.data.labels)

    def __repr__(self) -> str:
        return (f"Evaluation({self.meta.name} {self.precision} on {self.data.name} {self.split}: accuracy "
                f"{self.accuracy * 100:.2f} %, loss {self.loss:.4f}, {len(self.mistakes):,} mistakes in "
                f"{self.scores.n:,})")

    def plot_confusion(self) -> Figure:
        return plots.confusion_matrix(self.scores.confusion, self.scores.classes,
                                      f"confusion matrix: {self.meta.name} on {self.data.name} {self.split}")

    def plot_per_class(self) -> Figure:
        return plots.per_class_accuracy(self.scores.recall, self.scores.classes, self.accuracy)

    def plot_predictions(self, n: int = 50, cols: int = 10, seed: int = 0) -> Figure:
        """Random images with their predictions, the wrong ones in red (the TFLite lesson's grid)."""
        chosen = gallery.pick(self.data.labels, n, random=True, seed=seed)
        wrong = int((self.predicted[chosen] != self.data.labels[chosen]).sum())
        return self._gallery(chosen, cols, f"{len(chosen)} random {self.split} images: {wrong} wrong (red)")

    def plot_mistakes(self, n: int = 40, cols: int = 10, seed: int = 0) -> Figure:
        """Misclassified images: the predicted class in red, the true one below it."""
        wrong = self.mistakes
        chosen = np.sort(np.random.default_rng(seed).permutation(wrong)[:n])
        return self._gallery(chosen, cols, f"{len(chosen)} of {len(wrong):,} misclassified {self.split} images")

    def plot_confident_mistakes(self, n: int = 20, cols: int = 10) -> Figure:
        """The mistakes the model was surest of, with its confidence."""
        chosen = gallery.most_confident_mistakes(self.probabilities, self.data.labels, n)
        return self._gallery(chosen, cols, "the most confident mistakes", confidence=True)

    def plot_learning_curves(self) -> Figure:
        if not self.meta.history:
            raise UsageError(f"{self.model_dir}: the model's metadata has no training history")
        return plots.learning_curves(self.meta.history, f"{self.meta.name} on {self.meta.dataset}")

    def _gallery(self, indices: np.ndarray, cols: int, title: str, confidence: bool = False) -> Figure:
        return gallery.prediction_gallery(self.data.images, self.data.labels, self.probabilities,
                                          self.scores.classes, indices, cols, title, confidence)


def evaluation_data(meta: Metadata, dataset: str | None, split: str, limit: int | None,
                    data_dir: str | os.PathLike | None, progress: bool) -> Dataset:
    """The labelled images to judge a model on: by default the test split of the dataset it was trained on."""
    if limit is not None and limit < 1:
        raise UsageError(f"--limit must be at least 1, got {limit}")
    name = dataset or meta.dataset
    if dataset is None and name not in CATALOG:
        raise UsageError(f"the model was trained on '{name}', which is not a catalog dataset; pass --dataset "
                         "with a folder of labelled images to evaluate it on")
    data = load_dataset(name, split, data_dir=data_dir, progress=progress).subset(limit)
    if len(data.classes) != len(meta.classes):
        raise UsageError(f"dataset '{data.name}' has {len(data.classes)} classes but the model has "
                         f"{len(meta.classes)} ({', '.join(meta.classes)})")
    return data


def evaluate(model: str | os.PathLike | None = None, dataset: str | None = None, split: str = "test",
             precision: str = "fp32", limit: int | None = None, data_dir: str | os.PathLike | None = None,
             progress: bool = False) -> Evaluation:
    """Predict every image of ``split`` (default: the test split of the model's own dataset)."""
    recognizer = Recognizer(model, precision=precision)
    data = evaluation_data(recognizer.meta, dataset, split, limit, data_dir, progress)
    probabilities = recognizer.predict_arrays(data.images)
    return Evaluation(recognizer.model_dir, recognizer.meta, precision, data, split, probabilities,
                      report(probabilities, data.labels, list(recognizer.classes)))
