"""`presslens search`, `coverage` and `stats`: the commands that read an index."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import click

from ..models import ArticleRef, StoryOut
from ..params import DEFAULT_K, MAX_K, SORTS, BadParam, parse_search
from ..retrieve import MODES
from ..story_view import lead_text, same_day_text
from .common import settings as settings_of
from .common import worded

if TYPE_CHECKING:
    from ..engine import Engine
    from ..service import Searcher


def _engine(ctx: click.Context, **overrides) -> Engine:
    from ..engine import Engine

    with worded(ctx, searching=True):
        return Engine.open(settings_of(ctx, **overrides), keyword_index=False)


def _searcher(ctx: click.Context, **overrides) -> Searcher:
    """The search service over the index's live generation (the model loads here, not at
    import, so that --help stays quick)."""
    from ..service import Searcher

    return Searcher(_engine(ctx, **overrides))


@click.command()
@click.argument("query")
@click.option("-k", default=str(DEFAULT_K), show_default=True, metavar="N",
              help=f"How many results (1 to {MAX_K}).")
@click.option("--source", help="Only this outlet, by name or alias, in any case.")
@click.option("--since", metavar="YYYY-MM-DD", help="Published on or after.")
@click.option("--until", metavar="YYYY-MM-DD", help="Published on or before.")
@click.option("--language", metavar="CODE", help="Only articles in this language (e.g. en).")
@click.option("--lean", metavar="LABEL",
              help="Only articles whose outlet has this lean (left, center, right, ...).")
@click.option("--mode", default="hybrid", show_default=True, metavar="|".join(MODES),
              help="Keywords and vectors fused, or one of them alone.")
@click.option("--no-collapse", is_flag=True, help="List every article, not one per story.")
@click.option("--sort", default="relevance", show_default=True, metavar="|".join(SORTS),
              help="Best first, or the newest of every matching article first.")
@click.option("--model", help="Refuse unless the index was built with this model.")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON of /api/search.")
@click.pass_context
def search(ctx, query, k, source, since, until, language, lean, mode, no_collapse, sort,
           model, as_json):
    """Find the passages that answer QUERY, best first.

    A --source, --language or --lean that matches nothing in the index gives no
    results and says so on standard error, with the nearest values the index holds.

    \b
    Example:
      presslens search "Canada and Mexico join forces against US tariffs" -k 5
      presslens search "border wall funding" --source reuters --lean center
      presslens search "tariffs" --sort date
    """
    # The same checks, in the same words, as /api/search and the page.
    try:
        params = parse_search(query, k, source, since, until, not no_collapse, mode,
                              language, lean, sort)
    except BadParam as error:
        hint = {"q": "QUERY", "k": "-k", "collapse": "--no-collapse"}.get(
            error.field, f"--{error.field}")
        raise click.BadParameter(error.message, param_hint=hint) from None
    response = _searcher(ctx, model=model).search(params)
    for notice in response.notices:
        click.echo(f"Note: {notice.message}", err=True)
    if as_json:
        click.echo(response.model_dump_json(indent=2))
        return
    if not response.results:
        click.echo("No results.")
    elif response.weak:
        click.echo(f"No passage speaks to this: no result reaches a similarity of "
                   f"{response.floor:.2f}. The closest weak matches:")
    for rank, result in enumerate(response.results, start=1):
        article, story = result.article, result.story
        score = (f"  similarity {result.similarity:.2f}" if result.similarity is not None
                 else f"  score {result.score:.3f}")
        if result.weak:
            score += ", weak match"
        click.echo(click.style(f"{rank}. {article.title}", bold=True)
                   + f"  ({_meta(article)})" + click.style(score, dim=True))
        click.echo(f"   id {article.id}" + _first(story, article.id))
        if story is not None and story.articles > 1:
            click.echo(f"   {_story_line(story)}")
        snippet = textwrap.shorten(result.passage.text, 400, placeholder=" …")
        click.echo(textwrap.indent(textwrap.fill(snippet, 88), "   "))
        click.echo(click.style(f"   {article.url or article.id}", dim=True))
        for item in result.coverage:
            click.echo(f"   also: {item.article.source} ({item.relation}, "
                       f"{item.similarity:.2f}) {item.article.title}  [{item.article.id}]"
                       + _first(story, item.article.id))
    click.echo(click.style(f"{len(response.results)} results in {response.took_ms:.0f} ms",
                           dim=True))


def _meta(article: ArticleRef) -> str:
    """Outlet, date and lean, saying what is not known."""
    return ", ".join((article.source or "unknown outlet", article.published or "date unknown",
                      f"lean {article.lean}" if article.lean else "lean unknown"))


def _first(story: StoryOut | None, article_id: str) -> str:
    """"  · first reported, 1 day before Reuters" for the story's earliest article; where
    outlets tie on the first day, "  · Reported the same day by The Hill and Vox" instead,
    on the tied article that would have carried the mark."""
    if story is None or story.articles < 2:
        return ""
    if story.first_day_outlets and story.first_day_outlets[0].id == article_id:
        return f"  · {same_day_text(story)}"
    if story.first is None or story.first.id != article_id:
        return ""
    when = lead_text(story)
    return f"  · first reported, {when}" if when else "  · first reported"


def _story_line(story: StoryOut) -> str:
    """"story 7: 5 articles, 4 outlets; left 2, center 1, right 1, unknown 1; blindspot"."""
    leans = [f"{lean} {count}" for lean, count in story.leans.items()]
    if story.lean_unknown:
        leans.append(f"unknown {story.lean_unknown}")
    line = (f"story {story.id}: {story.articles} articles, {story.outlets} "
            f"outlet{'s' if story.outlets != 1 else ''}; " + ", ".join(leans))
    if story.blindspot:
        line += f"; blindspot: only the {story.blindspot} covered this"
    return line


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def stats(ctx, as_json):
    """What the index holds: articles, passages, stories, outlets, model, build time.

    \b
    Example:
      presslens stats --json
    """
    searcher = _searcher(ctx)
    info = searcher.stats()
    if as_json:
        click.echo(info.model_dump_json(indent=2))
        return
    click.echo(f"Index:     {searcher.gen.settings.index_dir}")
    for name in ("articles", "passages", "stories", "sources"):
        click.echo(f"{name.capitalize() + ':':<10} {getattr(info, name):,}")
    click.echo(f"Model:     {info.model} ({info.dimension} dimensions, {info.backend})")
    click.echo(f"Built:     {info.built_at}")
    click.echo(f"Generation: {info.generation}")
    if info.top_sources:
        click.echo("Top outlets:")
        for source, count in info.top_sources:
            click.echo(f"  {count:>6,}  {source}")


@click.command()
@click.argument("article_id")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON of the coverage route.")
@click.pass_context
def coverage(ctx, article_id, as_json):
    """The story of one article: who else carried it, earliest first, who reported it
    first, and how it splits by lean.

    \b
    Example (an article of the sample in data/sample):
      presslens coverage KfUSntWQz060LYYh
    """
    story = _searcher(ctx).coverage(article_id)
    if story is None:
        raise click.ClickException(f"no article with id {article_id!r} in the index")
    if as_json:
        click.echo(story.model_dump_json(indent=2))
        return
    article = story.article
    click.echo(click.style(article.title, bold=True))
    click.echo(f"{_meta(article)}  id {article.id}" + _first(story.story, article.id))
    if story.story is not None:
        click.echo(_story_line(story.story))
    if not story.coverage:
        click.echo("No other outlet carried this story in the index.")
    for item in story.coverage:
        why = (f"{item.shared_text:.0%} of text shared" if item.shared_text is not None
               else f"similarity {item.similarity:.2f}")
        click.echo(f"  {item.article.published or 'undated':<10}  {item.relation:<9}  "
                   f"{item.article.source or '?'} ({item.article.lean or 'lean unknown'}): "
                   f"{item.article.title}  ({why})  [{item.article.id}]"
                   + _first(story.story, item.article.id))
