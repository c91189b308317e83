"""``digitrec train-reader``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from digitrec.cli.output import console, emit_json, err_console
from digitrec.errors import UsageError


def train_reader(
    out: Path = typer.Option(Path("runs/reader"), "--out", "-o", help="Folder to write reader.onnx (int8) "
                             "and training.json to."),
    epochs: int = typer.Option(16, "--epochs", "-e", min=1, help="Passes, each over freshly drawn runs of digits."),
    runs_per_epoch: int = typer.Option(60_000, "--runs", min=1, help="Runs of digits drawn per epoch."),
    seed: int = typer.Option(0, "--seed", help="Random seed: the same seed gives the same reader."),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="Folder holding mnist/ with the IDX files."),
    json: bool = typer.Option(False, "--json", help="End with one JSON object (accuracies, sizes, history)."),
):
    """Train the number reader, the network that reads touching digits for `predict --multi` and `?multi=true`.

    It learns from runs of 1-5 MNIST training digits drawn touching or overlapping, with CTC (no digit
    positions needed); the last 4 000 training digits are held out to measure it. About 32 minutes on 2
    CPU cores that compute in bf16 (AVX512-BF16), longer on others; the defaults are the bundled reader's.

    Example: `digitrec train-reader --out runs/reader && cp runs/reader/reader.onnx src/digitrec/bundled/`
    """
    from digitrec.data import load_dataset
    from digitrec.inference.reader import READER_FILE
    from digitrec.training.lines import LineTrainConfig, train_line_reader

    try:  # fail now, not after half an hour of training
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{out}: cannot write the reader there ({exc.strerror or exc})") from None
    train = load_dataset("mnist", "train", data_dir=data_dir, progress=not json)
    held_out = 4000
    cfg = LineTrainConfig(epochs=epochs, runs_per_epoch=runs_per_epoch, seed=seed)

    def log(epoch: dict) -> None:
        err_console.print(f"epoch {epoch['epoch']}/{epochs}: CTC loss {epoch['loss']:.4f}, held-out runs "
                          f"read right {epoch['val_run_accuracy'] * 100:.2f} % ({epoch['seconds']:.0f} s)")

    summary = train_line_reader(train.take(slice(0, len(train) - held_out)),
                                train.take(slice(len(train) - held_out, None)), cfg, out, log)
    if json:
        emit_json(summary)
        return
    console.print(f"[bold green]done[/]: {out / READER_FILE} ({summary['int8_bytes'] / 1024:.0f} KB, int8), "
                  f"held-out runs read right: {summary['val_run_accuracy_int8'] * 100:.2f} %")
