"""``digitrec report``: everything about one model in one HTML file — what it is, how it learned, where it
errs, what quantization costs, and how it was trained."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from matplotlib.figure import Figure

from digitrec.errors import UsageError
from digitrec.modeldir import write_atomic
from digitrec.models.catalog import MODELS
from digitrec.reports import html
from digitrec.reports.evaluation import Evaluation, evaluate
from digitrec.reports.measure import PrecisionResult, count_parameters, measure, precisions
from digitrec.reports.plots import save_figure


@dataclass
class ModelReport:
    evaluation: Evaluation
    parameters: int | None
    precisions: list[PrecisionResult]  # fp32 first, then int8 when the model has it
    created: str

    @property
    def title(self) -> str:
        meta = self.evaluation.meta
        return f"{meta.name} on {meta.dataset} — model report"


def build_report(model: str | os.PathLike | None = None, dataset: str | None = None, limit: int | None = None,
                 data_dir: str | os.PathLike | None = None, progress: bool = False) -> ModelReport:
    """Evaluate the model (fp32) on its test split and measure every precision it holds."""
    evaluation = evaluate(model, dataset, "test", "fp32", limit, data_dir, progress)
    rows = [measure(evaluation.model_dir, p, evaluation.data) for p in precisions(evaluation.meta)]
    return ModelReport(evaluation, count_parameters(evaluation.model_dir), rows,
                       datetime.now().astimezone().isoformat(timespec="seconds"))


def figures(report: ModelReport) -> dict[str, Figure]:
    """The report's figures by section (a section without data, e.g. no mistakes, has none)."""
    ev = report.evaluation
    found = {"learning-curves": ev.plot_learning_curves()} if ev.meta.history else {}
    found.update({"confusion-matrix": ev.plot_confusion(), "per-class-accuracy": ev.plot_per_class(),
                  "predictions": ev.plot_predictions()})
    if len(ev.mistakes):
        found.update({"misclassified": ev.plot_mistakes(), "confident-mistakes": ev.plot_confident_mistakes()})
    return found


def check_output(out: str | os.PathLike) -> Path:
    """The report's file name, refused before any work if it names a folder."""
    out = Path(out)
    if out.is_dir():
        raise UsageError(f"{out}: is a folder; give a file name such as {out / 'report.html'}")
    return out


def write_report(report: ModelReport, out: str | os.PathLike, drawn: dict[str, Figure] | None = None) -> Path:
    out = check_output(out)
    write_atomic(out, render(report, drawn).encode("utf-8"))
    return out


def write_figures(drawn: dict[str, Figure], folder: str | os.PathLike, suffix: str = ".png") -> list[Path]:
    """Each figure as ``<section>.png`` (or .svg), e.g. for a README."""
    return [save_figure(fig, Path(folder) / f"{name}{suffix}") for name, fig in drawn.items()]


def render(report: ModelReport, drawn: dict[str, Figure] | None = None) -> str:
    ev = report.evaluation
    drawn = figures(report) if drawn is None else drawn

    def picture(name: str, note: str) -> str:
        if name not in drawn:
            return html.paragraph(ABSENT[name], "note")
        return html.image(drawn[name], name.replace("-", " ")) + (html.paragraph(note, "note") if note else "")

    sections = [
        ("model-card", "Model card", model_card(report)),
        ("learning-curves", "Learning curves",
         picture("learning-curves", "Loss and accuracy after each epoch, on the training data and on the "
                                    "held-out validation data.") + history_table(ev)),
        ("confusion-matrix", "Confusion matrix",
         picture("confusion-matrix", "Rows are the true classes, columns the predicted ones; red numbers are "
                                     "mistakes.")),
        ("per-class-accuracy", "Per-class accuracy", picture("per-class-accuracy", "") + per_class_table(ev)),
        ("predictions", "Test predictions",
         picture("predictions", "As the TFLite lesson shows them: a random sample, wrong predictions in red.")),
        ("misclassified", "Misclassified test images",
         picture("misclassified", "Each caption is the prediction, in red, with the true class below it.")),
        ("confident-mistakes", "Most confident mistakes",
         picture("confident-mistakes", "The errors the model was surest of: often ambiguous writing or a wrong "
                                       "label.")),
        ("float-vs-int8", "Float vs int8", float_vs_int8(report)),
        ("training-configuration", "Training configuration", configuration(ev)),
    ]
    subtitle = (f"{ev.model_dir} · version {ev.meta.version} · evaluated on {ev.scores.n:,} {ev.data.name} "
                f"{ev.split} images · report made {report.created}")
    return html.page(report.title, subtitle, sections)


