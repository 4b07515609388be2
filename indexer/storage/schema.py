"""The index database's tables, as numbered migrations through sqlite-utils' ``Migrations``.

A database records the migrations applied to it in ``_sqlite_migrations``. Releases before
0.2 recorded them by number in a table of their own, ``_migrations``; such a database counts
those as applied, and the first write moves the record across (see ``migrate``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from .database import Database, Migrations, transaction
from .fts import ARTICLES_FTS_COLUMNS, ARTICLES_FTS_TABLE, FTS_TOKENIZE

MIGRATIONS = Migrations("presslens")
# The record of releases before 0.2: migration numbers, 1 for the first one below.
LEGACY_TABLE = "_migrations"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@MIGRATIONS()
def m001_initial(db: Database) -> None:
    db.table("articles").create({
        "id": str, "title": str, "text": str, "raw_text": str, "origin": str, "url": str,
        "source": str, "published": str, "author": str, "language": str, "metadata": str,
        "content_hash": str, "story_id": int, "updated_at": str,
    }, pk="id")
    db.table("articles").create_index(["source"])
    db.table("articles").create_index(["published"])
    db.table("articles").create_index(["story_id"])
    db.table("passages").create({
        "id": int, "article_id": str, "seq": int, "text": str, "char_start": int,
        "char_end": int, "embed_hash": str,
    }, pk="id", foreign_keys=[("article_id", "articles", "id")])
    db.table("passages").create_index(["article_id", "seq"], unique=True)
    db.table("embeddings").create({"model": str, "hash": str, "vector": bytes},
                                  pk=("model", "hash"))
    db.table("meta").create({"key": str, "value": str}, pk="key")


@MIGRATIONS()
def m002_passage_search(db: Database) -> None:
    # Triggers keep the full-text index in step with every insert, update and delete.
    db.table("passages").enable_fts(["text"], create_triggers=True, tokenize=FTS_TOKENIZE)


@MIGRATIONS()
def m003_stories(db: Database) -> None:
    db.table("article_vectors").create({"article_id": str, "vector": bytes}, pk="article_id")
    db.table("minhashes").create({"article_id": str, "signature": bytes}, pk="article_id")
    db.table("lsh_bands").create({"band": int, "key": int, "article_id": str})
    db.table("lsh_bands").create_index(["band", "key"])
    db.table("lsh_bands").create_index(["article_id"])
    db.table("edges").create({"a": str, "b": str, "relation": str, "similarity": float,
                        "shared_text": float}, pk=("a", "b"))
    db.table("edges").create_index(["b"])


@MIGRATIONS()
def m004_common_terms(db: Database) -> None:
    # How many passages hold each frequent stemmed term, so a keyword search can leave out
    # terms that say little (see search/retrieve.py) without asking FTS5 at query time.
    db.table("common_terms").create({"term": str, "passages": int}, pk="term")


@MIGRATIONS()
def m005_cache_apart(db: Database) -> None:
    # The embedding cache moves to cache.db beside the generations, shared by all of them, so
    # copying a generation does not copy every vector and a killed build keeps what it
    # embedded. Vectors already cached here move along when the cache is attached.
    if "embeddings" in db.table_names():
        attached = {row[1] for row in db.execute("PRAGMA database_list").fetchall()}
        if "cache" in attached:
            db.execute("insert or ignore into cache.embeddings (model, hash, vector) "
                       "select model, hash, vector from main.embeddings")
        db.table("embeddings").drop()


@MIGRATIONS()
def m006_line_counts(db: Database) -> None:
    # Boilerplate counts kept with the data, so an update counts the lines of what changed
    # alone (indexer/boilerplate.py). The first build after this migration fills them.
    db.table("line_counts").create({"key": int, "articles": int}, pk="key")
    db.table("article_lines").create({"article_id": str, "key": int})
    db.table("article_lines").create_index(["key"])
    db.table("article_lines").create_index(["article_id"])
    db.table("line_recheck").create({"article_id": str}, pk="article_id")
    if db.execute("select count(*) from articles").fetchone()[0]:
        db.table("meta").upsert({"key": "lines_pending", "value": "1"}, pk="key")


@MIGRATIONS()
def m007_vector_segments(db: Database) -> None:
    # The vector index as immutable segments (storage/segments.py), listed here in the same
    # generation as the passages, and the passages removed since their segment was written.
    db.table("vector_segments").create({"name": str, "vectors": int, "bytes": int}, pk="name")
    db.table("vector_tombstones").create({"passage_id": int}, pk="passage_id")


@MIGRATIONS()
def m008_source_files(db: Database) -> None:
    # The input files as last read (size, modification time, the articles they gave), so a
    # build reads again only the files that changed (indexer/collect.py).
    db.table("source_files").create({"path": str, "size": int, "mtime_ns": int, "articles": str},
                              pk="path")


@MIGRATIONS()
def m009_removed_articles(db: Database) -> None:
    # Articles taken out with `presslens remove`: one found in its input again is indexed
    # again, and the report says so.
    db.table("removed_articles").create({"article_id": str, "removed_at": str}, pk="article_id")


@MIGRATIONS()
def m010_story_rows_index(db: Database) -> None:
    # Every update reads each article's story and date (indexer/stories/update.py): from
    # this index alone, not from rows that hold whole texts. It also answers look-ups by
    # story, so the index on story_id alone goes (one index fewer to write).
    db.table("articles").create_index(["story_id", "published", "id"], if_not_exists=True)
    db.execute("drop index if exists idx_articles_story_id")


@MIGRATIONS()
def m011_outlets(db: Database) -> None:
    # One outlet for each of its spellings, and leans (indexer/outlets.py). ``source`` becomes
    # the outlet an article is filed under; ``source_given`` keeps the input's spelling, and
    # ``lean_given`` the lean the input gave the article itself (``lean`` is what the
    # outlets file makes of the two). ``language_detected`` is 1 for a language detected
    # from the text, 0 for one given (or none found), and null for rows from before
    # detection, which the next build looks at (indexer/build.py).
    from ..outlets import lean_of_record

    articles = db.table("articles")
    for column in ("source_given", "lean", "lean_given"):
        articles.add_column(column, str)
    articles.add_column("language_detected", int)
    db.table("outlets").create({"name": str, "lean": str, "aliases": str}, pk="name")
    # Partial: it holds only the rows still to look at, so finding them costs nothing once
    # they are done, where a scan would read every article's text.
    db.execute("create index idx_articles_language_unchecked on articles (id) "
               "where language is null and language_detected is null")
    articles.create_index(["language"])
    articles.create_index(["lean"])
    db.execute("update articles set source_given = source")
    leans = []
    for article_id, metadata in db.execute("select id, metadata from articles"):
        try:
            record = json.loads(metadata or "{}")
        except ValueError:
            continue
        lean = lean_of_record(record) if isinstance(record, dict) else None
        if lean:
            leans.append((lean, lean, article_id))
    db.conn.executemany("update articles set lean_given = ?, lean = ? where id = ?", leans)


@MIGRATIONS()
def m012_article_search(db: Database) -> None:
    # Whole articles, title and text, in a full-text index of their own, so the keyword half
    # of a search ranks articles by all their words (search/keywords.py) rather than by
    # their best passage. It reads the text from ``articles`` (external content); triggers
    # keep it in step, and only a change of title or text touches it.
    columns = ", ".join(ARTICLES_FTS_COLUMNS)
    old = ", ".join(f"old.{c}" for c in ARTICLES_FTS_COLUMNS)
    new = ", ".join(f"new.{c}" for c in ARTICLES_FTS_COLUMNS)
    table = ARTICLES_FTS_TABLE
    db.execute(f"create virtual table {table} using fts5({columns}, content='articles', "
               f"content_rowid='rowid', tokenize='{FTS_TOKENIZE}')")
    db.execute(f"create trigger {table}_ai after insert on articles begin "
               f"insert into {table} (rowid, {columns}) values (new.rowid, {new}); end")
    db.execute(f"create trigger {table}_ad after delete on articles begin "
               f"insert into {table} ({table}, rowid, {columns}) "
               f"values ('delete', old.rowid, {old}); end")
    db.execute(f"create trigger {table}_au after update of {columns} on articles begin "
               f"insert into {table} ({table}, rowid, {columns}) "
               f"values ('delete', old.rowid, {old}); "
               f"insert into {table} (rowid, {columns}) values (new.rowid, {new}); end")
    db.execute(f"insert into {table} ({table}) values ('rebuild')")


@MIGRATIONS()
def m013_story_terms(db: Database) -> None:
    # Each article's word keys and in how many articles each word occurs, for the term
    # similarity of stories (indexer/stories/terms.py). The first build after this
    # migration fills them for every stored article.
    db.table("article_terms").create({"article_id": str, "terms": bytes}, pk="article_id")
    db.table("term_counts").create({"term": int, "articles": int}, pk="term")
    if db.execute("select count(*) from articles").fetchone()[0]:
        db.table("meta").upsert({"key": "terms_pending", "value": "1"}, pk="key")


@MIGRATIONS()
def m014_edge_strength(db: Database) -> None:
    # How far a related pair's score passed the related threshold, and whether that makes
    # the link strong (same story) or loose (loosely related); empty on edges grouped
    # before this migration until their articles are grouped again.
    edges = db.table("edges")
    edges.add_column("margin", float)
    edges.add_column("strength", str)


# An index without these is still searched as it is: only a build reads the line counts
# and source files, search reads a generation without segments from its one vector file,
# and one without outlets as if no article had a lean or an alias; it ranks articles by
# their passages' keywords where it lacks the article search.
INDEXING_ONLY = frozenset({"m006_line_counts", "m007_vector_segments", "m008_source_files",
                           "m009_removed_articles", "m010_story_rows_index",
                           "m011_outlets", "m012_article_search", "m013_story_terms",
                           "m014_edge_strength"})


def _names() -> list[str]:
    return [migration.name for migration in MIGRATIONS._migrations]


def _legacy(db: Database) -> list[str]:
    """Names of the migrations a database from before 0.2 recorded by number."""
    if LEGACY_TABLE not in db.table_names():
        return []
    names = _names()
    numbers = [row[0] for row in db.execute(f"select number from {LEGACY_TABLE}")]
    return [names[n - 1] for n in numbers if 1 <= n <= len(names)]


def applied(db: Database) -> set[str]:
    """Names of the migrations applied to ``db`` (read only)."""
    return {m.name for m in MIGRATIONS.applied(db)} | set(_legacy(db))


def is_current(db: Database, for_search: bool = False) -> bool:
    """Whether every migration has been applied, or with ``for_search`` every one search
    reads (search never applies them itself)."""
    needed = set(_names()) - (INDEXING_ONLY if for_search else set())
    return applied(db) >= needed


def migrate(db: Database) -> None:
    """Apply what is pending, first moving a pre-0.2 record of migrations across."""
    legacy = _legacy(db)
    if legacy or LEGACY_TABLE in db.table_names():
        with transaction(db):
            MIGRATIONS.ensure_migrations_table(db)
            done = {m.name for m in MIGRATIONS.applied(db)}
            db.table(MIGRATIONS.migrations_table).insert_all(
                [{"migration_set": MIGRATIONS.name, "name": name, "applied_at": now()}
                 for name in legacy if name not in done])
            db[LEGACY_TABLE].drop()
    MIGRATIONS.apply(db)
