"""Model directories for registry tests: copies of the bundled model under versions of their own (no
training needed)."""

from __future__ import annotations

import shutil
from pathlib import Path

from digitrec.modeldir import BUNDLED, load_metadata, save_metadata


def model_copy(folder: Path, version: str, source: Path = BUNDLED, distinct: bool = False) -> Path:
    """A complete, verified model directory: ``source``'s files under a new version name. ``distinct`` makes
    its ONNX file differ (a note in the graph's doc string; same predictions), so its sha256 identifies it."""
    shutil.copytree(source, folder)
    if distinct:
        import onnx

        graph = onnx.load(str(folder / "model.onnx"))
        graph.doc_string += f" (copy {version})"
        onnx.save(graph, str(folder / "model.onnx"))
    meta = load_metadata(folder, verify=not distinct)
    meta.version = version
    save_metadata(folder, meta)
    return folder


def broken_copy(folder: Path, version: str) -> Path:
    """A model whose checksums are right but whose ONNX file is no model: it verifies, then fails to load."""
    model_copy(folder, version)
    (folder / "model.onnx").write_bytes(b"not an onnx graph")
    (folder / "model.int8.onnx").unlink(missing_ok=True)
    meta = load_metadata(folder, verify=False)
    meta.version = version
    save_metadata(folder, meta)
    return folder
