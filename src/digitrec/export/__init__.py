"""Export: ONNX (one input/output contract for every model) and int8 quantization."""
