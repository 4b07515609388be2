"""`presslens serve`, and `presslens bench`, which runs the benchmarks of a checkout."""

from __future__ import annotations

import subprocess
import sys

import click

from indexer.settings import PROJECT_ROOT

from .common import settings as settings_of


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--access-log", is_flag=True, help="Log a line for every request.")
@click.pass_context
def serve(ctx, host, port, access_log):
    """Serve the search page and the JSON API.

    \b
    Example:
      presslens serve --port 8000
      curl '127.0.0.1:8000/api/search?q=border+wall+funding'
    """
    import uvicorn

    from ..web.api import create_app

    uvicorn.run(create_app(settings_of(ctx)), host=host, port=port, access_log=access_log)


@click.command(context_settings={"ignore_unknown_options": True,
                                 "allow_extra_args": True}, add_help_option=False)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def bench(args):
    """Measure indexing, search and serving against plain torch encoding and txtai.

    Runs the benchmarks of this PressLens checkout (benchmarks/, not installed with the
    package); `presslens bench --help` lists their options.

    \b
    Example:
      presslens bench
      presslens bench --only indexing --index-passages 1000
    """
    if not (PROJECT_ROOT / "benchmarks" / "suite.py").is_file():
        raise click.ClickException(
            f"presslens bench runs the benchmarks of a PressLens checkout, and {PROJECT_ROOT} "
            "has none: run it from a clone of the project (make bench)")
    done = subprocess.run([sys.executable, "-m", "benchmarks", *args], cwd=PROJECT_ROOT)
    sys.exit(done.returncode)
