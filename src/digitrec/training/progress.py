"""Keras-style live progress for training: one bar per epoch with running loss and accuracy."""

from __future__ import annotations

import math

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


class EpochProgress:
    """Draws ``Epoch 3/10 ━━━━━━ 468/468 0:00:03 loss 0.0412 acc 0.9871 val_loss … val_acc …``.

    In a terminal the bar is live; in a log file (no terminal) each epoch is one plain line instead."""

    def __init__(self, console: Console | None = None, enabled: bool = True):
        self.console = console or Console(stderr=True)
        self.enabled = enabled
        self.live = enabled and self.console.is_terminal
        self._progress: Progress | None = None
        self._task = None
        self._title = ""

    def untrained(self, loss: float, accuracy: float, classes: int) -> None:
        if self.enabled:
            self.console.print(f"untrained model: loss {loss:.4f} (chance level ln {classes} = "
                               f"{math.log(classes):.4f}), accuracy {accuracy:.4f}", highlight=False)

    def start_epoch(self, epoch: int, epochs: int, steps: int) -> None:
        self._title = f"Epoch {epoch}/{epochs}"
        if not self.live:
            return
        self._progress = Progress(
            TextColumn(f"Epoch {epoch}/{epochs}"), BarColumn(bar_width=30), MofNCompleteColumn(),
            TimeElapsedColumn(), TextColumn("{task.fields[metrics]}"), console=self.console,
            transient=False, refresh_per_second=8,
        )
        self._progress.start()
        self._task = self._progress.add_task("", total=steps, metrics="")

    def update(self, step: int, loss: float, accuracy: float) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=step, metrics=f"loss {loss:.4f} acc {accuracy:.4f}")

    def end_epoch(self, summary: dict) -> None:
        if not self.enabled:
            return
        text = f"loss {summary['loss']:.4f} acc {summary['accuracy']:.4f}"
        if summary.get("val_loss") is not None:
            text += f" │ val_loss {summary['val_loss']:.4f} val_acc {summary['val_accuracy']:.4f}"
        text += f" │ {summary['seconds']:.1f}s"
        if self._progress is None:
            self.console.print(f"{self._title}: {text}", highlight=False)
            return
        self._progress.update(self._task, metrics=text)
        self._progress.stop()
        self._progress = None

    def note(self, message: str) -> None:
        if self.enabled:
            self.console.print(message, highlight=False)
