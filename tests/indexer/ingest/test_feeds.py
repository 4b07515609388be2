"""RSS and Atom feeds and WARC crawls: each entry or page an article, the rest reported."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from indexer.build import build_index
from indexer.ingest.sources import read_paths
from indexer.models import RawArticle, Skipped
from search.engine import Engine

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>Capitol Wire</title><link>https://wire.example/</link><language>en-us</language>
<item>
  <title>Senate passes the budget</title><link>https://wire.example/budget</link>
  <guid>https://wire.example/budget</guid><dc:creator>Jane Roe</dc:creator>
  <pubDate>Mon, 06 Sep 2021 23:30:00 -0500</pubDate>
  <description>The Senate passed it.</description>
  <content:encoded><![CDATA[<p>The Senate voted 51-49 on Friday to pass the budget.</p>
    <p>The bill now goes to the <a href="/house">House</a>.</p><script>alert(1)</script>]]>
  </content:encoded>
</item>
<item><title>A headline and nothing else</title><link>https://wire.example/bare</link></item>
<item>
  <title>Governor meets mayor</title><link>https://wire.example/meet</link>
  <description>The governor &amp;amp; the mayor met on Tuesday to talk about transit.</description>
</item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="fr"><title>Le Journal</title>
<entry><title type="html">Vote au &lt;b&gt;Sénat&lt;/b&gt;</title>
  <link href="https://journal.example/vote"/><id>tag:journal.example,2021:vote</id>
  <updated>2021-09-07T10:00:00+02:00</updated><author><name>Marie Curie</name></author>
  <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">
    <p>Le Sénat a voté le budget.</p><p>Il part à l'Assemblée.</p></div></content>
</entry></feed>"""

PAGE = """<html lang="en"><head><title>{title}</title>{head}</head><body><article>
<h1>{title}</h1>{paragraphs}</article></body></html>"""


def page(title: str, sentence: str, head: str = "") -> bytes:
    return PAGE.format(title=title, head=head, paragraphs=f"<p>{sentence}</p>" * 6).encode()


def read(*paths: Path):
    items = list(read_paths(paths))
    return ([i for i in items if isinstance(i, RawArticle)],
            {Path(i.origin).name: i.reason for i in items if isinstance(i, Skipped)})


def write_warc(path: Path, records: list[tuple], gzipped: bool = True) -> None:
    """records: (uri, body, content type, status, WARC-Date or None)."""
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=gzipped)
        for uri, body, content_type, status, fetched in records:
            http = StatusAndHeaders(status, [("Content-Type", content_type)],
                                    protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(
                uri, "response", payload=io.BytesIO(body), length=len(body), http_headers=http,
                warc_headers_dict={"WARC-Date": fetched} if fetched else None))


CRAWL = [
    ("https://news.example/tariffs", page(
        "Tariffs on steel return", "Officials announced new tariffs on steel imports today."),
     "text/html; charset=utf-8", "200 OK", "2026-11-20T10:00:00Z"),
    ("https://news.example/logo.png", b"\x89PNG\r\n\x1a\n\x00\x00", "image/png", "200 OK", None),
    ("https://news.example/old", b"<html>Moved</html>", "text/html", "301 Moved Permanently",
     None),
    ("https://news.example/dated", page(
        "Courts weigh the map", "The court heard arguments on the new district map.",
        '<meta property="article:published_time" content="2024-03-05">'),
     "text/html", "200 OK", "2026-11-21T08:00:00Z"),
    ("https://news.example/latin", page(
        "Le budget", "Le Sénat a voté le budget vendredi après un long débat.").decode()
     .encode("latin-1"), "text/html; charset=ISO-8859-1", "200 OK", None),
]


def test_rss_entries_become_articles(tmp_path):
    (tmp_path / "wire.rss").write_text(RSS)
    articles, skipped = read(tmp_path)
    first, second = articles
    assert (first.origin, first.title, first.url, first.source, first.author,
            first.published, first.language) == (
        f"{tmp_path}/wire.rss#entry-1", "Senate passes the budget",
        "https://wire.example/budget", "Capitol Wire", "Jane Roe", "2021-09-06", "en")
    # content:encoded wins over the shorter description; markup and scripts are gone.
    assert first.text == ("The Senate voted 51-49 on Friday to pass the budget.\n"
                          "The bill now goes to the House.")
    assert second.origin.endswith("#entry-3")
    assert second.text.startswith("The governor & the mayor met")
    assert skipped == {"wire.rss#entry-2": "feed entry has no text"}


