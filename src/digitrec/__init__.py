"""digitrec: handwritten-digit recognition — data, training, ONNX export, robust prediction, a service."""

__version__ = "0.1.0"
