"""The zoo: every model builds, runs, exports to ONNX with the same answers, and the lessons' models have
exactly the lessons' architectures (parameter counts as their model.summary() printed)."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
import torch

from digitrec.errors import UsageError
from digitrec.export.onnx_export import export_torch
from digitrec.models import MODELS
from digitrec.models.zoo import BUILDERS, build

TORCH_MODELS = [name for name, info in MODELS.items() if info.kind == "torch"]


def test_every_catalog_model_has_a_builder():
    assert set(TORCH_MODELS) == set(BUILDERS)
    assert {"sk-mlp", "mlp", "mlp512", "cnn-lenet", "cnn-64-32", "cnn-32-64", "fast", "best", "robust"} == set(MODELS)


@pytest.mark.parametrize("name, params", [
    ("mlp", 101_770),  # the Keras lesson counts it out: 100 480 + 1 290
    ("mlp512", 407_050),
    ("cnn-lenet", 21_840),
    ("cnn-64-32", 119_850),
    ("cnn-32-64", 110_986),  # the TFLite lesson's model.summary()
])
def test_lesson_models_match_the_lessons(name, params):
    assert sum(p.numel() for p in build(name).parameters()) == params


@pytest.mark.parametrize("options, params", [
    ({}, 140_458),  # the MNIST preset's network
    ({"final_convs": 2, "width": 48}, 646_522),  # Fashion-MNIST's: 1.5× wider, one more convolution at 7×7
])
def test_best_scales_with_its_options(options, params):
    model = build("best", **options)
    assert sum(p.numel() for p in model.parameters()) == params
    assert model(torch.rand(2, 1, 28, 28)).shape == (2, 10)


@pytest.mark.parametrize("options", [{"final_convs": 0}, {"width": 0}])
def test_best_rejects_an_empty_network(options):
    with pytest.raises(UsageError, match="model best needs"):
        build("best", **options)


@pytest.mark.parametrize("name", TORCH_MODELS)
def test_onnx_export_matches_torch(name, tmp_path):
    torch.manual_seed(0)
    model = build(name).eval()
    x = torch.rand(5, 1, 28, 28)
    with torch.no_grad():
        expected = torch.softmax(model(x), 1).numpy()
    export_torch(model, tmp_path / "m.onnx")
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["image"]
    assert [o.name for o in session.get_outputs()] == ["probabilities"]
    got = session.run(None, {"image": x.numpy()})[0]
    assert got.shape == (5, 10)
    np.testing.assert_allclose(got, expected, atol=1e-5)
    np.testing.assert_allclose(got.sum(1), 1.0, atol=1e-5)


def test_no_digit_class_and_temperature_are_folded_into_the_export(tmp_path):
    torch.manual_seed(0)
    model = build("robust", classes=11).eval()
    x = torch.rand(4, 1, 28, 28)
    export_torch(model, tmp_path / "m.onnx", temperature=2.0, classes=10)
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    got = session.run(None, {"image": x.numpy()})[0]
    with torch.no_grad():
        expected = torch.softmax(model(x) / 2.0, 1)[:, :10].numpy()
    assert got.shape == (4, 10)
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert (got.sum(1) < 1).all()  # the rest is the "no digit" probability
