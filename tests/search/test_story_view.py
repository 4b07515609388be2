"""The story object from its members' rows: first, lead, leans, blindspot, outlets."""

from __future__ import annotations

import pytest

from indexer.storage.records import StoredArticle
from search.story_view import read, same_day_text, summarise


def row(aid: str, source: str | None, lean: str | None = None,
        published: str | None = None, story_id: int = 7) -> StoredArticle:
    return StoredArticle(id=aid, title=f"Title {aid}", source=source, url=None,
                         published=published, language="en", lean=lean, story_id=story_id)


def story(*rows: StoredArticle):
    return summarise(7, list(rows))


def test_the_example_of_the_design():
    s = story(row("a", "Left One", "left", "2025-09-18"), row("b", "Left Two", "left"),
              row("c", "Center", "center", "2025-09-19"), row("d", "Right", "right",
                                                               "2025-09-20"),
              row("e", "Left One", "left", "2025-09-21"))
    assert (s.id, s.articles, s.outlets) == (7, 5, 4)
    assert s.leans == {"left": 3, "center": 1, "right": 1} and s.lean_unknown == 0
    assert list(s.leans) == ["left", "center", "right"]
    assert s.first.id == "a" and s.blindspot is None
    assert (s.first_ahead.next.id, s.first_ahead.days) == ("c", 1)


def test_undated_articles_never_count_as_first():
    s = story(row("undated", "Early Bird", "left"), row("late", "Late", "right", "2024-05-03"),
              row("mid", "Mid", "center", "2024-05-01"))
    assert s.first.id == "mid"
    assert (s.first_ahead.next.id, s.first_ahead.days) == ("late", 2)
    none_dated = story(row("x", "X"), row("y", "Y", published="not a date"))
    assert none_dated.first is None and none_dated.first_ahead is None


def test_the_lead_is_over_the_next_outlet_not_the_same_outlet_again():
    s = story(row("a", "Newsmax", "right", "2024-01-01"),
              row("b", "NEWSMAX ", "right", "2024-01-02"),  # the same outlet, spelled so
              row("c", "Reuters", "center", "2024-01-04"))
    assert s.outlets == 2
    assert (s.first_ahead.next.id, s.first_ahead.days) == ("c", 3)
    alone = story(row("a", "Newsmax", "right", "2024-01-01"),
                  row("b", "Newsmax", "right", "2024-01-02"))
    assert alone.first.id == "a" and alone.first_ahead is None


def test_outlets_of_the_same_first_day_tie_and_none_is_first():
    s = story(row("b", "Beta", published="2024-03-08"), row("a", "Alpha", published="2024-03-08"),
              row("c", "Gamma", published="2024-03-09"))
    # Days are all the data has: either could be first, so neither is called first.
    assert s.first is None and s.first_ahead is None
    assert [a.id for a in s.first_day_outlets] == ["a", "b"]
    assert same_day_text(s) == "Reported the same day by Alpha and Beta"


def test_a_tie_lists_each_outlet_once_and_leaves_undated_and_later_articles_out():
    s = story(row("a1", "Alpha", published="2024-03-08"),
              row("a2", "ALPHA ", published="2024-03-08"),  # the same outlet, spelled so
              row("b", "Beta", published="2024-03-08"), row("u", "Undated One"),
              row("c", "Gamma", published="2024-03-09"))
    assert [a.id for a in s.first_day_outlets] == ["a1", "b"]
    three = story(row("a", "Alpha", published="2024-03-08"),
                  row("b", "Beta", published="2024-03-08"), row("n", None, published="2024-03-08"))
    assert same_day_text(three) == "Reported the same day by an unnamed outlet, Alpha and Beta"


def test_one_outlet_alone_on_the_first_day_is_first_with_no_tie():
    s = story(row("a1", "Alpha", published="2024-03-08"),
              row("a2", "Alpha", published="2024-03-08"),
              row("b", "Beta", published="2024-03-10"))
    assert s.first.id == "a1" and (s.first_ahead.next.id, s.first_ahead.days) == ("b", 2)
    assert s.first_day_outlets == [] and same_day_text(s) == ""
    # An undated article is never first, nor in a tie.
    s = story(row("u", "Undated"), row("b", "Beta", published="2024-03-10"))
    assert s.first.id == "b" and s.first_day_outlets == []


