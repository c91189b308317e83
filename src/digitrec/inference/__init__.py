"""Inference with onnxruntime only: load and verify a model directory, predict arrays, bytes, files."""

from digitrec.inference.recognizer import (DigitBox, NumberReading, Prediction, Recognizer, find_images,
                                          resolve_model_dir)

__all__ = ["DigitBox", "NumberReading", "Prediction", "Recognizer", "find_images", "resolve_model_dir"]
