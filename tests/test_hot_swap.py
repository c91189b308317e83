"""Hot deployment: a real `digitrec serve --model production --workers 2` under constant load while the alias
is promoted 20 times: no request fails, every response names a promoted version (with that version's own model
file), each promotion is taken up; a model that fails to load is refused, the last good one keeps serving."""

from __future__ import annotations

import threading
import time
from collections import Counter

import httpx
import numpy as np

from digitrec.registry import Registry
from registry_helpers import broken_copy, model_copy
from service_helpers import canvas_png, data_url, running_server

PROMOTIONS = 20


class LoadGenerator:
    """Clients posting a canvas drawing in a loop, recording every answer (or failure)."""

    def __init__(self, url: str, body: dict, clients: int = 4):
        self.url, self.body = f"{url}/api/v1/predict", body
        self.answers: list[tuple[str, str, int | None]] = []  # (version, sha256, digit)
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(clients)]

    def start(self) -> "LoadGenerator":
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def _run(self) -> None:
        with httpx.Client(timeout=30) as client:
            while not self._stop.is_set():
                try:
                    response = client.post(self.url, json=self.body)
                except httpx.HTTPError as exc:
                    self.failures.append(repr(exc))
                    continue
                if response.status_code != 200:
                    self.failures.append(f"{response.status_code} {response.text[:200]}")
                    continue
                answer = response.json()
                self.answers.append((answer["model"]["version"], answer["model"]["sha256"], answer["digit"]))

    def wait_for(self, version: str, timeout: float = 15) -> None:
        """Until the last 40 answers all come from ``version``: every worker has swapped."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.latest(40) == {version} and len(self.answers) >= 40:
                return
            time.sleep(0.05)
        raise AssertionError(f"not every worker answers with version {version} after {timeout} s")

    def latest(self, n: int) -> set[str]:
        return {v for v, _, _ in self.answers[-n:]}


def test_twenty_promotions_under_load_fail_no_request(tmp_path, monkeypatch, mnist_test):
    monkeypatch.setenv("DIGITREC_REGISTRY", str(tmp_path / "registry"))
    registry = Registry()
    names = [f"swap-{i:02d}" for i in range(PROMOTIONS + 1)]
    sha = {}
    for name in names:
        version, _ = registry.register(model_copy(tmp_path / name, name, distinct=True))
        sha[name] = version.metadata.files["model.onnx"]
    assert len(set(sha.values())) == len(names)
    registry.promote(names[0])
    seven = mnist_test.images[int(np.flatnonzero(mnist_test.labels == 7)[0])]
    log = tmp_path / "serve.log"
    with running_server("--model", "production", "--workers", "2", "--no-access-log", log=log) as (url, _):
        load = LoadGenerator(url, {"image": data_url(canvas_png(seven))}).start()
        try:
            load.wait_for(names[0])
            for name in names[1:]:
                registry.promote(name)
                load.wait_for(name)
            registry.register(broken_copy(tmp_path / "broken", "broken"))
            registry.promote("broken")
            time.sleep(2.0)  # four polls: the broken version is refused, the last good one answers
            assert load.latest(100) == {names[-1]}
            registry.rollback()  # production: broken → the last good version, which is still serving
            registry.promote(names[0])
            load.wait_for(names[0])
        finally:
            load.stop()
    served = Counter(v for v, _, _ in load.answers)
    print(f"{len(load.answers)} requests, {len(load.failures)} failed, {len(served)} versions answered")
    assert load.failures == []
    assert set(served) == set(names)  # every promotion was taken up, and nothing else ever answered
    assert all(sha[version] == digest for version, digest, _ in load.answers)  # that version's model file
    assert {digit for _, _, digit in load.answers} == {7}
    text = log.read_text()
    assert text.count("refused version broken") == 2  # once per worker, logged not retried
    assert text.count(f"now serving version {names[-1]}") == 2
