"""Reading the collection for a build: every input file, except those unchanged since the
last build.

A file whose size and modification time are what the last build recorded, and whose
articles are all still in the index, is not read again: its articles count as unchanged
(the way make and git tell a changed file). So a daily update of a large archive reads the
new files, not the archive. A file that gave problems last time (a bad line, a cut text)
is read every time, so the report keeps naming them; a rebuild reads everything.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from .ingest import extract
from .ingest.sources import UnreadableFile, discover, read_file
from .models import Article, RawArticle, Skipped
from .storage.source_rows import SourceFile
from .storage.store import Store

# Articles read, cleaned, embedded and written at a time: memory stays bounded by this
# whatever the size of the collection.
BATCH = 500


@dataclass
class Collected:
    """What a build has read so far, beside the batches of articles it hands out."""

    unchanged: set[str] = field(default_factory=set)  # ids of articles in unread files
    read: set[str] = field(default_factory=set)  # ids of articles read
    skipped: list[Skipped] = field(default_factory=list)
    truncated: list[Skipped] = field(default_factory=list)
    files: list[SourceFile] = field(default_factory=list)  # read cleanly: remember them
    bar: tqdm | None = None  # the build's progress, in bytes of the files to read

    @property
    def ids(self) -> set[str]:
        return self.read | self.unchanged


def collect(paths: Iterable[Path], store: Store, everything: bool, progress: bool,
            out: Collected, batch: int = BATCH) -> Iterator[list[tuple[Article, str]]]:
    """The articles under ``paths``, read and extracted, in batches of ``batch``; with
    ``everything``, even those of unchanged files. ``out`` gathers the rest as it goes."""
    recorded = {} if everything else store.sources.source_files()
    found: list[tuple[Path, str, os.stat_result]] = []
    for item in discover(paths):
        if isinstance(item, Skipped):
            out.skipped.append(item)
            continue
        try:
            found.append((item, str(item.resolve()), item.stat()))
        except OSError as error:
            out.skipped.append(Skipped(str(item), f"cannot read: {error.strerror}"))

    def as_recorded(key: str, info: os.stat_result) -> SourceFile | None:
        last = recorded.get(key)
        if last is not None and (last.size, last.mtime_ns) == (info.st_size, info.st_mtime_ns):
            return last
        return None

    # Progress in bytes of the files to read, so the bar can say how long is left.
    out.bar = tqdm(total=sum(i.st_size for _, k, i in found if as_recorded(k, i) is None),
                   desc="indexing", unit="B", unit_scale=True, disable=not progress,
                   leave=False)
    first_origin: dict[str, str] = {}
    pending: list[tuple[Article, str]] = []
    for item, key, info in found:
        last = as_recorded(key, info)
        if (last is not None and not any(aid in first_origin for aid in last.articles)
                and store.articles.article_count(last.articles) == len(last.articles)):
            for aid in last.articles:
                first_origin[aid] = str(item)
            out.unchanged.update(last.articles)
            continue
        ids: list[str] = []
        clean = True
        for article, raw_text in _read_one(item, out, first_origin):
            if article is None:  # a problem in this file: it is read again next time
                clean = False
                continue
            ids.append(article.id)
            out.read.add(article.id)
            pending.append((article, raw_text))
            if len(pending) >= batch:
                yield pending
                pending = []
        out.bar.update(info.st_size if last is None else 0)
        if clean:
            out.files.append(SourceFile(key, info.st_size, info.st_mtime_ns, tuple(ids)))
    if pending:
        yield pending
    out.bar.close()


def _read_one(path: Path, out: Collected, first_origin: dict[str, str]
              ) -> Iterator[tuple[Article | None, str]]:
    """The articles of one file, and (None, "") for each problem met (recorded in ``out``)."""
    items = read_file(path)  # streamed: a crawl of any size is never held whole
    while True:
        try:
            item = next(items)
        except StopIteration:
            return
        except UnreadableFile as error:
            out.skipped.append(Skipped(str(path), str(error)))
            yield None, ""
            return
        result = extract.extract(item) if isinstance(item, RawArticle) else item
        if isinstance(result, Skipped):
            out.skipped.append(result)
            yield None, ""
            continue
        article, raw_text = result
        if article.id in first_origin:
            out.skipped.append(Skipped(article.origin,
                                       f"same article id as {first_origin[article.id]}"))
            yield None, ""
            continue
        first_origin[article.id] = article.origin
        if article.truncated:
            out.truncated.append(Skipped(article.origin, article.truncated))
            yield None, ""  # indexed, but reported again next time
        yield article, raw_text
