"""Seeing how models learn: galleries, 2-D maps, learning curves, the HTML report, the contest, sweeps,
and the notebook API. Plots are checked through their figure objects (tiles, points, colours), files
through what they contain."""

from __future__ import annotations

import base64
import csv
import importlib.util
import io
import json
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from unittest.mock import patch

import numpy as np
import optuna
import pytest
from matplotlib.colors import to_hex
from PIL import Image

from conftest import assert_clean_error, run_cli, write_idx_dataset
from digitrec import api
from digitrec.data import load_dataset
from digitrec.data.catalog import CATALOG
from digitrec.errors import UsageError
from digitrec.export.run import export_model_dir
from digitrec.inference import Recognizer
from digitrec.modeldir import load_metadata
from digitrec.models.zoo import build, builder_options
from digitrec.reports import gallery
from digitrec.reports.embed import embed
from digitrec.reports.evaluation import evaluate
from digitrec.reports.measure import count_parameters
from digitrec.reports.model_report import build_report, render
from digitrec.reports.plots import RIGHT, WRONG
from digitrec.reports.search_space import parse_space
from digitrec.reports.sweep import ERROR, PruningReporter, counted

SECTIONS = ("model-card", "learning-curves", "confusion-matrix", "per-class-accuracy", "predictions",
            "misclassified", "confident-mistakes", "float-vs-int8", "training-configuration")
FIGURE_SECTIONS = ("learning-curves", "confusion-matrix", "per-class-accuracy", "predictions", "misclassified",
                   "confident-mistakes")


@pytest.fixture(scope="module")
def int8_model(tmp_path_factory) -> Path:
    """The lesson's MLP, quickly trained on MNIST (right about 85 % of the time: mistakes to show), with
    its int8 file."""
    model = api.train("mlp", epochs=2, limit=2000, out=tmp_path_factory.mktemp("int8") / "mlp", verbose=False)
    export_model_dir(model.model_dir, int8=True, progress=False)
    return model.model_dir


@pytest.fixture(scope="module")
def kmnist_dir(tmp_path_factory) -> Path:
    """A synthetic KMNIST (KMNIST itself is not available offline): class names are what matters here."""
    root = tmp_path_factory.mktemp("data")
    write_idx_dataset(root / "kmnist", n_train=300, n_test=100)
    return root


@pytest.fixture(scope="module")
def kmnist_model(kmnist_dir, tmp_path_factory) -> Path:
    return api.train("mlp", "kmnist", epochs=2, data_dir=kmnist_dir, out=tmp_path_factory.mktemp("k") / "given",
                     verbose=False).model_dir


def cli(capsys, *args: str) -> SimpleNamespace:
    """``digitrec ARGS`` in this process (no interpreter start, no re-import of torch): for the many error
    cases; the files each command writes are checked through real subprocesses below."""
    from digitrec.cli import main

    with patch.object(sys, "argv", ["digitrec", *args]):
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code
    captured = capsys.readouterr()
    return SimpleNamespace(returncode=code, stdout_text=captured.out, stderr_text=captured.err)


def png_pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("L"), dtype=np.float64)


def assert_not_blank(data: bytes) -> None:
    pixels = png_pixels(data)
    assert pixels.shape[0] > 50 and pixels.shape[1] > 50 and pixels.std() > 10


def tiles(fig) -> list:
    """The axes of an image grid that show an image."""
    return [ax for ax in fig.axes if ax.images]


def caption_colors(fig) -> list[str]:
    return [to_hex(ax.xaxis.label.get_color()) for ax in tiles(fig)]


# --- galleries and 2-D maps -------------------------------------------------------------------------------


def test_dataset_gallery_has_one_captioned_tile_per_image(mnist_test):
    fig = gallery.dataset_gallery(mnist_test, grid=(8, 3))
    shown = tiles(fig)
    assert len(shown) == 24
    assert [ax.get_xlabel() for ax in shown] == [str(v) for v in mnist_test.labels[:24]]
    for ax, expected in zip(shown, mnist_test.images[:24]):
        np.testing.assert_array_equal(ax.images[0].get_array(), expected)  # the first images, in order
    fives = gallery.dataset_gallery(mnist_test, label="5", grid=(5, 2), random=True, seed=3)
    assert [ax.get_xlabel() for ax in tiles(fives)] == ["5"] * 10
    other = gallery.dataset_gallery(mnist_test, label=5, grid=(5, 2), random=True, seed=4)
    assert any(not np.array_equal(a.images[0].get_array(), b.images[0].get_array())
               for a, b in zip(tiles(fives), tiles(other)))


