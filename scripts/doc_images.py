"""Regenerate the README's example inputs and their ``--explain`` strips with the bundled model.

The inputs are made from MNIST *test* digits by the robustness benchmark's generators (a canvas drawing, a
photo of paper, a written number), so anyone can rebuild them:

    DIGITREC_DATA_DIR=../shared/data python scripts/doc_images.py
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from realistic import canvas_drawing, digit_string, photo_of_digit  # noqa: E402

from digitrec.data import load_dataset  # noqa: E402

OUT = ROOT / "docs" / "images" / "read"


def first(labels: np.ndarray, digit: int, skip: int = 0) -> int:
    return int(np.flatnonzero(labels == digit)[skip])


def main() -> None:
    test = load_dataset("mnist", "test")
    images, labels = test.images, test.labels
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "canvas-3.png").write_bytes(canvas_drawing(images[first(labels, 3)], np.random.default_rng(3)))
    (OUT / "photo-4.jpg").write_bytes(photo_of_digit(images[first(labels, 4, 2)], np.random.default_rng(11)))
    number = [images[first(labels, d, k)] for k, d in enumerate((2, 0, 2, 6, 1, 1, 2, 2))]
    (OUT / "number-20261122.png").write_bytes(digit_string(number, np.random.default_rng(5), touching=True,
                                                           photo=False))
    explain = OUT / "explain"
    digitrec = [sys.executable, "-m", "digitrec"]
    subprocess.run([*digitrec, "predict", str(OUT / "canvas-3.png"), str(OUT / "photo-4.jpg"),
                    "--explain", str(explain)], check=True)
    subprocess.run([*digitrec, "predict", "--multi", str(OUT / "number-20261122.png"), "--explain", str(explain)],
                   check=True)


if __name__ == "__main__":
    main()
