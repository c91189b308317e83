"""The model the service answers with, behind one reference that can be swapped atomically.

A request takes ``holder.current`` once and uses that Recognizer to the end, so its response names the
version that actually answered even if a new model is swapped in meanwhile (registry hot swap).
"""

from __future__ import annotations

import threading
from typing import Callable

from digitrec.inference import Recognizer


class ModelHolder:
    def __init__(self, recognizer: Recognizer,
                 on_swap: Callable[[Recognizer, Recognizer], None] | None = None):
        self._current = recognizer
        self._swap_lock = threading.Lock()
        self._on_swap = on_swap  # told (new, old) after each swap: metrics follow the serving version

    @property
    def current(self) -> Recognizer:
        return self._current  # a single attribute read: atomic under the GIL

    def swap(self, recognizer: Recognizer) -> Recognizer:
        """Serve ``recognizer`` from now on; returns the one it replaced."""
        with self._swap_lock:
            old, self._current = self._current, recognizer
            if self._on_swap is not None:
                self._on_swap(recognizer, old)
        return old


def model_summary(recognizer: Recognizer) -> dict:
    """What every response says about the model that answered."""
    info = recognizer.info
    return {"name": info["name"], "version": info["version"], "sha256": info["sha256"]}
