"""Learning from corrections: fine-tune the production model on what users corrected, without forgetting.

The corrections (a folder dataset exported from the feedback store) are split: most are learned from, the
rest are held back to judge the result. Training starts from the production model's weights on the
corrections, repeated so they are about a tenth of every epoch, mixed with a replay of the original training
data so the model keeps what it knew. A gate then compares candidate and production on the original test
set and on the held-back corrections: the candidate passes when it is better on the corrections and no more
than ``max_drop`` worse on the test set. It is always registered; it is promoted only when asked and passed.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from digitrec.data import Dataset, load_dataset
from digitrec.errors import DataError, ModelError, UsageError
from digitrec.inference import Recognizer, resolve_model_dir
from digitrec.inference.metrics import report
from digitrec.modeldir import BUNDLED, WEIGHTS, load_metadata, save_metadata
from digitrec.models.catalog import get_model_info
from digitrec.registry import DEFAULT_ALIAS, Alias, Registry, Version
from digitrec.training.config import TrainConfig, with_overrides
from digitrec.training.progress import EpochProgress
from digitrec.training.trainer import TrainResult, train

FEEDBACK_SHARE = 0.1  # of each epoch: enough to learn a handful of corrections, too little to forget the rest
MIN_CORRECTIONS = 4  # at least one held back and a few to learn from
VALIDATION = 1000  # original training examples (not replayed) for calibration and validation curves


@dataclass(frozen=True)
class FinetuneOptions:
    base: str | None = None  # model directory, alias or version; None = production, else the bundled model
    epochs: int = 2
    lr: float | None = None  # default: a tenth of the base recipe's peak rate
    replay: int = 10_000  # original training examples mixed in
    holdout: float = 0.25  # of the corrections, held back for the gate
    max_drop: float = 0.002  # the most test accuracy the candidate may lose (0.002 = 0.2 points)
    seed: int = 0
    device: str = "auto"
    promote: bool = False  # promote to production when the gate passes


@dataclass(frozen=True)
class Gate:
    base: dict  # {"version", "test_accuracy", "feedback_accuracy"}
    candidate: dict
    max_drop: float
    passed: bool
    reason: str


@dataclass
class FinetuneResult:
    trained: TrainResult
    version: Version
    gate: Gate
    promoted: Alias | None
    counts: dict

    def to_json(self) -> dict:
        return {"model_dir": str(self.trained.model_dir), "version": self.version.name,
                "test_accuracy": self.gate.candidate["test_accuracy"], "gate": asdict(self.gate),
                "promoted": self.promoted is not None, "counts": self.counts,
                "train_seconds": round(self.trained.train_seconds, 3)}


def base_model(ref: str | None, registry: Registry) -> Path:
    """The model to improve: as given, else what production points to, else the bundled model."""
    if ref is not None:
        return resolve_model_dir(ref, registry.root)
    production = registry.find_alias(DEFAULT_ALIAS)
    return registry.version(production.version).path if production else BUNDLED


def concat(name: str, *parts: Dataset) -> Dataset:
    return Dataset(name, np.concatenate([p.images for p in parts]), np.concatenate([p.labels for p in parts]),
                   parts[0].classes)


def accuracy(model_dir: Path, data: Dataset) -> float:
    """With the ONNX model, as the service answers."""
    recognizer = Recognizer(model_dir)
    return report(recognizer.predict_arrays(data.images), data.labels, recognizer.classes).accuracy


def judge(base: dict, candidate: dict, max_drop: float) -> Gate:
    drop = base["test_accuracy"] - candidate["test_accuracy"]
    gained = candidate["feedback_accuracy"] - base["feedback_accuracy"]
    if drop > max_drop:
        reason = f"test accuracy fell by {drop * 100:.2f} points (at most {max_drop * 100:.2f} allowed)"
    elif gained <= 0:
        reason = f"no better on the held-back corrections ({gained * 100:+.1f} points)"
    else:
        reason = f"{gained * 100:+.1f} points on held-back corrections, {-drop * 100:+.2f} on the test set"
    return Gate(base, candidate, max_drop, drop <= max_drop and gained > 0, reason)


def finetune(corrections: Path, registry: Registry, options: FinetuneOptions, out_dir: Path | None = None,
             data_dir=None, progress: EpochProgress | None = None) -> FinetuneResult:
    """Fine-tune on a folder dataset of corrections, register the result, promote it if asked and passed."""
    progress = progress or EpochProgress(enabled=False)
    base_dir = base_model(options.base, registry)
    base_meta = load_metadata(base_dir)
    if get_model_info(base_meta.name).kind != "torch" or WEIGHTS not in base_meta.files:
        raise ModelError(f"{base_dir}: fine-tuning needs a torch model with {WEIGHTS} "
                         f"(this is {base_meta.name})")
    feedback = load_dataset(str(corrections), progress=progress.enabled)
    if feedback.classes != tuple(base_meta.classes):
        raise DataError(f"corrections are labelled {', '.join(feedback.classes)}, but the model knows "
                        f"{', '.join(base_meta.classes)}")
    if len(feedback) < MIN_CORRECTIONS:
        raise DataError(f"only {len(feedback)} usable correction(s); at least {MIN_CORRECTIONS} are needed "
                        "(some are learned from, some held back to judge the result)")
    if not 0 < options.holdout < 1:
        raise UsageError(f"--holdout must be in (0, 1), got {options.holdout}")
    learn, held = feedback.split(max(options.holdout, 1 / len(feedback)), seed=options.seed)

    original = load_dataset(base_meta.dataset, "train", data_dir=data_dir, progress=progress.enabled)
    test = load_dataset(base_meta.dataset, "test", data_dir=data_dir, progress=progress.enabled)
    order = np.random.default_rng(options.seed).permutation(len(original))
    replay_n = min(options.replay, len(original) - VALIDATION)
    replay = original.take(np.sort(order[:replay_n]))
    val = original.take(np.sort(order[replay_n : replay_n + VALIDATION]))
    repeat = max(1, math.ceil(FEEDBACK_SHARE * len(replay) / ((1 - FEEDBACK_SHARE) * len(learn))))
    train_set = concat(base_meta.dataset, replay, *[learn] * repeat)

    base_config = TrainConfig.from_dict(base_meta.config)
    config = with_overrides(base_config, epochs=options.epochs, seed=options.seed, device=options.device,
                            lr=options.lr or base_config.lr / 10, patience=0, limit=None,
                            ema=False)  # an average over a few dozen steps would stay the base model
    progress.note(f"fine-tuning {base_meta.name} {base_meta.version} on {len(learn)} corrections (×{repeat}) "
                  f"+ {len(replay)} replayed {base_meta.dataset} examples; {len(held)} held back")
    out_dir = out_dir or Path("runs") / f"finetune-{config.model}-{datetime.now():%Y%m%d-%H%M%S}"
    trained = train(config, out_dir, progress=progress, init_weights=base_dir / WEIGHTS,
                    splits=(train_set, val, test))

    base_scores = {"version": base_meta.version, "test_accuracy": accuracy(base_dir, test),
                   "feedback_accuracy": accuracy(base_dir, held)}
    candidate_scores = {"version": trained.metadata.version, "test_accuracy": trained.test_accuracy,
                        "feedback_accuracy": accuracy(out_dir, held)}
    gate = judge(base_scores, candidate_scores, options.max_drop)
    counts = {"corrections": len(feedback), "learned": len(learn), "held_back": len(held), "repeat": repeat,
              "replay": len(replay)}
    meta = trained.metadata
    meta.metrics["gate"] = asdict(gate)
    meta.config["finetune"] = {"base": base_meta.version, **counts}
    trained.metadata = save_metadata(out_dir, meta)

    version, _ = registry.register(out_dir, {"finetuned_from": base_meta.version})
    promoted = registry.promote(version.name, DEFAULT_ALIAS) if options.promote and gate.passed else None
    return FinetuneResult(trained, version, gate, promoted, counts)
