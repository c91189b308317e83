"""The torch training loop: data held as tensors on the device, one short loop, every speed trick named.

Randomness per epoch (shuffle, augmentation, dropout) is seeded from (seed, epoch), so a run resumed from
its last checkpoint is the same run.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from digitrec.data import Dataset
from digitrec.errors import DigitrecError
from digitrec.models.zoo import build
from digitrec.training.augment import LEVELS, augment
from digitrec.training.checkpoint import (
    CHECKPOINT,
    flatten_optimizer,
    load_checkpoint,
    save_checkpoint,
    unflatten_optimizer,
)
from digitrec.training.config import TrainConfig
from digitrec.training.distributed import Distributed, from_environment, process_group
from digitrec.training.negatives import make_negatives
from digitrec.training.progress import EpochProgress


class EarlyStopping:
    """Stop when validation loss has not improved for ``patience`` epochs; remember the best weights."""

    def __init__(self, patience: int, best_loss: float = math.inf, stale: int = 0, best_state=None):
        self.patience, self.best_loss, self.stale, self.best_state = patience, best_loss, stale, best_state

    def update(self, val_loss: float, model: nn.Module) -> bool:
        if val_loss < self.best_loss - 1e-4:
            self.best_loss, self.stale = val_loss, 0
            self.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            self.stale += 1
        return self.patience > 0 and self.stale >= self.patience


@dataclass
class FitResult:
    model: nn.Module  # the weights to export: EMA weights when EMA is on, best weights after early stop
    history: list[dict]
    train_seconds: float
    device: str
    precision: str
    temperature: float = 1.0  # divides the logits so that confidence matches accuracy on validation data
    main_process: bool = True  # False on the other ranks of a distributed run: rank 0 writes the model


REJECT_FRACTION = 0.1  # negatives added per training example when a model learns "no digit"


@torch.no_grad()
def fit_temperature(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Temperature scaling (Guo et al. 2017): the T minimising validation log-loss of softmax(logits / T),
    by golden-section search on log T. Accuracy is unchanged; probabilities become calibrated."""
    model.eval()
    logits = torch.cat([model(x[i : i + 2000]).float() for i in range(0, len(x), 2000)])

    def nll(log_t: float) -> float:
        return F.cross_entropy(logits / math.exp(log_t), y).item()

    lo, hi = math.log(0.25), math.log(4.0)
    golden = (math.sqrt(5) - 1) / 2
    for _ in range(25):  # the bracket shrinks to 1e-5 of its width: plenty for a temperature
        a, b = hi - golden * (hi - lo), lo + golden * (hi - lo)
        if nll(a) < nll(b):
            hi = b
        else:
            lo = a
    return round(math.exp((lo + hi) / 2), 4)


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def autocast_dtype(device: torch.device) -> torch.dtype | None:
    """bf16 autocast where the hardware has native bf16 (recent GPUs; CPUs with AVX512-BF16 or AMX),
    about 1.5-2× faster convolutions there; elsewhere plain fp32 (emulated bf16 would be slower)."""
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else None
    return torch.bfloat16 if torch.cpu._is_avx512_bf16_supported() else None


def to_tensors(data: Dataset, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    images = np.array(data.images, copy=True)  # dataset arrays are read-only; torch wants to own its memory
    x = torch.from_numpy(images).to(device).unsqueeze(1).float().div_(255)
    return x, torch.from_numpy(np.array(data.labels, copy=True)).to(device)


def lr_at(step: int, total: int, peak: float, schedule: str) -> float:
    """One-cycle: warm up for 20 % of the steps from peak/25, then cosine down to peak/25e4."""
    if schedule == "constant":
        return peak
    warm = max(1, int(0.2 * total))
    start, end = peak / 25, peak / 25e4
    if step < warm:
        return start + (peak - start) * (1 - math.cos(math.pi * step / warm)) / 2
    t = (step - warm) / max(1, total - warm)
    return end + (peak - end) * (1 + math.cos(math.pi * min(t, 1.0))) / 2


def make_optimizer(c: TrainConfig, model: nn.Module, device: torch.device) -> torch.optim.Optimizer:
    params = model.parameters()
    if c.optimizer == "adam":  # epsilon as Keras, whose lessons these recipes come from
        return torch.optim.Adam(params, lr=c.lr, eps=1e-7, weight_decay=c.weight_decay)
    if c.optimizer == "adamw":  # fused: one kernel for all parameters instead of a loop of small ops
        return torch.optim.AdamW(params, lr=c.lr, weight_decay=c.weight_decay, fused=True)
    if c.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=c.lr, alpha=0.9, eps=1e-7, weight_decay=c.weight_decay)
    return torch.optim.SGD(params, lr=c.lr, momentum=c.momentum, weight_decay=c.weight_decay)


