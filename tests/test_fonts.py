"""Digits drawn from handwriting fonts (`digitrec data fonts`) and extra training folders (`train --extra`).

The font here is matplotlib's bundled DejaVu Sans, so no Debian font package is needed: it is type, not a
hand, but its digits are unmistakable, which is what these tests need to see the labels come out right."""

from __future__ import annotations

import hashlib
import sys
from collections import Counter
from pathlib import Path

import matplotlib
import numpy as np
import pytest

from conftest import assert_clean_error, run_cli
from digitrec.data.folder import load_folder
from digitrec.errors import DataError
from digitrec.inference import Recognizer
from digitrec.modeldir import load_metadata
from digitrec.training.config import TrainConfig, make_config
from digitrec.training.fonts import TRAINING_FONTS, glyphs, varied, write_font_digits
from digitrec.training.trainer import train

DEJAVU = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
SERIF = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSerif.ttf"


def digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*.png"))}


def test_font_digits_are_a_folder_dataset_whose_labels_the_model_reads(tmp_path):
    written = write_font_digits(tmp_path, {"DejaVu Sans": DEJAVU, "DejaVu Serif": SERIF}, per_digit=5)
    assert written == 100
    data = load_folder(tmp_path, progress=False)  # the pipeline `predict` uses prepares every picture
    assert len(data) == 100 and Counter(data.labels.tolist()) == {d: 10 for d in range(10)}
    read = Recognizer().predict_arrays(data.images).argmax(1)
    assert (read == data.labels).mean() >= 0.9, Counter(zip(data.labels.tolist(), read.tolist()))


def test_the_same_seed_draws_the_same_pictures_and_a_font_added_changes_no_other(tmp_path):
    write_font_digits(tmp_path / "a", {"DejaVu Sans": DEJAVU}, per_digit=2, seed=3)
    write_font_digits(tmp_path / "b", {"DejaVu Sans": DEJAVU, "DejaVu Serif": SERIF}, per_digit=2, seed=3)
    write_font_digits(tmp_path / "c", {"DejaVu Sans": DEJAVU}, per_digit=2, seed=4)
    a, b, c = digests(tmp_path / "a"), digests(tmp_path / "b"), digests(tmp_path / "c")
    assert len(a) == 20 and len(b) == 40 and all(b[name] == digest for name, digest in a.items())
    assert a.keys() == c.keys() and a != c


def test_a_bolder_pen_draws_more_ink_and_a_finer_one_less():
    seven = glyphs(DEJAVU)[7]
    ink = {pen: varied(seven, np.random.default_rng(0), pen).sum() for pen in (0.6, 1.0, 2.0)}
    assert ink[0.6] < 0.85 * ink[1.0] and ink[2.0] > 1.3 * ink[1.0]


def test_a_file_that_is_not_a_font_is_a_data_error(tmp_path):
    fake = tmp_path / "hand.ttf"
    fake.write_bytes(b"not a font at all")
    with pytest.raises(DataError, match="not a font"):
        glyphs(fake)


def test_cli_draws_a_folder_and_says_what_is_wrong(tmp_path):
    out = tmp_path / "digits"
    done = run_cli("data", "fonts", str(out), "--font", str(DEJAVU), "--per-digit", "3", "--quiet", check=True)
    assert "wrote 30 pictures" in done.stdout_text and len(list(out.rglob("*.png"))) == 30
    assert_clean_error(run_cli("data", "fonts", str(tmp_path / "x"), "--font", str(tmp_path / "missing.ttf")),
                       "no such font file")
    fake = tmp_path / "fake.otf"
    fake.write_bytes(b"\0" * 64)
    failed = run_cli("data", "fonts", str(tmp_path / "y"), "--font", str(fake))
    assert_clean_error(failed, "not a font")
    assert not (tmp_path / "y").exists()  # every font is read before anything is written
    assert_clean_error(run_cli("data", "fonts", str(tmp_path / "z"), "--per-digit", "0"), "--per-digit")


def test_extra_folders_join_the_training_examples_only(tmp_path):
    write_font_digits(tmp_path / "fonts", {"DejaVu Sans": DEJAVU}, per_digit=3)
    plain = train(make_config(model="mlp", epochs=1, limit=600, val_split=0.1), tmp_path / "plain")
    more = train(make_config(model="mlp", epochs=1, limit=600, val_split=0.1, extra=[tmp_path / "fonts"]),
                 tmp_path / "more")
    before, after = load_metadata(plain.model_dir).config, load_metadata(more.model_dir).config
    assert after["train_examples"] == before["train_examples"] + 30
    assert after["val_examples"] == before["val_examples"] == 60
    assert after["extra"] == [str(tmp_path / "fonts")]
    assert TrainConfig.from_dict(after).extra == (str(tmp_path / "fonts"),)  # as a resumed run reads it


def test_an_extra_folder_of_other_labels_is_a_clear_error(tmp_path):
    for label in ("cat", "dog"):
        (tmp_path / "pets" / label).mkdir(parents=True)
    write_font_digits(tmp_path / "tmp", {"DejaVu Sans": DEJAVU}, per_digit=1)
    for label, src in zip(("cat", "dog"), ("1", "2")):
        for png in (tmp_path / "tmp" / src).glob("*.png"):
            png.rename(tmp_path / "pets" / label / png.name)
    failed = run_cli("train", "--model", "mlp", "--limit", "300", "--epochs", "1", "--extra",
                     str(tmp_path / "pets"), "--out", str(tmp_path / "m"), "--quiet")
    assert_clean_error(failed, "pets", "--extra adds examples of the same classes")
    assert_clean_error(run_cli("train", "--model", "mlp", "--extra", str(tmp_path / "nowhere"), "--quiet",
                               "--out", str(tmp_path / "n")), "not a folder")


def test_the_training_hands_are_not_the_benchmarks_hands():
    sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
    from handwriting_fonts import FONTS

    assert not set(FONTS.values()) & set(TRAINING_FONTS.values())
    assert not {Path(p).parent for p in FONTS.values()} & {Path(p).parent for p in TRAINING_FONTS.values()}


def test_the_training_fonts_packages_are_named_where_users_install_them():
    from digitrec.cli.data import fonts
    from digitrec.training.fonts import TRAINING_FONT_PACKAGES

    script = (Path(__file__).parents[1] / "scripts" / "system-deps.sh").read_text()
    help_text = " ".join(fonts.__doc__.split())
    for package in TRAINING_FONT_PACKAGES:
        assert package in script and package in help_text, package