def test_gallery_filters_by_class_name_with_the_dataset_s_names(kmnist_dir):
    fashion = load_dataset("fashion-mnist", "test", progress=False)
    sneakers = gallery.dataset_gallery(fashion, label="sneaker", grid=(6, 2))
    assert [ax.get_xlabel() for ax in tiles(sneakers)] == ["Sneaker"] * 12
    kmnist = load_dataset("kmnist", "train", data_dir=kmnist_dir, progress=False)
    names = {ax.get_xlabel() for ax in tiles(gallery.dataset_gallery(kmnist, grid=(10, 3)))}
    assert names <= set(CATALOG["kmnist"].classes) and len(names) > 3
    with pytest.raises(UsageError, match="Sneaker"):
        gallery.class_index(fashion.classes, "sandals")


def test_parse_grid():
    assert gallery.parse_grid("16x8") == (16, 8) and gallery.parse_grid(" 4 × 2 ") == (4, 2)
    for bad in ("16", "0x3", "ax3", "200x1"):
        with pytest.raises(UsageError, match="--grid"):
            gallery.parse_grid(bad)


def test_embedding_scatter_has_n_points_coloured_by_label(mnist_test):
    pca = embed(mnist_test, "pca", n=400, seed=1)
    assert pca.points.shape == (400, 2) and "explained variance" in pca.note
    ax = pca.plot().axes[0]
    sizes = {c.get_label(): len(c.get_offsets()) for c in ax.collections}
    assert sum(sizes.values()) == 400
    assert sizes == {str(k): int((pca.labels == k).sum()) for k in np.unique(pca.labels)}
    colours = {to_hex(c.get_facecolor()[0], keep_alpha=False) for c in ax.collections}
    assert len(colours) == len(ax.collections)  # one colour per class
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [str(k) for k in np.unique(pca.labels)]
    tsne = embed(mnist_test, "tsne", n=150, seed=1)
    assert tsne.points.shape == (150, 2) and np.isfinite(tsne.points).all()


def test_data_show_and_embed_commands_write_png_and_svg(tmp_path, kmnist_dir):
    png = tmp_path / "fives.png"
    run_cli("data", "show", "mnist", "--label", "5", "--grid", "6x2", "--random", "--out", str(png), check=True)
    assert_not_blank(png.read_bytes())
    svg = tmp_path / "kmnist.svg"
    run_cli("data", "show", "kmnist", "--data-dir", str(kmnist_dir), "--label", "ki", "--grid", "4x2",
            "--out", str(svg), check=True)
    assert svg.read_text().lstrip().startswith("<?xml") and "<svg" in svg.read_text()
    embedded = tmp_path / "pca.png"
    result = run_cli("data", "embed", "fashion-mnist", "--n", "300", "--out", str(embedded), check=True)
    assert "explained variance" in result.stdout_text
    assert_not_blank(embedded.read_bytes())


def test_plot_commands_refuse_bad_input_in_one_line(tmp_path, capsys):
    assert_clean_error(cli(capsys, "data", "show", "mnist", "--grid", "16"), "--grid")
    assert cli(capsys, "data", "show", "mnist", "--label", "12").returncode == 2
    assert_clean_error(cli(capsys, "data", "show", "mnist", "--out", str(tmp_path / "x.jpg")), "PNG or SVG")
    assert_clean_error(cli(capsys, "data", "embed", "mnits"), "did you mean 'mnist'")
    assert_clean_error(cli(capsys, "data", "embed", "mnist", "--method", "lda"), "pca, tsne, umap")
    assert_clean_error(cli(capsys, "data", "show", "kmnist", "--data-dir", str(tmp_path)), "kmnist", "searched")
    umap = cli(capsys, "data", "embed", "mnist", "--method", "umap", "--n", "200", "--out",
               str(tmp_path / "u.png"))
    if importlib.util.find_spec("umap") is None:
        assert_clean_error(umap, "pip install umap-learn")
    else:
        assert umap.returncode == 0 and (tmp_path / "u.png").is_file()


