"""``digitrec report``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from digitrec.cli.output import console, err_console


def report(
    model_dir: Optional[str] = typer.Argument(None, help="A model directory (default: the bundled MNIST model)."),
    out: Path = typer.Option(Path("report.html"), "--out", "-o", help="The HTML file to write."),
    dataset: Optional[str] = typer.Option(None, "--dataset", "-d", help="Evaluate on this dataset's test split "
                                          "instead of the model's own (needed for folder-trained models)."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Evaluate on a random subset of N test images."),
    figures: Optional[Path] = typer.Option(None, "--figures", help="Also write each figure to this folder "
                                           "(learning-curves.png, confusion-matrix.png, …)."),
    svg: bool = typer.Option(False, "--svg", help="Write the --figures as SVG instead of PNG."),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="Folder holding DATASET/ sub-folders of IDX files."),
):
    """Write one self-contained HTML report of a model (images embedded, opens offline).

    Sections: model card, learning curves (training vs validation loss and accuracy per epoch), confusion
    matrix, per-class accuracy, test predictions with the wrong ones in red, misclassified images, the most
    confident mistakes, float vs int8 (size, accuracy, latency) and the training configuration.

    Examples:

        digitrec report runs/fast-mnist --out fast.html
        digitrec report runs/mlp --figures docs/images
        digitrec report                      # the bundled model
    """
    from digitrec.reports.model_report import build_report, check_output, write_figures, write_report
    from digitrec.reports.model_report import figures as draw

    check_output(out)
    with err_console.status("evaluating the model and measuring its speed…"):
        built = build_report(model_dir, dataset=dataset, limit=limit, data_dir=data_dir)
    with err_console.status("drawing the figures…"):
        drawn = draw(built)
        written = write_report(built, out, drawn)
        pictures = write_figures(drawn, figures, ".svg" if svg else ".png") if figures is not None else []
    ev = built.evaluation
    console.print(f"[bold green]report[/] {written} — {ev.meta.name} on {ev.data.name}: test accuracy "
                  f"{ev.accuracy * 100:.2f} %, {len(ev.mistakes):,} mistakes in {ev.scores.n:,}")
    if pictures:
        console.print("figures: " + ", ".join(str(p) for p in pictures))
