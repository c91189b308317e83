"""The recognition service's API: every endpoint, every error code, the limits, the feedback store, and a
real ``digitrec serve --workers 2`` whose worker processes write feedback concurrently."""

from __future__ import annotations

import base64
import io
import json
import logging
import shutil
import sqlite3
import struct
import warnings
import zlib
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest
from PIL import Image

from conftest import assert_clean_error, heic, run_cli
from digitrec.data.folder import load_folder
from digitrec.inference import Recognizer
from digitrec.service import Settings, create_app
from digitrec.service.logs import ACCESS_LOGGER, JsonLinesFormatter
from digitrec.service.store import FeedbackStore
from service_helpers import canvas_png, data_url, number_png, png_bytes, running_server

with warnings.catch_warnings():  # starlette deprecates its httpx-based TestClient; it is still the real thing
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

PREDICT, BATCH, FEEDBACK = "/api/v1/predict", "/api/v1/predict/batch", "/api/v1/feedback"


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    return Recognizer(threads=1)  # the bundled model: what `digitrec serve` answers with by default


@pytest.fixture(scope="module")
def client(recognizer, tmp_path_factory) -> TestClient:
    db = tmp_path_factory.mktemp("feedback") / "feedback.sqlite3"
    with TestClient(create_app(Settings(feedback_db=db), recognizer)) as c:
        yield c


def make_client(recognizer, tmp_path, **settings) -> TestClient:
    return TestClient(create_app(Settings(feedback_db=tmp_path / "fb.sqlite3", **settings), recognizer))


@pytest.fixture(scope="module")
def digits(mnist_test):
    """The first test example of each digit 0-9."""
    return {d: mnist_test.images[int(np.flatnonzero(mnist_test.labels == d)[0])] for d in range(10)}


def decode_data_url(url: str) -> Image.Image:
    assert url.startswith("data:image/png;base64,")
    return Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))


# ---------- predict ----------

def test_predict_canvas_data_url(client, digits, recognizer):
    for digit in (0, 3, 7):
        r = client.post(PREDICT, json={"image": data_url(canvas_png(digits[digit]))})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["digit"] == digit
        assert 0.5 < body["confidence"] <= 1 and len(body["probabilities"]) == 10
        # the rest of the probability, if any, is the model's "no digit" class
        assert body["confidence"] <= sum(body["probabilities"]) < 1 + 1e-3
        seen = decode_data_url(body["preprocessed"])
        assert seen.size == (28, 28) and seen.mode == "L"
        assert body["model"] == {k: recognizer.info[k] for k in ("name", "version", "sha256")}
        assert r.headers["x-request-id"]


def test_predict_plain_base64_and_multipart_give_the_same_answer(client, digits):
    png = canvas_png(digits[4])
    by_url = client.post(PREDICT, json={"image": data_url(png)}).json()
    by_base64 = client.post(PREDICT, json={"image": base64.b64encode(png).decode()}).json()
    by_upload = client.post(PREDICT, files={"file": ("four.png", png, "image/png")}).json()
    assert by_url == by_base64 == by_upload and by_url["digit"] == 4
    plain = base64.b64encode(png).decode()
    for pasted in ("\n".join(plain[i : i + 76] for i in range(0, len(plain), 76)),  # as `base64` wraps it
                   plain.rstrip("="), base64.urlsafe_b64encode(png).decode()):
        assert client.post(PREDICT, json={"image": pasted}).json() == by_url


def test_predict_photo_jpeg(client, digits):
    photo = Image.fromarray(255 - digits[2]).resize((600, 450)).convert("RGB")
    out = io.BytesIO()
    photo.save(out, format="JPEG", quality=85)
    r = client.post(PREDICT, files={"file": ("photo.jpg", out.getvalue(), "image/jpeg")})
    assert r.status_code == 200 and r.json()["digit"] == 2


def test_predict_iphone_heic_photo(client, digits):
    photo = np.asarray(Image.fromarray(255 - digits[3]).resize((600, 450)))
    r = client.post(PREDICT, files={"file": ("IMG_0001.HEIC", heic(photo), "image/heic")})
    assert r.status_code == 200 and r.json()["digit"] == 3


