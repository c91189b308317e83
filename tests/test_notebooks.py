"""The example notebooks run top to bottom on small subsets (DIGITREC_EXAMPLES_LIMIT), so they cannot rot,
and are stored without outputs, so they stay small and diff cleanly."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
# figures each notebook must show inline (as PNG): a figure printed as text means display broke
FIGURES = {"01_mnist_mlp": 7, "02_mnist_cnn": 5, "03_own_handwriting": 2, "04_quantized_export": 0,
           "05_fashion_mnist": 6}


def test_the_lessons_path_is_all_there():
    assert sorted(p.stem for p in EXAMPLES.glob("*.ipynb")) == sorted(FIGURES)


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_notebook_runs_top_to_bottom(name, tmp_path, monkeypatch):
    notebook = nbformat.read(EXAMPLES / f"{name}.ipynb", as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(not cell.outputs and cell.execution_count is None for cell in code), "stored outputs"
    monkeypatch.setenv("DIGITREC_EXAMPLES_LIMIT", "500")
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()  # raises on the first error
    shown = [output for cell in code for output in cell.outputs if "image/png" in output.get("data", {})]
    assert len(shown) >= FIGURES[name]
    assert not any("<Figure size" in output.get("data", {}).get("text/plain", "")
                   for cell in code for output in cell.outputs if "image/png" not in output.get("data", {}))
