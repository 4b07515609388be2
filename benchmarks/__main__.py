"""`presslens bench` (or `python -m benchmarks` from the checkout): the whole benchmark."""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from benchmarks.suite import BenchConfig, run
from indexer.settings import BACKENDS, PROJECT_ROOT


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
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
@click.option("--peer-rounds", type=click.IntRange(1, 10), default=2, show_default=True,
              help="Runs of each server, alternating, against txtai's API server.")
@click.option("--vector-sizes", default="20000,200000", show_default=True,
              help="Real passage vectors in each vector index compared (empty: none).")
@click.option("--synthetic", type=click.IntRange(0), default=10_000_000, show_default=True,
              help="Synthetic clustered vectors in an IVF-SQ8 base (0: none).")
@click.option("--only", type=click.Choice(["indexing", "serving"]),
              help="Run one half of the benchmark.")
def main(shared, work, index_passages, serve_sizes, queries, search_queries, concurrency,
          backends, no_peer, peer_rounds, vector_sizes, synthetic, only):
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
    try:
        kinds_at = tuple(sorted({int(s) for s in vector_sizes.split(",") if s.strip()}))
    except ValueError:
        raise click.BadParameter("give numbers, e.g. 20000,200000",
                                 param_hint="--vector-sizes") from None
    config = BenchConfig(shared=shared.expanduser(), work=work.expanduser(),
                         index_passages=index_passages, serve_sizes=sizes, queries=queries,
                         search_queries=search_queries, concurrency=concurrency,
                         backends=chosen, peer=not no_peer, peer_rounds=peer_rounds,
                         vector_sizes=kinds_at, synthetic=synthetic)
    command = shlex.join([
        "presslens", "bench", "--shared", str(shared), "--work", str(work),
        "--index-passages", str(index_passages), "--serve-sizes", ",".join(map(str, sizes)),
        "--queries", str(queries), "--search-queries", str(search_queries),
        "--concurrency", str(concurrency), "--backends", ",".join(chosen),
        "--peer-rounds", str(peer_rounds), "--vector-sizes", ",".join(map(str, kinds_at)),
        "--synthetic", str(synthetic),
        *(["--no-peer"] if no_peer else []), *(["--only", only] if only else [])])
    parts = (only,) if only else ("indexing", "serving")
    click.echo(run(config, command, parts))


if __name__ == "__main__":
    main(prog_name="presslens bench")
