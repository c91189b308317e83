"""Preprocessing stages: each one on its own, the pipeline on MNIST-like input, and property tests
(hypothesis) that no array whatever makes a stage produce an invalid shape, dtype or range."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from digitrec.preprocess import PreprocessConfig, prepare_digit, stages

grey_images = arrays(np.uint8, st.tuples(st.integers(1, 64), st.integers(1, 64)), elements=st.integers(0, 255))
FAST = settings(max_examples=60, deadline=None)


def drawn_seven(size=280, width=14, dark_ink=True, offset=(0, 0)) -> np.ndarray:
    canvas = np.zeros((size, size), np.uint8)
    s = size / 280
    pts = np.array([[90, 70], [190, 70], [120, 220]]) * s + np.array(offset)
    cv2.polylines(canvas, [pts.astype(np.int32)], False, 255, max(1, int(width * s)), cv2.LINE_AA)
    return 255 - canvas if dark_ink else canvas


def shaded(image: np.ndarray, dark_ink: bool = True) -> np.ndarray:
    """A photo of a dark-ink ``image``: paper lit unevenly (a strong gradient and a shadow), ink at 60 %
    strength; or, with ``dark_ink=False``, chalk on an unevenly lit board."""
    ink = (255 - image).astype(np.float32) / 255  # 1 where the ink is
    yy, xx = np.mgrid[0:280, 0:280].astype(np.float32)
    paper = 235 - 0.4 * xx - 60 * np.exp(-((xx - 60) ** 2 + (yy - 220) ** 2) / (2 * 50**2))
    if dark_ink:
        return np.clip(paper * (1 - 0.6 * ink), 0, 255).astype(np.uint8)
    return np.clip(40 + 0.1 * xx + 150 * ink, 0, 255).astype(np.uint8)


def test_polarity_is_detected_both_ways_even_under_uneven_light():
    for image, dark in ((drawn_seven(dark_ink=True), True), (drawn_seven(dark_ink=False), False),
                        (shaded(drawn_seven()), True), (shaded(drawn_seven(), dark_ink=False), False)):
        assert image.std() > 20
        assert stages.ink_is_dark(image, stages.paper(image)) == dark
    dark = drawn_seven()
    assert np.array_equal(stages.orient(dark, True), 255 - dark)


def test_flatten_light_removes_shadows_and_gradients():
    ink = 255 - drawn_seven()  # 255 where the ink is
    photo = shaded(drawn_seven())
    assert isinstance(stages.paper(photo), np.ndarray)  # uneven paper: a background map, not one level
    flat = stages.flatten_light(photo, stages.paper(photo), True)
    assert flat[ink == 0].mean() < 8 and flat[ink == 255].mean() > 60
    mask = stages.ink_mask(flat)
    assert (mask[ink == 255] > 0).mean() > 0.9 and (mask[ink == 0] > 0).mean() < 0.01
    assert stages.paper(drawn_seven()) == 255  # a clean canvas: one paper level


def bold_number(mnist_test, number: str, pen: int, margin: int, dark_ink: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """``number`` in MNIST digits 84 px high written with a marker ``pen`` px wide, photographed close
    (``margin`` px of paper around it) under light falling from one side; and where its ink is."""
    size, gap = 84, 4
    ink = np.zeros((size + 2 * margin, 2 * margin + len(number) * (size + gap)), np.uint8)
    for i, digit in enumerate(number):
        image = mnist_test.images[np.flatnonzero(mnist_test.labels == int(digit))[0]]
        x = margin + i * (size + gap)
        ink[margin : margin + size, x : x + size] = cv2.resize(image, (size, size), interpolation=cv2.INTER_CUBIC)
    ink = cv2.dilate(ink, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (pen, pen))).astype(np.float32) / 255
    return lit_from_one_side(ink, dark_ink), ink > 0.5


def lit_from_one_side(ink: np.ndarray, dark_ink: bool = True) -> np.ndarray:
    """A photo of ``ink`` (float, 1 where it is) under light falling from one side: dark ink at 75 %
    strength on paper, or chalk on a board."""
    h, w = ink.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if dark_ink:
        photo = (215 - 50 * xx / w - 20 * yy / h) * (1 - 0.75 * ink)
    else:
        photo = 30 + 40 * xx / w + 150 * ink
    return np.clip(photo, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("pen", [9, 13, 17])
@pytest.mark.parametrize("margin", [6, 14])
@pytest.mark.parametrize("number", ["3297", "4805"])
def test_bold_ink_filling_the_paper_map_s_windows_is_still_ink(mnist_test, number, margin, pen):
    """A number in marker photographed close fills most of the paper map's median windows, which then
    hold ink, not paper: its strokes were hollowed out, and judged against that map a bold dark ink read
    as light (pen 13, margin 6: no ink found at all)."""
    for dark in (True, False):
        photo, ink = bold_number(mnist_test, number, pen, margin, dark)
        background = stages.paper(photo)
        assert isinstance(background, np.ndarray)  # uneven light: a map
        assert stages.ink_is_dark(photo, background) == dark
        mask = stages.ink_mask(stages.flatten_light(photo, background, dark))
        assert (mask[ink] > 0).mean() > 0.97 and (mask[~ink] > 0).mean() < 0.03


def test_crop_fit_centre_follow_mnist_conventions():
    out = prepare_digit(drawn_seven(offset=(-60, 40))).image  # drawn off-centre, near a corner
    assert out.shape == (28, 28) and out.dtype == np.float32
    ys, xs = np.nonzero(out > 0.1)
    assert max(ys.max() - ys.min(), xs.max() - xs.min()) in range(18, 23)  # the digit fills ~20 px
    m = cv2.moments(out)
    assert abs(m["m10"] / m["m00"] - 14) < 0.6 and abs(m["m01"] / m["m00"] - 14) < 0.6


def test_thin_and_thick_pens_come_out_alike():
    thin = prepare_digit(drawn_seven(width=3)).image
    thick = prepare_digit(drawn_seven(width=40)).image
    ink_thin, ink_thick = (thin > 0.3).sum(), (thick > 0.3).sum()
    assert 0.6 < ink_thin / ink_thick < 1.6


def test_specks_are_ignored():
    image = drawn_seven()
    image[5:8, 5:8] = 0  # a dot of dirt in the corner
    image[270:273, 270:273] = 0
    clean = prepare_digit(drawn_seven()).image
    dirty = prepare_digit(image).image
    assert np.abs(clean - dirty).max() < 0.05


def test_deskew_straightens_a_slanted_stroke():
    canvas = np.zeros((100, 100), np.uint8)
    cv2.line(canvas, (35, 90), (65, 10), 255, 6)
    upright = stages.deskew(canvas)
    m = cv2.moments(upright)
    assert abs(m["mu11"] / m["mu02"]) < 0.05


def test_trace_names_every_stage():
    prepared = prepare_digit(drawn_seven(), PreprocessConfig(deskew=True), trace=True)
    names = [name for name, _ in prepared.trace]
    assert names == ["grey", "polarity", "light", "binarize", "crop", "stroke", "deskew", "fit", "centre"]


def test_small_images_are_enlarged_before_the_stages():
    small = cv2.resize(drawn_seven(), (20, 16), interpolation=cv2.INTER_AREA)
    enlarged, factor = stages.enlarge(small)
    assert enlarged.shape == (stages.MIN_HEIGHT, 80) and factor == stages.MIN_HEIGHT / 16
    big = drawn_seven()
    assert stages.enlarge(big) == (big, 1.0)
    strip, factor = stages.enlarge(np.zeros((8, 1000), np.uint8))  # the longer side stays bounded
    assert strip.shape[1] == stages.MAX_ENLARGED_SIDE and factor == stages.MAX_ENLARGED_SIDE / 1000
    names = [name for name, _ in prepare_digit(small, trace=True).trace]
    assert names[:2] == ["grey", "enlarge"]


def test_a_small_digit_in_a_large_image_is_prepared_from_its_region_enlarged():
    page = np.full((240, 320), 255, np.uint8)
    page[100:120, 200:220] = 255 - cv2.resize(drawn_seven(dark_ink=False), (20, 20), interpolation=cv2.INTER_AREA)
    prepared = prepare_digit(page, trace=True)
    (first, grey), (second, region) = prepared.trace[:2]
    assert (first, second) == ("grey", "enlarge") and grey.shape == page.shape
    assert stages.SMALL_INK_SIZE * 1.5 < region.shape[0] < stages.SMALL_INK_SIZE * 2.5  # the digit and a margin
    assert prepared.image is not None and prepared.image.shape == (28, 28) and prepared.image.max() > 0.9
    assert stages.small_ink_region(page, (0, 0, 60, 60)) is None  # digits as large as this are read in place


def test_faint_ink_is_kept_only_where_it_joins_strong_ink():
    ink = np.zeros((40, 60), np.uint8)
    ink[18:22, 5:25] = 220   # a strong stroke,
    ink[18:22, 25:35] = 90   # a pale stretch of it,
    ink[18:22, 35:55] = 220  # and strong again
    ink[5:8, 45:48] = 90     # a pale speck on its own
    plain = stages.ink_mask(ink)
    assert cv2.connectedComponents(plain)[0] - 1 == 2 and not plain[19, 30]
    grown = stages.ink_mask(ink, faint=True)
    assert cv2.connectedComponents(grown)[0] - 1 == 1 and grown[19, 30] and not grown[6, 46]


def on_a_desk(image: np.ndarray, angle: float = 8.0) -> np.ndarray:
    """A photo of ``image`` (a 280 px sheet) lying a little askew on a dark, grainy desk."""
    desk = (np.full((400, 400), 70.0) + np.random.default_rng(0).normal(0, 8, (400, 400))).clip(0, 255)
    desk[60:340, 60:340] = image * (235 / 255)
    turn = cv2.getRotationMatrix2D((200, 200), angle, 1.0)
    return cv2.warpAffine(desk.astype(np.uint8), turn, (400, 400), borderValue=70)


def test_a_sheet_on_a_desk_is_read_on_the_sheet_and_nothing_else_is_a_sheet():
    seven, photo = drawn_seven(), on_a_desk(drawn_seven())
    found, corner = stages.sheet(photo)
    assert found is not photo and 40 < corner[0] < 80 and 40 < corner[1] < 80
    assert 280 <= found.shape[0] <= 330 and found.min() < 60 and np.median(found) > 200
    askew = cv2.warpAffine(seven, cv2.getRotationMatrix2D((140, 140), 8.0, 1.0), (280, 280), borderValue=255)
    assert np.abs(prepare_digit(photo).image - prepare_digit(askew).image).mean() < 0.03
    names = [name for name, _ in prepare_digit(photo, trace=True).trace]
    assert names[:2] == ["grey", "sheet"]
    for image in (seven, shaded(seven), shaded(seven, dark_ink=False), drawn_seven(dark_ink=False)):
        assert stages.sheet(image)[0] is image  # canvases, shadowed paper, a board: no sheet


def test_a_hairline_on_a_large_canvas_gets_mnist_s_stroke_width():
    """A 2 px pen on a 1000 px tablet canvas fades when the digit is reduced; it must come out as thick as
    a normal stroke does."""
    canvas = np.full((1000, 1000), 255, np.uint8)
    cv2.polylines(canvas, [np.array([[320, 250], [680, 250], [430, 790]], np.int32)], False, 0, 2, cv2.LINE_AA)
    normal, hairline = prepare_digit(drawn_seven()).image, prepare_digit(canvas).image
    assert (hairline > 0.5).sum() >= 0.85 * (normal > 0.5).sum()


def beaded_seven() -> np.ndarray:
    """A hairline 7 as an anti-aliased pen leaves it: pale between beads of full ink about two pixels
    apart, and dark where the pen went over its own stroke at the corner."""
    canvas = np.zeros((280, 280), np.uint8)
    corner, top_left, foot = np.array([190, 70]), np.array([90, 70]), np.array([120, 220])
    for start, end in ((top_left, corner), (corner, foot)):
        cv2.line(canvas, tuple(start), tuple(end), 60, 1, cv2.LINE_AA)
        steps = int(np.hypot(*(end - start)) // 2)
        for t in np.linspace(0, 1, steps):
            x, y = np.round(start + t * (end - start)).astype(int)
            canvas[y, x] = 255
    cv2.line(canvas, (170, 70), (190, 70), 255, 3)
    cv2.line(canvas, (190, 70), (180, 92), 255, 3)
    return 255 - canvas


def test_a_beaded_hairline_is_a_stroke_not_specks():
    """Thresholded, a pale hairline is a row of dashes, each far smaller than the dark corner; judged one
    by one they were dropped as specks and the 7 came out as its corner alone."""
    dashes = np.zeros((280, 280), np.uint8)
    dashes[60:80, 180:200] = 255  # the digit's largest blob
    for x in range(20, 178, 4):
        dashes[69:71, x : x + 2] = 255  # 2 px dashes, 2 px apart, running into it
    alone = dashes.copy()
    alone[200:202, 40:42] = 255  # a speck on its own
    assert (stages.denoise(dashes) == dashes).all()
    kept = stages.denoise(alone)
    assert (kept == dashes).all() and not kept[200:202, 40:42].any()

    binarized = dict(prepare_digit(beaded_seven(), trace=True).trace)["binarize"]
    assert binarized[66:75, 90:110].any() and binarized[200:222, 118:130].any()  # the bar's end, the foot


def test_a_one_pixel_pen_is_ink_not_a_blank_canvas():
    """A canvas's default lineWidth is 1: a 3×3 median (which keeps lone noise pixels out of the contrast
    test) wipes such a line out, and the drawing was taken for a blank canvas."""
    canvas, bold = np.full((280, 280), 255, np.uint8), np.full((280, 280), 255, np.uint8)
    cv2.line(canvas, (150, 50), (125, 230), 0, 1, cv2.LINE_8)  # a "1"
    cv2.line(bold, (150, 50), (125, 230), 0, 14, cv2.LINE_AA)
    thin = prepare_digit(canvas).image
    assert thin is not None and (thin > 0.5).sum() >= 0.7 * (prepare_digit(bold).image > 0.5).sum()
    speckled = np.full((280, 280), 255, np.uint8)
    speckled[tuple(np.random.default_rng(0).integers(0, 280, (2, 40)))] = 0  # lone dark pixels: no digit
    assert prepare_digit(speckled).image is None


def test_a_shadow_on_a_blank_page_is_not_a_digit():
    """A hand's shadow on a photographed blank page is darker than the paper, but rises over dozens of
    pixels where a pen stroke rises over one or two: no digit. The same page with a digit: the digit."""
    yy, xx = np.mgrid[0:300, 0:300].astype(np.float32)
    page = 225 - 0.1 * xx - 70 * np.exp(-((xx - 190) ** 2 + (yy - 120) ** 2) / (2 * 25.0**2))
    page = np.clip(page + np.random.default_rng(0).normal(0, 2, page.shape), 0, 255).astype(np.uint8)
    assert prepare_digit(page).image is None
    written = page.copy()
    cv2.polylines(written, [np.array([[100, 80], [200, 80], [130, 230]], np.int32)], False, 40, 10, cv2.LINE_AA)
    assert prepare_digit(written).image is not None


@pytest.mark.parametrize("side", [100, 280, 1024])
def test_noise_is_not_a_digit(side):
    """Uniform noise and salt-and-pepper leave hundreds of separate marks once specks are dropped (a
    digit leaves one to four): no digit, rather than a guess. A seven drawn over light salt still reads."""
    rng = np.random.default_rng(side)
    assert prepare_digit(rng.integers(0, 256, (side, side), dtype=np.uint8)).image is None
    salt = np.where(rng.random((side, side)) < 0.05, 0, 255).astype(np.uint8)
    assert prepare_digit(salt).image is None
    seven = drawn_seven()
    seven[np.random.default_rng(0).random(seven.shape) < 0.002] = 0
    assert prepare_digit(seven).image is not None


def dots_along(points, apart: float, radius: int, size: int = 280) -> np.ndarray:
    """Dark dots ``apart`` px apart along a polyline on a white canvas: a drawing page that stamps the pen
    at each pointer event and never joins them."""
    points = np.asarray(points, np.float64)
    travelled = np.r_[0, np.cumsum(np.hypot(*np.diff(points, axis=0).T))]
    canvas = np.full((size, size), 255, np.uint8)
    for at in np.r_[np.arange(0, travelled[-1], apart), travelled[-1]]:
        x, y = (np.interp(at, travelled, points[:, k]) for k in (0, 1))
        cv2.circle(canvas, (round(x), round(y)), radius, 0, -1)
    return canvas


def test_a_stroke_of_separate_dots_is_joined_along_its_path(monkeypatch):
    """A fast pointer leaves dots 18 px apart: they are linked into one stroke the way they were drawn —
    a seven reads like a seven drawn with a line, and an open C is not closed across its opening."""
    seven = dots_along([(90, 70), (190, 70), (120, 220)], apart=18, radius=4)
    mask = stages.ink_mask(stages.orient(seven, True))
    ink, joined = stages.join_dots(stages.orient(seven, True), *stages.drop_frame(mask))
    assert cv2.connectedComponents(mask)[0] - 1 >= 10
    assert cv2.connectedComponents(joined)[0] - 1 == 1
    assert ink[70, 100] > 0 and mask[70, 100] == 0  # between two dots of the bar
    assert "dots" in [name for name, _ in prepare_digit(seven, trace=True).trace]  # --explain shows it
    solid = prepare_digit(drawn_seven(width=8)).image
    error = np.abs(prepare_digit(seven).image - solid).mean()
    with monkeypatch.context() as unjoined:
        unjoined.setattr(stages, "DOTTED_MARKS", 10**6)
        assert error < 0.9 * np.abs(prepare_digit(seven).image - solid).mean()
    arc = [(140 + 80 * np.cos(t), 140 + 80 * np.sin(t)) for t in np.linspace(0.9, 2 * np.pi - 0.9, 40)]
    c = dots_along(arc, apart=16, radius=4)
    ink = stages.orient(c, True)
    _, joined = stages.join_dots(ink, *stages.drop_frame(stages.ink_mask(ink)))
    outlines, hierarchy = cv2.findContours(joined, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    loops = [o for o, link in zip(outlines, hierarchy[0]) if link[3] >= 0 and cv2.contourArea(o) > 64]
    assert cv2.connectedComponents(joined)[0] - 1 == 1 and not loops  # one stroke, not closed


def test_pen_sized_noise_is_not_joined_into_a_digit():
    """Blobs of a pen's size scattered over the whole canvas would join into a mesh: left as they are,
    and refused as noise. Larger pieces (a digit's strokes) are not dots, a halftone has too many, and the
    dots of notebook paper form a grid: nothing is joined."""
    rng = np.random.default_rng(1)
    noise = np.full((280, 280), 255, np.uint8)
    for x, y in rng.integers(5, 275, (300, 2)):
        cv2.circle(noise, (int(x), int(y)), 3, 0, -1)
    ink = stages.orient(noise, True)
    mask = stages.ink_mask(ink)
    assert stages.join_dots(ink, *stages.drop_frame(mask))[1] is mask
    assert prepare_digit(noise).image is None
    seven = stages.orient(drawn_seven(), True)
    assert stages.join_dots(seven, *stages.drop_frame(stages.ink_mask(seven)))[0] is seven
    halftone = np.full((280, 280), 255, np.uint8)
    for x, y in np.mgrid[4:280:7, 4:280:7].reshape(2, -1).T:
        cv2.circle(halftone, (int(x), int(y)), 2, 0, -1)
    ink = stages.orient(halftone, True)
    mask = stages.ink_mask(ink)
    assert stages.join_dots(ink, *stages.drop_frame(mask))[1] is mask  # 1 600 dots: a texture, not a path
    dotted_page = np.full((280, 280), 255, np.uint8)
    for x, y in np.mgrid[10:280:20, 10:280:20].reshape(2, -1).T:
        cv2.circle(dotted_page, (int(x), int(y)), 2, 0, -1)
    written = np.minimum(dotted_page, drawn_seven())
    ink = stages.orient(written, True)
    mask = stages.ink_mask(ink)
    assert stages.join_dots(ink, *stages.drop_frame(mask))[1] is mask  # dotted notebook paper stays dots


def test_paper_read_as_ink_is_not_a_printed_box():
    """Read with the wrong polarity (a hypothesis the Recognizer tries when it is unsure), a canvas's paper
    is one rectangular blob with the digit's loops for holes. Taken for a printed box, it was dropped, and
    what was left — the loops — read as a confident 1. Now it stays: most of the image, known as such."""
    eight = np.full((280, 280), 255, np.uint8)
    cv2.circle(eight, (140, 95), 45, 0, 14)
    cv2.circle(eight, (140, 190), 55, 0, 14)
    assert prepare_digit(eight, PreprocessConfig(paper="dark")).ink_fraction > 0.6  # was 0.14


def test_a_printed_box_around_the_digit_is_removed_but_a_square_zero_stays():
    seven = drawn_seven()
    boxed = seven.copy()
    cv2.rectangle(boxed, (16, 16), (264, 264), 0, 3)
    plain, framed = prepare_digit(seven).image, prepare_digit(boxed).image
    assert np.abs(plain - framed).mean() < 0.01
    ring = np.zeros((280, 280), np.uint8)
    cv2.rectangle(ring, (80, 40), (200, 240), 255, 14)
    dotted = ring.copy()
    cv2.circle(dotted, (140, 140), 9, 255, -1)  # a dot in the zero: not a digit in a box
    assert (stages.denoise(dotted) >= ring).all()


@FAST
@given(grey_images)
def test_every_stage_keeps_uint8_images_valid(image):
    background = stages.paper(image)
    dark = stages.ink_is_dark(image, background)
    outputs = [stages.orient(image, dark), stages.flatten_light(image, background, dark), stages.deskew(image),
               stages.fit(image), stages.normalize_intensity(image), stages.enlarge(image)[0]]
    for out in outputs:
        assert out.dtype == np.uint8 and out.ndim == 2 and out.size > 0
    centred = stages.centre(stages.fit(image))
    assert centred.shape == (28, 28) and centred.dtype == np.uint8


@FAST
@given(st.lists(st.tuples(st.integers(0, 99), st.integers(0, 79)), min_size=0, max_size=60), st.integers(1, 6),
       st.booleans())
def test_joining_dots_only_adds_ink(centres, radius, number):
    """Whatever dots there are — a chain, a cluster, noise, overlapping, at the edge — joining them only
    adds ink of the pen's strength, never removes any, and keeps shape and type."""
    ink = np.zeros((80, 100), np.uint8)
    for centre in centres:
        cv2.circle(ink, centre, radius, 200, -1)
    mask = cv2.threshold(ink, 100, 255, cv2.THRESH_BINARY)[1]
    joined_ink, joined = stages.join_dots(ink, *stages.drop_frame(mask), number=number)
    assert joined.shape == mask.shape and joined.dtype == np.uint8 and set(np.unique(joined)) <= {0, 255}
    assert joined_ink.dtype == np.uint8 and (joined >= mask).all() and (joined_ink >= ink).all()
    assert joined_ink.max() <= 200


@FAST
@given(grey_images)
def test_masks_and_crops_are_consistent(image):
    mask = stages.ink_mask(image)
    if mask is None:
        return
    assert mask.shape == image.shape and set(np.unique(mask)) <= {0, 255}
    grown = stages.ink_mask(image, faint=True)
    assert grown.shape == image.shape and set(np.unique(grown)) <= {0, 255} and (grown >= mask).all()
    kept = stages.denoise(mask)
    if kept is None:
        return
    ink, cropped_mask = stages.crop(image, kept)
    assert ink.shape == cropped_mask.shape and ink.size > 0
    normalized = stages.normalize_stroke(ink, cropped_mask)
    assert normalized.dtype == np.uint8 and normalized.ndim == 2


@FAST
@given(grey_images)
def test_pipeline_output_is_a_valid_model_input_or_none(image):
    out = prepare_digit(image).image
    if out is not None:
        assert out.shape == (28, 28) and out.dtype == np.float32
        assert np.isfinite(out).all() and out.min() >= 0.0 and out.max() <= 1.0


def test_otsu_splits_two_modes_between_them():
    hist = np.zeros(256, np.float32)
    hist[30:50], hist[200:220] = 100, 40  # paper around 40, ink around 210
    assert 49 <= stages.otsu(hist) < 200


@pytest.mark.parametrize("hist", [np.zeros(256, np.float32), np.eye(1, 256, 77, dtype=np.float32).ravel(),
                                  np.ones(1, np.float32)])
def test_otsu_of_a_degenerate_histogram_is_a_level_not_a_crash(hist):
    assert 0 <= stages.otsu(hist) < hist.size