# --- learning curves, evaluations, the report -------------------------------------------------------------


def test_history_plots_training_beside_validation(kmnist_model):
    history = api.History(load_metadata(kmnist_model).history)
    assert len(history) == 2 and history.epochs == [1, 2]
    assert set(history.history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    loss_ax, accuracy_ax = history.plot().axes
    for ax, metric in ((loss_ax, "loss"), (accuracy_ax, "accuracy")):
        lines = {line.get_label(): list(line.get_ydata()) for line in ax.get_lines()}
        assert lines == {"training": history[metric], "validation": history[f"val_{metric}"]}


def test_evaluation_galleries_show_mistakes_in_red(int8_model):
    ev = evaluate(int8_model, limit=1500)
    wrong = ev.mistakes
    assert ev.scores.n == 1500 and 12 < len(wrong) < 1500 * 0.4
    mistakes = ev.plot_mistakes(n=12, cols=6)
    assert len(tiles(mistakes)) == min(12, len(wrong))
    assert set(caption_colors(mistakes)) == {to_hex(WRONG)}
    predictions = ev.plot_predictions(n=200, seed=2)
    chosen = gallery.pick(ev.data.labels, 200, random=True, seed=2)
    expected = [WRONG if ev.predicted[i] != ev.data.labels[i] else RIGHT for i in chosen]
    assert caption_colors(predictions) == [to_hex(c) for c in expected]
    confident = gallery.most_confident_mistakes(ev.probabilities, ev.data.labels, 5)
    confidence = ev.probabilities[confident].max(1)
    assert list(confidence) == sorted(confidence, reverse=True)
    assert confidence[0] == ev.probabilities[wrong].max(1).max()
    confusion_ax = ev.plot_confusion().axes[0]
    cells = [t.get_text() for t in confusion_ax.texts]
    assert sum(map(int, cells)) == 1500


class ReportParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sections: dict[str, dict] = {}
        self.current: str | None = None
        self.external: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.current = attrs["id"]
            self.sections[self.current] = {"images": [], "text": ""}
        if tag == "img":
            self.sections[self.current]["images"].append(attrs["src"])
        for key in ("src", "href"):
            fetched = tag in ("link", "script") and key in attrs
            if fetched or attrs.get(key, "").startswith(("http", "//", "file:")):
                self.external.append(attrs[key])

    def handle_endtag(self, tag):
        if tag == "section":
            self.current = None

    def handle_data(self, data):
        if self.current:
            self.sections[self.current]["text"] += data


def test_report_command_writes_a_self_contained_html_report(int8_model, tmp_path):
    out = tmp_path / "report.html"
    result = run_cli("report", str(int8_model), "--out", str(out), "--limit", "2000", "--figures",
                     str(tmp_path / "figures"), check=True)
    assert str(out) in result.stdout_text and "test accuracy" in result.stdout_text
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == sorted(f"{s}.png" for s in FIGURE_SECTIONS)
    parser = ReportParser()
    parser.feed(out.read_text(encoding="utf-8"))
    assert tuple(parser.sections) == SECTIONS
    assert not parser.external  # opens offline: nothing to fetch
    for name in FIGURE_SECTIONS:
        images = parser.sections[name]["images"]
        assert images and all(src.startswith("data:image/png;base64,") for src in images), name
        for src in images:
            assert_not_blank(base64.b64decode(src.split(",", 1)[1]))
    card = parser.sections["model-card"]["text"]
    assert "mlp" in card and "test accuracy" in card and "parameters" in card and "101,770" in card
    quantized = parser.sections["float-vs-int8"]["text"]
    assert "fp32" in quantized and "int8" in quantized and "ms" in quantized and "accuracy drop" in quantized
    config = parser.sections["training-configuration"]["text"]
    assert "batch_size" in config and "adam" in config and "2000" in config
    assert "val_accuracy" in parser.sections["learning-curves"]["text"]


def test_report_of_a_float_only_kmnist_model_names_its_classes_and_the_export_command(kmnist_dir, tmp_path):
    model = api.train("mlp", "kmnist", epochs=1, data_dir=kmnist_dir, out=tmp_path / "kmnist-mlp", verbose=False)
    built = build_report(model, data_dir=kmnist_dir)
    assert [r.precision for r in built.precisions] == ["fp32"] and built.parameters == 101_770
    page = render(built)
    parser = ReportParser()
    parser.feed(page)
    assert tuple(parser.sections) == SECTIONS
    per_class = parser.sections["per-class-accuracy"]["text"]
    assert all(name in per_class for name in ("o", "ki", "tsu", "wo"))
    assert f"digitrec export {model.model_dir} --int8" in parser.sections["float-vs-int8"]["text"]


def test_report_refuses_bad_input_in_one_line(tmp_path, int8_model, capsys):
    assert_clean_error(cli(capsys, "report", str(tmp_path / "nope")), "no such model directory")
    assert_clean_error(cli(capsys, "report", str(int8_model), "--out", str(tmp_path)), "is a folder")
    assert_clean_error(cli(capsys, "report", str(int8_model), "--dataset", "fashion-mnits"), "fashion-mnist")
    assert_clean_error(cli(capsys, "report", str(int8_model), "--limit", "0"), "--limit")


# --- the contest --------------------------------------------------------------------------------------------


def test_compare_trains_measures_and_saves_table_and_plot(kmnist_dir, kmnist_model, tmp_path):
    out = tmp_path / "contest"
    result = run_cli("compare", "--models", f"sk-mlp,mlp,{kmnist_model}", "--dataset", "kmnist", "--data-dir",
                     str(kmnist_dir), "--epochs", "2", "--out", str(out), "--json", check=True)
    report = json.loads(result.stdout_text)
    rows = {row["model"]: row for row in report["models"]}
    assert list(rows) == ["sk-mlp", "mlp", "given"] and report["settings"]["test_images"] == 100
    assert rows["mlp"]["parameters"] == rows["sk-mlp"]["parameters"] == 101_770
    for row in rows.values():
        assert 0 < row["test_accuracy"] <= 1 and row["fp32_bytes"] > 0 and row["fp32_latency_ms"] > 0
    assert rows["mlp"]["int8_bytes"] < rows["mlp"]["fp32_bytes"] and abs(rows["mlp"]["int8_drop_points"]) < 5
    assert (out / "models" / "mlp" / "model.int8.onnx").is_file()
    assert rows["given"]["int8_bytes"] is None and "digitrec export" in rows["given"]["note"]  # left as given
    assert rows["given"]["train_seconds"] == load_metadata(kmnist_model).metrics["train_seconds"]
    table = list(csv.DictReader((out / "comparison.csv").open()))
    assert [r["model"] for r in table] == ["sk-mlp", "mlp", "given"]
    markdown = (out / "comparison.md").read_text().splitlines()
    assert markdown[0].startswith("| model |") and len(markdown) == 5
    assert_not_blank((out / "comparison.png").read_bytes())
    assert json.loads((out / "comparison.json").read_text()) == report


def test_compare_plot_has_a_panel_per_measure_with_a_bar_per_model(int8_model, tmp_path):
    from digitrec.reports.compare import compare

    result = compare([str(int8_model)], "mnist", tmp_path, test_limit=1000)
    assert result.settings["test_images"] == 1000 and result.contestants[0].fp32.accuracy > 0.5
    fig = result.plot()
    panels = [ax for ax in fig.axes if ax.patches]
    assert len(panels) == 6 and all(len(ax.patches) == 1 for ax in panels)
    assert fig.axes[0].get_yticklabels()[0].get_text() == "mlp"


def test_compare_refuses_bad_input_in_one_line(tmp_path, kmnist_model, capsys):
    assert_clean_error(cli(capsys, "compare", "--models", "mlp,resnet"), "'resnet' is neither a zoo model")
    assert_clean_error(cli(capsys, "compare", "--models", "mlp,mlp"), "more than once")
    assert_clean_error(cli(capsys, "compare", "--dataset", str(tmp_path)), "catalog dataset")
    assert_clean_error(cli(capsys, "compare", "--plot", str(tmp_path / "p.gif")), "PNG or SVG")
    assert_clean_error(cli(capsys, "compare", "--models", str(kmnist_model), "--out", str(tmp_path)),
                       "a model of kmnist cannot be measured on mnist")


# --- sweeps ---------------------------------------------------------------------------------------------------


def test_search_space_syntax_and_types():
    space = {p.name: p for p in parse_space(["units=32..512", "dropout=0..1", "lr=1e-4..1e-2:log",
                                             "batch-size=32,64", "optimizer=adam,sgd", "epochs=3"], "mlp")}
    units = space["units"]
    assert (units.kind, units.target, units.low, units.high) == (int, "model", 32, 512)
    assert space["dropout"].kind is float and space["dropout"].high == 1.0  # the setting's type, not the text's
    assert space["lr"].log and space["lr"].target == "config"
    assert space["batch_size"].choices == (32, 64) and space["epochs"].choices == (3,)
    assert space["optimizer"].choices == ("adam", "sgd")
    for bad, message in (("units", "NAME=LOW..HIGH"), ("units=a..9", "not a valid int"),
                         ("colour=1..2", "not tunable"), ("units=9..1", "low end"), ("lr=0..1:log", "above 0"),
                         ("optimizer=a..b", "list them"), ("lr=1..2,3", "not a valid float")):
        with pytest.raises(UsageError, match=message):
            parse_space([bad], "mlp")
    with pytest.raises(UsageError, match="more than once"):
        parse_space(["lr=0.1", "lr=0.2"], "mlp")


def test_zoo_builders_expose_their_hyperparameters():
    assert builder_options("mlp") == {"units": 128, "dropout": 0.2} and builder_options("fast") == {}
    assert sum(p.numel() for p in build("mlp", units=64).parameters()) == 784 * 64 + 64 + 64 * 10 + 10


def test_pruning_reporter_reports_every_epoch_and_stops_a_pruned_trial():
    class Trial:
        def __init__(self, prune_at: int):
            self.reported, self.prune_at = [], prune_at

        def report(self, value, step):
            self.reported.append((step, value))

        def should_prune(self):
            return self.reported[-1][0] >= self.prune_at

    trial = Trial(prune_at=2)
    reporter = PruningReporter(trial, prune=True)
    reporter.end_epoch({"epoch": 1, "val_accuracy": 0.5})
    with pytest.raises(optuna.TrialPruned):
        reporter.end_epoch({"epoch": 2, "val_accuracy": 0.6})
    assert trial.reported == [(1, 0.5), (2, 0.6)]
    PruningReporter(Trial(prune_at=1), prune=False).end_epoch({"epoch": 1, "val_accuracy": 0.5})


def test_interrupted_trials_are_run_again_on_resume():
    study = optuna.create_study(direction="maximize")
    states = optuna.trial.TrialState
    for state, attrs in ((states.COMPLETE, {}), (states.PRUNED, {}), (states.FAIL, {ERROR: "diverged"}),
                         (states.FAIL, {})):  # the last one: interrupted
        trial = study.ask()
        for key, value in attrs.items():
            trial.set_user_attr(key, value)
        study.tell(trial, 0.5 if state == states.COMPLETE else None, state=state)
    assert [counted(t) for t in study.trials] == [True, True, True, False]


def test_sweep_resumes_from_its_sqlite_study(tmp_path, capsys):
    out = tmp_path / "sweep"
    args = ["sweep", "--model", "mlp", "--limit", "400", "--epochs", "1", "--param", "lr=1e-4..1e-2:log",
            "--param", "batch_size=16,32", "--out", str(out)]
    first = run_cli(*args, "--trials", "2", "--json", check=True)
    best = json.loads(first.stdout_text)
    assert best["trials"] == 2 and 0 < best["val_accuracy"] <= 1
    assert set(best["params"]) == {"lr", "batch_size"} and best["config"]["limit"] == 400
    assert Recognizer(out / "best").meta.name == "mlp"
    # a new process resumes from the study, with the settings stored in it
    second = run_cli("sweep", "--out", str(out), "--trials", "3", check=True)
    assert "resuming" in second.stderr_text and "2 of 3 trials finished" in second.stderr_text
    study = optuna.load_study(study_name="digitrec-sweep", storage=f"sqlite:///{out / 'study.db'}")
    assert len(study.trials) == 3 and all(counted(t) for t in study.trials)
    rows = list(csv.DictReader((out / "trials.csv").open()))
    assert [r["trial"] for r in rows] == ["0", "1", "2"]
    assert_not_blank((out / "trials.png").read_bytes())
    assert_not_blank((out / "importance.png").read_bytes())
    assert not list(out.glob("trial-*"))  # only the best trial's model is kept
    assert_clean_error(cli(capsys, "sweep", "--model", "fast", "--out", str(out)), "started with --model mlp")


def test_sweep_tunes_the_model_builder_hyperparameters(tmp_path):
    out = tmp_path / "units"
    result = run_cli("sweep", "--model", "mlp", "--limit", "400", "--epochs", "1", "--param", "units=16..64",
                     "--param", "dropout=0..0.5", "--trials", "2", "--out", str(out), "--json", check=True)
    best = json.loads(result.stdout_text)
    units = best["params"]["units"]
    assert 16 <= units <= 64 and best["config"]["model_options"]["units"] == units
    meta = Recognizer(out / "best").meta
    assert meta.config["model_options"] == best["config"]["model_options"]
    first = 784 * units + units  # the best model really has that many hidden units
    assert count_parameters(out / "best") == first + units * 10 + 10


def test_sweep_refuses_bad_input_in_one_line(tmp_path, capsys):
    out = str(tmp_path / "s")
    bad_param = cli(capsys, "sweep", "--param", "units:32", "--out", out)
    assert_clean_error(bad_param, "NAME=LOW..HIGH")
    assert bad_param.returncode == 2
    assert_clean_error(cli(capsys, "sweep", "--param", "lr=0..1", "--out", out), "--lr must be in (0, 10)")
    assert_clean_error(cli(capsys, "sweep", "--limit", "2", "--out", out), "no validation examples")
    assert_clean_error(cli(capsys, "sweep", "--trials", "0", "--out", out), "--trials")
    assert not (tmp_path / "s").exists()  # nothing is created before the settings are known to be good


# --- the notebook API -----------------------------------------------------------------------------------------


def test_importing_digitrec_stays_light():
    code = ("import sys, digitrec\n"
            "from digitrec import load_dataset, train, evaluate, predict, Recognizer, report, compare, sweep\n"
            "heavy = [m for m in ('torch', 'matplotlib', 'sklearn', 'optuna') if m in sys.modules]\n"
            "assert not heavy, heavy\n"
            "assert train.__doc__ and evaluate.__doc__ and predict.__doc__\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_api_mirrors_the_command_line(tmp_path, mnist_test):
    model = api.train("mlp", epochs=2, limit=800, out=tmp_path / "mlp", verbose=False)
    assert model.model_dir == tmp_path / "mlp" and len(model.history) == 2 and model.test_accuracy > 0.5
    assert len(model.history["val_loss"]) == 2
    ev = api.evaluate(model, limit=300)  # a TrainedModel is path-like
    assert ev.scores.n == 300 and ev.meta.name == "mlp"
    from_arrays = api.predict(mnist_test.images[:20], model=model)
    expected = Recognizer(model).predict_arrays(mnist_test.images[:20]).argmax(1)
    assert [p.digit for p in from_arrays] == list(expected)
    image = tmp_path / "digit.png"
    Image.fromarray(255 - mnist_test.images[0]).resize((112, 112)).save(image)
    assert api.predict(image)[0].digit == mnist_test.labels[0]  # the bundled model, on a file
    assert len(tiles(api.show(mnist_test, grid="4x2"))) == 8
    assert api.embed(mnist_test, n=100).axes[0].collections
    rows = model.export(int8=True)
    assert [r.precision for r in rows] == ["fp32", "int8"] and "model.int8.onnx" in model.metadata.files
