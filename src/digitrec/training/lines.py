"""Training the number reader (:class:`digitrec.models.line.LineReader`) on runs of touching digits.

Runs are made from MNIST *training* digits, each one slanted, rotated, rescaled and thickened a little, set
side by side so their strokes touch or overlap (as people write a number quickly), sometimes with a small
gap, 1 to 5 digits. Every run goes through :func:`digitrec.preprocess.lines.to_line_input`, the function
that prepares the blobs the reader is given in use. Loss: CTC, which needs no position of any digit.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from digitrec.data import Dataset
from digitrec.inference.reader import READER_FILE, NumberReader, best_path_text
from digitrec.models.line import BLANK, LineReader
from digitrec.preprocess.lines import LINE_HEIGHT, to_line_input
from digitrec.training.torch_loop import autocast_dtype

RUN_LENGTHS = (1, 2, 3, 4, 5)
RUN_WEIGHTS = (0.1, 0.4, 0.28, 0.14, 0.08)  # pairs and triples are what touching handwriting mostly gives
TRAIN_WIDTH = 128  # columns of every training strip (wider runs are redrawn shorter)


@dataclass
class LineTrainConfig:
    epochs: int = 16
    runs_per_epoch: int = 60_000
    batch_size: int = 128
    lr: float = 2e-3
    weight_decay: float = 1e-4
    width: int = 32
    seed: int = 0


def _digit(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One digit as a writer varies it: rotation, slant, size, pen thickness; cropped to its ink."""
    big = cv2.copyMakeBorder(image, 8, 8, 8, 8, cv2.BORDER_CONSTANT, value=0)
    m = cv2.getRotationMatrix2D((22, 22), rng.uniform(-10, 10), rng.uniform(0.85, 1.1))
    shear = rng.uniform(-0.25, 0.25)
    m[0, 1] += shear
    m[0, 2] -= shear * 22  # about the centre row, so the slanted digit stays in the frame
    ink = cv2.warpAffine(big, m, (44, 44), flags=cv2.INTER_LINEAR)
    if rng.random() < 0.3:
        kernel = np.ones((2, 2), np.uint8)
        ink = cv2.dilate(ink, kernel) if rng.random() < 0.7 else cv2.erode(ink, kernel)
    rows, cols = np.flatnonzero(ink.max(1) > 40), np.flatnonzero(ink.max(0) > 40)
    if rows.size == 0:
        return image
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def synthesize_run(images: np.ndarray, labels: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """A run of 1-5 digits written close together: the reader's input strip and its text."""
    count = int(rng.choice(RUN_LENGTHS, p=RUN_WEIGHTS))
    while True:
        picks = rng.integers(len(labels), size=count)
        inks = [_digit(images[i], rng) for i in picks]
        height = max(i.shape[0] for i in inks)
        canvas = np.zeros((height + 8, sum(i.shape[1] for i in inks) + count * height + 8), np.uint8)
        x = 4
        for n, ink in enumerate(inks):
            h, w = ink.shape
            if n:  # overlap into the previous digit (touching strokes), or a small gap
                narrow = min(w, inks[n - 1].shape[1])
                gap = rng.uniform(-0.35, 0.0) * narrow if rng.random() < 0.75 else rng.uniform(0, 0.15) * height
                x = max(0, x + int(round(gap)))
            y = 4 + (height - h) // 2 + int(rng.integers(-2, 3))
            region = canvas[y : y + h, x : x + w]
            np.maximum(region, ink, out=region)
            x += w
        line = to_line_input(canvas, TRAIN_WIDTH)
        if line is not None and line.image.shape[1] == TRAIN_WIDTH:
            return line.image, "".join(str(int(labels[i])) for i in picks)
        count = max(1, count - 1)  # too wide for the strip: fewer digits


def synthesize(data: Dataset, n: int, seed: int) -> tuple[np.ndarray, list[str]]:
    rng = np.random.default_rng(seed)
    strips, texts = np.empty((n, 1, LINE_HEIGHT, TRAIN_WIDTH), np.float32), []
    for i in range(n):
        strips[i, 0], text = synthesize_run(data.images, data.labels, rng)
        texts.append(text)
    return strips, texts


def _augment(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Per-strip blur and noise on top of the per-digit variation the runs were drawn with."""
    kernel = torch.tensor([[1, 2, 1], [2, 4, 2], [1, 2, 1]], dtype=x.dtype).view(1, 1, 3, 3) / 16
    blur = torch.rand(len(x), 1, 1, 1, generator=generator) < 0.2
    x = torch.where(blur, F.conv2d(x, kernel, padding=1), x)
    return (x + torch.randn(x.shape, generator=generator) * 0.03).clamp_(0, 1)


def _ctc_targets(texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    return (torch.tensor([int(c) for t in texts for c in t], dtype=torch.long),
            torch.tensor([len(t) for t in texts], dtype=torch.long))


def train_line_reader(train: Dataset, val: Dataset, cfg: LineTrainConfig, out: Path,
                      log: Callable[[dict], None] = print) -> dict:
    """Train, report run accuracy on held-out digits each epoch, save weights and an ONNX export to ``out``."""
    torch.manual_seed(cfg.seed)
    generator = torch.Generator().manual_seed(cfg.seed)
    model = LineReader(cfg.width)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps = cfg.epochs * math.ceil(cfg.runs_per_epoch / cfg.batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, cfg.lr, total_steps=steps, pct_start=0.15)
    ctc = torch.nn.CTCLoss(blank=BLANK, zero_infinity=True)
    val_x, val_texts = synthesize(val, 3000, cfg.seed + 10_000)
    amp = autocast_dtype(torch.device("cpu"))  # bf16 only where the CPU has it: emulated, it is ~12× slower
    history = []
    for epoch in range(cfg.epochs):
        start = time.perf_counter()
        x, texts = synthesize(train, cfg.runs_per_epoch, cfg.seed * 1000 + epoch)
        x = torch.from_numpy(x)
        order = torch.randperm(len(x), generator=generator)
        model.train()
        total = 0.0
        for i in range(0, len(x), cfg.batch_size):
            index = order[i : i + cfg.batch_size]
            batch = _augment(x[index], generator)
            targets, lengths = _ctc_targets([texts[j] for j in index.tolist()])
            with torch.autocast("cpu", dtype=amp or torch.float32, enabled=amp is not None):
                log_probs = model(batch)
            log_probs = log_probs.float().transpose(0, 1)  # (T, N, C) for CTC
            steps_in = torch.full((len(index),), log_probs.shape[0], dtype=torch.long)
            loss = ctc(log_probs, targets, steps_in, lengths)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item() * len(index)
        accuracy = evaluate(model, val_x, val_texts)
        history.append({"epoch": epoch + 1, "loss": total / len(x), "val_run_accuracy": accuracy,
                        "seconds": time.perf_counter() - start})
        log(history[-1])
    out.mkdir(parents=True, exist_ok=True)
    export_reader(model, out, val_x[:500])
    summary = {"config": asdict(cfg), "history": history, "val_runs": len(val_texts),
               "val_run_accuracy": history[-1]["val_run_accuracy"],
               "val_run_accuracy_int8": onnx_accuracy(out / READER_FILE, val_x, val_texts),
               "int8_bytes": (out / READER_FILE).stat().st_size}
    (out / "training.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def run_accuracy(log_probs: np.ndarray, texts: list[str]) -> float:
    """Fraction of runs read whole, decoded as in use."""
    return float(np.mean([best_path_text(lp) == t for lp, t in zip(log_probs, texts)]))


@torch.no_grad()
def evaluate(model: LineReader, x: np.ndarray, texts: list[str]) -> float:
    model.eval()
    log_probs = torch.cat([model(torch.from_numpy(x[i : i + 512])) for i in range(0, len(x), 512)])
    return run_accuracy(log_probs.numpy(), texts)


def export_reader(model: LineReader, out: Path, calibration: np.ndarray) -> None:
    """``reader.onnx``: int8 weights (a quarter of the fp32 size, for the bundle), float computation (the
    same readings on every CPU), a free width: input ``image`` (N, 1, 28, W), output ``log_probs`` (N, W/4, 11)."""
    import warnings

    from digitrec.export.onnx_export import INPUT
    from digitrec.export.quantize import quantize_int8, with_float_activations

    fp32 = out / "reader.fp32.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model.eval(), (torch.zeros(1, 1, LINE_HEIGHT, TRAIN_WIDTH),), str(fp32),
                          input_names=[INPUT], output_names=["log_probs"],
                          dynamic_axes={INPUT: {0: "N", 3: "W"}, "log_probs": {0: "N", 1: "T"}},
                          opset_version=17, dynamo=False)
    qdq = out / "reader.qdq.onnx"
    quantize_int8(fp32, qdq, np.round(calibration[:, 0] * 255).astype(np.uint8))
    with_float_activations(qdq, out / READER_FILE)
    fp32.unlink()
    qdq.unlink()


def onnx_accuracy(path: Path, x: np.ndarray, texts: list[str]) -> float:
    reader = NumberReader(path)
    log_probs = np.concatenate([reader.session.run(None, {reader.input_name: x[i : i + 512]})[0]
                                for i in range(0, len(x), 512)])
    return run_accuracy(log_probs, texts)
