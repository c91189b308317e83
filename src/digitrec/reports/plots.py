"""Matplotlib figures for reports, commands and notebooks.

Figures are made as objects, never through pyplot: no GUI window can open, no global state is shared
between figures, and a notebook shows a returned figure inline exactly once.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import NamedTuple, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from digitrec.errors import UsageError

FORMATS = (".png", ".svg")
DPI = 100
RIGHT, WRONG = "black", "tab:red"
CLASS_COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple",
                "tab:brown", "tab:pink", "tab:gray", "tab:olive", "tab:cyan")


def check_format(path: str | Path) -> Path:
    """The output path of a plot, refused up front (before any work) unless it ends in .png or .svg."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise UsageError(f"{path}: a plot is written as PNG or SVG; end the file name in .png or .svg")
    return path


def save_figure(fig: Figure, path: str | Path) -> Path:
    """Write ``fig`` as PNG or SVG, chosen by the file's suffix."""
    path = check_format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, bbox_inches="tight", metadata=_reproducible(path))
    return path


def _reproducible(path: Path) -> dict:
    # no creation date or software stamp, so regenerating a picture gives the same bytes for git
    return {"Date": None} if path.suffix.lower() == ".svg" else {"Software": None}


def png_bytes(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    return buffer.getvalue()


class NotebookFigure(Figure):
    """A figure that shows itself in a notebook as PNG: without pyplot no inline backend is active, and a
    plain Figure would print as ``<Figure size 1000x380 with 2 Axes>``."""

    def _repr_png_(self) -> bytes:
        return png_bytes(self)


def image_grid(images: np.ndarray, captions: Sequence[str] | None = None,
               colors: Sequence[str] | None = None, cols: int = 10, title: str | None = None) -> Figure:
    """One small tile per 28×28 image (grey, bright ink as stored), an optional coloured caption under each."""
    n = len(images)
    cols = max(1, min(cols, n))
    rows = max(1, math.ceil(n / cols))
    lines = max((c.count("\n") + 1 for c in captions), default=0) if captions is not None else 0
    tile, caption, heading = 0.8, 0.13 * lines + (0.05 if lines else 0.0), 0.4 if title else 0.0
    fig = NotebookFigure(figsize=(cols * tile, rows * (tile + caption) + heading))
    for i in range(n):
        ax = fig.add_subplot(rows, cols, i + 1)
        ax.imshow(images[i], cmap="gray", vmin=0, vmax=255 if images.dtype == np.uint8 else 1.0,
                  interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        if captions is not None:
            ax.set_xlabel(captions[i], fontsize=7, labelpad=2, color=colors[i] if colors is not None else RIGHT)
    if title:
        fig.suptitle(title)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=caption / fig.get_figheight(),
                        top=1 - (heading or 0.05) / fig.get_figheight(), wspace=0.08, hspace=caption / tile + 0.05)
    return fig


def learning_curves(history: Sequence[dict], title: str | None = None) -> Figure:
    """Loss and accuracy per epoch, training beside validation, as the Keras lesson plots ``history.history``."""
    fig = NotebookFigure(figsize=(10, 3.8))
    epochs = [row["epoch"] for row in history]
    for ax, metric in zip(fig.subplots(1, 2), ("loss", "accuracy")):
        ax.plot(epochs, [row[metric] for row in history], "o-", label="training")
        validation = [row.get(f"val_{metric}") for row in history]
        if any(v is not None for v in validation):
            ax.plot(epochs, validation, "s-", label="validation")
        ax.set_title(f"{metric} over epochs")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def confusion_matrix(confusion: np.ndarray, classes: Sequence[str], title: str | None = None) -> Figure:
    """Counts in every cell; colour is the share of the true class (row), so rare errors stay visible."""
    k = len(classes)
    fig = NotebookFigure(figsize=(1.0 + 0.55 * k, 0.6 + 0.55 * k))
    ax = fig.add_subplot()
    rows = confusion.sum(1, keepdims=True)
    share = np.divide(confusion, rows, out=np.zeros(confusion.shape), where=rows > 0)
    image = ax.imshow(np.sqrt(share), cmap="Blues", vmin=0, vmax=1)  # sqrt: a 1 % cell is still tinted
    for i in range(k):
        for j in range(k):
            if confusion[i, j]:
                ax.text(j, i, str(confusion[i, j]), ha="center", va="center", fontsize=8,
                        color="white" if share[i, j] > 0.5 else ("tab:red" if i != j else "black"))
    long_names = max(map(len, classes)) > 2
    ax.set_xticks(range(k), classes, rotation=45 if long_names else 0, ha="right" if long_names else "center")
    ax.set_yticks(range(k), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title or "confusion matrix")
    bar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="share of the true class")
    shares = (0.0, 0.01, 0.05, 0.25, 1.0)
    bar.set_ticks(np.sqrt(shares), labels=[f"{v:.0%}" for v in shares])
    fig.tight_layout()
    return fig


