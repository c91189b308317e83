"""``train``: data → fit (torch or scikit-learn) → weights → ONNX → test metrics → model directory."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from safetensors.torch import save

from digitrec.data import Dataset, load_dataset
from digitrec.data.catalog import CATALOG
from digitrec.data.folder import load_folder
from digitrec.errors import DataError, UsageError
from digitrec.inference.metrics import report
from digitrec.modeldir import ONNX_FP32, WEIGHTS, Metadata, save_metadata, write_atomic
from digitrec.models.catalog import get_model_info
from digitrec.preprocess import DEFAULT
from digitrec.training.checkpoint import CHECKPOINT, load_checkpoint
from digitrec.training.config import TrainConfig, with_overrides
from digitrec.training.progress import EpochProgress


@dataclass
class TrainResult:
    model_dir: Path
    metadata: Metadata
    train_seconds: float

    @property
    def test_accuracy(self) -> float | None:
        return self.metadata.metrics.get("test_accuracy")

    @property
    def history(self) -> list[dict]:
        return self.metadata.history

    def to_json(self) -> dict:
        m = self.metadata.metrics
        return {"model_dir": str(self.model_dir), "model": self.metadata.name, "dataset": self.metadata.dataset,
                "version": self.metadata.version, "test_accuracy": m.get("test_accuracy"),
                "test_loss": m.get("test_loss"), "val_accuracy": m.get("val_accuracy"),
                "train_seconds": round(self.train_seconds, 3), "epochs": len(self.metadata.history),
                "device": self.metadata.config.get("device_used"), "history": self.metadata.history}


def default_out_dir(config: TrainConfig) -> Path:
    dataset = Path(config.dataset).name if os.sep in config.dataset else config.dataset
    return Path("runs") / f"{config.model}-{dataset}-{datetime.now():%Y%m%d-%H%M%S}"


def load_splits(c: TrainConfig, data_dir=None, progress: bool = True) -> tuple[Dataset, Dataset | None, Dataset | None]:
    """Train (optionally limited), validation held out from it, and the test split when there is one."""
    full = load_dataset(c.dataset, "train", data_dir=data_dir, progress=progress)
    full = full.subset(c.limit, seed=c.seed)
    if len(full) < 2:
        raise UsageError(f"dataset '{c.dataset}' has {len(full)} example(s); at least 2 are needed to train")
    train, val = full.split(c.val_split, seed=c.seed) if c.val_split else (full, None)
    for folder in c.extra:
        more = load_folder(Path(folder), progress=progress)
        if more.classes != train.classes:
            raise DataError(f"{folder}: labels {', '.join(more.classes)} are not {c.dataset}'s "
                            f"({', '.join(train.classes)}); --extra adds examples of the same classes")
        train = train.concat(more)
    test = load_dataset(c.dataset, "test", data_dir=data_dir, progress=progress) if c.dataset in CATALOG else None
    return train, val, test


def train(config: TrainConfig, out_dir: Path | None = None, resume: bool = False, data_dir=None,
          progress: EpochProgress | None = None, init_weights: Path | None = None,
          splits: tuple[Dataset, Dataset | None, Dataset | None] | None = None) -> TrainResult | None:
    """Train a zoo model and write a complete, verified model directory to ``out_dir``.

    ``init_weights`` starts a torch model from trained weights and ``splits`` (train, validation, test)
    replaces the config's dataset: fine-tuning uses both. Returns None on ranks other than 0 of a distributed
    run."""
    progress = progress or EpochProgress(enabled=False)
    if resume:
        if out_dir is None:
            raise UsageError("--resume needs --out: the directory of the run to continue")
        _, info = load_checkpoint(Path(out_dir) / CHECKPOINT)
        saved = TrainConfig.from_dict(info["config"])
        # a resumed run keeps its recipe; only a longer schedule may be asked for
        config = with_overrides(saved, epochs=max(saved.epochs, config.epochs if config.model == saved.model
                                                  else saved.epochs))
    out_dir = Path(out_dir) if out_dir is not None else default_out_dir(config)
    if not resume and (out_dir / CHECKPOINT).exists():
        progress.note(f"note: {out_dir / CHECKPOINT} exists from an earlier run; starting afresh "
                      "(use --resume to continue it)")
    train_set, val_set, test_set = splits or load_splits(config, data_dir, progress=progress.enabled)
    out_dir.mkdir(parents=True, exist_ok=True)  # only once the data is there: a failed start leaves nothing
    info = get_model_info(config.model)

    if info.kind == "sklearn":
        from digitrec.export.onnx_export import export_sklearn
        from digitrec.training.sklearn_loop import fit_sklearn, weights

        fit = fit_sklearn(config, train_set, val_set, out_dir, resume, progress)
        calibration = {"temperature": 1.0, "no_digit_class": False}
        write_atomic(out_dir / WEIGHTS, save(weights(fit.model)))
        export_sklearn(fit.model, out_dir / ONNX_FP32)
        device, precision = "cpu", "fp64"
    else:
        from digitrec.export.onnx_export import export_torch
        from digitrec.training.torch_loop import fit_torch

        fit = fit_torch(config, train_set, val_set, out_dir, resume, progress, init_weights)
        if not fit.main_process:
            return None
        write_atomic(out_dir / WEIGHTS, save({k: v.contiguous() for k, v in fit.model.state_dict().items()}))
        export_torch(fit.model, out_dir / ONNX_FP32, fit.temperature, len(train_set.classes))
        device, precision = fit.device, fit.precision
        calibration = {"temperature": fit.temperature, "no_digit_class": config.reject}

    meta = Metadata(
        name=config.model, dataset=train_set.name, classes=list(train_set.classes),
        preprocessing=DEFAULT.to_dict(),
        config={**config.to_dict(), **calibration, "device_used": device, "precision": precision,
                "train_examples": len(train_set), "val_examples": len(val_set) if val_set else 0},
        history=fit.history,
    )
    meta.metrics = {"train_seconds": round(fit.train_seconds, 3)}
    if fit.history and fit.history[-1].get("val_accuracy") is not None:
        meta.metrics["val_accuracy"] = fit.history[-1]["val_accuracy"]
    meta = save_metadata(out_dir, meta)
    if test_set is not None:
        from digitrec.inference import Recognizer

        scored = report(Recognizer(out_dir).predict_arrays(test_set.images), test_set.labels, meta.classes)
        meta.metrics.update(test_accuracy=scored.accuracy, test_loss=scored.loss, test_n=scored.n)
        meta = save_metadata(out_dir, meta)
    (out_dir / CHECKPOINT).unlink(missing_ok=True)
    return TrainResult(out_dir, meta, fit.train_seconds)
