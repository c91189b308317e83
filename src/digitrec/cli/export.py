"""``digitrec export``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from digitrec.cli.output import console, human_bytes


def export(
    model_dir: Path = typer.Argument(..., help="A model directory written by `digitrec train`."),
    int8: bool = typer.Option(False, "--int8", help="Also write model.int8.onnx: static quantization "
                              "calibrated on training images, per-channel weights."),
    calibration: int = typer.Option(1000, "--calibration", help="Training images used for int8 calibration."),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="Folder holding DATASET/ sub-folders of the IDX files."),
):
    """Write the ONNX model (and an int8 one), then compare size and test accuracy, as the TFLite lesson did.

    Example: `digitrec export runs/fast-mnist --int8`
    """
    from digitrec.export.run import export_model_dir

    rows = export_model_dir(model_dir, int8=int8, data_dir=data_dir, calibration=calibration)
    table = Table(title=f"export of {model_dir}")
    for col in ("file", "precision", "size", "test accuracy"):
        table.add_column(col, justify="right" if col != "file" else "left")
    for row in rows:
        table.add_row(row.file, row.precision, human_bytes(row.size_bytes),
                      f"{row.accuracy * 100:.2f} %" if row.accuracy is not None else "-")
    console.print(table)
    fp32 = next((r for r in rows if r.precision == "fp32"), None)
    q = next((r for r in rows if r.precision == "int8"), None)
    if fp32 and q:
        console.print(f"int8 is {q.size_bytes / fp32.size_bytes * 100:.0f} % of the float size"
                      + (f"; accuracy drop {(fp32.accuracy - q.accuracy) * 100:+.2f} points"
                         if fp32.accuracy is not None and q.accuracy is not None else ""))
