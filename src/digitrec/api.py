"""The Python API for notebooks: the command line's verbs as functions that return objects and figures.

>>> import digitrec
>>> digitrec.show("mnist", grid="10x3")                     # doctest: +SKIP  (a figure, shown inline)
>>> model = digitrec.train("mlp", epochs=5)                  # doctest: +SKIP  (one line per epoch)
>>> model.history.plot()                                     # doctest: +SKIP  (loss, accuracy: train vs val)
>>> ev = digitrec.evaluate(model)                            # doctest: +SKIP
>>> ev.accuracy, ev.plot_confusion(), ev.plot_mistakes()     # doctest: +SKIP
>>> digitrec.predict("my_digit.png", model=model)[0].digit   # doctest: +SKIP

Every figure is a ``matplotlib.figure.Figure``: a notebook shows it, ``fig.savefig("x.png")`` saves it.
Heavy libraries (torch, matplotlib, scikit-learn, optuna) are imported only by the functions that need them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from digitrec.data import Dataset
    from digitrec.export.run import ExportRow
    from digitrec.inference import Prediction
    from digitrec.modeldir import Metadata
    from digitrec.reports.compare import Comparison
    from digitrec.reports.evaluation import Evaluation
    from digitrec.reports.sweep import SweepResult

ModelLike = str | os.PathLike | None  # a model directory, a TrainedModel, or None for the bundled model


class History:
    """Per-epoch training history, as Keras' ``History``.

    >>> history.history["val_loss"]     # doctest: +SKIP
    [0.21, 0.14, 0.11]
    >>> history.plot()                  # doctest: +SKIP
    """

    def __init__(self, rows: Sequence[dict[str, Any]], title: str = ""):
        self.rows = list(rows)
        self.title = title

    @property
    def history(self) -> dict[str, list]:
        """Metric name → one value per epoch (``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``, …)."""
        keys = dict.fromkeys(k for row in self.rows for k in row if k != "epoch")
        return {k: [row.get(k) for row in self.rows] for k in keys}

    @property
    def epochs(self) -> list[int]:
        return [row["epoch"] for row in self.rows]

    def __getitem__(self, metric: str) -> list:
        return self.history[metric]

    def __len__(self) -> int:
        return len(self.rows)

    def __repr__(self) -> str:
        if not self.rows:
            return "History(no epochs)"
        last = self.rows[-1]
        shown = ", ".join(f"{k} {last[k]:.4f}" for k in ("loss", "accuracy", "val_loss", "val_accuracy")
                          if last.get(k) is not None)
        return f"History({len(self.rows)} epochs; last: {shown})"

    def plot(self) -> Figure:
        """Loss and accuracy per epoch, training beside validation."""
        from digitrec.reports.plots import learning_curves

        return learning_curves(self.rows, self.title or None)


@dataclass
class TrainedModel:
    """A trained model directory. Usable wherever a model directory is expected (it is path-like)."""

    model_dir: Path
    metadata: Metadata
    train_seconds: float

    def __fspath__(self) -> str:
        return str(self.model_dir)

    def __repr__(self) -> str:
        accuracy = self.test_accuracy
        shown = f"test accuracy {accuracy * 100:.2f} %" if accuracy is not None else "no test split"
        return (f"TrainedModel({self.metadata.name} on {self.metadata.dataset}: {shown}, "
                f"{self.train_seconds:.1f} s of training, in {self.model_dir})")

    @property
    def history(self) -> History:
        return History(self.metadata.history, f"{self.metadata.name} on {self.metadata.dataset}")

    @property
    def test_accuracy(self) -> float | None:
        return self.metadata.metrics.get("test_accuracy")

    def evaluate(self, dataset: str | None = None, split: str = "test", precision: str = "fp32",
                 limit: int | None = None) -> Evaluation:
        return evaluate(self, dataset, split, precision, limit)

    def predict(self, inputs: str | os.PathLike | np.ndarray | Iterable[str | os.PathLike],
                precision: str = "fp32") -> list[Prediction]:
        return predict(inputs, self, precision)

    def export(self, int8: bool = True) -> list[ExportRow]:
        """Write ``model.int8.onnx`` (with ``int8``) and compare float and int8 size and test accuracy."""
        from digitrec.export.run import export_model_dir
        from digitrec.modeldir import load_metadata

        rows = export_model_dir(self.model_dir, int8=int8, progress=False)
        self.metadata = load_metadata(self.model_dir)
        return rows

    def report(self, out: str | os.PathLike = "report.html") -> Path:
        return report(self, out)


def _dataset(dataset: str | Dataset, split: str, data_dir: str | os.PathLike | None) -> Dataset:
    from digitrec.data import load_dataset

    return load_dataset(dataset, split, data_dir=data_dir, progress=False) if isinstance(dataset, str) else dataset


def show(dataset: str | Dataset = "mnist", label: str | int | None = None, grid: str | tuple[int, int] = "16x8",
         random: bool = False, split: str = "train", seed: int = 0,
         data_dir: str | os.PathLike | None = None) -> Figure:
    """A gallery of a dataset's images (``digitrec data show``).

    >>> show("fashion-mnist", label="Sneaker", grid="8x2", random=True)   # doctest: +SKIP
    """
    from digitrec.reports.gallery import dataset_gallery, parse_grid

    columns_rows = parse_grid(grid) if isinstance(grid, str) else grid
    return dataset_gallery(_dataset(dataset, split, data_dir), label, columns_rows, random, seed)


def embed(dataset: str | Dataset = "mnist", method: str = "pca", n: int = 2000, split: str = "train",
          seed: int = 0, data_dir: str | os.PathLike | None = None) -> Figure:
    """A 2-D map of ``n`` images coloured by class: ``pca``, ``tsne`` or ``umap`` (``digitrec data embed``)."""
    from digitrec.reports.embed import embed as run_embed

    return run_embed(_dataset(dataset, split, data_dir), method, n, seed).plot()


def train(model: str | None = None, dataset: str = "mnist", *, preset: str | None = None,
          epochs: int | None = None, batch_size: int | None = None, lr: float | None = None,
          optimizer: str | None = None, seed: int = 0, val_split: float | None = None,
          augment: str | None = None, patience: int | None = None, limit: int | None = None,
          device: str = "auto", out: str | os.PathLike | None = None, resume: bool = False,
          data_dir: str | os.PathLike | None = None, verbose: bool = True) -> TrainedModel:
    """Train a zoo model (``digitrec train``); options left as None come from the model's recipe.

    Prints the untrained loss, then one line per epoch, as Keras' ``fit`` does.

    >>> model = train("mlp", epochs=5, limit=10000)   # doctest: +SKIP
    >>> model.history.plot()                           # doctest: +SKIP
    """
    from rich.console import Console

    from digitrec.training.config import make_config
    from digitrec.training.progress import EpochProgress
    from digitrec.training.trainer import train as run_training

    config = make_config(model=model, preset=preset, dataset=dataset, epochs=epochs, batch_size=batch_size, lr=lr,
                         optimizer=optimizer, seed=seed, val_split=val_split, augment=augment, patience=patience,
                         limit=limit, device=device)
    progress = EpochProgress(Console(), enabled=verbose)
    result = run_training(config, Path(out) if out is not None else None, resume=resume, data_dir=data_dir,
                          progress=progress)
    return TrainedModel(result.model_dir, result.metadata, result.train_seconds)


def evaluate(model: ModelLike = None, dataset: str | None = None, split: str = "test", precision: str = "fp32",
             limit: int | None = None, data_dir: str | os.PathLike | None = None) -> Evaluation:
    """Judge a model on a labelled split (``digitrec evaluate``): default, its own dataset's test split.

    The result has ``accuracy``, ``loss``, ``scores`` (precision, recall, confusion) and figures:
    ``plot_confusion()``, ``plot_per_class()``, ``plot_predictions()``, ``plot_mistakes()``,
    ``plot_confident_mistakes()``, ``plot_learning_curves()``.
    """
    from digitrec.reports.evaluation import evaluate as run_evaluate

    return run_evaluate(model, dataset, split, precision, limit, data_dir)


def predict(inputs: str | os.PathLike | np.ndarray | Iterable[str | os.PathLike], model: ModelLike = None,
            precision: str = "fp32") -> list[Prediction]:
    """Recognize image files (folders are searched) or 28×28 arrays (``digitrec predict``).

    Files go through the full preprocessing (any size, either ink polarity); arrays must already be
    MNIST-style (bright ink on dark, 28×28). A bad file gives a Prediction with ``error`` set.

    >>> predict("my_digit.png")[0].digit              # doctest: +SKIP
    """
    from digitrec.inference import Prediction, Recognizer, find_images

    recognizer = Recognizer(model, precision=precision)
    if isinstance(inputs, np.ndarray):
        images = inputs[None] if inputs.ndim == 2 else inputs
        return [Prediction(f"image[{i}]", int(p.argmax()), float(p.max()), p.tolist(),
                           recognizer.classes[p.argmax()]) for i, p in enumerate(recognizer.predict_arrays(images))]
    paths = [inputs] if isinstance(inputs, (str, os.PathLike)) else list(inputs)
    return list(recognizer.predict_files(find_images(paths)))


def report(model: ModelLike = None, out: str | os.PathLike = "report.html", dataset: str | None = None,
           limit: int | None = None, data_dir: str | os.PathLike | None = None) -> Path:
    """Write the self-contained HTML report of a model (``digitrec report``); returns its path."""
    from digitrec.reports.model_report import build_report, write_report

    return write_report(build_report(model, dataset, limit, data_dir), out)


def compare(models: Sequence[str | os.PathLike] = ("sk-mlp", "mlp", "cnn-32-64", "fast", "best"),
            dataset: str = "mnist", out: str | os.PathLike | None = None, epochs: int | None = None,
            limit: int | None = None, seed: int = 0, data_dir: str | os.PathLike | None = None,
            test_limit: int | None = None, verbose: bool = True) -> Comparison:
    """Train (or take) each model and compare them on the test set (``digitrec compare``).

    The result has ``rows()``, ``to_markdown()``, ``plot()`` and ``save(folder)``.
    """
    from rich.console import Console

    from digitrec.reports.compare import compare as run_compare

    return run_compare([os.fspath(m) for m in models], dataset, out, epochs, limit, seed, data_dir,
                       Console() if verbose else None, test_limit)


def sweep(model: str | None = None, params: Sequence[str] | None = None, trials: int = 20,
          out: str | os.PathLike | None = None, dataset: str | None = None, epochs: int | None = None,
          limit: int | None = None, seed: int | None = None, prune: bool = True,
          data_dir: str | os.PathLike | None = None, verbose: bool = True) -> SweepResult:
    """Search hyperparameters with Optuna (``digitrec sweep``); run it again to resume it.

    A new sweep defaults to ``mlp`` on ``mnist``, seed 0; a resumed one keeps the settings it started with.

    >>> result = sweep("mlp", ["lr=1e-4..1e-2:log", "batch_size=32,64"], trials=10)   # doctest: +SKIP
    >>> result.best.params, result.plot_importance()                                    # doctest: +SKIP
    """
    from rich.console import Console

    from digitrec.reports.sweep import sweep as run_sweep

    return run_sweep(model, list(params) if params else None, trials, out, dataset, epochs, limit, seed, prune,
                     data_dir, Console() if verbose else None)
