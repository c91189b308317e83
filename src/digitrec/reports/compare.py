"""``digitrec compare``: the lessons' contest. Train (or take) several models, measure each the same way on
the same full test set, and set the results side by side: accuracy, parameters, training time, size,
what int8 quantization costs, and speed."""

from __future__ import annotations

import csv
import io
import json
import os
import platform
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from matplotlib.figure import Figure
from rich.console import Console

from digitrec.data import Dataset, load_dataset
from digitrec.data.catalog import CATALOG
from digitrec.errors import UsageError
from digitrec.modeldir import ONNX_INT8, load_metadata
from digitrec.models.catalog import MODELS
from digitrec.reports.measure import PrecisionResult, count_parameters, measure
from digitrec.reports.plots import Panel, metric_panels, save_figure

DEFAULT_MODELS = ("sk-mlp", "mlp", "cnn-32-64", "fast", "best")


@dataclass
class Contestant:
    name: str  # the zoo name, or the name of a given model directory
    architecture: str
    model_dir: Path
    parameters: int | None
    train_examples: int | None
    epochs: int
    train_seconds: float | None
    fp32: PrecisionResult
    int8: PrecisionResult | None
    note: str = ""

    def row(self) -> dict[str, Any]:
        """One flat record: the JSON, CSV and Markdown tables are all made from these."""
        int8 = self.int8
        return {
            "model": self.name, "architecture": self.architecture, "parameters": self.parameters,
            "train_examples": self.train_examples, "epochs": self.epochs, "train_seconds": self.train_seconds,
            "test_accuracy": self.fp32.accuracy, "int8_test_accuracy": int8.accuracy if int8 else None,
            "int8_drop_points": round((self.fp32.accuracy - int8.accuracy) * 100, 4) if int8 else None,
            "fp32_bytes": self.fp32.size_bytes, "int8_bytes": int8.size_bytes if int8 else None,
            "fp32_latency_ms": round(self.fp32.latency_ms, 4),
            "int8_latency_ms": round(int8.latency_ms, 4) if int8 else None,
            "fp32_images_per_second": round(self.fp32.images_per_second),
            "int8_images_per_second": round(int8.images_per_second) if int8 else None,
            "model_dir": str(self.model_dir), "note": self.note,
        }


def _fmt(pattern: str, scale: float | None = None) -> Callable[[Any], str]:
    return lambda v: "–" if v is None else pattern.format(v * scale if scale else v)


# (header, row key, format) of the human-readable tables (terminal and Markdown)
DISPLAY = (
    ("model", "model", str),
    ("parameters", "parameters", _fmt("{:,}")),
    ("train images", "train_examples", _fmt("{:,}")),
    ("epochs", "epochs", str),
    ("train s", "train_seconds", _fmt("{:.1f}")),
    ("test acc %", "test_accuracy", _fmt("{:.2f}", 100)),
    ("int8 acc %", "int8_test_accuracy", _fmt("{:.2f}", 100)),
    ("int8 drop (points)", "int8_drop_points", _fmt("{:+.2f}")),
    ("fp32 KB", "fp32_bytes", _fmt("{:,.0f}", 1 / 1024)),
    ("int8 KB", "int8_bytes", _fmt("{:,.0f}", 1 / 1024)),
    ("ms/image fp32", "fp32_latency_ms", _fmt("{:.3f}")),
    ("ms/image int8", "int8_latency_ms", _fmt("{:.3f}")),
    ("images/s fp32", "fp32_images_per_second", _fmt("{:,.0f}")),
)


