"""digitrec: handwritten-digit recognition — data, training, ONNX export, robust prediction, a service.

For notebooks, the command line's verbs are functions here::

    import digitrec
    digitrec.show("mnist", grid="16x8")            # a gallery of the data
    model = digitrec.train("mlp", epochs=5)         # Keras-like progress; returns a TrainedModel
    model.history.plot()                            # loss and accuracy, training vs validation
    digitrec.evaluate(model).plot_mistakes()        # the test images it got wrong, in red
    digitrec.predict("my_digit.png", model=model)   # your own handwriting
    digitrec.Recognizer().predict_file("7.png")     # the bundled model, onnxruntime only

Importing ``digitrec`` stays light: each name loads its module (and torch, matplotlib, …) on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "load_dataset": "digitrec.data",
    "Recognizer": "digitrec.inference",
    **{name: "digitrec.api" for name in ("train", "evaluate", "predict", "report", "compare", "sweep", "show",
                                         "embed", "History", "TrainedModel")},
}
__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'digitrec' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
