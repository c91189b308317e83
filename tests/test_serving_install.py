"""The inference path (predict, serve) must run without torch and the training extras: run it in a
process where importing them fails, as in a serving install (`pip install digitrec`, no `[train]`)."""

from __future__ import annotations

import subprocess
import sys

from PIL import Image

BLOCK = "import sys\nfor m in ('torch', 'sklearn', 'skl2onnx', 'onnx', 'matplotlib', 'optuna', 'submitit'):\n" \
        "    sys.modules[m] = None  # importing it now raises ImportError\n"


def run_blocked(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", BLOCK + code, *args], capture_output=True, text=True, timeout=120)


def test_predict_and_serve_without_torch(tmp_path):
    image = tmp_path / "seven.png"
    canvas = Image.new("L", (280, 280), 255)
    canvas.paste(0, (120, 60, 140, 220))
    canvas.save(image)
    code = (
        "from digitrec.inference import Recognizer\n"
        "r = Recognizer()\n"
        "print(r.predict_file(sys.argv[1]).digit is not None, r.read_number_file(sys.argv[1]).text != '')\n"
        "from digitrec.service.app import create_app\n"
        "from digitrec.service.settings import Settings\n"
        "create_app(Settings())\n"
        "from digitrec.cli import main\n"
        "sys.argv = ['digitrec', 'predict', sys.argv[1], '--json']\n"
        "main()\n"
    )
    result = run_blocked(code, str(image))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "True True"
    assert '"digit"' in result.stdout


def test_training_without_torch_is_a_clear_error():
    result = run_blocked("from digitrec.cli import main\nsys.argv = ['digitrec', 'train', '--epochs', '1']\nmain()\n")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and "pip install 'digitrec[train]'" in result.stderr
