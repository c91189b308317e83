"""A model is a directory: ``model.onnx``, optional ``model.int8.onnx``, weights, ``metadata.json``.

``metadata.json`` records what the model is (name, version, dataset, classes), what it expects (input and
preprocessing spec), how it was made (training config, history, package version), how good it is
(metrics), and the sha256 of every other file. Loading verifies those checksums, so a tampered or
half-copied model is refused with a clear error instead of giving wrong answers.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from digitrec import __version__
from digitrec.errors import ModelError

FORMAT = "digitrec-model/1"
METADATA = "metadata.json"
ONNX_FP32 = "model.onnx"
ONNX_INT8 = "model.int8.onnx"
WEIGHTS = "weights.safetensors"
MODEL_FILES = (ONNX_FP32, ONNX_INT8, WEIGHTS)  # the files metadata.json checksums, when present
BUNDLED = Path(__file__).parent / "bundled"


@dataclass
class Metadata:
    name: str  # architecture, from the zoo
    dataset: str
    classes: list[str]
    version: str = ""
    input: dict[str, Any] = field(default_factory=lambda: {
        "name": "image", "shape": ["N", 1, 28, 28], "dtype": "float32", "range": [0.0, 1.0],
        "ink": "bright-on-dark"})
    output: dict[str, Any] = field(default_factory=lambda: {"name": "probabilities", "shape": ["N", 10]})
    preprocessing: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)  # file name -> sha256
    created: str = ""
    digitrec_version: str = __version__
    format: str = FORMAT

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Metadata:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so readers see the old file or the new one, never a half-written one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def save_metadata(model_dir: Path, meta: Metadata) -> Metadata:
    """Checksum every model file present, stamp the version, and write ``metadata.json`` last."""
    model_dir = Path(model_dir)
    meta.files = {name: sha256_file(model_dir / name) for name in MODEL_FILES if (model_dir / name).is_file()}
    meta.created = meta.created or datetime.now(timezone.utc).isoformat(timespec="seconds")
    if not meta.version:
        stamp = datetime.fromisoformat(meta.created).strftime("%Y%m%d.%H%M%S")
        meta.version = f"{stamp}-{meta.files.get(ONNX_FP32, '0' * 8)[:8]}"
    write_atomic(model_dir / METADATA, (json.dumps(asdict(meta), indent=2) + "\n").encode())
    return meta


def load_metadata(model_dir: Path, verify: bool = True) -> Metadata:
    """Read ``metadata.json`` and, with ``verify``, check the sha256 of every file it lists."""
    model_dir = Path(model_dir)
    path = model_dir / METADATA
    if not model_dir.is_dir():
        raise ModelError(f"{model_dir}: not a model directory (expected a folder with {METADATA})")
    try:
        data = json.loads(path.read_text())
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"format is not {FORMAT}")
        meta = Metadata.from_dict(data)
    except FileNotFoundError:
        raise ModelError(f"{model_dir}: no {METADATA}; is this a digitrec model directory?") from None
    except (ValueError, TypeError) as exc:
        raise ModelError(f"{path}: unreadable model metadata ({exc})") from None
    if verify:
        verify_files(model_dir, meta)
    return meta


def verify_files(model_dir: Path, meta: Metadata) -> None:
    if ONNX_FP32 not in meta.files:
        raise ModelError(f"{model_dir}: {METADATA} lists no {ONNX_FP32}")
    for name, expected in meta.files.items():
        path = model_dir / name
        if Path(name).name != name:
            raise ModelError(f"{model_dir}: {METADATA} names a file outside the model directory: {name!r}")
        if not path.is_file():
            raise ModelError(f"{path}: missing (listed in {METADATA})")
        if sha256_file(path) != expected:
            raise ModelError(f"{path}: checksum mismatch — the file was modified or corrupted; "
                             "refusing to load this model")
