"""The one engine a server holds, and the service calls both the API and the page make."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from indexer.settings import Settings

from .models import SearchResponse
from .params import SearchParams

if TYPE_CHECKING:
    from .engine import Engine

log = logging.getLogger("presslens.serve")


class Unavailable(RuntimeError):
    """No index is loaded; the message says why and how to build one."""


def how_to_build(settings: Settings) -> str:
    return (
        f"No search index is loaded from {settings.index_dir}. Build one with "
        f"`presslens --index {settings.index_dir} index PATH` (PATH: a file or folder of "
        "collected articles), then reload this page."
    )


class EngineHolder:
    """Opens the engine once at start-up and keeps the reason when it cannot.

    A server started before its index exists would otherwise need a restart after
    ``presslens index``; so while no engine is loaded, a request made after the index
    database has changed tries once more.
    """

    def __init__(self, settings: Settings, engine: Engine | None = None):
        self.settings = settings
        self.engine = engine
        self.error: str | None = None
        self._owned = False
        self._tried_stamp: float | None = None
        self._lock = threading.Lock()

    def open(self) -> None:
        if self.engine is not None:
            return
        with self._lock:
            self._open_locked()

    def _open_locked(self) -> None:
        from indexer.embed import ModelNotAvailable

        from .engine import Engine, IndexNotFound, ModelMismatch

        self._tried_stamp = self._db_stamp()
        try:
            self.engine = Engine.open(self.settings)
        except IndexNotFound as exc:
            # The engine's message says what is wrong (missing, or made by an older version).
            message = str(exc).strip() or how_to_build(self.settings)
            self.error = message[:1].upper() + message[1:]
        except (ModelMismatch, ModelNotAvailable) as exc:
            self.error = f"The index in {self.settings.index_dir} cannot be searched: {exc}"
        except Exception as exc:  # a damaged index must not stop the server from answering
            log.exception("cannot open the index in %s", self.settings.index_dir)
            self.error = (f"The index in {self.settings.index_dir} could not be opened "
                          f"({type(exc).__name__}: {exc}). Rebuild it with "
                          "`presslens index --rebuild PATH`.")
        else:
            self.error = None
            self._owned = True
            log.info("loaded index %s (generation %s)", self.settings.index_dir,
                     getattr(self.engine, "generation", "?"))
            return
        log.warning("%s", self.error)

    def _db_stamp(self) -> float | None:
        try:
            return self.settings.db_path.stat().st_mtime
        except OSError:
            return None

    def get(self) -> Engine:
        """The loaded engine, or :class:`Unavailable` with a message a person can act on."""
        engine = self.engine
        if engine is not None:
            return engine
        stamp = self._db_stamp()
        if stamp is not None and stamp != self._tried_stamp:
            with self._lock:
                if self.engine is None and self._db_stamp() != self._tried_stamp:
                    self._open_locked()
        if self.engine is None:
            raise Unavailable(self.error or how_to_build(self.settings))
        return self.engine

    def close(self) -> None:
        if self._owned and self.engine is not None:
            close = getattr(self.engine, "close", None)
            if callable(close):
                close()
        self.engine = None if self._owned else self.engine


def run_search(engine: Engine, params: SearchParams) -> SearchResponse:
    """The search both renderings share: the JSON route and the page call only this."""
    return engine.search(
        params.q,
        k=params.k,
        source=params.source,
        since=params.since,
        until=params.until,
        collapse=params.collapse,
        mode=params.mode,
        language=params.language,
    )
