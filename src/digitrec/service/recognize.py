"""What the endpoints compute, as plain functions returning JSON-ready dicts (run in worker threads).

Images go through the Recognizer — the same preprocessing and model call as ``digitrec predict`` — and the
answers are built straight into dicts: at hundreds of requests per second a pydantic round trip per
response is measurable, and the response schemas in :mod:`schemas` document the same shapes.
"""

from __future__ import annotations

import numpy as np

from digitrec.errors import DigitrecError
from digitrec.inference import Prediction, Recognizer
from digitrec.preprocess import prepare_bytes
from digitrec.service.images import png_data_url


def predict_one(recognizer: Recognizer, data: bytes, name: str) -> tuple[dict, list]:
    """One digit: the answer, the 28×28 the model saw, and the digits answered (for the metrics)."""
    prediction = recognizer.predict_bytes(data, name)
    body = _prediction_json(prediction)
    body["preprocessed"] = png_data_url(prediction.preprocessed)
    return body, [prediction.digit]


def read_number(recognizer: Recognizer, data: bytes, name: str) -> tuple[dict, list]:
    """A number: its text and every digit with its box (in the input's pixels), left to right."""
    reading = recognizer.read_number_bytes(data, name)
    digits = [{"digit": d.digit, "confidence": round(d.confidence, 6), "box": list(d.box), "line": d.line,
               "probabilities": _rounded(d.probabilities), "preprocessed": png_data_url(d.preprocessed)}
              for d in reading.digits]
    return {"text": reading.text, "digits": digits}, [d.digit for d in reading.digits]


def predict_images(recognizer: Recognizer, images: list[bytes]) -> list[dict]:
    """Many encoded images: each preprocessed, then ONE model call for all of them. A bad image gets an
    ``error`` entry and the rest are still answered."""
    prepared, failures = [], {}
    for index, data in enumerate(images):
        name = f"images[{index}]"
        try:
            prepared.append(prepare_bytes(data, name, recognizer.preprocess))
        except DigitrecError as exc:
            prepared.append(None)
            failures[index] = str(exc)
    inked = [i for i, p in enumerate(prepared) if p is not None and p.image is not None]
    probabilities = recognizer.predict_arrays(np.stack([prepared[i].image for i in inked])) if inked else None
    row_of = {index: row for row, index in enumerate(inked)}
    out = []
    for index, item in enumerate(prepared):
        if item is None:
            out.append({"digit": None, "confidence": 0.0, "probabilities": [0.0] * len(recognizer.classes),
                        "error": failures[index]})
            continue
        row = row_of.get(index)
        prediction = recognizer.answer(f"images[{index}]", item, None if row is None else probabilities[row])
        out.append(_prediction_json(prediction))
    return out


def predict_pixels(recognizer: Recognizer, arrays: np.ndarray) -> list[dict]:
    """Raw 28×28 uint8 images, already in the model's form: one model call, vectorized answers.
    An image with no ink at all is answered null, as a blank canvas is."""
    probabilities = recognizer.predict_arrays(arrays)
    best = probabilities.argmax(axis=1)
    confidence = probabilities[np.arange(len(best)), best]
    blank = ~arrays.reshape(len(arrays), -1).any(axis=1)
    answered = (confidence >= recognizer.min_confidence) & ~blank
    probabilities[blank] = 0.0
    confidence[blank] = 0.0
    digits = np.where(answered, best, -1).tolist()
    return [{"digit": None if d < 0 else d, "confidence": c, "probabilities": p}
            for d, c, p in zip(digits, np.round(confidence, 6).tolist(), np.round(probabilities, 6).tolist())]


def _prediction_json(prediction: Prediction) -> dict:
    body = {"digit": prediction.digit, "confidence": round(prediction.confidence, 6),
            "probabilities": _rounded(prediction.probabilities)}
    if prediction.label is not None and prediction.label != str(prediction.digit):
        body["label"] = prediction.label
    return body


def _rounded(values) -> list[float]:
    return np.round(np.asarray(values, np.float64), 6).tolist()


def self_test(recognizer: Recognizer) -> None:
    """A blank 28×28 through the model and a stroke through the number reader: proves both sessions run
    (for ``/readyz``; the first call also loads the reader, so no number request waits for it)."""
    recognizer.predict_arrays(np.zeros((1, 28, 28), np.uint8))
    if recognizer.number_reader is not None:
        recognizer.number_reader.read([np.full((20, 4), 255, np.uint8)])
