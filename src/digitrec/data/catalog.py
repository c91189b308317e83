"""The dataset catalog: each dataset is a small declarative record, read by one generic loader.

Adding a dataset in the MNIST family (IDX files, 28×28 grey images, 10 classes) means adding a record here.
Checksums: ``md5`` is the official one of each ``.gz`` as published (what a download is verified against);
``content_sha256`` is of the decompressed bytes, so copies recompressed by a packager (Debian's
``dataset-fashion-mnist`` is) can still be verified.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from digitrec.errors import UsageError

SPLITS = ("train", "test")


@dataclass(frozen=True)
class DataFile:
    name: str
    md5: str
    content_sha256: str | None = None


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    title: str
    classes: tuple[str, ...]
    mirrors: tuple[str, ...]
    files: dict[str, tuple[DataFile, DataFile]]  # split -> (images, labels)
    sizes: dict[str, int]  # split -> number of examples
    homepage: str
    license: str
    system_dirs: tuple[str, ...] = field(default=())

    def all_files(self) -> list[DataFile]:
        return [f for split in SPLITS for f in self.files[split]]


def _mnist_like_files(md5s: dict[str, str], sha256s: dict[str, str] | None = None):
    def f(name: str) -> DataFile:
        return DataFile(name, md5s[name], (sha256s or {}).get(name))

    return {
        "train": (f("train-images-idx3-ubyte.gz"), f("train-labels-idx1-ubyte.gz")),
        "test": (f("t10k-images-idx3-ubyte.gz"), f("t10k-labels-idx1-ubyte.gz")),
    }


MNIST = DatasetSpec(
    name="mnist",
    title="MNIST handwritten digits",
    classes=tuple(str(d) for d in range(10)),
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ),
    files=_mnist_like_files(
        {
            "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
            "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
            "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
        },
        {
            "train-images-idx3-ubyte.gz": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            "train-labels-idx1-ubyte.gz": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            "t10k-images-idx3-ubyte.gz": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            "t10k-labels-idx1-ubyte.gz": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        },
    ),
    sizes={"train": 60000, "test": 10000},
    homepage="http://yann.lecun.com/exdb/mnist/",
    license="CC BY-SA 3.0",
    system_dirs=("/usr/share/datasets/mnist",),
)

FASHION_MNIST = DatasetSpec(
    name="fashion-mnist",
    title="Fashion-MNIST (Zalando article images)",
    classes=(
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ),
    mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    files=_mnist_like_files(
        {
            "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
            "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
            "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
        },
        {
            "train-images-idx3-ubyte.gz": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            "train-labels-idx1-ubyte.gz": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            "t10k-images-idx3-ubyte.gz": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            "t10k-labels-idx1-ubyte.gz": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        },
    ),
    sizes={"train": 60000, "test": 10000},
    homepage="https://github.com/zalandoresearch/fashion-mnist",
    license="MIT",
    # Debian: `apt-get install dataset-fashion-mnist`
    system_dirs=("/usr/share/datasets/fashion-mnist",),
)

KMNIST = DatasetSpec(
    name="kmnist",
    title="Kuzushiji-MNIST (cursive Japanese hiragana)",
    classes=("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"),
    mirrors=("http://codh.rois.ac.jp/kmnist/dataset/kmnist/",),
    files=_mnist_like_files(
        {
            "train-images-idx3-ubyte.gz": "bdb82020997e1d708af4cf47b453dcf7",
            "train-labels-idx1-ubyte.gz": "e144d726b3acfaa3e44228e80efcd344",
            "t10k-images-idx3-ubyte.gz": "5c965bf0a639b31b8f53240b1b52f4d7",
            "t10k-labels-idx1-ubyte.gz": "7320c461ea6c1c855c0b718fb2a4b134",
        }
    ),
    sizes={"train": 60000, "test": 10000},
    homepage="https://github.com/rois-codh/kmnist",
    license="CC BY-SA 4.0",
    system_dirs=("/usr/share/datasets/kmnist",),
)

CATALOG: dict[str, DatasetSpec] = {spec.name: spec for spec in (MNIST, FASHION_MNIST, KMNIST)}


def get_spec(name: str) -> DatasetSpec:
    """The catalog record for ``name``; an unknown name is a usage error that suggests the closest one."""
    try:
        return CATALOG[name.lower()]
    except KeyError:
        close = difflib.get_close_matches(name.lower(), CATALOG, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise UsageError(
            f"unknown dataset '{name}'{hint}; known datasets: {', '.join(CATALOG)}, "
            "or a folder with one sub-folder of images per label"
        ) from None
