"""Preprocessing: decode any image, then named stages to the 28×28 input an MNIST model expects."""

from digitrec.preprocess.decode import decode, read_bytes, to_grey
from digitrec.preprocess.pipeline import DEFAULT, PreprocessConfig, Prepared, prepare_bytes, prepare_digit

__all__ = ["DEFAULT", "PreprocessConfig", "Prepared", "decode", "prepare_bytes", "prepare_digit", "read_bytes",
           "to_grey"]
