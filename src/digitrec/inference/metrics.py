"""Classification metrics from predicted probabilities (numpy only, so the serving install has them)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Report:
    accuracy: float
    loss: float
    n: int
    classes: list[str]
    confusion: np.ndarray  # rows: true class, columns: predicted class
    precision: np.ndarray
    recall: np.ndarray

    def to_json(self) -> dict:
        return {
            "accuracy": self.accuracy, "loss": self.loss, "n": self.n, "classes": self.classes,
            "per_class": {c: {"precision": float(p), "recall": float(r), "support": int(s)}
                          for c, p, r, s in zip(self.classes, self.precision, self.recall, self.confusion.sum(1))},
            "confusion_matrix": self.confusion.tolist(),
        }


def report(probabilities: np.ndarray, labels: np.ndarray, classes: list[str]) -> Report:
    k = len(classes)
    predicted = probabilities.argmax(1)
    confusion = np.bincount(labels * k + predicted, minlength=k * k).reshape(k, k)
    true_pos = np.diag(confusion).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.nan_to_num(true_pos / confusion.sum(0))
        recall = np.nan_to_num(true_pos / confusion.sum(1))
    picked = np.clip(probabilities[np.arange(len(labels)), labels], 1e-12, 1.0)
    n = len(labels)
    return Report(
        accuracy=float(true_pos.sum() / n) if n else 0.0,
        loss=float(-np.log(picked).mean()) if n else 0.0,
        n=n, classes=list(classes), confusion=confusion, precision=precision, recall=recall,
    )