ABSENT = {"learning-curves": "The model's metadata holds no per-epoch history.",
          "misclassified": "No test image is misclassified.",
          "confident-mistakes": "No test image is misclassified."}


def model_card(report: ModelReport) -> str:
    ev, meta = report.evaluation, report.evaluation.meta
    info = MODELS.get(meta.name)
    rows = [
        ("model", meta.name + (f" — {info.summary}" if info else "")),
        ("version", meta.version),
        ("dataset", meta.dataset),
        ("classes", ", ".join(meta.classes)),
        ("parameters", f"{report.parameters:,}" if report.parameters is not None else "unknown"),
        ("test accuracy", f"{ev.accuracy * 100:.2f} % ({ev.scores.n - len(ev.mistakes):,} of {ev.scores.n:,})"),
        ("test loss", f"{ev.loss:.4f}"),
        ("training time", f"{meta.metrics['train_seconds']:.1f} s" if "train_seconds" in meta.metrics
         else "unknown"),
        ("trained on", f"{meta.config.get('device_used', '?')}, {meta.config.get('precision', '?')}"),
        ("created", meta.created),
        ("digitrec", meta.digitrec_version),
        ("input", f"{meta.input.get('shape')} {meta.input.get('dtype')} in {meta.input.get('range')}, "
                  f"{meta.input.get('ink')}"),
    ]
    files = [(name, f"{(ev.model_dir / name).stat().st_size:,} bytes", digest[:16] + "…")
             for name, digest in meta.files.items()]
    return html.table(rows) + html.table(files, ("file", "size", "sha256"), numeric=(1,))


def history_table(ev: Evaluation) -> str:
    metrics = ("loss", "accuracy", "val_loss", "val_accuracy")
    rows = [(r["epoch"], *(f"{r[k]:.4f}" if r.get(k) is not None else "–" for k in metrics),
             f"{r.get('seconds', 0):.1f}") for r in ev.meta.history]
    return html.table(rows, ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "seconds"),
                      numeric=range(6)) if rows else ""


def per_class_table(ev: Evaluation) -> str:
    s = ev.scores
    rows = [(name, f"{p * 100:.2f} %", f"{r * 100:.2f} %", f"{support:,}")
            for name, p, r, support in zip(s.classes, s.precision, s.recall, s.confusion.sum(1))]
    return html.table(rows, ("class", "precision", "recall (accuracy)", "test images"), numeric=(1, 2, 3))


def float_vs_int8(report: ModelReport) -> str:
    rows = [(r.precision, r.file, f"{r.size_bytes / 1024:,.1f} KB", f"{r.accuracy * 100:.2f} %",
             f"{r.latency_ms:.3f} ms", f"{r.images_per_second:,.0f}") for r in report.precisions]
    out = html.table(rows, ("precision", "file", "size", "test accuracy", "latency (1 image)",
                            "images/s (batches)"), numeric=(2, 3, 4, 5))
    if len(report.precisions) < 2:
        directory = report.evaluation.model_dir
        command = html.text(f"digitrec export {directory} --int8")
        return out + html.paragraph(f"No int8 model yet: <code>{command}</code> writes one, then run the report "
                                    "again.", "note")
    fp32, int8 = report.precisions
    drop = (fp32.accuracy - int8.accuracy) * 100
    return out + html.paragraph(
        f"int8 is {int8.size_bytes / fp32.size_bytes * 100:.0f} % of the float size, "
        f"{fp32.latency_ms / int8.latency_ms:.2f}× the float speed for one image; accuracy drop "
        f"{drop:+.2f} points. Latency is the median of 200 single-image calls on this machine.")


def configuration(ev: Evaluation) -> str:
    config = html.table(sorted((k, v) for k, v in ev.meta.config.items()), ("setting", "value"))
    preprocessing = html.table(sorted(ev.meta.preprocessing.items()), ("preprocessing", "value"))
    return config + preprocessing
