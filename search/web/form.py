"""The page's form as the person typed it, and the names every template reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import Request

from ..dates import month_range


@dataclass(frozen=True)
class FormState:
    """What the person typed, echoed back into the form even when it is wrong."""

    q: str = ""
    source: str = ""
    since: str = ""
    until: str = ""
    k: str = ""
    lean: str = ""
    language: str = ""
    sort: str = ""

    @classmethod
    def from_request(cls, request: Request) -> FormState:
        qp = request.query_params
        return cls(**{name: qp.get(name, "") for name in
                      ("q", "source", "since", "until", "k", "lean", "language", "sort")})

    def url(self, **changes: str | int) -> str:
        """The shareable /search URL of this form, without empty fields."""
        fields = {**self.__dict__, **changes}
        kept = {name: value for name, value in fields.items() if str(value).strip()}
        return "/search?" + urlencode(kept)

    def matching_query(self) -> str:
        """The query and filters alone (no k, no sort), as a URL query string: what the
        export and the feed of this search take."""
        fields = ("q", "source", "since", "until", "lean", "language")
        return urlencode({name: getattr(self, name).strip() for name in fields
                          if getattr(self, name).strip()})

    @property
    def export_url(self) -> str:
        return "/api/export?" + self.matching_query()

    @property
    def feed_url(self) -> str:
        return "/feeds/search.atom?" + self.matching_query()

    def facet_url(self, field: str, value: str) -> str:
        """This search narrowed to one facet's value: an outlet, a lean or a month."""
        if field == "month":
            since, until = month_range(value)
            return self.url(since=since, until=until, k="")
        return self.url(**{field: value, "k": ""})

    def url_with(self, field: str, value: str) -> str:
        """This form's URL with one filter set to ``value`` (a suggestion to follow)."""
        return self.url(**{field: value})

    def selected(self, field: str, value: str) -> bool:
        """Whether a filter's option is the one asked for (outlets in any case)."""
        return " ".join(getattr(self, field).split()).casefold() == value.casefold()

    @property
    def has_filters(self) -> bool:
        return bool(self.source or self.since or self.until or self.lean or self.language)


def wants_fragment(request: Request) -> bool:
    """htmx swaps only the results; a history restore after a cache miss needs the page."""
    headers = request.headers
    return "hx-request" in headers and "hx-history-restore-request" not in headers


def base_context(form: FormState) -> dict[str, Any]:
    """Every name the templates read, so any page (even an error page) can render."""
    return {
        "form": form, "sources": [], "leans": [], "languages": [], "stats": None,
        "error": None, "error_title": None,
        "unavailable": False, "params": None, "response": None, "more_url": None,
        "clear_url": None, "facets": None, "timeline": None, "matching": None,
        "chart": None,
    }
