"""The command line as users meet it: output formats, exit codes, and one-line errors for bad input."""

from __future__ import annotations

import io
import json
import os
import shutil
import socket

import cv2
import numpy as np
from PIL import Image

from conftest import assert_clean_error, run_cli
from test_decode import _png_header_only


def test_version_and_help():
    assert run_cli("--version", check=True).stdout_text.startswith("digitrec ")
    help_text = run_cli("train", "--help", check=True).stdout_text
    assert "--resume" in help_text and "Examples" in help_text


def test_data_list_and_info(mnist_dir):
    rows = [json.loads(line) for line in run_cli("data", "list", "--json", check=True).stdout_text.splitlines()]
    mnist = next(r for r in rows if r["name"] == "mnist")
    assert mnist["location"] == str(mnist_dir) and {r["name"] for r in rows} >= {"fashion-mnist", "kmnist"}
    info = json.loads(run_cli("data", "info", "mnist", "--json", check=True).stdout_text)
    assert all(f["verified"] for f in info["files"])
    assert_clean_error(run_cli("data", "info", "mnits"), "did you mean 'mnist'")
    assert run_cli("data", "info", "mnits").returncode == 2


def test_missing_dataset_offline_is_one_clear_line(tmp_path):
    result = run_cli("train", "--dataset", "kmnist", env={"DIGITREC_DATA_DIR": str(tmp_path)})
    assert_clean_error(result, "kmnist", "searched", str(tmp_path / "kmnist"))
    errors = [line for line in result.stderr_text.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "kmnist" in errors[0]


def test_train_evaluate_export_predict(tmp_path, mnist_test):
    out = tmp_path / "model"
    trained = run_cli("train", "--model", "fast", "--limit", "4000", "--epochs", "2", "--out", str(out), "--json",
                      check=True)
    untrained = float(trained.stderr_text.split("untrained model: loss ")[1].split()[0])
    assert abs(untrained - np.log(10)) < 0.2  # learning starts from chance level, as the lesson shows
    result = json.loads(trained.stdout_text.strip().splitlines()[-1])
    assert result["model_dir"] == str(out) and 0.85 < result["test_accuracy"] <= 1
    assert result["train_seconds"] > 0 and len(result["history"]) == 2

    evaluated = json.loads(run_cli("evaluate", "--model", str(out), "--json", check=True).stdout_text)
    assert evaluated["n"] == 10000 and abs(evaluated["accuracy"] - result["test_accuracy"]) < 1e-9
    assert len(evaluated["confusion_matrix"]) == 10 and "precision" in evaluated["per_class"]["7"]

    exported = run_cli("export", str(out), "--int8", check=True).stdout_text
    assert "int8" in exported and (out / "model.int8.onnx").is_file()
    meta = json.loads((out / "metadata.json").read_text())
    assert "model.int8.onnx" in meta["files"]
    assert abs(meta["metrics"]["int8_test_accuracy"] - meta["metrics"]["test_accuracy"]) < 0.01
    assert (out / "model.int8.onnx").stat().st_size < 0.5 * (out / "model.onnx").stat().st_size

    images = tmp_path / "images"
    (images / "sub").mkdir(parents=True)
    for i in range(3):
        Image.fromarray(255 - mnist_test.images[i]).resize((140, 140)).save(images / f"d{i}.png")
    Image.new("L", (100, 100), 255).save(images / "sub" / "blank.jpg")
    (images / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 30)
    (images / "empty.png").write_bytes(b"")
    (images / "bomb.png").write_bytes(_png_header_only(50000, 50000))
    (images / "notes.txt").write_text("skipped: not an image")
    predicted = run_cli("predict", str(images), "--model", str(out), "--json")
    assert predicted.returncode == 1  # some files were bad; the good ones were still answered
    lines = [json.loads(line) for line in predicted.stdout_text.splitlines()]
    by_name = {l["file"].rsplit("/", 1)[-1]: l for l in lines}
    assert set(by_name) == {"d0.png", "d1.png", "d2.png", "blank.jpg", "broken.png", "empty.png", "bomb.png"}
    assert by_name["blank.jpg"]["digit"] is None and "error" not in by_name["blank.jpg"]
    for bad in ("broken.png", "empty.png", "bomb.png"):
        assert by_name[bad]["digit"] is None and bad in by_name[bad]["error"]
    assert sum(by_name[f"d{i}.png"]["digit"] == mnist_test.labels[i] for i in range(3)) >= 2
    assert all(len(l["probabilities"]) == 10 for l in lines)
    assert "Traceback" not in predicted.stderr_text
    assert predicted.stderr_text.count("error:") == 3

    table = run_cli("predict", str(images / "d0.png"), "--model", str(out), check=True).stdout_text
    assert "d0.png" in table and "confidence" in table


def test_predict_errors(tmp_path, tiny_model):
    assert_clean_error(run_cli("predict", str(tmp_path / "nope.png"), "--model", str(tiny_model)),
                       "nope.png", "cannot read")
    image = tmp_path / "x.png"
    Image.new("L", (10, 10)).save(image)
    taken = tmp_path / "taken"
    taken.write_text("a file where the folder should go")
    explained = run_cli("predict", str(image), "--model", str(tiny_model), "--explain", str(taken / "sub"))
    assert_clean_error(explained, f"{taken / 'sub'}: Not a directory")
    assert explained.returncode == 1 and "internal error" not in explained.stderr_text
    pipe = tmp_path / "pipe.png"
    os.mkfifo(pipe)  # no writer: reading it would wait for ever
    for special in (pipe, "/dev/zero"):  # /dev/zero would be read until memory runs out
        assert_clean_error(run_cli("predict", str(special), "--model", str(tiny_model), timeout=60),
                           str(special), "not a regular file")
    tampered = tmp_path / "tampered"
    shutil.copytree(tiny_model, tampered)
    (tampered / "weights.safetensors").write_bytes(b"evil")
    image = tmp_path / "x.png"
    Image.new("L", (10, 10)).save(image)
    assert_clean_error(run_cli("predict", str(image), "--model", str(tampered)), "checksum mismatch")
    assert_clean_error(run_cli("evaluate", "--model", str(tmp_path)), "metadata.json")
    assert_clean_error(run_cli("train", "--epochs", "0"), "--epochs")


def test_predict_explain_draws_every_stage_and_every_digit_found(tmp_path, mnist_test):
    """--explain writes one picture per input: a strip of the stages for a digit (the grey input to the
    enlarged 28×28, one panel each), the number with its boxes and 28×28 tiles for --multi."""
    seven = 255 - cv2.resize(mnist_test.images[0], (140, 140), interpolation=cv2.INTER_CUBIC)
    Image.fromarray(seven).save(tmp_path / "seven.png")
    number = np.full((60, 120), 255, np.uint8)
    for i, k in enumerate((1, 2, 3)):  # the test set's first 2, 1 and 0
        number[16:44, 8 + 36 * i : 36 + 36 * i] = 255 - mnist_test.images[k]
    Image.fromarray(number).save(tmp_path / "number.png")

    run_cli("predict", str(tmp_path / "seven.png"), "--explain", str(tmp_path / "single"), check=True)
    (strip,) = (tmp_path / "single").iterdir()
    assert strip.name == "0000-seven.png"
    pixels = np.asarray(Image.open(strip).convert("L"))
    assert pixels.shape[1] > 5 * pixels.shape[0] and pixels.std() > 20  # a row of panels, not a blank

    run_cli("predict", "--multi", str(tmp_path / "number.png"), "--explain", str(tmp_path / "multi"), check=True)
    (sheet,) = (tmp_path / "multi").iterdir()
    drawn = np.asarray(Image.open(sheet).convert("RGB")).astype(int)
    red = (drawn[..., 0] > 180) & (drawn[..., 1] < 80) & (drawn[..., 2] < 80)
    assert red[:60].sum() > 3 * 2 * 28  # three boxes over the number
    assert drawn.shape[0] > 60 + 84  # and the 28×28 tiles beneath it


def test_predict_reads_standard_input(mnist_test):
    buf = io.BytesIO()
    Image.fromarray(255 - mnist_test.images[0]).resize((140, 140)).save(buf, format="PNG")
    read = json.loads(run_cli("predict", "-", "--json", input=buf.getvalue(), check=True).stdout_text)
    assert read["file"] == "-" and read["digit"] == mnist_test.labels[0]
    assert_clean_error(run_cli("predict", "-", input=b""), "-: empty file")


def test_serve_on_a_port_in_use_is_one_line_before_the_banner():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("serve", "--port", str(port), timeout=60)
    assert_clean_error(result, f"cannot listen on 127.0.0.1:{port}: Address already in use")
    assert result.returncode == 1 and "Press Ctrl-C" not in result.stdout_text


def test_out_of_range_options_are_usage_errors():
    """Typer's range checks (min/max) answer as click usage errors: exit code 2, the option named, no
    "internal error" (typer vendors its own click, whose exceptions are not the click package's)."""
    for args, option in ((("predict", "--min-confidence", "2", "x.png"), "--min-confidence"),
                         (("serve", "--port", "0"), "--port"), (("feedback", "list", "--limit", "0"), "--limit")):
        result = run_cli(*args)
        assert result.returncode == 2, (args, result.stderr_text)
        assert_clean_error(result, option, "Invalid value")
        assert "internal error" not in result.stderr_text
