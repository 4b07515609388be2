"""`presslens index` and `presslens remove`: the commands that change an index."""

from __future__ import annotations

import contextlib
import json
import shlex
from pathlib import Path

import click

from indexer.settings import BACKENDS, DEVICES

from .common import settings as settings_of
from .common import worded

ENGINES = ("local", "ray")


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--rebuild", is_flag=True, help="Start from scratch (cached vectors are kept).")
@click.option("--prune", is_flag=True,
              help="Remove articles indexed from under PATHS that are no longer there.")
@click.option("--model", help="sentence-transformers model name or folder.")
@click.option("--backend", type=click.Choice(BACKENDS),
              help="What runs the model (recorded in the index; queries use the same).")
@click.option("--device", type=click.Choice(DEVICES),
              help="Where the torch backend runs the model: cuda (a GPU, half precision) or "
              "cpu. Recorded in the index. Default: cuda when --backend torch finds a GPU, "
              "else cpu; OpenVINO backends run on the CPU only.")
@click.option("--chunk-tokens", type=click.IntRange(16, 512),
              help="Largest passage, in model tokens (default 128).")
@click.option("--title-prefix/--no-title-prefix", default=None,
              help="Embed each passage after its article's title (the default).")
@click.option("--outlets", "outlets", type=click.Path(dir_okay=False, path_type=Path),
              metavar="FILE.csv",
              help="Outlets file (columns outlet,lean,aliases; aliases separated by |): one "
              "outlet for each of its spellings, and its lean. Recorded in the index; it "
              "replaces the one recorded before.")
@click.option("--engine", type=click.Choice(ENGINES), default="local", show_default=True,
              help="Where new passages are embedded: here, or on a Ray cluster (the index "
              "is the same either way).")
@click.option("--ray-address", metavar="ADDR",
              help="The Ray cluster for --engine ray (HOST:PORT of its head, ray://HOST:PORT "
              "or auto); without it, a Ray is started on this machine for the run.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
def index(ctx, paths, rebuild, prune, model, backend, device, chunk_tokens, title_prefix,
          outlets, engine, ray_address, as_json, quiet):
    """Build or update the index from files and folders.

    Reads .txt, .html, .htm, .jsonl, .json and .csv files (each may be .gz), RSS
    and Atom feeds, WARC crawls, and folders of them recursively. Unchanged
    articles are not embedded again. With no PATH, reads again the paths the
    index was last built from.

    \b
    Examples:
      presslens index data/sample ~/saved-pages
      presslens index --outlets data/outlets.csv data/sample
      presslens index --backend torch --device cuda data/sample
      presslens index --engine ray --ray-address 10.0.0.5:6379 data/sample
    """
    from indexer.build import build_index, remembered_paths

    if ray_address is not None and engine != "ray":
        raise click.UsageError("--ray-address needs --engine ray")

    settings = settings_of(ctx, model=model, backend=backend, device=device,
                           chunk_tokens=chunk_tokens, title_prefix=title_prefix)
    if not paths:
        paths = tuple(remembered_paths(settings.index_dir))
        if not paths:
            raise click.UsageError("give at least one file or folder to index, e.g. "
                                   "presslens index data/sample")
    progress = not quiet and not as_json
    with worded(ctx), _engine(engine, ray_address) as embedding:
        report = build_index(settings, list(paths), rebuild=rebuild, prune=prune,
                             progress=progress, outlets=outlets, engine=embedding)
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
        return
    click.echo(f"Indexed {', '.join(map(str, paths))} into {settings.index_dir} "
               f"in {report.seconds:.1f}s")
    for name in ("added", "updated", "unchanged", "removed"):
        click.echo(f"  {name:<10} {getattr(report, name):>7,}")
    if report.readded:
        click.echo(f"  re-added {report.readded:,} removed article(s): still in their input "
                   "files, so indexed again (take them out of the files to keep them out)")
    click.echo(f"  {'skipped':<10} {len(report.skipped):>7,}")
    for skipped in report.skipped[:50]:
        click.echo(f"    {skipped.origin}: {skipped.reason}")
    if len(report.skipped) > 50:
        click.echo(f"    ... and {len(report.skipped) - 50} more (--json lists all)")
    if report.truncated:
        click.echo(f"  {'truncated':<10} {len(report.truncated):>7,}")
        for cut in report.truncated[:20]:
            click.echo(f"    {cut.origin}: {cut.reason}")
    if report.refiled:
        click.echo(f"  refiled {report.refiled:,} article(s) under the outlets file's outlets "
                   "and leans")
    if report.languages_detected:
        click.echo(f"  detected the language of {report.languages_detected:,} article(s) "
                   "indexed before languages were detected")
    click.echo(f"  passages {report.passages:,} (embedded {report.embedded:,}, "
               f"from cache {report.cached:,})")
    click.echo(f"  generation {report.generation or '-'} (live)")
    where = f"--index {shlex.quote(str(settings.index_dir))} " if ctx.obj["index_dir"] else ""
    click.echo(f'Search it: presslens {where}search "your question"')


def _engine(name: str, address: str | None):
    """The embedding engine, entered: None for this machine's, else a Ray cluster's."""
    if name == "local":
        return contextlib.nullcontext()
    from indexer.embed.ray_engine import RayEngine

    return RayEngine(address)  # its progress shows in the build's own bar


@click.command()
@click.argument("article_ids", nargs=-1, required=True)
@click.pass_context
def remove(ctx, article_ids):
    """Remove articles from the index by id.

    Their stories, keyword index and vector index are updated; the other articles of
    their stories are grouped again.

    \b
    Example:
      presslens remove GUoPp2i9TufUaNKQ
    """
    from indexer.build import remove_articles

    settings = settings_of(ctx)
    with worded(ctx):
        report = remove_articles(settings, article_ids)
    click.echo(f"Removed {report.removed} article(s) from {settings.index_dir}")
    for skipped in report.skipped:
        click.echo(f"  {skipped.origin}: {skipped.reason}")
    if report.skipped and not report.removed:
        ctx.exit(1)
