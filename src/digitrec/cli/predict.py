"""``digitrec predict``."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.table import Table

from digitrec.cli.output import console, emit_json, err_console


def predict(
    paths: List[Path] = typer.Argument(..., help="Image files or folders (searched recursively; files that "
                                       "are not images are skipped)."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Model directory (default: the bundled "
                                        "MNIST model)."),
    json: bool = typer.Option(False, "--json", help="JSON Lines, one object per image: file, digit (null "
                              "when blank or unsure), confidence, probabilities."),
    min_confidence: float = typer.Option(0.0, "--min-confidence", min=0.0, max=1.0,
                                         help="Answer no digit (null) below this confidence."),
    int8: bool = typer.Option(False, "--int8", help="Use the int8 model (model.int8.onnx)."),
):
    """Recognize the digit in each image: photos, scans, canvas drawings, MNIST-style images.

    Each image is decoded (any Pillow format, EXIF orientation, transparency on white), its ink
    polarity detected, cropped to the ink, fitted into 20×20 and centred by centre of mass in 28×28,
    as MNIST digits were. A bad file is reported and the rest carry on; the exit code is 1 if any failed.

    Examples:

        digitrec predict my_digit.png
        digitrec predict photos/ --json
    """
    from digitrec.inference import Recognizer, find_images

    recognizer = Recognizer(model, precision="int8" if int8 else "fp32", min_confidence=min_confidence)
    files = list(find_images(paths))
    if not files:
        err_console.print("[yellow]warning:[/] no image files found")
    failed = 0
    table = _table(recognizer.classes) if not json else None
    for prediction in recognizer.predict_files(files):
        if prediction.error:
            failed += 1
            err_console.print(f"[bold red]error:[/] {prediction.error}", highlight=False, soft_wrap=True)
        if json:
            emit_json(prediction.to_json())
        elif not prediction.error:
            answer = "[dim]none[/]" if prediction.digit is None else f"[bold]{prediction.label}[/]"
            cells = [f"{p * 100:.1f}" if p >= 0.0005 else "[dim]0[/]" for p in prediction.probabilities]
            table.add_row(prediction.file, answer, f"{prediction.confidence * 100:.1f} %", *cells)
    if table is not None and table.row_count:
        console.print(table)
    if failed:
        raise typer.Exit(1)


def _table(classes: list[str]) -> Table:
    table = Table(title="predictions (probability per class, %)")
    table.add_column("file", overflow="fold")
    table.add_column("answer", justify="center")
    table.add_column("confidence", justify="right")
    for name in classes:
        table.add_column(name[:8], justify="right")
    return table