def hbars(ax: Axes, names: Sequence[str], values: Sequence[float | None], fmt: str = "{:.3g}",
          color: str = "tab:blue", start: float = 0.0) -> None:
    """Horizontal bars, first name on top, each value written at its bar's end; None is drawn as "n/a".
    ``start`` > 0 zooms the axis in on the bars' ends (for values that differ by little, like accuracies)."""
    y = np.arange(len(names))[::-1]
    known = [v if v is not None else 0.0 for v in values]
    ax.barh(y, known, color=color)
    ax.set_yticks(y, names)
    low, high = min([start, *known]), max([start, *known])
    span = (high - low) or 1.0
    for yi, v in zip(y, values):
        ax.text(max(v or 0.0, 0.0, start) + span * 0.01, yi, "n/a" if v is None else fmt.format(v),
                va="center", fontsize=8)
    ax.set_xlim(low - (span * 0.05 if low < start else 0.0), high + span * 0.25)
    ax.grid(axis="x", alpha=0.3)


def per_class_accuracy(recall: Sequence[float], classes: Sequence[str], overall: float | None = None,
                       title: str | None = None) -> Figure:
    """Share of each class's test images recognized correctly (axis zoomed in on the differences), with
    the overall accuracy as a dashed line."""
    fig = NotebookFigure(figsize=(7, 0.8 + 0.32 * len(classes)))
    ax = fig.add_subplot()
    percent = [100 * r for r in recall]
    start = max(0.0, math.floor(min(percent, default=0.0)) - 1.0)
    hbars(ax, list(classes), percent, fmt="{:.2f} %", start=start)
    if overall is not None:
        ax.axvline(100 * overall, color="tab:red", linestyle="--")
    overall_text = f" — dashed line: overall {100 * overall:.2f} %" if overall is not None else ""
    ax.set_xlabel("accuracy (%)" + overall_text)
    ax.set_title(title or "accuracy per class")
    fig.tight_layout()
    return fig


def class_scatter(points: np.ndarray, labels: np.ndarray, classes: Sequence[str], title: str | None = None,
                  xlabel: str = "", ylabel: str = "") -> Figure:
    """2-D points, one colour (and one legend entry) per class."""
    fig = NotebookFigure(figsize=(8.5, 7))
    ax = fig.add_subplot()
    for k, name in enumerate(classes):
        mine = labels == k
        if mine.any():
            ax.scatter(points[mine, 0], points[mine, 1], s=10, alpha=0.6, color=CLASS_COLORS[k % 10],
                       label=name, linewidths=0)
    ax.legend(markerscale=3, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title or "")
    fig.tight_layout()
    return fig


class Panel(NamedTuple):
    title: str
    values: Sequence[float | None]
    fmt: str = "{:.3g}"
    zoom: bool = False  # start the axis near the smallest value (accuracies)


def metric_panels(names: Sequence[str], panels: Sequence[Panel], title: str | None = None,
                  cols: int = 3) -> Figure:
    """A grid of bar charts, one per metric, with the same names in the same order in each."""
    rows = math.ceil(len(panels) / cols)
    fig = NotebookFigure(figsize=(4.2 * cols, 0.9 + rows * (0.6 + 0.38 * len(names))))
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for i, (ax, panel) in enumerate(zip(axes, panels)):
        known = [v for v in panel.values if v is not None]
        start = max(0.0, math.floor(min(known)) - 1.0) if panel.zoom and known else 0.0
        hbars(ax, names, panel.values, fmt=panel.fmt, color=CLASS_COLORS[i % 10], start=start)
        ax.set_title(panel.title, fontsize=10)
        if i % cols:
            ax.set_yticklabels([])
    for ax in axes[len(panels):]:
        ax.remove()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def importance(importances: dict[str, float], title: str | None = None) -> Figure:
    """How much each hyperparameter mattered to the objective (Optuna's fANOVA importances, summing to 1)."""
    names = list(importances)
    fig = NotebookFigure(figsize=(6.5, 1.4 + 0.45 * len(names)))
    ax = fig.add_subplot()
    hbars(ax, names, [importances[n] for n in names], fmt="{:.2f}")
    ax.set_xlabel("importance")
    ax.set_title(title or "hyperparameter importance")
    fig.tight_layout()
    return fig


def trial_values(numbers: Sequence[int], values: Sequence[float | None], pruned: Sequence[bool],
                 title: str | None = None, ylabel: str = "validation accuracy") -> Figure:
    """Each trial's result and the best so far; pruned trials at their last reported value, in grey."""
    fig = NotebookFigure(figsize=(7.5, 4))
    ax = fig.add_subplot()
    done = [(n, v) for n, v, p in zip(numbers, values, pruned) if v is not None and not p]
    stopped = [(n, v) for n, v, p in zip(numbers, values, pruned) if v is not None and p]
    if done:
        ax.plot(*zip(*done), "o", color="tab:blue", label="complete")
        best, line = -math.inf, []
        for n, v in done:
            best = max(best, v)
            line.append((n, best))
        ax.step(*zip(*line), where="post", color="tab:red", label="best so far")
    if stopped:
        ax.plot(*zip(*stopped), "x", color="tab:gray", label="pruned")
    ax.set_xlabel("trial")
    ax.set_ylabel(ylabel)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title(title or "trials")
    fig.tight_layout()
    return fig