def test_image_endpoint_shows_what_a_browser_cannot(client):
    """HEIC in, JPEG out: turned upright as the photo's EXIF says, at most 1024 px."""
    photo = np.full((900, 1600, 3), 255, np.uint8)
    photo[:, :200] = 0  # a dark band on the left: at the top once turned
    r = client.post("/api/v1/image", files={"file": ("IMG_0002.HEIC", heic(photo, orientation=6), "image/heic")})
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    shown = np.asarray(Image.open(io.BytesIO(r.content)).convert("L"))
    assert shown.shape == (1024, 576) and shown[:50].mean() < 40 < 200 < shown[-50:].mean()
    png = png_bytes(np.full((50, 80), 128, np.uint8))
    assert client.post("/api/v1/image", json={"image": data_url(png)}).status_code == 200
    bad = client.post("/api/v1/image", files={"file": ("x.heic", b"\0\0\0\x18ftypheic" + b"\xff" * 64)})
    assert bad.status_code == 422 and "not a recognised image" in bad.json()["detail"]


def test_noise_read_as_a_number_is_a_422(client):
    noise = png_bytes(np.random.default_rng(0).integers(0, 256, (1024, 1024), dtype=np.uint8))
    r = client.post(PREDICT + "?multi=true", files={"file": ("noise.png", noise, "image/png")})
    assert r.status_code == 422 and "separate marks" in r.json()["detail"]


def test_blank_canvas_is_no_digit(client):
    blank = png_bytes(np.full((280, 280, 4), 255, np.uint8), "RGBA")
    body = client.post(PREDICT, json={"image": data_url(blank)}).json()
    assert body["digit"] is None and body["preprocessed"] is None and body["confidence"] == 0


def test_multi_reads_a_number_with_boxes(client, digits):
    png = number_png([digits[2], digits[0], digits[7]])
    r = client.post(PREDICT + "?multi=true", json={"image": data_url(png)})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["text"] == "207"
    xs = [d["box"][0] for d in body["digits"]]
    assert xs == sorted(xs) and all(len(d["box"]) == 4 and len(d["probabilities"]) == 10 for d in body["digits"])
    assert all(decode_data_url(d["preprocessed"]).size == (28, 28) for d in body["digits"])
    assert body["model"]["version"]


# ---------- batch ----------

def test_batch_of_images_is_answered_in_order_and_a_bad_one_is_reported(client, digits):
    images = [data_url(canvas_png(digits[d])) for d in (1, 5, 9)]
    images.insert(1, base64.b64encode(b"not an image").decode())
    r = client.post(BATCH, json={"images": images})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["count"] == 4
    assert [p["digit"] for p in body["predictions"]] == [1, None, 5, 9]
    assert "images[1]" in body["predictions"][1]["error"]
    single = client.post(PREDICT, json={"image": images[2]}).json()
    assert body["predictions"][2]["probabilities"] == pytest.approx(single["probabilities"], abs=1e-5)


def test_batch_raw_pixels_json_and_octet_stream(client, mnist_test, recognizer):
    images = mnist_test.images[:500]
    raw = images.tobytes()
    by_json = client.post(BATCH, json={"pixels": base64.b64encode(raw).decode()})
    by_bytes = client.post(BATCH, content=raw, headers={"content-type": "application/octet-stream"})
    assert by_json.status_code == by_bytes.status_code == 200
    assert by_json.json() == by_bytes.json()
    predictions = by_json.json()["predictions"]
    digits = np.array([p["digit"] for p in predictions])
    assert (digits == mnist_test.labels[:500]).mean() > 0.97
    expected = recognizer.predict_arrays(images)
    assert np.allclose([p["probabilities"] for p in predictions], expected, atol=1e-5)
    blank = client.post(BATCH, content=bytes(784), headers={"content-type": "application/octet-stream"}).json()
    assert blank["predictions"][0]["digit"] is None


