"""The `presslens` command: build the index, search it, serve it."""

from __future__ import annotations

import json
import shlex
import textwrap
from pathlib import Path

import click

from indexer.embed import BACKENDS
from indexer.settings import PROJECT_ROOT, Settings

from .retrieve import MODES

EPILOG = """\b
Examples:
  presslens index data/sample
  presslens search "Canada and Mexico join forces against US tariffs"
  presslens search "border wall funding" -k 5 --json
  presslens serve
"""


def _errors():
    """Errors a user can cause or fix, turned into one clear line instead of a traceback."""
    from indexer.build import IndexBusy, IndexModelMismatch
    from indexer.embed import ModelNotAvailable
    from indexer.generations import IndexDamaged

    from .engine import IndexNotFound, ModelMismatch

    return (IndexNotFound, ModelMismatch, IndexModelMismatch, ModelNotAvailable, IndexBusy,
            IndexDamaged)


@click.group(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--index", "index_dir", type=click.Path(file_okay=False, path_type=Path),
              envvar="PRESSLENS_INDEX", show_envvar=True,
              help="Index folder. Default: data/index in the project.")
@click.version_option(package_name="presslens")
@click.pass_context
def cli(ctx: click.Context, index_dir: Path | None) -> None:
    """PressLens: semantic search over collected political news.

    Index the articles you collected (saved pages, exports, feeds), then ask
    questions in your own words and see every outlet that carried each story.
    """
    ctx.obj = {"index_dir": index_dir}


def _settings(ctx: click.Context, **overrides) -> Settings:
    return Settings.from_env(ctx.obj["index_dir"], **overrides)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--rebuild", is_flag=True, help="Start from scratch (cached vectors are kept).")
@click.option("--prune", is_flag=True,
              help="Remove articles indexed from under PATHS that are no longer there.")
@click.option("--model", help="sentence-transformers model name or folder.")
@click.option("--backend", type=click.Choice(BACKENDS),
              help="What runs the model (recorded in the index; queries use the same).")
@click.option("--chunk-tokens", type=click.IntRange(16, 512),
              help="Largest passage, in model tokens (default 128).")
