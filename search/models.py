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
    score: float = Field(description="the fused score that ranks results: 0 to 1 in hybrid "
                         "search, the cosine in vector search, BM25 in keyword search")
    similarity: float | None = Field(
        None, description="cosine of the passage shown and the query, -1 to 1; null in "
        "keyword search")
    passage: PassageOut
    article: ArticleRef
    story_id: int | None = None
    coverage: list[CoverageItem] = []


class SearchResponse(BaseModel):
    query: str
    took_ms: float
    results: list[SearchResult]
    weak: bool = Field(False, description="no result's similarity reaches the floor: no "
                       "passage speaks to this query, and the results are only the closest "
                       "weak matches")
    floor: float | None = Field(None, description="the similarity a result must reach not "
                                "to be weak; null in keyword search")


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
