"""Follow an alias: a light thread polls the alias file and hands each new target, verified, to a callback.

Polling a small file twice a second costs nothing measurable and works the same on a local disk and on a
shared filesystem (where inotify sees no changes made by other machines).
"""

from __future__ import annotations

import logging
import threading
from typing import Callable

from digitrec.errors import DigitrecError
from digitrec.registry.store import Registry, Version

POLL_SECONDS = 0.5


class AliasWatcher:
    """Calls ``on_change(version)`` whenever ``alias`` points somewhere new. If the version is missing or
    tampered with, or ``on_change`` raises (the model does not load), it is refused and logged, and nothing
    changes until the alias is updated again."""

    def __init__(self, registry: Registry, alias: str, on_change: Callable[[Version], None],
                 current: str | None = None, interval: float = POLL_SECONDS,
                 log: logging.Logger | None = None):
        self.registry, self.alias, self.on_change = registry, alias, on_change
        self.current = current  # the version in use
        self.interval = interval
        self.log = log or logging.getLogger("digitrec.registry")
        self._refused: tuple[str, str] | None = None  # (version, alias update time) that failed
        self._problem = ""  # last alias read error, logged once rather than twice a second
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def check(self) -> bool:
        """One poll; True when a new version was taken into use."""
        try:
            alias = self.registry.alias(self.alias)
        except DigitrecError as exc:
            if str(exc) != self._problem:
                self._problem = str(exc)
                self.log.error("cannot read alias %s: %s", self.alias, exc)
            return False
        self._problem = ""
        if alias.version == self.current or (alias.version, alias.updated) == self._refused:
            return False
        try:
            self.on_change(self.registry.version(alias.version))  # checksums verified before any use
        except Exception as exc:  # whatever fails, the model in use keeps serving
            self._refused = (alias.version, alias.updated)
            self.log.error("refused version %s of alias %s, still serving %s: %s", alias.version, self.alias,
                           self.current, exc, extra=self._fields(alias.version, refused=True))
            return False
        self.log.info("now serving version %s (alias %s, was %s)", alias.version, self.alias, self.current,
                      extra=self._fields(alias.version, refused=False))
        self.current, self._refused = alias.version, None
        return True

    def _fields(self, version: str, refused: bool) -> dict:
        """Structured fields for JSON log lines (the service's formatter adds ``record.fields``)."""
        return {"fields": {"alias": self.alias, "version": version, "serving": self.current if refused
                           else version, "refused": refused}}

    def start(self) -> AliasWatcher:
        self._thread = threading.Thread(target=self._run, name=f"follow-{self.alias}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.check()
