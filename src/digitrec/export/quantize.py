"""int8 export: onnxruntime static quantization, calibrated on training images, per-channel weights."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process

from digitrec.export.onnx_export import INPUT


class _Calibration(CalibrationDataReader):
    def __init__(self, images: np.ndarray, batch: int = 64):
        x = images.astype(np.float32)[:, None] / 255.0
        self._batches = iter([{INPUT: x[i : i + batch]} for i in range(0, len(x), batch)])

    def get_next(self):
        return next(self._batches, None)


def quantize_int8(fp32: Path, int8: Path, calibration_images: np.ndarray) -> None:
    """Write an int8 (QDQ, u8 activations, s8 per-channel weights) copy of ``fp32`` to ``int8``."""
    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(str(fp32), str(prepared), skip_symbolic_shape=True)
        options = {"quant_format": QuantFormat.QDQ, "per_channel": True, "activation_type": QuantType.QUInt8,
                   "weight_type": QuantType.QInt8}
        try:
            quantize_static(str(prepared), str(int8), _Calibration(calibration_images), **options)
        except ValueError:
            # onnxruntime's bias-scale adjustment fails on per-channel MatMul + Add graphs (scikit-learn's
            # MLP as skl2onnx writes it); without that optional adjustment the quantization is sound.
            quantize_static(str(prepared), str(int8), _Calibration(calibration_images), **options,
                            extra_options={"QDQDisableWeightAdjustForInt32Bias": True})
