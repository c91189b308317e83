"""Training the lesson's scikit-learn MLPClassifier one epoch at a time (``partial_fit``), so it gets the
same progress, history, checkpoints and resume as the torch models."""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from digitrec.data import Dataset
from digitrec.training.checkpoint import CHECKPOINT, load_checkpoint, save_checkpoint
from digitrec.training.config import TrainConfig
from digitrec.training.progress import EpochProgress


@dataclass
class SklearnFit:
    model: MLPClassifier
    history: list[dict]
    train_seconds: float


def build_sk_mlp(c: TrainConfig) -> MLPClassifier:
    """The first lesson's model: MLPClassifier(hidden_layer_sizes=(128,), activation='logistic', solver='sgd')."""
    return MLPClassifier(hidden_layer_sizes=(128,), activation="logistic", solver="sgd",
                         learning_rate_init=c.lr, momentum=c.momentum, batch_size=c.batch_size,
                         alpha=c.weight_decay or 1e-4, random_state=c.seed)


def flat(data: Dataset) -> np.ndarray:
    return data.images.reshape(len(data), -1).astype(np.float32) / 255.0


def _score(model: MLPClassifier, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    p = model.predict_proba(x)
    loss = float(-np.log(np.clip(p[np.arange(len(y)), y], 1e-12, 1)).mean())
    return loss, float((p.argmax(1) == y).mean())


def weights(model: MLPClassifier) -> dict[str, torch.Tensor]:
    out = {}
    for i, (w, b) in enumerate(zip(model.coefs_, model.intercepts_)):
        out[f"coefs.{i}"], out[f"intercepts.{i}"] = torch.from_numpy(w.copy()), torch.from_numpy(b.copy())
    return out


def fit_sklearn(c: TrainConfig, train: Dataset, val: Dataset | None, out_dir: Path, resume: bool = False,
                progress: EpochProgress | None = None) -> SklearnFit:
    progress = progress or EpochProgress(enabled=False)
    x, y = flat(train), train.labels
    xv, yv = (flat(val), val.labels) if val is not None and len(val) else (None, None)
    classes = np.arange(len(train.classes))
    model = build_sk_mlp(c)
    history: list[dict] = []
    start_epoch = 0
    checkpoint = out_dir / CHECKPOINT
    if resume:
        parts, info = load_checkpoint(checkpoint)
        model.partial_fit(x[:1], y[:1], classes=classes)  # builds the layers and the optimizer
        state = parts["model"]
        n = len(model.coefs_)
        model.coefs_ = [state[f"coefs.{i}"].numpy().copy() for i in range(n)]
        model.intercepts_ = [state[f"intercepts.{i}"].numpy().copy() for i in range(n)]
        velocities = parts.get("optim", {})
        if velocities and hasattr(model, "_optimizer"):
            model._optimizer.velocities = [velocities[str(i)].numpy().copy() for i in range(len(velocities))]
        start_epoch, history = info["epoch"], info["history"]
        progress.note(f"resuming from {checkpoint} after epoch {start_epoch}/{c.epochs}")
    started = time.perf_counter()
    for epoch in range(start_epoch, c.epochs):
        t = time.perf_counter()
        progress.start_epoch(epoch + 1, c.epochs, 1)
        model.set_params(random_state=c.seed * 1000 + epoch + 1)  # this epoch's shuffle
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.partial_fit(x, y, classes=classes)
        # loss as scikit-learn reports it (running mean over the epoch); accuracy on up to 10 000 examples
        row = {"epoch": epoch + 1, "loss": float(model.loss_), "accuracy": _score(model, x[:10000], y[:10000])[1]}
        if xv is not None:
            row["val_loss"], row["val_accuracy"] = _score(model, xv, yv)
        row["seconds"] = time.perf_counter() - t
        history.append(row)
        progress.update(1, row["loss"], row["accuracy"])
        progress.end_epoch(row)
        velocities = {str(i): torch.from_numpy(np.ascontiguousarray(v))
                      for i, v in enumerate(getattr(getattr(model, "_optimizer", None), "velocities", []))}
        save_checkpoint(checkpoint, {"model": weights(model), "optim": velocities},
                        {"epoch": epoch + 1, "history": history, "config": c.to_dict(), "param_groups": []})
    return SklearnFit(model, history, time.perf_counter() - started)
