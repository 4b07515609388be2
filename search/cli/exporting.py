"""`presslens export`: every article that matches a query, as CSV or JSON Lines."""

from __future__ import annotations

import click

from ..params import FORMATS, BadParam, check_format, parse_search
from ..retrieve import MODES
from .querying import _searcher


@click.command()
@click.argument("query")
@click.option("--format", "fmt", default="csv", show_default=True, metavar="|".join(FORMATS),
              help="CSV (UTF-8 with a byte order mark, for spreadsheets) or JSON Lines.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Write to this file instead of standard output.")
@click.option("--source", help="Only this outlet, by name or alias, in any case.")
@click.option("--since", metavar="YYYY-MM-DD", help="Published on or after.")
@click.option("--until", metavar="YYYY-MM-DD", help="Published on or before.")
@click.option("--language", metavar="CODE", help="Only articles in this language (e.g. en).")
@click.option("--lean", metavar="LABEL",
              help="Only articles whose outlet has this lean (left, center, right, ...).")
@click.option("--mode", default="hybrid", show_default=True, metavar="|".join(MODES),
              help="Keywords and vectors together, or one of them alone.")
@click.option("--model", help="Refuse unless the index was built with this model.")
@click.pass_context
def export(ctx, query, fmt, output, source, since, until, language, lean, mode, model):
    """Write every article that matches QUERY, not only the top k, one a row.

    The matching articles are those whose best passage reaches the similarity floor
    and those that hold every word of the query (docs/search.md, "The matching
    set"). Columns: id, title, source, lean, published, url, story_id, relation,
    score, similarity, language, passage. Rows are written as they are found, in
    constant memory. A filter that matches nothing is said on standard error.

    \b
    Example:
      presslens export "border wall funding" -o wall.csv
      presslens export tariffs --format jsonl --since 2020-01-01 > tariffs.jsonl
    """
    try:
        fmt = check_format(fmt)
        params = parse_search(query, None, source, since, until, True, mode, language, lean)
    except BadParam as error:
        hint = {"q": "QUERY"}.get(error.field, f"--{error.field}")
        raise click.BadParameter(error.message, param_hint=hint) from None
    found = _searcher(ctx, model=model).export(params, fmt)
    for notice in found.notices:
        click.echo(f"Note: {notice.message}", err=True)
    written = 0
    # Bytes, so that the file is UTF-8 and its line ends are CSV's whatever the platform.
    with click.open_file(output or "-", "wb") as out:
        for line in found.lines:
            out.write(line.encode("utf-8"))
            written += 1
    if output:
        rows = written - 1 if fmt == "csv" else written
        click.echo(f"{rows:,} matching articles written to {output}", err=True)
