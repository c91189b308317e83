"""The Recognizer: a verified model directory behind an onnxruntime session (no torch needed)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable, Iterator

import cv2
import numpy as np

from digitrec.errors import DigitrecError, ImageError, ModelError
from digitrec.inference.reader import NumberReader
from digitrec.inference.sessions import cpu_session
from digitrec.modeldir import BUNDLED, ONNX_FP32, ONNX_INT8, Metadata, load_metadata
from digitrec.preprocess import DEFAULT, PreprocessConfig, Prepared, decode, prepare_digit, read_bytes, to_grey
from digitrec.preprocess.decode import as_grey, decode_sized
from digitrec.preprocess.segment import find_digits

FALLBACK_BELOW = 0.6  # confidence under which other paper/ink hypotheses are tried
MOST_INK = 0.6  # a hypothesis that takes more of the image as ink has read the paper as ink
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff", ".ppm", ".pgm",
                            ".pbm", ".pnm", ".jfif", ".heic", ".heif", ".avif"})


@dataclass
class Prediction:
    """One image's answer. ``digit`` is None for a blank image, an unreadable file, or low confidence."""

    file: str
    digit: int | None
    confidence: float
    probabilities: list[float]
    label: str | None = None
    preprocessed: np.ndarray | None = field(default=None, repr=False)  # the 28×28 the model saw
    error: str | None = None
    trace: list = field(default_factory=list, repr=False)  # (stage, image) pairs, when asked for

    def to_json(self) -> dict:
        out = {"file": self.file, "digit": self.digit, "confidence": round(self.confidence, 6),
               "probabilities": [round(p, 6) for p in self.probabilities]}
        if self.label is not None and self.label != str(self.digit):
            out["label"] = self.label
        if self.error:
            out["error"] = self.error
        return out


@dataclass
class DigitBox:
    """One digit of a number: where it is (x, y, w, h in the input's pixels) and what it is."""

    digit: int | None
    confidence: float
    box: tuple[int, int, int, int]
    line: int
    probabilities: list[float]
    preprocessed: np.ndarray | None = field(default=None, repr=False)

    def to_json(self) -> dict:
        return {"digit": self.digit, "confidence": round(self.confidence, 6), "box": list(self.box),
                "line": self.line}


@dataclass
class NumberReading:
    """A whole number (or several lines of digits) read from one image."""

    file: str
    digits: list[DigitBox]
    error: str | None = None
    image: np.ndarray | None = field(default=None, repr=False)  # the decoded input, when a trace is asked for

    @property
    def text(self) -> str:
        lines: dict[int, str] = {}
        for d in self.digits:
            lines[d.line] = lines.get(d.line, "") + ("?" if d.digit is None else str(d.digit))
        return "\n".join(lines[k] for k in sorted(lines))

    def to_json(self) -> dict:
        out = {"file": self.file, "text": self.text, "digits": [d.to_json() for d in self.digits]}
        if self.error:
            out["error"] = self.error
        return out


def resolve_model_dir(model: str | os.PathLike | None, registry: str | os.PathLike | None = None) -> Path:
    """``None`` means the bundled model; an existing path is a model directory; a plain name that is not a
    directory (``production``, a version) is looked up in the model registry (``registry`` or the default)."""
    if model is None or str(model) in ("", "bundled", "default"):
        return BUNDLED
    path = Path(model).expanduser()
    if path.exists():
        return path
    from digitrec.registry import NotInRegistry, Registry, check_name

    try:
        check_name("model reference", str(model))
    except DigitrecError:  # a path, not a registry name
        raise ModelError(f"{path}: no such model directory") from None
    try:
        return Registry(registry).resolve(str(model)).path
    except NotInRegistry as exc:
        raise ModelError(f"{path}: no such model directory, and {exc}") from None


