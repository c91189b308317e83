"""``digitrec feedback``: the corrections people sent from the drawing page or the API."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from digitrec.cli.output import console, emit_json

app = typer.Typer(help="Corrections sent to the recognition service: list, stats, and export as a folder "
                  "dataset for retraining.\n\nExamples:\n\n    digitrec feedback stats\n\n"
                  "    digitrec feedback export corrections/\n\n    digitrec train --dataset corrections/",
                  no_args_is_help=True, rich_markup_mode="markdown")

DB_HELP = "The feedback store (default: the one `digitrec serve` uses, in the user data folder)."


def open_store(db: Optional[Path]):
    from digitrec.errors import DataError
    from digitrec.service.settings import Settings
    from digitrec.service.store import FeedbackStore

    path = db or Settings().feedback_db
    if not path.exists():
        raise DataError(f"{path}: no feedback store yet; it is created when `digitrec serve` receives the "
                        "first correction (or pass --db)")
    return FeedbackStore(path)


@app.command("export")
def export(
    folder: Path = typer.Argument(..., help="Folder to write: one sub-folder per digit, PNG files inside."),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_HELP),
    json: bool = typer.Option(False, "--json", help="Print the counts per label as one JSON object."),
):
    """Write every correction as `FOLDER/<right digit>/feedback-<id>.png`: a folder dataset that
    `digitrec train --dataset FOLDER` reads. Running it again refreshes the same files.

    Example:

        digitrec feedback export corrections/ && digitrec train --dataset corrections/ --epochs 5
    """
    counts = open_store(db).export(folder)
    if json:
        emit_json({"folder": str(folder), "total": sum(counts.values()), "per_label": counts})
        return
    total = sum(counts.values())
    per_label = ", ".join(f"{label}: {n}" for label, n in counts.items()) or "none"
    console.print(f"wrote {total} image{'s' * (total != 1)} to {folder} ({per_label})", highlight=False)


@app.command("list")
def list_(
    limit: int = typer.Option(20, "--limit", "-n", min=1, help="How many, newest first."),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_HELP),
    json: bool = typer.Option(False, "--json", help="JSON Lines, one object per correction."),
):
    """The most recent corrections: when, what the model said, what was right, which model version."""
    rows = open_store(db).recent(limit)
    if json:
        for row in rows:
            emit_json(row.to_json())
        return
    table = Table(title="feedback (newest first)")
    for column in ("id", "time (UTC)", "predicted", "correct", "confidence", "model version"):
        table.add_column(column)
    for row in rows:
        table.add_row(str(row.id), row.created[:19].replace("T", " "),
                      "–" if row.predicted is None else str(row.predicted), str(row.correct),
                      "–" if row.confidence is None else f"{row.confidence * 100:.1f} %", row.model_version or "–")
    console.print(table)


@app.command("stats")
def stats(
    db: Optional[Path] = typer.Option(None, "--db", help=DB_HELP),
    json: bool = typer.Option(False, "--json", help="One JSON object."),
):
    """How many corrections per digit, how often the model was in fact right, the commonest confusions."""
    summary = open_store(db).stats()
    if json:
        emit_json(summary)
        return
    total = summary["total"]
    console.print(f"{total} correction{'s' * (total != 1)}; the model was in fact right in "
                  f"{summary['model_was_right']} of them", highlight=False)
    table = Table(title="per right digit")
    for label in summary["per_label"]:
        table.add_column(label, justify="right")
    table.add_row(*map(str, summary["per_label"].values()))
    console.print(table)
    for c in summary["top_confusions"]:
        said = "nothing" if c["predicted"] is None else c["predicted"]
        console.print(f"  said {said}, was {c['correct']}: {c['count']}×", highlight=False)
