"""The one engine a server holds, following the index's live generation."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from indexer.errors import IndexNotFound, PressLensError
from indexer.settings import Settings
from indexer.storage import generations

from .. import messages

if TYPE_CHECKING:
    from ..engine import Engine

log = logging.getLogger("presslens.serve")


class Unavailable(RuntimeError):
    """No index is loaded; the message says why and how to build one."""


def how_to_build(settings: Settings) -> str:
    return messages.for_page(IndexNotFound(settings.index_dir), settings.index_dir)


class EngineHolder:
    """The engine a server answers with, following the index's live generation.

    The engine is opened once at start-up. When ``presslens index`` switches the index to
    a new generation, the next request notices (one ``stat`` of the pointer file) and a
    background thread opens the new generation while requests go on being answered from
    the old one; the new engine then takes over between two requests, and the old one is
    closed when the last request using it lets go of it. A new generation that cannot be
    opened is logged and the old one keeps serving. A server started before any index
    exists picks up the first one the same way.
    """

    def __init__(self, settings: Settings, engine: Engine | None = None):
        self.settings = settings
        self.engine = engine
        self.error: str | None = None
        self._owned = False
        self._stamp = generations.stamp(settings.index_dir)
        self._lock = threading.Lock()
        self._loading: threading.Thread | None = None

    def open(self) -> None:
        if self.engine is not None:
            return
        with self._lock:
            self._stamp = generations.stamp(self.settings.index_dir)
            self._open_locked()

    def _open_locked(self) -> None:
        engine, self.error = self._load(None)
        if engine is not None:
            self.engine, self._owned = engine, True

    def _load(self, previous: Engine | None) -> tuple[Engine | None, str | None]:
        """Open the live generation, sharing the previous engine's model; or say why not."""
        from ..engine import Engine

        embedder = getattr(previous, "embedder", None)
        try:
            engine = Engine.open(self.settings, embedder=embedder,
                                 reuse=getattr(previous, "vectors", None))
        except PressLensError as exc:
            error = messages.for_page(exc, self.settings.index_dir)
        except Exception as exc:  # a damaged index must not stop the server from answering
            log.exception("cannot open the index in %s", self.settings.index_dir)
            rebuild = messages.presslens(self.settings.index_dir, "index", "--rebuild", "PATH")
            error = (f"The index in {self.settings.index_dir} could not be opened "
                     f"({type(exc).__name__}: {exc}). Rebuild it with `{rebuild}`.")
        else:
            log.info("loaded index %s (generation %s)", self.settings.index_dir,
                     getattr(engine, "generation", "?"))
            return engine, None
        log.warning("%s", error)
        return None, error

    def _reload_in_background(self, stamp) -> None:
        def run() -> None:
            engine, error = self._load(self.engine)
            with self._lock:
                if engine is not None:
                    # Requests already running keep their reference to the old engine.
                    self.engine, self._owned = engine, True
                else:
                    log.warning("still serving generation %s",
                                getattr(self.engine, "generation", "?"))
                self._loading = None

        self._stamp = stamp
        self._loading = threading.Thread(target=run, name="presslens-reload", daemon=True)
        self._loading.start()

    def get(self) -> Engine:
        """The loaded engine, or :class:`Unavailable` with a message a person can act on."""
        stamp = generations.stamp(self.settings.index_dir)
        if stamp != self._stamp:
            with self._lock:
                if stamp != self._stamp and self._loading is None:
                    if self.engine is None:  # nothing to serve meanwhile: open it now
                        self._stamp = stamp
                        self._open_locked()
                    else:
                        self._reload_in_background(stamp)
        engine = self.engine
        if engine is None:
            raise Unavailable(self.error or how_to_build(self.settings))
        return engine

    def close(self) -> None:
        loading = self._loading
        if loading is not None:  # let a reload under way finish before closing
            loading.join(30)
        if self._owned and self.engine is not None:
            close = getattr(self.engine, "close", None)
            if callable(close):
                close()
        self.engine = None if self._owned else self.engine
