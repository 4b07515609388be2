"""Plain data that crosses module boundaries."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RawArticle:
    """One article as a source read it, before cleaning."""

    origin: str  # file path, with "#line" or "#row" for multi-record files
    title: str
    text: str = ""
    html: str = ""
    id: str | None = None
    url: str | None = None
    source: str | None = None
    published: str | None = None
    author: str | None = None
    language: str | None = None
    # The lean the record gives itself (a lean, bias or bias_text field), if any.
    lean: str | None = None
    metadata: dict = field(default_factory=dict)
    # What a source had to leave out (a file or page past its size limit), if anything.
    truncated: str | None = None


@dataclass(frozen=True)
class Skipped:
    """An input that was not indexed, and why."""

    origin: str
    reason: str


@dataclass(frozen=True)
class Article:
    """A cleaned article, ready to be cut into passages."""

    id: str
    title: str
    text: str
    origin: str
    url: str | None = None
    source: str | None = None
    published: str | None = None
    author: str | None = None
    language: str | None = None
    # Whether ``language`` was detected from the text rather than given by the input.
    language_detected: bool = False
    # The lean the input gives the article itself; the outlets file may give its outlet one.
    lean: str | None = None
    metadata: dict = field(default_factory=dict)
    # What was cut to index it (the source's limit, the text cap), if anything; reported by
    # the build, not stored.
    truncated: str | None = None


@dataclass(frozen=True)
class Passage:
    """A span of an article's text: what search retrieves and shows."""

    article_id: str
    seq: int
    text: str
    char_start: int
    char_end: int


@dataclass(frozen=True)
class Filters:
    """What a search is restricted to; None lets everything through. Only the store turns
    this into SQL."""

    # An outlet's stored name, or several (spellings that differ only in case, where no
    # outlets file made one outlet of them).
    source: str | tuple[str, ...] | None = None
    since: str | None = None  # YYYY-MM-DD, inclusive
    until: str | None = None  # YYYY-MM-DD, inclusive
    language: str | None = None
    lean: str | None = None

    def __bool__(self) -> bool:
        return any((self.source, self.since, self.until, self.language, self.lean))
