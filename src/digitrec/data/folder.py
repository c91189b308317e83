"""Folder datasets: a directory with one sub-folder per label holding image files (your own digits,
or corrections exported from the service). Images go through the same preprocessing as ``predict``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from rich.progress import track

from digitrec.data.dataset import Dataset
from digitrec.errors import DataError, DigitrecError

DIGITS = tuple(str(d) for d in range(10))


def load_folder(root: Path, progress: bool = True) -> Dataset:
    from digitrec.inference.recognizer import IMAGE_SUFFIXES
    from digitrec.preprocess import prepare_bytes, read_bytes

    if not root.is_dir():
        raise DataError(f"{root}: not a folder")
    labels_found = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not labels_found:
        raise DataError(f"{root}: no sub-folders; a folder dataset has one sub-folder of images per label")
    # Folders named 0-9 keep their digit as the label, so a partial set still trains a 10-class model.
    classes = DIGITS if set(labels_found) <= set(DIGITS) else tuple(labels_found)
    if len(classes) > 10:
        raise DataError(f"{root}: {len(classes)} labels; the zoo's models have 10 outputs")
    files = [(f, classes.index(label)) for label in labels_found
             for f in sorted((root / label).rglob("*")) if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES]
    images, labels, skipped = [], [], 0
    for path, label in track(files, description=f"reading {root.name}", disable=not progress or len(files) < 500,
                             transient=True):
        try:
            prepared = prepare_bytes(read_bytes(path), str(path))
        except DigitrecError:
            skipped += 1
            continue
        if prepared.image is None:  # blank: nothing to learn from
            skipped += 1
            continue
        images.append(np.round(prepared.image * 255).astype(np.uint8))
        labels.append(label)
    if not images:
        raise DataError(f"{root}: no usable images in the label folders ({skipped} skipped as unreadable or blank)")
    return Dataset(root.name, np.stack(images), np.array(labels, dtype=np.int64), classes)
