"""The feedback store: corrections people send from the page or the API, kept for retraining.

SQLite in WAL mode, so several server processes can write at once: each insert is one short IMMEDIATE
transaction and a busy writer makes the others wait (``busy_timeout``) rather than fail, so nothing is lost.
``export`` writes a folder dataset (one sub-folder per label) that ``digitrec train --dataset DIR`` reads.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from digitrec.errors import DataError

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    created       TEXT    NOT NULL,
    image_png     BLOB    NOT NULL,
    predicted     INTEGER,
    correct       INTEGER NOT NULL,
    confidence    REAL,
    model_name    TEXT,
    model_version TEXT
);
CREATE INDEX IF NOT EXISTS feedback_correct ON feedback (correct);
"""
BUSY_TIMEOUT_MS = 30_000


@dataclass(frozen=True)
class Feedback:
    id: int
    created: str
    predicted: int | None
    correct: int
    confidence: float | None
    model_name: str | None
    model_version: str | None

    def to_json(self) -> dict:
        return {"id": self.id, "created": self.created, "predicted": self.predicted, "correct": self.correct,
                "confidence": self.confidence, "model_name": self.model_name,
                "model_version": self.model_version}


COLUMNS = "id, created, predicted, correct, confidence, model_name, model_version"


class FeedbackStore:
    """One SQLite file; safe to share between threads (one connection, serialized) and processes (WAL)."""

    def __init__(self, path: str | Path):
        self.path = Path(path).expanduser()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                                       check_same_thread=False)
            self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")  # durable across crashes of the process in WAL mode
            self._db.executescript(SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise DataError(f"{self.path}: cannot open the feedback store ({exc})") from None
        self._lock = threading.Lock()

    def add(self, image_png: bytes, correct: int, predicted: int | None = None, confidence: float | None = None,
            model_name: str | None = None, model_version: str | None = None) -> Feedback:
        created = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                cursor = self._db.execute(
                    "INSERT INTO feedback (created, image_png, predicted, correct, confidence, model_name, "
                    "model_version) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (created, image_png, predicted, correct, confidence, model_name, model_version))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return Feedback(cursor.lastrowid, created, predicted, correct, confidence, model_name, model_version)

    def count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM feedback").fetchone()[0]

    def recent(self, limit: int = 20) -> list[Feedback]:
        with self._lock:
            rows = self._db.execute(f"SELECT {COLUMNS} FROM feedback ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [Feedback(*row) for row in rows]

    def image(self, feedback_id: int) -> bytes | None:
        with self._lock:
            row = self._db.execute("SELECT image_png FROM feedback WHERE id = ?", (feedback_id,)).fetchone()
        return row[0] if row else None

    def stats(self) -> dict:
        """Totals, per correct label, how often the model was right, and per model version."""
        with self._lock:
            per_label = dict(self._db.execute("SELECT correct, COUNT(*) FROM feedback GROUP BY correct"))
            right = self._db.execute("SELECT COUNT(*) FROM feedback WHERE predicted = correct").fetchone()[0]
            confusions = self._db.execute(
                "SELECT predicted, correct, COUNT(*) AS n FROM feedback WHERE predicted IS NOT correct "
                "GROUP BY predicted, correct ORDER BY n DESC LIMIT 10").fetchall()
            versions = dict(self._db.execute("SELECT COALESCE(model_version, ''), COUNT(*) FROM feedback "
                                             "GROUP BY model_version"))
        total = sum(per_label.values())
        return {"total": total, "model_was_right": right,
                "per_label": {str(d): per_label.get(d, 0) for d in range(10)},
                "top_confusions": [{"predicted": p, "correct": c, "count": n} for p, c, n in confusions],
                "per_model_version": versions}

    def export(self, folder: str | Path) -> dict[str, int]:
        """Write every stored image to ``folder/<correct label>/feedback-<id>.png``; returns counts per label.
        Running it again rewrites the same files, so an export can be refreshed in place."""
        root = Path(folder).expanduser()
        root.mkdir(parents=True, exist_ok=True)  # even with nothing to write: a path that is a file says so now
        counts: dict[str, int] = {}
        with self._lock:
            rows = self._db.execute("SELECT id, correct, image_png FROM feedback ORDER BY id").fetchall()
        for feedback_id, correct, png in rows:
            label_dir = root / str(correct)
            label_dir.mkdir(parents=True, exist_ok=True)
            (label_dir / f"feedback-{feedback_id:06d}.png").write_bytes(png)
            counts[str(correct)] = counts.get(str(correct), 0) + 1
        return dict(sorted(counts.items()))

    def close(self) -> None:
        with self._lock:
            self._db.close()
