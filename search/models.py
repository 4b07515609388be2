"""Response shapes shared by the command line, the JSON API and the page."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ArticleRef(BaseModel):
    id: str
    title: str
    source: str | None = None
    url: str | None = None
    published: str | None = Field(None, description="YYYY-MM-DD when known")
    language: str | None = None


class PassageOut(BaseModel):
    chunk_id: int
    text: str
    char_start: int
    char_end: int


class CoverageItem(BaseModel):
    article: ArticleRef
    relation: str = Field(description="duplicate or related")
    similarity: float
    shared_text: float | None = None
    passage: PassageOut | None = None


class SearchResult(BaseModel):
    score: float
    passage: PassageOut
    article: ArticleRef
    story_id: int | None = None
    coverage: list[CoverageItem] = []


class SearchResponse(BaseModel):
    query: str
    took_ms: float
    results: list[SearchResult]


class ArticleOut(ArticleRef):
    text: str
    author: str | None = None
    story_id: int | None = None
    passages: list[PassageOut] = []


class CoverageResponse(BaseModel):
    article: ArticleRef
    story_id: int | None = None
    coverage: list[CoverageItem] = []


class IndexStats(BaseModel):
    articles: int
    passages: int
    stories: int
    sources: int
    model: str
    backend: str
    dimension: int
    built_at: str | None = None
    generation: str | None = None
    top_sources: list[tuple[str, int]] = []
