"""Dates read from article addresses: at the precision the address gives, never invented,
never over a date the input states, for every input format."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from test_feeds import page, write_warc

from indexer.ingest.dates import AddressDate, address_date
from indexer.ingest.extract import extract
from indexer.ingest.sources import read_paths
from indexer.models import Article, RawArticle

# Addresses as the ABP outlets write them.
DAYS = [
    ("https://www.usatoday.com/story/opinion/2017/07/23/liberals-listen-conservatives-"
     "andrew-redlawsk-column/413243001/", "2017-07-23"),
    ("https://www.washingtonpost.com/politics/2019/02/14/trump-to-sign-border-deal/",
     "2019-02-14"),
    ("https://www.foxnews.com/politics/2020/1/8/iran-missiles", "2020-01-08"),
    ("https://www.nytimes.com/2016/09/27/us/politics/presidential-debate.html", "2016-09-27"),
    ("https://www.npr.org/sections/thetwo-way/2018/05/23/613648279/senate-votes", "2018-05-23"),
    ("https://www.reuters.com/article/us-usa-trump-20180523-idUSKCN1IO2N1", "2018-05-23"),
    ("https://www.cnn.com/20180523/politics/trump-kim-summit/index.html", "2018-05-23"),
    ("https://example.com/news/senate-vote-2018-05-23", "2018-05-23"),
    ("https://example.com/news/senate_vote_2018_05_23.html", "2018-05-23"),
]
MONTHS = [
    ("http://www.vanityfair.com/news/2016/12/there-is-no-good-answer-to-facebooks-fake-news-"
     "problem", "2016-12"),
    ("https://www.motherjones.com/politics/2020/03/donald-trump-signals-he-might-sacrifice-"
     "thousands-of-americans-to-restart-the-economy/", "2020-03"),
    ("https://www.aljazeera.com/news/2019/11/shadow-strife-looms-iraq-political-crisis-"
     "191130072320596.html", "2019-11"),
    ("http://www.politico.com/story/2016/01/gop-insiders-it-was-a-rough-night-for-ted-cruz-"
     "218395", "2016-01"),
    ("http://abcnews.go.com/blogs/politics/2013/02/marriage-equality-activists/", "2013-02"),
]
NOTHING = [
    "http://www.bbc.com/news/world-us-canada-38292392",
    "http://time.com/time-person-of-the-year-2016-donald-trump/",  # a year alone
    "http://www.wsj.com/articles/ted-cruz-challenges-donald-trump-1458341818",  # a timestamp
    "http://online.wsj.com/article/SB10001424052702303933404577500810740985338.html",
    "https://www.dailywire.com/news/36851/go-away-colin-powell-trump-should-really-stop",
    "https://example.com/2018/13/40/not-a-date",  # no thirteenth month
    "https://example.com/2019/02/30/",  # no 30 February, and no month alone after it
    "https://example.com/news/story?date=2018-05-23",  # a query, not the address
    "https://example.com/1776/07/04/independence",  # outside the years of the news
    "https://example.com/item/12345678",  # eight digits that are no date
    "",
    None,
]


@pytest.mark.parametrize(("url", "day"), DAYS)
def test_a_day_in_the_address_is_read_at_day_precision(url, day):
    assert address_date(url) == AddressDate(day, "day")


@pytest.mark.parametrize(("url", "month"), MONTHS)
def test_a_month_in_the_address_is_read_at_month_precision(url, month):
    assert address_date(url) == AddressDate(month, "month")


@pytest.mark.parametrize("url", NOTHING)
def test_no_date_is_invented(url):
    assert address_date(url) is None


def cleaned(raw: RawArticle) -> Article:
    result = extract(raw)
    assert not isinstance(result, Article) and isinstance(result, tuple)
    return result[0]


def test_extract_fills_a_day_keeps_a_month_apart_and_never_overrides_a_stated_date():
    body = "The Senate voted on the bill late on Tuesday after a long debate."
    day = cleaned(RawArticle(origin="a", title="T", text=body, url=DAYS[1][0]))
    assert day.published == "2019-02-14" and day.metadata["published_from"] == "address"
    month = cleaned(RawArticle(origin="a", title="T", text=body, url=MONTHS[0][0]))
    # Not shown as the 1st of the month: ``published`` holds days only.
    assert month.published is None and month.metadata["published_month"] == "2016-12"
    stated = cleaned(RawArticle(origin="a", title="T", text=body, url=DAYS[1][0],
                                published="2019-02-15"))
    assert stated.published == "2019-02-15" and "published_from" not in stated.metadata
    stated = cleaned(RawArticle(origin="a", title="T", text=body, url=MONTHS[0][0],
                                published="December 2, 2016"))
    assert stated.published == "2016-12-02" and "published_month" not in stated.metadata
    none = cleaned(RawArticle(origin="a", title="T", text=body, url=NOTHING[1]))
    assert none.published is None and "published_month" not in none.metadata


def read(*paths: Path) -> dict[str, Article]:
    out = {}
    for raw in read_paths(paths):
        if isinstance(raw, RawArticle):
            article = cleaned(raw)
            out[article.title] = article
    return out


def test_every_input_format_takes_the_address_date(tmp_path):
    body = "Officials announced new tariffs on steel imports on Monday morning."
    (tmp_path / "a.jsonl").write_text(
        json.dumps({"title": "Record day", "text": body, "url": DAYS[0][0]}) + "\n"
        + json.dumps({"title": "Record month", "text": body, "url": MONTHS[1][0],
                      "date": None}) + "\n")
    with open(tmp_path / "b.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["title", "text", "url"])
        writer.writerow(["Row day", body, DAYS[3][0]])
    (tmp_path / "c.rss").write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>'
        f"<item><title>Feed day</title><link>{DAYS[2][0]}</link>"
        f"<description>{body}</description></item></channel></rss>")
    (tmp_path / "d.html").write_bytes(page(
        "Saved page month", body, f'<link rel="canonical" href="{MONTHS[2][0]}">'))
    write_warc(tmp_path / "e.warc.gz", [
        (DAYS[4][0], page("Crawled day", body), "text/html", "200 OK",
         "2026-11-20T10:00:00Z"),
        (MONTHS[3][0], page("Crawled month", body), "text/html", "200 OK",
         "2026-11-20T10:00:00Z")])
    found = read(tmp_path)
    days = {title: a.published for title, a in found.items()}
    months = {title: a.metadata.get("published_month") for title, a in found.items()}
    assert days == {"Record day": "2017-07-23", "Record month": None, "Row day": "2016-09-27",
                    "Feed day": "2020-01-08", "Saved page month": None,
                    "Crawled day": "2018-05-23", "Crawled month": None}
    assert {t: m for t, m in months.items() if m} == {
        "Record month": "2020-03", "Saved page month": "2019-11", "Crawled month": "2016-01"}
