"""``digitrec train``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from digitrec.cli.output import console, emit_json, err_console
from digitrec.models.catalog import MODELS

MODEL_HELP = "Model from the zoo: " + ", ".join(MODELS) + ". Default: fast (or the preset's)."


def train(
    dataset: str = typer.Option("mnist", "--dataset", "-d",
                                help="mnist, fashion-mnist, kmnist, or a folder with one sub-folder per label."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help=MODEL_HELP),
    preset: Optional[str] = typer.Option(None, "--preset", help="A whole recipe: fast (≥99 % in seconds on a "
                                         "CPU) or best (highest accuracy, slower)."),
    epochs: Optional[int] = typer.Option(None, "--epochs", "-e", help="Passes over the training data."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", "-b", help="Examples per step."),
    lr: Optional[float] = typer.Option(None, "--lr", help="(Peak) learning rate."),
    optimizer: Optional[str] = typer.Option(None, "--optimizer", help="adam, adamw, sgd or rmsprop."),
    seed: int = typer.Option(0, "--seed", help="Random seed: the same seed gives the same model."),
    val_split: Optional[float] = typer.Option(None, "--val-split", help="Fraction of the training data held "
                                              "out for validation, as Keras' validation_split."),
    augment: Optional[str] = typer.Option(None, "--augment", help="Data augmentation: none, light "
                                          "(small affine jitter) or robust (pen thickness, rotation, shear, "
                                          "elastic, blur, noise: for real handwriting)."),
    patience: Optional[int] = typer.Option(None, "--patience", help="Early stopping: stop after this many "
                                           "epochs without validation-loss improvement (0 = off)."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Train on a random subset of N examples."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Model directory to write "
                                       "(default: runs/<model>-<dataset>-<time>)."),
    resume: bool = typer.Option(False, "--resume", help="Continue the interrupted run in --out from its last "
                                "checkpoint."),
    device: str = typer.Option("auto", "--device", help="auto (CUDA when present), cpu, or cuda[:N]."),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="Folder holding <dataset>/ IDX files."),
    json: bool = typer.Option(False, "--json", help="End with one JSON object (test_accuracy, "
                              "train_seconds, model_dir, history)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
):
    """Train a model and write a model directory (ONNX, weights, metadata with history and metrics).

    Shows the untrained loss first (≈ ln 10 = 2.30), then a live bar per epoch with loss and accuracy.
    A checkpoint is written atomically after every epoch: after a crash or Ctrl-C, run the same
    command with `--resume` to continue.

    Examples:

        digitrec train --preset fast
        digitrec train --model cnn-32-64 --epochs 5 --out runs/keras-cnn
        digitrec train --dataset fashion-mnist --preset best --json
    """
    from digitrec.training.config import make_config
    from digitrec.training.progress import EpochProgress
    from digitrec.training.trainer import train as run_training

    config = make_config(model=model, preset=preset, dataset=dataset, epochs=epochs, batch_size=batch_size,
                         lr=lr, optimizer=optimizer, seed=seed, val_split=val_split, augment=augment,
                         patience=patience, limit=limit, device=device)
    progress = EpochProgress(err_console, enabled=not quiet)
    if not quiet and not resume:
        err_console.print(f"training [bold]{config.model}[/] on {config.dataset}: {config.epochs} epochs, "
                          f"batch {config.batch_size}, {config.optimizer} lr {config.lr:g}"
                          f"{', augment ' + config.augment if config.augment != 'none' else ''}")
    try:
        result = run_training(config, out, resume=resume, data_dir=data_dir, progress=progress)
    except KeyboardInterrupt:
        target = out or "<the run's directory>"
        err_console.print(f"[yellow]interrupted[/]: the last finished epoch is saved; continue with "
                          f"`digitrec train --out {target} --resume`")
        raise typer.Exit(130)
    if json:
        emit_json(result.to_json())
        return
    acc = result.test_accuracy
    console.print(f"[bold green]done[/] in {result.train_seconds:.1f} s: "
                  + (f"test accuracy {acc * 100:.2f} %" if acc is not None else "no test split")
                  + f" — model in {result.model_dir}")
