"""Datasets: the catalog (MNIST, Fashion-MNIST, KMNIST), where their files come from, and readers."""

from digitrec.data.catalog import CATALOG, DatasetSpec, get_spec
from digitrec.data.dataset import Dataset, load_dataset

__all__ = ["CATALOG", "Dataset", "DatasetSpec", "get_spec", "load_dataset"]
