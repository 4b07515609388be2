"""Build or update an index folder from collected files: the indexing pipeline end to end."""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import fcntl
import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
from tqdm import tqdm

from . import boilerplate
from .collect import Collected, collect
from .embed import Embedder, cache_key, default_device, load_embedder
from .errors import DiskFull, IndexBusy, IndexNotFound, NothingRead
from .ingest.chunk import chunk_article
from .ingest.language import detect_language
from .models import Article, Passage, Skipped
from .outlets import OutletMap, read_outlets
from .settings import Settings
from .storage import failpoints, generations, segments
from .storage.config import IndexConfig, choose
from .storage.generations import Draft
from .storage.store import COMMON_TERMS_MOVED, Store, now, text_hash
from .stories.grouping import StoryConfig
from .stories.update import update_stories

EMBED_GROUP = 1024  # vectors are cached after each group, so an interrupted run keeps them


class EmbedEngine(Protocol):
    """Embeds passages away from this process (``indexer.embed.ray_engine.RayEngine``)."""

    def embed(self, embedder: Embedder, items: Sequence[tuple[str, str]]
              ) -> Iterator[tuple[list[str], np.ndarray]]:
        """(hashes, vectors) for ``items`` of (text hash, text), as they are made."""


@dataclass
class BuildReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    # Articles taken out with `presslens remove` and indexed again: still in their input.
    readded: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    # Indexed, but cut short (a huge file or text): where, and what was cut.
    truncated: list[Skipped] = field(default_factory=list)
    # Articles filed under another outlet or lean because the outlets file changed.
    refiled: int = 0
    # Articles stored before languages were detected, given one from their text now.
    languages_detected: int = 0
    passages: int = 0
    embedded: int = 0
    cached: int = 0
    largest_story: int = 0
    grouping_seconds: float = 0.0
    vectors: str = ""  # what happened to the vector index: rebuilt, updated or unchanged
    generation: str = ""  # the live generation after the run
    seconds: float = 0.0

    def as_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["skipped"] = [{"origin": s.origin, "reason": s.reason} for s in self.skipped]
        return data


def content_hash(raw_text: str, article: Article) -> str:
    fields = [article.title, raw_text, article.url, article.source, article.published,
              article.author, article.language, json.dumps(article.metadata, sort_keys=True)]
    return text_hash("\x1f".join(f or "" for f in fields))


def embed_text(article: Article, passage: Passage, title_prefix: bool) -> str:
    """What is embedded for a passage: its text, or its article's title and its text."""
    if title_prefix and article.title:
        return f"{article.title}. {passage.text}"
    return passage.text


def build_index(settings: Settings, paths: Iterable[Path], *, rebuild: bool = False,
                prune: bool = False, progress: bool = False,
                embedder: Embedder | None = None,
                outlets: Path | None = None, engine: EmbedEngine | None = None) -> BuildReport:
    """Add new and changed articles under ``paths`` to the index, embedding only new text.

    With ``prune``, articles indexed from under ``paths`` that are no longer there are
    removed; articles of a file that could not be read this time are kept. ``outlets``, an
    outlets file (indexer/outlets.py), replaces the mapping the index holds, and every
    stored article is filed again under it; without it, the recorded mapping stays.
    ``engine`` embeds the new passages elsewhere (a ``RayEngine``, already entered); by
    default they are embedded here. The work is done in a new generation that goes live
    only when complete and verified; when nothing changed, the live generation stays.
    """
    started = time.perf_counter()
    report = BuildReport()
    paths = list(paths)
    # Read and checked whole before anything is touched: a bad file changes nothing.
    mapping = read_outlets(outlets) if outlets is not None else None
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    with _exclusive(settings.index_dir / ".build.lock"):
        draft = Draft(settings.index_dir, from_scratch=rebuild)
        try:
            with _disk_full(draft):
                changed = _build(settings, draft, paths, rebuild, prune, progress, embedder,
                                 report, mapping, outlets, engine)
                if changed:
                    report.generation = draft.publish()["generation"]
                else:  # nothing to switch to: the live generation stays
                    draft.discard()
                    report.vectors = "unchanged"
                    report.generation = generations.live_name(settings.index_dir) or ""
        except BaseException:
            draft.discard()
            raise
    report.seconds = time.perf_counter() - started
    return report


def _live_meta(index_dir: Path) -> dict[str, str]:
    """The live generation's metadata (empty where no build ever went live)."""
    database = generations.live_database(index_dir)
    if not database.exists():
        return {}
    store = Store.open_read_only(database)
    try:
        return store.get_meta()
    finally:
        store.close()


