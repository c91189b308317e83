"""2-D maps of a dataset (PCA, t-SNE, UMAP): how the classes lie, seen from the pixels alone."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from digitrec.data import Dataset
from digitrec.errors import DigitrecError, UsageError
from digitrec.reports.plots import class_scatter

METHODS = ("pca", "tsne", "umap")
TITLES = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}
AXES = {"pca": "principal component", "tsne": "t-SNE", "umap": "UMAP"}


@dataclass
class Embedding:
    points: np.ndarray  # (N, 2)
    labels: np.ndarray
    classes: tuple[str, ...]
    method: str
    dataset: str
    note: str = ""  # e.g. PCA's explained variance

    def plot(self) -> Figure:
        title = f"{TITLES[self.method]} of {len(self.points):,} {self.dataset} images"
        axis = AXES[self.method]
        return class_scatter(self.points, self.labels, self.classes,
                             title + (f"\n{self.note}" if self.note else ""), f"{axis} 1", f"{axis} 2")


def check_method(method: str) -> str:
    """Validate the method before any data is loaded, with an install hint for UMAP's optional package."""
    method = method.lower()
    if method not in METHODS:
        raise UsageError(f"unknown method '{method}'; expected one of: {', '.join(METHODS)}")
    if method == "umap" and importlib.util.find_spec("umap") is None:
        raise DigitrecError("--method umap needs the optional package umap-learn: pip install umap-learn "
                            "(or use --method pca or tsne)")
    return method


def embed(data: Dataset, method: str = "pca", n: int | None = 2000, seed: int = 0) -> Embedding:
    """Project ``n`` random images (pixels scaled to [0, 1], 784 values each) to two dimensions."""
    method = check_method(method)
    if n is not None and n < 3:
        raise UsageError(f"--n must be at least 3, got {n}")
    sample = data.subset(n, seed=seed)
    x = sample.images.reshape(len(sample), -1).astype(np.float32) / 255.0
    points, note = _project(x, method, seed)
    return Embedding(points, sample.labels, sample.classes, method, data.name, note)


def _project(x: np.ndarray, method: str, seed: int) -> tuple[np.ndarray, str]:
    from sklearn.decomposition import PCA

    if method == "pca":
        pca = PCA(n_components=2, random_state=seed)
        points = pca.fit_transform(x)
        share = pca.explained_variance_ratio_ * 100
        return points, f"explained variance {share[0]:.1f} % + {share[1]:.1f} %"
    # t-SNE and UMAP on 50 principal components: the usual first step, much faster and less noisy
    reduced = PCA(n_components=min(50, *x.shape), random_state=seed).fit_transform(x)
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = min(30.0, (len(x) - 1) / 3)
        tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed)
        return tsne.fit_transform(reduced), ""
    import umap

    return umap.UMAP(n_components=2, random_state=seed).fit_transform(reduced), ""
