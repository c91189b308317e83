"""Datasets: IDX reading, the catalog, where files are found, verified downloads, folder datasets."""

from __future__ import annotations

import gzip
import hashlib
import os
import http.server
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import write_idx_dataset
from digitrec.data import get_spec, load_dataset
from digitrec.data.catalog import CATALOG
from digitrec.data.download import fetch
from digitrec.data.idx import parse_idx, read_idx, write_idx
from digitrec.data.sources import locate, verify
from digitrec.errors import DataError, UsageError


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_roundtrip(tmp_path, dtype, suffix):
    array = (np.arange(2 * 3 * 4) - 5).astype(dtype).reshape(2, 3, 4)
    write_idx(tmp_path / f"a{suffix}", array)
    back = read_idx(tmp_path / f"a{suffix}")
    assert back.dtype == np.dtype(dtype) and np.array_equal(back, array)


@pytest.mark.parametrize("raw, message", [
    (b"", "bad magic"),
    (b"\x01\x00\x08\x01", "bad magic"),
    (b"\x00\x00\x07\x01\x00\x00\x00\x01\x05", "unknown IDX data type"),
    (b"\x00\x00\x08\x09", "bad IDX header"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x05\x01\x02", "truncated"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x01\x01\x02", "padded"),
])
def test_idx_rejects_malformed(raw, message):
    with pytest.raises(DataError, match=message):
        parse_idx(raw, "x.idx")


def test_idx_truncated_gzip_names_the_file(tmp_path):
    data = gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x04abcd")
    (tmp_path / "cut.gz").write_bytes(data[:-6])
    with pytest.raises(DataError, match=r"cut\.gz.*(corrupt|truncated)"):
        read_idx(tmp_path / "cut.gz")


def test_mnist_loads_from_the_original_files(mnist_dir):
    test = load_dataset("mnist", "test")
    assert test.images.shape == (10000, 28, 28) and test.images.dtype == np.uint8
    assert test.classes == tuple("0123456789")
    assert np.bincount(test.labels).tolist()[:3] == [980, 1135, 1032]  # the official class counts
    assert all(verify(mnist_dir / f.name, f) for f in CATALOG["mnist"].all_files())


def test_unknown_dataset_suggests_the_closest_name():
    with pytest.raises(UsageError, match="did you mean 'mnist'"):
        get_spec("mnst")
    with pytest.raises(UsageError, match="unknown split"):
        load_dataset("mnist", "validation")


def test_search_order_data_dir_then_env_then_cache_then_system(tmp_path, monkeypatch):
    spec = get_spec("kmnist")
    explicit, env, cache = tmp_path / "explicit", tmp_path / "env", tmp_path / "xdg-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.setenv("DIGITREC_DATA_DIR", str(env))
    write_idx_dataset(cache / "digitrec" / "datasets" / "kmnist")
    assert locate(spec, download=False) == cache / "digitrec" / "datasets" / "kmnist"
    write_idx_dataset(env / "kmnist")
    assert locate(spec, download=False) == env / "kmnist"
    write_idx_dataset(explicit / "kmnist")
    assert locate(spec, explicit, download=False) == explicit / "kmnist"
    data = load_dataset("kmnist", "test", data_dir=explicit)
    assert data.classes[:3] == ("o", "ki", "su") and len(data) == 50


@pytest.mark.skipif(not Path("/usr/share/datasets/fashion-mnist").is_dir(),
                    reason="Debian package dataset-fashion-mnist not installed")
def test_fashion_mnist_from_the_debian_package(monkeypatch):
    monkeypatch.delenv("DIGITREC_DATA_DIR")
    data = load_dataset("fashion-mnist", "test")
    assert len(data) == 10000 and data.classes[0] == "T-shirt/top"
    spec = get_spec("fashion-mnist")
    # Debian recompressed the files: the md5 of the .gz differs, the content checksum still verifies them
    assert all(verify(Path("/usr/share/datasets/fashion-mnist") / f.name, f) for f in spec.all_files())