@click.option("--title-prefix/--no-title-prefix", default=None,
              help="Embed each passage after its article's title (the default).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
def index(ctx, paths, rebuild, prune, model, backend, chunk_tokens, title_prefix, as_json,
          quiet):
    """Build or update the index from files and folders.

    Reads .txt, .html, .htm, .jsonl, .json and .csv files (each may be .gz), RSS
    and Atom feeds, WARC crawls, and folders of them recursively. Unchanged
    articles are not embedded again. With no PATH, reads again the paths the
    index was last built from.

    \b
    Example:
      presslens index data/sample ~/saved-pages
    """
    from indexer.build import build_index
    from indexer.store import Store

    settings = _settings(ctx, model=model, backend=backend, chunk_tokens=chunk_tokens,
                         title_prefix=title_prefix)
    if not paths:
        remembered = None
        if settings.db_path.exists():
            store = Store.open_read_only(settings.db_path)
            remembered = store.get_meta().get("paths")
            store.close()
        if not remembered:
            raise click.UsageError("give at least one file or folder to index, e.g. "
                                   "presslens index data/sample")
        paths = tuple(Path(p) for p in json.loads(remembered))
    try:
        report = build_index(settings, list(paths), rebuild=rebuild, prune=prune,
                             progress=not quiet and not as_json)
    except _errors() as error:
        raise click.ClickException(str(error)) from None
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
        return
    click.echo(f"Indexed {', '.join(map(str, paths))} into {settings.index_dir} "
               f"in {report.seconds:.1f}s")
    for name in ("added", "updated", "unchanged", "removed"):
        click.echo(f"  {name:<10} {getattr(report, name):>7,}")
    click.echo(f"  {'skipped':<10} {len(report.skipped):>7,}")
    for skipped in report.skipped[:50]:
        click.echo(f"    {skipped.origin}: {skipped.reason}")
    if len(report.skipped) > 50:
        click.echo(f"    ... and {len(report.skipped) - 50} more (--json lists all)")
    if report.truncated:
        click.echo(f"  {'truncated':<10} {len(report.truncated):>7,}")
        for cut in report.truncated[:20]:
            click.echo(f"    {cut.origin}: {cut.reason}")
    click.echo(f"  passages {report.passages:,} (embedded {report.embedded:,}, "
               f"from cache {report.cached:,})")
    click.echo(f"  generation {report.generation or '-'} (live)")
    where = f"--index {shlex.quote(str(settings.index_dir))} " if ctx.obj["index_dir"] else ""
    click.echo(f'Search it: presslens {where}search "your question"')


@cli.command()
@click.argument("query")
@click.option("-k", type=click.IntRange(1, 100), default=10, show_default=True,
              help="How many results.")
@click.option("--source", help="Only this outlet.")
@click.option("--since", metavar="YYYY-MM-DD", help="Published on or after.")
@click.option("--until", metavar="YYYY-MM-DD", help="Published on or before.")
@click.option("--language", metavar="CODE", help="Only articles in this language (e.g. en).")
@click.option("--mode", type=click.Choice(MODES), default="hybrid", show_default=True,
              help="Keywords and vectors fused, or one of them alone.")
@click.option("--no-collapse", is_flag=True, help="List every article, not one per story.")
@click.option("--model", help="Refuse unless the index was built with this model.")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON of /api/search.")
@click.pass_context
def search(ctx, query, k, source, since, until, language, mode, no_collapse, model, as_json):
    """Find the passages that answer QUERY, best first.

    \b
    Example:
      presslens search "Canada and Mexico join forces against US tariffs" -k 5
    """
    from indexer.extract import normalise_date

    from .engine import Engine

    if not query.strip():
        raise click.UsageError("QUERY is empty")
    for name, value in (("--since", since), ("--until", until)):
        if value and normalise_date(value) != value:
            raise click.BadParameter(f"{value!r} is not a date like 2020-01-31",
                                     param_hint=name)
    try:
        engine = Engine.open(_settings(ctx, model=model), keyword_index=False)
    except _errors() as error:
        raise click.ClickException(str(error)) from None
    response = engine.search(query, k=k, source=source, since=since, until=until,
                             language=language, mode=mode, collapse=not no_collapse)
    if as_json:
        click.echo(response.model_dump_json(indent=2))
        return
    if not response.results:
        click.echo("No results.")
    for rank, result in enumerate(response.results, start=1):
        article = result.article
        meta = ", ".join(x for x in (article.source, article.published) if x)
        click.echo(click.style(f"{rank}. {article.title}", bold=True)
                   + (f"  ({meta})" if meta else "")
                   + click.style(f"  score {result.score:.3f}", dim=True))
        snippet = textwrap.shorten(result.passage.text, 400, placeholder=" …")
        click.echo(textwrap.indent(textwrap.fill(snippet, 88), "   "))
        click.echo(click.style(f"   {article.url or article.id}", dim=True))
        for item in result.coverage:
            click.echo(f"   also: {item.article.source} ({item.relation}, "
                       f"{item.similarity:.2f}) {item.article.title}")
    click.echo(click.style(f"{len(response.results)} results in {response.took_ms:.0f} ms",
                           dim=True))


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def stats(ctx, as_json):
    """What the index holds: articles, passages, stories, outlets, model, build time.

    \b
    Example:
      presslens stats --json
    """
    from .engine import Engine

    try:
        engine = Engine.open(_settings(ctx), keyword_index=False)
    except _errors() as error:
        raise click.ClickException(str(error)) from None
    info = engine.stats()
    if as_json:
        click.echo(info.model_dump_json(indent=2))
        return
    click.echo(f"Index:     {engine.settings.index_dir}")
    for name in ("articles", "passages", "stories", "sources"):
        click.echo(f"{name.capitalize() + ':':<10} {getattr(info, name):,}")
    click.echo(f"Model:     {info.model} ({info.dimension} dimensions, {info.backend})")
    click.echo(f"Built:     {info.built_at}")
    click.echo(f"Generation: {info.generation}")
    if info.top_sources:
        click.echo("Top outlets:")
        for source, count in info.top_sources:
            click.echo(f"  {count:>6,}  {source}")


@cli.group(name="eval")
def evaluate():
    """Measure search quality on labelled data."""


@evaluate.command(name="retrieval")
@click.argument("queries", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("qrels", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--split", default="val,test", show_default=True,
              help="neus_split values to use, comma-separated; 'all' for every query.")
@click.option("--mode", "modes", type=click.Choice([*MODES, "all"]), default="all",
              show_default=True, help="Which retrieval to score.")
@click.option("-k", type=click.IntRange(1, 100), default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def eval_retrieval(ctx, queries, qrels, split, modes, k, as_json):
    """Score search on judged queries: success@1, success@10, recall@10, MRR@10, nDCG@10.

    Articles are the unit: a query succeeds when a judged article is ranked. Queries
    whose judged articles are not in the index are left out (the count says how many
    were scored).

    \b
    Example:
      presslens eval retrieval ../shared/data/story_groups/queries.jsonl \\
          ../shared/data/story_groups/qrels.tsv --split val,test
    """
    from .engine import Engine
    from .evaluate import evaluate_retrieval, judged_in_index, load_qrels, load_queries

    try:
        engine = Engine.open(_settings(ctx))
    except _errors() as error:
        raise click.ClickException(str(error)) from None
    engine.wait_for_keywords()  # many queries: worth the in-memory keyword index
    splits = None if split == "all" else {s.strip() for s in split.split(",")}
    judged = judged_in_index(engine, load_queries(queries, splits), load_qrels(qrels))
    if not judged:
        raise click.ClickException("no query has a judged article in this index")
    rows = [evaluate_retrieval(engine, judged, mode, k)
            for mode in (MODES if modes == "all" else (modes,))]
    if as_json:
        click.echo(json.dumps([row.as_dict() for row in rows], indent=2))
        return
    click.echo(f"{len(judged)} queries (split {split}), "
               f"{engine.stats().articles:,} articles in the index")
    click.echo("| mode | success@1 | success@10 | recall@10 | MRR@10 | nDCG@10 | seconds |")
    click.echo("| --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        click.echo(f"| {row.mode} | {row.success_at_1:.4f} | {row.success_at_10:.4f} | "
                   f"{row.recall_at_10:.4f} | {row.mrr_at_10:.4f} | {row.ndcg_at_10:.4f} | "
                   f"{row.seconds} |")


@evaluate.command(name="coverage")
@click.option("--related", "membership", type=click.Path(exists=True, dir_okay=False,
              path_type=Path), help="Same-story labels (story_membership.jsonl).")
@click.option("--split", default="val,test", show_default=True,
              help="neus_split values for --related, comma-separated; 'all' for every story.")
@click.option("--duplicates", "pair_files", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Labelled pairs (a, b, and label or jaccard); may be repeated.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def eval_coverage(ctx, membership, split, pair_files, as_json):
    """Score story grouping on labelled pairs: precision, recall and F1 of pairs.

    \b
    Example:
      presslens eval coverage --related ../shared/data/story_groups/story_membership.jsonl \\
          --duplicates ../shared/data/bbc/bbc_duplicate_pairs.jsonl
    """
    from .engine import Engine
    from .evaluate import evaluate_duplicates, evaluate_related

    if not membership and not pair_files:
        raise click.UsageError("give --related and/or --duplicates")
    try:
        engine = Engine.open(_settings(ctx), keyword_index=False)
    except _errors() as error:
        raise click.ClickException(str(error)) from None
    rows = {}
    if membership:
        splits = None if split == "all" else {s.strip() for s in split.split(",")}
        rows[f"related ({split})"] = evaluate_related(engine, membership, splits)
    for path in pair_files:
        rows[f"duplicates ({path.name})"] = evaluate_duplicates(engine, path)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for name, scores in rows.items():
        figures = ", ".join(f"{k} {v}" for k, v in scores.items())
        click.echo(f"{name}: {figures}")


@cli.command()
@click.argument("article_id")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON of the coverage route.")
@click.pass_context
def coverage(ctx, article_id, as_json):
    """The story of one article: who else carried it, earliest first.

    \b
    Example:
      presslens coverage 3Pna4x6u4Ksz9Upf
    """
    from .engine import Engine

    try:
        engine = Engine.open(_settings(ctx), keyword_index=False)
    except _errors() as error:
        raise click.ClickException(str(error)) from None
    story = engine.coverage(article_id)
    if story is None:
        raise click.ClickException(f"no article with id {article_id!r} in the index")
    if as_json:
        click.echo(story.model_dump_json(indent=2))
        return
    article = story.article
    click.echo(click.style(article.title, bold=True))
    click.echo(f"{article.source or 'unknown outlet'}, {article.published or 'undated'} "
               f"(story {story.story_id})")
    if not story.coverage:
        click.echo("No other outlet carried this story in the index.")
    for item in story.coverage:
        why = (f"{item.shared_text:.0%} of text shared" if item.shared_text is not None
               else f"similarity {item.similarity:.2f}")
        click.echo(f"  {item.article.published or 'undated':<10}  {item.relation:<9}  "
                   f"{item.article.source or '?'}: {item.article.title}  ({why})")


@cli.command()
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

    settings = _settings(ctx)
    try:
        report = remove_articles(settings, article_ids)
    except (FileNotFoundError, *_errors()) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Removed {report.removed} article(s) from {settings.index_dir}")
    for skipped in report.skipped:
        click.echo(f"  {skipped.origin}: {skipped.reason}")
    if report.skipped and not report.removed:
        ctx.exit(1)


@cli.command()
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

    from .api import create_app

    uvicorn.run(create_app(_settings(ctx)), host=host, port=port, access_log=access_log)


@cli.command()
@click.option("--shared", type=click.Path(file_okay=False, path_type=Path),
              default=lambda: str(PROJECT_ROOT.parent / "shared" / "data"),
              show_default="../shared/data", help="The labelled data folder (abp/, story_groups/).")
@click.option("--work", type=click.Path(file_okay=False, path_type=Path),
              default=lambda: str(PROJECT_ROOT / "bench-results" / "bench"),
              show_default="bench-results/bench",
              help="Where indexes are built and kept for the next run.")
@click.option("--index-passages", type=click.IntRange(20), default=4_000, show_default=True,
              help="About how many passages each indexing run embeds.")
@click.option("--serve-sizes", default="20000,200000", show_default=True,
              help="Passages in each serving index, comma-separated.")
@click.option("--queries", type=click.IntRange(20), default=2_000, show_default=True,
              help="Queries sent to /api/search at each size.")
@click.option("--search-queries", type=click.IntRange(1), default=500, show_default=True,
              help="Queries answered one at a time in process, by PressLens and by txtai.")
@click.option("--concurrency", type=click.IntRange(1, 64), default=8, show_default=True)
@click.option("--backends", default=",".join(BACKENDS), show_default=True,
              help="Embedding backends to index with, comma-separated.")
@click.option("--no-peer", is_flag=True, help="Leave txtai out.")
@click.option("--only", type=click.Choice(["indexing", "serving"]),
              help="Run one half of the benchmark.")
def bench(shared, work, index_passages, serve_sizes, queries, search_queries, concurrency,
          backends, no_peer, only):
    """Measure indexing, search and serving against plain torch encoding and txtai.

    Prints one table (also written to WORK/bench.md, with the raw figures in
    WORK/bench.json) and the command that reproduces it. Needs ../shared/data beside
    the project. A first run builds indexes of up to 200,000 passages, which takes
    a long while; later runs reuse them.

    \b
    Example:
      presslens bench
      presslens bench --only indexing --index-passages 1000
    """
    from benchmarks.suite import BenchConfig, run

    chosen = tuple(b for b in backends.split(",") if b)
    unknown = [b for b in chosen if b not in BACKENDS]
    if unknown or not chosen:
        raise click.BadParameter(f"choose from {', '.join(BACKENDS)}", param_hint="--backends")
    try:
        sizes = tuple(sorted({int(s) for s in serve_sizes.split(",") if s.strip()}))
    except ValueError:
        raise click.BadParameter("give numbers, e.g. 20000,200000",
                                 param_hint="--serve-sizes") from None
    if not sizes or min(sizes) < 100:
        raise click.BadParameter("each size must be at least 100", param_hint="--serve-sizes")
    config = BenchConfig(shared=shared.expanduser(), work=work.expanduser(),
                         index_passages=index_passages, serve_sizes=sizes, queries=queries,
                         search_queries=search_queries, concurrency=concurrency,
                         backends=chosen, peer=not no_peer)
    command = shlex.join([
        "presslens", "bench", "--shared", str(shared), "--work", str(work),
        "--index-passages", str(index_passages), "--serve-sizes", ",".join(map(str, sizes)),
        "--queries", str(queries), "--search-queries", str(search_queries),
        "--concurrency", str(concurrency), "--backends", ",".join(chosen),
        *(["--no-peer"] if no_peer else []), *(["--only", only] if only else [])])
    parts = (only,) if only else ("indexing", "serving")
    click.echo(run(config, command, parts))
