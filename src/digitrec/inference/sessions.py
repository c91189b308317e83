"""onnxruntime sessions as digitrec runs them: on the CPU, quiet, a set number of threads."""

from __future__ import annotations

from pathlib import Path

import onnxruntime as ort

from digitrec.errors import ModelError


def cpu_session(path: Path, threads: int, what: str, float_compute: bool = False) -> ort.InferenceSession:
    """A CPU session for ``path`` with ``threads`` intra-op threads (0: one per core) and one inter-op;
    a missing or bad graph is a ModelError naming ``what`` could not be loaded. ``float_compute``: for a
    graph of int8 weights and float activations (``export.quantize.with_float_activations``), whose weights
    are then dequantized once at load rather than on every run (0.85 against 1.5 ms for the number reader)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    if float_compute:  # no QDQ fusion to keep apart, so constant folding takes the weights' DequantizeLinear
        options.add_session_config_entry("session.disable_quant_qdq", "1")
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types for a missing or bad graph
        raise ModelError(f"{path}: onnxruntime cannot load {what} ({exc})") from None
