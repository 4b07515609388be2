"""The `presslens` command: build the index, search it, serve it.

One group; each module holds the commands of one role: ``indexing`` (index, remove),
``querying`` (search, coverage, stats), ``exporting`` (export), ``evaluating`` (eval),
``serving`` (serve, bench).
"""

from __future__ import annotations

from pathlib import Path

import click

from . import evaluating, exporting, indexing, querying, serving

EPILOG = """\b
Examples:
  presslens index data/sample
  presslens search "Canada and Mexico join forces against US tariffs"
  presslens search "border wall funding" -k 5 --json
  presslens serve
"""


@click.group(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--index", "index_dir", type=click.Path(file_okay=False, path_type=Path),
              envvar="PRESSLENS_INDEX", show_envvar=True,
              help="Index folder. Default: data/index in the checkout; for an installed copy, "
                   "presslens/index in the user's data folder (XDG_DATA_HOME).")
@click.version_option(package_name="presslens")
@click.pass_context
def cli(ctx: click.Context, index_dir: Path | None) -> None:
    """PressLens: semantic search over collected political news.

    Index the articles you collected (saved pages, exports, feeds), then ask
    questions in your own words and see every outlet that carried each story.
    """
    ctx.obj = {"index_dir": index_dir}


for command in (indexing.index, indexing.remove, querying.search, querying.stats,
                evaluating.evaluate, querying.coverage, exporting.export, serving.serve,
                serving.bench):
    cli.add_command(command)