def test_unknown_leans_are_counted_apart_never_guessed():
    s = story(row("a", "A", "left"), row("b", "B"), row("c", "C", "far-out"), row("d", "D"))
    assert s.leans == {"left": 1, "far-out": 1} and s.lean_unknown == 2
    assert "unknown" not in s.leans


@pytest.mark.parametrize("rows, blindspot", [
    # Only the right, two outlets, every lean known.
    ([row("a", "A", "right"), row("b", "B", "right")], "right"),
    ([row("a", "A", "left"), row("b", "B", "left"), row("c", "A", "left")], "left"),
    # One outlet alone says too little, however many times it ran the story.
    ([row("a", "A", "right"), row("b", "A", "right")], None),
    ([row("a", "A", "right")], None),
    # An outlet of unknown lean might be of the other side.
    ([row("a", "A", "right"), row("b", "B", "right"), row("c", "C")], None),
    # Both sides, or the center too.
    ([row("a", "A", "right"), row("b", "B", "left")], None),
    ([row("a", "A", "right"), row("b", "B", "center")], None),
    # The center alone is no side's blind spot; nor is another label.
    ([row("a", "A", "center"), row("b", "B", "center")], None),
    ([row("a", "A", "libertarian"), row("b", "B", "libertarian")], None),
    # Articles with no outlet are no outlet.
    ([row("a", None, "right"), row("b", None, "right")], None),
])
def test_a_blindspot_is_named_only_when_enough_is_known(rows, blindspot):
    assert story(*rows).blindspot == blindspot


def test_read_gives_every_story_of_a_page_in_two_reads_whatever_their_number():
    rows = {f"a{i}": row(f"a{i}", f"Outlet {i % 3}", "right", story_id=i % 4)
            for i in range(12)}
    calls = []

    def members_of(story_ids):
        calls.append(("members", list(story_ids)))
        out = {}
        for aid, r in rows.items():
            if r.story_id in story_ids:
                out.setdefault(r.story_id, []).append(aid)
        return out

    def rows_of(ids):
        calls.append(("rows", len(ids)))
        return {aid: rows[aid] for aid in ids}

    stories = read([0, 1, 2, 3, 3, None, 99], members_of, rows_of)
    assert sorted(stories) == [0, 1, 2, 3]  # 99 has no member, None is no story
    assert [name for name, _ in calls] == ["members", "rows"]
    assert all(s.articles == 3 for s in stories.values())
    assert read([None], members_of, rows_of) == {}


def test_the_engine_reads_the_stories_of_a_page_in_two_queries_at_most(web_engine,
                                                                      monkeypatch):
    statements: list[str] = []
    conn = web_engine.store.db.conn
    ids = sorted({r.story_id for r in web_engine.store.articles(
        web_engine.store.article_ids()).values()})
    # No article row held yet: the most it can cost.
    monkeypatch.setattr(web_engine, "articles",
                        type(web_engine.articles)(web_engine.store.articles))
    conn.set_trace_callback(statements.append)
    try:
        stories = web_engine.stories(ids)
    finally:
        conn.set_trace_callback(None)
    assert len(stories) == len(ids) > 5
    assert len([s for s in statements if s.lstrip().lower().startswith("select")]) <= 2


def test_the_lead_is_worded_in_days_or_as_the_same_day():
    from search.story_view import lead_text

    one = story(row("a", "Sentinel", "left", "2025-09-18"), row("b", "Courier", "right",
                                                                  "2025-09-19"))
    same = story(row("a", "Sentinel", "left", "2025-09-18"), row("b", "Courier", "right",
                                                                   "2025-09-18"))
    later = story(row("a", "Sentinel", "left", "2025-09-18"), row("b", None, "right",
                                                                    "2025-09-21"))
    alone = story(row("a", "Sentinel", "left", "2025-09-18"), row("b", "Sentinel", "left"))
    assert lead_text(one) == "1 day before Courier"
    # The same day is a tie, said instead of a lead.
    assert lead_text(same) == "" and same.first is None
    assert same_day_text(same) == "Reported the same day by Courier and Sentinel"
    assert lead_text(later) == "3 days before another outlet"
    assert lead_text(alone) == ""