def _built(index_dir: Path) -> bool:
    """Whether a build ever went live here (a build that failed leaves an empty database)."""
    return bool(_live_meta(index_dir).get("model"))


def remembered_paths(index_dir: Path) -> list[Path]:
    """The paths the live generation was last built from (none for a new index)."""
    remembered = _live_meta(index_dir).get("paths")
    return [Path(p) for p in json.loads(remembered)] if remembered else []


def remove_articles(settings: Settings, article_ids: Iterable[str]) -> BuildReport:
    """Remove articles by id; their stories, keyword and vector indexes follow.

    Ids not in the index are reported as skipped. No model is loaded.
    """
    started = time.perf_counter()
    report = BuildReport()
    if not _built(settings.index_dir):
        raise IndexNotFound(settings.index_dir)
    with _exclusive(settings.index_dir / ".build.lock"):
        draft = Draft(settings.index_dir)
        try:
            with _disk_full(draft):
                store = draft.store
                config = choose(settings, store.get_meta())
                dimension = int(store.get_meta().get("dimension", 0))
                wanted = list(dict.fromkeys(article_ids))
                known = store.article_hashes(wanted)
                gone = [aid for aid in wanted if aid in known]
                report.skipped = [Skipped(aid, "no article with this id in the index")
                                  for aid in wanted if aid not in known]
                if not gone:
                    draft.discard()
                    report.generation = generations.live_name(settings.index_dir) or ""
                else:
                    with store.db.conn:
                        boilerplate.remove(store, settings, gone, store.article_count())
                        store.mark_removed(gone, now())
                        _remove(store, gone, [], settings, _cache_key(config), dimension, report)
                    _finish(settings, draft, config, dimension, rebuild=False, report=report)
                    report.generation = draft.publish()["generation"]
        except BaseException:
            draft.discard()
            raise
    report.seconds = time.perf_counter() - started
    return report


def _cache_key(config: IndexConfig) -> str:
    return cache_key(config.model, config.backend, config.device)


def _remove(store: Store, gone: list[str], changed: list[str], settings: Settings,
            cache_key: str, dimension: int, report: BuildReport) -> None:
    """Delete ``gone`` and regroup ``changed`` with what is left of the stories they left."""
    mates = store.story_mates(gone)
    store.delete_articles(gone)
    report.removed = len(gone)
    grouped = update_stories(store, list(dict.fromkeys([*changed, *mates])), gone,
                             StoryConfig.from_settings(settings), cache_key, dimension)
    report.largest_story = grouped.largest_story
    report.grouping_seconds = round(grouped.seconds, 2)


def _finish(settings: Settings, draft: Draft, config: IndexConfig, dimension: int,
            rebuild: bool, report: BuildReport) -> None:
    """Derived indexes and metadata, once the articles and passages are committed."""
    store = draft.store
    report.vectors = segments.update(store, draft.base, draft.folder, _cache_key(config),
                                     dimension, rebuild)
    store.refresh_common_terms_if_moved(0.0 if rebuild else COMMON_TERMS_MOVED)
    story = StoryConfig.from_settings(settings)
    store.set_meta(**config.as_meta(), dimension=dimension, built_at=now(),
                   generation=draft.name,
                   **store.counts(),
                   related_threshold=story.related_threshold,
                   duplicate_threshold=story.duplicate_threshold,
                   date_window_days=story.date_window_days,
                   term_weight=story.term_weight,
                   undated_penalty=story.undated_penalty)


def _gone(store: Store, paths: list[Path], read: set[str], skipped: list[Skipped]) -> list[str]:
    """Stored articles from under ``paths`` that this run did not find there.

    An article whose file (or line) was skipped this time is kept: a file that cannot be
    read now is not a file that is gone.
    """
    roots = [str(p) for p in paths]
    kept = [s.origin for s in skipped]

    def under(origin: str, prefix: str) -> bool:
        return origin == prefix or origin.startswith((prefix + "/", prefix + ":", prefix + "#"))

    return [aid for aid, origin in store.article_origins()
            if aid not in read and any(under(origin, r) for r in roots)
            and not any(under(origin, k) for k in kept)]


@contextlib.contextmanager
def _disk_full(draft: Draft):
    """A full disk before the draft went live, as the file system or SQLite reports it, as
    one typed error; the draft is then rolled back, and the live state stays."""
    try:
        yield
    except OSError as error:
        if error.errno != errno.ENOSPC or draft.live:
            raise
        raise DiskFull(draft.index_dir, error.strerror or "no space left on device") from None
    except sqlite3.OperationalError as error:
        if "full" not in str(error) or draft.live:
            raise
        raise DiskFull(draft.index_dir, str(error)) from None


