"""``digitrec compare``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from digitrec.cli.output import console, emit_json, err_console


def compare(
    models: str = typer.Option("sk-mlp,mlp,cnn-32-64,fast,best", "--models", "-m",
                               help="Comma-separated zoo models (trained here) and/or model directories "
                               "(measured as they are; write ./mlp for a folder named like a zoo model)."),
    dataset: str = typer.Option("mnist", "--dataset", "-d", help="mnist, fashion-mnist or kmnist."),
    epochs: Optional[int] = typer.Option(None, "--epochs", "-e", help="Epochs for every model (default: each "
                                         "model's own recipe, as in its lesson)."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Train each model on a random subset of N "
                                        "examples."),
    seed: int = typer.Option(0, "--seed", help="Random seed of every training run."),
    test_limit: Optional[int] = typer.Option(None, "--test-limit", help="Measure on a random subset of N test "
                                             "images (quick runs; default: the whole test set)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Folder for the trained models, "
                                       "comparison.{json,csv,md} and the plot "
                                       "(default: runs/compare-DATASET-TIME)."),
    plot: Optional[Path] = typer.Option(None, "--plot", help="Where to write the plot, PNG or SVG by suffix "
                                        "(default: OUT/comparison.png)."),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="Folder holding DATASET/ sub-folders of IDX files."),
    json: bool = typer.Option(False, "--json", help="Print the comparison as one JSON object."),
):
    """The contest: train, quantize and measure several models the same way, side by side.

    Compares test accuracy, parameters, training time, size, int8 accuracy drop and latency on the whole test
    set; prints the table, saves it as JSON, CSV and Markdown, and draws the plot.

    Examples:

        digitrec compare --models sk-mlp,mlp,cnn-32-64,fast --limit 10000 --epochs 2
        digitrec compare --models runs/a,runs/b --out runs/contest
    """
    from digitrec.reports.compare import DISPLAY, default_out_dir
    from digitrec.reports.compare import compare as run_compare
    from digitrec.reports.plots import check_format

    if plot is not None:
        check_format(plot)
    out = out or default_out_dir(dataset)
    names = [m.strip() for m in models.split(",") if m.strip()]
    result = run_compare(names, dataset, out, epochs=epochs, limit=limit, seed=seed, data_dir=data_dir,
                         console=err_console, test_limit=test_limit)
    with err_console.status("drawing the plot…"):
        written = result.save(out, plot)
    if json:
        emit_json(result.to_json())
        return
    # one column per model, one row per measure: fits a terminal better than the wide Markdown table
    table = Table(title=f"model comparison on {result.dataset} ({result.settings['test_images']:,} test images)")
    models_cells = result.display_rows()
    table.add_column("")
    for cells in models_cells:
        table.add_column(cells[0], justify="right")
    for i, (header, _, _) in enumerate(DISPLAY[1:], 1):
        table.add_row(header, *(cells[i] for cells in models_cells))
    console.print(table)
    for contestant in result.contestants:
        if contestant.note:
            console.print(f"[yellow]note:[/] {contestant.name}: {contestant.note}")
    console.print("wrote " + ", ".join(str(p) for p in written))
