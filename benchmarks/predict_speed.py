"""Prediction speed, in-process: batch throughput on pre-decoded 28×28 arrays, and end-to-end latency
(decode + preprocess + predict) for a 280×280 canvas PNG, a 12-megapixel photo and a 6-digit number.

    python benchmarks/predict_speed.py [--model DIR] [--repeat 5] [--json]

Each figure is the median of ``--repeat`` timed runs after a warm-up.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
from realistic import canvas_drawing, digit_string, paper_photo, pen_digit  # noqa: E402

from digitrec.data import load_dataset  # noqa: E402
from digitrec.inference import Recognizer  # noqa: E402


def median_seconds(fn, repeat: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def twelve_megapixel_photo(digit: np.ndarray, rng) -> bytes:
    """A 4000×3000 JPEG of one digit on paper (a phone photo's size)."""
    ink = pen_digit(digit, 1600, 150, rng)
    small = paper_photo(ink, rng, (3000, 4000))  # already JPEG-encoded at full size
    return small


def run(model: str | None, repeat: int) -> dict:
    test = load_dataset("mnist", "test")
    rng = np.random.default_rng(0)
    out: dict = {"machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
                 "python": platform.python_version()}
    import onnxruntime

    out["onnxruntime"] = onnxruntime.__version__
    for precision in ("fp32", "int8"):
        try:
            batch = Recognizer(model, precision=precision)
        except Exception as exc:  # no int8 file in this model
            out[f"batch_{precision}"] = str(exc)
            continue
        images = test.images  # uint8 (10000, 28, 28), as pre-decoded arrays arrive
        seconds = median_seconds(lambda: batch.predict_arrays(images), repeat)
        out[f"batch_{precision}_images_per_s"] = round(len(images) / seconds)
        out["model"] = batch.info
    single = Recognizer(model, threads=1)
    canvases = [canvas_drawing(test.images[i], rng) for i in range(200)]
    per = median_seconds(lambda: [single.predict_bytes(c) for c in canvases], repeat) / len(canvases)
    out["canvas_png_280_ms"] = round(per * 1000, 3)
    photo = twelve_megapixel_photo(test.images[0], rng)
    assert Image.open(io.BytesIO(photo)).size == (4000, 3000)
    out["photo_12mp_ms"] = round(median_seconds(lambda: single.predict_bytes(photo), repeat) * 1000, 2)
    numbers = [digit_string([test.images[j] for j in rng.integers(0, 10000, 6)], rng, False, photo=False)
               for _ in range(20)]
    per = median_seconds(lambda: [single.read_number_bytes(n) for n in numbers], repeat) / len(numbers)
    out["number_6_digits_ms"] = round(per * 1000, 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args.model, args.repeat)
    print(json.dumps(result, indent=2) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))


if __name__ == "__main__":
    main()