@contextlib.contextmanager
def _exclusive(path: Path):
    """One writer per index folder; the lock goes with the process, even when it is killed."""
    with open(path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IndexBusy(path.parent) from None
        yield


def _build(settings: Settings, draft: Draft, paths: list[Path], rebuild: bool, prune: bool,
           progress: bool, embedder: Embedder | None, report: BuildReport,
           mapping: OutletMap | None = None, outlets_file: Path | None = None,
           engine: EmbedEngine | None = None) -> bool:
    """Update the draft generation; returns whether anything changed."""
    store = draft.store
    config = choose(settings, {} if rebuild else store.get_meta(),
                    default_device=default_device)
    outlets = _outlets(store, mapping, outlets_file, report)
    report.languages_detected = _detect_stored_languages(store)
    # The model is loaded when something must be chunked and embedded, not before: an
    # update that finds nothing new, or only removals, never loads it.
    loaded = [embedder] if embedder is not None and (
        embedder.name, embedder.backend, embedder.device) == (
        config.model, config.backend, config.device) else []

    def model() -> Embedder:
        if not loaded:
            loaded.append(load_embedder(config.model, backend=config.backend,
                                        batch_size=settings.batch_size,
                                        device=config.device))
        return loaded[0]

    collected = Collected()
    total = store.article_count()
    changed: list[str] = []
    # Read, clean, chunk, embed and write a batch at a time, so memory stays bounded and
    # the first vectors are embedded as soon as the first batch is read.
    for batch in collect(paths, store, everything=rebuild, progress=progress, out=collected):
        known = store.article_hashes(article.id for article, _ in batch)
        fresh: dict[str, tuple[Article, str, str]] = {}
        for article, raw_text in batch:
            digest = content_hash(raw_text, article)
            if known.get(article.id) == digest:
                report.unchanged += 1
            else:
                fresh[article.id] = (article, raw_text, digest)
        if fresh:
            after = total + sum(aid not in known for aid in fresh)
            changed += _write(store, settings, config, model, fresh, [], total, after,
                              known, report, progress, outlets, engine)
            total = after
        collected.bar.set_postfix(read=len(collected.read), passages=report.passages,
                                  embedded=report.embedded)
    report.skipped.extend(collected.skipped)
    report.truncated.extend(collected.truncated)
    if not collected.read and not collected.unchanged:
        # A folder that is missing, empty or unreadable this time is not a collection that
        # is gone: nothing is removed, nothing is remembered, no generation is made.
        raise NothingRead(settings.index_dir, tuple(paths),
                          tuple((s.origin, s.reason) for s in report.skipped))
    report.unchanged += len(collected.unchanged)
    gone = _gone(store, paths, collected.ids, report.skipped) if prune else []
    if gone or store.to_recheck():  # removed articles, or a removal's cleaning to finish
        changed += _write(store, settings, config, model, {}, gone, total,
                          total - len(gone), {}, report, progress, outlets, engine)
    meta = store.get_meta()
    dimension = model().dimension if loaded or "dimension" not in meta else int(
        meta["dimension"])
    with store.db.conn:
        _remove(store, gone, list(dict.fromkeys(changed)), settings, _cache_key(config),
                dimension, report)
        store.put_source_files(collected.files)
        remembered = json.dumps([str(p.resolve()) for p in paths])
        moved = store.get_meta().get("paths") != remembered
        store.set_meta(paths=remembered)
    if not (changed or gone or moved or rebuild or not draft.base_has_vectors
            or draft.from_old_layout or report.refiled or report.languages_detected):
        return False
    _finish(settings, draft, config, dimension, rebuild, report)
    return True


def _write(store: Store, settings: Settings, config: IndexConfig,
           model: Callable[[], Embedder],
           fresh: dict[str, tuple[Article, str, str]], gone: list[str], before: int,
           after: int, known: dict[str, str], report: BuildReport,
           progress: bool, outlets: OutletMap | None = None,
           engine: EmbedEngine | None = None) -> list[str]:
    """Write a batch of new and changed articles, and clean again the stored ones whose
    boilerplate lines changed status; returns the ids whose passages were written.

    Lines repeated across the collection are judged on the whole collection: the counts
    follow the change (``gone`` leaves them), and stored text is cleaned again where a
    line's status moved.
    """
    counts = boilerplate.update(store, settings, {aid: raw for aid, (_, raw, _) in
                                                  fresh.items()},
                                [*(aid for aid in fresh if aid in known), *gone],
                                before, after)
    stored = store.raw_texts_of(sorted(counts.recheck))
    clean = counts.clean(store, [raw for _, raw, _ in fresh.values()]
                         + [raw for raw, _, _ in stored.values()])
    to_chunk: list[Article] = []
    recleaned: set[str] = set()
    for article, raw_text, _ in fresh.values():
        to_chunk.append(dataclasses.replace(article, text=clean(raw_text)))
    for aid, (raw_text, text, title) in stored.items():
        cleaned = clean(raw_text)
        if cleaned != text:
            recleaned.add(aid)
            to_chunk.append(Article(id=aid, title=title, text=cleaned, origin=""))
    store.set_recheck([])

    if not to_chunk:
        return []
    embedder = model()
    max_tokens = min(config.chunk_tokens, embedder.passage_tokens)
    chunked = [(a, chunk_article(a, embedder, max_tokens, settings.overlap_sentences))
               for a in to_chunk]
    embed_texts = {a.id: [embed_text(a, p, config.title_prefix) for p in ps]
                   for a, ps in chunked}
    _embed_missing(store, embedder, [t for ts in embed_texts.values() for t in ts], report,
                   progress, engine)
    new: list[str] = []
    with store.db.conn:
        for article, passages in chunked:
            if article.id in recleaned:
                failpoints.reached("reclean")
                store.set_article_text(article.id, article.text)
            else:
                _, raw_text, digest = fresh[article.id]
                if article.id in known:
                    report.updated += 1
                else:
                    report.added += 1
                    new.append(article.id)
                store.put_article(article, raw_text, digest, store.story_of(article.id),
                                  outlets)
            store.replace_passages(article.id, passages,
                                   [text_hash(t) for t in embed_texts[article.id]])
        report.readded += store.take_back_removed(new)
    report.passages += sum(len(ps) for _, ps in chunked)
    return [a.id for a, _ in chunked]


def _outlets(store: Store, mapping: OutletMap | None, path: Path | None,
             report: BuildReport) -> OutletMap:
    """The mapping this build files articles under: the file given, which then replaces the
    recorded one and files every stored article again, or else the one recorded."""
    recorded = store.outlet_map()
    if mapping is None:
        return recorded
    if mapping.digest() != store.get_meta().get("outlets_digest", OutletMap().digest()):
        with store.db.conn:
            store.put_outlet_map(mapping)
            report.refiled = store.refile_articles(mapping)
            store.set_meta(outlets_digest=mapping.digest(), outlets_file=str(path.resolve()),
                           outlets=len(mapping))
    return mapping


def _detect_stored_languages(store: Store) -> int:
    """Give articles stored before languages were detected the language of their text,
    once; returns how many got one. Their content hash follows, so the next reading of their
    file finds them unchanged."""
    found = 0
    with store.db.conn:
        for rows in store.unchecked_languages():
            results = []
            for aid, text, title, raw_text, url, given, published, author, metadata in rows:
                language = detect_language(text or "")
                digest = None
                if language is not None:
                    found += 1
                    article = Article(id=aid, title=title, text=text, origin="", url=url,
                                      source=given, published=published, author=author,
                                      language=language, metadata=json.loads(metadata or "{}"))
                    digest = content_hash(raw_text, article)
                results.append((language, digest, aid))
            store.set_languages(results)
    return found


def _embed_missing(store: Store, embedder: Embedder, texts: list[str], report: BuildReport,
                   progress: bool, engine: EmbedEngine | None = None) -> None:
    unique = {text_hash(t): t for t in texts}
    cached = store.cached_hashes(embedder.cache_key, unique)
    missing = [(h, t) for h, t in unique.items() if h not in cached]
    report.cached += len(unique) - len(missing)
    report.embedded += len(missing)
    if not missing:
        return
    with tqdm(total=len(missing), desc="embedding", unit=" passages", disable=not progress,
              leave=False) as bar:
        if engine is not None:
            # Cached as each batch comes back, so a cluster lost part way keeps them.
            for hashes, vectors in engine.embed(embedder, missing):
                store.cache_vectors(embedder.cache_key, hashes, vectors)
                bar.update(len(hashes))
                failpoints.reached("embedding")
            return
        # Longest first across the batch, so model inputs pad to similar lengths.
        missing.sort(key=lambda item: -len(item[1]))
        for i in range(0, len(missing), EMBED_GROUP):
            group = missing[i:i + EMBED_GROUP]
            vectors = embedder.encode([t for _, t in group], progress=bar.update)
            store.cache_vectors(embedder.cache_key, [h for h, _ in group], vectors)
            failpoints.reached("embedding")
