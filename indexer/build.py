"""Build or update an index folder from collected files: the indexing pipeline end to end.

A ``Build`` runs over a draft of the next generation (storage/draft.py): it reads the
collection a batch at a time, writes each batch (write_step.py), removes what is
gone and regroups stories, then writes the derived indexes; the draft goes live once it is
complete and checked.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from pathlib import Path

from . import boilerplate
from .build_report import BuildReport
from .collect import Collected, collect
from .embed import Embedder, cache_key, default_device, load_embedder
from .embed_step import EmbedEngine
from .errors import IndexNotFound, NothingRead
from .models import Skipped
from .outlets import OutletMap, read_outlets
from .settings import Settings
from .storage import generations, segments
from .storage.config import IndexConfig, choose
from .storage.draft import Draft, drafting
from .storage.reader import IndexReader
from .storage.store import COMMON_TERMS_MOVED, now
from .stories.grouping import StoryConfig
from .stories.update import update_stories
from .write_step import BatchWriter, Fresh, content_hash, detect_stored_languages

__all__ = ["Build", "BuildReport", "EmbedEngine", "build_index", "remembered_paths",
           "remove_articles"]


class Build:
    """One run over a draft generation: its steps as methods, and the report they fill."""

    def __init__(self, settings: Settings, draft: Draft, config: IndexConfig, *,
                 progress: bool = False, embedder: Embedder | None = None,
                 engine: EmbedEngine | None = None):
        self.settings = settings
        self.draft = draft
        self.store = draft.store
        self.config = config
        self.progress = progress
        self.engine = engine
        self.report = BuildReport()
        self.outlets = OutletMap()
        # The model is loaded when something must be chunked and embedded, not before: an
        # update that finds nothing new, or only removals, never loads it.
        self._loaded = [embedder] if embedder is not None and (
            embedder.name, embedder.backend, embedder.device) == (
            config.model, config.backend, config.device) else []

    @property
    def cache_key(self) -> str:
        """What the index's vectors are cached under."""
        return cache_key(self.config.model, self.config.backend, self.config.device)

    def model(self) -> Embedder:
        """The embedder, loaded on first use."""
        if not self._loaded:
            self._loaded.append(load_embedder(self.config.model, backend=self.config.backend,
                                              batch_size=self.settings.batch_size,
                                              device=self.config.device))
        return self._loaded[0]

    def dimension(self) -> int:
        """The vectors' dimension: the model's once loaded, else the one recorded."""
        meta = self.store.get_meta()
        if self._loaded or "dimension" not in meta:
            return self.model().dimension
        return int(meta["dimension"])

    def file_under(self, mapping: OutletMap | None, path: Path | None) -> None:
        """Take the outlets mapping articles are filed under: the file given, which then
        replaces the recorded one and files every stored article again, or else the one
        recorded."""
        store = self.store
        recorded = store.outlets.outlet_map()
        if mapping is None or path is None:
            self.outlets = recorded
            return
        self.outlets = mapping
        if mapping.digest() != store.get_meta().get("outlets_digest", OutletMap().digest()):
            with store.transaction():
                store.outlets.put_outlet_map(mapping)
                self.report.refiled = store.outlets.refile_articles(mapping)
                store.set_meta(outlets_digest=mapping.digest(),
                               outlets_file=str(path.resolve()), outlets=len(mapping))

    def read(self, paths: list[Path], rebuild: bool, prune: bool) -> bool:
        """Read ``paths`` into the draft a batch at a time, remove what ``prune`` finds
        gone, and finish; returns whether anything changed."""
        store, report = self.store, self.report
        report.languages_detected = detect_stored_languages(store)
        collected = Collected()
        total = store.articles.article_count()
        changed: list[str] = []
        # Read, clean, chunk, embed and write a batch at a time, so memory stays bounded and
        # the first vectors are embedded as soon as the first batch is read.
        for batch in collect(paths, store, everything=rebuild, progress=self.progress,
                             out=collected):
            known = store.articles.article_hashes(article.id for article, _ in batch)
            fresh: dict[str, Fresh] = {}
            for article, raw_text in batch:
                digest = content_hash(raw_text, article)
                if known.get(article.id) == digest:
                    report.unchanged += 1
                else:
                    fresh[article.id] = (article, raw_text, digest)
            if fresh:
                after = total + sum(aid not in known for aid in fresh)
                changed += self.write(fresh, [], total, after, known)
                total = after
            if collected.bar is not None:
                collected.bar.set_postfix(read=len(collected.read), passages=report.passages,
                                          embedded=report.embedded)
        report.skipped.extend(collected.skipped)
        report.truncated.extend(collected.truncated)
        if not collected.read and not collected.unchanged:
            # A folder that is missing, empty or unreadable this time is not a collection
            # that is gone: nothing is removed, nothing is remembered, no generation is made.
            raise NothingRead(self.settings.index_dir, tuple(paths),
                              tuple((s.origin, s.reason) for s in report.skipped))
        report.unchanged += len(collected.unchanged)
        gone = _gone(store.articles.article_origins(), paths, collected.ids,
                     report.skipped) if prune else []
        if gone or store.lines.to_recheck():  # removals, or a removal's cleaning to finish
            changed += self.write({}, gone, total, total - len(gone), {})
        dimension = self.dimension()
        with store.transaction():
            self.remove(gone, list(dict.fromkeys(changed)), dimension)
            store.sources.put_source_files(collected.files)
            remembered = json.dumps([str(p.resolve()) for p in paths])
            moved = store.get_meta().get("paths") != remembered
            store.set_meta(paths=remembered)
        if not (changed or gone or moved or rebuild or not self.draft.base_has_vectors
                or self.draft.from_old_layout or report.refiled
                or report.languages_detected):
            return False
        self.finish(dimension, rebuild)
        return True

    def write(self, fresh: dict[str, Fresh], gone: list[str], before: int, after: int,
              known: dict[str, str]) -> list[str]:
        """Write a batch (``BatchWriter.write``); returns the ids whose passages were
        written."""
        written = BatchWriter(self.store, self.settings, self.config, self.model,
                              self.outlets, self.progress, self.engine).write(
            fresh, gone, before, after, known)
        report = self.report
        report.added += written.added
        report.updated += written.updated
        report.readded += written.readded
        report.passages += written.passages
        report.embedded += written.embedded
        report.cached += written.cached
        return list(written.ids)

    def remove(self, gone: list[str], changed: list[str], dimension: int) -> None:
        """Delete ``gone`` and regroup ``changed`` with what is left of the stories they
        left."""
        store = self.store
        mates = store.stories.story_mates(gone)
        store.delete_articles(gone)
        self.report.removed = len(gone)
        grouped = update_stories(store, list(dict.fromkeys([*changed, *mates])), gone,
                                 StoryConfig.from_settings(self.settings), self.cache_key,
                                 dimension)
        self.report.largest_story = grouped.largest_story
        self.report.grouping_seconds = round(grouped.seconds, 2)

    def finish(self, dimension: int, rebuild: bool) -> None:
        """Derived indexes and metadata, once the articles and passages are written."""
        store = self.store
        self.report.vectors = segments.update(store, self.draft.base, self.draft.folder,
                                              self.cache_key, dimension, rebuild)
        store.keywords.refresh_common_terms_if_moved(0.0 if rebuild else COMMON_TERMS_MOVED)
        story = StoryConfig.from_settings(self.settings)
        store.set_meta(**self.config.as_meta(), dimension=dimension, built_at=now(),
                       generation=self.draft.name,
                       **store.articles.counts(),
                       related_threshold=story.related_threshold,
                       duplicate_threshold=story.duplicate_threshold,
                       date_window_days=story.date_window_days,
                       term_weight=story.term_weight,
                       undated_penalty=story.undated_penalty)

    def publish(self) -> None:
        """Make the draft the live generation."""
        self.report.generation = self.draft.publish()["generation"]

    def keep_live(self) -> None:
        """Nothing to switch to: throw the draft away, and the live generation stays."""
        self.draft.discard()
        self.report.generation = generations.live_name(self.settings.index_dir) or ""


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
    paths = list(paths)
    # Read and checked whole before anything is touched: a bad file changes nothing.
    mapping = read_outlets(outlets) if outlets is not None else None
    with drafting(settings.index_dir, from_scratch=rebuild) as draft:
        config = choose(settings, {} if rebuild else draft.store.get_meta(),
                        default_device=default_device)
        build = Build(settings, draft, config, progress=progress, embedder=embedder,
                      engine=engine)
        build.file_under(mapping, outlets)
        if build.read(paths, rebuild, prune):
            build.publish()
        else:
            build.keep_live()
            build.report.vectors = "unchanged"
    build.report.seconds = time.perf_counter() - started
    return build.report


