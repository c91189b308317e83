"""``digitrec train``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import typer

from digitrec.cli.output import console, emit_json, err_console
from digitrec.errors import DataError, UsageError
from digitrec.models.catalog import MODELS

MODEL_HELP = "Model from the zoo: " + ", ".join(MODELS) + ". Default: fast (or the preset's)."
# The options that make up a TrainConfig (``make_config``'s arguments), as ``train``'s parameters name them.
CONFIG_OPTIONS = ("model", "preset", "dataset", "extra", "epochs", "batch_size", "lr", "optimizer", "seed",
                  "val_split", "augment", "patience", "limit", "device")


def train(
    dataset: str = typer.Option("mnist", "--dataset", "-d",
                                help="mnist, fashion-mnist, kmnist, or a folder with one sub-folder per label."),
    extra: Optional[list[Path]] = typer.Option(None, "--extra", help="A folder dataset (one sub-folder per "
                                               "label) whose images are added to the training examples — your "
                                               "own digits, `digitrec feedback export`, `digitrec data "
                                               "fonts`. Repeatable. Validation and test stay the dataset's."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help=MODEL_HELP),
    preset: Optional[str] = typer.Option(None, "--preset", help="A whole recipe: fast (≥99 % in seconds on a "
                                         "CPU) or best (highest accuracy, slower; on fashion-mnist it "
                                         "flips and erases instead of rotating, on a wider network)."),
    epochs: Optional[int] = typer.Option(None, "--epochs", "-e", help="Passes over the training data."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", "-b", help="Examples per step."),
    lr: Optional[float] = typer.Option(None, "--lr", help="(Peak) learning rate."),
    optimizer: Optional[str] = typer.Option(None, "--optimizer", help="adam, adamw, sgd or rmsprop."),
    seed: int = typer.Option(0, "--seed", help="Random seed: the same seed gives the same model."),
    val_split: Optional[float] = typer.Option(None, "--val-split", help="Fraction of the training data held "
                                              "out for validation, as Keras' validation_split."),
    augment: Optional[str] = typer.Option(None, "--augment", help="Data augmentation: none, light "
                                          "(small affine jitter) or robust (pen thickness, rotation, shear, "
                                          "elastic, blur, noise: for real handwriting) or objects (mirror, "
                                          "shift, random erasing: for upright things such as clothes)."),
    patience: Optional[int] = typer.Option(None, "--patience", help="Early stopping: stop after this many "
                                           "epochs without validation-loss improvement (0 = off)."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Train on a random subset of N examples."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Model directory to write "
                                       "(default: runs/MODEL-DATASET-TIME)."),
    resume: bool = typer.Option(False, "--resume", help="Continue the interrupted run in --out from its last "
                                "checkpoint."),
    device: str = typer.Option("auto", "--device", help="auto (CUDA when present), cpu, or cuda[:N]."),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="Folder holding DATASET/ sub-folders of the IDX files."),
    json: bool = typer.Option(False, "--json", help="End with one JSON object (test_accuracy, "
                              "train_seconds, model_dir, history)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
    from_feedback: bool = typer.Option(False, "--from-feedback", help="Learn from corrections: fine-tune the "
                                       "production model on the feedback store's images plus a replay of its "
                                       "training data, compare it with production (test set and held-back "
                                       "corrections), register it."),
    feedback_db: Optional[Path] = typer.Option(None, "--feedback-db", help="With --from-feedback: the "
                                               "feedback store (default: the one `digitrec serve` uses)."),
    promote_if_better: bool = typer.Option(False, "--promote-if-better", help="With --from-feedback: promote "
                                           "the result to production when it passes the gate."),
    base: Optional[str] = typer.Option(None, "--base", help="With --from-feedback: the model to improve (a "
                                       "directory, alias or version; default: production, else the bundled "
                                       "model)."),
    replay: int = typer.Option(10_000, "--replay", min=100, help="With --from-feedback: original training "
                               "examples mixed in, so the model does not forget."),
    registry: Optional[Path] = typer.Option(None, "--registry", envvar="DIGITREC_REGISTRY",
                                            help="With --from-feedback: the model registry (default: "
                                            "registry/ in the user data folder)."),
):
    """Train a model and write a model directory (ONNX, weights, metadata with history and metrics).

    Shows the untrained loss first (≈ ln 10 = 2.30), then a live bar per epoch with loss and accuracy.
    A checkpoint is written atomically after every epoch: after a crash or Ctrl-C, run the same
    command with `--resume` to continue.

    Examples:

        digitrec train --preset fast
        digitrec train --model cnn-32-64 --epochs 5 --out runs/keras-cnn
        digitrec train --dataset fashion-mnist --preset best --json
        digitrec train --model robust --extra my-digits/ --extra font-digits/
        digitrec train --from-feedback --promote-if-better
        torchrun --nproc-per-node=2 -m digitrec train --preset fast     # DDP: 2 processes
    """
    quiet = quiet or os.environ.get("RANK", "0") != "0"  # under torchrun, rank 0 alone reports
    if from_feedback:
        if model or preset:
            raise UsageError("--from-feedback keeps the base model's architecture: drop --model/--preset")
        if extra:
            raise UsageError("--from-feedback learns from the feedback store: drop --extra")
        learn_from_feedback(feedback_db, base, registry, promote_if_better, replay, epochs, lr, seed, device,
                            out, data_dir, json, quiet)
        return
    if promote_if_better or feedback_db or base:
        raise UsageError("--promote-if-better, --feedback-db and --base go with --from-feedback")
    from digitrec.training.config import make_config
    from digitrec.training.progress import EpochProgress
    from digitrec.training.trainer import train as run_training

    config = make_config(model=model, preset=preset, dataset=dataset,
                         extra=extra or None, epochs=epochs, batch_size=batch_size,
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
    if result is None:  # another rank of a distributed run
        return
    if json:
        emit_json(result.to_json())
        return
    acc = result.test_accuracy
    console.print(f"[bold green]done[/] in {result.train_seconds:.1f} s: "
                  + (f"test accuracy {acc * 100:.2f} %" if acc is not None else "no test split")
                  + f" — model in {result.model_dir}")


def parse_train_args(args: list[str]) -> dict:
    """The parameters `digitrec train ARGS` would run with, parsed and checked as the command itself does
    (``digitrec jobs submit -- ARGS`` validates before submitting)."""
    app = typer.Typer()
    app.command()(train)
    with typer.main.get_command(app).make_context("digitrec train", list(args)) as context:
        return context.params


def learn_from_feedback(feedback_db: Optional[Path], base: Optional[str], registry: Optional[Path],
                        promote: bool, replay: int, epochs: Optional[int], lr: Optional[float], seed: int,
                        device: str, out: Optional[Path], data_dir: Optional[Path], json: bool,
                        quiet: bool) -> None:
    import tempfile

    from rich.table import Table

    from digitrec.cli.feedback import open_store
    from digitrec.registry import Registry
    from digitrec.training.progress import EpochProgress

    store = open_store(feedback_db)
    with tempfile.TemporaryDirectory(prefix="digitrec-corrections-") as folder:
        try:
            exported = store.export(folder)
        finally:
            store.close()
        if not exported:
            raise DataError(f"{store.path}: no corrections stored yet; nothing to learn from")
        from digitrec.training.finetune import FinetuneOptions, finetune  # torch: only once there is work

        options = FinetuneOptions(base=base, epochs=epochs or FinetuneOptions.epochs, lr=lr, replay=replay,
                                  seed=seed, device=device, promote=promote)
        result = finetune(Path(folder), Registry(registry), options, out, data_dir,
                          EpochProgress(err_console, enabled=not quiet))
    if json:
        emit_json(result.to_json())
        return
    gate = result.gate
    table = Table(title="gate: candidate vs base")
    for column in ("model", "version", "test accuracy", "held-back corrections"):
        table.add_column(column)
    for label, scores in (("base", gate.base), ("candidate", gate.candidate)):
        table.add_row(label, scores["version"], f"{scores['test_accuracy'] * 100:.2f} %",
                      f"{scores['feedback_accuracy'] * 100:.1f} % of {result.counts['held_back']}")
    console.print(table)
    verdict = "[green]passed[/]" if gate.passed else "[yellow]not better[/]"
    action = ("promoted to production" if result.promoted else
              "not promoted (add --promote-if-better)" if gate.passed and not promote else "not promoted")
    console.print(f"{verdict}: {gate.reason}\nregistered [bold]{result.version.name}[/]; {action}",
                  highlight=False)
