"""Search parameters as both the JSON API and the page accept them, checked in one place."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from indexer.models import Filters

from .dates import INTERVALS
from .retrieve import MODES

MAX_QUERY_CHARS = 1000
MAX_K = 100
DEFAULT_K = 10
SORTS = ("relevance", "date")
FORMATS = ("csv", "jsonl")

# Control characters come from pasted text; they mean nothing to search and some
# (NUL) upset the storage layer, so they count as spaces.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


class BadParam(ValueError):
    """A search parameter a person or script got wrong; ``field`` names it."""

    def __init__(self, field: str, message: str, value: object = None):
        super().__init__(message)
        self.field = field
        self.message = message
        self.value = value


@dataclass(frozen=True)
class SearchParams:
    """One search, checked: its words, how many results, its filters (as typed, before they
    are matched to what the index holds), one per story or not, mode and order."""

    q: str
    k: int = DEFAULT_K
    filters: Filters = field(default_factory=Filters)
    collapse: bool = True
    mode: str = "hybrid"
    sort: str = "relevance"

    # The filters one by one, for the templates that echo them.
    @property
    def source(self) -> str | None:
        source = self.filters.source
        return source if source is None or isinstance(source, str) else ", ".join(source)

    @property
    def since(self) -> str | None:
        return self.filters.since

    @property
    def until(self) -> str | None:
        return self.filters.until

    @property
    def language(self) -> str | None:
        return self.filters.language

    @property
    def lean(self) -> str | None:
        return self.filters.lean


def clean_query(q: str | None) -> str:
    """The query with control characters and runs of spaces reduced to single spaces."""
    return " ".join(_CONTROL.sub(" ", q or "").split())


def check_query(q: str | None) -> str:
    raw = q or ""
    if len(raw) > MAX_QUERY_CHARS:
        raise BadParam(
            "q", f"q must be at most {MAX_QUERY_CHARS:,} characters (got {len(raw):,})", None
        )
    cleaned = clean_query(raw)
    if not cleaned:
        raise BadParam("q", "q must not be empty: type some words to search for", q)
    return cleaned


def check_k(k: int | str | None) -> int:
    if k is None or k == "":
        return DEFAULT_K
    try:
        value = int(k)
    except (TypeError, ValueError):
        raise BadParam("k", f"k must be a whole number from 1 to {MAX_K}", k) from None
    if not 1 <= value <= MAX_K:
        raise BadParam("k", f"k must be from 1 to {MAX_K} (got {value})", k)
    return value


def check_date(field: str, value: str | None) -> str | None:
    """A YYYY-MM-DD day, or None when absent; an empty value (a blank form field) is absent."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise BadParam(field, f"{field} must be a date written YYYY-MM-DD (got {value!r})", value)
    try:
        date.fromisoformat(value)
    except ValueError:
        raise BadParam(field, f"{field} is not a real date: {value}", value) from None
    return value


def check_source(source: str | None) -> str | None:
    if source is None:
        return None
    source = source.strip()
    return source or None


def check_collapse(value: bool | str | None) -> bool:
    if value is None or value == "":
        return True
    if isinstance(value, bool):
        return value
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise BadParam("collapse", f"collapse must be true or false (got {value!r})", value)


def check_mode(mode: str | None) -> str:
    if mode is None or not mode.strip():
        return "hybrid"
    if mode.strip() not in MODES:
        raise BadParam("mode", f"mode must be one of {', '.join(MODES)} (got {mode!r})", mode)
    return mode.strip()


def check_language(language: str | None) -> str | None:
    if language is None or not language.strip():
        return None
    language = language.strip().lower()
    if not re.fullmatch(r"[a-z]{2,3}(-[a-z0-9]{1,8})?", language):
        raise BadParam("language", f"language must be a code like en or fr (got {language!r})",
                       language)
    return language


def check_lean(lean: str | None) -> str | None:
    """A lean label as the index stores them (lower case, single spaces), or None."""
    if lean is None or not lean.strip():
        return None
    label = " ".join(lean.split()).lower()
    if len(label) > 40 or _CONTROL.search(label):
        raise BadParam("lean", f"lean must be a label like left, center or right (got "
                       f"{lean[:50]!r})", lean)
    return label


def _one_of(field: str, value: str | None, allowed: tuple[str, ...]) -> str:
    """``value`` when it is one of ``allowed`` (in any case); blank means the first."""
    if value is None or not value.strip():
        return allowed[0]
    chosen = value.strip().lower()
    if chosen not in allowed:
        raise BadParam(field, f"{field} must be one of {', '.join(allowed)} (got {value!r})",
                       value)
    return chosen


def check_sort(sort: str | None) -> str:
    """``relevance`` (best first, the default) or ``date`` (newest first)."""
    return _one_of("sort", sort, SORTS)


def check_interval(interval: str | None) -> str:
    """A timeline's bucket: ``month`` (when blank), ``week`` (from Monday) or ``day``."""
    return _one_of("interval", interval, INTERVALS)


def check_format(fmt: str | None) -> str:
    """An export's format: ``csv`` (the default) or ``jsonl``."""
    return _one_of("format", fmt, FORMATS)


def parse_search(
    q: str | None,
    k: int | str | None = None,
    source: str | None = None,
    since: str | None = None,
    until: str | None = None,
    collapse: bool | str | None = None,
    mode: str | None = None,
    language: str | None = None,
    lean: str | None = None,
    sort: str | None = None,
) -> SearchParams:
    """Check every parameter; raise :class:`BadParam` naming the first one that is wrong."""
    # Checked in this order, so the first wrong one is the one named.
    checked_q, checked_k = check_query(q), check_k(k)
    checked_source = check_source(source)
    checked_since, checked_until = check_date("since", since), check_date("until", until)
    checked_collapse, checked_mode = check_collapse(collapse), check_mode(mode)
    filters = Filters(source=checked_source, since=checked_since, until=checked_until,
                      language=check_language(language), lean=check_lean(lean))
    params = SearchParams(q=checked_q, k=checked_k, filters=filters,
                          collapse=checked_collapse, mode=checked_mode, sort=check_sort(sort))
    if params.since and params.until and params.since > params.until:
        raise BadParam(
            "until", f"until ({params.until}) is before since ({params.since})", params.until
        )
    return params
