"""``digitrec export``: (re)write the fp32 ONNX from the weights, optionally int8, and compare them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from digitrec.data import load_dataset
from digitrec.data.catalog import CATALOG
from digitrec.errors import ModelError
from digitrec.inference import Recognizer
from digitrec.inference.metrics import report
from digitrec.modeldir import ONNX_FP32, ONNX_INT8, WEIGHTS, load_metadata, save_metadata


@dataclass
class ExportRow:
    file: str
    precision: str
    size_bytes: int
    accuracy: float | None


def export_model_dir(model_dir: Path, int8: bool = False, data_dir=None, calibration: int = 1000,
                     progress: bool = True) -> list[ExportRow]:
    model_dir = Path(model_dir)
    meta = load_metadata(model_dir, verify=True)
    if (model_dir / WEIGHTS).is_file() and meta.name != "sk-mlp":
        _reexport_torch(model_dir, meta)
    elif not (model_dir / ONNX_FP32).is_file():
        raise ModelError(f"{model_dir}: neither weights nor {ONNX_FP32} to export from")
    known = meta.dataset in CATALOG
    if int8:
        from digitrec.export.quantize import quantize_int8

        if not known:
            raise ModelError(f"{model_dir}: int8 calibration needs the training images of a catalog dataset, "
                             f"and '{meta.dataset}' is not one")
        train = load_dataset(meta.dataset, "train", data_dir=data_dir, progress=progress)
        quantize_int8(model_dir / ONNX_FP32, model_dir / ONNX_INT8, train.subset(calibration, seed=1).images)
    meta = save_metadata(model_dir, meta)
    test = load_dataset(meta.dataset, "test", data_dir=data_dir, progress=progress) if known else None
    rows = []
    for file, precision in ((ONNX_FP32, "fp32"), (ONNX_INT8, "int8")):
        if not (model_dir / file).is_file():
            continue
        accuracy = None
        if test is not None:
            probabilities = Recognizer(model_dir, precision=precision).predict_arrays(test.images)
            accuracy = report(probabilities, test.labels, meta.classes).accuracy
            meta.metrics["test_accuracy" if precision == "fp32" else "int8_test_accuracy"] = accuracy
        meta.metrics[f"{precision}_bytes"] = (model_dir / file).stat().st_size
        rows.append(ExportRow(file, precision, (model_dir / file).stat().st_size, accuracy))
    save_metadata(model_dir, meta)
    return rows


def _reexport_torch(model_dir: Path, meta) -> None:
    from safetensors.torch import load_file

    from digitrec.export.onnx_export import export_torch
    from digitrec.models.zoo import build

    classes = len(meta.classes)
    model = build(meta.name, classes=classes + (1 if meta.config.get("no_digit_class") else 0),
                  **meta.config.get("model_options", {}))
    try:
        model.load_state_dict(load_file(str(model_dir / WEIGHTS)))
    except Exception as exc:  # safetensors and torch raise several types for a bad or mismatched file
        raise ModelError(f"{model_dir / WEIGHTS}: cannot load weights for '{meta.name}' ({exc})") from None
    export_torch(model, model_dir / ONNX_FP32, meta.config.get("temperature", 1.0), classes)
