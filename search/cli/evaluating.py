"""`presslens eval`: search and story quality measured on labelled data."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..retrieve import MODES
from .common import settings as settings_of
from .common import worded


@click.group(name="eval")
def evaluate():
    """Measure search quality on labelled data."""


@evaluate.command(name="retrieval")
@click.argument("queries", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("qrels", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--split", default="val,test", show_default=True,
              help="neus_split values to use, comma-separated; 'all' for every query.")
@click.option("--kind", default="all", show_default=True,
              help="Query kinds to use (the queries' `kind` field), comma-separated; 'all' "
                   "for every query.")
@click.option("--mode", "modes", type=click.Choice([*MODES, "all"]), default="all",
              show_default=True, help="Which retrieval to score.")
@click.option("-k", type=click.IntRange(1, 100), default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def eval_retrieval(ctx, queries, qrels, split, kind, modes, k, as_json):
    """Score search on judged queries: success@1, success@10, recall@10, MRR@10, nDCG@10.

    Articles are the unit: a query succeeds when a judged article is ranked. Queries
    whose judged articles are not in the index are left out (the count says how many
    were scored).

    \b
    Example:
      presslens eval retrieval ../shared/data/story_groups/queries.jsonl \\
          ../shared/data/story_groups/qrels.tsv --split val,test
    """
    from ..engine import Engine
    from ..evaluate import evaluate_retrieval, judged_in_index, load_qrels, load_queries

    with worded(ctx, searching=True):
        engine = Engine.open(settings_of(ctx))
    engine.wait_for_keywords()  # many queries: worth the in-memory keyword index
    splits = None if split == "all" else {s.strip() for s in split.split(",")}
    kinds = None if kind == "all" else {s.strip() for s in kind.split(",")}
    judged = judged_in_index(engine, load_queries(queries, splits, kinds), load_qrels(qrels))
    if not judged:
        raise click.ClickException("no query has a judged article in this index")
    rows = [evaluate_retrieval(engine, judged, mode, k)
            for mode in (MODES if modes == "all" else (modes,))]
    if as_json:
        click.echo(json.dumps([row.as_dict() for row in rows], indent=2))
        return
    click.echo(f"{len(judged)} queries (split {split}, kind {kind}), "
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
    from ..engine import Engine
    from ..evaluate import evaluate_duplicates, evaluate_related

    if not membership and not pair_files:
        raise click.UsageError("give --related and/or --duplicates")
    with worded(ctx, searching=True):
        engine = Engine.open(settings_of(ctx), keyword_index=False)
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
