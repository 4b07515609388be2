"""Reading the collection for a build: every input file, except those unchanged since the
last build.

A file whose size and modification time are what the last build recorded, and whose
articles are all still in the index, is not read again: its articles count as unchanged
(the way make and git tell a changed file). So a daily update of a large archive reads the
new files, not the archive. A file that gave problems last time (a bad line, a cut text)
is read every time, so the report keeps naming them; ``--rebuild`` reads everything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from .ingest import extract
from .ingest.sources import UnreadableFile, discover, read_file
from .models import Article, RawArticle, Skipped
from .storage.source_rows import SourceFile
from .storage.store import Store


@dataclass
class Collected:
    """What a build read: new or changed candidates, and what it did not need to read."""

    articles: list[tuple[Article, str]] = field(default_factory=list)
    unchanged: set[str] = field(default_factory=set)  # ids of articles in unread files
    skipped: list[Skipped] = field(default_factory=list)
    truncated: list[Skipped] = field(default_factory=list)
    files: list[SourceFile] = field(default_factory=list)  # read cleanly: remember them
    seen: list[str] = field(default_factory=list)  # every file found, resolved

    @property
    def ids(self) -> set[str]:
        return {a.id for a, _ in self.articles} | self.unchanged


def collect(paths: Iterable[Path], store: Store, known: set[str], everything: bool,
            progress: bool) -> Collected:
    """Read the files under ``paths``; with ``everything``, even the unchanged ones."""
    recorded = {} if everything else store.source_files()
    out = Collected()
    first_origin: dict[str, str] = {}
    bar = tqdm(desc="reading", unit=" articles", disable=not progress, leave=False)
    for item in discover(paths):
        if isinstance(item, Skipped):
            out.skipped.append(item)
            continue
        key = str(item.resolve())
        out.seen.append(key)
        try:
            info = item.stat()
        except OSError as error:
            out.skipped.append(Skipped(str(item), f"cannot read: {error.strerror}"))
            continue
        last = recorded.get(key)
        if (last is not None and (last.size, last.mtime_ns) == (info.st_size, info.st_mtime_ns)
                and all(aid in known and aid not in first_origin for aid in last.articles)):
            for aid in last.articles:
                first_origin[aid] = str(item)
            out.unchanged.update(last.articles)
            bar.update(len(last.articles))
            continue
        ids, clean = _read_one(item, out, first_origin, bar)
        if clean:
            out.files.append(SourceFile(key, info.st_size, info.st_mtime_ns, tuple(ids)))
    bar.close()
    return out


def _read_one(path: Path, out: Collected, first_origin: dict[str, str],
              bar: tqdm) -> tuple[list[str], bool]:
    """Read one file into ``out``; its article ids, and whether it read without a problem."""
    ids: list[str] = []
    clean = True
    items = read_file(path)  # streamed: a crawl of any size is never held whole
    while True:
        try:
            item = next(items)
        except StopIteration:
            break
        except UnreadableFile as error:
            out.skipped.append(Skipped(str(path), str(error)))
            return ids, False
        bar.update(1)
        result = extract.extract(item) if isinstance(item, RawArticle) else item
        if isinstance(result, Skipped):
            out.skipped.append(result)
            clean = False
            continue
        article, raw_text = result
        if article.id in first_origin:
            out.skipped.append(Skipped(article.origin,
                                       f"same article id as {first_origin[article.id]}"))
            clean = False
            continue
        first_origin[article.id] = article.origin
        if article.truncated:
            out.truncated.append(Skipped(article.origin, article.truncated))
            clean = False
        ids.append(article.id)
        out.articles.append((article, raw_text))
    return ids, clean
