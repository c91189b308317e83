"""In-memory datasets: uint8 images (N, 28, 28), bright ink on a dark background, as MNIST stores them."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from digitrec.data.catalog import SPLITS, get_spec
from digitrec.data.idx import read_idx
from digitrec.data.sources import file_in, locate
from digitrec.errors import DataError, UsageError


@dataclass(frozen=True)
class Dataset:
    """Images and labels held in memory, with the names of the classes."""

    name: str
    images: np.ndarray  # (N, 28, 28) uint8
    labels: np.ndarray  # (N,) int64, indices into ``classes``
    classes: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.labels)

    def take(self, index: np.ndarray | slice) -> Dataset:
        return replace(self, images=self.images[index], labels=self.labels[index])

    def subset(self, n: int | None, seed: int = 0) -> Dataset:
        """A random subset of ``n`` examples (the whole set when ``n`` is None or too big)."""
        if n is None or n >= len(self):
            return self
        return self.take(np.sort(np.random.default_rng(seed).permutation(len(self))[:n]))

    def concat(self, other: Dataset) -> Dataset:
        """These examples followed by ``other``'s (same classes), under this dataset's name."""
        return replace(self, images=np.concatenate([self.images, other.images]),
                       labels=np.concatenate([self.labels, other.labels]))

    def split(self, fraction: float, seed: int = 0) -> tuple[Dataset, Dataset]:
        """Hold out ``fraction`` of the examples (a random, seeded choice), like Keras' validation_split."""
        if not 0.0 <= fraction < 1.0:
            raise UsageError(f"validation split must be in [0, 1), got {fraction}")
        n_val = int(round(len(self) * fraction))
        order = np.random.default_rng(seed).permutation(len(self))
        return self.take(np.sort(order[n_val:])), self.take(np.sort(order[:n_val]))


def load_dataset(name: str, split: str = "train", data_dir: str | os.PathLike | None = None,
                 download: bool = True, progress: bool = True) -> Dataset:
    """Load a catalog dataset (``mnist``, ``fashion-mnist``, ``kmnist``) or a folder dataset.

    A folder dataset is a directory with one sub-folder per label holding image files; its images go through
    the same preprocessing as ``predict``, so a model trained on them sees what it will see in use.
    """
    if split not in SPLITS:
        raise UsageError(f"unknown split '{split}'; expected one of: {', '.join(SPLITS)}")
    if os.sep in name or Path(name).is_dir():
        from digitrec.data.folder import load_folder

        return load_folder(Path(name), progress=progress)
    spec = get_spec(name)
    folder = locate(spec, data_dir, download=download, progress=progress)
    images_file, labels_file = (file_in(folder, f) for f in spec.files[split])
    images, labels = read_idx(images_file), read_idx(labels_file)
    if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
        raise DataError(f"{images_file}: expected uint8 images of 28×28, got {images.dtype} {images.shape}")
    if labels.ndim != 1 or len(labels) != len(images):
        raise DataError(f"{labels_file}: {labels.shape[0]} labels for {len(images)} images")
    if labels.size and labels.max() >= len(spec.classes):
        raise DataError(f"{labels_file}: label {labels.max()} outside 0..{len(spec.classes) - 1}")
    return Dataset(spec.name, images, labels.astype(np.int64), spec.classes)