def test_offline_without_a_copy_lists_the_places_searched(monkeypatch, tmp_path):
    monkeypatch.setenv("DIGITREC_DATA_DIR", str(tmp_path / "nothing"))
    with pytest.raises(DataError) as info:
        load_dataset("kmnist", "train")
    message = str(info.value)
    assert "kmnist" in message and str(tmp_path / "nothing" / "kmnist") in message
    assert "user cache" in message and "DIGITREC_DATA_DIR" in message and "\n" not in message


class _Server:
    """A real HTTP server on loopback that serves ``files`` and can misbehave on request."""

    def __init__(self, files: dict[str, bytes]):
        self.files, self.failures, self.requests = files, 0, 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.requests += 1
                if outer.failures > 0:
                    outer.failures -= 1
                    self.send_error(503)
                    return
                body = outer.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_download_verifies_and_renames_atomically(tmp_path):
    body = b"payload" * 1000
    md5 = hashlib.md5(body).hexdigest()
    with _Server({"/good": body, "/bad": body[:-1] + b"!"}) as server:
        fetch([f"{server.url}/bad", f"{server.url}/good"], tmp_path / "file.gz", md5, progress=False)
        assert (tmp_path / "file.gz").read_bytes() == body
        with pytest.raises(DataError, match="checksum mismatch"):
            fetch([f"{server.url}/bad"], tmp_path / "other.gz", md5, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.gz"]  # nothing partial or corrupt left


def test_download_retries_transient_failures(tmp_path):
    body = b"x" * 100
    with _Server({"/f": body}) as server:
        server.failures = 2
        fetch([f"{server.url}/f"], tmp_path / "f", hashlib.md5(body).hexdigest(), retries=3, progress=False)
        assert server.requests == 3 and (tmp_path / "f").read_bytes() == body


def test_dataset_download_from_a_mirror_into_the_cache(mnist_dir, monkeypatch, tmp_path):
    files = {f"/mnist/{p.name}": p.read_bytes() for p in mnist_dir.glob("*-ubyte.gz")}
    monkeypatch.setenv("DIGITREC_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("DIGITREC_OFFLINE", "0")
    with _Server(files) as server:
        monkeypatch.setenv("DIGITREC_DATA_MIRROR", server.url)
        data = load_dataset("mnist", "test", progress=False)
    assert len(data) == 10000
    cache = Path(os.environ["XDG_CACHE_HOME"]) / "digitrec" / "datasets" / "mnist"
    assert locate(get_spec("mnist"), download=False) == cache  # served from the cache from now on
    assert sorted(p.name for p in cache.iterdir()) == sorted(f.name for f in get_spec("mnist").all_files())


def test_folder_dataset_goes_through_the_predict_pipeline(tmp_path):
    for label in ("3", "7"):
        (tmp_path / label).mkdir()
        for i in range(3):
            canvas = np.full((100, 80), 255, np.uint8)
            canvas[20 + i : 80, 35:45] = 0  # a dark stroke on white paper
            Image.fromarray(canvas).save(tmp_path / label / f"{i}.png")
    (tmp_path / "7" / "notes.txt").write_text("not an image")
    data = load_dataset(str(tmp_path))
    assert data.classes == tuple("0123456789") and len(data) == 6  # digit folders keep digit labels
    assert data.labels.tolist() == [3, 3, 3, 7, 7, 7]
    assert data.images.dtype == np.uint8 and data.images.shape == (6, 28, 28)
    assert data.images[0].max() > 200 and data.images[0][0, 0] == 0  # bright ink, dark background


def test_folder_dataset_with_named_classes_and_bad_files(tmp_path):
    for label in ("cat", "dog"):
        (tmp_path / label).mkdir()
        canvas = np.zeros((40, 40), np.uint8)
        canvas[10:30, 18:22] = 255
        Image.fromarray(canvas).save(tmp_path / label / "a.png")
    (tmp_path / "dog" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    data = load_dataset(str(tmp_path))
    assert data.classes == ("cat", "dog") and data.labels.tolist() == [0, 1]


def test_folder_dataset_without_images_is_a_clear_error(tmp_path):
    (tmp_path / "5").mkdir()
    with pytest.raises(DataError, match="no usable images"):
        load_dataset(str(tmp_path))
