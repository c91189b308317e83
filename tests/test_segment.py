"""Reading numbers: digits found left to right, line by line; pieces merged, touching digits split,
specks and ruled lines ignored, boxes in the input's pixels."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from digitrec.errors import ImageError
from digitrec.inference import Recognizer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from real_world import dotted_number  # noqa: E402
from realistic import digit_string  # noqa: E402
from test_preprocess import bold_number, lit_from_one_side  # noqa: E402


@pytest.fixture(scope="module")
def recognizer():
    return Recognizer()


def png(grey: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(grey).save(buf, format="PNG")
    return buf.getvalue()


def paper_with(digits: list[np.ndarray], gap: int = 16, scale: int = 4, top: int = 40) -> np.ndarray:
    """MNIST digits written in a row on white paper, ``scale`` times their size."""
    size, margin = 28 * scale, 16
    width = 2 * margin + len(digits) * size + (len(digits) - 1) * gap
    canvas = np.zeros((size + 2 * top, width), np.uint8)
    for i, d in enumerate(digits):
        x = margin + i * (size + gap)
        region = canvas[top : top + size, x : x + size]
        canvas[top : top + size, x : x + size] = np.maximum(region, cv2.resize(d, (size, size),
                                                                               interpolation=cv2.INTER_CUBIC))
    return 255 - canvas


def pick(mnist_test, digit: int, k: int = 0) -> np.ndarray:
    return mnist_test.images[np.flatnonzero(mnist_test.labels == digit)[k]]


def test_reads_a_small_scan_with_boxes_in_its_own_pixels(recognizer, mnist_test):
    # MNIST's own 28 px digits, side by side: smaller than the stages need, so enlarged first
    digits = [pick(mnist_test, d, 1) for d in (3, 1, 4, 1, 5)]
    image = 255 - np.pad(np.concatenate(digits, axis=1), 6)
    reading = recognizer.read_number_bytes(png(image))
    assert reading.text == "31415"
    for i, d in enumerate(reading.digits):
        x, y, w, h = d.box
        assert 6 + 28 * i - 2 <= x and x + w <= 6 + 28 * (i + 1) + 2 and 0 <= y and y + h <= image.shape[0]


def test_reads_a_number_left_to_right_with_boxes(recognizer, mnist_test):
    image = paper_with([pick(mnist_test, d) for d in (2, 0, 2, 6)])
    reading = recognizer.read_number_bytes(png(image))
    assert reading.text == "2026"
    xs = [d.box[0] for d in reading.digits]
    assert xs == sorted(xs) and all(d.line == 0 for d in reading.digits)
    for d, expected_x in zip(reading.digits, (16, 16 + 128, 16 + 256, 16 + 384)):
        x, y, w, h = d.box
        assert expected_x - 4 <= x and x + w <= expected_x + 112 + 4 and 40 - 4 <= y
    as_json = reading.to_json()
    assert as_json["text"] == "2026" and set(as_json["digits"][0]) >= {"digit", "confidence", "box"}


def test_boxes_are_in_the_original_pixels_of_a_large_image(recognizer, mnist_test):
    small = paper_with([pick(mnist_test, 3), pick(mnist_test, 7)])
    big = cv2.resize(small, (small.shape[1] * 6, small.shape[0] * 6), interpolation=cv2.INTER_LINEAR)
    assert max(big.shape) > 1024  # decoded at reduced size internally
    reading = recognizer.read_number_bytes(png(big))
    assert reading.text == "37"
    ys, xs = np.nonzero(small[:, small.shape[1] // 2 :] < 128)  # the 7's ink in the small image
    x, y, w, h = reading.digits[1].box
    assert abs(x - 6 * (xs.min() + small.shape[1] // 2)) < 12 and abs(y - 6 * ys.min()) < 12
    assert abs(h - 6 * (ys.max() - ys.min() + 1)) < 18


def test_two_lines(recognizer, mnist_test):
    line1 = paper_with([pick(mnist_test, 1), pick(mnist_test, 4)])
    line2 = paper_with([pick(mnist_test, 8), pick(mnist_test, 5)])
    reading = recognizer.read_number_bytes(png(np.vstack([line1, line2])))
    assert reading.text == "14\n85"
    assert [d.line for d in reading.digits] == [0, 0, 1, 1]


def test_specks_and_a_ruled_line_are_ignored(recognizer, mnist_test):
    image = paper_with([pick(mnist_test, 4), pick(mnist_test, 9)])
    h, w = image.shape
    cv2.line(image, (0, h - 20), (w - 1, h - 20), 0, 2)  # the line the digits were written above
    for x, y in ((10, 8), (w - 12, 12), (w // 2, h - 6)):
        cv2.circle(image, (x, y), 2, 0, -1)
    assert recognizer.read_number_bytes(png(image)).text == "49"


def test_a_short_number_written_rising_on_squared_paper_is_not_turned(recognizer, mnist_test):
    """Three digits each set higher than the last tilt their line by over 9°, as a number photographed
    askew does. Turned back, the printed grid stood askew instead, was no longer found, and the number
    read as twelve lines of zeros: a turn that lays out more lines than there were is not taken."""
    size, gap, step = 112, 16, 34
    ink = np.zeros((400, 3 * size + 2 * gap + 80), np.uint8)
    for i, digit in enumerate((0, 6, 8)):
        x, y = 40 + i * (size + gap), 160 - int(i * 0.2 * size)
        ink[y : y + size, x : x + size] = cv2.resize(pick(mnist_test, digit), (size, size))
    paper = np.full(ink.shape, 235, np.uint8)
    for k in (0, 1):  # dark squares, 2 px lines
        paper[k::step] = paper[:, k::step] = 90
    assert recognizer.read_number_bytes(png(np.minimum(paper, 255 - ink))).text == "068"


def test_a_colon_is_not_a_digit(recognizer, mnist_test):
    # a time, 12:30, and two specks stacked beside the 1: dots over each other are read as a confident "1"
    image = paper_with([pick(mnist_test, d) for d in (1, 2, 3, 0)], gap=40)
    for x in (16 + 112 + 20, 16 + 2 * 152 - 20):
        for y in (40 + 35, 40 + 80):
            cv2.circle(image, (x, y), 10, 0, -1)
    assert recognizer.read_number_bytes(png(image)).text == "1230"


def test_a_decimal_point_on_a_line_of_its_own_is_not_a_digit(recognizer, mnist_test):
    # -3.5 with the point written low: it fell on a line of its own, measured against itself, and read "0"
    image = paper_with([pick(mnist_test, 3), pick(mnist_test, 5)], gap=50)
    image = np.pad(image, ((0, 0), (90, 0)), constant_values=255)
    cv2.line(image, (40, 96), (85, 96), 0, 8)
    cv2.circle(image, (243, 140), 7, 0, -1)
    assert recognizer.read_number_bytes(png(image)).text == "35"  # digits only: the sign and the point go


@pytest.mark.parametrize("k", [4, 9, 10, 15])
def test_a_dash_between_digits_is_not_a_digit(recognizer, mnist_test, k):
    # 12-34, as in a date or a phone number: the dash joined the 2 and was read as one more digit
    image = paper_with([pick(mnist_test, d, k) for d in (1, 2, 3, 4)], gap=60)
    x = 16 + 2 * 112 + 60 + 10
    cv2.line(image, (x, 40 + 56), (x + 40, 40 + 56), 0, 8)
    assert recognizer.read_number_bytes(png(image)).text == "1234"


def test_pieces_of_one_digit_are_merged(recognizer):
    canvas = np.full((200, 420), 255, np.uint8)
    # a 5 drawn in two strokes: the flag does not touch the body
    cv2.line(canvas, (70, 40), (120, 40), 0, 9)
    cv2.polylines(canvas, [np.array([[68, 52], [62, 95], [100, 92], [115, 120], [105, 150], [60, 155]])],
                  False, 0, 9)
    # a 7 whose bar is drawn apart from its stem
    cv2.line(canvas, (250, 40), (320, 40), 0, 9)
    cv2.line(canvas, (322, 52), (275, 160), 0, 9)
    reading = recognizer.read_number_bytes(png(canvas))
    assert len(reading.digits) == 2, reading.text
    assert reading.text == "57"


@pytest.mark.parametrize("where", [0, 1], ids=["first", "middle"])
def test_a_digit_broken_across_is_one_digit(recognizer, mnist_test, where):
    """A 3 whose middle stroke did not come out (a pale pen, a fold): its top and bottom parts lie one over
    the other. They are one digit on the line, first in the number or within it."""
    digits = [pick(mnist_test, d) for d in (3, 5, 8)]
    digits[0], digits[where] = digits[where], digits[0]
    image = paper_with(digits)
    x = 16 + where * (112 + 16)
    image[40 + 50 : 40 + 62, x : x + 112] = 255  # a blank band through the 3's middle
    reading = recognizer.read_number_bytes(png(image))
    assert reading.text == ("358" if where == 0 else "538"), reading.text


@pytest.mark.parametrize("number_reader", [True, False], ids=["reader", "splitter"])
def test_touching_digits_are_split(mnist_test, number_reader):
    """By the number reader (the default), and by the recognition-guided splitter without it."""
    digits = [pick(mnist_test, d, 3) for d in (4, 7, 3)]
    image = paper_with(digits, gap=-30)  # each digit overlaps the next
    reading = Recognizer(number_reader=number_reader).read_number_bytes(png(image))
    assert reading.text == "473"
    assert len(reading.digits) == 3 and all(len(d.probabilities) == 10 for d in reading.digits)
    lefts = [d.box[0] for d in reading.digits]
    assert lefts == sorted(lefts) and reading.digits[1].box[0] < reading.digits[0].box[0] + reading.digits[0].box[2] + 40


def test_a_wide_digit_the_reader_reads_as_two_stays_one(recognizer, mnist_test):
    """A round 6 (MNIST test image 965) that the number reader's best path reads as "06": its reading as
    one 6 keeps fair odds under the reader and the digit model is sure of it, so it is not cut in two."""
    image = paper_with([pick(mnist_test, 3), mnist_test.images[965], pick(mnist_test, 7)])
    assert mnist_test.labels[965] == 6
    reading = recognizer.read_number_bytes(png(image))
    assert reading.text == "367" and len(reading.digits) == 3


def test_the_number_reader_can_be_switched_off():
    assert Recognizer().number_reader is not None
    assert Recognizer(number_reader=False).number_reader is None


def test_realistic_strings(recognizer, mnist_test):
    rng = np.random.default_rng(7)
    hits = 0
    for _ in range(20):
        idx = rng.integers(0, len(mnist_test), int(rng.integers(2, 7)))
        data = digit_string([mnist_test.images[i] for i in idx], rng, touching=False, photo=bool(rng.random() < 0.5))
        hits += Recognizer.read_number_bytes(recognizer, data).text == "".join(str(mnist_test.labels[i]) for i in idx)
    assert hits >= 17


def test_a_number_photographed_in_falling_light_is_not_blank(recognizer, mnist_test):
    """A small photo whose border is paper in full light on one side and in shade on the other: the shaded
    part is not the digits' ink running off the edge, so the paper is not taken as one level (it was, and
    the shade then drowned the digits: nothing was read)."""
    rng = np.random.default_rng(40)
    idx = [int(rng.integers(len(mnist_test.labels))) for _ in range(int(rng.integers(2, 5)))]
    data = digit_string([mnist_test.images[i] for i in idx], rng, touching=False, photo=True)
    assert recognizer.read_number_bytes(data).text == "".join(str(mnist_test.labels[i]) for i in idx)


def test_a_number_in_bold_marker_photographed_close_is_read(recognizer, mnist_test):
    """Marker strokes 9-17 px wide with 6-14 px of paper around them, dark ink or chalk: the paper map
    keeps to the paper (before, strokes were hollowed out or the ink taken for paper: 3 of these 36 right)."""
    for dark in (True, False):
        for number in ("4805", "1629", "2026"):
            for pen in (9, 13, 17):
                for margin in (6, 14):
                    photo, _ = bold_number(mnist_test, number, pen, margin, dark)
                    assert recognizer.read_number_bytes(png(photo)).text == number, (dark, pen, margin)


def test_small_numbers_in_a_large_image_are_read_from_their_region_enlarged(recognizer, mnist_test):
    """Numbers written small on a page: 14 px high, placed anywhere in 300×500 px of paper. Read where
    they are, their thin strokes break up (78 % of such numbers right); read from their region, enlarged,
    96 %. Boxes come back in the page's pixels."""
    rng = np.random.default_rng(3)
    hits = 0
    for _ in range(20):
        idx = rng.integers(0, len(mnist_test), int(rng.integers(3, 7)))
        row = np.concatenate([mnist_test.images[i][:, 3:25] for i in idx], axis=1)
        row = cv2.resize(row, (row.shape[1] // 2, 14), interpolation=cv2.INTER_AREA)
        page = np.zeros((300, 500), np.uint8)
        x, y = int(rng.integers(0, 500 - row.shape[1])), int(rng.integers(0, 300 - 14))
        page[y : y + 14, x : x + row.shape[1]] = row
        reading = recognizer.read_number_bytes(png(255 - page))
        hits += reading.text == "".join(str(mnist_test.labels[i]) for i in idx)
        for bx, by, bw, bh in (d.box for d in reading.digits):
            assert x - 2 <= bx and bx + bw <= x + row.shape[1] + 2 and y - 2 <= by and by + bh <= y + 16
    assert hits >= 18


def test_a_number_written_in_a_form_s_boxes(recognizer, mnist_test):
    """A row of printed cells, one digit in each, and the same number in one long field: the boxes are
    not digits (nor a 0 or a 1 around each)."""
    digits = [pick(mnist_test, d, 2) for d in (2, 0, 2, 6)]
    cells = paper_with(digits, gap=24, scale=2, top=30)
    field = cells.copy()
    for i in range(4):
        cv2.rectangle(cells, (6 + i * 80, 20), (6 + (i + 1) * 80, 106), 0, 2)
    cv2.rectangle(field, (4, 16), (field.shape[1] - 5, 110), 0, 2)
    for image in (cells, field):
        reading = recognizer.read_number_bytes(png(image))
        assert reading.text == "2026" and all(d.box[3] < 70 for d in reading.digits)


def test_a_number_on_a_sheet_lying_on_a_desk(recognizer, mnist_test):
    """A photo of a note on a dark desk: the sheet is not a digit; boxes come back in the photo's pixels."""
    sheet = paper_with([pick(mnist_test, d, 3) for d in (1, 9, 8, 4)], scale=2)
    h, w = sheet.shape
    photo = (np.full((h + 120, w + 120), 70.0) + np.random.default_rng(1).normal(0, 8, (h + 120, w + 120)))
    photo[60 : 60 + h, 60 : 60 + w] = sheet * (235 / 255)
    reading = recognizer.read_number_bytes(png(photo.clip(0, 255).astype(np.uint8)))
    assert reading.text == "1984"
    assert all(60 <= x and x + bw <= 60 + w and 60 <= y and y + bh <= 60 + h for x, y, bw, bh in
               (d.box for d in reading.digits))


def test_a_number_written_askew_is_one_line(recognizer, mnist_test):
    """Written uphill or downhill by 10°: the last digit sits a whole digit higher (or lower) than the
    first, and is still on the same line."""
    row = paper_with([pick(mnist_test, d, 4) for d in (5, 7, 3, 2, 9, 1)], scale=2)
    for angle in (10, -10):
        h, w = row.shape
        turn = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        turn[1, 2] += 80
        reading = recognizer.read_number_bytes(png(cv2.warpAffine(row, turn, (w, h + 160), borderValue=255)))
        assert reading.text == "573291"


def test_a_number_photographed_turned_by_20_degrees_is_turned_back(recognizer, mnist_test):
    """Turned 20° (a page photographed at an angle), every digit is tilted as much: the number is turned
    back before its digits are read, and their boxes still lie on them in the photo's pixels."""
    row = paper_with([pick(mnist_test, d, 4) for d in (5, 7, 3, 2, 9, 1)], scale=2)
    h, w = row.shape
    for angle in (20, -20):
        turn = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        turn[1, 2] += 150
        photo = cv2.warpAffine(row, turn, (w, h + 300), borderValue=255)
        reading = recognizer.read_number_bytes(png(photo))
        assert reading.text == "573291"
        for d in reading.digits:
            x, y, bw, bh = d.box
            assert 0 <= x and x + bw <= w and 0 <= y and y + bh <= h + 300
            assert (photo[y : y + bh, x : x + bw] < 128).mean() > 0.05  # the box holds that digit's ink


def test_a_number_written_on_a_ruled_line(recognizer, mnist_test):
    """Digits sitting on a notebook's rule (or a form's underline) are one blob with it; the rule goes."""
    page = paper_with([pick(mnist_test, d, 5) for d in (4, 0, 7, 1, 3)], scale=2)
    page[40 + 50 : 40 + 53] = 60  # through the bottoms of the digits, across the whole page
    page[10:12] = 60
    assert recognizer.read_number_bytes(png(page)).text == "40713"


def test_a_number_drawn_as_separate_dots(recognizer, mnist_test, monkeypatch):
    """A page that stamps a dot at each pointer event draws a number as dots 12–16 px apart: each dot read
    as a digit, it was nonsense over several lines; joined along the pen's path, it reads."""
    rng = np.random.default_rng(0)
    numbers = []
    for _ in range(10):
        picks = rng.integers(0, len(mnist_test.images), 4)
        numbers.append((png(dotted_number([mnist_test.images[i] for i in picks], rng, (12, 16))),
                        "".join(str(mnist_test.labels[i]) for i in picks)))
    assert sum(recognizer.read_number_bytes(data).text == text for data, text in numbers) >= 8
    monkeypatch.setattr("digitrec.preprocess.stages.DOTTED_MARKS", 10**6)
    assert sum(recognizer.read_number_bytes(data).text == text for data, text in numbers) <= 2


def marker_sevens(count: int, pen: int, margin: int) -> np.ndarray:
    """``count`` sevens in marker whose bars join into one straight stroke, photographed close."""
    bar = 60
    h, w = 110 + 2 * margin, 2 * margin + count * bar + pen
    ink = np.zeros((h, w), np.uint8)
    top = margin + pen // 2
    for i in range(count):
        x = margin + pen // 2 + i * bar
        cv2.polylines(ink, [np.array([[x, top], [x + bar - 4, top], [x + 18, h - top]], np.int32)], False, 255,
                      pen, cv2.LINE_AA)
    return lit_from_one_side(ink.astype(np.float32) / 255)


@pytest.mark.parametrize("count, pen", [(2, 6), (2, 10), (2, 14), (3, 10), (3, 14)])
def test_the_joined_bars_of_bold_sevens_are_not_a_ruled_line(recognizer, count, pen):
    """Their bars make a straight run of ink over half the image wide, as a rule does, but a thick one:
    erased as a rule, the sevens read "11" and "111"."""
    for margin in (4, 12):
        assert recognizer.read_number_bytes(png(marker_sevens(count, pen, margin))).text == "7" * count


@settings(max_examples=40, deadline=None)
@given(arrays(np.uint8, st.tuples(st.integers(1, 160), st.integers(1, 320)), elements=st.integers(0, 255)),
       st.booleans())
def test_any_array_reads_as_a_number_with_boxes_inside_it(recognizer, image, blocky):
    """Noise, blocks, stripes — whatever the pixels, reading gives digits whose boxes lie in the image."""
    if blocky:  # large flat areas and straight edges: sheets, frames and rules for the stages to find
        image = cv2.resize(image[:8, :8], (image.shape[1], image.shape[0]), interpolation=cv2.INTER_NEAREST)
    try:
        reading = recognizer.read_number_bytes(png(image))
    except ImageError as error:  # noise with more marks than a number holds: refused, never a crash
        assert "separate marks" in str(error)
        return
    h, w = image.shape
    for x, y, bw, bh in (d.box for d in reading.digits):
        assert 0 <= x and 0 <= y and x + bw <= w + 1 and y + bh <= h + 1


def test_boxes_carried_back_from_a_turned_layout_stay_in_the_image(recognizer):
    """Found by the property test above: faint specks that lay out as a steep line are turned back, and a
    box's corners carried back from the turned canvas fell above the picture (y = -3)."""
    image = np.zeros((102, 129), np.uint8)
    for (y, x), value in zip([(0, 27), (0, 28), (0, 29), (0, 115), (1, 112), (1, 114), (2, 113), (3, 115),
                              (3, 117)], [168, 48, 105, 25, 36, 32, 29, 29, 63]):
        image[y, x] = value
    boxes = [d.box for d in recognizer.read_number_bytes(png(image)).digits]
    assert boxes and all(0 <= x and 0 <= y and x + w <= 129 and y + h <= 102 for x, y, w, h in boxes)


def test_blank_and_bad_input(recognizer):
    assert recognizer.read_number_bytes(png(np.full((100, 300), 255, np.uint8))).text == ""
    assert recognizer.read_number_files([Path("/nonexistent.png")]).__next__().error


@pytest.mark.parametrize("kind", ["uniform noise", "salt", "dots"])
def test_noise_is_refused_as_a_number_at_once(recognizer, kind):
    """Tens of thousands of marks are no number: one clear error, not minutes of reading them."""
    rng = np.random.default_rng(0)
    if kind == "uniform noise":
        image = rng.integers(0, 256, (1024, 1024), dtype=np.uint8)
    else:
        image = np.full((1024, 1024), 255, np.uint8)
        if kind == "salt":
            image[rng.random(image.shape) < 0.02] = 0
        else:
            for y in range(4, 1024, 10):
                image[y : y + 3, 4::10] = 0
                image[y : y + 3, 5::10] = 0
                image[y : y + 3, 6::10] = 0
    with pytest.raises(ImageError, match=r"noise\.png: \d+ separate marks, more than the 2000"):
        recognizer.read_number_bytes(png(image), "noise.png")


def test_a_page_of_printed_text_is_read_without_error(recognizer):
    """Not digits, but not a crash either: every line is read (letters as their nearest digits, or '?'),
    one reading per line of text, boxes inside the page."""
    page = np.full((600, 900), 255, np.uint8)
    for i in range(20):
        cv2.putText(page, "The quick brown fox jumps over 1234567890 lazy dogs", (10, 25 + i * 28),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.7, 0, 2)
    reading = recognizer.read_number_bytes(png(page))
    assert len(reading.text.splitlines()) >= 20 and len(reading.digits) > 200
    assert all(0 <= x and x + w <= 900 and 0 <= y and y + h <= 600 for x, y, w, h in (d.box for d in reading.digits))