def test_atom_entry_with_html_title_and_xhtml_content(tmp_path):
    (tmp_path / "journal.atom").write_text(ATOM)
    (article,), skipped = read(tmp_path)
    assert skipped == {}
    assert (article.title, article.author, article.language, article.published) == (
        "Vote au Sénat", "Marie Curie", "fr", "2021-09-07")
    assert article.text == "Le Sénat a voté le budget.\nIl part à l'Assemblée."


def test_xml_is_read_only_when_it_is_a_feed(tmp_path):
    (tmp_path / "feed.xml").write_text(RSS)
    (tmp_path / "sitemap.xml").write_text(
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>x</loc></url>'
        "</urlset>")
    with gzip.open(tmp_path / "wire.rss.gz", "wt") as handle:
        handle.write(RSS)
    articles, skipped = read(tmp_path)
    assert len(articles) == 4
    assert skipped["sitemap.xml"].startswith("not an RSS or Atom feed")


def test_warc_html_responses_become_articles(tmp_path):
    write_warc(tmp_path / "crawl.warc.gz", CRAWL)
    write_warc(tmp_path / "plain.warc", CRAWL[:1], gzipped=False)
    articles, skipped = read(tmp_path)
    assert skipped == {}
    # The image and the redirect are not articles and are passed over without a word.
    assert [(Path(a.origin).name, a.url) for a in articles] == [
        ("crawl.warc.gz#record-1", "https://news.example/tariffs"),
        ("crawl.warc.gz#record-4", "https://news.example/dated"),
        ("crawl.warc.gz#record-5", "https://news.example/latin"),
        ("plain.warc#record-1", "https://news.example/tariffs")]
    assert articles[0].metadata == {"fetched": "2026-11-20T10:00:00Z"}
    # The server's charset is honoured when the page is not UTF-8.
    assert "Le Sénat a voté" in articles[2].html


def test_broken_and_foreign_warc_files_are_reported(tmp_path):
    write_warc(tmp_path / "whole.warc", CRAWL, gzipped=False)
    good = (tmp_path / "whole.warc").read_bytes()
    # Gzipped as one piece (by hand, not per record): still read, as a stream.
    (tmp_path / "whole.warc.gz").write_bytes(gzip.compress(good))
    # Crawls interrupted in the middle of their last record, plain and gzipped.
    for name, gzipped in (("cut.warc", False), ("cut.warc.gz", True)):
        write_warc(tmp_path / name, CRAWL[:-1], gzipped)
        head = (tmp_path / name).stat().st_size
        write_warc(tmp_path / name, CRAWL, gzipped)
        data = (tmp_path / name).read_bytes()
        (tmp_path / name).write_bytes(data[:(head + len(data)) // 2])
    (tmp_path / "notes.warc").write_text("these are my notes, not a crawl\n\n")
    write_warc(tmp_path / "images.warc", CRAWL[1:2])
    articles, skipped = read(tmp_path)
    assert skipped == {"cut.warc#record-5": "broken WARC record: cut short",
                       "cut.warc.gz#record-5": "broken WARC record: cut short",
                       "notes.warc": "not a WARC file",
                       "images.warc": "no HTML pages in the WARC file"}
    assert sorted(Path(a.origin).name for a in articles) == [
        "cut.warc#record-1", "cut.warc#record-4", "cut.warc.gz#record-1",
        "cut.warc.gz#record-4", "whole.warc#record-1",
        "whole.warc#record-4", "whole.warc#record-5", "whole.warc.gz#record-1",
        "whole.warc.gz#record-4", "whole.warc.gz#record-5"]


def test_feeds_and_crawls_are_indexed_and_found(settings, tmp_path, embedder):
    collected = tmp_path / "collected"
    collected.mkdir()
    (collected / "wire.rss").write_text(RSS)
    write_warc(collected / "crawl.warc.gz", CRAWL)
    report = build_index(settings, [collected], embedder=embedder)
    assert report.added == 5
    assert [(Path(s.origin).name, s.reason) for s in report.skipped] == [
        ("wire.rss#entry-2", "feed entry has no text")]
    engine = Engine.open(settings, embedder=embedder)
    by_url = {}
    for query in ("steel import tariffs", "court district map", "Senate budget vote"):
        for result in engine.search(query, k=10, collapse=False).results:
            by_url[result.article.url] = result.article
    tariffs = by_url["https://news.example/tariffs"]
    # The day the crawler fetched a page is not when it was published: undated, and the
    # fetch kept apart.
    assert (tariffs.title, tariffs.published) == ("Tariffs on steel return", None)
    stored = json.loads(engine.store.article(tariffs.id).metadata)
    assert stored["fetched"] == "2026-11-20T10:00:00Z"
    # A date in the page is its date.
    assert by_url["https://news.example/dated"].published == "2024-03-05"
    budget = by_url["https://wire.example/budget"]
    assert (budget.source, budget.published) == ("Capitol Wire", "2021-09-06")
