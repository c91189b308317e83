"""Shared fixtures. MNIST comes from ``$DIGITREC_DATA_DIR`` or, by default, ``../shared/data`` beside the
checkout; downloads are switched off so no test can touch the network."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"

if not os.environ.get("DIGITREC_DATA_DIR") and (SHARED_DATA / "mnist").is_dir():
    os.environ["DIGITREC_DATA_DIR"] = str(SHARED_DATA)
if os.environ.get("DIGITREC_DATA_DIR"):
    os.environ["DIGITREC_DATA_DIR"] = str(Path(os.environ["DIGITREC_DATA_DIR"]).resolve())
os.environ["DIGITREC_OFFLINE"] = "1"
os.environ.setdefault("OMP_NUM_THREADS", "2")


def pytest_report_header(config):
    return f"DIGITREC_DATA_DIR={os.environ.get('DIGITREC_DATA_DIR')}"


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """Each test gets its own user cache and data dirs (XDG), so nothing leaks between tests or to ~."""
    home = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    path = Path(os.environ.get("DIGITREC_DATA_DIR", "")) / "mnist"
    if not path.is_dir():
        pytest.fail("MNIST not found: set DIGITREC_DATA_DIR to a folder holding mnist/ (CI uses ../shared/data)")
    return path


@pytest.fixture(scope="session")
def mnist_test():
    from digitrec.data import load_dataset

    return load_dataset("mnist", "test", progress=False)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A quickly trained `fast` model (3 000 examples, 2 epochs): enough to be right most of the time."""
    from digitrec.training.config import make_config
    from digitrec.training.trainer import train

    out = tmp_path_factory.mktemp("models") / "tiny"
    train(make_config(model="fast", epochs=2, limit=3000, seed=0), out)
    return out


def run_cli(*args: str, env: dict | None = None, timeout: float = 300, check: bool = False,
            input: bytes | None = None) -> subprocess.CompletedProcess:
    """Run ``digitrec`` in a subprocess, as a user would."""
    result = subprocess.run([sys.executable, "-m", "digitrec", *args], capture_output=True, timeout=timeout,
                            env={**os.environ, "COLUMNS": "200", **(env or {})}, input=input)
    result.stdout_text = result.stdout.decode()
    result.stderr_text = result.stderr.decode()
    if check and result.returncode != 0:
        raise AssertionError(f"digitrec {' '.join(args)} failed ({result.returncode}):\n{result.stderr_text}")
    return result


def assert_clean_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    """A user-facing failure: non-zero exit, no traceback, and the message says what is wrong."""
    assert result.returncode != 0, result.stdout_text
    assert "Traceback" not in result.stderr_text, result.stderr_text
    assert "error" in result.stderr_text.lower()
    for fragment in fragments:
        assert fragment in result.stderr_text, (fragment, result.stderr_text)


def write_idx_dataset(folder: Path, n_train: int = 200, n_test: int = 50, seed: int = 0) -> Path:
    """A small synthetic dataset in the MNIST-family layout (for KMNIST and friends in tests)."""
    from digitrec.data.idx import write_idx

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = np.zeros((n, 28, 28), np.uint8)
        for i, label in enumerate(labels):  # one bright bar whose position encodes the class
            images[i, 4 + 2 * label : 6 + 2 * label, 4:24] = 255
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", images)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", labels)
    return folder


def heic(array: np.ndarray, orientation: int = 1) -> bytes:
    """An iPhone-style HEIC photo of ``array``, with an EXIF ``orientation``."""
    from pillow_heif import register_heif_opener

    register_heif_opener()  # to write one; digitrec registers it itself to read
    exif = Image.Exif()
    exif[0x0112] = orientation
    buf = io.BytesIO()
    Image.fromarray(array).convert("RGB").save(buf, format="HEIF", quality=90, exif=exif.tobytes())
    return buf.getvalue()