def remove_articles(settings: Settings, article_ids: Iterable[str]) -> BuildReport:
    """Remove articles by id; their stories, keyword and vector indexes follow.

    Ids not in the index are reported as skipped. No model is loaded.
    """
    started = time.perf_counter()
    if not _built(settings.index_dir):
        raise IndexNotFound(settings.index_dir)
    with drafting(settings.index_dir) as draft:
        store = draft.store
        meta = store.get_meta()
        build = Build(settings, draft, choose(settings, meta))
        dimension = int(meta.get("dimension", 0))
        wanted = list(dict.fromkeys(article_ids))
        known = store.articles.article_hashes(wanted)
        gone = [aid for aid in wanted if aid in known]
        build.report.skipped = [Skipped(aid, "no article with this id in the index")
                                for aid in wanted if aid not in known]
        if not gone:
            build.keep_live()
        else:
            with store.transaction():
                boilerplate.remove(store, settings, gone, store.articles.article_count())
                store.sources.mark_removed(gone, now())
                build.remove(gone, [], dimension)
            build.finish(dimension, rebuild=False)
            build.publish()
    build.report.seconds = time.perf_counter() - started
    return build.report


def _live_meta(index_dir: Path) -> dict[str, str]:
    """The live generation's metadata (empty where no build ever went live)."""
    database = generations.live_database(index_dir)
    if not database.exists():
        return {}
    reader = IndexReader.open(database)
    try:
        return reader.get_meta()
    finally:
        reader.close()


def _built(index_dir: Path) -> bool:
    """Whether a build ever went live here (a build that failed leaves an empty database)."""
    return bool(_live_meta(index_dir).get("model"))


def remembered_paths(index_dir: Path) -> list[Path]:
    """The paths the live generation was last built from (none for a new index)."""
    remembered = _live_meta(index_dir).get("paths")
    return [Path(p) for p in json.loads(remembered)] if remembered else []


def _gone(origins: Iterable[tuple[str, str]], paths: list[Path], read: set[str],
          skipped: list[Skipped]) -> list[str]:
    """Stored articles (id, origin) from under ``paths`` that this run did not find there.

    An article whose file (or line) was skipped this time is kept: a file that cannot be
    read now is not a file that is gone.
    """
    roots = [str(p) for p in paths]
    kept = [s.origin for s in skipped]

    def under(origin: str, prefix: str) -> bool:
        return origin == prefix or origin.startswith((prefix + "/", prefix + ":", prefix + "#"))

    return [aid for aid, origin in origins
            if aid not in read and any(under(origin, r) for r in roots)
            and not any(under(origin, k) for k in kept)]