def test_batch_errors(recognizer, tmp_path, client):
    small = make_client(recognizer, tmp_path, max_batch=3)
    r = small.post(BATCH, content=bytes(784 * 4), headers={"content-type": "application/octet-stream"})
    assert r.status_code == 413 and "limit of 3" in r.json()["detail"]
    r = small.post(BATCH, json={"images": ["AAAA"] * 4})
    assert r.status_code == 413
    r = client.post(BATCH, content=bytes(785), headers={"content-type": "application/octet-stream"})
    assert r.status_code == 422 and "28×28" in r.json()["detail"]
    assert client.post(BATCH, json={}).status_code == 422
    assert client.post(BATCH, json={"images": [], "pixels": ""}).status_code == 422
    assert client.post(BATCH, json={"pixels": "***"}).status_code == 400
    assert client.post(BATCH, content=b"x", headers={"content-type": "text/plain"}).status_code == 415


# ---------- errors and limits ----------

def bomb_png(width: int = 100_000, height: int = 100_000) -> bytes:
    """A PNG whose header claims width × height pixels: a decompression bomb by its size alone."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + chunk(b"IEND", b""))


@pytest.mark.parametrize("request_kwargs, status, fragment", [
    ({"content": b'{"image": "x"}'}, 415, "Content-Type"),
    ({"content": b"{nope", "headers": {"content-type": "application/json"}}, 400, "not valid JSON"),
    ({"json": {"image": "%%%"}}, 400, "not valid base64"),
    ({"json": {"image": "data:image/png,abc"}}, 400, "base64"),
    ({"json": {"image": base64.b64encode(b"GIF89a broken").decode()}}, 422, "image"),
    ({"json": {"image": ""}}, 422, "image"),
    ({"json": {"picture": "AAAA"}}, 422, "image"),
    ({"json": {"image": data_url(bomb_png())}}, 422, "MP"),
    ({"files": {"other": ("a.png", b"x", "image/png")}}, 422, "'file'"),
    ({"content": b"--x\r\nbroken", "headers": {"content-type": "multipart/form-data"}}, 400, "multipart"),
])
def test_bad_requests_get_json_errors_with_the_right_code(client, request_kwargs, status, fragment):
    r = client.post(PREDICT, **request_kwargs)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    detail = r.json()["detail"]
    assert isinstance(detail, str) and fragment in detail and "\n" not in detail


def test_body_limit_is_enforced_before_reading(recognizer, tmp_path):
    small = make_client(recognizer, tmp_path, max_body_bytes=4096)
    r = small.post(PREDICT, content=b"x" * 5000, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "4,096 byte limit" in r.json()["detail"]

    def chunks():  # no Content-Length: counted while it is read
        for _ in range(10):
            yield b"x" * 1000
    r = small.post(PREDICT, content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_pixel_limit_is_configurable(recognizer, tmp_path, digits):
    small = make_client(recognizer, tmp_path, max_pixels=200 * 200)
    r = small.post(PREDICT, json={"image": data_url(canvas_png(digits[1]))})
    assert r.status_code == 422 and "280×280" in r.json()["detail"]
    white = heic(np.full((300, 300), 255, np.uint8))
    r = small.post(PREDICT, files={"file": ("IMG_0003.HEIC", white, "image/heic")})
    assert r.status_code == 422 and "300×300" in r.json()["detail"]


def test_slow_requests_time_out_with_503(recognizer, tmp_path):
    hasty = make_client(recognizer, tmp_path, request_timeout=0.001)
    noise = np.random.default_rng(0).integers(0, 256, (2000, 2000), np.uint8)
    r = hasty.post(PREDICT, json={"image": data_url(png_bytes(noise))})
    assert r.status_code == 503 and "longer than" in r.json()["detail"]


def test_unknown_routes_and_methods_are_json(client):
    assert client.get("/api/v1/nothing").json() == {"detail": "Not Found"}
    r = client.get(PREDICT)
    assert r.status_code == 405 and "detail" in r.json()


# ---------- feedback ----------

def test_feedback_is_stored_and_exported_as_a_folder_dataset(recognizer, tmp_path, digits):
    db = tmp_path / "fb.sqlite3"
    c = TestClient(create_app(Settings(feedback_db=db), recognizer))
    png = canvas_png(digits[3])
    r = c.post(FEEDBACK, json={"image": data_url(png), "correct": 3, "predicted": 8, "confidence": 0.61})
    assert r.status_code == 201, r.text
    saved = r.json()
    assert saved["correct"] == 3 and saved["predicted"] == 8 and saved["model_version"] == recognizer.info["version"]
    photo = io.BytesIO()
    Image.fromarray(255 - digits[5]).convert("RGB").save(photo, format="JPEG")
    assert c.post(FEEDBACK, json={"image": data_url(photo.getvalue(), "jpeg"), "correct": 5}).status_code == 201
    for bad in ({"image": data_url(png), "correct": 10}, {"image": data_url(png)},
                {"image": data_url(png), "correct": 1, "confidence": 2}):
        assert c.post(FEEDBACK, json=bad).status_code == 422
    assert c.post(FEEDBACK, json={"image": "@@", "correct": 1}).status_code == 400
    assert c.post(FEEDBACK, json={"image": data_url(b"junk"), "correct": 1}).status_code == 422

    row = sqlite3.connect(db).execute("SELECT image_png, predicted, correct, confidence, model_version "
                                      "FROM feedback ORDER BY id").fetchall()
    assert row[0][0] == png and row[0][1:4] == (8, 3, 0.61) and row[0][4] == recognizer.info["version"]
    assert row[1][0].startswith(b"\x89PNG") and row[1][2] == 5  # the JPEG was stored as PNG
    store = FeedbackStore(db)
    assert store.export(tmp_path / "export") == {"3": 1, "5": 1}
    dataset = load_folder(tmp_path / "export", progress=False)
    assert sorted(dataset.labels.tolist()) == [3, 5] and dataset.images.shape[1:] == (28, 28)
    assert {"predicted": 8, "correct": 3, "count": 1} in store.stats()["top_confusions"]


def test_feedback_cli_lists_and_exports(tmp_path, recognizer, digits):
    db = tmp_path / "fb.sqlite3"
    store = FeedbackStore(db)
    for d in (1, 1, 7):
        store.add(canvas_png(digits[d]), d, predicted=7, confidence=0.5, model_version="v1")
    listed = run_cli("feedback", "list", "--db", str(db), "--json", check=True)
    assert [json.loads(line)["correct"] for line in listed.stdout_text.splitlines()] == [7, 1, 1]
    stats = json.loads(run_cli("feedback", "stats", "--db", str(db), "--json", check=True).stdout_text)
    assert stats["total"] == 3 and stats["model_was_right"] == 1 and stats["per_label"]["1"] == 2
    out = run_cli("feedback", "export", str(tmp_path / "ds"), "--db", str(db), check=True)
    assert "wrote 3 images" in out.stdout_text
    assert sorted(p.parent.name for p in (tmp_path / "ds").rglob("*.png")) == ["1", "1", "7"]
    assert_clean_error(run_cli("feedback", "stats", "--db", str(tmp_path / "none.sqlite3")), "no feedback store")
    (tmp_path / "taken").write_text("a file")
    assert_clean_error(run_cli("feedback", "export", str(tmp_path / "taken"), "--db", str(db)),
                       f"{tmp_path / 'taken'}: File exists")


# ---------- models, health, metrics, logs, settings ----------

def test_models_health_ready(client, recognizer):
    models = client.get("/api/v1/models").json()
    assert models["current"]["version"] == recognizer.info["version"]
    assert models["current"]["classes"] == [str(d) for d in range(10)] and models["models"] == [models["current"]]
    assert 0.9 < models["current"]["metrics"]["test_accuracy"] <= 1
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["model"]["version"] == recognizer.info["version"]


def test_metrics_count_requests_latency_digits_and_model(client, digits, recognizer):
    client.post(PREDICT, json={"image": data_url(canvas_png(digits[6]))})
    client.post(PREDICT, json={"image": "%%%"})
    text = client.get("/metrics").text
    assert 'digitrec_http_requests_total{method="POST",route="/api/v1/predict",status="200"}' in text
    assert 'digitrec_http_requests_total{method="POST",route="/api/v1/predict",status="400"}' in text
    assert 'digitrec_http_request_duration_seconds_bucket{le="0.05",method="POST",route="/api/v1/predict"}' in text
    assert 'digitrec_predictions_total{digit="6"}' in text
    assert f'version="{recognizer.info["version"]}"' in text and "digitrec_model_info" in text


def test_access_log_is_one_json_line_per_request(client, caplog):
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        client.get("/healthz", headers={"x-request-id": "abc123"})
    record = next(r for r in caplog.records if r.name == ACCESS_LOGGER)
    line = json.loads(JsonLinesFormatter().format(record))
    assert line["path"] == "/healthz" and line["status"] == 200 and line["request_id"] == "abc123"
    assert line["duration_ms"] >= 0 and line["method"] == "GET"


def test_settings_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("DIGITREC_MAX_BATCH", "77")
    monkeypatch.setenv("DIGITREC_FEEDBACK_DB", str(tmp_path / "x.db"))
    settings = Settings()
    assert settings.max_batch == 77 and settings.feedback_db == tmp_path / "x.db"
    assert Settings(max_batch=5).max_batch == 5  # an explicit value (a flag) wins


def test_the_page_and_its_assets_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and "<canvas" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for asset in ("app.js", "i18n.js", "style.css", "icon.svg"):
        assert client.get(f"/static/{asset}").status_code == 200
    assert "http" not in page.text.replace("http-equiv", "")  # nothing loaded from elsewhere


# ---------- a real server, several worker processes ----------

def test_two_workers_lose_no_concurrent_feedback(tmp_path, digits):
    db = tmp_path / "feedback.sqlite3"
    log = tmp_path / "serve.log"
    with running_server("--workers", "2", "--feedback-db", str(db), log=log) as (url, process):
        images = [data_url(canvas_png(digits[i % 10])) for i in range(10)]

        def send(i: int) -> int:
            with httpx.Client(base_url=url, timeout=30) as http:
                http.post(PREDICT, json={"image": images[i % 10]})
                return http.post(FEEDBACK, json={"image": images[i % 10], "correct": i % 10}).status_code

        with ThreadPoolExecutor(16) as pool:
            statuses = list(pool.map(send, range(80)))
        assert statuses == [201] * 80
        metrics = httpx.get(f"{url}/metrics").text
        lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    rows = sqlite3.connect(db).execute("SELECT correct, COUNT(*) FROM feedback GROUP BY correct").fetchall()
    assert dict(rows) == {d: 8 for d in range(10)}
    # Both workers answered, and /metrics (answered by one of them) counts the requests of both.
    assert len({line["pid"] for line in lines if line["logger"] == "digitrec.access"}) == 2
    total = sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
                if line.startswith('digitrec_http_requests_total{method="POST",route="/api/v1/feedback"'))
    assert total == 80
    assert process.returncode is not None
    output = log.read_text()
    assert f"http://127.0.0.1:{url.rsplit(':', 1)[1]}/" in output and "Traceback" not in output


def test_serve_refuses_a_bad_model_with_one_line(tmp_path):
    assert_clean_error(run_cli("serve", "--model", str(tmp_path / "missing")), "no such model directory")


def test_a_swapped_model_answers_and_is_named(recognizer, tmp_path, digits):
    """The holder swaps models atomically; each response names the version that answered it."""
    from digitrec.modeldir import BUNDLED

    copy = tmp_path / "model"
    shutil.copytree(BUNDLED, copy)
    meta = json.loads((copy / "metadata.json").read_text())
    meta["version"] = "swapped-1"
    (copy / "metadata.json").write_text(json.dumps(meta))
    app = create_app(Settings(feedback_db=tmp_path / "fb.sqlite3"), recognizer)
    c = TestClient(app)
    image = {"image": data_url(canvas_png(digits[8]))}
    assert c.post(PREDICT, json=image).json()["model"]["version"] == recognizer.info["version"]
    old = app.state.holder.swap(Recognizer(copy, threads=1))
    assert old is recognizer
    assert c.post(PREDICT, json=image).json()["model"]["version"] == "swapped-1"
    assert c.get("/api/v1/models").json()["current"]["version"] == "swapped-1"
    info = [line for line in c.get("/metrics").text.splitlines() if line.startswith("digitrec_model_info{")]
    assert any('version="swapped-1"' in line and line.endswith(" 1.0") for line in info)
    assert any(f'version="{recognizer.info["version"]}"' in line and line.endswith(" 0.0") for line in info)
