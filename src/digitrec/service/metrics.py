"""Prometheus metrics: requests, latency, predictions per digit, the model version that answers.

With several worker processes (``--workers N``) each worker writes its samples to files in
``$PROMETHEUS_MULTIPROC_DIR`` (set by ``digitrec serve`` before the workers start, removed when it stops)
and ``/metrics`` merges them, so any worker answering the scrape reports the whole server.
"""

from __future__ import annotations

import os

from prometheus_client import (CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram,
                               disable_created_metrics, generate_latest)
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST
# Latency buckets around the service's budget (p99 ≤ 50 ms), with room for photos and big batches.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5,
                   5.0, 10.0)


disable_created_metrics()  # the *_created series only add noise to every scrape


def multiprocess_enabled() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


class Metrics:
    """The service's metrics, in a registry of their own (so several apps can live in one process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.multiprocess = multiprocess_enabled()
        r = self.registry
        self.requests = Counter("digitrec_http_requests", "HTTP requests answered, by route and status.",
                                ["method", "route", "status"], registry=r)
        self.latency = Histogram("digitrec_http_request_duration_seconds", "Time to answer a request.",
                                 ["method", "route"], buckets=LATENCY_BUCKETS, registry=r)
        self.predictions = Counter("digitrec_predictions", "Digits answered (\"none\" for blank or unsure).",
                                   ["digit"], registry=r)
        self.batch_images = Counter("digitrec_batch_images", "Images recognized through the batch endpoint.",
                                    registry=r)
        self.feedback = Counter("digitrec_feedback", "Corrections stored, by whether the model was right.",
                                ["outcome"], registry=r)
        self.moved = Counter("digitrec_connections_moved", "Keep-alive connections closed so that their client "
                             "reconnects to a worker holding fewer.", registry=r)
        self.model_info = Gauge("digitrec_model_info", "The model answering requests (value 1).",
                                ["name", "version", "sha256", "precision"], registry=r,
                                multiprocess_mode="livemax")
        self._digit_children = {label: self.predictions.labels(label) for label in
                                [*map(str, range(10)), "none"]}

    def model_loaded(self, info: dict, previous: dict | None = None) -> None:
        if previous is not None:
            self.model_info.labels(previous["name"], previous["version"], previous["sha256"] or "",
                                   previous["precision"]).set(0)
        self.model_info.labels(info["name"], info["version"], info["sha256"] or "", info["precision"]).set(1)

    def count_digits(self, digits) -> None:
        for digit in digits:
            child = self._digit_children.get("none" if digit is None else str(digit))
            if child is not None:
                child.inc()

    def render(self) -> bytes:
        if self.multiprocess:
            merged = CollectorRegistry()
            MultiProcessCollector(merged)
            return generate_latest(merged)
        return generate_latest(self.registry)
