"""Embedders provided by name from outside the package, as llm's plugins provide models.

A plugin is an importable module that calls ``register_embedder`` when it is imported.
``PRESSLENS_PLUGINS`` names such modules, comma-separated; they are imported once, when
the first model is looked up, so a process that never loads a model never imports them.
The tests register their deterministic fake model this way, which reaches every
``presslens`` process they start without patching any code.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable

from ..errors import ModelNotAvailable
from .base import Embedder

ENV = "PRESSLENS_PLUGINS"

# name, backend, batch size, device -> a loaded embedder.
EmbedderFactory = Callable[[str, str, int, str], Embedder]

_factories: dict[str, EmbedderFactory] = {}
_imported: set[str] = set()


def register_embedder(name: str, factory: EmbedderFactory) -> None:
    """Make ``load_embedder(name, ...)`` call ``factory(name, backend, batch_size, device)``
    before any packaged or local model of that name is looked for."""
    _factories[name] = factory


def unregister_embedder(name: str) -> None:
    """Forget the embedder registered under ``name``, if any."""
    _factories.pop(name, None)


def registered(name: str, backend: str | None = None) -> EmbedderFactory | None:
    """The factory registered under ``name``, once the modules in ``PRESSLENS_PLUGINS``
    are imported; None when nothing is registered under it.

    ``backend`` only goes into the error, when a plugin cannot be imported.
    """
    load_plugins(name, backend)
    return _factories.get(name)


def load_plugins(model: str = "", backend: str | None = None) -> None:
    """Import each module ``PRESSLENS_PLUGINS`` names that is not imported yet.

    A module that cannot be imported is a ``ModelNotAvailable`` naming it and the variable:
    a model the user asked for may be the one it would have provided.
    """
    for module in (m.strip() for m in os.environ.get(ENV, "").split(",")):
        if not module or module in _imported:
            continue
        try:
            importlib.import_module(module)
        except Exception as error:  # any failure of a plugin's own import
            raise ModelNotAvailable(
                model=model, backend=backend,
                reason=f"the plugin module {module!r} named in {ENV} cannot be imported "
                       f"({type(error).__name__}: {error}); fix it or take it out of {ENV}",
            ) from None
        _imported.add(module)
