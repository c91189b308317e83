"""Serving a registry alias: ``digitrec serve --model production`` keeps answering with whatever the alias
points to. Each worker process polls the alias and, when it moves, loads and verifies the new version off the
request path, then swaps it in atomically (:class:`ModelHolder`); a version that fails to load is refused and
logged, and the one in use keeps serving."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator, Callable

from digitrec.inference import Recognizer
from digitrec.registry import Registry, Version
from digitrec.registry.watch import AliasWatcher
from digitrec.service.holder import ModelHolder
from digitrec.service.settings import Settings

log = logging.getLogger("digitrec.registry")


def alias_follower(settings: Settings, holder: ModelHolder) -> AliasWatcher | None:
    """A watcher when ``settings.model`` names a registry alias (not a directory, not a fixed version)."""
    ref = settings.model
    if not ref or Path(ref).expanduser().exists():
        return None
    registry = Registry(settings.registry)
    if registry.find_alias(ref) is None:
        return None

    def swap_in(version: Version) -> None:
        holder.swap(Recognizer(version.path, precision=settings.precision, threads=1,
                               min_confidence=settings.min_confidence))

    return AliasWatcher(registry, ref, swap_in, current=holder.current.info["version"], log=log)


def following(watcher: AliasWatcher | None) -> Callable:
    """The app's lifespan: the watcher polls while the app serves, and stops with it."""

    @asynccontextmanager
    async def lifespan(app) -> AsyncIterator[None]:
        if watcher is not None:
            watcher.start()
        try:
            yield
        finally:
            if watcher is not None:
                watcher.stop()

    return lifespan