@dataclass
class Comparison:
    dataset: str
    contestants: list[Contestant]
    settings: dict[str, Any] = field(default_factory=dict)

    def rows(self) -> list[dict[str, Any]]:
        return [c.row() for c in self.contestants]

    def display_rows(self) -> list[list[str]]:
        return [[fmt(row[key]) for _, key, fmt in DISPLAY] for row in self.rows()]

    def to_json(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "settings": self.settings, "models": self.rows()}

    def to_csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(self.rows()[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows())
        return buffer.getvalue()

    def to_markdown(self) -> str:
        headers = [header for header, _, _ in DISPLAY]
        rule = "|" + "|".join(["---"] + ["---:"] * (len(headers) - 1)) + "|"
        lines = ["| " + " | ".join(headers) + " |", rule]
        lines += ["| " + " | ".join(cells) + " |" for cells in self.display_rows()]
        return "\n".join(lines) + "\n"

    def plot(self) -> Figure:
        rows = self.rows()
        names = [r["model"] for r in rows]
        return metric_panels(names, [
            Panel("test accuracy (%)", [r["test_accuracy"] * 100 for r in rows], "{:.2f}", zoom=True),
            Panel("training time (s)", [r["train_seconds"] for r in rows], "{:.1f}"),
            Panel("parameters (thousands)", [r["parameters"] / 1000 if r["parameters"] else None for r in rows],
                  "{:,.1f}"),
            Panel("model size, fp32 ONNX (KB)", [r["fp32_bytes"] / 1024 for r in rows], "{:,.0f}"),
            Panel("int8 accuracy drop (points)", [r["int8_drop_points"] for r in rows], "{:+.2f}"),
            Panel("latency, one image (ms)", [r["fp32_latency_ms"] for r in rows], "{:.3f}"),
        ], title=f"model comparison on {self.dataset} (test set of {self.settings['test_images']:,})")

    def save(self, out_dir: str | os.PathLike, plot: str | os.PathLike | None = None) -> list[Path]:
        """comparison.json, .csv, .md and the plot (PNG, or SVG by ``plot``'s suffix) in ``out_dir``."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        written = []
        for name, content in (("comparison.json", json.dumps(self.to_json(), indent=2) + "\n"),
                              ("comparison.csv", self.to_csv()), ("comparison.md", self.to_markdown())):
            (out_dir / name).write_text(content)
            written.append(out_dir / name)
        written.append(save_figure(self.plot(), plot or out_dir / "comparison.png"))
        return written


def resolve_entries(models: list[str]) -> list[str | Path]:
    """Zoo names stay names (trained here); existing model directories are taken as they are."""
    if not models:
        raise UsageError("--models names no model; e.g. --models mlp,fast")
    entries: list[str | Path] = []
    for item in models:
        if item in MODELS:
            entries.append(item)
        elif Path(item).is_dir():
            entries.append(Path(item))
        else:
            raise UsageError(f"'{item}' is neither a zoo model ({', '.join(MODELS)}) nor a model directory")
    names = [entry_name(e) for e in entries]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise UsageError(f"--models lists {', '.join(repeated)} more than once")
    return entries


def entry_name(entry: str | Path) -> str:
    return entry.name if isinstance(entry, Path) else entry


def default_out_dir(dataset: str) -> Path:
    return Path("runs") / f"compare-{dataset}-{datetime.now():%Y%m%d-%H%M%S}"


def compare(models: list[str] | tuple[str, ...] = DEFAULT_MODELS, dataset: str = "mnist",
            out_dir: str | os.PathLike | None = None, epochs: int | None = None, limit: int | None = None,
            seed: int = 0, data_dir: str | os.PathLike | None = None, console: Console | None = None,
            test_limit: int | None = None) -> Comparison:
    """Train every zoo model named in ``models`` (into ``out_dir/models/NAME``; directories are taken as
    they are), quantize it to int8, and measure all of them on the test split of ``dataset`` (all of it,
    unless ``test_limit`` asks for a random subset, for quick runs)."""
    if dataset not in CATALOG:
        raise UsageError(f"compare needs a catalog dataset with a test split ({', '.join(CATALOG)}); "
                         f"got '{dataset}'")
    if test_limit is not None and test_limit < 1:
        raise UsageError(f"--test-limit must be at least 1, got {test_limit}")
    entries = resolve_entries(list(models))
    out = Path(out_dir) if out_dir is not None else default_out_dir(dataset)
    test = load_dataset(dataset, "test", data_dir=data_dir, progress=console is not None).subset(test_limit, seed)
    for given in (e for e in entries if isinstance(e, Path)):  # before any training: fail fast
        meta = load_metadata(given)
        if list(meta.classes) != list(test.classes):
            raise UsageError(f"{given}: a model of {meta.dataset} cannot be measured on {test.name}")
    contestants = []
    for i, entry in enumerate(entries, 1):
        if console is not None:
            console.rule(f"[bold][{i}/{len(entries)}] {entry_name(entry)}")
        if isinstance(entry, Path):
            contestants.append(_measure(entry.name, entry, test, console))
        else:
            contestants.append(_train(entry, dataset, out / "models" / entry, test, epochs, limit, seed,
                                      data_dir, console))
    settings = {"epochs": epochs, "limit": limit, "seed": seed, "test_images": len(test),
                "test_limit": test_limit, "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
                "python": platform.python_version(), "date": datetime.now().astimezone().isoformat(timespec="seconds")}
    return Comparison(test.name, contestants, settings)


def _train(name: str, dataset: str, model_dir: Path, test: Dataset, epochs: int | None, limit: int | None,
           seed: int, data_dir, console: Console | None) -> Contestant:
    from digitrec.export.run import export_model_dir
    from digitrec.training.config import make_config
    from digitrec.training.progress import EpochProgress
    from digitrec.training.trainer import train

    config = make_config(model=name, dataset=dataset, epochs=epochs, limit=limit, seed=seed)
    progress = EpochProgress(console, enabled=console is not None)
    train(config, model_dir, data_dir=data_dir, progress=progress)
    note = ""
    with _status(console, "int8 quantization…"):
        try:
            export_model_dir(model_dir, int8=True, data_dir=data_dir, progress=False)
        except Exception as exc:  # onnxruntime's quantizer fails with assorted types on graphs it cannot handle
            note = f"int8 export failed: {type(exc).__name__}: {exc}"
            if console is not None:
                console.print(f"[yellow]warning:[/] {name}: {note}")
    return _measure(name, model_dir, test, console, note)


def _measure(name: str, model_dir: Path, test: Dataset, console: Console | None, note: str = "") -> Contestant:
    meta = load_metadata(model_dir)
    with _status(console, f"measuring {name} on {len(test):,} test images…"):
        fp32 = measure(model_dir, "fp32", test)
        int8 = measure(model_dir, "int8", test) if ONNX_INT8 in meta.files else None
    if int8 is None and not note:
        note = f"no int8 model (digitrec export {model_dir} --int8)"
    return Contestant(name, meta.name, model_dir, count_parameters(model_dir), meta.config.get("train_examples"),
                      len(meta.history), meta.metrics.get("train_seconds"), fp32, int8, note)


def _status(console: Console | None, message: str) -> AbstractContextManager:
    return console.status(message) if console is not None else nullcontext()
