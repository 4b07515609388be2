"""The app of one server process among several (`presslens serve --workers N`).

Uvicorn starts each worker process afresh and asks it for the app by name, so the settings
cannot be handed over as arguments: the parent puts them in the environment (the index in
``PRESSLENS_INDEX``, the token in ``PRESSLENS_TOKEN``, which keeps it out of every process's
command line) and each worker builds its own app, and opens its own engine, from them.
"""

from __future__ import annotations

import os

from fastapi import FastAPI

from indexer.settings import Settings

from .app import create_app
from .auth import token_problem


def create_app_from_env() -> FastAPI:
    """``create_app`` with the settings and the token the serving process left in the
    environment (see ``presslens serve --workers``)."""
    token = os.environ.get("PRESSLENS_TOKEN")
    if token is not None:
        problem = token_problem(token)
        if problem:  # the parent checks it first; never repeat the token itself
            raise RuntimeError(f"PRESSLENS_TOKEN cannot be used: {problem}")
    return create_app(Settings.from_env(), token=token)
