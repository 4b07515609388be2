"""Every matching article on the page, in a real headless Chromium: facets as filters, the
timeline's chart and table, sort by date, the CSV download and the feed to follow."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from test_browser import ARTIFACTS, base_url, browser, expect, watched  # noqa: F401
from web_fixtures import ARTICLES

pytestmark = pytest.mark.browser

FARM = "/search?q=farm+bill+crop+insurance"


def said_articles() -> list[dict]:
    pattern = re.compile(r"\bsaid\b", re.IGNORECASE)
    return [a for a in ARTICLES if pattern.search(a["title"] + " " + a["text"])]


def test_a_facet_narrows_the_results_to_its_value(watched, base_url):  # noqa: F811
    page = watched.page
    page.goto(base_url + FARM)
    page.locator("details.refine > summary").click()
    outlets = page.locator('.facet[data-facet="source"] li')
    expect()(outlets).to_have_count(2)  # both copies of the wire story, not only the result
    expect()(outlets.filter(has_text="Daily Herald")).to_contain_text("1")
    page.locator('.facet[data-facet="source"] a[data-value="Daily Herald"]').click()
    page.wait_for_url(re.compile(r"source=Daily"))
    expect()(page.locator(".result .outlet").first).to_have_text("Daily Herald")
    expect()(page.locator("#source")).to_have_value("Daily Herald")
    expect()(page.locator('.facet[data-facet="source"] li')).to_have_count(1)
    expect()(page.locator('.facet[data-facet="source"] li')).to_be_hidden()  # folded again
    assert watched.errors == []


def test_a_month_facet_searches_that_month(watched, base_url):  # noqa: F811
    page = watched.page
    page.goto(base_url + FARM)
    page.locator("details.refine > summary").click()
    page.locator('.facet[data-facet="month"] a[data-value="2024-03"]').click()
    page.wait_for_url(re.compile("since="))
    query = parse_qs(urlsplit(page.url).query)
    assert query["since"] == ["2024-03-01"] and query["until"] == ["2024-03-31"]
    expect()(page.locator("#since")).to_have_value("2024-03-01")
    expect()(page.locator(".result-title").first).to_have_text(
        "Senate passes farm bill expanding crop insurance")


def test_the_timeline_is_drawn_with_its_table_behind_it(watched, base_url):  # noqa: F811
    page = watched.page
    page.goto(base_url + "/search?q=said")
    canvas = page.locator("canvas.timeline-chart")
    expect()(canvas).to_have_attribute("data-drawn", "true")
    bars = page.evaluate("""() => {
        const chart = Chart.getChart(document.querySelector('canvas.timeline-chart'));
        return chart.data.datasets.map(d => d.data.reduce((a, b) => a + b, 0));
    }""")
    table_total = sum(int(cell) for cell in page.locator(
        "#timeline-table tbody tr td:nth-child(2)").all_text_contents())
    dated = page.evaluate("""() => JSON.parse(document.querySelector('canvas.timeline-chart')
        .getAttribute('data-timeline')).series.length""")
    assert dated >= 1 and sum(bars) == table_total > 0
    # One palette: each lean's bars in the colour the page's lean bars and tags use.
    drawn = page.evaluate("""() => {
        const chart = Chart.getChart(document.querySelector('canvas.timeline-chart'));
        const css = getComputedStyle(document.documentElement);
        return chart.data.datasets.map(d => [d.label, d.backgroundColor,
            css.getPropertyValue('--lean-' + ({'lean unknown': 'unknown'}[d.label] || d.label))
               .trim()]);
    }""")
    own = [(label, fill, page_colour) for label, fill, page_colour in drawn
           if label in ("left", "center", "right", "lean unknown")]
    assert own and all(fill == page_colour != "" for _, fill, page_colour in own), drawn
    # Marks were drawn: the canvas holds coloured pixels.
    inked = page.evaluate("""() => {
        const c = document.querySelector('canvas.timeline-chart');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) n++; }
        return n;
    }""")
    assert inked > 500
    # The table is one click away once the chart is there.
    figures = page.locator("details.timeline-data")
    expect()(page.locator("#timeline-table")).to_be_hidden()
    figures.locator("summary").click()
    expect()(page.locator("#timeline-table tbody tr").first).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator(".timeline").screenshot(path=str(ARTIFACTS / "timeline.png"))
    assert watched.errors == []


def test_the_timeline_table_shows_without_javascript(browser, base_url):  # noqa: F811
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(base_url + "/search?q=said")
    rows = page.locator("#timeline-table tbody tr")
    expect()(rows.first).to_be_visible()
    months = {a["date"][:7] for a in said_articles() if a.get("date")}
    assert set(page.locator("#timeline-table tbody th").all_inner_texts()) == months
    context.close()


def test_sorting_by_date_puts_the_newest_first(watched, base_url):  # noqa: F811
    page = watched.page
    page.goto(base_url + "/search?q=said")
    page.locator("#sort").select_option("date")
    page.wait_for_url(re.compile("sort=date"))
    expect()(page.locator("#results-summary")).to_contain_text("newest first")
    newest = max((a for a in said_articles() if a.get("date")), key=lambda a: a["date"])
    expect()(page.locator(".result-title").first).to_have_text(newest["title"])
    assert watched.errors == []


def test_the_download_link_gives_the_csv_of_every_match(watched, base_url):  # noqa: F811
    page = watched.page
    page.goto(base_url + FARM)
    link = page.locator("#download-csv")
    expect()(link).to_have_text("Download CSV")
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename == "presslens-farm-bill-crop-insurance.csv"
    with open(download.path(), "rb") as saved:
        data = saved.read().decode("utf-8")
    assert data.startswith("\ufeff")
    header = data[1:].splitlines()[0].split(",")
    assert header[:9] == ["id", "title", "source", "lean", "published", "url", "story_id",
                          "relation", "score"] and "passage" in header
    import csv
    import io

    assert {row["id"] for row in csv.DictReader(io.StringIO(data[1:]))} == {
        "farm-wire-1", "farm-wire-2"}


def test_the_follow_link_and_the_head_name_the_searchs_feed(watched, base_url):  # noqa: F811
    import feedparser

    page = watched.page
    page.goto(base_url + FARM)
    follow = page.locator("#follow-search")
    href = follow.get_attribute("href")
    assert href == page.locator('head link[rel="alternate"][type="application/atom+xml"]'
                                ).get_attribute("href")
    feed = feedparser.parse(page.request.get(base_url + href).body())
    assert not feed.bozo and {e.id for e in feed.entries} == {
        "tag:presslens,2025:article:farm-wire-1", "tag:presslens,2025:article:farm-wire-2"}



def test_an_article_page_draws_its_storys_timeline(watched, base_url):  # noqa: F811
    page = watched.page
    found = page.request.get(base_url + "/api/search?q=farm+bill+crop+insurance&k=1").json()
    first = found["results"][0]
    members = [first["article"]] + [c["article"] for c in first["coverage"]]
    days = sorted({m["published"] for m in members if m["published"]})
    page.goto(base_url + f"/articles/{first['article']['id']}")
    canvas = page.locator(".story-timeline canvas.timeline-chart")
    expect()(canvas).to_have_attribute("data-drawn", "true")
    # Once the chart is drawn its figures fold away beneath it, one click from view.
    page.locator(".story-timeline .timeline-data > summary").click()
    rows = page.locator("#story-timeline-table tbody tr")
    expect()(rows.first).to_be_visible()
    assert rows.locator("th").all_text_contents() == days
    counts = [int(c) for c in rows.locator("td:nth-of-type(1)").all_text_contents()]
    assert sum(counts) == len([m for m in members if m["published"]])
    assert watched.errors == []