@torch.no_grad()
def measure(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int = 2000) -> tuple[float, float]:
    """Mean loss and accuracy, in eval mode."""
    was_training = model.training
    model.eval()
    loss = correct = 0.0
    for i in range(0, len(x), batch):
        logits = model(x[i : i + batch]).float()
        loss += F.cross_entropy(logits, y[i : i + batch], reduction="sum").item()
        correct += (logits.argmax(1) == y[i : i + batch]).sum().item()
    model.train(was_training)
    return loss / max(1, len(x)), correct / max(1, len(x))


def fit_torch(c: TrainConfig, train: Dataset, val: Dataset | None, out_dir: Path, resume: bool = False,
              progress: EpochProgress | None = None, init_weights: Path | None = None) -> FitResult:
    """Train ``c.model``; ``init_weights`` (a weights.safetensors of the same architecture) starts it from a
    trained model (fine-tuning). Run under torchrun or as Slurm tasks, this is one rank of a DDP run."""
    dist = from_environment()
    device = dist.device(pick_device(c.device))
    with process_group(dist, device):
        progress = progress if dist.is_main else None
        return _fit(c, train, val, out_dir, resume, progress, init_weights, dist, device)


def _fit(c: TrainConfig, train: Dataset, val: Dataset | None, out_dir: Path, resume: bool,
         progress: EpochProgress | None, init_weights: Path | None, dist: Distributed,
         device: torch.device) -> FitResult:
    progress = progress or EpochProgress(enabled=False)
    amp = autocast_dtype(device)
    torch.manual_seed(c.seed)
    classes = len(train.classes) + (1 if c.reject else 0)  # the last class is "no digit"
    model = build(c.model, classes=classes, **c.model_options).to(device)
    if init_weights is not None:
        model.load_state_dict(load_file(init_weights, device=str(device)))
    optimizer = make_optimizer(c, model, device)
    ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.999), use_buffers=True) if c.ema else None
    trained = dist.wrap(model, device)  # what forward/backward run through; ``model`` stays the plain module
    x, y = to_tensors(train, device)
    if c.reject:
        negatives = make_negatives(train.images, int(REJECT_FRACTION * len(train)), seed=c.seed)
        x = torch.cat([x, torch.from_numpy(negatives).to(device).unsqueeze(1).float().div_(255)])
        y = torch.cat([y, torch.full((len(negatives),), classes - 1, dtype=y.dtype, device=device)])
    xv, yv = to_tensors(val, device) if val is not None and len(val) else (None, None)
    steps_per_epoch = dist.steps_per_epoch(len(x), c.batch_size)
    total_steps = c.epochs * steps_per_epoch
    aug = LEVELS[c.augment]
    history: list[dict] = []
    start_epoch = 0
    stopper = EarlyStopping(c.patience)
    checkpoint = out_dir / CHECKPOINT

    if resume:
        parts, info = load_checkpoint(checkpoint)
        model.load_state_dict(parts["model"])
        optimizer.load_state_dict(unflatten_optimizer(parts.get("optim", {}), info["param_groups"]))
        if ema is not None and "ema" in parts:
            ema.load_state_dict(parts["ema"])
        start_epoch, history = info["epoch"], info["history"]
        stopper = EarlyStopping(c.patience, info.get("best_loss", math.inf), info.get("stale", 0), parts.get("best"))
        progress.note(f"resuming from {checkpoint} after epoch {start_epoch}/{c.epochs}")
    else:
        # Keras lesson habit: look at the untrained loss first (≈ ln 10 for 10 classes) to see learning start.
        probe_x, probe_y = (xv, yv) if xv is not None else (x[:2000], y[:2000])
        if init_weights is None:
            progress.untrained(*measure(model, probe_x, probe_y), classes=len(train.classes))
        else:
            progress.note("starting from trained weights: loss {:.4f}, accuracy {:.4f}".format(
                *measure(model, probe_x, probe_y)))

    model.train()
    started = time.perf_counter()
    for epoch in range(start_epoch, c.epochs):
        epoch_start = time.perf_counter()
        epoch_seed = c.seed * 1000 + epoch + 1
        torch.manual_seed(epoch_seed)  # dropout and augmentation for this epoch
        generator = torch.Generator().manual_seed(epoch_seed)
        # Drawn on the CPU, the one permutation every rank walks; GPUs of other kinds could draw others.
        order = torch.randperm(len(x), generator=generator).to(device)
        if device.type != "cpu":  # augmentation draws where the batch is: no step waits for a host copy
            generator = torch.Generator(device).manual_seed(epoch_seed)
        dist.reseed(generator, epoch_seed)
        progress.start_epoch(epoch + 1, c.epochs, steps_per_epoch)
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), device=device, dtype=torch.long)
        seen = 0
        for step in range(steps_per_epoch):
            idx = dist.share(order[step * c.batch_size : (step + 1) * c.batch_size])
            xb, yb = x[idx], y[idx]
            if aug is not None:
                xb = augment(xb, aug, generator)
            for group in optimizer.param_groups:
                group["lr"] = lr_at(epoch * steps_per_epoch + step, total_steps, c.lr, c.schedule)
            with torch.autocast(device.type, dtype=amp or torch.float32, enabled=amp is not None):
                logits = trained(xb)
                loss = F.cross_entropy(logits.float(), yb, label_smoothing=c.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if ema is not None:
                ema.update_parameters(model)
            # running sums stay on the device: no host sync per step
            loss_sum += loss.detach() * len(yb)
            correct += (logits.argmax(1) == yb).sum()
            seen += len(yb)
            if step % 25 == 24 or step == steps_per_epoch - 1:
                progress.update(step + 1, loss_sum.item() / seen, correct.item() / seen)
        scored = ema.module if ema is not None else model
        epoch_loss, epoch_correct, epoch_seen = dist.totals(loss_sum, correct, seen)
        row = {"epoch": epoch + 1, "loss": epoch_loss / epoch_seen, "accuracy": epoch_correct / epoch_seen,
               "lr": optimizer.param_groups[0]["lr"]}
        if xv is not None:
            row["val_loss"], row["val_accuracy"] = measure(scored, xv, yv)
        row["seconds"] = time.perf_counter() - epoch_start
        history.append(row)
        progress.end_epoch(row)
        if not math.isfinite(row["loss"]):
            raise DigitrecError(f"training diverged at epoch {epoch + 1} (loss is {row['loss']}); "
                                f"try a lower --lr than {c.lr:g}")
        stop = xv is not None and c.patience > 0 and stopper.update(row["val_loss"], scored)
        tensors, groups = flatten_optimizer(optimizer.state_dict())
        parts = {"model": model.state_dict(), "optim": tensors}
        if ema is not None:
            parts["ema"] = ema.state_dict()
        if stopper.best_state is not None:
            parts["best"] = stopper.best_state
        if dist.is_main:
            save_checkpoint(checkpoint, parts, {"epoch": epoch + 1, "history": history, "config": c.to_dict(),
                                                "param_groups": groups, "best_loss": stopper.best_loss,
                                                "stale": stopper.stale})
        if stop:
            progress.note(f"early stopping: validation loss has not improved for {c.patience} epochs; "
                          "keeping the best epoch's weights")
            break
    train_seconds = time.perf_counter() - started

    final = ema.module if ema is not None else model
    if stopper.best_state is not None and len(history) < c.epochs:
        final.load_state_dict(stopper.best_state)
    final.eval()
    temperature = fit_temperature(final, xv, yv) if xv is not None else 1.0
    return FitResult(final.cpu(), history, train_seconds, str(device),
                     str(amp).replace("torch.", "") if amp else "fp32", temperature, dist.is_main)
