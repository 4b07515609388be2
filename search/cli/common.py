"""What every command shares: its settings, and errors turned into one line."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import click

from indexer.errors import PressLensError
from indexer.settings import Settings

from .. import messages


def settings(ctx: click.Context, **overrides) -> Settings:
    return Settings.from_env(ctx.obj["index_dir"], **overrides)


@contextlib.contextmanager
def worded(ctx: click.Context, searching: bool = False) -> Iterator[None]:
    """Errors a user can cause or fix, as one clear line (exit 1) instead of a traceback."""
    try:
        yield
    except PressLensError as error:
        raise click.ClickException(
            messages.explain(error, ctx.obj["index_dir"], searching=searching)) from None
