"""The drawing page end to end: a real ``digitrec serve`` and a real headless Chromium (Debian's
``/usr/bin/chromium`` driven by Playwright): draw with the mouse, read the answer and the 28×28 preview,
switch language, send a correction and find it in the store, upload a photo, read a number."""

from __future__ import annotations

import io
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter
from playwright.sync_api import Page, expect, sync_playwright

from conftest import heic
from service_helpers import running_server

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOT = ROOT / "docs" / "images" / "drawing-page.png"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SEVEN = [(80, 62), (205, 62), (192, 100), (152, 165), (118, 232)]
ONE = [(140, 50), (140, 235)]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    db = tmp_path_factory.mktemp("web") / "feedback.sqlite3"
    with running_server("--feedback-db", str(db)) as (url, _):
        yield url, db


@pytest.fixture(scope="module")
def browser():
    """Chromium with a fresh temporary profile (Playwright's own --user-data-dir), closed at the end."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: apt-get install chromium (scripts/system-deps.sh installs it)")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server) -> Page:
    context = browser.new_context(locale="en-US", viewport={"width": 1200, "height": 860})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(server[0] + "/")
    yield page
    context.close()
    assert errors == []  # no script errors, no CSP violations, nothing fetched from elsewhere


def draw(page: Page, strokes: list[list[tuple[int, int]]], canvas_size: tuple[int, int] = (280, 280)) -> None:
    """Draw strokes given in canvas pixels, with real mouse moves."""
    box = page.locator("#canvas").bounding_box()
    sx, sy = box["width"] / canvas_size[0], box["height"] / canvas_size[1]
    for stroke in strokes:
        x, y = stroke[0]
        page.mouse.move(box["x"] + x * sx, box["y"] + y * sy)
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(box["x"] + x * sx, box["y"] + y * sy, steps=10)
        page.mouse.up()


def test_draw_a_digit_and_see_the_answer_and_what_the_model_saw(page):
    expect(page.locator("#verdict")).to_have_text("Waiting for a drawing…")
    draw(page, [SEVEN])
    expect(page.locator("#digit")).to_have_text("7")
    expect(page.locator("#verdict")).to_have_text("It is a 7")
    preview = page.locator("#seen img")
    expect(preview).to_have_count(1)
    assert preview.get_attribute("src").startswith("data:image/png;base64,")
    assert page.evaluate("document.querySelector('#seen img').naturalWidth") == 28
    assert page.locator("#chart li.best .label").text_content() == "7"
    assert "%" in page.locator("#confidence").text_content()
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    page.keyboard.press("Control+z")
    expect(page.locator("#verdict")).to_have_text("Waiting for a drawing…")


def test_language_can_be_switched_and_is_remembered(page):
    page.select_option("#lang", "ja")
    expect(page.locator("h1")).to_have_text("手書き数字の認識")
    assert page.evaluate("document.documentElement.lang") == "ja"
    draw(page, [ONE])
    expect(page.locator("#verdict")).to_have_text("「1」です")
    page.reload()  # the choice is remembered
    expect(page.locator("h1")).to_have_text("手書き数字の認識")
    page.select_option("#lang", "ko")
    expect(page.locator("h1")).to_have_text("손글씨 숫자 인식")


def test_korean_browser_gets_korean(browser, server):
    context = browser.new_context(locale="ko-KR")
    try:
        page = context.new_page()
        page.goto(server[0] + "/")
        expect(page.locator("h1")).to_have_text("손글씨 숫자 인식")
        expect(page.locator("#verdict")).to_have_text("숫자를 써 주세요…")
    finally:
        context.close()


def test_a_correction_lands_in_the_store(page, server):
    draw(page, [SEVEN])
    expect(page.locator("#digit")).to_have_text("7")
    page.locator('#feedback-keys button[data-digit="4"]').click()
    expect(page.locator("#feedback-status")).to_contain_text("saved as correction #")
    rows = sqlite3.connect(server[1]).execute("SELECT predicted, correct, image_png FROM feedback").fetchall()
    assert [(p, c) for p, c, _ in rows] == [(7, 4)]
    image = Image.open(io.BytesIO(rows[0][2]))
    assert image.format == "PNG" and image.size == (280, 280)


def test_upload_a_photo(page, tmp_path, mnist_test):
    index = int(np.flatnonzero(mnist_test.labels == 3)[0])
    ink = np.asarray(Image.fromarray(mnist_test.images[index]).resize((300, 300), Image.Resampling.BICUBIC),
                     np.float32) / 255
    yy, xx = np.mgrid[0:480, 0:640]
    paper = 150 + 60 * (xx / 640) + 20 * (yy / 480)  # uneven light across the sheet
    paper[90:390, 170:470] *= 1 - 0.8 * ink
    photo = Image.fromarray(np.clip(paper, 0, 255).astype(np.uint8)).convert("RGB").filter(ImageFilter.GaussianBlur(1))
    path = tmp_path / "photo.jpg"
    photo.save(path, quality=85)
    page.set_input_files("#upload", str(path))
    expect(page.locator("#status")).to_contain_text("photo.jpg")
    expect(page.locator("#digit")).to_have_text("3")


def test_upload_an_iphone_photo_this_browser_cannot_show(page, tmp_path, mnist_test):
    """Chromium cannot decode HEIC: the page has the service decode it, shows it and reads it."""
    index = int(np.flatnonzero(mnist_test.labels == 4)[0])
    photo = Image.fromarray(255 - mnist_test.images[index]).resize((400, 400), Image.Resampling.BICUBIC)
    path = tmp_path / "IMG_0004.HEIC"
    path.write_bytes(heic(np.asarray(photo)))
    with page.expect_response(lambda r: r.url.endswith("/api/v1/image") and r.status == 200):
        page.set_input_files("#upload", str(path))
    expect(page.locator("#digit")).to_have_text("4")
    dark = page.evaluate("""() => {  // the photo is on the canvas: its ink shows
        const c = document.getElementById("canvas");
        const rgba = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < rgba.length; i += 4) n += rgba[i] < 100;
        return n;
    }""")
    assert dark > 500


def test_read_a_number_with_boxes(page):
    page.get_by_role("radio", name="Number").check()
    expect(page.locator("#stage")).to_have_attribute("data-mode", "number")
    one = [(x + 150, y) for x, y in ONE]
    seven = [(x + 330, y) for x, y in SEVEN]
    draw(page, [one, seven], canvas_size=(840, 280))
    expect(page.locator("#digit")).to_have_text("17")
    expect(page.locator("#seen button")).to_have_count(2)
    # Boxes are drawn on the overlay, never on the canvas that is sent.
    assert page.evaluate("""() => { const c = document.querySelector('#overlay');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        return d.some((v, i) => i % 4 === 3 && v > 0); }""")
    page.locator("#seen button").nth(1).click()
    expect(page.locator("#feedback-label")).to_contain_text("Digit 2")
