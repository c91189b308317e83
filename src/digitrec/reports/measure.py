"""Measurements of a model directory: parameter count, and per precision (fp32, int8) its file size,
test accuracy and speed, as the TFLite lesson compared the float and the quantized model."""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from digitrec.data import Dataset
from digitrec.inference import Recognizer
from digitrec.inference.metrics import report
from digitrec.modeldir import ONNX_FP32, ONNX_INT8, WEIGHTS, Metadata

PRECISION_FILES = {"fp32": ONNX_FP32, "int8": ONNX_INT8}
# batch-norm statistics are state, not learned parameters (Keras counts them apart as non-trainable)
BUFFERS = ("running_mean", "running_var", "num_batches_tracked")


@dataclass
class PrecisionResult:
    precision: str  # fp32 | int8
    file: str
    size_bytes: int
    accuracy: float  # on the test split
    latency_ms: float  # median time of one single-image call
    images_per_second: float  # batches of up to 1000 images

    def to_json(self) -> dict:
        return asdict(self)


def count_parameters(model_dir: Path) -> int | None:
    """Learned parameters, read from the weights file's header (no tensor is loaded)."""
    from safetensors import safe_open

    path = Path(model_dir) / WEIGHTS
    if not path.is_file():
        return None
    with safe_open(str(path), framework="numpy") as f:
        return sum(math.prod(f.get_slice(name).get_shape()) for name in f.keys() if not name.endswith(BUFFERS))


def precisions(meta: Metadata) -> list[str]:
    """The precisions a model directory holds an ONNX file for."""
    return [p for p, file in PRECISION_FILES.items() if file in meta.files]


def speed(recognizer: Recognizer, images: np.ndarray, calls: int = 200) -> tuple[float, float]:
    """(median milliseconds of a one-image call, images per second in batches) after a warm-up."""
    for image in images[:20]:
        recognizer.predict_arrays(image)
    times = []
    for i in range(calls):
        start = time.perf_counter()
        recognizer.predict_arrays(images[i % len(images)])
        times.append(time.perf_counter() - start)
    batch = images[:1000]
    best = math.inf
    for _ in range(3):  # best of three: the least disturbed by other work on the machine
        start = time.perf_counter()
        recognizer.predict_arrays(batch)
        best = min(best, time.perf_counter() - start)
    return statistics.median(times) * 1000, len(batch) / best


def measure(model_dir: Path, precision: str, test: Dataset, calls: int = 200) -> PrecisionResult:
    """Size, test accuracy and speed of one precision of a model."""
    recognizer = Recognizer(model_dir, precision=precision)
    accuracy = report(recognizer.predict_arrays(test.images), test.labels, list(test.classes)).accuracy
    latency_ms, throughput = speed(recognizer, test.images, calls)
    file = PRECISION_FILES[precision]
    size = (Path(model_dir) / file).stat().st_size
    return PrecisionResult(precision, file, size, accuracy, latency_ms, throughput)
