"""Learning from corrections: `digitrec train --from-feedback` fine-tunes production on the feedback store's
images plus a replay of MNIST, gates the result against production, registers it, and promotes it only with
--promote-if-better."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from conftest import assert_clean_error, run_cli
from digitrec.registry import Registry
from digitrec.service.store import FeedbackStore
from service_helpers import png_bytes

FAST = ["--replay", "2000", "--epochs", "2", "--quiet", "--json"]


def learn(store, out, *args: str):
    return run_cli("train", "--from-feedback", "--feedback-db", str(store), "--out", str(out), *args,
                   env={"OMP_NUM_THREADS": "1"}, check=True)


@pytest.fixture
def corrections(tmp_path, monkeypatch):
    """120 corrections in a feedback store: a writer whose digits lean 60° (the bundled model, trained for
    ±12°, gets about 40 % of them wrong), drawn dark on a light canvas as the page sends them."""
    from digitrec.data import load_dataset

    monkeypatch.setenv("DIGITREC_REGISTRY", str(tmp_path / "registry"))
    mnist = load_dataset("mnist", "train", progress=False)
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    for i in np.random.default_rng(0).choice(len(mnist), 120, replace=False):
        big = cv2.resize(mnist.images[i], (280, 280), interpolation=cv2.INTER_LINEAR)
        leaning = cv2.warpAffine(big, cv2.getRotationMatrix2D((140, 140), 60, 1.0), (280, 280))
        store.add(png_bytes(255 - leaning), correct=int(mnist.labels[i]), model_version="bundled")
    store.close()
    return tmp_path / "feedback.sqlite3"


def test_fine_tune_on_corrections_then_gate_register_and_promote(tmp_path, corrections):
    first = learn(corrections, tmp_path / "a", *FAST)
    result = json.loads(first.stdout_text.splitlines()[-1])
    gate = result["gate"]
    registry = Registry()
    assert registry.version(result["version"]).source["finetuned_from"] == gate["base"]["version"]
    assert result["counts"] == {"corrections": 120, "learned": 90, "held_back": 30, "repeat": 3,
                                "replay": 2000}
    assert gate["candidate"]["feedback_accuracy"] > gate["base"]["feedback_accuracy"]  # it learned the style
    assert gate["candidate"]["test_accuracy"] > 0.97  # and, with the replay, did not forget MNIST
    drop = gate["base"]["test_accuracy"] - gate["candidate"]["test_accuracy"]
    assert gate["passed"] == (drop <= gate["max_drop"])
    assert result["promoted"] is False and registry.find_alias("production") is None  # not without the flag

    second = learn(corrections, tmp_path / "b", "--promote-if-better", "--seed", "1", *FAST)
    promoted = json.loads(second.stdout_text.splitlines()[-1])
    production = registry.find_alias("production")
    assert promoted["promoted"] == promoted["gate"]["passed"]
    is_production = production is not None and production.version == promoted["version"]
    assert is_production == promoted["gate"]["passed"]
    table = learn(corrections, tmp_path / "c", "--replay", "2000", "--epochs", "1", "--quiet")
    assert "gate: candidate vs base" in table.stdout_text and "registered" in table.stdout_text


def test_from_feedback_bad_input(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITREC_REGISTRY", str(tmp_path / "registry"))
    missing = tmp_path / "none.sqlite3"
    assert_clean_error(run_cli("train", "--from-feedback", "--feedback-db", str(missing)),
                       "no feedback store yet")
    FeedbackStore(tmp_path / "empty.sqlite3").close()
    assert_clean_error(run_cli("train", "--from-feedback", "--feedback-db", str(tmp_path / "empty.sqlite3")),
                       "no corrections stored yet")
    few = FeedbackStore(tmp_path / "few.sqlite3")
    few.add(png_bytes(np.full((28, 28), 255, np.uint8) - np.eye(28, dtype=np.uint8) * 255), correct=1)
    few.close()
    assert_clean_error(run_cli("train", "--from-feedback", "--feedback-db", str(tmp_path / "few.sqlite3")),
                       "at least 4 are needed")
    assert_clean_error(run_cli("train", "--from-feedback", "--model", "mlp"), "drop --model/--preset")
    assert_clean_error(run_cli("train", "--from-feedback", "--feedback-db", str(tmp_path / "few.sqlite3"),
                               "--base", "nightly"), "no alias or version 'nightly'")
