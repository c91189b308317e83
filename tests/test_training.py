"""Training: the model directory it writes, determinism, checkpoints, resume after Ctrl-C, early stopping."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
import torch.nn as nn

from conftest import assert_clean_error, run_cli
from digitrec.errors import UsageError
from digitrec.inference import Recognizer
from digitrec.modeldir import load_metadata, sha256_file
from digitrec.training.augment import LEVELS, AugmentConfig, augment
from digitrec.training.checkpoint import CHECKPOINT
from digitrec.training.config import make_config
from digitrec.training.torch_loop import EarlyStopping, lr_at
from digitrec.training.trainer import train


def test_a_trained_model_directory_is_complete_and_verified(tiny_model):
    meta = load_metadata(tiny_model)
    assert {"model.onnx", "weights.safetensors"} <= set(meta.files)
    assert all(sha256_file(tiny_model / f) == h for f, h in meta.files.items())
    assert meta.name == "fast" and meta.dataset == "mnist" and meta.classes == list("0123456789")
    assert [row["epoch"] for row in meta.history] == [1, 2]
    assert meta.history[-1]["loss"] < meta.history[0]["loss"]
    assert 0.85 < meta.metrics["test_accuracy"] <= 1.0 and meta.metrics["test_n"] == 10000
    assert meta.config["train_examples"] + meta.config["val_examples"] == 3000
    assert not (tiny_model / CHECKPOINT).exists()  # removed once the model is complete


def test_same_seed_same_model(tmp_path):
    config = make_config(model="fast", epochs=1, limit=1500, seed=7)
    a, b = train(config, tmp_path / "a"), train(config, tmp_path / "b")
    assert sha256_file(a.model_dir / "weights.safetensors") == sha256_file(b.model_dir / "weights.safetensors")
    c = train(make_config(model="fast", epochs=1, limit=1500, seed=8), tmp_path / "c")
    assert sha256_file(c.model_dir / "weights.safetensors") != sha256_file(a.model_dir / "weights.safetensors")


def test_resume_after_ctrl_c_gives_the_uninterrupted_model(tmp_path):
    args = ["train", "--model", "fast", "--limit", "20000", "--epochs", "3", "--quiet"]
    reference = run_cli(*args, "--out", str(tmp_path / "ref"), check=True)
    assert reference.returncode == 0
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "digitrec", *args, "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 120
        while not (out / CHECKPOINT).exists() and time.time() < deadline and proc.poll() is None:
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr.decode()
    assert "--resume" in stderr.decode() and "Traceback" not in stderr.decode()
    assert not (out / "metadata.json").exists()
    resumed = run_cli("train", "--out", str(out), "--resume", "--quiet", "--json", check=True)
    result = json.loads(resumed.stdout_text.strip().splitlines()[-1])
    assert [row["epoch"] for row in result["history"]] == [1, 2, 3]
    assert sha256_file(out / "weights.safetensors") == sha256_file(tmp_path / "ref" / "weights.safetensors")


def test_corrupt_checkpoint_is_a_clear_error(tmp_path):
    (tmp_path / CHECKPOINT).write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all}")
    result = run_cli("train", "--out", str(tmp_path), "--resume")
    assert_clean_error(result, "corrupt checkpoint", str(tmp_path / CHECKPOINT))
    missing = run_cli("train", "--out", str(tmp_path / "none"), "--resume")
    assert_clean_error(missing, "no checkpoint")


def test_scikit_learn_lesson_model_trains_and_exports(tmp_path):
    result = train(make_config(model="sk-mlp", epochs=3, limit=3000, lr=0.1), tmp_path / "sk")
    probabilities = Recognizer(result.model_dir).predict_arrays(np.zeros((2, 28, 28), np.uint8))
    assert probabilities.shape == (2, 10)
    assert result.test_accuracy > 0.75
    assert len(result.history) == 3
    from digitrec.export.run import export_model_dir

    rows = export_model_dir(result.model_dir, int8=True, calibration=200, progress=False)
    assert [r.precision for r in rows] == ["fp32", "int8"] and rows[1].accuracy > 0.7


def test_early_stopping_keeps_the_best_weights():
    model = nn.Linear(2, 2)
    stopper = EarlyStopping(patience=2)
    assert not stopper.update(1.0, model)
    best = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        model.weight.add_(1.0)
    assert not stopper.update(1.1, model)
    assert stopper.update(1.05, model)  # two epochs without improvement
    assert torch.equal(stopper.best_state["weight"], best["weight"])


def test_one_cycle_schedule_shape():
    lrs = [lr_at(s, 100, 1.0, "onecycle") for s in range(101)]
    assert lrs[0] == pytest.approx(1 / 25) and max(lrs) == pytest.approx(1.0, rel=1e-3)
    assert lrs[-1] < 1e-4 and lrs.index(max(lrs)) == 20
    assert lr_at(50, 100, 0.3, "constant") == 0.3


@pytest.mark.parametrize("option, message", [
    ({"epochs": 0}, "--epochs"), ({"lr": -1}, "--lr"), ({"val_split": 1.0}, "--val-split"),
    ({"augment": "heavy"}, "augmentation"), ({"optimizer": "lion"}, "optimizer"),
])
def test_bad_options_are_usage_errors(option, message):
    with pytest.raises(UsageError, match=message):
        make_config(model="fast", **option)


def test_best_preset_follows_the_dataset_and_explicit_options_still_win():
    digits, clothes = make_config(preset="best"), make_config(preset="best", dataset="fashion-mnist")
    assert (digits.augment, digits.model_options) == ("light", {})
    assert (clothes.augment, clothes.model_options) == ("objects", {"final_convs": 2, "width": 48})
    assert make_config(preset="best", dataset="fashion-mnist", augment="light").augment == "light"


def test_objects_augmentation_mirrors_and_erases_but_never_rotates():
    x = torch.zeros(400, 1, 28, 28)
    x[:, :, 4:24, 6:10] = 1.0  # a bar on the left: a mirror moves it to the right
    out = augment(x, AugmentConfig(hflip=0.5), torch.Generator().manual_seed(0))
    mirrored = out[:, 0, :, 18:].sum((1, 2)) > 40
    assert 0.4 < mirrored.float().mean() < 0.6
    assert torch.allclose(out[~mirrored], x[~mirrored], atol=1e-4)
    assert torch.allclose(out[mirrored], x[mirrored].flip(-1), atol=1e-4)
    erased = augment(torch.zeros(400, 1, 28, 28), AugmentConfig(erase=0.5), torch.Generator().manual_seed(0))
    touched = erased.flatten(1).gt(0).sum(1)
    assert 0.4 < touched.gt(0).float().mean() < 0.6 and touched.max() <= 0.25 * 784  # 2-20 % of the area, edges rounded up
    assert LEVELS["objects"].rotate == LEVELS["objects"].shear == 0


def test_training_on_a_folder_dataset(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    for label in range(10):
        (tmp_path / "digits" / str(label)).mkdir(parents=True)
        for i in range(4):
            canvas = np.full((60, 60), 255, np.uint8)
            canvas[10:50, 5 + 4 * label + rng.integers(0, 2) : 9 + 4 * label] = 0
            Image.fromarray(canvas).save(tmp_path / "digits" / str(label) / f"{i}.png")
    result = train(make_config(model="mlp", dataset=str(tmp_path / "digits"), epochs=2, val_split=0.25),
                   tmp_path / "out")
    meta = load_metadata(result.model_dir)
    assert meta.dataset == "digits" and result.test_accuracy is None and len(meta.history) == 2


def test_a_model_that_can_say_no_digit(tmp_path):
    result = train(make_config(model="robust", epochs=2, limit=3000, seed=0), tmp_path / "r")
    meta = load_metadata(result.model_dir)
    assert meta.config["no_digit_class"] is True and meta.config["augment"] == "robust"
    assert 0.25 <= meta.config["temperature"] <= 4.0
    rec = Recognizer(result.model_dir)
    from digitrec.preprocess.segment import to_model_input
    from digitrec.training.negatives import letter, scribble

    rng = np.random.default_rng(1)
    junk = np.stack([to_model_input(letter(rng) if i % 2 else scribble(rng)) for i in range(40)])
    digits = rec.predict_arrays(load_dataset_images(200))
    assert rec.predict_arrays(junk).sum(1).mean() < digits.sum(1).mean()  # less sure about junk than digits


def load_dataset_images(n: int) -> np.ndarray:
    from digitrec.data import load_dataset

    return load_dataset("mnist", "test").images[:n]
