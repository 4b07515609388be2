"""`presslens serve`, and `presslens bench`, which runs the benchmarks of a checkout."""

from __future__ import annotations

import os
import subprocess
import sys

import click

from indexer.settings import PROJECT_ROOT

from .common import settings as settings_of


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Any but loopback needs --token (or --public).")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--access-log", is_flag=True, help="Log a line for every request.")
@click.option("--token", envvar="PRESSLENS_TOKEN", show_envvar=True, metavar="TOKEN",
              help="Every route but /healthz asks for this token: an 'Authorization: "
              "Bearer TOKEN' header, or the page's sign-in form.")
@click.option("--public", is_flag=True,
              help="Serve an address other than loopback without a token, to anyone who "
              "can reach it.")
@click.option("--workers", type=int, default=1, show_default=True, metavar="N",
              help="Server processes over the same index, each with its own engine, each "
              "following the live generation.")
@click.pass_context
def serve(ctx, host, port, access_log, token, public, workers):
    """Serve the search page and the JSON API.

    \b
    Example:
      presslens serve --port 8000
      curl '127.0.0.1:8000/api/search?q=border+wall+funding'

    \b
    A private collection, served to others:
      PRESSLENS_TOKEN=$(python -c 'import secrets; print(secrets.token_urlsafe(32))') \\
        presslens serve --host 0.0.0.0
      curl -H "Authorization: Bearer $PRESSLENS_TOKEN" 'HOST:8000/api/search?q=tariffs'

    \b
    Two server processes on one port:
      presslens serve --workers 2
    """
    check_workers(workers)
    token = check_serving(host, token, public)
    import uvicorn

    settings = settings_of(ctx)
    if workers == 1:
        from ..web.app import create_app

        uvicorn.run(create_app(settings, token=token), host=host, port=port,
                    access_log=access_log)
        return
    # Each worker is a fresh process that builds its own app from the environment
    # (search/web/factory.py): the index by its absolute path, and the token, which so
    # never appears on a command line.
    os.environ["PRESSLENS_INDEX"] = str(settings.index_dir.resolve())
    if token is None:
        os.environ.pop("PRESSLENS_TOKEN", None)
    else:
        os.environ["PRESSLENS_TOKEN"] = token
    uvicorn.run("search.web.factory:create_app_from_env", factory=True, workers=workers,
                host=host, port=port, access_log=access_log)


def check_workers(workers: int) -> None:
    """Refuse a number of server processes that cannot serve; warn of more than cores."""
    if workers < 1:
        raise click.BadParameter(f"{workers} server processes cannot serve; give 1 or more "
                                 "(1 is one process, as without --workers).",
                                 param_hint="'--workers'")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if cores and workers > cores:
        click.echo(f"Warning: {workers} server processes on {cores} cores: they will take "
                   "turns on the cores, and each holds its own model and engine in memory.",
                   err=True)


def check_serving(host: str, token: str | None, public: bool) -> str | None:
    """The token to serve with, after refusing what would expose a collection by mistake.

    Nothing said here repeats the token.
    """
    from ..web.auth import MAKE_A_TOKEN, STRONG_TOKEN_CHARS, is_loopback, token_problem

    if token is None and os.environ.get("PRESSLENS_TOKEN") == "":
        raise click.UsageError("PRESSLENS_TOKEN is set but empty: give it a token "
                               f"(for example from {MAKE_A_TOKEN}), or unset it.")
    if token is not None:
        problem = token_problem(token)
        if problem:
            raise click.BadParameter(f"{problem}. A strong one: {MAKE_A_TOKEN}",
                                     param_hint="'--token' / PRESSLENS_TOKEN")
        if len(token) < STRONG_TOKEN_CHARS:
            click.echo(f"Warning: the token is shorter than {STRONG_TOKEN_CHARS} characters "
                       f"and may be guessed; a strong one: {MAKE_A_TOKEN}", err=True)
        click.echo("Every route but /healthz asks for the token (sign in at /sign-in, or "
                   "send Authorization: Bearer).", err=True)
        return token
    if not is_loopback(host):
        if not public:
            raise click.UsageError(
                f"--host {host} serves beyond this machine, and no token is set: anyone who "
                "can reach it could read the collection. Give a token (--token TOKEN or "
                "PRESSLENS_TOKEN) to ask every request for it, or --public to serve the "
                "collection to everyone who can reach the address.")
        click.echo(f"Serving {host} to anyone who can reach it, without a token (--public).",
                   err=True)
    return None


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
