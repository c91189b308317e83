"""``digitrec evaluate``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from digitrec.cli.output import console, emit_json


def evaluate(
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Model directory (default: the bundled "
                                        "MNIST model)."),
    dataset: str = typer.Option("mnist", "--dataset", "-d", help="Dataset name or a folder dataset."),
    split: str = typer.Option("test", "--split", help="train or test."),
    int8: bool = typer.Option(False, "--int8", help="Evaluate the int8 model (model.int8.onnx)."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Evaluate on a random subset of N examples."),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="Folder holding DATASET/ sub-folders of the IDX files."),
    json: bool = typer.Option(False, "--json", help="JSON output: accuracy, loss, n, per-class precision and "
                              "recall, confusion matrix."),
):
    """Accuracy, loss, per-class precision/recall and the confusion matrix of a model on a dataset.

    Example: `digitrec evaluate --dataset mnist --json`
    """
    from digitrec.data import load_dataset
    from digitrec.inference import Recognizer
    from digitrec.inference.metrics import report

    recognizer = Recognizer(model, precision="int8" if int8 else "fp32")
    data = load_dataset(dataset, split, data_dir=data_dir, progress=not json).subset(limit)
    result = report(recognizer.predict_arrays(data.images), data.labels, list(data.classes))
    if json:
        emit_json({**result.to_json(), "model": recognizer.info, "dataset": data.name, "split": split})
        return
    console.print(f"[bold]{recognizer.meta.name}[/] {recognizer.meta.version} on {data.name} {split}: "
                  f"accuracy [bold]{result.accuracy * 100:.2f} %[/], loss {result.loss:.4f}, n = {result.n:,}")
    table = Table(title="per class")
    for col in ("class", "precision", "recall", "support"):
        table.add_column(col, justify="right")
    for name, p, r, s in zip(result.classes, result.precision, result.recall, result.confusion.sum(1)):
        table.add_row(name, f"{p * 100:.2f} %", f"{r * 100:.2f} %", f"{s:,}")
    console.print(table)
    matrix = Table(title="confusion matrix (rows: true, columns: predicted)")
    matrix.add_column("")
    for name in result.classes:
        matrix.add_column(name[:6], justify="right")
    for i, (name, row) in enumerate(zip(result.classes, result.confusion)):
        cells = [f"[bold]{v}[/]" if i == j else (f"[red]{v}[/]" if v else "[dim]0[/]") for j, v in enumerate(row)]
        matrix.add_row(name[:6], *cells)
    console.print(matrix)
