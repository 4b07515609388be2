"""Response shapes shared by the command line, the JSON API and the page."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ArticleRef(BaseModel):
    id: str
    title: str
    source: str | None = None
    url: str | None = None
    published: str | None = Field(default=None, description="YYYY-MM-DD when known")
    language: str | None = None
    lean: str | None = Field(default=None, description="The lean of the article's outlet (left, "
                             "center, right or another label), null when unknown")


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
    strength: str | None = Field(
        default=None, description="strong or loose: how far past the related threshold the "
        "link was (a duplicate is strong); null where the index holds none (links grouped "
        "before strengths were stored)")
    passage: PassageOut | None = None


class StoryLead(BaseModel):
    """How far ahead of the next outlet the story's first article was."""

    next: ArticleRef = Field(description="The earliest dated article of another outlet")
    days: int = Field(description="Days between the two publication dates (0: the same "
                      "day; dates are days, so nothing finer is known)")


class StoryOut(BaseModel):
    """The whole story an article belongs to, as the index holds it (filters do not
    narrow it): search/story_view.py, docs/search.md#the-story-object."""

    id: int
    articles: int = Field(description="How many articles the story holds")
    outlets: int = Field(description="How many outlets carried it, each outlet once under "
                         "its outlets-file name whatever the spelling; articles with no "
                         "outlet are not counted")
    first: ArticleRef | None = Field(
        default=None, description="The earliest-published article; undated articles never count, "
        "null when no article of the story is dated or when several outlets share the first "
        "day (first_day_outlets)")
    first_ahead: StoryLead | None = Field(
        default=None, description="How far ahead of the next outlet the first article was; null "
        "when no other outlet's article is dated")
    first_day_outlets: list[ArticleRef] = Field(
        default=[], description="When articles of different outlets share the story's first "
        "day, one article of each of those outlets (earliest outlet name first), and first and "
        "first_ahead are null: dates are days, so none of them is known to be first; empty "
        "otherwise")
    leans: dict[str, int] = Field(
        default={}, description="The story's articles counted by lean, left, center and right "
        "first, then other labels; only labels that occur; articles of unknown lean are "
        "left out and counted in lean_unknown")
    lean_unknown: int = Field(default=0, description="Articles whose lean is unknown")
    blindspot: str | None = Field(
        default=None, description="left or right when only that side carried the story: at least "
        "two outlets, every article's lean known, all of that one lean; null otherwise")


class StoryArticle(BaseModel):
    """One article of a story, and how it stands to the story's first article."""

    article: ArticleRef
    relation: str = Field(description="first (the story's first article, or its earliest when "
                          "none is first), or duplicate or related to that article")
    duplicate_of: str | None = Field(
        default=None, description="The id of the earlier article of the story whose text this "
        "one copies, when it copies one; null otherwise")
    strength: str | None = Field(
        default=None, description="strong or loose: the link to the first article (a duplicate "
        "is strong); null for the first, for an article linked to the story only through "
        "another, and for links grouped before strengths were stored")
    similarity: float | None = Field(
        default=None, description="The link's similarity to the first article; null for the "
        "first and for an article with no link of its own to it")
    passage: PassageOut | None = Field(default=None, description="The article's first passage")


class StoryResponse(BaseModel):
    story: StoryOut
    articles: list[StoryArticle] = Field(
        default=[], description="Every article of the story, the first one first, then "
        "earliest published first, undated last")


class SearchResult(BaseModel):
    score: float = Field(description="the fused score that ranks results: 0 to 1 in hybrid "
                         "search, the cosine in vector search, BM25 in keyword search")
    similarity: float | None = Field(
        default=None, description="cosine of the passage shown and the query, -1 to 1; null in "
        "keyword search")
    weak: bool = Field(default=False, description="the similarity is under the relevance floor "
                       "(the response's floor); false in keyword search")
    passage: PassageOut
    article: ArticleRef
    story_id: int | None = None
    story: StoryOut | None = Field(default=None, description="The story the article belongs to")
    coverage: list[CoverageItem] = []


class Notice(BaseModel):
    """A filter that matched nothing in the index, said instead of an empty answer alone."""

    field: str = Field(description="The parameter: source, language or lean")
    value: str = Field(description="What was asked")
    message: str
    suggestions: list[str] = Field(default=[], description="The nearest values the index holds")


class FacetValue(BaseModel):
    value: str | None = Field(description="An outlet, a lean or a month (YYYY-MM); null "
                              "for the matching articles where it is not known")
    count: int = Field(description="Matching articles with this value")


class Facets(BaseModel):
    """Counts over every article that matches the query (search/matching.py), not only
    the results shown."""

    source: list[FacetValue] = Field(default=[], description="By outlet, most articles first")
    lean: list[FacetValue] = Field(default=[], description="By the outlet's lean, most first")
    month: list[FacetValue] = Field(default=[], description="By month published, newest first")


class SearchResponse(BaseModel):
    query: str
    took_ms: float
    results: list[SearchResult]
    weak: bool = Field(default=False, description="no result's similarity reaches the floor: no "
                       "passage speaks to this query, and the results are only the closest "
                       "weak matches")
    floor: float | None = Field(default=None, description="the similarity a result must reach not "
                                "to be weak; null in keyword search")
    notices: list[Notice] = Field(default=[], description="Filters that matched nothing, each with "
                                  "the nearest values the index holds; empty otherwise")
    facets: Facets | None = Field(default=None, description="With facets=true: counts by outlet, "
                                  "lean and month over every matching article")


class TimelineBucket(BaseModel):
    start: str = Field(description="The bucket's first day, YYYY-MM-DD (a week starts on "
                       "Monday)")
    count: int = Field(description="Matching articles published in it")
    by_lean: dict[str, int] = Field(default={}, description="Of those, how many by their "
                                    "outlet's lean (known leans only)")
    lean_unknown: int = Field(default=0, description="Of those, how many whose lean is unknown")


class TimelineResponse(BaseModel):
    query: str
    interval: str = Field(description="month, week or day")
    buckets: list[TimelineBucket] = Field(description="Oldest first, with empty buckets "
                                          "between the first and the last")
    matching: int = Field(description="Every matching article, dated or not")
    undated: int = Field(description="Matching articles with no known date, in no bucket")
    notices: list[Notice] = []


class MatchingPassage(BaseModel):
    article_id: str
    query: str
    passage: PassageOut
    similarity: float | None = Field(default=None,
                                     description="cosine of the passage and the query")
    weak: bool = Field(default=False, description="the similarity is under the relevance floor")


class ArticleOut(ArticleRef):
    text: str
    author: str | None = None
    source_given: str | None = Field(default=None, description="The outlet as the input spelled it")
    language_detected: bool | None = Field(
        default=None, description="Whether the language was detected from the text (false: the "
        "input gave it; null: not known, for articles indexed before detection)")
    story_id: int | None = None
    passages: list[PassageOut] = []


class CoverageResponse(BaseModel):
    article: ArticleRef
    story_id: int | None = None
    story: StoryOut | None = Field(default=None, description="The story the article belongs to")
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
