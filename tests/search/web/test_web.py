"""The HTML pages, through TestClient: what a browser receives, before any script runs."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from web_fixtures import EVIL_SOURCE, EVIL_TITLE

from indexer.settings import Settings
from search.web.app import create_app
from search.web.highlight import highlight, paragraphs, query_terms
from search.web.render import nice_date, safe_url

HTMX = {"HX-Request": "true"}


@pytest.fixture(scope="module")
def index_dir(web_index_dir) -> Path:
    return web_index_dir


@pytest.fixture(scope="module")
def client(web_index_dir, web_engine):
    with TestClient(create_app(Settings(index_dir=web_index_dir), web_engine),
                    raise_server_exceptions=False) as client:
        yield client


def scripts(html: str) -> list[str]:
    return re.findall(r"<script\b[^>]*>", html, flags=re.I)


def test_home_page_has_a_labelled_search_form_that_works_without_javascript(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.text
    assert re.search(r'<form[^>]*action="/search"[^>]*method="get"', html)
    assert '<label class="search-label" for="q">' in html
    assert re.search(r'<input id="q" name="q" type="search"', html)
    assert 'role="search"' in html and '<main id="main"' in html
    assert 'aria-live="polite"' in html
    # Filters: the outlets of the collection, and a date range.
    assert '<option value="Capital Post">Capital Post (2)</option>' in html
    assert 'name="since" type="date"' in html and 'name="until" type="date"' in html


def test_htmx_is_served_by_the_app_and_nothing_is_loaded_from_elsewhere(client):
    html = client.get("/").text
    sources = [re.search(r'src="([^"]+)"', tag).group(1) for tag in scripts(html)]
    assert sources and all(src.startswith("/") for src in sources)
    assert any(src.startswith("/assets/htmx.min.js") for src in sources)
    js = client.get("/assets/htmx.min.js")
    assert js.status_code == 200
    assert js.headers["content-type"].startswith("text/javascript")
    assert "htmx" in js.text and len(js.text) > 10_000
    for asset in ("/static/style.css", "/static/app.js"):
        assert client.get(asset).status_code == 200
    assert "http" not in " ".join(re.findall(r'(?:href|src)="([^"]+\.(?:css|js)[^"]*)"', html))


def titles(html: str) -> list[str]:
    return re.findall(r'<h2 class="result-title"[^>]*><a [^>]*>([^<]+)</a>', html)


def test_search_page_and_fragment_show_the_same_results(client):
    page = client.get("/search", params={"q": "farm bill crop insurance"})
    fragment = client.get("/search", params={"q": "farm bill crop insurance"}, headers=HTMX)
    assert page.status_code == fragment.status_code == 200
    assert "<html" in page.text and "<html" not in fragment.text
    assert "<form" in page.text and "<form" not in fragment.text
    assert titles(page.text) and titles(page.text) == titles(fragment.text)
    assert titles(page.text)[0] == "Senate passes farm bill expanding crop insurance"
    assert page.headers["vary"] == "HX-Request"
    # The fragment carries the page title, so the tab follows the query too.
    assert "<title>farm bill crop insurance · PressLens</title>" in fragment.text


def test_the_page_echoes_the_query_and_filters_so_a_shared_url_reloads_the_same(client):
    html = client.get(
        "/search",
        params={"q": "new law", "source": "Capital Post", "since": "2024-01-01",
                "until": "2025-12-31"},
    ).text
    assert 'value="new law"' in html
    assert '<option value="Capital Post" selected>' in html
    assert 'value="2024-01-01"' in html and 'value="2025-12-31"' in html
    assert set(re.findall(r'<span class="outlet">([^<]+)</span>', html)) == {"Capital Post"}


def test_a_history_restore_gets_the_whole_page(client):
    headers = {**HTMX, "HX-History-Restore-Request": "true"}
    assert "<form" in client.get("/search", params={"q": "bike"}, headers=headers).text


def test_query_words_are_marked_in_passages(client):
    html = client.get("/search", params={"q": "protected bike lanes"}).text
    assert "<mark>bike</mark>" in html and "<mark>lanes</mark>" in html


def test_results_link_to_the_article_page_with_the_passage(client):
    html = client.get("/search", params={"q": "steel tariffs"}).text
    # The page opens at its headline; its own link jumps on to the passage.
    link = re.search(r'href="(/articles/tariffs\?chunk=\d+&amp;q=steel\+tariffs)"', html)
    assert link
    page = client.get(link.group(1).replace("&amp;", "&")).text
    assert '<a href="#passage">Jump to the passage</a>' in page
    assert 'id="passage"' in page


def test_a_full_page_of_results_offers_more(client):
    html = client.get("/search", params={"q": "vote", "k": "2"}).text
    assert len(titles(html)) == 2
    assert 'href="/search?q=vote&amp;k=12"' in html
    assert len(titles(client.get("/search", params={"q": "vote", "k": "12"}).text)) > 2


def test_a_query_nothing_speaks_to_shows_the_empty_state(client):
    html = client.get("/search", params={"q": "qwxzv plorbtang"}).text
    assert "No passage speaks to" in html and 'class="weak-matches"' in html
    # A short query is far from any passage in meaning, but articles hold its words.
    html = client.get("/search", params={"q": "vote"}).text
    assert "No passage speaks to" not in html and len(titles(html)) > 2


def test_empty_state_offers_to_drop_the_filters(client):
    response = client.get("/search", params={"q": "farm bill", "source": "No Such Outlet"})
    assert response.status_code == 200
    assert "No passages found" in response.text
    assert 'href="/search?q=farm+bill"' in response.text


def test_start_state_without_a_query(client):
    for response in (client.get("/"), client.get("/search?q=")):
        assert response.status_code == 200
        assert "Search by meaning" in response.text
        assert not titles(response.text)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"q": "x" * 1001}, "at most 1,000 characters"),
        ({"q": "farm", "since": "yesterday"}, "since must be a date written YYYY-MM-DD"),
        ({"q": "farm", "since": "2025-01-01", "until": "2024-01-01"}, "is before since"),
        ({"q": "farm", "k": "500"}, "k must be from 1 to 100"),
    ],
)
def test_error_state_says_what_went_wrong(client, params, message):
    for headers in ({}, HTMX):
        response = client.get("/search", params=params, headers=headers)
        assert response.status_code == 422
        assert 'role="alert"' in response.text
        assert message in response.text


def test_article_page_shows_the_whole_text_with_the_passage_marked(client):
    article = client.get("/api/articles/transit").json()
    passage = article["passages"][-1]
    response = client.get(f"/articles/transit?chunk={passage['chunk_id']}&q=bike")
    assert response.status_code == 200
    html = response.text
    assert '<h1 id="article-title">City council approves protected bike lanes' in html
    marked = re.search(r'<mark class="passage-mark" id="passage"[^>]*>(.*?)</mark>', html, re.S)
    assert marked
    assert marked.group(1).startswith(passage["text"][:20])
    assert html.count('id="passage"') == 1
    assert 'href="https://metro.example/bike-lanes"' in html
    assert 'href="/search?q=bike"' in html  # back to the results


@pytest.mark.parametrize("chunk", ["999999", "abc", "", "-1"])
def test_article_page_ignores_a_chunk_it_does_not_have(client, chunk):
    response = client.get(f"/articles/transit?chunk={chunk}")
    assert response.status_code == 200
    assert 'id="passage"' not in response.text


def test_unknown_article_page_is_a_404_page(client):
    response = client.get("/articles/<nope>")
    assert response.status_code == 404
    assert "Article not found" in response.text
    assert "&lt;nope&gt;" in response.text and "<nope>" not in response.text


def test_unknown_page_is_an_html_404(client):
    response = client.get("/nowhere", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert "<html" in response.text


def test_markup_in_articles_is_shown_as_text_on_every_page(client):
    pages = [
        client.get("/").text,
        client.get("/search", params={"q": "library budget vote"}).text,
        client.get("/search", params={"q": "library budget vote"}, headers=HTMX).text,
        client.get("/search", params={"q": "library budget", "source": EVIL_SOURCE}).text,
        client.get("/articles/evil?q=library").text,
    ]
    for html in pages:
        # Only the app's own: htmx and app.js on full pages, Chart.js and timeline.js too on
        # the search page; none in a fragment.
        sources = {re.search(r'src="([^"?]+)', tag).group(1) for tag in scripts(html)}
        assert sources <= {"/assets/htmx.min.js", "/static/app.js",
                           "/assets/chart.umd.min.js", "/static/timeline.js"}
        assert len(scripts(html)) == len(sources)
        assert "onerror=" not in html.replace("onerror=&#34;", "")
        assert "onmouseover=" not in html.replace("onmouseover=&#34;", "")
        assert 'href="javascript:' not in html.lower()
        assert "<img" not in html and "<b " not in html
    search_html, article_html = pages[1], pages[4]
    assert "&lt;script&gt;window.__pwned=1;alert(1)&lt;/script&gt; Library budget vote" in (
        search_html)
    assert EVIL_TITLE.split(">")[0].replace("<", "&lt;") in article_html
    assert "&lt;img src=x onerror=" in article_html
    assert "&lt;a href=&#34;javascript:" in article_html
    # The article's javascript: URL is shown, never linked.
    assert "Original article" not in article_html


def test_pages_forbid_inline_and_third_party_scripts(client):
    policy = client.get("/").headers["content-security-policy"]
    assert "script-src 'self'" in policy and "default-src 'none'" in policy


def test_without_an_index_the_page_says_how_to_build_one(tmp_path):
    with TestClient(create_app(Settings(index_dir=tmp_path / "none"))) as client:
        for path in ("/", "/search?q=farm"):
            response = client.get(path)
            assert response.status_code == 503
            assert "presslens" in response.text and "index" in response.text
            assert 'role="alert"' in response.text


def test_the_pages_come_from_the_templates_folder_the_app_is_given(tmp_path):
    import shutil

    from search.web.resources import TEMPLATES_DIR

    folder = shutil.copytree(TEMPLATES_DIR, tmp_path / "templates")
    base = folder / "base.html"
    base.write_text(base.read_text(encoding="utf-8").replace(
        "</body>", "<p>templates of my own</p></body>"), encoding="utf-8")
    app = create_app(Settings(index_dir=tmp_path / "index"), templates=folder)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/")
    assert response.status_code == 503
    assert "templates of my own" in response.text
    assert "templates of my own" not in TEMPLATES_DIR.joinpath("base.html").read_text(
        encoding="utf-8")


# The helpers the templates rely on ----------------------------------------------------


def test_highlight_escapes_before_marking():
    html = str(highlight('<b>Tom & Jerry</b> guard the borders', "borders amp b"))
    assert html == (
        "&lt;b&gt;Tom &amp; Jerry&lt;/b&gt; guard the <mark>borders</mark>"
    )


def test_highlight_marks_word_forms_but_not_inside_other_words():
    text = "Tariffs rose; the tariff plan tariffed nothing in Tariffville."
    html = str(highlight(text, "tariff"))
    # The full-text index's Porter stemmer makes "tariffed" the term "tarif", so keyword
    # search does not match it for "tariff", and the page does not mark it either.
    assert html.count("<mark>") == 2
    assert "<mark>Tariffs</mark>" in html and "<mark>tariff</mark>" in html
    assert "Tariffville" in html and "<mark>Tariffville" not in html


def test_highlight_marks_the_words_keyword_search_matches():
    html = str(highlight("Running late, she runs; the runner ran.", "run"))
    assert html == ("<mark>Running</mark> late, she <mark>runs</mark>; the runner ran.")
    # "new" is no stop word of the search, so it is marked; "above" is one, so it is not.
    html = str(highlight("New rules above the old ones", "new rules above"))
    assert html == "<mark>New</mark> <mark>rules</mark> above the old ones"
    assert query_terms("new rules above") == ["new", "rules"]


def test_highlight_marks_exactly_the_terms_of_the_keyword_query():
    from indexer.storage.fts import stems
    from search.retrieve import query_words

    query = "Senators were debating the amended farm bills"
    searched = {t for terms in stems(query_words(query)) for t in terms}
    text = "The senator debated; farmers amend bills. Debate over the farm bill."
    html = str(highlight(text, query))
    marked = [m.lower() for m in re.findall(r"<mark>(.*?)</mark>", html)]
    assert marked  # the text shares words with the query
    assert all(t in searched for terms in stems(marked) for t in terms)
    unmarked = [w.lower() for w in re.findall(r"\w+", re.sub(r"<mark>.*?</mark>", " ", html))]
    assert not any(t in searched for terms in stems(unmarked) for t in terms)


def test_highlight_ignores_common_words():
    assert query_terms("What is the border policy?") == ["border", "policy"]
    assert str(highlight("the end", "the")) == "the end"


def test_paragraphs_mark_a_passage_across_paragraph_breaks():
    text = "First para.\n\nSecond para here.\nThird."
    start, end = text.index("para."), text.index("here")
    blocks = paragraphs(text, start, end)
    assert [[(s.text, s.marked, s.anchor) for s in b] for b in blocks] == [
        [("First ", False, False), ("para.", True, True)],
        [("Second para ", True, False), ("here.", False, False)],
        [("Third.", False, False)],
    ]


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", " JaVaScRiPt:alert(1)", "data:text/html,<script>", "vbscript:x",
     "//evil.example", "http://[::1"],
)
def test_only_web_addresses_are_linked(url):
    assert safe_url(url) is None


def test_web_addresses_are_linked():
    assert safe_url("https://example.org/a?b=c") == "https://example.org/a?b=c"


def test_dates_read_naturally():
    assert nice_date("2025-09-08") == "8 Sep 2025"
    assert nice_date("sometime") == "sometime"
    assert nice_date(None) == ""


def test_wire_copies_show_as_one_result_carried_by_two_outlets(client):
    html = client.get("/search", params={"q": "farm bill crop insurance"}).text
    assert titles(html).count("Senate passes farm bill expanding crop insurance") == 1
    details = re.search(r'<details class="coverage">(.*?)</ul>', html, re.S).group(1)
    assert re.search(r"<summary>\s*Carried by 2 outlets", details)
    assert "same text" in details


def test_coverage_shows_how_many_outlets_carried_the_story_one_click_away():
    from search.models import ArticleRef, CoverageItem, PassageOut, SearchResponse, SearchResult
    from search.params import parse_search
    from search.web.form import FormState, base_context
    from search.web.render import environment

    def ref(article_id, title, source):
        return ArticleRef(id=article_id, title=title, source=source, published="2024-03-08")

    result = SearchResult(
        score=0.8,
        passage=PassageOut(chunk_id=3, text="Lawmakers passed a farm bill.", char_start=0,
                           char_end=29),
        article=ref("a", "Farm bill passes", "Wire Service"),
        story_id=1,
        coverage=[
            CoverageItem(article=ref("b", "Farm bill passes", "Daily Herald"),
                         relation="duplicate", similarity=0.75, shared_text=0.97),
            CoverageItem(article=ref("c", EVIL_TITLE, EVIL_SOURCE), relation="related",
                         similarity=0.71),
            CoverageItem(article=ref("d", "Senate farm vote", "Daily Herald"),
                         relation="related", similarity=0.66),
        ],
    )
    context = base_context(FormState(q="farm bill"))
    context["params"] = parse_search("farm bill")
    context["response"] = SearchResponse(query="farm bill", took_ms=3.0, results=[result])
    html = environment().get_template("_results.html").render(fragment=True, **context)
    details = re.search(r'<details class="coverage">(.*?)</ul>', html, re.S).group(1)
    assert re.search(r"<summary>\s*Carried by 3 outlets", details)
    assert details.count("<li>") == 3
    # A copy says how much text it shares, not its vector similarity; other items say that.
    assert 'href="/articles/b"' in details and "same text" in details
    assert "97% of text shared" in details and "75% similar" not in details
    assert "71% similar" in details and "66% similar" in details
    assert "&lt;script&gt;" in details and "<script" not in details and "<b " not in details


def test_a_filter_that_matches_nothing_says_so_on_the_page_with_the_nearest_outlet(client):
    for headers in ({}, HTMX):
        response = client.get("/search", params={"q": "new law passed",
                                                 "source": "capitol post"}, headers=headers)
        assert response.status_code == 200
        notice = re.search(r'<p class="notice" data-field="source">(.*?)</p>', response.text,
                           flags=re.S)
        assert notice and "No outlet in this index is called “capitol post”" in notice.group(1)
        assert 'href="/search?q=new+law+passed&amp;source=Capital+Post"' in notice.group(1)


def result_of(html: str, prefix: str) -> str:
    """The HTML of the first result whose article id starts with ``prefix``."""
    for item in re.findall(r'<li class="result[^"]*">(.*?)</article>', html, flags=re.S):
        if re.search(r'<h2 class="result-title"[^>]*><a href="/articles/' + prefix, item):
            return item
    raise AssertionError(f"no result of an article {prefix}...")


def words(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_a_story_shows_its_leans_in_words_and_a_blindspot(client):
    for headers in ({}, HTMX):
        html = client.get("/search", params={"q": "river bridge closed cracked girders"},
                          headers=headers).text
        item = result_of(html, "bridge-")
        split = words(re.search(r'<p class="lean-split">(.*?)</p>', item, re.S).group(1))
        assert split == ("Articles of this story by lean: Left 0 Center 0 Right 3")
        # The bar is drawn for the eye; the words say the same for everyone.
        assert re.search(r'<svg class="lean-bar"[^>]*aria-hidden="true"', item)
        assert '<rect class="lean-right" x="0.0" y="0" width="100.0"' in item
        blindspot = words(re.search(r'<p class="blindspot"[^>]*>(.*?)</p>', item, re.S).group(1))
        assert blindspot == "Blindspot: only the right covered this"
        # Three articles, two outlets (one of them under two spellings).
        assert re.search(r"<summary>\s*Carried by 2 outlets", item)


def test_the_first_article_is_marked_with_its_lead_and_unknown_lean_says_so(client):
    html = client.get("/search", params={"q": "lead service pipes replaced"}).text
    item = result_of(html, "water-")
    assert words(re.search(r'<p class="lean-split">(.*?)</p>', item, re.S).group(1)) == (
        "Articles of this story by lean: Left 1 Center 1 Right 1 Unknown 1")
    assert 'class="blindspot"' not in item
    first = words(re.search(r'<p class="first-by">(.*?)</p>', item, re.S).group(1)) \
        if 'class="first-by"' in item else None
    coverage = re.search(r'<ul class="coverage-list">(.*?)</ul>', item, re.S).group(1)
    lines = {re.search(r'href="/articles/([^"?]+)', li).group(1): li
             for li in re.findall(r"<li>(.*?)</li>", coverage, re.S)}
    marked = [aid for aid, li in lines.items() if "first-mark" in li]
    if "water-midland" in lines:  # the first is in the coverage list: marked there
        assert marked == ["water-midland"]
        assert "First reported 2 days before Coastal Tribune" in words(lines["water-midland"])
        assert first == "First reported by Midland Wire , 2 days before Coastal Tribune"
    else:  # the result is the first: its own line says so
        assert marked == [] and "First reported 2 days before Coastal Tribune" in words(item)
    assert "lean unknown" in words(lines.get("water-valley", item))
    assert "date unknown" in words(lines.get("water-valley", item))


def test_results_under_the_floor_follow_a_heading_and_the_count_is_of_those_reaching_it(
        client):
    params = {"q": "river bridge closed after inspectors find cracked girders"}
    results = client.get("/api/search", params=params).json()["results"]
    strong = [r["article"]["title"] for r in results if not r["weak"]]
    weak = [r["article"]["title"] for r in results if r["weak"]]
    assert strong and weak
    html = client.get("/search", params=params).text
    summary = words(re.search(r'<p class="summary"[^>]*>(.*?)</p>', html, re.S).group(1))
    assert summary.startswith(f"{len(strong)} result{'s' if len(strong) > 1 else ''} for ")
    above, heading, below = re.split(r'<h2 class="weaker-heading"[^>]*>(.*?)</h2>', html,
                                     flags=re.S)
    assert words(heading).startswith(f"Weaker matches · {len(weak)} under a similarity of 0.45")
    assert [unescape(t) for t in titles(above)] == strong
    assert [unescape(t) for t in titles(below)] == weak
    assert 'class="result weaker"' not in above
    assert below.count('<li class="result weaker">') == len(weak)
    # Where every result reaches the floor nothing is folded.
    html = client.get("/search", params={"q": "farm bill crop insurance"}).text
    assert ("weaker-heading" in html) == any(
        r["weak"] for r in client.get("/api/search", params={"q": "farm bill crop insurance"})
        .json()["results"])


def test_outlets_tied_on_the_first_day_are_said_so_and_none_is_marked_first(client):
    said = "Reported the same day by Daily Herald and Wire Service"
    html = client.get("/search", params={"q": "farm bill crop insurance"}).text
    item = result_of(html, "farm-wire-")
    assert said in words(item) and "first-mark" not in item
    assert words(item).count(said) == 1  # on one line, or the story's glance: once
    for article_id in ("farm-wire-1", "farm-wire-2"):
        page = client.get(f"/articles/{article_id}").text
        assert said in words(page) and "First reported" not in words(page)
    header = words(re.search(r"<header>(.*?)</header>",
                             client.get("/articles/farm-wire-2").text, re.S).group(1))
    assert said in header  # the outlet that sorts first carries the words


def test_no_lean_is_shown_where_the_index_holds_none():
    from search.models import ArticleRef, PassageOut, SearchResponse, SearchResult, StoryOut
    from search.params import parse_search
    from search.web.form import FormState, base_context
    from search.web.render import environment

    a = ArticleRef(id="a", title="Farm bill passes", source="Wire", published="2024-03-08")
    b = ArticleRef(id="b", title="Farm bill passes", source="Herald", published="2024-03-09")
    story = StoryOut(id=1, articles=2, outlets=2, first=a, lean_unknown=2,
                     first_ahead={"next": b, "days": 1})
    result = SearchResult(score=0.5, article=a, story_id=1, story=story,
                          passage=PassageOut(chunk_id=1, text="x", char_start=0, char_end=1))
    context = base_context(FormState(q="farm"))
    context.update(params=parse_search("farm"),
                   response=SearchResponse(query="farm", took_ms=1.0, results=[result]))
    html = environment().get_template("_results.html").render(fragment=True, **context)
    assert "lean" not in words(html).lower() and "lean-split" not in html
    assert "First reported 1 day before Herald" in words(html)
    context["leans"] = [("left", 3)]
    html = environment().get_template("_results.html").render(fragment=True, **context)
    assert "lean unknown" in words(html) and "Unknown 2" in words(html)


def test_the_article_page_opens_with_headline_outlet_date_and_lean(client):
    for article_id, lean, when in (("water-valley", "lean unknown", "date unknown"),
                                   ("bridge-courier", "lean: right", "11 Apr 2024")):
        html = client.get(f"/articles/{article_id}").text
        header = words(re.search(r"<header>(.*?)</header>", html, re.S).group(1))
        assert lean in header and when in header
        assert 'href="#passage"' not in html  # no passage asked for, no jump
    html = client.get("/articles/bridge-sentinel").text
    header = words(re.search(r"<header>(.*?)</header>", html, re.S).group(1))
    assert "First reported 1 day before Heartland Courier" in header
    assert "Blindspot: only the right covered this" in words(html)


def test_filters_fold_behind_a_button_with_no_inline_script(client):
    html = client.get("/search", params={"q": "farm", "source": "Metro Times",
                                         "since": "2020-01-01"}).text
    fold = re.search(r'<details class="filters-fold">(.*?)</details>', html, re.S).group(1)
    assert re.search(r'<summary class="filters-toggle">Filters <span class="filters-set">'
                     r'· 2 set</span></summary>', fold)
    plain = client.get("/search", params={"q": "farm"}).text
    assert '<summary class="filters-toggle">Filters <span class="filters-set"></span>' in plain
    assert 'id="source"' in fold and 'id="until"' in fold
    assert all(" src=" in tag for tag in scripts(html))  # no inline script anywhere


def test_a_storys_timeline_counts_its_dated_articles_by_day_or_month():
    from types import SimpleNamespace

    from search.models import ArticleRef
    from search.web.pages import story_timeline

    def item(aid, published, lean=None):
        return SimpleNamespace(article=ArticleRef(id=aid, title=aid, published=published,
                                                  lean=lean))

    lead = ArticleRef(id="a", title="a", published="2024-03-08", lean="left")
    line = story_timeline(lead, [item("b", "2024-03-10", "right"), item("c", None)])
    assert line.interval == "day" and line.undated == 1 and line.matching == 3
    assert [(b.start, b.count) for b in line.buckets] == [
        ("2024-03-08", 1), ("2024-03-09", 0), ("2024-03-10", 1)]
    assert line.buckets[0].by_lean == {"left": 1} and line.buckets[2].by_lean == {"right": 1}
    long = story_timeline(lead, [item("b", "2024-09-01")])
    assert long.interval == "month" and long.buckets[0].start == "2024-03-01"
    assert len(long.buckets) == 7 and long.buckets[-1].lean_unknown == 1
    # One dated article makes no timeline.
    assert story_timeline(lead, [item("c", None)]) is None


def test_a_search_being_typed_skips_the_count_of_every_match(client):
    params = {"q": "farm bill crop insurance"}
    submitted = client.get("/search", params=params, headers={"HX-Request": "true"}).text
    typed = client.get("/search", params=params,
                       headers={"HX-Request": "true", "X-Typed": "1"}).text
    assert 'id="matching-count"' in submitted and 'id="matching-count"' not in typed
    assert titles(typed) == titles(submitted)
