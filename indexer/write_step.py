"""The write step of a build: a batch of new and changed articles cleaned of boilerplate,
chunked, embedded and stored with their passages, and the stored articles whose
boilerplate changed status cleaned again."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass

from . import boilerplate
from .embed import Embedder
from .embed_step import EmbedEngine, embed_missing, embed_text
from .ingest.chunk import chunk_article
from .ingest.language import detect_language
from .models import Article
from .outlets import OutletMap
from .settings import Settings
from .storage import failpoints
from .storage.config import IndexConfig
from .storage.store import Store, text_hash

# A new or changed article: the article, its raw text, its content hash.
Fresh = tuple[Article, str, str]


def content_hash(raw_text: str, article: Article) -> str:
    """What tells a changed article from an unchanged one: its text and every field."""
    fields = [article.title, raw_text, article.url, article.source, article.published,
              article.author, article.language, json.dumps(article.metadata, sort_keys=True)]
    return text_hash("\x1f".join(f or "" for f in fields))


@dataclass(frozen=True)
class Written:
    """What writing a batch did."""

    ids: tuple[str, ...] = ()  # the articles whose passages were written
    added: int = 0
    updated: int = 0
    readded: int = 0  # of the added, those `presslens remove` had taken out
    passages: int = 0
    embedded: int = 0
    cached: int = 0


class BatchWriter:
    """Writes batches into a build's store, with the model loaded when first needed."""

    def __init__(self, store: Store, settings: Settings, config: IndexConfig,
                 model: Callable[[], Embedder], outlets: OutletMap | None,
                 progress: bool = False, engine: EmbedEngine | None = None):
        self.store = store
        self.settings = settings
        self.config = config
        self.model = model
        self.outlets = outlets
        self.progress = progress
        self.engine = engine

    def write(self, fresh: dict[str, Fresh], gone: list[str], before: int, after: int,
              known: dict[str, str]) -> Written:
        """Write ``fresh`` (by id), and clean again the stored articles whose boilerplate
        lines changed status; ``gone`` are leaving, ``known`` the stored hashes.

        Lines repeated across the collection are judged on the whole collection: the counts
        follow the change (``gone`` leaves them), and stored text is cleaned again where a
        line's status moved; ``before`` and ``after`` are the collection's sizes.
        """
        store = self.store
        counts = boilerplate.update(store, self.settings,
                                    {aid: raw for aid, (_, raw, _) in fresh.items()},
                                    [*(aid for aid in fresh if aid in known), *gone],
                                    before, after)
        stored = store.articles.raw_texts_of(sorted(counts.recheck))
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
        store.lines.set_recheck([])
        if not to_chunk:
            return Written()

        embedder = self.model()
        max_tokens = min(self.config.chunk_tokens, embedder.passage_tokens)
        chunked = [(a, chunk_article(a, embedder, max_tokens, self.settings.overlap_sentences))
                   for a in to_chunk]
        embed_texts = {a.id: [embed_text(a, p, self.config.title_prefix) for p in ps]
                       for a, ps in chunked}
        embedded = embed_missing(store.passages, embedder,
                                 [t for ts in embed_texts.values() for t in ts],
                                 self.progress, self.engine)
        added: list[str] = []
        updated = 0
        with store.transaction():
            for article, passages in chunked:
                if article.id in recleaned:
                    failpoints.reached("reclean")
                    store.articles.set_article_text(article.id, article.text)
                else:
                    _, raw_text, digest = fresh[article.id]
                    if article.id in known:
                        updated += 1
                    else:
                        added.append(article.id)
                    store.articles.put_article(article, raw_text, digest,
                                               store.articles.story_of(article.id),
                                               self.outlets)
                store.passages.replace_passages(article.id, passages,
                                                [text_hash(t) for t in embed_texts[article.id]])
            readded = store.sources.take_back_removed(added)
        return Written(ids=tuple(a.id for a, _ in chunked), added=len(added), updated=updated,
                       readded=readded, passages=sum(len(ps) for _, ps in chunked),
                       embedded=embedded.embedded, cached=embedded.cached)


def detect_stored_languages(store: Store) -> int:
    """Give articles stored before languages were detected the language of their text,
    once; returns how many got one. Their content hash follows, so the next reading of their
    file finds them unchanged."""
    found = 0
    with store.transaction():
        for rows in store.outlets.unchecked_languages():
            results: list[tuple[str | None, str | None, str]] = []
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
            store.outlets.set_languages(results)
    return found
