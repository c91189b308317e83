"""Set-up of a serving process: settings handed to workers through the environment, one CPU thread per
library (workers are the parallelism), and the Prometheus multiprocess folder's life cycle."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

from digitrec.service.balance import BOARD_FILE
from digitrec.service.metrics import MULTIPROC_ENV
from digitrec.service.settings import ENV_PREFIX, Settings


def export_settings(settings: Settings) -> None:
    """Write every setting to ``DIGITREC_*`` so worker processes (which read only their environment) build
    the same Settings the command line did."""
    for name in Settings.model_fields:
        value = getattr(settings, name)
        key = ENV_PREFIX + name.upper()
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = str(value).lower() if isinstance(value, bool) else str(value)


def single_threaded_libraries() -> None:
    """OpenCV would otherwise start a thread per core in every worker: oversubscribed cores, worse tails."""
    import cv2

    cv2.setNumThreads(1)


@contextlib.contextmanager
def multiprocess_metrics(workers: int) -> Iterator[None]:
    """With several workers, a temporary folder where each writes its metric samples and its count of open
    connections (:mod:`digitrec.service.balance`); removed afterwards. A folder the user chose
    (``PROMETHEUS_MULTIPROC_DIR`` already set) is used and left in place, less the last run's connection
    board: a process that has since taken a gone worker's id must not pass for a worker."""
    if chosen := os.environ.get(MULTIPROC_ENV):
        (Path(chosen) / BOARD_FILE).unlink(missing_ok=True)
    if workers < 2 or chosen:
        yield
        return
    folder = tempfile.mkdtemp(prefix="digitrec-metrics-")
    os.environ[MULTIPROC_ENV] = folder
    try:
        yield
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(folder, ignore_errors=True)
