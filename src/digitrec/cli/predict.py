"""``digitrec predict``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import List, Optional

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from digitrec.cli.output import console, emit_json, err_console


def predict(
    paths: List[Path] = typer.Argument(..., help="Image files or folders (searched recursively; files that "
                                       "are not images are skipped); - reads an image from standard input."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Model directory (default: the bundled "
                                        "MNIST model)."),
    multi: bool = typer.Option(False, "--multi", help="Read a whole number: every digit, left to right, "
                               "line by line, with its box."),
    json: bool = typer.Option(False, "--json", help="JSON Lines, one object per image: file, digit (null "
                              "when blank or unsure), confidence, probabilities; with --multi: file, text, "
                              "digits with boxes [x, y, w, h]."),
    min_confidence: float = typer.Option(0.0, "--min-confidence", min=0.0, max=1.0,
                                         help="Answer no digit (null; '?' in a number) below this confidence."),
    explain: Optional[Path] = typer.Option(None, "--explain", help="Write, per input, a picture of every "
                                           "preprocessing stage and the 28×28 the model saw into this folder."),
    tta: bool = typer.Option(False, "--tta", help="Test-time augmentation: average over slightly rotated "
                             "and rescaled copies (5× the model work, a little more robust)."),
    int8: bool = typer.Option(False, "--int8", help="Use the int8 model (model.int8.onnx)."),
):
    """Recognize the digit in each image: photos, scans, canvas drawings, MNIST-style images.

    Each image is decoded (any Pillow format and iPhone HEIC photos, EXIF orientation, transparency on
    white or, under a white pen, on black), cut to the sheet when it is a note photographed on a desk,
    enlarged if small (a small scan, or a small digit on a page), its ink polarity detected, uneven light
    removed, cropped to the ink, stroke width normalized, fitted into 20×20 and centred by centre of mass
    in 28×28, as MNIST digits were. A bad file is reported and the rest carry on; the exit code is 1 if any failed.

    Examples:

        digitrec predict my_digit.png
        digitrec predict photos/ --json
        digitrec predict receipt.jpg --multi --explain explain/
        curl -s https://example.com/digit.png | digitrec predict -
    """
    from digitrec.inference import Recognizer, find_images

    if explain is not None:
        explain.mkdir(parents=True, exist_ok=True)  # an unusable folder stops the command before any work
    recognizer = Recognizer(model, precision="int8" if int8 else "fp32", min_confidence=min_confidence, tta=tta)
    files = list(find_images(paths))
    if not files:
        err_console.print("[yellow]warning:[/] no image files found")
    trace = explain is not None
    results = (recognizer.read_number_files(files, trace) if multi else recognizer.predict_files(files, trace))
    single = len(files) == 1 and not multi
    table = None
    if not (json or single):
        table = _number_table() if multi else _digit_table(recognizer.classes, max(len(str(f)) for f in files))
    failed = 0
    for index, result in enumerate(results):
        if result.error:
            failed += 1
            err_console.print(f"[bold red]error:[/] {escape(result.error)}", highlight=False, soft_wrap=True)
        elif explain is not None:
            _explain(explain, index, result, multi)
        if json:
            emit_json(result.to_json())
        elif single and not result.error:
            _print_one(result, recognizer.classes)
        elif not result.error:
            _add_row(table, result, multi, recognizer.classes)
    if table is not None and table.row_count:
        console.print(table)
    if explain is not None and len(files) > failed:
        err_console.print(f"explanations written to {explain}/")
    if failed:
        raise typer.Exit(1)


def _print_one(result, classes: list[str]) -> None:
    """One image: the answer, then every class with its probability and a bar, as the TFLite lesson printed."""
    answer = "no digit found" if result.digit is None else f"[bold]{result.label}[/]"
    console.print(f"{result.file}: {answer} (confidence {result.confidence * 100:.1f} %)", highlight=False)
    for name, p in zip(classes, result.probabilities):
        bar = "█" * round(p * 30)
        console.print(f"  class {name:>3}: {p * 100:6.2f} % [cyan]{bar}[/]", highlight=False)


def _digit_table(classes: list[str], name_width: int) -> Table:
    """Every class's probability when the terminal has room for them beside the file names, else the three
    most likely."""
    wide = console.width >= min(name_width, 40) + 22 + 6 * len(classes)
    table = Table(title="predictions (probability per class, %)" if wide else "predictions (top 3, %)",
                  box=box.SIMPLE_HEAD)
    table.add_column("file", overflow="fold")
    table.add_column("answer", justify="center")
    table.add_column("conf.", justify="right")
    if wide:
        for name in classes:
            table.add_column(name[:8], justify="right", no_wrap=True)
    else:
        table.add_column("next most likely", no_wrap=True)
    return table


def _number_table() -> Table:
    table = Table(title="numbers read")
    table.add_column("file", overflow="fold")
    table.add_column("text", justify="center")
    table.add_column("digits (confidence %)")
    return table


def _add_row(table: Table, result, multi: bool, classes: list[str]) -> None:
    if multi:
        digits = " ".join(f"{'?' if d.digit is None else d.digit}({d.confidence * 100:.0f})" for d in result.digits)
        table.add_row(result.file, f"[bold]{result.text or '—'}[/]", digits or "[dim]no digits found[/]")
        return
    answer = "[dim]none[/]" if result.digit is None else f"[bold]{result.label}[/]"
    probabilities = result.probabilities
    if len(table.columns) > 4:
        cells = [f"{p * 100:.1f}" if p >= 0.0005 else "[dim]·[/]" for p in probabilities]
    else:
        order = sorted(range(len(probabilities)), key=lambda i: -probabilities[i])[1:3]
        cells = ["  ".join(f"{classes[i]}: {probabilities[i] * 100:.1f}" for i in order)]
    table.add_row(result.file, answer, f"{result.confidence * 100:.1f}", *cells)


def _explain(folder: Path, index: int, result, multi: bool) -> None:
    from digitrec.preprocess.explain import number_sheet, strip

    stem = re.sub(r"[^\w.-]+", "_", Path(result.file).stem)[:80] or "image"
    target = folder / f"{index:04d}-{stem}.png"
    if multi:
        boxes = [(d.box, "?" if d.digit is None else str(d.digit), d.preprocessed) for d in result.digits]
        number_sheet(result.image, boxes, f"{result.file}: '{result.text}'").save(target)
    else:
        answer = "no digit" if result.digit is None else f"{result.label} ({result.confidence * 100:.1f} %)"
        strip(result.trace, f"{result.file}: {answer}").save(target)