class Recognizer:
    """Load a model directory (checksums verified) and recognize digits in arrays, bytes or files.

    >>> rec = Recognizer()                       # the bundled MNIST model
    >>> rec.predict_file("my_digit.png").digit   # doctest: +SKIP
    7
    """

    def __init__(self, model: str | os.PathLike | None = None, precision: str = "fp32",
                 threads: int = 0, preprocess: PreprocessConfig = DEFAULT, min_confidence: float = 0.0,
                 tta: bool = False, number_reader: bool = True):
        self.model_dir = resolve_model_dir(model)
        self.meta: Metadata = load_metadata(self.model_dir, verify=True)
        if precision not in ("fp32", "int8"):
            raise ModelError(f"unknown precision '{precision}'; expected fp32 or int8")
        file = ONNX_INT8 if precision == "int8" else ONNX_FP32
        if file not in self.meta.files:
            raise ModelError(f"{self.model_dir}: has no {file}; run `digitrec export {self.model_dir} --int8`")
        self.session = cpu_session(self.model_dir / file, threads, "it")
        self.input_name = self.session.get_inputs()[0].name
        self.precision = precision
        self.preprocess = preprocess
        self.min_confidence = min_confidence
        self.tta = tta
        self.classes = list(self.meta.classes)
        self.threads = threads
        self.use_number_reader = number_reader
        self._number_reader: NumberReader | None = None  # loaded on the first number read

    @property
    def info(self) -> dict:
        return {"name": self.meta.name, "version": self.meta.version, "dataset": self.meta.dataset,
                "sha256": self.meta.files.get(ONNX_INT8 if self.precision == "int8" else ONNX_FP32),
                "precision": self.precision}

    def predict_arrays(self, images: np.ndarray, batch_size: int = 4096) -> np.ndarray:
        """Class probabilities (N, classes) for MNIST-style images: (N, 28, 28) or (N, 1, 28, 28), uint8
        in 0..255 or float in [0, 1], bright ink on a dark background."""
        x = np.asarray(images)
        if x.ndim == 2:
            x = x[None]
        if x.ndim == 3:
            x = x[:, None]
        if x.ndim != 4 or x.shape[1:] != (1, 28, 28):
            raise ImageError(f"expected images of shape (N, 28, 28), got {tuple(np.shape(images))}")
        x = x.astype(np.float32) * (1.0 / 255.0) if x.dtype == np.uint8 else x.astype(np.float32, copy=False)
        if len(x) <= batch_size:
            return self.session.run(None, {self.input_name: x})[0]
        return np.concatenate([self.session.run(None, {self.input_name: x[i : i + batch_size]})[0]
                               for i in range(0, len(x), batch_size)])

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """Probabilities for preprocessed 28×28 float images; with test-time augmentation, the mean over
        slightly rotated and rescaled copies of each image (a little slower, a little more robust)."""
        if not self.tta:
            return self.predict_arrays(images)
        images = np.asarray(images, np.float32).reshape(-1, 28, 28)
        copies = np.stack([variant for image in images for variant in tta_variants(image)])
        return self.predict_arrays(copies).reshape(len(images), len(TTA), -1).mean(1)

    def answer(self, name: str, prepared: Prepared, probabilities: np.ndarray | None) -> Prediction:
        if prepared.image is None or probabilities is None:
            return Prediction(name, None, 0.0, [0.0] * len(self.classes), None, None, trace=prepared.trace)
        best = int(np.argmax(probabilities))
        confidence = float(probabilities[best])
        digit = best if confidence >= self.min_confidence else None
        label = self.classes[best] if digit is not None else None
        return Prediction(name, digit, confidence, probabilities.tolist(), label, prepared.image,
                          trace=prepared.trace)

    def predict_bytes(self, data: bytes, name: str = "image", trace: bool = False) -> Prediction:
        """Recognize the single digit in an encoded image (any format Pillow reads)."""
        decoded = decode(data, name)
        prediction = self.predict_grey(to_grey(decoded), name, trace)
        if trace:
            prediction.trace.insert(0, ("decode", decoded))
        return prediction

    def predict_grey(self, grey: np.ndarray, name: str = "image", trace: bool = False) -> Prediction:
        """Recognize the single digit in an image array: grey uint8, or anything :func:`as_grey` takes (a
        notebook's ``x_test[0] / 255``, Keras' (28, 28, 1), RGB). When the automatic paper/ink reading
        leaves the model unsure (or finds nothing), the two plain hypotheses — one level of light paper with dark ink, or
        of dark paper with light ink — are tried too, and the most confident reading wins. This rescues
        digits cropped so tightly that their ink covers most of the image."""
        grey = as_grey(grey, name)
        prepared = prepare_digit(grey, self.preprocess, trace)
        best = self._scored(name, prepared)
        if self.preprocess.paper == "auto" and best.confidence < FALLBACK_BELOW:
            for paper in ("light", "dark"):
                candidate = prepare_digit(grey, replace(self.preprocess, paper=paper), trace)
                if candidate.ink_fraction > MOST_INK:
                    continue
                other = self._scored(name, candidate)
                if other.confidence > best.confidence:
                    best = other
        return best

    def _scored(self, name: str, prepared: Prepared) -> Prediction:
        probabilities = None if prepared.image is None else self.probabilities(prepared.image)[0]
        return self.answer(name, prepared, probabilities)

    def predict_file(self, path: str | os.PathLike, trace: bool = False) -> Prediction:
        return self.predict_bytes(read_bytes(path), str(path), trace)

    def read_number_bytes(self, data: bytes, name: str = "image", trace: bool = False) -> NumberReading:
        """Find and recognize every digit in an image of a number (left to right, line by line)."""
        decoded, (width, _) = decode_sized(data, name)
        scale = width / decoded.shape[1]

        digits = []
        reader = self.number_reader
        for found in find_digits(to_grey(decoded), self.probabilities, reader.read if reader else None, name):
            best = int(np.argmax(found.probabilities))
            confidence = float(found.probabilities[best])
            x, y, w, h = (int(round(v * scale)) for v in found.box)
            digits.append(DigitBox(best if confidence >= self.min_confidence else None, confidence, (x, y, w, h),
                                   found.line, found.probabilities.tolist(), found.image))
        if trace:  # boxes are in the original's pixels; keep an image of that size to draw them on
            from PIL import Image

            height = int(round(decoded.shape[0] * scale))
            decoded = np.asarray(Image.fromarray(decoded).resize((width, height))) if scale != 1 else decoded
        return NumberReading(name, digits, image=decoded if trace else None)

    @property
    def number_reader(self) -> NumberReader | None:
        """The bundled number reader, loaded on first use; None when switched off or for a model that is not
        of the ten digits (it reads only those)."""
        if not self.use_number_reader or self.classes != [str(d) for d in range(10)]:
            return None
        if self._number_reader is None:
            self._number_reader = NumberReader(threads=self.threads)
        return self._number_reader

    def read_number_file(self, path: str | os.PathLike, trace: bool = False) -> NumberReading:
        return self.read_number_bytes(read_bytes(path), str(path), trace)

    def read_number_files(self, paths: Iterable[Path], trace: bool = False) -> Iterator[NumberReading]:
        for path in paths:
            try:
                yield self.read_number_file(path, trace)
            except DigitrecError as exc:
                yield NumberReading(str(path), [], error=str(exc))

    def predict_files(self, paths: Iterable[Path], trace: bool = False) -> Iterator[Prediction]:
        """Predict every file; a bad file yields a Prediction with ``error`` set, and the rest carry on."""
        for path in paths:
            try:
                yield self.predict_file(path, trace)
            except DigitrecError as exc:
                yield Prediction(str(path), None, 0.0, [0.0] * len(self.classes), error=str(exc))


TTA = ((0.0, 1.0), (-7.0, 1.0), (7.0, 1.0), (0.0, 0.9), (0.0, 1.08))  # (degrees, scale) per copy


def tta_variants(image: np.ndarray) -> list[np.ndarray]:
    """The copies test-time augmentation averages over: small rotations and rescalings about the centre."""
    out = []
    for degrees, scale in TTA:
        matrix = cv2.getRotationMatrix2D((14.0, 14.0), degrees, scale)
        out.append(cv2.warpAffine(image, matrix, (28, 28), flags=cv2.INTER_LINEAR, borderValue=0.0))
    return out


def find_images(paths: Iterable[str | os.PathLike]) -> Iterator[Path]:
    """Files as given, and image files found recursively in folders (sorted; other files skipped)."""
    for entry in paths:
        path = Path(entry)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        else:
            yield path
